package gateway

import (
	"maps"
	"strings"
	"testing"
)

// routingAPI has a literal beside a variable (/streams/special, /streams/{stream-name}),
// ANY beside specific verbs, resources without methods (/a, /a/b, /files, /empty) and two
// proxy resources (/files/{proxy+} with GET only, /{proxy+} with ANY).
const routingAPI = `
openapi: 3.0.1
info: {title: Routing, version: "1"}
paths:
  /:
    get: {}
  /streams:
    get: {}
    post: {}
  /streams/special:
    get: {}
  /streams/{stream-name}:
    get: {}
    delete: {}
    x-amazon-apigateway-any-method: {}
  /streams/{stream-name}/record:
    put: {}
  /files/{proxy+}:
    get: {}
  /a/b/c:
    get: {}
  /empty: {}
  /{proxy+}:
    x-amazon-apigateway-any-method: {}
`

func TestMatch(t *testing.T) {
	api := mustImport(t, routingAPI)
	tests := []struct {
		method, path string
		// want: the resource path found ("" for none), the method key that serves the
		// request ("" when the resource has no method for it) and the path parameters.
		res, serve string
		params     map[string]string
	}{
		// root
		{"GET", "/", "/", "GET", nil},
		{"GET", "", "/", "GET", nil},
		{"GET", "//", "/", "GET", nil},
		// the root has no POST, and a greedy variable needs at least one segment
		{"POST", "/", "/", "", nil},

		// literals, trailing slashes ignored
		{"GET", "/streams", "/streams", "GET", nil},
		{"GET", "/streams/", "/streams", "GET", nil},
		{"GET", "/streams///", "/streams", "GET", nil},
		{"POST", "/streams", "/streams", "POST", nil},
		// the path exists but the verb does not: no fallback to /{proxy+}, no HEAD for GET
		{"PATCH", "/streams", "/streams", "", nil},
		{"HEAD", "/streams", "/streams", "", nil},

		// a literal beats the variable beside it; a specific verb beats ANY
		{"GET", "/streams/special", "/streams/special", "GET", nil},
		{"GET", "/streams/s1", "/streams/{stream-name}", "GET", map[string]string{"stream-name": "s1"}},
		{"DELETE", "/streams/s1", "/streams/{stream-name}", "DELETE", map[string]string{"stream-name": "s1"}},
		{"POST", "/streams/s1", "/streams/{stream-name}", "ANY", map[string]string{"stream-name": "s1"}},
		{"OPTIONS", "/streams/s1/", "/streams/{stream-name}", "ANY", map[string]string{"stream-name": "s1"}},
		// once a literal is taken the variable beside it is not tried (no backtracking)
		{"POST", "/streams/special", "/streams/special", "", nil},
		{"PUT", "/streams/special/record", "", "", nil},
		{"PUT", "/streams/s1/record", "/streams/{stream-name}/record", "PUT", map[string]string{"stream-name": "s1"}},
		{"GET", "/streams/s1/other", "", "", nil},

		// path parameters are percent-decoded; '+' stays '+'; a bad escape stays as sent
		{"GET", "/streams/my%20stream", "/streams/{stream-name}", "GET", map[string]string{"stream-name": "my stream"}},
		{"GET", "/streams/a%2Fb", "/streams/{stream-name}", "GET", map[string]string{"stream-name": "a/b"}},
		{"GET", "/streams/a+b", "/streams/{stream-name}", "GET", map[string]string{"stream-name": "a+b"}},
		{"GET", "/streams/%zz", "/streams/{stream-name}", "GET", map[string]string{"stream-name": "%zz"}},
		{"GET", "/streams/caf%C3%A9", "/streams/{stream-name}", "GET", map[string]string{"stream-name": "café"}},
		// an empty segment is no value for {stream-name}
		{"GET", "/streams//x", "", "", nil},

		// greedy variables take the rest, slashes included, but not nothing
		{"GET", "/files/a/b/c.txt", "/files/{proxy+}", "GET", map[string]string{"proxy": "a/b/c.txt"}},
		{"GET", "/files/a/b/", "/files/{proxy+}", "GET", map[string]string{"proxy": "a/b"}},
		{"GET", "/files/a%20b/c%2Fd", "/files/{proxy+}", "GET", map[string]string{"proxy": "a b/c/d"}},
		{"POST", "/files/x", "/files/{proxy+}", "", map[string]string{"proxy": "x"}},
		{"GET", "/files", "/files", "", nil},
		{"GET", "/files/", "/files", "", nil},
		{"GET", "/other", "/{proxy+}", "ANY", map[string]string{"proxy": "other"}},
		{"DELETE", "/other/deep/path", "/{proxy+}", "ANY", map[string]string{"proxy": "other/deep/path"}},
		{"GET", "/other//x", "/{proxy+}", "ANY", map[string]string{"proxy": "other//x"}},
		// paths are case-sensitive: /STREAMS is not /streams
		{"GET", "/STREAMS", "/{proxy+}", "ANY", map[string]string{"proxy": "STREAMS"}},

		// resources without methods, and subtrees a root proxy does not reach
		{"GET", "/a/b/c", "/a/b/c", "GET", nil},
		{"GET", "/a/b", "/a/b", "", nil},
		{"GET", "/a", "/a", "", nil},
		{"GET", "/a/x", "", "", nil},
		{"GET", "/a/b/c/d", "", "", nil},
		{"GET", "/empty", "/empty", "", nil},

		// a literal segment written with escapes is compared decoded
		{"GET", "/str%65ams", "/streams", "GET", nil},
	}
	for _, tt := range tests {
		m, res, params, ok := api.Match(tt.method, tt.path)
		gotRes := ""
		if res != nil {
			gotRes = res.Path
		}
		gotServe := ""
		if m != nil {
			for verb, rm := range res.Methods {
				if rm == m {
					gotServe = verb
				}
			}
		}
		if gotRes != tt.res || gotServe != tt.serve || ok != (tt.serve != "") || !maps.Equal(params, tt.params) {
			t.Errorf("Match(%s, %q) = resource %q, method %q, params %v, ok %v; want %q, %q, %v",
				tt.method, tt.path, gotRes, gotServe, params, ok, tt.res, tt.serve, tt.params)
		}
		if ok && (m.HTTPMethod != tt.serve) {
			t.Errorf("Match(%s, %q): method's HTTPMethod = %q", tt.method, tt.path, m.HTTPMethod)
		}
	}
}

