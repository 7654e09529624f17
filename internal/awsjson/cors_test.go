package awsjson

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestIsTargetPreflight(t *testing.T) {
	for _, tc := range []struct {
		method, reqMethod, reqHeaders string
		want                          bool
	}{
		{"OPTIONS", "POST", "content-type,x-amz-target", true},
		{"OPTIONS", "POST", " Content-Type , X-Amz-Target ", true},
		{"OPTIONS", "POST", "x-amz-target", true},
		{"OPTIONS", "POST", "content-type", false},
		{"OPTIONS", "POST", "x-amz-targets,x-amz-target-x", false},
		{"OPTIONS", "POST", "", false},
		{"OPTIONS", "POST", ",,,", false},
		{"OPTIONS", "", "x-amz-target", false}, // not a preflight: no requested method
		{"POST", "POST", "x-amz-target", false},
	} {
		r := httptest.NewRequest(tc.method, "/", nil)
		if tc.reqMethod != "" {
			r.Header.Set("Access-Control-Request-Method", tc.reqMethod)
		}
		r.Header.Set("Access-Control-Request-Headers", tc.reqHeaders)
		if got := IsTargetPreflight(r); got != tc.want {
			t.Errorf("%s %q %q: %v, want %v", tc.method, tc.reqMethod, tc.reqHeaders, got, tc.want)
		}
	}
}

// FuzzCORS: any preflight's headers are echoed without a panic, and only a preflight is
// answered.
func FuzzCORS(f *testing.F) {
	f.Add("OPTIONS", "POST", "x-amz-target")
	f.Add("POST", "", "")
	f.Add("OPTIONS", "GET", ",,X-AMZ-TARGET,,")
	f.Fuzz(func(t *testing.T, method, reqMethod, reqHeaders string) {
		r, err := http.NewRequest(method, "http://localhost/", nil)
		if err != nil {
			return
		}
		r.Header.Set("Access-Control-Request-Method", reqMethod)
		r.Header.Set("Access-Control-Request-Headers", reqHeaders)
		w := httptest.NewRecorder()
		answered := CORS(w, r)
		if answered != IsPreflight(r) || w.Header().Get("Access-Control-Allow-Origin") != "*" {
			t.Fatalf("answered %v for %q", answered, method)
		}
		if IsTargetPreflight(r) && !answered {
			t.Fatal("target preflight not answered")
		}
	})
}
