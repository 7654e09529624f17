package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/localpipe/localpipe/internal/lazyre"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// MaxDocumentSize is the largest document ImportOpenAPI reads: "The maximum size of the API
// definition file is 6MB" (ImportRestApiRequest.body in the API Gateway model).
const MaxDocumentSize = 6 << 20

// ImportOpenAPI builds an API from an OpenAPI 3.0.x or Swagger 2.0 document, in JSON or YAML,
// as API Gateway's ImportRestApi does. Documents exported with
// `aws apigateway get-export --export-type oas30|swagger --parameters extensions=integrations`
// import unchanged.
//
// The API gets a fresh ID and resource ids. Paths become resources; operations (and
// x-amazon-apigateway-any-method, as ANY) become methods; x-amazon-apigateway-integration
// becomes the method's Integration; components.schemas or definitions become Models, which
// request bodies and responses name through local "$ref"s.
//
// Every problem in the document is reported, not only the first: the error is an
// errors.Join of one error per problem, each naming where it is ("POST /stream:
// x-amazon-apigateway-integration: unknown type \"foo\""). An x-amazon-apigateway-*
// extension that API Gateway supports but localpipe does not (authorizers, resource
// policies, …) is such an error rather than being dropped, because an API that imports but
// behaves differently from the cloud is worse than one that does not import.
func ImportOpenAPI(doc []byte) (*API, error) {
	root, err := decodeDocument(doc)
	if err != nil {
		return nil, err
	}
	im := &importer{doc: root}
	im.run()
	if len(im.errs) > 0 {
		return nil, errors.Join(im.errs...)
	}
	return im.api, nil
}

// decodeDocument turns JSON or YAML into generic values. YAML goes through sigs.k8s.io/yaml,
// which converts it to JSON first, so both formats decode through encoding/json alike;
// UseNumber keeps integers (timeoutInMillis, status codes) exact.
func decodeDocument(doc []byte) (map[string]any, error) {
	if len(doc) > MaxDocumentSize {
		return nil, fmt.Errorf("the document is %d bytes; API Gateway imports documents of at most 6 MB", len(doc))
	}
	doc = bytes.TrimPrefix(doc, []byte("\xef\xbb\xbf"))
	trimmed := bytes.TrimLeft(doc, " \t\r\n")
	if len(trimmed) == 0 {
		return nil, errors.New("the document is empty")
	}
	js := trimmed
	if trimmed[0] != '{' {
		var err error
		if js, err = yamlToJSON(trimmed); err != nil {
			return nil, fmt.Errorf("the document is neither JSON nor valid YAML: %v", err)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("the document is not valid JSON: %v", err)
	}
	if dec.More() {
		return nil, errors.New("the document is not valid JSON: data after the top-level object")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("the document is not an OpenAPI object: its top level must be a map")
	}
	return m, nil
}

// yamlToJSON converts YAML, turning a panic inside the YAML parser on hostile input into an
// error: a bad upload must never take the process down.
func yamlToJSON(b []byte) (js []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			js, err = nil, fmt.Errorf("%v", r)
		}
	}()
	return yaml.YAMLToJSON(b)
}

// extension names this package reads.
const (
	ExtIntegration       = "x-amazon-apigateway-integration"
	ExtAnyMethod         = "x-amazon-apigateway-any-method"
	ExtAPIKeySource      = "x-amazon-apigateway-api-key-source"
	ExtBinaryMediaTypes  = "x-amazon-apigateway-binary-media-types"
	ExtGatewayResponses  = "x-amazon-apigateway-gateway-responses"
	ExtRequestValidators = "x-amazon-apigateway-request-validators"
	ExtRequestValidator  = "x-amazon-apigateway-request-validator"
	extAuthorizer        = "x-amazon-apigateway-authorizer"
	extAuthType          = "x-amazon-apigateway-authtype"
	extPrefix            = "x-amazon-apigateway-"
)

// ignoredExtensions change nothing about how a local API answers requests, so they are
// dropped with a warning instead of failing the import.
var ignoredExtensions = map[string]string{
	"x-amazon-apigateway-documentation":          "documentation parts do not change how requests are served",
	"x-amazon-apigateway-endpoint-configuration": "endpoint types and VPC endpoints have no meaning locally",
	"x-amazon-apigateway-tag-value":              "tags do not change how requests are served",
}

// unsupportedExtensions are API Gateway extensions that change behaviour localpipe does not
// emulate (the list: "OpenAPI extensions for API Gateway", api-gateway-swagger-extensions.md).
var unsupportedExtensions = map[string]string{
	"x-amazon-apigateway-auth":                     "localpipe does not support it (IAM authorization)",
	"x-amazon-apigateway-policy":                   "localpipe does not support it (resource policies)",
	"x-amazon-apigateway-minimum-compression-size": "localpipe does not support it (response compression)",
	"x-amazon-apigateway-endpoint-access-mode":     "localpipe does not support it",
	"x-amazon-apigateway-security-policy":          "localpipe does not support it",
	"x-amazon-apigateway-cors":                     "applies to HTTP APIs only; a REST API defines CORS with OPTIONS methods",
	"x-amazon-apigateway-integrations":             "applies to HTTP APIs only",
	"x-amazon-apigateway-importexport-version":     "applies to HTTP APIs only",
}

// importer carries the state of one ImportOpenAPI call.
type importer struct {
	doc     map[string]any
	oas3    bool
	api     *API
	errs    []error
	schemes map[string]*securityScheme

	rootSecurity    any
	hasRootSecurity bool
	consumes        []string // Swagger 2.0 root consumes/produces, the default for operations
	produces        []string
}

type securityScheme struct {
	apiKey     bool   // type apiKey, in header, name x-api-key: what apiKeyRequired means
	authorizer bool   // it has x-amazon-apigateway-authorizer: API.Authorizers has it by name
	authType   string // x-amazon-apigateway-authtype, the console's label ("awsSigv4" for IAM)
	reported   bool   // an error was already given for its definition
}

