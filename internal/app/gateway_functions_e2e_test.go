package app_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"

	"github.com/localpipe/localpipe/internal/functions/functionstest"
)

// The API of TestGatewayFunctions: AWS_PROXY integrations of a function behind a Lambda
// Invoke API (hello, slow), a plain URL (plain) and a command (cmd), one not declared
// (missing); an AWS (non-proxy) Lambda integration (calc); a TOKEN and a REQUEST authorizer.
const fnAPI = `
openapi: 3.0.1
info: {title: fn, version: "1"}
x-amazon-apigateway-gateway-responses:
  ACCESS_DENIED:
    responseTemplates: {application/json: '{"denied":$context.error.messageString}'}
components:
  securitySchemes:
    token:
      type: apiKey
      name: Authorization
      in: header
      x-amazon-apigateway-authtype: custom
      x-amazon-apigateway-authorizer:
        type: token
        authorizerUri: arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:auth/invocations
        identityValidationExpression: "Bearer .*"
        authorizerResultTtlInSeconds: 300
    tenant:
      type: apiKey
      name: unused
      in: header
      x-amazon-apigateway-authtype: custom
      x-amazon-apigateway-authorizer:
        type: request
        authorizerUri: arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/plainauth/invocations
        identitySource: method.request.querystring.tenant
        authorizerResultTtlInSeconds: 0
    pool:
      type: apiKey
      name: Authorization
      in: header
      x-amazon-apigateway-authtype: cognito_user_pools
      x-amazon-apigateway-authorizer:
        type: cognito_user_pools
        providerARNs: [arn:aws:cognito-idp:us-east-1:000000000000:userpool/us-east-1_local]
paths:
  /cognito:
    get:
      security: [{pool: []}]
      x-amazon-apigateway-integration: {type: mock, requestTemplates: {application/json: '{"statusCode": 200}'}, responses: {default: {statusCode: "200"}}}
  /hello/{name}:
    x-amazon-apigateway-any-method:
      x-amazon-apigateway-integration:
        type: aws_proxy
        httpMethod: POST
        uri: arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:hello/invocations
  /plain:
    post:
      x-amazon-apigateway-integration: {type: aws_proxy, httpMethod: POST, uri: "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/plain/invocations"}
  /cmd:
    post:
      x-amazon-apigateway-integration: {type: aws_proxy, httpMethod: POST, uri: "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:cmd/invocations"}
  /cmd-slow:
    post:
      x-amazon-apigateway-integration: {type: aws_proxy, httpMethod: POST, timeoutInMillis: 200, uri: "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:cmd/invocations"}
  /cmd-short:
    post:
      x-amazon-apigateway-integration: {type: aws_proxy, httpMethod: POST, uri: "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:cmd-short/invocations"}
  /missing:
    get:
      x-amazon-apigateway-integration: {type: aws_proxy, httpMethod: POST, uri: "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:nobody/invocations"}
  /calc:
    post:
      x-amazon-apigateway-integration:
        type: aws
        httpMethod: POST
        uri: arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:calc/invocations
        requestTemplates: {application/json: '{"n": $input.json(''$.n''), "who": "$context.authorizer.principalId"}'}
        responses:
          default: {statusCode: "200"}
          "Negative.*":
            statusCode: "400"
            responseTemplates: {application/json: '{"error": "$input.path(''$.errorMessage'')"}'}
  /jobs:
    post:
      x-amazon-apigateway-integration:
        type: aws
        httpMethod: POST
        uri: arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:bg/invocations
        requestParameters: {integration.request.header.X-Amz-Invocation-Type: "'Event'"}
        responses:
          default: {statusCode: "202", responseTemplates: {application/json: '{"accepted": true}'}}
  /secure:
    get:
      security: [{token: []}]
      x-amazon-apigateway-integration: {type: aws_proxy, httpMethod: POST, uri: "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:hello/invocations"}
    post:
      security: [{token: []}]
      x-amazon-apigateway-integration:
        type: aws
        httpMethod: POST
        uri: arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:calc/invocations
        requestTemplates: {application/json: '{"n": 1, "who": "$context.authorizer.principalId", "tier": "$context.authorizer.tier"}'}
        responses:
          default: {statusCode: "200"}
  /tenant:
    get:
      security: [{tenant: []}]
      x-amazon-apigateway-integration:
        type: mock
        requestTemplates: {application/json: '{"statusCode": 200}'}
        responses:
          default:
            statusCode: "200"
            responseTemplates: {application/json: '{"tenant": "$context.authorizer.principalId"}'}
`

