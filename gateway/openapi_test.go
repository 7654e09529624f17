package gateway

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustImport(t testing.TB, doc string) *API {
	t.Helper()
	api, err := ImportOpenAPI([]byte(doc))
	if err != nil {
		t.Fatalf("ImportOpenAPI: %v", err)
	}
	return api
}

// canonical renders everything an import produced except the generated ids, so that the
// same API written four ways (OpenAPI 3.0 or Swagger 2.0, JSON or YAML) compares equal.
func canonical(t testing.TB, api *API) string {
	t.Helper()
	type res struct {
		Path     string
		PathPart string
		Methods  map[string]*Method
	}
	var resources []res
	for _, r := range api.Resources() {
		resources = append(resources, res{r.Path, r.PathPart, r.Methods})
	}
	models := map[string]any{}
	for name, raw := range api.Models {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("model %s: %v", name, err)
		}
		models[name] = v
	}
	b, err := json.MarshalIndent(map[string]any{
		"Name": api.Name, "Description": api.Description, "Version": api.Version,
		"APIKeySource": api.APIKeySource, "BinaryMediaTypes": api.BinaryMediaTypes,
		"GatewayResponses": api.GatewayResponses, "RequestValidators": api.RequestValidators,
		"DefaultValidator": api.DefaultValidator, "Models": models, "Resources": resources,
		"Warnings": api.Warnings,
	}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestImportKinesisProxyExport imports what `aws apigateway get-export` gives for the seed's
// API (POST /stream → Kinesis PutRecord, OPTIONS /stream → CORS mock) in all four forms.
func TestImportKinesisProxyExport(t *testing.T) {
	files := []string{
		"kinesis-proxy-oas30.json", "kinesis-proxy-oas30.yaml",
		"kinesis-proxy-swagger.json", "kinesis-proxy-swagger.yaml",
	}
	var first string
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			api, err := ImportOpenAPI(readTestdata(t, f))
			if err != nil {
				t.Fatalf("ImportOpenAPI: %v", err)
			}
			checkKinesisProxy(t, api)
			c := canonical(t, api)
			if first == "" {
				first = c
			} else if c != first {
				t.Errorf("%s imports differently from %s:\n%s\nwant\n%s", f, files[0], c, first)
			}
		})
	}
}

func checkKinesisProxy(t *testing.T, api *API) {
	t.Helper()
	if api.Name != "KinesisProxy" || api.APIKeySource != "HEADER" || !idRe.MatchString(api.ID) {
		t.Errorf("api = %q %q %q", api.Name, api.APIKeySource, api.ID)
	}
	var paths []string
	for _, r := range api.Resources() {
		paths = append(paths, r.Path)
	}
	if want := []string{"/", "/stream"}; !slices.Equal(paths, want) {
		t.Errorf("resources = %v, want %v", paths, want)
	}
	res := api.Resource("/stream")
	if res == nil || res.PathPart != "stream" || res.ParentID != api.Root().ID || !resourceIDRe.MatchString(res.ID) {
		t.Fatalf("resource /stream = %+v", res)
	}

	post := res.Methods["POST"]
	if post == nil {
		t.Fatal("no POST /stream")
	}
	if !post.APIKeyRequired || post.RequestValidator != "Validate body" ||
		!reflect.DeepEqual(post.RequestModels, map[string]string{"application/json": "StreamEvent"}) {
		t.Errorf("POST = %+v", post)
	}
	wantPost := &Integration{
		Type:                IntegrationAWS,
		URI:                 "arn:aws:apigateway:us-east-1:kinesis:action/PutRecord",
		HTTPMethod:          "POST",
		Credentials:         "arn:aws:iam::123456789012:role/apigateway-kinesis-put",
		RequestParameters:   map[string]string{"integration.request.header.Content-Type": "'application/x-amz-json-1.1'"},
		RequestTemplates:    map[string]string{"application/json": "{\n    \"StreamName\": \"my-data-stream\",\n    \"Data\": \"$util.base64Encode($input.body)\",\n    \"PartitionKey\": \"$context.requestId\"\n}"},
		PassthroughBehavior: PassthroughWhenNoMatch,
		TimeoutInMillis:     29000,
		Responses: map[string]IntegrationResponse{"default": {
			StatusCode:         "200",
			ResponseParameters: map[string]string{"method.response.header.Access-Control-Allow-Origin": "'*'"},
		}},
	}
	if !reflect.DeepEqual(post.Integration, wantPost) {
		t.Errorf("POST integration =\n%+v\nwant\n%+v", post.Integration, wantPost)
	}
	if d, ok := post.Integration.DefaultResponse(); !ok || d.StatusCode != "200" || d.Matches("200") {
		t.Errorf("default response = %+v %v", d, ok)
	}
	wantMR := map[string]MethodResponse{"200": {
		StatusCode:         "200",
		ResponseParameters: map[string]bool{"method.response.header.Access-Control-Allow-Origin": false},
		ResponseModels:     map[string]string{"application/json": "Empty"},
	}}
	if !reflect.DeepEqual(post.MethodResponses, wantMR) {
		t.Errorf("POST method responses = %+v", post.MethodResponses)
	}

	opt := res.Methods["OPTIONS"]
	if opt == nil || opt.Integration == nil {
		t.Fatal("no OPTIONS /stream integration")
	}
	if opt.APIKeyRequired || opt.RequestValidator != "" || opt.Integration.Type != IntegrationMock ||
		opt.Integration.RequestTemplates["application/json"] != `{"statusCode": 200}` {
		t.Errorf("OPTIONS = %+v / %+v", opt, opt.Integration)
	}
	cors := opt.Integration.Responses["default"].ResponseParameters
	if cors["method.response.header.Access-Control-Allow-Methods"] != "'OPTIONS,POST'" ||
		cors["method.response.header.Access-Control-Allow-Origin"] != "'*'" ||
		!strings.Contains(cors["method.response.header.Access-Control-Allow-Headers"], "X-Api-Key") {
		t.Errorf("CORS response parameters = %v", cors)
	}
	if n := len(opt.MethodResponses["200"].ResponseParameters); n != 3 {
		t.Errorf("OPTIONS 200 declares %d headers, want 3", n)
	}

	if gr := api.GatewayResponses["DEFAULT_4XX"]; gr.ResponseParameters["gatewayresponse.header.Access-Control-Allow-Origin"] != "'*'" || gr.StatusCode != "" {
		t.Errorf("DEFAULT_4XX = %+v", gr)
	}
	if v := api.RequestValidators["Validate body"]; !v.ValidateRequestBody || v.ValidateRequestParameters {
		t.Errorf("validator = %+v", v)
	}
	var schema map[string]any
	if err := json.Unmarshal(api.Models["StreamEvent"], &schema); err != nil || schema["type"] != "object" {
		t.Errorf("StreamEvent model = %s (%v)", api.Models["StreamEvent"], err)
	}
	if len(api.Warnings) != 0 {
		t.Errorf("warnings = %q", api.Warnings)
	}
}

