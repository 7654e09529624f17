package opgen

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite ../../operations_gen.go from the SDK")

const generated = "../../operations_gen.go"

// TestGenerated keeps s3api's operation table equal to what the pinned SDK defines, so an SDK
// upgrade that adds S3 operations shows up as a failing test until the table is regenerated
// (go test ./objectstore/s3api/internal/opgen -update).
func TestGenerated(t *testing.T) {
	dir, version, err := ModuleDir("../../../..")
	if err != nil {
		t.Fatal(err)
	}
	ops, err := Parse(dir)
	if err != nil {
		t.Fatal(err)
	}
	src, err := Generate(ops, version)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(generated, src, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	old, err := os.ReadFile(generated)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(old, src) {
		t.Fatalf("%s is stale for %s %s: run go test ./objectstore/s3api/internal/opgen -update", generated, SDKModule, version)
	}
}

// TestAgreesWithBotocore checks the parse against the JSON model Debian's awscli ships (2023):
// every operation there must be here with the same method, URI and required query and
// header members. It skips when awscli is not installed.
func TestAgreesWithBotocore(t *testing.T) {
	paths, _ := filepath.Glob("/usr/lib/python3/dist-packages/awscli/botocore/data/s3/*/service-2.json")
	if len(paths) == 0 {
		t.Skip("SKIP: Debian's awscli (botocore S3 model) is not installed")
	}
	raw, err := os.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	var model struct {
		Operations map[string]struct {
			HTTP  struct{ Method, RequestURI string }
			Input struct{ Shape string }
		}
		Shapes map[string]struct {
			Required []string
			Members  map[string]struct{ Location, LocationName string }
		}
	}
	if err := json.Unmarshal(raw, &model); err != nil {
		t.Fatal(err)
	}
	dir, _, err := ModuleDir("../../../..")
	if err != nil {
		t.Fatal(err)
	}
	ops, err := Parse(dir)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Op{}
	for _, op := range ops {
		byName[op.Name] = op
	}
	for name, mop := range model.Operations {
		op, ok := byName[name]
		if !ok {
			// The SDK dropped the deprecated GetBucketLifecycle, PutBucketNotification, …:
			// their requests are those of the …Configuration operations that replaced them.
			op, ok = byName[name+"Configuration"]
		}
		if !ok {
			t.Errorf("%s: in botocore, not in the SDK table", name)
			continue
		}
		if op.Method != mop.HTTP.Method {
			t.Errorf("%s: method %s, botocore %s", name, op.Method, mop.HTTP.Method)
		}
		path, query, _ := strings.Cut(mop.HTTP.RequestURI, "?")
		path = strings.TrimPrefix(path, "/{Bucket}")
		if path == "" {
			path = "/"
		}
		wantTarget := map[bool]string{true: "object", false: "bucket"}[strings.Contains(path, "{Key+}")]
		if !strings.Contains(mop.HTTP.RequestURI, "{Bucket}") {
			wantTarget = "service"
			if path != "/" {
				wantTarget = "path"
			}
		}
		if op.Target != wantTarget {
			t.Errorf("%s: target %s, botocore %s (%s)", name, op.Target, wantTarget, mop.HTTP.RequestURI)
		}
		var lits []string
		for _, kv := range strings.Split(query, "&") {
			if kv != "" && !strings.HasPrefix(kv, "x-id=") {
				lits = append(lits, kv)
			}
		}
		var got []string
		for _, kv := range op.Query {
			got = append(got, strings.TrimSuffix(kv[0]+"="+kv[1], "="))
		}
		if !slices.Equal(lits, got) {
			t.Errorf("%s: query %v, botocore %v", name, got, lits)
		}
		shape := model.Shapes[mop.Input.Shape]
		var rq, rh []string
		for _, m := range shape.Required {
			switch loc := shape.Members[m]; loc.Location {
			case "querystring":
				rq = append(rq, loc.LocationName)
			case "header":
				rh = append(rh, strings.ToLower(loc.LocationName))
			}
		}
		slices.Sort(rq)
		slices.Sort(rh)
		if !slices.Equal(rq, op.RequiredQuery) || !slices.Equal(rh, op.RequiredHeaders) {
			t.Errorf("%s: required query %v headers %v, botocore %v %v", name, op.RequiredQuery, op.RequiredHeaders, rq, rh)
		}
	}
}
