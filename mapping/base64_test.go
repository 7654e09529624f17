package mapping

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

// TestJavaBase64DecodeBad is the table of inputs java.util.Base64's basic decoder rejects;
// the i18_base64_* cases in testdata/aws/cases.json check the same against the JDK.
func TestJavaBase64DecodeBad(t *testing.T) {
	for _, s := range []string{
		"Y", "YWJjZ", "YQ=", "Y=", "=", "==", "====", "YQ==YQ==", "YQ==\n", "YWJj\r\n", "YW\nJj",
		"YW Jj", " YWJj", "a-_b", "YWJé", "YQ===", "YWI==", "YWJj=", "\x00",
	} {
		if b, err := javaBase64Decode(s); err == nil {
			t.Errorf("%q decoded to %q; Java's decoder rejects it", s, b)
		}
	}
	for s, want := range map[string]string{"": "", "YQ": "a", "YQ==": "a", "YWI": "ab", "YWI=": "ab", "YR==": "a", "YWJj": "abc"} {
		if b, err := javaBase64Decode(s); err != nil || string(b) != want {
			t.Errorf("%q: got %q, %v; want %q", s, b, err, want)
		}
	}
}

// FuzzJavaBase64Decode checks the decoder against Go's: what Java accepts, Go's lenient
// unpadded decoder reads the same, and every standard encoding decodes back, padded or not.
func FuzzJavaBase64Decode(f *testing.F) {
	for _, s := range []string{"", "YQ", "YQ==", "YWI=", "eyJ0b3AiOlsiYSIsImIiXX0", "YQ=", "a-_b", "YW\nJj"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if b, err := javaBase64Decode(s); err == nil {
			g, gerr := base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
			if gerr != nil || !bytes.Equal(b, g) || strings.ContainsAny(s, "\r\n") {
				t.Fatalf("%q: Java-style %q, Go %q (%v)", s, b, g, gerr)
			}
		}
		enc := base64.StdEncoding.EncodeToString([]byte(s))
		for _, e := range []string{enc, strings.TrimRight(enc, "=")} {
			if b, err := javaBase64Decode(e); err != nil || string(b) != s {
				t.Fatalf("%q: got %q, %v", e, b, err)
			}
		}
	})
}
