package app_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/localpipe/localpipe/internal/functions/functionstest"
)

// fhEvent is Firehose's transformation event as a function decodes it.
type fhEvent struct {
	InvocationID           string `json:"invocationId"`
	DeliveryStreamArn      string `json:"deliveryStreamArn"`
	SourceKinesisStreamArn string `json:"sourceKinesisStreamArn"`
	Region                 string `json:"region"`
	Records                []struct {
		RecordID                    string `json:"recordId"`
		ApproximateArrivalTimestamp int64  `json:"approximateArrivalTimestamp"`
		Data                        []byte `json:"data"`
		KinesisRecordMetadata       *struct {
			ShardID                     string `json:"shardId"`
			PartitionKey                string `json:"partitionKey"`
			ApproximateArrivalTimestamp int64  `json:"approximateArrivalTimestamp"`
			SequenceNumber              string `json:"sequenceNumber"`
			SubsequenceNumber           int64  `json:"subsequenceNumber"`
		} `json:"kinesisRecordMetadata"`
	} `json:"records"`
}

type fhAnswerRecord struct {
	RecordID string `json:"recordId"`
	Result   string `json:"result"`
	Data     []byte `json:"data,omitempty"`
	Metadata *struct {
		PartitionKeys map[string]string `json:"partitionKeys"`
	} `json:"metadata,omitempty"`
}

// upperFunc is a transformation: a record "drop…" is Dropped, "fail…" ProcessingFailed, any
// other is upper-cased with a newline, partitioned by its first letter. It keeps the last
// event it saw.
type upperFunc struct {
	mu   sync.Mutex
	last fhEvent
}

func (u *upperFunc) fn(event []byte) ([]byte, bool) {
	var ev fhEvent
	if err := json.Unmarshal(event, &ev); err != nil {
		return []byte(`{"errorMessage":"bad event: ` + err.Error() + `"}`), true
	}
	u.mu.Lock()
	u.last = ev
	u.mu.Unlock()
	var out struct {
		Records []fhAnswerRecord `json:"records"`
	}
	for _, r := range ev.Records {
		a := fhAnswerRecord{RecordID: r.RecordID, Result: "Ok", Data: append([]byte(strings.ToUpper(string(r.Data))), '\n')}
		switch {
		case strings.HasPrefix(string(r.Data), "drop"):
			a.Result, a.Data = "Dropped", nil
		case strings.HasPrefix(string(r.Data), "fail"):
			a.Result, a.Data = "ProcessingFailed", nil
		default:
			a.Metadata = &struct {
				PartitionKeys map[string]string `json:"partitionKeys"`
			}{map[string]string{"first": string(r.Data[:1])}}
		}
		out.Records = append(out.Records, a)
	}
	b, _ := json.Marshal(out)
	return b, false
}

func (u *upperFunc) event() fhEvent {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.last
}

// transformStream is a delivery stream reading stream src into bucket b through function fn.
func transformStream(name, src, fn, extra string) string {
	return fmt.Sprintf(`
  - DeliveryStreamName: %s
    DeliveryStreamType: KinesisStreamAsSource
    KinesisStreamSourceConfiguration: {KinesisStreamARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/%s', RoleARN: 'arn:aws:iam::000000000000:role/r'}
    ExtendedS3DestinationConfiguration:
      BucketARN: 'arn:aws:s3:::bkt'
      RoleARN: 'arn:aws:iam::000000000000:role/r'
      Prefix: '%s/'
      ErrorOutputPrefix: '%s-errors/!{firehose:error-output-type}/'
      ProcessingConfiguration:
        Processors:
          - Type: Lambda
            Parameters:
              - {ParameterName: LambdaArn, ParameterValue: '%s'}
              - {ParameterName: NumberOfRetries, ParameterValue: '1'}
%s`, name, src, name, name, fn, extra)
}

// putAll puts each record with its own partition key into stream and returns their sequence
// numbers by data.
func putAll(t *testing.T, s *server, stream string, data ...string) map[string]string {
	t.Helper()
	var entries []ktypes.PutRecordsRequestEntry
	for i, d := range data {
		entries = append(entries, ktypes.PutRecordsRequestEntry{Data: []byte(d), PartitionKey: aws.String(fmt.Sprintf("pk-%d", i))})
	}
	out, err := s.kin.PutRecords(context.Background(), &kinesis.PutRecordsInput{StreamName: aws.String(stream), Records: entries})
	if err != nil || aws.ToInt32(out.FailedRecordCount) != 0 {
		t.Fatalf("PutRecords %s: %v %v", stream, err, out)
	}
	seqs := map[string]string{}
	for i, r := range out.Records {
		seqs[data[i]] = aws.ToString(r.SequenceNumber)
	}
	return seqs
}

