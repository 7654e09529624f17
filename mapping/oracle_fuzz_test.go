package mapping

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// velocityRef is a running testdata/velocity/Render.java --serve: one JVM answers every
// render a fuzz process asks for.
type velocityRef struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

func startVelocityRef(f *testing.F) *velocityRef {
	argv := compileHarness(f)
	cmd := exec.Command(argv[0], append(argv[1:], "--serve")...)
	in, err := cmd.StdinPipe()
	if err != nil {
		f.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		f.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() {
		in.Close()
		if err := cmd.Wait(); err != nil {
			f.Errorf("Render --serve: %v\n%s", err, stderr.String())
		}
	})
	return &velocityRef{cmd: cmd, in: in, out: bufio.NewReader(out)}
}

// render asks Velocity for src over body; ok is false when Velocity failed the render.
func (r *velocityRef) render(src, body string) (out string, ok bool, err error) {
	if _, err := fmt.Fprintf(r.in, "%d\n%s%d\n%s", len(src), src, len(body), body); err != nil {
		return "", false, err
	}
	line, err := r.out.ReadString('\n')
	if err != nil {
		return "", false, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		return "", false, err
	}
	if n < 0 {
		return "", false, nil
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r.out, b); err != nil {
		return "", false, err
	}
	return string(b), true, nil
}

var (
	indexThenDottedWord = regexp.MustCompile(`\][A-Za-z_][A-Za-z0-9_-]*\.`)
	braceAfterWord      = regexp.MustCompile(`[A-Za-z0-9_)\]-]\{`)
	// Velocity 1.7's block macro calls, #@name(…)…#end, which this package does not have.
	blockMacro = regexp.MustCompile(`#@|#[A-Za-z][A-Za-z0-9_-]*@`)
	// "$a.b$c(": what follows a property glued to a reference with "(" (lexer state).
	// A "#" among a call's arguments: "#A(#A)" and "$a.b(#A" print as text in Velocity.
	hashInCallArgs      = regexp.MustCompile(`\([^)]*#`)
	callGluedToProperty = regexp.MustCompile(`\.[A-Za-z][A-Za-z0-9_-]*\$!?[A-Za-z][A-Za-z0-9_-]*\(`)
	wellFormedForeach   = regexp.MustCompile(`#\{?foreach\}?[ \t]*\([ \t]*\$[A-Za-z][A-Za-z0-9_-]*[ \t]+in[ \t]`)
)

// velocityGap reports templates that reach a documented difference from Velocity 1.7
// ("Known differences" in doc.go) or one the generated batch of TestVelocityOracle also
// leaves out, so that FuzzVelocityOracle reports new differences only.
func velocityGap(src string) bool {
	if strings.Contains(strings.ReplaceAll(src, " ##", ""), "##") || strings.Contains(src, "$$") {
		return true // lexer state after references
	}
	for _, s := range []string{
		"\\",                                    // escapes next to references and directives (lexer state)
		"#define", "toUpperCase", "toLowerCase", // rendered at #set; one-to-many case maps
		"split", "replaceAll", "replaceFirst", "matches", // java.util.regex vs RE2
		"keySet", "values", "entrySet", // copies, not views
		"#end[", // "[" after a block ending in a property
	} {
		if strings.Contains(src, s) {
			return true
		}
	}
	// Text glued to an index, then a dot: "$list[0]x.y"; a "{" glued to a reference:
	// "$name{x}" (lexer state, both found by this target).
	if indexThenDottedWord.MatchString(src) || braceAfterWord.MatchString(src) || blockMacro.MatchString(src) ||
		callGluedToProperty.MatchString(src) || hashInCallArgs.MatchString(src) {
		return true
	}
	// An unclosed block comment with another "#*" inside: Velocity's "#**" (formal comment)
	// tokens make some fail ("#*#**0").
	if n := strings.Count(src, "#*"); n >= 2 && n > strings.Count(src, "*#") {
		return true
	}
	// A #foreach header other than ($name in …), which Velocity 1.7 takes in odd ways.
	if strings.Count(src, "foreach") != len(wellFormedForeach.FindAllStringIndex(src, -1)) {
		return true
	}
	// A lone "$" or "#" next to a reference or directive (lexer state).
	for i := 0; i < len(src); i++ {
		if c := src[i]; c == '$' || c == '#' {
			next := byte(0)
			if i+1 < len(src) {
				next = src[i+1]
			}
			if c == '$' {
				// "$!", "${" and "$!{" count as a reference only when a name follows.
				j := i + 1
				for _, p := range []string{"!", "{"} {
					if strings.HasPrefix(src[j:], p) {
						j++
					}
				}
				next = 0
				if j < len(src) {
					next = src[j]
				}
				if next == '_' {
					next = 'a'
				}
			}
			letter := next >= 'a' && next <= 'z' || next >= 'A' && next <= 'Z'
			if c == '$' && !letter || c == '#' && !(letter || next == '{' || next == '*' || next == '[' || next == '#') {
				return true
			}
		}
	}
	return false
}