func TestMatchEmptyAPI(t *testing.T) {
	if _, _, _, ok := (&API{}).Match("GET", "/"); ok {
		t.Error("a zero API matched")
	}
	api := NewAPI("empty")
	m, res, _, ok := api.Match("GET", "/")
	if ok || m != nil || res != api.Root() {
		t.Errorf("Match on a new API = %v %v %v", m, res, ok)
	}
}

func TestAddResource(t *testing.T) {
	api := NewAPI("t")
	if !idRe.MatchString(api.ID) || !idRe.MatchString(api.Root().ID) || api.Root().Path != "/" || api.APIKeySource != "HEADER" {
		t.Fatalf("NewAPI = %+v root %+v", api, api.Root())
	}
	streams, err := api.AddResource(api.Root(), "streams")
	if err != nil || streams.Path != "/streams" || streams.ParentID != api.Root().ID || !resourceIDRe.MatchString(streams.ID) {
		t.Fatalf("AddResource = %+v, %v", streams, err)
	}
	name, err := api.AddResource(streams, "{stream-name}")
	if err != nil || name.Path != "/streams/{stream-name}" || !name.IsVariable() || name.Param() != "stream-name" || name.Greedy() {
		t.Fatalf("AddResource = %+v, %v", name, err)
	}
	proxy, err := api.AddResource(name, "{rest+}")
	if err != nil || !proxy.Greedy() || proxy.Param() != "rest" {
		t.Fatalf("AddResource = %+v, %v", proxy, err)
	}
	if got := proxy.PathParams(); strings.Join(got, ",") != "stream-name,rest" {
		t.Errorf("PathParams = %v", got)
	}
	if api.Resource("/streams/{stream-name}/{rest+}") != proxy || api.Resource("/streams/") != streams || api.Resource("/nope") != nil {
		t.Error("Resource lookup")
	}

	errs := []struct {
		parent *Resource
		part   string
		want   string
	}{
		{streams, "{id}", "a sibling ({stream-name}) of this resource already has a variable path part -- only one is allowed"},
		{api.Root(), "streams", "another resource with the same parent already has this name: streams"},
		{proxy, "x", "cannot create a child of /streams/{stream-name}/{rest+}: a resource with a greedy path variable cannot have children"},
		{api.Root(), "", "empty path part"},
		{api.Root(), "a/b", `path part "a/b" may hold only a-zA-Z0-9._-: characters, or be {name} or {name+}`},
		{api.Root(), "{}", `path part "{}": a path variable's name may hold only a-zA-Z0-9._-`},
		{api.Root(), "{+}", `path part "{+}": a path variable's name may hold only a-zA-Z0-9._-`},
	}
	for _, e := range errs {
		if _, err := api.AddResource(e.parent, e.part); err == nil || err.Error() != e.want {
			t.Errorf("AddResource(%s, %q) = %v, want %q", e.parent.Path, e.part, err, e.want)
		}
	}
	if _, err := api.AddResource(api.Root(), "v1:batch"); err != nil {
		t.Errorf("a colon in a path part: %v", err)
	}
	var order []string
	for _, r := range api.Resources() {
		order = append(order, r.Path)
	}
	if got := strings.Join(order, " "); got != "/ /streams /streams/{stream-name} /streams/{stream-name}/{rest+} /v1:batch" {
		t.Errorf("Resources = %s", got)
	}
}