func (im *importer) fail(where, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if where != "" {
		msg = where + ": " + msg
	}
	im.errs = append(im.errs, errors.New(msg))
}

func (im *importer) warn(where, format string, args ...any) {
	im.api.Warnings = append(im.api.Warnings, where+": "+fmt.Sprintf(format, args...))
}

// join builds the "where" of a message from its parts, skipping empty ones.
func join(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		if p == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		b.WriteString(p)
	}
	return b.String()
}

func (im *importer) run() {
	if !im.version() {
		return
	}
	info, _ := im.doc["info"].(map[string]any)
	title, _ := info["title"].(string)
	if title == "" {
		im.fail("info.title", "is required: it becomes the API's name")
	}
	im.api = NewAPI(title)
	im.api.Description, _ = info["description"].(string)
	im.api.Version = scalarString(info["version"])
	im.api.GatewayResponses = map[string]GatewayResponse{}
	im.api.RequestValidators = map[string]RequestValidator{}
	im.api.Models = map[string]json.RawMessage{}

	if !im.oas3 {
		im.consumes = im.stringList("consumes", im.doc["consumes"])
		im.produces = im.stringList("produces", im.doc["produces"])
	}
	im.rootSecurity, im.hasRootSecurity = im.doc["security"]

	// Validators first: methods name them.
	im.rootExtensions()
	im.models()
	im.securitySchemes()
	im.paths()
}

// version accepts Swagger 2.0 and OpenAPI 3.0.x, the versions ImportRestApi reads.
func (im *importer) version() bool {
	if v, ok := im.doc["swagger"]; ok {
		if s, _ := v.(string); s != "2.0" {
			im.fail("swagger", "version %s is not supported; API Gateway imports Swagger 2.0 and OpenAPI 3.0", jsonText(v))
			return false
		}
		return true
	}
	if v, ok := im.doc["openapi"]; ok {
		s, _ := v.(string)
		if s != "3.0" && !strings.HasPrefix(s, "3.0.") {
			im.fail("openapi", "version %s is not supported; API Gateway imports Swagger 2.0 and OpenAPI 3.0", jsonText(v))
			return false
		}
		im.oas3 = true
		return true
	}
	im.fail("", "not an OpenAPI document: it has neither an \"openapi\" nor a \"swagger\" field")
	return false
}

// rootExtensions reads the API-level x-amazon-apigateway-* fields.
func (im *importer) rootExtensions() {
	for _, key := range sortedKeys(im.doc) {
		v := im.doc[key]
		switch key {
		case ExtAPIKeySource:
			s, _ := v.(string)
			if s != APIKeySourceHeader && s != APIKeySourceAuthorizer {
				im.fail(key, "must be %q or %q, not %s", APIKeySourceHeader, APIKeySourceAuthorizer, jsonText(v))
				continue
			}
			im.api.APIKeySource = s
		case ExtBinaryMediaTypes:
			for _, t := range im.stringList(key, v) {
				if !strings.Contains(t, "/") {
					im.fail(key, "%q is not a media type such as \"image/png\" or \"image/*\"", t)
					continue
				}
				im.api.BinaryMediaTypes = append(im.api.BinaryMediaTypes, t)
			}
		case ExtGatewayResponses:
			im.gatewayResponses(v)
		case ExtRequestValidators:
			im.requestValidators(v)
		case ExtRequestValidator:
			// read after the validators it names, below
		default:
			im.extension("", key)
		}
	}
	if v, ok := im.doc[ExtRequestValidator]; ok {
		if name, ok := im.validatorRef(ExtRequestValidator, v); ok {
			im.api.DefaultValidator = name
		}
	}
}

// extension handles an x-amazon-apigateway-* key found where this package reads none.
// Other keys (plain OpenAPI fields, other vendors' x- fields) are not its business.
func (im *importer) extension(where, key string) {
	if !strings.HasPrefix(key, extPrefix) {
		return
	}
	if why, ok := ignoredExtensions[key]; ok {
		im.warn(join(where, key), "ignored: %s", why)
		return
	}
	if why, ok := unsupportedExtensions[key]; ok {
		im.fail(join(where, key), "%s", why)
		return
	}
	switch key {
	case ExtIntegration, ExtAnyMethod, ExtAPIKeySource, ExtBinaryMediaTypes, ExtGatewayResponses,
		ExtRequestValidators, ExtRequestValidator, extAuthorizer, extAuthType:
		im.fail(join(where, key), "is not allowed here")
	default:
		im.fail(join(where, key), "unknown API Gateway extension")
	}
}

// StatusCodeRe is what API Gateway accepts as a method or integration response status code.
var StatusCodeRe = lazyre.New(`^[1-5][0-9][0-9]$`)

func (im *importer) gatewayResponses(v any) {
	obj, ok := v.(map[string]any)
	if !ok {
		im.fail(ExtGatewayResponses, "must be a map of response type to gateway response")
		return
	}
	for _, typ := range sortedKeys(obj) {
		where := join(ExtGatewayResponses, typ)
		if !slices.Contains(GatewayResponseTypes, typ) {
			im.fail(where, "unknown gateway response type; API Gateway's are %s", strings.Join(GatewayResponseTypes, ", "))
			continue
		}
		ro, ok := obj[typ].(map[string]any)
		if !ok {
			im.fail(where, "must be an object")
			continue
		}
		var gr GatewayResponse
		for _, k := range sortedKeys(ro) {
			switch k {
			case "statusCode":
				gr.StatusCode = im.statusCode(join(where, k), ro[k])
			case "responseParameters":
				gr.ResponseParameters = im.stringMap(join(where, k), ro[k], false)
				for _, dst := range sortedKeys(gr.ResponseParameters) {
					w := join(where, k, strconv.Quote(dst))
					if !gatewayResponseParam.MatchString(dst) {
						im.fail(w, "must be gatewayresponse.header.NAME, gatewayresponse.querystring.NAME or gatewayresponse.path.NAME")
						continue
					}
					if err := checkStaticOrVariable(gr.ResponseParameters[dst], methodRequestSource); err != nil {
						im.fail(w, "%v", err)
					}
				}
			case "responseTemplates":
				gr.ResponseTemplates = im.stringMap(join(where, k), ro[k], true)
			default:
				im.fail(join(where, k), "unknown property of a gateway response")
			}
		}
		im.api.GatewayResponses[typ] = gr
	}
}

