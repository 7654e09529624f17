package mapping

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// goldenVars are the variables testdata/velocity/Render.java puts in the Velocity context.
func goldenVars() map[string]any {
	nested := newVMap()
	nested.Put("k", "v")
	m := newVMap()
	m.Put("a", int64(1))
	m.Put("b", "x")
	m.Put("partition-key", "pk")
	m.Put("nested", nested)
	m.Put("items", &vlist{Items: []any{"p", "q"}})
	qs := newVMap()
	qs.Put("q", "a/b")
	qs.Put("r", "x")
	path := newVMap()
	path.Put("id", "abc")
	params := newVMap()
	params.Put("path", path)
	params.Put("querystring", qs)
	params.Put("header", newVMap())
	return map[string]any{
		"params": params,
		"name":   "world",
		"n":      int64(3),
		"zero":   int64(0),
		"d":      1.5,
		"flag":   true,
		"off":    false,
		"empty":  "",
		"quote":  `it's "q" <b>&amp;</b>`,
		"list":   &vlist{Items: []any{int64(1), "two", 3.5}},
		"map":    m,
	}
}

// awsDifferences lists the corpus templates where AWS's recorded behaviour deliberately
// differs from stock Velocity 1.7 beyond the null-renders-empty rule the harness already
// applies. The value is the output AWS gives and why.
var awsDifferences = map[string]struct{ want, why string }{
	"null_equals_empty.vm": {
		want: "eq||ne|eq|t",
		why:  "AWS: an undefined reference compares equal to '' (aws-semantics.md A.5, #17)",
	},
}

// TestGoldenVelocity renders every testdata/lang/*.vm template and compares the output with
// the .out file Apache Velocity 1.7 produced for it (testdata/velocity/README.md tells how to
// regenerate them). CI needs no Java: the goldens are committed.
func TestGoldenVelocity(t *testing.T) {
	files, err := filepath.Glob("testdata/lang/*.vm")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden templates: %v", err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(strings.TrimSuffix(name, ".vm"), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(strings.TrimSuffix(f, ".vm") + ".out")
			if err != nil {
				t.Fatalf("missing golden output: %v", err)
			}
			if d, ok := awsDifferences[name]; ok {
				want = []byte(d.want)
			}
			got, err := render(name, string(src), &Input{Vars: goldenVars()})
			if string(want) == "!ERROR\n" {
				if err == nil {
					t.Fatalf("Velocity rejects this template; we rendered %q", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("error: %v\nwant %q", err, want)
			}
			if got != string(want) {
				t.Errorf("output differs from Velocity 1.7\nsrc:  %q\ngot:  %q\nwant: %q", src, got, want)
			}
		})
	}
}

func render(name, src string, in *Input) (string, error) {
	tm, err := Parse(name, src)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if _, err := tm.Execute(&b, in); err != nil {
		return "", err
	}
	return b.String(), nil
}
