package gatewayapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/localpipe/localpipe/gateway"
	"github.com/localpipe/localpipe/internal/awsjson"
	"github.com/localpipe/localpipe/mapping"
)

// call is one invoke request on its way through the gateway.
type call struct {
	s     *Server
	w     http.ResponseWriter
	r     *http.Request
	start time.Time

	requestID, extendedID string
	apiID                 string // as the invoke URL names it, for Options.Observe

	d          *gateway.DeploymentPlan
	stage      gateway.Stage
	stageName  string
	path       string // escaped path below the stage
	p          *gateway.MethodPlan
	pathParams map[string]string // percent-decoded, for parameter mappings and back-end URIs
	// rawPathParams are the path parameters as sent, still percent-encoded: API Gateway gives
	// REST API templates and Lambda proxy events the undecoded value (TestPathParamsReachTemplatesUndecoded).
	rawPathParams map[string]string
	// params are built by paramsFor when a template first reads them, once paramsReady:
	// a gateway response sent before the request is read that far sees none.
	params      *mapping.Params
	paramsReady bool
	body        []byte
	key         *APIKey
	test        *testInvoke // set for TestInvokeMethod, whose deployment d is its own

	ctx map[string]any // $context, built on first use

	authorizer map[string]any // $context.authorizer: a Lambda authorizer's principalId and context
	usageKey   string         // the authorizer's usageIdentifierKey, for API key source AUTHORIZER

	status             int
	integrationLatency time.Duration
	called             bool // the integration was called (IntegrationLatency applies)

	rendered          []byte // the integration request body, for Options.Observe
	integrationStatus int
}

// ServeHTTP answers an invoke request as API Gateway would.
//
// The checks run in API Gateway's order, each failure a gateway response (customisable by
// API.GatewayResponses): an unknown API, stage, resource or method is 403 Missing
// Authentication Token; a payload over MaxPayloadSize 413; a missing or unknown x-api-key
// on a method that requires one 403 Forbidden; the request validator's failures 400. Then
// the request is mapped (content handling, template chosen by Content-Type under the
// passthrough behaviour, or 415; request parameters), the back end called within
// timeoutInMillis (else 504), and its answer mapped through the integration response its
// status code selects. Every response carries x-amzn-RequestId ($context.requestId) and
// x-amz-apigw-id ($context.extendedRequestId).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := &call{s: s, w: w, r: r, start: s.now(), requestID: awsjson.NewRequestID(), extendedID: newExtendedID()}
	q.serve()
	s.metrics.observe(q)
	q.observe()
}

// explain tells the request log, if there is one, the resource matched and why a request
// was refused: API Gateway's own answer says only "Missing Authentication Token".
func (q *call) explain(resource, reason string) {
	if n := awsjson.NoteFrom(q.r.Context()); n != nil {
		n.Resource, n.Reason = resource, reason
	}
}

