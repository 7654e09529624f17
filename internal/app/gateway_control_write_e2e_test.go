package app_test

import (
	"context"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
)

var awsIDRe = regexp.MustCompile(`^[a-z0-9]{10}$`)

// TestGatewayControlPlaneWrites builds an API with the SDK's apigateway client (a Kinesis
// PutRecord method and a MOCK one), deploys it, calls it, and checks that a stage serves the
// deployment it points at: an edit shows after the next deployment, not before, and a second
// stage can keep serving the first deployment.
func TestGatewayControlPlaneWrites(t *testing.T) {
	s := startE2E(t)
	ag := apigatewayClient(s)
	ctx := context.Background()

	api, err := ag.CreateRestApi(ctx, &apigateway.CreateRestApiInput{
		Name: aws.String("built"), Description: aws.String("by the SDK"),
		EndpointConfiguration: &agtypes.EndpointConfiguration{Types: []agtypes.EndpointType{agtypes.EndpointTypeRegional}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !awsIDRe.MatchString(aws.ToString(api.Id)) || !awsIDRe.MatchString(aws.ToString(api.RootResourceId)) ||
		api.ApiKeySource != agtypes.ApiKeySourceTypeHeader || api.CreatedDate == nil ||
		len(api.EndpointConfiguration.Types) != 1 || api.EndpointConfiguration.Types[0] != agtypes.EndpointTypeRegional {
		t.Fatalf("CreateRestApi: %+v", api)
	}
	id := api.Id
	apis, err := ag.GetRestApis(ctx, &apigateway.GetRestApisInput{})
	if err != nil || len(apis.Items) != 2 {
		t.Fatalf("GetRestApis: %+v, %v", apis, err)
	}

	stream, err := ag.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: id, ParentId: api.RootResourceId, PathPart: aws.String("stream")})
	if err != nil || aws.ToString(stream.Path) != "/stream" || len(aws.ToString(stream.Id)) != 6 {
		t.Fatalf("CreateResource /stream: %+v, %v", stream, err)
	}
	items, err := ag.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: id, ParentId: api.RootResourceId, PathPart: aws.String("items")})
	if err != nil {
		t.Fatal(err)
	}
	item, err := ag.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: id, ParentId: items.Id, PathPart: aws.String("{id}")})
	if err != nil || aws.ToString(item.Path) != "/items/{id}" {
		t.Fatalf("CreateResource /items/{id}: %+v, %v", item, err)
	}

	m, err := ag.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: id, ResourceId: stream.Id, HttpMethod: aws.String("POST"), AuthorizationType: aws.String("NONE")})
	if err != nil || aws.ToString(m.HttpMethod) != "POST" || aws.ToString(m.AuthorizationType) != "NONE" {
		t.Fatalf("PutMethod: %+v, %v", m, err)
	}
	tmpl := `{"StreamName": "e2e-stream", "Data": "$util.base64Encode($input.body)", "PartitionKey": "$context.requestId"}`
	in, err := ag.PutIntegration(ctx, &apigateway.PutIntegrationInput{
		RestApiId: id, ResourceId: stream.Id, HttpMethod: aws.String("POST"), Type: agtypes.IntegrationTypeAws,
		IntegrationHttpMethod: aws.String("POST"), Uri: aws.String("arn:aws:apigateway:us-east-1:kinesis:action/PutRecord"),
		RequestTemplates: map[string]string{"application/json": tmpl}, PassthroughBehavior: aws.String("WHEN_NO_TEMPLATES"),
	})
	if err != nil || in.Type != agtypes.IntegrationTypeAws || aws.ToString(in.HttpMethod) != "POST" || in.RequestTemplates["application/json"] != tmpl ||
		aws.ToString(in.PassthroughBehavior) != "WHEN_NO_TEMPLATES" || in.TimeoutInMillis != 29000 {
		t.Fatalf("PutIntegration: %+v, %v", in, err)
	}
	if _, err := ag.PutMethodResponse(ctx, &apigateway.PutMethodResponseInput{RestApiId: id, ResourceId: stream.Id, HttpMethod: aws.String("POST"), StatusCode: aws.String("200")}); err != nil {
		t.Fatal(err)
	}
	ir, err := ag.PutIntegrationResponse(ctx, &apigateway.PutIntegrationResponseInput{
		RestApiId: id, ResourceId: stream.Id, HttpMethod: aws.String("POST"), StatusCode: aws.String("200"),
		ResponseTemplates: map[string]string{"application/json": `{"seq": "$input.path('$.SequenceNumber')"}`},
	})
	if err != nil || aws.ToString(ir.StatusCode) != "200" {
		t.Fatalf("PutIntegrationResponse: %+v, %v", ir, err)
	}

	if _, err := ag.PutMethod(ctx, &apigateway.PutMethodInput{
		RestApiId: id, ResourceId: item.Id, HttpMethod: aws.String("GET"), AuthorizationType: aws.String("NONE"),
		RequestParameters: map[string]bool{"method.request.path.id": true},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := ag.PutIntegration(ctx, &apigateway.PutIntegrationInput{
		RestApiId: id, ResourceId: item.Id, HttpMethod: aws.String("GET"), Type: agtypes.IntegrationTypeMock,
		RequestTemplates: map[string]string{"application/json": `{"statusCode": 200}`},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := ag.PutIntegrationResponse(ctx, &apigateway.PutIntegrationResponseInput{
		RestApiId: id, ResourceId: item.Id, HttpMethod: aws.String("GET"), StatusCode: aws.String("200"),
		ResponseTemplates: map[string]string{"application/json": `{"version": 1}`},
	}); err != nil {
		t.Fatal(err)
	}

	res, err := ag.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: id, Embed: []string{"methods"}})
	if err != nil || len(res.Items) != 4 {
		t.Fatalf("GetResources: %+v, %v", res, err)
	}
	for _, r := range res.Items {
		if aws.ToString(r.Path) == "/stream" {
			mi := r.ResourceMethods["POST"].MethodIntegration
			if mi == nil || aws.ToString(mi.Uri) != "arn:aws:apigateway:us-east-1:kinesis:action/PutRecord" || mi.IntegrationResponses["200"].StatusCode == nil {
				t.Errorf("GetResources embed=methods /stream: %+v", r.ResourceMethods["POST"])
			}
		}
	}

	// Nothing is served before a deployment.
	if r := s.do(t, "GET", s.url(*id, "v1", "/items/7"), ""); r.status != 403 {
		t.Errorf("GET before CreateDeployment: %d %s", r.status, r.body)
	}
	dep1, err := ag.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{
		RestApiId: id, StageName: aws.String("v1"), Description: aws.String("first"), Variables: map[string]string{"color": "green"},
	})
	if err != nil || len(aws.ToString(dep1.Id)) != 6 || aws.ToString(dep1.Description) != "first" {
		t.Fatalf("CreateDeployment: %+v, %v", dep1, err)
	}
	r := s.do(t, "POST", s.url(*id, "v1", "/stream"), `{"n": 1}`)
	var seq struct{ Seq string }
	if json.Unmarshal([]byte(r.body), &seq); r.status != 200 || len(seq.Seq) != 56 {
		t.Fatalf("POST /stream: %d %s", r.status, r.body)
	}
	if recs := s.records(t, "e2e-stream"); len(recs) != 1 || string(recs[0].Data) != `{"n": 1}` || aws.ToString(recs[0].SequenceNumber) != seq.Seq {
		t.Fatalf("e2e-stream holds %+v", recs)
	}
	wantJSON(t, "GET /items/7", s.do(t, "GET", s.url(*id, "v1", "/items/7"), ""), 200, `{"version": 1}`)
	wantJSON(t, "GET /items/7 in the host form", s.do(t, "GET", "http://"+*id+".execute-api.localhost:"+s.port+"/v1/items/7", ""), 200, `{"version": 1}`)

	// An edit is not served until it is deployed; a stage made from the first deployment
	// keeps serving that one.
	if _, err := ag.PutIntegrationResponse(ctx, &apigateway.PutIntegrationResponseInput{
		RestApiId: id, ResourceId: item.Id, HttpMethod: aws.String("GET"), StatusCode: aws.String("200"),
		ResponseTemplates: map[string]string{"application/json": `{"version": 2}`},
	}); err != nil {
		t.Fatal(err)
	}
	wantJSON(t, "GET /items/7 after an undeployed edit", s.do(t, "GET", s.url(*id, "v1", "/items/7"), ""), 200, `{"version": 1}`)
	got, err := ag.GetIntegrationResponse(ctx, &apigateway.GetIntegrationResponseInput{RestApiId: id, ResourceId: item.Id, HttpMethod: aws.String("GET"), StatusCode: aws.String("200")})
	if err != nil || got.ResponseTemplates["application/json"] != `{"version": 2}` {
		t.Errorf("GetIntegrationResponse: %+v, %v", got, err)
	}
	if _, err := ag.CreateStage(ctx, &apigateway.CreateStageInput{RestApiId: id, StageName: aws.String("old"), DeploymentId: dep1.Id}); err != nil {
		t.Fatal(err)
	}
	dep2, err := ag.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: id, StageName: aws.String("v1")})
	if err != nil {
		t.Fatal(err)
	}
	wantJSON(t, "GET /items/7 on v1 after the deployment", s.do(t, "GET", s.url(*id, "v1", "/items/7"), ""), 200, `{"version": 2}`)
	wantJSON(t, "GET /items/7 on old", s.do(t, "GET", s.url(*id, "old", "/items/7"), ""), 200, `{"version": 1}`)

	st, err := ag.GetStage(ctx, &apigateway.GetStageInput{RestApiId: id, StageName: aws.String("v1")})
	if err != nil || aws.ToString(st.DeploymentId) != aws.ToString(dep2.Id) || st.Variables["color"] != "green" {
		t.Errorf("GetStage v1: %+v, %v", st, err)
	}
	stages, err := ag.GetStages(ctx, &apigateway.GetStagesInput{RestApiId: id, DeploymentId: dep1.Id})
	if err != nil || len(stages.Item) != 1 || aws.ToString(stages.Item[0].StageName) != "old" {
		t.Errorf("GetStages of the first deployment: %+v, %v", stages, err)
	}
	deps, err := ag.GetDeployments(ctx, &apigateway.GetDeploymentsInput{RestApiId: id})
	if err != nil || len(deps.Items) != 2 {
		t.Errorf("GetDeployments: %+v, %v", deps, err)
	}
	_, err = ag.DeleteDeployment(ctx, &apigateway.DeleteDeploymentInput{RestApiId: id, DeploymentId: dep1.Id})
	wantAPIError(t, "DeleteDeployment of a stage's deployment", err, "BadRequestException", "Active stages pointing to this deployment must be moved or deleted")
	if _, err := ag.DeleteStage(ctx, &apigateway.DeleteStageInput{RestApiId: id, StageName: aws.String("old")}); err != nil {
		t.Fatal(err)
	}
	if r := s.do(t, "GET", s.url(*id, "old", "/items/7"), ""); r.status != 403 {
		t.Errorf("GET on a deleted stage: %d %s", r.status, r.body)
	}
	if _, err := ag.DeleteDeployment(ctx, &apigateway.DeleteDeploymentInput{RestApiId: id, DeploymentId: dep1.Id}); err != nil {
		t.Errorf("DeleteDeployment: %v", err)
	}

	// Deletes, each checked by the read that follows it.
	if _, err := ag.DeleteIntegrationResponse(ctx, &apigateway.DeleteIntegrationResponseInput{RestApiId: id, ResourceId: item.Id, HttpMethod: aws.String("GET"), StatusCode: aws.String("200")}); err != nil {
		t.Fatal(err)
	}
	_, err = ag.GetIntegrationResponse(ctx, &apigateway.GetIntegrationResponseInput{RestApiId: id, ResourceId: item.Id, HttpMethod: aws.String("GET"), StatusCode: aws.String("200")})
	wantAPIError(t, "GetIntegrationResponse after delete", err, "NotFoundException", "Invalid Response status code specified")
	if _, err := ag.DeleteMethodResponse(ctx, &apigateway.DeleteMethodResponseInput{RestApiId: id, ResourceId: stream.Id, HttpMethod: aws.String("POST"), StatusCode: aws.String("200")}); err != nil {
		t.Fatal(err)
	}
	_, err = ag.GetMethodResponse(ctx, &apigateway.GetMethodResponseInput{RestApiId: id, ResourceId: stream.Id, HttpMethod: aws.String("POST"), StatusCode: aws.String("200")})
	wantAPIError(t, "GetMethodResponse after delete", err, "NotFoundException", "Invalid Response status code specified")
	if _, err := ag.DeleteIntegration(ctx, &apigateway.DeleteIntegrationInput{RestApiId: id, ResourceId: stream.Id, HttpMethod: aws.String("POST")}); err != nil {
		t.Fatal(err)
	}
	_, err = ag.GetIntegration(ctx, &apigateway.GetIntegrationInput{RestApiId: id, ResourceId: stream.Id, HttpMethod: aws.String("POST")})
	wantAPIError(t, "GetIntegration after delete", err, "NotFoundException", "No integration defined for method")
	if _, err := ag.DeleteMethod(ctx, &apigateway.DeleteMethodInput{RestApiId: id, ResourceId: stream.Id, HttpMethod: aws.String("POST")}); err != nil {
		t.Fatal(err)
	}
	_, err = ag.GetMethod(ctx, &apigateway.GetMethodInput{RestApiId: id, ResourceId: stream.Id, HttpMethod: aws.String("POST")})
	wantAPIError(t, "GetMethod after delete", err, "NotFoundException", "Invalid Method identifier specified")
	if _, err := ag.DeleteResource(ctx, &apigateway.DeleteResourceInput{RestApiId: id, ResourceId: items.Id}); err != nil {
		t.Fatal(err)
	}
	_, err = ag.GetResource(ctx, &apigateway.GetResourceInput{RestApiId: id, ResourceId: item.Id})
	wantAPIError(t, "GetResource of a deleted resource's child", err, "NotFoundException", "Invalid Resource identifier specified")
	// The deployed stage still serves what it froze.
	wantJSON(t, "GET /items/7 after the deletes", s.do(t, "GET", s.url(*id, "v1", "/items/7"), ""), 200, `{"version": 2}`)
	if _, err := ag.DeleteRestApi(ctx, &apigateway.DeleteRestApiInput{RestApiId: id}); err != nil {
		t.Fatal(err)
	}
	_, err = ag.GetRestApi(ctx, &apigateway.GetRestApiInput{RestApiId: id})
	wantAPIError(t, "GetRestApi after delete", err, "NotFoundException", "Invalid API identifier specified 000000000000:"+*id)
	if r := s.do(t, "GET", s.url(*id, "v1", "/items/7"), ""); r.status != 403 {
		t.Errorf("GET on a deleted API: %d %s", r.status, r.body)
	}
	if _, err := ag.GetRestApi(ctx, &apigateway.GetRestApiInput{RestApiId: aws.String(e2eAPI)}); err != nil {
		t.Errorf("the config's API: %v", err)
	}
}

