package main

import (
	"context"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/localpipe/localpipe/internal/awswire"
	"github.com/localpipe/localpipe/objectstore"
)

// The S3 operations ls and cat use: path-style REST, answers in XML.

type s3API struct{ *awsClient }

func (c *client) s3() s3API { return s3API{c.awsClient("s3", "S3", xmlError)} }

// get sends a GET and hands a 2xx answer to ok.
func (s s3API) get(ctx context.Context, op, path string, query url.Values, header http.Header, ok func(*http.Response) error) error {
	return s.do(ctx, awsRequest{op: op, method: http.MethodGet, path: path, query: query, header: header}, ok)
}

// getXML sends a GET and parses its answer's body with parse.
func getXML[T any](ctx context.Context, s s3API, op, path string, query url.Values, parse func([]byte) (T, error)) (T, error) {
	var out T
	err := s.get(ctx, op, path, query, nil, parseAnswer(&out, parse))
	return out, err
}

// decodeXML decodes an XML document whose root element v's XMLName names.
func decodeXML(b []byte, v any) error {
	if err := xml.Unmarshal(b, v); err != nil {
		return fmt.Errorf("not the XML expected: %v: %s", err, snippet(b))
	}
	return nil
}

// s3Time reads S3's timestamps (ISO 8601 in UTC, with or without a fraction).
func s3Time(what, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %q is not a timestamp", what, s)
	}
	return t.UTC(), nil
}

type s3Bucket struct {
	Name    string
	Created time.Time
}

func (s s3API) listBuckets(ctx context.Context) ([]s3Bucket, error) {
	return getXML(ctx, s, "ListBuckets", "/", nil, parseListBuckets)
}

func parseListBuckets(b []byte) ([]s3Bucket, error) {
	var out struct {
		XMLName xml.Name `xml:"ListAllMyBucketsResult"`
		Buckets []struct {
			Name         string
			CreationDate string
		} `xml:"Buckets>Bucket"`
	}
	if err := decodeXML(b, &out); err != nil {
		return nil, err
	}
	buckets := make([]s3Bucket, len(out.Buckets))
	for i, x := range out.Buckets {
		if x.Name == "" {
			return nil, fmt.Errorf("bucket %d has no Name", i)
		}
		t, err := s3Time("CreationDate", x.CreationDate)
		if err != nil {
			return nil, err
		}
		buckets[i] = s3Bucket{x.Name, t}
	}
	return buckets, nil
}

type s3Object struct {
	Key          string
	LastModified time.Time
	Size         int64
}

type listObjectsOutput struct {
	Contents []s3Object
	// NextToken is the continuation token of the next page, "" after the last.
	NextToken string
}

func (s s3API) listObjectsV2(ctx context.Context, bucket, prefix, token string) (listObjectsOutput, error) {
	q := url.Values{"list-type": {"2"}, "prefix": {prefix}}
	if token != "" {
		q.Set("continuation-token", token)
	}
	return getXML(ctx, s, "ListObjectsV2", "/"+awswire.EscapePath(bucket, true), q, parseListObjectsV2)
}

func parseListObjectsV2(b []byte) (listObjectsOutput, error) {
	var out struct {
		XMLName  xml.Name `xml:"ListBucketResult"`
		Contents []struct {
			Key          string
			LastModified string
			Size         int64
		}
		IsTruncated           bool
		NextContinuationToken string
	}
	if err := decodeXML(b, &out); err != nil {
		return listObjectsOutput{}, err
	}
	var res listObjectsOutput
	for i, o := range out.Contents {
		if o.Key == "" {
			return listObjectsOutput{}, fmt.Errorf("object %d has no Key", i)
		}
		t, err := s3Time("LastModified", o.LastModified)
		if err != nil {
			return listObjectsOutput{}, err
		}
		res.Contents = append(res.Contents, s3Object{o.Key, t, o.Size})
	}
	// As the SDK's paginator: a token counts only on a truncated page.
	if out.IsTruncated {
		res.NextToken = out.NextContinuationToken
	}
	return res, nil
}

// getObject returns the object's answer, its body still to read; the body checks the
// object's checksum at its end, as the SDK's did.
func (s s3API) getObject(ctx context.Context, bucket, key string) (*http.Response, error) {
	var out *http.Response
	// Asking for the checksum mode makes S3 send the object's checksums.
	h := http.Header{"X-Amz-Checksum-Mode": {"ENABLED"}}
	err := s.get(ctx, "GetObject", "/"+awswire.EscapePath(bucket, true)+"/"+awswire.EscapePath(key, true), nil, h, func(resp *http.Response) error {
		out = resp
		return nil
	})
	if err != nil {
		return nil, err
	}
	out.Body = checkedBody(out.Body, out.Header)
	return out, nil
}

// responseChecksums are the algorithms the SDK validates a GetObject body with, in its order:
// of those the answer carries, the last one is checked.
var responseChecksums = []string{"CRC64NVME", "CRC32", "CRC32C", "SHA256", "SHA1"}

// checkedBody wraps body so that its last Read fails when the bytes do not match the
// checksum in h. A multipart object's checksum (ending in -N) is of its parts' checksums and
// cannot be checked from the bytes; it is skipped, as the SDK skips it.
func checkedBody(body io.ReadCloser, h http.Header) io.ReadCloser {
	var alg, want string
	for _, name := range responseChecksums {
		if v := h.Get("X-Amz-Checksum-" + name); v != "" {
			alg, want = name, v
		}
	}
	if want == "" || strings.Contains(want, "-") {
		return body
	}
	return &checksumReader{ReadCloser: body, alg: alg, h: objectstore.NewChecksum(alg), want: want}
}

type checksumReader struct {
	io.ReadCloser
	alg  string
	h    hash.Hash
	want string
}

func (r *checksumReader) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	r.h.Write(p[:n])
	if errors.Is(err, io.EOF) {
		if got := base64.StdEncoding.EncodeToString(r.h.Sum(nil)); !strings.EqualFold(got, r.want) {
			return n, fmt.Errorf("checksum did not match: algorithm %s, expect %s, actual %s", r.alg, r.want, got)
		}
	}
	return n, err
}
