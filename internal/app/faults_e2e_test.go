package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/localpipe/localpipe/localpipetest"
)

// faultAPI calls the run-time fault API and returns the status and body.
func faultAPI(tb testing.TB, srv *localpipetest.Server, method, path, body string) (int, string) {
	tb.Helper()
	req, err := http.NewRequest(method, srv.Endpoint+"/_localpipe/faults"+path, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// addFaults declares faults at run time and fails the test if they are refused.
func addFaults(tb testing.TB, srv *localpipetest.Server, specs string) {
	tb.Helper()
	if status, body := faultAPI(tb, srv, "POST", "", specs); status != 200 {
		tb.Fatalf("POST /_localpipe/faults: %d %s", status, body)
	}
}

// countingClient counts the HTTP requests an SDK client sends.
type countingClient struct{ n int }

func (c *countingClient) Do(r *http.Request) (*http.Response, error) {
	c.n++
	return http.DefaultClient.Do(r)
}

type firedFault struct {
	ID    string `json:"id"`
	Fired int64  `json:"fired"`
}

func activeFaults(t *testing.T, srv *localpipetest.Server) []firedFault {
	t.Helper()
	status, body := faultAPI(t, srv, "GET", "", "")
	var out struct{ Faults []firedFault }
	if err := json.Unmarshal([]byte(body), &out); status != 200 || err != nil {
		t.Fatalf("GET /_localpipe/faults: %d %s %v", status, body, err)
	}
	return out.Faults
}

func TestFaultThrottleRecoveredBySDKRetryer(t *testing.T) {
	srv := localpipetest.Start(t, localpipetest.Config(`
streams: [{StreamName: events, ShardCount: 1}]
faults:
  - {service: kinesis, operation: PutRecord, error: ProvisionedThroughputExceededException, count: 2}
`))
	attempts := &countingClient{}
	kc := kinesis.NewFromConfig(srv.AWSConfig, func(o *kinesis.Options) { o.HTTPClient = attempts })
	if _, err := kc.PutRecord(context.Background(), &kinesis.PutRecordInput{
		StreamName: aws.String("events"), PartitionKey: aws.String("k"), Data: []byte("once"),
	}); err != nil {
		t.Fatalf("the SDK's retryer did not get through two throttles: %v", err)
	}
	if attempts.n != 3 {
		t.Errorf("%d attempts, want 3 (two throttled)", attempts.n)
	}
	recs := srv.Records("events")
	if len(recs) != 1 || string(recs[0].Data) != "once" {
		t.Fatalf("stored %d records, want the one once", len(recs))
	}
	if f := activeFaults(t, srv); len(f) != 1 || f[0].Fired != 2 {
		t.Errorf("active faults %+v, want one that fired twice", f)
	}
}

func TestFaultThrottleIsAWSShaped(t *testing.T) {
	srv := localpipetest.Start(t, localpipetest.Stream("events", 1))
	addFaults(t, srv, `[{"service":"kinesis","operation":"PutRecord","resource":"events","error":"ProvisionedThroughputExceededException"}]`)
	kc := kinesis.NewFromConfig(srv.AWSConfig, func(o *kinesis.Options) { o.RetryMaxAttempts = 1 })
	_, err := kc.PutRecord(context.Background(), &kinesis.PutRecordInput{
		StreamName: aws.String("events"), PartitionKey: aws.String("k"), Data: []byte("x"),
	})
	var pte *ktypes.ProvisionedThroughputExceededException
	var re *smithyhttp.ResponseError
	if !errors.As(err, &pte) || !errors.As(err, &re) || re.HTTPStatusCode() != 400 {
		t.Fatalf("got %v, want a 400 ProvisionedThroughputExceededException", err)
	}
	if !strings.Contains(pte.ErrorMessage(), "Rate exceeded for stream events") {
		t.Errorf("message %q", pte.ErrorMessage())
	}
	if n := len(srv.Records("events")); n != 0 {
		t.Errorf("a failed PutRecord stored %d records", n)
	}
}

func TestFaultPartialPutRecords(t *testing.T) {
	srv := localpipetest.Start(t, localpipetest.Stream("events", 2))
	addFaults(t, srv, `[{"service":"kinesis","operation":"PutRecords","entries":"partial","count":1}]`)
	kc := kinesis.NewFromConfig(srv.AWSConfig)
	ctx := context.Background()
	var entries []ktypes.PutRecordsRequestEntry
	for i := range 5 {
		entries = append(entries, ktypes.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprint("k", i)), Data: []byte(fmt.Sprint("r", i))})
	}
	out, err := kc.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("events"), Records: entries})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(out.FailedRecordCount) != 3 || len(out.Records) != 5 {
		t.Fatalf("FailedRecordCount %d with %d results, want 3 of 5", aws.ToInt32(out.FailedRecordCount), len(out.Records))
	}
	var resend []ktypes.PutRecordsRequestEntry
	for i, r := range out.Records {
		failed := aws.ToString(r.ErrorCode) != ""
		if failed != (i%2 == 0) {
			t.Errorf("entry %d: ErrorCode %q SequenceNumber %q", i, aws.ToString(r.ErrorCode), aws.ToString(r.SequenceNumber))
		}
		if failed {
			if aws.ToString(r.ErrorCode) != "ProvisionedThroughputExceededException" || aws.ToString(r.ErrorMessage) == "" || r.SequenceNumber != nil {
				t.Errorf("entry %d: %+v", i, r)
			}
			resend = append(resend, entries[i])
		} else if aws.ToString(r.SequenceNumber) == "" || aws.ToString(r.ShardId) == "" {
			t.Errorf("entry %d stored without a sequence number or shard: %+v", i, r)
		}
	}
	if got := storedData(srv.Records("events")); !slices.Equal(got, []string{"r1", "r3"}) {
		t.Fatalf("stored %v, want only the entries that succeeded", got)
	}
	// The client resends what failed; the fault (count 1) is spent.
	out, err = kc.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("events"), Records: resend})
	if err != nil || aws.ToInt32(out.FailedRecordCount) != 0 {
		t.Fatalf("resend: %v, %d failed", err, aws.ToInt32(out.FailedRecordCount))
	}
	if got := storedData(srv.Records("events")); !slices.Equal(got, []string{"r0", "r1", "r2", "r3", "r4"}) {
		t.Fatalf("after the resend the stream holds %v", got)
	}
}

