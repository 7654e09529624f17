package gateway

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/localpipe/localpipe/gateway/jsonschema"
	"github.com/localpipe/localpipe/mapping"
)

// deployment is an API compiled for serving: every template parsed, every pattern and model
// compiled. It is immutable once built, so requests read it without locks.
type deployment struct {
	api    *API
	stages map[string]Stage
	plans  map[*Method]*plan
	gwr    map[string]*compiledGatewayResponse
	series sync.Map // seriesKey → *series

	created      time.Time // when Deploy ran: createdDate for the control plane
	deploymentID string
}

// backend kinds a plan calls.
type backendKind int

const (
	backendAWS         backendKind = iota
	backendLambda                  // AWS integration of a Lambda function: mapped like any AWS integration
	backendLambdaProxy             // AWS_PROXY: the proxy event in, the function's answer out
	backendMock
	backendHTTP
	backendHTTPProxy
)

// plan is one method compiled.
type plan struct {
	where  string // "POST /stream", for errors and logs
	method *Method
	res    *Resource
	integ  *Integration
	kind   backendKind

	service, action, region string // AWS integrations
	function                string // Lambda integrations: the function ARN, maybe with ${stageVariables.x}

	reqTemplates map[string]*template // by lower-case media type; nil value: empty template
	reqParams    []paramMapping

	responses []*compiledResponse // non-default, ordered by selection pattern
	fallback  *compiledResponse   // the "default" response

	auth *compiledAuthorizer // nil when the method has no authorizer

	validateParams bool
	required       []string                      // required "method.request.{loc}.name" keys
	bodyModels     map[string]*jsonschema.Schema // by lower-case media type, when the body is validated
	bodyModelNames map[string]string             // for logs
	timeoutMillis  int
}

// paramMapping is one requestParameters or responseParameters entry compiled.
type paramMapping struct {
	dst   string // header, querystring or path name (request); header name (response)
	loc   string // "header", "querystring", "path", "multivalueheader", "multivaluequerystring"
	src   paramSource
	order string // the full destination key, to apply mappings in a stable order
}

type sourceKind int

const (
	srcStatic sourceKind = iota
	srcContext
	srcStageVar
	srcRequest     // method.request.{path,querystring,header,multivalue*}.X
	srcRequestBody // method.request.body[.path]
	srcRespHeader  // integration.response.header.X / multivalueheader.X
	srcRespBody    // integration.response.body[.path]
)

type paramSource struct {
	kind sourceKind
	loc  string // for srcRequest: path, querystring, header, multivaluequerystring, multivalueheader
	name string // static value, context path, variable, parameter or header name
	path *mapping.Template
}

// compiledResponse is an integration response compiled.
type compiledResponse struct {
	ir        IntegrationResponse
	status    int
	pattern   *regexp.Regexp
	params    []paramMapping
	templates map[string]*template // by lower-case media type; nil value: empty template
	order     []string             // template keys, sorted, for "the first template"
}

// compiledGatewayResponse is an API's customisation of one gateway response type.
type compiledGatewayResponse struct {
	status    int // 0: the type's default
	params    []paramMapping
	templates map[string]*template
	order     []string
}

