package s3api

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/localpipe/localpipe/objectstore"
)

// BenchmarkPutObjectChecksum times a PutObject over loopback HTTP with no checksum header:
// "crc64nvme" is what the server does (it computes the default CRC64NVME), "none" the same
// request with the default turned off, so the ratio of the two is the default's cost.
// Run: go test ./objectstore/s3api -run '^$' -bench PutObjectChecksum -benchtime 40x -count 3
func BenchmarkPutObjectChecksum(b *testing.B) {
	dir := b.TempDir()
	db, err := bolt.Open(filepath.Join(dir, "meta.db"), 0o644, &bolt.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	store, err := objectstore.Open(objectstore.Options{DB: db, Dir: filepath.Join(dir, "s3")})
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(New(store, Options{}))
	b.Cleanup(func() { ts.Close(); db.Close() })
	if err := store.CreateBucket(context.Background(), "bench", "us-east-1"); err != nil {
		b.Fatal(err)
	}
	body := bytes.Repeat([]byte("0123456789abcdef"), (8<<20)/16)
	for _, alg := range []string{"none", "crc64nvme"} {
		b.Run(alg, func(b *testing.B) {
			old := defaultChecksum
			if alg == "none" {
				defaultChecksum = ""
			}
			b.Cleanup(func() { defaultChecksum = old })
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				req, err := http.NewRequest("PUT", ts.URL+"/bench/obj", bytes.NewReader(body))
				if err != nil {
					b.Fatal(err)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != 200 || (alg != "none") != (resp.Header.Get("x-amz-checksum-crc64nvme") != "") {
					b.Fatalf("put: %d %v", resp.StatusCode, resp.Header)
				}
			}
		})
	}
}
