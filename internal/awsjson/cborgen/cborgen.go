// Package cborgen generates a service's CBOR table (awsjson.CBOROperation by operation: the
// paths of its blob and timestamp members) from the shape schemas the AWS SDK for Go v2
// ships with the service (schemas/schemas.go), which follow the current service model.
// TestGenerated keeps the generated file equal to what the pinned SDK defines.
package cborgen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os/exec"
	"sort"
	"strconv"
	"strings"
)

// ModuleDir returns the module cache directory and version of an SDK module as the module at
// moduleRoot pins it.
func ModuleDir(moduleRoot, module string) (dir, version string, err error) {
	cmd := exec.Command("go", "mod", "download", "-json", module)
	cmd.Dir = moduleRoot
	out, err := cmd.Output()
	if err != nil {
		return "", "", fmt.Errorf("go mod download %s: %w", module, err)
	}
	var mod struct{ Dir, Version string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		return "", "", fmt.Errorf("go mod download %s: no module directory in %q", module, out)
	}
	return mod.Dir, mod.Version, nil
}

// shape is one schema of schemas.go: its smithy type (ShapeTypeStructure → "Structure") and
// its members in declaration order.
type shape struct {
	typ     string
	members []member
}

type member struct{ name, target string }

// Type is the shape's smithy type: "Structure", "List", "String", "Blob", ….
func (s *shape) Type() string { return s.typ }

// Member is one member of a shape, as Members lists it.
type Member struct{ Name, Target string }

// Members lists the shape's members in declaration order (a list's one is "member").
func (s *shape) Members() []Member {
	ms := make([]Member, len(s.members))
	for i, m := range s.members {
		ms[i] = Member{m.name, m.target}
	}
	return ms
}

// Schemas reads the shapes of an SDK service's schemas/schemas.go. Shapes are the package
// variables built with smithy.NewSchema; members are the AddMember calls in init. A target in
// the smithy prelude is named "prelude.Name".
func Schemas(src []byte) (map[string]*shape, error) {
	f, err := parser.ParseFile(token.NewFileSet(), "schemas.go", src, 0)
	if err != nil {
		return nil, err
	}
	shapes := map[string]*shape{}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				vs, ok := spec.(*ast.ValueSpec)
				if !ok || len(vs.Names) != 1 || len(vs.Values) != 1 {
					continue
				}
				call, ok := vs.Values[0].(*ast.CallExpr)
				if !ok || selName(call.Fun) != "NewSchema" || len(call.Args) < 2 {
					continue
				}
				typ := strings.TrimPrefix(selName(call.Args[1]), "ShapeType")
				shapes[vs.Names[0].Name] = &shape{typ: typ}
			}
		case *ast.FuncDecl:
			if d.Name.Name != "init" || d.Body == nil {
				continue
			}
			for _, st := range d.Body.List {
				as, ok := st.(*ast.AssignStmt)
				if !ok || len(as.Rhs) != 1 {
					continue
				}
				call, ok := as.Rhs[0].(*ast.CallExpr)
				if !ok || selName(call.Fun) != "AddMember" || len(call.Args) < 2 {
					continue
				}
				owner, _ := call.Fun.(*ast.SelectorExpr).X.(*ast.Ident)
				lit, _ := call.Args[0].(*ast.BasicLit)
				if owner == nil || lit == nil || shapes[owner.Name] == nil {
					return nil, fmt.Errorf("schemas.go: unexpected AddMember form at %v", call.Pos())
				}
				name, err := strconv.Unquote(lit.Value)
				if err != nil {
					return nil, err
				}
				var target string
				switch t := call.Args[1].(type) {
				case *ast.Ident:
					target = t.Name
				case *ast.SelectorExpr:
					target = "prelude." + t.Sel.Name
				default:
					return nil, fmt.Errorf("schemas.go: unexpected member target for %s.%s", owner.Name, name)
				}
				s := shapes[owner.Name]
				s.members = append(s.members, member{name, target})
			}
		}
	}
	if len(shapes) == 0 {
		return nil, fmt.Errorf("schemas.go: no schemas found")
	}
	return shapes, nil
}

func selName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.SelectorExpr:
		return e.Sel.Name
	case *ast.Ident:
		return e.Name
	}
	return ""
}

// kindOf names the special kind of a shape type, or "".
func kindOf(s *shape, target string) string {
	typ := ""
	if s != nil {
		typ = s.typ
	} else if p, ok := strings.CutPrefix(target, "prelude."); ok {
		typ = strings.TrimPrefix(strings.TrimPrefix(p, "Primitive"), "Unit")
	}
	switch typ {
	case "Blob":
		return "awsjson.CBORBlob"
	case "Timestamp":
		return "awsjson.CBORTimestamp"
	}
	return ""
}

// Paths lists the blob and timestamp members under shape name, by path.
func Paths(shapes map[string]*shape, name string) map[string]string {
	out := map[string]string{}
	var walk func(target string, path []string, seen map[string]bool)
	walk = func(target string, path []string, seen map[string]bool) {
		s := shapes[target]
		if k := kindOf(s, target); k != "" {
			out[strings.Join(path, ".")] = k
			return
		}
		if s == nil || seen[target] {
			return
		}
		seen[target] = true
		defer delete(seen, target)
		for _, m := range s.members {
			switch s.typ {
			case "Structure", "Union":
				walk(m.target, append(path, m.name), seen)
			case "List", "Set":
				walk(m.target, append(path, "[]"), seen)
			case "Map":
				if m.name == "value" {
					walk(m.target, append(path, "{}"), seen)
				}
			}
		}
	}
	if _, ok := shapes[name]; ok {
		walk(name, nil, map[string]bool{})
	}
	return out
}

// Generate writes the Go file of package pkg that declares table: every operation with a blob
// or timestamp in its input (the shape <Op>Input, as the SDK names it) or output (<Op>Output).
func Generate(schemasGo []byte, pkg, table, source string) ([]byte, error) {
	shapes, err := Schemas(schemasGo)
	if err != nil {
		return nil, err
	}
	var ops []string
	for name, s := range shapes {
		if s.typ == "Operation" {
			ops = append(ops, name)
		}
	}
	sort.Strings(ops)
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by internal/awsjson/cborgen from %s; DO NOT EDIT.\n\n", source)
	fmt.Fprintf(&b, "package %s\n\n", pkg)
	b.WriteString("import \"github.com/localpipe/localpipe/internal/awsjson\"\n\n")
	fmt.Fprintf(&b, "// %s lists the blob and timestamp members of every operation that has any.\n", table)
	fmt.Fprintf(&b, "var %s = map[string]awsjson.CBOROperation{\n", table)
	for _, op := range ops {
		in, out := Paths(shapes, op+"Input"), Paths(shapes, op+"Output")
		if len(in) == 0 && len(out) == 0 {
			continue
		}
		fmt.Fprintf(&b, "%q: {\n", op)
		for _, side := range []struct {
			name  string
			paths map[string]string
		}{{"In", in}, {"Out", out}} {
			if len(side.paths) == 0 {
				continue
			}
			fmt.Fprintf(&b, "%s: map[string]awsjson.CBORKind{\n", side.name)
			keys := make([]string, 0, len(side.paths))
			for k := range side.paths {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				fmt.Fprintf(&b, "%q: %s,\n", k, side.paths[k])
			}
			b.WriteString("},\n")
		}
		b.WriteString("},\n")
	}
	b.WriteString("}\n")
	return format.Source(b.Bytes())
}
