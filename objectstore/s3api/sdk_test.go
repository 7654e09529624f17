package s3api_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/localpipe/localpipe/internal/sdkhttp"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	bolt "go.etcd.io/bbolt"

	"github.com/localpipe/localpipe/objectstore"
	"github.com/localpipe/localpipe/objectstore/s3api"
)

// server is a real s3api handler over a real store on a loopback port.
type server struct {
	url   string
	addr  string
	store *objectstore.Store
}

func newServer(t *testing.T) *server {
	t.Helper()
	dir := t.TempDir()
	db, err := bolt.Open(filepath.Join(dir, "meta.db"), 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	store, err := objectstore.Open(objectstore.Options{DB: db, Dir: filepath.Join(dir, "s3")})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s3api.New(store, s3api.Options{}))
	t.Cleanup(func() { ts.Close(); db.Close() })
	return &server{url: ts.URL, addr: ts.Listener.Addr().String(), store: store}
}

// client is an SDK client in path style, or in virtual-host style against
// http://s3.localhost:PORT with every connection dialled to the server (so the test does not
// depend on how this machine resolves *.localhost).
func (s *server) client(vhost bool) *s3.Client {
	dialer := &net.Dialer{}
	hc := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, s.addr)
		},
	}}
	_, port, _ := net.SplitHostPort(s.addr)
	return s3.New(s3.Options{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		HTTPClient:  sdkhttp.Wrap(hc),
		BaseEndpoint: aws.String(map[bool]string{
			false: s.url, true: "http://s3.localhost:" + port}[vhost]),
		UsePathStyle: !vhost,
	})
}

// forStyles runs a test against a fresh server in path style and in virtual-host style.
func forStyles(t *testing.T, fn func(t *testing.T, s *server, c *s3.Client)) {
	for _, vhost := range []bool{false, true} {
		t.Run(map[bool]string{false: "path", true: "vhost"}[vhost], func(t *testing.T) {
			s := newServer(t)
			fn(t, s, s.client(vhost))
		})
	}
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func httpStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func md5ETag(b []byte) string {
	s := md5.Sum(b)
	return `"` + hex.EncodeToString(s[:]) + `"`
}

func read(t *testing.T, out *s3.GetObjectOutput, err error) []byte {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBuckets(t *testing.T) {
	s := newServer(t)
	for _, vhost := range []bool{false, true} {
		t.Run(map[bool]string{false: "path", true: "vhost"}[vhost], func(t *testing.T) {
			c := s.client(vhost)
			ctx := context.Background()
			name := map[bool]string{false: "path-bucket", true: "vhost-bucket"}[vhost]
			if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
				t.Fatal(err)
			}
			// us-east-1 answers a second create by the owner with 200, for historical reasons.
			_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
			if err != nil {
				t.Errorf("second create in us-east-1: %v", err)
			}
			for _, bad := range []string{"UPPER", "ab", "a..b", "-lead", "192.168.1.1", "under_score", strings.Repeat("a", 64)} {
				_, err := s.client(false).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bad)})
				if apiCode(err) != "InvalidBucketName" {
					t.Errorf("create %q: %v", bad, err)
				}
			}
			hb, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(name)})
			if err != nil || aws.ToString(hb.BucketRegion) != "us-east-1" {
				t.Errorf("head: %v %v", hb, err)
			}
			_, err = c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("no-such-bucket")})
			if httpStatus(err) != 404 {
				t.Errorf("head missing: %v", err)
			}
			loc, err := c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(name)})
			if err != nil || loc.LocationConstraint != "" {
				t.Errorf("location: %v %v", loc, err)
			}
			lb, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
			if err != nil || !slices.ContainsFunc(lb.Buckets, func(b types.Bucket) bool { return aws.ToString(b.Name) == name }) {
				t.Fatalf("list: %v", err)
			}
			if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(name), Key: aws.String("k"), Body: strings.NewReader("x")}); err != nil {
				t.Fatal(err)
			}
			_, err = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(name)})
			if apiCode(err) != "BucketNotEmpty" || httpStatus(err) != 409 {
				t.Errorf("delete non-empty: %v", err)
			}
			c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(name), Key: aws.String("k")})
			if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(name)}); err != nil {
				t.Fatal(err)
			}
			_, err = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(name)})
			if apiCode(err) != "NoSuchBucket" {
				t.Errorf("delete twice: %v", err)
			}
		})
	}
	c := s.client(false)
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("eu-bucket"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraintEuWest1}}); err != nil {
		t.Fatal(err)
	}
	loc, err := c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("eu-bucket")})
	if err != nil || loc.LocationConstraint != types.BucketLocationConstraintEuWest1 {
		t.Errorf("location: %v %v", loc, err)
	}
}

