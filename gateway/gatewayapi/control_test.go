package gatewayapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/localpipe/localpipe/gateway"
)

func TestParseControlPath(t *testing.T) {
	for _, tc := range []struct {
		path string
		ok   bool
		want controlRoute
	}{
		{"/restapis", true, controlRoute{op: opGetRestApis}},
		{"/restapis/", true, controlRoute{op: opGetRestApis}},
		{"/restapis/abc", true, controlRoute{op: opGetRestApi, apiID: "abc"}},
		{"/restapis/abc/", true, controlRoute{op: opGetRestApi, apiID: "abc"}},
		{"/restapis/abc/resources", true, controlRoute{op: opGetResources, apiID: "abc"}},
		{"/restapis/abc/resources/r1", true, controlRoute{op: opGetResource, apiID: "abc", resourceID: "r1"}},
		{"/restapis/abc/resources/r1/methods/GET", true, controlRoute{op: opGetMethod, apiID: "abc", resourceID: "r1", httpMethod: "GET"}},
		{"/restapis/abc/resources/r1/methods/GET/integration", true, controlRoute{op: opGetIntegration, apiID: "abc", resourceID: "r1", httpMethod: "GET"}},
		{"/restapis/abc/stages", true, controlRoute{op: opGetStages, apiID: "abc"}},
		{"/restapis/abc/stages/prod", true, controlRoute{op: opGetStage, apiID: "abc", stage: "prod"}},
		{"/restapis/abc/stages/a%2Fb", true, controlRoute{op: opGetStage, apiID: "abc", stage: "a/b"}},
		{"/apikeys", true, controlRoute{op: opGetApiKeys}},
		{"/apikeys/k1", true, controlRoute{op: opGetApiKey, keyID: "k1"}},
		{"/usageplans", true, controlRoute{op: opGetUsagePlans}},

		{"/restapis/abc/models", true, controlRoute{op: opGetModels, apiID: "abc"}},
		{"/restapis/abc/models/Event", true, controlRoute{op: opGetModel, apiID: "abc", item: "Event"}},
		{"/restapis/abc/deployments", true, controlRoute{op: opGetDeployments, apiID: "abc"}},
		{"/restapis/abc/deployments/d1", true, controlRoute{op: opGetDeployment, apiID: "abc", item: "d1"}},
		{"/restapis/abc/requestvalidators", true, controlRoute{op: opGetRequestValidators, apiID: "abc"}},
		{"/restapis/abc/requestvalidators/v1", true, controlRoute{op: opGetRequestValidator, apiID: "abc", item: "v1"}},

		// Under a control-plane root but no operation localpipe answers.
		{"/restapis/abc/authorizers", true, controlRoute{}},
		{"/restapis/abc/models/Event/default_template", true, controlRoute{}},
		{"/restapis/abc/deployments/d1/x", true, controlRoute{}},
		{"/restapis/abc/resources/r1/methods", true, controlRoute{}},
		{"/restapis/abc/resources/r1/methods/GET/responses/200", true, controlRoute{}},
		{"/restapis/abc/resources/r1/x/GET", true, controlRoute{}},
		{"/restapis/abc/stages/prod/extra", true, controlRoute{}},
		{"/restapis//stages", true, controlRoute{}},
		{"/restapis//", true, controlRoute{}},
		{"/restapis/%zz", true, controlRoute{}},
		{"/restapis/abc/stages/%", true, controlRoute{}},
		{"/apikeys/a/b", true, controlRoute{}},
		{"/usageplans/p1", true, controlRoute{}},
		{"/usageplans/p1/keys", true, controlRoute{}},

		// Not the control plane: S3 keeps these.
		{"", false, controlRoute{}},
		{"/", false, controlRoute{}},
		{"restapis", false, controlRoute{}},
		{"/restapisx", false, controlRoute{}},
		{"/RESTAPIS", false, controlRoute{}},
		{"/bucket/restapis", false, controlRoute{}},
		{"/apikey", false, controlRoute{}},
		{"/domainnames", false, controlRoute{}},
		{"//restapis", false, controlRoute{}},
	} {
		got, ok := parseControlPath(tc.path)
		if ok != tc.ok || got != tc.want {
			t.Errorf("parseControlPath(%q) = %+v, %v; want %+v, %v", tc.path, got, ok, tc.want, tc.ok)
		}
	}
}

