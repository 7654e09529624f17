package firehose

import (
	"strings"
	"testing"
	"time"
)

func TestKeyTemplate(t *testing.T) {
	env := keyEnv{name: "ch", id: "0f8fad5b-d9cb-469f-a165-70867728950e", stream: "src", ext: ".gz", t: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)}
	for _, c := range []struct{ tmpl, want string }{
		{DefaultKeyTemplate, "kinesis-channel/ch/0f8fad5b-d9cb-469f-a165-70867728950e/2026/03/04/05/ch-0f8fad5b-d9cb-469f-a165-70867728950e-2026-03-04-05-06SUFFIX.gz"},
		{"data/!{yyyy}!{MM}!{dd}", "data/20260304SUFFIX"},
		{"a=b:c/!{extension}/!{HH}", "a=b:c/.gz/05SUFFIX"},
		{"(x)*'y'/!{stream-name}/!{yy}", "(x)*'y'/src/26SUFFIX"},
		{"!{channel-name}", "chSUFFIX"},
	} {
		kt, err := ParseKeyTemplate(c.tmpl)
		if err != nil {
			t.Fatalf("%q: %v", c.tmpl, err)
		}
		if got := kt.eval(env, "SUFFIX"); got != c.want {
			t.Errorf("%q: %q, want %q", c.tmpl, got, c.want)
		}
	}
}

func TestKeyTemplateBad(t *testing.T) {
	for _, c := range []struct{ tmpl, why string }{
		{"", "empty"},
		{strings.Repeat("a", 1020) + "!{mm}", "1024"},
		{"a/../!{mm}", "'..'"},
		{"./!{mm}", "'./'"},
		{"/x/!{mm}", "start with '/'"},
		{"!{yyyy}/", "end with '/'"},
		{"!{yyyy", "without its '}'"},
		{"x/!{", "without its '}'"},
		{"!{YYYY}/x", "unknown variable !{YYYY}"},
		{"!{}", "unknown variable !{}"},
		{"!{timestamp:yyyy}", "unknown variable"},
		{"a b/!{mm}", "character ' '"},
		{"a/!{mm}?", "character '?'"},
		{"a+b/!{mm}", "character '+'"},
		{"é/!{mm}", "character 'é'"},
		{"plain/key", "at least one variable"},
		{"}{!{mm}", "character '}'"},
	} {
		_, err := ParseKeyTemplate(c.tmpl)
		if err == nil || !strings.Contains(err.Error(), c.why) {
			t.Errorf("%q: %v, want an error saying %q", c.tmpl, err, c.why)
		}
	}
}

func TestCheckRecord(t *testing.T) {
	for _, c := range []struct {
		format, data string
		ok           bool
	}{
		{FormatJSON, `{"a":1}`, true}, {FormatJSON, `{"a":`, false}, {FormatJSON, ``, false},
		{FormatString, "héllo", true}, {FormatString, "\xff\xfe", false},
		{FormatByteArray, "\xff\x00", true},
	} {
		if got := checkRecord(c.format, []byte(c.data)) == ""; got != c.ok {
			t.Errorf("%s %q: valid %v, want %v", c.format, c.data, got, c.ok)
		}
	}
}

// FuzzKeyTemplate checks that a template that parses evaluates to a key with no variable
// syntax left, no path traversal, and the suffix in it.
func FuzzKeyTemplate(f *testing.F) {
	for _, s := range []string{DefaultKeyTemplate, "!{", "!{mm", "a/!{mm}}", "!{mm}!{extension}!{mm}", "..!{mm}", "x=!{yyyy}:!{dd}", "!{stream-name}/!{yy}"} {
		f.Add(s)
	}
	env := keyEnv{name: "c", id: "id", stream: "s", ext: ".zst", t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	f.Fuzz(func(t *testing.T, s string) {
		kt, err := ParseKeyTemplate(s)
		if err != nil {
			return
		}
		key := kt.eval(env, "-SFX")
		if strings.Contains(key, "!{") || strings.Contains("/"+key+"/", "/../") || strings.HasPrefix(key, "/") || !strings.Contains(key, "-SFX") {
			t.Fatalf("%q evaluates to %q", s, key)
		}
	})
}
