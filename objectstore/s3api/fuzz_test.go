package s3api

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	bolt "go.etcd.io/bbolt"

	"github.com/localpipe/localpipe/objectstore"
)

// FuzzHandler feeds whole HTTP requests to the handler over a real store: whatever the
// addressing, query, headers (ranges, copy sources, checksums, continuation tokens,
// preconditions) and body, it must not panic, must not answer 500, and must answer every
// failure of a non-HEAD request with an S3 XML error.
func FuzzHandler(f *testing.F) {
	for _, seed := range []string{
		"PUT /b HTTP/1.1\r\nHost: x\r\n\r\n",
		"PUT /b/k HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-MD5: kAFQmDzST7DWlj99KOF/cg==\r\n\r\nabc",
		"PUT /k HTTP/1.1\r\nHost: b.s3.localhost:4566\r\nContent-Length: 3\r\nx-amz-checksum-crc32: NSRBwg==\r\n\r\nabc",
		"PUT /b/k HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\nx-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER\r\nx-amz-decoded-content-length: 3\r\nx-amz-trailer: x-amz-checksum-crc32\r\n\r\n3\r\nabc\r\n0\r\nx-amz-checksum-crc32:NSRBwg==\r\n\r\n",
		"GET /b/k HTTP/1.1\r\nHost: x\r\nRange: bytes=1-\r\nIf-None-Match: \"x\"\r\n\r\n",
		"GET /b?list-type=2&continuation-token=MTprCg==&delimiter=/&encoding-type=url&max-keys=2 HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /b?marker=a&prefix=k HTTP/1.1\r\nHost: x\r\n\r\n",
		"PUT /b/c HTTP/1.1\r\nHost: x\r\nx-amz-copy-source: /b/k?versionId=1\r\nx-amz-metadata-directive: REPLACE\r\n\r\n",
		"POST /b?delete HTTP/1.1\r\nHost: x\r\nContent-Length: 44\r\nx-amz-checksum-crc32: AAAAAA==\r\n\r\n<Delete><Object><Key>k</Key></Object></Delete>",
		"POST /b/m?uploads HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST /b HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=zz\r\nContent-Length: 226\r\n\r\n--zz\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nu/${filename}\r\n--zz\r\nContent-Disposition: form-data; name=\"success_action_status\"\r\n\r\n201\r\n--zz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nabc\r\n--zz--\r\n",
		"POST / HTTP/1.1\r\nHost: b.s3.localhost\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nkey=k",
		"PUT /b/m?uploadId=x&partNumber=1 HTTP/1.1\r\nHost: x\r\nx-amz-copy-source: b/k\r\nx-amz-copy-source-range: bytes=0-1\r\n\r\n",
		"POST /b/m?uploadId=x HTTP/1.1\r\nHost: x\r\nContent-Length: 90\r\n\r\n<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>",
		"GET /b/m?uploadId=x&max-parts=-1 HTTP/1.1\r\nHost: x\r\n\r\n",
		"DELETE /b HTTP/1.1\r\nHost: x\r\n\r\n",
		"HEAD /b/k?partNumber=2 HTTP/1.1\r\nHost: x\r\n\r\n",
		"PUT /b?cors HTTP/1.1\r\nHost: x\r\nContent-Length: 140\r\n\r\n<CORSConfiguration><CORSRule><AllowedOrigin>http://*.a</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedHeader>*</AllowedHeader></CORSRule></CORSConfiguration>",
		"OPTIONS /b/k HTTP/1.1\r\nHost: x\r\nOrigin: http://x.a\r\nAccess-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: a, ,b\r\n\r\n",
		"GET /b/k HTTP/1.1\r\nHost: x\r\nOrigin: http://x.a\r\n\r\n",
		"PUT /b/k?tagging HTTP/1.1\r\nHost: x\r\nContent-Length: 77\r\n\r\n<Tagging><TagSet><Tag><Key>a</Key><Value>1</Value></Tag></TagSet></Tagging>",
		"PUT /b/k HTTP/1.1\r\nHost: x\r\nx-amz-tagging: a=1&b=%zz\r\nx-amz-acl: public-read\r\nContent-Length: 0\r\n\r\n",
		"PUT /b?acl HTTP/1.1\r\nHost: x\r\nx-amz-grant-read: id=\"a\", uri=\"b\"\r\n\r\n",
		"PUT /b?policy HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}",
		"PUT /bkt/k HTTP/1.1\r\nHost: x\r\nContent-Length: 42\r\nx-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER\r\nx-amz-decoded-content-length: 3\r\nx-amz-trailer: x-amz-checksum-crc32\r\n\r\n3\r\nabc\r\n0\r\nx-amz-checksum-crc32:NSRBwg==\n\n",
		"GET /bkt/k?attributes HTTP/1.1\r\nHost: x\r\nx-amz-object-attributes: ETag,Checksum,ObjectParts,StorageClass,ObjectSize\r\nx-amz-max-parts: 1\r\nx-amz-part-number-marker: 0\r\n\r\n",
		"POST /bkt/m?uploads HTTP/1.1\r\nHost: x\r\nx-amz-checksum-algorithm: crc32\r\nx-amz-checksum-type: FULL_OBJECT\r\n\r\n",
		"POST /bkt/m?uploadId=x HTTP/1.1\r\nHost: x\r\nx-amz-checksum-crc32: NSRBwg==\r\nx-amz-checksum-type: COMPOSITE\r\nContent-Length: 128\r\n\r\n<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>x</ETag><ChecksumCRC32>NSRBwg==</ChecksumCRC32></Part></CompleteMultipartUpload>",
		"PUT /bkt/c HTTP/1.1\r\nHost: x\r\nx-amz-copy-source: bkt/k\r\nx-amz-checksum-algorithm: SHA256\r\n\r\n",
	} {
		f.Add([]byte(seed))
	}
	dir := f.TempDir()
	db, err := bolt.Open(filepath.Join(dir, "meta.db"), 0o644, &bolt.Options{NoSync: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	store, err := objectstore.Open(objectstore.Options{DB: db, Dir: filepath.Join(dir, "s3")})
	if err != nil {
		f.Fatal(err)
	}
	// A bucket and an object, so requests that name them reach past the lookup.
	if err := store.CreateBucket(context.Background(), "bkt", "us-east-1"); err != nil {
		f.Fatal(err)
	}
	if _, err := store.PutObject(context.Background(), "bkt", "k", strings.NewReader("abc"), objectstore.ObjectMeta{}); err != nil {
		f.Fatal(err)
	}
	h := New(store, Options{})
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			return
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code >= 500 && w.Code != http.StatusNotImplemented {
			t.Fatalf("%d for %q:\n%s", w.Code, raw, w.Body)
		}
		if w.Code >= 400 && r.Method != http.MethodHead && !strings.HasPrefix(w.Body.String(), "<?xml") {
			t.Fatalf("%d without an XML error for %q:\n%s", w.Code, raw, w.Body)
		}
	})
}

// TestMetricsBucketLabel: requests naming buckets that do not exist, or bytes that are no
// bucket name (not even UTF-8, which the Prometheus client panics on), are counted under
// the bucket label "", so clients cannot grow a series per made-up name.
func TestMetricsBucketLabel(t *testing.T) {
	dir := t.TempDir()
	db, err := bolt.Open(filepath.Join(dir, "meta.db"), 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	store, _ := objectstore.Open(objectstore.Options{DB: db, Dir: filepath.Join(dir, "s3")})
	reg := prometheus.NewRegistry()
	h := New(store, Options{Registerer: reg})
	for _, raw := range []string{
		"PUT /real HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /real/missing HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /made-up-1/k HTTP/1.1\r\nHost: x\r\n\r\n",
		"PATCH /made-up-2 HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /bad%80name/k HTTP/1.1\r\nHost: x\r\n\r\n",
	} {
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil {
			t.Fatal(err)
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string]bool{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "bucket" {
					labels[l.GetValue()] = true
				}
			}
		}
	}
	if !labels["real"] || !labels[""] || len(labels) != 2 {
		t.Errorf("bucket labels %v, want real and \"\"", labels)
	}
}
