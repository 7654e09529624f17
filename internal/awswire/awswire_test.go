package awswire

import (
	"net/http"
	"strings"
	"testing"
)

func TestEscapePath(t *testing.T) {
	for _, c := range []struct {
		in        string
		keepSlash bool
		want      string
	}{
		{"my-fn_1", false, "my-fn_1"},
		{"a:b/c d%é", false, "a%3Ab%2Fc%20d%25%C3%A9"},
		{"dir/a+b?.txt", true, "dir/a%2Bb%3F.txt"},
		{"~.-_", true, "~.-_"},
	} {
		if got := EscapePath(c.in, c.keepSlash); got != c.want {
			t.Errorf("EscapePath(%q, %v) = %q, want %q", c.in, c.keepSlash, got, c.want)
		}
	}
}

// TestJSONError: the answers AWS gives, and bad ones: whatever the body holds, the code is a
// bare name, and a body that is not a JSON error object is said not to be an AWS answer.
func TestJSONError(t *testing.T) {
	for _, c := range []struct {
		header, body, code, msg string
		ok                      bool
	}{
		{"ResourceNotFoundException", `{"Type":"User","message":"Function not found: f"}`, "ResourceNotFoundException", "Function not found: f", true},
		{"ResourceNotFoundException:http://internal.amazon.com/", `{"Message":"gone"}`, "ResourceNotFoundException", "gone", true},
		{"", `{"__type":"com.amazonaws.kinesis#ResourceNotFoundException","message":"x"}`, "ResourceNotFoundException", "x", true},
		{"", `{"code":"ThrottlingException"}`, "ThrottlingException", "", true},
		{"", `{"__type":"ns#T:detail","code":"ignored"}`, "T", "", true},
		{"a#b#C", "", "b#C", "", true}, // as the SDKs: up to the first '#'
		{":", "", "", "", true},
		{"", "", "", "", true},
		{"", `{"code":42}`, "", "", true},
		{"", "{", "", "", false},
		{"", `{"__type":42}`, "", "", false},
		{"", `[]`, "", "", false},
		{"", "<html>Bad Gateway</html>", "", "", false},
	} {
		h := http.Header{}
		if c.header != "" {
			h.Set("X-Amzn-ErrorType", c.header)
		}
		code, msg, ok := JSONError(h, []byte(c.body))
		if code != c.code || msg != c.msg || ok != c.ok {
			t.Errorf("JSONError(%q, %q) = %q, %q, %v; want %q, %q, %v", c.header, c.body, code, msg, ok, c.code, c.msg, c.ok)
		}
	}
}

func FuzzJSONError(f *testing.F) {
	f.Add("ResourceNotFoundException", `{"message":"m"}`)
	f.Add("", `{"__type":"a#B:c","Message":"m"}`)
	f.Add("x:y", "{")
	f.Fuzz(func(t *testing.T, header, body string) {
		h := http.Header{}
		h.Set("X-Amzn-ErrorType", header)
		code, msg, ok := JSONError(h, []byte(body))
		if strings.Contains(code, ":") || !ok && (code != "" || msg != "") {
			t.Errorf("JSONError(%q, %q) = %q, %q, %v", header, body, code, msg, ok)
		}
	})
}

func FuzzEscapePath(f *testing.F) {
	f.Add("dir/a b.txt", true)
	f.Fuzz(func(t *testing.T, s string, keepSlash bool) {
		e := EscapePath(s, keepSlash)
		for i := 0; i < len(e); i++ {
			if c := e[i]; c >= 0x80 || c == ' ' || c == '?' || c == '#' || !keepSlash && c == '/' {
				t.Fatalf("EscapePath(%q, %v) = %q keeps %q", s, keepSlash, e, c)
			}
		}
	})
}
