package gatewayapi

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/localpipe/localpipe/gateway"
)

type M = map[string]any

// docJSON builds an OpenAPI 3.0 document from Go maps, sparing the tests JSON escapes.
func docJSON(paths M, root M) string {
	d := M{"openapi": "3.0.1", "info": M{"title": "TestAPI", "version": "1"}, "paths": paths}
	for k, v := range root {
		d[k] = v
	}
	b, err := json.Marshal(d)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func awsInteg(action string, templates M, responses M, extra M) M {
	in := M{"type": "aws", "httpMethod": "POST", "uri": "arn:aws:apigateway:us-east-1:" + action,
		"passthroughBehavior": "when_no_match"}
	if templates != nil {
		in["requestTemplates"] = templates
	}
	if responses == nil {
		responses = M{"default": M{"statusCode": "200"}}
	}
	in["responses"] = responses
	for k, v := range extra {
		in[k] = v
	}
	return in
}

func op(integ M, extra M) M {
	o := M{"x-amazon-apigateway-integration": integ}
	for k, v := range extra {
		o[k] = v
	}
	return o
}

var apiKeyScheme = M{"components": M{"securitySchemes": M{"api_key": M{"type": "apiKey", "name": "x-api-key", "in": "header"}}}}

const (
	goodKey  = "abcdefghijklmnopqrstuvwxyz"
	otherKey = "zyxwvutsrqponmlkjihgfedcba"
)

func TestAPIKeys(t *testing.T) {
	mock := func(tmpl string) M {
		return M{"type": "mock", "requestTemplates": M{"application/json": `{"statusCode": 200}`},
			"responses": M{"default": M{"statusCode": "200", "responseTemplates": M{"application/json": tmpl}}}}
	}
	e := newEnv(t, docJSON(M{
		"/secure": M{"post": op(mock(`{"key":"$context.identity.apiKey","id":"$context.identity.apiKeyId"}`), M{"security": []any{M{"api_key": []any{}}}})},
		"/open":   M{"post": op(mock(`{"key":"$context.identity.apiKey"}`), nil)},
	}, apiKeyScheme))
	if err := e.s.AddAPIKey(APIKey{ID: "key1", Name: "good", Value: goodKey}); err != nil {
		t.Fatal(err)
	}
	if err := e.s.AddAPIKey(APIKey{ID: "key2", Name: "dev only", Value: otherKey, Stages: []string{"testapi/dev"}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, key string
		status          int
		body            string
	}{
		{"missing", "/secure", "", 403, `{"message":"Forbidden"}`},
		{"unknown", "/secure", "nope-nope-nope-nope-nope", 403, `{"message":"Forbidden"}`},
		{"other stage", "/secure", otherKey, 403, `{"message":"Forbidden"}`},
		{"good", "/secure", goodKey, 200, `{"key":"` + goodKey + `","id":"key1"}`},
		{"not required", "/open", goodKey, 200, `{"key":""}`},
		{"not required, none", "/open", "", 200, `{"key":""}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]string{}
			if tc.key != "" {
				h["X-API-Key"] = tc.key
			}
			w := e.do(req{target: "/_aws/execute-api/testapi/prod" + tc.path, header: h})
			if w.Code != tc.status || w.Body.String() != tc.body {
				t.Errorf("got %d %s, want %d %s", w.Code, w.Body, tc.status, tc.body)
			}
			if tc.status == 403 && w.Header()["x-amzn-ErrorType"][0] != "ForbiddenException" {
				t.Errorf("x-amzn-ErrorType %q", w.Header()["x-amzn-ErrorType"])
			}
		})
	}
	for _, k := range []APIKey{
		{Name: "short", Value: "short"},
		{Name: "bad stage", Value: goodKey + "x", Stages: []string{"prod"}},
		{ID: "key3", Name: "duplicate value", Value: goodKey},
	} {
		if err := e.s.AddAPIKey(k); err == nil {
			t.Errorf("AddAPIKey(%+v) accepted", k)
		}
	}
	// Replacing a key by id retires its old value.
	if err := e.s.AddAPIKey(APIKey{ID: "key1", Name: "rotated", Value: goodKey + "-2"}); err != nil {
		t.Fatal(err)
	}
	if w := e.do(req{target: "/_aws/execute-api/testapi/prod/secure", header: map[string]string{"X-Api-Key": goodKey}}); w.Code != 403 {
		t.Errorf("old value still accepted: %d", w.Code)
	}
}

func TestPayloadTooLarge(t *testing.T) {
	defer func(n int64) { MaxPayloadSize = n }(MaxPayloadSize)
	MaxPayloadSize = 100
	e := newEnv(t, openapi(putRecordPath))
	// JSON, since the template reads $input.path (a body that is not JSON would be a 400).
	ok := `{"key":"` + strings.Repeat("a", 90) + `"}`
	if w := e.do(req{target: "/_aws/execute-api/testapi/prod/stream", body: ok}); w.Code != 200 {
		t.Fatalf("100 bytes: %d %s", w.Code, w.Body)
	}
	w := e.do(req{target: "/_aws/execute-api/testapi/prod/stream", body: ok + "a"})
	if w.Code != 413 || w.Body.String() != `{"message":"Request Too Long"}` {
		t.Errorf("101 bytes: %d %s", w.Code, w.Body)
	}
	// Without a Content-Length (chunked), the limit holds while reading.
	hr := httptest.NewRequest("POST", "http://localhost/_aws/execute-api/testapi/prod/stream", io.MultiReader(strings.NewReader(ok), strings.NewReader("ab")))
	hr.ContentLength = -1
	rec := httptest.NewRecorder()
	e.s.ServeHTTP(rec, hr)
	if rec.Code != 413 {
		t.Errorf("chunked: %d %s", rec.Code, rec.Body)
	}
	if e.inv.count() != 1 {
		t.Errorf("invoker called %d times", e.inv.count())
	}
}

func TestValidators(t *testing.T) {
	doc := docJSON(M{
		"/items/{id}": M{"post": op(awsInteg("kinesis:action/PutRecord", M{"application/json": `{"id":"$input.params('id')"}`}, nil, nil), M{
			"x-amazon-apigateway-request-validator": "all",
			"parameters": []any{
				M{"name": "id", "in": "path", "required": true, "schema": M{"type": "string"}},
				M{"name": "q", "in": "query", "required": true, "schema": M{"type": "string"}},
				M{"name": "X-Trace", "in": "header", "required": true, "schema": M{"type": "string"}},
				M{"name": "opt", "in": "query", "schema": M{"type": "string"}},
			},
			"requestBody": M{"content": M{"application/json": M{"schema": M{"$ref": "#/components/schemas/Event"}}}},
		})},
		"/params-only": M{"post": op(awsInteg("kinesis:action/PutRecord", nil, nil, nil), M{
			"x-amazon-apigateway-request-validator": "params",
			"parameters":                            []any{M{"name": "q", "in": "query", "required": true, "schema": M{"type": "string"}}},
			"requestBody":                           M{"content": M{"application/json": M{"schema": M{"$ref": "#/components/schemas/Event"}}}},
		})},
	}, M{
		"x-amazon-apigateway-request-validators": M{
			"all":    M{"validateRequestBody": true, "validateRequestParameters": true},
			"params": M{"validateRequestBody": false, "validateRequestParameters": true},
		},
		"x-amazon-apigateway-gateway-responses": M{
			"BAD_REQUEST_BODY": M{"responseTemplates": M{"text/plain": `$context.error.message: $context.error.validationErrorString`}},
		},
		"components": M{"schemas": M{
			"Event": M{"type": "object", "required": []any{"name"}, "additionalProperties": false, "properties": M{
				"name":  M{"type": "string", "minLength": 2},
				"count": M{"type": "integer", "minimum": 1, "maximum": 10},
				"tags":  M{"type": "array", "items": M{"$ref": "#/components/schemas/Tag"}},
			}},
			"Tag": M{"type": "string", "enum": []any{"a", "b"}},
		}},
	})
	e := newEnv(t, doc)
	good := map[string]string{"X-Trace": "t1"}
	base := "/_aws/execute-api/testapi/prod"
	for _, tc := range []struct {
		name, target, body string
		header             map[string]string
		status             int
		want               string
	}{
		{"all missing", "/items/1", `{"name":"ok"}`, nil, 400, `{"message":"Missing required request parameters: [X-Trace, q]"}`},
		{"header missing", "/items/1?q=1", `{"name":"ok"}`, nil, 400, `{"message":"Missing required request parameters: [X-Trace]"}`},
		{"ok", "/items/1?q=1", `{"name":"ok","count":3,"tags":["a"]}`, good, 200, ""},
		{"empty query value counts", "/items/1?q=", `{"name":"ok"}`, good, 200, ""},
		{"body not JSON", "/items/1?q=1", `nope`, good, 400, ""},
		{"required property", "/items/1?q=1", `{"count":1}`, good, 400, `object has missing required properties (["name"])`},
		{"type", "/items/1?q=1", `{"name":"ok","count":"3"}`, good, 400, `instance type (string) does not match any allowed primitive type (allowed: ["integer"])`},
		{"integer not number", "/items/1?q=1", `{"name":"ok","count":2.5}`, good, 400, `instance type (number)`},
		{"maximum", "/items/1?q=1", `{"name":"ok","count":11}`, good, 400, `numeric instance is greater than the required maximum (maximum: 10, found: 11)`},
		{"minLength", "/items/1?q=1", `{"name":"o"}`, good, 400, `string "o" is too short (length: 1, required minimum: 2)`},
		{"enum through $ref", "/items/1?q=1", `{"name":"ok","tags":["c"]}`, good, 400, `instance value ("c") not found in enum (possible values: ["a","b"])`},
		{"additionalProperties", "/items/1?q=1", `{"name":"ok","x":1}`, good, 400, `object instance has properties which are not allowed by the schema: ["x"]`},
		{"other media type is not checked", "/items/1?q=1", `x`, map[string]string{"X-Trace": "t", "Content-Type": "text/plain"}, 200, ""},
		{"params only", "/params-only?q=1", `{}`, nil, 200, ""},
		{"params only missing", "/params-only", `{}`, nil, 400, `{"message":"Missing required request parameters: [q]"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := e.do(req{target: base + tc.target, body: tc.body, header: tc.header})
			if w.Code != tc.status {
				t.Fatalf("status %d, body %s", w.Code, w.Body)
			}
			if tc.status == 400 && w.Header()["x-amzn-ErrorType"][0] != "BadRequestException" {
				t.Errorf("x-amzn-ErrorType %q", w.Header()["x-amzn-ErrorType"])
			}
			if strings.HasPrefix(tc.want, "{") {
				if w.Body.String() != tc.want {
					t.Errorf("body %s, want %s", w.Body, tc.want)
				}
			} else if tc.status == 400 {
				if !strings.HasPrefix(w.Body.String(), "Invalid request body: [") || !strings.Contains(w.Body.String(), tc.want) {
					t.Errorf("body %s, want it to hold %s", w.Body, tc.want)
				}
				if ct := w.Header().Get("Content-Type"); ct != "text/plain" {
					t.Errorf("Content-Type %q", ct)
				}
			}
		})
	}
	// Without the customisation the body is AWS's default.
	e2 := newEnv(t, strings.Replace(doc, `"BAD_REQUEST_BODY"`, `"QUOTA_EXCEEDED"`, 1))
	w := e2.do(req{target: base + "/items/1?q=1", body: `{}`, header: good})
	if w.Code != 400 || w.Body.String() != `{"message":"Invalid request body"}` {
		t.Errorf("default: %d %s", w.Code, w.Body)
	}
}

func TestGatewayResponses(t *testing.T) {
	e := newEnv(t, docJSON(M{
		"/lambda": M{"post": op(M{"type": "aws_proxy", "httpMethod": "POST",
			"uri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:f/invocations"}, nil)},
	}, M{"x-amazon-apigateway-gateway-responses": M{
		"DEFAULT_4XX": M{
			"responseParameters": M{"gatewayresponse.header.Access-Control-Allow-Origin": "'*'",
				"gatewayresponse.header.X-Echo": "method.request.header.X-Client", "gatewayresponse.header.X-Stage": "stageVariables.env",
				"gatewayresponse.querystring.ignored": "'x'"},
			"responseTemplates": M{"application/json": `{"msg":$context.error.messageString,"type":"$context.error.responseType","stage":"$context.stage"}`},
		},
		"INVALID_API_KEY": M{"statusCode": "401"},
		"DEFAULT_5XX":     M{"responseTemplates": M{"application/json": `{"oops":$context.error.messageString}`}},
	}}))
	w := e.do(req{target: "/_aws/execute-api/testapi/prod/nothing", header: map[string]string{"X-Client": "c1"}})
	if w.Code != 403 || w.Body.String() != `{"msg":"Missing Authentication Token","type":"MISSING_AUTHENTICATION_TOKEN","stage":"prod"}` {
		t.Errorf("DEFAULT_4XX: %d %s", w.Code, w.Body)
	}
	if h := w.Header(); h.Get("Access-Control-Allow-Origin") != "*" || h.Get("X-Echo") != "c1" || h.Get("X-Stage") != "test" {
		t.Errorf("headers %v", h)
	}
	// Unknown stage: the API's customisation still applies.
	if w := e.do(req{target: "/_aws/execute-api/testapi/beta/nothing"}); !strings.Contains(w.Body.String(), `"type":"MISSING_AUTHENTICATION_TOKEN"`) {
		t.Errorf("unknown stage: %s", w.Body)
	}
	w = e.do(req{target: "/_aws/execute-api/testapi/prod/lambda"})
	if w.Code != 500 || w.Body.String() != `{"oops":"Internal server error"}` {
		t.Errorf("DEFAULT_5XX: %d %s", w.Code, w.Body)
	}
	if !strings.Contains(e.log.String(), "no functions are configured") {
		t.Errorf("no log line for the Lambda call: %s", e.log)
	}
}

func TestDeployErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		path M
		want string
	}{
		{"path-style AWS uri", M{"/x": M{"post": op(M{"type": "aws", "httpMethod": "POST", "uri": "arn:aws:apigateway:us-east-1:kinesis:path/streams"}, nil)}},
			"POST /x: integration uri"},
		{"other service", M{"/x": M{"put": op(M{"type": "aws", "httpMethod": "POST", "uri": "arn:aws:apigateway:us-east-1:sqs:action/SendMessage"}, nil)}},
			"PUT /x: integration uri \"arn:aws:apigateway:us-east-1:sqs:action/SendMessage\": localpipe emulates only kinesis and firehose, not sqs"},
		{"no integration", M{"/x": M{"get": M{"responses": M{"200": M{"description": "ok"}}}}}, "GET /x: the method has no integration"},
		{"template does not parse", M{"/x": M{"post": op(awsInteg("kinesis:action/PutRecord", M{"application/json": `#if(`}, nil, nil), nil)}},
			"POST /x: requestTemplates"},
		{"response template does not parse", M{"/x": M{"post": op(awsInteg("kinesis:action/PutRecord", nil,
			M{"default": M{"statusCode": "200", "responseTemplates": M{"application/json": `#foreach(`}}}, nil), nil)}},
			"POST /x: integration response \"default\": responseTemplates"},
		{"body JSONPath", M{"/x": M{"post": op(awsInteg("kinesis:action/PutRecord", nil,
			M{"default": M{"statusCode": "200", "responseParameters": M{"method.response.header.X": "integration.response.body.a'b"}}}, nil), nil)}},
			"invalid JSONPath"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api, err := gateway.ImportOpenAPI([]byte(docJSON(tc.path, nil)))
			if err != nil {
				t.Fatalf("import: %v", err)
			}
			err = NewServer(Options{}).Deploy(api, []gateway.Stage{{Name: "prod"}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Deploy: %v, want it to hold %q", err, tc.want)
			}
		})
	}
	api, _ := gateway.ImportOpenAPI([]byte(openapi(putRecordPath)))
	s := NewServer(Options{})
	for _, stages := range [][]gateway.Stage{
		{{Name: "bad stage"}},
		{{Name: "prod"}, {Name: "prod"}},
		{{Name: "prod", Variables: map[string]string{"bad-name": "x"}}},
		{{Name: "prod", Variables: map[string]string{"v": strings.Repeat("x", 513)}}},
	} {
		if err := s.Deploy(api, stages); err == nil {
			t.Errorf("Deploy(%v) accepted", stages)
		}
	}
	if err := s.Deploy(nil, nil); err == nil {
		t.Error("Deploy(nil) accepted")
	}
	// A model a validator cannot use.
	api, err := gateway.ImportOpenAPI([]byte(docJSON(M{"/x": M{"post": op(awsInteg("kinesis:action/PutRecord", nil, nil, nil), M{
		"x-amazon-apigateway-request-validator": "body",
		"requestBody":                           M{"content": M{"application/json": M{"schema": M{"$ref": "#/components/schemas/Bad"}}}},
	})}}, M{
		"x-amazon-apigateway-request-validators": M{"body": M{"validateRequestBody": true}},
		"components":                             M{"schemas": M{"Bad": M{"type": "string", "pattern": "(?<=a)b"}}},
	})))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Deploy(api, []gateway.Stage{{Name: "prod"}}); err == nil || !strings.Contains(err.Error(), `POST /x: request model "Bad"`) {
		t.Errorf("bad model: %v", err)
	}
}

