package s3api_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestPresignedURLExpiry: a presigned GET works until X-Amz-Date + X-Amz-Expires and is then
// refused with S3's 403 AccessDenied "Request has expired" (what `aws s3 presign
// --expires-in` users see); an expiry over a week is refused outright. The URL's X-Amz-Date is
// moved back rather than waiting for it.
func TestPresignedURLExpiry(t *testing.T) {
	ctx := context.Background()
	s := newServer(t)
	c := s.client(false)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("presigned")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("presigned"), Key: aws.String("k"), Body: strings.NewReader("hi")}); err != nil {
		t.Fatal(err)
	}
	p, err := s3.NewPresignClient(c).PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("presigned"), Key: aws.String("k")},
		s3.WithPresignExpires(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	get := func(raw string) (*http.Response, string) {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		return s.do(t, "GET", u.RequestURI(), nil, nil)
	}
	if r, b := get(p.URL); r.StatusCode != 200 || b != "hi" {
		t.Fatalf("fresh URL: %d %s", r.StatusCode, b)
	}
	u, _ := url.Parse(p.URL)
	q := u.Query()
	q.Set("X-Amz-Date", time.Now().UTC().Add(-2*time.Minute).Format("20060102T150405Z"))
	u.RawQuery = q.Encode()
	r, b := get(u.String())
	if r.StatusCode != 403 || !strings.Contains(b, "<Code>AccessDenied</Code><Message>Request has expired</Message><X-Amz-Expires>60</X-Amz-Expires><Expires>") ||
		!strings.Contains(b, "<ServerTime>") {
		t.Fatalf("expired URL: %d %s", r.StatusCode, b)
	}
	q = u.Query()
	q.Set("X-Amz-Date", time.Now().UTC().Format("20060102T150405Z"))
	q.Set("X-Amz-Expires", "604801")
	u.RawQuery = q.Encode()
	r, b = get(u.String())
	if r.StatusCode != 400 || !strings.Contains(b, "<Code>AuthorizationQueryParametersError</Code><Message>X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds</Message>") {
		t.Fatalf("expiry over a week: %d %s", r.StatusCode, b)
	}
}