func storedData(recs []ktypes.Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, string(r.Data))
	}
	slices.Sort(out)
	return out
}

func TestFaultPartialPutRecordBatch(t *testing.T) {
	srv := localpipetest.Start(t, localpipetest.Config(`
buckets: [out]
deliveryStreams:
  - {DeliveryStreamName: d, ExtendedS3DestinationConfiguration: {BucketARN: 'arn:aws:s3:::out', RoleARN: 'arn:aws:iam::000000000000:role/r'}}
faults:
  - {service: firehose, operation: PutRecordBatch, entries: partial, error: InternalFailure}
`))
	fc := firehose.NewFromConfig(srv.AWSConfig)
	out, err := fc.PutRecordBatch(context.Background(), &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String("d"),
		Records: []fhtypes.Record{{Data: []byte("a\n")}, {Data: []byte("b\n")}, {Data: []byte("c\n")}}})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(out.FailedPutCount) != 2 || len(out.RequestResponses) != 3 ||
		aws.ToString(out.RequestResponses[0].ErrorCode) != "InternalFailure" || aws.ToString(out.RequestResponses[1].RecordId) == "" ||
		aws.ToString(out.RequestResponses[2].ErrorCode) != "InternalFailure" {
		t.Fatalf("FailedPutCount %d, responses %+v", aws.ToInt32(out.FailedPutCount), out.RequestResponses)
	}
	srv.Flush("d")
	var all string
	for _, body := range objectBodies(t, srv, "out") {
		all += body
	}
	if all != "b\n" {
		t.Fatalf("delivered %q, want only the entry that succeeded", all)
	}
}