func TestDeployments(t *testing.T) {
	s := NewServer(Options{})
	a, _ := gateway.ImportOpenAPI([]byte(openapi(putRecordPath)))
	a.ID = "bbb"
	b, _ := gateway.ImportOpenAPI([]byte(openapi(putRecordPath)))
	b.ID = "aaa"
	if err := s.Deploy(a, []gateway.Stage{{Name: "prod"}, {Name: "dev"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Deploy(b, []gateway.Stage{{Name: "v1"}}); err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(s.Deployments())
	if want := "[{aaa TestAPI v1} {bbb TestAPI dev} {bbb TestAPI prod}]"; got != want {
		t.Errorf("Deployments() = %s, want %s", got, want)
	}
	// Redeploying replaces the stages.
	if err := s.Deploy(a, []gateway.Stage{{Name: "prod"}}); err != nil {
		t.Fatal(err)
	}
	if got := len(s.Deployments()); got != 2 {
		t.Errorf("after redeploy %d deployments", got)
	}
}

func TestContextVariables(t *testing.T) {
	tmpl := `{"requestId":"$context.requestId","extendedRequestId":"$context.extendedRequestId",` +
		`"requestTime":"$context.requestTime","requestTimeEpoch":$context.requestTimeEpoch,"path":"$context.path",` +
		`"resourcePath":"$context.resourcePath","resourceId":"$context.resourceId","httpMethod":"$context.httpMethod",` +
		`"stage":"$context.stage","apiId":"$context.apiId","accountId":"$context.accountId","protocol":"$context.protocol",` +
		`"domainName":"$context.domainName","domainPrefix":"$context.domainPrefix","sourceIp":"$context.identity.sourceIp",` +
		`"userAgent":"$context.identity.userAgent","apiKey":"$context.identity.apiKey","apiKeyId":"$context.identity.apiKeyId",` +
		`"caller":"$context.identity.caller","env":"$stageVariables.env","envIndex":"$stageVariables['env']",` +
		`"id":"$input.params('id')","q":"$input.params('q')","h":"$input.params('x-client')","body":$input.json('$')}`
	e := newEnv(t, docJSON(M{"/things/{id}": M{"x-amazon-apigateway-any-method": op(awsInteg("firehose:action/PutRecord", M{"application/json": tmpl}, nil, nil),
		M{"security": []any{M{"api_key": []any{}}}})}}, apiKeyScheme))
	if err := e.s.AddAPIKey(APIKey{ID: "kid", Value: goodKey}); err != nil {
		t.Fatal(err)
	}
	e.s.now = func() time.Time { return time.Date(2026, 3, 23, 9, 51, 59, 123e6, time.FixedZone("x", 3600)) }
	w := e.do(req{method: "PATCH", target: "/_aws/execute-api/testapi/prod/things/a%20b?q=1&q=2", body: `{"n":1}`,
		header: map[string]string{"X-Client": "c", "User-Agent": "curl/8.0", "X-Api-Key": goodKey}})
	if w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	inv := e.inv.last(t)
	got := decodeJSON(t, []byte(inv.body))
	res := e.api.Resource("/things/{id}")
	want := M{
		"requestId": w.Header()["x-amzn-RequestId"][0], "extendedRequestId": w.Header()["x-amz-apigw-id"][0],
		"requestTime": "23/Mar/2026:08:51:59 +0000", "requestTimeEpoch": float64(1774255919123), "path": "/prod/things/a%20b",
		"resourcePath": "/things/{id}", "resourceId": res.ID, "httpMethod": "PATCH", "stage": "prod", "apiId": "testapi",
		"accountId": "123456789012", "protocol": "HTTP/1.1", "domainName": "localhost:4566", "domainPrefix": "localhost:4566",
		"sourceIp": "192.0.2.7", "userAgent": "curl/8.0", "apiKey": goodKey, "apiKeyId": "kid", "caller": "",
		"env": "test", "envIndex": "test", "id": "a%20b", "q": "2", "h": "c", "body": M{"n": float64(1)},
	}
	for k, v := range want {
		if fmt.Sprint(got[k]) != fmt.Sprint(v) {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d keys, want %d", len(got), len(want))
	}
	if inv.service != "firehose" || inv.action != "PutRecord" {
		t.Errorf("invocation %+v", inv)
	}
}

func TestPassthroughBehavior(t *testing.T) {
	// aws-semantics.md A.6, the truth table of [AGW-PASS]: T transformed, P passed through,
	// 415 refused.
	rows := []struct {
		templates   M
		contentType string
		want        [3]string // WHEN_NO_MATCH, WHEN_NO_TEMPLATES, NEVER
	}{
		{M{"application/json": `T`}, "", [3]string{"T", "T", "T"}},
		{M{"application/json": `T`}, "application/json", [3]string{"T", "T", "T"}},
		{M{"application/json": `T`}, "application/xml", [3]string{"P", "415", "415"}},
		{M{"application/xml": `T`}, "", [3]string{"P", "415", "415"}},
		{M{"application/xml": `T`}, "application/json", [3]string{"P", "415", "415"}},
		{M{"application/xml": `T`}, "application/xml", [3]string{"T", "T", "T"}},
		{nil, "application/json", [3]string{"P", "P", "415"}},
		{nil, "text/plain", [3]string{"P", "P", "415"}},
		{M{"Application/JSON": `T`}, "application/json; charset=UTF-8", [3]string{"T", "T", "T"}},
	}
	for i, row := range rows {
		for j, behaviour := range []string{"when_no_match", "when_no_templates", "never"} {
			t.Run(fmt.Sprintf("%d/%s", i, behaviour), func(t *testing.T) {
				e := newEnv(t, docJSON(M{"/x": M{"post": op(awsInteg("kinesis:action/PutRecord", row.templates, nil,
					M{"passthroughBehavior": behaviour}), nil)}}, nil))
				h := map[string]string{}
				if row.contentType != "" {
					h["Content-Type"] = row.contentType
				}
				w := e.do(req{target: "/_aws/execute-api/testapi/prod/x", body: "P", header: h})
				want := row.want[j]
				if want == "415" {
					if w.Code != 415 || w.Body.String() != `{"message":"Unsupported Media Type"}` || e.inv.count() != 0 {
						t.Errorf("got %d %s, want 415", w.Code, w.Body)
					}
					return
				}
				if w.Code != 200 || e.inv.last(t).body != want {
					t.Errorf("got %d, integration body %q, want %q", w.Code, e.inv.last(t).body, want)
				}
			})
		}
	}
}

func TestBinaryMediaTypes(t *testing.T) {
	png := "\x89PNG\r\n\x1a\n\x00\xff"
	tmpl := M{"image/png": `{"Data":"$input.body"}`}
	for _, tc := range []struct {
		name, handling, want string
	}{
		{"binary passes through", "", png},
		{"CONVERT_TO_TEXT base64-encodes for the template", "CONVERT_TO_TEXT", `{"Data":"iVBORw0KGgoA/w=="}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			extra := M{}
			if tc.handling != "" {
				extra["contentHandling"] = tc.handling
			}
			e := newEnv(t, docJSON(M{"/img": M{"post": op(awsInteg("firehose:action/PutRecord", tmpl, nil, extra), nil)}},
				M{"x-amazon-apigateway-binary-media-types": []any{"image/*"}}))
			w := e.do(req{target: "/_aws/execute-api/testapi/prod/img", body: png, header: map[string]string{"Content-Type": "image/png"}})
			if w.Code != 200 || e.inv.last(t).body != tc.want {
				t.Errorf("%d, integration body %q, want %q", w.Code, e.inv.last(t).body, tc.want)
			}
		})
	}
	// CONVERT_TO_BINARY turns a text (base64) body into bytes.
	e := newEnv(t, docJSON(M{"/b": M{"post": op(awsInteg("firehose:action/PutRecord", nil, nil, M{"contentHandling": "CONVERT_TO_BINARY"}), nil)}}, nil))
	if w := e.do(req{target: "/_aws/execute-api/testapi/prod/b", body: "aGk="}); w.Code != 200 || e.inv.last(t).body != "hi" {
		t.Errorf("CONVERT_TO_BINARY: %d %q", w.Code, e.inv.last(t).body)
	}
	if w := e.do(req{target: "/_aws/execute-api/testapi/prod/b", body: "not base64!"}); w.Code != 500 {
		t.Errorf("CONVERT_TO_BINARY of bad base64: %d", w.Code)
	}
}

func TestIntegrationResponses(t *testing.T) {
	notFound := func(string, string, []byte) (int, string, []byte) {
		return 400, "application/x-amz-json-1.1", []byte(`{"__type":"ResourceNotFoundException","message":"Stream s1 under account 123456789012 not found."}`)
	}
	errBody := `{"__type":"ResourceNotFoundException","message":"Stream s1 under account 123456789012 not found."}`
	for _, tc := range []struct {
		name      string
		responses M
		status    int
		body      string
		header    map[string]string
	}{
		{"only default: the error is a 200", M{"default": M{"statusCode": "200"}}, 200, errBody, nil},
		{"pattern", M{"default": M{"statusCode": "200"}, `4\d{2}`: M{"statusCode": "400"}, `5\d{2}`: M{"statusCode": "500"}}, 400, errBody, nil},
		{"pattern must match the whole status", M{"default": M{"statusCode": "200"}, `4`: M{"statusCode": "418"}}, 200, errBody, nil},
		{"no match, no default", M{`5\d{2}`: M{"statusCode": "500"}}, 500, `{"message":"Internal server error"}`, nil},
		{"parameters", M{"default": M{"statusCode": "200", "responseParameters": M{
			"method.response.header.Content-Type": "integration.response.header.Content-Type",
			"method.response.header.X-Type":       "integration.response.body.__type",
			"method.response.header.X-Whole":      "integration.response.body",
			"method.response.header.X-Static":     "'s'",
			"method.response.header.X-Stage":      "context.stage",
			"method.response.header.X-Env":        "stageVariables.env",
			"method.response.header.X-Missing":    "integration.response.header.X-None",
		}}}, 200, errBody, map[string]string{"Content-Type": "application/x-amz-json-1.1", "X-Type": "ResourceNotFoundException",
			"X-Whole": errBody, "X-Static": "s", "X-Stage": "prod", "X-Env": "test", "X-Missing": ""}},
		{"template and override", M{`4\d{2}`: M{"statusCode": "404", "responseTemplates": M{"application/json": `#set($context.responseOverride.status = 410)` +
			`#set($context.responseOverride.header.X-Why = $input.path('$.__type')){"error":"$input.path('$.message')"}`}}},
			410, `{"error":"Stream s1 under account 123456789012 not found."}`, map[string]string{"X-Why": "ResourceNotFoundException", "Content-Type": "application/json"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, docJSON(M{"/x": M{"post": op(awsInteg("kinesis:action/DescribeStream", nil, tc.responses, nil), nil)}}, nil))
			e.inv.reply = notFound
			w := e.do(req{target: "/_aws/execute-api/testapi/prod/x", body: `{"StreamName":"s1"}`})
			if w.Code != tc.status || w.Body.String() != tc.body {
				t.Errorf("got %d %s, want %d %s", w.Code, w.Body, tc.status, tc.body)
			}
			for k, v := range tc.header {
				if got := w.Header().Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestResponseTemplateSelection(t *testing.T) {
	e := newEnv(t, docJSON(M{"/x": M{"get": op(M{"type": "mock", "requestTemplates": M{"application/json": `{"statusCode": 200}`},
		"responses": M{"default": M{"statusCode": "200", "responseTemplates": M{
			"application/json": `{"kind":"json"}`, "application/xml": `<kind>xml</kind>`, "text/html": "",
		}}}}, nil)}}, nil))
	for _, tc := range []struct{ accept, ct, body string }{
		{"", "application/json", `{"kind":"json"}`},
		{"application/xml", "application/xml", `<kind>xml</kind>`},
		{"text/plain, application/xml;q=0.9", "application/xml", `<kind>xml</kind>`},
		{"image/png", "application/json", `{"kind":"json"}`}, // the first template
		{"text/html", "text/html", ``},                       // an empty template passes the (empty) body
	} {
		h := map[string]string{}
		if tc.accept != "" {
			h["Accept"] = tc.accept
		}
		w := e.do(req{method: "GET", target: "/_aws/execute-api/testapi/prod/x", header: h})
		if w.Code != 200 || w.Header().Get("Content-Type") != tc.ct || w.Body.String() != tc.body {
			t.Errorf("Accept %q: %d %q %q", tc.accept, w.Code, w.Header().Get("Content-Type"), w.Body)
		}
	}
}

func TestMockCORS(t *testing.T) {
	e := newEnv(t, docJSON(M{"/stream": M{
		"options": op(M{"type": "mock", "requestTemplates": M{"application/json": `{"statusCode": 200}`}, "passthroughBehavior": "when_no_match",
			"responses": M{"default": M{"statusCode": "200", "responseParameters": M{
				"method.response.header.Access-Control-Allow-Origin":  "'*'",
				"method.response.header.Access-Control-Allow-Methods": "'OPTIONS,POST'",
				"method.response.header.Access-Control-Allow-Headers": "'Content-Type,X-Api-Key'",
			}}}}, nil),
		"get": op(M{"type": "mock", "requestTemplates": M{"application/json": `{"statusCode": $input.params('code')}`},
			"responses": M{"default": M{"statusCode": "200"}, "404": M{"statusCode": "404", "responseTemplates": M{"application/json": `{"gone":true}`}}}}, nil),
		"put": op(M{"type": "mock", "requestTemplates": M{"application/json": `not json`},
			"responses": M{"default": M{"statusCode": "200"}}}, nil),
		"delete": op(M{"type": "mock", "requestTemplates": M{"application/json": `{}`},
			"responses": M{"default": M{"statusCode": "204"}}}, nil),
	}}, nil))
	w := e.do(req{method: "OPTIONS", target: "/_aws/execute-api/testapi/prod/stream", header: map[string]string{"Origin": "http://x"}})
	if w.Code != 200 || w.Header().Get("Access-Control-Allow-Origin") != "*" || w.Header().Get("Access-Control-Allow-Methods") != "OPTIONS,POST" ||
		w.Header().Get("Access-Control-Allow-Headers") != "Content-Type,X-Api-Key" || w.Body.Len() != 0 {
		t.Errorf("preflight: %d %v %q", w.Code, w.Header(), w.Body)
	}
	if w := e.do(req{method: "GET", target: "/_aws/execute-api/testapi/prod/stream?code=404"}); w.Code != 404 || w.Body.String() != `{"gone":true}` {
		t.Errorf("statusCode 404: %d %s", w.Code, w.Body)
	}
	if w := e.do(req{method: "GET", target: "/_aws/execute-api/testapi/prod/stream?code=200"}); w.Code != 200 {
		t.Errorf("statusCode 200: %d %s", w.Code, w.Body)
	}
	if w := e.do(req{method: "PUT", target: "/_aws/execute-api/testapi/prod/stream"}); w.Code != 500 || w.Body.String() != `{"message":"Internal server error"}` {
		t.Errorf("not JSON: %d %s", w.Code, w.Body)
	}
	if w := e.do(req{method: "DELETE", target: "/_aws/execute-api/testapi/prod/stream"}); w.Code != 204 {
		t.Errorf("no statusCode → 200 → default 204: %d %s", w.Code, w.Body)
	}
}

func TestInvalidTemplateJSON(t *testing.T) {
	// Kinesis answers a body that is not JSON with a SerializationException; here the
	// invoker plays that part, and the tutorial's default-only response passes it on.
	e := newEnv(t, docJSON(M{"/stream": M{"post": op(awsInteg("kinesis:action/PutRecord",
		M{"application/json": "{\n  \"StreamName\": \"s1\",\n  \"Data\": $input.body\n}"}, nil, nil), nil)}}, nil))
	e.inv.reply = func(_, _ string, body []byte) (int, string, []byte) {
		var v any
		if json.Unmarshal(body, &v) != nil {
			return 400, "application/x-amz-json-1.1", []byte(`{"__type":"SerializationException"}`)
		}
		return 200, "application/x-amz-json-1.1", []byte(`{}`)
	}
	w := e.do(req{target: "/_aws/execute-api/testapi/prod/stream", body: "hello world"})
	if w.Code != 200 || w.Body.String() != `{"__type":"SerializationException"}` {
		t.Errorf("%d %s", w.Code, w.Body)
	}
	log := e.log.String()
	for _, want := range []string{"not valid JSON", `template="POST /stream: requestTemplates application/json"`, "line=3", "column=11", `rendered="{\n  \"StreamName\": \"s1\",\n  \"Data\": hello world\n}"`} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %s:\n%s", want, log)
		}
	}
}

func TestMetrics(t *testing.T) {
	e := newEnv(t, openapi(putRecordPath))
	for range 3 {
		e.do(req{target: "/_aws/execute-api/testapi/prod/stream", body: `{}`})
	}
	e.do(req{target: "/_aws/execute-api/testapi/prod/nothing"})
	e.do(req{target: "/_aws/execute-api/nosuch/prod/nothing"})
	ok := "TestAPI testapi prod /stream POST"
	miss := "TestAPI testapi prod  "
	got := gather(t, e.reg)
	for _, c := range []struct {
		key  string
		want float64
	}{
		{"localpipe_apigateway_count_total " + ok, 3},
		{"localpipe_apigateway_4xxerror_total " + ok, 0},
		{"localpipe_apigateway_5xxerror_total " + ok, 0},
		{"localpipe_apigateway_count_total " + miss, 1},
		{"localpipe_apigateway_4xxerror_total " + miss, 1},
		{"localpipe_apigateway_latency_seconds " + ok, 3},
		{"localpipe_apigateway_integration_latency_seconds " + ok, 3},
		{"localpipe_apigateway_latency_seconds " + miss, 1},
	} {
		if v, found := got[c.key]; !found || v != c.want {
			t.Errorf("%s = %v (found %v), want %v", c.key, v, found, c.want)
		}
	}
	if got["localpipe_apigateway_integration_latency_seconds "+miss] != 0 {
		t.Error("integration latency for a request that reached no integration")
	}
	for k := range got {
		if strings.Contains(k, "nosuch") {
			t.Errorf("a series for an API that does not exist: %s", k)
		}
	}
}

// gather reads every series as "name api api_id stage resource method" → counter value or
// histogram sample count.
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			l := map[string]string{}
			for _, lp := range m.GetLabel() {
				l[lp.GetName()] = lp.GetValue()
			}
			key := strings.Join([]string{mf.GetName(), l["api"], l["api_id"], l["stage"], l["resource"], l["method"]}, " ")
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				out[key] = m.GetCounter().GetValue()
			case dto.MetricType_HISTOGRAM:
				out[key] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}

// echoBackend answers with what it received, as JSON, with the status asked for in the
// X-Status header; /slow waits until the caller gives up.
func echoBackend(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return
		}
		body, _ := io.ReadAll(r.Body)
		h := M{}
		for k := range r.Header {
			h[k] = r.Header.Get(k)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Backend", "yes")
		w.Header().Set("Connection", "close-me")
		status := http.StatusOK
		if s := r.Header.Get("X-Status"); s != "" {
			fmt.Sscan(s, &status)
		}
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(M{"method": r.Method, "path": r.URL.EscapedPath(), "query": r.URL.RawQuery, "header": h, "body": string(body)})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestHTTPIntegration(t *testing.T) {
	be := echoBackend(t)
	e := newEnv(t, docJSON(M{"/items/{itemId}": M{"post": op(M{"type": "http", "httpMethod": "PUT", "uri": be.URL + "/things/{id}?fixed=1",
		"requestParameters": M{
			"integration.request.path.id":           "method.request.path.itemId",
			"integration.request.querystring.q":     "method.request.querystring.search",
			"integration.request.header.X-Static":   "'v1'",
			"integration.request.header.X-Stage":    "stageVariables.env",
			"integration.request.header.X-Req":      "context.requestId",
			"integration.request.header.X-From":     "method.request.header.X-Client",
			"integration.request.header.X-Status":   "method.request.header.X-Want",
			"integration.request.header.X-Absent":   "method.request.header.X-Nothing",
			"integration.request.querystring.first": "method.request.body.name",
		},
		"requestTemplates": M{"application/json": `{"wrapped":$input.json('$')}`},
		"responses": M{
			"default": M{"statusCode": "200", "responseParameters": M{"method.response.header.X-Back": "integration.response.header.X-Backend"}},
			`4\d{2}`:  M{"statusCode": "400", "responseTemplates": M{"application/json": `{"failed":"$input.path('$.method')"}`}},
		}}, M{"parameters": []any{
		M{"name": "itemId", "in": "path", "required": true, "schema": M{"type": "string"}},
		M{"name": "search", "in": "query", "schema": M{"type": "string"}},
		M{"name": "X-Client", "in": "header", "schema": M{"type": "string"}},
		M{"name": "X-Want", "in": "header", "schema": M{"type": "string"}},
		M{"name": "X-Nothing", "in": "header", "schema": M{"type": "string"}},
	}})}}, nil))
	w := e.do(req{target: "/_aws/execute-api/testapi/prod/items/a%2Fb?search=x%20y&other=no", body: `{"name":"n1"}`,
		header: map[string]string{"X-Client": "c1", "Content-Type": "application/json"}})
	if w.Code != 200 || w.Header().Get("X-Back") != "yes" {
		t.Fatalf("%d %v %s", w.Code, w.Header(), w.Body)
	}
	got := decodeJSON(t, w.Body.Bytes())
	hdr := got["header"].(M)
	if got["method"] != "PUT" || got["path"] != "/things/a%2Fb" || got["query"] != "first=n1&fixed=1&q=x+y" ||
		got["body"] != `{"wrapped":{"name":"n1"}}` {
		t.Errorf("backend saw %v", got)
	}
	for k, v := range map[string]string{"X-Static": "v1", "X-Stage": "test", "X-Req": w.Header()["x-amzn-RequestId"][0], "X-From": "c1",
		"Content-Type": "application/json", "User-Agent": "AmazonAPIGateway_testapi"} {
		if hdr[k] != v {
			t.Errorf("backend header %s = %v, want %s", k, hdr[k], v)
		}
	}
	if _, ok := hdr["X-Absent"]; ok {
		t.Error("an absent source was mapped")
	}
	if _, ok := hdr["X-Client"]; ok {
		t.Error("a non-proxy integration forwarded an unmapped header")
	}
	// The back end's 404 selects the 4\d{2} response.
	w = e.do(req{target: "/_aws/execute-api/testapi/prod/items/1", body: `{}`, header: map[string]string{"X-Want": "404"}})
	if w.Code != 400 || w.Body.String() != `{"failed":"PUT"}` {
		t.Errorf("404 from the back end: %d %s", w.Code, w.Body)
	}
}

func TestHTTPProxyIntegration(t *testing.T) {
	be := echoBackend(t)
	e := newEnv(t, docJSON(M{"/api/{proxy+}": M{"x-amazon-apigateway-any-method": op(M{"type": "http_proxy", "httpMethod": "ANY",
		"uri":               be.URL + "/up/{proxy}",
		"requestParameters": M{"integration.request.path.proxy": "method.request.path.proxy", "integration.request.header.X-Added": "'a'"},
	}, M{"parameters": []any{M{"name": "proxy", "in": "path", "required": true, "schema": M{"type": "string"}}}})}}, nil))
	w := e.do(req{method: "DELETE", target: "/_aws/execute-api/testapi/prod/api/x/y%20z?a=1&a=2", body: "raw body",
		header: map[string]string{"X-Status": "418", "X-Client": "c", "Content-Type": "text/plain"}})
	if w.Code != 418 || w.Header().Get("X-Backend") != "yes" || w.Header().Get("Connection") != "" || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("%d %v %s", w.Code, w.Header(), w.Body)
	}
	got := decodeJSON(t, w.Body.Bytes())
	hdr := got["header"].(M)
	if got["method"] != "DELETE" || got["path"] != "/up/x/y%20z" || got["query"] != "a=1&a=2" || got["body"] != "raw body" ||
		hdr["X-Client"] != "c" || hdr["X-Added"] != "a" || hdr["X-Forwarded-For"] != "192.0.2.7" || hdr["Content-Type"] != "text/plain" {
		t.Errorf("backend saw %v", got)
	}
}

func TestHTTPTimeoutAndFailure(t *testing.T) {
	be := echoBackend(t)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	e := newEnv(t, docJSON(M{
		"/slow":  M{"get": op(M{"type": "http", "httpMethod": "GET", "uri": be.URL + "/slow", "timeoutInMillis": 50, "responses": M{"default": M{"statusCode": "200"}}}, nil)},
		"/slowp": M{"get": op(M{"type": "http_proxy", "httpMethod": "GET", "uri": be.URL + "/slow", "timeoutInMillis": 50}, nil)},
		"/down":  M{"get": op(M{"type": "http", "httpMethod": "GET", "uri": closed.URL, "responses": M{"default": M{"statusCode": "200"}}}, nil)},
	}, nil))
	for _, p := range []string{"/slow", "/slowp"} {
		start := time.Now()
		w := e.do(req{method: "GET", target: "/_aws/execute-api/testapi/prod" + p})
		if w.Code != 504 || w.Body.String() != `{"message":"Endpoint request timed out"}` {
			t.Errorf("%s: %d %s", p, w.Code, w.Body)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%s: the timeout took %v", p, d)
		}
	}
	if w := e.do(req{method: "GET", target: "/_aws/execute-api/testapi/prod/down"}); w.Code != 500 || w.Body.String() != `{"message":"Internal server error"}` {
		t.Errorf("down: %d %s", w.Code, w.Body)
	}
	// The AWS integration's timeout bounds the invoker too.
	e2 := newEnv(t, docJSON(M{"/x": M{"post": op(awsInteg("kinesis:action/PutRecord", nil, nil, M{"timeoutInMillis": 50}), nil)}}, nil))
	e2.inv.delay = 5 * time.Second
	if w := e2.do(req{target: "/_aws/execute-api/testapi/prod/x"}); w.Code != 504 {
		t.Errorf("invoker timeout: %d %s", w.Code, w.Body)
	}
}

func TestHeadAndNoInvoker(t *testing.T) {
	api, err := gateway.ImportOpenAPI([]byte(openapi(putRecordPath)))
	if err != nil {
		t.Fatal(err)
	}
	api.ID = "a1"
	s := NewServer(Options{})
	if err := s.Deploy(api, []gateway.Stage{{Name: "prod"}}); err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest("POST", "/_aws/execute-api/a1/prod/stream", strings.NewReader("{}")))
	if w.Code != 500 || w.Body.String() != `{"message":"Internal server error"}` {
		t.Errorf("no invoker: %d %s", w.Code, w.Body)
	}
}

// The tutorial's exported documents (testdata) deploy and serve as they are.
func TestDeployExportedDocuments(t *testing.T) {
	for _, f := range []string{"kinesis-proxy-oas30.json", "kinesis-proxy-oas30.yaml", "kinesis-proxy-swagger.json", "kinesis-proxy-swagger.yaml"} {
		t.Run(f, func(t *testing.T) {
			doc, err := os.ReadFile(filepath.Join("..", "testdata", f))
			if err != nil {
				t.Fatal(err)
			}
			e := newEnv(t, string(doc))
			if err := e.s.AddAPIKey(APIKey{Value: goodKey}); err != nil {
				t.Fatal(err)
			}
			base := "/_aws/execute-api/testapi/prod/stream"
			key := map[string]string{"X-Api-Key": goodKey, "Content-Type": "application/json"}
			w := e.do(req{target: base, body: `{"message":"hi"}`, header: key})
			if w.Code != 200 || w.Header().Get("Access-Control-Allow-Origin") != "*" {
				t.Errorf("POST: %d %v %s", w.Code, w.Header(), w.Body)
			}
			if inv := e.inv.last(t); inv.action != "PutRecord" || !strings.Contains(inv.body, `"Data": "eyJtZXNzYWdlIjoiaGkifQ=="`) {
				t.Errorf("invocation %+v", inv)
			}
			w = e.do(req{target: base, body: `{"msg":"hi"}`, header: key})
			if w.Code != 400 || w.Body.String() != `{"message":"Invalid request body"}` || w.Header().Get("Access-Control-Allow-Origin") != "*" {
				t.Errorf("invalid body: %d %v %s", w.Code, w.Header(), w.Body)
			}
			if w = e.do(req{target: base, body: `{"message":"hi"}`}); w.Code != 403 || w.Body.String() != `{"message":"Forbidden"}` {
				t.Errorf("no key: %d %s", w.Code, w.Body)
			}
			w = e.do(req{method: "OPTIONS", target: base})
			if w.Code != 200 || w.Header().Get("Access-Control-Allow-Methods") != "OPTIONS,POST" {
				t.Errorf("OPTIONS: %d %v %s", w.Code, w.Header(), w.Body)
			}
		})
	}
}

func TestTemplateContextNeeds(t *testing.T) {
	for _, tc := range []struct {
		src   string
		needs []string // nil: everything
	}{
		{`{"k":"$context.requestId","s":"${context.stage}","r":"$context.requestId"}`, []string{"requestId", "stage"}},
		{`{"ip":"$!context.identity.sourceIp"}`, []string{"identity"}},
		{`no context at all`, []string{}},
		{`#set($c = $context)$c.stage`, nil},
		{`$context['stage']`, nil},
	} {
		tm, err := gateway.CompileTemplates("t", map[string]string{"application/json": tc.src})
		if err != nil {
			t.Fatal(err)
		}
		got := tm["application/json"].Needs
		if fmt.Sprint(got) != fmt.Sprint(tc.needs) || (got == nil) != (tc.needs == nil) {
			t.Errorf("%s: needs %v, want %v", tc.src, got, tc.needs)
		}
	}
	// A template that reads $context indirectly still sees all of it.
	e := newEnv(t, docJSON(M{"/x": M{"get": op(M{"type": "mock", "requestTemplates": M{"application/json": `{"statusCode": 200}`},
		"responses": M{"default": M{"statusCode": "200", "responseTemplates": M{"application/json": `#set($c = $context)$c.stage $c.identity.sourceIp`}}}}, nil)}}, nil))
	if w := e.do(req{method: "GET", target: "/_aws/execute-api/testapi/prod/x"}); w.Body.String() != "prod 192.0.2.7" {
		t.Errorf("indirect: %q", w.Body)
	}
}

func TestHTTPStageVariablesInURI(t *testing.T) {
	be := echoBackend(t)
	host := strings.TrimPrefix(be.URL, "http://")
	api, err := gateway.ImportOpenAPI([]byte(docJSON(M{"/x/{id}": M{"get": op(M{"type": "http", "httpMethod": "GET",
		"uri": "http://${stageVariables.host}/${stageVariables.prefix}/{id}", "responses": M{"default": M{"statusCode": "200"}}},
		M{"parameters": []any{M{"name": "id", "in": "path", "required": true, "schema": M{"type": "string"}}}})}}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	api.ID = "sv"
	s := NewServer(Options{})
	if err := s.Deploy(api, []gateway.Stage{{Name: "prod", Variables: map[string]string{"host": host, "prefix": "v2"}}, {Name: "bare"}}); err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest("GET", "/_aws/execute-api/sv/prod/x/7", nil))
	if w.Code != 200 || decodeJSON(t, w.Body.Bytes())["path"] != "/v2/7" {
		t.Errorf("%d %s", w.Code, w.Body)
	}
	// A stage without the variables cannot build the URL: 500, as a configuration error.
	w = httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest("GET", "/_aws/execute-api/sv/bare/x/7", nil))
	if w.Code != 500 {
		t.Errorf("bare stage: %d %s", w.Code, w.Body)
	}
}

func TestConcurrentRequestsAndDeploys(t *testing.T) {
	e := newEnv(t, openapi(putRecordPath))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 20 {
			if err := e.s.Deploy(e.api, []gateway.Stage{{Name: "prod", Variables: map[string]string{"i": fmt.Sprint(i)}}}); err != nil {
				t.Error(err)
			}
			if err := e.s.AddAPIKey(APIKey{ID: "k", Value: fmt.Sprintf("%s-%d", goodKey, i)}); err != nil {
				t.Error(err)
			}
			_ = e.s.Deployments()
		}
	}()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 25 {
				hr := httptest.NewRequest("POST", "/_aws/execute-api/testapi/prod/stream", strings.NewReader(`{"key":"k"}`))
				w := httptest.NewRecorder()
				e.s.ServeHTTP(w, hr)
				if w.Code != 200 {
					t.Errorf("%d %s", w.Code, w.Body)
					return
				}
			}
		}()
	}
	wg.Wait()
	<-done
}

