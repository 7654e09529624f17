package gatewayapi

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestMockStatus(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		bad  bool
	}{
		{`{"statusCode": 200}`, 200, false},
		{`{"statusCode": "404"}`, 404, false},
		{` `, 0, false},
		{`{}`, 0, false},
		{`{"statusCode": null}`, 0, false},
		{`{"statusCode": 99}`, 0, true},
		{`{"statusCode": 600}`, 0, true},
		{`{"statusCode": 2.5}`, 0, true},
		{`{"statusCode": "x"}`, 0, true},
		{`{"statusCode": true}`, 0, true},
		{`[200]`, 0, true},
		{`statusCode: 200`, 0, true},
	} {
		got, err := mockStatus([]byte(tc.in))
		if got != tc.want || (err != nil) != tc.bad {
			t.Errorf("mockStatus(%s) = %d, %v", tc.in, got, err)
		}
	}
}

func FuzzMockStatus(f *testing.F) {
	f.Add(`{"statusCode": 200}`)
	f.Add(`{"statusCode": "5000000000000000000000"}`)
	f.Add(`{"statusCode": -1e400}`)
	f.Fuzz(func(t *testing.T, in string) {
		n, err := mockStatus([]byte(in))
		if err == nil && n != 0 && (n < 100 || n > 599) {
			t.Fatalf("status %d", n)
		}
	})
}

// FuzzServeHTTP sends arbitrary requests to an API with every kind of method: whatever
// comes in, the answer is an HTTP status and, for an error, API Gateway's {"message": …}.
func FuzzServeHTTP(f *testing.F) {
	e := newEnv(f, docJSON(M{
		"/stream":     M{"post": op(awsInteg("kinesis:action/PutRecord", M{"application/json": `{"Data":"$util.base64Encode($input.json('$.a'))","P":"$input.params('p')"}`}, nil, nil), nil)},
		"/items/{id}": M{"get": op(M{"type": "mock", "requestTemplates": M{"application/json": `{"statusCode": $input.params('code')}`}, "responses": M{"default": M{"statusCode": "200", "responseTemplates": M{"application/json": `$input.params('id')`}}}}, nil)},
		"/p/{proxy+}": M{"x-amazon-apigateway-any-method": op(M{"type": "mock", "passthroughBehavior": "never", "requestTemplates": M{"text/plain": "{}"}, "responses": M{"default": M{"statusCode": "200"}}}, nil)},
		"/lambda":     M{"post": op(M{"type": "aws_proxy", "httpMethod": "POST", "uri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/f/invocations"}, nil)},
		"/v":          M{"put": op(awsInteg("firehose:action/PutRecord", nil, M{`4\d{2}`: M{"statusCode": "400"}}, nil), M{"x-amazon-apigateway-request-validator": "all", "requestBody": M{"content": M{"application/json": M{"schema": M{"type": "object", "required": []any{"a"}}}}}})},
	}, M{"x-amazon-apigateway-request-validators": M{"all": M{"validateRequestBody": true, "validateRequestParameters": true}}}))
	f.Add("POST", "/_aws/execute-api/testapi/prod/stream?p=1", "application/json", `{"a":1}`)
	f.Add("GET", "/_aws/execute-api/testapi/prod/items/%zz?code=abc", "", ``)
	f.Add("GET", "/_aws/execute-api/testapi/prod/items/x?code=302", "", ``)
	f.Add("DELETE", "/restapis/testapi/prod/_user_request_/p/a/b//c", "text/plain; charset=\x00", "x")
	f.Add("POST", "/_aws/execute-api/testapi/prod/lambda", "", "")
	f.Add("PUT", "/_aws/execute-api/testapi/prod/v", "application/json", `{"b":`)
	f.Fuzz(func(t *testing.T, method, target, contentType, body string) {
		r := httptest.NewRequest("GET", "http://localhost/", strings.NewReader(body))
		r.Method = method
		r.URL.Path = target
		if i := strings.IndexByte(target, '?'); i >= 0 {
			r.URL.Path, r.URL.RawQuery = target[:i], target[i+1:]
		}
		r.Header.Set("Content-Type", contentType)
		w := httptest.NewRecorder()
		e.s.ServeHTTP(w, r)
		if w.Code < 100 || w.Code > 599 {
			t.Fatalf("status %d", w.Code)
		}
		if len(w.Header()["x-amzn-ErrorType"]) > 0 {
			var m map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil || m["message"] == nil {
				t.Fatalf("error body %q", w.Body)
			}
		}
	})
}
