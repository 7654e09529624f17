package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"github.com/localpipe/localpipe/internal/sdkhttp"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/smithy-go"
)

func apigatewayClient(s *server) *apigateway.Client {
	return apigateway.New(apigateway.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(s.a.Endpoint()),
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		RetryMaxAttempts: 1,
		HTTPClient:       sdkhttp.New(),
	})
}

// wantAPIError checks that err is the control plane's error of that code whose message
// contains msg.
func wantAPIError(t *testing.T, what string, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Errorf("%s: error %v, want %s", what, err, code)
		return
	}
	if ae.ErrorCode() != code || !strings.Contains(ae.ErrorMessage(), msg) {
		t.Errorf("%s: %s %q, want %s containing %q", what, ae.ErrorCode(), ae.ErrorMessage(), code, msg)
	}
}

// TestGatewayControlPlane reads back, with the SDK's apigateway client, what the config
// deployed: the API, its resource tree with methods and integrations, its stages and keys.
func TestGatewayControlPlane(t *testing.T) {
	s := startE2E(t)
	ag := apigatewayClient(s)
	ctx := context.Background()
	before := time.Now().Add(-time.Minute)

	apis, err := ag.GetRestApis(ctx, &apigateway.GetRestApisInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(apis.Items) != 1 || apis.Position != nil {
		t.Fatalf("GetRestApis: %+v", apis)
	}
	api := apis.Items[0]
	if aws.ToString(api.Id) != e2eAPI || aws.ToString(api.Name) != "e2e" || api.ApiKeySource != agtypes.ApiKeySourceTypeHeader ||
		api.EndpointConfiguration == nil || !slices.Equal(api.EndpointConfiguration.Types, []agtypes.EndpointType{agtypes.EndpointTypeEdge}) ||
		!slices.Equal(api.BinaryMediaTypes, []string{"image/png"}) || aws.ToString(api.Version) != "1" ||
		api.CreatedDate == nil || api.CreatedDate.Before(before) || api.CreatedDate.After(time.Now()) || aws.ToString(api.RootResourceId) == "" {
		t.Errorf("GetRestApis item: %+v", api)
	}
	one, err := ag.GetRestApi(ctx, &apigateway.GetRestApiInput{RestApiId: aws.String(e2eAPI)})
	if err != nil || aws.ToString(one.Name) != "e2e" || aws.ToString(one.RootResourceId) != aws.ToString(api.RootResourceId) {
		t.Errorf("GetRestApi: %+v, %v", one, err)
	}
	_, err = ag.GetRestApi(ctx, &apigateway.GetRestApiInput{RestApiId: aws.String("nosuchapi0")})
	var nf *agtypes.NotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("GetRestApi of a missing API: %v, want NotFoundException", err)
	}
	wantAPIError(t, "GetRestApi missing", err, "NotFoundException", "Invalid API identifier specified 000000000000:nosuchapi0")

	// Page through the resources three at a time.
	var resources []agtypes.Resource
	pages := 0
	for p := apigateway.NewGetResourcesPaginator(ag, &apigateway.GetResourcesInput{RestApiId: aws.String(e2eAPI), Limit: aws.Int32(3)}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) > 3 {
			t.Fatalf("page of %d resources with limit 3", len(page.Items))
		}
		resources = append(resources, page.Items...)
		pages++
	}
	byPath := map[string]agtypes.Resource{}
	for _, r := range resources {
		byPath[aws.ToString(r.Path)] = r
	}
	if len(byPath) != len(resources) || pages < 2 {
		t.Errorf("%d resources in %d pages, %d distinct paths", len(resources), pages, len(byPath))
	}
	root, stream, record := byPath["/"], byPath["/stream"], byPath["/streams/{stream-name}/record"]
	if aws.ToString(root.Id) != aws.ToString(api.RootResourceId) || root.ParentId != nil || root.PathPart != nil {
		t.Errorf("root resource: %+v", root)
	}
	if aws.ToString(stream.ParentId) != aws.ToString(root.Id) || aws.ToString(stream.PathPart) != "stream" {
		t.Errorf("/stream: %+v", stream)
	}
	if aws.ToString(record.PathPart) != "record" || aws.ToString(byPath["/proxy/{proxy+}"].PathPart) != "{proxy+}" {
		t.Errorf("resources: %+v", byPath)
	}
	// Without embed a method is listed by its verb only.
	if m, ok := stream.ResourceMethods["POST"]; !ok || m.HttpMethod != nil || len(stream.ResourceMethods) != 1 {
		t.Errorf("/stream methods without embed: %+v", stream.ResourceMethods)
	}
	if _, ok := byPath["/proxy/{proxy+}"].ResourceMethods["ANY"]; !ok {
		t.Errorf("/proxy/{proxy+} methods: %+v", byPath["/proxy/{proxy+}"].ResourceMethods)
	}

	embedded, err := ag.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: aws.String(e2eAPI), Embed: []string{"methods"}, Limit: aws.Int32(500)})
	if err != nil {
		t.Fatal(err)
	}
	if len(embedded.Items) != len(resources) {
		t.Errorf("embed=methods: %d resources, want %d", len(embedded.Items), len(resources))
	}
	for _, r := range embedded.Items {
		if aws.ToString(r.Path) != "/stream" {
			continue
		}
		m := r.ResourceMethods["POST"]
		in := m.MethodIntegration
		if aws.ToString(m.HttpMethod) != "POST" || aws.ToString(m.AuthorizationType) != "NONE" || in == nil ||
			in.Type != agtypes.IntegrationTypeAws || aws.ToString(in.Uri) != "arn:aws:apigateway:us-east-1:kinesis:action/PutRecord" {
			t.Errorf("embedded POST /stream: %+v", m)
		}
	}

	res, err := ag.GetResource(ctx, &apigateway.GetResourceInput{RestApiId: aws.String(e2eAPI), ResourceId: record.Id})
	if err != nil || aws.ToString(res.Path) != "/streams/{stream-name}/record" {
		t.Errorf("GetResource: %+v, %v", res, err)
	}
	_, err = ag.GetResource(ctx, &apigateway.GetResourceInput{RestApiId: aws.String(e2eAPI), ResourceId: aws.String("nope00")})
	wantAPIError(t, "GetResource missing", err, "NotFoundException", "Invalid Resource identifier specified")

	m, err := ag.GetMethod(ctx, &apigateway.GetMethodInput{RestApiId: aws.String(e2eAPI), ResourceId: record.Id, HttpMethod: aws.String("PUT")})
	if err != nil {
		t.Fatal(err)
	}
	in := m.MethodIntegration
	if aws.ToBool(m.ApiKeyRequired) || !m.RequestParameters["method.request.path.stream-name"] || in == nil ||
		aws.ToString(in.HttpMethod) != "POST" || aws.ToString(in.PassthroughBehavior) != "WHEN_NO_MATCH" || in.TimeoutInMillis != 29000 {
		t.Errorf("GetMethod PUT record: %+v / %+v", m, in)
	}
	if ir := in.IntegrationResponses["404"]; aws.ToString(ir.SelectionPattern) != "400" ||
		ir.ResponseParameters["method.response.header.X-Error-Type"] != "'kinesis'" || in.IntegrationResponses["200"].SelectionPattern != nil {
		t.Errorf("integration responses: %+v", in.IntegrationResponses)
	}
	if mr := m.MethodResponses["404"]; aws.ToString(mr.StatusCode) != "404" || !hasKey(mr.ResponseParameters, "method.response.header.X-Error-Type") {
		t.Errorf("method responses: %+v", m.MethodResponses)
	}
	secure, err := ag.GetMethod(ctx, &apigateway.GetMethodInput{RestApiId: aws.String(e2eAPI), ResourceId: byPath["/secure"].Id, HttpMethod: aws.String("GET")})
	if err != nil || !aws.ToBool(secure.ApiKeyRequired) || secure.MethodIntegration.Type != agtypes.IntegrationTypeMock {
		t.Errorf("GetMethod GET /secure: %+v, %v", secure, err)
	}
	_, err = ag.GetMethod(ctx, &apigateway.GetMethodInput{RestApiId: aws.String(e2eAPI), ResourceId: record.Id, HttpMethod: aws.String("DELETE")})
	wantAPIError(t, "GetMethod missing", err, "NotFoundException", "Invalid Method identifier specified")
	integ, err := ag.GetIntegration(ctx, &apigateway.GetIntegrationInput{RestApiId: aws.String(e2eAPI), ResourceId: stream.Id, HttpMethod: aws.String("POST")})
	if err != nil || aws.ToString(integ.Credentials) != "arn:aws:iam::000000000000:role/apigw" || aws.ToString(integ.CacheNamespace) != aws.ToString(stream.Id) {
		t.Errorf("GetIntegration: %+v, %v", integ, err)
	}

	// The request validator a method names, and the body model it checks.
	validated, err := ag.GetMethod(ctx, &apigateway.GetMethodInput{RestApiId: aws.String(e2eAPI), ResourceId: byPath["/validated"].Id, HttpMethod: aws.String("POST")})
	if err != nil || validated.RequestValidatorId == nil || validated.RequestModels["application/json"] != "Event" {
		t.Fatalf("GetMethod POST /validated: %+v, %v", validated, err)
	}
	validator, err := ag.GetRequestValidator(ctx, &apigateway.GetRequestValidatorInput{RestApiId: aws.String(e2eAPI), RequestValidatorId: validated.RequestValidatorId})
	if err != nil || aws.ToString(validator.Name) != "all" || !validator.ValidateRequestBody || !validator.ValidateRequestParameters {
		t.Errorf("GetRequestValidator: %+v, %v", validator, err)
	}
	validators, err := ag.GetRequestValidators(ctx, &apigateway.GetRequestValidatorsInput{RestApiId: aws.String(e2eAPI)})
	if err != nil || len(validators.Items) != 1 || aws.ToString(validators.Items[0].Id) != aws.ToString(validated.RequestValidatorId) {
		t.Errorf("GetRequestValidators: %+v, %v", validators, err)
	}
	model, err := ag.GetModel(ctx, &apigateway.GetModelInput{RestApiId: aws.String(e2eAPI), ModelName: aws.String("Event")})
	if err != nil || aws.ToString(model.ContentType) != "application/json" || !strings.Contains(aws.ToString(model.Schema), `"message"`) {
		t.Errorf("GetModel: %+v, %v", model, err)
	}
	models, err := ag.GetModels(ctx, &apigateway.GetModelsInput{RestApiId: aws.String(e2eAPI)})
	if err != nil || len(models.Items) == 0 || aws.ToString(models.Items[0].Id) == "" {
		t.Errorf("GetModels: %+v, %v", models, err)
	}

	stages, err := ag.GetStages(ctx, &apigateway.GetStagesInput{RestApiId: aws.String(e2eAPI)})
	if err != nil {
		t.Fatal(err)
	}
	if len(stages.Item) != 2 || aws.ToString(stages.Item[0].StageName) != "prod" || stages.Item[0].Variables["color"] != "red" ||
		aws.ToString(stages.Item[1].StageName) != "test" || aws.ToString(stages.Item[0].DeploymentId) == "" ||
		stages.Item[0].CreatedDate == nil || stages.Item[0].CreatedDate.Before(before) {
		t.Errorf("GetStages: %+v", stages.Item)
	}
	deployments, err := ag.GetDeployments(ctx, &apigateway.GetDeploymentsInput{RestApiId: aws.String(e2eAPI)})
	if err != nil || len(deployments.Items) != 1 || aws.ToString(deployments.Items[0].Id) != aws.ToString(stages.Item[0].DeploymentId) {
		t.Errorf("GetDeployments: %+v, %v", deployments, err)
	}
	if _, err := ag.GetDeployment(ctx, &apigateway.GetDeploymentInput{RestApiId: aws.String(e2eAPI), DeploymentId: stages.Item[0].DeploymentId}); err != nil {
		t.Errorf("GetDeployment: %v", err)
	}
	stage, err := ag.GetStage(ctx, &apigateway.GetStageInput{RestApiId: aws.String(e2eAPI), StageName: aws.String("test")})
	if err != nil || stage.Variables["color"] != "blue" || stage.CacheClusterStatus != agtypes.CacheClusterStatusNotAvailable {
		t.Errorf("GetStage: %+v, %v", stage, err)
	}
	_, err = ag.GetStage(ctx, &apigateway.GetStageInput{RestApiId: aws.String(e2eAPI), StageName: aws.String("dev")})
	wantAPIError(t, "GetStage missing", err, "NotFoundException", "Invalid stage identifier specified")
	_, err = ag.GetStages(ctx, &apigateway.GetStagesInput{RestApiId: aws.String("nosuchapi0")})
	wantAPIError(t, "GetStages of a missing API", err, "NotFoundException", "Invalid API identifier specified 000000000000:nosuchapi0")

	// The disabled key is not registered, so not listed.
	keys, err := ag.GetApiKeys(ctx, &apigateway.GetApiKeysInput{})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]agtypes.ApiKey{}
	for _, k := range keys.Items {
		names[aws.ToString(k.Name)] = k
		if k.Value != nil || !k.Enabled || len(aws.ToString(k.Id)) != 10 {
			t.Errorf("GetApiKeys item without includeValues: %+v", k)
		}
	}
	if len(keys.Items) != 2 || !slices.Equal(names["prod-only"].StageKeys, []string{e2eAPI + "/prod"}) || len(names["all-stages"].StageKeys) != 0 {
		t.Errorf("GetApiKeys: %+v", keys.Items)
	}
	withValues, err := ag.GetApiKeys(ctx, &apigateway.GetApiKeysInput{IncludeValues: aws.Bool(true), NameQuery: aws.String("prod")})
	if err != nil || len(withValues.Items) != 1 || aws.ToString(withValues.Items[0].Value) != keyProd {
		t.Errorf("GetApiKeys includeValues name=prod: %+v, %v", withValues, err)
	}
	key, err := ag.GetApiKey(ctx, &apigateway.GetApiKeyInput{ApiKey: names["all-stages"].Id, IncludeValue: aws.Bool(true)})
	if err != nil || aws.ToString(key.Value) != keyAll || key.CreatedDate == nil || key.CreatedDate.Before(before) {
		t.Errorf("GetApiKey: %+v, %v", key, err)
	}
	key, err = ag.GetApiKey(ctx, &apigateway.GetApiKeyInput{ApiKey: names["all-stages"].Id})
	if err != nil || key.Value != nil {
		t.Errorf("GetApiKey without includeValue: %+v, %v", key, err)
	}
	_, err = ag.GetApiKey(ctx, &apigateway.GetApiKeyInput{ApiKey: aws.String("nokey00000")})
	wantAPIError(t, "GetApiKey missing", err, "NotFoundException", "Invalid API Key identifier specified")

	plans, err := ag.GetUsagePlans(ctx, &apigateway.GetUsagePlansInput{})
	if err != nil || len(plans.Items) != 0 {
		t.Errorf("GetUsagePlans: %+v, %v", plans, err)
	}

	// Writes to the config's API, and operations not implemented yet, are refused and say why.
	_, err = ag.DeleteRestApi(ctx, &apigateway.DeleteRestApiInput{RestApiId: aws.String(e2eAPI)})
	wantAPIError(t, "DeleteRestApi", err, "BadRequestException", "--config")
	_, err = ag.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: aws.String(e2eAPI), ParentId: aws.String("x"), PathPart: aws.String("y")})
	wantAPIError(t, "CreateResource on the config's API", err, "BadRequestException", "read-only")
	_, err = ag.DeleteApiKey(ctx, &apigateway.DeleteApiKeyInput{ApiKey: names["all-stages"].Id})
	wantAPIError(t, "DeleteApiKey of the config's key", err, "BadRequestException", "read-only")
	_, err = ag.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: aws.String(e2eAPI), StageName: aws.String("prod")})
	wantAPIError(t, "UpdateStage", err, "BadRequestException", "read-only")
	if _, err := ag.GetRestApi(ctx, &apigateway.GetRestApiInput{RestApiId: aws.String(e2eAPI)}); err != nil {
		t.Errorf("the API is gone after a refused delete: %v", err)
	}
}