var (
	idRe         = regexp.MustCompile(`^[a-z0-9]{10}$`)
	resourceIDRe = regexp.MustCompile(`^[a-z0-9]{6}$`)
)

// kinesisTutorial is the shape of the API in AWS's "REST API as an Amazon Kinesis proxy"
// tutorial, written in YAML: path variables, a query and a header parameter, and DeleteStream's
// three integration responses.
const kinesisTutorial = `
swagger: "2.0"
info: {title: KinesisProxy, version: "1"}
paths:
  /streams:
    get:
      responses: {"200": {description: ok}}
      x-amazon-apigateway-integration:
        type: AWS
        httpMethod: post
        uri: arn:aws:apigateway:us-east-1:kinesis:action/ListStreams
        requestTemplates: {application/json: "{}"}
        responses: {default: {statusCode: 200}}
  /streams/{stream-name}:
    parameters:
      - {name: stream-name, in: path, required: true, type: string}
    delete:
      responses:
        "200": {description: ok, headers: {Content-Type: {type: string}}}
        "400": {description: bad, headers: {Content-Type: {type: string}}}
        "500": {description: err, headers: {Content-Type: {type: string}}}
      x-amazon-apigateway-integration:
        type: aws
        httpMethod: POST
        uri: arn:aws:apigateway:us-east-1:kinesis:action/DeleteStream
        passthroughBehavior: WHEN_NO_TEMPLATES
        timeoutInMillis: 5000
        requestParameters:
          integration.request.header.Content-Type: "'application/x-amz-json-1.1'"
          integration.request.querystring.name: method.request.path.stream-name
        requestTemplates:
          application/json: '{"StreamName": "$input.params(''stream-name'')"}'
        responses:
          4\d{2}:
            statusCode: "400"
            responseParameters: {method.response.header.Content-Type: integration.response.header.Content-Type}
          5\d{2}:
            statusCode: "500"
            responseParameters: {method.response.header.Content-Type: integration.response.header.Content-Type}
          default:
            statusCode: "200"
            responseParameters: {method.response.header.Content-Type: integration.response.header.Content-Type}
  /streams/{stream-name}/sharditerator:
    get:
      parameters:
        - {name: stream-name, in: path, required: true, type: string}
        - {name: shard-id, in: query, required: false, type: string}
        - {name: Shard-Iterator, in: header, required: true, type: string}
      responses: {"200": {description: ok}}
      x-amazon-apigateway-integration:
        type: aws
        httpMethod: POST
        uri: arn:aws:apigateway:us-east-1:kinesis:action/GetShardIterator
        requestParameters:
          integration.request.header.x-shard: method.request.header.Shard-Iterator
          integration.request.querystring.shard: method.request.querystring.shard-id
          integration.request.header.x-stage: stageVariables.env
          integration.request.header.x-id: context.requestId
  /{proxy+}:
    x-amazon-apigateway-any-method:
      responses: {"200": {description: ok}}
      x-amazon-apigateway-integration:
        type: http_proxy
        httpMethod: ANY
        uri: "http://localhost:8080/{proxy}"
        requestParameters:
          integration.request.path.proxy: method.request.path.proxy
`

