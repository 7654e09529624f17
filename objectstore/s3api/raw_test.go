package s3api_test

import (
	"bufio"
	"context"
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// do sends a raw request, for what the SDKs never send.
func (s *server) do(t *testing.T, method, path string, body io.Reader, headers map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func md5b64(s string) string {
	sum := md5.Sum([]byte(s))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func crc32b64(s string) string {
	v := crc32.ChecksumIEEE([]byte(s))
	return base64.StdEncoding.EncodeToString([]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func TestWireErrors(t *testing.T) {
	s := newServer(t)
	if r, b := s.do(t, "PUT", "/raw", nil, nil); r.StatusCode != 200 {
		t.Fatalf("create: %d %s", r.StatusCode, b)
	}
	s.do(t, "PUT", "/raw/k", strings.NewReader("v"), nil)
	for _, tc := range []struct {
		name, method, path, body string
		headers                  map[string]string
		status                   int
		contains                 []string
	}{
		{name: "no such bucket", method: "GET", path: "/nope/k", status: 404,
			contains: []string{"<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><BucketName>nope</BucketName><RequestId>"}},
		{name: "no such key", method: "GET", path: "/raw/missing%20key", status: 404,
			contains: []string{"<Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>missing key</Key>"}},
		{name: "head no body", method: "HEAD", path: "/raw/missing", status: 404},
		{name: "head bucket no body", method: "HEAD", path: "/nope", status: 404},
		{name: "method not allowed", method: "PATCH", path: "/raw/k", status: 405, contains: []string{"<Code>MethodNotAllowed</Code>"}},
		{name: "not implemented sub-resource", method: "GET", path: "/raw?analytics", status: 501, contains: []string{"<Code>NotImplemented</Code>", "ListBucketAnalyticsConfigurations"}},
		{name: "bad list type", method: "GET", path: "/raw?list-type=3", status: 400, contains: []string{"<Code>InvalidArgument</Code>"}},
		{name: "bad encoding type", method: "GET", path: "/raw?list-type=2&encoding-type=base64", status: 400, contains: []string{"Invalid Encoding Method"}},
		{name: "bad max-keys", method: "GET", path: "/raw?list-type=2&max-keys=x", status: 400, contains: []string{"<Code>InvalidArgument</Code>"}},
		{name: "missing tag set", method: "GET", path: "/raw?tagging", status: 404, contains: []string{"<Code>NoSuchTagSet</Code>"}},
		{name: "missing policy", method: "GET", path: "/raw?policy", status: 404, contains: []string{"<Code>NoSuchBucketPolicy</Code>"}},
		{name: "delete objects malformed", method: "POST", path: "/raw?delete", body: "<Delete><Object>", headers: map[string]string{"Content-MD5": md5b64("<Delete><Object>")},
			status: 400, contains: []string{"<Code>MalformedXML</Code>"}},
		{name: "delete objects no key", method: "POST", path: "/raw?delete", body: "<Delete><Object></Object></Delete>", headers: map[string]string{"Content-MD5": md5b64("<Delete><Object></Object></Delete>")},
			status: 400, contains: []string{"<Code>MalformedXML</Code>"}},
		{name: "delete objects without digest", method: "POST", path: "/raw?delete", body: "<Delete><Object><Key>k</Key></Object></Delete>",
			status: 400, contains: []string{"<Code>InvalidRequest</Code>", "Content-MD5"}},
		{name: "delete objects too many", method: "POST", path: "/raw?delete", body: "<Delete>" + strings.Repeat("<Object><Key>k</Key></Object>", 1001) + "</Delete>",
			headers: map[string]string{"Content-MD5": md5b64("<Delete>" + strings.Repeat("<Object><Key>k</Key></Object>", 1001) + "</Delete>")}, status: 400, contains: []string{"<Code>MalformedXML</Code>"}},
		{name: "create bucket malformed", method: "PUT", path: "/another", body: "<CreateBucketConfiguration>", status: 400, contains: []string{"<Code>MalformedXML</Code>"}},
		{name: "complete malformed", method: "POST", path: "/raw/k?uploadId=x", body: "<Complete", status: 400, contains: []string{"<Code>MalformedXML</Code>"}},
		{name: "no such upload", method: "POST", path: "/raw/k?uploadId=x", body: "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"a\"</ETag></Part></CompleteMultipartUpload>",
			status: 404, contains: []string{"<Code>NoSuchUpload</Code>"}},
		{name: "bad part number", method: "PUT", path: "/raw/k?uploadId=x&partNumber=10001", body: "x", status: 400, contains: []string{"<Code>InvalidArgument</Code>"}},
		{name: "bad content-md5", method: "PUT", path: "/raw/k2", body: "abc", headers: map[string]string{"Content-MD5": "nope"}, status: 400, contains: []string{"<Code>InvalidDigest</Code>"}},
		{name: "wrong content-md5", method: "PUT", path: "/raw/k2", body: "abc", headers: map[string]string{"Content-MD5": md5b64("abd")}, status: 400, contains: []string{"<Code>BadDigest</Code>"}},
		{name: "wrong crc32", method: "PUT", path: "/raw/k2", body: "abc", headers: map[string]string{"x-amz-checksum-crc32": crc32b64("abd")}, status: 400,
			contains: []string{"<Code>BadDigest</Code><Message>The CRC32 you specified did not match the calculated checksum.</Message>"}},
		{name: "wrong sha256 payload", method: "PUT", path: "/raw/k2", body: "abc", headers: map[string]string{"x-amz-content-sha256": strings.Repeat("0", 64)}, status: 400,
			contains: []string{"<Code>XAmzContentSHA256Mismatch</Code>"}},
		{name: "metadata too large", method: "PUT", path: "/raw/k2", body: "abc", headers: map[string]string{"x-amz-meta-big": strings.Repeat("m", 2100)}, status: 400,
			contains: []string{"<Code>MetadataTooLarge</Code>"}},
		{name: "headers too large", method: "GET", path: "/raw/k", headers: map[string]string{"x-junk": strings.Repeat("j", 9000)}, status: 400,
			contains: []string{"<Code>RequestHeaderSectionTooLarge</Code>"}},
		{name: "unsatisfiable range", method: "GET", path: "/raw/k", headers: map[string]string{"Range": "bytes=5-"}, status: 416, contains: []string{"<Code>InvalidRange</Code>", "<ActualObjectSize>1</ActualObjectSize>"}},
		{name: "copy source malformed", method: "PUT", path: "/raw/k3", headers: map[string]string{"x-amz-copy-source": "justabucket"}, status: 400, contains: []string{"<Code>InvalidArgument</Code>"}},
		{name: "bad metadata directive", method: "PUT", path: "/raw/k3", headers: map[string]string{"x-amz-copy-source": "raw/k", "x-amz-metadata-directive": "MOVE"}, status: 400, contains: []string{"Unknown metadata directive."}},
		{name: "if-none-match put", method: "PUT", path: "/raw/k", body: "new", headers: map[string]string{"If-None-Match": "*"}, status: 412, contains: []string{"<Code>PreconditionFailed</Code>"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			resp, got := s.do(t, tc.method, tc.path, body, tc.headers)
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, tc.status, got)
			}
			if resp.Header.Get("x-amz-request-id") == "" || resp.Header.Get("x-amz-id-2") == "" {
				t.Errorf("missing request id headers: %v", resp.Header)
			}
			if tc.method == "HEAD" && got != "" {
				t.Errorf("HEAD with a body: %q", got)
			}
			if tc.method != "HEAD" && !strings.HasPrefix(got, `<?xml version="1.0" encoding="UTF-8"?>`) {
				t.Errorf("not an XML document: %s", got)
			}
			for _, c := range tc.contains {
				if !strings.Contains(got, c) {
					t.Errorf("body lacks %q:\n%s", c, got)
				}
			}
		})
	}
	// S3's type for an object stored without one.
	s.do(t, "PUT", "/raw/untyped", strings.NewReader("x"), nil)
	if r, _ := s.do(t, "HEAD", "/raw/untyped", nil, nil); r.Header.Get("Content-Type") != "binary/octet-stream" {
		t.Errorf("default content type %q", r.Header.Get("Content-Type"))
	}
	// Nothing that failed was stored.
	if r, _ := s.do(t, "HEAD", "/raw/k2", nil, nil); r.StatusCode != 404 {
		t.Errorf("a refused put left an object")
	}
	if r, b := s.do(t, "GET", "/raw/k", nil, nil); b != "v" {
		t.Errorf("conditional put overwrote: %d %q", r.StatusCode, b)
	}
}

// TestAWSChunked sends the two aws-chunked encodings the SDKs use, by hand: signed chunks
// (STREAMING-AWS4-HMAC-SHA256-PAYLOAD) and unsigned chunks with a checksum trailer.
func TestAWSChunked(t *testing.T) {
	s := newServer(t)
	s.do(t, "PUT", "/chunks", nil, nil)
	sig := ";chunk-signature=" + strings.Repeat("ab", 32)
	data := strings.Repeat("0123456789", 7000)
	var signed strings.Builder
	for i := 0; i < len(data); i += 65536 {
		part := data[i:min(i+65536, len(data))]
		fmt.Fprintf(&signed, "%x%s\r\n%s\r\n", len(part), sig, part)
	}
	signed.WriteString("0" + sig + "\r\n\r\n")
	resp, body := s.do(t, "PUT", "/chunks/signed", strings.NewReader(signed.String()), map[string]string{
		"x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "x-amz-decoded-content-length": fmt.Sprint(len(data)),
		"Content-Encoding": "aws-chunked", "Content-Type": "text/plain",
	})
	if resp.StatusCode != 200 {
		t.Fatalf("signed: %d %s", resp.StatusCode, body)
	}
	resp, body = s.do(t, "GET", "/chunks/signed", nil, nil)
	if body != data || resp.Header.Get("Content-Encoding") != "" {
		t.Errorf("signed body differs (%d bytes), content-encoding %q", len(body), resp.Header.Get("Content-Encoding"))
	}

	trailer := fmt.Sprintf("%x\r\n%s\r\n0\r\nx-amz-checksum-crc32:%s\r\n\r\n", len(data), data, crc32b64(data))
	resp, body = s.do(t, "PUT", "/chunks/trailer", strings.NewReader(trailer), map[string]string{
		"x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "x-amz-decoded-content-length": fmt.Sprint(len(data)),
		"Content-Encoding": "aws-chunked,gzip", "x-amz-trailer": "x-amz-checksum-crc32",
	})
	if resp.StatusCode != 200 || resp.Header.Get("x-amz-checksum-crc32") != crc32b64(data) {
		t.Fatalf("trailer: %d %s %v", resp.StatusCode, body, resp.Header)
	}
	// An explicit Accept-Encoding stops Go's transport from un-gzipping what is not gzip.
	resp, body = s.do(t, "GET", "/chunks/trailer", nil, map[string]string{"x-amz-checksum-mode": "ENABLED", "Accept-Encoding": "identity"})
	if body != data || resp.Header.Get("x-amz-checksum-crc32") != crc32b64(data) || resp.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("trailer object: %d bytes, %v", len(body), resp.Header)
	}
	// Trailer lines ended by a bare LF, as some HTTP stacks write them, are accepted and checked.
	lf := strings.TrimSuffix(trailer, "\r\n\r\n") + "\n\n"
	for name, sum := range map[string]string{"lf": crc32b64(data), "lf-bad": crc32b64("other")} {
		resp, body = s.do(t, "PUT", "/chunks/"+name, strings.NewReader(strings.Replace(lf, crc32b64(data), sum, 1)), map[string]string{
			"x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "x-amz-decoded-content-length": fmt.Sprint(len(data)),
			"Content-Encoding": "aws-chunked", "x-amz-trailer": "x-amz-checksum-crc32",
		})
		if name == "lf" && (resp.StatusCode != 200 || resp.Header.Get("x-amz-checksum-crc32") != crc32b64(data)) {
			t.Errorf("bare LF trailer: %d %s", resp.StatusCode, body)
		}
		if name == "lf-bad" && (resp.StatusCode != 400 || !strings.Contains(body, "<Code>BadDigest</Code>")) {
			t.Errorf("bare LF trailer with a wrong value: %d %s", resp.StatusCode, body)
		}
	}
	bad := strings.Replace(trailer, crc32b64(data), crc32b64("other"), 1)
	resp, body = s.do(t, "PUT", "/chunks/bad", strings.NewReader(bad), map[string]string{
		"x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "x-amz-decoded-content-length": fmt.Sprint(len(data)),
		"x-amz-trailer": "x-amz-checksum-crc32",
	})
	if resp.StatusCode != 400 || !strings.Contains(body, "<Code>BadDigest</Code>") {
		t.Errorf("bad trailer: %d %s", resp.StatusCode, body)
	}
	if r, _ := s.do(t, "HEAD", "/chunks/bad", nil, nil); r.StatusCode != 404 {
		t.Error("object with a bad trailer was stored")
	}
}

// TestTruncatedBody cuts a PutObject off mid-body: nothing may be stored, and an earlier
// object under the key must survive.
func TestTruncatedBody(t *testing.T) {
	s := newServer(t)
	s.do(t, "PUT", "/trunc", nil, nil)
	s.do(t, "PUT", "/trunc/k", strings.NewReader("old"), nil)
	for _, req := range []string{
		"PUT /trunc/k HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nonly a few bytes",
		"PUT /trunc/k HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nx-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER\r\nx-amz-decoded-content-length: 50\r\n\r\n32\r\nabc",
	} {
		conn, err := net.Dial("tcp", s.addr)
		if err != nil {
			t.Fatal(err)
		}
		conn.Write([]byte(req))
		conn.(*net.TCPConn).CloseWrite()
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err == nil && resp.StatusCode == 200 {
			t.Errorf("truncated body acknowledged")
		}
		conn.Close()
	}
	if _, body := s.do(t, "GET", "/trunc/k", nil, nil); body != "old" {
		t.Errorf("object after truncated puts: %q", body)
	}
	// Transfer-Encoding: chunked without a length is refused, as S3 refuses it.
	conn, _ := net.Dial("tcp", s.addr)
	defer conn.Close()
	conn.Write([]byte("PUT /trunc/k2 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil || resp.StatusCode != 411 {
		t.Errorf("chunked without length: %v %v", resp, err)
	}
}

func TestEncodingTypeURL(t *testing.T) {
	s := newServer(t)
	c := s.client(false)
	ctx := context.Background()
	c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("enc")})
	c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("enc"), Key: aws.String("a b/c&d\x01"), Body: strings.NewReader("x")})
	_, body := s.do(t, "GET", "/enc?list-type=2&encoding-type=url", nil, nil)
	if !strings.Contains(body, "<Key>a+b/c%26d%01</Key>") || !strings.Contains(body, "<EncodingType>url</EncodingType>") {
		t.Errorf("url encoding: %s", body)
	}
	out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("enc"), EncodingType: types.EncodingTypeUrl})
	if err != nil || len(out.Contents) != 1 {
		t.Fatalf("%+v %v", out, err)
	}
}

