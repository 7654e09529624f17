package gateway

import (
	"strings"
	"testing"
)

// arnPrefix is the start of a method ARN, as an authorizer's policy names methods.
const arnPrefix = "arn:aws:execute-api:us-east-1:123456789012:testapi/prod/"

func TestWildcardMatch(t *testing.T) {
	for _, tt := range []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"*", "anything", true},
		{"a*c", "abbbc", true},
		{"a*c", "abbbd", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{arnPrefix + "*/pets/*", arnPrefix + "GET/pets/1", true},
		{arnPrefix + "*/pets/*", arnPrefix + "GET/cats/1", false},
		{arnPrefix + "GET/", arnPrefix + "GET/", true},
		{"**a", "ba", true},
		{"a*", "", false},
	} {
		if got := wildcardMatch(tt.pattern, tt.s); got != tt.want {
			t.Errorf("wildcardMatch(%q, %q) = %v", tt.pattern, tt.s, got)
		}
	}
}

func TestParseAuthorizerOutputBadInputs(t *testing.T) {
	stmt := `{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"*"}`
	for _, tt := range []struct{ in, err string }{
		{``, "not a JSON object"},
		{`null`, "not a JSON object"},
		{`"Allow"`, "not a JSON object"},
		{`{"principalId":`, "shape"},
		{`{"policyDocument":{"Statement":[` + stmt + `]}}`, "principalId is missing"},
		{`{"principalId":{},"policyDocument":{"Statement":[` + stmt + `]}}`, "principalId must be a string"},
		{`{"principalId":"p"}`, "policyDocument is missing"},
		{`{"principalId":"p","policyDocument":[]}`, "shape"},
		{`{"principalId":"p","policyDocument":{}}`, "Statement is missing"},
		{`{"principalId":"p","policyDocument":{"Statement":"x"}}`, "must be a statement or a list"},
		{`{"principalId":"p","policyDocument":{"Statement":[{"Action":"*","Effect":"allow","Resource":"*"}]}}`, "Effect must be Allow or Deny"},
		{`{"principalId":"p","policyDocument":{"Statement":[{"Effect":"Allow","Resource":"*"}]}}`, "Action is missing"},
		{`{"principalId":"p","policyDocument":{"Statement":[{"Action":[],"Effect":"Allow","Resource":"*"}]}}`, "Action must be a string or a list"},
		{`{"principalId":"p","policyDocument":{"Statement":[{"Action":"*","Effect":"Allow","Resource":5}]}}`, "Resource must be a string or a list"},
		{`{"principalId":"p","policyDocument":{"Statement":[` + stmt + `]},"context":{"a":[1]}}`, "context value must be"},
		{`{"principalId":"p","policyDocument":{"Statement":[` + stmt + `]},"context":[]}`, "shape"},
	} {
		if _, err := ParseAuthorizerOutput([]byte(tt.in)); err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%s: %v, want %q", tt.in, err, tt.err)
		}
	}
}

func FuzzParseAuthorizerOutput(f *testing.F) {
	for _, s := range []string{
		`{"principalId":"p","policyDocument":{"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"*"}]},"context":{"a":"b","n":1,"t":true,"z":null}}`,
		`{"principalId":"p","policyDocument":{"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"Deny","Resource":"` + arnPrefix + `GET/*"}]}}`,
		`{"principalId":1,"policyDocument":{"Statement":{"Action":["a","b"],"Effect":"Allow","Resource":["x?y"]}},"usageIdentifierKey":"k"}`,
		`{}`, `[]`, `{"principalId":"p","policyDocument":{"Statement":[]}}`,
	} {
		f.Add([]byte(s), arnPrefix+"GET/pets/1")
	}
	f.Fuzz(func(t *testing.T, b []byte, arn string) {
		out, err := ParseAuthorizerOutput(b)
		if err != nil {
			return
		}
		d := out.Decide(arn)
		if d != PolicyAllow && d != PolicyDeny && d != PolicyNoMatch {
			t.Fatalf("decision %d", d)
		}
		// A policy with no statements allows nothing.
		if len(out.statements) == 0 && d != PolicyNoMatch {
			t.Fatalf("no statements, decision %d", d)
		}
	})
}
