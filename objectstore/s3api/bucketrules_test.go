package s3api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestBucketRules: the location rules S3 applies to CreateBucket (a regional endpoint needs
// its own region as the constraint; us-east-1 is never a constraint; a second create is 200
// only in us-east-1), and ListBuckets' paging and filters.
func TestBucketRules(t *testing.T) {
	s := newServer(t)
	east := s.client(false)
	eu := s3.New(east.Options(), func(o *s3.Options) { o.Region = "eu-west-1" })
	ctx := context.Background()
	create := func(c *s3.Client, name string, constraint types.BucketLocationConstraint) error {
		in := &s3.CreateBucketInput{Bucket: aws.String(name)}
		if constraint != "" {
			in.CreateBucketConfiguration = &types.CreateBucketConfiguration{LocationConstraint: constraint}
		}
		_, err := c.CreateBucket(ctx, in)
		return err
	}
	for _, tc := range []struct {
		name       string
		client     *s3.Client
		bucket     string
		constraint types.BucketLocationConstraint
		code       string
	}{
		{"regional endpoint without constraint", eu, "eu-none", "", "IllegalLocationConstraintException"},
		{"regional endpoint, other region", eu, "eu-other", "us-west-2", "IllegalLocationConstraintException"},
		{"regional endpoint, its region", eu, "eu-own", "eu-west-1", ""},
		{"again in eu-west-1", eu, "eu-own", "eu-west-1", "BucketAlreadyOwnedByYou"},
		{"us-east-1 as a constraint", east, "east-explicit", "us-east-1", "InvalidLocationConstraint"},
		{"unknown region", east, "mars", "mars-north-1", "InvalidLocationConstraint"},
		{"global endpoint, any region", east, "west-from-east", "us-west-2", ""},
		{"EU is eu-west-1", eu, "eu-legacy", "EU", ""},
	} {
		err := create(tc.client, tc.bucket, tc.constraint)
		if apiCode(err) != tc.code {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.code)
		}
	}
	if _, err := east.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("eu-none")}); err == nil {
		t.Error("a refused create made the bucket")
	}
	loc, err := east.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("eu-legacy")})
	if err != nil || loc.LocationConstraint != "eu-west-1" {
		t.Errorf("EU bucket location: %v %q", err, loc.LocationConstraint)
	}

	for i := range 7 {
		if err := create(east, fmt.Sprintf("page-%d", i), ""); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	in := &s3.ListBucketsInput{Prefix: aws.String("page-"), MaxBuckets: aws.Int32(3)}
	for pages := 0; ; pages++ {
		out, err := east.ListBuckets(ctx, in)
		if err != nil || pages > 5 {
			t.Fatalf("ListBuckets: %v after %d pages", err, pages)
		}
		if len(out.Buckets) > 3 {
			t.Fatalf("page of %d buckets with max-buckets 3", len(out.Buckets))
		}
		for _, b := range out.Buckets {
			names = append(names, *b.Name)
		}
		if out.ContinuationToken == nil {
			break
		}
		in.ContinuationToken = out.ContinuationToken
	}
	if got := strings.Join(names, ","); got != "page-0,page-1,page-2,page-3,page-4,page-5,page-6" {
		t.Errorf("paged listing: %s", got)
	}
	out, err := east.ListBuckets(ctx, &s3.ListBucketsInput{BucketRegion: aws.String("eu-west-1")})
	if err != nil || len(out.Buckets) != 2 || aws.ToString(out.Buckets[0].BucketRegion) != "eu-west-1" {
		t.Errorf("bucket-region filter: %v %d", err, len(out.Buckets))
	}
	_, err = east.ListBuckets(ctx, &s3.ListBucketsInput{MaxBuckets: aws.Int32(0)})
	if apiCode(err) != "InvalidArgument" {
		t.Errorf("max-buckets 0: %v", err)
	}
}