func TestObjects(t *testing.T) {
	s := newServer(t)
	for _, vhost := range []bool{false, true} {
		t.Run(map[bool]string{false: "path", true: "vhost"}[vhost], func(t *testing.T) {
			c := s.client(vhost)
			ctx := context.Background()
			bucket := aws.String(map[bool]string{false: "objects-path", true: "objects.vhost"}[vhost])
			if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket}); err != nil {
				t.Fatal(err)
			}
			body := []byte("hello, object store\n")
			put, err := c.PutObject(ctx, &s3.PutObjectInput{
				Bucket: bucket, Key: aws.String("dir/hello.txt"), Body: bytes.NewReader(body),
				ContentType: aws.String("text/plain"), ContentEncoding: aws.String("identity"),
				ContentDisposition: aws.String(`attachment; filename="h.txt"`), CacheControl: aws.String("max-age=60"),
				ContentLanguage: aws.String("en"),
				Metadata:        map[string]string{"Owner": "me", "x-y": "z z"},
			})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(put.ETag) != md5ETag(body) {
				t.Errorf("etag %s, want %s", aws.ToString(put.ETag), md5ETag(body))
			}
			get, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("dir/hello.txt")})
			got := read(t, get, err)
			if !bytes.Equal(got, body) {
				t.Errorf("body %q", got)
			}
			if aws.ToString(get.ContentType) != "text/plain" || aws.ToString(get.ContentEncoding) != "identity" ||
				aws.ToString(get.CacheControl) != "max-age=60" || aws.ToString(get.ContentDisposition) != `attachment; filename="h.txt"` ||
				aws.ToString(get.ContentLanguage) != "en" || aws.ToInt64(get.ContentLength) != int64(len(body)) ||
				get.Metadata["owner"] != "me" || get.Metadata["x-y"] != "z z" || aws.ToString(get.ETag) != md5ETag(body) {
				t.Errorf("headers: %+v meta %v", get, get.Metadata)
			}
			if get.LastModified == nil || time.Since(*get.LastModified) > time.Minute {
				t.Errorf("last modified %v", get.LastModified)
			}
			head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: aws.String("dir/hello.txt")})
			if err != nil || aws.ToInt64(head.ContentLength) != int64(len(body)) || head.Metadata["owner"] != "me" {
				t.Errorf("head: %+v %v", head, err)
			}

			// Ranges.
			for _, tc := range []struct{ rng, want, cr string }{
				{"bytes=0-4", "hello", "bytes 0-4/20"},
				{"bytes=7-", "object store\n", "bytes 7-19/20"},
				{"bytes=-6", "store\n", "bytes 14-19/20"},
				{"bytes=15-1000", "tore\n", "bytes 15-19/20"},
			} {
				out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("dir/hello.txt"), Range: aws.String(tc.rng)})
				if got := read(t, out, err); string(got) != tc.want || aws.ToString(out.ContentRange) != tc.cr {
					t.Errorf("range %s: %q %s", tc.rng, got, aws.ToString(out.ContentRange))
				}
			}
			_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("dir/hello.txt"), Range: aws.String("bytes=20-")})
			if apiCode(err) != "InvalidRange" || httpStatus(err) != 416 {
				t.Errorf("unsatisfiable range: %v", err)
			}

			// Conditionals.
			etag := md5ETag(body)
			past, future := time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
			for _, tc := range []struct {
				name string
				in   s3.GetObjectInput
				want int
			}{
				{"if-match ok", s3.GetObjectInput{IfMatch: aws.String(etag)}, 200},
				{"if-match wrong", s3.GetObjectInput{IfMatch: aws.String(`"0"`)}, 412},
				{"if-none-match hit", s3.GetObjectInput{IfNoneMatch: aws.String(etag)}, 304},
				{"if-none-match miss", s3.GetObjectInput{IfNoneMatch: aws.String(`"0"`)}, 200},
				{"if-modified-since past", s3.GetObjectInput{IfModifiedSince: &past}, 200},
				{"if-modified-since future", s3.GetObjectInput{IfModifiedSince: &future}, 304},
				{"if-unmodified-since past", s3.GetObjectInput{IfUnmodifiedSince: &past}, 412},
				{"if-unmodified-since future", s3.GetObjectInput{IfUnmodifiedSince: &future}, 200},
				{"if-match beats unmodified-since", s3.GetObjectInput{IfMatch: aws.String(etag), IfUnmodifiedSince: &past}, 200},
				{"if-none-match miss beats modified-since", s3.GetObjectInput{IfNoneMatch: aws.String(`"0"`), IfModifiedSince: &future}, 200},
			} {
				in := tc.in
				in.Bucket, in.Key = bucket, aws.String("dir/hello.txt")
				out, err := c.GetObject(ctx, &in)
				status := 200
				if err != nil {
					status = httpStatus(err)
				} else {
					out.Body.Close()
				}
				if status != tc.want {
					t.Errorf("%s: status %d (%v), want %d", tc.name, status, err, tc.want)
				}
				if tc.want == 412 && apiCode(err) != "PreconditionFailed" {
					t.Errorf("%s: code %s", tc.name, apiCode(err))
				}
			}

			// HeadObject takes the same preconditions; its failures have no body.
			_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: aws.String("dir/hello.txt"), IfNoneMatch: aws.String(etag)})
			if httpStatus(err) != 304 {
				t.Errorf("head if-none-match: %v", err)
			}
			_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: aws.String("dir/hello.txt"), IfUnmodifiedSince: &past})
			if httpStatus(err) != 412 {
				t.Errorf("head if-unmodified-since: %v", err)
			}

			// Errors.
			_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("missing")})
			var nsk *types.NoSuchKey
			if !errors.As(err, &nsk) || httpStatus(err) != 404 {
				t.Errorf("missing key: %v", err)
			}
			_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: aws.String("missing")})
			if httpStatus(err) != 404 {
				t.Errorf("head missing key: %v", err)
			}
			_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("no-such-bucket"), Key: aws.String("k")})
			if apiCode(err) != "NoSuchBucket" || httpStatus(err) != 404 {
				t.Errorf("missing bucket: %v", err)
			}
			_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String(strings.Repeat("k", 1025)), Body: strings.NewReader("")})
			if apiCode(err) != "KeyTooLongError" {
				t.Errorf("long key: %v", err)
			}

			// Empty object, and delete.
			if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("empty"), Body: bytes.NewReader(nil)}); err != nil {
				t.Fatal(err)
			}
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("empty")})
			if got := read(t, out, err); len(got) != 0 || aws.ToString(out.ETag) != `"d41d8cd98f00b204e9800998ecf8427e"` {
				t.Errorf("empty: %q %s %s", got, aws.ToString(out.ETag), aws.ToString(out.ContentType))
			}
			for i := 0; i < 2; i++ { // deleting a missing key succeeds, as in S3
				if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: aws.String("empty")}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: aws.String("empty")}); httpStatus(err) != 404 {
				t.Errorf("after delete: %v", err)
			}
		})
	}
}

