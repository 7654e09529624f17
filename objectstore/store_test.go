package objectstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"
)

var ctx = context.Background()

func open(t *testing.T, dir string) *Store {
	t.Helper()
	db, err := bolt.Open(filepath.Join(dir, "meta.db"), 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(Options{DB: db, Dir: filepath.Join(dir, "s3")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return s
}

func read(t *testing.T, s *Store, b, k string) string {
	t.Helper()
	_, f, err := s.GetObject(ctx, b, k)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data, _ := io.ReadAll(f)
	return string(data)
}

func TestObjects(t *testing.T) {
	s := open(t, t.TempDir())
	if err := s.CreateBucket(ctx, "Bad_Name", ""); !errors.Is(err, ErrInvalidBucket) {
		t.Fatal(err)
	}
	if err := s.CreateBucket(ctx, "b", ""); !errors.Is(err, ErrInvalidBucket) {
		t.Fatal("short name accepted")
	}
	for _, bad := range []string{"xn--abc", "sthree-x", "amzn-s3-demo-bucket", "x-s3alias", "x--ol-s3", "x.mrap", "x--x-s3", "x--table-s3",
		"1.2.3.4", "a..b", "-ab", "ab-", ".ab", "ab.", "aB", "a_b", "a b", strings.Repeat("a", 64)} {
		if ValidBucketName(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
	for _, good := range []string{"abc", "a-b.c", "1.2.3", "1.2.3.4.5", "my.bucket-1", strings.Repeat("a", 63)} {
		if !ValidBucketName(good) {
			t.Errorf("%q refused", good)
		}
	}
	s.CreateBucket(ctx, "bkt", "us-east-1")
	if err := s.CreateBucket(ctx, "bkt", ""); !errors.Is(err, ErrBucketExists) {
		t.Fatal(err)
	}
	if _, err := s.PutObject(ctx, "nope", "k", strings.NewReader("x"), ObjectMeta{}); !errors.Is(err, ErrNoSuchBucket) {
		t.Fatal(err)
	}
	info, err := s.PutObject(ctx, "bkt", "a/b.txt", strings.NewReader("hello"), ObjectMeta{ContentType: "text/plain", UserMeta: map[string]string{"x": "1"}})
	if err != nil || info.ETag != `"5d41402abc4b2a76b9719d911017c592"` || info.Size != 5 {
		t.Fatalf("%v %+v", err, info)
	}
	if got := read(t, s, "bkt", "a/b.txt"); got != "hello" {
		t.Fatal(got)
	}
	s.PutObject(ctx, "bkt", "a/b.txt", strings.NewReader("bye"), ObjectMeta{})
	if got := read(t, s, "bkt", "a/b.txt"); got != "bye" {
		t.Fatal(got)
	}
	if _, err := s.PutObject(ctx, "bkt", "md5", strings.NewReader("x"), ObjectMeta{ContentMD5: make([]byte, 16)}); !errors.Is(err, ErrBadDigest) {
		t.Fatal(err)
	}
	if err := s.DeleteBucket(ctx, "bkt"); !errors.Is(err, ErrBucketNotEmpty) {
		t.Fatal(err)
	}
	s.DeleteObject(ctx, "bkt", "a/b.txt")
	if _, err := s.HeadObject(ctx, "bkt", "a/b.txt"); !errors.Is(err, ErrNoSuchKey) {
		t.Fatal(err)
	}
	blobs, _ := os.ReadDir(s.blobDir())
	if len(blobs) != 0 {
		t.Fatalf("%d blobs left", len(blobs))
	}
	if err := s.DeleteBucket(ctx, "bkt"); err != nil {
		t.Fatal(err)
	}
}

func TestHostileKeysStayInside(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	s.CreateBucket(ctx, "bkt", "")
	keys := []string{"../../etc/passwd", "//double", "/leading", "a b+c%20d", "ünï/çødé", "..", ".", strings.Repeat("k", 1024)}
	for _, k := range keys {
		if _, err := s.PutObject(ctx, "bkt", k, strings.NewReader(k), ObjectMeta{}); err != nil {
			t.Fatalf("%q: %v", k, err)
		}
	}
	for _, k := range keys {
		if got := read(t, s, "bkt", k); got != k {
			t.Fatalf("%q read %q", k, got)
		}
	}
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if rel, _ := filepath.Rel(dir, p); strings.HasPrefix(rel, "..") {
			t.Fatalf("file outside the data dir: %s", p)
		}
		return nil
	})
	if _, err := s.PutObject(ctx, "bkt", strings.Repeat("k", 1025), strings.NewReader(""), ObjectMeta{}); !errors.Is(err, ErrKeyTooLong) {
		t.Fatal(err)
	}
}

func TestList(t *testing.T) {
	s := open(t, t.TempDir())
	s.CreateBucket(ctx, "bkt", "")
	for _, k := range []string{"a", "b/1", "b/2", "b/3/x", "c/1", "c/2", "d"} {
		s.PutObject(ctx, "bkt", k, strings.NewReader(k), ObjectMeta{})
	}
	names := func(r ListResult) string {
		var out []string
		for _, o := range r.Objects {
			out = append(out, o.Key)
		}
		for _, p := range r.CommonPrefixes {
			out = append(out, "P:"+p)
		}
		return strings.Join(out, ",")
	}
	for _, tc := range []struct {
		in        ListInput
		want      string
		truncated bool
	}{
		{ListInput{MaxKeys: 1000}, "a,b/1,b/2,b/3/x,c/1,c/2,d", false},
		{ListInput{MaxKeys: 2}, "a,b/1", true},
		{ListInput{Delimiter: "/", MaxKeys: 1000}, "a,d,P:b/,P:c/", false},
		{ListInput{Delimiter: "/", MaxKeys: 2}, "a,P:b/", true},
		{ListInput{Delimiter: "/", StartAfter: "b/", MaxKeys: 1000}, "d,P:c/", false},
		{ListInput{Delimiter: "/", StartAfter: "b/1", MaxKeys: 1000}, "d,P:c/", false},
		{ListInput{Prefix: "b/", Delimiter: "/", MaxKeys: 1000}, "b/1,b/2,P:b/3/", false},
		{ListInput{Prefix: "b/", MaxKeys: 1000, StartAfter: "b/1"}, "b/2,b/3/x", false},
		{ListInput{Prefix: "zz", MaxKeys: 1000}, "", false},
		{ListInput{MaxKeys: 0}, "", true},
	} {
		r, err := s.List(ctx, "bkt", tc.in)
		if err != nil || names(r) != tc.want || r.IsTruncated != tc.truncated {
			t.Errorf("%+v: got %q truncated=%v (%v), want %q %v", tc.in, names(r), r.IsTruncated, err, tc.want, tc.truncated)
		}
	}
}

// TestRecoveryAfterCrash builds the states a crash can leave and checks Open resolves each.
func TestRecoveryAfterCrash(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	s.CreateBucket(ctx, "bkt", "")
	info, _ := s.PutObject(ctx, "bkt", "committed", strings.NewReader("v1"), ObjectMeta{})
	// Crash after the bbolt commit, before the rename: the blob is still a temp file.
	os.Rename(s.blobPath(info.Blob), s.blobPath(info.Blob)+".tmp")
	// Crash before the commit: a temp file nobody references.
	os.WriteFile(filepath.Join(s.blobDir(), newID()+".tmp"), []byte("torn"), 0o644)
	// Crash after an overwrite's commit, before the old blob was deleted.
	orphan := newID()
	os.WriteFile(s.blobPath(orphan), []byte("old"), 0o644)
	s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketRoot).Bucket(bucketGC).Put([]byte(orphan), nil) })
	// Crash after a put renamed its blob, before the metadata committed: a file with a final
	// name that nothing references and no GC entry names.
	unowned := newID()
	os.WriteFile(s.blobPath(unowned), []byte("uncommitted"), 0o644)
	s.db.Close()

	s = open(t, dir)
	if got := read(t, s, "bkt", "committed"); got != "v1" {
		t.Fatal(got)
	}
	if names := dirNames(t, s.blobDir()); len(names) != 1 || names[0] != info.Blob {
		t.Fatalf("blobs after recovery: %v", names)
	}
	// Only the temp file and the blob the metadata itself listed as retired are deleted; the
	// blob nothing references is kept aside, as metadata that does not know a blob is no
	// proof it is garbage.
	if names := dirNames(t, filepath.Join(dir, "lost+found", "s3", "blobs")); len(names) != 1 || names[0] != unowned {
		t.Fatalf("lost+found after recovery: %v, want [%s]", names, unowned)
	}
}

