package cborgen

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated CBOR tables from the SDK")

// targets are the services whose CBOR tables are generated, and where.
var targets = []struct{ module, pkg, table, file string }{
	{"github.com/aws/aws-sdk-go-v2/service/kinesis", "kinesisapi", "cborShapes", "../../../stream/kinesisapi/cbor_gen.go"},
}

// TestGenerated keeps each CBOR table equal to what the pinned SDK's schemas define, so an SDK
// upgrade that adds a blob or timestamp member shows up as a failing test until the table is
// regenerated (go test ./internal/awsjson/cborgen -update).
func TestGenerated(t *testing.T) {
	for _, tg := range targets {
		dir, version, err := ModuleDir("../../..", tg.module)
		if err != nil {
			t.Fatal(err)
		}
		src, err := os.ReadFile(filepath.Join(dir, "schemas", "schemas.go"))
		if err != nil {
			t.Fatal(err)
		}
		out, err := Generate(src, tg.pkg, tg.table, tg.module+"@"+version+" schemas/schemas.go")
		if err != nil {
			t.Fatal(err)
		}
		if *update {
			if err := os.WriteFile(tg.file, out, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		old, err := os.ReadFile(tg.file)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(old, out) {
			t.Errorf("%s is stale for %s %s: run go test ./internal/awsjson/cborgen -update", tg.file, tg.module, version)
		}
	}
}

// TestAgreesWithBotocore checks the SDK's schemas against the JSON model Debian's awscli ships
// (older than the SDK): for every operation both know, the same blob and timestamp members,
// by the model's member names. It skips when awscli is not installed.
func TestAgreesWithBotocore(t *testing.T) {
	paths, _ := filepath.Glob("/usr/lib/python3/dist-packages/awscli/botocore/data/kinesis/*/service-2.json")
	if len(paths) == 0 {
		t.Skip("SKIP: Debian's awscli (botocore Kinesis model) is not installed")
	}
	raw, err := os.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	type ref struct{ Shape string }
	var model struct {
		Operations map[string]struct{ Input, Output *ref }
		Shapes     map[string]struct {
			Type          string
			Members       map[string]ref
			Member, Value *ref
		}
	}
	if err := json.Unmarshal(raw, &model); err != nil {
		t.Fatal(err)
	}
	botocore := func(r *ref) map[string]string {
		out := map[string]string{}
		if r == nil {
			return out
		}
		var walk func(name, path string, depth int)
		walk = func(name, path string, depth int) {
			s := model.Shapes[name]
			join := func(seg string) string {
				if path == "" {
					return seg
				}
				return path + "." + seg
			}
			switch {
			case depth > 10:
			case s.Type == "blob":
				out[path] = "awsjson.CBORBlob"
			case s.Type == "timestamp":
				out[path] = "awsjson.CBORTimestamp"
			case s.Type == "structure":
				for k, m := range s.Members {
					walk(m.Shape, join(k), depth+1)
				}
			case s.Type == "list" && s.Member != nil:
				walk(s.Member.Shape, join("[]"), depth+1)
			case s.Type == "map" && s.Value != nil:
				walk(s.Value.Shape, join("{}"), depth+1)
			}
		}
		walk(r.Shape, "", 0)
		return out
	}
	dir, _, err := ModuleDir("../../..", "github.com/aws/aws-sdk-go-v2/service/kinesis")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join(dir, "schemas", "schemas.go"))
	if err != nil {
		t.Fatal(err)
	}
	shapes, err := Schemas(src)
	if err != nil {
		t.Fatal(err)
	}
	if got := botocore(model.Operations["GetRecords"].Output)["Records.[].Data"]; got != "awsjson.CBORBlob" {
		t.Fatalf("botocore's GetRecords output, Records.[].Data: %q", got)
	}
	for op, o := range model.Operations {
		if shapes[op] == nil {
			t.Errorf("%s is in botocore's model, not in the SDK's schemas", op)
			continue
		}
		for _, side := range []struct {
			name      string
			sdk, boto map[string]string
		}{{"input", Paths(shapes, op+"Input"), botocore(o.Input)}, {"output", Paths(shapes, op+"Output"), botocore(o.Output)}} {
			if !reflect.DeepEqual(side.sdk, side.boto) {
				t.Errorf("%s %s: SDK %v, botocore %v", op, side.name, side.sdk, side.boto)
			}
		}
	}
}
