package gateway

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/localpipe/localpipe/gateway/jsonschema"
)

func TestMissingParameters(t *testing.T) {
	required := []string{"method.request.path.id", "method.request.querystring.q", "method.request.multivaluequerystring.m",
		"method.request.header.X-A", "method.request.multivalueheader.X-B"}
	for _, tt := range []struct {
		name     string
		validate bool
		present  map[string]bool // "loc/name"
		want     []string
	}{
		{name: "all present", validate: true,
			present: map[string]bool{"path/id": true, "querystring/q": true, "querystring/m": true, "header/X-A": true, "header/X-B": true}},
		{name: "none present, in declared order", validate: true, want: []string{"id", "q", "m", "X-A", "X-B"}},
		{name: "multi-value locations read the single-value ones", validate: true,
			present: map[string]bool{"path/id": true, "querystring/q": true, "header/X-A": true}, want: []string{"m", "X-B"}},
		{name: "validator does not check parameters", validate: false},
	} {
		p := &MethodPlan{ValidateParams: tt.validate, Required: required}
		got := p.MissingParameters(func(loc, name string) bool { return tt.present[loc+"/"+name] })
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestCheckBody(t *testing.T) {
	s, err := jsonschema.NewCompiler(map[string]json.RawMessage{
		"Item": json.RawMessage(`{"type":"object","required":["id"],"properties":{"id":{"type":"string"}}}`),
	}).Model("Item")
	if err != nil {
		t.Fatal(err)
	}
	p := &MethodPlan{BodyModels: map[string]*jsonschema.Schema{"application/json": s},
		BodyModelNames: map[string]string{"application/json": "Item"}}
	for _, tt := range []struct {
		mediaType, body string
		bad             bool
	}{
		{"application/json", `{"id":"a"}`, false},
		{"application/json", `{}`, true},
		{"application/json", `{"id":1}`, true},
		{"application/json", `not json`, true},
		{"text/plain", `{}`, false}, // no model for the media type: not checked
	} {
		model, problems := p.CheckBody(tt.mediaType, []byte(tt.body))
		if (len(problems) > 0) != tt.bad || tt.bad && model != "Item" {
			t.Errorf("%s %s: model %q problems %q, want bad %v", tt.mediaType, tt.body, model, problems, tt.bad)
		}
	}
	if model, problems := (&MethodPlan{}).CheckBody("application/json", []byte(`{}`)); model != "" || problems != nil {
		t.Errorf("a method without models: %q %q", model, problems)
	}
}