// fnScript is the command function: a proxy response naming its stage variable, a failure
// for an event that says "fail", and a sleep for one that says "sleep".
const fnScript = `event=$(cat)
case "$event" in
*fail*) echo "failing on purpose" >&2; exit 1 ;;
*sleep*) sleep 30 ;;
esac
printf '{"statusCode":201,"headers":{"X-Stage":"%s"},"body":"from a command"}' "$STAGE"
`

func fnEvent(event []byte) map[string]any {
	var m map[string]any
	_ = json.Unmarshal(event, &m)
	return m
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func allowAll(principal, ctx string) []byte {
	return []byte(`{"principalId":"` + principal + `","policyDocument":{"Version":"2012-10-17","Statement":[` +
		`{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"arn:aws:execute-api:us-east-1:000000000000:fnapi00001/prod/*"}]},` +
		`"context":` + ctx + `}`)
}

func TestGatewayFunctions(t *testing.T) {
	release, ran := make(chan struct{}), make(chan string, 1)
	lambda := functionstest.NewLambda(t, map[string]functionstest.Func{
		"bg": func(event []byte) ([]byte, bool) {
			<-release
			ran <- string(event)
			return []byte(`null`), false
		},
		"hello": func(event []byte) ([]byte, bool) {
			ev := fnEvent(event)
			rc, _ := ev["requestContext"].(map[string]any)
			body := jsonText(map[string]any{"path": ev["path"], "name": ev["pathParameters"], "query": ev["queryStringParameters"],
				"body": ev["body"], "stage": rc["stage"], "authorizer": rc["authorizer"]})
			return []byte(`{"statusCode":200,"multiValueHeaders":{"X-Fn":["hello","again"]},"body":` + jsonText(body) + `}`), false
		},
		"calc": func(event []byte) ([]byte, bool) {
			var in struct {
				N    int    `json:"n"`
				Who  string `json:"who"`
				Tier string `json:"tier"`
			}
			if err := json.Unmarshal(event, &in); err != nil {
				return []byte(`{"errorMessage":"bad event","errorType":"Error"}`), true
			}
			if in.N < 0 {
				return []byte(`{"errorMessage":"Negative input","errorType":"ValueError"}`), true
			}
			return []byte(jsonText(map[string]any{"square": in.N * in.N, "who": in.Who, "tier": in.Tier})), false
		},
		"auth": func(event []byte) ([]byte, bool) {
			switch fnEvent(event)["authorizationToken"] {
			case "Bearer alice":
				return allowAll("alice", `{"tier":"gold","n":1}`), false
			case "Bearer mallory":
				return []byte(`{"principalId":"mallory","policyDocument":{"Version":"2012-10-17","Statement":[` +
					`{"Action":"execute-api:Invoke","Effect":"Deny","Resource":"*"}]}}`), false
			case "Bearer broken":
				return []byte(`{"errorMessage":"cannot reach the user store"}`), true
			}
			return []byte(`{"errorMessage":"Unauthorized"}`), true
		},
	})
	plain := functionstest.NewURL(t, func(event []byte) ([]byte, bool) {
		body, _ := fnEvent(event)["body"].(string)
		switch body {
		case "malformed":
			return []byte(`{"statusCode":200,"body":{"not":"a string"}}`), false
		case "fail":
			return []byte(`{"errorMessage":"boom"}`), true
		}
		return []byte(`{"statusCode":200,"headers":{"Content-Type":"text/plain"},"body":"plain ` + body + `"}`), false
	})
	plainAuth := functionstest.NewURL(t, func(event []byte) ([]byte, bool) {
		q, _ := fnEvent(event)["queryStringParameters"].(map[string]any)
		if q["tenant"] == "evil" {
			return []byte(`{"errorMessage":"Unauthorized"}`), true
		}
		return allowAll("tenant-"+q["tenant"].(string), `{}`), false
	})
	config := `
functions:
  - {name: arn:aws:lambda:us-east-1:000000000000:function:hello, endpoint: ` + lambda.URL + `}
  - {name: calc, endpoint: ` + lambda.URL + `}
  - {name: bg, endpoint: ` + lambda.URL + `}
  - {name: auth, endpoint: ` + lambda.URL + `}
  - {name: plain, url: ` + plain + `}
  - {name: plainauth, url: ` + plainAuth + `}
  - {name: cmd, command: [sh, fn.sh], timeout: 10s, environment: {STAGE: local}}
  - {name: cmd-short, command: [sh, fn.sh], timeout: 200ms}
restApis:
  - {name: fn, id: fnapi00001, openapi: api.yaml, stages: [{stageName: prod}]}
`
	s := startServer(t, "", map[string]string{"localpipe.yaml": config, "api.yaml": fnAPI, "fn.sh": fnScript})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	t.Cleanup(free) // runs before the server's shutdown, which waits for the function
	u := func(path string) string { return s.url("fnapi00001", "prod", path) }
	internal := `{"message": "Internal server error"}`

	t.Run("proxy through a Lambda Invoke API", func(t *testing.T) {
		r := s.do(t, "POST", u("/hello/world?x=1"), `{"a":1}`)
		if r.status != 200 || strings.Join(r.header.Values("X-Fn"), ",") != "hello,again" {
			t.Fatalf("%d %v %s", r.status, r.header, r.body)
		}
		var got map[string]any
		if err := json.Unmarshal([]byte(r.body), &got); err != nil {
			t.Fatal(err)
		}
		if got["path"] != "/hello/world" || jsonText(got["name"]) != `{"name":"world"}` || jsonText(got["query"]) != `{"x":"1"}` ||
			got["body"] != `{"a":1}` || got["stage"] != "prod" || got["authorizer"] != nil {
			t.Errorf("the function saw %s", r.body)
		}
	})
	t.Run("proxy through a plain URL", func(t *testing.T) {
		r := s.do(t, "POST", u("/plain"), "hi", "Content-Type", "text/plain")
		if r.status != 200 || r.body != "plain hi" || r.header.Get("Content-Type") != "text/plain" {
			t.Errorf("%d %v %s", r.status, r.header, r.body)
		}
		r = s.do(t, "POST", u("/plain"), "malformed", "Content-Type", "text/plain")
		if r.status != 502 || !jsonEqual(r.body, internal) || !strings.Contains(s.logs.String(), "Malformed Lambda proxy response") {
			t.Errorf("malformed: %d %s", r.status, r.body)
		}
		r = s.do(t, "POST", u("/plain"), "fail", "Content-Type", "text/plain")
		if r.status != 502 || !jsonEqual(r.body, internal) || !strings.Contains(s.logs.String(), "customer function error") {
			t.Errorf("function error: %d %s", r.status, r.body)
		}
	})
	t.Run("proxy through a command", func(t *testing.T) {
		r := s.do(t, "POST", u("/cmd"), `{}`)
		if r.status != 201 || r.body != "from a command" || r.header.Get("X-Stage") != "local" {
			t.Errorf("%d %v %s", r.status, r.header, r.body)
		}
		r = s.do(t, "POST", u("/cmd"), `"fail"`)
		if r.status != 502 || !jsonEqual(r.body, internal) {
			t.Errorf("non-zero exit: %d %s", r.status, r.body)
		}
		// The integration's timeout is the gateway's 504; the function's own is a function
		// error, 502, as when a Lambda function times out.
		r = s.do(t, "POST", u("/cmd-slow"), `"sleep"`)
		if r.status != 504 || !jsonEqual(r.body, `{"message": "Endpoint request timed out"}`) {
			t.Errorf("integration timeout: %d %s", r.status, r.body)
		}
		r = s.do(t, "POST", u("/cmd-short"), `"sleep"`)
		if r.status != 502 || !jsonEqual(r.body, internal) || !strings.Contains(s.logs.String(), "Task timed out") {
			t.Errorf("function timeout: %d %s", r.status, r.body)
		}
	})
	t.Run("unknown function", func(t *testing.T) {
		r := s.do(t, "GET", u("/missing"), "")
		if r.status != 500 || !jsonEqual(r.body, internal) {
			t.Errorf("%d %s", r.status, r.body)
		}
		if !strings.Contains(s.logs.String(), `reason="Execution failed due to configuration error: Function not found: arn:aws:lambda:us-east-1:000000000000:function:nobody`) {
			t.Errorf("the request log gives no reason:\n%s", s.logs)
		}
		if !strings.Contains(s.logs.String(), `function=arn:aws:lambda:us-east-1:000000000000:function:nobody calledBy="GET /missing"`) {
			t.Errorf("no warning at start:\n%s", s.logs)
		}
		if strings.Contains(s.logs.String(), `function=arn:aws:lambda:us-east-1:000000000000:function:hello calledBy`) {
			t.Errorf("a warning for a declared function:\n%s", s.logs)
		}
	})
	t.Run("AWS Lambda integration", func(t *testing.T) {
		r := s.do(t, "POST", u("/calc"), `{"n": 7}`)
		if r.status != 200 || !jsonEqual(r.body, `{"square":49,"who":"","tier":""}`) {
			t.Errorf("%d %s", r.status, r.body)
		}
		r = s.do(t, "POST", u("/calc"), `{"n": -1}`)
		if r.status != 400 || !jsonEqual(r.body, `{"error":"Negative input"}`) {
			t.Errorf("selected by errorMessage: %d %s", r.status, r.body)
		}
	})
	t.Run("asynchronous AWS Lambda integration", func(t *testing.T) {
		// The client has its answer while the function still waits to be released.
		r := s.do(t, "POST", u("/jobs"), `{"job": 1}`)
		free()
		if r.status != 202 || !jsonEqual(r.body, `{"accepted": true}`) {
			t.Errorf("%d %s", r.status, r.body)
		}
		if ev := <-ran; ev != `{"job": 1}` {
			t.Errorf("the function got %s", ev)
		}
	})
	t.Run("TOKEN authorizer", func(t *testing.T) {
		for _, tt := range []struct {
			token  string
			status int
			body   string
		}{
			{"", 401, `{"message":"Unauthorized"}`},
			{"Basic x", 401, `{"message":"Unauthorized"}`},
			{"Bearer eve", 401, `{"message":"Unauthorized"}`},
			{"Bearer mallory", 403, `{"denied":"User is not authorized to access this resource with an explicit deny"}`},
			{"Bearer broken", 500, `{"message":null}`},
		} {
			var h []string
			if tt.token != "" {
				h = []string{"Authorization", tt.token}
			}
			r := s.do(t, "GET", u("/secure"), "", h...)
			if r.status != tt.status || !jsonEqual(r.body, tt.body) {
				t.Errorf("%q: %d %s, want %d %s", tt.token, r.status, r.body, tt.status, tt.body)
			}
		}
		r := s.do(t, "GET", u("/secure"), "", "Authorization", "Bearer alice")
		var seen struct {
			Authorizer map[string]any `json:"authorizer"`
		}
		if err := json.Unmarshal([]byte(r.body), &seen); err != nil {
			t.Fatalf("%d %s: %v", r.status, r.body, err)
		}
		a := seen.Authorizer
		if _, ok := a["integrationLatency"].(float64); r.status != 200 || !ok || a["principalId"] != "alice" || a["tier"] != "gold" || a["n"] != "1" {
			t.Errorf("proxy with authorizer: %d %s", r.status, r.body)
		}
		calls := lambda.Calls("auth")
		r = s.do(t, "POST", u("/secure"), `{}`, "Authorization", "Bearer alice")
		if r.status != 200 || !jsonEqual(r.body, `{"square":1,"who":"alice","tier":"gold"}`) {
			t.Errorf("$context.authorizer in a template: %d %s", r.status, r.body)
		}
		if lambda.Calls("auth") != calls {
			t.Errorf("the cached policy was not used: %d calls, then %d", calls, lambda.Calls("auth"))
		}
	})
	t.Run("Cognito authorizer", func(t *testing.T) {
		// The API starts; the start says the method cannot be served, and a call says why.
		if !strings.Contains(s.logs.String(), "Cognito user pool authorizers are not available locally") {
			t.Errorf("no warning at start:\n%s", s.logs)
		}
		r := s.do(t, "GET", u("/cognito"), "", "Authorization", "token")
		if r.status != 500 || !jsonEqual(r.body, internal) || !strings.Contains(s.logs.String(), `reason="the Cognito user pool authorizer \"pool\" is not available locally`) {
			t.Errorf("%d %s\n%s", r.status, r.body, s.logs)
		}
	})
	t.Run("REQUEST authorizer", func(t *testing.T) {
		if r := s.do(t, "GET", u("/tenant?tenant=acme"), ""); r.status != 200 || !jsonEqual(r.body, `{"tenant":"tenant-acme"}`) {
			t.Errorf("%d %s", r.status, r.body)
		}
		if r := s.do(t, "GET", u("/tenant"), ""); r.status != 401 {
			t.Errorf("no identity source: %d %s", r.status, r.body)
		}
		if r := s.do(t, "GET", u("/tenant?tenant=evil"), ""); r.status != 401 {
			t.Errorf("Unauthorized: %d %s", r.status, r.body)
		}
	})
}

func jsonEqual(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return jsonText(x) == jsonText(y)
}

// TestGatewayControlPlaneAuthorizers builds a TOKEN authorizer and an AWS_PROXY method
// guarded by it with the SDK's apigateway client, deploys, and calls it.
func TestGatewayControlPlaneAuthorizers(t *testing.T) {
	lambda := functionstest.NewLambda(t, map[string]functionstest.Func{
		"auth": func(event []byte) ([]byte, bool) {
			if fnEvent(event)["authorizationToken"] == "letmein" {
				return []byte(`{"principalId":"u1","policyDocument":{"Version":"2012-10-17","Statement":[` +
					`{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"*"}]},"context":{"role":"admin"}}`), false
			}
			return []byte(`{"errorMessage":"Unauthorized"}`), true
		},
		"who": func(event []byte) ([]byte, bool) {
			rc, _ := fnEvent(event)["requestContext"].(map[string]any)
			a, _ := rc["authorizer"].(map[string]any)
			return []byte(`{"statusCode":200,"body":` + jsonText(jsonText(a["principalId"])+" "+jsonText(a["role"])) + `}`), false
		},
	})
	config := "functions:\n  - {name: auth, endpoint: " + lambda.URL + "}\n  - {name: who, endpoint: " + lambda.URL + "}\n"
	s := startServer(t, "", map[string]string{"localpipe.yaml": config})
	ag := apigatewayClient(s)
	ctx := context.Background()

	api, err := ag.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("authz")})
	if err != nil {
		t.Fatal(err)
	}
	res, err := ag.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api.Id, ParentId: api.RootResourceId, PathPart: aws.String("me")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ag.CreateAuthorizer(ctx, &apigateway.CreateAuthorizerInput{RestApiId: api.Id, Name: aws.String("tok"), Type: agtypes.AuthorizerTypeToken})
	wantAPIError(t, "CreateAuthorizer without a URI", err, "BadRequestException", "Authorizer URI must be specified")
	authURI := "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:auth/invocations"
	az, err := ag.CreateAuthorizer(ctx, &apigateway.CreateAuthorizerInput{
		RestApiId: api.Id, Name: aws.String("tok"), Type: agtypes.AuthorizerTypeToken, AuthorizerUri: aws.String(authURI),
		IdentitySource: aws.String("method.request.header.X-Token"), AuthorizerResultTtlInSeconds: aws.Int32(0),
	})
	if err != nil || len(aws.ToString(az.Id)) != 6 || aws.ToString(az.AuthorizerUri) != authURI || aws.ToInt32(az.AuthorizerResultTtlInSeconds) != 0 {
		t.Fatalf("CreateAuthorizer: %+v, %v", az, err)
	}
	list, err := ag.GetAuthorizers(ctx, &apigateway.GetAuthorizersInput{RestApiId: api.Id})
	if err != nil || len(list.Items) != 1 || aws.ToString(list.Items[0].Name) != "tok" {
		t.Fatalf("GetAuthorizers: %+v, %v", list, err)
	}
	_, err = ag.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: api.Id, ResourceId: res.Id, HttpMethod: aws.String("GET"), AuthorizationType: aws.String("CUSTOM")})
	wantAPIError(t, "PutMethod CUSTOM without an authorizer", err, "BadRequestException", "requires a valid authorizer")
	m, err := ag.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: api.Id, ResourceId: res.Id, HttpMethod: aws.String("GET"),
		AuthorizationType: aws.String("CUSTOM"), AuthorizerId: az.Id})
	if err != nil || aws.ToString(m.AuthorizerId) != aws.ToString(az.Id) || aws.ToString(m.AuthorizationType) != "CUSTOM" {
		t.Fatalf("PutMethod: %+v, %v", m, err)
	}
	if _, err := ag.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: api.Id, ResourceId: res.Id, HttpMethod: aws.String("GET"),
		Type: agtypes.IntegrationTypeAwsProxy, IntegrationHttpMethod: aws.String("POST"),
		Uri: aws.String("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:who/invocations")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ag.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: api.Id, StageName: aws.String("dev")}); err != nil {
		t.Fatal(err)
	}
	u := s.url(aws.ToString(api.Id), "dev", "/me")
	if r := s.do(t, "GET", u, ""); r.status != 401 {
		t.Errorf("no token: %d %s", r.status, r.body)
	}
	if r := s.do(t, "GET", u, "", "X-Token", "nope"); r.status != 401 {
		t.Errorf("bad token: %d %s", r.status, r.body)
	}
	if r := s.do(t, "GET", u, "", "X-Token", "letmein"); r.status != 200 || r.body != `"u1" "admin"` {
		t.Errorf("good token: %d %s", r.status, r.body)
	}

	ti, err := ag.TestInvokeAuthorizer(ctx, &apigateway.TestInvokeAuthorizerInput{RestApiId: api.Id, AuthorizerId: az.Id,
		Headers: map[string]string{"X-Token": "letmein"}, PathWithQueryString: aws.String("/me")})
	if err != nil || ti.ClientStatus != 200 || aws.ToString(ti.PrincipalId) != "u1" || !strings.Contains(aws.ToString(ti.Policy), `"Effect":"Allow"`) ||
		!strings.Contains(aws.ToString(ti.Log), `"role":"admin"`) {
		t.Errorf("TestInvokeAuthorizer: %+v, %v", ti, err)
	}
	ti, err = ag.TestInvokeAuthorizer(ctx, &apigateway.TestInvokeAuthorizerInput{RestApiId: api.Id, AuthorizerId: az.Id,
		Headers: map[string]string{"X-Token": "nope"}})
	if err != nil || ti.ClientStatus != 401 || ti.PrincipalId != nil {
		t.Errorf("TestInvokeAuthorizer, refused: %+v, %v", ti, err)
	}

	_, err = ag.DeleteAuthorizer(ctx, &apigateway.DeleteAuthorizerInput{RestApiId: api.Id, AuthorizerId: az.Id})
	wantAPIError(t, "DeleteAuthorizer in use", err, "ConflictException", "is referenced in method: GET:/me")
	up, err := ag.UpdateAuthorizer(ctx, &apigateway.UpdateAuthorizerInput{RestApiId: api.Id, AuthorizerId: az.Id,
		PatchOperations: []agtypes.PatchOperation{{Op: agtypes.OpReplace, Path: aws.String("/authorizerResultTtlInSeconds"), Value: aws.String("60")}}})
	if err != nil || aws.ToInt32(up.AuthorizerResultTtlInSeconds) != 60 {
		t.Fatalf("UpdateAuthorizer: %+v, %v", up, err)
	}
	if _, err := ag.UpdateMethod(ctx, &apigateway.UpdateMethodInput{RestApiId: api.Id, ResourceId: res.Id, HttpMethod: aws.String("GET"),
		PatchOperations: []agtypes.PatchOperation{{Op: agtypes.OpReplace, Path: aws.String("/authorizationType"), Value: aws.String("NONE")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ag.DeleteAuthorizer(ctx, &apigateway.DeleteAuthorizerInput{RestApiId: api.Id, AuthorizerId: az.Id}); err != nil {
		t.Errorf("DeleteAuthorizer: %v", err)
	}
	// The stage still serves the deployment made with the authorizer.
	if r := s.do(t, "GET", u, ""); r.status != 401 {
		t.Errorf("deployed method after the model changed: %d %s", r.status, r.body)
	}
}