// TestFaultPartialOnAnInvalidBatch: a partial fault does not hide what is wrong with the
// request itself. A batch whose invalid entry is one the fault would fail, a batch over the
// size limit, and a batch of one record to a stream that does not exist each get the error
// they get without the fault, nothing is stored, and a count is not spent on them.
func TestFaultPartialOnAnInvalidBatch(t *testing.T) {
	srv := localpipetest.Start(t, localpipetest.Config(`
streams: [{StreamName: events, ShardCount: 1}]
buckets: [out]
deliveryStreams:
  - {DeliveryStreamName: d, ExtendedS3DestinationConfiguration: {BucketARN: 'arn:aws:s3:::out', RoleARN: 'arn:aws:iam::000000000000:role/r'}}
faults:
  - {service: kinesis, operation: PutRecords, entries: partial, count: 1}
  - {service: firehose, operation: PutRecordBatch, entries: partial}
`))
	ctx := context.Background()
	kc := kinesis.NewFromConfig(srv.AWSConfig, func(o *kinesis.Options) { o.RetryMaxAttempts = 1 })
	entry := func(key string, data []byte) ktypes.PutRecordsRequestEntry {
		return ktypes.PutRecordsRequestEntry{PartitionKey: aws.String(key), Data: data}
	}
	for _, c := range []struct {
		name    string
		stream  string
		records []ktypes.PutRecordsRequestEntry
		want    string // error code
	}{
		// The first entry is one the fault fails: only the check of the whole batch sees it.
		{"partition key over 256", "events", []ktypes.PutRecordsRequestEntry{entry(strings.Repeat("k", 257), []byte("x")), entry("k", []byte("y"))}, "ValidationException"},
		{"record over 1 MiB", "events", []ktypes.PutRecordsRequestEntry{entry("k", make([]byte, 1<<20+1)), entry("k", []byte("y"))}, "ValidationException"},
		{"batch over 5 MiB", "events", func() (out []ktypes.PutRecordsRequestEntry) {
			for range 6 {
				out = append(out, entry("k", make([]byte, 1000<<10)))
			}
			return out
		}(), "InvalidArgumentException"},
		{"no such stream", "nope", []ktypes.PutRecordsRequestEntry{entry("k", []byte("x"))}, "ResourceNotFoundException"},
	} {
		_, err := kc.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(c.stream), Records: c.records})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != c.want {
			t.Errorf("PutRecords, %s: got %v, want %s", c.name, err, c.want)
		}
	}
	if n := len(srv.Records("events")); n != 0 {
		t.Errorf("invalid batches stored %d records", n)
	}
	fc := firehose.NewFromConfig(srv.AWSConfig, func(o *firehose.Options) { o.RetryMaxAttempts = 1 })
	_, err := fc.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String("d"),
		Records: []fhtypes.Record{{Data: make([]byte, 1000<<10+1)}, {Data: []byte("b")}}})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" {
		t.Errorf("PutRecordBatch with a record over 1,000 KiB: got %v, want ValidationException", err)
	}
	if keys := srv.Flush("d"); len(keys) != 0 {
		t.Errorf("an invalid batch delivered %v", keys)
	}
	// The invalid batches did not spend the fault: the first valid one meets it.
	out, err := kc.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("events"), Records: []ktypes.PutRecordsRequestEntry{entry("k", []byte("x"))}})
	if err != nil || aws.ToInt32(out.FailedRecordCount) != 1 {
		t.Fatalf("a valid batch: %v %+v", err, out)
	}
}

