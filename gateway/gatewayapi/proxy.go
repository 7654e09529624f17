package gatewayapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/localpipe/localpipe/gateway"
	"github.com/localpipe/localpipe/internal/awsjson"
)

// FunctionResult is a function's answer as Lambda's Invoke gives it.
type FunctionResult struct {
	Payload []byte
	// FunctionError is Lambda's X-Amz-Function-Error ("Unhandled", "Handled"), set when the
	// function failed; Payload then holds its error document ({"errorMessage": …}).
	FunctionError string
}

// FunctionInvoker calls the function an integration or authorizer URI names (its ARN, as
// written, with stage variables resolved). An error that wraps ErrFunctionNotFound means no
// function of that name is declared; any other error means the call itself failed.
type FunctionInvoker func(ctx context.Context, function string, payload []byte) (FunctionResult, error)

// ErrFunctionNotFound is wrapped by a FunctionInvoker's error for a function it does not know.
var ErrFunctionNotFound = errors.New("no such function")

// functionName resolves the ${stageVariables.x} references API Gateway allows in a Lambda
// function ARN; ok is false when the stage does not define one.
func (q *call) functionName(fn string) (string, bool) {
	ok := true
	out := gateway.StageVarRef.ReplaceAllStringFunc(fn, func(m string) string {
		v, found := q.stage.Variables[m[len("${stageVariables."):len(m)-1]]
		ok = ok && found
		return v
	})
	return out, ok
}

// proxyRequest is the part of the Lambda proxy event (REST API, version 1.0) that a REQUEST
// authorizer's event shares. Empty maps are null, as API Gateway sends them.
type proxyRequest struct {
	Resource                        string              `json:"resource"`
	Path                            string              `json:"path"`
	HTTPMethod                      string              `json:"httpMethod"`
	Headers                         map[string]string   `json:"headers"`
	MultiValueHeaders               map[string][]string `json:"multiValueHeaders"`
	QueryStringParameters           map[string]string   `json:"queryStringParameters"`
	MultiValueQueryStringParameters map[string][]string `json:"multiValueQueryStringParameters"`
	PathParameters                  map[string]string   `json:"pathParameters"`
	StageVariables                  map[string]string   `json:"stageVariables"`
	RequestContext                  proxyContext        `json:"requestContext"`
}

type proxyEvent struct {
	proxyRequest
	Body            *string `json:"body"`
	IsBase64Encoded bool    `json:"isBase64Encoded"`
}

type proxyContext struct {
	ResourceID        string         `json:"resourceId"`
	Authorizer        map[string]any `json:"authorizer,omitempty"`
	ResourcePath      string         `json:"resourcePath"`
	HTTPMethod        string         `json:"httpMethod"`
	ExtendedRequestID string         `json:"extendedRequestId"`
	RequestTime       string         `json:"requestTime"`
	Path              string         `json:"path"`
	AccountID         string         `json:"accountId"`
	Protocol          string         `json:"protocol"`
	Stage             string         `json:"stage"`
	DomainPrefix      string         `json:"domainPrefix"`
	RequestTimeEpoch  int64          `json:"requestTimeEpoch"`
	RequestID         string         `json:"requestId"`
	Identity          proxyIdentity  `json:"identity"`
	DomainName        string         `json:"domainName"`
	APIID             string         `json:"apiId"`
}

// proxyIdentity lists the IAM and Cognito fields API Gateway always sends, null here:
// localpipe checks no signatures.
type proxyIdentity struct {
	CognitoIdentityPoolID         *string `json:"cognitoIdentityPoolId"`
	AccountID                     *string `json:"accountId"`
	CognitoIdentityID             *string `json:"cognitoIdentityId"`
	Caller                        *string `json:"caller"`
	APIKey                        *string `json:"apiKey,omitempty"`
	APIKeyID                      *string `json:"apiKeyId,omitempty"`
	SourceIP                      string  `json:"sourceIp"`
	PrincipalOrgID                *string `json:"principalOrgId"`
	AccessKey                     *string `json:"accessKey"`
	CognitoAuthenticationType     *string `json:"cognitoAuthenticationType"`
	CognitoAuthenticationProvider *string `json:"cognitoAuthenticationProvider"`
	UserArn                       *string `json:"userArn"`
	UserAgent                     *string `json:"userAgent"`
	User                          *string `json:"user"`
}