// errorLines decodes the processing-failed records under prefix.
func errorLines(t *testing.T, objs map[string]string, prefix string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for key, body := range objs {
		if !strings.HasPrefix(key, prefix) {
			continue
		}
		for _, line := range strings.Split(strings.TrimSpace(body), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("%s: %q is not JSON: %v", key, line, err)
			}
			out = append(out, m)
		}
	}
	sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]["rawData"]) < fmt.Sprint(out[j]["rawData"]) })
	return out
}

func underPrefix(objs map[string]string, prefix string) string {
	var keys []string
	for k := range objs {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(objs[k])
	}
	return b.String()
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// TestFirehoseTransformEachWay: a Lambda processor's function served as a Lambda Invoke API
// (by ARN), as a plain URL (by bare name) and as a command (the example's script) gets
// Firehose's event, and its Ok, Dropped and ProcessingFailed answers are applied: Ok records
// written as transformed, Dropped ones nowhere, ProcessingFailed ones as error records under
// processing-failed.
func TestFirehoseTransformEachWay(t *testing.T) {
	viaLambda, viaURL := &upperFunc{}, &upperFunc{}
	lambda := functionstest.NewLambda(t, map[string]functionstest.Func{"upper": viaLambda.fn})
	url := functionstest.NewURL(t, viaURL.fn)
	script, err := filepath.Abs("../../examples/transform/transform.py")
	if err != nil {
		t.Fatal(err)
	}
	_, pyErr := exec.LookPath("python3")
	config := fmt.Sprintf(`
functions:
  - {name: 'arn:aws:lambda:us-east-1:000000000000:function:upper', endpoint: '%s'}
  - {name: upper-url, url: '%s'}
  - {name: py, command: [python3, '%s'], timeout: 20s}
streams: [{StreamName: s1, ShardCount: 1}, {StreamName: s2, ShardCount: 1}, {StreamName: s3, ShardCount: 1}]
buckets: [bkt]
deliveryStreams:`, lambda.URL, url, script) +
		transformStream("vialambda", "s1", "arn:aws:lambda:us-east-1:000000000000:function:upper", "") +
		transformStream("viaurl", "s2", "arn:aws:lambda:us-east-1:000000000000:function:upper-url", "") +
		transformStream("viacommand", "s3", "arn:aws:lambda:us-east-1:000000000000:function:py:live", "") + `
  - DeliveryStreamName: direct
    ExtendedS3DestinationConfiguration:
      BucketARN: 'arn:aws:s3:::bkt'
      RoleARN: 'arn:aws:iam::000000000000:role/r'
      Prefix: 'direct/'
      ProcessingConfiguration:
        Processors: [{Type: Lambda, Parameters: [{ParameterName: LambdaArn, ParameterValue: 'arn:aws:lambda:us-east-1:000000000000:function:upper'}]}]
`
	s := startServer(t, "", map[string]string{"localpipe.yaml": config})
	if !strings.Contains(s.logs.String(), `msg="function declared" name=upper-url runs=http://`) {
		t.Errorf("the declared functions are not logged at start")
	}

	// DirectPut: the function gets the record id PutRecord answered, and no Kinesis metadata.
	fc := firehose.New(firehose.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.a.Endpoint()),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	put, err := fc.PutRecord(context.Background(), &firehose.PutRecordInput{DeliveryStreamName: aws.String("direct"), Record: &fhtypes.Record{Data: []byte("direct")}})
	if err != nil {
		t.Fatal(err)
	}
	s.flush(t, "direct")
	if got := underPrefix(s.objects(t, "bkt"), "direct/"); got != "DIRECT\n" {
		t.Errorf("direct: delivered %q", got)
	}
	if ev := viaLambda.event(); len(ev.Records) != 1 || ev.Records[0].RecordID != aws.ToString(put.RecordId) || ev.Records[0].KinesisRecordMetadata != nil ||
		ev.SourceKinesisStreamArn != "" || ev.DeliveryStreamArn != "arn:aws:firehose:us-east-1:000000000000:deliverystream/direct" {
		t.Errorf("direct: event %+v, want record id %s", ev, aws.ToString(put.RecordId))
	}

	for _, tc := range []struct {
		stream, src string
		fn          *upperFunc
	}{{"vialambda", "s1", viaLambda}, {"viaurl", "s2", viaURL}} {
		seqs := putAll(t, s, tc.src, "abc", "drop me", "fail me", "xyz")
		s.flush(t, tc.stream)
		objs := s.objects(t, "bkt")
		if got := underPrefix(objs, tc.stream+"/"); got != "ABC\nXYZ\n" {
			t.Errorf("%s: delivered %q, want the Ok records transformed", tc.stream, got)
		}
		errs := errorLines(t, objs, tc.stream+"-errors/processing-failed/")
		if len(errs) != 1 || errs[0]["rawData"] != b64("fail me") || errs[0]["errorCode"] != "Lambda.ProcessingFailedStatus" ||
			errs[0]["attemptsMade"] != 1.0 || errs[0]["lambdaArn"] == nil || errs[0]["arrivalTimestamp"] == nil || errs[0]["attemptEndingTimestamp"] == nil {
			t.Errorf("%s: processing-failed records %v", tc.stream, errs)
		}
		ev := tc.fn.event()
		if ev.InvocationID == "" || ev.Region != "us-east-1" || ev.DeliveryStreamArn != "arn:aws:firehose:us-east-1:000000000000:deliverystream/"+tc.stream ||
			ev.SourceKinesisStreamArn != "arn:aws:kinesis:us-east-1:000000000000:stream/"+tc.src || len(ev.Records) != 4 {
			t.Fatalf("%s: event %+v", tc.stream, ev)
		}
		r := ev.Records[0]
		if m := r.KinesisRecordMetadata; m == nil || m.SequenceNumber != seqs["abc"] || m.PartitionKey != "pk-0" || m.ShardID != "shardId-000000000000" ||
			m.ApproximateArrivalTimestamp != r.ApproximateArrivalTimestamp || r.ApproximateArrivalTimestamp == 0 || !strings.HasPrefix(r.RecordID, seqs["abc"]) {
			t.Errorf("%s: first record of the event: %+v %+v", tc.stream, r, r.KinesisRecordMetadata)
		}
	}

	if pyErr != nil {
		t.Skip("SKIPPING the command runner: python3 is not installed")
	}
	putAll(t, s, "s3", `{"a":1}`, `{"drop":true}`, `not json`)
	s.flush(t, "viacommand")
	objs := s.objects(t, "bkt")
	if got := underPrefix(objs, "viacommand/"); got != `{"a":1,"processed":true}`+"\n" {
		t.Errorf("command: delivered %q", got)
	}
	if errs := errorLines(t, objs, "viacommand-errors/processing-failed/"); len(errs) != 1 || errs[0]["rawData"] != b64("not json") {
		t.Errorf("command: processing-failed records %v", errs)
	}
	if !strings.Contains(s.logs.String(), ": 3 records") {
		t.Errorf("the script's stderr is not in the log")
	}
}

// TestFirehoseTransformFailures: invocations that fail (a function error, an undeclared
// function, an answer with a wrong record id, one over 6 MB) are tried NumberOfRetries+1
// times, then every record of the invocation goes to processing-failed with the reason; the
// delivery stream goes on with later records.
func TestFirehoseTransformFailures(t *testing.T) {
	good := &upperFunc{}
	lambda := functionstest.NewLambda(t, map[string]functionstest.Func{
		"crash": func([]byte) ([]byte, bool) { return []byte(`{"errorMessage":"boom","errorType":"Error"}`), true },
		"wrongid": func([]byte) ([]byte, bool) {
			return []byte(`{"records":[{"recordId":"nope","result":"Ok","data":"eA=="}]}`), false
		},
		"huge": func([]byte) ([]byte, bool) {
			return []byte(`{"records":[],"pad":"` + strings.Repeat("x", 6<<20) + `"}`), false
		},
		"good": good.fn,
	})
	config := fmt.Sprintf(`
functions:
  - {name: crash, endpoint: '%[1]s'}
  - {name: wrongid, endpoint: '%[1]s'}
  - {name: huge, endpoint: '%[1]s'}
  - {name: good, endpoint: '%[1]s'}
streams: [{StreamName: s1, ShardCount: 1}, {StreamName: s2, ShardCount: 1}, {StreamName: s3, ShardCount: 1}, {StreamName: s4, ShardCount: 1}, {StreamName: s5, ShardCount: 1}]
buckets: [bkt]
deliveryStreams:`, lambda.URL) +
		transformStream("crash", "s1", "arn:aws:lambda:us-east-1:000000000000:function:crash", "") +
		transformStream("undeclared", "s2", "arn:aws:lambda:us-east-1:000000000000:function:nobody", "") +
		transformStream("wrongid", "s3", "arn:aws:lambda:us-east-1:000000000000:function:wrongid", "") +
		transformStream("huge", "s4", "arn:aws:lambda:us-east-1:000000000000:function:huge", "") +
		`
  - DeliveryStreamName: bylambda
    DeliveryStreamType: KinesisStreamAsSource
    KinesisStreamSourceConfiguration: {KinesisStreamARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/s5', RoleARN: 'arn:aws:iam::000000000000:role/r'}
    ExtendedS3DestinationConfiguration:
      BucketARN: 'arn:aws:s3:::bkt'
      RoleARN: 'arn:aws:iam::000000000000:role/r'
      BufferingHints: {SizeInMBs: 64, IntervalInSeconds: 60}
      Prefix: 'bylambda/first=!{partitionKeyFromLambda:first}/'
      ErrorOutputPrefix: 'bylambda-errors/!{firehose:error-output-type}/'
      DynamicPartitioningConfiguration: {Enabled: true}
      ProcessingConfiguration:
        Processors:
          - Type: Lambda
            Parameters: [{ParameterName: LambdaArn, ParameterValue: 'arn:aws:lambda:us-east-1:000000000000:function:good'}]
`
	s := startServer(t, "", map[string]string{"localpipe.yaml": config})

	for _, tc := range []struct{ stream, src, code, calls string }{
		{"crash", "s1", "Lambda.FunctionError", "crash"},
		{"undeclared", "s2", "Lambda.FunctionNotFound", ""},
		{"wrongid", "s3", "Lambda.MissingRecordId", "wrongid"},
		{"huge", "s4", "Lambda.ResponseSizeLimitExceeded", "huge"},
	} {
		putAll(t, s, tc.src, "one", "two")
		s.flush(t, tc.stream)
		objs := s.objects(t, "bkt")
		if got := underPrefix(objs, tc.stream+"/"); got != "" {
			t.Errorf("%s: delivered %q", tc.stream, got)
		}
		errs := errorLines(t, objs, tc.stream+"-errors/processing-failed/")
		if len(errs) != 2 || errs[0]["rawData"] != b64("one") || errs[1]["rawData"] != b64("two") {
			t.Fatalf("%s: processing-failed records %v", tc.stream, errs)
		}
		for _, e := range errs {
			if e["errorCode"] != tc.code || e["attemptsMade"] != 2.0 || e["lambdaArn"] == nil || e["errorMessage"] == "" {
				t.Errorf("%s: error record %v, want %s after 2 attempts", tc.stream, e, tc.code)
			}
		}
		if tc.calls != "" && lambda.Calls(tc.calls) != 2 {
			t.Errorf("%s: the function ran %d times, want 2 (NumberOfRetries 1)", tc.stream, lambda.Calls(tc.calls))
		}
	}
	// 4 streams × 2 failed attempts; the metric counts every invocation, found or not.
	if n := metric(t, s, "localpipe_firehose_execute_processing_success_total"); n != 8 {
		t.Errorf("localpipe_firehose_execute_processing_success_total %v, want 8 invocations", n)
	}
	if !strings.Contains(s.logs.String(), "nobody is not declared in the config's functions:") {
		t.Errorf("the log does not say the function is not declared")
	}

	// metadata.partitionKeys feed !{partitionKeyFromLambda:…}.
	putAll(t, s, "s5", "apple", "avocado", "banana", "drop it")
	s.flush(t, "bylambda")
	objs := s.objects(t, "bkt")
	if n := metric(t, s, "localpipe_firehose_succeed_processing_records_total"); n != 4 {
		t.Errorf("localpipe_firehose_succeed_processing_records_total %v, want 4 (3 Ok, 1 Dropped)", n)
	}
	if a, b := underPrefix(objs, "bylambda/first=a/"), underPrefix(objs, "bylambda/first=b/"); a != "APPLE\nAVOCADO\n" || b != "BANANA\n" {
		t.Errorf("partitioned by the function's keys: a=%q b=%q (objects %v)", a, b, keysOf(objs))
	}
}

func keysOf(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestSeedPipelineTransformed: the seed's pipeline with the transformation the seed asks for
// (examples/transform: a plain script adding a field and a newline to each record): a record
// POSTed to the API is read back from S3 transformed.
func TestSeedPipelineTransformed(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("SKIPPING: examples/transform/transform.py needs python3")
	}
	s := startServer(t, "../../examples/transform/localpipe.yaml", nil)
	for _, body := range []string{`{"message": "one"}`, `{"message": "two"}`} {
		if r := s.do(t, "POST", seedInvokeURL(s), body); r.status != 200 {
			t.Fatalf("POST /stream: %d %s", r.status, r.body)
		}
	}
	s.flush(t, "my-firehose-stream")
	got := underPrefix(s.objects(t, "my-delivery-bucket"), "")
	if got != `{"message":"one","processed":true}`+"\n"+`{"message":"two","processed":true}`+"\n" {
		t.Errorf("read back from S3: %q", got)
	}
}
