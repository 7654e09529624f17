package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
)

// buildMeteredAPI builds, through the control plane, an API whose GET /metered and GET
// /other are MOCK methods that require an API key, deployed at stages prod and test.
func buildMeteredAPI(t *testing.T, ag *apigateway.Client, tags map[string]string) (apiID string) {
	t.Helper()
	ctx := context.Background()
	api, err := ag.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("metered"), Tags: tags})
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{"metered", "other"} {
		res, err := ag.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api.Id, ParentId: api.RootResourceId, PathPart: aws.String(part)})
		if err != nil {
			t.Fatal(err)
		}
		verb, id, rid := "GET", api.Id, res.Id
		if _, err := ag.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: id, ResourceId: rid, HttpMethod: aws.String(verb),
			AuthorizationType: aws.String("NONE"), ApiKeyRequired: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := ag.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: id, ResourceId: rid, HttpMethod: aws.String(verb),
			Type: agtypes.IntegrationTypeMock, RequestTemplates: map[string]string{"application/json": `{"statusCode": 200}`}}); err != nil {
			t.Fatal(err)
		}
		if _, err := ag.PutMethodResponse(ctx, &apigateway.PutMethodResponseInput{RestApiId: id, ResourceId: rid, HttpMethod: aws.String(verb),
			StatusCode: aws.String("200")}); err != nil {
			t.Fatal(err)
		}
		if _, err := ag.PutIntegrationResponse(ctx, &apigateway.PutIntegrationResponseInput{RestApiId: id, ResourceId: rid, HttpMethod: aws.String(verb),
			StatusCode: aws.String("200"), ResponseTemplates: map[string]string{"application/json": `{"ok": "$context.identity.apiKeyId"}`}}); err != nil {
			t.Fatal(err)
		}
	}
	dep, err := ag.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: api.Id, StageName: aws.String("prod")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ag.CreateStage(ctx, &apigateway.CreateStageInput{RestApiId: api.Id, StageName: aws.String("test"), DeploymentId: dep.Id}); err != nil {
		t.Fatal(err)
	}
	return aws.ToString(api.Id)
}

