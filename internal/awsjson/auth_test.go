package awsjson

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// authOracle is what checkAuth answers for an Authorization header, written the plain way:
// split at commas and spaces, drop the algorithm, a map of the parameters.
func authOracle(auth string) string {
	params := map[string]bool{}
	fields := strings.FieldsFunc(auth, func(c rune) bool { return c == ',' || c == ' ' })
	for _, f := range fields[min(1, len(fields)):] {
		k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
		params[k] = v != ""
	}
	msg := ""
	for _, p := range []string{"Credential", "Signature", "SignedHeaders"} {
		if !params[p] {
			msg += "Authorization header requires '" + p + "' parameter. "
		}
	}
	if msg == "" {
		return ""
	}
	return msg + "Authorization=" + auth
}

func checkAuthHeader(auth string) string {
	r := httptest.NewRequest("POST", "/", nil)
	r.Header["Authorization"] = []string{auth}
	if err := checkAuth(r); err != nil {
		return err.Message
	}
	return ""
}

var authSeeds = []string{
	"AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=amz-sdk-invocation-id;host;x-amz-date, Signature=abc",
	"AWS4-HMAC-SHA256 Credential=a,SignedHeaders=b,Signature=c",
	"AWS4-HMAC-SHA256 Signature=x",
	"Credential=a SignedHeaders=b Signature=c", // the first field is the algorithm, whatever it says
	"AWS4-HMAC-SHA256 Credential=a, SignedHeaders=b, Signature=",
	"AWS4-HMAC-SHA256 Credential=a, SignedHeaders=b, Signature=c, Signature=",
	"AWS4-HMAC-SHA256 Credential=a, SignedHeaders=b, Signature=, Signature=c",
	"AWS4-HMAC-SHA256  ,, Credential=a,\tSignedHeaders=b\t, Signature=c ",
	"AWS4-HMAC-SHA256 Credential, SignedHeaders==, Signature=c",
	"AWS4-HMAC-SHA256 credential=a, signedheaders=b, signature=c",
	",",
	" ",
	"x",
	"AWS4-HMAC-SHA256 Credential=\xff, SignedHeaders=\xc3, Signature=é",
}

// TestAuthHeader: every Authorization header, well formed or not, gets the answer the
// plain reading gives.
func TestAuthHeader(t *testing.T) {
	for _, auth := range authSeeds {
		if got, want := checkAuthHeader(auth), authOracle(auth); got != want {
			t.Errorf("%q: %q, want %q", auth, got, want)
		}
	}
}

func FuzzAuthHeader(f *testing.F) {
	for _, auth := range authSeeds {
		f.Add(auth)
	}
	f.Fuzz(func(t *testing.T, auth string) {
		if auth == "" || strings.ContainsAny(auth, "\r\n") {
			return // no header, or not one a request can carry
		}
		if got, want := checkAuthHeader(auth), authOracle(auth); got != want {
			t.Errorf("%q: %q, want %q", auth, got, want)
		}
	})
}
