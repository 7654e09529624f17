package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// seedTemplate is the seed's mapping template made valid: Kinesis wants Data in base64.
const seedTemplate = `{
    "StreamName": "my-data-stream",
    "Data": "$util.base64Encode($input.body)",
    "PartitionKey": "$context.requestId"
}`

// awsJSON runs the AWS CLI in us-east-1 and decodes its JSON output into v.
func awsJSON(t *testing.T, endpoint string, v any, args ...string) {
	t.Helper()
	out := runAWS(t, endpoint, "us-east-1", append([]string{"--output", "json"}, args...)...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("aws %s: not JSON: %q", strings.Join(args, " "), out)
	}
}

// wantAWSError runs a CLI command that must fail with an API Gateway error of that code and
// a message containing msg.
func wantAWSError(t *testing.T, endpoint, code, msg string, args ...string) {
	t.Helper()
	out, stderr, err := tryAWS(endpoint, "us-east-1", args...)
	if err == nil || !strings.Contains(stderr, "("+code+")") || !strings.Contains(stderr, msg) {
		t.Errorf("aws %s: %v %q %q, want %s containing %q", strings.Join(args, " "), err, out, stderr, code, msg)
	}
}

// postSeed sends what the seed's Java client sends to invoke URL u.
func postSeed(t *testing.T, u, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(u, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// javaSeedClient compiles the seed's Java client (examples/seed/java) and returns a function
// that runs it against an invoke URL and returns what it printed; nil without a JDK.
func javaSeedClient(t *testing.T) func(url string) string {
	t.Helper()
	javac, err1 := exec.LookPath("javac")
	java, err2 := exec.LookPath("java")
	if err1 != nil || err2 != nil {
		return nil
	}
	classes := t.TempDir()
	if out, err := exec.Command(javac, "-d", classes, "../../examples/seed/java/KinesisDataStreamExample.java").CombinedOutput(); err != nil {
		t.Fatalf("javac: %v\n%s", err, out)
	}
	return func(url string) string {
		out, err := exec.Command(java, "-cp", classes, "KinesisDataStreamExample", url).CombinedOutput()
		if err != nil {
			t.Fatalf("java: %v\n%s", err, out)
		}
		return string(out)
	}
}

// TestSeedStepsWithAWSCLI replays the seed's console steps as `aws apigateway` commands
// (create-rest-api, get-resources, create-resource, put-method, put-integration,
// put-method-response, put-integration-response, create-deployment) against the binary that
// runs the seed's stream, delivery stream and bucket, then sends what the seed's Java client
// sends (the client itself when a JDK is installed): the record is in Kinesis and, after a
// flush, in S3. An edit that is not deployed
// leaves the stage serving its last deployment; after a SIGKILL and a restart on the same
// data dir the API is still there and still answers.
func TestSeedStepsWithAWSCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED: starts the race-built binary twice and runs the AWS CLI thirty times")
	}
	if _, err := os.Stat(awsCLI); err != nil {
		t.Skip("AWS CLI v2 not installed (.ci/run installs Debian's awscli)")
	}
	args := []string{"--data-dir", t.TempDir(), "--config", "../../examples/seed/localpipe.yaml"}
	s := start(t, args...)
	ep := s.endpoint

	// 2. Create a new REST API.
	var api struct {
		ID, Name              string
		EndpointConfiguration struct{ Types []string }
	}
	awsJSON(t, ep, &api, "apigateway", "create-rest-api", "--name", "seed-cli", "--description", "the seed, step by step")
	if !regexp.MustCompile(`^[a-z0-9]{10}$`).MatchString(api.ID) || api.Name != "seed-cli" || len(api.EndpointConfiguration.Types) != 1 {
		t.Fatalf("create-rest-api: %+v", api)
	}
	var resources struct {
		Items []struct{ ID, Path, PathPart, ParentID string }
	}
	awsJSON(t, ep, &resources, "apigateway", "get-resources", "--rest-api-id", api.ID)
	if len(resources.Items) != 1 || resources.Items[0].Path != "/" || len(resources.Items[0].ID) != 10 {
		t.Fatalf("get-resources: %+v", resources)
	}
	root := resources.Items[0].ID

	// 3. Add a POST method on /stream.
	var res struct{ ID, Path, PathPart, ParentID string }
	awsJSON(t, ep, &res, "apigateway", "create-resource", "--rest-api-id", api.ID, "--parent-id", root, "--path-part", "stream")
	if res.Path != "/stream" || res.ParentID != root || len(res.ID) != 6 {
		t.Fatalf("create-resource: %+v", res)
	}
	wantAWSError(t, ep, "ConflictException", "Another resource with the same parent already has this name: stream",
		"apigateway", "create-resource", "--rest-api-id", api.ID, "--parent-id", root, "--path-part", "stream")
	wantAWSError(t, ep, "NotFoundException", "Invalid Resource identifier specified",
		"apigateway", "create-resource", "--rest-api-id", api.ID, "--parent-id", "nope00", "--path-part", "x")
	method := []string{"--rest-api-id", api.ID, "--resource-id", res.ID, "--http-method", "POST"}
	var m struct{ HTTPMethod, AuthorizationType string }
	awsJSON(t, ep, &m, append([]string{"apigateway", "put-method", "--authorization-type", "NONE"}, method...)...)
	if m.HTTPMethod != "POST" || m.AuthorizationType != "NONE" {
		t.Fatalf("put-method: %+v", m)
	}

	// 4, 5. An AWS service integration to Kinesis PutRecord with the mapping template. A
	// template that does not parse is refused at this call, as API Gateway does, and leaves
	// the method without an integration.
	integration := append([]string{"apigateway", "put-integration", "--type", "AWS", "--integration-http-method", "POST",
		"--uri", "arn:aws:apigateway:us-east-1:kinesis:action/PutRecord",
		"--credentials", "arn:aws:iam::000000000000:role/apigateway-kinesis", "--passthrough-behavior", "WHEN_NO_TEMPLATES"}, method...)
	bad, _ := json.Marshal(map[string]string{"application/json": strings.Replace(seedTemplate, "($input.body)", "($input.body", 1)})
	wantAWSError(t, ep, "BadRequestException", "Invalid mapping template specified", append(integration, "--request-templates", string(bad))...)
	wantAWSError(t, ep, "NotFoundException", "No integration defined for method", append([]string{"apigateway", "get-integration"}, method...)...)
	good, _ := json.Marshal(map[string]string{"application/json": seedTemplate})
	var in struct {
		Type, URI        string
		RequestTemplates map[string]string
	}
	awsJSON(t, ep, &in, append(integration, "--request-templates", string(good))...)
	if in.Type != "AWS" || in.RequestTemplates["application/json"] != seedTemplate {
		t.Fatalf("put-integration: %+v", in)
	}
	var mr struct{ StatusCode string }
	awsJSON(t, ep, &mr, append([]string{"apigateway", "put-method-response", "--status-code", "200"}, method...)...)
	var ir struct{ StatusCode string }
	awsJSON(t, ep, &ir, append([]string{"apigateway", "put-integration-response", "--status-code", "200", "--selection-pattern", ""}, method...)...)
	if mr.StatusCode != "200" || ir.StatusCode != "200" {
		t.Fatalf("put-method-response %+v, put-integration-response %+v", mr, ir)
	}

	// 6. Deploy to prod: the invoke URL answers as soon as the call returns.
	var dep struct{ ID string }
	awsJSON(t, ep, &dep, "apigateway", "create-deployment", "--rest-api-id", api.ID, "--stage-name", "prod")
	var stage struct{ StageName, DeploymentID string }
	awsJSON(t, ep, &stage, "apigateway", "get-stage", "--rest-api-id", api.ID, "--stage-name", "prod")
	if dep.ID == "" || stage.DeploymentID != dep.ID || stage.StageName != "prod" {
		t.Fatalf("create-deployment %+v, get-stage %+v", dep, stage)
	}
	var patched struct{ Description string }
	awsJSON(t, ep, &patched, "apigateway", "update-stage", "--rest-api-id", api.ID, "--stage-name", "prod",
		"--patch-operations", "op=replace,path=/description,value=seed-stage")
	if patched.Description != "seed-stage" {
		t.Errorf("update-stage: %+v", patched)
	}
	wantAWSError(t, ep, "BadRequestException", "Invalid patch path '/descriptions'",
		"apigateway", "update-stage", "--rest-api-id", api.ID, "--stage-name", "prod", "--patch-operations", "op=replace,path=/descriptions,value=x")
	invoke := ep + "/restapis/" + api.ID + "/prod/_user_request_/stream"
	body := `{ "message": "Hello, Kinesis!" }`
	if java := javaSeedClient(t); java != nil {
		if out := java(invoke); !strings.Contains(out, "Response Code: 200") {
			t.Fatalf("the seed's Java client printed:\n%s", out)
		}
	} else if code, out := postSeed(t, invoke, body); code != 200 || !strings.Contains(out, "SequenceNumber") {
		t.Fatalf("POST %s: %d %s", invoke, code, out)
	}
	found := false
	for _, r := range readShard(t, kinesisClient(ep), "my-data-stream", "shardId-000000000000") {
		found = found || string(r.Data) == body
	}
	if !found {
		t.Fatalf("the record is not in my-data-stream")
	}
	keys := s.flush(t, "my-firehose-stream")
	if len(keys) != 1 {
		t.Fatalf("flush wrote %v", keys)
	}
	zr, err := gzip.NewReader(bytes.NewReader(getObject(t, s3Client(ep), "my-delivery-bucket", keys[0])))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(zr); !strings.Contains(string(got), body) {
		t.Fatalf("the delivered object holds %q, want %q in it", got, body)
	}

	// An edit that is not deployed changes nothing the stage serves; deploying it is refused
	// while the method has no integration.
	runAWS(t, ep, "us-east-1", append([]string{"apigateway", "delete-integration"}, method...)...)
	if code, out := postSeed(t, invoke, body); code != 200 {
		t.Fatalf("POST after an undeployed edit: %d %s", code, out)
	}
	wantAWSError(t, ep, "BadRequestException", "No integration defined for method",
		"apigateway", "create-deployment", "--rest-api-id", api.ID, "--stage-name", "prod")
	awsJSON(t, ep, &in, append(integration, "--request-templates", string(good))...)

	// The process dies without warning; what was answered is there after the restart.
	s.kill()
	s = start(t, args...)
	ep = s.endpoint
	invoke = ep + "/restapis/" + api.ID + "/prod/_user_request_/stream"
	if code, out := postSeed(t, invoke, body); code != 200 || !strings.Contains(out, "SequenceNumber") {
		t.Fatalf("POST after restart: %d %s", code, out)
	}
	awsJSON(t, ep, &in, append([]string{"apigateway", "get-integration"}, method...)...)
	if in.RequestTemplates["application/json"] != seedTemplate {
		t.Errorf("get-integration after restart: %+v", in)
	}
	var stages struct {
		Item []struct{ StageName, DeploymentID string }
	}
	awsJSON(t, ep, &stages, "apigateway", "get-stages", "--rest-api-id", api.ID)
	if len(stages.Item) != 1 || stages.Item[0].DeploymentID != dep.ID {
		t.Errorf("get-stages after restart: %+v", stages)
	}

	// Deleting the resource takes its method with it; deleting the API takes its stages.
	runAWS(t, ep, "us-east-1", "apigateway", "delete-resource", "--rest-api-id", api.ID, "--resource-id", res.ID)
	wantAWSError(t, ep, "NotFoundException", "Invalid Resource identifier specified", append([]string{"apigateway", "get-method"}, method...)...)
	runAWS(t, ep, "us-east-1", "apigateway", "delete-rest-api", "--rest-api-id", api.ID)
	wantAWSError(t, ep, "NotFoundException", "Invalid API identifier specified", "apigateway", "get-rest-api", "--rest-api-id", api.ID)
	if code, out := postSeed(t, invoke, body); code != 403 || !strings.Contains(out, "Missing Authentication Token") {
		t.Errorf("POST after delete-rest-api: %d %s", code, out)
	}
}