func objectBodies(t *testing.T, srv *localpipetest.Server, bucket string) []string {
	t.Helper()
	sc := srv.S3()
	ctx := context.Background()
	list, err := sc.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, o := range list.Contents {
		get, err := sc.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: o.Key})
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(get.Body)
		get.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}

func TestFaultS3SlowDownOnPutObject(t *testing.T) {
	srv := localpipetest.Start(t, localpipetest.Bucket("bkt"), localpipetest.Bucket("other"))
	ctx := context.Background()
	sc := srv.S3()
	put := func(bucket, body string) error {
		_, err := sc.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("k"), Body: strings.NewReader(body)},
			func(o *s3.Options) { o.RetryMaxAttempts = 1 })
		return err
	}
	if err := put("bkt", "old"); err != nil {
		t.Fatal(err)
	}
	addFaults(t, srv, `[{"service":"s3","operation":"PutObject","resource":"bkt","error":"SlowDown"}]`)
	err := put("bkt", "new")
	var ae smithy.APIError
	var re *smithyhttp.ResponseError
	if !errors.As(err, &ae) || ae.ErrorCode() != "SlowDown" || !errors.As(err, &re) || re.HTTPStatusCode() != 503 {
		t.Fatalf("got %v, want a 503 SlowDown", err)
	}
	if err := put("other", "x"); err != nil {
		t.Fatalf("a fault on bkt failed a put to another bucket: %v", err)
	}
	if got := objectBodies(t, srv, "bkt"); len(got) != 1 || got[0] != "old" {
		t.Fatalf("after a failed PutObject the bucket holds %q, want the old object", got)
	}
	if status, body := faultAPI(t, srv, "DELETE", "", ""); status != 200 || !strings.Contains(body, `"deleted":1`) {
		t.Fatalf("DELETE: %d %s", status, body)
	}
	if err := put("bkt", "new"); err != nil {
		t.Fatalf("after the fault was removed: %v", err)
	}
}

func TestFaultLatencyHoldsTheCall(t *testing.T) {
	srv := localpipetest.Start(t, localpipetest.Stream("events", 1))
	addFaults(t, srv, `[{"service":"kinesis","operation":"PutRecord","latency":"1h"}]`)
	kc := kinesis.NewFromConfig(srv.AWSConfig, func(o *kinesis.Options) { o.RetryMaxAttempts = 1 })
	// The client gives up long before the hour; the call must not have run.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("events"), PartitionKey: aws.String("k"), Data: []byte("late")})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want the client's deadline", err)
	}
	if f := activeFaults(t, srv); len(f) != 1 || f[0].Fired != 1 {
		t.Fatalf("active faults %+v", f)
	}
	if status, body := faultAPI(t, srv, "DELETE", "/"+activeFaults(t, srv)[0].ID, ""); status != 200 {
		t.Fatalf("DELETE by id: %d %s", status, body)
	}
	if n := len(srv.Records("events")); n != 0 {
		t.Errorf("a call abandoned during its latency stored %d records", n)
	}
}

func TestFaultAdminAPI(t *testing.T) {
	srv := localpipetest.Start(t)
	status, body := faultAPI(t, srv, "POST", "", `[{"service":"kinesis","error":"Nope"}]`)
	if status != 400 || !strings.Contains(body, "ProvisionedThroughputExceededException") {
		t.Errorf("bad declaration: %d %s", status, body)
	}
	status, body = faultAPI(t, srv, "POST", "", `[{"service":"kinesis","error":"InternalFailure"},{"service":"s3","latency":"1ms"}]`)
	var added struct{ IDs []string }
	if err := json.Unmarshal([]byte(body), &added); status != 200 || err != nil || len(added.IDs) != 2 {
		t.Fatalf("POST: %d %s", status, body)
	}
	if f := activeFaults(t, srv); len(f) != 2 || f[0].ID != added.IDs[0] {
		t.Fatalf("GET: %+v", f)
	}
	if status, _ := faultAPI(t, srv, "DELETE", "/"+added.IDs[0], ""); status != 200 {
		t.Errorf("DELETE %s: %d", added.IDs[0], status)
	}
	if status, _ := faultAPI(t, srv, "DELETE", "/"+added.IDs[0], ""); status != 404 {
		t.Errorf("DELETE of a removed fault: %d, want 404", status)
	}
	if status, _ := faultAPI(t, srv, "PUT", "", "[]"); status != 405 {
		t.Errorf("PUT: %d, want 405", status)
	}
	if f := activeFaults(t, srv); len(f) != 1 || f[0].ID != added.IDs[1] {
		t.Fatalf("after DELETE: %+v", f)
	}
}