func compileDeployment(api *API, stages []Stage) (*deployment, error) {
	if api == nil || api.root == nil {
		return nil, errors.New("gateway: no API to deploy (build it with ImportOpenAPI or NewAPI)")
	}
	if !validID(api.ID) {
		return nil, fmt.Errorf("gateway: API %q: id %q may hold only letters, digits, '-' and '_'", api.Name, api.ID)
	}
	var errs []error
	fail := func(where, format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		if where != "" {
			msg = where + ": " + msg
		}
		errs = append(errs, errors.New(msg))
	}
	d := &deployment{api: api, stages: map[string]Stage{}, plans: map[*Method]*plan{}, gwr: map[string]*compiledGatewayResponse{}}
	for _, st := range stages {
		if !stageNameRe.MatchString(st.Name) {
			fail("stage "+strconv.Quote(st.Name), "a stage name holds 1 to 128 letters, digits, '-' and '_'")
			continue
		}
		if _, dup := d.stages[st.Name]; dup {
			fail("stage "+st.Name, "listed twice")
		}
		if len(st.Variables) > MaxStageVariables {
			fail("stage "+st.Name, "%d stage variables, more than API Gateway's 100", len(st.Variables))
		}
		for k, v := range st.Variables {
			if !stageVarKeyRe.MatchString(k) {
				fail("stage "+st.Name+": variable "+strconv.Quote(k), "a stage variable name holds 1 to 64 letters, digits and '_'")
			}
			if len(v) > 512 {
				fail("stage "+st.Name+": variable "+k, "the value is %d characters, more than API Gateway's 512", len(v))
			}
		}
		st.Variables = maps.Clone(st.Variables) // requests read it without locks
		d.stages[st.Name] = st
	}
	src := api.APIKeySource
	if src != "" && src != APIKeySourceHeader && src != APIKeySourceAuthorizer {
		fail("x-amazon-apigateway-api-key-source", "unknown value %q", src)
	}
	auths := map[string]*compiledAuthorizer{}
	for _, name := range sortedKeys(api.Authorizers) {
		ca, err := compileAuthorizer(api.Authorizers[name])
		if err != nil {
			fail("authorizer "+name, "%v", err)
			continue
		}
		auths[name] = ca
	}
	for _, res := range api.Resources() {
		verbs := make([]string, 0, len(res.Methods))
		for v := range res.Methods {
			verbs = append(verbs, v)
		}
		sort.Strings(verbs)
		for _, verb := range verbs {
			m := res.Methods[verb]
			where := verb + " " + res.Path
			var auth *compiledAuthorizer
			if m.Authorizer != "" {
				if auth = auths[m.Authorizer]; auth == nil && api.Authorizers[m.Authorizer] == nil {
					fail(where, "the method's authorizer %q is not defined", m.Authorizer)
				}
			}
			if m.APIKeyRequired && src == APIKeySourceAuthorizer && (auth == nil || auth.cognito) {
				fail(where, "the API reads API keys from an authorizer (x-amazon-apigateway-api-key-source AUTHORIZER), and the method has no Lambda authorizer to give one")
			}
			p, perrs := compilePlan(api, res, m, where)
			errs = append(errs, perrs...)
			if p != nil {
				p.auth = auth
				d.plans[m] = p
			}
		}
	}
	for _, typ := range sortedKeys(api.GatewayResponses) {
		if !isGatewayResponseType(typ) {
			fail("x-amazon-apigateway-gateway-responses: "+typ, "not a gateway response type")
			continue
		}
		g, gerrs := compileGatewayResponse("x-amazon-apigateway-gateway-responses: "+typ, api.GatewayResponses[typ])
		errs = append(errs, gerrs...)
		d.gwr[typ] = g
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("gateway: API %q (%s) cannot be deployed: %w", api.Name, api.ID, errors.Join(errs...))
	}
	return d, nil
}

func isGatewayResponseType(t string) bool {
	for _, g := range GatewayResponseTypes {
		if g == t {
			return true
		}
	}
	return false
}