func (im *importer) requestValidators(v any) {
	obj, ok := v.(map[string]any)
	if !ok {
		im.fail(ExtRequestValidators, "must be a map of validator name to validator")
		return
	}
	for _, name := range sortedKeys(obj) {
		where := join(ExtRequestValidators, strconv.Quote(name))
		ro, ok := obj[name].(map[string]any)
		if !ok {
			im.fail(where, "must be an object")
			continue
		}
		var rv RequestValidator
		for _, k := range sortedKeys(ro) {
			b, isBool := ro[k].(bool)
			switch k {
			case "validateRequestBody":
				rv.ValidateRequestBody = b
			case "validateRequestParameters":
				rv.ValidateRequestParameters = b
			default:
				im.fail(join(where, k), "unknown property of a request validator")
				continue
			}
			if !isBool {
				im.fail(join(where, k), "must be true or false, not %s", jsonText(ro[k]))
			}
		}
		im.api.RequestValidators[name] = rv
	}
}

func (im *importer) validatorRef(where string, v any) (string, bool) {
	name, ok := v.(string)
	if !ok {
		im.fail(where, "must be the name of a validator in %s, not %s", ExtRequestValidators, jsonText(v))
		return "", false
	}
	if _, ok := im.api.RequestValidators[name]; !ok {
		im.fail(where, "%q is not defined in %s", name, ExtRequestValidators)
		return "", false
	}
	return name, true
}

// ModelNameRe is what API Gateway accepts as a model name.
var ModelNameRe = lazyre.New(`^[a-zA-Z0-9]+$`)

// models reads definitions (Swagger 2.0) or components.schemas (OpenAPI 3.0).
func (im *importer) models() {
	where, defs := "definitions", im.doc["definitions"]
	if im.oas3 {
		comps, _ := im.doc["components"].(map[string]any)
		where, defs = "components.schemas", comps["schemas"]
	}
	if defs == nil {
		return
	}
	obj, ok := defs.(map[string]any)
	if !ok {
		im.fail(where, "must be a map of model name to schema")
		return
	}
	// Names first, so that schemas may refer to models defined after them.
	for _, name := range sortedKeys(obj) {
		if !ModelNameRe.MatchString(name) {
			// Model.name: "Must be an alphanumeric string."
			im.fail(join(where, strconv.Quote(name)), "a model name must be alphanumeric")
			continue
		}
		im.api.Models[name] = nil
	}
	for _, name := range sortedKeys(obj) {
		if _, ok := im.api.Models[name]; !ok {
			continue
		}
		w := join(where, name)
		schema, ok := obj[name].(map[string]any)
		if !ok {
			im.fail(w, "a model's schema must be an object")
			continue
		}
		im.checkSchemaRefs(w, schema)
		raw, err := json.Marshal(schema)
		if err != nil {
			im.fail(w, "%v", err)
			continue
		}
		im.api.Models[name] = raw
	}
}

// checkSchemaRefs makes sure every "$ref" in a schema names a model of this document:
// localpipe resolves local references only.
func (im *importer) checkSchemaRefs(where string, v any) {
	switch v := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(v) {
			if k == "$ref" {
				ref, _ := v[k].(string)
				if _, err := im.modelForRef(ref); err != nil {
					im.fail(where, "%v", err)
				}
				continue
			}
			im.checkSchemaRefs(where, v[k])
		}
	case []any:
		for _, e := range v {
			im.checkSchemaRefs(where, e)
		}
	}
}

func (im *importer) modelForRef(ref string) (string, error) {
	name, ok := ModelName(ref)
	if !ok {
		return "", fmt.Errorf("$ref %q: localpipe resolves only references to models in this document (#/definitions/NAME or #/components/schemas/NAME)", ref)
	}
	if _, ok := im.api.Models[name]; !ok {
		return "", fmt.Errorf("$ref %q: no model named %q", ref, name)
	}
	return name, nil
}

// securitySchemes reads securityDefinitions (2.0) or components.securitySchemes (3.0). The
// only scheme localpipe honours is the API key one API Gateway exports: type apiKey, in
// header, name x-api-key.
func (im *importer) securitySchemes() {
	where, defs := "securityDefinitions", im.doc["securityDefinitions"]
	if im.oas3 {
		comps, _ := im.doc["components"].(map[string]any)
		where, defs = "components.securitySchemes", comps["securitySchemes"]
	}
	im.schemes = map[string]*securityScheme{}
	obj, _ := defs.(map[string]any)
	for _, name := range sortedKeys(obj) {
		w := join(where, name)
		sc := &securityScheme{}
		im.schemes[name] = sc
		so, ok := obj[name].(map[string]any)
		if !ok {
			im.fail(w, "must be an object")
			sc.reported = true
			continue
		}
		typ, _ := so["type"].(string)
		in, _ := so["in"].(string)
		keyName, _ := so["name"].(string)
		for _, k := range sortedKeys(so) {
			if k == extAuthType {
				sc.authType, _ = so[k].(string)
				continue
			}
			if !strings.HasPrefix(k, extPrefix) {
				continue
			}
			n := len(im.errs)
			if k == extAuthorizer {
				im.authorizer(join(w, k), name, so[k], typ, in, keyName)
				sc.authorizer = len(im.errs) == n
			} else {
				im.extension(w, k)
			}
			sc.reported = sc.reported || len(im.errs) > n
		}
		sc.apiKey = !sc.reported && !sc.authorizer && typ == "apiKey" && in == "header" && strings.EqualFold(keyName, "x-api-key")
	}
}

