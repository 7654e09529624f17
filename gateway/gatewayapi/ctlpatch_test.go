package gatewayapi

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestParsePatchPath(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"/name", []string{"name"}},
		{"/variables/color", []string{"variables", "color"}},
		{"/requestTemplates/application~1json", []string{"requestTemplates", "application/json"}},
		{"/requestParameters/method.request.header.x~0y", []string{"requestParameters", "method.request.header.x~y"}},
		{"/binaryMediaTypes/image~1*", []string{"binaryMediaTypes", "image/*"}},
		{"/a/b/c", []string{"a", "b", "c"}},
		{"", nil}, {"/", nil}, {"name", nil}, {"//x", nil}, {"/x/", nil}, {"/x//y", nil},
	} {
		got, ok := parsePatchPath(tc.in)
		if ok != (tc.want != nil) || !slices.Equal(got, tc.want) {
			t.Errorf("parsePatchPath(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
}

// patchTarget is a resource of every field kind, for applyPatch's tests.
type patchTarget struct {
	Name  string
	On    bool
	N     int
	Vars  map[string]string
	Flags map[string]bool
	Types []string
}

func (p *patchTarget) fields() map[string]patchField {
	return map[string]patchField{
		"name": {str: &p.Name}, "on": {boolean: &p.On}, "n": {integer: &p.N},
		"vars": {strMap: &p.Vars}, "flags": {boolMap: &p.Flags}, "types": {list: &p.Types},
	}
}

func decodeOps(t *testing.T, s string) []patchOp {
	t.Helper()
	var ops []patchOp
	if err := json.Unmarshal([]byte(s), &ops); err != nil {
		t.Fatal(err)
	}
	return ops
}

func TestApplyPatch(t *testing.T) {
	p := &patchTarget{Vars: map[string]string{"old": "x"}, Types: []string{"image/png"}}
	cerr := applyPatch(decodeOps(t, `[
		{"op": "replace", "path": "/name", "value": "new"},
		{"op": "replace", "path": "/on", "value": "true"},
		{"op": "replace", "path": "/n", "value": "42"},
		{"op": "add", "path": "/vars/a~1b", "value": "1"},
		{"op": "replace", "path": "/vars/old", "value": "y"},
		{"op": "remove", "path": "/vars/gone"},
		{"op": "add", "path": "/flags/method.request.path.id", "value": "true"},
		{"op": "add", "path": "/types/application~1octet-stream"},
		{"op": "add", "path": "/types/image~1png"},
		{"op": "remove", "path": "/types/image~1png"}
	]`), p.fields())
	if cerr != nil {
		t.Fatal(cerr.msg)
	}
	want := &patchTarget{Name: "new", On: true, N: 42, Vars: map[string]string{"a/b": "1", "old": "y"},
		Flags: map[string]bool{"method.request.path.id": true}, Types: []string{"application/octet-stream"}}
	if mustJSON(t, p) != mustJSON(t, want) {
		t.Errorf("after the patch: %s, want %s", mustJSON(t, p), mustJSON(t, want))
	}
}

func TestApplyPatchBadInputs(t *testing.T) {
	for _, tc := range []struct{ ops, msg string }{
		{`[{"op": "delete", "path": "/name", "value": "x"}]`, "Invalid patch operation specified: 'delete'"},
		{`[{"op": "", "path": "/name", "value": "x"}]`, "Invalid patch operation specified"},
		{`[{"op": "replace", "path": "/nope", "value": "x"}]`, "Invalid patch path '/nope' specified for op 'replace'. Must be one of: [/flags/{key}, /n, /name, /on, /types/{key}, /vars/{key}]"},
		{`[{"op": "replace", "path": "name", "value": "x"}]`, "Invalid patch path 'name'"},
		{`[{"op": "replace", "path": "", "value": "x"}]`, "Invalid patch path ''"},
		{`[{"op": "replace", "path": "/name/x", "value": "x"}]`, "Invalid patch path '/name/x'"},
		{`[{"op": "replace", "path": "/vars", "value": "{}"}]`, "Invalid patch path '/vars'"},
		{`[{"op": "add", "path": "/vars/a/b", "value": "x"}]`, "Invalid patch path '/vars/a/b'"},
		{`[{"op": "replace", "path": "/vars//", "value": "x"}]`, "Invalid patch path"},
		{`[{"op": "add", "path": "/name", "value": "x"}]`, "supports only op 'replace', not 'add'"},
		{`[{"op": "remove", "path": "/name"}]`, "supports only op 'replace', not 'remove'"},
		{`[{"op": "replace", "path": "/name"}]`, "needs a value"},
		{`[{"op": "add", "path": "/vars/a"}]`, "needs a value"},
		{`[{"op": "replace", "path": "/on", "value": "yes"}]`, "it must be true or false"},
		{`[{"op": "add", "path": "/flags/x", "value": "1"}]`, "it must be true or false"},
		{`[{"op": "replace", "path": "/n", "value": "1.5"}]`, "it must be a whole number"},
		{`[{"op": "replace", "path": "/types/a", "value": "b"}]`, "supports only ops 'add' and 'remove'"},
		{`[{"op": "copy", "path": "/name", "from": "/n"}]`, "does not support op 'copy'"},
		{`[{"op": "move", "path": "/vars/a", "from": "/vars/b"}]`, "does not support op 'move'"},
		{`[{"op": "test", "path": "/name", "value": "x"}]`, "does not support op 'test'"},
	} {
		p := &patchTarget{}
		cerr := applyPatch(decodeOps(t, tc.ops), p.fields())
		if cerr == nil || cerr.typ != "BadRequestException" || !strings.Contains(cerr.msg, tc.msg) {
			t.Errorf("%s: %+v, want BadRequestException containing %q", tc.ops, cerr, tc.msg)
		}
	}
}

// FuzzApplyPatch applies arbitrary patchOperations: an error or a change, never a panic,
// and a refused patch is refused whatever comes after it.
func FuzzApplyPatch(f *testing.F) {
	f.Add(`[{"op": "replace", "path": "/name", "value": "x"}, {"op": "add", "path": "/vars/a~1b", "value": "1"}]`)
	f.Add(`[{"op": "add", "path": "/types/image~1png"}, {"op": "remove", "path": "/types/image~1png"}]`)
	f.Add(`[{"op": "replace", "path": "/n", "value": "-1"}, {"op": "add", "path": "/flags/x", "value": "false"}]`)
	f.Add(`[{"op": "remove", "path": "/vars/~0~1~2"}]`)
	f.Add(`[{"op": "copy", "path": "/name", "from": "/vars/a"}]`)
	f.Fuzz(func(t *testing.T, src string) {
		var ops []patchOp
		if json.Unmarshal([]byte(src), &ops) != nil {
			return
		}
		p := &patchTarget{}
		if cerr := applyPatch(ops, p.fields()); cerr != nil {
			if cerr.status != 400 || cerr.msg == "" {
				t.Fatalf("%s: %+v", src, cerr)
			}
			q := &patchTarget{}
			if applyPatch(append(ops, patchOp{Op: "replace", Path: "/name", Value: new(string)}), q.fields()) == nil {
				t.Fatalf("%s: refused, then accepted with one more op", src)
			}
		}
	})
}
