package gatewayapi

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// memStore is a Store in memory, for tests of the gateway alone; internal/app's is bbolt.
type memStore struct {
	mu      sync.Mutex
	docs    map[string][]byte
	account []byte
	usage   []byte
}

func newMemStore() *memStore { return &memStore{docs: map[string][]byte{}} }

func (m *memStore) LoadAPIs() (map[string][]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.docs), nil
}

func (m *memStore) SaveAPI(id string, doc []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.docs[id] = bytes.Clone(doc)
	return nil
}

func (m *memStore) DeleteAPI(id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.docs, id)
	return nil
}

// ctl sends one control-plane request to s and decodes a JSON answer.
func ctl(t testing.TB, s *Server, method, path, body string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, "http://localhost"+path, strings.NewReader(body))
	w := httptest.NewRecorder()
	s.ServeControl(w, req)
	out := map[string]any{}
	if w.Body.Len() > 0 {
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s %s: the answer is not JSON: %q", method, path, w.Body)
		}
	}
	return w.Code, out
}

// fuzzIDs are the ids of the API buildAPIForTest makes.
type fuzzIDs struct{ api, root, res string }

// buildAPIForTest makes an API with POST /stream (a MOCK integration answering 200) and
// deploys it at prod.
func buildAPIForTest(t testing.TB, s *Server) fuzzIDs {
	t.Helper()
	var ids fuzzIDs
	must := func(want int, method, path, body string) map[string]any {
		t.Helper()
		code, out := ctl(t, s, method, path, body)
		if code != want {
			t.Fatalf("%s %s: %d %v", method, path, code, out)
		}
		return out
	}
	ids.api = must(201, "POST", "/restapis", `{"name": "fuzz"}`)["id"].(string)
	ids.root = must(200, "GET", "/restapis/"+ids.api, "")["rootResourceId"].(string)
	ids.res = must(201, "POST", "/restapis/"+ids.api+"/resources/"+ids.root, `{"pathPart": "stream"}`)["id"].(string)
	m := "/restapis/" + ids.api + "/resources/" + ids.res + "/methods/POST"
	must(201, "PUT", m, `{"authorizationType": "NONE"}`)
	must(201, "PUT", m+"/responses/200", `{}`)
	must(201, "PUT", m+"/integration", `{"type": "MOCK", "requestTemplates": {"application/json": "{\"statusCode\": 200}"}}`)
	must(201, "PUT", m+"/integration/responses/200", `{"responseTemplates": {"application/json": "{\"ok\": true}"}}`)
	must(201, "POST", "/restapis/"+ids.api+"/deployments", `{"stageName": "prod"}`)
	return ids
}

func invokeStream(s *Server, apiID, stage string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", "http://localhost/restapis/"+apiID+"/"+stage+"/_user_request_/stream", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	return w
}

