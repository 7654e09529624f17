package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/localpipe/localpipe/internal/app"
)

// hop is a hop of GET /_localpipe/trace/{requestId} as a client decodes it.
type hop map[string]any

// traceOf asks the server for the trace of request id: the answer's status and its hops.
func (s *server) traceOf(t *testing.T, id string) (int, []hop) {
	t.Helper()
	r := s.do(t, "GET", s.a.Endpoint()+"/_localpipe/trace/"+id, "")
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("trace %s: Content-Type %q", id, ct)
	}
	var doc struct {
		RequestID string `json:"requestId"`
		Hops      []hop  `json:"hops"`
		Message   string `json:"message"`
	}
	if err := json.Unmarshal([]byte(r.body), &doc); err != nil {
		t.Fatalf("trace %s: %d %q is not JSON: %v", id, r.status, r.body, err)
	}
	if r.status == 200 && doc.RequestID != id {
		t.Errorf("trace %s: requestId %q", id, doc.RequestID)
	}
	if r.status != 200 && doc.Message == "" {
		t.Errorf("trace %s: %d without a message: %s", id, r.status, r.body)
	}
	return r.status, doc.Hops
}

// wantHops compares hops with want, given as JSON.
func wantHops(t *testing.T, what string, hops []hop, want string) {
	t.Helper()
	got, _ := json.Marshal(hops)
	if string(got) != mustCompact(want) {
		t.Errorf("%s: hops\n%s\nwant\n%s", what, got, mustCompact(want))
	}
}

// TestTraceSeedPipeline follows a POST to the seed's API through every hop: the API Gateway
// method, the Kinesis record its integration wrote, and, once Firehose has delivered it,
// the S3 object it is in.
func TestTraceSeedPipeline(t *testing.T) {
	s := startServer(t, seedConfig, nil)
	body := `{"message": "traced"}`
	r := s.do(t, "POST", seedInvokeURL(s), body)
	if r.status != 200 {
		t.Fatalf("POST /stream: %d %s", r.status, r.body)
	}
	id := r.header.Get("X-Amzn-Requestid")
	var put struct{ SequenceNumber, ShardId string }
	if err := json.Unmarshal([]byte(r.body), &put); err != nil || id == "" {
		t.Fatalf("POST /stream: request id %q, body %s", id, r.body)
	}
	gw := `{"service":"apigateway","apiId":"seedapi001","stage":"prod","resourcePath":"/stream","status":200}`
	kin := fmt.Sprintf(`{"service":"kinesis","streamName":"my-data-stream","shardId":%q,"sequenceNumber":%q}`, put.ShardId, put.SequenceNumber)
	status, hops := s.traceOf(t, id)
	if status != 200 {
		t.Fatalf("trace: %d", status)
	}
	wantHops(t, "before delivery", hops, "["+gw+","+kin+"]")

	s.flush(t, "my-firehose-stream")
	_, hops = s.traceOf(t, id)
	if len(hops) != 3 {
		t.Fatalf("after the flush: %d hops, want 3: %v", len(hops), hops)
	}
	key, _ := hops[2]["key"].(string)
	wantHops(t, "after delivery", hops, "["+gw+","+kin+
		fmt.Sprintf(`,{"service":"firehose","deliveryStreamName":"my-firehose-stream","bucket":"my-delivery-bucket","key":%q}]`, key))
	if got := s.objects(t, "my-delivery-bucket")[key]; !strings.Contains(got, body) {
		t.Errorf("the traced object %s holds %q, not the record", key, got)
	}
	// A second flush delivers nothing new and adds no hop.
	s.flush(t, "my-firehose-stream")
	if _, again := s.traceOf(t, id); len(again) != 3 {
		t.Errorf("after a second flush: %v", again)
	}
}

// TestTracePutRecordsPerRecord: a direct PutRecords traces one hop per record, each with the
// shard and sequence number its answer gave, and a direct Firehose PutRecordBatch one hop per
// record id, then the object. An API Gateway invoke through a Firehose integration traces the
// same way, and a refused invoke shows the gateway's status.
func TestTracePutRecordsPerRecord(t *testing.T) {
	s := startE2E(t)
	ctx := context.Background()
	var entries []ktypes.PutRecordsRequestEntry
	for i := range 3 {
		entries = append(entries, ktypes.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprint("k", i)), Data: []byte(fmt.Sprint("r", i))})
	}
	out, err := s.kin.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("e2e-stream"), Records: entries})
	if err != nil {
		t.Fatal(err)
	}
	id, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
	var want []string
	for _, r := range out.Records {
		want = append(want, fmt.Sprintf(`{"service":"kinesis","streamName":"e2e-stream","shardId":%q,"sequenceNumber":%q}`, *r.ShardId, *r.SequenceNumber))
	}
	if status, hops := s.traceOf(t, id); status != 200 {
		t.Errorf("PutRecords trace: %d", status)
	} else {
		wantHops(t, "PutRecords", hops, "["+strings.Join(want, ",")+"]")
	}

	fc := firehose.New(firehose.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.a.Endpoint()), Credentials: s.kin.Options().Credentials})
	batch, err := fc.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String("e2e-direct"),
		Records: []fhtypes.Record{{Data: []byte("a\n")}, {Data: []byte("b\n")}}})
	if err != nil {
		t.Fatal(err)
	}
	batchID, _ := awsmiddleware.GetRequestIDMetadata(batch.ResultMetadata)
	gw := s.do(t, "POST", s.url(e2eAPI, "test", "/firehose"), `{"a":1}`)
	if gw.status != 200 {
		t.Fatalf("POST /firehose: %d %s", gw.status, gw.body)
	}
	var gwOut struct{ RecordId string }
	json.Unmarshal([]byte(gw.body), &gwOut)
	s.flush(t, "e2e-direct")
	_, hops := s.traceOf(t, batchID)
	if len(hops) != 3 {
		t.Fatalf("PutRecordBatch: %v, want 2 records and their object", hops)
	}
	key, _ := hops[2]["key"].(string)
	object := fmt.Sprintf(`{"service":"firehose","deliveryStreamName":"e2e-direct","bucket":"e2e-bucket","key":%q}`, key)
	wantHops(t, "PutRecordBatch", hops, fmt.Sprintf(`[{"service":"firehose","deliveryStreamName":"e2e-direct","recordId":%q},
		{"service":"firehose","deliveryStreamName":"e2e-direct","recordId":%q},`+object+`]`,
		*batch.RequestResponses[0].RecordId, *batch.RequestResponses[1].RecordId))
	_, hops = s.traceOf(t, gw.header.Get("X-Amzn-Requestid"))
	wantHops(t, "gateway → Firehose", hops, fmt.Sprintf(`[{"service":"apigateway","apiId":%q,"stage":"test","resourcePath":"/firehose","status":200},
		{"service":"firehose","deliveryStreamName":"e2e-direct","recordId":%q},`+object+`]`, e2eAPI, gwOut.RecordId))

	refused := s.do(t, "POST", s.url("nosuchapi0", "test", "/firehose"), `{}`)
	_, hops = s.traceOf(t, refused.header.Get("X-Amzn-Requestid"))
	wantHops(t, "refused invoke", hops, `[{"service":"apigateway","apiId":"nosuchapi0","stage":"test","status":403}]`)
}