// TestGatewayControlPlaneBadRequests drives the control plane with requests no SDK sends,
// and checks that the invoke and S3 routes around it are untouched.
func TestGatewayControlPlaneBadRequests(t *testing.T) {
	s := startE2E(t)
	base := s.a.Endpoint()
	for _, tc := range []struct {
		method, path string
		status       int
		errType, msg string
	}{
		{"GET", "/restapis?limit=0", 400, "BadRequestException", "Invalid limit"},
		{"GET", "/restapis?limit=501", 400, "BadRequestException", "Invalid limit"},
		{"GET", "/restapis?limit=x", 400, "BadRequestException", "Invalid limit"},
		{"GET", "/restapis?position=bogus", 400, "BadRequestException", "Invalid position"},
		{"GET", "/apikeys?limit=-1", 400, "BadRequestException", "Invalid limit"},
		{"GET", "/usageplans?limit=1000", 400, "BadRequestException", "Invalid limit"},
		{"GET", "/restapis/" + e2eAPI + "/resources?position=nope", 400, "BadRequestException", "Invalid position"},
		{"GET", "/restapis/" + e2eAPI + "/documentation/parts", 501, "NotImplementedException", "does not implement GetDocumentationParts"},
		{"GET", "/restapis/" + e2eAPI + "/authorizers/nope", 404, "NotFoundException", "Invalid Authorizer identifier specified"},
		{"GET", "/restapis/" + e2eAPI + "/models/Nope", 404, "NotFoundException", "Invalid model name specified: Nope"},
		{"GET", "/restapis/" + e2eAPI + "/deployments/nope", 404, "NotFoundException", "Invalid Deployment identifier specified"},
		{"GET", "/restapis/" + e2eAPI + "/requestvalidators/nope", 404, "NotFoundException", "Invalid Request Validator identifier specified"},
		{"GET", "/restapis/" + e2eAPI + "/resources/x/methods", 404, "UnknownOperationException", "does not answer"},
		{"GET", "/restapis/" + e2eAPI + "//stages", 404, "UnknownOperationException", "does not answer"},
		{"GET", "/restapis/a%2Fb", 404, "NotFoundException", "Invalid API identifier specified 000000000000:a/b"},
		{"GET", "/apikeys/a/b", 404, "UnknownOperationException", "does not answer"},
		{"GET", "/usageplans/p1", 404, "NotFoundException", "Invalid Usage Plan ID specified"},
		{"GET", "/usageplans/p1/keys/k/x", 404, "UnknownOperationException", "does not answer"},
		{"GET", "/restapis/" + strings.Repeat("a", 300), 404, "NotFoundException", "Invalid API identifier specified"},
		{"GET", "/restapis/" + e2eAPI + "/stages/%2E%2E", 404, "NotFoundException", "Invalid stage identifier specified"},
		{"GET", "/restapis/" + e2eAPI + "/resources/x/methods/GET", 404, "NotFoundException", "Invalid Resource identifier specified"},
		{"POST", "/restapis", 400, "BadRequestException", "Invalid REST API name specified"},
		{"PUT", "/restapis/" + e2eAPI, 400, "BadRequestException", "read-only"},
		{"PUT", "/restapis/" + e2eAPI + "/resources", 400, "BadRequestException", "does not implement"},
		{"PATCH", "/apikeys/k", 404, "NotFoundException", "Invalid API Key identifier specified"},
		{"DELETE", "/usageplans/p", 404, "NotFoundException", "Invalid Usage Plan ID specified"},
		{"POST", "/usageplans/p/usage", 400, "BadRequestException", "does not implement"},
		{"POST", "/restapis/" + e2eAPI + "/documentation/parts", 501, "NotImplementedException", "does not implement CreateDocumentationPart"},
		{"POST", "/restapis/" + e2eAPI + "/authorizers", 400, "BadRequestException", "Authorizer name must be specified"},
		{"DELETE", "/restapis/" + e2eAPI + "/models/Nope", 400, "BadRequestException", "read-only"},
		{"POST", "/restapis/" + e2eAPI + "/deployments", 400, "BadRequestException", "read-only"},
		{"DELETE", "/restapis/nosuchapi0", 404, "NotFoundException", "Invalid API identifier specified 000000000000:nosuchapi0"},
	} {
		r := s.do(t, tc.method, base+tc.path, "")
		var body struct{ Message string }
		if err := json.Unmarshal([]byte(r.body), &body); err != nil {
			t.Errorf("%s %s: body not JSON: %q", tc.method, tc.path, r.body)
			continue
		}
		if r.status != tc.status || r.header.Get("X-Amzn-Errortype") != tc.errType || !strings.Contains(body.Message, tc.msg) ||
			r.header.Get("Content-Type") != "application/json" || r.header.Get("X-Amzn-Requestid") == "" {
			t.Errorf("%s %s: %d %s %q, want %d %s containing %q", tc.method, tc.path, r.status, r.header.Get("X-Amzn-Errortype"), body.Message, tc.status, tc.errType, tc.msg)
		}
	}
	if r := s.do(t, "HEAD", base+"/restapis", ""); r.status != 200 || r.body != "" {
		t.Errorf("HEAD /restapis: %d %q", r.status, r.body)
	}
	// Invoke URLs under /restapis still reach the API.
	if r := s.do(t, "GET", s.url(e2eAPI, "test", "/mock"), ""); r.status != 200 || !strings.Contains(r.body, `"stub"`) {
		t.Errorf("invoke under /restapis: %d %s", r.status, r.body)
	}
	// A virtual-hosted S3 request for a bucket named restapis is S3's: no such bucket, in XML.
	if r := s.do(t, "GET", "http://restapis.s3.localhost:"+s.port+"/restapis", ""); r.status != 404 || !strings.Contains(r.body, "<Code>NoSuchBucket</Code>") {
		t.Errorf("virtual-hosted S3 bucket restapis: %d %s", r.status, r.body)
	}
	// Other paths stay S3's.
	if r := s.do(t, "GET", base+"/restapisx", ""); r.status != 404 || !strings.Contains(r.body, "<Code>NoSuchBucket</Code>") {
		t.Errorf("path-style bucket restapisx: %d %s", r.status, r.body)
	}
}

