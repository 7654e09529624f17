package gatewayapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/localpipe/localpipe/gateway"
)

// fnStub stands in for the functions registry at the unit level (the app's end-to-end
// tests call functions served by url, command and a Lambda Invoke API).
type fnStub struct {
	mu     sync.Mutex
	funcs  map[string]func(ctx context.Context, event []byte) (FunctionResult, error)
	calls  map[string]int
	events map[string][]byte
}

func withFunctions(e *testEnv, funcs map[string]func(ctx context.Context, event []byte) (FunctionResult, error)) *fnStub {
	f := &fnStub{funcs: funcs, calls: map[string]int{}, events: map[string][]byte{}}
	e.s.opts.Functions = f.invoke
	return f
}

func (f *fnStub) invoke(ctx context.Context, name string, payload []byte) (FunctionResult, error) {
	f.mu.Lock()
	fn := f.funcs[name]
	f.calls[name]++
	f.events[name] = append([]byte(nil), payload...)
	f.mu.Unlock()
	if fn == nil {
		return FunctionResult{}, fmt.Errorf("%w: %s", ErrFunctionNotFound, name)
	}
	return fn(ctx, payload)
}

func (f *fnStub) count(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[name]
}

func (f *fnStub) event(t *testing.T, name string) map[string]any {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	return decodeJSON(t, f.events[name])
}

func answer(payload string) func(context.Context, []byte) (FunctionResult, error) {
	return func(context.Context, []byte) (FunctionResult, error) {
		return FunctionResult{Payload: []byte(payload)}, nil
	}
}

func failWith(payload string) func(context.Context, []byte) (FunctionResult, error) {
	return func(context.Context, []byte) (FunctionResult, error) {
		return FunctionResult{Payload: []byte(payload), FunctionError: "Unhandled"}, nil
	}
}

const fnARN = "arn:aws:lambda:us-east-1:123456789012:function:"

func lambdaURI(fn string) string {
	return "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/" + fn + "/invocations"
}

func proxyInteg(fn string, extra M) M {
	in := M{"type": "aws_proxy", "httpMethod": "POST", "uri": lambdaURI(fn)}
	for k, v := range extra {
		in[k] = v
	}
	return in
}

