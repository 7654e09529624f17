package app_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

const corsConfig = `
streams:
  - {StreamName: cors-stream, ShardCount: 1}
buckets: [cors-bucket]
`

// A browser app calls Kinesis and Firehose directly: the preflight it sends (which names
// X-Amz-Target only among the headers to come) is granted, and every JSON answer may be read
// cross-origin, with the request id exposed.
func TestKinesisAndFirehoseCORS(t *testing.T) {
	s := startServer(t, "", map[string]string{"localpipe.yaml": corsConfig})
	base := "http://127.0.0.1:" + s.port + "/"
	pre := s.do(t, http.MethodOptions, base, "",
		"Origin", "http://localhost:3000",
		"Access-Control-Request-Method", "POST",
		"Access-Control-Request-Headers", "authorization,content-type,x-amz-date,x-amz-target,x-amz-user-agent")
	want := map[string]string{
		"Access-Control-Allow-Origin":   "*",
		"Access-Control-Allow-Methods":  "POST",
		"Access-Control-Allow-Headers":  "authorization,content-type,x-amz-date,x-amz-target,x-amz-user-agent",
		"Access-Control-Expose-Headers": "x-amzn-RequestId,x-amz-id-2",
	}
	if pre.status != http.StatusOK || pre.body != "" {
		t.Fatalf("preflight: %d %q", pre.status, pre.body)
	}
	for k, v := range want {
		if got := pre.header.Get(k); got != v {
			t.Errorf("preflight %s = %q, want %q", k, got, v)
		}
	}

	// The SDK's answer, as the browser would see its headers.
	out, err := s.kin.DescribeStreamSummary(context.Background(), &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("cors-stream")})
	if err != nil {
		t.Fatal(err)
	}
	raw, ok := awsmiddleware.GetRawResponse(out.ResultMetadata).(*smithyhttp.Response)
	if !ok {
		t.Fatal("no raw response")
	}
	if raw.Header.Get("Access-Control-Allow-Origin") != "*" || raw.Header.Get("Access-Control-Expose-Headers") != want["Access-Control-Expose-Headers"] {
		t.Errorf("Kinesis answer: %v", raw.Header)
	}
	fh := s.do(t, http.MethodPost, base, "{}", "X-Amz-Target", "Firehose_20150804.ListDeliveryStreams",
		"Content-Type", "application/x-amz-json-1.1", "Origin", "http://localhost:3000",
		"Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/firehose/aws4_request, SignedHeaders=host, Signature=00")
	if fh.status != http.StatusOK || fh.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("Firehose answer: %d %v %s", fh.status, fh.header, fh.body)
	}
	// An error is readable cross-origin too, so the app can show AWS's message.
	bad := s.do(t, http.MethodPost, base, `{"StreamName":"missing"}`, append(append([]string{}, kinesisHeaders[2:]...),
		"X-Amz-Target", "Kinesis_20131202.DescribeStreamSummary")...)
	if bad.status != http.StatusBadRequest || bad.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("Kinesis error: %d %v %s", bad.status, bad.header, bad.body)
	}

	// A preflight that does not ask for X-Amz-Target is S3's, answered by the bucket's CORS
	// rules (this bucket has none).
	s3pre := s.do(t, http.MethodOptions, base+"cors-bucket/key", "",
		"Origin", "http://localhost:3000", "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "content-type")
	if s3pre.status == http.StatusOK || s3pre.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("S3 preflight answered as Kinesis's: %d %v", s3pre.status, s3pre.header)
	}
}