func (q *call) serve() {
	apiID, stage, path, _ := InvokeTarget(q.r)
	q.apiID, q.stageName, q.path = apiID, stage, path
	if q.test == nil {
		q.d = q.s.deploymentAt(apiID, stage)
	}
	if q.d == nil {
		q.explain("", "no such API")
		if q.s.hasAPI(apiID) {
			q.explain("", "no such stage")
		}
		q.gatewayError(errMissingToken)
		return
	}
	st, ok := q.d.Stages[stage]
	if !ok {
		q.explain("", "no such stage")
		q.gatewayError(errMissingToken)
		return
	}
	q.stage = st
	if q.r.ContentLength > MaxPayloadSize {
		q.gatewayError(errTooLarge)
		return
	}
	m, res, rawPathParams, ok := q.d.API.MatchRaw(q.r.Method, path)
	if !ok {
		if res != nil {
			q.explain(res.Path, "no such method")
		} else {
			q.explain("", "no such resource")
		}
		q.gatewayError(errMissingToken)
		return
	}
	q.p = q.d.Plans[m]
	if q.p == nil {
		// Deploy compiles every method; a method added after Deploy is not deployed.
		q.explain(res.Path, "method not deployed")
		q.gatewayError(errMissingToken)
		return
	}
	q.explain(res.Path, "")
	q.rawPathParams = rawPathParams
	if rawPathParams != nil {
		q.pathParams = make(map[string]string, len(rawPathParams))
		for k, v := range rawPathParams {
			q.pathParams[k] = gateway.UnescapePath(v)
		}
	}
	if q.r.Body != nil {
		body, err := awsjson.ReadBody(q.r, MaxPayloadSize)
		if err != nil {
			q.s.log.Info("gateway: reading the request body failed", "requestId", q.requestID, "err", err)
			q.gatewayError(gwError{typ: "BAD_REQUEST_BODY", status: 400, message: "Invalid request body", errorType: "BadRequestException"})
			return
		}
		if int64(len(body)) > MaxPayloadSize {
			q.gatewayError(errTooLarge)
			return
		}
		q.body = body
	}
	q.paramsReady = true

	if q.p.Auth != nil && q.test == nil && !q.authorize() {
		return
	}
	if e, refused := q.admit(q.apiKeyValue()); refused {
		q.gatewayError(e)
		return
	}
	if e, bad := q.validate(); bad {
		q.gatewayError(e)
		return
	}
	if q.injectFault() {
		return
	}
	switch q.p.Kind {
	case gateway.BackendAWS:
		q.serveAWS()
	case gateway.BackendLambda:
		q.serveLambdaAWS()
	case gateway.BackendLambdaProxy:
		q.serveLambdaProxy()
	case gateway.BackendMock:
		q.serveMock()
	case gateway.BackendHTTP:
		q.serveHTTP()
	case gateway.BackendHTTPProxy:
		q.serveHTTPProxy()
	}
}

// requestParams gathers the method request parameters. A query string parameter or header
// sent more than once gives its last value, as API Gateway's $input.params() does; the
// multivalue* parameter mappings (requestSource) give them all.
func (q *call) requestParams() mapping.Params {
	p := mapping.Params{Path: q.rawPathParams}
	if q.r.URL.RawQuery != "" {
		vals, _ := url.ParseQuery(q.r.URL.RawQuery)
		p.QueryString = make(map[string]string, len(vals))
		for k, v := range vals {
			p.QueryString[k] = v[len(v)-1]
		}
	}
	// Header names as the client spelled them, Host included, as API Gateway gives them
	// (net/http canonicalises names and moves Host out of the map).
	names := headerNames(q.r)
	p.Header = make(map[string]string, len(q.r.Header)+1)
	for k, v := range q.r.Header {
		if len(v) > 0 {
			p.Header[rawName(names, k)] = v[len(v)-1]
		}
	}
	if q.r.Host != "" {
		p.Header[rawName(names, "Host")] = q.r.Host
	}
	return p
}

func rawName(names map[string]string, canonical string) string {
	if n, ok := names[canonical]; ok {
		return n
	}
	return canonical
}

// context returns $context as API Gateway fills it for a template (aws-semantics.md A.2).
func (q *call) context() map[string]any {
	if q.ctx != nil {
		return q.ctx
	}
	ctx := make(map[string]any, len(contextNames)+1)
	for _, k := range contextNames {
		if v, ok := q.contextVar(k); ok {
			ctx[k] = v
		}
	}
	q.ctx = ctx
	return ctx
}

// contextNames are the $context variables a template can read (aws-semantics.md A.2), less
// those that are always null here (awsEndpointRequestId, wafResponseCode, …):
// a template reads an absent variable exactly as a null one.
var contextNames = []string{"accountId", "authorizer", "apiId", "domainName", "domainPrefix", "extendedRequestId", "httpMethod",
	"identity", "path", "protocol", "requestId", "requestTime", "requestTimeEpoch", "resourceId", "resourcePath", "stage"}

