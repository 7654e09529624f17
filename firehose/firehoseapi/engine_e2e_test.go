package firehoseapi_test

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// These tests drive the engine's prefix expressions, dynamic partitioning, de-aggregation and
// error output through the wire API, the way an application configures them.

func TestPrefixExpressions(t *testing.T) {
	e := newEnv(t)
	e.bucket(t, "bkt")
	d := s3dest("bkt")
	d.Prefix = aws.String("logs/year=!{timestamp:yyyy}/month=!{timestamp:MM}/!{firehose:random-string}/")
	d.ErrorOutputPrefix = aws.String("errors/!{firehose:error-output-type}/")
	e.create(t, &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("px"), ExtendedS3DestinationConfiguration: d})
	now := time.Now().UTC()
	e.put(t, "px", "a", "b")
	keys := e.flush(t, "px")
	re := regexp.MustCompile(`^logs/year=(\d{4})/month=(\d{2})/[0-9a-zA-Z-]{11}/px-1-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-[0-9a-f-]{36}$`)
	if len(keys) != 1 || !re.MatchString(keys[0]) {
		t.Fatalf("keys %v", keys)
	}
	if m := re.FindStringSubmatch(keys[0]); m[1] != now.Format("2006") || m[2] != now.Format("01") {
		t.Fatalf("timestamp expressions in %s, want %s", keys[0], now.Format("2006/01"))
	}
	// A literal prefix without a slash gets the default time path appended directly.
	d = s3dest("bkt")
	d.Prefix = aws.String("flat")
	d.CustomTimeZone = aws.String("Asia/Tokyo")
	e.create(t, &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("tz"), ExtendedS3DestinationConfiguration: d})
	e.put(t, "tz", "x")
	keys = e.flush(t, "tz")
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	if len(keys) != 1 || !strings.HasPrefix(keys[0], "flat"+time.Now().In(tokyo).Format("2006/01/02/15/")) {
		t.Fatalf("CustomTimeZone keys %v", keys)
	}
}

func partitioned(query string) *types.ExtendedS3DestinationConfiguration {
	d := s3dest("bkt")
	d.Prefix = aws.String("customer_id=!{partitionKeyFromQuery:customer_id}/device=!{partitionKeyFromQuery:device}/")
	d.ErrorOutputPrefix = aws.String("errors/!{firehose:error-output-type}/")
	d.BufferingHints = &types.BufferingHints{SizeInMBs: aws.Int32(64), IntervalInSeconds: aws.Int32(900)}
	d.DynamicPartitioningConfiguration = &types.DynamicPartitioningConfiguration{Enabled: aws.Bool(true)}
	d.ProcessingConfiguration = processing(
		types.Processor{Type: types.ProcessorTypeMetadataExtraction, Parameters: []types.ProcessorParameter{
			{ParameterName: types.ProcessorParameterNameMetadataExtractionQuery, ParameterValue: aws.String(query)},
			{ParameterName: types.ProcessorParameterNameJsonParsingEngine, ParameterValue: aws.String("JQ-1.6")}}},
		types.Processor{Type: types.ProcessorTypeAppendDelimiterToRecord})
	return d
}

func TestDynamicPartitioningAndErrorOutput(t *testing.T) {
	e := newEnv(t)
	e.bucket(t, "bkt")
	e.create(t, &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("dp"),
		ExtendedS3DestinationConfiguration: partitioned("{customer_id: .customer_id, device: .type.device}")})
	e.put(t, "dp",
		`{"customer_id":"1234567890","type":{"device":"mobile"},"n":1}`,
		`{"customer_id":"42","type":{"device":"web"},"n":2}`,
		`{"customer_id":"1234567890","type":{"device":"mobile"},"n":3}`,
		`not json`)
	keys := e.flush(t, "dp")
	got := map[string]string{}
	for _, k := range keys {
		got[k[:strings.LastIndexByte(k, '/')+1]] = string(e.get(t, "bkt", k))
	}
	if got["customer_id=1234567890/device=mobile/"] != "{\"customer_id\":\"1234567890\",\"type\":{\"device\":\"mobile\"},\"n\":1}\n{\"customer_id\":\"1234567890\",\"type\":{\"device\":\"mobile\"},\"n\":3}\n" ||
		got["customer_id=42/device=web/"] != "{\"customer_id\":\"42\",\"type\":{\"device\":\"web\"},\"n\":2}\n" {
		t.Fatalf("partitions %v", got)
	}
	var errObj string
	for p, body := range got {
		if strings.HasPrefix(p, "errors/") {
			if !strings.HasPrefix(p, "errors/metadata-extraction-failed/") {
				t.Fatalf("error prefix %s", p)
			}
			errObj = body
		}
	}
	if errObj == "" || len(got) != 3 {
		t.Fatalf("objects %v", got)
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(strings.SplitN(errObj, "\n", 2)[0]), &rec); err != nil {
		t.Fatalf("error record is not JSON: %q", errObj)
	}
	if raw, _ := base64.StdEncoding.DecodeString(rec["rawData"].(string)); string(raw) != "not json" {
		t.Fatalf("error record %v", rec)
	}
	// Dynamic partitioning stays on: UpdateDestination cannot switch it off.
	_, err := e.fh.UpdateDestination(ctx, &firehose.UpdateDestinationInput{DeliveryStreamName: aws.String("dp"), CurrentDeliveryStreamVersionId: aws.String("1"),
		DestinationId: aws.String("destinationId-000000000001"), ExtendedS3DestinationUpdate: &types.ExtendedS3DestinationUpdate{
			DynamicPartitioningConfiguration: &types.DynamicPartitioningConfiguration{Enabled: aws.Bool(false)}}})
	wantErr(t, err, "InvalidArgumentException", "cannot be disabled")
}