func compilePlan(api *API, res *Resource, m *Method, where string) (*plan, []error) {
	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", where, fmt.Sprintf(format, args...)))
	}
	in := m.Integration
	if in == nil {
		fail("the method has no integration (x-amazon-apigateway-integration); API Gateway does not deploy such a method")
		return nil, errs
	}
	p := &plan{where: where, method: m, res: res, integ: in, timeoutMillis: in.TimeoutInMillis}
	if p.timeoutMillis == 0 {
		p.timeoutMillis = DefaultTimeoutMillis
	}
	if p.timeoutMillis < MinTimeoutMillis || p.timeoutMillis > MaxTimeoutMillis {
		fail("timeoutInMillis %d is outside %d to %d", p.timeoutMillis, MinTimeoutMillis, MaxTimeoutMillis)
	}
	switch in.Type {
	case IntegrationAWS, IntegrationAWSProxy:
		u, err := ParseAWSURI(in.URI)
		if err != nil {
			fail("%v", err)
			break
		}
		switch {
		case in.Type == IntegrationAWSProxy || u.Service == "lambda":
			fn, err := lambdaFunction(in.URI)
			if err != nil {
				fail("%v", err)
				break
			}
			p.kind, p.function = backendLambda, fn
			if in.Type == IntegrationAWSProxy {
				p.kind = backendLambdaProxy
			}
		case u.Kind != "action":
			fail("integration uri %q: localpipe calls AWS services by action (arn:aws:apigateway:REGION:kinesis:action/ACTION), not by path", in.URI)
		case u.Service != "kinesis" && u.Service != "firehose":
			fail("integration uri %q: localpipe emulates only kinesis and firehose, not %s", in.URI, u.Service)
		default:
			p.kind, p.service, p.action, p.region = backendAWS, u.Service, u.Target, u.Region
		}
	case IntegrationMock:
		p.kind = backendMock
	case IntegrationHTTP, IntegrationHTTPProxy:
		p.kind = backendHTTP
		if in.Type == IntegrationHTTPProxy {
			p.kind = backendHTTPProxy
		}
		u, err := url.Parse(stageVarRef.ReplaceAllString(in.URI, "0"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			fail("integration uri %q is not an http or https URL", in.URI)
		}
	default:
		fail("unknown integration type %q", in.Type)
	}
	if p.kind != backendHTTPProxy && p.kind != backendLambdaProxy {
		tm, terrs := compileTemplates(where+": requestTemplates", in.RequestTemplates)
		errs = append(errs, terrs...)
		p.reqTemplates = tm
	}
	for _, dst := range sortedKeys(in.RequestParameters) {
		pm, err := compileRequestParam(dst, in.RequestParameters[dst])
		if err != nil {
			fail("requestParameters %q: %v", dst, err)
			continue
		}
		p.reqParams = append(p.reqParams, pm)
	}
	if p.kind != backendHTTPProxy && p.kind != backendLambdaProxy {
		for _, key := range sortedKeys(in.Responses) {
			cr, rerrs := compileResponse(fmt.Sprintf("%s: integration response %q", where, key), in.Responses[key])
			errs = append(errs, rerrs...)
			if cr == nil {
				continue
			}
			if key == "default" || cr.ir.SelectionPattern == "" {
				p.fallback = cr
			} else {
				p.responses = append(p.responses, cr)
			}
		}
	}
	if m.RequestValidator != "" {
		v, ok := api.RequestValidators[m.RequestValidator]
		if !ok {
			fail("request validator %q is not defined in x-amazon-apigateway-request-validators", m.RequestValidator)
		}
		p.validateParams = v.ValidateRequestParameters
		if v.ValidateRequestParameters {
			for _, k := range sortedKeys(m.RequestParameters) {
				if m.RequestParameters[k] {
					p.required = append(p.required, k)
				}
			}
		}
		if v.ValidateRequestBody {
			sc := jsonschema.NewCompiler(api.Models)
			for _, ct := range sortedKeys(m.RequestModels) {
				name := m.RequestModels[ct]
				s, err := sc.Model(name)
				if err != nil {
					fail("request model %q for %s: %v", name, ct, err)
					continue
				}
				if s == nil {
					continue // "Empty" and friends: nothing to check
				}
				if p.bodyModels == nil {
					p.bodyModels = map[string]*jsonschema.Schema{}
					p.bodyModelNames = map[string]string{}
				}
				p.bodyModels[strings.ToLower(ct)] = s
				p.bodyModelNames[strings.ToLower(ct)] = name
			}
		}
	}
	return p, errs
}

// compileTemplates parses a requestTemplates or responseTemplates map. An empty template is
// kept as a nil entry: it selects the content type but passes the payload through.
func compileTemplates(where string, src map[string]string) (map[string]*template, []error) {
	if len(src) == 0 {
		return nil, nil
	}
	var errs []error
	out := make(map[string]*template, len(src))
	for _, ct := range sortedKeys(src) {
		text := src[ct]
		key := strings.ToLower(strings.TrimSpace(ct))
		if strings.TrimSpace(text) == "" {
			out[key] = nil
			continue
		}
		t, err := mapping.Parse(where+" "+ct, text)
		if err != nil {
			errs = append(errs, err) // the template's name already says where
			continue
		}
		out[key] = newTemplate(t, text)
	}
	return out, errs
}

