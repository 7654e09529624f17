package s3api

import (
	"bytes"
	"encoding/base64"
	"errors"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/localpipe/localpipe/objectstore"
)

// chunk frames data as one aws-chunked chunk with a (fake) signature.
func chunk(data string, signed bool) string {
	s := strconv.FormatInt(int64(len(data)), 16)
	if signed {
		s += ";chunk-signature=" + strings.Repeat("0", 64)
	}
	return s + "\r\n" + data + "\r\n"
}

func crc32b64(s string) string {
	v := crc32.ChecksumIEEE([]byte(s))
	return base64.StdEncoding.EncodeToString([]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func TestChunkedReader(t *testing.T) {
	sig := ";chunk-signature=" + strings.Repeat("a", 64)
	for _, tc := range []struct {
		name    string
		body    string
		want    string
		trailer string // x-amz-checksum-crc32 trailer expected
		bad     bool
	}{
		{name: "signed", body: chunk("hello ", true) + chunk("world", true) + "0" + sig + "\r\n\r\n", want: "hello world"},
		{name: "unsigned with trailer", body: chunk("abc", false) + "0\r\nx-amz-checksum-crc32:" + crc32b64("abc") + "\r\n\r\n", want: "abc", trailer: crc32b64("abc")},
		{name: "signed with trailer and trailer signature", body: chunk("abc", true) + "0" + sig + "\r\nx-amz-checksum-crc32:" + crc32b64("abc") + "\r\nx-amz-trailer-signature:" + strings.Repeat("b", 64) + "\r\n\r\n", want: "abc", trailer: crc32b64("abc")},
		{name: "trailer ended by bare LF", body: chunk("abc", false) + "0\r\nx-amz-checksum-crc32:" + crc32b64("abc") + "\n\n", want: "abc", trailer: crc32b64("abc")},
		{name: "trailer LF, final line CRLF", body: chunk("abc", false) + "0\r\nx-amz-checksum-crc32:" + crc32b64("abc") + "\n\r\n", want: "abc", trailer: crc32b64("abc")},
		{name: "signed trailers ended by bare LF", body: chunk("abc", true) + "0" + sig + "\r\nx-amz-checksum-crc32:" + crc32b64("abc") + "\nx-amz-trailer-signature:" + strings.Repeat("b", 64) + "\n\n", want: "abc", trailer: crc32b64("abc")},
		{name: "no trailers, bare LF end", body: chunk("abc", false) + "0\r\n\n", want: "abc"},
		{name: "no final empty line", body: chunk("abc", false) + "0\r\n", want: "abc"},
		{name: "empty body", body: "0\r\n\r\n", want: ""},
		{name: "upper-case hex", body: "A\r\n0123456789\r\n0\r\n\r\n", want: "0123456789"},
		{name: "truncated inside chunk", body: "10\r\nshort", bad: true},
		{name: "truncated in header", body: "5", bad: true},
		{name: "missing final chunk", body: chunk("abc", false), bad: true},
		{name: "bad size", body: "zz\r\nabc\r\n0\r\n\r\n", bad: true},
		{name: "negative size", body: "-1\r\nabc\r\n0\r\n\r\n", bad: true},
		{name: "huge size", body: "7fffffffffffffff\r\nabc\r\n", bad: true},
		{name: "empty size", body: "\r\nabc\r\n", bad: true},
		{name: "size too long", body: strings.Repeat("0", 16) + "1\r\na\r\n0\r\n\r\n", bad: true},
		{name: "unknown extension", body: "3;foo=bar\r\nabc\r\n0\r\n\r\n", bad: true},
		{name: "LF only", body: "3\nabc\n0\n\n", bad: true},
		{name: "final chunk header ended by bare LF", body: chunk("abc", false) + "0\nx-amz-checksum-crc32:AAAAAA==\n\n", bad: true},
		{name: "bare LF trailer without colon", body: chunk("abc", false) + "0\r\nno-colon\n\n", bad: true},
		{name: "bare LF trailer, body ends inside", body: chunk("abc", false) + "0\r\nx-amz-checksum-crc32:AAAAAA==\n", bad: true},
		{name: "no CRLF after data", body: "3\r\nabcX\r\n0\r\n\r\n", bad: true},
		{name: "chunk header too long", body: "3;chunk-signature=" + strings.Repeat("a", 5000) + "\r\nabc\r\n", bad: true},
		{name: "malformed trailer", body: "0\r\nno-colon\r\n\r\n", bad: true},
		{name: "too many trailers", body: "0\r\n" + strings.Repeat("x-a:b\r\n", 20) + "\r\n", bad: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cr := newChunkedReader(strings.NewReader(tc.body))
			got, err := io.ReadAll(cr)
			if tc.bad {
				var ce *errChunked
				if !errors.As(err, &ce) {
					t.Fatalf("err %v, want a chunked-body error", err)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Fatalf("got %q, %v", got, err)
			}
			if g := cr.trailer.Get("x-amz-checksum-crc32"); g != tc.trailer {
				t.Errorf("trailer %q, want %q", g, tc.trailer)
			}
		})
	}
}

func FuzzChunkedReader(f *testing.F) {
	f.Add([]byte(chunk("hello", true) + "0;chunk-signature=00\r\n\r\n"))
	f.Add([]byte(chunk("abc", false) + "0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n"))
	f.Add([]byte(chunk("abc", false) + "0\r\nx-amz-checksum-crc32:AAAAAA==\n\n"))
	f.Add([]byte(chunk("abc", true) + "0;chunk-signature=00\r\nx-amz-checksum-crc32:AAAAAA==\nx-amz-trailer-signature:00\r\n\n"))
	f.Add([]byte("ffffffff\r\n"))
	f.Add([]byte("0\r\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		cr := newChunkedReader(bytes.NewReader(body))
		got, err := io.ReadAll(cr)
		if len(got) > len(body) {
			t.Fatalf("decoded %d bytes from %d", len(got), len(body))
		}
		if err == nil && !cr.done {
			t.Fatal("EOF before the final chunk")
		}
	})
}

func newRequest(body string, h map[string]string) *http.Request {
	r := httptest.NewRequest(http.MethodPut, "/b/k", strings.NewReader(body))
	for k, v := range h {
		r.Header.Set(k, v)
	}
	if _, ok := h["Content-Length"]; !ok && !strings.HasPrefix(h["X-Amz-Content-Sha256"], "STREAMING-") {
		r.ContentLength = int64(len(body))
	} else if ok {
		r.ContentLength, _ = strconv.ParseInt(h["Content-Length"], 10, 64)
	}
	return r
}

// TestDecodeBody covers the header combinations a PUT body can come with and the S3 error
// each bad one gets.
func TestDecodeBody(t *testing.T) {
	unsignedTrailer := chunk("abc", false) + "0\r\nx-amz-checksum-crc32:" + crc32b64("abc") + "\r\n\r\n"
	sha := "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" // sha256("abc")
	for _, tc := range []struct {
		name    string
		body    string
		headers map[string]string
		code    string // "" for success; an *s3Error code otherwise, at header or body time
		sums    map[string]string
	}{
		{name: "plain", body: "abc"},
		{name: "content-md5", body: "abc", headers: map[string]string{"Content-MD5": "kAFQmDzST7DWlj99KOF/cg=="}},
		{name: "content-md5 wrong", body: "abc", headers: map[string]string{"Content-MD5": "1B2M2Y8AsgTpgAmY7PhCfg=="}, code: "BadDigest"},
		{name: "content-md5 not base64", body: "abc", headers: map[string]string{"Content-MD5": "!!"}, code: "InvalidDigest"},
		{name: "content-md5 short", body: "abc", headers: map[string]string{"Content-MD5": "AAAA"}, code: "InvalidDigest"},
		{name: "sha256 payload", body: "abc", headers: map[string]string{"X-Amz-Content-Sha256": sha}},
		{name: "sha256 mismatch", body: "abd", headers: map[string]string{"X-Amz-Content-Sha256": sha}, code: "XAmzContentSHA256Mismatch"},
		{name: "sha256 garbage", body: "abc", headers: map[string]string{"X-Amz-Content-Sha256": "nope"}, code: "InvalidArgument"},
		{name: "unsigned payload", body: "abc", headers: map[string]string{"X-Amz-Content-Sha256": "UNSIGNED-PAYLOAD"}},
		{name: "crc32 header", body: "abc", headers: map[string]string{"X-Amz-Checksum-Crc32": crc32b64("abc")}, sums: map[string]string{"CRC32": crc32b64("abc")}},
		{name: "crc32 header wrong", body: "abd", headers: map[string]string{"X-Amz-Checksum-Crc32": crc32b64("abc")}, code: "BadDigest"},
		{name: "crc32 header not base64", body: "abc", headers: map[string]string{"X-Amz-Checksum-Crc32": "???"}, code: "InvalidRequest"},
		{name: "two checksum headers", body: "abc", headers: map[string]string{"X-Amz-Checksum-Crc32": crc32b64("abc"), "X-Amz-Checksum-Sha1": "qZk+NkcGgWq6PiVxeFDCbJzQ2J0="}, code: "InvalidRequest"},
		{name: "unknown checksum header", body: "abc", headers: map[string]string{"X-Amz-Checksum-Md4": "AAAA"}, code: "InvalidRequest"},
		{name: "sdk algorithm only", body: "abc", headers: map[string]string{"X-Amz-Sdk-Checksum-Algorithm": "CRC32"}, sums: map[string]string{"CRC32": crc32b64("abc")}},
		{name: "sdk algorithm unknown", body: "abc", headers: map[string]string{"X-Amz-Sdk-Checksum-Algorithm": "MD4"}, code: "InvalidRequest"},
		{name: "unsigned trailer", body: unsignedTrailer, headers: map[string]string{"X-Amz-Content-Sha256": streamingUnsigned,
			"X-Amz-Decoded-Content-Length": "3", "X-Amz-Trailer": "x-amz-checksum-crc32", "Content-Encoding": "aws-chunked"}, sums: map[string]string{"CRC32": crc32b64("abc")}},
		{name: "unsigned trailer ended by bare LF", body: strings.ReplaceAll(unsignedTrailer, "==\r\n\r\n", "==\n\n"), headers: map[string]string{"X-Amz-Content-Sha256": streamingUnsigned,
			"X-Amz-Decoded-Content-Length": "3", "X-Amz-Trailer": "x-amz-checksum-crc32"}, sums: map[string]string{"CRC32": crc32b64("abc")}},
		{name: "trailer wrong", body: strings.Replace(unsignedTrailer, "abc", "abd", 1), headers: map[string]string{"X-Amz-Content-Sha256": streamingUnsigned,
			"X-Amz-Decoded-Content-Length": "3", "X-Amz-Trailer": "x-amz-checksum-crc32"}, code: "BadDigest"},
		{name: "trailer declared not sent", body: chunk("abc", false) + "0\r\n\r\n", headers: map[string]string{"X-Amz-Content-Sha256": streamingUnsigned,
			"X-Amz-Decoded-Content-Length": "3", "X-Amz-Trailer": "x-amz-checksum-crc32"}, code: "InvalidRequest"},
		{name: "trailer unknown", body: unsignedTrailer, headers: map[string]string{"X-Amz-Content-Sha256": streamingUnsigned,
			"X-Amz-Decoded-Content-Length": "3", "X-Amz-Trailer": "x-amz-foo"}, code: "InvalidRequest"},
		{name: "trailer without chunked body", body: "abc", headers: map[string]string{"X-Amz-Trailer": "x-amz-checksum-crc32"}, code: "InvalidRequest"},
		{name: "decoded length short", body: unsignedTrailer, headers: map[string]string{"X-Amz-Content-Sha256": streamingUnsigned,
			"X-Amz-Decoded-Content-Length": "4"}, code: "IncompleteBody"},
		{name: "decoded length long", body: unsignedTrailer, headers: map[string]string{"X-Amz-Content-Sha256": streamingUnsigned,
			"X-Amz-Decoded-Content-Length": "2"}, code: "IncompleteBody"},
		{name: "decoded length missing", body: unsignedTrailer, headers: map[string]string{"X-Amz-Content-Sha256": streamingUnsigned}, code: "MissingContentLength"},
		{name: "decoded length garbage", body: unsignedTrailer, headers: map[string]string{"X-Amz-Content-Sha256": streamingUnsigned, "X-Amz-Decoded-Content-Length": "x"}, code: "InvalidArgument"},
		{name: "unknown streaming mode", body: unsignedTrailer, headers: map[string]string{"X-Amz-Content-Sha256": "STREAMING-FOO", "X-Amz-Decoded-Content-Length": "3"}, code: "InvalidArgument"},
		{name: "over 5 GiB", body: "abc", headers: map[string]string{"Content-Length": "5368709121"}, code: "EntityTooLarge"},
		{name: "decoded over 5 GiB", body: unsignedTrailer, headers: map[string]string{"X-Amz-Content-Sha256": streamingUnsigned,
			"X-Amz-Decoded-Content-Length": "5368709121"}, code: "EntityTooLarge"},
		{name: "chunked framing broken", body: "3\r\nab", headers: map[string]string{"X-Amz-Content-Sha256": streamingSigned, "X-Amz-Decoded-Content-Length": "3"}, code: "IncompleteBody"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, serr := decodeBody(newRequest(tc.body, tc.headers))
			var err error
			if serr != nil {
				err = serr
			} else if _, err = io.ReadAll(v); err != nil {
				err = bodyError(err)
			}
			code := ""
			if err != nil {
				var se *s3Error
				if !errors.As(err, &se) {
					t.Fatalf("error %v is not an S3 error", err)
				}
				code = se.code
			}
			if code != tc.code {
				t.Fatalf("code %q (%v), want %q", code, err, tc.code)
			}
			if tc.code == "" && tc.sums != nil {
				for alg, want := range tc.sums {
					if v.computed[alg] != want {
						t.Errorf("%s = %q, want %q", alg, v.computed[alg], want)
					}
				}
			}
		})
	}
	if got := storedEncoding(http.Header{"Content-Encoding": {"aws-chunked, gzip"}}); got != "gzip" {
		t.Errorf("stored encoding %q", got)
	}
}

func TestParseRange(t *testing.T) {
	for _, tc := range []struct {
		h               string
		size            int64
		start, end      int64
		ok, satisfiable bool
	}{
		{"bytes=0-9", 100, 0, 9, true, true},
		{"bytes=90-", 100, 90, 99, true, true},
		{"bytes=-10", 100, 90, 99, true, true},
		{"bytes=-1000", 100, 0, 99, true, true},
		{"bytes=50-1000", 100, 50, 99, true, true},
		{"bytes=100-", 100, 0, 0, true, false},
		{"bytes=0-", 0, 0, 0, true, false},
		{"bytes=-0", 100, 0, 0, true, false},
		{"bytes=9-1", 100, 0, 0, false, false},
		{"bytes=0-1,5-6", 100, 0, 0, false, false},
		{"items=0-1", 100, 0, 0, false, false},
		{"bytes=a-b", 100, 0, 0, false, false},
		{"bytes=-", 100, 0, 0, false, false},
		{"bytes=5", 100, 0, 0, false, false},
	} {
		s, e, ok, sat := parseRange(tc.h, tc.size)
		if ok != tc.ok || sat != tc.satisfiable || (sat && (s != tc.start || e != tc.end)) {
			t.Errorf("%q/%d: %d-%d ok=%v sat=%v", tc.h, tc.size, s, e, ok, sat)
		}
	}
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-9", "bytes=-5", "bytes=5-", "bytes=1-0", "bytes=0-1,2-3"} {
		f.Add(s, int64(10))
	}
	f.Fuzz(func(t *testing.T, h string, size int64) {
		if size < 0 {
			return
		}
		s, e, ok, sat := parseRange(h, size)
		if ok && sat && (s < 0 || e < s || e >= size) {
			t.Fatalf("%q/%d gave %d-%d", h, size, s, e)
		}
	})
}