// hostileKeys are keys that would escape or confuse a store that used keys as paths.
var hostileKeys = []string{
	"../../../../etc/passwd", "a/../../b", "//double//slash", "/leading", "trailing/", "dot/./x", "..",
	"sp ace", "plus+sign", "percent%2Fenc%", "unicodé/日本語/🙂", "q?x=1&y=2", "hash#frag", "tab\there",
	"new\nline", "back\\slash", "semi;colon", "<xml>&amp;'\"", "~tilde", "a/" + strings.Repeat("x", 1000),
}

func TestHostileKeys(t *testing.T) {
	s := newServer(t)
	for _, vhost := range []bool{false, true} {
		c := s.client(vhost)
		ctx := context.Background()
		bucket := aws.String(fmt.Sprintf("hostile-%v", vhost))
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket}); err != nil {
			t.Fatal(err)
		}
		for _, key := range hostileKeys {
			if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String(key), Body: strings.NewReader("body of " + key)}); err != nil {
				t.Errorf("put %q: %v", key, err)
				continue
			}
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String(key)})
			if got := read(t, out, err); string(got) != "body of "+key {
				t.Errorf("get %q: %q", key, got)
			}
		}
		var listed []string
		p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: bucket, MaxKeys: aws.Int32(7)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range page.Contents {
				listed = append(listed, aws.ToString(o.Key))
			}
		}
		want := slices.Clone(hostileKeys)
		slices.Sort(want)
		if !slices.Equal(listed, want) {
			t.Errorf("listed %q\nwant %q", listed, want)
		}
	}
}