func TestControlTarget(t *testing.T) {
	for _, tc := range []struct {
		host, target string
		want         bool
	}{
		{"localhost:4566", "/restapis", true},
		{"localhost:4566", "/restapis/abc/stages?x=1", true},
		{"localhost:4566", "/apikeys?includeValues=true", true},
		{"localhost:4566", "/usageplans", true},
		// Invoke URLs are the invoke side's.
		{"localhost:4566", "/restapis/abc/prod/_user_request_/x", false},
		{"localhost:4566", "/restapis/abc/prod/_user_request_", false},
		{"localhost:4566", "/_aws/execute-api/abc/prod/restapis", false},
		{"abc.execute-api.localhost:4566", "/restapis", false},
		{"localhost:4566", "/my-bucket/restapis", false},
		{"localhost:4566", "/", false},
	} {
		r := httptest.NewRequest("GET", tc.target, nil)
		r.Host = tc.host
		if got := ControlTarget(r); got != tc.want {
			t.Errorf("ControlTarget(%s %s) = %v, want %v", tc.host, tc.target, got, tc.want)
		}
	}
	if ControlTarget(nil) || ControlTarget(&http.Request{}) {
		t.Error("ControlTarget of an empty request")
	}
}

func controlServer(t testing.TB, now time.Time, apis int) *Server {
	t.Helper()
	s := NewServer(Options{Now: func() time.Time { return now }})
	for i := range apis {
		api := gateway.NewAPI(fmt.Sprintf("api-%d", i))
		api.ID = fmt.Sprintf("api%07d", i)
		if err := s.Deploy(api, []gateway.Stage{{Name: "prod"}}); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func getControl(t *testing.T, s *Server, target string) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	w := httptest.NewRecorder()
	s.ServeControl(w, httptest.NewRequest("GET", target, nil))
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatalf("GET %s: not JSON: %q", target, w.Body)
	}
	return w, m
}

// TestControlShapes pins the JSON of GetRestApi and GetStage: member names, epoch-second
// timestamps, the EDGE endpoint type.
func TestControlShapes(t *testing.T) {
	now := time.Unix(1700000000, 0)
	s := controlServer(t, now, 1)
	api := s.deployment("api0000000")
	w := httptest.NewRecorder()
	s.ServeControl(w, httptest.NewRequest("GET", "/restapis/api0000000", nil))
	want := `{"id":"api0000000","name":"api-0","createdDate":1700000000,"apiKeySource":"HEADER",` +
		`"endpointConfiguration":{"types":["EDGE"]},"disableExecuteApiEndpoint":false,"rootResourceId":"` + api.API.Root().ID + `"}`
	if w.Code != 200 || w.Body.String() != want || w.Header().Get("Content-Type") != "application/json" || w.Header()["x-amzn-RequestId"] == nil {
		t.Errorf("GetRestApi: %d %s\nwant %s", w.Code, w.Body, want)
	}
	w = httptest.NewRecorder()
	s.ServeControl(w, httptest.NewRequest("GET", "/restapis/api0000000/stages/prod", nil))
	want = `{"deploymentId":"` + api.DeploymentID + `","stageName":"prod","cacheClusterEnabled":false,"cacheClusterStatus":"NOT_AVAILABLE",` +
		`"methodSettings":{},"tracingEnabled":false,"createdDate":1700000000,"lastUpdatedDate":1700000000}`
	if w.Code != 200 || w.Body.String() != want {
		t.Errorf("GetStage: %d %s\nwant %s", w.Code, w.Body, want)
	}
	w = httptest.NewRecorder()
	s.ServeControl(w, httptest.NewRequest("GET", "/restapis/nope", nil))
	if w.Code != 404 || w.Body.String() != `{"message":"Invalid API identifier specified 000000000000:nope"}` || w.Header()["x-amzn-ErrorType"][0] != "NotFoundException" {
		t.Errorf("GetRestApi missing: %d %s %v", w.Code, w.Body, w.Header())
	}
	if _, m := getControl(t, s, "/restapis/api0000000/stages?deploymentId=other"); fmt.Sprint(m) != "map[item:[]]" {
		t.Errorf("GetStages of another deployment: %v", m)
	}
}

