package gatewayapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/localpipe/localpipe/gateway"
)

func policy(principal, effect, resource string, context string) string {
	out := `{"principalId":"` + principal + `","policyDocument":{"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"` +
		effect + `","Resource":"` + resource + `"}]}`
	if context != "" {
		out += `,"context":` + context
	}
	return out + "}"
}

func authScheme(name string, auth M) M {
	return M{"type": "apiKey", "name": "Authorization", "in": "header", "x-amazon-apigateway-authtype": "custom",
		"x-amazon-apigateway-authorizer": auth}
}

func mockInteg(tmpl string) M {
	return M{"type": "mock", "requestTemplates": M{"application/json": `{"statusCode": 200}`},
		"responses": M{"default": M{"statusCode": "200", "responseTemplates": M{"application/json": tmpl}}}}
}

const arnPrefix = "arn:aws:execute-api:us-east-1:123456789012:testapi/prod/"

func TestTokenAuthorizer(t *testing.T) {
	sec := func(name string) M { return M{"security": []any{M{name: []any{}}}} }
	e := newEnv(t, docJSON(M{
		"/pets/{id}": M{
			"get":    op(mockInteg(`{"p":"$context.authorizer.principalId","tier":"$context.authorizer.tier","n":"$context.authorizer.n"}`), sec("tok")),
			"delete": op(mockInteg(`{}`), sec("tok")),
			"put":    op(mockInteg(`{}`), sec("tok")),
			"post":   op(proxyInteg(fnARN+"backend", nil), sec("tok")),
		},
		"/nocache": M{"get": op(mockInteg(`{}`), sec("nocache"))},
	}, M{"components": M{"securitySchemes": M{
		"tok": authScheme("tok", M{"type": "token", "authorizerUri": lambdaURI(fnARN + "auth"),
			"identityValidationExpression": "Bearer .+", "authorizerResultTtlInSeconds": 60}),
		"nocache": authScheme("nocache", M{"type": "token", "authorizerUri": lambdaURI(fnARN + "auth"), "authorizerResultTtlInSeconds": 0}),
	}}}))
	var mu sync.Mutex
	var events []map[string]any
	f := withFunctions(e, map[string]func(context.Context, []byte) (FunctionResult, error){
		fnARN + "auth": func(_ context.Context, event []byte) (FunctionResult, error) {
			var ev map[string]any
			if err := json.Unmarshal(event, &ev); err != nil {
				return FunctionResult{}, err
			}
			mu.Lock()
			events = append(events, ev)
			mu.Unlock()
			switch tok := ev["authorizationToken"].(string); tok {
			case "Bearer alice":
				// Allows every method of /pets/* but DELETE, which it denies.
				return FunctionResult{Payload: []byte(`{"principalId":"alice","policyDocument":{"Version":"2012-10-17","Statement":[` +
					`{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"` + arnPrefix + `*/pets/*"},` +
					`{"Action":["execute-api:*"],"Effect":"Deny","Resource":["` + arnPrefix + `DELETE/*"]}]},` +
					`"context":{"tier":"gold","n":7,"ok":true}}`)}, nil
			case "Bearer bob":
				return FunctionResult{Payload: []byte(policy("bob", "Allow", arnPrefix+"GET/other", ""))}, nil
			case "Bearer nobody":
				return FunctionResult{Payload: []byte(`{"errorMessage":"Unauthorized"}`), FunctionError: "Unhandled"}, nil
			case "Bearer crash":
				return FunctionResult{Payload: []byte(`{"errorMessage":"db down"}`), FunctionError: "Unhandled"}, nil
			case "Bearer nested":
				return FunctionResult{Payload: []byte(policy("n", "Allow", "*", `{"a":{"b":1}}`))}, nil
			case "Bearer garbage":
				return FunctionResult{Payload: []byte(`{"principalId":"g"}`)}, nil
			}
			return FunctionResult{Payload: []byte(policy("x", "Allow", "*", ""))}, nil
		},
		fnARN + "backend": answer(`{"statusCode":200,"body":"ok"}`),
	})
	call := func(method, path, token string) (int, string, string) {
		h := map[string]string{}
		if token != "" {
			h["Authorization"] = token
		}
		w := e.do(req{method: method, target: "/_aws/execute-api/testapi/prod" + path, header: h})
		return w.Code, w.Body.String(), strings.Join(w.Header()["x-amzn-ErrorType"], "")
	}

	for _, tt := range []struct {
		name, method, path, token string
		status                    int
		body, errType             string
	}{
		{"no token", "GET", "/pets/1", "", 401, `{"message":"Unauthorized"}`, "UnauthorizedException"},
		{"token fails the validation expression", "GET", "/pets/1", "Basic abc", 401, `{"message":"Unauthorized"}`, "UnauthorizedException"},
		{"allowed, with context", "GET", "/pets/1", "Bearer alice", 200, `{"p":"alice","tier":"gold","n":"7"}`, ""},
		{"explicit deny", "DELETE", "/pets/1", "Bearer alice", 403, `{"message":"User is not authorized to access this resource with an explicit deny"}`, "AccessDeniedException"},
		{"policy does not cover the method", "GET", "/pets/1", "Bearer bob", 403, `{"message":"User is not authorized to access this resource"}`, "AccessDeniedException"},
		{"function says Unauthorized", "GET", "/pets/1", "Bearer nobody", 401, `{"message":"Unauthorized"}`, "UnauthorizedException"},
		{"function error", "GET", "/pets/1", "Bearer crash", 500, `{"message":null}`, "AuthorizerConfigurationException"},
		{"context value not a scalar", "GET", "/pets/1", "Bearer nested", 500, `{"message":null}`, "AuthorizerConfigurationException"},
		{"no policy", "GET", "/pets/1", "Bearer garbage", 500, `{"message":null}`, "AuthorizerConfigurationException"},
	} {
		status, body, errType := call(tt.method, tt.path, tt.token)
		if status != tt.status || body != tt.body || errType != tt.errType {
			t.Errorf("%s: %d %s %q, want %d %s %q", tt.name, status, body, errType, tt.status, tt.body, tt.errType)
		}
	}
	mu.Lock()
	first := events[0]
	mu.Unlock()
	if first["type"] != "TOKEN" || first["authorizationToken"] != "Bearer alice" || first["methodArn"] != arnPrefix+"GET/pets/1" || len(first) != 3 {
		t.Errorf("TOKEN event %v", first)
	}

	// The policy is cached by token for the TTL and evaluated against each method: alice's
	// PUT and the proxy call are served without calling the authorizer again.
	n := f.count(fnARN + "auth")
	if status, _, _ := call("PUT", "/pets/2", "Bearer alice"); status != 200 {
		t.Errorf("PUT with alice's cached policy: %d", status)
	}
	if status, body, _ := call("POST", "/pets/2", "Bearer alice"); status != 200 || body != "ok" {
		t.Errorf("proxy call: %d %s", status, body)
	}
	if f.count(fnARN+"auth") != n {
		t.Errorf("the authorizer was called again within the TTL (%d → %d)", n, f.count(fnARN+"auth"))
	}
	rc := f.event(t, fnARN+"backend")["requestContext"].(map[string]any)
	auth, _ := rc["authorizer"].(map[string]any)
	if auth["principalId"] != "alice" || auth["tier"] != "gold" || auth["n"] != "7" || auth["ok"] != "true" {
		t.Errorf("requestContext.authorizer %v", auth)
	}
	// After the TTL the authorizer is asked again.
	now := time.Now()
	e.s.now = func() time.Time { return now.Add(61 * time.Second) }
	call("GET", "/pets/1", "Bearer alice")
	if f.count(fnARN+"auth") != n+1 {
		t.Errorf("the authorizer was not called after the TTL (%d → %d)", n, f.count(fnARN+"auth"))
	}
	// With a TTL of 0 every request asks.
	n = f.count(fnARN + "auth")
	call("GET", "/nocache", "Bearer x")
	call("GET", "/nocache", "Bearer x")
	if f.count(fnARN+"auth") != n+2 {
		t.Errorf("TTL 0 cached the policy")
	}
}