// TestGatewayControlPlaneCLI lists the APIs with the AWS CLI, and cannot delete the config's.
func TestGatewayControlPlaneCLI(t *testing.T) {
	const cli = "/usr/bin/aws"
	if _, err := os.Stat(cli); err != nil {
		t.Skip("AWS CLI v2 not installed (.ci/run installs Debian's awscli)")
	}
	s := startE2E(t)
	run := func(args ...string) (string, string, error) {
		cmd := exec.Command(cli, append([]string{"--endpoint-url", s.a.Endpoint(), "--no-cli-pager", "--output", "json"}, args...)...)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION=us-east-1",
			"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_MAX_ATTEMPTS=1")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		return string(out), stderr.String(), err
	}
	out, stderr, err := run("apigateway", "get-rest-apis")
	if err != nil {
		t.Fatalf("aws apigateway get-rest-apis: %v\n%s", err, stderr)
	}
	var apis struct {
		Items []struct {
			ID, Name              string
			CreatedDate           string
			EndpointConfiguration struct{ Types []string }
		}
	}
	if err := json.Unmarshal([]byte(out), &apis); err != nil {
		t.Fatalf("get-rest-apis: not JSON: %s", out)
	}
	if len(apis.Items) != 1 || apis.Items[0].ID != e2eAPI || apis.Items[0].Name != "e2e" || apis.Items[0].CreatedDate == "" ||
		!slices.Equal(apis.Items[0].EndpointConfiguration.Types, []string{"EDGE"}) {
		t.Errorf("get-rest-apis: %s", out)
	}
	_, stderr, err = run("apigateway", "delete-rest-api", "--rest-api-id", e2eAPI)
	if err == nil || !strings.Contains(stderr, "BadRequestException") || !strings.Contains(stderr, "read-only") {
		t.Errorf("delete-rest-api of the config's API: %v\n%s", err, stderr)
	}
}

func hasKey[V any](m map[string]V, k string) bool {
	_, ok := m[k]
	return ok
}
