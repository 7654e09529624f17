package mapping

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// lowLimits makes fuzzed renders cheap; the seed corpus runs as ordinary tests.
func lowLimits(tb testing.TB) {
	saved := []int{MaxLoopIterations, MaxSteps, MaxOutputSize, MaxRangeSize, MaxMacroDepth}
	MaxLoopIterations, MaxSteps, MaxOutputSize, MaxRangeSize, MaxMacroDepth = 100, 5000, 1<<16, 1000, 10
	tb.Cleanup(func() {
		MaxLoopIterations, MaxSteps, MaxOutputSize, MaxRangeSize, MaxMacroDepth = saved[0], saved[1], saved[2], saved[3], saved[4]
	})
}

// fuzzSeeds are hand-written seeds for the template fuzzers; TestVelocityOracle renders them
// with Velocity too.
var fuzzSeeds = []string{
	"", "$", "#", "\\", "${", "$!{", "#{", "#[[", "#*", "##", "$a.", "$a(", "$a[", "$a.b(",
	"#set(", "#if(", "#foreach($i in", "#macro(", "#define(", "\"", "'", "#set($a = \"$a$a\")",
	"#macro(m $a)#m($a)#end#m(1)", "#foreach($i in [1..100000])$i#end",
	"#set($s = 'x')#foreach($i in [1..30])#set($s = \"$s$s\")#end$s",
	"#set($a = [])#set($b = [$a])$a.add($b)$a",
	"#define($d)$d#end$d", "#define($d)#set($x = \"$d\")#end$d",
	// Regressions found by fuzzing.
	"#foreach($A in$A)\n\n#end", " #**#\n",
	"$A.A(\"$A\xb1$A\xb1$\xe6$\xd7$A00000000000000\")",
}

func addTemplateSeeds(f *testing.F, add func(string)) {
	files, _ := filepath.Glob("testdata/lang/*.vm")
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		add(string(src))
	}
	for _, c := range loadAWSCases(f) {
		add(c.Template)
	}
	for _, s := range fuzzSeeds {
		add(s)
	}
}

// FuzzParse: Parse never panics, and what it accepts prints to source that parses again to
// the same canonical form.
func FuzzParse(f *testing.F) {
	addTemplateSeeds(f, func(s string) { f.Add(s) })
	f.Fuzz(func(t *testing.T, src string) {
		tm, err := Parse("fuzz", src)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		printed := tm.String()
		tm2, err := Parse("fuzz", printed)
		if err != nil {
			t.Fatalf("canonical form does not parse: %v\nsrc: %q\nprinted: %q", err, src, printed)
		}
		if again := tm2.String(); again != printed {
			t.Fatalf("canonical form not stable\nsrc: %q\n1: %q\n2: %q", src, printed, again)
		}
	})
}

// FuzzExecute: rendering any template never panics or hangs, and output stays bounded.
func FuzzExecute(f *testing.F) {
	lowLimits(f)
	addTemplateSeeds(f, func(s string) { f.Add(s, `{"a":[1,{"b":"c"}],"records":[{"data":"x"}]}`) })
	f.Fuzz(func(t *testing.T, src, body string) {
		tm, err := Parse("fuzz", src)
		if err != nil {
			return
		}
		in := &Input{
			Body:    []byte(body),
			Params:  Params{Path: map[string]string{"p": "1"}, QueryString: map[string]string{"q": "2"}},
			Context: map[string]any{"requestId": "r", "identity": map[string]any{"sourceIp": "1.2.3.4"}},
			Vars:    goldenVars(),
		}
		var out bytes.Buffer
		if _, err := tm.Execute(&out, in); err != nil {
			if _, ok := err.(*Error); !ok && !strings.HasPrefix(err.Error(), "mapping:") {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if out.Len() > MaxOutputSize {
			t.Fatalf("output of %d bytes passes the %d limit", out.Len(), MaxOutputSize)
		}
	})
}

// FuzzJSONPath: the JSONPath parser and evaluator never panic.
func FuzzJSONPath(f *testing.F) {
	for _, p := range []string{"$", "$.a", "$['a']", "$.a[0]", "$.a[*].b", "$..b", "$.a[0:1]", "$.a[-1:]",
		"$.a[?(@.b == 'c')]", "$.a[?(@.b > 1 && @.c)]", "$.*", "$..*", "a.b", "$.a[0,1]", "$[", "$.a[?(", "$..[0]",
		"$.a[::2]", "$.a[?(!@.b || (@.c != 1))]"} {
		f.Add(p)
	}
	doc, err := parseJSON(`{"a":[1,{"b":"c","c":2},[3]],"b":{"b":{"b":null}}}`, true)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, p string) {
		jp, err := parsePath(p)
		if err != nil {
			return
		}
		_, _, _ = jp.eval(doc)
	})
}

// FuzzValidateJSON: ValidateJSON agrees with encoding/json and never panics. Unlike
// encoding/json it rejects invalid UTF-8, which AWS's JSON parsers reject too.
func FuzzValidateJSON(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, `{"a":1}`, `{"a":}`, `[1,]`, `"\u00e9"`, `1e5`, `-0`, `01`, "{\"a\":\"\x01\"}", `nul`, `{"a":1}x`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		err := ValidateJSON(data)
		if !utf8.Valid(data) {
			return
		}
		if (err == nil) != json.Valid(data) {
			t.Fatalf("ValidateJSON(%q) = %v, json.Valid = %v", data, err, json.Valid(data))
		}
	})
}