func TestRequestAuthorizer(t *testing.T) {
	e := newEnv(t, docJSON(M{
		"/r": M{"get": op(mockInteg(`{"who":"$context.authorizer.principalId"}`), M{"security": []any{M{"req": []any{}}}})},
	}, M{"components": M{"securitySchemes": M{
		"req": M{"type": "apiKey", "name": "Unused", "in": "header", "x-amazon-apigateway-authtype": "custom",
			"x-amazon-apigateway-authorizer": M{"type": "request", "authorizerUri": lambdaURI(fnARN + "req"),
				"identitySource": "method.request.header.X-User, method.request.querystring.tenant, stageVariables.env"}},
	}}}))
	f := withFunctions(e, map[string]func(context.Context, []byte) (FunctionResult, error){
		fnARN + "req": func(_ context.Context, event []byte) (FunctionResult, error) {
			var ev struct {
				Headers               map[string]string `json:"headers"`
				QueryStringParameters map[string]string `json:"queryStringParameters"`
			}
			if err := json.Unmarshal(event, &ev); err != nil {
				return FunctionResult{}, err
			}
			return FunctionResult{Payload: []byte(policy(ev.Headers["X-User"]+"@"+ev.QueryStringParameters["tenant"], "Allow", arnPrefix+"GET/r", ""))}, nil
		},
	})
	w := e.do(req{method: "GET", target: "/_aws/execute-api/testapi/prod/r?tenant=t1", header: map[string]string{"X-User": "carol"}})
	if w.Code != 200 || w.Body.String() != `{"who":"carol@t1"}` {
		t.Fatalf("%d %s\n%s", w.Code, w.Body, e.log)
	}
	ev := f.event(t, fnARN+"req")
	if ev["type"] != "REQUEST" || ev["methodArn"] != arnPrefix+"GET/r" || ev["resource"] != "/r" || ev["httpMethod"] != "GET" {
		t.Errorf("REQUEST event %v", ev)
	}
	if _, ok := ev["body"]; ok {
		t.Error("a REQUEST authorizer's event has a body")
	}
	// A missing identity source is refused without calling the function.
	n := f.count(fnARN + "req")
	w = e.do(req{method: "GET", target: "/_aws/execute-api/testapi/prod/r", header: map[string]string{"X-User": "carol"}})
	if w.Code != 401 || f.count(fnARN+"req") != n {
		t.Errorf("missing query string: %d %s, calls %d → %d", w.Code, w.Body, n, f.count(fnARN+"req"))
	}
	// Another tenant is another cache key.
	e.do(req{method: "GET", target: "/_aws/execute-api/testapi/prod/r?tenant=t2", header: map[string]string{"X-User": "carol"}})
	if f.count(fnARN+"req") != n+1 {
		t.Errorf("another identity used the cached policy")
	}
}