func TestFaultConfigRejected(t *testing.T) {
	_, err := localpipetest.New(localpipetest.Config(`
faults:
  - {service: kinesis, operation: PutRecord, error: SlowDown}
`))
	if err == nil || !strings.Contains(err.Error(), "faults[0]") || !strings.Contains(err.Error(), "ProvisionedThroughputExceededException") {
		t.Fatalf("got %v, want the bad fault named with the valid codes", err)
	}
}

// TestFaultReachesGatewayIntegration: a Kinesis fault meets the gateway's in-process AWS
// integration as it meets an SDK client, and the method's integration responses map it
// (the e2e API maps 4xx to 400).
func TestFaultReachesGatewayIntegration(t *testing.T) {
	s := startE2E(t)
	if r := s.do(t, "POST", s.a.Endpoint()+"/_localpipe/faults",
		`[{"service":"kinesis","operation":"PutRecord","resource":"e2e-stream","error":"ProvisionedThroughputExceededException","count":1}]`); r.status != 200 {
		t.Fatalf("POST /_localpipe/faults: %d %s", r.status, r.body)
	}
	if r := s.do(t, "POST", s.url(e2eAPI, "test", "/stream"), `{"n": 1}`); r.status != 400 {
		t.Errorf("throttled integration: %d %s, want the 4xx response's 400", r.status, r.body)
	}
	if r := s.do(t, "POST", s.url(e2eAPI, "test", "/stream"), `{"n": 2}`); r.status != 200 {
		t.Errorf("after the fault: %d %s", r.status, r.body)
	}
	if recs := s.records(t, "e2e-stream"); len(recs) != 1 || string(recs[0].Data) != `{"n": 2}` {
		t.Errorf("stream holds %d records, want only the second", len(recs))
	}
}