// TestGatewayControlPlaneWriteErrors sends each write a bad input and checks API Gateway's
// error, then that none of them changed anything.
func TestGatewayControlPlaneWriteErrors(t *testing.T) {
	s := startE2E(t)
	base := s.a.Endpoint()
	call := func(method, path, body string) map[string]any {
		t.Helper()
		r := s.do(t, method, base+path, body)
		if r.status >= 300 {
			t.Fatalf("%s %s: %d %s", method, path, r.status, r.body)
		}
		out := map[string]any{}
		json.Unmarshal([]byte(r.body), &out)
		return out
	}
	api := call("POST", "/restapis", `{"name": "errors"}`)["id"].(string)
	root := call("GET", "/restapis/"+api+"/resources", "")["item"].([]any)[0].(map[string]any)["id"].(string)
	stream := call("POST", "/restapis/"+api+"/resources/"+root, `{"pathPart": "stream"}`)["id"].(string)
	items := call("POST", "/restapis/"+api+"/resources/"+root, `{"pathPart": "items"}`)["id"].(string)
	call("POST", "/restapis/"+api+"/resources/"+items, `{"pathPart": "{id}"}`)
	greedy := call("POST", "/restapis/"+api+"/resources/"+root, `{"pathPart": "{proxy+}"}`)["id"].(string)
	call("PUT", "/restapis/"+api+"/resources/"+stream+"/methods/POST", `{"authorizationType": "NONE"}`)
	call("PUT", "/restapis/"+api+"/resources/"+stream+"/methods/POST/responses/200", `{}`)
	empty := call("POST", "/restapis", `{"name": "no methods"}`)["id"].(string)

	res := "/restapis/" + api + "/resources/"
	post := res + stream + "/methods/POST"
	aws := `"type": "AWS", "httpMethod": "POST", "uri": "arn:aws:apigateway:us-east-1:kinesis:action/PutRecord"`
	snapshot := func() string {
		return s.do(t, "GET", base+"/restapis", "").body + s.do(t, "GET", base+res[:len(res)-1]+"?embed=methods", "").body
	}
	before := snapshot()
	for _, tc := range []struct {
		method, path, body string
		status             int
		errType, msg       string
	}{
		{"POST", "/restapis", `{}`, 400, "BadRequestException", "Invalid REST API name specified"},
		{"POST", "/restapis", `{"name": 7}`, 400, "BadRequestException", "Invalid request input"},
		{"POST", "/restapis", `{"name": "x"`, 400, "BadRequestException", "Invalid request input"},
		{"POST", "/restapis", `{"name": "x", "endpointConfiguration": {"types": ["EDGE", "REGIONAL"]}}`, 400, "BadRequestException", "endpoint configuration"},
		{"POST", "/restapis", `{"name": "x", "endpointConfiguration": {"types": ["CLOUD"]}}`, 400, "BadRequestException", "endpoint configuration"},
		{"POST", "/restapis", `{"name": "x", "apiKeySource": "QUERY"}`, 400, "BadRequestException", "Invalid API key source specified"},
		{"POST", "/restapis", `{"name": "x", "cloneFrom": "nosuchapi0"}`, 404, "NotFoundException", "Invalid API identifier specified 000000000000:nosuchapi0"},
		{"POST", res + root, `{"pathPart": "a b"}`, 400, "BadRequestException", "Resource's path part only allow a-zA-Z0-9._-"},
		{"POST", res + root, `{}`, 400, "BadRequestException", "Resource's path part only allow"},
		{"POST", res + root, `{"pathPart": "{}"}`, 400, "BadRequestException", "Resource's path part only allow"},
		{"POST", res + root, `{"pathPart": "stream"}`, 409, "ConflictException", "Another resource with the same parent already has this name: stream"},
		{"POST", res + items, `{"pathPart": "{other}"}`, 400, "BadRequestException", "only one is allowed"},
		{"POST", res + greedy, `{"pathPart": "child"}`, 400, "BadRequestException", "greedy path variable cannot have children"},
		{"POST", res + "nope00", `{"pathPart": "x"}`, 404, "NotFoundException", "Invalid Resource identifier specified"},
		{"POST", "/restapis/nosuchapi0/resources/" + root, `{"pathPart": "x"}`, 404, "NotFoundException", "Invalid API identifier specified 000000000000:nosuchapi0"},
		{"DELETE", res + root, ``, 400, "BadRequestException", "root resource"},
		{"DELETE", res + "nope00", ``, 404, "NotFoundException", "Invalid Resource identifier specified"},
		{"PUT", res + stream + "/methods/FETCH", `{"authorizationType": "NONE"}`, 400, "BadRequestException", "Invalid HttpMethod specified"},
		{"PUT", post, `{"authorizationType": "NONE"}`, 409, "ConflictException", "Method already exists for this resource"},
		{"PUT", res + stream + "/methods/GET", `{}`, 400, "BadRequestException", "Invalid authorization type specified"},
		{"PUT", res + stream + "/methods/GET", `{"authorizationType": "CUSTOM"}`, 400, "BadRequestException", "Invalid authorizer ID specified"},
		{"PUT", res + stream + "/methods/GET", `{"authorizationType": "NONE", "requestParameters": {"method.request.body.x": true}}`, 400, "BadRequestException", "Invalid mapping expression specified"},
		{"PUT", res + stream + "/methods/GET", `{"authorizationType": "NONE", "requestValidatorId": "abc123"}`, 400, "BadRequestException", "Invalid Request Validator identifier specified"},
		{"PUT", res + "nope00/methods/GET", `{"authorizationType": "NONE"}`, 404, "NotFoundException", "Invalid Resource identifier specified"},
		{"DELETE", res + stream + "/methods/GET", ``, 404, "NotFoundException", "Invalid Method identifier specified"},
		{"PUT", res + stream + "/methods/GET/integration", `{` + aws + `}`, 404, "NotFoundException", "Invalid Method identifier specified"},
		{"PUT", post + "/integration", `{}`, 400, "BadRequestException", "Enumeration value for IntegrationType must be non-empty"},
		{"PUT", post + "/integration", `{"type": "LAMBDA"}`, 400, "BadRequestException", "Invalid integration type specified"},
		{"PUT", post + "/integration", `{"type": "AWS", "uri": "arn:aws:apigateway:us-east-1:kinesis:action/PutRecord"}`, 400, "BadRequestException", "Enumeration value for HttpMethod must be non-empty"},
		{"PUT", post + "/integration", `{"type": "AWS", "httpMethod": "POST", "uri": "kinesis"}`, 400, "BadRequestException", "Invalid ARN specified in the request"},
		{"PUT", post + "/integration", `{"type": "AWS", "httpMethod": "POST", "uri": "arn:aws:apigateway:us-east-1:kinesis:PutRecord"}`, 400, "BadRequestException", "AWS ARN for integration must contain path or action"},
		{"PUT", post + "/integration", `{"type": "HTTP", "httpMethod": "POST", "uri": "ftp://example.com/"}`, 400, "BadRequestException", "Invalid HTTP endpoint specified for URI"},
		{"PUT", post + "/integration", `{` + aws + `, "timeoutInMillis": 10}`, 400, "BadRequestException", "Timeout should be between 50 ms and 29000 ms"},
		{"PUT", post + "/integration", `{` + aws + `, "passthroughBehavior": "SOMETIMES"}`, 400, "BadRequestException", "Invalid passthrough behavior specified"},
		{"PUT", post + "/integration", `{` + aws + `, "contentHandling": "CONVERT_TO_JSON"}`, 400, "BadRequestException", "Invalid content handling specified"},
		{"PUT", post + "/integration", `{` + aws + `, "requestTemplates": {"application/json": "#if($x"}}`, 400, "BadRequestException", "Invalid mapping template specified"},
		{"PUT", post + "/integration", `{` + aws + `, "requestTemplates": {"application/json": "$util.base64Encode($input.body"}}`, 400, "BadRequestException", "Invalid mapping template specified"},
		{"PUT", post + "/integration", `{` + aws + `, "requestParameters": {"integration.request.header.X": "nope.x"}}`, 400, "BadRequestException", "Invalid mapping expression specified"},
		{"PUT", post + "/integration/responses/200", `{}`, 404, "NotFoundException", "No integration defined for method"},
		{"DELETE", post + "/integration", ``, 404, "NotFoundException", "No integration defined for method"},
		{"PUT", post + "/responses/2000", `{}`, 400, "BadRequestException", "Invalid response status code specified"},
		{"PUT", post + "/responses/200", `{}`, 409, "ConflictException", "Response already exists for this resource"},
		{"PUT", post + "/responses/201", `{"responseParameters": {"header.X": true}}`, 400, "BadRequestException", "Invalid mapping expression specified"},
		{"DELETE", post + "/responses/404", ``, 404, "NotFoundException", "Invalid Response status code specified"},
		{"POST", "/restapis/" + api + "/deployments", `{"stageName": "bad name"}`, 400, "BadRequestException", "Stage name only allows a-zA-Z0-9_-"},
		{"POST", "/restapis/" + api + "/deployments", `{"stageName": "ok", "variables": {"bad-name": "x"}}`, 400, "BadRequestException", "Stage variable name"},
		{"POST", "/restapis/" + api + "/deployments", `{"stageName": "ok", "variables": {"v": "a b"}}`, 400, "BadRequestException", "Stage variable value"},
		{"POST", "/restapis/" + api + "/deployments", `{"stageName": "prod"}`, 400, "BadRequestException", "No integration defined for method"},
		{"POST", "/restapis/" + empty + "/deployments", `{"stageName": "prod"}`, 400, "BadRequestException", "The REST API doesn't contain any methods"},
		{"POST", "/restapis/" + api + "/stages", `{"stageName": "s", "deploymentId": "nope00"}`, 404, "NotFoundException", "Invalid Deployment identifier specified"},
		{"GET", "/restapis/" + api + "/stages/nope", ``, 404, "NotFoundException", "Invalid stage identifier specified"},
		{"DELETE", "/restapis/" + api + "/stages/nope", ``, 404, "NotFoundException", "Invalid stage identifier specified"},
		{"DELETE", "/restapis/" + api + "/deployments/nope00", ``, 404, "NotFoundException", "Invalid Deployment identifier specified"},
		{"DELETE", "/restapis/nosuchapi0", ``, 404, "NotFoundException", "Invalid API identifier specified"},
		{"POST", "/restapis/" + e2eAPI + "/deployments", `{"stageName": "prod"}`, 400, "BadRequestException", "read-only"},
	} {
		r := s.do(t, tc.method, base+tc.path, tc.body)
		var body struct{ Message string }
		if err := json.Unmarshal([]byte(r.body), &body); err != nil {
			t.Errorf("%s %s %s: body not JSON: %d %q", tc.method, tc.path, tc.body, r.status, r.body)
			continue
		}
		if r.status != tc.status || r.header.Get("X-Amzn-Errortype") != tc.errType || !strings.Contains(body.Message, tc.msg) {
			t.Errorf("%s %s %s: %d %s %q, want %d %s containing %q", tc.method, tc.path, tc.body,
				r.status, r.header.Get("X-Amzn-Errortype"), body.Message, tc.status, tc.errType, tc.msg)
		}
	}
	if after := snapshot(); after != before {
		t.Errorf("refused writes changed the APIs:\nbefore %s\nafter  %s", before, after)
	}
}

