package gatewayapi

import (
	"strings"
	"testing"
)

func TestParseExportOptions(t *testing.T) {
	for _, tc := range []struct {
		typ    string
		ext    []string
		accept string
		want   exportOptions
	}{
		{"oas30", nil, "", exportOptions{oas3: true}},
		{"swagger", []string{"integrations"}, "application/yaml", exportOptions{yaml: true, integrations: true}},
		{"oas30", []string{"integrations,validators"}, "application/json", exportOptions{oas3: true, integrations: true, validators: true}},
		{"oas30", []string{"apigateway", "postman"}, "text/html, application/yaml;q=0.9", exportOptions{oas3: true, yaml: true, integrations: true, validators: true, all: true}},
		{"swagger", []string{"authorizers, documentation", ""}, "*/*", exportOptions{}},
	} {
		got, cerr := parseExportOptions(tc.typ, tc.ext, tc.accept)
		if cerr != nil || got != tc.want {
			t.Errorf("%s %v %q: %+v, %v; want %+v", tc.typ, tc.ext, tc.accept, got, cerr, tc.want)
		}
	}
}

func TestParseExportOptionsBadInput(t *testing.T) {
	for _, tc := range []struct {
		typ    string
		ext    []string
		accept string
		msg    string
	}{
		{"", nil, "", "Invalid export type"},
		{"openapi", nil, "", "Invalid export type"},
		{"OAS30", nil, "", "Invalid export type"},
		{"oas30", []string{"integration"}, "", "Invalid extension specified: \"integration\""},
		{"oas30", []string{"integrations,bogus"}, "", "\"bogus\""},
		{"swagger", nil, "application/json;;", "Invalid Accept header"},
		{"swagger", nil, "/", "Invalid Accept header"},
	} {
		if got, cerr := parseExportOptions(tc.typ, tc.ext, tc.accept); cerr == nil || cerr.status != 400 || !strings.Contains(cerr.msg, tc.msg) {
			t.Errorf("%q %v %q: %+v, %v; want a 400 containing %q", tc.typ, tc.ext, tc.accept, got, cerr, tc.msg)
		}
	}
}

// FuzzParseExportOptions: any exportType, extensions and Accept give options or a 400,
// never a panic.
func FuzzParseExportOptions(f *testing.F) {
	f.Add("oas30", "integrations,apigateway", "application/yaml")
	f.Add("swagger", "", "text/html, application/json;q=0.5")
	f.Add("x", ",,", ";")
	f.Fuzz(func(t *testing.T, typ, ext, accept string) {
		if _, cerr := parseExportOptions(typ, []string{ext}, accept); cerr != nil && cerr.status != 400 {
			t.Fatalf("%q %q %q: %+v", typ, ext, accept, cerr)
		}
	})
}
