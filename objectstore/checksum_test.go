package objectstore

import (
	"context"
	"encoding/base64"
	"errors"
	"hash/crc32"
	"strings"
	"testing"
)

// TestCompleteUploadChecksums: Complete gives the object a full-object CRC computed over the
// joined bytes (the upload's algorithm, or CRC64NVME for an upload without one) or the
// composite of the part checksums; a failing check commits nothing and keeps the upload.
func TestCompleteUploadChecksums(t *testing.T) {
	lowerMinPart(t)
	ctx := context.Background()
	s, _ := openAt(t, t.TempDir())
	s.CreateBucket(ctx, "bkt", "us-east-1")
	parts := []string{strings.Repeat("a", 20), strings.Repeat("b", 30), "c"}
	b64 := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
	crc := func(s string) []byte {
		v := crc32.ChecksumIEEE([]byte(s))
		return []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
	}
	run := func(key, alg, typ string, check func(UploadInfo, []PartInfo, ObjectInfo) error) (ObjectInfo, error) {
		u, err := s.StartUpload(ctx, UploadInfo{Bucket: "bkt", Key: key, ChecksumAlgorithm: alg, ChecksumType: typ})
		if err != nil {
			t.Fatal(err)
		}
		var list []CompletePart
		for i, p := range parts {
			var sums map[string]string
			if alg == "CRC32" {
				sums = map[string]string{"CRC32": b64(crc(p))}
			}
			pi, err := s.UploadPart(ctx, "bkt", key, u.UploadID, i+1, strings.NewReader(p), nil, sums)
			if err != nil {
				t.Fatal(err)
			}
			list = append(list, CompletePart{PartNumber: i + 1, ETag: pi.ETag})
		}
		info, err := s.CompleteUpload(ctx, "bkt", key, u.UploadID, list, check)
		if err != nil {
			if _, lerr := s.ListParts(ctx, "bkt", key, u.UploadID, ListPartsInput{}); lerr != nil {
				t.Errorf("%s: upload gone after a failed complete: %v", key, lerr)
			}
		}
		return info, err
	}
	info, err := run("full", "CRC32", ChecksumFullObject, nil)
	if err != nil || info.Checksums["CRC32"] != b64(crc(strings.Join(parts, ""))) || len(info.PartChecksums) != 3 {
		t.Errorf("full object: %v %v %v", info.Checksums, info.PartChecksums, err)
	}
	info, err = run("composite", "CRC32", ChecksumComposite, nil)
	want := b64(crc(string(crc(parts[0]))+string(crc(parts[1]))+string(crc(parts[2])))) + "-3"
	if err != nil || info.Checksums["CRC32"] != want {
		t.Errorf("composite: %v, want %s: %v", info.Checksums, want, err)
	}
	info, err = run("none", "", "", nil)
	if err != nil || len(info.Checksums) != 1 || info.Checksums[DefaultChecksum] == "" {
		t.Errorf("no algorithm: %v %v", info.Checksums, err)
	}
	refuse := errors.New("refused")
	if _, err := run("checked", "CRC32", ChecksumFullObject, func(UploadInfo, []PartInfo, ObjectInfo) error { return refuse }); err != refuse {
		t.Errorf("check's error: %v", err)
	}
	if _, err := s.HeadObject(ctx, "bkt", "checked"); !errors.Is(err, ErrNoSuchKey) {
		t.Errorf("object committed despite the check: %v", err)
	}
}
