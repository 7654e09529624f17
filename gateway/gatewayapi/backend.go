package gatewayapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/localpipe/localpipe/internal/lazyre"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/localpipe/localpipe/gateway"
	"github.com/localpipe/localpipe/mapping"
)

// serveAWS calls a Kinesis or Firehose action through the Invoker.
func (q *call) serveAWS() {
	ir, ok := q.mapRequest()
	if !ok {
		return
	}
	inv := q.s.opts.Invoker
	if inv == nil {
		q.s.log.Error("gateway: no Invoker is configured, so AWS integrations cannot be called", "requestId", q.requestID, "method", q.p.Where)
		q.gatewayError(errInternal)
		return
	}
	ctx, cancel := q.withTimeout()
	defer cancel()
	t0 := time.Now()
	status, ct, resp := inv.Invoke(ctx, q.p.Service, q.p.Action, ir.body, q.p.Region)
	q.integrationLatency, q.called, q.integrationStatus = time.Since(t0), true, status
	if ir.template != nil && (status < 200 || status > 299 || ctx.Err() != nil) {
		q.checkRendered(ir)
	}
	if ctx.Err() == context.DeadlineExceeded && q.r.Context().Err() == nil {
		q.s.log.Warn("gateway: the integration timed out", "requestId", q.requestID, "method", q.p.Where, "timeoutInMillis", q.p.TimeoutMillis)
		q.gatewayError(errTimeout)
		return
	}
	h := http.Header{}
	if ct != "" {
		h["Content-Type"] = []string{ct} // Set's canonical form, without working it out
	}
	q.integrationResponse(status, h, resp)
}

// checkRendered logs where a request template's output stops being JSON. The service
// rejects what is not JSON with its own error (SerializationException), which reaches the
// client through the integration response as on AWS; serveAWS asks only when the service
// refused the call, so an accepted request does not pay for parsing its body twice.
func (q *call) checkRendered(ir *integrationRequest) {
	err := mapping.ValidateJSON(ir.body)
	if err == nil {
		return
	}
	attrs := []any{"requestId", q.requestID, "method", q.p.Where, "template", ir.template.Name(),
		"action", q.p.Service + ":" + q.p.Action, "err", err.Error(), "rendered", string(ir.body)}
	var je *mapping.JSONError
	if errors.As(err, &je) {
		attrs = append(attrs, "line", je.Line, "column", je.Col)
	}
	q.s.log.Warn("gateway: the request template's output is not valid JSON", attrs...)
}

// serveMock answers from the integration request template: its JSON's statusCode chooses the
// integration response, 200 when it names none.
func (q *call) serveMock() {
	ir, ok := q.mapRequest()
	if !ok {
		return
	}
	status := http.StatusOK
	if ir.template != nil {
		st, err := mockStatus(ir.body)
		if err != nil {
			q.s.log.Warn("gateway: a MOCK integration's request template did not give a status code",
				"requestId", q.requestID, "method", q.p.Where, "template", ir.template.Name(), "err", err, "rendered", string(ir.body))
			q.gatewayError(errInternal)
			return
		}
		if st != 0 {
			status = st
		}
	}
	q.integrationResponse(status, http.Header{}, nil)
}

// mockStatus reads "statusCode" from a MOCK template's output: 0 when there is none.
func mockStatus(out []byte) (int, error) {
	if len(bytes.TrimSpace(out)) == 0 {
		return 0, nil
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		return 0, fmt.Errorf("the output is not a JSON object: %v", err)
	}
	switch sc := v["statusCode"].(type) {
	case nil:
		return 0, nil
	case json.Number:
		n, err := strconv.Atoi(sc.String())
		if err != nil || n < 100 || n > 599 {
			return 0, fmt.Errorf("statusCode %s is not an HTTP status code", sc)
		}
		return n, nil
	case string:
		n, err := strconv.Atoi(sc)
		if err != nil || n < 100 || n > 599 {
			return 0, fmt.Errorf("statusCode %q is not an HTTP status code", sc)
		}
		return n, nil
	default:
		return 0, fmt.Errorf("statusCode must be a number")
	}
}

// hopHeaders are not forwarded by a proxy (RFC 9110 7.6.1).
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
	"Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// serveHTTP calls an HTTP back end with the mapped request and maps its response.