// template is a parsed mapping template and the $context variables it reads.
type template struct {
	*mapping.Template
	// needs lists the top-level $context names the source reads, or is nil when it may
	// read any (it names $context other than as $context.name).
	needs []string
}

var (
	contextRef     = regexp.MustCompile(`\$!?\{?context\b`)
	contextNameRef = regexp.MustCompile(`\$!?\{?context\.([A-Za-z_][A-Za-z0-9_]*)`)
)

// newTemplate works out which $context variables src reads, so a request builds only those:
// converting the whole $context is most of the cost of rendering a small template.
func newTemplate(t *mapping.Template, src string) *template {
	all := contextRef.FindAllStringIndex(src, -1)
	named := contextNameRef.FindAllStringSubmatch(src, -1)
	tm := &template{Template: t}
	if len(all) != len(named) {
		return tm
	}
	tm.needs = []string{}
	for _, m := range named {
		if !slices.Contains(tm.needs, m[1]) {
			tm.needs = append(tm.needs, m[1])
		}
	}
	return tm
}

func compileResponse(where string, ir IntegrationResponse) (*compiledResponse, []error) {
	var errs []error
	cr := &compiledResponse{ir: ir}
	n, err := strconv.Atoi(ir.StatusCode)
	if err != nil || n < 100 || n > 599 {
		errs = append(errs, fmt.Errorf("%s: statusCode %q is not an HTTP status code", where, ir.StatusCode))
	}
	cr.status = n
	if ir.SelectionPattern != "" {
		re, err := compileSelectionPattern(ir.SelectionPattern)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: selection pattern: %v", where, err))
		}
		cr.pattern = re
	}
	for _, dst := range sortedKeys(ir.ResponseParameters) {
		pm, err := compileResponseParam(dst, ir.ResponseParameters[dst], "method.response.header.", false)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: responseParameters %q: %v", where, dst, err))
			continue
		}
		cr.params = append(cr.params, pm)
	}
	tm, terrs := compileTemplates(where+": responseTemplates", ir.ResponseTemplates)
	errs = append(errs, terrs...)
	cr.templates, cr.order = tm, sortedKeys(tm)
	if len(errs) > 0 {
		return nil, errs
	}
	return cr, nil
}

func compileGatewayResponse(where string, g GatewayResponse) (*compiledGatewayResponse, []error) {
	var errs []error
	out := &compiledGatewayResponse{}
	if g.StatusCode != "" {
		n, err := strconv.Atoi(g.StatusCode)
		if err != nil || n < 100 || n > 599 {
			errs = append(errs, fmt.Errorf("%s: statusCode %q is not an HTTP status code", where, g.StatusCode))
		}
		out.status = n
	}
	for _, dst := range sortedKeys(g.ResponseParameters) {
		if strings.HasPrefix(dst, "gatewayresponse.querystring.") || strings.HasPrefix(dst, "gatewayresponse.path.") {
			continue // accepted by API Gateway, and meaningless on a response
		}
		pm, err := compileResponseParam(dst, g.ResponseParameters[dst], "gatewayresponse.header.", true)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: responseParameters %q: %v", where, dst, err))
			continue
		}
		out.params = append(out.params, pm)
	}
	tm, terrs := compileTemplates(where+": responseTemplates", g.ResponseTemplates)
	errs = append(errs, terrs...)
	out.templates, out.order = tm, sortedKeys(tm)
	return out, errs
}

