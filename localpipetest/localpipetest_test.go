package localpipetest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/localpipe/localpipe/localpipetest"
)

func TestKinesis(t *testing.T) {
	srv := localpipetest.Start(t, localpipetest.Stream("a", 2), localpipetest.Config(`{"streams":[{"StreamName":"b","ShardCount":1}]}`))
	ctx := context.Background()
	kc := srv.Kinesis()
	list, err := kc.ListStreams(ctx, &kinesis.ListStreamsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(list.StreamNames, ","); got != "a,b" {
		t.Fatalf("streams %s, want a,b", got)
	}
	for _, k := range []string{"x", "y", "z", "some key"} {
		if _, err := kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("a"), PartitionKey: aws.String(k), Data: []byte(k)}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, r := range srv.Records("a") {
		got = append(got, string(r.Data))
	}
	if len(got) != 4 {
		t.Fatalf("Records: %q", got)
	}
	// The ARN carries the region AWSConfig signs for.
	sum, err := kc.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("b")})
	if err != nil {
		t.Fatal(err)
	}
	if arn := aws.ToString(sum.StreamDescriptionSummary.StreamARN); arn != "arn:aws:kinesis:us-east-1:000000000000:stream/b" {
		t.Fatalf("ARN %s", arn)
	}
}

func TestS3(t *testing.T) {
	srv := localpipetest.Start(t, localpipetest.Bucket("docs"))
	ctx := context.Background()
	// A client made straight from AWSConfig works too: the SDK addresses an IP endpoint
	// path-style on its own.
	for name, c := range map[string]*s3.Client{"S3()": srv.S3(), "NewFromConfig": s3.NewFromConfig(srv.AWSConfig)} {
		key := "dir/" + name
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("docs"), Key: aws.String(key), Body: strings.NewReader("hello")}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("docs"), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if string(b) != "hello" {
			t.Fatalf("%s: got %q", name, b)
		}
	}
}

func TestDataDirSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	first, err := localpipetest.New(localpipetest.DataDir(dir), localpipetest.Stream("s", 1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.Kinesis().PutRecord(context.Background(), &kinesis.PutRecordInput{StreamName: aws.String("s"), PartitionKey: aws.String("k"), Data: []byte("kept")}); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	second := localpipetest.Start(t, localpipetest.DataDir(dir))
	if rs := second.Records("s"); len(rs) != 1 || !bytes.Equal(rs[0].Data, []byte("kept")) {
		t.Fatalf("after restart: %v", rs)
	}
}

// fatalTB records the failure Start reports instead of failing the real test.
type fatalTB struct {
	testing.TB
	mu  sync.Mutex
	msg string
}

func (f *fatalTB) Helper() {}
func (f *fatalTB) Fatalf(format string, a ...any) {
	f.mu.Lock()
	f.msg = fmt.Sprintf(format, a...)
	f.mu.Unlock()
	runtime.Goexit()
}

func TestStartFailsTheTestOnBadConfig(t *testing.T) {
	for name, opt := range map[string]localpipetest.Option{
		"unknown key":  localpipetest.Config("stream: [{StreamName: x}]"),
		"not YAML":     localpipetest.Config("streams: [unclosed"),
		"bad stream":   localpipetest.Config("streams: [{StreamName: 'no spaces allowed', ShardCount: 1}]"),
		"missing file": localpipetest.ConfigFile("testdata/does-not-exist.yaml"),
	} {
		f := &fatalTB{TB: t}
		done := make(chan struct{})
		go func() {
			defer close(done)
			localpipetest.Start(f, opt)
			f.msg = "Start returned"
		}()
		<-done
		t.Logf("%s: %s", name, f.msg)
		if !strings.HasPrefix(f.msg, "localpipetest: ") {
			t.Errorf("%s: Start reported %q", name, f.msg)
		}
	}
}

func TestFaultHelpers(t *testing.T) {
	srv := localpipetest.Start(t, localpipetest.Stream("s", 1))
	count := int64(1)
	srv.Fault(localpipetest.FaultSpec{Service: "kinesis", Operation: "PutRecord", Error: "InternalFailure", Count: &count})
	kc := kinesis.NewFromConfig(srv.AWSConfig, func(o *kinesis.Options) { o.RetryMaxAttempts = 1 })
	put := func() error {
		_, err := kc.PutRecord(context.Background(), &kinesis.PutRecordInput{StreamName: aws.String("s"), PartitionKey: aws.String("k"), Data: []byte("x")})
		return err
	}
	var ae smithy.APIError
	if err := put(); !errors.As(err, &ae) || ae.ErrorCode() != "InternalFailure" {
		t.Fatalf("first put: %v, want the fault's InternalFailure", err)
	}
	if err := put(); err != nil {
		t.Fatalf("second put, the fault spent: %v", err)
	}
	srv.Fault(localpipetest.FaultSpec{Service: "kinesis", Error: "InternalFailure"})
	srv.ClearFaults()
	if err := put(); err != nil {
		t.Fatalf("after ClearFaults: %v", err)
	}
}

// TestThrottle: with Throttle a shard takes 1,000 records in a second of the test's clock
// and refuses the rest entry by entry.
func TestThrottle(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	srv := localpipetest.Start(t, localpipetest.Stream("s", 1), localpipetest.Throttle(func() time.Time { return now }))
	kc := kinesis.NewFromConfig(srv.AWSConfig, func(o *kinesis.Options) { o.RetryMaxAttempts = 1 })
	entries := make([]types.PutRecordsRequestEntry, 500)
	for i := range entries {
		entries[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String("k"), Data: []byte{byte(i)}}
	}
	failed := 0
	for range 3 {
		out, err := kc.PutRecords(context.Background(), &kinesis.PutRecordsInput{StreamName: aws.String("s"), Records: entries})
		if err != nil {
			t.Fatal(err)
		}
		failed += int(aws.ToInt32(out.FailedRecordCount))
	}
	if failed != 500 {
		t.Fatalf("%d of 1,500 records refused in one second, want 500", failed)
	}
}