// proxyRequestFields builds what the proxy event and a REQUEST authorizer's event share.
func (q *call) proxyRequestFields() proxyRequest {
	r := q.r
	ev := proxyRequest{
		Resource:   q.p.Resource.Path,
		Path:       q.path,
		HTTPMethod: r.Method,
	}
	if len(r.Header) > 0 || r.Host != "" {
		names := headerNames(r)
		ev.Headers = make(map[string]string, len(r.Header)+1)
		ev.MultiValueHeaders = make(map[string][]string, len(r.Header)+1)
		if r.Host != "" {
			n := rawName(names, "Host")
			ev.Headers[n], ev.MultiValueHeaders[n] = r.Host, []string{r.Host}
		}
		for k, v := range r.Header {
			if len(v) == 0 {
				continue
			}
			n := rawName(names, k)
			ev.Headers[n], ev.MultiValueHeaders[n] = v[len(v)-1], append([]string(nil), v...)
		}
	}
	q.forwardedHeaders(&ev)
	if r.URL.RawQuery != "" {
		vals, _ := url.ParseQuery(r.URL.RawQuery)
		if len(vals) > 0 {
			ev.QueryStringParameters = make(map[string]string, len(vals))
			ev.MultiValueQueryStringParameters = make(map[string][]string, len(vals))
			for k, v := range vals {
				ev.QueryStringParameters[k], ev.MultiValueQueryStringParameters[k] = v[len(v)-1], v
			}
		}
	}
	if len(q.rawPathParams) > 0 {
		ev.PathParameters = q.rawPathParams
	}
	if len(q.stage.Variables) > 0 {
		ev.StageVariables = q.stage.Variables
	}
	ip := r.RemoteAddr
	if h, _, err := net.SplitHostPort(ip); err == nil {
		ip = h
	}
	id := proxyIdentity{SourceIP: ip}
	if ua := r.UserAgent(); ua != "" {
		id.UserAgent = &ua
	}
	if q.key != nil {
		id.APIKey, id.APIKeyID = &q.key.Value, &q.key.ID
	}
	prefix, _, _ := strings.Cut(r.Host, ".")
	ev.RequestContext = proxyContext{
		ResourceID: q.p.Resource.ID, ResourcePath: q.p.Resource.Path, HTTPMethod: r.Method, ExtendedRequestID: q.extendedID,
		RequestTime: q.start.UTC().Format("02/Jan/2006:15:04:05 -0700"), Path: "/" + q.stageName + q.path,
		AccountID: q.s.opts.AccountID, Protocol: r.Proto, Stage: q.stageName, DomainPrefix: prefix,
		RequestTimeEpoch: q.start.UnixMilli(), RequestID: q.requestID, Identity: id, DomainName: r.Host,
		APIID: q.d.API.ID, Authorizer: q.authorizer,
	}
	return ev
}

// forwardedHeaders adds the X-Forwarded-For, -Port and -Proto headers API Gateway's edge
// adds to what a function sees: the client's address appended to any X-Forwarded-For it
// sent, and the port and scheme it connected to.
func (q *call) forwardedHeaders(ev *proxyRequest) {
	r := q.r
	if ev.Headers == nil {
		ev.Headers, ev.MultiValueHeaders = map[string]string{}, map[string][]string{}
	}
	ip := r.RemoteAddr
	if h, _, err := net.SplitHostPort(ip); err == nil {
		ip = h
	}
	proto, port := "http", "80"
	if r.TLS != nil {
		proto, port = "https", "443"
	}
	if la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if _, p, err := net.SplitHostPort(la.String()); err == nil {
			port = p
		}
	}
	set := func(name, v string) {
		for k := range ev.Headers {
			if strings.EqualFold(k, name) {
				delete(ev.Headers, k)
				delete(ev.MultiValueHeaders, k)
			}
		}
		ev.Headers[name], ev.MultiValueHeaders[name] = v, []string{v}
	}
	if prior := r.Header.Values("X-Forwarded-For"); len(prior) > 0 {
		set("X-Forwarded-For", strings.Join(prior, ", ")+", "+ip)
	} else {
		set("X-Forwarded-For", ip)
	}
	set("X-Forwarded-Port", port)
	set("X-Forwarded-Proto", proto)
}

// proxyEvent is the event an AWS_PROXY integration's function receives. A body of a binary
// media type travels base64-encoded, any other as text; no body is null.
func (q *call) proxyEvent() proxyEvent {
	ev := proxyEvent{proxyRequest: q.proxyRequestFields()}
	if len(q.body) > 0 {
		var s string
		if q.d.IsBinary(q.requestMediaType()) {
			s, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(q.body), true
		} else {
			s = string(q.body)
		}
		ev.Body = &s
	}
	return ev
}