func TestListObjects(t *testing.T) {
	forStyles(t, func(t *testing.T, s *server, c *s3.Client) {
		ctx := context.Background()
		bucket := aws.String("list")
		c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket})
		keys := []string{"a.txt", "photos/2024/jan/1.jpg", "photos/2024/jan/2.jpg", "photos/2024/feb/1.jpg", "photos/2025/x.jpg", "photos/readme", "z"}
		for _, k := range keys {
			if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String(k), Body: strings.NewReader(k)}); err != nil {
				t.Fatal(err)
			}
		}
		list := func(in s3.ListObjectsV2Input) ([]string, []string, *s3.ListObjectsV2Output) {
			in.Bucket = bucket
			out, err := c.ListObjectsV2(ctx, &in)
			if err != nil {
				t.Fatal(err)
			}
			var ks, ps []string
			for _, o := range out.Contents {
				ks = append(ks, aws.ToString(o.Key))
			}
			for _, p := range out.CommonPrefixes {
				ps = append(ps, aws.ToString(p.Prefix))
			}
			return ks, ps, out
		}
		ks, ps, out := list(s3.ListObjectsV2Input{Delimiter: aws.String("/")})
		if !slices.Equal(ks, []string{"a.txt", "z"}) || !slices.Equal(ps, []string{"photos/"}) || aws.ToInt32(out.KeyCount) != 3 {
			t.Errorf("root: %v %v %d", ks, ps, aws.ToInt32(out.KeyCount))
		}
		ks, ps, _ = list(s3.ListObjectsV2Input{Prefix: aws.String("photos/"), Delimiter: aws.String("/")})
		if !slices.Equal(ks, []string{"photos/readme"}) || !slices.Equal(ps, []string{"photos/2024/", "photos/2025/"}) {
			t.Errorf("photos/: %v %v", ks, ps)
		}
		ks, _, _ = list(s3.ListObjectsV2Input{StartAfter: aws.String("photos/2024/jan/1.jpg")})
		if !slices.Equal(ks, []string{"photos/2024/jan/2.jpg", "photos/2025/x.jpg", "photos/readme", "z"}) {
			t.Errorf("start-after: %v", ks)
		}
		_, _, out = list(s3.ListObjectsV2Input{FetchOwner: aws.Bool(true), MaxKeys: aws.Int32(1)})
		if len(out.Contents) != 1 || out.Contents[0].Owner == nil || !aws.ToBool(out.IsTruncated) || out.NextContinuationToken == nil {
			t.Errorf("fetch-owner page: %+v", out)
		}
		ks, _, out = list(s3.ListObjectsV2Input{ContinuationToken: out.NextContinuationToken, MaxKeys: aws.Int32(2)})
		if !slices.Equal(ks, []string{"photos/2024/feb/1.jpg", "photos/2024/jan/1.jpg"}) || out.Contents[0].Owner != nil {
			t.Errorf("continued: %v", ks)
		}
		_, _, out = list(s3.ListObjectsV2Input{MaxKeys: aws.Int32(0)})
		if len(out.Contents) != 0 || !aws.ToBool(out.IsTruncated) {
			t.Errorf("max-keys 0: %+v", out)
		}
		_, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, ContinuationToken: aws.String("garbage!")})
		if apiCode(err) != "InvalidArgument" {
			t.Errorf("bad token: %v", err)
		}
		_, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("nope")})
		if apiCode(err) != "NoSuchBucket" {
			t.Errorf("missing bucket: %v", err)
		}

		// Version 1 pages with markers; NextMarker only comes with a delimiter.
		var all []string
		marker := ""
		for {
			v1, err := c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: bucket, Marker: aws.String(marker), MaxKeys: aws.Int32(3)})
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range v1.Contents {
				all = append(all, aws.ToString(o.Key))
				if o.Owner == nil {
					t.Error("v1 without owner")
				}
			}
			if v1.NextMarker != nil {
				t.Error("NextMarker without delimiter")
			}
			if !aws.ToBool(v1.IsTruncated) {
				break
			}
			marker = all[len(all)-1]
		}
		slices.Sort(keys)
		if !slices.Equal(all, keys) {
			t.Errorf("v1: %v", all)
		}
		v1, err := c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: bucket, Delimiter: aws.String("/"), MaxKeys: aws.Int32(1)})
		if err != nil || aws.ToString(v1.NextMarker) != "a.txt" {
			t.Errorf("v1 delimiter: %+v %v", v1, err)
		}
	})
}