// authorizer reads a scheme's x-amazon-apigateway-authorizer into API.Authorizers. A TOKEN
// authorizer's token comes from the scheme's header (type apiKey, in header) unless
// identitySource says otherwise.
func (im *importer) authorizer(where, name string, v any, typ, in, keyName string) {
	obj, ok := v.(map[string]any)
	if !ok {
		im.fail(where, "must be an object")
		return
	}
	a := &Authorizer{Name: name}
	str := func(k string) string {
		v, ok := obj[k]
		if !ok || v == nil {
			return ""
		}
		s, isStr := v.(string)
		if !isStr {
			im.fail(join(where, k), "must be a string, not %s", jsonText(v))
		}
		return s
	}
	a.Type = strings.ToUpper(str("type"))
	a.URI = str("authorizerUri")
	a.Credentials = str("authorizerCredentials")
	a.IdentitySource = str("identitySource")
	a.IdentityValidationExpression = str("identityValidationExpression")
	if v, ok := obj["authorizerResultTtlInSeconds"]; ok && v != nil {
		n, isInt := integer(v)
		if !isInt || n < -1<<31 || n > 1<<31 {
			im.fail(join(where, "authorizerResultTtlInSeconds"), "must be an integer, not %s", jsonText(v))
		} else {
			ttl := int(n)
			a.ResultTTLInSeconds = &ttl
		}
	}
	if v, ok := obj["providerARNs"]; ok {
		a.ProviderARNs = im.stringList(join(where, "providerARNs"), v)
	}
	switch a.Type {
	case AuthorizerToken:
		if a.IdentitySource == "" && typ == "apiKey" && in == "header" && keyName != "" {
			a.IdentitySource = "method.request.header." + keyName
		}
	case AuthorizerRequest:
	case AuthorizerCognito:
		im.warn(where, "Cognito user pool authorizers are not available locally: the methods that use %q answer 500, with the reason in the request log", name)
	case "":
		im.fail(where, "type is required: token, request or cognito_user_pools")
		return
	default:
		im.fail(where, "unknown type %q; API Gateway's are token, request and cognito_user_pools", a.Type)
		return
	}
	if _, err := CompileAuthorizer(a); err != nil {
		im.fail(where, "%v", err)
		return
	}
	if im.api.Authorizers == nil {
		im.api.Authorizers = map[string]*Authorizer{}
	}
	im.api.Authorizers[name] = a
}

// security reads a security requirement list: whether the method requires an API key (every
// alternative names the API key scheme; an empty alternative ({}) makes it optional), and the
// authorizer an alternative names, if any (API Gateway gives a method one).
func (im *importer) security(where string, v any) (apiKey bool, authorizer string) {
	list, ok := v.([]any)
	if !ok {
		im.fail(where, "must be a list of security requirements")
		return false, ""
	}
	if len(list) == 0 {
		return false, ""
	}
	required := true
	for _, alt := range list {
		req, ok := alt.(map[string]any)
		if !ok {
			im.fail(where, "a security requirement must be an object")
			return false, ""
		}
		hasKey := false
		for _, name := range sortedKeys(req) {
			sc, ok := im.schemes[name]
			switch {
			case !ok:
				im.fail(where, "unknown security scheme %q", name)
			case sc.apiKey:
				hasKey = true
			case sc.authorizer:
				if authorizer != "" && authorizer != name {
					im.fail(where, "names two authorizers, %q and %q; an API Gateway method has one", authorizer, name)
				}
				authorizer = name
			case !sc.reported && strings.EqualFold(sc.authType, "awsSigv4"):
				im.fail(where, "%q: localpipe does not support IAM authorization (x-amazon-apigateway-authtype awsSigv4)", name)
			case !sc.reported:
				im.fail(where, "%q: localpipe supports the API key scheme (type apiKey, in header, name x-api-key) and schemes with x-amazon-apigateway-authorizer", name)
			}
		}
		required = required && hasKey
	}
	return required, authorizer
}

var methodVerbs = map[string]string{
	"get": "GET", "put": "PUT", "post": "POST", "delete": "DELETE",
	"options": "OPTIONS", "head": "HEAD", "patch": "PATCH", ExtAnyMethod: "ANY",
}

func (im *importer) paths() {
	v, ok := im.doc["paths"]
	if !ok {
		return
	}
	paths, ok := v.(map[string]any)
	if !ok {
		im.fail("paths", "must be a map of path to path item")
		return
	}
	for _, path := range sortedKeys(paths) {
		res, err := im.resourceFor(path)
		if err != nil {
			im.fail(path, "%v", err)
			continue
		}
		item, err := im.deref(paths[path])
		if err != nil {
			im.fail(path, "%v", err)
			continue
		}
		shared := item["parameters"]
		for _, key := range sortedKeys(item) {
			verb, isVerb := methodVerbs[key]
			switch {
			case isVerb:
				op, err := im.deref(item[key])
				if err != nil {
					im.fail(verb+" "+path, "%v", err)
					continue
				}
				im.method(res, verb, path, op, shared)
			case key == "trace":
				im.fail("TRACE "+path, "API Gateway has no TRACE methods")
			default:
				im.extension(path, key)
			}
		}
	}
}

// resourceFor returns the resource for a template path, creating it and its ancestors.
func (im *importer) resourceFor(path string) (*Resource, error) {
	if !strings.HasPrefix(path, "/") {
		return nil, errors.New("a path must start with \"/\"")
	}
	r := im.api.root
	if path == "/" {
		return r, nil
	}
	parts := strings.Split(path[1:], "/")
	seen := map[string]bool{}
	for i, part := range parts {
		name, greedy, variable, err := ParsePathPart(part)
		if err != nil {
			return nil, err
		}
		if variable {
			if seen[name] {
				return nil, fmt.Errorf("path variable %q appears twice", name)
			}
			seen[name] = true
		}
		if greedy && i != len(parts)-1 {
			// "A proxy resource cannot have any child resource."
			return nil, fmt.Errorf("the greedy path variable %s must be the last part of the path", part)
		}
		if c := r.child(part); c != nil {
			r = c
			continue
		}
		c, err := im.api.AddResource(r, part)
		if err != nil {
			return nil, err
		}
		r = c
	}
	return r, nil
}

