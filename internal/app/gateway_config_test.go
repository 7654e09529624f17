package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/localpipe/localpipe/gateway"
)

const miniDoc = `{"openapi":"3.0.1","info":{"title":"t","version":"1"},"paths":{"/p":{"get":{"responses":{"200":{"description":"ok"}},"x-amazon-apigateway-integration":{"type":"mock","requestTemplates":{"application/json":"{\"statusCode\": 200}"},"responses":{"default":{"statusCode":"200"}}}}}}}`

func TestParseRestAPIBadInputs(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte("openapi: 3.0.1\ninfo: {title: t, version: '1'}\npaths:\n  /p:\n    post:\n      x-amazon-apigateway-integration: {type: frob}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "ok.json"), []byte(miniDoc), 0o644)
	for _, tc := range []struct{ name, in, want string }{
		{"unknown field", `{"name":"a","openapiFile":"x","stages":[{"stageName":"p"}]}`, "unknown field"},
		{"not an object", `[]`, "cannot unmarshal"},
		{"bad id charset", `{"name":"a","id":"Seed-API-1","openapi":"ok.json","stages":[{"stageName":"p"}]}`, "10 lower-case letters or digits"},
		{"id too short", `{"name":"a","id":"abc","openapi":"ok.json","stages":[{"stageName":"p"}]}`, "10 lower-case"},
		{"no stages", `{"name":"a","openapi":"ok.json"}`, "no stages"},
		{"bad stage name", `{"name":"a","openapi":"ok.json","stages":[{"stageName":"pr od"}]}`, "stageName"},
		{"empty stage name", `{"name":"a","openapi":"ok.json","stages":[{}]}`, "stageName"},
		{"duplicate stage", `{"name":"a","openapi":"ok.json","stages":[{"stageName":"p"},{"stageName":"p"}]}`, "twice"},
		{"bad variable name", `{"name":"a","openapi":"ok.json","stages":[{"stageName":"p","variables":{"a-b":"x"}}]}`, "stage variable"},
		{"bad variable value", `{"name":"a","openapi":"ok.json","stages":[{"stageName":"p","variables":{"a":"x y"}}]}`, "stage variable"},
		{"empty variable value", `{"name":"a","openapi":"ok.json","stages":[{"stageName":"p","variables":{"a":""}}]}`, "stage variable"},
		{"no document", `{"name":"a","stages":[{"stageName":"p"}]}`, "openapi: FILE"},
		{"both documents", `{"name":"a","openapi":"ok.json","body":{"a":1},"stages":[{"stageName":"p"}]}`, "not both"},
		{"missing file", `{"name":"a","openapi":"nope.yaml","stages":[{"stageName":"p"}]}`, "nope.yaml"},
		{"invalid extension names path and method", `{"name":"a","openapi":"bad.yaml","stages":[{"stageName":"p"}]}`, "POST /p"},
		{"inline body not a document", `{"name":"a","body":"hello","stages":[{"stageName":"p"}]}`, "invalid OpenAPI"},
		{"no name and no title", `{"body":{"openapi":"3.0.1","info":{"version":"1"},"paths":{}},"stages":[{"stageName":"p"}]}`, "name"},
	} {
		_, _, err := parseRestAPI([]byte(tc.in), dir)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
	api, stages, err := parseRestAPI([]byte(`{"name":"mine","openapi":"ok.json","stages":[{"stageName":"prod","variables":{"v":"a/b:c"}},{"stageName":"dev"}]}`), dir)
	if err != nil {
		t.Fatal(err)
	}
	if api.Name != "mine" || api.ID != "" || len(stages) != 2 || stages[0].Variables["v"] != "a/b:c" {
		t.Fatalf("%+v %+v", api, stages)
	}
	api, _, err = parseRestAPI([]byte(`{"id":"abcdefghij","body":`+miniDoc+`,"stages":[{"stageName":"prod"}]}`), dir)
	if err != nil || api.ID != "abcdefghij" || api.Name != "t" {
		t.Fatalf("inline body: %v %+v", err, api)
	}
	// The body may also be the document's text, as YAML writers like to keep it.
	if _, _, err := parseRestAPI([]byte(`{"name":"s","body":`+jsonString(miniDoc)+`,"stages":[{"stageName":"prod"}]}`), dir); err != nil {
		t.Fatal(err)
	}
}

func jsonString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func TestParseAPIKeyBadInputs(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"unknown field", `{"name":"k","value":"0123456789abcdefghij","stages":["x"]}`, "unknown field"},
		{"no name", `{"value":"0123456789abcdefghij"}`, "name"},
		{"short value", `{"name":"k","value":"short"}`, "20 to 128"},
		{"no value", `{"name":"k"}`, "20 to 128"},
		{"half a stage key", `{"name":"k","value":"0123456789abcdefghij","stageKeys":[{"restApiId":"abcdefghij"}]}`, "stageName"},
		{"not an object", `"k"`, "cannot unmarshal"},
	} {
		if _, _, err := parseAPIKey([]byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
	k, on, err := parseAPIKey([]byte(`{"name":"k","value":"0123456789abcdefghij","stageKeys":[{"restApiId":"abcdefghij","stageName":"prod"}]}`))
	if err != nil || !on || k.Value != "0123456789abcdefghij" || len(k.Stages) != 1 || k.Stages[0] != "abcdefghij/prod" {
		t.Fatalf("%v %v %+v", err, on, k)
	}
	if _, on, _ := parseAPIKey([]byte(`{"name":"k","value":"0123456789abcdefghij","enabled":false}`)); on {
		t.Fatal("enabled: false was enabled")
	}
}

// TestRestAPIConfigErrorsFailStart: a bad restApis entry stops Open with a message naming
// the entry, and the data dir is released.
func TestRestAPIConfigErrorsFailStart(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte("openapi: 3.0.1\ninfo: {title: t, version: '1'}\npaths:\n  /things/{id}:\n    get:\n      x-amazon-apigateway-authorizer: {}\n      x-amazon-apigateway-integration: {type: mock}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "badtemplate.yaml"), []byte("openapi: 3.0.1\ninfo: {title: t, version: '1'}\npaths:\n  /p:\n    post:\n      responses: {}\n      x-amazon-apigateway-integration:\n        type: mock\n        requestTemplates: {application/json: '#if($x'}\n        responses: {default: {statusCode: '200'}}\n"), 0o644)
	for _, tc := range []struct{ name, cfg, want string }{
		{"bad document", "restApis:\n  - name: a\n    openapi: bad.yaml\n    stages: [{stageName: prod}]\n", "restApis[0] (" + filepath.Join(dir, "bad.yaml") + "): invalid OpenAPI document:\n  GET /things/{id}: x-amazon-apigateway-authorizer"},
		{"template that does not parse fails deploy", "restApis:\n  - name: a\n    openapi: badtemplate.yaml\n    stages: [{stageName: prod}]\n", "POST /p"},
		{"duplicate names", "restApis:\n  - {name: a, body: " + miniDoc + ", stages: [{stageName: p}]}\n  - {name: a, body: " + miniDoc + ", stages: [{stageName: p}]}\n", "taken by restApis[0]"},
		{"duplicate ids", "restApis:\n  - {name: a, id: abcdefghij, body: " + miniDoc + ", stages: [{stageName: p}]}\n  - {name: b, id: abcdefghij, body: " + miniDoc + ", stages: [{stageName: p}]}\n", "taken by restApis[0]"},
		{"stage key to an unknown stage", "restApis:\n  - {name: a, id: abcdefghij, body: " + miniDoc + ", stages: [{stageName: p}]}\napiKeys:\n  - {name: k, value: 0123456789abcdefghij, stageKeys: [{restApiId: abcdefghij, stageName: q}]}\n", `no API "abcdefghij" with a stage "q"`},
		{"stage key to an unknown API", "apiKeys:\n  - {name: k, value: 0123456789abcdefghij, stageKeys: [{restApiId: zzz, stageName: q}]}\n", "apiKeys[0]: stageKeys[0]"},
		{"duplicate key names", "apiKeys:\n  - {name: k, value: 0123456789abcdefghij}\n  - {name: k, value: 0123456789abcdefghik}\n", "apiKeys[1]"},
	} {
		path := filepath.Join(dir, "c.yaml")
		os.WriteFile(path, []byte(tc.cfg), 0o644)
		cfg := DefaultConfig()
		cfg.DataDir, cfg.ConfigFile = filepath.Join(dir, "data"), path
		a, err := Open(cfg, nil)
		if err == nil {
			a.Shutdown(t.Context())
			t.Errorf("%s: started", tc.name)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestGeneratedIDIsStable: an API configured without an id keeps the id it got on the
// first start, so its invoke URLs do not change.
func TestGeneratedIDIsStable(t *testing.T) {
	dir := t.TempDir()
	res := &Resources{RestApis: []json.RawMessage{json.RawMessage(`{"name":"no-id","body":` + miniDoc + `,"stages":[{"stageName":"prod"}]}`)}}
	var ids []string
	for range 2 {
		cfg := DefaultConfig()
		cfg.DataDir, cfg.Listen, cfg.Resources = dir, "127.0.0.1:0", res
		a, err := Open(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		d := a.gw.Deployments()
		if len(d) != 1 || d[0].Name != "no-id" || d[0].Stage != "prod" {
			t.Fatalf("deployments: %+v", d)
		}
		ids = append(ids, d[0].APIID)
		a.Shutdown(t.Context())
	}
	if ids[0] != ids[1] || !gateway.IsRestAPIID(ids[0]) {
		t.Fatalf("ids across restarts: %q", ids)
	}
}

func FuzzParseRestAPI(f *testing.F) {
	f.Add(`{"name":"a","body":` + miniDoc + `,"stages":[{"stageName":"p","variables":{"a":"b"}}]}`)
	f.Add(`{"name":"a","id":"abcdefghij","body":"openapi: 3.0.1","stages":[{"stageName":"p"}]}`)
	f.Add(`{"stages":[{"stageName":"p"}],"body":{"swagger":"2.0","paths":{"/{a+}":{"x-amazon-apigateway-any-method":{}}}}}`)
	f.Fuzz(func(t *testing.T, s string) {
		api, _, err := parseRestAPI([]byte(s), t.TempDir())
		if err == nil && api.Name == "" {
			t.Fatal("accepted an API without a name")
		}
	})
}

func FuzzParseAPIKey(f *testing.F) {
	f.Add(`{"name":"k","value":"0123456789abcdefghij"}`)
	f.Add(`{"name":"k","value":"0123456789abcdefghij","enabled":false,"stageKeys":[{"restApiId":"a","stageName":"b"}]}`)
	f.Fuzz(func(t *testing.T, s string) {
		parseAPIKey([]byte(s))
	})
}