func TestDeleteObjects(t *testing.T) {
	forStyles(t, func(t *testing.T, s *server, c *s3.Client) {
		ctx := context.Background()
		bucket := aws.String("del")
		c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket})
		for _, k := range []string{"a", "b", "c"} {
			c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String(k), Body: strings.NewReader(k)})
		}
		out, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: bucket, Delete: &types.Delete{
			Objects: []types.ObjectIdentifier{{Key: aws.String("a")}, {Key: aws.String("missing")}}}})
		if err != nil || len(out.Deleted) != 2 || len(out.Errors) != 0 {
			t.Fatalf("delete: %+v %v", out, err)
		}
		out, err = c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: bucket, Delete: &types.Delete{Quiet: aws.Bool(true),
			Objects: []types.ObjectIdentifier{{Key: aws.String("b")}, {Key: aws.String("c")}}}})
		if err != nil || len(out.Deleted) != 0 || len(out.Errors) != 0 {
			t.Fatalf("quiet: %+v %v", out, err)
		}
		l, _ := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket})
		if len(l.Contents) != 0 {
			t.Errorf("left: %v", l.Contents)
		}
		_, err = c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("nope"), Delete: &types.Delete{
			Objects: []types.ObjectIdentifier{{Key: aws.String("a")}}}})
		if apiCode(err) != "NoSuchBucket" {
			t.Errorf("missing bucket: %v", err)
		}
	})
}