// TestLostMetadataKeepsBlobs: opened over metadata that knows none of its objects (the
// metadata was lost), the store moves every blob to lost+found and deletes none.
func TestLostMetadataKeepsBlobs(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	s.CreateBucket(ctx, "bkt", "")
	var ids []string
	for i := 0; i < 3; i++ {
		info, err := s.PutObject(ctx, "bkt", fmt.Sprint("k", i), strings.NewReader("v"), ObjectMeta{})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, info.Blob)
	}
	s.db.Close()
	if err := os.Remove(filepath.Join(dir, "meta.db")); err != nil {
		t.Fatal(err)
	}
	s = open(t, dir)
	if names := dirNames(t, s.blobDir()); len(names) != 0 {
		t.Fatalf("blobs left in place: %v", names)
	}
	got := dirNames(t, filepath.Join(dir, "lost+found", "s3", "blobs"))
	slices.Sort(ids)
	if !slices.Equal(got, ids) {
		t.Fatalf("lost+found holds %v, want %v", got, ids)
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestConcurrentOverwrites has writers replace and delete one key while readers read it: a
// reader sees some complete version or NoSuchKey, never an error, and when the dust settles
// every blob file belongs to the one object left (an overwrite that retires a blob whose
// rename has not happened yet must not leave that blob behind).
func TestConcurrentOverwrites(t *testing.T) {
	dir := t.TempDir()
	// Without bbolt's fsyncs: the races are between goroutines, not with the disk.
	db, err := bolt.Open(filepath.Join(dir, "meta.db"), 0o644, &bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := Open(Options{DB: db, Dir: filepath.Join(dir, "s3")})
	if err != nil {
		t.Fatal(err)
	}
	s.CreateBucket(ctx, "bkt", "")
	versions := map[string]bool{}
	for i := 0; i < 8; i++ {
		versions[strings.Repeat(string(rune('a'+i)), 1000+i)] = true
	}
	done := make(chan struct{})
	errs := make(chan error, 100)
	var readers sync.WaitGroup
	for r := 0; r < 2; r++ {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				_, f, err := s.GetObject(ctx, "bkt", "k")
				if errors.Is(err, ErrNoSuchKey) {
					continue
				}
				if err != nil {
					errs <- err
					return
				}
				b, _ := io.ReadAll(f)
				f.Close()
				if !versions[string(b)] {
					errs <- fmt.Errorf("read a torn object of %d bytes", len(b))
					return
				}
			}
		}()
	}
	var writers sync.WaitGroup
	for w := 0; w < 4; w++ {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for i := 0; i < 20; i++ {
				if w == 0 && i%5 == 4 {
					s.DeleteObject(ctx, "bkt", "k")
					continue
				}
				body := strings.Repeat(string(rune('a'+w)), 1000+w)
				if _, err := s.PutObject(ctx, "bkt", "k", strings.NewReader(body), ObjectMeta{}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	writers.Wait()
	close(done)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	want := 0
	if _, err := s.HeadObject(ctx, "bkt", "k"); err == nil {
		want = 1
	}
	if files, _ := os.ReadDir(s.blobDir()); len(files) != want {
		var names []string
		for _, f := range files {
			names = append(names, f.Name())
		}
		t.Fatalf("%d blob files for %d objects: %v", len(files), want, names)
	}
}
