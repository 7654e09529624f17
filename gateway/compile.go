package gateway

import (
	"errors"
	"fmt"
	"github.com/localpipe/localpipe/internal/lazyre"
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

// DeploymentPlan is an API compiled for serving: every template parsed, every pattern and model
// compiled. It is immutable once built, so requests read it without locks.
type DeploymentPlan struct {
	API              *API
	Stages           map[string]Stage
	Plans            map[*Method]*MethodPlan
	GatewayResponses map[string]*CompiledGatewayResponse
	Series           sync.Map // the serving layer's metric series by stage and method, looked up once per deployment

	Created      time.Time // when Deploy ran: createdDate for the control plane
	DeploymentID string
}

// BackendKind is the kind of back end a method plan calls.
type BackendKind int

const (
	BackendAWS         BackendKind = iota
	BackendLambda                  // AWS integration of a Lambda function: mapped like any AWS integration
	BackendLambdaProxy             // AWS_PROXY: the proxy event in, the function's answer out
	BackendMock
	BackendHTTP
	BackendHTTPProxy
)

// MethodPlan is one method compiled.
type MethodPlan struct {
	Where       string // "POST /stream", for errors and logs
	Method      *Method
	Resource    *Resource
	Integration *Integration
	Kind        BackendKind

	Service, Action, Region string // AWS integrations
	Function                string // Lambda integrations: the function ARN, maybe with ${stageVariables.x}

	RequestTemplates map[string]*CompiledTemplate // by lower-case media type; nil value: empty template
	RequestParams    []ParamMapping

	Responses []*CompiledResponse // non-default, ordered by selection pattern
	Fallback  *CompiledResponse   // the "default" response

	Auth *CompiledAuthorizer // nil when the method has no authorizer

	ValidateParams bool
	Required       []string                      // required "method.request.{loc}.name" keys
	BodyModels     map[string]*jsonschema.Schema // by lower-case media type, when the body is validated
	BodyModelNames map[string]string             // for logs
	TimeoutMillis  int
}

// ParamMapping is one requestParameters or responseParameters entry compiled.
type ParamMapping struct {
	Dst   string // header, querystring or path name (request); header name (response)
	Loc   string // "header", "querystring", "path", "multivalueheader", "multivaluequerystring"
	Src   ParamSource
	Order string // the full destination key, to apply mappings in a stable order
}

// SourceKind is where a mapped parameter's value comes from.
type SourceKind int

const (
	SrcStatic SourceKind = iota
	SrcContext
	SrcStageVar
	SrcRequest     // method.request.{path,querystring,header,multivalue*}.X
	SrcRequestBody // method.request.body[.path]
	SrcRespHeader  // integration.response.header.X / multivalueheader.X
	SrcRespBody    // integration.response.body[.path]
)

// ParamSource is the right-hand side of a parameter mapping, compiled.
type ParamSource struct {
	Kind SourceKind
	Loc  string // for SrcRequest: path, querystring, header, multivaluequerystring, multivalueheader
	Name string // static value, context path, variable, parameter or header name
	Path *mapping.Template
}

// CompiledResponse is an integration response compiled.
type CompiledResponse struct {
	IntegrationResponse IntegrationResponse
	Status              int
	Pattern             *regexp.Regexp
	Params              []ParamMapping
	Templates           map[string]*CompiledTemplate // by lower-case media type; nil value: empty template
	Order               []string                     // template keys, sorted, for "the first template"
}

// CompiledGatewayResponse is an API's customisation of one gateway response type.
type CompiledGatewayResponse struct {
	Status    int // 0: the type's default
	Params    []ParamMapping
	Templates map[string]*CompiledTemplate
	Order     []string
}

// CompileDeployment compiles api for serving at stages. It fails on what API Gateway's
// CreateDeployment refuses: a template, pattern, mapping or model that does not compile.
func CompileDeployment(api *API, stages []Stage) (*DeploymentPlan, error) {
	if api == nil || api.root == nil {
		return nil, errors.New("gateway: no API to deploy (build it with ImportOpenAPI or NewAPI)")
	}
	if !ValidID(api.ID) {
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
	d := &DeploymentPlan{API: api, Stages: map[string]Stage{}, Plans: map[*Method]*MethodPlan{}, GatewayResponses: map[string]*CompiledGatewayResponse{}}
	for _, st := range stages {
		if !stageNameRe.MatchString(st.Name) {
			fail("stage "+strconv.Quote(st.Name), "a stage name holds 1 to 128 letters, digits, '-' and '_'")
			continue
		}
		if _, dup := d.Stages[st.Name]; dup {
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
		d.Stages[st.Name] = st
	}
	src := api.APIKeySource
	if src != "" && src != APIKeySourceHeader && src != APIKeySourceAuthorizer {
		fail("x-amazon-apigateway-api-key-source", "unknown value %q", src)
	}
	auths := map[string]*CompiledAuthorizer{}
	for _, name := range sortedKeys(api.Authorizers) {
		ca, err := CompileAuthorizer(api.Authorizers[name])
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
			var auth *CompiledAuthorizer
			if m.Authorizer != "" {
				if auth = auths[m.Authorizer]; auth == nil && api.Authorizers[m.Authorizer] == nil {
					fail(where, "the method's authorizer %q is not defined", m.Authorizer)
				}
			}
			if m.APIKeyRequired && src == APIKeySourceAuthorizer && (auth == nil || auth.Cognito) {
				fail(where, "the API reads API keys from an authorizer (x-amazon-apigateway-api-key-source AUTHORIZER), and the method has no Lambda authorizer to give one")
			}
			p, perrs := CompilePlan(api, res, m, where)
			errs = append(errs, perrs...)
			if p != nil {
				p.Auth = auth
				d.Plans[m] = p
			}
		}
	}
	for _, typ := range sortedKeys(api.GatewayResponses) {
		if !isGatewayResponseType(typ) {
			fail("x-amazon-apigateway-gateway-responses: "+typ, "not a gateway response type")
			continue
		}
		g, gerrs := CompileGatewayResponse("x-amazon-apigateway-gateway-responses: "+typ, api.GatewayResponses[typ])
		errs = append(errs, gerrs...)
		d.GatewayResponses[typ] = g
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

// CompilePlan compiles method m of resource res; where names it in errors ("POST /stream").
func CompilePlan(api *API, res *Resource, m *Method, where string) (*MethodPlan, []error) {
	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", where, fmt.Sprintf(format, args...)))
	}
	in := m.Integration
	if in == nil {
		fail("the method has no integration (x-amazon-apigateway-integration); API Gateway does not deploy such a method")
		return nil, errs
	}
	p := &MethodPlan{Where: where, Method: m, Resource: res, Integration: in, TimeoutMillis: in.TimeoutInMillis}
	if p.TimeoutMillis == 0 {
		p.TimeoutMillis = DefaultTimeoutMillis
	}
	if p.TimeoutMillis < MinTimeoutMillis || p.TimeoutMillis > MaxTimeoutMillis {
		fail("timeoutInMillis %d is outside %d to %d", p.TimeoutMillis, MinTimeoutMillis, MaxTimeoutMillis)
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
			fn, err := LambdaFunction(in.URI)
			if err != nil {
				fail("%v", err)
				break
			}
			p.Kind, p.Function = BackendLambda, fn
			if in.Type == IntegrationAWSProxy {
				p.Kind = BackendLambdaProxy
			}
		case u.Kind != "action":
			fail("integration uri %q: localpipe calls AWS services by action (arn:aws:apigateway:REGION:kinesis:action/ACTION), not by path", in.URI)
		case u.Service != "kinesis" && u.Service != "firehose":
			fail("integration uri %q: localpipe emulates only kinesis and firehose, not %s", in.URI, u.Service)
		default:
			p.Kind, p.Service, p.Action, p.Region = BackendAWS, u.Service, u.Target, u.Region
		}
	case IntegrationMock:
		p.Kind = BackendMock
	case IntegrationHTTP, IntegrationHTTPProxy:
		p.Kind = BackendHTTP
		if in.Type == IntegrationHTTPProxy {
			p.Kind = BackendHTTPProxy
		}
		u, err := url.Parse(StageVarRef.ReplaceAllString(in.URI, "0"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			fail("integration uri %q is not an http or https URL", in.URI)
		}
	default:
		fail("unknown integration type %q", in.Type)
	}
	if p.Kind != BackendHTTPProxy && p.Kind != BackendLambdaProxy {
		tm, terrs := CompileTemplates(where+": requestTemplates", in.RequestTemplates)
		errs = append(errs, terrs...)
		p.RequestTemplates = tm
	}
	for _, dst := range sortedKeys(in.RequestParameters) {
		pm, err := CompileRequestParam(dst, in.RequestParameters[dst])
		if err != nil {
			fail("requestParameters %q: %v", dst, err)
			continue
		}
		p.RequestParams = append(p.RequestParams, pm)
	}
	if p.Kind != BackendHTTPProxy && p.Kind != BackendLambdaProxy {
		for _, key := range sortedKeys(in.Responses) {
			cr, rerrs := CompileResponse(fmt.Sprintf("%s: integration response %q", where, key), in.Responses[key])
			errs = append(errs, rerrs...)
			if cr == nil {
				continue
			}
			if key == "default" || cr.IntegrationResponse.SelectionPattern == "" {
				p.Fallback = cr
			} else {
				p.Responses = append(p.Responses, cr)
			}
		}
	}
	if m.RequestValidator != "" {
		v, ok := api.RequestValidators[m.RequestValidator]
		if !ok {
			fail("request validator %q is not defined in x-amazon-apigateway-request-validators", m.RequestValidator)
		}
		p.ValidateParams = v.ValidateRequestParameters
		if v.ValidateRequestParameters {
			for _, k := range sortedKeys(m.RequestParameters) {
				if m.RequestParameters[k] {
					p.Required = append(p.Required, k)
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
				if p.BodyModels == nil {
					p.BodyModels = map[string]*jsonschema.Schema{}
					p.BodyModelNames = map[string]string{}
				}
				p.BodyModels[strings.ToLower(ct)] = s
				p.BodyModelNames[strings.ToLower(ct)] = name
			}
		}
	}
	return p, errs
}

// CompileTemplates parses a requestTemplates or responseTemplates map. An empty template is
// kept as a nil entry: it selects the content type but passes the payload through.
func CompileTemplates(where string, src map[string]string) (map[string]*CompiledTemplate, []error) {
	if len(src) == 0 {
		return nil, nil
	}
	var errs []error
	out := make(map[string]*CompiledTemplate, len(src))
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

// CompiledTemplate is a parsed mapping template and the $context variables it reads.
type CompiledTemplate struct {
	*mapping.Template
	// needs lists the top-level $context names the source reads, or is nil when it may
	// read any (it names $context other than as $context.name).
	Needs []string
	// ReadsParams is false when the source cannot reach $input.params: a template names
	// every method it calls, so one without "params" in it never does.
	ReadsParams bool
}

var (
	contextRef     = lazyre.New(`\$!?\{?context\b`)
	contextNameRef = lazyre.New(`\$!?\{?context\.([A-Za-z_][A-Za-z0-9_]*)`)
)

// newTemplate works out which $context variables src reads, so a request builds only those:
// converting the whole $context is most of the cost of rendering a small template.
func newTemplate(t *mapping.Template, src string) *CompiledTemplate {
	all := contextRef.FindAllStringIndex(src, -1)
	named := contextNameRef.FindAllStringSubmatch(src, -1)
	tm := &CompiledTemplate{Template: t, ReadsParams: strings.Contains(src, "params")}
	if len(all) != len(named) {
		return tm
	}
	tm.Needs = []string{}
	for _, m := range named {
		if !slices.Contains(tm.Needs, m[1]) {
			tm.Needs = append(tm.Needs, m[1])
		}
	}
	return tm
}

// CompileResponse compiles an integration response.
func CompileResponse(where string, ir IntegrationResponse) (*CompiledResponse, []error) {
	var errs []error
	cr := &CompiledResponse{IntegrationResponse: ir}
	n, err := strconv.Atoi(ir.StatusCode)
	if err != nil || n < 100 || n > 599 {
		errs = append(errs, fmt.Errorf("%s: statusCode %q is not an HTTP status code", where, ir.StatusCode))
	}
	cr.Status = n
	if ir.SelectionPattern != "" {
		re, err := compileSelectionPattern(ir.SelectionPattern)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: selection pattern: %v", where, err))
		}
		cr.Pattern = re
	}
	for _, dst := range sortedKeys(ir.ResponseParameters) {
		pm, err := compileResponseParam(dst, ir.ResponseParameters[dst], "method.response.header.", false)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: responseParameters %q: %v", where, dst, err))
			continue
		}
		cr.Params = append(cr.Params, pm)
	}
	tm, terrs := CompileTemplates(where+": responseTemplates", ir.ResponseTemplates)
	errs = append(errs, terrs...)
	cr.Templates, cr.Order = tm, sortedKeys(tm)
	if len(errs) > 0 {
		return nil, errs
	}
	return cr, nil
}

// CompileGatewayResponse compiles an API's customisation of a gateway response.
func CompileGatewayResponse(where string, g GatewayResponse) (*CompiledGatewayResponse, []error) {
	var errs []error
	out := &CompiledGatewayResponse{}
	if g.StatusCode != "" {
		n, err := strconv.Atoi(g.StatusCode)
		if err != nil || n < 100 || n > 599 {
			errs = append(errs, fmt.Errorf("%s: statusCode %q is not an HTTP status code", where, g.StatusCode))
		}
		out.Status = n
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
		out.Params = append(out.Params, pm)
	}
	tm, terrs := CompileTemplates(where+": responseTemplates", g.ResponseTemplates)
	errs = append(errs, terrs...)
	out.Templates, out.Order = tm, sortedKeys(tm)
	return out, errs
}

// CompileRequestParam compiles "integration.request.{loc}.name" ← source.
func CompileRequestParam(dst, src string) (ParamMapping, error) {
	rest, ok := strings.CutPrefix(dst, "integration.request.")
	if !ok {
		return ParamMapping{}, errors.New("the destination must be integration.request.{header|querystring|path}.NAME")
	}
	loc, name, ok := strings.Cut(rest, ".")
	switch {
	case !ok || name == "":
		return ParamMapping{}, errors.New("the destination must be integration.request.{header|querystring|path}.NAME")
	case loc != "header" && loc != "querystring" && loc != "path" && loc != "multivalueheader" && loc != "multivaluequerystring":
		return ParamMapping{}, fmt.Errorf("unknown destination %q", loc)
	}
	ps, err := compileSource(src, true)
	if err != nil {
		return ParamMapping{}, err
	}
	return ParamMapping{Dst: name, Loc: loc, Src: ps, Order: dst}, nil
}

// compileResponseParam compiles "{prefix}name" ← source for integration and gateway responses.
func compileResponseParam(dst, src, prefix string, gateway bool) (ParamMapping, error) {
	name, ok := strings.CutPrefix(dst, prefix)
	if !ok || name == "" {
		return ParamMapping{}, fmt.Errorf("the destination must be %sNAME", prefix)
	}
	ps, err := compileSource(src, gateway)
	if err != nil {
		return ParamMapping{}, err
	}
	if !gateway && (ps.Kind == SrcRequest || ps.Kind == SrcRequestBody) {
		return ParamMapping{}, fmt.Errorf("invalid mapping expression %q for a method response", src)
	}
	if gateway && (ps.Kind == SrcRespHeader || ps.Kind == SrcRespBody) {
		return ParamMapping{}, fmt.Errorf("invalid mapping expression %q for a gateway response", src)
	}
	return ParamMapping{Dst: name, Loc: "header", Src: ps, Order: dst}, nil
}

// compileSource compiles the right-hand side of a parameter mapping. request says whether the
// method request is the side being read (integration request and gateway responses) or the
// integration response.
func compileSource(src string, request bool) (ParamSource, error) {
	switch {
	case len(src) >= 2 && src[0] == '\'' && src[len(src)-1] == '\'':
		return ParamSource{Kind: SrcStatic, Name: src[1 : len(src)-1]}, nil
	case strings.HasPrefix(src, "context.") && len(src) > len("context."):
		return ParamSource{Kind: SrcContext, Name: src[len("context."):]}, nil
	case strings.HasPrefix(src, "stageVariables.") && len(src) > len("stageVariables."):
		return ParamSource{Kind: SrcStageVar, Name: src[len("stageVariables."):]}, nil
	}
	if request {
		if src == "method.request.body" {
			return ParamSource{Kind: SrcRequestBody}, nil
		}
		if expr, ok := strings.CutPrefix(src, "method.request.body."); ok {
			t, err := bodyPathTemplate(expr)
			return ParamSource{Kind: SrcRequestBody, Path: t}, err
		}
		if rest, ok := strings.CutPrefix(src, "method.request."); ok {
			loc, name, ok := strings.Cut(rest, ".")
			switch loc {
			case "path", "querystring", "header", "multivaluequerystring", "multivalueheader":
				if ok && name != "" {
					return ParamSource{Kind: SrcRequest, Loc: loc, Name: name}, nil
				}
			}
		}
	} else {
		if src == "integration.response.body" {
			return ParamSource{Kind: SrcRespBody}, nil
		}
		if expr, ok := strings.CutPrefix(src, "integration.response.body."); ok {
			t, err := bodyPathTemplate(expr)
			return ParamSource{Kind: SrcRespBody, Path: t}, err
		}
		for _, loc := range []string{"header", "multivalueheader"} {
			if name, ok := strings.CutPrefix(src, "integration.response."+loc+"."); ok && name != "" {
				return ParamSource{Kind: SrcRespHeader, Loc: loc, Name: name}, nil
			}
		}
	}
	return ParamSource{}, fmt.Errorf("invalid mapping expression %q", src)
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

// Stage is a deployment stage of an API with its stage variables.
type Stage struct {
	Name      string
	Variables map[string]string

	Throttles map[string]Throttle // from the stage's method settings, by "*/*" or "path/VERB"
}

// Throttle is a steady request rate and a burst (API Gateway's ThrottleSettings), as usage
// plans and stages' method settings give them.
type Throttle struct {
	BurstLimit int     `json:"burstLimit"`
	RateLimit  float64 `json:"rateLimit"`
}

// LambdaFunction returns the function of a Lambda integration or authorizer URI,
// arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function}/invocations.
func LambdaFunction(uri string) (string, error) {
	u, err := ParseAWSURI(uri)
	if err != nil {
		return "", err
	}
	fn, ok := strings.CutPrefix(u.Target, "2015-03-31/functions/")
	if ok {
		fn, ok = strings.CutSuffix(fn, "/invocations")
	}
	if u.Service != "lambda" || u.Kind != "path" || !ok || fn == "" {
		return "", fmt.Errorf("uri %q does not name a Lambda function: the form is arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function ARN}/invocations", uri)
	}
	return fn, nil
}

// StageVarRef finds the ${stageVariables.name} references API Gateway allows in integration URIs.
var StageVarRef = lazyre.New(`\$\{stageVariables\.([A-Za-z0-9_]+)\}`)

// SelectResponse returns the integration response whose selection pattern matches the
// status code, else the default one, else nil. Patterns are tried in key order; API Gateway
// does not document an order, so a document should not make two patterns match one status.
func (p *MethodPlan) SelectResponse(status int) *CompiledResponse {
	s := strconv.Itoa(status)
	for _, cr := range p.Responses {
		if cr.Pattern.MatchString(s) {
			return cr
		}
	}
	return p.Fallback
}

// IsBinary reports whether a media type is one of the API's binary media types.
func (d *DeploymentPlan) IsBinary(mt string) bool {
	for _, b := range d.API.BinaryMediaTypes {
		b = strings.ToLower(strings.TrimSpace(b))
		if b == mt || b == "*/*" {
			return true
		}
		if pre, ok := strings.CutSuffix(b, "/*"); ok && strings.HasPrefix(mt, pre+"/") {
			return true
		}
	}
	return false
}