// contextVar computes one top-level $context variable.
func (q *call) contextVar(name string) (any, bool) {
	r := q.r
	switch name {
	case "accountId":
		return q.s.opts.AccountID, true
	case "authorizer":
		if q.authorizer != nil {
			return q.authorizer, true
		}
	case "apiId":
		if q.d != nil {
			return q.d.API.ID, true
		}
	case "domainName":
		return r.Host, true
	case "domainPrefix":
		prefix, _, _ := strings.Cut(r.Host, ".")
		return prefix, true
	case "extendedRequestId":
		return q.extendedID, true
	case "httpMethod":
		return r.Method, true
	case "identity":
		ip := r.RemoteAddr
		if h, _, err := net.SplitHostPort(ip); err == nil {
			ip = h
		}
		identity := map[string]any{"sourceIp": ip}
		if ua := r.UserAgent(); ua != "" {
			identity["userAgent"] = ua
		}
		if q.key != nil {
			identity["apiKey"], identity["apiKeyId"] = q.key.Value, q.key.ID
		}
		return identity, true
	case "path":
		return "/" + q.stageName + q.path, true
	case "protocol":
		return r.Proto, true
	case "requestId":
		return q.requestID, true
	case "requestTime":
		return q.start.UTC().Format("02/Jan/2006:15:04:05 -0700"), true
	case "requestTimeEpoch":
		return q.start.UnixMilli(), true
	case "resourceId":
		if q.p != nil {
			return q.p.Resource.ID, true
		}
	case "resourcePath":
		if q.p != nil {
			return q.p.Resource.Path, true
		}
	case "stage":
		return q.stageName, true
	case "error":
		if q.ctx != nil {
			v, ok := q.ctx["error"]
			return v, ok
		}
	}
	return nil, false
}

// contextValue reads "identity.sourceIp" and the like from $context for a parameter mapping.
func (q *call) contextValue(path string) (string, bool) {
	var v any = q.context()
	for _, part := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return "", false
		}
		if v, ok = m[part]; !ok || v == nil {
			return "", false
		}
	}
	switch v := v.(type) {
	case string:
		return v, true
	case int64:
		return strconv.FormatInt(v, 10), true
	case map[string]any:
		return "", false
	}
	return "", false
}

// input is the input of template t for the method request.
func (q *call) input(t *gateway.CompiledTemplate, body []byte) *mapping.Input {
	return &mapping.Input{Body: body, Params: q.paramsFor(t), Context: q.contextFor(t), StageVariables: q.stage.Variables,
		NoOverrides: readsOnlyContextVars(t)}
}

// readsOnlyContextVars reports whether t reads $context only as $context.name with names of
// contextNames, so that it can neither see nor set the override maps.
func readsOnlyContextVars(t *gateway.CompiledTemplate) bool {
	if t.Needs == nil {
		return false
	}
	for _, k := range t.Needs {
		if !slices.Contains(contextNames, k) {
			return false
		}
	}
	return true
}

// paramsFor returns the method request parameters for template t: none for a template that
// cannot read them, which spares most requests copying every header.
func (q *call) paramsFor(t *gateway.CompiledTemplate) mapping.Params {
	if !t.ReadsParams || !q.paramsReady {
		return mapping.Params{}
	}
	if q.params == nil {
		p := q.requestParams()
		q.params = &p
	}
	return *q.params
}

// contextFor returns $context with only what t reads.
func (q *call) contextFor(t *gateway.CompiledTemplate) map[string]any {
	if t.Needs == nil {
		return q.context()
	}
	out := make(map[string]any, len(t.Needs))
	for _, k := range t.Needs {
		if v, ok := q.contextVar(k); ok {
			out[k] = v
		}
	}
	return out
}

// requestMediaType is the request's Content-Type without parameters, lower case;
// application/json when there is none (A.6).
func (q *call) requestMediaType() string {
	return mediaType(q.r.Header.Get("Content-Type"), "application/json")
}

