package s3api

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/localpipe/localpipe/objectstore"
)

// BenchmarkPutObjectChecksum times PutObjects of 8 MiB over loopback HTTP with no checksum
// header, alternating two servers' behaviour in the same loop: "crc64nvme" is what the server
// does (it computes the default CRC64NVME), "none" the same request with the default turned
// off. Alternating, rather than running one after the other, keeps a shared machine's
// changing load out of the ratio, which is reported as crc64nvme/none throughput.
// Run: go test ./objectstore/s3api -run '^$' -bench PutObjectChecksum -benchtime 60x -count 3
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
	old := defaultChecksum
	b.Cleanup(func() { defaultChecksum = old })
	put := func(alg string) time.Duration {
		defaultChecksum = alg
		start := time.Now()
		req, err := http.NewRequest("PUT", ts.URL+"/bench/obj", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || (alg != "") != (resp.Header.Get("x-amz-checksum-crc64nvme") != "") {
			b.Fatalf("put: %d %v", resp.StatusCode, resp.Header)
		}
		return time.Since(start)
	}
	var none, crc time.Duration
	b.SetBytes(int64(2 * len(body)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		none += put("")
		crc += put("CRC64NVME")
	}
	mb := float64(b.N) * float64(len(body)) / (1 << 20)
	b.ReportMetric(mb/none.Seconds(), "none-MiB/s")
	b.ReportMetric(mb/crc.Seconds(), "crc64nvme-MiB/s")
	b.ReportMetric(none.Seconds()/crc.Seconds(), "ratio")
}

// BenchmarkCRC64NVME is the hash alone over 8 MiB, for scale.
func BenchmarkCRC64NVME(b *testing.B) {
	body := bytes.Repeat([]byte("0123456789abcdef"), (8<<20)/16)
	b.SetBytes(int64(len(body)))
	for i := 0; i < b.N; i++ {
		h := objectstore.NewChecksum("CRC64NVME")
		h.Write(body)
		h.Sum(nil)
	}
}