// limitError reports a render stopped by one of this package's limits, which Velocity does
// not have (it would run on, or out of memory).
func limitError(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	for _, s := range []string{"larger than", "more than", "deeper than", "steps", "too large", "out of the supported range", "recursion"} {
		if strings.Contains(e.Msg, s) {
			return true
		}
	}
	return false
}

// FuzzVelocityOracle renders random templates over random JSON bodies with this package and
// with Apache Velocity 1.7 (the harness, when Java and the jars are present) and reports the
// first difference: in the output, or in whether the render fails. The seeds run in every
// go test; `go test -fuzz FuzzVelocityOracle` explores. Left out: what velocityGap names and
// renders this package stops at a limit; a body that is not strict JSON (AWS fails it,
// json-smart's permissive parser reads some: awsDifferences) is replaced by the corpus body.
func FuzzVelocityOracle(f *testing.F) {
	if testing.Short() {
		f.Skip("SKIPPED in -short mode: the reference-engine comparison did not run")
	}
	for _, seed := range [][2]string{
		{"$input.path('$.a')|$input.json('$')", `{"a": 1.000000000000000000, "b": [1, 2.5, "x"]}`},
		{"#foreach($r in $input.path('$.r'))$r.v#if($foreach.hasNext),#end#end", `{"r": [{"v": 1}, {"v": 123456789.123456789}, {"v": null}]}`},
		{"#set($x = $input.path('$.d'))#set($y = $x * 3 - 0.1)$y|#set($z = $x / 7)$z", `{"d": 2.500000000000000000}`},
		{"$util.base64Decode($input.path('$.t'))|$util.base64Encode($input.path('$.t'))", `{"t": "eyJ0b3AiOlsiYSIsImIiXX0"}`},
		{"#set($m = $input.path('$'))$m.size() $m.k #if($m.n > 1)big#else small#end", `{"k": "v", "n": 12345678901234567890}`},
		{"$input.json('$.x[1]')$input.path('$.x').size()", `{"x": [true, false, null, {"y": "é/\u0001"}]}`},
		{"#set($p = $util.parseJson($input.json('$')))$p.a.b", `{"a": {"b": [1e3, -0.0, 1E-7]}}`},
		{"$input.body|$input.params('stream-name')", ``},
	} {
		f.Add(seed[0], seed[1])
	}
	ref := startVelocityRef(f)
	f.Fuzz(func(t *testing.T, src, body string) {
		if len(src) > 400 || len(body) > 4096 || !utf8.ValidString(src) || !utf8.ValidString(body) || velocityGap(src) {
			return
		}
		in := goldenInput()
		if len(body) > 0 && ValidateJSON([]byte(body)) != nil {
			// Most mutated bodies are not JSON; the template still gets a run, over the
			// corpus body (testdata/velocity/body.json).
			body = string(in.Body)
		}
		in.Body = []byte(body)
		got, err := render("fuzz", src, in)
		if limitError(err) {
			return
		}
		want, ok, rerr := ref.render(src, body)
		if rerr != nil {
			t.Fatalf("the reference engine: %v", rerr)
		}
		if strings.Contains(want, "Render$") {
			return // the harness's own objects print their identity ($input, $util)
		}
		switch {
		case !ok && err == nil:
			t.Fatalf("Velocity 1.7 fails this render; we rendered it\nsrc:  %q\nbody: %q\ngot:  %q", src, body, got)
		case ok && err != nil:
			t.Fatalf("we fail this render; Velocity 1.7 renders it\nsrc:  %q\nbody: %q\nerr:  %v\nwant: %q", src, body, err, want)
		case ok && got != want:
			t.Fatalf("output differs from Velocity 1.7\nsrc:  %q\nbody: %q\ngot:  %q\nwant: %q", src, body, got, want)
		}
	})
}