// marshalEvent encodes an event as Lambda receives it, without encoding/json's HTML escapes.
func marshalEvent(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Every field is a string, a number, a bool or a map of strings.
		panic(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// proxyResponse is a function's answer to a proxy event, checked.
type proxyResponse struct {
	statusCode        int
	headers           [][2]string // in key order, for a stable merge
	multiValueHeaders map[string][]string
	body              string
	isBase64Encoded   bool
}

// errMalformed is the reason API Gateway's execution log gives for an answer it cannot use.
const errMalformed = "Malformed Lambda proxy response"

// parseProxyResponse checks a proxy integration's answer: a JSON object with only the fields
// statusCode (required: an integer, or a string of one, 100 to 599), headers (string values),
// multiValueHeaders (lists of strings), body (a string) and isBase64Encoded (a bool); any of
// the optional ones may be null. Anything else is a malformed response, which API Gateway
// answers 502.
func parseProxyResponse(payload []byte) (*proxyResponse, error) {
	p := bytes.TrimSpace(payload)
	if len(p) == 0 || p[0] != '{' {
		return nil, errors.New("the response is not a JSON object")
	}
	var fields map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(p))
	if err := dec.Decode(&fields); err != nil {
		return nil, fmt.Errorf("the response is not valid JSON: %v", err)
	}
	if dec.More() {
		return nil, errors.New("the response has data after its JSON object")
	}
	out := &proxyResponse{}
	seenStatus := false
	for _, k := range sortedKeys(fields) {
		raw := fields[k]
		if string(raw) == "null" && k != "statusCode" {
			continue
		}
		switch k {
		case "statusCode":
			n, err := proxyStatus(raw)
			if err != nil {
				return nil, err
			}
			out.statusCode, seenStatus = n, true
		case "headers":
			var h map[string]any
			if err := json.Unmarshal(raw, &h); err != nil {
				return nil, errors.New("headers must be an object of strings")
			}
			for _, name := range sortedKeys(h) {
				v, ok := scalarText(h[name])
				if !ok {
					return nil, fmt.Errorf("header %q must be a string", name)
				}
				out.headers = append(out.headers, [2]string{name, v})
			}
		case "multiValueHeaders":
			var h map[string]any
			if err := json.Unmarshal(raw, &h); err != nil {
				return nil, errors.New("multiValueHeaders must be an object of lists of strings")
			}
			out.multiValueHeaders = make(map[string][]string, len(h))
			for name, v := range h {
				list, ok := v.([]any)
				if !ok {
					return nil, fmt.Errorf("multiValueHeaders %q must be a list of strings", name)
				}
				vals := make([]string, 0, len(list))
				for _, e := range list {
					s, ok := scalarText(e)
					if !ok {
						return nil, fmt.Errorf("multiValueHeaders %q must be a list of strings", name)
					}
					vals = append(vals, s)
				}
				out.multiValueHeaders[name] = vals
			}
		case "body":
			if err := json.Unmarshal(raw, &out.body); err != nil {
				return nil, errors.New("body must be a string (serialise a JSON body with JSON.stringify or json.dumps)")
			}
		case "isBase64Encoded":
			if err := json.Unmarshal(raw, &out.isBase64Encoded); err != nil {
				return nil, errors.New("isBase64Encoded must be a boolean")
			}
		default:
			return nil, fmt.Errorf("unexpected field %q: a proxy response has only statusCode, headers, multiValueHeaders, body and isBase64Encoded", k)
		}
	}
	if !seenStatus {
		return nil, errors.New("statusCode is missing")
	}
	return out, nil
}

func proxyStatus(raw json.RawMessage) (int, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return 0, errors.New("statusCode must be an integer")
	}
	var s string
	switch v := v.(type) {
	case json.Number:
		s = v.String()
	case string:
		s = strings.TrimSpace(v)
	default:
		return 0, errors.New("statusCode must be an integer")
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 100 || n > 599 {
		return 0, fmt.Errorf("statusCode %s is not an HTTP status code", raw)
	}
	return n, nil
}

// scalarText gives a header value: a string as it is, and, as API Gateway accepts them, a
// number or a boolean as its JSON text. Objects, lists and null are not header values.
func scalarText(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(v), true
	}
	return "", false
}

// droppedProxyHeaders are computed by the gateway, not taken from the function.
var droppedProxyHeaders = []string{"Content-Length", "Transfer-Encoding", "Connection"}

