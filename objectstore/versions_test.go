package objectstore

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestVersionsSurviveReopen: every version keeps its blob across a restart (Open's scan must
// not take old versions' files for orphans), and a permanent delete frees exactly its blob.
func TestVersionsSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	if err := s.CreateBucket(ctx, "vers", "us-east-1"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetVersioning(ctx, "vers", VersioningEnabled); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, body := range []string{"one", "two", "three"} {
		info, err := s.PutObject(ctx, "vers", "k", strings.NewReader(body), ObjectMeta{})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, info.VersionID)
	}
	if _, err := s.DeleteObjectVersion(ctx, "vers", "k", ""); err != nil {
		t.Fatal(err)
	}
	blobs := func() int {
		es, _ := os.ReadDir(filepath.Join(dir, "s3", "blobs"))
		return len(es)
	}
	if n := blobs(); n != 3 {
		t.Fatalf("%d blobs for 3 versions", n)
	}
	s.db.Close()
	s = open(t, dir)
	for i, body := range []string{"one", "two", "three"} {
		_, f, err := s.GetObjectVersion(ctx, "vers", "k", ids[i])
		if err != nil {
			t.Fatalf("version %d after reopen: %v", i, err)
		}
		got, _ := io.ReadAll(f)
		f.Close()
		if string(got) != body {
			t.Fatalf("version %d reads %q", i, got)
		}
	}
	var dm *DeleteMarkerError
	if _, err := s.HeadObject(ctx, "vers", "k"); !errors.As(err, &dm) || !dm.Current {
		t.Fatalf("current version after reopen: %v", err)
	}
	if _, err := s.DeleteObjectVersion(ctx, "vers", "k", ids[1]); err != nil {
		t.Fatal(err)
	}
	if n := blobs(); n != 2 {
		t.Fatalf("%d blobs after deleting one of 3 versions", n)
	}
	if _, err := s.HeadObjectVersion(ctx, "vers", "k", ids[1]); !errors.Is(err, ErrNoSuchVersion) {
		t.Fatalf("deleted version: %v", err)
	}
	if _, err := s.HeadObjectVersion(ctx, "vers", "k", "not-an-id"); !errors.Is(err, ErrInvalidVersionID) {
		t.Fatalf("malformed id: %v", err)
	}
}
