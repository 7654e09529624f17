package gatewayapi

import (
	"bytes"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/localpipe/localpipe/gateway"
	"github.com/localpipe/localpipe/internal/awsjson"
)

// TestInvokeMethod runs one method of an API's current model (not a deployment: the method
// as it is now, as API Gateway's console test does) through the real invoke path, in a
// stage of its own with the stage variables the caller gives. API keys are not asked for,
// as API Gateway's test invoke does not ask for them. The answer carries the method's
// response and the execution log: the method request, the integration request as rendered,
// the back end's response, and the method response after the mapping.

const testInvokeStage = "test-invoke-stage"

// testInvoke is the record a test invocation keeps while it runs.
type testInvoke struct {
	log   strings.Builder
	start time.Time
}

func (t *testInvoke) logf(now time.Time, format string, args ...any) {
	fmt.Fprintf(&t.log, "%s : %s\n", now.UTC().Format("Mon Jan 02 15:04:05 MST 2006"), fmt.Sprintf(format, args...))
}

// noteIntegrationRequest logs the integration request mapRequest rendered.
func (q *call) noteIntegrationRequest(ir *integrationRequest) {
	if q.test == nil {
		return
	}
	now := q.s.now()
	switch q.p.Kind {
	case gateway.BackendAWS:
		q.test.logf(now, "Endpoint request URI: https://%s.%s.amazonaws.com/?Action=%s", q.p.Service, q.p.Region, q.p.Action)
	case gateway.BackendHTTP, gateway.BackendHTTPProxy:
		if u, err := q.integrationURL(ir, q.p.Kind == gateway.BackendHTTPProxy); err == nil {
			q.test.logf(now, "Endpoint request URI: %s", u)
		}
	}
	q.test.logf(now, "Endpoint request headers: %s", formatHeaders(ir.header))
	q.test.logf(now, "Endpoint request body after transformations: %s", ir.body)
	if q.p.Kind != gateway.BackendMock {
		q.test.logf(now, "Sending request to the %s integration", q.p.Integration.Type)
	}
}

// noteIntegrationResponse logs what the back end answered, before the integration response
// maps it.
func (q *call) noteIntegrationResponse(status int, header http.Header, body []byte) {
	if q.test == nil {
		return
	}
	now := q.s.now()
	q.test.logf(now, "Received response. Status: %d, Integration latency: %d ms", status, q.integrationLatency.Milliseconds())
	q.test.logf(now, "Endpoint response headers: %s", formatHeaders(header))
	q.test.logf(now, "Endpoint response body before transformations: %s", body)
}

