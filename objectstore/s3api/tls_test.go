package s3api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	bolt "go.etcd.io/bbolt"

	"github.com/localpipe/localpipe/objectstore"
	"github.com/localpipe/localpipe/objectstore/s3api"
)

// TestSDKTrailingChecksums runs the SDK over TLS, where (unlike plain HTTP) it sends bodies
// as aws-chunked with STREAMING-UNSIGNED-PAYLOAD-TRAILER and the checksum in a trailer, for
// PutObject and for the upload manager's parts. The server must decode the framing, verify
// each algorithm's trailer, and return the value on a GET with ChecksumMode ENABLED.
func TestSDKTrailingChecksums(t *testing.T) {
	old := objectstore.MinPartSize
	objectstore.MinPartSize = 1 << 10
	t.Cleanup(func() { objectstore.MinPartSize = old })
	dir := t.TempDir()
	db, err := bolt.Open(filepath.Join(dir, "meta.db"), 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	store, err := objectstore.Open(objectstore.Options{DB: db, Dir: filepath.Join(dir, "s3")})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	framings := map[string]bool{} // x-amz-content-sha256 + x-amz-trailer seen on PUTs
	h := s3api.New(store, s3api.Options{})
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			mu.Lock()
			framings[r.Header.Get("X-Amz-Content-Sha256")+" "+r.Header.Get("X-Amz-Trailer")] = true
			mu.Unlock()
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { ts.Close(); db.Close() })
	c := s3.New(s3.Options{
		Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		HTTPClient: ts.Client(), BaseEndpoint: aws.String(ts.URL), UsePathStyle: true,
	})
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("tls")}); err != nil {
		t.Fatal(err)
	}
	body := bytes.Repeat([]byte("trailing checksum body "), 5000)
	for _, alg := range []types.ChecksumAlgorithm{types.ChecksumAlgorithmCrc32, types.ChecksumAlgorithmCrc32c,
		types.ChecksumAlgorithmSha1, types.ChecksumAlgorithmSha256, types.ChecksumAlgorithmCrc64nvme} {
		key := aws.String("obj-" + string(alg))
		// A reader that is not an io.Seeker: the SDK cannot hash it ahead, so it must trail.
		put, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("tls"), Key: key,
			Body: io.MultiReader(bytes.NewReader(body)), ContentLength: aws.Int64(int64(len(body))), ChecksumAlgorithm: alg})
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		if aws.ToString(put.ETag) != md5ETag(body) {
			t.Errorf("%s: etag %s", alg, aws.ToString(put.ETag))
		}
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("tls"), Key: key, ChecksumMode: types.ChecksumModeEnabled})
		if got := read(t, out, err); !bytes.Equal(got, body) {
			t.Fatalf("%s: body differs (%d bytes)", alg, len(got))
		}
		got := map[types.ChecksumAlgorithm]*string{
			types.ChecksumAlgorithmCrc32: out.ChecksumCRC32, types.ChecksumAlgorithmCrc32c: out.ChecksumCRC32C,
			types.ChecksumAlgorithmSha1: out.ChecksumSHA1, types.ChecksumAlgorithmSha256: out.ChecksumSHA256,
			types.ChecksumAlgorithmCrc64nvme: out.ChecksumCRC64NVME,
		}[alg]
		if got == nil {
			t.Errorf("%s: GET returned no checksum", alg)
		}
	}
	// Independent values for two of them, so the server cannot agree with itself only.
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("tls"), Key: aws.String("obj-CRC32"), ChecksumMode: types.ChecksumModeEnabled})
	read(t, out, err)
	if want := crc32b64(string(body)); aws.ToString(out.ChecksumCRC32) != want {
		t.Errorf("CRC32 %s, want %s", aws.ToString(out.ChecksumCRC32), want)
	}
	out, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("tls"), Key: aws.String("obj-SHA256"), ChecksumMode: types.ChecksumModeEnabled})
	read(t, out, err)
	if sum := sha256.Sum256(body); aws.ToString(out.ChecksumSHA256) != base64.StdEncoding.EncodeToString(sum[:]) {
		t.Errorf("SHA256 %s", aws.ToString(out.ChecksumSHA256))
	}

	// The upload manager sends each part with a trailing CRC32 by default; the object gets the
	// composite checksum.
	big := bytes.Repeat([]byte("0123456789abcdef"), (11<<20)/16)
	up := manager.NewUploader(c, func(u *manager.Uploader) { u.PartSize = 5 << 20 })
	res, err := up.Upload(ctx, &s3.PutObjectInput{Bucket: aws.String("tls"), Key: aws.String("managed"), Body: io.MultiReader(bytes.NewReader(big)),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(aws.ToString(res.ETag), `-3"`) {
		t.Errorf("managed etag %s", aws.ToString(res.ETag))
	}
	out, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("tls"), Key: aws.String("managed"), ChecksumMode: types.ChecksumModeEnabled})
	if got := read(t, out, err); !bytes.Equal(got, big) {
		t.Errorf("managed object differs (%d bytes)", len(got))
	}
	// S3's composite checksum: the algorithm over the parts' raw checksums, then -N.
	castagnoli := crc32.MakeTable(crc32.Castagnoli)
	var raw []byte
	for off := 0; off < len(big); off += 5 << 20 {
		raw = binary.BigEndian.AppendUint32(raw, crc32.Checksum(big[off:min(off+5<<20, len(big))], castagnoli))
	}
	composite := crc32.Checksum(raw, castagnoli)
	want := base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, composite)) + "-3"
	if aws.ToString(out.ChecksumCRC32C) != want || out.ChecksumType != types.ChecksumTypeComposite {
		t.Errorf("managed checksum %s %s, want %s COMPOSITE", aws.ToString(out.ChecksumCRC32C), out.ChecksumType, want)
	}

	if !framings["STREAMING-UNSIGNED-PAYLOAD-TRAILER x-amz-checksum-crc32c"] || !framings["STREAMING-UNSIGNED-PAYLOAD-TRAILER x-amz-checksum-sha256"] {
		t.Errorf("the SDK did not send trailers; framings seen: %v", framings)
	}
}
