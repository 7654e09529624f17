// Package opgen derives S3's operation table (method, URI, the query parameters and headers
// that tell one operation from another) from the AWS SDK for Go v2's generated S3 client, the
// most current machine-readable copy of the S3 model we can pin in go.mod. Its test
// regenerates s3api's operations_gen.go and fails when the committed table is stale.
package opgen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// SDKModule is the module whose generated serializers and validators are read.
const SDKModule = "github.com/aws/aws-sdk-go-v2/service/s3"

// Op is one S3 operation as the wire sees it.
type Op struct {
	Name   string
	Method string
	// Target is what the path addresses: "service" (no bucket), "bucket", "object", or
	// "path" for an operation on a fixed path outside any bucket (Path holds it).
	Target string
	Path   string
	// Query is the URI's literal query: sub-resource keys, with a value where the model
	// fixes one ("list-type=2"). x-id is not part of it: SDKs add it, other clients do not.
	Query [][2]string
	XID   string
	// RequiredQuery and RequiredHeaders are members the model requires that travel in the
	// query string or headers (lower-case header names).
	RequiredQuery   []string
	RequiredHeaders []string
}

// ModuleDir finds the pinned SDK module in the module cache through the go command, and
// its version.
func ModuleDir(moduleRoot string) (dir, version string, err error) {
	cmd := exec.Command("go", "mod", "download", "-json", SDKModule)
	cmd.Dir = moduleRoot
	out, err := cmd.Output()
	if err != nil {
		return "", "", fmt.Errorf("go mod download %s: %w", SDKModule, err)
	}
	var mod struct{ Dir, Version string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		return "", "", fmt.Errorf("go mod download %s: no module directory in %q", SDKModule, out)
	}
	return mod.Dir, mod.Version, nil
}

var (
	reOp      = regexp.MustCompile(`(?s)func \(m \*awsRestxml_serializeOp(\w+)\) HandleSerialize\(.*?httpbinding\.SplitURI\("([^"]*)"\).*?request\.Method = "(\w+)"`)
	reBind    = regexp.MustCompile(`(?s)^func awsRestxml_serializeOpHttpBindings(\w+)Input\(`)
	reMember  = regexp.MustCompile(`if v\.(\w+) != nil \{\s*(?:locationName := "([^"]+)"|(?:for [^\n]*\n\s*)?encoder\.(?:Set|Add)Query\("([^"]+)"\))`)
	reValid   = regexp.MustCompile(`(?s)^func validateOp(\w+)Input\(`)
	reReq     = regexp.MustCompile(`if v\.(\w+) == nil \{\s*invalidParams\.Add\(smithy\.NewErrParamRequired\("(\w+)"\)\)`)
	reFuncSep = regexp.MustCompile(`(?m)^func `)
)

