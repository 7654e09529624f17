package app_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestReset: POST /_localpipe/reset deletes what the API created and every record and
// object, then applies the config again: its stream, bucket, delivery stream and API are
// back, empty, and work; the API keeps its id.
func TestReset(t *testing.T) {
	s := startE2E(t)
	ctx := context.Background()
	ag := apigatewayClient(s)

	// Data in the config's resources, and resources of the API's own.
	if _, err := s.kin.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("e2e-stream"), PartitionKey: aws.String("k"), Data: []byte("old")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.kin.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("extra"), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	channelFixture(t, s.kin, s.s3, "channel-bucket", "extra-od")
	if _, err := s.kin.CreateChannel(ctx, s3Channel("extra-ch", "extra-od", "channel-bucket", ktypes.RecordFormatTypeJson, ktypes.S3CompressionTypeNone)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("e2e-bucket"), Key: aws.String("old"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("versioned")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.s3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("versioned"),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{"v1", "v2"} {
		if _, err := s.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("versioned"), Key: aws.String("k"), Body: strings.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("versioned"), Key: aws.String("k")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("versioned"), Key: aws.String("big")}); err != nil {
		t.Fatal(err)
	}
	api, err := ag.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("made-by-hand")})
	if err != nil {
		t.Fatal(err)
	}
	if r := s.do(t, "POST", s.url(e2eAPI, "test", "/firehose"), `{"buffered":"before the reset"}`); r.status != 200 {
		t.Fatalf("POST /firehose: %d %s", r.status, r.body)
	}

	if r := s.do(t, "GET", s.a.Endpoint()+"/_localpipe/reset", ""); r.status != 405 {
		t.Fatalf("GET /_localpipe/reset: %d %s", r.status, r.body)
	}
	if r := s.do(t, "POST", s.a.Endpoint()+"/_localpipe/reset", ""); r.status != 200 {
		t.Fatalf("POST /_localpipe/reset: %d %s", r.status, r.body)
	}

	if chs, err := s.kin.ListChannels(ctx, &kinesis.ListChannelsInput{}); err != nil || len(chs.ChannelSummaries) != 0 {
		t.Errorf("channels after the reset: %+v %v", chs, err)
	}
	streams, err := s.kin.ListStreams(ctx, &kinesis.ListStreamsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(streams.StreamNames, []string{"e2e-stream"}) {
		t.Errorf("streams after the reset: %q, want the config's only", streams.StreamNames)
	}
	if recs := s.records(t, "e2e-stream"); len(recs) != 0 {
		t.Errorf("e2e-stream kept %d record(s) through the reset", len(recs))
	}
	if n := metric(t, s, "localpipe_kinesis_incoming_records_total"); n != 0 {
		t.Errorf("incoming records counted after the reset: %v, want 0", n)
	}
	buckets, err := s.s3.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(buckets.Buckets) != 1 || aws.ToString(buckets.Buckets[0].Name) != "e2e-bucket" {
		t.Errorf("buckets after the reset: %v, want the config's only", buckets.Buckets)
	}
	if objs := s.objects(t, "e2e-bucket"); len(objs) != 0 {
		t.Errorf("e2e-bucket kept %v through the reset", objs)
	}
	if _, err := ag.GetRestApi(ctx, &apigateway.GetRestApiInput{RestApiId: api.Id}); err == nil {
		t.Error("the API created through the control plane survived the reset")
	}

	// The config's pipeline works again, under the same invoke URL; what Firehose buffered
	// before the reset is gone with it.
	if r := s.do(t, "POST", s.url(e2eAPI, "test", "/firehose"), `{"sent":"after the reset"}`); r.status != 200 {
		t.Fatalf("POST /firehose after the reset: %d %s", r.status, r.body)
	}
	s.flush(t, "e2e-direct")
	var all []string
	for _, content := range s.objects(t, "e2e-bucket") {
		all = append(all, content)
	}
	if got := strings.Join(all, "|"); !strings.Contains(got, "after the reset") || strings.Contains(got, "before the reset") {
		t.Fatalf("delivered after the reset: %q", got)
	}
	if _, err := s.kin.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("e2e-stream"), PartitionKey: aws.String("k"), Data: []byte("new")}); err != nil {
		t.Fatal(err)
	}
}
