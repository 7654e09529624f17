package app

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/localpipe/localpipe/internal/lazyre"
)

// TestPatternsCompile compiles every pattern the services declared with lazyre: they are
// compiled on first use, so a bad one would otherwise surface only when a request needs it.
// This package links every service, so All holds all of them.
func TestPatternsCompile(t *testing.T) {
	all := lazyre.All()
	if len(all) < 30 {
		t.Fatalf("lazyre.All() has %d patterns; the services declare more than 30", len(all))
	}
	for _, r := range all {
		if _, err := regexp.Compile(r.String()); err != nil {
			t.Errorf("pattern %q: %v", r.String(), err)
		}
	}
}

// TestNoPatternCompiledAtStart keeps start-up free of regular-expression compiles: a
// package-level regexp.MustCompile in a package the binary links runs before the server can
// answer (the channel patterns cost 70 page faults at start until they moved to lazyre).
func TestNoPatternCompiledAtStart(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("SKIPPED: no go command to list packages with")
	}
	out, err := exec.Command("go", "list", "-deps", "-f", `{{if not .Standard}}{{.Dir}}{{range .GoFiles}} {{.}}{{end}}{{end}}`, "github.com/localpipe/localpipe/cmd/localpipe").Output()
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || !strings.HasPrefix(filepath.ToSlash(fields[0]), filepath.ToSlash(moduleRoot(t))) {
			continue // another module's package
		}
		for _, name := range fields[1:] {
			f, err := parser.ParseFile(fset, filepath.Join(fields[0], name), nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			checked++
			for _, decl := range f.Decls {
				if gd, ok := decl.(*ast.GenDecl); ok && gd.Tok == token.VAR {
					ast.Inspect(gd, func(n ast.Node) bool {
						switch n := n.(type) {
						case *ast.FuncLit:
							return false // runs when called, not at start
						case *ast.SelectorExpr:
							if x, ok := n.X.(*ast.Ident); ok && x.Name == "regexp" && strings.HasPrefix(n.Sel.Name, "MustCompile") {
								t.Errorf("%s: package-level regexp.%s runs at start; declare it with lazyre.New (or sync.OnceValue where lazyre may not be imported)", fset.Position(n.Pos()), n.Sel.Name)
							}
						}
						return true
					})
				}
			}
		}
	}
	if checked < 50 {
		t.Fatalf("checked %d files of ours; go list gave:\n%s", checked, out)
	}
}

// moduleRoot is the directory of this module's go.mod.
func moduleRoot(t *testing.T) string {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}