// method builds one method from an operation object.
func (im *importer) method(res *Resource, verb, path string, op map[string]any, shared any) {
	where := verb + " " + path
	m := &Method{HTTPMethod: verb, RequestValidator: im.api.DefaultValidator}
	m.OperationName, _ = op["operationId"].(string)

	im.parameters(where, res, m, shared, op)
	if im.oas3 {
		if rb, ok := op["requestBody"]; ok {
			im.requestBody(where, m, rb)
		}
	}
	im.methodResponses(where, m, op)

	if sec, ok := op["security"]; ok {
		m.APIKeyRequired, m.Authorizer = im.security(where+": security", sec)
	} else if im.hasRootSecurity {
		m.APIKeyRequired, m.Authorizer = im.security("security", im.rootSecurity)
	}
	if a := im.api.Authorizers[m.Authorizer]; a != nil {
		m.AuthorizationType = "CUSTOM"
		if a.Type == AuthorizerCognito {
			m.AuthorizationType = AuthorizerCognito
		}
	}
	for _, key := range sortedKeys(op) {
		switch key {
		case ExtRequestValidator:
			if name, ok := im.validatorRef(join(where, key), op[key]); ok {
				m.RequestValidator = name
			}
		case ExtIntegration:
			m.Integration = im.integration(join(where, key), op[key], res, m)
		default:
			im.extension(where, key)
		}
	}
	if res.Methods == nil {
		res.Methods = map[string]*Method{}
	}
	res.Methods[verb] = m
}

// parameters reads the path item's and the operation's parameters (the operation's win for
// the same name and location, as OpenAPI says) into method request parameters and, for a
// Swagger 2.0 body parameter, request models.
func (im *importer) parameters(where string, res *Resource, m *Method, shared any, op map[string]any) {
	type param struct {
		obj   map[string]any
		where string
	}
	var list []param
	index := map[string]int{}
	for _, src := range []any{shared, op["parameters"]} {
		if src == nil {
			continue
		}
		arr, ok := src.([]any)
		if !ok {
			im.fail(join(where, "parameters"), "must be a list")
			continue
		}
		for i, p := range arr {
			w := join(where, fmt.Sprintf("parameters[%d]", i))
			po, err := im.deref(p)
			if err != nil {
				im.fail(w, "%v", err)
				continue
			}
			name, _ := po["name"].(string)
			in, _ := po["in"].(string)
			if name != "" {
				w = join(where, fmt.Sprintf("parameter %q", name))
			}
			key := in + "\x00" + name
			if j, ok := index[key]; ok {
				list[j] = param{po, w}
				continue
			}
			index[key] = len(list)
			list = append(list, param{po, w})
		}
	}
	pathVars := res.PathParams()
	for _, p := range list {
		name, _ := p.obj["name"].(string)
		in, _ := p.obj["in"].(string)
		required, _ := p.obj["required"].(bool)
		if name == "" || in == "" {
			im.fail(p.where, "a parameter needs a name and an \"in\"")
			continue
		}
		switch in {
		case "path":
			if !slices.Contains(pathVars, name) {
				im.fail(p.where, "is declared in path, but %s has no {%s}", res.Path, name)
				continue
			}
			im.requestParam(m, "method.request.path."+name, true)
		case "query":
			im.requestParam(m, "method.request.querystring."+name, required)
		case "header":
			im.requestParam(m, "method.request.header."+name, required)
		case "body":
			if im.oas3 {
				im.fail(p.where, "\"in: body\" is Swagger 2.0; OpenAPI 3.0 uses requestBody")
				continue
			}
			name, ok := im.schemaModel(p.where, p.obj["schema"], where, "Request")
			if !ok {
				continue
			}
			for _, ct := range im.mediaTypes(where, op, "consumes") {
				setModel(&m.RequestModels, ct, name)
			}
		case "formData", "cookie":
			im.warn(p.where, "ignored: API Gateway method requests have no %s parameters", in)
		default:
			im.fail(p.where, "unknown parameter location %q", in)
		}
	}
}

func (im *importer) requestParam(m *Method, key string, required bool) {
	if m.RequestParameters == nil {
		m.RequestParameters = map[string]bool{}
	}
	m.RequestParameters[key] = required
}

func setModel(m *map[string]string, contentType, name string) {
	if *m == nil {
		*m = map[string]string{}
	}
	(*m)[contentType] = name
}

// mediaTypes returns the operation's consumes or produces, the document's when the
// operation has none, and application/json when neither has.
func (im *importer) mediaTypes(where string, op map[string]any, field string) []string {
	if v, ok := op[field]; ok {
		if l := im.stringList(join(where, field), v); len(l) > 0 {
			return l
		}
	}
	root := im.consumes
	if field == "produces" {
		root = im.produces
	}
	if len(root) > 0 {
		return root
	}
	return []string{"application/json"}
}

func (im *importer) requestBody(where string, m *Method, v any) {
	w := join(where, "requestBody")
	rb, err := im.deref(v)
	if err != nil {
		im.fail(w, "%v", err)
		return
	}
	content, _ := rb["content"].(map[string]any)
	for _, ct := range sortedKeys(content) {
		mt, _ := content[ct].(map[string]any)
		schema, ok := mt["schema"]
		if !ok {
			continue
		}
		if name, ok := im.schemaModel(join(w, ct), schema, where, "Request"); ok {
			setModel(&m.RequestModels, ct, name)
		}
	}
}