// TestGatewayControlPlaneUpdates changes an API with the Update operations' patchOperations:
// a stage's variables apply at once, an edit of the API at the next deployment, and a bad
// patch gets API Gateway's error and changes nothing.
func TestGatewayControlPlaneUpdates(t *testing.T) {
	s := startE2E(t)
	ag := apigatewayClient(s)
	ctx := context.Background()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	api, err := ag.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("patched")})
	must("CreateRestApi", err)
	id := api.Id
	res, err := ag.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: id, ParentId: api.RootResourceId, PathPart: aws.String("stream")})
	must("CreateResource", err)
	post := func() (*string, *string, *string) { return id, res.Id, aws.String("POST") }
	a, r, m := post()
	_, err = ag.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: a, ResourceId: r, HttpMethod: m, AuthorizationType: aws.String("NONE")})
	must("PutMethod", err)
	_, err = ag.PutIntegration(ctx, &apigateway.PutIntegrationInput{
		RestApiId: a, ResourceId: r, HttpMethod: m, Type: agtypes.IntegrationTypeAws, IntegrationHttpMethod: aws.String("POST"),
		Uri:              aws.String("arn:aws:apigateway:us-east-1:kinesis:action/PutRecord"),
		RequestTemplates: map[string]string{"application/json": `{"StreamName": "$stageVariables.stream", "Data": "$util.base64Encode($input.body)", "PartitionKey": "k"}`},
	})
	must("PutIntegration", err)
	_, err = ag.PutMethodResponse(ctx, &apigateway.PutMethodResponseInput{RestApiId: a, ResourceId: r, HttpMethod: m, StatusCode: aws.String("200")})
	must("PutMethodResponse", err)
	_, err = ag.PutIntegrationResponse(ctx, &apigateway.PutIntegrationResponseInput{
		RestApiId: a, ResourceId: r, HttpMethod: m, StatusCode: aws.String("200"),
		ResponseTemplates: map[string]string{"application/json": `{"tag": "$stageVariables.tag"}`},
	})
	must("PutIntegrationResponse", err)
	dep, err := ag.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: id, StageName: aws.String("s"),
		Variables: map[string]string{"stream": "e2e-stream", "tag": "one"}})
	must("CreateDeployment", err)
	invoke := func() response { return s.do(t, "POST", s.url(*id, "s", "/stream"), `{"x": 1}`, "X-Api-Key", keyAll) }
	wantJSON(t, "POST", invoke(), 200, `{"tag": "one"}`)

	// A stage's variables apply as soon as UpdateStage returns.
	st, err := ag.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: id, StageName: aws.String("s"), PatchOperations: []agtypes.PatchOperation{
		{Op: agtypes.OpReplace, Path: aws.String("/variables/tag"), Value: aws.String("two")},
		{Op: agtypes.OpReplace, Path: aws.String("/description"), Value: aws.String("patched")},
	}})
	if err != nil || st.Variables["tag"] != "two" || aws.ToString(st.Description) != "patched" {
		t.Fatalf("UpdateStage: %+v, %v", st, err)
	}
	wantJSON(t, "POST after UpdateStage", invoke(), 200, `{"tag": "two"}`)

	// Edits of the API apply at the next deployment.
	ir, err := ag.UpdateIntegrationResponse(ctx, &apigateway.UpdateIntegrationResponseInput{RestApiId: a, ResourceId: r, HttpMethod: m,
		StatusCode: aws.String("200"), PatchOperations: []agtypes.PatchOperation{
			{Op: agtypes.OpReplace, Path: aws.String("/responseTemplates/application~1json"), Value: aws.String(`{"tag": "$stageVariables.tag", "v": 2}`)},
		}})
	if err != nil || ir.ResponseTemplates["application/json"] != `{"tag": "$stageVariables.tag", "v": 2}` {
		t.Fatalf("UpdateIntegrationResponse: %+v, %v", ir, err)
	}
	meth, err := ag.UpdateMethod(ctx, &apigateway.UpdateMethodInput{RestApiId: a, ResourceId: r, HttpMethod: m, PatchOperations: []agtypes.PatchOperation{
		{Op: agtypes.OpReplace, Path: aws.String("/apiKeyRequired"), Value: aws.String("true")},
	}})
	if err != nil || !aws.ToBool(meth.ApiKeyRequired) {
		t.Fatalf("UpdateMethod: %+v, %v", meth, err)
	}
	in, err := ag.UpdateIntegration(ctx, &apigateway.UpdateIntegrationInput{RestApiId: a, ResourceId: r, HttpMethod: m, PatchOperations: []agtypes.PatchOperation{
		{Op: agtypes.OpReplace, Path: aws.String("/timeoutInMillis"), Value: aws.String("1000")},
	}})
	if err != nil || in.TimeoutInMillis != 1000 {
		t.Fatalf("UpdateIntegration: %+v, %v", in, err)
	}
	mr, err := ag.UpdateMethodResponse(ctx, &apigateway.UpdateMethodResponseInput{RestApiId: a, ResourceId: r, HttpMethod: m,
		StatusCode: aws.String("200"), PatchOperations: []agtypes.PatchOperation{
			{Op: agtypes.OpAdd, Path: aws.String("/responseParameters/method.response.header.X-Tag"), Value: aws.String("false")},
		}})
	if err != nil || !hasKey(mr.ResponseParameters, "method.response.header.X-Tag") {
		t.Fatalf("UpdateMethodResponse: %+v, %v", mr, err)
	}
	ra, err := ag.UpdateRestApi(ctx, &apigateway.UpdateRestApiInput{RestApiId: id, PatchOperations: []agtypes.PatchOperation{
		{Op: agtypes.OpReplace, Path: aws.String("/name"), Value: aws.String("renamed")},
		{Op: agtypes.OpAdd, Path: aws.String("/binaryMediaTypes/image~1png")},
	}})
	if err != nil || aws.ToString(ra.Name) != "renamed" || len(ra.BinaryMediaTypes) != 1 || ra.BinaryMediaTypes[0] != "image/png" {
		t.Fatalf("UpdateRestApi: %+v, %v", ra, err)
	}
	if r := s.do(t, "POST", s.url(*id, "s", "/stream"), `{"x": 1}`); r.status != 200 {
		t.Errorf("POST without a key before the deployment: %d %s", r.status, r.body)
	}
	wantJSON(t, "POST before the deployment", invoke(), 200, `{"tag": "two"}`)
	_, err = ag.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: id, StageName: aws.String("s")})
	must("CreateDeployment", err)
	wantJSON(t, "POST after the deployment", invoke(), 200, `{"tag": "two", "v": 2}`)
	if r := s.do(t, "POST", s.url(*id, "s", "/stream"), `{"x": 1}`); r.status != 403 {
		t.Errorf("POST without a key after the deployment: %d %s", r.status, r.body)
	}
	d, err := ag.UpdateDeployment(ctx, &apigateway.UpdateDeploymentInput{RestApiId: id, DeploymentId: dep.Id, PatchOperations: []agtypes.PatchOperation{
		{Op: agtypes.OpReplace, Path: aws.String("/description"), Value: aws.String("the first")},
	}})
	if err != nil || aws.ToString(d.Description) != "the first" {
		t.Errorf("UpdateDeployment: %+v, %v", d, err)
	}

	// Gateway responses: the defaults described, a customisation served after deploying.
	thr, err := ag.GetGatewayResponse(ctx, &apigateway.GetGatewayResponseInput{RestApiId: id, ResponseType: agtypes.GatewayResponseTypeThrottled})
	if err != nil || !thr.DefaultResponse || aws.ToString(thr.StatusCode) != "429" {
		t.Errorf("GetGatewayResponse THROTTLED: %+v, %v", thr, err)
	}
	_, err = ag.PutGatewayResponse(ctx, &apigateway.PutGatewayResponseInput{RestApiId: id, ResponseType: agtypes.GatewayResponseTypeMissingAuthenticationToken,
		StatusCode: aws.String("404"), ResponseTemplates: map[string]string{"application/json": `{"missing": "$context.path"}`},
		ResponseParameters: map[string]string{"gatewayresponse.header.X-Why": "'no such path'"}})
	must("PutGatewayResponse", err)
	_, err = ag.PutGatewayResponse(ctx, &apigateway.PutGatewayResponseInput{RestApiId: id, ResponseType: agtypes.GatewayResponseType("NOPE")})
	wantAPIError(t, "PutGatewayResponse of an unknown type", err, "BadRequestException", "Invalid gateway response type specified: NOPE")
	_, err = ag.PutGatewayResponse(ctx, &apigateway.PutGatewayResponseInput{RestApiId: id, ResponseType: agtypes.GatewayResponseTypeDefault4xx,
		ResponseTemplates: map[string]string{"application/json": `#foreach(`}})
	wantAPIError(t, "PutGatewayResponse with a bad template", err, "BadRequestException", "Invalid gateway response specified")
	gws, err := ag.GetGatewayResponses(ctx, &apigateway.GetGatewayResponsesInput{RestApiId: id})
	if err != nil || len(gws.Items) != 21 {
		t.Errorf("GetGatewayResponses: %d items, %v", len(gws.Items), err)
	}
	if r := s.do(t, "GET", s.url(*id, "s", "/nowhere"), ""); r.status != 403 {
		t.Errorf("GET /nowhere before the deployment: %d %s", r.status, r.body)
	}
	_, err = ag.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: id, StageName: aws.String("s")})
	must("CreateDeployment", err)
	if r := s.do(t, "GET", s.url(*id, "s", "/nowhere"), ""); r.status != 404 || r.header.Get("X-Why") != "no such path" || !strings.Contains(r.body, `"missing"`) {
		t.Errorf("GET /nowhere after the deployment: %d %v %s", r.status, r.header, r.body)
	}
	gw, err := ag.UpdateGatewayResponse(ctx, &apigateway.UpdateGatewayResponseInput{RestApiId: id, ResponseType: agtypes.GatewayResponseTypeMissingAuthenticationToken,
		PatchOperations: []agtypes.PatchOperation{{Op: agtypes.OpReplace, Path: aws.String("/statusCode"), Value: aws.String("410")}}})
	if err != nil || aws.ToString(gw.StatusCode) != "410" || gw.DefaultResponse {
		t.Errorf("UpdateGatewayResponse: %+v, %v", gw, err)
	}
	_, err = ag.DeleteGatewayResponse(ctx, &apigateway.DeleteGatewayResponseInput{RestApiId: id, ResponseType: agtypes.GatewayResponseTypeMissingAuthenticationToken})
	must("DeleteGatewayResponse", err)
	_, err = ag.DeleteGatewayResponse(ctx, &apigateway.DeleteGatewayResponseInput{RestApiId: id, ResponseType: agtypes.GatewayResponseTypeMissingAuthenticationToken})
	wantAPIError(t, "DeleteGatewayResponse again", err, "NotFoundException", "Invalid Gateway Response identifier specified")

	// Bad patches change nothing.
	before, err := ag.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: id, Embed: []string{"methods"}})
	must("GetResources", err)
	stBefore, err := ag.GetStage(ctx, &apigateway.GetStageInput{RestApiId: id, StageName: aws.String("s")})
	must("GetStage", err)
	_, err = ag.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: id, StageName: aws.String("s"), PatchOperations: []agtypes.PatchOperation{
		{Op: agtypes.OpReplace, Path: aws.String("/variables/tag"), Value: aws.String("three")},
		{Op: agtypes.OpReplace, Path: aws.String("/variable/tag"), Value: aws.String("four")},
	}})
	wantAPIError(t, "UpdateStage of a bad path", err, "BadRequestException", "Invalid patch path '/variable/tag' specified for op 'replace'")
	_, err = ag.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: id, StageName: aws.String("s"), PatchOperations: []agtypes.PatchOperation{
		{Op: agtypes.OpReplace, Path: aws.String("/variables/tag"), Value: aws.String("a b")},
	}})
	wantAPIError(t, "UpdateStage with a bad value", err, "BadRequestException", "Stage variable value")
	_, err = ag.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: id, StageName: aws.String("s"), PatchOperations: []agtypes.PatchOperation{
		{Op: agtypes.OpReplace, Path: aws.String("/deploymentId"), Value: aws.String("nope00")},
	}})
	wantAPIError(t, "UpdateStage to a missing deployment", err, "BadRequestException", "Invalid Deployment identifier specified")
	_, err = ag.UpdateIntegration(ctx, &apigateway.UpdateIntegrationInput{RestApiId: a, ResourceId: r, HttpMethod: m, PatchOperations: []agtypes.PatchOperation{
		{Op: agtypes.OpAdd, Path: aws.String("/requestTemplates/text~1plain"), Value: aws.String("#if($x")},
	}})
	wantAPIError(t, "UpdateIntegration with a bad template", err, "BadRequestException", "Invalid mapping template specified")
	_, err = ag.UpdateMethod(ctx, &apigateway.UpdateMethodInput{RestApiId: a, ResourceId: r, HttpMethod: m, PatchOperations: []agtypes.PatchOperation{
		{Op: agtypes.OpReplace, Path: aws.String("/apiKeyRequired"), Value: aws.String("maybe")},
	}})
	wantAPIError(t, "UpdateMethod with a bad boolean", err, "BadRequestException", "it must be true or false")
	_, err = ag.UpdateRestApi(ctx, &apigateway.UpdateRestApiInput{RestApiId: id, PatchOperations: []agtypes.PatchOperation{
		{Op: agtypes.OpReplace, Path: aws.String("/name"), Value: aws.String("")},
	}})
	wantAPIError(t, "UpdateRestApi to no name", err, "BadRequestException", "Invalid REST API name specified")
	_, err = ag.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: id, StageName: aws.String("nope"), PatchOperations: []agtypes.PatchOperation{
		{Op: agtypes.OpReplace, Path: aws.String("/description"), Value: aws.String("x")},
	}})
	wantAPIError(t, "UpdateStage of a missing stage", err, "NotFoundException", "Invalid stage identifier specified")
	after, err := ag.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: id, Embed: []string{"methods"}})
	must("GetResources", err)
	stAfter, err := ag.GetStage(ctx, &apigateway.GetStageInput{RestApiId: id, StageName: aws.String("s")})
	must("GetStage", err)
	b, _ := json.Marshal(before.Items)
	if a, _ := json.Marshal(after.Items); string(a) != string(b) {
		t.Errorf("refused patches changed the resources:\n%s\n%s", b, a)
	}
	if stAfter.Variables["tag"] != stBefore.Variables["tag"] || aws.ToString(stAfter.DeploymentId) != aws.ToString(stBefore.DeploymentId) {
		t.Errorf("refused patches changed the stage: %+v", stAfter)
	}
	wantJSON(t, "POST after the refused patches", invoke(), 200, `{"tag": "two", "v": 2}`)
}