func mediaType(v, def string) string {
	if v == "" {
		return def
	}
	if isPlainMediaType(v) {
		return v // the common case, "application/json", costs nothing
	}
	if mt, _, err := mime.ParseMediaType(v); err == nil {
		return mt
	}
	mt, _, _ := strings.Cut(v, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	if mt == "" {
		return def
	}
	return mt
}

// isPlainMediaType reports whether v is a lower-case type/subtype with no parameters or spaces.
func isPlainMediaType(v string) bool {
	slash := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '.', c == '+', c == '_', c == '*':
		case c == '/' && !slash && i > 0 && i < len(v)-1:
			slash = true
		default:
			return false
		}
	}
	return slash
}

// integrationRequest is what a back end receives.
type integrationRequest struct {
	body     []byte
	header   http.Header
	query    url.Values
	path     map[string]string
	template *gateway.CompiledTemplate // the request template used; nil for passthrough
	mt       string                    // the method request's media type
	greedy   []string                  // path parameters that hold a greedy {name+} value
}

// queryValues and pathValues return ir.query and ir.path, made on first use: most
// integrations map neither, and reading a nil map is fine.
func (ir *integrationRequest) queryValues() url.Values {
	if ir.query == nil {
		ir.query = url.Values{}
	}
	return ir.query
}

func (ir *integrationRequest) pathValues() map[string]string {
	if ir.path == nil {
		ir.path = map[string]string{}
	}
	return ir.path
}

// isGreedy reports whether name is the method's greedy path variable, whose value keeps its
// slashes when it is put into an integration URL.
func (q *call) isGreedy(name string) bool {
	for r := q.p.Resource; r != nil; r = r.Parent() {
		if r.Greedy() && r.Param() == name {
			return true
		}
	}
	return false
}

// mapRequest applies the content handling, the request template and the request parameters
// (aws-semantics.md A.6). ok false means a gateway response has been sent.
func (q *call) mapRequest() (*integrationRequest, bool) {
	p := q.p
	ir := &integrationRequest{header: http.Header{}, mt: q.requestMediaType()}
	body := q.body
	binary := q.d.IsBinary(ir.mt)
	switch p.Integration.ContentHandling {
	case gateway.ConvertToText:
		if binary {
			body = []byte(base64.StdEncoding.EncodeToString(body))
			binary = false
		}
	case gateway.ConvertToBinary:
		if !binary {
			dec, err := base64.StdEncoding.DecodeString(string(body))
			if err != nil {
				q.s.log.Warn("gateway: CONVERT_TO_BINARY: the request body is not base64", "requestId", q.requestID, "method", p.Where)
				q.gatewayError(errInternal)
				return nil, false
			}
			body = dec
			binary = true
		}
	}
	var over *mapping.Overrides
	if p.Kind != gateway.BackendHTTPProxy {
		t, found := p.RequestTemplates[ir.mt]
		switch {
		case binary && p.Integration.ContentHandling == "":
			// A binary payload that is not converted to text passes through untouched
			// (unverified: from the content type conversion table of the developer guide).
		case found && t != nil:
			out, o, err := t.Render(q.input(t, body))
			if err != nil {
				q.s.log.Warn("gateway: rendering the request template failed", "requestId", q.requestID,
					"method", p.Where, "template", t.Name(), "err", err)
				var be *mapping.BodyError
				if errors.As(err, &be) {
					// API Gateway's answer when a template reads a body that is not JSON
					// (widely reported; the gateway response type is unverified).
					q.gatewayError(gwError{typ: "BAD_REQUEST_BODY", status: 400, message: be.Error(), errorType: "BadRequestException"})
					return nil, false
				}
				q.gatewayError(errInternal)
				return nil, false
			}
			body, over, ir.template = out, o, t
		case found:
			// An empty template: the payload passes through.
		case len(p.RequestTemplates) == 0 && p.Integration.PassthroughBehavior != gateway.PassthroughNever:
		case p.Integration.PassthroughBehavior == gateway.PassthroughWhenNoMatch || p.Integration.PassthroughBehavior == "":
		default:
			q.gatewayError(errUnsupportedMediaType)
			return nil, false
		}
	}
	ir.body = body
	defer q.noteIntegrationRequest(ir)
	for _, pm := range p.RequestParams {
		vals, ok := q.requestSource(pm.Src)
		if !ok {
			continue
		}
		switch pm.Loc {
		case "header":
			ir.header.Set(pm.Dst, vals[len(vals)-1])
		case "multivalueheader":
			ir.header.Del(pm.Dst)
			for _, v := range vals {
				ir.header.Add(pm.Dst, v)
			}
		case "querystring":
			ir.queryValues().Set(pm.Dst, vals[len(vals)-1])
		case "multivaluequerystring":
			ir.queryValues()[pm.Dst] = vals
		case "path":
			ir.pathValues()[pm.Dst] = vals[len(vals)-1]
			if pm.Src.Kind == gateway.SrcRequest && pm.Src.Loc == "path" && q.isGreedy(pm.Src.Name) {
				ir.greedy = append(ir.greedy, pm.Dst)
			}
		}
	}
	if over != nil {
		for k, v := range over.RequestHeader {
			ir.header.Set(k, v)
		}
		for k, v := range over.RequestQuery {
			ir.queryValues().Set(k, v)
		}
		for k, v := range over.RequestPath {
			ir.pathValues()[k] = v
		}
	}
	q.rendered = ir.body
	return ir, true
}