func (im *importer) methodResponses(where string, m *Method, op map[string]any) {
	v, ok := op["responses"]
	if !ok {
		return
	}
	responses, ok := v.(map[string]any)
	if !ok {
		im.fail(join(where, "responses"), "must be a map of status code to response")
		return
	}
	for _, code := range sortedKeys(responses) {
		w := join(where, "responses", code)
		if code == "default" {
			im.warn(w, "ignored: an API Gateway method response needs a status code")
			continue
		}
		if !StatusCodeRe.MatchString(code) {
			im.fail(w, "a method response needs a status code such as \"200\"")
			continue
		}
		r, err := im.deref(responses[code])
		if err != nil {
			im.fail(w, "%v", err)
			continue
		}
		mr := MethodResponse{StatusCode: code}
		headers, _ := r["headers"].(map[string]any)
		for _, h := range sortedKeys(headers) {
			if mr.ResponseParameters == nil {
				mr.ResponseParameters = map[string]bool{}
			}
			mr.ResponseParameters["method.response.header."+h] = false
		}
		if im.oas3 {
			content, _ := r["content"].(map[string]any)
			for _, ct := range sortedKeys(content) {
				mt, _ := content[ct].(map[string]any)
				if schema, ok := mt["schema"]; ok {
					if name, ok := im.schemaModel(join(w, ct), schema, where, "Response"+code); ok {
						setModel(&mr.ResponseModels, ct, name)
					}
				}
			}
		} else if schema, ok := r["schema"]; ok {
			if name, ok := im.schemaModel(w, schema, where, "Response"+code); ok {
				for _, ct := range im.mediaTypes(where, op, "produces") {
					setModel(&mr.ResponseModels, ct, name)
				}
			}
		}
		if m.MethodResponses == nil {
			m.MethodResponses = map[string]MethodResponse{}
		}
		m.MethodResponses[code] = mr
	}
}

// schemaModel returns the model a body schema names. A schema written inline becomes a
// model of its own, named after the method, since API Gateway validates bodies against
// models only.
func (im *importer) schemaModel(where string, v any, method, suffix string) (string, bool) {
	schema, ok := v.(map[string]any)
	if !ok {
		im.fail(where, "schema must be an object")
		return "", false
	}
	if ref, ok := schema["$ref"]; ok {
		s, _ := ref.(string)
		name, err := im.modelForRef(s)
		if err != nil {
			im.fail(where, "%v", err)
			return "", false
		}
		return name, true
	}
	im.checkSchemaRefs(where, schema)
	raw, err := json.Marshal(schema)
	if err != nil {
		im.fail(where, "%v", err)
		return "", false
	}
	name := inlineModelName(method, suffix)
	for i := 2; ; i++ {
		if _, taken := im.api.Models[name]; !taken {
			break
		}
		name = inlineModelName(method, suffix) + strconv.Itoa(i)
	}
	im.api.Models[name] = raw
	return name, true
}

// inlineModelName turns "POST /streams/{stream-name}" and "Request" into
// "PostStreamsStreamnameRequest": alphanumeric, as model names must be.
func inlineModelName(method, suffix string) string {
	var b strings.Builder
	upper := true
	for _, r := range method + " " + suffix {
		isAlnum := r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
		switch {
		case !isAlnum:
			upper = true
		case upper:
			b.WriteString(strings.ToUpper(string(r)))
			upper = false
		default:
			b.WriteString(strings.ToLower(string(r)))
		}
	}
	return b.String()
}

// integrationKeys are the properties of x-amazon-apigateway-integration, in the order they
// are checked ([AGW-EXT]; aws-semantics.md A.8).
var integrationKeys = []string{
	"type", "httpMethod", "uri", "credentials", "connectionType", "connectionId",
	"passthroughBehavior", "contentHandling", "timeoutInMillis", "cacheNamespace",
	"cacheKeyParameters", "requestParameters", "requestTemplates", "responses", "tlsConfig",
	"integrationSubtype", "payloadFormatVersion",
}