// Parse reads serializers.go and validators.go of the SDK module in dir.
func Parse(dir string) ([]Op, error) {
	ser, err := os.ReadFile(filepath.Join(dir, "serializers.go"))
	if err != nil {
		return nil, err
	}
	val, err := os.ReadFile(filepath.Join(dir, "validators.go"))
	if err != nil {
		return nil, err
	}
	// location of each member of each operation's input: "h:name" or "q:name".
	where := map[string]map[string]string{}
	for _, fn := range splitFuncs(ser) {
		m := reBind.FindSubmatch(fn)
		if m == nil {
			continue
		}
		locs := map[string]string{}
		for _, mm := range reMember.FindAllSubmatch(fn, -1) {
			if len(mm[2]) > 0 {
				locs[string(mm[1])] = "h:" + strings.ToLower(string(mm[2]))
			} else {
				locs[string(mm[1])] = "q:" + string(mm[3])
			}
		}
		where[string(m[1])] = locs
	}
	required := map[string][]string{}
	for _, fn := range splitFuncs(val) {
		m := reValid.FindSubmatch(fn)
		if m == nil {
			continue
		}
		for _, mm := range reReq.FindAllSubmatch(fn, -1) {
			required[string(m[1])] = append(required[string(m[1])], string(mm[1]))
		}
	}
	var ops []Op
	for _, m := range reOp.FindAllSubmatch(ser, -1) {
		op := Op{Name: string(m[1]), Method: string(m[3])}
		uri := string(m[2])
		path, query, _ := strings.Cut(uri, "?")
		hasBucket := false
		for _, r := range required[op.Name] {
			hasBucket = hasBucket || r == "Bucket"
		}
		switch {
		case strings.Contains(path, "{Key+}"):
			op.Target = "object"
		case path == "/" && hasBucket:
			op.Target = "bucket"
		case path == "/":
			op.Target = "service"
		case !strings.Contains(path, "{"):
			op.Target, op.Path = "path", path
		default:
			return nil, fmt.Errorf("%s: URI %q has a shape the table cannot express", op.Name, uri)
		}
		for _, kv := range strings.Split(query, "&") {
			if kv == "" {
				continue
			}
			k, v, _ := strings.Cut(kv, "=")
			if k == "x-id" {
				op.XID = v
				continue
			}
			op.Query = append(op.Query, [2]string{k, v})
		}
		for _, member := range required[op.Name] {
			loc, ok := where[op.Name][member]
			if !ok {
				continue // Bucket (host or path), Key (path) or the body
			}
			if name, ok := strings.CutPrefix(loc, "h:"); ok {
				op.RequiredHeaders = append(op.RequiredHeaders, name)
			} else {
				op.RequiredQuery = append(op.RequiredQuery, strings.TrimPrefix(loc, "q:"))
			}
		}
		sort.Strings(op.RequiredHeaders)
		sort.Strings(op.RequiredQuery)
		ops = append(ops, op)
	}
	if len(ops) < 100 {
		return nil, fmt.Errorf("found only %d operations in %s: has the SDK's generated code changed shape?", len(ops), dir)
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].Name < ops[j].Name })
	return ops, nil
}

func splitFuncs(src []byte) [][]byte {
	idx := reFuncSep.FindAllIndex(src, -1)
	out := make([][]byte, 0, len(idx))
	for i, loc := range idx {
		end := len(src)
		if i+1 < len(idx) {
			end = idx[i+1][0]
		}
		out = append(out, src[loc[0]:end])
	}
	return out
}

// Generate renders the table as Go source for package s3api.
func Generate(ops []Op, version string) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by internal/opgen from %s %s; DO NOT EDIT.\n\n", SDKModule, version)
	b.WriteString("package s3api\n\n")
	b.WriteString("// modelOperations is every operation of the S3 model with what tells it apart on the wire.\n")
	b.WriteString("var modelOperations = []operation{\n")
	for _, op := range ops {
		fmt.Fprintf(&b, "\t{name: %q, method: %q, target: target%s", op.Name, op.Method, strings.ToUpper(op.Target[:1])+op.Target[1:])
		if op.Path != "" {
			fmt.Fprintf(&b, ", path: %q", op.Path)
		}
		if len(op.Query) > 0 {
			b.WriteString(", query: []queryParam{")
			for i, kv := range op.Query {
				if i > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "{%q, %q}", kv[0], kv[1])
			}
			b.WriteString("}")
		}
		if op.XID != "" {
			fmt.Fprintf(&b, ", xid: %q", op.XID)
		}
		if len(op.RequiredQuery) > 0 {
			fmt.Fprintf(&b, ", requiredQuery: %s", strList(op.RequiredQuery))
		}
		if len(op.RequiredHeaders) > 0 {
			fmt.Fprintf(&b, ", requiredHeaders: %s", strList(op.RequiredHeaders))
		}
		b.WriteString("},\n")
	}
	b.WriteString("}\n")
	return format.Source(b.Bytes())
}

func strList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return "[]string{" + strings.Join(q, ", ") + "}"
}
