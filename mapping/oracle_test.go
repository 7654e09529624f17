package mapping

import (
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// The jars of Debian's velocity, libcommons-collections3-java, libcommons-lang-java,
// libjsonpath-java and libjson-smart-java (with their dependencies), which .ci/run installs.
// Render.java's $input runs Jayway JsonPath, as AWS's does.
var velocityClasspath = append([]string{
	"/usr/share/java/velocity-1.7.jar",
	"/usr/share/java/commons-collections3.jar",
	"/usr/share/java/commons-lang.jar",
}, jaywayClasspath...)

// compileHarness compiles testdata/velocity/Render.java and returns the java command line
// that runs it. It skips the test, saying so, when Java or the jars are missing.
func compileHarness(t testing.TB) []string {
	t.Helper()
	javac, err1 := exec.LookPath("javac")
	java, err2 := exec.LookPath("java")
	if err1 != nil || err2 != nil {
		t.Skip("SKIPPED: no javac/java on PATH; the reference-engine comparison did not run (the committed goldens are still checked by TestGoldenVelocity)")
	}
	for _, jar := range velocityClasspath {
		if _, err := os.Stat(jar); err != nil {
			t.Skipf("SKIPPED: %s missing (apt-get install velocity libcommons-lang-java libjsonpath-java libjson-smart-java); the reference-engine comparison did not run", jar)
		}
	}
	classes := t.TempDir()
	cp := strings.Join(velocityClasspath, ":")
	if out, err := exec.Command(javac, "-d", classes, "-cp", cp, "testdata/velocity/Render.java").CombinedOutput(); err != nil {
		t.Fatalf("javac: %v\n%s", err, out)
	}
	return []string{java, "-cp", classes + ":" + cp, "Render"}
}

// runVelocity renders every .vm file in dir with Apache Velocity 1.7 (compileHarness).
func runVelocity(t *testing.T, dir string) {
	t.Helper()
	cmd := compileHarness(t)
	if out, err := exec.Command(cmd[0], append(cmd[1:], dir, "testdata/velocity/body.json")...).CombinedOutput(); err != nil {
		t.Fatalf("java Render: %v\n%s", err, out)
	}
}

// TestVelocityOracle renders the golden corpus and a batch of generated templates with the
// real Velocity 1.7 and with this package, and compares them byte for byte.
func TestVelocityOracle(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED in -short mode: the reference-engine comparison did not run")
	}
	dir := t.TempDir()
	files, _ := filepath.Glob("testdata/lang/*.vm")
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A fixed seed keeps failures reproducible; MAPPING_ORACLE_SEED explores others.
	seed := int64(1)
	if v := os.Getenv("MAPPING_ORACLE_SEED"); v != "" {
		fmt.Sscan(v, &seed)
	}
	gen := generateTemplates(rand.New(rand.NewSource(seed)), 1500)
	gen = append(gen, fuzzCorpusTemplates(t)...)
	for i, src := range gen {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("gen%04d.vm", i)), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	runVelocity(t, dir)

	// The committed goldens must be what Velocity says today.
	for _, f := range files {
		fresh, err := os.ReadFile(filepath.Join(dir, strings.TrimSuffix(filepath.Base(f), ".vm")+".out"))
		if err != nil {
			t.Fatal(err)
		}
		committed, err := os.ReadFile(strings.TrimSuffix(f, ".vm") + ".out")
		if err != nil || string(committed) != string(fresh) {
			t.Errorf("%s: committed golden is stale; run testdata/velocity/run.sh", f)
		}
	}
	mismatches, rejected := 0, 0
	for i, src := range gen {
		want, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("gen%04d.out", i)))
		if err != nil {
			t.Fatal(err)
		}
		got, rerr := render("gen", src, goldenInput())
		if string(want) == "!ERROR\n" {
			// Velocity rejects it, so AWS would fail the request: so must we (the messages
			// differ and are not compared).
			rejected++
			if rerr == nil {
				mismatches++
				if mismatches <= 10 {
					t.Errorf("Velocity 1.7 rejects this generated template; we rendered it\nsrc: %q\ngot: %q", src, got)
				}
			}
			continue
		}
		if rerr != nil || got != string(want) {
			mismatches++
			if mismatches <= 10 {
				t.Errorf("generated template differs from Velocity 1.7\nsrc:  %q\ngot:  %q (%v)\nwant: %q", src, got, rerr, want)
			}
		}
	}
	if mismatches > 10 {
		t.Errorf("%d generated templates differ in all", mismatches)
	}
	t.Logf("compared %d corpus templates and %d generated ones (%d of them rejected by Velocity) with Velocity 1.7", len(files), len(gen), rejected)
}

