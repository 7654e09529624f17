package objectstore

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// labelsWork skips the test where the file system takes no extended attributes.
func labelsWork(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "probe"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := setLabel(f, []byte("{}")); err != nil {
		t.Skipf("SKIPPED: %s takes no extended attributes (%v), so blobs carry no labels here", dir, err)
	}
}

// TestRebuildFromLabels loses the metadata and rebuilds it from the blobs' labels: every
// object (a plain put, an overwritten key, a multipart upload) comes back with its bytes,
// ETag and metadata; the overwritten version, an upload's leftover part and an unlabelled
// blob go to lost+found.
func TestRebuildFromLabels(t *testing.T) {
	lowerMinPart(t)
	dir := t.TempDir()
	labelsWork(t, dir)
	s, db := openAt(t, dir)
	s.CreateBucket(ctx, "bkt", "eu-west-1")
	meta := ObjectMeta{ContentType: "application/json", UserMeta: map[string]string{"origin": "test"}}
	want := map[string]ObjectInfo{}
	put := func(key, body string) {
		info, err := s.PutObject(ctx, "bkt", key, strings.NewReader(body), meta)
		if err != nil {
			t.Fatal(err)
		}
		want[key] = info
	}
	put("a", "first")
	// Metadata changed in place after the write (object tagging) is relabelled.
	tagged, err := s.UpdateObjectMeta(ctx, "bkt", "a", "", func(m *ObjectMeta) error {
		m.Tags = []Tag{{Key: "k", Value: "v"}}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want["a"] = tagged
	put("dir/b", "old version")
	// The overwrite's retired blob stays behind, as after a crash before collect.
	old := want["dir/b"].Blob
	os.Link(s.blobPath(old), filepath.Join(dir, "keep"))
	put("dir/b", "new version")
	os.Rename(filepath.Join(dir, "keep"), s.blobPath(old))

	u, err := s.CreateMultipartUpload(ctx, "bkt", "big", ObjectMeta{ContentType: "text/x"})
	if err != nil {
		t.Fatal(err)
	}
	var list []CompletePart
	for i, p := range []string{strings.Repeat("x", 12), "tail"} {
		pi, err := s.UploadPart(ctx, "bkt", "big", u.UploadID, i+1, strings.NewReader(p), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		list = append(list, CompletePart{PartNumber: i + 1, ETag: pi.ETag})
	}
	info, err := s.CompleteMultipartUpload(ctx, "bkt", "big", u.UploadID, list)
	if err != nil {
		t.Fatal(err)
	}
	want["big"] = info
	u2, _ := s.CreateMultipartUpload(ctx, "bkt", "unfinished", ObjectMeta{})
	if _, err := s.UploadPart(ctx, "bkt", "unfinished", u2.UploadID, 1, strings.NewReader("part"), nil, nil); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(s.blobPath(newID()), []byte("from an older localpipe"), 0o644)
	db.Close()

	if err := os.Remove(filepath.Join(dir, "meta.db")); err != nil {
		t.Fatal(err)
	}
	db, err = bolt.Open(filepath.Join(dir, "meta.db"), 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Rebuild(Options{DB: db, Dir: filepath.Join(dir, "s3")})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if rep.Objects != 3 || !slices.Equal(rep.Buckets, []string{"bkt"}) || len(rep.SetAside) != 3 {
		t.Fatalf("report %+v", rep)
	}
	if got := dirNames(t, filepath.Join(dir, "lost+found", "s3", "blobs")); len(got) != 3 || !slices.Contains(got, old) {
		t.Fatalf("lost+found holds %v; want the old version %s, the part and the unlabelled blob", got, old)
	}

	s, _ = openAt(t, dir)
	if bi, err := s.HeadBucket(ctx, "bkt"); err != nil || bi.Region != "eu-west-1" {
		t.Fatalf("bucket %+v %v", bi, err)
	}
	for key, w := range want {
		got, err := s.HeadObject(ctx, "bkt", key)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if got.ETag != w.ETag || got.Size != w.Size || got.ContentType != w.ContentType || !got.LastModified.Equal(w.LastModified) ||
			got.UserMeta["origin"] != w.UserMeta["origin"] || !slices.Equal(got.PartSizes, w.PartSizes) || !slices.Equal(got.Tags, w.Tags) {
			t.Errorf("%s: rebuilt %+v, want %+v", key, got, w)
		}
	}
	if got := read(t, s, "bkt", "dir/b"); got != "new version" {
		t.Errorf("dir/b = %q", got)
	}
	if got := read(t, s, "bkt", "big"); got != strings.Repeat("x", 12)+"tail" {
		t.Errorf("big = %q", got)
	}
}

// TestDecodeLabelBadInputs: a label that does not parse, or does not name a bucket, key and
// blob, places nothing.
func TestDecodeLabelBadInputs(t *testing.T) {
	for _, v := range []string{
		``, `null`, `{}`, `[]`, `"x"`, `{"bucket":"b","key":"k"}`, `{"bucket":"b","blob":"i"}`,
		`{"key":"k","blob":"i"}`, `{"bucket":1,"key":"k","blob":"i"}`, `{"bucket":"b","key":"k","blob":"i"`,
		`{"bucket":"b","key":"k","blob":"i","size":"big"}`, `{"bucket":"b","key":"k","blob":"i","lastModified":"yesterday"}`,
	} {
		if l, err := decodeLabel([]byte(v)); err == nil {
			t.Errorf("%s: decoded as %+v", v, l)
		}
	}
	if l, err := decodeLabel([]byte(`{"bucket":"b","key":"k","blob":"i","size":3,"writtenNs":7}`)); err != nil || l.Size != 3 || l.WrittenNs != 7 {
		t.Errorf("good label: %+v %v", l, err)
	}
}

func FuzzDecodeLabel(f *testing.F) {
	f.Add([]byte(`{"bucket":"b","key":"k","blob":"i","size":3,"etag":"\"x\"","region":"eu-west-1","writtenNs":7}`))
	f.Add([]byte(`{"bucket":"b","key":"k"}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, v []byte) {
		l, err := decodeLabel(v)
		if err == nil && (l.Bucket == "" || l.Key == "" || l.Blob == "") {
			t.Fatalf("accepted a label that places nothing: %+v", l)
		}
	})
}
