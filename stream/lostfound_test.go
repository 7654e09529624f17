package stream

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestUnownedLogGoesToLostFound: a shard log whose stream the metadata does not know (here the
// metadata was swapped for an empty one) is moved to lost+found with its relative path, not
// deleted; an interrupted deletion and an empty leftover directory are removed.
func TestUnownedLogGoesToLostFound(t *testing.T) {
	dir := t.TempDir()
	e := openTest(t, dir, nil)
	if err := e.CreateStream(CreateInput{Name: "kept", ShardCount: 1}); err != nil {
		t.Fatal(err)
	}
	putN(t, e, "kept", 5, "r")
	info, _ := e.Describe("kept")
	closeTest(t, e)
	streamDir := filepath.Base(e.streamDir(streamMeta{Name: "kept", Created: info.Created.UnixNano()}))

	kin := filepath.Join(dir, "kinesis")
	// A stream DeleteStream had renamed before the crash, and one CreateStream left empty.
	for _, d := range []string{"gone-1" + deletingSuffix + "/shard-000000000000", "new-2/shard-000000000000"} {
		if err := os.MkdirAll(filepath.Join(kin, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(kin, "gone-1"+deletingSuffix, "shard-000000000000", segmentName(0)+".log"), []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(kin, "new-2", "shard-000000000000", segmentName(0)+".log"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "meta.db"), filepath.Join(dir, "meta.db.old")); err != nil {
		t.Fatal(err)
	}

	e = openTest(t, dir, nil)
	if _, err := e.Describe("kept"); err == nil {
		t.Fatal("stream known without metadata")
	}
	closeTest(t, e)
	entries, _ := os.ReadDir(kin)
	if len(entries) != 0 {
		t.Fatalf("left in kinesis/: %v", entries)
	}
	moved := filepath.Join(dir, "lost+found", "kinesis", streamDir, "shard-000000000000", segmentName(0)+".log")
	if st, err := os.Stat(moved); err != nil || st.Size() == 0 {
		t.Fatalf("log not in lost+found: %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "lost+found", "kinesis")); len(entries) != 1 {
		t.Fatalf("lost+found holds %v, want only %s", entries, streamDir)
	}
}

// TestDeleteInterruptedAfterRename: a crash after DeleteStream renamed the directory but
// before the metadata was forgotten finishes the deletion at the next Open.
func TestDeleteInterruptedAfterRename(t *testing.T) {
	dir := t.TempDir()
	e := openTest(t, dir, nil)
	if err := e.CreateStream(CreateInput{Name: "s", ShardCount: 1}); err != nil {
		t.Fatal(err)
	}
	putN(t, e, "s", 3, "r")
	st, _ := e.get("s")
	closeTest(t, e)
	if err := os.Rename(st.dir, st.dir+deletingSuffix); err != nil {
		t.Fatal(err)
	}
	e = openTest(t, dir, nil)
	if _, err := e.Describe("s"); err == nil {
		t.Fatal("stream still there")
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "kinesis")); len(entries) != 0 {
		t.Fatalf("left in kinesis/: %v", entries)
	}
	if _, err := os.Stat(filepath.Join(dir, "lost+found")); err == nil {
		t.Fatal("a deleted stream went to lost+found")
	}
	e.opts.DB.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketRoot).Bucket(bucketStreams).Get([]byte("s")); v != nil {
			t.Error("metadata not forgotten")
		}
		return nil
	})
}

// TestMissingLogsAreReported: a stream whose directory was taken away starts empty, and says
// so at error level.
func TestMissingLogsAreReported(t *testing.T) {
	dir := t.TempDir()
	e := openTest(t, dir, nil)
	if err := e.CreateStream(CreateInput{Name: "s", ShardCount: 1}); err != nil {
		t.Fatal(err)
	}
	st, _ := e.get("s")
	closeTest(t, e)
	if err := os.RemoveAll(st.dir); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	openTest(t, dir, func(o *Options) { o.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "shard logs of a stream are missing") {
		t.Fatalf("not reported:\n%s", logs.String())
	}
}