// TestControlPagination pages through more APIs than a page holds, while APIs are being
// deployed (run with -race).
func TestControlPagination(t *testing.T) {
	s := controlServer(t, time.Unix(1700000000, 0), 7)
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 20 {
			api := gateway.NewAPI("extra")
			api.ID = fmt.Sprintf("zz%08d", i)
			s.Deploy(api, []gateway.Stage{{Name: "s"}})
		}
	})
	var ids []string
	position := ""
	for pages := 0; ; pages++ {
		if pages > 20 {
			t.Fatal("pagination does not end")
		}
		target := "/restapis?limit=3"
		if position != "" {
			target += "&position=" + url.QueryEscape(position)
		}
		w, m := getControl(t, s, target)
		if w.Code != 200 {
			t.Fatalf("GET %s: %d %s", target, w.Code, w.Body)
		}
		items := m["item"].([]any)
		if len(items) > 3 {
			t.Fatalf("page of %d with limit 3", len(items))
		}
		for _, it := range items {
			if id := it.(map[string]any)["id"].(string); strings.HasPrefix(id, "api") {
				ids = append(ids, id)
			}
		}
		next, _ := m["position"].(string)
		if next == "" {
			break
		}
		position = next
	}
	wg.Wait()
	if fmt.Sprint(ids) != "[api0000000 api0000001 api0000002 api0000003 api0000004 api0000005 api0000006]" {
		t.Errorf("paged ids: %v", ids)
	}
	if _, m := getControl(t, s, "/restapis?limit=500"); len(m["item"].([]any)) != 27 || m["position"] != nil {
		t.Errorf("one page of everything: %d items, position %v", len(m["item"].([]any)), m["position"])
	}
}

func TestControlAPIKeys(t *testing.T) {
	s := controlServer(t, time.Unix(1700000000, 0), 1)
	for _, k := range []APIKey{
		{ID: "k2", Name: "beta", Value: strings.Repeat("b", 20), Description: "second", Stages: []string{"api0000000/prod"}},
		{ID: "k1", Name: "alpha", Value: strings.Repeat("a", 20)},
	} {
		if err := s.AddAPIKey(k); err != nil {
			t.Fatal(err)
		}
	}
	w := httptest.NewRecorder()
	s.ServeControl(w, httptest.NewRequest("GET", "/apikeys?includeValues=true&limit=1", nil))
	want := `{"position":"k2","item":[{"id":"k1","value":"aaaaaaaaaaaaaaaaaaaa","name":"alpha","enabled":true,` +
		`"createdDate":1700000000,"lastUpdatedDate":1700000000,"stageKeys":[]}]}`
	if w.Body.String() != want {
		t.Errorf("GetApiKeys: %s\nwant %s", w.Body, want)
	}
	w = httptest.NewRecorder()
	s.ServeControl(w, httptest.NewRequest("GET", "/apikeys/k2", nil))
	want = `{"id":"k2","name":"beta","description":"second","enabled":true,"createdDate":1700000000,"lastUpdatedDate":1700000000,"stageKeys":["api0000000/prod"]}`
	if w.Body.String() != want {
		t.Errorf("GetApiKey: %s\nwant %s", w.Body, want)
	}
	if _, m := getControl(t, s, "/apikeys?customerId=c"); fmt.Sprint(m) != "map[item:[]]" {
		t.Errorf("GetApiKeys by customer: %v", m)
	}
	if _, m := getControl(t, s, "/apikeys?name=be"); len(m["item"].([]any)) != 1 {
		t.Errorf("GetApiKeys name=be: %v", m)
	}
}