func TestProxyEvent(t *testing.T) {
	e := newEnv(t, docJSON(M{
		"/items/{id}": M{"x-amazon-apigateway-any-method": op(proxyInteg(fnARN+"echo", nil), nil)},
	}, M{"x-amazon-apigateway-binary-media-types": []any{"image/png"}}))
	f := withFunctions(e, map[string]func(context.Context, []byte) (FunctionResult, error){
		fnARN + "echo": answer(`{"statusCode":200,"body":"ok"}`),
	})

	hr := httptest.NewRequest("POST", "http://localhost:4566/_aws/execute-api/testapi/prod/items/a%20b?x=1&x=2&y=3", strings.NewReader(`{"a":1}`))
	hr.RemoteAddr = "192.0.2.7:51000"
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Add("X-Multi", "one")
	hr.Header.Add("X-Multi", "two")
	hr.Header.Set("User-Agent", "test-agent")
	w := httptest.NewRecorder()
	e.s.ServeHTTP(w, hr)
	if w.Code != 200 || w.Body.String() != "ok" {
		t.Fatalf("%d %s\n%s", w.Code, w.Body, e.log)
	}
	ev := f.event(t, fnARN+"echo")
	want := map[string]any{
		"resource": "/items/{id}", "path": "/items/a%20b", "httpMethod": "POST",
		"queryStringParameters":           map[string]any{"x": "2", "y": "3"},
		"multiValueQueryStringParameters": map[string]any{"x": []any{"1", "2"}, "y": []any{"3"}},
		"pathParameters":                  map[string]any{"id": "a%20b"},
		"stageVariables":                  map[string]any{"env": "test", "stream": "from-stage"},
		"body":                            `{"a":1}`, "isBase64Encoded": false,
	}
	for k, v := range want {
		if !reflect.DeepEqual(ev[k], v) {
			t.Errorf("%s = %#v, want %#v", k, ev[k], v)
		}
	}
	h := ev["headers"].(map[string]any)
	if h["X-Multi"] != "two" || h["Host"] != "localhost:4566" || h["Content-Type"] != "application/json" ||
		h["X-Forwarded-For"] != "192.0.2.7" || h["X-Forwarded-Proto"] != "http" || h["X-Forwarded-Port"] != "80" {
		t.Errorf("headers %v", h)
	}
	if mv := ev["multiValueHeaders"].(map[string]any); !reflect.DeepEqual(mv["X-Multi"], []any{"one", "two"}) {
		t.Errorf("multiValueHeaders %v", mv)
	}
	rc := ev["requestContext"].(map[string]any)
	for k, v := range map[string]any{"accountId": "123456789012", "apiId": "testapi", "stage": "prod", "resourcePath": "/items/{id}",
		"path": "/prod/items/a%20b", "httpMethod": "POST", "protocol": "HTTP/1.1", "domainName": "localhost:4566",
		"requestId": w.Header()["x-amzn-RequestId"][0], "extendedRequestId": w.Header()["x-amz-apigw-id"][0]} {
		if rc[k] != v {
			t.Errorf("requestContext.%s = %#v, want %#v", k, rc[k], v)
		}
	}
	if _, ok := rc["authorizer"]; ok {
		t.Error("requestContext.authorizer is present without an authorizer")
	}
	for _, k := range []string{"resourceId", "requestTime", "requestTimeEpoch", "domainPrefix"} {
		if rc[k] == nil {
			t.Errorf("requestContext.%s is missing", k)
		}
	}
	id := rc["identity"].(map[string]any)
	if id["sourceIp"] != "192.0.2.7" || id["userAgent"] != "test-agent" {
		t.Errorf("identity %v", id)
	}
	if v, ok := id["cognitoIdentityId"]; !ok || v != nil {
		t.Errorf("identity.cognitoIdentityId = %v, %v; want null", v, ok)
	}

	// Nothing to send is null: no query string, no body.
	w = e.do(req{method: "GET", target: "/_aws/execute-api/testapi/prod/items/1", header: map[string]string{"x-forwarded-for": "10.0.0.1"}})
	ev = f.event(t, fnARN+"echo")
	if xff := ev["headers"].(map[string]any)["X-Forwarded-For"]; xff != "10.0.0.1, 192.0.2.7" {
		t.Errorf("X-Forwarded-For %v", xff)
	}
	for _, k := range []string{"queryStringParameters", "multiValueQueryStringParameters", "body"} {
		if v, ok := ev[k]; !ok || v != nil {
			t.Errorf("%s = %#v, %v; want null", k, v, ok)
		}
	}
	// A binary media type's body travels base64-encoded.
	e.do(req{target: "/_aws/execute-api/testapi/prod/items/1", body: "\x89PNG", header: map[string]string{"Content-Type": "image/png"}})
	ev = f.event(t, fnARN+"echo")
	if ev["body"] != "iVBORw==" || ev["isBase64Encoded"] != true {
		t.Errorf("binary body %v %v", ev["body"], ev["isBase64Encoded"])
	}
}

