package app

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestFullCheckAfterUncleanShutdown: a meta.db over FullCheckBytes is checked page by page
// only when the last process did not close it cleanly; opening it clears the clean mark, so
// a process killed afterwards leaves it to be checked.
func TestFullCheckAfterUncleanShutdown(t *testing.T) {
	old := FullCheckBytes
	FullCheckBytes = 0
	t.Cleanup(func() { FullCheckBytes = old })
	dir := t.TempDir()
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	db, err := openMetadata(dir, logger)
	if err != nil {
		t.Fatal(err)
	}
	if err := markClean(db); err != nil {
		t.Fatal(err)
	}
	db.Close()
	logs.Reset()
	if db, err = openMetadata(dir, logger); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "skipped the full consistency check") {
		t.Fatalf("checked after a clean shutdown:\n%s", logs.String())
	}
	if cleanShutdown(db) {
		t.Fatal("the clean mark outlived the open")
	}
	db.Close() // as if killed: no markClean

	// Break the tree so that only the full check can tell: a leaf page's header.
	path := filepath.Join(dir, metaFile)
	leaf := leafPage(t, path)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt(bytes.Repeat([]byte{0xAB}, 16), int64(leaf*os.Getpagesize()))
	f.Close()
	logs.Reset()
	_, err = openMetadata(dir, logger)
	var me *MetadataError
	if !errors.As(err, &me) || !strings.Contains(err.Error(), "localpipe repair") {
		t.Fatalf("after an unclean shutdown: %v\n%s", err, logs.String())
	}
}

func leafPage(t *testing.T, path string) int {
	t.Helper()
	db, err := bolt.Open(path, 0o644, &bolt.Options{ReadOnly: true, PreLoadFreelist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	leaf := -1
	db.View(func(tx *bolt.Tx) error {
		for id := 2; leaf < 0; id++ {
			p, err := tx.Page(id)
			if err != nil || p == nil {
				return err
			}
			if p.Type == "leaf" {
				leaf = id
			}
		}
		return nil
	})
	if leaf < 0 {
		t.Fatal("no leaf page")
	}
	return leaf
}
