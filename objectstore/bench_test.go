package objectstore_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/localpipe/localpipe/objectstore"
	"github.com/localpipe/localpipe/objectstore/s3api"
)

// benchServer is a store (bbolt without fsync: listing benchmarks measure reads) served over
// loopback HTTP.
func benchServer(b *testing.B) (*objectstore.Store, *httptest.Server) {
	b.Helper()
	dir := b.TempDir()
	db, err := bolt.Open(filepath.Join(dir, "meta.db"), 0o644, &bolt.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	store, err := objectstore.Open(objectstore.Options{DB: db, Dir: filepath.Join(dir, "s3")})
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(s3api.New(store, s3api.Options{}))
	b.Cleanup(func() { ts.Close(); db.Close() })
	return store, ts
}

// BenchmarkListObjectsV2 times one ListObjectsV2 page of 1000 keys, over loopback HTTP and in
// the engine alone, in a bucket of 1,000 keys and in one of 1,000,000, each page starting
// after a different key. The aim: the large bucket's page within 2x of the small
// one's. Run: go test ./objectstore -run '^$' -bench ListObjectsV2 -benchtime 200x
func BenchmarkListObjectsV2(b *testing.B) {
	store, ts := benchServer(b)
	ctx := context.Background()
	sizes := []int{1000, 1_000_000}
	for _, n := range sizes {
		bucket := fmt.Sprintf("keys-%d", n)
		store.CreateBucket(ctx, bucket, "us-east-1")
		t0 := time.Now()
		if err := objectstore.SeedObjects(store, bucket, n); err != nil {
			b.Fatal(err)
		}
		b.Logf("seeded %d keys in %s", n, time.Since(t0).Round(time.Millisecond))
	}
	for _, n := range sizes {
		bucket := fmt.Sprintf("keys-%d", n)
		// The small bucket holds exactly one page, so its pages start at the beginning.
		after := func(i int) string {
			if n <= 1000 {
				return ""
			}
			return fmt.Sprintf("key-%09d", (i*7919)%(n-1000))
		}
		b.Run(fmt.Sprintf("http/keys=%d", n), func(b *testing.B) {
			hc := ts.Client()
			for i := 0; b.Loop(); i++ {
				resp, err := hc.Get(ts.URL + "/" + bucket + "?list-type=2&start-after=" + after(i))
				if err != nil {
					b.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || strings.Count(string(body), "<Key>") != 1000 {
					b.Fatalf("%d, %d keys", resp.StatusCode, strings.Count(string(body), "<Key>"))
				}
			}
		})
		b.Run(fmt.Sprintf("engine/keys=%d", n), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				res, err := store.List(ctx, bucket, objectstore.ListInput{StartAfter: after(i), MaxKeys: 1000})
				if err != nil || len(res.Objects) != 1000 {
					b.Fatalf("%d keys, %v", len(res.Objects), err)
				}
			}
		})
	}
}

// BenchmarkListObjectVersions times one ListObjectVersions page of 1000 versions over
// loopback HTTP, in a bucket of 1,000 versions and in one of 100,000 (25,000 keys of 4
// versions), each page starting at a different key. The aim: the large bucket's page
// within 2x of the small one's.
// Run: go test ./objectstore -run '^$' -bench ListObjectVersions -benchtime 200x
func BenchmarkListObjectVersions(b *testing.B) {
	store, ts := benchServer(b)
	ctx := context.Background()
	for _, n := range []int{1000, 100_000} {
		bucket := fmt.Sprintf("versions-%d", n)
		store.CreateBucket(ctx, bucket, "us-east-1")
		if err := objectstore.SeedVersions(store, bucket, n/4, 4); err != nil {
			b.Fatal(err)
		}
		keys := n / 4
		b.Run(fmt.Sprintf("http/versions=%d", n), func(b *testing.B) {
			hc := ts.Client()
			for i := 0; b.Loop(); i++ {
				marker := ""
				if keys > 250 {
					marker = fmt.Sprintf("key-%09d", (i*7919)%(keys-250))
				}
				resp, err := hc.Get(ts.URL + "/" + bucket + "?versions&key-marker=" + marker)
				if err != nil {
					b.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if got := strings.Count(string(body), "<Version>"); resp.StatusCode != 200 || got != 1000 {
					b.Fatalf("%d, %d versions", resp.StatusCode, got)
				}
			}
		})
	}
}

// BenchmarkPutObject times puts in the engine (temp file, label, fsync, rename, bbolt commit):
// of 4 KiB, the cost repair's blob labels add to, and of 32 MiB, what a large Firehose object
// costs to write. Run: go test ./objectstore -run '^$' -bench PutObject
func BenchmarkPutObject(b *testing.B) {
	dir := b.TempDir()
	db, err := bolt.Open(filepath.Join(dir, "meta.db"), 0o644, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	store, err := objectstore.Open(objectstore.Options{DB: db, Dir: filepath.Join(dir, "s3")})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if err := store.CreateBucket(ctx, "bench", "us-east-1"); err != nil {
		b.Fatal(err)
	}
	meta := objectstore.ObjectMeta{ContentType: "application/json", UserMeta: map[string]string{"origin": "bench"}}
	for _, size := range []int{4 << 10, 32 << 20} {
		body := bytes.Repeat([]byte("x"), size)
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for i := 0; b.Loop(); i++ {
				if _, err := store.PutObject(ctx, "bench", fmt.Sprintf("k/%d", i%4), bytes.NewReader(body), meta); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