func TestProxyResponses(t *testing.T) {
	e := newEnv(t, docJSON(M{
		"/f":       M{"post": op(proxyInteg(fnARN+"f", nil), nil)},
		"/missing": M{"post": op(proxyInteg(fnARN+"missing", nil), nil)},
		"/slow":    M{"post": op(proxyInteg(fnARN+"slow", M{"timeoutInMillis": 50}), nil)},
		"/staged":  M{"post": op(proxyInteg(fnARN+"${stageVariables.env}", nil), nil)},
	}, M{"x-amazon-apigateway-binary-media-types": []any{"image/png"}}))
	var mu sync.Mutex
	reply := ""
	f := withFunctions(e, map[string]func(context.Context, []byte) (FunctionResult, error){
		fnARN + "f": func(context.Context, []byte) (FunctionResult, error) {
			mu.Lock()
			defer mu.Unlock()
			if strings.HasPrefix(reply, "!") {
				return FunctionResult{Payload: []byte(reply[1:]), FunctionError: "Unhandled"}, nil
			}
			return FunctionResult{Payload: []byte(reply)}, nil
		},
		fnARN + "slow": func(ctx context.Context, _ []byte) (FunctionResult, error) {
			<-ctx.Done()
			return FunctionResult{}, ctx.Err()
		},
		fnARN + "test": answer(`{"statusCode":201,"body":"from the stage's function"}`),
	})
	tests := []struct {
		name, reply string
		accept      string
		status      int
		body        string
		header      map[string]string
		log         string
	}{
		{"plain", `{"statusCode":200,"body":"hi"}`, "", 200, "hi", map[string]string{"Content-Type": "application/json"}, ""},
		{"string status and headers", `{"statusCode":"418","headers":{"Content-Type":"text/plain","X-N":5},"body":"tea"}`, "", 418, "tea",
			map[string]string{"Content-Type": "text/plain", "X-N": "5"}, ""},
		{"merged headers", `{"statusCode":200,"headers":{"X-A":"1","X-B":"b"},"multiValueHeaders":{"X-A":["1","2"]}}`, "", 200, "",
			map[string]string{"X-A": "1,2", "X-B": "b"}, ""},
		{"null fields", `{"statusCode":204,"headers":null,"multiValueHeaders":null,"body":null,"isBase64Encoded":null}`, "", 204, "", nil, ""},
		{"base64 to a binary Accept", `{"statusCode":200,"body":"iVBORw==","isBase64Encoded":true,"headers":{"Content-Type":"image/png"}}`, "image/png", 200, "\x89PNG", nil, ""},
		{"base64 to a text Accept", `{"statusCode":200,"body":"iVBORw==","isBase64Encoded":true}`, "application/json", 200, "iVBORw==", nil, ""},
		{"body not a string", `{"statusCode":200,"body":{"a":1}}`, "", 502, `{"message":"Internal server error"}`, nil, "Malformed Lambda proxy response: body must be a string"},
		{"unexpected field", `{"statusCode":200,"bdy":"x"}`, "", 502, `{"message":"Internal server error"}`, nil, "Malformed Lambda proxy response: unexpected field"},
		{"no status", `{"body":"x"}`, "", 502, `{"message":"Internal server error"}`, nil, "Malformed Lambda proxy response: statusCode is missing"},
		{"not an object", `"hello"`, "", 502, `{"message":"Internal server error"}`, nil, "Malformed Lambda proxy response"},
		{"function error", `!{"errorMessage":"boom","errorType":"Error"}`, "", 502, `{"message":"Internal server error"}`, nil, "customer function error: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			reply = tt.reply
			mu.Unlock()
			h := map[string]string{}
			if tt.accept != "" {
				h["Accept"] = tt.accept
			}
			w := e.do(req{target: "/_aws/execute-api/testapi/prod/f", header: h})
			if w.Code != tt.status || w.Body.String() != tt.body {
				t.Errorf("%d %q, want %d %q", w.Code, w.Body, tt.status, tt.body)
			}
			for k, v := range tt.header {
				if got := strings.Join(w.Header().Values(k), ","); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if tt.log != "" && !strings.Contains(e.log.String(), tt.log) {
				t.Errorf("the log does not say %q:\n%s", tt.log, e.log)
			}
		})
	}

	w := e.do(req{target: "/_aws/execute-api/testapi/prod/missing"})
	if w.Code != 500 || w.Body.String() != `{"message":"Internal server error"}` || !strings.Contains(e.log.String(), "Function not found: "+fnARN+"missing") {
		t.Errorf("unknown function: %d %s\n%s", w.Code, w.Body, e.log)
	}
	w = e.do(req{target: "/_aws/execute-api/testapi/prod/slow"})
	if w.Code != 504 || w.Body.String() != `{"message":"Endpoint request timed out"}` {
		t.Errorf("timeout: %d %s", w.Code, w.Body)
	}
	w = e.do(req{target: "/_aws/execute-api/testapi/prod/staged"})
	if w.Code != 201 || f.count(fnARN+"test") != 1 {
		t.Errorf("stage variable in the ARN: %d %s", w.Code, w.Body)
	}
}

