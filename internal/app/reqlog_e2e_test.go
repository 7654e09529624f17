package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/localpipe/localpipe/internal/app"
)

// logLine returns the one line of the server's log holding every part, failing the test
// unless there is exactly one.
func logLine(t *testing.T, logs string, parts ...string) string {
	t.Helper()
	var found []string
lines:
	for _, l := range strings.Split(logs, "\n") {
		for _, p := range parts {
			if !strings.Contains(l, p) {
				continue lines
			}
		}
		found = append(found, l)
	}
	if len(found) != 1 {
		t.Errorf("%d log lines hold %q, want 1:\n%s", len(found), parts, strings.Join(found, "\n"))
		return ""
	}
	return found[0]
}

// stopForLogs shuts the server down, which waits for every handler, so each request's log
// line is written; Firehose's last delivery is logged too.
func stopForLogs(t *testing.T, s *server) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.a.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	return s.logs.String()
}

// TestRequestLog: one info line per request with what a user needs to find it: service,
// operation (API, stage, method and resource for an invoke), status, error code, request id
// and duration; the reason for a gateway 403; Firehose deliveries with their trigger.
func TestRequestLog(t *testing.T) {
	s := startE2E(t)
	ctx := context.Background()

	put, err := s.kin.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("e2e-stream"), PartitionKey: aws.String("k"), Data: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	putID, _ := awsmiddleware.GetRequestIDMetadata(put.ResultMetadata)
	_, err = s.kin.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("no-such-stream")})
	if err == nil {
		t.Fatal("DescribeStreamSummary of a missing stream succeeded")
	}
	if _, err := s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("e2e-bucket"), Key: aws.String("missing")}); err == nil {
		t.Fatal("GetObject of a missing key succeeded")
	}
	ok := s.do(t, "POST", s.url(e2eAPI, "test", "/firehose"), `{"a":1}`)
	if ok.status != 200 {
		t.Fatalf("POST /firehose: %d %s", ok.status, ok.body)
	}
	refused := map[string]response{
		"no such API":      s.do(t, "POST", s.url("nosuchapi0", "test", "/firehose"), `{}`),
		"no such stage":    s.do(t, "POST", s.url(e2eAPI, "nostage", "/firehose"), `{}`),
		"no such resource": s.do(t, "POST", s.url(e2eAPI, "test", "/nowhere"), `{}`),
		"no such method":   s.do(t, "DELETE", s.url(e2eAPI, "test", "/firehose"), ""),
	}
	if r := s.do(t, "GET", "http://evil.example:"+s.port+"/e2e-bucket", ""); r.status != 403 {
		t.Fatalf("GET with a foreign Host: %d %s", r.status, r.body)
	}
	s.flush(t, "e2e-direct")
	s.do(t, "POST", s.url(e2eAPI, "test", "/firehose"), `{"b":2}`) // delivered at shutdown
	logs := stopForLogs(t, s)

	logLine(t, logs, "msg=request", "service=kinesis", "operation=PutRecord", "status=200", "requestId="+putID, "duration=")
	logLine(t, logs, "msg=request", "service=kinesis", "operation=DescribeStreamSummary", "status=400", "error=ResourceNotFoundException")
	logLine(t, logs, "msg=request", "service=s3", "operation=GetObject", "status=404", "error=NoSuchKey", "requestId=")
	logLine(t, logs, "msg=request", "service=apigateway", "apiId="+e2eAPI, "stage=test", "method=POST", "path=/firehose",
		"resourcePath=/firehose", "status=200", "requestId="+ok.header.Get("x-amzn-RequestId"))
	// Refused at the edge, before S3 resolved an operation: the method and path say what it was.
	logLine(t, logs, "msg=request", "service=s3", "method=GET", "path=/e2e-bucket", "status=403", "error=AccessDenied")
	for reason, r := range refused {
		if r.status != 403 {
			t.Errorf("%s: status %d, want 403", reason, r.status)
		}
		logLine(t, logs, "msg=request", "service=apigateway", "status=403", "error=MissingAuthenticationTokenException",
			`reason="`+reason+`"`, "requestId="+r.header.Get("x-amzn-RequestId"))
	}
	logLine(t, logs, "level=INFO", `msg="firehose: delivered"`, "deliveryStream=e2e-direct", "bucket=e2e-bucket", "records=1", "trigger=flush")
	logLine(t, logs, "level=INFO", `msg="firehose: delivered"`, "deliveryStream=e2e-direct", "records=1", "trigger=shutdown")
	if strings.Contains(logs, "path=/_localpipe/firehose/e2e-direct/flush") && !strings.Contains(logs, "service=admin") {
		t.Error("the admin flush is not logged as the admin service's")
	}
}

// TestRequestLogOff: --log-requests=false writes no request lines.
func TestRequestLogOff(t *testing.T) {
	s := startServerConfig(t, func(c *app.Config) { c.LogRequests = false }, "", map[string]string{"localpipe.yaml": "buckets: [quiet]\n"})
	if _, err := s.s3.HeadBucket(context.Background(), &s3.HeadBucketInput{Bucket: aws.String("quiet")}); err != nil {
		t.Fatal(err)
	}
	if logs := stopForLogs(t, s); strings.Contains(logs, "msg=request") {
		t.Fatalf("request lines with --log-requests=false:\n%s", logs)
	}
}