func TestHeadHasNoBody(t *testing.T) {
	e := newEnv(t, docJSON(M{"/x": M{"head": op(M{"type": "mock", "requestTemplates": M{"application/json": `{"statusCode": 200}`},
		"responses": M{"default": M{"statusCode": "200", "responseTemplates": M{"application/json": `{"a":1}`}}}}, nil)}}, nil))
	w := e.do(req{method: "HEAD", target: "/_aws/execute-api/testapi/prod/x"})
	if w.Code != 200 || w.Body.Len() != 0 || w.Header().Get("Content-Length") != "7" {
		t.Errorf("%d %q %v", w.Code, w.Body, w.Header())
	}
	if w := e.do(req{method: "GET", target: "/_aws/execute-api/testapi/prod/x"}); w.Code != 403 {
		t.Errorf("GET on a HEAD-only resource: %d", w.Code)
	}
}

// TestTemplateParamsOnDemand: the method request parameters are gathered only for a template
// that names params, however it reaches $input; a gateway response sent before the request
// is read (an unknown resource) sees none, and one sent after (a refused body) sees them.
func TestTemplateParamsOnDemand(t *testing.T) {
	for src, want := range map[string]bool{`$input.params('h')`: true, `#set($i = $input)$i.params().header`: true,
		`$input.body`: false, `{"p":"$context.requestId"}`: false} {
		tm, err := gateway.CompileTemplates("t", map[string]string{"application/json": src})
		if err != nil {
			t.Fatal(err)
		}
		if got := tm["application/json"].ReadsParams; got != want {
			t.Errorf("%s: ReadsParams %v, want %v", src, got, want)
		}
	}
	e := newEnv(t, docJSON(M{"/x": M{"post": op(M{"type": "mock", "requestTemplates": M{"application/json": `{"statusCode": 200}`},
		"responses": M{"default": M{"statusCode": "200", "responseTemplates": M{"application/json": `#set($i = $input)$i.params().header.get('X-Client')|$input.params('q')`}}}},
		M{"x-amazon-apigateway-request-validator": "body",
			"requestBody": M{"content": M{"application/json": M{"schema": M{"type": "object", "required": []any{"a"}}}}}})}},
		M{"x-amazon-apigateway-request-validators": M{"body": M{"validateRequestBody": true}},
			"x-amazon-apigateway-gateway-responses": M{"DEFAULT_4XX": M{"responseTemplates": M{"application/json": `[$input.params('X-Client')]`}}}}))
	h := map[string]string{"X-Client": "c1"}
	if w := e.do(req{target: "/_aws/execute-api/testapi/prod/x?q=v", body: `{"a":1}`, header: h}); w.Code != 200 || w.Body.String() != "c1|v" {
		t.Errorf("method: %d %s", w.Code, w.Body)
	}
	if w := e.do(req{target: "/_aws/execute-api/testapi/prod/nothing", header: h}); w.Code != 403 || w.Body.String() != "[]" {
		t.Errorf("before the request is read: %d %s", w.Code, w.Body)
	}
	if w := e.do(req{target: "/_aws/execute-api/testapi/prod/x", body: `{}`, header: h}); w.Code != 400 || w.Body.String() != "[c1]" {
		t.Errorf("refused body: %d %s", w.Code, w.Body)
	}
}

