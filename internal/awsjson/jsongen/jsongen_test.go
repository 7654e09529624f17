package jsongen

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/localpipe/localpipe/internal/awsjson/cborgen"
)

var update = flag.Bool("update", false, "rewrite the generated decoders from the SDK")

// targets are the inputs given generated decoders: the hot operations' (issue 20).
var targets = []struct {
	module, pkg, dir string
	types            []Type
}{
	{"github.com/aws/aws-sdk-go-v2/service/kinesis", "kinesisapi", "../../../stream/kinesisapi", []Type{
		{"PutRecordInput", "putRecordIn"},
		{"PutRecordsInput", "putRecordsIn"},
		{"PutRecordsRequestEntry", "putRecordsEntry"},
	}},
	{"github.com/aws/aws-sdk-go-v2/service/firehose", "firehoseapi", "../../../firehose/firehoseapi", []Type{
		{"PutRecordInput", "putRecordIn"},
		{"PutRecordBatchInput", "putRecordBatchIn"},
		{"Record", "record"},
	}},
}

// TestGenerated keeps each generated decoder equal to what the pinned SDK's schemas and the
// package's input types define, so an SDK upgrade that changes a hot operation's members
// shows up as a failing test until the decoders are regenerated (go generate
// ./internal/awsjson/jsongen).
func TestGenerated(t *testing.T) {
	for _, tg := range targets {
		dir, version, err := cborgen.ModuleDir("../../..", tg.module)
		if err != nil {
			t.Fatal(err)
		}
		src, err := os.ReadFile(filepath.Join(dir, "schemas", "schemas.go"))
		if err != nil {
			t.Fatal(err)
		}
		out, err := Generate(src, tg.dir, tg.pkg, tg.types, tg.module+"@"+version+" schemas/schemas.go")
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(tg.dir, "json_gen.go")
		if *update {
			if err := os.WriteFile(file, out, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		old, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(old, out) {
			t.Errorf("%s is stale for %s %s: run go generate ./internal/awsjson/jsongen", file, tg.module, version)
		}
	}
}
