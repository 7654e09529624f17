package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
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

	db, fresh, err := openMetadata(dir, logger)
	if err != nil || !fresh {
		t.Fatal(err, fresh)
	}
	if err := finishMetadata(db, dir); err != nil {
		t.Fatal(err)
	}
	if err := markClean(db); err != nil {
		t.Fatal(err)
	}
	db.Close()
	logs.Reset()
	if db, fresh, err = openMetadata(dir, logger); err != nil || fresh {
		t.Fatal(err, fresh)
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
	_, _, err = openMetadata(dir, logger)
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

// goodMetaPage returns the first meta page of a new bbolt file.
func goodMetaPage(t testing.TB) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "m.db")
	db, err := bolt.Open(path, 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b[:boltPageHeader+boltMetaSumFrom+8]
}

// TestVerifyMetaBadInputs: a meta page with the wrong id, magic, version or checksum, or cut
// short, does not verify.
func TestVerifyMetaBadInputs(t *testing.T) {
	good := goodMetaPage(t)
	if _, ok := verifyMeta(good, 0); !ok {
		t.Fatal("a fresh meta page does not verify")
	}
	if _, ok := verifyMeta(good, 1); ok {
		t.Error("page 0 verified as page 1")
	}
	for name, off := range map[string]int{"id": 0, "magic": boltPageHeader, "version": boltPageHeader + 4,
		"page size": boltPageHeader + 8, "root": boltPageHeader + 16, "txid": boltPageHeader + 48, "checksum": boltPageHeader + boltMetaSumFrom} {
		b := bytes.Clone(good)
		b[off] ^= 0x01
		if _, ok := verifyMeta(b, 0); ok {
			t.Errorf("flipped %s still verifies", name)
		}
	}
	for n := 0; n < len(good); n += 7 {
		if _, ok := verifyMeta(good[:n], 0); ok {
			t.Errorf("%d bytes verify", n)
		}
	}
}

func FuzzVerifyMeta(f *testing.F) {
	f.Add(goodMetaPage(f))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		verifyMeta(b, 0)
		verifyMeta(b, 1)
	})
}

// TestFirstStartMetadata: a new data dir's metadata is made under metaInitFile and has its
// name once the engines are open and the config applied from it has synced commits; a first
// start that died before that (its meta.db.init half written) is begun again.
func TestFirstStartMetadata(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SKIPPED: new metadata is made in place on Windows")
	}
	dir := t.TempDir()
	// What a first start killed while opening the engines leaves: no meta.db, and a file
	// under the temporary name that is not even a database.
	if err := os.WriteFile(filepath.Join(dir, metaInitFile), []byte("half a bbolt file"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.DataDir, cfg.Listen, cfg.LogRequests = dir, "127.0.0.1:0", false
	cfg.Resources = &Resources{Streams: []json.RawMessage{json.RawMessage(`{"StreamName":"s","ShardCount":1}`)}}
	a, err := Open(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, metaInitFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s still there after the start: %v", metaInitFile, err)
	}
	if a.db.NoSync || a.db.NoGrowSync || a.db.Path() != filepath.Join(dir, metaInitFile) {
		// bbolt keeps the path it opened; the file is the same one under its new name.
		t.Errorf("metadata after the start: NoSync %v, NoGrowSync %v, opened as %s", a.db.NoSync, a.db.NoGrowSync, a.db.Path())
	}
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	a, err = Open(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Shutdown(context.Background())
	if a.db.Path() != filepath.Join(dir, metaFile) {
		t.Errorf("second start opened %s", a.db.Path())
	}
	if list := a.streams.List(); len(list) != 1 || list[0].Name != "s" {
		t.Errorf("streams after a restart: %+v", list)
	}
}