func formatHeaders(h http.Header) string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strings.Join(h[k], ",")
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func formatMap(m map[string]string) string {
	keys := sortedKeys(m)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// captureWriter is the ResponseWriter a test invocation answers into.
type captureWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *captureWriter) Header() http.Header { return w.header }
func (w *captureWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}
func (w *captureWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

type testInvokeIn struct {
	PathWithQueryString string              `json:"pathWithQueryString"`
	Body                string              `json:"body"`
	Headers             map[string]string   `json:"headers"`
	MultiValueHeaders   map[string][]string `json:"multiValueHeaders"`
	StageVariables      map[string]string   `json:"stageVariables"`
	ClientCertificateID string              `json:"clientCertificateId"`
}

type testInvokeOut struct {
	Status            int                 `json:"status"`
	Body              string              `json:"body"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Log               string              `json:"log"`
	Latency           int64               `json:"latency"`
}

func (s *Server) testInvokeMethod(c *ctlReq) (int, any, *controlError) {
	var in testInvokeIn
	if cerr := decodeBody(c, &in); cerr != nil {
		return 0, nil, cerr
	}
	api, res, m, cerr := s.describedMethod(c)
	if cerr != nil {
		return 0, nil, cerr
	}
	if cerr := checkStageInput(testInvokeStage, in.StageVariables); cerr != nil {
		return 0, nil, cerr
	}
	path := in.PathWithQueryString
	if path == "" {
		path = res.Path
	}
	u, err := url.Parse(path)
	if err != nil || !strings.HasPrefix(u.EscapedPath(), "/") {
		return 0, nil, badRequest(fmt.Sprintf("Invalid pathWithQueryString %q: give the path below the stage, as in /items/1?color=red", path))
	}
	target := "http://" + api.ID + ".execute-api." + s.opts.Region + ".amazonaws.com/restapis/" + api.ID + "/" + testInvokeStage +
		"/_user_request_" + u.EscapedPath()
	if u.RawQuery != "" {
		target += "?" + u.RawQuery
	}
	verb := m.HTTPMethod
	if verb == "ANY" {
		verb = http.MethodGet // ANY serves every verb; the test sends one
	}
	req, err := http.NewRequestWithContext(c.r.Context(), verb, target, strings.NewReader(in.Body))
	if err != nil {
		return 0, nil, badRequest(fmt.Sprintf("Invalid pathWithQueryString %q: %v", path, err))
	}
	for k, vs := range in.MultiValueHeaders {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	for k, v := range in.Headers {
		req.Header.Set(k, v)
	}
	req.Host = api.ID + ".execute-api." + s.opts.Region + ".amazonaws.com"
	req.ContentLength = int64(len(in.Body))

	d := &gateway.DeploymentPlan{API: api, Stages: map[string]gateway.Stage{testInvokeStage: {Name: testInvokeStage, Variables: maps.Clone(in.StageVariables)}},
		Plans: map[*gateway.Method]*gateway.MethodPlan{}, GatewayResponses: map[string]*gateway.CompiledGatewayResponse{}}
	for _, typ := range sortedKeys(api.GatewayResponses) {
		if g, errs := gateway.CompileGatewayResponse(typ, api.GatewayResponses[typ]); len(errs) == 0 {
			d.GatewayResponses[typ] = g
		}
	}
	t := &testInvoke{start: s.now()}
	requestID := awsjson.NewRequestID()
	t.logf(t.start, "Starting execution for request: %s", requestID)
	t.logf(t.start, "HTTP Method: %s, Resource Path: %s", m.HTTPMethod, u.EscapedPath())
	w := &captureWriter{header: http.Header{}}
	p, errs := gateway.CompilePlan(api, res, m, m.HTTPMethod+" "+res.Path)
	if len(errs) > 0 {
		t.logf(s.now(), "Execution failed due to configuration error: %v", errs[0])
		t.logf(s.now(), "Method completed with status: 500")
		return http.StatusOK, testInvokeOut{Status: 500, Body: `{"message": "Internal server error"}`, Headers: map[string]string{},
			MultiValueHeaders: map[string][]string{}, Log: t.log.String(), Latency: s.now().Sub(t.start).Milliseconds()}, nil
	}
	d.Plans[m] = p
	q := &call{s: s, w: w, r: req, start: t.start, requestID: requestID, extendedID: newExtendedID(), d: d, test: t}
	q.stage = d.Stages[testInvokeStage]
	params := q.requestParams()
	t.logf(s.now(), "Method request path: %s", formatMap(q.pathParamsFor(res, u.EscapedPath())))
	t.logf(s.now(), "Method request query string: %s", formatMap(params.QueryString))
	t.logf(s.now(), "Method request headers: %s", formatHeaders(req.Header))
	t.logf(s.now(), "Method request body before transformations: %s", in.Body)
	q.serve()
	now := s.now()
	t.logf(now, "Method response body after transformations: %s", w.body.String())
	t.logf(now, "Method response headers: %s", formatHeaders(w.header))
	t.logf(now, "Successfully completed execution")
	t.logf(now, "Method completed with status: %d", w.status)

	out := testInvokeOut{Status: w.status, Body: w.body.String(), Headers: map[string]string{}, MultiValueHeaders: map[string][]string{},
		Log: t.log.String(), Latency: now.Sub(t.start).Milliseconds()}
	for k, vs := range w.header {
		out.Headers[k] = vs[len(vs)-1]
		out.MultiValueHeaders[k] = vs
	}
	return http.StatusOK, out, nil
}

// pathParamsFor reads the path parameters of path against res's template, for the log.
func (q *call) pathParamsFor(res *gateway.Resource, path string) map[string]string {
	if _, r, params, ok := q.d.API.MatchRaw(q.r.Method, path); ok && r == res {
		return params
	}
	return map[string]string{}
}