// header merges headers into multiValueHeaders as API Gateway does: a name in both gets the
// lists' values, plus a headers value the list does not already hold.
func (pr *proxyResponse) header() http.Header {
	h := http.Header{}
	canon := map[string]string{} // canonical → the function's spelling
	add := func(name, v string) {
		c := http.CanonicalHeaderKey(name)
		n, ok := canon[c]
		if !ok {
			n, canon[c] = name, name
		}
		h[n] = append(h[n], v)
	}
	names := make([]string, 0, len(pr.multiValueHeaders))
	for n := range pr.multiValueHeaders {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		for _, v := range pr.multiValueHeaders[n] {
			add(n, v)
		}
	}
	for _, kv := range pr.headers {
		if n, ok := canon[http.CanonicalHeaderKey(kv[0])]; ok && containsString(h[n], kv[1]) {
			continue
		}
		add(kv[0], kv[1])
	}
	for _, d := range droppedProxyHeaders {
		if n, ok := canon[d]; ok {
			delete(h, n)
		}
	}
	if n, ok := canon["Content-Type"]; ok && n != "Content-Type" {
		h["Content-Type"] = h[n] // respond looks for the canonical name
		delete(h, n)
	}
	return h
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// invokeFunction calls fn with payload within the integration's timeout. ok false means a
// gateway response has been sent: 500 for a function that is not declared or cannot be
// called, 504 at the timeout. The reason goes to the log and the request log.
func (q *call) invokeFunction(fn string, payload []byte, timeoutMillis int) (FunctionResult, bool) {
	res, took, f := q.callFunction(fn, payload, timeoutMillis)
	q.integrationLatency, q.called = took, true
	if f != nil {
		e := errInternal
		if f.timeout {
			e = errTimeout
		}
		q.fail(e, f.reason)
		return FunctionResult{}, false
	}
	return res, true
}

// callFailure says why a function could not give an answer.
type callFailure struct {
	timeout bool
	reason  string // in the words of API Gateway's execution log where it has them
}

// callFunction calls fn with payload within timeoutMillis.
func (q *call) callFunction(fn string, payload []byte, timeoutMillis int) (FunctionResult, time.Duration, *callFailure) {
	return q.callFunctionIn(q.r.Context(), fn, payload, timeoutMillis)
}

// callFunctionIn is callFunction under parent rather than the request's context.
func (q *call) callFunctionIn(parent context.Context, fn string, payload []byte, timeoutMillis int) (FunctionResult, time.Duration, *callFailure) {
	name, found := q.functionName(fn)
	if !found {
		return FunctionResult{}, 0, &callFailure{reason: "Execution failed due to configuration error: the function ARN " + fn + " names a stage variable the stage does not define"}
	}
	invoke := q.s.opts.Functions
	if invoke == nil {
		return FunctionResult{}, 0, &callFailure{reason: "Execution failed due to configuration error: no functions are configured, so " + name + " cannot be called (declare it under functions: in the config)"}
	}
	ctx, cancel := context.WithTimeout(parent, time.Duration(timeoutMillis)*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	res, err := invoke(ctx, name, payload)
	took := time.Since(t0)
	switch {
	case ctx.Err() == context.DeadlineExceeded && parent.Err() == nil:
		return FunctionResult{}, took, &callFailure{timeout: true, reason: fmt.Sprintf("Execution failed due to a timeout error: the function %s did not answer within %d ms", name, timeoutMillis)}
	case errors.Is(err, ErrFunctionNotFound):
		return FunctionResult{}, took, &callFailure{reason: "Execution failed due to configuration error: Function not found: " + name + " (declare it under functions: in the config)"}
	case err != nil:
		return FunctionResult{}, took, &callFailure{reason: "Execution failed due to configuration error: calling the function " + name + " failed: " + err.Error()}
	}
	return res, took, nil
}

// fail logs reason, puts it in the request log, and sends e.
func (q *call) fail(e gwError, reason string) {
	q.s.log.Warn("gateway: "+reason, "requestId", q.requestID, "method", q.p.Where)
	if n := awsjson.NoteFrom(q.r.Context()); n != nil {
		n.Reason = reason
	}
	q.gatewayError(e)
}

// errBadGateway is what a client sees for a function error or a malformed proxy response.
var errBadGateway = gwError{typ: "DEFAULT_5XX", status: 502, message: "Internal server error", errorType: "InternalServerErrorException"}

// serveLambdaProxy calls an AWS_PROXY integration's function with the proxy event and
// answers with what it returns.
func (q *call) serveLambdaProxy() {
	res, ok := q.invokeFunction(q.p.Function, marshalEvent(q.proxyEvent()), q.p.TimeoutMillis)
	if !ok {
		return
	}
	if res.FunctionError != "" {
		q.fail(errBadGateway, "Lambda execution failed with status 200 due to customer function error: "+functionErrorMessage(res.Payload))
		return
	}
	pr, err := parseProxyResponse(res.Payload)
	if err != nil {
		q.fail(errBadGateway, "Execution failed due to configuration error: "+errMalformed+": "+err.Error())
		return
	}
	h := pr.header()
	body := []byte(pr.body)
	if pr.isBase64Encoded && q.acceptsBinary(h.Get("Content-Type")) {
		dec, err := base64.StdEncoding.DecodeString(pr.body)
		if err != nil {
			q.fail(errBadGateway, "Execution failed due to configuration error: "+errMalformed+": isBase64Encoded is true and the body is not base64")
			return
		}
		body = dec
	}
	q.respond(pr.statusCode, h, body)
}

// acceptsBinary reports whether a base64 answer is sent decoded: when the request's Accept
// header, or failing that the response's Content-Type, is one of the binary media types.
func (q *call) acceptsBinary(contentType string) bool {
	if accept := q.r.Header.Get("Accept"); accept != "" {
		for part := range strings.SplitSeq(accept, ",") {
			if q.d.IsBinary(mediaType(part, "")) {
				return true
			}
		}
		return false
	}
	return contentType != "" && q.d.IsBinary(mediaType(contentType, ""))
}

// functionErrorMessage is the errorMessage of a function's error document, or the document.
func functionErrorMessage(payload []byte) string {
	var e struct {
		ErrorMessage *string `json:"errorMessage"`
	}
	if json.Unmarshal(payload, &e) == nil && e.ErrorMessage != nil {
		return *e.ErrorMessage
	}
	return string(payload)
}

// serveLambdaAWS calls a non-proxy Lambda integration's function with the mapped request and
// maps its answer through the integration responses: a function error selects the response
// whose pattern matches its errorMessage, anything else the default response.
func (q *call) serveLambdaAWS() {
	ir, ok := q.mapRequest()
	if !ok {
		return
	}
	if typ := ir.header.Get("X-Amz-Invocation-Type"); typ == "Event" || typ == "DryRun" {
		q.serveLambdaAsync(ir, typ == "DryRun")
		return
	}
	res, ok := q.invokeFunction(q.p.Function, ir.body, q.p.TimeoutMillis)
	if !ok {
		return
	}
	cr := q.p.Fallback
	if res.FunctionError != "" {
		msg := functionErrorMessage(res.Payload)
		for _, c := range q.p.Responses {
			if c.Pattern.MatchString(msg) {
				cr = c
				break
			}
		}
	}
	if cr == nil {
		q.fail(errInternal, "Execution failed due to configuration error: No match for output mapping and no default output mapping configured")
		return
	}
	q.applyResponse(cr, http.Header{"Content-Type": {"application/json"}}, res.Payload)
}

// serveLambdaAsync answers an integration whose request parameters set
// X-Amz-Invocation-Type to 'Event' as API Gateway does: Lambda accepts the event at once
// (202, no payload), the default integration response answers the client, and the function
// runs afterwards. Here it runs once the answer has been flushed, in the request's handler,
// so a server shutdown waits for it; its failures go to the log, where Lambda would retry.
// 'DryRun' answers the same without running the function.
func (q *call) serveLambdaAsync(ir *integrationRequest, dryRun bool) {
	cr := q.p.Fallback
	if cr == nil {
		q.fail(errInternal, "Execution failed due to configuration error: No match for output mapping and no default output mapping configured")
		return
	}
	q.applyResponse(cr, http.Header{}, nil)
	if dryRun {
		return
	}
	_ = http.NewResponseController(q.w).Flush() // a writer that cannot flush answers at the end
	// The client may hang up once it has its answer; the event is Lambda's by then.
	res, took, f := q.callFunctionIn(context.WithoutCancel(q.r.Context()), q.p.Function, ir.body, q.p.TimeoutMillis)
	q.integrationLatency, q.called = took, true
	switch {
	case f != nil:
		q.s.log.Warn("gateway: an asynchronous invocation failed: "+f.reason, "requestId", q.requestID, "method", q.p.Where)
	case res.FunctionError != "":
		q.s.log.Warn("gateway: an asynchronously invoked function failed: "+functionErrorMessage(res.Payload), "requestId", q.requestID, "method", q.p.Where)
	}
}