func TestLambdaAWSIntegration(t *testing.T) {
	e := newEnv(t, docJSON(M{
		"/calc": M{"post": op(M{"type": "aws", "httpMethod": "POST", "uri": lambdaURI(fnARN + "calc"),
			"requestTemplates": M{"application/json": `{"n": $input.json('$.n'), "stage": "$context.stage"}`},
			"responses": M{
				"default":     M{"statusCode": "200", "responseTemplates": M{"application/json": `{"result": $input.json('$.result')}`}},
				".*not.*":     M{"statusCode": "400", "responseTemplates": M{"application/json": `{"error": "$input.path('$.errorMessage')"}`}},
				"Unavailable": M{"statusCode": "503"},
			}}, nil)},
	}, nil))
	f := withFunctions(e, map[string]func(context.Context, []byte) (FunctionResult, error){
		fnARN + "calc": func(_ context.Context, event []byte) (FunctionResult, error) {
			var in struct {
				N     json.Number `json:"n"`
				Stage string      `json:"stage"`
			}
			if err := json.Unmarshal(event, &in); err != nil || in.Stage != "prod" {
				return FunctionResult{Payload: []byte(`{"errorMessage":"bad event"}`), FunctionError: "Unhandled"}, nil
			}
			switch in.N {
			case "0":
				return FunctionResult{Payload: []byte(`{"errorMessage":"n is not positive","errorType":"ValueError"}`), FunctionError: "Unhandled"}, nil
			case "1":
				return FunctionResult{Payload: []byte(`{"errorMessage":"Unavailable"}`), FunctionError: "Handled"}, nil
			case "2":
				return FunctionResult{Payload: []byte(`{"errorMessage":"something else"}`), FunctionError: "Unhandled"}, nil
			}
			return FunctionResult{Payload: []byte(`{"result": ` + string(in.N) + `}`)}, nil
		},
	})
	for _, tt := range []struct {
		body   string
		status int
		want   string
	}{
		{`{"n": 7}`, 200, `{"result": 7}`},
		{`{"n": 0}`, 400, `{"error": "n is not positive"}`},
		{`{"n": 1}`, 503, `{"errorMessage":"Unavailable"}`},
		// No pattern matches the error: the default response, as on AWS.
		{`{"n": 2}`, 200, `{"result": ""}`},
	} {
		w := e.do(req{target: "/_aws/execute-api/testapi/prod/calc", body: tt.body})
		if w.Code != tt.status || w.Body.String() != tt.want {
			t.Errorf("%s: %d %s, want %d %s", tt.body, w.Code, w.Body, tt.status, tt.want)
		}
	}
	if f.count(fnARN+"calc") != 4 {
		t.Errorf("calls %d", f.count(fnARN+"calc"))
	}
}

