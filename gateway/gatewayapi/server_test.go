package gatewayapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/localpipe/localpipe/gateway"
)

// fakeInvoker stands in for the Kinesis and Firehose wire handlers at the unit level (the
// app's end-to-end tests call the real ones): it records each call and answers with reply.
type fakeInvoker struct {
	mu    sync.Mutex
	calls []invocation
	reply func(service, action string, body []byte) (int, string, []byte)
	delay time.Duration
}

type invocation struct {
	service, action, region string
	body                    string
}

func (f *fakeInvoker) Invoke(ctx context.Context, service, action string, body []byte, region string) (int, string, []byte) {
	f.mu.Lock()
	f.calls = append(f.calls, invocation{service, action, region, string(body)})
	f.mu.Unlock()
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return 500, "application/x-amz-json-1.1", []byte(`{"__type":"InternalFailure"}`)
		}
	}
	if f.reply != nil {
		return f.reply(service, action, body)
	}
	return 200, "application/x-amz-json-1.1", []byte(`{"SequenceNumber":"4955","ShardId":"shardId-000000000000"}`)
}

func (f *fakeInvoker) last(t *testing.T) invocation {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		t.Fatal("the invoker was not called")
	}
	return f.calls[len(f.calls)-1]
}

func (f *fakeInvoker) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// logBuffer collects log lines for assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

type testEnv struct {
	t   testing.TB
	s   *Server
	inv *fakeInvoker
	api *gateway.API
	log *logBuffer
	reg *prometheus.Registry
}

// newEnv imports doc (an OpenAPI document whose integrations may use {{backend}}, replaced
// by backend) as API id "testapi" and deploys it at stage "prod" with variable env=test.
func newEnv(t testing.TB, doc string) *testEnv {
	t.Helper()
	api, err := gateway.ImportOpenAPI([]byte(doc))
	if err != nil {
		t.Fatalf("ImportOpenAPI: %v", err)
	}
	api.ID = "testapi"
	e := &testEnv{t: t, inv: &fakeInvoker{}, api: api, log: &logBuffer{}, reg: prometheus.NewRegistry()}
	e.s = NewServer(Options{
		Invoker:    e.inv,
		Logger:     slog.New(slog.NewTextHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Registerer: e.reg,
		AccountID:  "123456789012",
	})
	if err := e.s.Deploy(api, []gateway.Stage{{Name: "prod", Variables: map[string]string{"env": "test", "stream": "from-stage"}}}); err != nil {
		t.Fatalf("Deploy: %v", err)
	}
	return e
}

type req struct {
	method, target, body string
	header               map[string]string
}

func (e *testEnv) do(r req) *httptest.ResponseRecorder {
	e.t.Helper()
	if r.method == "" {
		r.method = "POST"
	}
	hr := httptest.NewRequest(r.method, "http://localhost:4566"+r.target, strings.NewReader(r.body))
	hr.RemoteAddr = "192.0.2.7:51000"
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	e.s.ServeHTTP(w, hr)
	return w
}

func openapi(paths string, extra ...string) string {
	doc := `{"openapi":"3.0.1","info":{"title":"TestAPI","version":"1"},"paths":{` + paths + `}`
	for _, x := range extra {
		doc += "," + x
	}
	return doc + "}"
}

const putRecordPath = `"/stream":{"post":{
	"x-amazon-apigateway-integration":{"type":"aws","httpMethod":"POST",
		"uri":"arn:aws:apigateway:eu-west-1:kinesis:action/PutRecord",
		"credentials":"arn:aws:iam::123456789012:role/r",
		"requestParameters":{"integration.request.header.Content-Type":"'application/x-amz-json-1.1'"},
		"requestTemplates":{"application/json":"{\"StreamName\":\"s1\",\"Data\":\"$util.base64Encode($input.body)\",\"PartitionKey\":\"$input.path('$.key')\"}"},
		"passthroughBehavior":"when_no_templates",
		"responses":{"default":{"statusCode":"200"}}}}}`

var uuidRe = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestAWSIntegrationPutRecord(t *testing.T) {
	e := newEnv(t, openapi(putRecordPath))
	for _, target := range []string{"/_aws/execute-api/testapi/prod/stream", "/restapis/testapi/prod/_user_request_/stream"} {
		w := e.do(req{target: target, body: `{"key":"k1","v":1}`, header: map[string]string{"Content-Type": "application/json; charset=utf-8"}})
		if w.Code != 200 {
			t.Fatalf("%s: status %d, body %s", target, w.Code, w.Body)
		}
		if got := w.Body.String(); got != `{"SequenceNumber":"4955","ShardId":"shardId-000000000000"}` {
			t.Errorf("body %s", got)
		}
		inv := e.inv.last(t)
		want := invocation{"kinesis", "PutRecord", "eu-west-1", `{"StreamName":"s1","Data":"eyJrZXkiOiJrMSIsInYiOjF9","PartitionKey":"k1"}`}
		if inv != want {
			t.Errorf("invocation %+v, want %+v", inv, want)
		}
		if id := w.Header()["x-amzn-RequestId"]; len(id) != 1 || !uuidRe.MatchString(id[0]) {
			t.Errorf("x-amzn-RequestId %q", id)
		}
		if id := w.Header()["x-amz-apigw-id"]; len(id) != 1 || len(id[0]) != 16 {
			t.Errorf("x-amz-apigw-id %q", id)
		}
		if ct := w.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
	}
	// The host form.
	hr := httptest.NewRequest("POST", "http://testapi.execute-api.localhost:4566/prod/stream", strings.NewReader(`{"key":"h"}`))
	w := httptest.NewRecorder()
	e.s.ServeHTTP(w, hr)
	if w.Code != 200 || !strings.Contains(e.inv.last(t).body, `"PartitionKey":"h"`) {
		t.Errorf("host form: %d %s %+v", w.Code, w.Body, e.inv.last(t))
	}
}

func TestMissingAuthenticationToken(t *testing.T) {
	e := newEnv(t, openapi(putRecordPath))
	for _, tc := range []struct{ name, method, target string }{
		{"unknown api", "POST", "/_aws/execute-api/nosuchapi/prod/stream"},
		{"unknown stage", "POST", "/_aws/execute-api/testapi/dev/stream"},
		{"no stage", "POST", "/_aws/execute-api/testapi"},
		{"unknown path", "POST", "/_aws/execute-api/testapi/prod/nothing"},
		{"root", "GET", "/_aws/execute-api/testapi/prod/"},
		{"wrong method", "GET", "/_aws/execute-api/testapi/prod/stream"},
		{"not an invoke URL", "GET", "/bucket/key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := e.do(req{method: tc.method, target: tc.target})
			if w.Code != 403 || w.Body.String() != `{"message":"Missing Authentication Token"}` {
				t.Errorf("%d %s", w.Code, w.Body)
			}
			if et := w.Header()["x-amzn-ErrorType"]; len(et) != 1 || et[0] != "MissingAuthenticationTokenException" {
				t.Errorf("x-amzn-ErrorType %q", et)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if len(w.Header()["x-amzn-RequestId"]) != 1 {
				t.Errorf("no x-amzn-RequestId")
			}
		})
	}
	if e.inv.count() != 0 {
		t.Errorf("the invoker was called %d times", e.inv.count())
	}
}

func decodeJSON(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not JSON: %v: %s", err, b)
	}
	return m
}

var (
	_ = io.EOF
	_ = http.StatusOK
)