// FuzzParseControlPath checks that any path parses without panicking, that whatever it
// names is found again from the path rebuilt from the route, and that ServeControl answers
// JSON with a 2xx, 400 or 404.
func FuzzParseControlPath(f *testing.F) {
	for _, seed := range []string{
		"/restapis", "/restapis/", "/restapis/abc", "/restapis/abc/resources", "/restapis/abc/resources/r1",
		"/restapis/abc/resources/r1/methods/GET", "/restapis/abc/resources/r1/methods/GET/integration",
		"/restapis/abc/stages", "/restapis/abc/stages/a%2Fb", "/restapis/api0000000/models/m",
		"/restapis/api0000000/deployments", "/restapis/abc/requestvalidators/v", "/apikeys", "/apikeys/k1", "/usageplans",
		"/restapis//stages", "/restapis/%zz", "/restapis/abc/models", "/restapisx", "//restapis", "",
		"/restapis/api0000000/resources?embed=methods&limit=2", "/restapis?position=api0000000",
		"/restapis/abc/prod/_user_request_/x",
	} {
		f.Add(seed)
	}
	s := controlServer(f, time.Unix(1700000000, 0), 2)
	f.Fuzz(func(t *testing.T, target string) {
		path, _, _ := strings.Cut(target, "?")
		rt, ok := parseControlPath(path)
		if ok && rt.op != opUnknown {
			again, ok2 := parseControlPath(rebuild(rt))
			if !ok2 || again != rt {
				t.Fatalf("%q → %+v → %q → %+v", path, rt, rebuild(rt), again)
			}
		}
		u, err := url.ParseRequestURI(target)
		if err != nil || !strings.HasPrefix(target, "/") {
			return
		}
		r := &http.Request{Method: "GET", URL: u, Host: "localhost", Header: http.Header{}}
		if !ControlTarget(r) {
			return
		}
		w := httptest.NewRecorder()
		s.ServeControl(w, r)
		if (w.Code != 200 && w.Code != 400 && w.Code != 404) || !json.Valid(w.Body.Bytes()) {
			t.Fatalf("GET %q: %d %q", target, w.Code, w.Body)
		}
	})
}

func rebuild(rt controlRoute) string {
	e := url.PathEscape
	switch rt.op {
	case opGetRestApis:
		return "/restapis"
	case opGetRestApi:
		return "/restapis/" + e(rt.apiID)
	case opGetResources:
		return "/restapis/" + e(rt.apiID) + "/resources"
	case opGetResource:
		return "/restapis/" + e(rt.apiID) + "/resources/" + e(rt.resourceID)
	case opGetMethod:
		return "/restapis/" + e(rt.apiID) + "/resources/" + e(rt.resourceID) + "/methods/" + e(rt.httpMethod)
	case opGetIntegration:
		return "/restapis/" + e(rt.apiID) + "/resources/" + e(rt.resourceID) + "/methods/" + e(rt.httpMethod) + "/integration"
	case opGetStages:
		return "/restapis/" + e(rt.apiID) + "/stages"
	case opGetStage:
		return "/restapis/" + e(rt.apiID) + "/stages/" + e(rt.stage)
	case opGetDeployments, opGetModels, opGetRequestValidators:
		for name, ops := range collections {
			if ops[0] == rt.op {
				return "/restapis/" + e(rt.apiID) + "/" + name
			}
		}
	case opGetDeployment, opGetModel, opGetRequestValidator:
		for name, ops := range collections {
			if ops[1] == rt.op {
				return "/restapis/" + e(rt.apiID) + "/" + name + "/" + e(rt.item)
			}
		}
	case opGetApiKeys:
		return "/apikeys"
	case opGetApiKey:
		return "/apikeys/" + e(rt.keyID)
	case opGetUsagePlans:
		return "/usageplans"
	}
	return ""
}