// TestGatewayUsagePlans creates API keys and usage plans with the SDK and checks that the
// invoke path enforces them as API Gateway does: no key or a key in no plan of the stage
// 403 Forbidden, a plan's throttle (and a method's own) 429 Too Many Requests, its quota 429
// Limit Exceeded; GetUsage counts, UpdateUsage resets; ImportApiKeys adds keys to plans.
func TestGatewayUsagePlans(t *testing.T) {
	s := startE2E(t)
	ag := apigatewayClient(s)
	ctx := context.Background()
	id := buildMeteredAPI(t, ag, nil)
	get := func(stage, path, key string) response {
		t.Helper()
		if key == "" {
			return s.do(t, "GET", s.url(id, stage, path), "")
		}
		return s.do(t, "GET", s.url(id, stage, path), "", "x-api-key", key)
	}
	wantStatus := func(what string, r response, status int, body string) {
		t.Helper()
		if r.status != status || !strings.Contains(r.body, body) {
			t.Errorf("%s: %d %s, want %d with %s", what, r.status, r.body, status, body)
		}
	}
	wantStatus("no key", get("prod", "/metered", ""), 403, `{"message":"Forbidden"}`)

	k1, err := ag.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Name: aws.String("k1"), Enabled: true, Tags: map[string]string{"team": "a"}})
	if err != nil || len(aws.ToString(k1.Value)) != 40 || !awsIDRe.MatchString(aws.ToString(k1.Id)) || !k1.Enabled || k1.Tags["team"] != "a" {
		t.Fatalf("CreateApiKey: %+v, %v", k1, err)
	}
	wantStatus("a key in no usage plan", get("prod", "/metered", *k1.Value), 403, `{"message":"Forbidden"}`)
	_, err = ag.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Name: aws.String("dup"), Value: k1.Value})
	wantAPIError(t, "CreateApiKey with a taken value", err, "ConflictException", "API Key already exists")
	_, err = ag.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Name: aws.String("short"), Value: aws.String("short")})
	wantAPIError(t, "CreateApiKey with a short value", err, "BadRequestException", "at least 20 characters")

	// Plan 1 throttles prod: two requests of burst for the plan, four for GET /other.
	slow := 1e-9 // tokens a second: none come back while the test runs
	p1, err := ag.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{
		Name:     aws.String("throttled"),
		Throttle: &agtypes.ThrottleSettings{BurstLimit: 2, RateLimit: slow},
		ApiStages: []agtypes.ApiStage{{ApiId: aws.String(id), Stage: aws.String("prod"),
			Throttle: map[string]agtypes.ThrottleSettings{"/other/GET": {BurstLimit: 4, RateLimit: slow}}}},
	})
	if err != nil || len(p1.ApiStages) != 1 || p1.Throttle.BurstLimit != 2 || p1.ApiStages[0].Throttle["/other/GET"].BurstLimit != 4 {
		t.Fatalf("CreateUsagePlan: %+v, %v", p1, err)
	}
	pk, err := ag.CreateUsagePlanKey(ctx, &apigateway.CreateUsagePlanKeyInput{UsagePlanId: p1.Id, KeyId: k1.Id, KeyType: aws.String("API_KEY")})
	if err != nil || aws.ToString(pk.Id) != aws.ToString(k1.Id) || aws.ToString(pk.Value) != aws.ToString(k1.Value) || aws.ToString(pk.Type) != "API_KEY" {
		t.Fatalf("CreateUsagePlanKey: %+v, %v", pk, err)
	}
	for range 2 {
		wantStatus("within the plan's burst", get("prod", "/metered", *k1.Value), 200, `{"ok": "`+*k1.Id+`"}`)
	}
	wantStatus("over the plan's burst", get("prod", "/metered", *k1.Value), 429, `{"message":"Too Many Requests"}`)
	for range 4 {
		wantStatus("within the method's burst", get("prod", "/other", *k1.Value), 200, `"ok"`)
	}
	wantStatus("over the method's burst", get("prod", "/other", *k1.Value), 429, `{"message":"Too Many Requests"}`)
	wantStatus("a stage the plan does not list", get("test", "/metered", *k1.Value), 403, `{"message":"Forbidden"}`)

	// Plan 2 gives test a quota of three a day.
	p2, err := ag.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{
		Name: aws.String("quota"), Quota: &agtypes.QuotaSettings{Limit: 3, Period: agtypes.QuotaPeriodTypeDay},
		ApiStages: []agtypes.ApiStage{{ApiId: aws.String(id), Stage: aws.String("test")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ag.CreateUsagePlanKey(ctx, &apigateway.CreateUsagePlanKeyInput{UsagePlanId: p2.Id, KeyId: k1.Id, KeyType: aws.String("API_KEY")}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		wantStatus("within the quota", get("test", "/metered", *k1.Value), 200, `"ok"`)
	}
	wantStatus("over the quota", get("test", "/metered", *k1.Value), 429, `{"message":"Limit Exceeded"}`)
	today := time.Now().UTC().Format(time.DateOnly)
	usage, err := ag.GetUsage(ctx, &apigateway.GetUsageInput{UsagePlanId: p2.Id, StartDate: aws.String(today), EndDate: aws.String(today)})
	if err != nil || len(usage.Items[*k1.Id]) != 1 || usage.Items[*k1.Id][0][0] != 3 || usage.Items[*k1.Id][0][1] != 0 || aws.ToString(usage.UsagePlanId) != *p2.Id {
		t.Errorf("GetUsage: %+v, %v", usage, err)
	}
	if _, err := ag.UpdateUsage(ctx, &apigateway.UpdateUsageInput{UsagePlanId: p2.Id, KeyId: k1.Id, PatchOperations: []agtypes.PatchOperation{
		{Op: agtypes.OpReplace, Path: aws.String("/remaining"), Value: aws.String("1")}}}); err != nil {
		t.Fatal(err)
	}
	wantStatus("after UpdateUsage", get("test", "/metered", *k1.Value), 200, `"ok"`)
	wantStatus("over the quota again", get("test", "/metered", *k1.Value), 429, `{"message":"Limit Exceeded"}`)
	_, err = ag.GetUsage(ctx, &apigateway.GetUsageInput{UsagePlanId: p2.Id, StartDate: aws.String("2026-13-01"), EndDate: aws.String(today)})
	wantAPIError(t, "GetUsage with a bad date", err, "BadRequestException", "Invalid startDate")

	// One key cannot be in two plans of one stage.
	p3, err := ag.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: aws.String("also prod"),
		ApiStages: []agtypes.ApiStage{{ApiId: aws.String(id), Stage: aws.String("prod")}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ag.CreateUsagePlanKey(ctx, &apigateway.CreateUsagePlanKeyInput{UsagePlanId: p3.Id, KeyId: k1.Id, KeyType: aws.String("API_KEY")})
	wantAPIError(t, "CreateUsagePlanKey in a second plan of prod", err, "ConflictException", "cannot reference multiple Usage Plans with the same API Stage")
	_, err = ag.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: aws.String("bad"),
		ApiStages: []agtypes.ApiStage{{ApiId: aws.String(id), Stage: aws.String("nope")}}})
	wantAPIError(t, "CreateUsagePlan with a missing stage", err, "NotFoundException", "Invalid stage identifier specified")
	_, err = ag.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: aws.String("bad"),
		Quota: &agtypes.QuotaSettings{Limit: 1, Period: "YEAR"}})
	wantAPIError(t, "CreateUsagePlan with a bad period", err, "BadRequestException", "Invalid quota period")

	// UpdateUsagePlan: raise the plan's burst with a patch, and the key gets through again.
	up, err := ag.UpdateUsagePlan(ctx, &apigateway.UpdateUsagePlanInput{UsagePlanId: p1.Id, PatchOperations: []agtypes.PatchOperation{
		{Op: agtypes.OpReplace, Path: aws.String("/name"), Value: aws.String("renamed")},
		{Op: agtypes.OpReplace, Path: aws.String("/apiStages/" + id + ":prod/throttle/~1other~1GET/burstLimit"), Value: aws.String("5")},
		{Op: agtypes.OpRemove, Path: aws.String("/throttle")}}})
	if err != nil || aws.ToString(up.Name) != "renamed" || up.Throttle != nil || up.ApiStages[0].Throttle["/other/GET"].BurstLimit != 5 {
		t.Fatalf("UpdateUsagePlan: %+v, %v", up, err)
	}
	wantStatus("without the plan's throttle", get("prod", "/metered", *k1.Value), 200, `"ok"`)
	_, err = ag.UpdateUsagePlan(ctx, &apigateway.UpdateUsagePlanInput{UsagePlanId: p1.Id, PatchOperations: []agtypes.PatchOperation{
		{Op: agtypes.OpReplace, Path: aws.String("/bogus"), Value: aws.String("x")}}})
	wantAPIError(t, "UpdateUsagePlan bad path", err, "BadRequestException", "Invalid patch path '/bogus'")

	// A disabled key, and a key taken out of the plan, are refused.
	if _, err := ag.UpdateApiKey(ctx, &apigateway.UpdateApiKeyInput{ApiKey: k1.Id, PatchOperations: []agtypes.PatchOperation{
		{Op: agtypes.OpReplace, Path: aws.String("/enabled"), Value: aws.String("false")}}}); err != nil {
		t.Fatal(err)
	}
	wantStatus("a disabled key", get("prod", "/metered", *k1.Value), 403, `{"message":"Forbidden"}`)
	if _, err := ag.UpdateApiKey(ctx, &apigateway.UpdateApiKeyInput{ApiKey: k1.Id, PatchOperations: []agtypes.PatchOperation{
		{Op: agtypes.OpReplace, Path: aws.String("/enabled"), Value: aws.String("true")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ag.DeleteUsagePlanKey(ctx, &apigateway.DeleteUsagePlanKeyInput{UsagePlanId: p1.Id, KeyId: k1.Id}); err != nil {
		t.Fatal(err)
	}
	wantStatus("a key out of the plan", get("prod", "/metered", *k1.Value), 403, `{"message":"Forbidden"}`)
	_, err = ag.GetUsagePlanKey(ctx, &apigateway.GetUsagePlanKeyInput{UsagePlanId: p1.Id, KeyId: k1.Id})
	wantAPIError(t, "GetUsagePlanKey after the delete", err, "NotFoundException", "Invalid Usage Plan Key specified")

	// ImportApiKeys: the documentation's CSV, two keys into plan 1 and one into a plan that
	// does not exist (a warning).
	csv := "Name,key,description,Enabled,usageplanIds\n" +
		"imported1,apikey1234abcdefghij0123456789,An imported key,TRUE," + *p1.Id + "\n" +
		"imported2,apikey1234abcdefghij0123456789b,,true,\"" + *p1.Id + ",nosuchplan\"\n"
	imp, err := ag.ImportApiKeys(ctx, &apigateway.ImportApiKeysInput{Body: []byte(csv), Format: agtypes.ApiKeysFormatCsv})
	if err != nil || len(imp.Ids) != 2 || len(imp.Warnings) != 1 || !strings.Contains(imp.Warnings[0], "nosuchplan") {
		t.Fatalf("ImportApiKeys: %+v, %v", imp, err)
	}
	wantStatus("an imported key", get("prod", "/metered", "apikey1234abcdefghij0123456789"), 200, `{"ok": "`+imp.Ids[0]+`"}`)
	_, err = ag.ImportApiKeys(ctx, &apigateway.ImportApiKeysInput{Body: []byte(csv), Format: agtypes.ApiKeysFormatCsv, FailOnWarnings: true})
	wantAPIError(t, "ImportApiKeys failOnWarnings", err, "BadRequestException", "nosuchplan")
	_, err = ag.ImportApiKeys(ctx, &apigateway.ImportApiKeysInput{Body: []byte("Name\nx"), Format: agtypes.ApiKeysFormatCsv})
	wantAPIError(t, "ImportApiKeys without a Key column", err, "BadRequestException", "no key column")

	keys, err := ag.GetApiKeys(ctx, &apigateway.GetApiKeysInput{NameQuery: aws.String("imported"), IncludeValues: aws.Bool(true)})
	if err != nil || len(keys.Items) != 2 || aws.ToString(keys.Items[0].Value) == "" {
		t.Errorf("GetApiKeys imported*: %+v, %v", keys, err)
	}
	all, err := ag.GetApiKeys(ctx, &apigateway.GetApiKeysInput{})
	if err != nil || len(all.Items) != 5 { // two of the config's, k1, two imported
		t.Errorf("GetApiKeys: %d keys, %v", len(all.Items), err)
	}
	plans, err := ag.GetUsagePlans(ctx, &apigateway.GetUsagePlansInput{KeyId: aws.String(imp.Ids[0])})
	if err != nil || len(plans.Items) != 1 || aws.ToString(plans.Items[0].Id) != *p1.Id {
		t.Errorf("GetUsagePlans keyId: %+v, %v", plans, err)
	}
	pks, err := ag.GetUsagePlanKeys(ctx, &apigateway.GetUsagePlanKeysInput{UsagePlanId: p1.Id})
	if err != nil || len(pks.Items) != 2 {
		t.Errorf("GetUsagePlanKeys: %+v, %v", pks, err)
	}

	if _, err := ag.DeleteApiKey(ctx, &apigateway.DeleteApiKeyInput{ApiKey: aws.String(imp.Ids[0])}); err != nil {
		t.Fatal(err)
	}
	wantStatus("a deleted key", get("prod", "/metered", "apikey1234abcdefghij0123456789"), 403, `{"message":"Forbidden"}`)
	if _, err := ag.DeleteUsagePlan(ctx, &apigateway.DeleteUsagePlanInput{UsagePlanId: p3.Id}); err != nil {
		t.Fatal(err)
	}
	_, err = ag.GetUsagePlan(ctx, &apigateway.GetUsagePlanInput{UsagePlanId: p3.Id})
	wantAPIError(t, "GetUsagePlan after the delete", err, "NotFoundException", "Invalid Usage Plan ID specified")
}

// TestGatewayUsagePlanGatewayResponses customises THROTTLED and QUOTA_EXCEEDED, as an API
// can on API Gateway.
func TestGatewayUsagePlanGatewayResponses(t *testing.T) {
	s := startE2E(t)
	ag := apigatewayClient(s)
	ctx := context.Background()
	id := buildMeteredAPI(t, ag, nil)
	if _, err := ag.PutGatewayResponse(ctx, &apigateway.PutGatewayResponseInput{RestApiId: aws.String(id), ResponseType: agtypes.GatewayResponseTypeQuotaExceeded,
		StatusCode: aws.String("402"), ResponseTemplates: map[string]string{"application/json": `{"quota": "$context.error.responseType"}`}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ag.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: aws.String(id), StageName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	k, err := ag.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Name: aws.String("k"), Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	p, err := ag.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: aws.String("one a month"),
		Quota:     &agtypes.QuotaSettings{Limit: 1, Period: agtypes.QuotaPeriodTypeMonth},
		ApiStages: []agtypes.ApiStage{{ApiId: aws.String(id), Stage: aws.String("prod")}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ag.CreateUsagePlanKey(ctx, &apigateway.CreateUsagePlanKeyInput{UsagePlanId: p.Id, KeyId: k.Id, KeyType: aws.String("API_KEY")}); err != nil {
		t.Fatal(err)
	}
	if r := s.do(t, "GET", s.url(id, "prod", "/metered"), "", "x-api-key", *k.Value); r.status != 200 {
		t.Fatalf("first request: %d %s", r.status, r.body)
	}
	if r := s.do(t, "GET", s.url(id, "prod", "/metered"), "", "x-api-key", *k.Value); r.status != 402 || r.body != `{"quota": "QUOTA_EXCEEDED"}` {
		t.Errorf("over the quota with QUOTA_EXCEEDED customised: %d %s", r.status, r.body)
	}
}

// TestGatewayTags tags REST APIs, stages, keys and usage plans by ARN.
func TestGatewayTags(t *testing.T) {
	s := startE2E(t)
	ag := apigatewayClient(s)
	ctx := context.Background()
	id := buildMeteredAPI(t, ag, map[string]string{"env": "dev"})
	api, err := ag.GetRestApi(ctx, &apigateway.GetRestApiInput{RestApiId: aws.String(id)})
	if err != nil || api.Tags["env"] != "dev" {
		t.Fatalf("GetRestApi tags: %+v, %v", api.Tags, err)
	}
	arn := "arn:aws:apigateway:us-east-1::/restapis/" + id
	if _, err := ag.TagResource(ctx, &apigateway.TagResourceInput{ResourceArn: aws.String(arn), Tags: map[string]string{"owner": "me"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := ag.GetTags(ctx, &apigateway.GetTagsInput{ResourceArn: aws.String(arn)})
	if err != nil || len(tags.Tags) != 2 || tags.Tags["owner"] != "me" {
		t.Errorf("GetTags: %+v, %v", tags, err)
	}
	if _, err := ag.UntagResource(ctx, &apigateway.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"env"}}); err != nil {
		t.Fatal(err)
	}
	if tags, err := ag.GetTags(ctx, &apigateway.GetTagsInput{ResourceArn: aws.String(arn)}); err != nil || len(tags.Tags) != 1 {
		t.Errorf("GetTags after UntagResource: %+v, %v", tags, err)
	}
	stageARN := arn + "/stages/prod"
	if _, err := ag.TagResource(ctx, &apigateway.TagResourceInput{ResourceArn: aws.String(stageARN), Tags: map[string]string{"tier": "gold"}}); err != nil {
		t.Fatal(err)
	}
	st, err := ag.GetStage(ctx, &apigateway.GetStageInput{RestApiId: aws.String(id), StageName: aws.String("prod")})
	if err != nil || st.Tags["tier"] != "gold" {
		t.Errorf("GetStage tags: %+v, %v", st, err)
	}
	created, err := ag.CreateStage(ctx, &apigateway.CreateStageInput{RestApiId: aws.String(id), StageName: aws.String("tagged"),
		DeploymentId: st.DeploymentId, Tags: map[string]string{"a": "b"}})
	if err != nil || created.Tags["a"] != "b" {
		t.Errorf("CreateStage with tags: %+v, %v", created, err)
	}
	plan, err := ag.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: aws.String("p"), Tags: map[string]string{"x": "y"}})
	if err != nil {
		t.Fatal(err)
	}
	planARN := "arn:aws:apigateway:us-east-1::/usageplans/" + *plan.Id
	if tags, err := ag.GetTags(ctx, &apigateway.GetTagsInput{ResourceArn: aws.String(planARN)}); err != nil || tags.Tags["x"] != "y" {
		t.Errorf("GetTags of a usage plan: %+v, %v", tags, err)
	}

	for _, tc := range []struct {
		arn  string
		tags map[string]string
		code string
		msg  string
	}{
		{"arn:aws:apigateway:us-east-1::/restapis/nosuchapi0", map[string]string{"a": "b"}, "NotFoundException", "Invalid API identifier specified"},
		{arn + "/stages/nope", map[string]string{"a": "b"}, "NotFoundException", "Invalid stage identifier specified"},
		{"arn:aws:apigateway:us-east-1::/restapis/" + e2eAPI, map[string]string{"a": "b"}, "BadRequestException", "read-only"},
		{"arn:aws:apigateway:us-east-1::/vpclinks/x", map[string]string{"a": "b"}, "BadRequestException", "Invalid ARN specified"},
		{"arn:aws:apigateway:us-east-1:/restapis/" + id, map[string]string{"a": "b"}, "BadRequestException", "Invalid ARN specified"},
		{arn, map[string]string{"aws:x": "b"}, "BadRequestException", "reserved"},
		{arn, map[string]string{strings.Repeat("k", 129): "b"}, "BadRequestException", "Invalid tag key"},
		{arn, map[string]string{"k": strings.Repeat("v", 257)}, "BadRequestException", "Invalid tag value"},
	} {
		_, err := ag.TagResource(ctx, &apigateway.TagResourceInput{ResourceArn: aws.String(tc.arn), Tags: tc.tags})
		wantAPIError(t, "TagResource "+tc.arn, err, tc.code, tc.msg)
	}
	if tags, err := ag.GetTags(ctx, &apigateway.GetTagsInput{ResourceArn: aws.String(arn)}); err != nil || len(tags.Tags) != 1 {
		t.Errorf("a refused TagResource changed the tags: %+v, %v", tags, err)
	}
	// A bucket named tags is still S3's.
	if r := s.do(t, "GET", s.a.Endpoint()+"/tags/some-key", ""); r.status != 404 || !strings.Contains(r.body, "<Code>NoSuchBucket</Code>") {
		t.Errorf("GET /tags/some-key: %d %s", r.status, r.body)
	}
}

// TestGatewayUnimplementedOperations: an operation of the model localpipe does not answer
// is 501 NotImplementedException naming it, on any path the SDK signs for apigateway.
func TestGatewayUnimplementedOperations(t *testing.T) {
	s := startE2E(t)
	ag := apigatewayClient(s)
	ctx := context.Background()
	_, err := ag.GetSdk(ctx, &apigateway.GetSdkInput{RestApiId: aws.String(e2eAPI), StageName: aws.String("prod"), SdkType: aws.String("javascript")})
	wantAPIError(t, "GetSdk", err, "NotImplementedException", "does not implement GetSdk")
	wantAPIError(t, "GetSdk", err, "NotImplementedException", "GetExport")
	_, err = ag.GetAccount(ctx, &apigateway.GetAccountInput{})
	wantAPIError(t, "GetAccount", err, "NotImplementedException", "does not implement GetAccount (GET /account)")
	_, err = ag.GetVpcLinks(ctx, &apigateway.GetVpcLinksInput{})
	wantAPIError(t, "GetVpcLinks", err, "NotImplementedException", "does not implement GetVpcLinks")
	// An unsigned request for /account is S3's, a bucket of that name.
	if r := s.do(t, "GET", s.a.Endpoint()+"/account", ""); r.status != 404 || !strings.Contains(r.body, "<Code>NoSuchBucket</Code>") {
		t.Errorf("unsigned GET /account: %d %s", r.status, r.body)
	}
}

// TestGatewayUpdateResource renames and moves resources with UpdateResource; a move under
// itself, a taken name and a bad path are refused and change nothing.
func TestGatewayUpdateResource(t *testing.T) {
	s := startE2E(t)
	ag := apigatewayClient(s)
	ctx := context.Background()
	id := buildMeteredAPI(t, ag, nil)
	res, err := ag.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	byPath := map[string]string{}
	for _, r := range res.Items {
		byPath[aws.ToString(r.Path)] = aws.ToString(r.Id)
	}
	patch := func(res, path, value string) (*apigateway.UpdateResourceOutput, error) {
		return ag.UpdateResource(ctx, &apigateway.UpdateResourceInput{RestApiId: aws.String(id), ResourceId: aws.String(res),
			PatchOperations: []agtypes.PatchOperation{{Op: agtypes.OpReplace, Path: aws.String(path), Value: aws.String(value)}}})
	}
	moved, err := patch(byPath["/other"], "/parentId", byPath["/metered"])
	if err != nil || aws.ToString(moved.Path) != "/metered/other" {
		t.Fatalf("UpdateResource /parentId: %+v, %v", moved, err)
	}
	renamed, err := patch(byPath["/metered"], "/pathPart", "counted")
	if err != nil || aws.ToString(renamed.Path) != "/counted" {
		t.Fatalf("UpdateResource /pathPart: %+v, %v", renamed, err)
	}
	_, err = patch(byPath["/metered"], "/parentId", byPath["/other"])
	wantAPIError(t, "a move under a descendant", err, "BadRequestException", "under itself or one of its descendants")
	_, err = patch(byPath["/other"], "/pathPart", "bad path")
	wantAPIError(t, "a bad path part", err, "BadRequestException", "path part only allow")
	if _, err := ag.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: aws.String(id), ParentId: aws.String(byPath["/"]), PathPart: aws.String("taken")}); err != nil {
		t.Fatal(err)
	}
	_, err = patch(byPath["/metered"], "/pathPart", "taken")
	wantAPIError(t, "a taken name", err, "ConflictException", "Another resource with the same parent already has this name: taken")
	_, err = patch(byPath["/"], "/pathPart", "x")
	wantAPIError(t, "the root", err, "BadRequestException", "root resource")
	_, err = patch(byPath["/metered"], "/bogus", "x")
	wantAPIError(t, "a bad patch path", err, "BadRequestException", "Invalid patch path '/bogus'")
	got, err := ag.GetResource(ctx, &apigateway.GetResourceInput{RestApiId: aws.String(id), ResourceId: aws.String(byPath["/other"])})
	if err != nil || aws.ToString(got.Path) != "/counted/other" {
		t.Errorf("after the refused updates: %+v, %v", got, err)
	}
}

// TestGatewayTestInvokeMethod runs methods that are not deployed with TestInvokeMethod: the
// seed's Kinesis integration (the record reaches the stream), a MOCK method with a path
// parameter, a query string and a stage variable, and a method without an integration.
func TestGatewayTestInvokeMethod(t *testing.T) {
	s := startE2E(t)
	ag := apigatewayClient(s)
	ctx := context.Background()
	api, err := ag.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("tested")})
	if err != nil {
		t.Fatal(err)
	}
	id := api.Id
	stream, err := ag.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: id, ParentId: api.RootResourceId, PathPart: aws.String("stream")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ag.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: id, ResourceId: stream.Id, HttpMethod: aws.String("POST"),
		AuthorizationType: aws.String("NONE"), ApiKeyRequired: true}); err != nil {
		t.Fatal(err)
	}
	// Without an integration the test answers 500 and the log says why.
	out, err := ag.TestInvokeMethod(ctx, &apigateway.TestInvokeMethodInput{RestApiId: id, ResourceId: stream.Id, HttpMethod: aws.String("POST")})
	if err != nil || out.Status != 500 || !strings.Contains(aws.ToString(out.Log), "Execution failed due to configuration error") {
		t.Errorf("TestInvokeMethod without an integration: %+v, %v", out, err)
	}
	tmpl := `{"StreamName": "e2e-stream", "Data": "$util.base64Encode($input.body)", "PartitionKey": "$context.requestId"}`
	if _, err := ag.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: id, ResourceId: stream.Id, HttpMethod: aws.String("POST"),
		Type: agtypes.IntegrationTypeAws, IntegrationHttpMethod: aws.String("POST"), Uri: aws.String("arn:aws:apigateway:us-east-1:kinesis:action/PutRecord"),
		RequestTemplates: map[string]string{"application/json": tmpl}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ag.PutMethodResponse(ctx, &apigateway.PutMethodResponseInput{RestApiId: id, ResourceId: stream.Id, HttpMethod: aws.String("POST"), StatusCode: aws.String("200")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ag.PutIntegrationResponse(ctx, &apigateway.PutIntegrationResponseInput{RestApiId: id, ResourceId: stream.Id, HttpMethod: aws.String("POST"),
		StatusCode: aws.String("200"), ResponseTemplates: map[string]string{"application/json": `{"seq": "$input.path('$.SequenceNumber')"}`}}); err != nil {
		t.Fatal(err)
	}
	body := `{"message": "Hello, Kinesis!"}`
	out, err = ag.TestInvokeMethod(ctx, &apigateway.TestInvokeMethodInput{RestApiId: id, ResourceId: stream.Id, HttpMethod: aws.String("POST"),
		Body: aws.String(body), Headers: map[string]string{"Content-Type": "application/json"}})
	if err != nil {
		t.Fatal(err)
	}
	log := aws.ToString(out.Log)
	if out.Status != 200 || !strings.Contains(aws.ToString(out.Body), `"seq": "4`) || out.Headers["Content-Type"] != "application/json" ||
		len(out.MultiValueHeaders["Content-Type"]) != 1 {
		t.Errorf("TestInvokeMethod PutRecord: %d %s %v %v\n%s", out.Status, aws.ToString(out.Body), out.Headers, out.MultiValueHeaders, log)
	}
	for _, want := range []string{
		"Starting execution for request: ",
		"HTTP Method: POST, Resource Path: /stream",
		"Method request body before transformations: " + body,
		"Endpoint request URI: https://kinesis.us-east-1.amazonaws.com/?Action=PutRecord",
		`Endpoint request body after transformations: {"StreamName": "e2e-stream", "Data": "eyJtZXNzYWdlIjogIkhlbGxvLCBLaW5lc2lzISJ9"`,
		"Received response. Status: 200",
		`Endpoint response body before transformations: {"SequenceNumber":`,
		`Method response body after transformations: {"seq": "4`,
		"Method completed with status: 200",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("the log has no %q:\n%s", want, log)
		}
	}
	found := false
	for _, r := range s.records(t, "e2e-stream") {
		found = found || string(r.Data) == body
	}
	if !found {
		t.Error("the test invocation's record is not in e2e-stream")
	}

	// A MOCK method under a path variable, with a query string and stage variables.
	items, err := ag.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: id, ParentId: api.RootResourceId, PathPart: aws.String("{item}")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ag.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: id, ResourceId: items.Id, HttpMethod: aws.String("GET"), AuthorizationType: aws.String("NONE")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ag.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: id, ResourceId: items.Id, HttpMethod: aws.String("GET"),
		Type: agtypes.IntegrationTypeMock, RequestTemplates: map[string]string{"application/json": `{"statusCode": 201}`}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ag.PutIntegrationResponse(ctx, &apigateway.PutIntegrationResponseInput{RestApiId: id, ResourceId: items.Id, HttpMethod: aws.String("GET"),
		StatusCode: aws.String("201"), SelectionPattern: aws.String("201"), ResponseParameters: map[string]string{"method.response.header.X-Color": "stageVariables.color"},
		ResponseTemplates: map[string]string{"application/json": `{"item": "$input.params('item')", "q": "$input.params('q')", "color": "$stageVariables.color"}`}}); err != nil {
		t.Fatal(err)
	}
	out, err = ag.TestInvokeMethod(ctx, &apigateway.TestInvokeMethodInput{RestApiId: id, ResourceId: items.Id, HttpMethod: aws.String("GET"),
		PathWithQueryString: aws.String("/thing-1?q=find"), StageVariables: map[string]string{"color": "teal"}})
	if err != nil || out.Status != 201 || aws.ToString(out.Body) != `{"item": "thing-1", "q": "find", "color": "teal"}` || out.Headers["X-Color"] != "teal" ||
		!strings.Contains(aws.ToString(out.Log), "Method request path: {item=thing-1}") || !strings.Contains(aws.ToString(out.Log), "Method request query string: {q=find}") {
		t.Errorf("TestInvokeMethod MOCK: %+v, %v\n%s", out, err, aws.ToString(out.Log))
	}
	// Nothing was deployed: the invoke URL does not answer.
	if r := s.do(t, "GET", s.url(*id, "test-invoke-stage", "/thing-1"), ""); r.status != 403 {
		t.Errorf("the test stage answers invokes: %d %s", r.status, r.body)
	}
	_, err = ag.TestInvokeMethod(ctx, &apigateway.TestInvokeMethodInput{RestApiId: id, ResourceId: items.Id, HttpMethod: aws.String("DELETE")})
	wantAPIError(t, "TestInvokeMethod of a missing method", err, "NotFoundException", "Invalid Method identifier specified")
	_, err = ag.TestInvokeMethod(ctx, &apigateway.TestInvokeMethodInput{RestApiId: id, ResourceId: items.Id, HttpMethod: aws.String("GET"),
		StageVariables: map[string]string{"bad name": "x"}})
	wantAPIError(t, "TestInvokeMethod with a bad stage variable", err, "BadRequestException", "")
}

