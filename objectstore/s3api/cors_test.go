package s3api_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestCORS: preflights are answered from the bucket's rules (first match wins; origins and
// headers may hold one wildcard), and actual requests from an allowed origin carry the
// headers a browser needs to read the answer.
func TestCORS(t *testing.T) {
	s := newServer(t)
	c := s.client(false)
	ctx := context.Background()
	for _, b := range []string{"cors", "plain"} {
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("cors"), Key: aws.String("k"), Body: strings.NewReader("v")}); err != nil {
		t.Fatal(err)
	}
	_, err := c.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: aws.String("cors"), CORSConfiguration: &types.CORSConfiguration{CORSRules: []types.CORSRule{
		{AllowedOrigins: []string{"http://*.example.com"}, AllowedMethods: []string{"GET", "PUT"}, AllowedHeaders: []string{"content-type", "x-amz-*"},
			ExposeHeaders: []string{"ETag", "x-amz-request-id"}, MaxAgeSeconds: aws.Int32(600)},
		{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, method, path string
		headers            map[string]string
		status             int
		want               map[string]string // response headers; "" means absent
		contains           string
	}{
		{name: "allowed", method: "OPTIONS", path: "/cors/k",
			headers: map[string]string{"Origin": "http://app.example.com", "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "Content-Type, X-Amz-Meta-A"},
			status:  200, want: map[string]string{"Access-Control-Allow-Origin": "http://app.example.com", "Access-Control-Allow-Methods": "GET, PUT",
				"Access-Control-Allow-Headers": "content-type, x-amz-meta-a", "Access-Control-Max-Age": "600", "Access-Control-Expose-Headers": "ETag, x-amz-request-id",
				"Access-Control-Allow-Credentials": "true"}},
		{name: "bucket preflight", method: "OPTIONS", path: "/cors",
			headers: map[string]string{"Origin": "http://a.example.com", "Access-Control-Request-Method": "GET"}, status: 200,
			want: map[string]string{"Access-Control-Allow-Origin": "http://a.example.com"}},
		{name: "second rule, any origin", method: "OPTIONS", path: "/cors/k",
			headers: map[string]string{"Origin": "http://elsewhere.test", "Access-Control-Request-Method": "GET"}, status: 200,
			want: map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET", "Access-Control-Allow-Credentials": ""}},
		{name: "method not allowed for origin", method: "OPTIONS", path: "/cors/k",
			headers: map[string]string{"Origin": "http://elsewhere.test", "Access-Control-Request-Method": "PUT"}, status: 403,
			want: map[string]string{"Access-Control-Allow-Origin": ""}, contains: "<Code>AccessForbidden</Code>"},
		{name: "header not allowed", method: "OPTIONS", path: "/cors/k",
			headers: map[string]string{"Origin": "http://app.example.com", "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "authorization"},
			status:  403, contains: "CORSResponse"},
		{name: "wildcard needs a subdomain", method: "OPTIONS", path: "/cors/k",
			headers: map[string]string{"Origin": "http://example.com", "Access-Control-Request-Method": "PUT"}, status: 403},
		{name: "no origin", method: "OPTIONS", path: "/cors/k", headers: map[string]string{"Access-Control-Request-Method": "GET"}, status: 400,
			contains: "Origin request header needed"},
		{name: "no method", method: "OPTIONS", path: "/cors/k", headers: map[string]string{"Origin": "http://a.example.com"}, status: 400},
		{name: "bad method", method: "OPTIONS", path: "/cors/k", headers: map[string]string{"Origin": "http://a.example.com", "Access-Control-Request-Method": "PATCH"}, status: 400},
		{name: "no rules", method: "OPTIONS", path: "/plain/k",
			headers: map[string]string{"Origin": "http://a.example.com", "Access-Control-Request-Method": "GET"}, status: 403, contains: "CORS is not enabled"},
		{name: "no bucket", method: "OPTIONS", path: "/nobucket/k",
			headers: map[string]string{"Origin": "http://a.example.com", "Access-Control-Request-Method": "GET"}, status: 403, contains: "Bucket not found"},
		{name: "actual request", method: "GET", path: "/cors/k", headers: map[string]string{"Origin": "http://a.example.com"}, status: 200,
			want: map[string]string{"Access-Control-Allow-Origin": "http://a.example.com", "Access-Control-Expose-Headers": "ETag, x-amz-request-id"}},
		{name: "actual request, error answer", method: "GET", path: "/cors/missing", headers: map[string]string{"Origin": "http://a.example.com"}, status: 404,
			want: map[string]string{"Access-Control-Allow-Origin": "http://a.example.com"}},
		{name: "actual request, origin not allowed", method: "PUT", path: "/cors/k2", headers: map[string]string{"Origin": "http://other.test"}, status: 200,
			want: map[string]string{"Access-Control-Allow-Origin": ""}},
		{name: "actual request without origin", method: "GET", path: "/cors/k", status: 200, want: map[string]string{"Access-Control-Allow-Origin": ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := s.do(t, tc.method, tc.path, nil, tc.headers)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			for k, v := range tc.want {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			if !strings.Contains(body, tc.contains) {
				t.Errorf("body lacks %q: %s", tc.contains, body)
			}
		})
	}
}