// TestRequestIDsOnEveryResponse checks x-amz-request-id and x-amz-id-2 on successful
// responses of every kind (TestWireErrors checks them on errors), and virtual-host
// addressing with a bare `bucket.localhost` Host, which the SDK tests do not send.
func TestRequestIDsOnEveryResponse(t *testing.T) {
	s := newServer(t)
	_, port, _ := net.SplitHostPort(s.addr)
	etag := `"` + fmt.Sprintf("%x", md5.Sum([]byte("body"))) + `"`
	for _, tc := range []struct {
		method, path, body string
		headers            map[string]string
		status             int
		want               string // in the body
	}{
		{method: "PUT", path: "/ids", status: 200},
		{method: "PUT", path: "/k", body: "body", headers: map[string]string{"Host": "ids.localhost:" + port}, status: 200},
		{method: "GET", path: "/k", headers: map[string]string{"Host": "ids.localhost:" + port}, status: 200, want: "body"},
		{method: "GET", path: "/", status: 200, want: "<Name>ids</Name>"},
		{method: "HEAD", path: "/ids", status: 200},
		{method: "GET", path: "/ids?location", status: 200, want: "LocationConstraint"},
		{method: "HEAD", path: "/ids/k", status: 200},
		{method: "GET", path: "/ids/k", headers: map[string]string{"Range": "bytes=1-2"}, status: 206, want: "od"},
		{method: "GET", path: "/ids/k", headers: map[string]string{"If-None-Match": etag}, status: 304},
		{method: "GET", path: "/ids?list-type=2", status: 200, want: "<Key>k</Key>"},
		{method: "GET", path: "/ids?uploads", status: 200, want: "ListMultipartUploadsResult"},
		{method: "PUT", path: "/ids/copy", headers: map[string]string{"x-amz-copy-source": "ids/k"}, status: 200, want: "CopyObjectResult"},
		{method: "DELETE", path: "/ids/copy", status: 204},
		{method: "DELETE", path: "/k", headers: map[string]string{"Host": "ids.localhost:" + port}, status: 204},
		{method: "DELETE", path: "/ids", status: 204},
	} {
		var body io.Reader
		if tc.body != "" {
			body = strings.NewReader(tc.body)
		}
		resp, got := s.do(t, tc.method, tc.path, body, tc.headers)
		if resp.StatusCode != tc.status || !strings.Contains(got, tc.want) {
			t.Errorf("%s %s %v: %d %q", tc.method, tc.path, tc.headers, resp.StatusCode, got)
		}
		if resp.Header.Get("x-amz-request-id") == "" || resp.Header.Get("x-amz-id-2") == "" {
			t.Errorf("%s %s: no request id headers: %v", tc.method, tc.path, resp.Header)
		}
	}
}
