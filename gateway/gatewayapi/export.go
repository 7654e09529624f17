package gatewayapi

import (
	"encoding/json"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/localpipe/localpipe/gateway"
)

// GetExport: the OpenAPI document of what an API stage serves, written so that ImportRestApi
// reads it back into the same API (TestGatewayExportRoundTrip). exportType oas30 writes
// OpenAPI 3.0.1, swagger writes Swagger 2.0; the Accept header chooses application/json
// (the default) or application/yaml. The extensions parameter adds API Gateway's own
// fields: "integrations" the x-amazon-apigateway-integration of each method, "validators"
// the request validators, "apigateway" all of them (integrations, validators, gateway
// responses, binary media types, the API key source). "authorizers" and "postman" are
// accepted and add nothing: localpipe runs no authorizers and writes no Postman fields.
//
// Not written, because the importer would refuse it or cannot tell it apart: AWS_IAM
// authorization, multi-value method request parameters, and whether a method response
// header is required.

// exportOptions are GetExport's parameters, checked.
type exportOptions struct {
	oas3                          bool
	yaml                          bool
	integrations, validators, all bool
}

// exportExtensions are the values the extensions parameter may list.
var exportExtensions = []string{"integrations", "validators", "authorizers", "apigateway", "postman", "documentation"}

// parseExportOptions reads exportType, the extensions parameter (comma-separated, or
// repeated) and Accept.
func parseExportOptions(exportType string, extensions []string, accept string) (exportOptions, *controlError) {
	var o exportOptions
	switch exportType {
	case "oas30":
		o.oas3 = true
	case "swagger":
	default:
		return o, badRequest(fmt.Sprintf("Invalid export type specified: %q; localpipe exports oas30 and swagger", exportType))
	}
	for _, v := range extensions {
		for e := range strings.SplitSeq(v, ",") {
			e = strings.TrimSpace(e)
			switch {
			case e == "":
			case !slices.Contains(exportExtensions, e):
				return o, badRequest(fmt.Sprintf("Invalid extension specified: %q; valid values are %s", e, strings.Join(exportExtensions, ", ")))
			case e == "integrations":
				o.integrations = true
			case e == "validators":
				o.validators = true
			case e == "apigateway":
				o.integrations, o.validators, o.all = true, true, true
			}
		}
	}
	if accept != "" {
		for part := range strings.SplitSeq(accept, ",") {
			mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				return o, badRequest(fmt.Sprintf("Invalid Accept header %q", accept))
			}
			if mt == "application/yaml" {
				o.yaml = true
				break
			}
			if mt == "application/json" {
				break
			}
		}
	}
	return o, nil
}

