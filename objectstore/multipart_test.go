package objectstore

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// openAt opens a store over dir's metadata file, closing it at the end of the test.
func openAt(t *testing.T, dir string) (*Store, *bolt.DB) {
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
	return s, db
}

func lowerMinPart(t *testing.T) {
	old := MinPartSize
	MinPartSize = 10
	t.Cleanup(func() { MinPartSize = old })
}

func blobFiles(t *testing.T, s *Store) []string {
	t.Helper()
	entries, _ := os.ReadDir(s.blobDir())
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestMultipartRoundTrip(t *testing.T) {
	lowerMinPart(t)
	ctx := context.Background()
	s, _ := openAt(t, t.TempDir())
	s.CreateBucket(ctx, "bkt", "us-east-1")
	s.PutObject(ctx, "bkt", "k", strings.NewReader("old object"), ObjectMeta{})

	u, err := s.CreateMultipartUpload(ctx, "bkt", "k", ObjectMeta{ContentType: "text/x"})
	if err != nil {
		t.Fatal(err)
	}
	parts := []string{strings.Repeat("a", 20), strings.Repeat("bkt", 30), "c"}
	var list []CompletePart
	var md5s []byte
	for i, p := range parts {
		pi, err := s.UploadPart(ctx, "bkt", "k", u.UploadID, i+1, strings.NewReader(p), nil, map[string]string{"CRC32": "AAAAAA=="})
		if err != nil {
			t.Fatal(err)
		}
		sum := md5.Sum([]byte(p))
		md5s = append(md5s, sum[:]...)
		list = append(list, CompletePart{PartNumber: i + 1, ETag: pi.ETag})
	}
	// Uploading part 2 again replaces it; the first blob goes.
	before := len(blobFiles(t, s))
	if _, err := s.UploadPart(ctx, "bkt", "k", u.UploadID, 2, strings.NewReader(parts[1]), nil, nil); err != nil {
		t.Fatal(err)
	}
	if after := len(blobFiles(t, s)); after != before {
		t.Errorf("replacing a part: %d blob files, then %d", before, after)
	}
	// Object still the old one until Complete.
	if info, _ := s.HeadObject(ctx, "bkt", "k"); info.Size != int64(len("old object")) {
		t.Errorf("object changed before complete")
	}
	info, err := s.CompleteMultipartUpload(ctx, "bkt", "k", u.UploadID, list)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf(`"%x-3"`, md5.Sum(md5s)); info.ETag != want {
		t.Errorf("etag %s, want %s", info.ETag, want)
	}
	if info.ContentType != "text/x" || info.Size != int64(len(strings.Join(parts, ""))) || len(info.PartSizes) != 3 || info.PartSizes[1] != int64(len(parts[1])) {
		t.Errorf("info %+v", info)
	}
	_, f, err := s.GetObject(ctx, "bkt", "k")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(f)
	f.Close()
	if string(got) != strings.Join(parts, "") {
		t.Errorf("object %q", got)
	}
	if _, err := s.ListParts(ctx, "bkt", "k", u.UploadID, ListPartsInput{}); !errors.Is(err, ErrNoSuchUpload) {
		t.Errorf("upload after complete: %v", err)
	}
	// One blob: the new object. The old object and the parts are gone.
	if files := blobFiles(t, s); len(files) != 1 {
		t.Errorf("blob files after complete: %v", files)
	}
}

func TestMultipartErrors(t *testing.T) {
	lowerMinPart(t)
	ctx := context.Background()
	s, _ := openAt(t, t.TempDir())
	s.CreateBucket(ctx, "bkt", "us-east-1")
	u, _ := s.CreateMultipartUpload(ctx, "bkt", "k", ObjectMeta{})
	p1, _ := s.UploadPart(ctx, "bkt", "k", u.UploadID, 1, strings.NewReader(strings.Repeat("x", 20)), nil, nil)
	p2, _ := s.UploadPart(ctx, "bkt", "k", u.UploadID, 2, strings.NewReader("tiny"), nil, nil)
	p3, _ := s.UploadPart(ctx, "bkt", "k", u.UploadID, 3, strings.NewReader("end"), nil, nil)
	for _, tc := range []struct {
		name string
		fn   func() error
		want error
	}{
		{"no bucket", func() error { _, err := s.CreateMultipartUpload(ctx, "nope", "k", ObjectMeta{}); return err }, ErrNoSuchBucket},
		{"long key", func() error {
			_, err := s.CreateMultipartUpload(ctx, "bkt", strings.Repeat("k", 1025), ObjectMeta{})
			return err
		}, ErrKeyTooLong},
		{"no upload", func() error {
			_, err := s.UploadPart(ctx, "bkt", "k", "nope", 1, strings.NewReader("x"), nil, nil)
			return err
		}, ErrNoSuchUpload},
		{"other key", func() error {
			_, err := s.UploadPart(ctx, "bkt", "other", u.UploadID, 1, strings.NewReader("x"), nil, nil)
			return err
		}, ErrNoSuchUpload},
		{"part 0", func() error {
			_, err := s.UploadPart(ctx, "bkt", "k", u.UploadID, 0, strings.NewReader("x"), nil, nil)
			return err
		}, ErrInvalidPartNumber},
		{"part 10001", func() error {
			_, err := s.UploadPart(ctx, "bkt", "k", u.UploadID, 10001, strings.NewReader("x"), nil, nil)
			return err
		}, ErrInvalidPartNumber},
		{"bad md5", func() error {
			_, err := s.UploadPart(ctx, "bkt", "k", u.UploadID, 4, strings.NewReader("x"), make([]byte, 16), nil)
			return err
		}, ErrBadDigest},
		{"order", func() error {
			_, err := s.CompleteMultipartUpload(ctx, "bkt", "k", u.UploadID, []CompletePart{{2, p2.ETag}, {1, p1.ETag}})
			return err
		}, ErrInvalidPartOrder},
		{"duplicate", func() error {
			_, err := s.CompleteMultipartUpload(ctx, "bkt", "k", u.UploadID, []CompletePart{{1, p1.ETag}, {1, p1.ETag}})
			return err
		}, ErrInvalidPartOrder},
		{"missing part", func() error {
			_, err := s.CompleteMultipartUpload(ctx, "bkt", "k", u.UploadID, []CompletePart{{1, p1.ETag}, {7, p1.ETag}})
			return err
		}, ErrInvalidPart},
		{"wrong etag", func() error {
			_, err := s.CompleteMultipartUpload(ctx, "bkt", "k", u.UploadID, []CompletePart{{1, `"00"`}})
			return err
		}, ErrInvalidPart},
		{"empty list", func() error { _, err := s.CompleteMultipartUpload(ctx, "bkt", "k", u.UploadID, nil); return err }, ErrInvalidPart},
		{"small middle part", func() error {
			_, err := s.CompleteMultipartUpload(ctx, "bkt", "k", u.UploadID, []CompletePart{{1, p1.ETag}, {2, p2.ETag}, {3, p3.ETag}})
			return err
		}, ErrEntityTooSmall},
		{"abort unknown", func() error { return s.AbortMultipartUpload(ctx, "bkt", "k", "nope") }, ErrNoSuchUpload},
	} {
		if err := tc.fn(); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	// Unquoted ETags are accepted, and a small last part is fine.
	if _, err := s.CompleteMultipartUpload(ctx, "bkt", "k", u.UploadID, []CompletePart{{1, strings.Trim(p1.ETag, `"`)}, {3, p3.ETag}}); err != nil {
		t.Fatal(err)
	}
}

func TestMultipartListing(t *testing.T) {
	ctx := context.Background()
	s, _ := openAt(t, t.TempDir())
	s.CreateBucket(ctx, "bkt", "us-east-1")
	u, _ := s.CreateMultipartUpload(ctx, "bkt", "k", ObjectMeta{})
	for n := 1; n <= 25; n++ {
		s.UploadPart(ctx, "bkt", "k", u.UploadID, n, strings.NewReader("p"), nil, nil)
	}
	var got []int
	marker := 0
	for pages := 0; ; pages++ {
		res, err := s.ListParts(ctx, "bkt", "k", u.UploadID, ListPartsInput{PartNumberMarker: marker, MaxParts: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range res.Parts {
			got = append(got, p.PartNumber)
		}
		if !res.IsTruncated {
			break
		}
		marker = res.NextPartNumberMarker
	}
	if len(got) != 25 || got[0] != 1 || got[24] != 25 {
		t.Errorf("parts %v", got)
	}

	var ids []string
	for _, k := range []string{"a/1", "a/2", "bkt", "a/1", "c/x/y"} {
		up, _ := s.CreateMultipartUpload(ctx, "bkt", k, ObjectMeta{})
		ids = append(ids, up.UploadID)
	}
	res, err := s.ListMultipartUploads(ctx, "bkt", ListUploadsInput{Delimiter: "/"})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, up := range res.Uploads {
		keys = append(keys, up.Key)
	}
	if strings.Join(keys, ",") != "bkt,k" || strings.Join(res.CommonPrefixes, ",") != "a/,c/" {
		t.Errorf("delimited: %v %v", keys, res.CommonPrefixes)
	}
	// Paging through a key with two uploads, in initiation order.
	res, _ = s.ListMultipartUploads(ctx, "bkt", ListUploadsInput{Prefix: "a/", MaxUploads: 1})
	if len(res.Uploads) != 1 || res.Uploads[0].UploadID != ids[0] || !res.IsTruncated {
		t.Fatalf("page 1: %+v", res)
	}
	res, _ = s.ListMultipartUploads(ctx, "bkt", ListUploadsInput{Prefix: "a/", KeyMarker: res.NextKeyMarker, UploadIDMarker: res.NextUploadIDMarker, MaxUploads: 1})
	if len(res.Uploads) != 1 || res.Uploads[0].UploadID != ids[3] {
		t.Fatalf("page 2: %+v", res)
	}
	res, _ = s.ListMultipartUploads(ctx, "bkt", ListUploadsInput{Prefix: "a/", KeyMarker: "a/1"})
	if len(res.Uploads) != 1 || res.Uploads[0].Key != "a/2" {
		t.Fatalf("after key marker: %+v", res)
	}
	if _, err := s.ListMultipartUploads(ctx, "nope", ListUploadsInput{}); !errors.Is(err, ErrNoSuchBucket) {
		t.Errorf("no bucket: %v", err)
	}
}

// TestMultipartSurvivesRestart: an upload in progress is kept across a restart (S3 keeps
// uploads until they are completed or aborted), a part whose temp file a crash left behind
// is removed, and aborting then deletes every part file.
func TestMultipartSurvivesRestart(t *testing.T) {
	lowerMinPart(t)
	ctx := context.Background()
	dir := t.TempDir()
	s, db := openAt(t, dir)
	s.CreateBucket(ctx, "bkt", "us-east-1")
	u, _ := s.CreateMultipartUpload(ctx, "bkt", "k", ObjectMeta{})
	p1, _ := s.UploadPart(ctx, "bkt", "k", u.UploadID, 1, bytes.NewReader(bytes.Repeat([]byte("1"), 20)), nil, nil)
	os.WriteFile(filepath.Join(s.blobDir(), "deadbeef.tmp"), []byte("torn part"), 0o644)
	db.Close()

	s, db = openAt(t, dir)
	if files := blobFiles(t, s); len(files) != 1 {
		t.Errorf("blob files after restart: %v", files)
	}
	res, err := s.ListParts(ctx, "bkt", "k", u.UploadID, ListPartsInput{})
	if err != nil || len(res.Parts) != 1 || res.Parts[0].ETag != p1.ETag {
		t.Fatalf("parts after restart: %+v %v", res, err)
	}
	p2, _ := s.UploadPart(ctx, "bkt", "k", u.UploadID, 2, strings.NewReader("2"), nil, nil)
	info, err := s.CompleteMultipartUpload(ctx, "bkt", "k", u.UploadID, []CompletePart{{1, p1.ETag}, {2, p2.ETag}})
	if err != nil || info.Size != 21 {
		t.Fatalf("complete after restart: %+v %v", info, err)
	}

	u2, _ := s.CreateMultipartUpload(ctx, "bkt", "k2", ObjectMeta{})
	s.UploadPart(ctx, "bkt", "k2", u2.UploadID, 1, strings.NewReader("x"), nil, nil)
	if err := s.AbortMultipartUpload(ctx, "bkt", "k2", u2.UploadID); err != nil {
		t.Fatal(err)
	}
	if files := blobFiles(t, s); len(files) != 1 {
		t.Errorf("blob files after abort: %v", files)
	}
	// Deleting the bucket takes its uploads with it.
	u3, _ := s.CreateMultipartUpload(ctx, "bkt", "k3", ObjectMeta{})
	s.UploadPart(ctx, "bkt", "k3", u3.UploadID, 1, strings.NewReader("x"), nil, nil)
	s.DeleteObject(ctx, "bkt", "k")
	if err := s.DeleteBucket(ctx, "bkt"); err != nil {
		t.Fatal(err)
	}
	if files := blobFiles(t, s); len(files) != 0 {
		t.Errorf("blob files after deleting the bucket: %v", files)
	}
	_ = db
}