// TestGatewayControlPlaneImport imports the seed's OpenAPI document with ImportRestApi,
// deploys it, and sends the seed's request through it; a document with errors, or with
// warnings under failonwarnings, is refused and creates nothing.
func TestGatewayControlPlaneImport(t *testing.T) {
	s := startServer(t, seedConfig, nil)
	ag := apigatewayClient(s)
	ctx := context.Background()
	doc, err := os.ReadFile("../../examples/seed/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	api, err := ag.ImportRestApi(ctx, &apigateway.ImportRestApiInput{Body: doc, Parameters: map[string]string{"endpointConfigurationTypes": "REGIONAL"}})
	if err != nil {
		t.Fatal(err)
	}
	if !awsIDRe.MatchString(aws.ToString(api.Id)) || aws.ToString(api.Id) == "seedapi001" || aws.ToString(api.Name) == "" ||
		api.EndpointConfiguration == nil || api.EndpointConfiguration.Types[0] != agtypes.EndpointTypeRegional {
		t.Fatalf("ImportRestApi: %+v", api)
	}
	res, err := ag.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: api.Id, Embed: []string{"methods"}})
	if err != nil {
		t.Fatal(err)
	}
	var stream *agtypes.Resource
	for i := range res.Items {
		if aws.ToString(res.Items[i].Path) == "/stream" {
			stream = &res.Items[i]
		}
	}
	if stream == nil || stream.ResourceMethods["POST"].MethodIntegration == nil || stream.ResourceMethods["OPTIONS"].MethodIntegration == nil {
		t.Fatalf("GetResources of the imported API: %+v", res.Items)
	}
	ir, err := ag.GetIntegrationResponse(ctx, &apigateway.GetIntegrationResponseInput{RestApiId: api.Id, ResourceId: stream.Id,
		HttpMethod: aws.String("POST"), StatusCode: aws.String("200")})
	if err != nil || ir.ResponseParameters["method.response.header.Access-Control-Allow-Origin"] != "'*'" {
		t.Errorf("GetIntegrationResponse of the imported API: %+v, %v", ir, err)
	}
	if _, err := ag.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: api.Id, StageName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	body := `{"message": "through the imported API"}`
	if r := s.do(t, "POST", s.url(*api.Id, "prod", "/stream"), body); r.status != 200 || !strings.Contains(r.body, "SequenceNumber") {
		t.Fatalf("POST /stream: %d %s", r.status, r.body)
	}
	checkSeedDelivery(t, s, body)

	before, err := ag.GetRestApis(ctx, &apigateway.GetRestApisInput{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ag.ImportRestApi(ctx, &apigateway.ImportRestApiInput{
		Body: []byte("openapi: 3.0.1\ninfo: {title: t, version: '1'}\npaths:\n  /p:\n    post:\n      x-amazon-apigateway-integration: {type: frob}\n")})
	wantAPIError(t, "ImportRestApi of a bad document", err, "BadRequestException", "Errors found during import")
	warned := `openapi: 3.0.1
info: {title: t, version: '1'}
paths:
  /p:
    get:
      parameters: [{name: c, in: cookie, schema: {type: string}}]
      x-amazon-apigateway-integration: {type: mock, requestTemplates: {application/json: '{"statusCode": 200}'}, responses: {default: {statusCode: "200"}}}
`
	_, err = ag.ImportRestApi(ctx, &apigateway.ImportRestApiInput{Body: []byte(warned), FailOnWarnings: true})
	wantAPIError(t, "ImportRestApi failing on warnings", err, "BadRequestException", "Warnings found during import")
	after, err := ag.GetRestApis(ctx, &apigateway.GetRestApisInput{})
	if err != nil || len(after.Items) != len(before.Items) {
		t.Errorf("refused imports created APIs: %d before, %d after (%v)", len(before.Items), len(after.Items), err)
	}
	ok, err := ag.ImportRestApi(ctx, &apigateway.ImportRestApiInput{Body: []byte(warned)})
	if err != nil || len(ok.Warnings) == 0 {
		t.Errorf("ImportRestApi with warnings: %+v, %v", ok, err)
	}

	// CreateRestApi with cloneFrom copies the tree of a config API or of one of the control
	// plane's, under new ids.
	for _, from := range []string{"seedapi001", *api.Id} {
		clone, err := ag.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("clone"), CloneFrom: aws.String(from)})
		if err != nil {
			t.Fatalf("CreateRestApi cloneFrom %s: %v", from, err)
		}
		res, err := ag.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: clone.Id, Embed: []string{"methods"}})
		if err != nil || len(res.Items) != 2 {
			t.Fatalf("GetResources of the clone of %s: %+v, %v", from, res, err)
		}
		for _, r := range res.Items {
			if aws.ToString(r.Id) == aws.ToString(stream.Id) || aws.ToString(r.Path) == "/stream" && r.ResourceMethods["POST"].MethodIntegration == nil {
				t.Errorf("the clone of %s: %+v", from, r)
			}
		}
		if _, err := ag.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: clone.Id, StageName: aws.String("c")}); err != nil {
			t.Fatalf("CreateDeployment of the clone of %s: %v", from, err)
		}
		if r := s.do(t, "POST", s.url(*clone.Id, "c", "/stream"), body); r.status != 200 {
			t.Errorf("POST /stream of the clone of %s: %d %s", from, r.status, r.body)
		}
	}

	// PutRestApi: overwrite replaces the tree under the same root; merge adds to it. The
	// stage keeps serving its deployment until the next one.
	paths := func() []string {
		t.Helper()
		res, err := ag.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: api.Id})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range res.Items {
			out = append(out, aws.ToString(r.Path))
		}
		slices.Sort(out)
		return out
	}
	mock := func(path string) string {
		return `{"openapi": "3.0.1", "info": {"title": "t", "version": "1"}, "paths": {"` + path + `": {"get": {"x-amazon-apigateway-integration": ` +
			`{"type": "mock", "requestTemplates": {"application/json": "{\"statusCode\": 200}"}, "responses": {"default": {"statusCode": "200"}}}}}}}`
	}
	rootBefore, err := ag.GetRestApi(ctx, &apigateway.GetRestApiInput{RestApiId: api.Id})
	if err != nil {
		t.Fatal(err)
	}
	put, err := ag.PutRestApi(ctx, &apigateway.PutRestApiInput{RestApiId: api.Id, Mode: agtypes.PutModeOverwrite, Body: []byte(mock("/other"))})
	if err != nil || aws.ToString(put.RootResourceId) != aws.ToString(rootBefore.RootResourceId) || aws.ToString(put.Name) != aws.ToString(rootBefore.Name) {
		t.Fatalf("PutRestApi overwrite: %+v, %v", put, err)
	}
	if got := paths(); !slices.Equal(got, []string{"/", "/other"}) {
		t.Errorf("after overwrite: %q", got)
	}
	if r := s.do(t, "POST", s.url(*api.Id, "prod", "/stream"), body); r.status != 200 {
		t.Errorf("POST /stream before redeploying the overwrite: %d %s", r.status, r.body)
	}
	if _, err := ag.PutRestApi(ctx, &apigateway.PutRestApiInput{RestApiId: api.Id, Mode: agtypes.PutModeMerge, Body: []byte(mock("/other/deeper"))}); err != nil {
		t.Fatal(err)
	}
	if got := paths(); !slices.Equal(got, []string{"/", "/other", "/other/deeper"}) {
		t.Errorf("after merge: %q", got)
	}
	if _, err := ag.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: api.Id, StageName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	if r := s.do(t, "POST", s.url(*api.Id, "prod", "/stream"), body); r.status != 403 {
		t.Errorf("POST /stream after deploying the overwrite: %d %s", r.status, r.body)
	}
	if r := s.do(t, "GET", s.url(*api.Id, "prod", "/other/deeper"), ""); r.status != 200 {
		t.Errorf("GET /other/deeper: %d %s", r.status, r.body)
	}
	_, err = ag.PutRestApi(ctx, &apigateway.PutRestApiInput{RestApiId: api.Id, Mode: agtypes.PutModeMerge, Body: []byte("{")})
	wantAPIError(t, "PutRestApi of a bad document", err, "BadRequestException", "Errors found during import")
	_, err = ag.PutRestApi(ctx, &apigateway.PutRestApiInput{RestApiId: aws.String("seedapi001"), Body: []byte(mock("/x"))})
	wantAPIError(t, "PutRestApi of the config's API", err, "BadRequestException", "read-only")
	if got := paths(); !slices.Equal(got, []string{"/", "/other", "/other/deeper"}) {
		t.Errorf("after the refused puts: %q", got)
	}
}