// TestFaultS3MetByFirehose: Firehose's writes to S3 meet S3 faults; the batch stays and is
// written again, once, when the fault has passed.
func TestFaultS3MetByFirehose(t *testing.T) {
	s := startServer(t, "", map[string]string{"localpipe.yaml": `
buckets: [out]
deliveryStreams:
  - {DeliveryStreamName: d, ExtendedS3DestinationConfiguration: {BucketARN: 'arn:aws:s3:::out', RoleARN: 'arn:aws:iam::000000000000:role/r'}}
faults:
  - {service: s3, operation: PutObject, resource: out, error: SlowDown, count: 3}
`})
	fc := firehose.New(firehose.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.a.Endpoint()), Credentials: s.kin.Options().Credentials})
	if _, err := fc.PutRecord(context.Background(), &firehose.PutRecordInput{DeliveryStreamName: aws.String("d"), Record: &fhtypes.Record{Data: []byte("once\n")}}); err != nil {
		t.Fatal(err)
	}
	if r := s.flushResponse(t, "d"); r.status != 500 {
		t.Fatalf("flush through an S3 fault: %d %s, want the failure reported", r.status, r.body)
	}
	failure := func() *fhtypes.FailureDescription {
		t.Helper()
		out, err := fc.DescribeDeliveryStream(context.Background(), &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("d")})
		if err != nil {
			t.Fatal(err)
		}
		if st := out.DeliveryStreamDescription.DeliveryStreamStatus; st != fhtypes.DeliveryStreamStatusActive {
			t.Errorf("status %s while retrying, want ACTIVE", st)
		}
		return out.DeliveryStreamDescription.FailureDescription
	}
	if f := failure(); f == nil || f.Type != fhtypes.DeliveryStreamFailureTypeUnknownError || !strings.HasPrefix(aws.ToString(f.Details), "S3.SlowDown: Please reduce your request rate.") {
		t.Errorf("while the fault lasts, FailureDescription %+v, want S3.SlowDown", f)
	}
	if n := metric(t, s, "localpipe_firehose_delivery_to_s3_success"); n != 0 {
		t.Errorf("DeliveryToS3.Success %v after a failed put, want 0", n)
	}
	// Firehose also retries on its own, with backoff; either way the fault runs out.
	delivered := false
	for range 5 {
		if s.flushResponse(t, "d").status == 200 {
			delivered = true
			break
		}
	}
	if !delivered {
		t.Fatal("Firehose did not deliver once the fault was spent")
	}
	if n := metric(t, s, "localpipe_faults_fired_total"); n != 3 {
		t.Errorf("localpipe_faults_fired_total %v, want 3", n)
	}
	// DeliveryToS3.Success counts every put attempt by result: three failed, one succeeded.
	if n := metric(t, s, "localpipe_firehose_delivery_to_s3_success_total"); n != 4 {
		t.Errorf("localpipe_firehose_delivery_to_s3_success_total %v, want 4 attempts", n)
	}
	if f := failure(); f != nil {
		t.Errorf("after the delivery, FailureDescription %+v, want none", f)
	}
	if n := metric(t, s, "localpipe_firehose_delivery_to_s3_success"); n != 1 {
		t.Errorf("DeliveryToS3.Success %v after the delivery, want 1", n)
	}
	if got := s.objects(t, "out"); len(got) != 1 {
		t.Fatalf("%d objects, want one: %v", len(got), got)
	} else {
		for _, body := range got {
			if body != "once\n" {
				t.Fatalf("object holds %q", body)
			}
		}
	}
}

// TestFaultSeedRepeatsARun: the config's top-level seed seeds a probability fault that has
// none of its own, so two servers started from the same config fail the same calls.
func TestFaultSeedRepeatsARun(t *testing.T) {
	run := func(config string) string {
		srv := localpipetest.Start(t, localpipetest.Config(config))
		kc := kinesis.NewFromConfig(srv.AWSConfig, func(o *kinesis.Options) { o.RetryMaxAttempts = 1 })
		var b strings.Builder
		for range 40 {
			_, err := kc.PutRecord(context.Background(), &kinesis.PutRecordInput{StreamName: aws.String("s"), PartitionKey: aws.String("k"), Data: []byte("x")})
			var ie *ktypes.InternalFailureException
			switch {
			case err == nil:
				b.WriteByte('.')
			case errors.As(err, &ie):
				b.WriteByte('x')
			default:
				t.Fatal(err)
			}
		}
		return b.String()
	}
	const top = `
seed: 11
streams: [{StreamName: s, ShardCount: 1}]
faults: [{service: kinesis, error: InternalFailureException, probability: 0.5}]
`
	first := run(top)
	if again := run(top); again != first {
		t.Fatalf("same seed, different runs:\n%s\n%s", first, again)
	}
	if !strings.Contains(first, "x") || !strings.Contains(first, ".") {
		t.Fatalf("probability 0.5 failed %s", first)
	}
	if own := run(strings.Replace(top, "probability: 0.5", "probability: 0.5, seed: 11", 1)); own != first {
		t.Errorf("top-level seed 11 and the entry's own seed 11 differ:\n%s\n%s", first, own)
	}
}