func TestRecordDeAggregation(t *testing.T) {
	e := newEnv(t)
	e.bucket(t, "bkt")
	for _, c := range []struct {
		name   string
		params []types.ProcessorParameter
		in     string
		want   string
	}{
		{"json", []types.ProcessorParameter{{ParameterName: types.ProcessorParameterNameSubRecordType, ParameterValue: aws.String("JSON")}},
			`{"a":1}{"a":2}` + "\n" + `{"a":3}`, "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n"},
		{"delimited", []types.ProcessorParameter{{ParameterName: types.ProcessorParameterNameSubRecordType, ParameterValue: aws.String("DELIMITED")},
			{ParameterName: types.ProcessorParameterNameDelimiter, ParameterValue: aws.String("IyMjIw==")}}, "x####y####z", "x\ny\nz\n"},
		// "abcd" is itself valid base64: a delimiter decoded twice would not split this.
		{"delimited2", []types.ProcessorParameter{{ParameterName: types.ProcessorParameterNameSubRecordType, ParameterValue: aws.String("DELIMITED")},
			{ParameterName: types.ProcessorParameterNameDelimiter, ParameterValue: aws.String("YWJjZA==")}}, "1abcd2abcd3", "1\n2\n3\n"},
	} {
		d := partitioned("{customer_id: .c, device: .d}")
		if c.name != "json" { // not JSON: no partitioning, just splitting
			d = s3dest("bkt")
		}
		d.Prefix = aws.String(c.name + "/")
		if c.name == "json" {
			d.Prefix = aws.String("json/!{partitionKeyFromQuery:customer_id}/")
			d.ProcessingConfiguration.Processors[0].Parameters[0].ParameterValue = aws.String("{customer_id: .a}")
		} else {
			d.ProcessingConfiguration = processing()
		}
		d.ProcessingConfiguration.Processors = append(d.ProcessingConfiguration.Processors,
			types.Processor{Type: types.ProcessorTypeRecordDeAggregation, Parameters: c.params})
		if c.name != "json" {
			d.ProcessingConfiguration.Processors = append(d.ProcessingConfiguration.Processors, types.Processor{Type: types.ProcessorTypeAppendDelimiterToRecord})
		}
		e.create(t, &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String(c.name), ExtendedS3DestinationConfiguration: d})
		e.put(t, c.name, c.in)
		var all strings.Builder
		keys := e.flush(t, c.name)
		for _, k := range sorted(keys) {
			all.WriteString(string(e.get(t, "bkt", k)))
		}
		if all.String() != c.want {
			t.Fatalf("%s: keys %v, objects %q, want %q", c.name, keys, all.String(), c.want)
		}
		if c.name == "json" && len(keys) != 3 {
			t.Fatalf("json: each sub-record partitions alone, keys %v", keys)
		}
	}
}

// kplRecord builds a KPL aggregated record: magic, AggregatedRecord protobuf, MD5 of it.
func kplRecord(records ...string) []byte {
	field := func(b []byte, n int, v []byte) []byte {
		b = binary.AppendUvarint(b, uint64(n<<3|2))
		b = binary.AppendUvarint(b, uint64(len(v)))
		return append(b, v...)
	}
	body := field(nil, 1, []byte("pk"))
	for _, r := range records {
		rec := binary.AppendUvarint([]byte{1 << 3}, 0) // partition_key_index 0
		rec = field(rec, 3, []byte(r))
		body = field(body, 3, rec)
	}
	sum := md5.Sum(body)
	out := append([]byte{0xF3, 0x89, 0x9A, 0xC2}, body...)
	return append(out, sum[:]...)
}

func TestKPLDeaggregationFromKinesis(t *testing.T) {
	e := newEnv(t)
	e.bucket(t, "bkt")
	e.stream(t, "kpl", 1)
	d := s3dest("bkt")
	d.ProcessingConfiguration = processing(types.Processor{Type: types.ProcessorTypeAppendDelimiterToRecord})
	e.create(t, &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("kpl"), DeliveryStreamType: types.DeliveryStreamTypeKinesisStreamAsSource,
		KinesisStreamSourceConfiguration: kinesisSource("kpl"), ExtendedS3DestinationConfiguration: d})
	for _, data := range [][]byte{kplRecord("one", "two", "three"), []byte("plain")} {
		if _, err := e.kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("kpl"), PartitionKey: aws.String("pk"), Data: data}); err != nil {
			t.Fatal(err)
		}
	}
	keys := e.flush(t, "kpl")
	if len(keys) != 1 || string(e.get(t, "bkt", keys[0])) != "one\ntwo\nthree\nplain\n" {
		t.Fatalf("keys %v: %q", keys, e.get(t, "bkt", keys[0]))
	}
}

func TestBufferMetric(t *testing.T) {
	e := newEnv(t)
	e.bucket(t, "bkt")
	d := s3dest("bkt")
	d.BufferingHints = &types.BufferingHints{SizeInMBs: aws.Int32(128), IntervalInSeconds: aws.Int32(900)}
	e.create(t, &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("bm"), ExtendedS3DestinationConfiguration: d})
	e.put(t, "bm", "12345", "678")
	metric := func() string {
		for _, l := range strings.Split(e.metrics(t), "\n") {
			if strings.HasPrefix(l, `localpipe_firehose_buffer_bytes{delivery_stream_name="bm"}`) {
				return strings.Fields(l)[1]
			}
		}
		return ""
	}
	deadline := time.Now().Add(5 * time.Second)
	for metric() != "8" {
		if time.Now().After(deadline) {
			t.Fatalf("buffer bytes %q, want 8", metric())
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.flush(t, "bm")
	if m := metric(); m != "0" {
		t.Fatalf("buffer bytes after flush %q", m)
	}
}