// requestSource evaluates a source that reads the method request; ok false when the value
// is absent, in which case API Gateway leaves the destination unset.
func (q *call) requestSource(src gateway.ParamSource) ([]string, bool) {
	switch src.Kind {
	case gateway.SrcStatic:
		return []string{src.Name}, true
	case gateway.SrcContext:
		v, ok := q.contextValue(src.Name)
		return []string{v}, ok
	case gateway.SrcStageVar:
		v, ok := q.stage.Variables[src.Name]
		return []string{v}, ok
	case gateway.SrcRequestBody:
		if src.Path == nil {
			return []string{string(q.body)}, true
		}
		return bodyPath(src.Path, q.body)
	case gateway.SrcRequest:
		switch src.Loc {
		case "path":
			v, ok := q.pathParams[src.Name]
			return []string{v}, ok
		case "querystring", "multivaluequerystring":
			vals, ok := q.r.URL.Query()[src.Name]
			if !ok || len(vals) == 0 {
				return nil, false
			}
			if src.Loc == "querystring" {
				return vals[len(vals)-1:], true
			}
			return vals, true
		case "header", "multivalueheader":
			vals := q.r.Header.Values(src.Name)
			if len(vals) == 0 {
				return nil, false
			}
			if src.Loc == "header" {
				return vals[len(vals)-1:], true
			}
			return vals, true
		}
	}
	return nil, false
}

// bodyPath evaluates a body.JSONPath mapping: a JSON string gives its text, anything else its
// JSON; a missing value gives nothing.
func bodyPath(t *mapping.Template, body []byte) ([]string, bool) {
	var out bytes.Buffer
	if _, err := t.Execute(&out, &mapping.Input{Body: body}); err != nil {
		return nil, false
	}
	s := out.String()
	if s == `""` || s == "" {
		return nil, false
	}
	if s[0] == '"' {
		if u, err := strconv.Unquote(s); err == nil {
			return []string{u}, true
		}
		return []string{strings.Trim(s, `"`)}, true
	}
	return []string{s}, true
}

// newExtendedID returns an id shaped like API Gateway's extendedRequestId and x-amz-apigw-id
// ("BQGojGcNjoEFZmQ=": 11 bytes in base64; the shape is unverified).
func newExtendedID() string {
	var b [11]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// withTimeout bounds an integration call by the integration's timeoutInMillis.
func (q *call) withTimeout() (context.Context, context.CancelFunc) {
	return context.WithTimeout(q.r.Context(), time.Duration(q.p.TimeoutMillis)*time.Millisecond)
}