// TestFaultPartialOfOneRecord: a one-record batch under a partial fault fails its record,
// and a batch to a stream that does not exist still fails as a whole.
func TestFaultPartialOfOneRecord(t *testing.T) {
	srv := localpipetest.Start(t, localpipetest.Stream("events", 1))
	addFaults(t, srv, `[{"service":"kinesis","operation":"PutRecords","entries":"partial"}]`)
	kc := kinesis.NewFromConfig(srv.AWSConfig, func(o *kinesis.Options) { o.RetryMaxAttempts = 1 })
	one := []ktypes.PutRecordsRequestEntry{{PartitionKey: aws.String("k"), Data: []byte("x")}}
	out, err := kc.PutRecords(context.Background(), &kinesis.PutRecordsInput{StreamName: aws.String("events"), Records: one})
	if err != nil || aws.ToInt32(out.FailedRecordCount) != 1 || aws.ToString(out.Records[0].ErrorCode) == "" {
		t.Fatalf("one record: %v %+v", err, out)
	}
	_, err = kc.PutRecords(context.Background(), &kinesis.PutRecordsInput{StreamName: aws.String("nope"), Records: one})
	var rnf *ktypes.ResourceNotFoundException
	if !errors.As(err, &rnf) {
		t.Fatalf("to a missing stream: %v, want ResourceNotFoundException", err)
	}
	if n := len(srv.Records("events")); n != 0 {
		t.Errorf("stored %d records", n)
	}
}

// TestFaultOnGatewayMethod: a fault on "METHOD /resource/path" answers the method's invokes
// with the gateway response it names, before the integration runs; other methods and other
// APIs are untouched; ANY matches every method of the resource.
func TestFaultOnGatewayMethod(t *testing.T) {
	s := startE2E(t)
	add := func(specs string) {
		t.Helper()
		if r := s.do(t, "POST", s.a.Endpoint()+"/_localpipe/faults", specs); r.status != 200 {
			t.Fatalf("POST /_localpipe/faults: %d %s", r.status, r.body)
		}
	}
	add(`[{"service":"apigateway","operation":"POST /stream","resource":"` + e2eAPI + `","error":"THROTTLED","count":1},
		{"service":"apigateway","operation":"ANY /streams/{stream-name}/record","error":"INTEGRATION_TIMEOUT","count":1},
		{"service":"apigateway","resource":"another-api","error":"API_CONFIGURATION_ERROR"}]`)
	r := s.do(t, "POST", s.url(e2eAPI, "test", "/stream"), `{"n": 1}`)
	gatewayError(t, "THROTTLED", r, 429, "Too Many Requests", "TooManyRequestsException")
	r = s.do(t, "PUT", s.url(e2eAPI, "test", "/streams/e2e-stream/record"), `{"Data": "x", "PartitionKey": "k"}`)
	gatewayError(t, "INTEGRATION_TIMEOUT", r, 504, "Endpoint request timed out", "InternalServerErrorException")
	if r := s.do(t, "POST", s.url(e2eAPI, "test", "/stream"), `{"n": 2}`); r.status != 200 {
		t.Errorf("after the fault: %d %s", r.status, r.body)
	}
	if recs := s.records(t, "e2e-stream"); len(recs) != 1 || string(recs[0].Data) != `{"n": 2}` {
		t.Errorf("stream holds %d records, want only the one sent after the faults", len(recs))
	}
}