func (q *call) serveHTTP() {
	ir, ok := q.mapRequest()
	if !ok {
		return
	}
	h := ir.header
	if h.Get("Content-Type") == "" && len(ir.body) > 0 {
		h.Set("Content-Type", ir.mt)
	}
	if h.Get("Accept") == "" {
		accept := q.r.Header.Get("Accept")
		if accept == "" {
			accept = "application/json"
		}
		h.Set("Accept", accept)
	}
	if h.Get("User-Agent") == "" {
		h.Set("User-Agent", "AmazonAPIGateway_"+q.d.API.ID)
	}
	resp, ok := q.callHTTP(ir, h, false)
	if !ok {
		return
	}
	q.integrationResponse(resp.status, resp.header, resp.body)
}

// serveHTTPProxy passes the request to the back end and its answer back, both unchanged but
// for hop-by-hop headers and the request parameter mappings.
func (q *call) serveHTTPProxy() {
	ir, ok := q.mapRequest()
	if !ok {
		return
	}
	h := q.r.Header.Clone()
	for _, k := range hopHeaders {
		h.Del(k)
	}
	for k, v := range ir.header {
		h[k] = v
	}
	if ip, ok := q.contextValue("identity.sourceIp"); ok {
		if prior := h.Get("X-Forwarded-For"); prior != "" {
			ip = prior + ", " + ip
		}
		h.Set("X-Forwarded-For", ip)
	}
	resp, ok := q.callHTTP(ir, h, true)
	if !ok {
		return
	}
	for _, k := range hopHeaders {
		resp.header.Del(k)
	}
	resp.header.Del("Content-Length")
	q.respond(resp.status, resp.header, resp.body)
}

type backendResponse struct {
	status int
	header http.Header
	body   []byte
}

// callHTTP sends the integration request; ok false means a gateway response has been sent.
func (q *call) callHTTP(ir *integrationRequest, h http.Header, proxy bool) (backendResponse, bool) {
	target, err := q.integrationURL(ir, proxy)
	if err != nil {
		q.s.log.Warn("gateway: cannot build the integration URL", "requestId", q.requestID, "method", q.p.Where, "err", err)
		q.gatewayError(errInternal)
		return backendResponse{}, false
	}
	verb := q.p.Integration.HTTPMethod
	if verb == "" || verb == "ANY" {
		verb = q.r.Method
	}
	ctx, cancel := q.withTimeout()
	defer cancel()
	var body io.Reader
	if len(ir.body) > 0 {
		body = bytes.NewReader(ir.body)
	}
	req, err := http.NewRequestWithContext(ctx, verb, target, body)
	if err != nil {
		q.s.log.Warn("gateway: cannot build the integration request", "requestId", q.requestID, "method", q.p.Where, "err", err)
		q.gatewayError(errInternal)
		return backendResponse{}, false
	}
	h.Del("Host")
	h.Set("X-Amzn-Apigateway-Api-Id", q.d.API.ID)
	req.Header = h
	t0 := time.Now()
	resp, err := q.s.client.Do(req)
	var data []byte
	if err == nil {
		data, err = io.ReadAll(io.LimitReader(resp.Body, MaxPayloadSize+1))
		resp.Body.Close()
	}
	q.integrationLatency, q.called = time.Since(t0), true
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && q.r.Context().Err() == nil {
			q.s.log.Warn("gateway: the integration timed out", "requestId", q.requestID, "method", q.p.Where,
				"url", target, "timeoutInMillis", q.p.TimeoutMillis)
			q.gatewayError(errTimeout)
			return backendResponse{}, false
		}
		q.s.log.Warn("gateway: the integration request failed", "requestId", q.requestID, "method", q.p.Where, "url", target, "err", err)
		q.gatewayError(errInternal)
		return backendResponse{}, false
	}
	if int64(len(data)) > MaxPayloadSize {
		q.s.log.Warn("gateway: the integration response is larger than 10 MB", "requestId", q.requestID, "method", q.p.Where)
		q.gatewayError(errInternal)
		return backendResponse{}, false
	}
	return backendResponse{status: resp.StatusCode, header: resp.Header, body: data}, true
}

var uriParam = lazyre.New(`\{([^{}/]+)\}`)

