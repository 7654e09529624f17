package cborgen

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
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