// render substitutes path parameters into a template path.
func render(template string, params map[string]string) string {
	out := template
	for k, v := range params {
		out = strings.Replace(out, "{"+k+"+}", v, 1)
		out = strings.Replace(out, "{"+k+"}", v, 1)
	}
	return out
}

func FuzzMatch(f *testing.F) {
	api := mustImport(f, routingAPI)
	for _, s := range []struct{ method, path string }{
		{"GET", "/"}, {"GET", "/streams/s1"}, {"POST", "/streams/special"}, {"PUT", "/streams/s1/record"},
		{"GET", "/files/a/b/c"}, {"DELETE", "/x/y%2Fz"}, {"GET", "/streams//x"}, {"GET", "/%"},
		{"PATCH", "/a/b/"}, {"HEAD", "//"}, {"ANY", "/streams/%E2%82"},
	} {
		f.Add(s.method, s.path)
	}
	f.Fuzz(func(t *testing.T, method, path string) {
		m, res, params, ok := api.Match(method, path)
		if ok != (m != nil) || (ok && res == nil) {
			t.Fatalf("inconsistent result %v %v %v", m, res, ok)
		}
		if res == nil {
			if params != nil && ok {
				t.Fatal("params without a resource")
			}
			return
		}
		if want := res.Methods[method]; want != nil && m != want {
			t.Fatalf("%s %s: a specific method lost to %v", method, path, m)
		}
		if !ok && (res.Methods[method] != nil || res.Methods["ANY"] != nil) {
			t.Fatalf("%s %s: resource %s has a method but none was returned", method, path, res.Path)
		}
		names := res.PathParams()
		if len(names) != len(params) {
			t.Fatalf("%s: params %v for %s", path, params, res.Path)
		}
		for _, n := range names {
			if _, ok := params[n]; !ok {
				t.Fatalf("%s: no value for %s", path, n)
			}
		}
		if !strings.Contains(path, "%") {
			want := "/" + strings.TrimPrefix(strings.TrimRight(path, "/"), "/")
			if got := render(res.Path, params); got != want {
				t.Fatalf("%s routed to %s with %v, which renders %s", path, res.Path, params, got)
			}
		}
	})
}

func BenchmarkMatch(b *testing.B) {
	api, err := ImportOpenAPI(readTestdata(b, "kinesis-proxy-oas30.json"))
	if err != nil {
		b.Fatal(err)
	}
	tutorial := mustImport(b, kinesisTutorial)
	routing := mustImport(b, routingAPI)
	cases := []struct {
		name         string
		api          *API
		method, path string
	}{
		{"literal", api, "POST", "/stream"},
		{"variable", tutorial, "GET", "/streams/my-stream/sharditerator"},
		{"greedy", routing, "GET", "/files/a/b/c/d.txt"},
		{"escaped", routing, "GET", "/streams/my%20stream"},
		{"miss", routing, "GET", "/a/b/x"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if m, _, _, _ := c.api.Match(c.method, c.path); m == nil && c.name != "miss" {
					b.Fatal("no match")
				}
			}
		})
	}
}