// TestGatewayStageThrottling sets a stage's method settings with UpdateStage: "*/*" throttles
// every method of the stage, a method's own entry replaces it for that method, and the
// settings read back as API Gateway describes them.
func TestGatewayStageThrottling(t *testing.T) {
	s := startE2E(t)
	ag := apigatewayClient(s)
	ctx := context.Background()
	id := buildMeteredAPI(t, ag, nil)
	k, err := ag.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Name: aws.String("k"), Enabled: true,
		StageKeys: []agtypes.StageKey{{RestApiId: aws.String(id), StageName: aws.String("prod")}}})
	if err != nil {
		t.Fatal(err)
	}
	replace := func(path, value string) agtypes.PatchOperation {
		return agtypes.PatchOperation{Op: agtypes.OpReplace, Path: aws.String(path), Value: aws.String(value)}
	}
	st, err := ag.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: aws.String(id), StageName: aws.String("prod"), PatchOperations: []agtypes.PatchOperation{
		replace("/*/*/throttling/burstLimit", "2"), replace("/*/*/throttling/rateLimit", "0.000001"),
		replace("/~1other/GET/throttling/burstLimit", "3"), replace("/other/GET/throttling/rateLimit", "0.000001"),
		replace("/*/*/metrics/enabled", "true"), replace("/description", "throttled"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	all, other := st.MethodSettings["*/*"], st.MethodSettings["other/GET"]
	if all.ThrottlingBurstLimit != 2 || !all.MetricsEnabled || aws.ToString(all.LoggingLevel) != "OFF" || other.ThrottlingBurstLimit != 3 ||
		other.ThrottlingRateLimit != 0.000001 || aws.ToString(st.Description) != "throttled" {
		t.Fatalf("UpdateStage method settings: %+v", st.MethodSettings)
	}
	get := func(stage, path string) response {
		return s.do(t, "GET", s.url(id, stage, path), "", "x-api-key", *k.Value)
	}
	for range 2 {
		if r := get("prod", "/metered"); r.status != 200 {
			t.Fatalf("within the stage's burst: %d %s", r.status, r.body)
		}
	}
	if r := get("prod", "/metered"); r.status != 429 || r.body != `{"message":"Too Many Requests"}` {
		t.Errorf("over the stage's burst: %d %s", r.status, r.body)
	}
	for range 3 {
		if r := get("prod", "/other"); r.status != 200 {
			t.Fatalf("within the method's burst: %d %s", r.status, r.body)
		}
	}
	if r := get("prod", "/other"); r.status != 429 {
		t.Errorf("over the method's burst: %d %s", r.status, r.body)
	}
	if r := get("test", "/metered"); r.status != 403 {
		t.Errorf("a stage the key's stageKeys do not name: %d %s", r.status, r.body)
	}
	uk, err := ag.UpdateApiKey(ctx, &apigateway.UpdateApiKeyInput{ApiKey: k.Id, PatchOperations: []agtypes.PatchOperation{
		{Op: agtypes.OpAdd, Path: aws.String("/stages"), Value: aws.String(id + "/test")}}})
	if err != nil || len(uk.StageKeys) != 2 {
		t.Fatalf("UpdateApiKey add /stages: %+v, %v", uk, err)
	}
	if r := get("test", "/metered"); r.status != 200 {
		t.Errorf("a stage added to the key's stageKeys: %d %s", r.status, r.body)
	}
	_, err = ag.UpdateApiKey(ctx, &apigateway.UpdateApiKeyInput{ApiKey: k.Id, PatchOperations: []agtypes.PatchOperation{
		{Op: agtypes.OpAdd, Path: aws.String("/stages"), Value: aws.String(id + "/nope")}}})
	wantAPIError(t, "UpdateApiKey add a missing stage", err, "NotFoundException", "Invalid stage identifier specified")
	_, err = ag.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: aws.String(id), StageName: aws.String("prod"), PatchOperations: []agtypes.PatchOperation{
		replace("/*/*/throttling/rateLimit", "fast")}})
	wantAPIError(t, "a bad rate", err, "BadRequestException", "Invalid value 'fast'")
	st, err = ag.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: aws.String(id), StageName: aws.String("prod"), PatchOperations: []agtypes.PatchOperation{
		{Op: agtypes.OpRemove, Path: aws.String("/*/*")}, {Op: agtypes.OpRemove, Path: aws.String("/other/GET")}}})
	if err != nil || len(st.MethodSettings) != 0 {
		t.Fatalf("removing the method settings: %+v, %v", st, err)
	}
	if r := get("prod", "/metered"); r.status != 200 {
		t.Errorf("without method settings: %d %s", r.status, r.body)
	}
}