func TestAuthorizerGatewayResponsesAndAPIKeys(t *testing.T) {
	e := newEnv(t, docJSON(M{
		"/k": M{"get": op(mockInteg(`{"key":"$context.identity.apiKeyId"}`), M{"security": []any{M{"tok": []any{}, "api_key": []any{}}}})},
	}, M{"x-amazon-apigateway-api-key-source": "AUTHORIZER",
		"x-amazon-apigateway-gateway-responses": M{
			"UNAUTHORIZED": M{"statusCode": "401", "responseParameters": M{"gatewayresponse.header.WWW-Authenticate": "'Bearer'"},
				"responseTemplates": M{"application/json": `{"why":$context.error.messageString}`}},
			"AUTHORIZER_CONFIGURATION_ERROR": M{"responseTemplates": M{"application/json": `{"type":"$context.error.responseType"}`}},
		},
		"components": M{"securitySchemes": M{
			"tok":     authScheme("tok", M{"type": "token", "authorizerUri": lambdaURI(fnARN + "auth")}),
			"api_key": M{"type": "apiKey", "name": "x-api-key", "in": "header"},
		}}}))
	withFunctions(e, map[string]func(context.Context, []byte) (FunctionResult, error){
		fnARN + "auth": func(_ context.Context, event []byte) (FunctionResult, error) {
			if strings.Contains(string(event), "crash") {
				return FunctionResult{Payload: []byte(`{"errorMessage":"x"}`), FunctionError: "Unhandled"}, nil
			}
			return FunctionResult{Payload: []byte(`{"principalId":"p","usageIdentifierKey":"` + goodKey + `",` +
				`"policyDocument":{"Version":"2012-10-17","Statement":{"Action":"*","Effect":"Allow","Resource":"*"}}}`)}, nil
		},
	})
	if err := e.s.AddAPIKey(APIKey{ID: "key1", Name: "good", Value: goodKey}); err != nil {
		t.Fatal(err)
	}
	w := e.do(req{method: "GET", target: "/_aws/execute-api/testapi/prod/k"})
	if w.Code != 401 || w.Body.String() != `{"why":"Unauthorized"}` || w.Header().Get("WWW-Authenticate") != "Bearer" {
		t.Errorf("UNAUTHORIZED: %d %s %v", w.Code, w.Body, w.Header())
	}
	w = e.do(req{method: "GET", target: "/_aws/execute-api/testapi/prod/k", header: map[string]string{"Authorization": "crash"}})
	if w.Code != 500 || w.Body.String() != `{"type":"AUTHORIZER_CONFIGURATION_ERROR"}` {
		t.Errorf("AUTHORIZER_CONFIGURATION_ERROR: %d %s", w.Code, w.Body)
	}
	// The API key comes from the authorizer's usageIdentifierKey (API key source AUTHORIZER).
	w = e.do(req{method: "GET", target: "/_aws/execute-api/testapi/prod/k", header: map[string]string{"Authorization": "ok"}})
	if w.Code != 200 || w.Body.String() != `{"key":"key1"}` {
		t.Errorf("usageIdentifierKey: %d %s\n%s", w.Code, w.Body, e.log)
	}
}