func TestAddress(t *testing.T) {
	for _, tc := range []struct{ host, path, bucket, key string }{
		{"localhost:4566", "/b/k/x", "b", "k/x"},
		{"127.0.0.1:4566", "/b", "b", ""},
		{"127.0.0.1:4566", "/b/", "b", ""},
		{"127.0.0.1:4566", "/b//k", "b", "/k"},
		{"127.0.0.1:4566", "/", "", ""},
		{"s3.localhost:4566", "/b/k", "b", "k"},
		{"my.bucket.s3.localhost:4566", "/a/../k", "my.bucket", "a/../k"},
		{"bucket.localhost:4566", "/k", "bucket", "k"},
		{"bucket.localhost", "/", "bucket", ""},
		{"bucket.s3.localhost.localstack.cloud:4566", "/k", "bucket", "k"},
		{"bucket.s3.amazonaws.com", "/k", "bucket", "k"},
		{"bucket.s3.eu-west-1.amazonaws.com", "/k", "bucket", "k"},
		{"BUCKET.LOCALHOST:1", "/k", "bucket", "k"},
		{"[::1]:4566", "/b/k", "b", "k"},
		{"abc123.execute-api.localhost:4566", "/b/k", "b", "k"},
		{"bucket.localhost:4566", "/metrics", "bucket", "metrics"},
	} {
		r := httptest.NewRequest(http.MethodGet, "http://x"+tc.path, nil)
		r.Host = tc.host
		b, k := address(r)
		if b != tc.bucket || k != tc.key {
			t.Errorf("%s%s: %q %q", tc.host, tc.path, b, k)
		}
	}
}