// integrationURL puts the stage variables into the URI's ${stageVariables.name} places
// (API Gateway allows them in HTTP integration URIs), the integration path parameters into
// its {name} places, and adds
// the query string: the mapped integration.request.querystring values and, for a proxy, the
// method request's own. A {name} with no mapping takes the method's path parameter of the
// same name, so "/{proxy}" works without spelling the mapping out.
func (q *call) integrationURL(ir *integrationRequest, proxy bool) (string, error) {
	var missing string
	raw := gateway.StageVarRef.ReplaceAllStringFunc(q.p.Integration.URI, func(m string) string {
		name := m[len("${stageVariables.") : len(m)-1]
		v, ok := q.stage.Variables[name]
		if !ok {
			missing = "stageVariables." + name
		}
		return v
	})
	raw = uriParam.ReplaceAllStringFunc(raw, func(m string) string {
		name := strings.TrimSuffix(m[1:len(m)-1], "+")
		v, ok := ir.path[name]
		greedy := slices.Contains(ir.greedy, name)
		if !ok {
			v, ok = q.pathParams[name]
			greedy = q.isGreedy(name)
		}
		if !ok {
			missing = name
			return m
		}
		if !greedy {
			return url.PathEscape(v)
		}
		segs := strings.Split(v, "/")
		for i, s := range segs {
			segs[i] = url.PathEscape(s)
		}
		return strings.Join(segs, "/")
	})
	if missing != "" {
		return "", fmt.Errorf("the uri %q has {%s} and the request gives it no value", q.p.Integration.URI, missing)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	if len(ir.query) == 0 && !proxy {
		return u.String(), nil
	}
	if len(ir.query) == 0 && u.RawQuery == "" {
		u.RawQuery = q.r.URL.RawQuery
		return u.String(), nil
	}
	vals := u.Query()
	if proxy {
		for k, v := range q.r.URL.Query() {
			vals[k] = append(vals[k], v...)
		}
	}
	for k, v := range ir.query {
		vals[k] = v
	}
	u.RawQuery = vals.Encode()
	return u.String(), nil
}

// integrationResponse chooses the integration response for the back end's status code and
// applies its parameters and template (aws-semantics.md A.6, A.7).
func (q *call) integrationResponse(status int, header http.Header, body []byte) {
	q.noteIntegrationResponse(status, header, body)
	cr := q.p.SelectResponse(status)
	if cr == nil {
		// API Gateway's execution log says "Execution failed due to configuration error:
		// No match for output mapping and no default output mapping configured".
		q.s.log.Warn("gateway: no integration response matches the back end's status and there is no default response",
			"requestId", q.requestID, "method", q.p.Where, "status", status)
		q.gatewayError(errInternal)
		return
	}
	q.applyResponse(cr, header, body)
}

// applyResponse maps a back end's answer through the integration response cr.
func (q *call) applyResponse(cr *gateway.CompiledResponse, header http.Header, body []byte) {
	out := http.Header{}
	for _, pm := range cr.Params {
		if v, ok := q.responseSource(pm.Src, header, body); ok {
			out.Set(pm.Dst, v)
		}
	}
	code := cr.Status
	respBody := body
	if key, t, found := chooseTemplate(cr.Templates, cr.Order, q.r.Header.Get("Accept")); found {
		if out.Get("Content-Type") == "" {
			out["Content-Type"] = []string{key}
		}
		if t != nil {
			rendered, over, err := t.Render(q.input(t, body))
			if err != nil {
				q.s.log.Warn("gateway: rendering the response template failed", "requestId", q.requestID,
					"method", q.p.Where, "template", t.Name(), "err", err)
				q.gatewayError(errInternal)
				return
			}
			respBody = rendered
			if over != nil {
				if over.Status != 0 {
					code = over.Status
				}
				for k, v := range over.Header {
					out.Set(k, v)
				}
			}
		}
	}
	switch cr.IntegrationResponse.ContentHandling {
	case gateway.ConvertToText:
		respBody = []byte(base64.StdEncoding.EncodeToString(respBody))
	case gateway.ConvertToBinary:
		if dec, err := base64.StdEncoding.DecodeString(string(respBody)); err == nil {
			respBody = dec
		} else {
			q.s.log.Warn("gateway: CONVERT_TO_BINARY: the response is not base64", "requestId", q.requestID, "method", q.p.Where)
			q.gatewayError(errInternal)
			return
		}
	}
	q.respond(code, out, respBody)
}

// responseSource evaluates a source of a method response header.
func (q *call) responseSource(src gateway.ParamSource, header http.Header, body []byte) (string, bool) {
	switch src.Kind {
	case gateway.SrcStatic:
		return src.Name, true
	case gateway.SrcContext:
		return q.contextValue(src.Name)
	case gateway.SrcStageVar:
		v, ok := q.stage.Variables[src.Name]
		return v, ok
	case gateway.SrcRespHeader:
		vals := header.Values(src.Name)
		if len(vals) == 0 {
			return "", false
		}
		if src.Loc == "multivalueheader" {
			return strings.Join(vals, ","), true
		}
		return vals[len(vals)-1], true
	case gateway.SrcRespBody:
		if src.Path == nil {
			return string(body), true
		}
		vals, ok := bodyPath(src.Path, body)
		if !ok {
			return "", false
		}
		return vals[0], true
	}
	return "", false
}