// exportAPI writes api, as deployed at stage, as an OpenAPI document (a tree of maps).
func exportAPI(api *gateway.API, id, region, stage string, o exportOptions) map[string]any {
	doc := map[string]any{}
	info := map[string]any{"title": api.Name, "version": api.Version}
	if api.Version == "" {
		info["version"] = "1.0"
	}
	if api.Description != "" {
		info["description"] = api.Description
	}
	doc["info"] = info
	host := id + ".execute-api." + region + ".amazonaws.com"
	modelPrefix := "#/definitions/"
	if o.oas3 {
		doc["openapi"] = "3.0.1"
		doc["servers"] = []any{map[string]any{"url": "https://" + host + "/{basePath}",
			"variables": map[string]any{"basePath": map[string]any{"default": stage}}}}
		modelPrefix = "#/components/schemas/"
	} else {
		doc["swagger"] = "2.0"
		doc["host"], doc["basePath"], doc["schemes"] = host, "/"+stage, []any{"https"}
	}

	models := map[string]any{}
	for _, name := range sortedKeys(api.Models) {
		var schema any
		if err := json.Unmarshal(api.Models[name], &schema); err == nil {
			models[name] = rewriteRefs(schema, modelPrefix)
		}
	}
	ref := func(name string) map[string]any { return map[string]any{"$ref": modelPrefix + name} }

	paths := map[string]any{}
	keyRequired := false
	for _, res := range api.Resources() {
		if len(res.Methods) == 0 {
			// An empty path item keeps the resource, so the import builds the same tree.
			paths[res.Path] = map[string]any{}
			continue
		}
		item := map[string]any{}
		for _, verb := range sortedKeys(res.Methods) {
			m := res.Methods[verb]
			op := exportMethod(api, m, o, ref, modelPrefix)
			if m.APIKeyRequired {
				keyRequired = true
				op["security"] = []any{map[string]any{"api_key": []any{}}}
			}
			key := strings.ToLower(verb)
			if verb == "ANY" {
				key = gateway.ExtAnyMethod
			}
			item[key] = op
		}
		paths[res.Path] = item
	}
	doc["paths"] = paths

	schemes := map[string]any{}
	if keyRequired {
		schemes["api_key"] = map[string]any{"type": "apiKey", "name": "x-api-key", "in": "header"}
	}
	if o.oas3 {
		comps := map[string]any{}
		if len(models) > 0 {
			comps["schemas"] = models
		}
		if len(schemes) > 0 {
			comps["securitySchemes"] = schemes
		}
		if len(comps) > 0 {
			doc["components"] = comps
		}
	} else {
		if len(models) > 0 {
			doc["definitions"] = models
		}
		if len(schemes) > 0 {
			doc["securityDefinitions"] = schemes
		}
	}

	if o.validators && len(api.RequestValidators) > 0 {
		vs := map[string]any{}
		for name, v := range api.RequestValidators {
			vs[name] = map[string]any{"validateRequestBody": v.ValidateRequestBody, "validateRequestParameters": v.ValidateRequestParameters}
		}
		doc[gateway.ExtRequestValidators] = vs
		if api.DefaultValidator != "" {
			doc[gateway.ExtRequestValidator] = api.DefaultValidator
		}
	}
	if o.all {
		if api.APIKeySource != "" {
			doc[gateway.ExtAPIKeySource] = api.APIKeySource
		}
		if len(api.BinaryMediaTypes) > 0 {
			doc[gateway.ExtBinaryMediaTypes] = slices.Clone(api.BinaryMediaTypes)
		}
		if len(api.GatewayResponses) > 0 {
			grs := map[string]any{}
			for typ, g := range api.GatewayResponses {
				gr := map[string]any{}
				if g.StatusCode != "" {
					gr["statusCode"] = g.StatusCode
				}
				if len(g.ResponseParameters) > 0 {
					gr["responseParameters"] = maps.Clone(g.ResponseParameters)
				}
				if len(g.ResponseTemplates) > 0 {
					gr["responseTemplates"] = maps.Clone(g.ResponseTemplates)
				}
				grs[typ] = gr
			}
			doc[gateway.ExtGatewayResponses] = grs
		}
	}
	return doc
}

// rewriteRefs points a model schema's local references at prefix, the other format's place
// for models, so a model exported as swagger still resolves.
func rewriteRefs(v any, prefix string) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if s, ok := e.(string); ok && k == "$ref" {
				if name, ok := gateway.ModelName(s); ok {
					v[k] = prefix + name
				}
				continue
			}
			v[k] = rewriteRefs(e, prefix)
		}
	case []any:
		for i, e := range v {
			v[i] = rewriteRefs(e, prefix)
		}
	}
	return v
}

func exportMethod(api *gateway.API, m *gateway.Method, o exportOptions, ref func(string) map[string]any, modelPrefix string) map[string]any {
	op := map[string]any{}
	if m.OperationName != "" {
		op["operationId"] = m.OperationName
	}
	var params []any
	for _, key := range sortedKeys(m.RequestParameters) {
		rest, ok := strings.CutPrefix(key, "method.request.")
		if !ok {
			continue
		}
		loc, name, _ := strings.Cut(rest, ".")
		in := map[string]string{"path": "path", "querystring": "query", "header": "header"}[loc]
		if in == "" {
			continue
		}
		p := map[string]any{"name": name, "in": in, "required": m.RequestParameters[key] || in == "path"}
		if o.oas3 {
			p["schema"] = map[string]any{"type": "string"}
		} else {
			p["type"] = "string"
		}
		params = append(params, p)
	}
	if len(m.RequestModels) > 0 {
		cts := sortedKeys(m.RequestModels)
		if o.oas3 {
			content := map[string]any{}
			for _, ct := range cts {
				content[ct] = map[string]any{"schema": ref(m.RequestModels[ct])}
			}
			op["requestBody"] = map[string]any{"content": content, "required": true}
		} else {
			// Swagger 2.0 has one body schema for every type the operation consumes.
			params = append(params, map[string]any{"in": "body", "name": m.RequestModels[cts[0]], "required": true, "schema": ref(m.RequestModels[cts[0]])})
			op["consumes"] = toAny(cts)
		}
	}
	if len(params) > 0 {
		op["parameters"] = params
	}
	responses := map[string]any{}
	var produces []string
	for _, code := range sortedKeys(m.MethodResponses) {
		mr := m.MethodResponses[code]
		r := map[string]any{"description": code + " response"}
		if len(mr.ResponseParameters) > 0 {
			headers := map[string]any{}
			for _, p := range sortedKeys(mr.ResponseParameters) {
				if h, ok := strings.CutPrefix(p, "method.response.header."); ok {
					if o.oas3 {
						headers[h] = map[string]any{"schema": map[string]any{"type": "string"}}
					} else {
						headers[h] = map[string]any{"type": "string"}
					}
				}
			}
			r["headers"] = headers
		}
		if len(mr.ResponseModels) > 0 {
			cts := sortedKeys(mr.ResponseModels)
			if o.oas3 {
				content := map[string]any{}
				for _, ct := range cts {
					content[ct] = map[string]any{"schema": ref(mr.ResponseModels[ct])}
				}
				r["content"] = content
			} else {
				r["schema"] = ref(mr.ResponseModels[cts[0]])
				for _, ct := range cts {
					if !slices.Contains(produces, ct) {
						produces = append(produces, ct)
					}
				}
			}
		}
		responses[code] = r
	}
	op["responses"] = responses
	if len(produces) > 0 {
		op["produces"] = toAny(produces)
	}
	if o.validators && m.RequestValidator != "" && m.RequestValidator != api.DefaultValidator {
		op[gateway.ExtRequestValidator] = m.RequestValidator
	}
	if o.integrations && m.Integration != nil {
		op[gateway.ExtIntegration] = exportIntegration(m.Integration)
	}
	return op
}