func TestCognitoAuthorizerIsA500(t *testing.T) {
	api, err := gateway.ImportOpenAPI([]byte(docJSON(M{
		"/c":    M{"get": op(mockInteg(`{}`), M{"security": []any{M{"pool": []any{}}}})},
		"/open": M{"get": op(mockInteg(`{"open":true}`), nil)},
	}, M{"components": M{"securitySchemes": M{
		"pool": M{"type": "apiKey", "name": "Authorization", "in": "header", "x-amazon-apigateway-authtype": "cognito_user_pools",
			"x-amazon-apigateway-authorizer": M{"type": "cognito_user_pools", "providerARNs": []any{"arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_x"}}},
	}}})))
	if err != nil {
		t.Fatal(err)
	}
	if len(api.Warnings) != 1 || !strings.Contains(api.Warnings[0], "not available locally") {
		t.Errorf("warnings %q", api.Warnings)
	}
	api.ID = "testapi"
	log := &logBuffer{}
	e := &testEnv{t: t, log: log}
	e.s = NewServer(Options{Logger: slog.New(slog.NewTextHandler(log, nil))})
	if err := e.s.Deploy(api, []gateway.Stage{{Name: "prod"}}); err != nil {
		t.Fatal(err)
	}
	w := e.do(req{method: "GET", target: "/_aws/execute-api/testapi/prod/c"})
	if w.Code != 500 || w.Body.String() != `{"message":"Internal server error"}` || !strings.Contains(log.String(), "not available locally") {
		t.Errorf("%d %s\n%s", w.Code, w.Body, log)
	}
	if w := e.do(req{method: "GET", target: "/_aws/execute-api/testapi/prod/open"}); w.Code != 200 {
		t.Errorf("the rest of the API: %d %s", w.Code, w.Body)
	}
}

func TestAuthorizerImportErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		auth M
		want string
	}{
		{"no type", M{"authorizerUri": lambdaURI("f")}, "type is required"},
		{"bad type", M{"type": "jwt", "authorizerUri": lambdaURI("f")}, `unknown type "JWT"`},
		{"bad uri", M{"type": "token", "authorizerUri": "arn:aws:apigateway:us-east-1:lambda:path/f"}, "does not name a Lambda function"},
		{"two headers for TOKEN", M{"type": "token", "authorizerUri": lambdaURI("f"), "identitySource": "method.request.header.A, method.request.header.B"}, "reads one header"},
		{"query for TOKEN", M{"type": "token", "authorizerUri": lambdaURI("f"), "identitySource": "method.request.querystring.t"}, "reads one header"},
		{"bad identity source", M{"type": "request", "authorizerUri": lambdaURI("f"), "identitySource": "method.request.body"}, "an identity source is"},
		{"path identity source", M{"type": "request", "authorizerUri": lambdaURI("f"), "identitySource": "method.request.path.id"}, "an identity source is"},
		{"bad TTL", M{"type": "token", "authorizerUri": lambdaURI("f"), "authorizerResultTtlInSeconds": 4000}, "outside 0 to 3600"},
		{"fractional TTL", M{"type": "token", "authorizerUri": lambdaURI("f"), "authorizerResultTtlInSeconds": 1.5}, "must be an integer"},
		{"bad expression", M{"type": "token", "authorizerUri": lambdaURI("f"), "identityValidationExpression": "("}, "identityValidationExpression"},
		{"not an object", nil, "must be an object"},
	} {
		var auth any = tt.auth
		if tt.auth == nil {
			auth = "x"
		}
		_, err := gateway.ImportOpenAPI([]byte(docJSON(M{"/a": M{"get": op(mockInteg(`{}`), M{"security": []any{M{"a": []any{}}}})}},
			M{"components": M{"securitySchemes": M{"a": M{"type": "apiKey", "name": "Authorization", "in": "header", "x-amazon-apigateway-authorizer": auth}}}})))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
}