func TestLambdaURIs(t *testing.T) {
	for _, tt := range []struct{ uri, fn, err string }{
		{lambdaURI(fnARN + "f"), fnARN + "f", ""},
		{lambdaURI(fnARN + "f:live"), fnARN + "f:live", ""},
		{lambdaURI("f"), "f", ""},
		{"arn:aws:apigateway:us-east-1:lambda:path/f", "", "does not name a Lambda function"},
		{"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions//invocations", "", "does not name a Lambda function"},
		{"arn:aws:apigateway:us-east-1:lambda:action/Invoke", "", "does not name a Lambda function"},
		{"arn:aws:apigateway:us-east-1:kinesis:path/2015-03-31/functions/f/invocations", "", "does not name a Lambda function"},
		{"http://example.com", "", "is not of the form"},
	} {
		fn, err := gateway.LambdaFunction(tt.uri)
		if fn != tt.fn || (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%s: %q %v", tt.uri, fn, err)
		}
	}
	// An AWS_PROXY integration of anything but a Lambda function does not deploy.
	api, err := gateway.ImportOpenAPI([]byte(docJSON(M{"/k": M{"post": op(M{"type": "aws_proxy", "httpMethod": "POST",
		"uri": "arn:aws:apigateway:us-east-1:kinesis:action/PutRecord"}, nil)}}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := NewServer(Options{}).Deploy(api, []gateway.Stage{{Name: "prod"}}); err == nil || !strings.Contains(err.Error(), "does not name a Lambda function") {
		t.Errorf("Deploy: %v", err)
	}
}

func TestParseProxyResponseBadInputs(t *testing.T) {
	for _, tt := range []struct{ in, err string }{
		{``, "not a JSON object"},
		{`null`, "not a JSON object"},
		{`[]`, "not a JSON object"},
		{`"x"`, "not a JSON object"},
		{`{`, "not valid JSON"},
		{`{"statusCode":200} {}`, "data after"},
		{`{}`, "statusCode is missing"},
		{`{"statusCode":null}`, "must be an integer"},
		{`{"statusCode":true}`, "must be an integer"},
		{`{"statusCode":200.5}`, "not an HTTP status code"},
		{`{"statusCode":"abc"}`, "not an HTTP status code"},
		{`{"statusCode":99}`, "not an HTTP status code"},
		{`{"statusCode":600}`, "not an HTTP status code"},
		{`{"statusCode":200,"headers":[]}`, "headers must be an object"},
		{`{"statusCode":200,"headers":{"a":{}}}`, `header "a" must be a string`},
		{`{"statusCode":200,"headers":{"a":null}}`, `header "a" must be a string`},
		{`{"statusCode":200,"multiValueHeaders":{"a":"x"}}`, "must be a list of strings"},
		{`{"statusCode":200,"multiValueHeaders":{"a":[{}]}}`, "must be a list of strings"},
		{`{"statusCode":200,"multiValueHeaders":[]}`, "must be an object of lists"},
		{`{"statusCode":200,"body":1}`, "body must be a string"},
		{`{"statusCode":200,"body":[]}`, "body must be a string"},
		{`{"statusCode":200,"isBase64Encoded":"true"}`, "isBase64Encoded must be a boolean"},
		{`{"statusCode":200,"cookies":[]}`, `unexpected field "cookies"`},
	} {
		if _, err := parseProxyResponse([]byte(tt.in)); err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%s: %v, want %q", tt.in, err, tt.err)
		}
	}
}

func FuzzParseProxyResponse(f *testing.F) {
	for _, s := range []string{
		`{"statusCode":200,"headers":{"a":"b"},"multiValueHeaders":{"a":["b","c"]},"body":"x","isBase64Encoded":false}`,
		`{"statusCode":"404"}`, `{"statusCode":200,"body":null}`, `{"body":"x"}`, `[]`, `{"statusCode":1e2}`,
		`{"statusCode":200,"headers":{"n":1.5,"b":true}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		pr, err := parseProxyResponse(b)
		if err != nil {
			if pr != nil {
				t.Fatal("a response with an error")
			}
			return
		}
		if pr.statusCode < 100 || pr.statusCode > 599 {
			t.Fatalf("status %d", pr.statusCode)
		}
		if !json.Valid(b) {
			t.Fatalf("accepted invalid JSON %q", b)
		}
		h := pr.header()
		for _, d := range droppedProxyHeaders {
			if len(h.Values(d)) > 0 {
				t.Fatalf("kept %s", d)
			}
		}
	})
}

func TestLambdaAsyncInvocation(t *testing.T) {
	integ := func(typ string) M {
		return M{"type": "aws", "httpMethod": "POST", "uri": lambdaURI(fnARN + "bg"),
			"requestParameters": M{"integration.request.header.X-Amz-Invocation-Type": "'" + typ + "'"},
			"requestTemplates":  M{"application/json": `{"job": $input.json('$.job')}`},
			"responses":         M{"default": M{"statusCode": "202", "responseTemplates": M{"application/json": `{"queued": "$context.requestId"}`}}}}
	}
	e := newEnv(t, docJSON(M{"/jobs": M{"post": op(integ("Event"), nil)}, "/dry": M{"post": op(integ("DryRun"), nil)}}, nil))
	release, ran := make(chan struct{}), make(chan string, 1)
	f := withFunctions(e, map[string]func(context.Context, []byte) (FunctionResult, error){
		fnARN + "bg": func(_ context.Context, event []byte) (FunctionResult, error) {
			<-release
			ran <- string(event)
			return FunctionResult{Payload: []byte(`{"errorMessage":"failed later"}`), FunctionError: "Unhandled"}, nil
		},
	})
	srv := httptest.NewServer(e.s)
	defer srv.Close()
	// The answer arrives while the function is still waiting to be released.
	resp, err := srv.Client().Post(srv.URL+"/_aws/execute-api/testapi/prod/jobs", "application/json", strings.NewReader(`{"job": 7}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 202 || !strings.HasPrefix(string(body), `{"queued": "`) {
		t.Errorf("%d %s", resp.StatusCode, body)
	}
	close(release)
	if ev := <-ran; ev != `{"job": 7}` {
		t.Errorf("the function got %s", ev)
	}
	srv.Close() // waits for the handler, which logs the function's failure
	if !strings.Contains(e.log.String(), "an asynchronously invoked function failed: failed later") {
		t.Errorf("the failure is not logged:\n%s", e.log)
	}
	// DryRun answers without calling the function.
	w := e.do(req{target: "/_aws/execute-api/testapi/prod/dry", body: `{"job": 8}`})
	if w.Code != 202 || f.count(fnARN+"bg") != 1 {
		t.Errorf("DryRun: %d %s, %d calls", w.Code, w.Body, f.count(fnARN+"bg"))
	}
}