func TestImportTutorialShapes(t *testing.T) {
	api := mustImport(t, kinesisTutorial)
	var paths []string
	for _, r := range api.Resources() {
		paths = append(paths, r.Path)
	}
	want := []string{"/", "/streams", "/streams/{stream-name}", "/streams/{stream-name}/sharditerator", "/{proxy+}"}
	if !slices.Equal(paths, want) {
		t.Fatalf("resources = %v, want %v", paths, want)
	}

	list := api.Resource("/streams").Methods["GET"].Integration
	if list.Type != IntegrationAWS || list.HTTPMethod != "POST" || list.Responses["default"].StatusCode != "200" {
		t.Errorf("type/httpMethod/statusCode not normalised: %+v", list)
	}

	del := api.Resource("/streams/{stream-name}").Methods["DELETE"]
	if !reflect.DeepEqual(del.RequestParameters, map[string]bool{"method.request.path.stream-name": true}) {
		t.Errorf("path-level parameters not applied: %v", del.RequestParameters)
	}
	in := del.Integration
	if in.PassthroughBehavior != PassthroughWhenNoTemplates || in.TimeoutInMillis != 5000 {
		t.Errorf("DeleteStream integration = %+v", in)
	}
	r4 := in.Responses[`4\d{2}`]
	if r4.StatusCode != "400" || r4.SelectionPattern != `4\d{2}` || !r4.Matches("400") || !r4.Matches("404") || r4.Matches("4000") || r4.Matches("500") {
		t.Errorf("4xx response = %+v", r4)
	}
	if len(del.MethodResponses) != 3 || del.MethodResponses["500"].ResponseParameters["method.response.header.Content-Type"] {
		t.Errorf("method responses = %+v", del.MethodResponses)
	}

	si := api.Resource("/streams/{stream-name}/sharditerator").Methods["GET"]
	wantParams := map[string]bool{
		"method.request.path.stream-name":      true,
		"method.request.querystring.shard-id":  false,
		"method.request.header.Shard-Iterator": true,
	}
	if !reflect.DeepEqual(si.RequestParameters, wantParams) {
		t.Errorf("request parameters = %v", si.RequestParameters)
	}
	if si.Integration.Responses != nil {
		t.Errorf("responses = %v, want none", si.Integration.Responses)
	}

	proxy := api.Resource("/{proxy+}")
	if !proxy.Greedy() || proxy.Param() != "proxy" || proxy.Methods["ANY"] == nil ||
		proxy.Methods["ANY"].Integration.Type != IntegrationHTTPProxy || proxy.Methods["ANY"].Integration.HTTPMethod != "ANY" {
		t.Errorf("proxy = %+v", proxy)
	}
}

// TestImportExtensions covers the API-level extensions and the less common OpenAPI forms.
func TestImportExtensions(t *testing.T) {
	api := mustImport(t, `
openapi: 3.0.3
info: {title: Ext, version: "1"}
x-amazon-apigateway-api-key-source: AUTHORIZER
x-amazon-apigateway-binary-media-types: [application/octet-stream, "image/*"]
x-amazon-apigateway-request-validators:
  all: {validateRequestBody: true, validateRequestParameters: true}
  params: {validateRequestParameters: true}
x-amazon-apigateway-request-validator: all
x-amazon-apigateway-documentation: {version: "1", documentationParts: []}
x-amazon-apigateway-gateway-responses:
  MISSING_AUTHENTICATION_TOKEN:
    statusCode: 404
    responseParameters: {gatewayresponse.header.x-request: method.request.header.x-request-id}
    responseTemplates: {application/json: '{"message": "no such route"}'}
security:
  - key: []
components:
  securitySchemes:
    key: {type: apiKey, in: header, name: X-API-Key}
  parameters:
    Id: {name: id, in: path, required: true, schema: {type: string}}
  requestBodies:
    Thing: {content: {application/json: {schema: {$ref: "#/components/schemas/Thing"}}}}
  schemas:
    Thing:
      type: object
      properties: {parts: {type: array, items: {$ref: "#/components/schemas/Part"}}}
    Part: {type: string}
paths:
  /things/{id}:
    parameters:
      - $ref: "#/components/parameters/Id"
    put:
      security: [{}]
      x-amazon-apigateway-request-validator: params
      parameters:
        - {name: session, in: cookie}
      requestBody: {$ref: "#/components/requestBodies/Thing"}
      responses:
        default: {description: other}
      x-amazon-apigateway-integration:
        type: mock
        contentHandling: convert_to_text
        requestTemplates: {application/json: null}
        tlsConfig: {insecureSkipVerification: true}
        responses:
          default: {statusCode: "204", contentHandling: CONVERT_TO_BINARY}
    post:
      requestBody:
        content:
          application/json:
            schema: {type: object, required: [name]}
      responses:
        "201":
          description: created
          content: {application/json: {schema: {type: object}}}
    get:
      responses: {"200": {description: ok}}
`)
	if api.APIKeySource != APIKeySourceAuthorizer || !slices.Equal(api.BinaryMediaTypes, []string{"application/octet-stream", "image/*"}) {
		t.Errorf("api = %+v", api)
	}
	if api.DefaultValidator != "all" || !api.RequestValidators["params"].ValidateRequestParameters || api.RequestValidators["params"].ValidateRequestBody {
		t.Errorf("validators = %+v default %q", api.RequestValidators, api.DefaultValidator)
	}
	gr := api.GatewayResponses["MISSING_AUTHENTICATION_TOKEN"]
	if gr.StatusCode != "404" || gr.ResponseTemplates["application/json"] == "" {
		t.Errorf("gateway response = %+v", gr)
	}
	res := api.Resource("/things/{id}")
	put, post, get := res.Methods["PUT"], res.Methods["POST"], res.Methods["GET"]
	if put.APIKeyRequired || put.RequestValidator != "params" || put.RequestModels["application/json"] != "Thing" ||
		put.RequestParameters["method.request.path.id"] != true {
		t.Errorf("PUT = %+v", put)
	}
	if in := put.Integration; in.ContentHandling != ConvertToText || !in.InsecureSkipVerification ||
		in.RequestTemplates["application/json"] != "" || in.Responses["default"].ContentHandling != ConvertToBinary {
		t.Errorf("PUT integration = %+v", in)
	}
	if !get.APIKeyRequired || get.RequestValidator != "all" || get.Integration != nil {
		t.Errorf("GET = %+v", get)
	}
	// Inline schemas become models named after the method.
	if post.RequestModels["application/json"] != "PostThingsIdRequest" || post.MethodResponses["201"].ResponseModels["application/json"] != "PostThingsIdResponse201" {
		t.Errorf("POST models = %v %v", post.RequestModels, post.MethodResponses)
	}
	if _, ok := api.Models["PostThingsIdRequest"]; !ok {
		t.Errorf("models = %v", slices.Sorted(func(yield func(string) bool) {
			for k := range api.Models {
				if !yield(k) {
					return
				}
			}
		}))
	}
	wantWarnings := []string{
		"x-amazon-apigateway-documentation: ignored: documentation parts do not change how requests are served",
		`PUT /things/{id}: parameter "session": ignored: API Gateway method requests have no cookie parameters`,
		"PUT /things/{id}: responses: default: ignored: an API Gateway method response needs a status code",
	}
	if !slices.Equal(api.Warnings, wantWarnings) {
		t.Errorf("warnings =\n%s\nwant\n%s", strings.Join(api.Warnings, "\n"), strings.Join(wantWarnings, "\n"))
	}
}

