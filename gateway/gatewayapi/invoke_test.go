package gatewayapi

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/localpipe/localpipe/gateway"
)

func TestInvokeTarget(t *testing.T) {
	tests := []struct {
		name, host, target       string
		wantID, wantStage, wantP string
		ok                       bool
	}{
		{"aws path", "localhost:4566", "/_aws/execute-api/abc123/prod/streams/s1/record", "abc123", "prod", "/streams/s1/record", true},
		{"aws path stage only", "localhost", "/_aws/execute-api/abc123/prod", "abc123", "prod", "/", true},
		{"aws path stage slash", "localhost", "/_aws/execute-api/abc123/prod/", "abc123", "prod", "/", true},
		{"aws path no stage", "localhost", "/_aws/execute-api/abc123", "abc123", "", "/", true},
		{"aws path keeps escapes", "localhost", "/_aws/execute-api/abc/dev/a%2Fb/c%20d", "abc", "dev", "/a%2Fb/c%20d", true},
		{"aws path escaped stage", "localhost", "/_aws/execute-api/abc/d%65v/x", "abc", "dev", "/x", true},
		{"aws path empty id", "localhost", "/_aws/execute-api//prod/x", "", "", "", false},
		{"aws path bad id", "localhost", "/_aws/execute-api/a.b/prod/x", "", "", "", false},
		{"aws prefix only", "localhost", "/_aws/execute-api/", "", "", "", false},
		{"user request", "localhost", "/restapis/abc/prod/_user_request_/stream", "abc", "prod", "/stream", true},
		{"user request root", "localhost", "/restapis/abc/prod/_user_request_", "abc", "prod", "/", true},
		{"user request root slash", "localhost", "/restapis/abc/prod/_user_request_/", "abc", "prod", "/", true},
		{"control plane", "localhost", "/restapis/abc/resources", "", "", "", false},
		{"control plane deep", "localhost", "/restapis/abc/stages/prod", "", "", "", false},
		{"control plane list", "localhost", "/restapis", "", "", "", false},
		{"user request no stage", "localhost", "/restapis/abc//_user_request_/x", "", "", "", false},
		{"host", "abc123.execute-api.localhost:4566", "/prod/stream", "abc123", "prod", "/stream", true},
		{"host localstack", "abc123.execute-api.localhost.localstack.cloud:4566", "/prod", "abc123", "prod", "/", true},
		{"host upper", "ABC123.Execute-API.localhost", "/prod/x", "abc123", "prod", "/x", true},
		{"host vpce", "abc123-vpce-0123.execute-api.us-east-1.vpce.amazonaws.com", "/prod/x", "abc123", "prod", "/x", true},
		{"host no stage", "abc123.execute-api.localhost", "/", "abc123", "", "/", true},
		{"host nothing after", "abc123.execute-api.", "/prod", "", "", "", false},
		{"host no id", ".execute-api.localhost", "/prod", "", "", "", false},
		{"host other", "bucket.s3.localhost", "/prod/x", "", "", "", false},
		{"host execute-api not second", "a.b.execute-api.localhost", "/prod/x", "", "", "", false},
		{"plain", "localhost:4566", "/bucket/key", "", "", "", false},
		{"empty host", "", "/prod/x", "", "", "", false},
		{"ipv6 host", "[::1]:4566", "/prod/x", "", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "http://placeholder"+tt.target, nil)
			r.Host = tt.host
			id, stage, p, ok := InvokeTarget(r)
			if ok != tt.ok || id != tt.wantID || stage != tt.wantStage || p != tt.wantP {
				t.Errorf("InvokeTarget(%s %s) = %q, %q, %q, %v; want %q, %q, %q, %v",
					tt.host, tt.target, id, stage, p, ok, tt.wantID, tt.wantStage, tt.wantP, tt.ok)
			}
		})
	}
	if _, _, _, ok := InvokeTarget(nil); ok {
		t.Error("InvokeTarget(nil) ok")
	}
}

func FuzzInvokeTarget(f *testing.F) {
	f.Add("localhost", "/_aws/execute-api/abc/prod/x")
	f.Add("localhost", "/restapis/abc/prod/_user_request_/x/y")
	f.Add("abc.execute-api.localhost:4566", "/prod/x%2F")
	f.Add("abc-vpce-1.execute-api.x", "/")
	f.Add("[::1]", "/restapis//")
	f.Fuzz(func(t *testing.T, host, target string) {
		r := httptest.NewRequest("GET", "http://placeholder/", nil)
		r.Host = host
		r.URL.Path = target
		id, stage, p, ok := InvokeTarget(r)
		if !ok {
			if id != "" || stage != "" || p != "" {
				t.Fatalf("not ok but returned %q %q %q", id, stage, p)
			}
			return
		}
		if !gateway.ValidID(id) {
			t.Fatalf("invalid id %q", id)
		}
		if !strings.HasPrefix(p, "/") {
			t.Fatalf("path %q does not start with /", p)
		}
		if strings.Contains(stage, "/") && !strings.Contains(r.URL.EscapedPath(), "%2F") && !strings.Contains(r.URL.EscapedPath(), "%2f") {
			t.Fatalf("stage %q holds a slash", stage)
		}
	})
}

func TestMediaType(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "application/json"},
		{"application/json", "application/json"},
		{"Application/JSON; charset=UTF-8", "application/json"},
		{" text/plain ", "text/plain"},
		{"text/plain;", "text/plain"},
		{"image/*", "image/*"},
		{";charset=utf-8", "application/json"},
		{"garbage", "garbage"},
		{"a/b/c", "a/b/c"},
		{"text/plain; charset=\x00", "text/plain"},
		{"TEXT/HTML; q=\"unterminated", "text/html"},
		{"/", "/"},
	} {
		if got := mediaType(tc.in, "application/json"); got != tc.want {
			t.Errorf("mediaType(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzMediaType(f *testing.F) {
	for _, s := range []string{"application/json", "Text/Plain; charset=utf-8", "a/b;c=\"d", " ; ", "x/y, z/w;q=0.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		mt := mediaType(in, "application/json")
		if strings.ContainsAny(mt, ";") {
			t.Fatalf("mediaType(%q) = %q keeps parameters", in, mt)
		}
		if again := mediaType(mt, "application/json"); again != mt && mt != "" {
			t.Fatalf("mediaType(%q) = %q, then %q", in, mt, again)
		}
		chooseTemplate(map[string]*gateway.CompiledTemplate{"application/json": nil}, []string{"application/json"}, in)
	})
}
