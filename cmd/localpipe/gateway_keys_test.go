package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// meteredOpenAPI is an API with one MOCK method that requires an API key.
const meteredOpenAPI = `{
  "openapi": "3.0.1",
  "info": {"title": "metered-cli", "version": "1"},
  "paths": {"/hello": {"get": {
    "security": [{"api_key": []}],
    "responses": {"200": {"description": "ok"}},
    "x-amazon-apigateway-integration": {"type": "mock", "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
      "responses": {"default": {"statusCode": "200", "responseTemplates": {"application/json": "{\"hello\": \"$context.identity.apiKeyId\"}"}}}}
  }}},
  "components": {"securitySchemes": {"api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"}}}
}`

// TestUsagePlansWithAWSCLI builds API keys and usage plans with `aws apigateway` (import-rest-api,
// create-api-key, import-api-keys, create-usage-plan, create-usage-plan-key, get-usage,
// update-usage, tag-resource, get-export, test-invoke-method, get-sdk), checks that the
// invoke URL enforces them, that a clean stop keeps the usage counts, and that after a
// SIGKILL and a restart the keys, the plan and the tags are still there and still enforced.
func TestUsagePlansWithAWSCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED: starts the race-built binary twice and runs the AWS CLI twenty times")
	}
	if _, err := os.Stat(awsCLI); err != nil {
		t.Skip("AWS CLI v2 not installed (.ci/run installs Debian's awscli)")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "api.json"), []byte(meteredOpenAPI), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--data-dir", filepath.Join(dir, "data")}
	s := start(t, args...)
	ep := s.endpoint
	var api struct{ ID string }
	awsJSON(t, ep, &api, "apigateway", "import-rest-api", "--body", "fileb://"+filepath.Join(dir, "api.json"), "--fail-on-warnings")
	var dep struct{ ID string }
	awsJSON(t, ep, &dep, "apigateway", "create-deployment", "--rest-api-id", api.ID, "--stage-name", "prod")
	invoke := func(key string) (int, string) {
		t.Helper()
		req, err := http.NewRequest("GET", ep+"/restapis/"+api.ID+"/prod/_user_request_/hello", nil)
		if err != nil {
			t.Fatal(err)
		}
		if key != "" {
			req.Header.Set("x-api-key", key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := invoke(""); code != 403 || body != `{"message":"Forbidden"}` {
		t.Fatalf("no key: %d %s", code, body)
	}

	var key struct {
		ID, Value string
		Enabled   bool
	}
	awsJSON(t, ep, &key, "apigateway", "create-api-key", "--name", "cli-key", "--enabled", "--tags", "team=cli")
	var plan struct{ ID string }
	awsJSON(t, ep, &plan, "apigateway", "create-usage-plan", "--name", "two-a-day",
		"--api-stages", "apiId="+api.ID+",stage=prod", "--quota", "limit=2,period=DAY", "--throttle", "burstLimit=100,rateLimit=100")
	var pk struct{ ID, Type string }
	awsJSON(t, ep, &pk, "apigateway", "create-usage-plan-key", "--usage-plan-id", plan.ID, "--key-id", key.ID, "--key-type", "API_KEY")
	if key.Value == "" || !key.Enabled || pk.ID != key.ID || pk.Type != "API_KEY" {
		t.Fatalf("create-api-key %+v, create-usage-plan-key %+v", key, pk)
	}
	for i := range 2 {
		if code, body := invoke(key.Value); code != 200 || body != `{"hello": "`+key.ID+`"}` {
			t.Fatalf("request %d with the key: %d %s", i, code, body)
		}
	}
	if code, body := invoke(key.Value); code != 429 || body != `{"message":"Limit Exceeded"}` {
		t.Fatalf("over the quota: %d %s", code, body)
	}
	today := time.Now().UTC().Format(time.DateOnly)
	var usage struct {
		UsagePlanID string
		Items       map[string][][]int64
	}
	awsJSON(t, ep, &usage, "apigateway", "get-usage", "--usage-plan-id", plan.ID, "--start-date", today, "--end-date", today)
	if u := usage.Items[key.ID]; len(u) != 1 || u[0][0] != 2 || u[0][1] != 0 {
		t.Errorf("get-usage: %+v", usage)
	}
	// A clean stop saves the counts: after the restart the quota is still spent.
	if code := s.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("exit %d\n%s", code, s.stderr)
	}
	s = start(t, args...)
	ep = s.endpoint
	if code, body := invoke(key.Value); code != 429 || body != `{"message":"Limit Exceeded"}` {
		t.Errorf("over the quota after a clean restart: %d %s", code, body)
	}
	awsJSON(t, ep, &usage, "apigateway", "get-usage", "--usage-plan-id", plan.ID, "--key-id", key.ID, "--start-date", today, "--end-date", today)
	if u := usage.Items[key.ID]; len(u) != 1 || u[0][0] != 2 {
		t.Errorf("get-usage after a clean restart: %+v", usage)
	}
	awsJSON(t, ep, &usage, "apigateway", "update-usage", "--usage-plan-id", plan.ID, "--key-id", key.ID,
		"--patch-operations", "op=replace,path=/remaining,value=5")
	if code, _ := invoke(key.Value); code != 200 {
		t.Errorf("after update-usage: %d", code)
	}

	csv := filepath.Join(dir, "keys.csv")
	if err := os.WriteFile(csv, []byte("Name,Key,UsagePlanIds\nimported,imported-key-value-0123456789,"+plan.ID+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var imp struct{ IDs []string }
	awsJSON(t, ep, &imp, "apigateway", "import-api-keys", "--body", "fileb://"+csv, "--format", "csv")
	if len(imp.IDs) != 1 {
		t.Fatalf("import-api-keys: %+v", imp)
	}
	arn := "arn:aws:apigateway:us-east-1::/restapis/" + api.ID
	cli(t, ep, "apigateway", "tag-resource", "--resource-arn", arn, "--tags", "env=dev,drop=me")
	cli(t, ep, "apigateway", "untag-resource", "--resource-arn", arn, "--tag-keys", "drop")

	// The reads and updates of keys, plans and plan keys.
	var updated struct{ Name, Description string }
	awsJSON(t, ep, &updated, "apigateway", "update-api-key", "--api-key", key.ID, "--patch-operations", "op=replace,path=/description,value=from the CLI")
	if updated.Name != "cli-key" || updated.Description != "from the CLI" {
		t.Errorf("update-api-key: %+v", updated)
	}
	var plans struct{ Items []struct{ ID, Name string } }
	awsJSON(t, ep, &plans, "apigateway", "get-usage-plans", "--key-id", key.ID)
	if len(plans.Items) != 1 || plans.Items[0].ID != plan.ID {
		t.Errorf("get-usage-plans --key-id: %+v", plans)
	}
	var up struct {
		Name     string
		Throttle struct{ BurstLimit int }
	}
	awsJSON(t, ep, &up, "apigateway", "update-usage-plan", "--usage-plan-id", plan.ID,
		"--patch-operations", "op=replace,path=/name,value=renamed", "op=replace,path=/throttle/burstLimit,value=50")
	awsJSON(t, ep, &up, "apigateway", "get-usage-plan", "--usage-plan-id", plan.ID)
	if up.Name != "renamed" || up.Throttle.BurstLimit != 50 {
		t.Errorf("update-usage-plan, get-usage-plan: %+v", up)
	}
	var pks struct{ Items []struct{ ID, Name string } }
	awsJSON(t, ep, &pks, "apigateway", "get-usage-plan-keys", "--usage-plan-id", plan.ID)
	awsJSON(t, ep, &pk, "apigateway", "get-usage-plan-key", "--usage-plan-id", plan.ID, "--key-id", key.ID)
	if len(pks.Items) != 2 || pk.ID != key.ID {
		t.Errorf("get-usage-plan-keys %+v, get-usage-plan-key %+v", pks, pk)
	}
	var spare struct{ ID string }
	awsJSON(t, ep, &spare, "apigateway", "create-usage-plan", "--name", "spare")
	cli(t, ep, "apigateway", "delete-usage-plan", "--usage-plan-id", spare.ID)
	wantAWSError(t, ep, "NotFoundException", "Invalid Usage Plan ID specified", "apigateway", "get-usage-plan", "--usage-plan-id", spare.ID)

	var export struct {
		OpenAPI string
		Paths   map[string]map[string]map[string]any
	}
	out := filepath.Join(dir, "export.json")
	cli(t, ep, "apigateway", "get-export", "--rest-api-id", api.ID, "--stage-name", "prod", "--export-type", "oas30",
		"--parameters", "extensions=integrations", out)
	if b, err := os.ReadFile(out); err != nil || json.Unmarshal(b, &export) != nil || export.OpenAPI != "3.0.1" ||
		export.Paths["/hello"]["get"]["x-amazon-apigateway-integration"] == nil {
		t.Errorf("get-export: %+v, %v", export, err)
	}
	var tested struct {
		Status int
		Body   string
		Log    string
	}
	var res struct{ Items []struct{ ID, Path string } }
	awsJSON(t, ep, &res, "apigateway", "get-resources", "--rest-api-id", api.ID)
	hello := ""
	for _, r := range res.Items {
		if r.Path == "/hello" {
			hello = r.ID
		}
	}
	awsJSON(t, ep, &tested, "apigateway", "test-invoke-method", "--rest-api-id", api.ID, "--resource-id", hello, "--http-method", "GET")
	if tested.Status != 200 || !strings.Contains(tested.Log, "Method completed with status: 200") {
		t.Errorf("test-invoke-method: %+v", tested)
	}
	wantAWSError(t, ep, "NotImplementedException", "does not implement GetSdk",
		"apigateway", "get-sdk", "--rest-api-id", api.ID, "--stage-name", "prod", "--sdk-type", "javascript", filepath.Join(dir, "sdk.zip"))

	// The process dies without warning; keys, plan and tags are there after the restart.
	s.kill()
	s = start(t, args...)
	ep = s.endpoint
	for _, k := range []string{key.Value, "imported-key-value-0123456789"} {
		if code, body := invoke(k); code != 200 {
			t.Errorf("after the restart, key %s: %d %s", k, code, body)
		}
	}
	if code, _ := invoke("not-a-key-value-at-all-000"); code != 403 {
		t.Errorf("after the restart, an unknown key: %d", code)
	}
	var keys struct {
		Items []struct{ ID, Name, Value string }
	}
	awsJSON(t, ep, &keys, "apigateway", "get-api-keys", "--include-values")
	if len(keys.Items) != 2 {
		t.Errorf("get-api-keys after the restart: %+v", keys)
	}
	var tags struct{ Tags map[string]string }
	awsJSON(t, ep, &tags, "apigateway", "get-tags", "--resource-arn", arn)
	if tags.Tags["env"] != "dev" || len(tags.Tags) != 1 {
		t.Errorf("get-tags after the restart: %+v", tags)
	}
	cli(t, ep, "apigateway", "delete-usage-plan-key", "--usage-plan-id", plan.ID, "--key-id", key.ID)
	if code, _ := invoke(key.Value); code != 403 {
		t.Errorf("a key taken out of the plan: %d", code)
	}
	cli(t, ep, "apigateway", "delete-api-key", "--api-key", key.ID)
	wantAWSError(t, ep, "NotFoundException", "Invalid API Key identifier specified", "apigateway", "get-api-key", "--api-key", key.ID)
}