func exportIntegration(in *gateway.Integration) map[string]any {
	out := map[string]any{"type": strings.ToLower(string(in.Type))}
	set := func(k, v string) {
		if v != "" {
			out[k] = v
		}
	}
	set("uri", in.URI)
	set("httpMethod", in.HTTPMethod)
	set("credentials", in.Credentials)
	set("passthroughBehavior", strings.ToLower(in.PassthroughBehavior))
	set("contentHandling", in.ContentHandling)
	set("cacheNamespace", in.CacheNamespace)
	if in.TimeoutInMillis != 0 {
		out["timeoutInMillis"] = in.TimeoutInMillis
	}
	if len(in.CacheKeyParameters) > 0 {
		out["cacheKeyParameters"] = toAny(in.CacheKeyParameters)
	}
	if len(in.RequestParameters) > 0 {
		out["requestParameters"] = maps.Clone(in.RequestParameters)
	}
	if len(in.RequestTemplates) > 0 {
		out["requestTemplates"] = maps.Clone(in.RequestTemplates)
	}
	if in.InsecureSkipVerification {
		out["tlsConfig"] = map[string]any{"insecureSkipVerification": true}
	}
	if len(in.Responses) > 0 {
		rs := map[string]any{}
		for key, ir := range in.Responses {
			r := map[string]any{"statusCode": ir.StatusCode}
			if len(ir.ResponseParameters) > 0 {
				r["responseParameters"] = maps.Clone(ir.ResponseParameters)
			}
			if len(ir.ResponseTemplates) > 0 {
				r["responseTemplates"] = maps.Clone(ir.ResponseTemplates)
			}
			if ir.ContentHandling != "" {
				r["contentHandling"] = ir.ContentHandling
			}
			rs[key] = r
		}
		out["responses"] = rs
	}
	return out
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// rawAnswer is a control-plane answer that is not JSON the handler encodes: GetExport's
// document.
type rawAnswer struct {
	contentType, disposition string
	body                     []byte
}

func (s *Server) getExport(c *ctlReq) (int, any, *controlError) {
	id, stage := c.p["api"], c.p["stage"]
	o, cerr := parseExportOptions(c.p["type"], c.q["extensions"], c.r.Header.Get("Accept"))
	if cerr != nil {
		return 0, nil, cerr
	}
	if s.deployment(id) == nil && s.doc(id) == nil {
		return 0, nil, s.invalidAPI(id)
	}
	d := s.deploymentAt(id, stage)
	if d == nil {
		return 0, nil, notFound("Invalid stage identifier specified")
	}
	if _, ok := d.Stages[stage]; !ok {
		return 0, nil, notFound("Invalid stage identifier specified")
	}
	doc := exportAPI(d.API, id, s.opts.Region, stage, o)
	body, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return 0, nil, s.internalError("encode the export", err)
	}
	ct, ext := "application/json", "json"
	if o.yaml {
		if body, err = yaml.JSONToYAML(body); err != nil {
			return 0, nil, s.internalError("encode the export as YAML", err)
		}
		ct, ext = "application/yaml", "yaml"
	}
	return http.StatusOK, rawAnswer{contentType: ct, body: body,
		disposition: fmt.Sprintf(`attachment; filename="%s-%s-%s.%s"`, id, stage, c.p["type"], ext)}, nil
}