const head3 = "openapi: 3.0.1\ninfo: {title: T, version: \"1\"}\n"
const head2 = "swagger: \"2.0\"\ninfo: {title: T, version: \"1\"}\n"

// post wraps an integration (YAML, indented for its place) in a POST /stream operation.
func post(integration string) string {
	return head3 + "paths:\n  /stream:\n    post:\n      x-amazon-apigateway-integration:\n" + integration
}

const awsOK = "        type: aws\n        httpMethod: POST\n        uri: arn:aws:apigateway:us-east-1:kinesis:action/PutRecord\n"

// TestImportErrors pins the message of every problem the importer reports. Each line of
// want is one error of the errors.Join.
func TestImportErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want string
	}{
		{"empty", "  \n", "the document is empty"},
		{"not yaml", "a: [b\n", "the document is neither JSON nor valid YAML: yaml: line 1: did not find expected ',' or ']'"},
		{"bad json", `{"openapi": `, "the document is not valid JSON: unexpected EOF"},
		{"json trailing data", `{"openapi": "3.0.1"} {}`, "the document is not valid JSON: data after the top-level object"},
		{"list", "- a\n- b\n", "the document is not an OpenAPI object: its top level must be a map"},
		{"no version", "info: {title: T}\n", `not an OpenAPI document: it has neither an "openapi" nor a "swagger" field`},
		{"openapi 3.1", "openapi: 3.1.0\ninfo: {title: T}\n", `openapi: version "3.1.0" is not supported; API Gateway imports Swagger 2.0 and OpenAPI 3.0`},
		{"swagger 1.2", "swagger: 1.2\ninfo: {title: T}\n", `swagger: version 1.2 is not supported; API Gateway imports Swagger 2.0 and OpenAPI 3.0`},
		{"no title", "openapi: 3.0.0\ninfo: {version: \"1\"}\n", "info.title: is required: it becomes the API's name"},

		// x-amazon-apigateway-integration
		{"unknown type", post("        type: foo\n"), `POST /stream: x-amazon-apigateway-integration: unknown type "foo"; API Gateway's are aws, aws_proxy, http, http_proxy and mock`},
		{"no type", post("        uri: http://example.com\n"), "POST /stream: x-amazon-apigateway-integration: type is required"},
		{"type not string", post("        type: 3\n"), "POST /stream: x-amazon-apigateway-integration: type: must be a string, not 3"},
		{"not an object", post("        [aws]\n"), "POST /stream: x-amazon-apigateway-integration: must be an object"},
		{"aws needs method and uri", post("        type: aws\n"),
			"POST /stream: x-amazon-apigateway-integration: httpMethod is required for type aws\n" +
				"POST /stream: x-amazon-apigateway-integration: uri is required for type aws"},
		{"bad aws uri", post("        type: aws\n        httpMethod: POST\n        uri: arn:aws:kinesis:us-east-1:123:stream/x\n"),
			`POST /stream: x-amazon-apigateway-integration: uri: uri "arn:aws:kinesis:us-east-1:123:stream/x" is not of the form arn:aws:apigateway:{region}:{service}:{action|path}/{target}`},
		{"bad http uri", post("        type: http\n        httpMethod: GET\n        uri: example.com/x\n"),
			`POST /stream: x-amazon-apigateway-integration: uri: "example.com/x" is not an http or https URL`},
		{"bad http method", post("        type: http\n        httpMethod: FETCH\n        uri: http://example.com\n"),
			`POST /stream: x-amazon-apigateway-integration: httpMethod: unknown HTTP method "FETCH"`},
		{"timeout low", post(awsOK + "        timeoutInMillis: 49\n"), "POST /stream: x-amazon-apigateway-integration: timeoutInMillis: 49 is outside 50 to 29000"},
		{"timeout high", post(awsOK + "        timeoutInMillis: 29001\n"), "POST /stream: x-amazon-apigateway-integration: timeoutInMillis: 29001 is outside 50 to 29000"},
		{"timeout fraction", post(awsOK + "        timeoutInMillis: 1.5\n"), "POST /stream: x-amazon-apigateway-integration: timeoutInMillis: must be an integer, not 1.5"},
		{"timeout string", post(awsOK + "        timeoutInMillis: \"100\"\n"), `POST /stream: x-amazon-apigateway-integration: timeoutInMillis: must be an integer, not "100"`},
		{"passthrough", post(awsOK + "        passthroughBehavior: always\n"),
			`POST /stream: x-amazon-apigateway-integration: passthroughBehavior: unknown value "always"; API Gateway's are when_no_match, when_no_templates and never`},
		{"content handling", post(awsOK + "        contentHandling: CONVERT_TO_JSON\n"),
			`POST /stream: x-amazon-apigateway-integration: contentHandling: unknown value "CONVERT_TO_JSON"; API Gateway's are CONVERT_TO_BINARY and CONVERT_TO_TEXT`},
		{"unknown property", post(awsOK + "        requestTemplate: {application/json: x}\n"),
			"POST /stream: x-amazon-apigateway-integration: requestTemplate: unknown property of an integration"},
		{"vpc link", post(awsOK + "        connectionType: VPC_LINK\n        connectionId: abc\n"),
			"POST /stream: x-amazon-apigateway-integration: connectionType: \"VPC_LINK\": localpipe supports only INTERNET (no VPC links)\n" +
				"POST /stream: x-amazon-apigateway-integration: connectionId: localpipe does not support VPC links"},
		{"http api only", post(awsOK + "        integrationSubtype: SQS-SendMessage\n        payloadFormatVersion: \"2.0\"\n"),
			"POST /stream: x-amazon-apigateway-integration: integrationSubtype: applies to HTTP APIs only\n" +
				`POST /stream: x-amazon-apigateway-integration: payloadFormatVersion: "2.0": REST APIs support only 1.0`},
		{"integration ref", post("        $ref: '#/components/x-amazon-apigateway-integrations/a'\n"),
			"POST /stream: x-amazon-apigateway-integration: $ref to x-amazon-apigateway-integrations applies to HTTP APIs only"},
		{"templates not strings", post(awsOK + "        requestTemplates: {application/json: {a: 1}}\n"),
			`POST /stream: x-amazon-apigateway-integration: requestTemplates: "application/json": must be a string, not {"a":1}`},
		{"tls config", post(awsOK + "        tlsConfig: {insecureSkipVerification: yes please, serverName: x}\n"),
			`POST /stream: x-amazon-apigateway-integration: tlsConfig: insecureSkipVerification: must be true or false, not "yes please"` + "\n" +
				"POST /stream: x-amazon-apigateway-integration: tlsConfig: serverName: unknown property of tlsConfig"},
		{"request parameters", post(awsOK + `        requestParameters:
          integration.request.body.x: "'a'"
          integration.request.header.a: method.request.querystring.missing
          integration.request.header.b: method.request.path.nope
          integration.request.header.c: "'unterminated"
          integration.request.header.d: method.request.body.field
          integration.request.header.e: context.
`),
			`POST /stream: x-amazon-apigateway-integration: requestParameters: "integration.request.body.x": must be integration.request.{header|querystring|path|multivalueheader|multivaluequerystring}.NAME` + "\n" +
				`POST /stream: x-amazon-apigateway-integration: requestParameters: "integration.request.header.a": method.request.querystring.missing is not a parameter of the method; declare it in the operation's parameters` + "\n" +
				`POST /stream: x-amazon-apigateway-integration: requestParameters: "integration.request.header.b": method.request.path.nope is not a parameter of the method; declare it in the operation's parameters` + "\n" +
				`POST /stream: x-amazon-apigateway-integration: requestParameters: "integration.request.header.c": invalid mapping expression "'unterminated"` + "\n" +
				`POST /stream: x-amazon-apigateway-integration: requestParameters: "integration.request.header.e": invalid mapping expression "context."`},
		{"responses", post(awsOK + `        responses:
          "(?=lookahead)": {statusCode: "400"}
          "":  {statusCode: "200"}
          "5\\d{2}": {statusCode: 5xx}
          "4\\d{2}": {responseTemplates: {application/json: x}}
          default:
            statusCode: "200"
            selectionPattern: x
            responseParameters:
              header.x: "'a'"
              method.response.header.y: integration.request.header.z
          list: [1]
`),
			`POST /stream: x-amazon-apigateway-integration: responses: "": an empty selection pattern; the fallback response is keyed "default"` + "\n" +
				"POST /stream: x-amazon-apigateway-integration: responses: \"(?=lookahead)\": localpipe cannot use this selection pattern: error parsing regexp: invalid or unsupported Perl syntax: `(?=`\n" +
				`POST /stream: x-amazon-apigateway-integration: responses: "4\\d{2}": statusCode is required` + "\n" +
				`POST /stream: x-amazon-apigateway-integration: responses: "5\\d{2}": statusCode: "5xx" is not an HTTP status code` + "\n" +
				`POST /stream: x-amazon-apigateway-integration: responses: "default": responseParameters: "header.x": must be method.response.header.NAME` + "\n" +
				`POST /stream: x-amazon-apigateway-integration: responses: "default": responseParameters: "method.response.header.y": invalid mapping expression "integration.request.header.z"` + "\n" +
				`POST /stream: x-amazon-apigateway-integration: responses: "default": selectionPattern: unknown property of an integration response` + "\n" +
				`POST /stream: x-amazon-apigateway-integration: responses: "list": must be an object`},

		// paths and resources
		{"no leading slash", head3 + "paths:\n  stream: {}\n", `stream: a path must start with "/"`},
		{"trailing slash", head3 + "paths:\n  /stream/: {}\n", "/stream/: empty path part"},
		{"bad characters", head3 + "paths:\n  /a b: {}\n", `/a b: path part "a b" may hold only a-zA-Z0-9._-: characters, or be {name} or {name+}`},
		{"bad variable", head3 + "paths:\n  /{a b}: {}\n", `/{a b}: path part "{a b}": a path variable's name may hold only a-zA-Z0-9._-`},
		{"greedy not last", head3 + "paths:\n  /a/{proxy+}/b: {}\n", "/a/{proxy+}/b: the greedy path variable {proxy+} must be the last part of the path"},
		{"duplicate variable", head3 + "paths:\n  /a/{id}/b/{id}: {}\n", `/a/{id}/b/{id}: path variable "id" appears twice`},
		{"sibling variables", head3 + "paths:\n  /user/{bizId}/complaint: {}\n  /user/{userId}/fans: {}\n",
			"/user/{userId}/fans: a sibling ({bizId}) of this resource already has a variable path part -- only one is allowed"},
		{"variable beside proxy", head3 + "paths:\n  /{proxy+}: {}\n  /{id}: {}\n",
			"/{proxy+}: a sibling ({id}) of this resource already has a variable path part -- only one is allowed"},
		{"trace", head3 + "paths:\n  /a:\n    trace: {}\n", "TRACE /a: API Gateway has no TRACE methods"},
		{"operation not object", head3 + "paths:\n  /a:\n    get: [1]\n", "GET /a: must be an object"},
		{"path param not in path", head2 + "paths:\n  /a:\n    get:\n      parameters: [{name: id, in: path, required: true}]\n",
			`GET /a: parameter "id": is declared in path, but /a has no {id}`},
		{"parameter without in", head2 + "paths:\n  /a:\n    get:\n      parameters: [{name: id}]\n",
			`GET /a: parameter "id": a parameter needs a name and an "in"`},
		{"parameter location", head2 + "paths:\n  /a:\n    get:\n      parameters: [{name: id, in: matrix}]\n",
			`GET /a: parameter "id": unknown parameter location "matrix"`},
		{"body in oas3", head3 + "paths:\n  /a:\n    post:\n      parameters: [{name: b, in: body, schema: {type: object}}]\n",
			`POST /a: parameter "b": "in: body" is Swagger 2.0; OpenAPI 3.0 uses requestBody`},
		{"missing parameter ref", head3 + "paths:\n  /a:\n    get:\n      parameters: [{$ref: '#/components/parameters/Nope'}]\n",
			`GET /a: parameters[0]: $ref "#/components/parameters/Nope" points at nothing`},
		{"remote ref", head3 + "paths:\n  /a:\n    $ref: 'other.yaml#/paths/~1a'\n",
			`/a: $ref "other.yaml#/paths/~1a": localpipe resolves only references within the document ("#/...")`},
		{"status code", head3 + "paths:\n  /a:\n    get:\n      responses: {2XX: {description: ok}}\n",
			`GET /a: responses: 2XX: a method response needs a status code such as "200"`},

		// models
		{"model name", head2 + "definitions:\n  Stream-Event: {type: object}\n", `definitions: "Stream-Event": a model name must be alphanumeric`},
		{"model not object", head3 + "components:\n  schemas:\n    A: [1]\n", "components.schemas: A: a model's schema must be an object"},
		{"model ref missing", head3 + "components:\n  schemas:\n    A: {properties: {b: {$ref: '#/components/schemas/B'}}}\n",
			`components.schemas: A: $ref "#/components/schemas/B": no model named "B"`},
		{"model ref remote", head2 + "definitions:\n  A: {items: {$ref: 'http://example.com/s.json'}}\n",
			`definitions: A: $ref "http://example.com/s.json": localpipe resolves only references to models in this document (#/definitions/NAME or #/components/schemas/NAME)`},
		{"body ref missing", head2 + "paths:\n  /a:\n    post:\n      parameters: [{name: b, in: body, schema: {$ref: '#/definitions/Nope'}}]\n",
			`POST /a: parameter "b": $ref "#/definitions/Nope": no model named "Nope"`},

		// API-level extensions
		{"api key source", head3 + "x-amazon-apigateway-api-key-source: header\n",
			`x-amazon-apigateway-api-key-source: must be "HEADER" or "AUTHORIZER", not "header"`},
		{"binary media types", head3 + "x-amazon-apigateway-binary-media-types: [png, 3]\n",
			"x-amazon-apigateway-binary-media-types: must be a list of strings, but holds 3\n" +
				`x-amazon-apigateway-binary-media-types: "png" is not a media type such as "image/png" or "image/*"`},
		{"gateway responses", head3 + `x-amazon-apigateway-gateway-responses:
  NOT_FOUND: {statusCode: "404"}
  DEFAULT_4XX:
    statusCode: "4xx"
    body: x
    responseParameters:
      header.a: "'b'"
      gatewayresponse.header.c: integration.response.header.d
  THROTTLED: 429
`,
			"x-amazon-apigateway-gateway-responses: DEFAULT_4XX: body: unknown property of a gateway response\n" +
				`x-amazon-apigateway-gateway-responses: DEFAULT_4XX: responseParameters: "gatewayresponse.header.c": invalid mapping expression "integration.response.header.d"` + "\n" +
				`x-amazon-apigateway-gateway-responses: DEFAULT_4XX: responseParameters: "header.a": must be gatewayresponse.header.NAME, gatewayresponse.querystring.NAME or gatewayresponse.path.NAME` + "\n" +
				`x-amazon-apigateway-gateway-responses: DEFAULT_4XX: statusCode: "4xx" is not an HTTP status code` + "\n" +
				"x-amazon-apigateway-gateway-responses: NOT_FOUND: unknown gateway response type; API Gateway's are " + strings.Join(GatewayResponseTypes, ", ") + "\n" +
				"x-amazon-apigateway-gateway-responses: THROTTLED: must be an object"},
		{"validators", head3 + `x-amazon-apigateway-request-validators:
  basic: {validateRequestBody: "true", validateRequestHeaders: true}
x-amazon-apigateway-request-validator: full
paths:
  /a:
    get:
      x-amazon-apigateway-request-validator: 7
`,
			`x-amazon-apigateway-request-validators: "basic": validateRequestBody: must be true or false, not "true"` + "\n" +
				`x-amazon-apigateway-request-validators: "basic": validateRequestHeaders: unknown property of a request validator` + "\n" +
				`x-amazon-apigateway-request-validator: "full" is not defined in x-amazon-apigateway-request-validators` + "\n" +
				"GET /a: x-amazon-apigateway-request-validator: must be the name of a validator in x-amazon-apigateway-request-validators, not 7"},

		// extensions localpipe does not support, wherever they are
		{"unsupported extensions", head3 + `x-amazon-apigateway-policy: {Version: "2012-10-17"}
x-amazon-apigateway-cors: {allowOrigins: ["*"]}
x-amazon-apigateway-frobnicate: true
x-amazon-apigateway-integration: {type: mock}
components:
  securitySchemes:
    sigv4:
      type: apiKey
      name: Authorization
      in: header
      x-amazon-apigateway-authtype: awsSigv4
    lambda:
      type: apiKey
      name: Authorization
      in: header
      x-amazon-apigateway-authorizer: {type: token}
    oauth: {type: oauth2}
paths:
  /a:
    x-amazon-apigateway-auth: {type: AWS_IAM}
    get:
      security: [{sigv4: []}, {oauth: []}, {nope: []}]
      x-amazon-apigateway-auth: {type: AWS_IAM}
      x-amazon-apigateway-any-method: {}
`,
			"x-amazon-apigateway-cors: applies to HTTP APIs only; a REST API defines CORS with OPTIONS methods\n" +
				"x-amazon-apigateway-frobnicate: unknown API Gateway extension\n" +
				"x-amazon-apigateway-integration: is not allowed here\n" +
				"x-amazon-apigateway-policy: localpipe does not support it (resource policies)\n" +
				"components.securitySchemes: lambda: x-amazon-apigateway-authorizer: authorizerUri is required: the Lambda function's arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function ARN}/invocations\n" +
				`GET /a: security: "sigv4": localpipe does not support IAM authorization (x-amazon-apigateway-authtype awsSigv4)` + "\n" +
				`GET /a: security: "oauth": localpipe supports the API key scheme (type apiKey, in header, name x-api-key) and schemes with x-amazon-apigateway-authorizer` + "\n" +
				`GET /a: security: unknown security scheme "nope"` + "\n" +
				"GET /a: x-amazon-apigateway-any-method: is not allowed here\n" +
				"GET /a: x-amazon-apigateway-auth: localpipe does not support it (IAM authorization)\n" +
				"/a: x-amazon-apigateway-auth: localpipe does not support it (IAM authorization)"},
		{"api key in query", head2 + "securityDefinitions:\n  k: {type: apiKey, in: query, name: api_key}\nsecurity: [{k: []}]\npaths:\n  /a:\n    get: {}\n",
			`security: "k": localpipe supports the API key scheme (type apiKey, in header, name x-api-key) and schemes with x-amazon-apigateway-authorizer`},

		// every problem at once, in document order
		{"all at once", head3 + `paths:
  /b:
    post:
      x-amazon-apigateway-integration: {type: foo}
  /a:
    get:
      x-amazon-apigateway-integration: {type: aws, httpMethod: POST, uri: "arn:aws:apigateway:us-east-1:kinesis:action/PutRecord", timeoutInMillis: 0}
`,
			"GET /a: x-amazon-apigateway-integration: timeoutInMillis: 0 is outside 50 to 29000\n" +
				`POST /b: x-amazon-apigateway-integration: unknown type "foo"; API Gateway's are aws, aws_proxy, http, http_proxy and mock`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api, err := ImportOpenAPI([]byte(tt.doc))
			if err == nil {
				t.Fatalf("no error; imported %s", canonical(t, api))
			}
			if api != nil {
				t.Errorf("api = %v, want nil with an error", api)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestImportTooLarge(t *testing.T) {
	doc := make([]byte, MaxDocumentSize+1)
	_, err := ImportOpenAPI(doc)
	if err == nil || err.Error() != "the document is 6291457 bytes; API Gateway imports documents of at most 6 MB" {
		t.Fatalf("err = %v", err)
	}
}

func TestParseAWSURI(t *testing.T) {
	tests := []struct {
		uri  string
		want AWSURI
	}{
		{"arn:aws:apigateway:us-east-1:kinesis:action/PutRecord", AWSURI{Region: "us-east-1", Service: "kinesis", Kind: "action", Target: "PutRecord"}},
		{"arn:aws:apigateway:eu-west-1:firehose:action/PutRecordBatch", AWSURI{Region: "eu-west-1", Service: "firehose", Kind: "action", Target: "PutRecordBatch"}},
		{"arn:aws:apigateway:us-west-2:s3:path/bucket/key", AWSURI{Region: "us-west-2", Service: "s3", Kind: "path", Target: "bucket/key"}},
		{"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:f/invocations",
			AWSURI{Region: "us-east-1", Service: "lambda", Kind: "path", Target: "2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:f/invocations"}},
		{"arn:aws-cn:apigateway:cn-north-1:my.s3:path/x", AWSURI{Region: "cn-north-1", Subdomain: "my", Service: "s3", Kind: "path", Target: "x"}},
	}
	for _, tt := range tests {
		got, err := ParseAWSURI(tt.uri)
		if err != nil || got != tt.want {
			t.Errorf("ParseAWSURI(%q) = %+v, %v; want %+v", tt.uri, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "arn:aws:apigateway:us-east-1:kinesis", "arn:aws:apigateway:us-east-1:kinesis:invoke/X",
		"arn:aws:apigateway::kinesis:action/X", "arn:aws:apigateway:us-east-1:kinesis:action/", "urn:aws:apigateway:r:s:action/X"} {
		if _, err := ParseAWSURI(bad); err == nil {
			t.Errorf("ParseAWSURI(%q) succeeded", bad)
		}
	}
}

func TestModelName(t *testing.T) {
	tests := map[string]string{
		"#/definitions/Empty":                                         "Empty",
		"#/components/schemas/Thing":                                  "Thing",
		"#/components/schemas/a~1b":                                   "a/b",
		"https://apigateway.amazonaws.com/restapis/abc123/models/Pet": "Pet",
		"#/components/parameters/X":                                   "",
		"#/definitions/":                                              "",
		"#/definitions/A/properties/b":                                "",
		"other.json#/definitions/A":                                   "",
	}
	for ref, want := range tests {
		got, ok := ModelName(ref)
		if got != want || ok != (want != "") {
			t.Errorf("ModelName(%q) = %q, %v; want %q", ref, got, ok, want)
		}
	}
}

func FuzzImportOpenAPI(f *testing.F) {
	for _, name := range []string{"kinesis-proxy-oas30.json", "kinesis-proxy-oas30.yaml", "kinesis-proxy-swagger.json", "kinesis-proxy-swagger.yaml"} {
		f.Add(readTestdata(f, name))
	}
	f.Add([]byte(kinesisTutorial))
	f.Add([]byte(post(awsOK + "        responses: {default: {statusCode: 200}}\n")))
	f.Add([]byte(head3 + "paths:\n  /{proxy+}: {}\n  /a/{b}/c: {get: {}}\n"))
	f.Add([]byte(`{"swagger":"2.0","info":{"title":"x"},"paths":{"/a":{"$ref":"#/paths/~1a"}}}`))
	f.Add([]byte("a: &a [*a, *a]\n"))
	f.Fuzz(func(t *testing.T, doc []byte) {
		api, err := ImportOpenAPI(doc)
		if err != nil {
			if api != nil {
				t.Fatal("api and error both returned")
			}
			return
		}
		// An imported API is a well-formed tree that routes its own paths.
		for _, r := range api.Resources() {
			if r == api.Root() {
				continue
			}
			if r.Parent().ID != r.ParentID || r.Path != joinPath(r.Parent().Path, r.PathPart) {
				t.Fatalf("resource %+v does not fit its parent", r)
			}
			if r.Parent().Greedy() {
				t.Fatalf("%s is below a greedy resource", r.Path)
			}
			for verb, m := range r.Methods {
				if m.HTTPMethod != verb {
					t.Fatalf("method %s stored as %s", m.HTTPMethod, verb)
				}
				if in := m.Integration; in != nil && (in.TimeoutInMillis < MinTimeoutMillis || in.TimeoutInMillis > MaxTimeoutMillis) {
					t.Fatalf("timeout %d", in.TimeoutInMillis)
				}
			}
		}
	})
}