// TestUploadChecksum covers CreateMultipartUpload's checksum headers: each algorithm's
// default type, the combinations S3 allows, and the ones it refuses.
func TestUploadChecksum(t *testing.T) {
	for _, tc := range []struct {
		alg, typ         string
		wantAlg, wantTyp string // "" wantTyp with a non-empty alg: refused
		ok               bool
	}{
		{"", "", "", "", true},
		{"crc32", "", "CRC32", "COMPOSITE", true},
		{"CRC32C", "full_object", "CRC32C", "FULL_OBJECT", true},
		{"CRC64NVME", "", "CRC64NVME", "FULL_OBJECT", true},
		{"SHA1", "COMPOSITE", "SHA1", "COMPOSITE", true},
		{"SHA256", "", "SHA256", "COMPOSITE", true},
		{"SHA1", "FULL_OBJECT", "", "", false},
		{"SHA256", "FULL_OBJECT", "", "", false},
		{"CRC64NVME", "COMPOSITE", "", "", false},
		{"", "FULL_OBJECT", "", "", false},
		{"CRC32", "PARTIAL", "", "", false},
		{"MD5", "", "", "", false},
		{"crc32 ", "", "", "", false},
	} {
		h := http.Header{}
		if tc.alg != "" {
			h.Set("X-Amz-Checksum-Algorithm", tc.alg)
		}
		if tc.typ != "" {
			h.Set("X-Amz-Checksum-Type", tc.typ)
		}
		alg, typ, serr := uploadChecksum(h)
		if (serr == nil) != tc.ok || alg != tc.wantAlg || typ != tc.wantTyp {
			t.Errorf("%q %q: %q %q %v", tc.alg, tc.typ, alg, typ, serr)
		}
		if serr != nil && serr.code != "InvalidRequest" {
			t.Errorf("%q %q: code %s", tc.alg, tc.typ, serr.code)
		}
	}
}

func FuzzUploadChecksum(f *testing.F) {
	f.Add("CRC32", "FULL_OBJECT")
	f.Add("sha256", "composite")
	f.Add("", "COMPOSITE")
	f.Add("CRC64NVME", "")
	f.Fuzz(func(t *testing.T, a, ty string) {
		h := http.Header{}
		h.Set("X-Amz-Checksum-Algorithm", a)
		h.Set("X-Amz-Checksum-Type", ty)
		alg, typ, serr := uploadChecksum(h)
		if serr != nil {
			return
		}
		if alg == "" {
			if typ != "" {
				t.Fatalf("type %q without an algorithm", typ)
			}
			return
		}
		if objectstore.NewChecksum(alg) == nil || (typ != "FULL_OBJECT" && typ != "COMPOSITE") {
			t.Fatalf("accepted %q %q", alg, typ)
		}
	})
}