// TestTraceBounded: the index keeps the most recent --trace-size requests; an older id, an
// id never answered, and any id with tracing off get a 404 with a JSON message.
func TestTraceBounded(t *testing.T) {
	s := startServerConfig(t, func(c *app.Config) { c.TraceSize = 2 }, "", map[string]string{
		"localpipe.yaml": "streams: [{StreamName: s, ShardCount: 1}]\n",
	})
	ctx := context.Background()
	var ids []string
	for i := range 3 {
		out, err := s.kin.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("s"), PartitionKey: aws.String("k"), Data: []byte{byte(i)}})
		if err != nil {
			t.Fatal(err)
		}
		id, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
		ids = append(ids, id)
		// Reads write no record and take no place in the ring.
		if _, err := s.kin.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("s")}); err != nil {
			t.Fatal(err)
		}
	}
	for i, id := range ids {
		status, _ := s.traceOf(t, id)
		if want := map[bool]int{true: 200, false: 404}[i > 0]; status != want {
			t.Errorf("put %d: trace %d, want %d", i, status, want)
		}
	}
	if m := s.do(t, "GET", s.a.Endpoint()+"/metrics", ""); !strings.Contains(m.body, "\nlocalpipe_trace_requests 2\n") {
		t.Errorf("/metrics does not count the 2 traces held:\n%s", m.body)
	}
	if status, _ := s.traceOf(t, "00000000-0000-4000-8000-000000000000"); status != 404 {
		t.Errorf("an unknown id: %d, want 404", status)
	}
	if r := s.do(t, "POST", s.a.Endpoint()+"/_localpipe/trace/"+ids[2], ""); r.status != 405 {
		t.Errorf("POST: %d %s, want 405", r.status, r.body)
	}
	// A reset deletes the records and objects traces name: the traces go too.
	if r := s.do(t, "POST", s.a.Endpoint()+"/_localpipe/reset", ""); r.status != 200 {
		t.Fatalf("reset: %d %s", r.status, r.body)
	}
	if status, _ := s.traceOf(t, ids[2]); status != 404 {
		t.Errorf("after a reset: %d, want 404", status)
	}

	off := startServerConfig(t, func(c *app.Config) { c.TraceSize = 0 }, "", map[string]string{
		"localpipe.yaml": "streams: [{StreamName: s, ShardCount: 1}]\n",
	})
	out, err := off.kin.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("s"), PartitionKey: aws.String("k"), Data: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	id, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
	if status, _ := off.traceOf(t, id); status != 404 {
		t.Errorf("tracing off: %d, want 404", status)
	}
}

// TestTraceS3Writes: an S3 request that may change a bucket is traced under its
// x-amz-request-id as one hop, what S3 made of it, refused ones too; reads are not traced.
func TestTraceS3Writes(t *testing.T) {
	s := startServer(t, "", map[string]string{"localpipe.yaml": "buckets: [trace-bucket]\n"})
	ctx := context.Background()
	put, err := s.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("trace-bucket"), Key: aws.String("dir/k.json"), Body: strings.NewReader("{}")})
	if err != nil {
		t.Fatal(err)
	}
	id, _ := awsmiddleware.GetRequestIDMetadata(put.ResultMetadata)
	_, hops := s.traceOf(t, id)
	wantHops(t, "PutObject", hops, `[{"service":"s3","operation":"PutObject","bucket":"trace-bucket","key":"dir/k.json","status":200}]`)

	refused := s.do(t, "DELETE", s.a.Endpoint()+"/nosuchbucket", "")
	_, hops = s.traceOf(t, refused.header.Get("X-Amz-Request-Id"))
	wantHops(t, "DeleteBucket of a missing bucket", hops, `[{"service":"s3","operation":"DeleteBucket","bucket":"nosuchbucket","status":404}]`)

	get, err := s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("trace-bucket"), Key: aws.String("dir/k.json")})
	if err != nil {
		t.Fatal(err)
	}
	get.Body.Close()
	id, _ = awsmiddleware.GetRequestIDMetadata(get.ResultMetadata)
	if status, _ := s.traceOf(t, id); status != 404 {
		t.Errorf("GetObject traced: %d, want 404", status)
	}
}