func TestCopyObject(t *testing.T) {
	forStyles(t, func(t *testing.T, s *server, c *s3.Client) {
		ctx := context.Background()
		for _, b := range []string{"src", "dst"} {
			c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)})
		}
		body := []byte("copy me")
		c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("src"), Key: aws.String("dir/a b+c"), Body: bytes.NewReader(body),
			ContentType: aws.String("text/x-src"), Metadata: map[string]string{"k": "v"}})

		cp, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("copy"), CopySource: aws.String("src/dir/a%20b%2Bc")})
		if err != nil || aws.ToString(cp.CopyObjectResult.ETag) != md5ETag(body) {
			t.Fatalf("copy: %+v %v", cp, err)
		}
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("dst"), Key: aws.String("copy")})
		if got := read(t, out, err); string(got) != string(body) || aws.ToString(out.ContentType) != "text/x-src" || out.Metadata["k"] != "v" {
			t.Errorf("copied: %q %s %v", got, aws.ToString(out.ContentType), out.Metadata)
		}
		_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("replaced"), CopySource: aws.String("src/dir/a%20b%2Bc"),
			MetadataDirective: types.MetadataDirectiveReplace, ContentType: aws.String("text/new"), Metadata: map[string]string{"n": "1"}})
		if err != nil {
			t.Fatal(err)
		}
		out, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("dst"), Key: aws.String("replaced")})
		if got := read(t, out, err); string(got) != string(body) || aws.ToString(out.ContentType) != "text/new" || out.Metadata["n"] != "1" || out.Metadata["k"] != "" {
			t.Errorf("replaced: %s %v", aws.ToString(out.ContentType), out.Metadata)
		}
		_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("copy"), CopySource: aws.String("dst/copy")})
		if apiCode(err) != "InvalidRequest" {
			t.Errorf("self copy: %v", err)
		}
		_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("x"), CopySource: aws.String("src/missing")})
		if apiCode(err) != "NoSuchKey" {
			t.Errorf("missing source: %v", err)
		}
		_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("x"), CopySource: aws.String("src/dir/a%20b%2Bc"),
			CopySourceIfMatch: aws.String(`"nope"`)})
		if apiCode(err) != "PreconditionFailed" {
			t.Errorf("copy-source-if-match: %v", err)
		}
	})
}

func TestChecksums(t *testing.T) {
	forStyles(t, func(t *testing.T, s *server, c *s3.Client) {
		ctx := context.Background()
		c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("sums")})
		body := bytes.Repeat([]byte("checksum body "), 1000)
		for _, alg := range []types.ChecksumAlgorithm{types.ChecksumAlgorithmCrc32, types.ChecksumAlgorithmCrc32c,
			types.ChecksumAlgorithmSha1, types.ChecksumAlgorithmSha256, types.ChecksumAlgorithmCrc64nvme} {
			key := aws.String("obj-" + string(alg))
			// Over plain HTTP the SDK sends the checksum as a header (a trailer needs TLS); the
			// trailer form is covered by TestAWSChunked.
			for _, r := range []io.Reader{bytes.NewReader(body)} {
				put, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("sums"), Key: key, Body: r,
					ChecksumAlgorithm: alg, ContentLength: aws.Int64(int64(len(body)))})
				if err != nil {
					t.Fatalf("%s: %v", alg, err)
				}
				if aws.ToString(put.ETag) != md5ETag(body) {
					t.Errorf("%s: etag %s", alg, aws.ToString(put.ETag))
				}
			}
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("sums"), Key: key, ChecksumMode: types.ChecksumModeEnabled})
			if got := read(t, out, err); !bytes.Equal(got, body) {
				t.Errorf("%s: body differs", alg)
			}
			var value *string
			switch alg {
			case types.ChecksumAlgorithmCrc32:
				value = out.ChecksumCRC32
			case types.ChecksumAlgorithmCrc32c:
				value = out.ChecksumCRC32C
			case types.ChecksumAlgorithmSha1:
				value = out.ChecksumSHA1
			case types.ChecksumAlgorithmSha256:
				value = out.ChecksumSHA256
			case types.ChecksumAlgorithmCrc64nvme:
				value = out.ChecksumCRC64NVME
			}
			if value == nil {
				t.Errorf("%s: GET returned no checksum", alg)
			}
		}
		// A value that does not match is refused and nothing is stored.
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("sums"), Key: aws.String("bad"), Body: bytes.NewReader(body),
			ChecksumCRC32: aws.String("AAAAAA==")})
		if apiCode(err) != "BadDigest" {
			t.Errorf("wrong crc32: %v", err)
		}
		if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("sums"), Key: aws.String("bad")}); httpStatus(err) != 404 {
			t.Errorf("bad object stored: %v", err)
		}
		_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("sums"), Key: aws.String("bad"), Body: bytes.NewReader(body),
			ContentMD5: aws.String("1B2M2Y8AsgTpgAmY7PhCfg==")})
		if apiCode(err) != "BadDigest" {
			t.Errorf("wrong md5: %v", err)
		}
	})
}

