package kinesisapi

import (
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/localpipe/localpipe/stream"
)

func newFuzzEnv(f *testing.F) *Handler {
	dir, err := os.MkdirTemp("", "kinesisapi-fuzz-")
	if err != nil {
		f.Fatal(err)
	}
	db, err := bolt.Open(filepath.Join(dir, "meta.db"), 0o644, &bolt.Options{NoSync: true})
	if err != nil {
		f.Fatal(err)
	}
	eng, err := stream.Open(stream.Options{Dir: filepath.Join(dir, "kinesis"), DB: db})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { eng.Close(); db.Close(); os.RemoveAll(dir) })
	if err := eng.CreateStream(stream.CreateInput{Name: "s", ShardCount: 2}); err != nil {
		f.Fatal(err)
	}
	return New(eng, Options{})
}