// compileRequestParam compiles "integration.request.{loc}.name" ← source.
func compileRequestParam(dst, src string) (paramMapping, error) {
	rest, ok := strings.CutPrefix(dst, "integration.request.")
	if !ok {
		return paramMapping{}, errors.New("the destination must be integration.request.{header|querystring|path}.NAME")
	}
	loc, name, ok := strings.Cut(rest, ".")
	switch {
	case !ok || name == "":
		return paramMapping{}, errors.New("the destination must be integration.request.{header|querystring|path}.NAME")
	case loc != "header" && loc != "querystring" && loc != "path" && loc != "multivalueheader" && loc != "multivaluequerystring":
		return paramMapping{}, fmt.Errorf("unknown destination %q", loc)
	}
	ps, err := compileSource(src, true)
	if err != nil {
		return paramMapping{}, err
	}
	return paramMapping{dst: name, loc: loc, src: ps, order: dst}, nil
}

// compileResponseParam compiles "{prefix}name" ← source for integration and gateway responses.
func compileResponseParam(dst, src, prefix string, gateway bool) (paramMapping, error) {
	name, ok := strings.CutPrefix(dst, prefix)
	if !ok || name == "" {
		return paramMapping{}, fmt.Errorf("the destination must be %sNAME", prefix)
	}
	ps, err := compileSource(src, gateway)
	if err != nil {
		return paramMapping{}, err
	}
	if !gateway && (ps.kind == srcRequest || ps.kind == srcRequestBody) {
		return paramMapping{}, fmt.Errorf("invalid mapping expression %q for a method response", src)
	}
	if gateway && (ps.kind == srcRespHeader || ps.kind == srcRespBody) {
		return paramMapping{}, fmt.Errorf("invalid mapping expression %q for a gateway response", src)
	}
	return paramMapping{dst: name, loc: "header", src: ps, order: dst}, nil
}

// compileSource compiles the right-hand side of a parameter mapping. request says whether the
// method request is the side being read (integration request and gateway responses) or the
// integration response.
func compileSource(src string, request bool) (paramSource, error) {
	switch {
	case len(src) >= 2 && src[0] == '\'' && src[len(src)-1] == '\'':
		return paramSource{kind: srcStatic, name: src[1 : len(src)-1]}, nil
	case strings.HasPrefix(src, "context.") && len(src) > len("context."):
		return paramSource{kind: srcContext, name: src[len("context."):]}, nil
	case strings.HasPrefix(src, "stageVariables.") && len(src) > len("stageVariables."):
		return paramSource{kind: srcStageVar, name: src[len("stageVariables."):]}, nil
	}
	if request {
		if src == "method.request.body" {
			return paramSource{kind: srcRequestBody}, nil
		}
		if expr, ok := strings.CutPrefix(src, "method.request.body."); ok {
			t, err := bodyPathTemplate(expr)
			return paramSource{kind: srcRequestBody, path: t}, err
		}
		if rest, ok := strings.CutPrefix(src, "method.request."); ok {
			loc, name, ok := strings.Cut(rest, ".")
			switch loc {
			case "path", "querystring", "header", "multivaluequerystring", "multivalueheader":
				if ok && name != "" {
					return paramSource{kind: srcRequest, loc: loc, name: name}, nil
				}
			}
		}
	} else {
		if src == "integration.response.body" {
			return paramSource{kind: srcRespBody}, nil
		}
		if expr, ok := strings.CutPrefix(src, "integration.response.body."); ok {
			t, err := bodyPathTemplate(expr)
			return paramSource{kind: srcRespBody, path: t}, err
		}
		for _, loc := range []string{"header", "multivalueheader"} {
			if name, ok := strings.CutPrefix(src, "integration.response."+loc+"."); ok && name != "" {
				return paramSource{kind: srcRespHeader, loc: loc, name: name}, nil
			}
		}
	}
	return paramSource{}, fmt.Errorf("invalid mapping expression %q", src)
}

// bodyPathTemplate turns the JSONPath of "….body.a.b" into a template that prints the value
// there as JSON, so the mapping engine's JSONPath (Jayway's dialect) reads it.
func bodyPathTemplate(expr string) (*mapping.Template, error) {
	if expr == "" || strings.ContainsAny(expr, "'\r\n") {
		return nil, fmt.Errorf("invalid JSONPath %q", expr)
	}
	sep := "."
	if expr[0] == '[' {
		sep = ""
	}
	return mapping.Parse("body."+expr, "$input.json('$"+sep+expr+"')")
}