// TestControlPlaneReopen checks that a Server opened on the store another one wrote
// serves the same stages and describes the same model, and that a stored document that
// does not decode is left out, logged, without stopping the others.
func TestControlPlaneReopen(t *testing.T) {
	st := newMemStore()
	s := NewServer(Options{})
	if err := s.OpenControlPlane(st); err != nil {
		t.Fatal(err)
	}
	ids := buildAPIForTest(t, s)
	// An undeployed edit: the reopened server must serve the deployment, not the model.
	m := "/restapis/" + ids.api + "/resources/" + ids.res + "/methods/POST/integration/responses/200"
	if code, out := ctl(t, s, "PUT", m, `{"responseTemplates": {"application/json": "{\"ok\": false}"}}`); code != 201 {
		t.Fatalf("PutIntegrationResponse: %d %v", code, out)
	}
	st.docs["broken0000"] = []byte(`{"v": 1, "id": "broken0000"`)

	s2 := NewServer(Options{})
	if err := s2.OpenControlPlane(st); err != nil {
		t.Fatal(err)
	}
	if w := invokeStream(s2, ids.api, "prod"); w.Code != 200 || w.Body.String() != `{"ok": true}` {
		t.Errorf("invoke after reopening: %d %s", w.Code, w.Body)
	}
	_, before := ctl(t, s, "GET", "/restapis/"+ids.api+"/resources?embed=methods", "")
	_, after := ctl(t, s2, "GET", "/restapis/"+ids.api+"/resources?embed=methods", "")
	if b, a := mustJSON(t, before), mustJSON(t, after); b != a {
		t.Errorf("the model differs after reopening:\nbefore %s\nafter  %s", b, a)
	}
	if code, _ := ctl(t, s2, "GET", "/restapis/broken0000", ""); code != 404 {
		t.Errorf("GetRestApi of the broken document: %d", code)
	}
	if d := s2.Deployments(); len(d) != 1 || d[0].APIID != ids.api || d[0].Stage != "prod" {
		t.Errorf("Deployments: %+v", d)
	}
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// FuzzControlPlane sends one arbitrary request to a control plane holding a deployed API,
// whose ids replace {api}, {root} and {res} in the path. The answer must be a status the
// model lists with a JSON error body, and whatever was accepted must leave every API
// buildable, the store equal to what is served, and the deployed stage still answering.
func FuzzControlPlane(f *testing.F) {
	for _, seed := range [][3]string{
		{"POST", "/restapis", `{"name": "x", "endpointConfiguration": {"types": ["REGIONAL"]}}`},
		{"POST", "/restapis", `{"name": "x", "cloneFrom": "{api}", "binaryMediaTypes": ["*/*"]}`},
		{"POST", "/restapis/{api}/resources/{root}", `{"pathPart": "{proxy+}"}`},
		{"POST", "/restapis/{api}/resources/{res}", `{"pathPart": "{id}"}`},
		{"POST", "/restapis/{api}/resources/{res}", `{"pathPart": "a b"}`},
		{"DELETE", "/restapis/{api}/resources/{res}", ``},
		{"DELETE", "/restapis/{api}/resources/{root}", ``},
		{"PUT", "/restapis/{api}/resources/{res}/methods/GET", `{"authorizationType": "AWS_IAM", "requestParameters": {"method.request.querystring.q": true}}`},
		{"PUT", "/restapis/{api}/resources/{res}/methods/POST/integration", `{"type": "AWS", "httpMethod": "POST", "uri": "arn:aws:apigateway:us-east-1:kinesis:action/PutRecord", "requestTemplates": {"application/json": "#set($x = 1)$x"}}`},
		{"PUT", "/restapis/{api}/resources/{res}/methods/POST/integration", `{"type": "HTTP", "httpMethod": "GET", "uri": "http://127.0.0.1:1/x", "requestParameters": {"integration.request.header.X": "method.request.header.Y"}}`},
		{"PUT", "/restapis/{api}/resources/{res}/methods/POST/integration/responses/400", `{"selectionPattern": "4\\d{2}", "responseParameters": {"method.response.header.X": "'a'"}}`},
		{"PUT", "/restapis/{api}/resources/{res}/methods/POST/responses/404", `{"responseParameters": {"method.response.header.X": false}}`},
		{"DELETE", "/restapis/{api}/resources/{res}/methods/POST/integration", ``},
		{"DELETE", "/restapis/{api}/resources/{res}/methods/POST", ``},
		{"POST", "/restapis/{api}/deployments", `{"stageName": "prod", "variables": {"a": "b"}}`},
		{"POST", "/restapis/{api}/stages", `{"stageName": "two", "deploymentId": "x"}`},
		{"DELETE", "/restapis/{api}/stages/prod", ``},
		{"DELETE", "/restapis/{api}", ``},
		{"POST", "/restapis/{api}/models", `{"name": "M", "contentType": "application/json", "schema": "{\"$ref\": \"#/definitions/M\"}"}`},
		{"POST", "/restapis/{api}/requestvalidators", `{"name": "all", "validateRequestBody": true, "validateRequestParameters": true}`},
		{"PATCH", "/restapis/{api}/resources/{res}/methods/POST", `{"patchOperations": [{"op": "add", "path": "/requestModels/application~1json", "value": "Empty"}]}`},
		{"PUT", "/restapis/{api}/gatewayresponses/DEFAULT_4XX", `{"statusCode": "418", "responseParameters": {"gatewayresponse.header.X": "'y'"}, "responseTemplates": {"application/json": "{}"}}`},
		{"PATCH", "/restapis/{api}/gatewayresponses/THROTTLED", `{"patchOperations": [{"op": "add", "path": "/responseTemplates/text~1plain", "value": "x"}]}`},
		{"DELETE", "/restapis/{api}/gatewayresponses/THROTTLED", ``},
		{"GET", "/restapis/{api}/resources/{res}/methods/POST/integration/responses/200", ``},
		{"GET", "/restapis/{api}/stages?deploymentId=x", ``},
		{"PATCH", "/restapis/{api}/stages/prod", `{"patchOperations": [{"op": "replace", "path": "/variables/a", "value": "b"}]}`},
		{"PUT", "/restapis/{api}/resources/{res}/methods/POST/integration", `{"type": "MOCK", "timeoutInMillis": 1e9}`},
		{"POST", "/restapis/%7Bapi%7D/resources/{root}", `null`},
		{"POST", "/restapis?mode=import&failonwarnings=true", "openapi: 3.0.1\ninfo: {title: t, version: '1'}\npaths:\n  /p:\n    get:\n      x-amazon-apigateway-integration: {type: mock}\n"},
		{"POST", "/restapis?mode=import&endpointConfigurationTypes=PRIVATE", `{"swagger": "2.0", "info": {"title": "s"}, "paths": {}}`},
		{"PUT", "/restapis/{api}?mode=merge", `{"swagger": "2.0", "info": {"title": "s"}, "paths": {"/stream/{id}": {"get": {}}}}`},
		{"POST", "/restapis/{api}/authorizers", `{"name": "tok", "type": "TOKEN", "authorizerUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/f/invocations", "identitySource": "method.request.header.Authorization"}`},
		{"POST", "/restapis/{api}/authorizers", `{"name": "req", "type": "REQUEST", "authorizerUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/f/invocations", "identitySource": "method.request.querystring.t, context.x", "authorizerResultTtlInSeconds": 0}`},
		{"POST", "/restapis/{api}/authorizers", `{"name": "pool", "type": "COGNITO_USER_POOLS", "providerARNs": ["arn:aws:cognito-idp:us-east-1:1:userpool/p"]}`},
		{"PATCH", "/restapis/{api}/authorizers/xxxxxx", `{"patchOperations": [{"op": "replace", "path": "/authorizerResultTtlInSeconds", "value": "60"}]}`},
		{"POST", "/restapis/{api}/authorizers/xxxxxx", `{"headers": {"Authorization": "t"}, "pathWithQueryString": "/x?y=1"}`},
		{"DELETE", "/restapis/{api}/authorizers/xxxxxx", ``},
		{"PUT", "/restapis/{api}/resources/{res}/methods/GET", `{"authorizationType": "CUSTOM", "authorizerId": "xxxxxx"}`},
		{"PUT", "/restapis/{api}?mode=overwrite", `{"openapi": "3.0.1", "info": {"title": "s"}, "paths": {"/{proxy+}": {}}}`},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	statuses := map[int]bool{200: true, 201: true, 202: true, 204: true, 400: true, 404: true, 409: true}
	f.Fuzz(func(t *testing.T, method, path, body string) {
		st := newMemStore()
		s := NewServer(Options{})
		if err := s.OpenControlPlane(st); err != nil {
			t.Fatal(err)
		}
		ids := buildAPIForTest(t, s)
		path = strings.NewReplacer("{api}", ids.api, "{root}", ids.root, "{res}", ids.res).Replace(path)
		req, err := http.NewRequest(method, "http://localhost"+path, strings.NewReader(body))
		if err != nil || !ControlTarget(req) {
			return
		}
		w := httptest.NewRecorder()
		s.ServeControl(w, req)
		if !statuses[w.Code] {
			t.Fatalf("%s %s %q: status %d %s", method, path, body, w.Code, w.Body)
		}
		if w.Code >= 400 {
			var e struct{ Message string }
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Message == "" || len(w.Header()["x-amzn-ErrorType"]) == 0 {
				t.Fatalf("%s %s %q: error answer %d %q", method, path, body, w.Code, w.Body)
			}
		}
		stored, _ := st.LoadAPIs()
		s.mu.RLock()
		defer s.mu.RUnlock()
		if len(stored) != len(s.docs) {
			t.Fatalf("%d APIs stored, %d served", len(stored), len(s.docs))
		}
		for id, d := range s.docs {
			if _, err := buildAPI(d, d.Resources); err != nil {
				t.Fatalf("%s %s %q left API %s unbuildable: %v", method, path, body, id, err)
			}
			if string(stored[id]) != mustJSON(t, d) {
				t.Fatalf("API %s: the store differs from what is served", id)
			}
			for name, dd := range s.staged[id] {
				if _, ok := dd.Stages[name]; !ok {
					t.Fatalf("API %s: stage %s is served by a deployment compiled for another", id, name)
				}
			}
		}
	})
}

func (m *memStore) LoadAccount() ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return bytes.Clone(m.account), nil
}

func (m *memStore) SaveAccount(doc []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.account = bytes.Clone(doc)
	return nil
}

func (m *memStore) LoadUsage() ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return bytes.Clone(m.usage), nil
}

func (m *memStore) SaveUsage(doc []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.usage = bytes.Clone(doc)
	return nil
}