func TestMultipart(t *testing.T) {
	old := objectstore.MinPartSize
	objectstore.MinPartSize = 1 << 10
	t.Cleanup(func() { objectstore.MinPartSize = old })
	forStyles(t, func(t *testing.T, s *server, c *s3.Client) {
		ctx := context.Background()
		bucket := aws.String("multipart")
		c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket})

		cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bucket, Key: aws.String("big"),
			ContentType: aws.String("application/x-big"), Metadata: map[string]string{"m": "1"}})
		if err != nil {
			t.Fatal(err)
		}
		parts := [][]byte{bytes.Repeat([]byte("a"), 2000), bytes.Repeat([]byte("b"), 3000), []byte("tail")}
		var done []types.CompletedPart
		var md5s []byte
		for i, p := range parts {
			up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: bucket, Key: aws.String("big"), UploadId: cr.UploadId,
				PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p)})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(up.ETag) != md5ETag(p) {
				t.Errorf("part etag %s", aws.ToString(up.ETag))
			}
			sum := md5.Sum(p)
			md5s = append(md5s, sum[:]...)
			done = append(done, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: up.ETag})
		}
		lp, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: bucket, Key: aws.String("big"), UploadId: cr.UploadId, MaxParts: aws.Int32(2)})
		if err != nil || len(lp.Parts) != 2 || !aws.ToBool(lp.IsTruncated) || aws.ToString(lp.NextPartNumberMarker) != "2" {
			t.Fatalf("list parts: %+v %v", lp, err)
		}
		lu, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: bucket})
		if err != nil || len(lu.Uploads) != 1 || aws.ToString(lu.Uploads[0].UploadId) != aws.ToString(cr.UploadId) {
			t.Fatalf("list uploads: %+v %v", lu, err)
		}
		_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: bucket, Key: aws.String("big"), UploadId: cr.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{done[1], done[0]}}})
		if apiCode(err) != "InvalidPartOrder" {
			t.Errorf("order: %v", err)
		}
		_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: bucket, Key: aws.String("big"), UploadId: cr.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: aws.String(`"0"`)}}}})
		if apiCode(err) != "InvalidPart" {
			t.Errorf("wrong etag: %v", err)
		}
		_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: bucket, Key: aws.String("big"), UploadId: cr.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{done[2], {PartNumber: aws.Int32(4), ETag: done[0].ETag}}}})
		if apiCode(err) != "InvalidPart" {
			t.Errorf("part never uploaded: %v", err)
		}
		// Part 3 (4 bytes) is under the minimum part size; only the last part may be.
		p4, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: bucket, Key: aws.String("big"), UploadId: cr.UploadId,
			PartNumber: aws.Int32(4), Body: strings.NewReader("extra")})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: bucket, Key: aws.String("big"), UploadId: cr.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{done[2], {PartNumber: aws.Int32(4), ETag: p4.ETag}}}})
		if apiCode(err) != "EntityTooSmall" || httpStatus(err) != 400 {
			t.Errorf("small non-last part: %v", err)
		}
		comp, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: bucket, Key: aws.String("big"), UploadId: cr.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: done}})
		if err != nil {
			t.Fatal(err)
		}
		sum := md5.Sum(md5s)
		if want := fmt.Sprintf(`"%x-3"`, sum); aws.ToString(comp.ETag) != want {
			t.Errorf("etag %s, want %s", aws.ToString(comp.ETag), want)
		}
		// A retried Complete (its answer lost) succeeds again with the same object.
		again, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: bucket, Key: aws.String("big"), UploadId: cr.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: done}})
		if err != nil || aws.ToString(again.ETag) != aws.ToString(comp.ETag) {
			t.Errorf("repeated complete: %v %v", err, aws.ToString(again.ETag))
		}
		_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: bucket, Key: aws.String("other"), UploadId: cr.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: done}})
		if apiCode(err) != "NoSuchUpload" {
			t.Errorf("repeated complete on another key: %v", err)
		}
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("big")})
		if got := read(t, out, err); !bytes.Equal(got, bytes.Join(parts, nil)) || aws.ToString(out.ContentType) != "application/x-big" || out.Metadata["m"] != "1" {
			t.Errorf("object: %d bytes %s %v", len(got), aws.ToString(out.ContentType), out.Metadata)
		}
		_, err = c.UploadPart(ctx, &s3.UploadPartInput{Bucket: bucket, Key: aws.String("big"), UploadId: cr.UploadId,
			PartNumber: aws.Int32(1), Body: strings.NewReader("x")})
		if apiCode(err) != "NoSuchUpload" {
			t.Errorf("after complete: %v", err)
		}

		ab, _ := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bucket, Key: aws.String("aborted")})
		if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: bucket, Key: aws.String("aborted"), UploadId: ab.UploadId}); err != nil {
			t.Fatal(err)
		}
		_, err = c.ListParts(ctx, &s3.ListPartsInput{Bucket: bucket, Key: aws.String("aborted"), UploadId: ab.UploadId})
		if apiCode(err) != "NoSuchUpload" {
			t.Errorf("after abort: %v", err)
		}

		// GetObject by part number reads one part of a multipart object.
		pn, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("big"), PartNumber: aws.Int32(2)})
		if got := read(t, pn, err); !bytes.Equal(got, parts[1]) || aws.ToInt32(pn.PartsCount) != 3 {
			t.Errorf("part 2: %d bytes, parts count %d", len(got), aws.ToInt32(pn.PartsCount))
		}
		_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("big"), PartNumber: aws.Int32(4)})
		if httpStatus(err) != 416 {
			t.Errorf("part 4 of 3: %v", err)
		}

		// UploadPartCopy builds an object from byte ranges of another.
		cu, _ := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bucket, Key: aws.String("copied")})
		var copied []types.CompletedPart
		for i, rg := range []string{"bytes=0-1999", "bytes=2000-5003"} {
			out, err := c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: bucket, Key: aws.String("copied"), UploadId: cu.UploadId,
				PartNumber: aws.Int32(int32(i + 1)), CopySource: aws.String(aws.ToString(bucket) + "/big"), CopySourceRange: aws.String(rg)})
			if err != nil {
				t.Fatal(err)
			}
			copied = append(copied, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.CopyPartResult.ETag})
		}
		_, err = c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: bucket, Key: aws.String("copied"), UploadId: cu.UploadId,
			PartNumber: aws.Int32(3), CopySource: aws.String(aws.ToString(bucket) + "/big"), CopySourceRange: aws.String("bytes=0-99999")})
		if apiCode(err) != "InvalidArgument" {
			t.Errorf("copy range past the end: %v", err)
		}
		if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: bucket, Key: aws.String("copied"), UploadId: cu.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: copied}}); err != nil {
			t.Fatal(err)
		}
		out, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("copied")})
		if got := read(t, out, err); !bytes.Equal(got, bytes.Join(parts, nil)[:5004]) {
			t.Errorf("copied object: %d bytes", len(got))
		}

		// The SDK's upload manager splits a large body into parts, with checksums, concurrently.
		big := bytes.Repeat([]byte("0123456789abcdef"), (12<<20)/16)
		up := manager.NewUploader(c, func(u *manager.Uploader) { u.PartSize = 5 << 20 })
		res, err := up.Upload(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("managed"), Body: io.MultiReader(bytes.NewReader(big))})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(aws.ToString(res.ETag), `-3"`) {
			t.Errorf("managed etag %s", aws.ToString(res.ETag))
		}
		out, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("managed"), ChecksumMode: types.ChecksumModeEnabled})
		if got := read(t, out, err); !bytes.Equal(got, big) {
			t.Errorf("managed object differs (%d bytes)", len(got))
		}
		dl := manager.NewDownloader(c, func(d *manager.Downloader) { d.PartSize = 5 << 20 })
		buf := manager.NewWriteAtBuffer(nil)
		if _, err := dl.Download(ctx, buf, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("managed")}); err != nil || !bytes.Equal(buf.Bytes(), big) {
			t.Errorf("download: %v", err)
		}
	})
}