// fuzzCorpusTemplates are the fuzz targets' seeds and committed corpus, leaving out those
// that only test this package's limits (Velocity would run out of memory or stack on them).
func fuzzCorpusTemplates(t *testing.T) []string {
	srcs := append([]string(nil), fuzzSeeds...)
	for _, dir := range []string{"testdata/fuzz/FuzzParse", "testdata/fuzz/FuzzExecute"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*"))
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range strings.Split(string(data), "\n") {
				if q, ok := strings.CutPrefix(line, "string("); ok {
					if s, err := strconv.Unquote(strings.TrimSuffix(q, ")")); err == nil {
						srcs = append(srcs, s)
					}
				}
			}
		}
	}
	var out []string
	for _, s := range srcs {
		// Java reads the template as UTF-8 text; the fuzzers also feed invalid bytes.
		if !utf8.ValidString(s) || strings.Contains(s, "$s$s") || strings.Contains(s, "$a.add($b)") {
			continue
		}
		out = append(out, s)
	}
	return out
}

// generateTemplates builds random templates from fragments that exercise whitespace around
// directives, references, escapes and expressions.
func generateTemplates(r *rand.Rand, n int) []string {
	refs := []string{"$name", "$n", "$d", "$flag", "$list", "$map", "$map.a", "$map.partition-key", "$list[1]",
		"$undef", "$!undef", "${name}", "$!{n}", "$name.length()", "$map.nested.k", "$list.size()", "$i", "$x",
		// $input and $util, which the harness runs on Jayway JsonPath and Commons Lang.
		"$input.path('$.n')", "$input.path('$.records')", "$input.path('$.nested')", "$input.path('$.records[1]')",
		"$input.json('$.s')", "$input.json('$.records[*].partition-key')", "$input.path('$.d')", "$input.path('$.tenth')",
		"$input.path('$.missing')", "$input.params('stream-name')", "$input.params().querystring",
		"$util.escapeJavaScript($quote)", "$util.escapeJavaScript($input.path('$.s'))", "$util.base64Encode($name)",
		"$util.urlEncode($quote)", "$util.parseJson('{\"a\":[1,{\"b\":null}]}')", "$quote.replaceAll('\"', \"'\")",
		"$name.toUpperCase()", "$input.path('$.names').get(2)", "$input.path('$.nested.m').k"}
	exprs := []string{"1", "-2", "3.5", "'s'", "\"i$n\"", "true", "false", "$n", "$d", "$list", "$undef",
		"[1, 2]", "[1..3]", "{'k': 1}", "($n + 1)", "$input.path('$.n')", "$input.path('$.tenth')", "2147483647",
		"0.1", "$input.path('$.t')", "$input.path('$.missing')", "$name.length()", "\"$name\""}
	ops := []string{"+", "-", "*", "/", "%", "==", "!=", "<", ">", "<=", ">=", "&&", "||", "eq", "and", "or"}
	// No lone "$", "#" or "\\" text: next to references and directives they hit lexer-state
	// quirks of Velocity 1.7 that depend on what came before ("Known differences" in doc.go); the
	// corpus pins down the cases that are emulated.
	texts := []string{"a", " ", "  ", "\n", " \n", "\t", "x y", "\n  ", ",", "'", "\"", "a\\b", "a#b", "a$ b"}
	expr := func() string {
		if r.Intn(2) == 0 {
			return exprs[r.Intn(len(exprs))]
		}
		return exprs[r.Intn(len(exprs))] + " " + ops[r.Intn(len(ops))] + " " + exprs[r.Intn(len(exprs))]
	}
	var frag func(depth int) string
	frag = func(depth int) string {
		switch k := r.Intn(15); {
		case k < 3:
			return texts[r.Intn(len(texts))]
		case k < 5:
			return refs[r.Intn(len(refs))]
		case k == 5:
			return "#set($x = " + expr() + ")"
		case k == 6 && depth < 3:
			s := "#if(" + expr() + ")" + frag(depth+1) + frag(depth+1)
			if r.Intn(2) == 0 {
				s += "#else" + frag(depth+1)
			}
			return s + "#end"
		case k == 7 && depth < 3:
			return "#foreach($i in " + []string{"$list", "[1..3]", "$map", "[]"}[r.Intn(4)] + ")" + frag(depth+1) + frag(depth+1) + "#end"
		case k == 8:
			// An escaped reference with a method call leaves Velocity 1.7's lexer in a state
			// where a later "[" starts an index ("Known differences" in doc.go); not emulated.
			ref := refs[r.Intn(len(refs))]
			for strings.Contains(ref, "(") {
				ref = refs[r.Intn(len(refs))]
			}
			return "\\" + ref
		// Comments come after a space: right after a reference, Velocity 1.7's lexer
		// sometimes keeps a reference state that makes later "##" plain text (see
		// "Known differences" in the package doc); the corpus covers the cases we emulate.
		case k == 9:
			return " ## c\n"
		case k == 10:
			return " #* c *#"
		case k == 12 && depth < 3:
			switch r.Intn(6) {
			case 0:
				return "#define($dd)" + frag(depth+1) + "#end$dd$dd"
			case 1:
				return "#set($x = " + expr() + ")#set($y = $x " + ops[r.Intn(len(ops))] + " " + expr() + ")$y"
			case 2:
				return "\\#end \\#foreach \\#set"
			case 3:
				return "#macro(cbn $a)$a$a#end#set($c = 0)#cbn($list.size())#cbn(\"$c\")"
			case 4:
				return "#set($q = 2147483647)#set($q = $q * " + fmt.Sprint(r.Intn(5)) + " + " + fmt.Sprint(r.Intn(3)) + ")$q"
			default:
				return "#if(" + expr() + ")#stop#end"
			}
		case k == 13 && depth < 3:
			switch r.Intn(6) {
			case 0:
				return "#foreach($r in $input.path('$.records'))" + frag(depth+1) + "$r.partition-key:$util.base64Encode($r.data)#if($foreach.hasNext),#end$foreach.count#end"
			case 1:
				return "#{if}(" + expr() + ")" + frag(depth+1) + "#{else}" + frag(depth+1) + "#{end}"
			case 2:
				return "#[[" + refs[r.Intn(len(refs))] + " #if(]]#"
			case 3:
				return "#macro(two $a $b)<$b|$a>#end#two(" + refs[r.Intn(len(refs))] + " " + refs[r.Intn(len(refs))] + ")"
			case 4:
				return "#foreach($a in [1, 2])#foreach($b in $input.path('$.names'))" + frag(depth+1) + "$foreach.parent.count$b#end#end"
			default:
				return "#set($m = " + []string{"$input.path('$.nested.m')", "{}", "$map"}[r.Intn(3)] + ")#set($m.z = " + expr() + ")$m"
			}
		case k == 11 && depth < 3:
			switch r.Intn(8) {
			case 0:
				return "#if(" + expr() + ")" + frag(depth+1) + "#elseif(" + expr() + ")" + frag(depth+1) + "#end"
			case 1:
				// "<$p>", not "[$p]": after "$a.b$c#end" Velocity 1.7's lexer reads a "["
				// as an index and rejects the template ("Known differences" in doc.go);
				// not emulated.
				return "#macro(m" + fmt.Sprint(r.Intn(2)) + " $p)" + frag(depth+1) + "<$p>#end"
			case 2:
				return "#m" + fmt.Sprint(r.Intn(2)) + "(" + expr() + ")"
			case 3:
				return "#foreach($j in [1..2])" + frag(depth+1) + "$foreach.index$velocityCount#if($j == 2)#break#end#end"
			case 4:
				return "#set($map.k = " + expr() + ")$map.k"
			case 5:
				return "\\#if(true)"
			case 6:
				return "$name.substring(" + fmt.Sprint(r.Intn(4)) + ")$name.replace('o', \"$n\")$list.get(" + fmt.Sprint(r.Intn(3)) + ")"
			default:
				return "#set($s = \"<$name " + refs[r.Intn(len(refs))] + ">\")$s"
			}
		default:
			return "$foreach.hasNext"
		}
	}
	out := make([]string, 0, n)
	for len(out) < n {
		var b strings.Builder
		for j := r.Intn(8) + 1; j > 0; j-- {
			b.WriteString(frag(0))
		}
		src := b.String()
		// Leave out what hits Velocity 1.7 quirks we do not emulate: "##" glued to what
		// precedes it, and "$$" before a directive.
		// Also left out: an escaped reference with an index (Velocity lexes what follows
		// it differently) and string + on a null arithmetic result (Velocity substitutes
		// an odd slice of the expression's tokens).
		if strings.Contains(strings.ReplaceAll(src, " ##", ""), "##") || strings.Contains(src, "$$") ||
			strings.Contains(src, "\\$list[") || strings.Contains(src, "#set($y = $x") {
			continue
		}
		out = append(out, src)
	}
	return out
}