// TestRequestBodyReadFails: a body that breaks off, whether its length was declared or not,
// is a gateway response, not a call with what arrived.
func TestRequestBodyReadFails(t *testing.T) {
	e := newEnv(t, openapi(putRecordPath))
	for _, declared := range []int64{-1, 100} {
		hr := httptest.NewRequest("POST", "http://localhost:4566/_aws/execute-api/testapi/prod/stream",
			io.MultiReader(strings.NewReader(`{"a":`), iotest.ErrReader(io.ErrUnexpectedEOF)))
		hr.ContentLength = declared
		w := httptest.NewRecorder()
		e.s.ServeHTTP(w, hr)
		if w.Code != 400 || !strings.Contains(w.Body.String(), "Invalid request body") {
			t.Errorf("declared length %d: %d %s", declared, w.Code, w.Body)
		}
	}
}

// TestTemplateContextOverrides: a template that reads $context only by variable names gets
// it without the override maps; any other use of $context still sees them, as before.
func TestTemplateContextOverrides(t *testing.T) {
	for src, want := range map[string]string{
		`$context.stage|$context.resourcePath|$!context.nope`:                      `prod|/x|`,
		`$context.keySet().contains('requestOverride') $context.size()`:            `true 2`,
		`#set($c = $context)$c.containsKey('responseOverride') $c.requestOverride`: `true {header={}, path={}, querystring={}}`,
		`$context.stage#set($context.responseOverride.status = 202)`:               `prod`,
	} {
		e := newEnv(t, docJSON(M{"/x": M{"get": op(M{"type": "mock", "requestTemplates": M{"application/json": `{"statusCode": 200}`},
			"responses": M{"default": M{"statusCode": "200", "responseTemplates": M{"application/json": src}}}}, nil)}}, nil))
		w := e.do(req{method: "GET", target: "/_aws/execute-api/testapi/prod/x"})
		if w.Body.String() != want {
			t.Errorf("%s: %q, want %q", src, w.Body, want)
		}
		if strings.Contains(src, "202") && w.Code != 202 {
			t.Errorf("%s: status %d", src, w.Code)
		}
	}
}