var integrationVerbs = []string{"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "ANY"}

func (im *importer) integration(where string, v any, res *Resource, m *Method) *Integration {
	obj, ok := v.(map[string]any)
	if !ok {
		im.fail(where, "must be an object")
		return nil
	}
	if _, ok := obj["$ref"]; ok {
		im.fail(where, "$ref to x-amazon-apigateway-integrations applies to HTTP APIs only")
		return nil
	}
	in := &Integration{PassthroughBehavior: PassthroughWhenNoMatch, TimeoutInMillis: DefaultTimeoutMillis}
	for _, k := range sortedKeys(obj) {
		if !slices.Contains(integrationKeys, k) {
			im.fail(join(where, k), "unknown property of an integration")
		}
	}
	str := func(k string) (string, bool) {
		v, ok := obj[k]
		if !ok || v == nil {
			return "", false
		}
		s, isStr := v.(string)
		if !isStr {
			im.fail(join(where, k), "must be a string, not %s", jsonText(v))
			return "", false
		}
		return s, true
	}
	if s, ok := str("type"); ok {
		t := IntegrationType(strings.ToUpper(s))
		switch t {
		case IntegrationAWS, IntegrationAWSProxy, IntegrationHTTP, IntegrationHTTPProxy, IntegrationMock:
			in.Type = t
		default:
			im.fail(where, "unknown type %q; API Gateway's are aws, aws_proxy, http, http_proxy and mock", s)
		}
	} else if _, present := obj["type"]; !present {
		im.fail(where, "type is required")
	}
	if s, ok := str("httpMethod"); ok {
		in.HTTPMethod = strings.ToUpper(s)
		if !slices.Contains(integrationVerbs, in.HTTPMethod) {
			im.fail(join(where, "httpMethod"), "unknown HTTP method %q", s)
		}
	}
	in.URI, _ = str("uri")
	in.Credentials, _ = str("credentials")
	if s, ok := str("connectionType"); ok && s != "INTERNET" {
		im.fail(join(where, "connectionType"), "%q: localpipe supports only INTERNET (no VPC links)", s)
	}
	if s, ok := str("connectionId"); ok && s != "" {
		im.fail(join(where, "connectionId"), "localpipe does not support VPC links")
	}
	if s, ok := str("passthroughBehavior"); ok {
		switch p := strings.ToUpper(s); p {
		case PassthroughWhenNoMatch, PassthroughWhenNoTemplates, PassthroughNever:
			in.PassthroughBehavior = p
		default:
			im.fail(join(where, "passthroughBehavior"), "unknown value %q; API Gateway's are when_no_match, when_no_templates and never", s)
		}
	}
	if s, ok := str("contentHandling"); ok {
		in.ContentHandling = im.contentHandling(join(where, "contentHandling"), s)
	}
	if v, ok := obj["timeoutInMillis"]; ok {
		n, isInt := integer(v)
		switch {
		case !isInt:
			im.fail(join(where, "timeoutInMillis"), "must be an integer, not %s", jsonText(v))
		case n < MinTimeoutMillis || n > MaxTimeoutMillis:
			im.fail(join(where, "timeoutInMillis"), "%d is outside %d to %d", n, MinTimeoutMillis, MaxTimeoutMillis)
		default:
			in.TimeoutInMillis = int(n)
		}
	}
	in.CacheNamespace, _ = str("cacheNamespace")
	if v, ok := obj["cacheKeyParameters"]; ok {
		in.CacheKeyParameters = im.stringList(join(where, "cacheKeyParameters"), v)
	}
	if v, ok := obj["requestParameters"]; ok {
		w := join(where, "requestParameters")
		in.RequestParameters = im.stringMap(w, v, false)
		for _, dst := range sortedKeys(in.RequestParameters) {
			im.integrationRequestParam(join(w, strconv.Quote(dst)), dst, in.RequestParameters[dst], res, m)
		}
	}
	if v, ok := obj["requestTemplates"]; ok {
		in.RequestTemplates = im.stringMap(join(where, "requestTemplates"), v, true)
	}
	if v, ok := obj["responses"]; ok {
		in.Responses = im.integrationResponses(join(where, "responses"), v)
	}
	if v, ok := obj["tlsConfig"]; ok {
		im.tlsConfig(join(where, "tlsConfig"), v, in)
	}
	if _, ok := obj["integrationSubtype"]; ok {
		im.fail(join(where, "integrationSubtype"), "applies to HTTP APIs only")
	}
	if s, ok := str("payloadFormatVersion"); ok && s != "1.0" {
		im.fail(join(where, "payloadFormatVersion"), "%q: REST APIs support only 1.0", s)
	}

	// What each type needs (PutIntegration's rules).
	if in.Type != "" && in.Type != IntegrationMock {
		if in.HTTPMethod == "" {
			im.fail(where, "httpMethod is required for type %s", strings.ToLower(string(in.Type)))
		}
		switch {
		case in.URI == "":
			im.fail(where, "uri is required for type %s", strings.ToLower(string(in.Type)))
		case in.Type == IntegrationAWS || in.Type == IntegrationAWSProxy:
			if _, err := ParseAWSURI(in.URI); err != nil {
				im.fail(join(where, "uri"), "%v", err)
			}
		default:
			// ${stageVariables.x} may stand for any part of the URL; check it with a
			// placeholder value.
			u, err := url.Parse(StageVarRef.ReplaceAllString(in.URI, "0"))
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				im.fail(join(where, "uri"), "%q is not an http or https URL", in.URI)
			}
		}
	}
	return in
}

func (im *importer) contentHandling(where, s string) string {
	switch c := strings.ToUpper(s); c {
	case ConvertToBinary, ConvertToText:
		return c
	default:
		im.fail(where, "unknown value %q; API Gateway's are CONVERT_TO_BINARY and CONVERT_TO_TEXT", s)
		return ""
	}
}

func (im *importer) tlsConfig(where string, v any, in *Integration) {
	obj, ok := v.(map[string]any)
	if !ok {
		im.fail(where, "must be an object")
		return
	}
	for _, k := range sortedKeys(obj) {
		switch k {
		case "insecureSkipVerification":
			b, ok := obj[k].(bool)
			if !ok {
				im.fail(join(where, k), "must be true or false, not %s", jsonText(obj[k]))
			}
			in.InsecureSkipVerification = b
		default:
			im.fail(join(where, k), "unknown property of tlsConfig")
		}
	}
}

var (
	integrationRequestParam = lazyre.New(`^integration\.request\.(header|querystring|path|multivalueheader|multivaluequerystring)\.[^\s]+$`)
	methodResponseParam     = lazyre.New(`^method\.response\.header\.[^\s]+$`)
	gatewayResponseParam    = lazyre.New(`^gatewayresponse\.(header|querystring|path)\.[^\s]+$`)
	methodRequestSource     = lazyre.New(`^method\.request\.(path|querystring|header|multivaluequerystring|multivalueheader)\.([^\s]+)$`)
	integrationRespSource   = lazyre.New(`^integration\.response\.(header\.[^\s]+|multivalueheader\.[^\s]+|body|body\..+)$`)
)

// checkStaticOrVariable accepts the sources every kind of mapping allows: a static value
// in single quotes, context.X, stageVariables.X, or what re matches.
func checkStaticOrVariable(src string, re *lazyre.Regexp) error {
	switch {
	case len(src) >= 2 && src[0] == '\'' && src[len(src)-1] == '\'':
		return nil
	case strings.HasPrefix(src, "context.") && len(src) > len("context."):
		return nil
	case strings.HasPrefix(src, "stageVariables.") && len(src) > len("stageVariables."):
		return nil
	case re.MatchString(src):
		return nil
	}
	return fmt.Errorf("invalid mapping expression %q", src)
}