// TestFaultNeverCorruptsState: a call a fault fails leaves everything as it was. Kinesis
// PutRecords and Firehose PutRecordBatch store no record (GetRecords reads none, a flush
// delivers none), also when the fault waits first; S3 keeps the old object, its body and
// ETag, through a failed PutObject, CopyObject, DeleteObject and CompleteMultipartUpload.
func TestFaultNeverCorruptsState(t *testing.T) {
	srv := localpipetest.Start(t, localpipetest.Config(`
streams: [{StreamName: events, ShardCount: 2}]
buckets: [out, bkt]
deliveryStreams:
  - {DeliveryStreamName: d, ExtendedS3DestinationConfiguration: {BucketARN: 'arn:aws:s3:::out', RoleARN: 'arn:aws:iam::000000000000:role/r'}}
faults:
  - {service: kinesis, operation: PutRecords, error: InternalFailure, latency: 5ms}
  - {service: firehose, operation: PutRecordBatch, error: ServiceUnavailableException}
`))
	ctx := context.Background()
	kc := kinesis.NewFromConfig(srv.AWSConfig, func(o *kinesis.Options) { o.RetryMaxAttempts = 1 })
	if _, err := kc.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("events"), Records: []ktypes.PutRecordsRequestEntry{
		{PartitionKey: aws.String("a"), Data: []byte("x")}, {PartitionKey: aws.String("b"), Data: []byte("y")}}}); err == nil {
		t.Fatal("PutRecords succeeded through the fault")
	}
	if n := len(srv.Records("events")); n != 0 {
		t.Errorf("a failed PutRecords stored %d records", n)
	}
	fc := firehose.NewFromConfig(srv.AWSConfig, func(o *firehose.Options) { o.RetryMaxAttempts = 1 })
	if _, err := fc.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String("d"),
		Records: []fhtypes.Record{{Data: []byte("x")}}}); err == nil {
		t.Fatal("PutRecordBatch succeeded through the fault")
	}
	if keys := srv.Flush("d"); len(keys) != 0 {
		t.Errorf("a failed PutRecordBatch delivered %v", keys)
	}

	sc := s3.NewFromConfig(srv.AWSConfig, func(o *s3.Options) { o.UsePathStyle = true; o.RetryMaxAttempts = 1 })
	old, err := sc.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), Body: strings.NewReader("old")})
	if err != nil {
		t.Fatal(err)
	}
	up, err := sc.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	part, err := sc.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("bkt"), Key: aws.String("k"), UploadId: up.UploadId,
		PartNumber: aws.Int32(1), Body: strings.NewReader("new")})
	if err != nil {
		t.Fatal(err)
	}
	srv.Fault(localpipetest.FaultSpec{Service: "s3", Resource: "bkt", Error: "InternalError"})
	for name, call := range map[string]func() error{
		"PutObject": func() error {
			_, err := sc.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), Body: strings.NewReader("new")})
			return err
		},
		"CopyObject": func() error {
			_, err := sc.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), CopySource: aws.String("out/none")})
			return err
		},
		"DeleteObject": func() error {
			_, err := sc.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k")})
			return err
		},
		"CompleteMultipartUpload": func() error {
			_, err := sc.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("k"), UploadId: up.UploadId,
				MultipartUpload: &s3types.CompletedMultipartUpload{Parts: []s3types.CompletedPart{{PartNumber: aws.Int32(1), ETag: part.ETag}}}})
			return err
		},
	} {
		var ae smithy.APIError
		if err := call(); !errors.As(err, &ae) || ae.ErrorCode() != "InternalError" {
			t.Errorf("%s: got %v, want the fault's InternalError", name, err)
		}
	}
	srv.ClearFaults()
	get, err := sc.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k")})
	if err != nil {
		t.Fatalf("the object is gone after failed calls: %v", err)
	}
	body, err := io.ReadAll(get.Body)
	get.Body.Close()
	if err != nil || string(body) != "old" || aws.ToString(get.ETag) != aws.ToString(old.ETag) {
		t.Errorf("after failed calls the object holds %q (ETag %s), want the old one (ETag %s)", body, aws.ToString(get.ETag), aws.ToString(old.ETag))
	}
	// The upload the fault refused to complete is still open, and completes now.
	if _, err := sc.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("k"), UploadId: up.UploadId,
		MultipartUpload: &s3types.CompletedMultipartUpload{Parts: []s3types.CompletedPart{{PartNumber: aws.Int32(1), ETag: part.ETag}}}}); err != nil {
		t.Errorf("completing the upload once the fault is gone: %v", err)
	}
}
