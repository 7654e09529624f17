package app_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/localpipe/localpipe/internal/app"
)

// The API of testdata/gateway-e2e.yaml, deployed at stages test (color=blue) and prod
// (color=red), with three API keys: one for every stage, one for prod only (its stageKeys
// name the API by its config name), one disabled.
const (
	e2eAPI    = "e2eapi0001"
	keyAll    = "e2e-key-valid-for-every-stage"
	keyProd   = "e2e-key-only-for-the-prod-stage"
	keyOff    = "e2e-key-that-is-disabled-000"
	e2eConfig = `
streams:
  - {StreamName: e2e-stream, ShardCount: 1}
buckets: [e2e-bucket]
deliveryStreams:
  - DeliveryStreamName: e2e-direct
    DeliveryStreamType: DirectPut
    ExtendedS3DestinationConfiguration:
      BucketARN: arn:aws:s3:::e2e-bucket
      RoleARN: arn:aws:iam::000000000000:role/firehose
restApis:
  - name: e2e
    id: ` + e2eAPI + `
    openapi: api.yaml
    stages:
      - {stageName: test, variables: {color: blue}}
      - {stageName: prod, variables: {color: red}}
apiKeys:
  - {name: all-stages, value: ` + keyAll + `}
  - {name: prod-only, value: ` + keyProd + `, stageKeys: [{restApiId: e2e, stageName: prod}]}
  - {name: disabled, value: ` + keyOff + `, enabled: false}
`
)

// echoed is what the echo back end received, as it reports it.
type echoed struct {
	Method string              `json:"method"`
	Path   string              `json:"path"`
	Query  map[string][]string `json:"query"`
	Header map[string]string   `json:"header"`
	Body   string              `json:"body"`
}