// integrationRequestParam checks one integration request parameter mapping. A method
// request parameter it reads must be declared on the method, as PutIntegration requires;
// a path variable of the resource is declared by the path itself.
func (im *importer) integrationRequestParam(where, dst, src string, res *Resource, m *Method) {
	if !integrationRequestParam.MatchString(dst) {
		im.fail(where, "must be integration.request.{header|querystring|path|multivalueheader|multivaluequerystring}.NAME")
		return
	}
	if src == "method.request.body" || strings.HasPrefix(src, "method.request.body.") {
		return
	}
	if err := checkStaticOrVariable(src, methodRequestSource); err != nil {
		im.fail(where, "%v", err)
		return
	}
	sm := methodRequestSource.FindStringSubmatch(src)
	if sm == nil {
		return
	}
	loc, name := sm[1], sm[2]
	declared := false
	switch loc {
	case "path":
		declared = slices.Contains(res.PathParams(), name)
	case "querystring", "multivaluequerystring":
		_, declared = m.RequestParameters["method.request.querystring."+name]
	case "header", "multivalueheader":
		_, declared = m.RequestParameters["method.request.header."+name]
	}
	if !declared {
		im.fail(where, "%s is not a parameter of the method; declare it in the operation's parameters", src)
	}
}

func (im *importer) integrationResponses(where string, v any) map[string]IntegrationResponse {
	obj, ok := v.(map[string]any)
	if !ok {
		im.fail(where, "must be a map of selection pattern to response")
		return nil
	}
	out := make(map[string]IntegrationResponse, len(obj))
	for _, pattern := range sortedKeys(obj) {
		w := join(where, strconv.Quote(pattern))
		ro, ok := obj[pattern].(map[string]any)
		if !ok {
			im.fail(w, "must be an object")
			continue
		}
		ir := IntegrationResponse{}
		if pattern == "" {
			im.fail(w, "an empty selection pattern; the fallback response is keyed \"default\"")
			continue
		}
		if pattern != "default" {
			re, err := compileSelectionPattern(pattern)
			if err != nil {
				im.fail(w, "localpipe cannot use this selection pattern: %v", err)
				continue
			}
			ir.SelectionPattern, ir.pattern = pattern, re
		}
		if _, ok := ro["statusCode"]; !ok {
			im.fail(w, "statusCode is required")
		}
		for _, k := range sortedKeys(ro) {
			switch k {
			case "statusCode":
				ir.StatusCode = im.statusCode(join(w, k), ro[k])
			case "responseParameters":
				ir.ResponseParameters = im.stringMap(join(w, k), ro[k], false)
				for _, dst := range sortedKeys(ir.ResponseParameters) {
					pw := join(w, k, strconv.Quote(dst))
					if !methodResponseParam.MatchString(dst) {
						im.fail(pw, "must be method.response.header.NAME")
						continue
					}
					if err := checkStaticOrVariable(ir.ResponseParameters[dst], integrationRespSource); err != nil {
						im.fail(pw, "%v", err)
					}
				}
			case "responseTemplates":
				ir.ResponseTemplates = im.stringMap(join(w, k), ro[k], true)
			case "contentHandling":
				s, ok := ro[k].(string)
				if !ok {
					im.fail(join(w, k), "must be a string, not %s", jsonText(ro[k]))
					continue
				}
				ir.ContentHandling = im.contentHandling(join(w, k), s)
			default:
				im.fail(join(w, k), "unknown property of an integration response")
			}
		}
		out[pattern] = ir
	}
	return out
}

// statusCode accepts "200" and, since YAML writers often leave it unquoted, 200.
func (im *importer) statusCode(where string, v any) string {
	s := scalarString(v)
	if !StatusCodeRe.MatchString(s) {
		im.fail(where, "%s is not an HTTP status code", jsonText(v))
		return ""
	}
	return s
}

// deref follows a local "$ref" ("#/components/parameters/Id") to the object it names.
func (im *importer) deref(v any) (map[string]any, error) {
	for range 16 {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, errors.New("must be an object")
		}
		r, ok := obj["$ref"]
		if !ok {
			return obj, nil
		}
		ref, _ := r.(string)
		if !strings.HasPrefix(ref, "#/") {
			return nil, fmt.Errorf("$ref %s: localpipe resolves only references within the document (\"#/...\")", jsonText(r))
		}
		var cur any = im.doc
		for _, tok := range strings.Split(ref[2:], "/") {
			m, ok := cur.(map[string]any)
			if !ok {
				cur = nil
				break
			}
			cur = m[UnescapePointer(tok)]
		}
		if cur == nil {
			return nil, fmt.Errorf("$ref %q points at nothing", ref)
		}
		v = cur
	}
	return nil, errors.New("$ref: too many references in a row (a cycle?)")
}

func (im *importer) stringList(where string, v any) []string {
	if v == nil {
		return nil
	}
	arr, ok := v.([]any)
	if !ok {
		im.fail(where, "must be a list of strings")
		return nil
	}
	out := make([]string, 0, len(arr))
	for _, e := range arr {
		s, ok := e.(string)
		if !ok {
			im.fail(where, "must be a list of strings, but holds %s", jsonText(e))
			continue
		}
		out = append(out, s)
	}
	return out
}

// stringMap reads a map of strings. A template map may hold null, which API Gateway treats
// as an empty template.
func (im *importer) stringMap(where string, v any, nullIsEmpty bool) map[string]string {
	obj, ok := v.(map[string]any)
	if !ok {
		im.fail(where, "must be a map of strings")
		return nil
	}
	out := make(map[string]string, len(obj))
	for _, k := range sortedKeys(obj) {
		switch s := obj[k].(type) {
		case string:
			out[k] = s
		case nil:
			if nullIsEmpty {
				out[k] = ""
				continue
			}
			im.fail(join(where, strconv.Quote(k)), "must be a string, not null")
		default:
			im.fail(join(where, strconv.Quote(k)), "must be a string, not %s", jsonText(s))
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func integer(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	return i, err == nil
}

// scalarString renders a string or number as text ("200" for both "200" and 200).
func scalarString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	}
	return ""
}

// jsonText renders a value for a message the way the document wrote it.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil || len(b) > 60 {
		return fmt.Sprintf("a %T", v)
	}
	return string(b)
}