// TestGatewayControlPlaneModels creates a model and a request validator, puts them on a
// method, and checks that the deployed method validates bodies against the model.
func TestGatewayControlPlaneModels(t *testing.T) {
	s := startE2E(t)
	ag := apigatewayClient(s)
	ctx := context.Background()
	api, err := ag.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("models")})
	if err != nil {
		t.Fatal(err)
	}
	id := api.Id
	schema := `{"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}`
	model, err := ag.CreateModel(ctx, &apigateway.CreateModelInput{RestApiId: id, Name: aws.String("Thing"), ContentType: aws.String("application/json"),
		Schema: aws.String(schema), Description: aws.String("a thing")})
	if err != nil || len(aws.ToString(model.Id)) != 6 || aws.ToString(model.Description) != "a thing" || aws.ToString(model.Schema) != schema {
		t.Fatalf("CreateModel: %+v, %v", model, err)
	}
	for _, tc := range []struct {
		in        apigateway.CreateModelInput
		code, msg string
	}{
		{apigateway.CreateModelInput{Name: aws.String("a-b"), ContentType: aws.String("application/json")}, "BadRequestException", "Model name must be alphanumeric"},
		{apigateway.CreateModelInput{Name: aws.String("Thing"), ContentType: aws.String("application/json")}, "ConflictException", "Model name already exists for this REST API"},
		{apigateway.CreateModelInput{Name: aws.String("Bad"), ContentType: aws.String("application/json"), Schema: aws.String(`{"type": 7}`)}, "BadRequestException", "Invalid model schema specified"},
		{apigateway.CreateModelInput{Name: aws.String("Bad"), ContentType: aws.String("application/json"), Schema: aws.String(`{`)}, "BadRequestException", "Invalid model schema specified"},
		{apigateway.CreateModelInput{Name: aws.String("Bad"), ContentType: aws.String("application/json"), Schema: aws.String(`{"$ref": "#/definitions/Nope"}`)}, "BadRequestException", "Invalid model schema specified"},
	} {
		in := tc.in
		in.RestApiId = id
		_, err := ag.CreateModel(ctx, &in)
		wantAPIError(t, "CreateModel "+aws.ToString(in.Name), err, tc.code, tc.msg)
	}
	v, err := ag.CreateRequestValidator(ctx, &apigateway.CreateRequestValidatorInput{RestApiId: id, Name: aws.String("body"), ValidateRequestBody: true})
	if err != nil || len(aws.ToString(v.Id)) != 6 || !v.ValidateRequestBody {
		t.Fatalf("CreateRequestValidator: %+v, %v", v, err)
	}
	res, err := ag.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: id, ParentId: api.RootResourceId, PathPart: aws.String("things")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ag.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: id, ResourceId: res.Id, HttpMethod: aws.String("POST"), AuthorizationType: aws.String("NONE"),
		RequestModels: map[string]string{"application/json": "Nope"}})
	wantAPIError(t, "PutMethod with a missing model", err, "BadRequestException", "Invalid model identifier specified: Nope")
	m, err := ag.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: id, ResourceId: res.Id, HttpMethod: aws.String("POST"), AuthorizationType: aws.String("NONE"),
		RequestModels: map[string]string{"application/json": "Thing"}, RequestValidatorId: v.Id})
	if err != nil || aws.ToString(m.RequestValidatorId) != aws.ToString(v.Id) {
		t.Fatalf("PutMethod: %+v, %v", m, err)
	}
	if _, err := ag.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: id, ResourceId: res.Id, HttpMethod: aws.String("POST"), Type: agtypes.IntegrationTypeMock,
		RequestTemplates: map[string]string{"application/json": `{"statusCode": 200}`}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ag.PutIntegrationResponse(ctx, &apigateway.PutIntegrationResponseInput{RestApiId: id, ResourceId: res.Id, HttpMethod: aws.String("POST"),
		StatusCode: aws.String("200"), ResponseTemplates: map[string]string{"application/json": `{"ok": true}`}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ag.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: id, StageName: aws.String("v")}); err != nil {
		t.Fatal(err)
	}
	if r := s.do(t, "POST", s.url(*id, "v", "/things"), `{}`); r.status != 400 || !strings.Contains(r.body, "Invalid request body") {
		t.Errorf("POST {}: %d %s", r.status, r.body)
	}
	wantJSON(t, "POST a thing", s.do(t, "POST", s.url(*id, "v", "/things"), `{"name": "x"}`), 200, `{"ok": true}`)

	_, err = ag.DeleteModel(ctx, &apigateway.DeleteModelInput{RestApiId: id, ModelName: aws.String("Thing")})
	wantAPIError(t, "DeleteModel in use", err, "ConflictException", "Cannot delete model 'Thing'")
	_, err = ag.DeleteRequestValidator(ctx, &apigateway.DeleteRequestValidatorInput{RestApiId: id, RequestValidatorId: v.Id})
	wantAPIError(t, "DeleteRequestValidator in use", err, "ConflictException", "used by a method")
	um, err := ag.UpdateModel(ctx, &apigateway.UpdateModelInput{RestApiId: id, ModelName: aws.String("Thing"), PatchOperations: []agtypes.PatchOperation{
		{Op: agtypes.OpReplace, Path: aws.String("/description"), Value: aws.String("still a thing")}}})
	if err != nil || aws.ToString(um.Description) != "still a thing" {
		t.Errorf("UpdateModel: %+v, %v", um, err)
	}
	uv, err := ag.UpdateRequestValidator(ctx, &apigateway.UpdateRequestValidatorInput{RestApiId: id, RequestValidatorId: v.Id, PatchOperations: []agtypes.PatchOperation{
		{Op: agtypes.OpReplace, Path: aws.String("/validateRequestBody"), Value: aws.String("false")}}})
	if err != nil || uv.ValidateRequestBody {
		t.Errorf("UpdateRequestValidator: %+v, %v", uv, err)
	}
	if _, err := ag.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: id, StageName: aws.String("v")}); err != nil {
		t.Fatal(err)
	}
	wantJSON(t, "POST {} without body validation", s.do(t, "POST", s.url(*id, "v", "/things"), `{}`), 200, `{"ok": true}`)
	if _, err := ag.UpdateMethod(ctx, &apigateway.UpdateMethodInput{RestApiId: id, ResourceId: res.Id, HttpMethod: aws.String("POST"), PatchOperations: []agtypes.PatchOperation{
		{Op: agtypes.OpReplace, Path: aws.String("/requestValidatorId"), Value: aws.String("")},
		{Op: agtypes.OpRemove, Path: aws.String("/requestModels/application~1json")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ag.DeleteModel(ctx, &apigateway.DeleteModelInput{RestApiId: id, ModelName: aws.String("Thing")}); err != nil {
		t.Errorf("DeleteModel: %v", err)
	}
	if _, err := ag.DeleteRequestValidator(ctx, &apigateway.DeleteRequestValidatorInput{RestApiId: id, RequestValidatorId: v.Id}); err != nil {
		t.Errorf("DeleteRequestValidator: %v", err)
	}
	models, err := ag.GetModels(ctx, &apigateway.GetModelsInput{RestApiId: id})
	if err != nil || len(models.Items) != 0 {
		t.Errorf("GetModels after the delete: %+v, %v", models, err)
	}
}