// echoServer answers with what it received. A last path segment that is a status code
// (/echo/418) becomes the status; a path ending in /slow answers after 300 ms.
func echoServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/slow") {
			select {
			case <-time.After(300 * time.Millisecond):
			case <-r.Context().Done():
				return
			}
		}
		b, _ := io.ReadAll(r.Body)
		e := echoed{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: map[string]string{}, Body: string(b)}
		for k := range r.Header {
			e.Header[k] = r.Header.Get(k)
		}
		status := 200
		if i := strings.LastIndexByte(r.URL.Path, '/'); i >= 0 {
			if n, err := strconv.Atoi(r.URL.Path[i+1:]); err == nil && n >= 200 && n < 600 {
				status = n
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Echo", "echoed")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(e)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func startE2E(t *testing.T, configure ...func(*app.Config)) *server {
	t.Helper()
	doc, err := os.ReadFile("testdata/gateway-e2e.yaml")
	if err != nil {
		t.Fatal(err)
	}
	echo := echoServer(t)
	var conf func(*app.Config)
	if len(configure) > 0 {
		conf = configure[0]
	}
	return startServerConfig(t, conf, "", map[string]string{
		"localpipe.yaml": e2eConfig,
		"api.yaml":       strings.ReplaceAll(string(doc), "ECHO", echo.URL),
	})
}

func wantJSON(t *testing.T, what string, r response, status int, body string) {
	t.Helper()
	if r.status != status {
		t.Errorf("%s: status %d, want %d (body %s)", what, r.status, status, r.body)
		return
	}
	var got any
	if err := json.Unmarshal([]byte(r.body), &got); err != nil {
		t.Errorf("%s: body is not JSON: %q", what, r.body)
		return
	}
	if g, _ := json.Marshal(got); string(g) != mustCompact(body) {
		t.Errorf("%s: body %s, want %s", what, g, mustCompact(body))
	}
}

func mustCompact(s string) string {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		panic(s)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// gatewayError checks one of API Gateway's own error responses.
func gatewayError(t *testing.T, what string, r response, status int, message, errorType string) {
	t.Helper()
	wantJSON(t, what, r, status, fmt.Sprintf(`{"message":%q}`, message))
	if r.header.Get("Access-Control-Allow-Origin") != "*" && status < 500 {
		t.Errorf("%s: the DEFAULT_4XX header Access-Control-Allow-Origin is missing", what)
	}
	if errorType != "" && r.header.Get("x-amzn-ErrorType") != errorType {
		t.Errorf("%s: x-amzn-ErrorType %q, want %q", what, r.header.Get("x-amzn-ErrorType"), errorType)
	}
	if r.header.Get("x-amzn-RequestId") == "" {
		t.Errorf("%s: no x-amzn-RequestId", what)
	}
}

// TestGatewayURLForms: the three invoke URL forms reach the same method; the AWS
// integration puts the body into Kinesis as sent, keyed by $context.requestId, which is
// also the x-amzn-RequestId the client sees.
func TestGatewayURLForms(t *testing.T) {
	s := startE2E(t)
	urls := []string{
		s.url(e2eAPI, "test", "/stream"),
		"http://127.0.0.1:" + s.port + "/_aws/execute-api/" + e2eAPI + "/test/stream",
		"http://" + e2eAPI + ".execute-api.localhost:" + s.port + "/test/stream",
		"http://" + e2eAPI + ".execute-api.localhost.localstack.cloud:" + s.port + "/test/stream",
	}
	ids := map[string]string{}
	for i, u := range urls {
		body := fmt.Sprintf(`{"message": "form %d"}`, i)
		r := s.do(t, "POST", u, body)
		if r.status != 200 || !strings.Contains(r.body, `"SequenceNumber"`) || !strings.Contains(r.body, `"ShardId":"shardId-000000000000"`) {
			t.Errorf("%s: %d %s", u, r.status, r.body)
			continue
		}
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s: Content-Type %q", u, ct)
		}
		if r.header.Get("x-amz-apigw-id") == "" {
			t.Errorf("%s: no x-amz-apigw-id header", u)
		}
		ids[body] = r.header.Get("x-amzn-RequestId")
	}
	recs := s.records(t, "e2e-stream")
	if len(recs) != len(urls) {
		t.Fatalf("%d records in the stream, want %d", len(recs), len(urls))
	}
	for _, rec := range recs {
		id, ok := ids[string(rec.Data)]
		if !ok {
			t.Errorf("record %q was not sent", rec.Data)
		} else if *rec.PartitionKey != id {
			t.Errorf("record %q: partition key %q, want the request id %q", rec.Data, *rec.PartitionKey, id)
		}
	}
}

// TestGatewayRouting: literal and {param} resources, wrong methods and unknown paths.
func TestGatewayRouting(t *testing.T) {
	s := startE2E(t)
	// The AWS tutorial's PutRecord: stream name from the path, Data and PartitionKey from
	// the body; $input.json keeps the quotes, so the record is `"some data"`.
	r := s.do(t, "PUT", s.url(e2eAPI, "test", "/streams/e2e-stream/record"), `{"Data": "some data", "PartitionKey": "some key"}`)
	if r.status != 200 || !strings.Contains(r.body, "SequenceNumber") {
		t.Fatalf("PUT /streams/e2e-stream/record: %d %s", r.status, r.body)
	}
	recs := s.records(t, "e2e-stream")
	if len(recs) != 1 || string(recs[0].Data) != `"some data"` || *recs[0].PartitionKey != "some key" {
		t.Fatalf("records: %+v", recs)
	}
	// Any Kinesis action, not only PutRecord.
	if r := s.do(t, "GET", s.url(e2eAPI, "test", "/streams"), ""); r.status != 200 || !strings.Contains(r.body, `"e2e-stream"`) {
		t.Errorf("GET /streams (ListStreams): %d %s", r.status, r.body)
	}
	for _, c := range []struct{ method, path string }{
		{"GET", "/nope"},
		{"GET", "/stream"},          // a resource without that method
		{"DELETE", "/streams"},      // idem
		{"GET", "/streams/x"},       // no such resource under {stream-name}
		{"GET", "/proxy"},           // {proxy+} needs at least one segment
		{"POST", "/stream/extra/x"}, // below a leaf
		{"GET", "/"},
	} {
		gatewayError(t, c.method+" "+c.path, s.do(t, c.method, s.url(e2eAPI, "test", c.path), ""),
			403, "Missing Authentication Token", "MissingAuthenticationTokenException")
	}
}

// TestGatewayIntegrationResponses: a Kinesis error is selected by its status code and
// mapped to another status with a header and a template.
func TestGatewayIntegrationResponses(t *testing.T) {
	s := startE2E(t)
	r := s.do(t, "PUT", s.url(e2eAPI, "test", "/streams/no-such-stream/record"), `{"Data": "x", "PartitionKey": "k"}`)
	wantJSON(t, "PutRecord to an unknown stream", r, 404, `{"error": "ResourceNotFoundException", "stream": "no-such-stream"}`)
	if r.header.Get("X-Error-Type") != "kinesis" {
		t.Errorf("X-Error-Type %q", r.header.Get("X-Error-Type"))
	}
	// The echo back end's status picks the response: 418 has its own, 500 falls to
	// default (200) with the body passed through, as AWS does when no pattern matches.
	r = s.do(t, "POST", s.url(e2eAPI, "test", "/things/418"), `{"name": "t"}`)
	wantJSON(t, "418 from the back end", r, 418, `{"teapot": true}`)
	r = s.do(t, "POST", s.url(e2eAPI, "test", "/things/500"), `{"name": "t"}`)
	if r.status != 200 || !strings.Contains(r.body, `"path":"/echo/500"`) {
		t.Errorf("500 from the back end under a default-only match: %d %s", r.status, r.body)
	}
}

// TestGatewayHTTPIntegration: requestParameters (path, querystring, header, static, stage
// variable) and $input/$context/$stageVariables in the request template, on an HTTP
// integration to a local server.
func TestGatewayHTTPIntegration(t *testing.T) {
	s := startE2E(t)
	for _, stage := range []struct{ name, color string }{{"test", "blue"}, {"prod", "red"}} {
		r := s.do(t, "POST", s.url(e2eAPI, stage.name, "/things/a%20b?q=hello"), `{"name": "n", "n": 1}`, "X-Custom", "c")
		if r.status != 200 {
			t.Fatalf("%s: %d %s", stage.name, r.status, r.body)
		}
		if r.header.Get("X-Upstream") != "echoed" {
			t.Errorf("%s: X-Upstream %q, want the back end's X-Echo", stage.name, r.header.Get("X-Upstream"))
		}
		var e echoed
		if err := json.Unmarshal([]byte(r.body), &e); err != nil {
			t.Fatalf("%s: %v: %s", stage.name, err, r.body)
		}
		if e.Method != "POST" || e.Path != "/echo/a b" || e.Query["from_q"][0] != "hello" || e.Query["fixed"][0] != "yes" ||
			e.Header["X-From-Header"] != "c" || e.Header["X-Stage"] != stage.color {
			t.Errorf("%s: the back end got %+v", stage.name, e)
		}
		var got map[string]any
		if err := json.Unmarshal([]byte(e.Body), &got); err != nil {
			t.Fatalf("%s: rendered template is not JSON: %v\n%s", stage.name, err, e.Body)
		}
		want := map[string]any{
			"id": "a%20b", "q": "hello", "custom": "c", "name": "n", "raw": map[string]any{"name": "n", "n": 1.0},
			"stage": stage.name, "apiId": e2eAPI, "resourcePath": "/things/{id}", "httpMethod": "POST",
			"color": stage.color, "hasRequestId": true,
		}
		for k, v := range want {
			if fmt.Sprint(got[k]) != fmt.Sprint(v) {
				t.Errorf("%s: template %s = %v, want %v", stage.name, k, got[k], v)
			}
		}
		if p, _ := got["path"].(string); !strings.HasPrefix(p, "/"+stage.name+"/things/") {
			t.Errorf("%s: $context.path %q, want it to start with the stage", stage.name, p)
		}
		for k, v := range map[string]string{
			"requestId": r.header.Get("x-amzn-RequestId"), "extendedRequestId": r.header.Get("x-amz-apigw-id"),
			"sourceIp": "127.0.0.1", "userAgent": "Go-http-client/1.1", "accountId": "000000000000", "protocol": "HTTP/1.1",
		} {
			if got[k] != v {
				t.Errorf("%s: $context %s = %v, want %q", stage.name, k, got[k], v)
			}
		}
		if ms, _ := got["requestTimeEpoch"].(float64); time.Since(time.UnixMilli(int64(ms))).Abs() > time.Minute {
			t.Errorf("%s: $context.requestTimeEpoch %v", stage.name, got["requestTimeEpoch"])
		}
	}
}

// TestGatewayHostForm: with the Host form, $context.domainPrefix is the API id.
func TestGatewayHostForm(t *testing.T) {
	s := startE2E(t)
	r := s.do(t, "POST", "http://"+e2eAPI+".execute-api.localhost:"+s.port+"/test/things/x", `{}`)
	var e echoed
	json.Unmarshal([]byte(r.body), &e)
	var got map[string]any
	if err := json.Unmarshal([]byte(e.Body), &got); err != nil || got["domainPrefix"] != e2eAPI || got["path"] != "/test/things/x" {
		t.Errorf("%d %s", r.status, r.body)
	}
}

// TestGatewayHTTPProxy: ANY on a greedy path forwards method, path, query, headers and
// body, and returns the back end's answer as it is.
func TestGatewayHTTPProxy(t *testing.T) {
	s := startE2E(t)
	for _, method := range []string{"GET", "POST", "PATCH", "DELETE"} {
		body := ""
		if method != "GET" && method != "DELETE" {
			body = "raw " + method
		}
		r := s.do(t, method, s.url(e2eAPI, "test", "/proxy/a/b/201?x=1&x=2"), body, "X-Foo", "bar", "Content-Type", "text/plain")
		if r.status != 201 || r.header.Get("X-Echo") != "echoed" {
			t.Errorf("%s: %d %v %s", method, r.status, r.header, r.body)
			continue
		}
		var e echoed
		json.Unmarshal([]byte(r.body), &e)
		if e.Method != method || e.Path != "/up/a/b/201" || strings.Join(e.Query["x"], ",") != "1,2" || e.Header["X-Foo"] != "bar" || e.Body != body {
			t.Errorf("%s: the back end got %+v", method, e)
		}
	}
}

// TestGatewayMockAndCORS: a MOCK stub and the CORS preflight a browser sends.
func TestGatewayMockAndCORS(t *testing.T) {
	s := startE2E(t)
	wantJSON(t, "GET /mock", s.do(t, "GET", s.url(e2eAPI, "prod", "/mock"), ""), 200, `{"stub": "prod"}`)
	r := s.do(t, "OPTIONS", s.url(e2eAPI, "test", "/mock"), "",
		"Origin", "http://localhost:3000", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "content-type")
	if r.status != 200 {
		t.Fatalf("preflight: %d %s", r.status, r.body)
	}
	for h, v := range map[string]string{
		"Access-Control-Allow-Origin":  "*",
		"Access-Control-Allow-Methods": "GET,OPTIONS",
		"Access-Control-Allow-Headers": "Content-Type,X-Api-Key",
	} {
		if r.header.Get(h) != v {
			t.Errorf("preflight %s: %q, want %q", h, r.header.Get(h), v)
		}
	}
}

// TestGatewayInvokeWithXAmzTarget: an invoke request that carries X-Amz-Target is still the
// API's, so it cannot skip the API key its method requires by reaching Kinesis directly.
func TestGatewayInvokeWithXAmzTarget(t *testing.T) {
	s := startE2E(t)
	target := []string{"X-Amz-Target", "Kinesis_20131202.ListStreams"}
	wantJSON(t, "GET /mock", s.do(t, "GET", s.url(e2eAPI, "prod", "/mock"), "", target...), 200, `{"stub": "prod"}`)
	gatewayError(t, "GET /secure", s.do(t, "GET", s.url(e2eAPI, "prod", "/secure"), "", target...), 403, "Forbidden", "ForbiddenException")
}

// TestGatewayAPIKeys: a method with an api_key security requirement takes only enabled
// keys that are valid for the stage.
func TestGatewayAPIKeys(t *testing.T) {
	s := startE2E(t)
	for _, c := range []struct {
		stage, key string
		ok         bool
	}{
		{"test", "", false},
		{"test", "wrong-key-wrong-key-wrong", false},
		{"test", keyOff, false},
		{"test", keyProd, false},
		{"prod", keyProd, true},
		{"test", keyAll, true},
		{"prod", keyAll, true},
	} {
		var hdr []string
		if c.key != "" {
			hdr = []string{"x-api-key", c.key}
		}
		r := s.do(t, "GET", s.url(e2eAPI, c.stage, "/secure"), "", hdr...)
		what := fmt.Sprintf("stage %s, key %q", c.stage, c.key)
		if c.ok {
			wantJSON(t, what, r, 200, fmt.Sprintf(`{"key": %q}`, c.key))
		} else {
			gatewayError(t, what, r, 403, "Forbidden", "ForbiddenException")
		}
	}
}

// TestGatewayValidators: a request validator checks required parameters and the body
// against the method's model before any integration runs.
func TestGatewayValidators(t *testing.T) {
	s := startE2E(t)
	u := s.url(e2eAPI, "test", "/validated")
	gatewayError(t, "no q", s.do(t, "POST", u, `{"message": "m"}`, "X-Required", "1"),
		400, "Missing required request parameters: [q]", "BadRequestException")
	gatewayError(t, "no header", s.do(t, "POST", u+"?q=1", `{"message": "m"}`),
		400, "Missing required request parameters: [X-Required]", "BadRequestException")
	gatewayError(t, "bad body", s.do(t, "POST", u+"?q=1", `{"message": 7}`, "X-Required", "1"),
		400, "Invalid request body", "BadRequestException")
	gatewayError(t, "body not JSON", s.do(t, "POST", u+"?q=1", `{"message": `, "X-Required", "1"),
		400, "Invalid request body", "BadRequestException")
	wantJSON(t, "valid", s.do(t, "POST", u+"?q=1", `{"message": "m"}`, "X-Required", "1"), 200, `{"valid": true}`)
}

// TestGatewayResponses: the responses API Gateway makes itself.
func TestGatewayResponses(t *testing.T) {
	s := startE2E(t)
	// 10 MB is the payload limit.
	big := `{"a":"` + strings.Repeat("x", 10<<20) + `"}`
	r := s.do(t, "POST", s.url(e2eAPI, "test", "/stream"), big)
	if r.status != 413 || !strings.Contains(r.body, `"message"`) {
		t.Errorf("11 MB body: %d %.200s", r.status, r.body)
	}
	// when_no_templates with only an application/json template.
	gatewayError(t, "text/plain to a JSON-only template", s.do(t, "POST", s.url(e2eAPI, "test", "/stream"), "hi", "Content-Type", "text/plain"),
		415, "Unsupported Media Type", "")
	gatewayError(t, "integration timeout", s.do(t, "GET", s.url(e2eAPI, "test", "/slow"), ""),
		504, "Endpoint request timed out", "")
	// A function the config does not declare: an API_CONFIGURATION_ERROR (500 by default;
	// this API customises that type to 502), the reason in the request log.
	r = s.do(t, "POST", s.url(e2eAPI, "test", "/lambda"), `{}`)
	if r.status != 502 || !strings.Contains(r.body, `"API_CONFIGURATION_ERROR"`) || !strings.Contains(s.logs.String(), "Function not found") {
		t.Errorf("AWS_PROXY to an undeclared function: %d %s", r.status, r.body)
	}
	if recs := s.records(t, "e2e-stream"); len(recs) != 0 {
		t.Errorf("rejected requests reached Kinesis: %d records", len(recs))
	}
}

// TestGatewayInvalidTemplateOutput: the seed's own template renders text that is not
// JSON; Kinesis refuses it as it would on AWS, and the log says why, where, and what was
// rendered.
func TestGatewayInvalidTemplateOutput(t *testing.T) {
	s := startE2E(t)
	r := s.do(t, "POST", s.url(e2eAPI, "test", "/seed-template"), `{ "message": "Hello, Kinesis!" }`)
	if r.status != 400 || !strings.Contains(r.body, "SerializationException") {
		t.Errorf("seed template: %d %s", r.status, r.body)
	}
	logs := s.logs.String()
	if !strings.Contains(logs, "not valid JSON") || !strings.Contains(logs, "line=3") || !strings.Contains(logs, "/seed-template") ||
		!strings.Contains(logs, `\"Data\": \"{ \"message\": \"Hello, Kinesis!\" }\"`) {
		t.Errorf("the log does not explain the rejected template output:\n%s", logs)
	}
	if recs := s.records(t, "e2e-stream"); len(recs) != 0 {
		t.Errorf("%d records written", len(recs))
	}
}

// TestGatewayFirehose: an AWS integration with firehose:action/PutRecord, delivered to S3.
func TestGatewayFirehose(t *testing.T) {
	s := startE2E(t)
	body := `{"event": "through the gateway into Firehose"}`
	r := s.do(t, "POST", s.url(e2eAPI, "test", "/firehose"), body)
	if r.status != 200 || !strings.Contains(r.body, `"RecordId"`) {
		t.Fatalf("POST /firehose: %d %s", r.status, r.body)
	}
	s.flush(t, "e2e-direct")
	for _, content := range s.objects(t, "e2e-bucket") {
		if strings.Contains(content, body) {
			return
		}
	}
	t.Fatalf("%s was not delivered: %v", body, s.objects(t, "e2e-bucket"))
}

// TestGatewayDefaultOnlyResponse: with only a default integration response, a Kinesis
// error reaches the client as 200 with Kinesis's own body, as on AWS.
func TestGatewayDefaultOnlyResponse(t *testing.T) {
	s := startE2E(t)
	r := s.do(t, "POST", s.url(e2eAPI, "test", "/default-only?s=missing"), `{}`)
	if r.status != 200 || !strings.Contains(r.body, `"__type":"ResourceNotFoundException"`) {
		t.Errorf("%d %s", r.status, r.body)
	}
	r = s.do(t, "POST", s.url(e2eAPI, "test", "/default-only?s=e2e-stream"), `{}`)
	if r.status != 200 || !strings.Contains(r.body, "SequenceNumber") {
		t.Errorf("%d %s", r.status, r.body)
	}
}

// TestGatewayBinaryAndPassthrough: a binary media type converted to text for the
// template, and the passthrough behaviours for a content type without a template.
func TestGatewayBinaryAndPassthrough(t *testing.T) {
	s := startE2E(t)
	png := "\x89PNG\r\n\x1a\n\x00\x01\xff\xfe"
	if r := s.do(t, "POST", s.url(e2eAPI, "test", "/binary"), png, "Content-Type", "image/png"); r.status != 200 {
		t.Fatalf("POST /binary: %d %s", r.status, r.body)
	}
	recs := s.records(t, "e2e-stream")
	if len(recs) != 1 || string(recs[0].Data) != png {
		t.Errorf("binary record: %+v", recs)
	}
	// WHEN_NO_MATCH passes an unmatched content type through as it came.
	r := s.do(t, "POST", s.url(e2eAPI, "test", "/when-no-match"), "<a>xml</a>", "Content-Type", "application/xml")
	var e echoed
	json.Unmarshal([]byte(r.body), &e)
	if r.status != 200 || e.Body != "<a>xml</a>" {
		t.Errorf("when_no_match, application/xml: %d %s", r.status, r.body)
	}
	r = s.do(t, "POST", s.url(e2eAPI, "test", "/when-no-match"), `{"a": 1}`)
	json.Unmarshal([]byte(r.body), &e)
	if r.status != 200 || mustCompact(e.Body) != `{"templated":true}` {
		t.Errorf("when_no_match, application/json: %d %s", r.status, r.body)
	}
	gatewayError(t, "never, application/xml", s.do(t, "POST", s.url(e2eAPI, "test", "/never"), "<a/>", "Content-Type", "application/xml"),
		415, "Unsupported Media Type", "")
}

// TestGatewayCustomGatewayResponse: x-amazon-apigateway-gateway-responses changes the
// status, headers and body of a response API Gateway makes itself.
func TestGatewayCustomGatewayResponse(t *testing.T) {
	s := startE2E(t)
	r := s.do(t, "GET", s.url(e2eAPI, "test", "/down"), "")
	if r.header.Get("X-Failure") != "upstream" {
		t.Errorf("X-Failure header %q", r.header.Get("X-Failure"))
	}
	wantJSON(t, "GET /down", r, 502, `{"upstream": "down", "message": "Internal server error", "type": "API_CONFIGURATION_ERROR"}`)
}

// TestGatewayMetrics: series named after API Gateway's CloudWatch metrics, per API, stage,
// resource and method.
func TestGatewayMetrics(t *testing.T) {
	s := startE2E(t)
	s.do(t, "POST", s.url(e2eAPI, "test", "/stream"), `{"m": 1}`)
	s.do(t, "GET", s.url(e2eAPI, "test", "/secure"), "")
	s.do(t, "GET", s.url(e2eAPI, "test", "/down"), "")
	m := s.do(t, "GET", s.a.Endpoint()+"/metrics", "").body
	for _, want := range []string{
		`localpipe_apigateway_count_total{api="e2e",api_id="e2eapi0001",method="POST",resource="/stream",stage="test"} 1`,
		`localpipe_apigateway_4xxerror_total{api="e2e",api_id="e2eapi0001",method="GET",resource="/secure",stage="test"} 1`,
		`localpipe_apigateway_5xxerror_total{api="e2e",api_id="e2eapi0001",method="GET",resource="/down",stage="test"} 1`,
		`localpipe_apigateway_latency_seconds_count{api="e2e",api_id="e2eapi0001",method="POST",resource="/stream",stage="test"} 1`,
		`localpipe_apigateway_integration_latency_seconds_count{api="e2e",api_id="e2eapi0001",method="POST",resource="/stream",stage="test"} 1`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
