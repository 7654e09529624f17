package mapping

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestJSONPathJayway compares the JSONPath subset with Jayway JsonPath 2.0 (the Java
// implementation AWS's reference links to), whose results testdata/velocity/run.sh records in
// testdata/jsonpath/paths.out: each result printed by json-smart, "!MISSING" for a definite
// path that matches nothing, "!ERROR" for a path Jayway rejects.
func TestJSONPathJayway(t *testing.T) {
	docText, err := os.ReadFile("testdata/jsonpath/doc.json")
	if err != nil {
		t.Fatal(err)
	}
	paths, err := os.ReadFile("testdata/jsonpath/paths.txt")
	if err != nil {
		t.Fatal(err)
	}
	outs, err := os.ReadFile("testdata/jsonpath/paths.out")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := parseJSON(string(docText), true)
	if err != nil {
		t.Fatal(err)
	}
	ps := strings.Split(strings.TrimRight(string(paths), "\n"), "\n")
	ws := strings.Split(strings.TrimRight(string(outs), "\n"), "\n")
	if len(ps) != len(ws) {
		t.Fatalf("%d paths but %d results; run testdata/velocity/run.sh", len(ps), len(ws))
	}
	for i, p := range ps {
		want := ws[i]
		var got string
		jp, err := parsePath(p)
		if err != nil {
			got = "!ERROR"
		} else if v, found, err := jp.eval(doc); err != nil {
			got = "!ERROR"
		} else if !found {
			got = "!MISSING"
		} else {
			var b strings.Builder
			writeJSON(&b, v)
			got = b.String()
		}
		if got != want {
			t.Errorf("%s\n got: %s\nwant: %s", p, got, want)
		}
	}
}

var jaywayClasspath = []string{
	"/usr/share/java/json-path.jar", "/usr/share/java/json-smart.jar", "/usr/share/java/accessors-smart.jar",
	"/usr/share/java/asm.jar", "/usr/share/java/slf4j-api.jar", "/usr/share/java/slf4j-nop.jar",
}

// TestJaywayOracle re-runs Jayway JsonPath over the path list when Java and the jars are
// installed, and checks that the committed testdata/jsonpath/paths.out is current.
func TestJaywayOracle(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED in -short mode: the Jayway comparison did not run")
	}
	javac, err1 := exec.LookPath("javac")
	java, err2 := exec.LookPath("java")
	if err1 != nil || err2 != nil {
		t.Skip("SKIPPED: no javac/java on PATH; the Jayway comparison did not run (TestJSONPathJayway still checks the committed results)")
	}
	for _, jar := range jaywayClasspath {
		if _, err := os.Stat(jar); err != nil {
			t.Skipf("SKIPPED: %s missing (apt-get install libjsonpath-java libjson-smart-java); the Jayway comparison did not run", jar)
		}
	}
	dir := t.TempDir()
	cp := strings.Join(jaywayClasspath, ":")
	if out, err := exec.Command(javac, "-d", dir, "-cp", cp, "testdata/velocity/JsonPathRun.java").CombinedOutput(); err != nil {
		t.Fatalf("javac: %v\n%s", err, out)
	}
	fresh := filepath.Join(dir, "paths.out")
	if out, err := exec.Command(java, "-cp", dir+":"+cp, "JsonPathRun", "testdata/jsonpath/doc.json", "testdata/jsonpath/paths.txt", fresh).CombinedOutput(); err != nil {
		t.Fatalf("java JsonPathRun: %v\n%s", err, out)
	}
	a, _ := os.ReadFile(fresh)
	b, _ := os.ReadFile("testdata/jsonpath/paths.out")
	if string(a) != string(b) {
		t.Errorf("testdata/jsonpath/paths.out is stale; run testdata/velocity/run.sh")
	}
}
