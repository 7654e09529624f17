package app_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/fxamacker/cbor/v2"

	"github.com/localpipe/localpipe/internal/awsjson/cborgen"
)

const (
	streamARN  = "arn:aws:kinesis:us-east-1:000000000000:stream/s"
	channelARN = "arn:aws:kinesis:us-east-1:000000000000:channel/ch"
)

// channelRequest creates a channel from the on-demand stream m to a bucket.
var channelRequest = map[string]any{
	"ChannelName": "ch", "ServiceExecutionRoleARN": "arn:aws:iam::000000000000:role/r",
	"StreamConfigurationList": []any{map[string]any{"StreamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/m",
		"RecordConfiguration": map[string]any{"RecordFormatType": "JSON"}}},
	"S3DestinationConfiguration": map[string]any{"StorageConfiguration": map[string]any{
		"BucketARN": "arn:aws:s3:::bkt", "CompressionType": "ZSTD", "ExpectedBucketOwner": "000000000000"}},
}

// cborStep is one Kinesis call of the scenario both encodings run. Its body is built from
// the answers of the run so far, in neutral values: []byte for a blob and time.Time for a
// timestamp, which each encoding writes its own way.
type cborStep struct {
	op   string
	body func(prev map[string]any) map[string]any
}

func fixed(body map[string]any) func(map[string]any) map[string]any {
	return func(map[string]any) map[string]any { return body }
}

// cborScenario calls every operation of the Kinesis model (SubscribeToShard apart: an event
// stream, not one answer), successes and errors.
var cborScenario = []cborStep{
	{"CreateStream", fixed(map[string]any{"StreamName": "s", "ShardCount": 2})},
	{"CreateStream", fixed(map[string]any{"StreamName": "m", "ShardCount": 2})},
	{"DescribeStream", fixed(map[string]any{"StreamName": "s"})},
	{"DescribeStreamSummary", fixed(map[string]any{"StreamARN": streamARN})},
	{"ListStreams", fixed(map[string]any{})},
	{"ListShards", fixed(map[string]any{"StreamName": "s"})},
	{"ListShards", fixed(map[string]any{"StreamName": "s", "ShardFilter": map[string]any{"Type": "AT_TIMESTAMP", "Timestamp": time.UnixMilli(1_700_000_000_123)}})},
	{"PutRecord", fixed(map[string]any{"StreamName": "s", "PartitionKey": "k", "Data": []byte("hello\x00\xff"), "ExplicitHashKey": "1"})},
	{"PutRecords", fixed(map[string]any{"StreamName": "s", "Records": []any{
		map[string]any{"PartitionKey": "a", "Data": []byte{1, 2, 3}, "ExplicitHashKey": "2"},
		map[string]any{"PartitionKey": "b", "Data": []byte{}, "ExplicitHashKey": "3"},
	}})},
	{"GetShardIterator", fixed(map[string]any{"StreamName": "s", "ShardId": "shardId-000000000000", "ShardIteratorType": "TRIM_HORIZON"})},
	{"GetRecords", func(prev map[string]any) map[string]any {
		return map[string]any{"ShardIterator": prev["ShardIterator"], "Limit": 10}
	}},
	{"GetShardIterator", fixed(map[string]any{"StreamName": "s", "ShardId": "shardId-000000000000", "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": time.UnixMilli(1_000_123)})},
	{"GetRecords", func(prev map[string]any) map[string]any {
		return map[string]any{"ShardIterator": prev["ShardIterator"]}
	}},
	{"GetRecords", fixed(map[string]any{"ShardIterator": "not an iterator"})},
	{"AddTagsToStream", fixed(map[string]any{"StreamName": "s", "Tags": map[string]any{"team": "data", "env": "dev"}})},
	{"ListTagsForStream", fixed(map[string]any{"StreamName": "s"})},
	{"RemoveTagsFromStream", fixed(map[string]any{"StreamName": "s", "TagKeys": []any{"env"}})},
	{"TagResource", fixed(map[string]any{"ResourceARN": streamARN, "Tags": map[string]any{"x": "y"}})},
	{"ListTagsForResource", fixed(map[string]any{"ResourceARN": streamARN})},
	{"UntagResource", fixed(map[string]any{"ResourceARN": streamARN, "TagKeys": []any{"x"}})},
	{"IncreaseStreamRetentionPeriod", fixed(map[string]any{"StreamName": "s", "RetentionPeriodHours": 48})},
	{"DecreaseStreamRetentionPeriod", fixed(map[string]any{"StreamName": "s", "RetentionPeriodHours": 24})},
	{"EnableEnhancedMonitoring", fixed(map[string]any{"StreamName": "s", "ShardLevelMetrics": []any{"IncomingBytes"}})},
	{"DisableEnhancedMonitoring", fixed(map[string]any{"StreamName": "s", "ShardLevelMetrics": []any{"ALL"}})},
	{"StartStreamEncryption", fixed(map[string]any{"StreamName": "s", "EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"})},
	{"StopStreamEncryption", fixed(map[string]any{"StreamName": "s", "EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"})},
	{"PutResourcePolicy", fixed(map[string]any{"ResourceARN": streamARN, "Policy": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kinesis:GetRecords","Resource":"` + streamARN + `"}]}`})},
	{"GetResourcePolicy", fixed(map[string]any{"ResourceARN": streamARN})},
	{"DeleteResourcePolicy", fixed(map[string]any{"ResourceARN": streamARN})},
	{"RegisterStreamConsumer", fixed(map[string]any{"StreamARN": streamARN, "ConsumerName": "c"})},
	{"DescribeStreamConsumer", fixed(map[string]any{"StreamARN": streamARN, "ConsumerName": "c"})},
	{"ListStreamConsumers", fixed(map[string]any{"StreamARN": streamARN, "StreamCreationTimestamp": time.UnixMilli(1_000_000)})},
	{"ListStreamConsumers", fixed(map[string]any{"StreamARN": streamARN})},
	{"DeregisterStreamConsumer", fixed(map[string]any{"StreamARN": streamARN, "ConsumerName": "c"})},
	{"DescribeLimits", fixed(map[string]any{})},
	{"DescribeAccountSettings", fixed(map[string]any{})},
	{"UpdateAccountSettings", fixed(map[string]any{"MinimumThroughputBillingCommitment": map[string]any{"Status": "DISABLED"}})},
	{"UpdateMaxRecordSize", fixed(map[string]any{"StreamARN": streamARN, "MaxRecordSizeInKiB": 2048})},
	{"UpdateStreamWarmThroughput", fixed(map[string]any{"StreamName": "s", "WarmThroughputMiBps": 10})},
	{"UpdateStreamRecordDistributionStrategy", fixed(map[string]any{"StreamARN": streamARN, "RecordDistributionStrategy": map[string]any{}})},
	{"SplitShard", fixed(map[string]any{"StreamName": "s", "ShardToSplit": "shardId-000000000000", "NewStartingHashKey": "85070591730234615865843651857942052864"})},
	{"MergeShards", fixed(map[string]any{"StreamName": "m", "ShardToMerge": "shardId-000000000000", "AdjacentShardToMerge": "shardId-000000000001"})},
	{"UpdateShardCount", fixed(map[string]any{"StreamName": "m", "TargetShardCount": 2, "ScalingType": "UNIFORM_SCALING"})},
	{"UpdateStreamMode", fixed(map[string]any{"StreamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/m", "StreamModeDetails": map[string]any{"StreamMode": "ON_DEMAND"}})},
	{"ListShards", fixed(map[string]any{"StreamName": "s", "ShardFilter": map[string]any{"Type": "FROM_TRIM_HORIZON"}})},
	{"GetShardIterator", fixed(map[string]any{"StreamName": "s", "ShardId": "shardId-000000000000", "ShardIteratorType": "LATEST"})},
	{"GetRecords", func(prev map[string]any) map[string]any {
		return map[string]any{"ShardIterator": prev["ShardIterator"]}
	}},
	{"CreateChannel", fixed(channelRequest)},
	{"CreateChannel", fixed(channelRequest)},
	{"CreateChannel", fixed(map[string]any{"ChannelName": "ch"})},
	{"DescribeChannel", fixed(map[string]any{"ChannelARN": channelARN})},
	{"ListChannels", fixed(map[string]any{"MaxResults": 1, "StreamFilter": []any{map[string]any{"StreamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/m"}}})},
	{"ListChannels", fixed(map[string]any{"StreamFilter": []any{map[string]any{"StreamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/m", "StreamCreationTimestamp": time.UnixMilli(1_000_123)}}})},
	{"UpdateChannel", fixed(map[string]any{"ChannelARN": channelARN, "S3DestinationConfiguration": map[string]any{"DataFreshnessInSeconds": 600}})},
	{"TagResource", fixed(map[string]any{"ResourceARN": channelARN, "Tags": map[string]any{"team": "data"}})},
	{"ListTagsForResource", fixed(map[string]any{"ResourceARN": channelARN})},
	{"DeleteStream", fixed(map[string]any{"StreamName": "m"})},
	{"DeleteChannel", fixed(map[string]any{"ChannelARN": channelARN})},
	{"DescribeChannel", fixed(map[string]any{"ChannelARN": channelARN})},
	{"DescribeStream", fixed(map[string]any{"StreamName": "nope"})},
	{"PutRecord", fixed(map[string]any{"StreamName": "s", "Data": []byte("x")})},
	{"PutRecord", fixed(map[string]any{"StreamName": "s", "PartitionKey": "k", "Data": "not a blob"})},
	{"DeleteStream", fixed(map[string]any{"StreamName": "s"})},
	{"DescribeStreamSummary", fixed(map[string]any{"StreamName": "s"})},
}

// volatile members differ between two servers given the same calls (the clock is in them);
// both answers must still carry them with the same type.
var volatile = map[string]bool{
	"StreamCreationTimestamp": true, "ConsumerCreationTimestamp": true, "ApproximateArrivalTimestamp": true,
	"ConsumerARN": true, "ShardIterator": true, "NextShardIterator": true,
	"ChannelId": true, "ChannelCreationTimestamp": true,
	"SequenceNumber": true, "StartingSequenceNumber": true, "EndingSequenceNumber": true,
}

type answer struct {
	status int
	body   any
}

// TestKinesisCBOREveryOperation runs the same calls, one server answering them in JSON 1.1 and
// another in CBOR as the Java SDKs send them, and compares the decoded answers field by field:
// blobs as bytes, timestamps as milliseconds, errors by __type and message.
func TestKinesisCBOREveryOperation(t *testing.T) {
	covered := map[string]bool{"SubscribeToShard": true}
	for _, st := range cborScenario {
		covered[st.op] = true
	}
	dir, _, err := cborgen.ModuleDir("../..", "github.com/aws/aws-sdk-go-v2/service/kinesis")
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "api_op_*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("SDK operations in %s: %v", dir, err)
	}
	for _, f := range files {
		if op := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "api_op_"), ".go"); !covered[op] {
			t.Errorf("the scenario does not call %s", op)
		}
	}

	run := func(cborEnc bool) []answer {
		s := startServer(t, "", map[string]string{"localpipe.yaml": ""})
		var out []answer
		prev := map[string]any{}
		for _, st := range cborScenario {
			body := st.body(prev)
			ctype, req := "application/x-amz-json-1.1", encodeJSON(t, body)
			if cborEnc {
				ctype, req = "application/x-amz-cbor-1.1", encodeCBOR(t, body)
			}
			resp := s.do(t, "POST", "http://"+s.a.Addr()+"/", string(req),
				"X-Amz-Target", "Kinesis_20131202."+st.op, "Content-Type", ctype,
				"Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=x")
			if got := resp.header.Get("Content-Type"); got != ctype {
				t.Fatalf("%s: content type %q, want %q", st.op, got, ctype)
			}
			a := answer{status: resp.status}
			switch {
			case resp.body == "":
			case cborEnc:
				a.body = decodeCBOR(t, st.op, []byte(resp.body))
			default:
				d := json.NewDecoder(strings.NewReader(resp.body))
				d.UseNumber()
				if err := d.Decode(&a.body); err != nil {
					t.Fatalf("%s: answer %q: %v", st.op, resp.body, err)
				}
			}
			if m, ok := a.body.(map[string]any); ok {
				for k, v := range m {
					prev[k] = v
				}
			}
			out = append(out, a)
		}
		return out
	}
	js, cb := run(false), run(true)
	for i, st := range cborScenario {
		name := fmt.Sprintf("%d %s", i, st.op)
		if js[i].status != cb[i].status {
			t.Errorf("%s: status %d in JSON, %d in CBOR: %v / %v", name, js[i].status, cb[i].status, js[i].body, cb[i].body)
			continue
		}
		compareAnswer(t, name, js[i].body, cb[i].body)
		if testing.Verbose() {
			t.Logf("%s: %d %v", name, js[i].status, cb[i].body)
		}
	}
}

// convertLeaves rebuilds a request body's maps and lists with each other value passed
// through leaf, which is how the two encodings below differ.
func convertLeaves(v any, leaf func(any) any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = convertLeaves(e, leaf)
		}
		return m
	case []any:
		a := make([]any, len(v))
		for i, e := range v {
			a[i] = convertLeaves(e, leaf)
		}
		return a
	}
	return leaf(v)
}

func encodeJSON(t *testing.T, body map[string]any) []byte {
	b, err := json.Marshal(convertLeaves(body, func(v any) any {
		switch v := v.(type) {
		case []byte:
			return base64.StdEncoding.EncodeToString(v)
		case time.Time:
			return json.Number(strconv.FormatFloat(float64(v.UnixMilli())/1000, 'f', 3, 64))
		}
		return v
	}))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// encodeCBOR writes a request as the Java SDK does: blobs as byte strings and timestamps as
// tag 1 of epoch milliseconds.
func encodeCBOR(t *testing.T, body map[string]any) []byte {
	b, err := cbor.Marshal(convertLeaves(body, func(v any) any {
		if ts, ok := v.(time.Time); ok {
			return cbor.Tag{Number: 1, Content: ts.UnixMilli()}
		}
		return v
	}))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// cborMillis stands for a tag 1 in an answer: its content, epoch milliseconds.
type cborMillis float64

func decodeCBOR(t *testing.T, op string, b []byte) any {
	dm, err := cbor.DecOptions{DefaultMapType: reflect.TypeOf(map[string]any{}), IntDec: cbor.IntDecConvertSigned}.DecMode()
	if err != nil {
		t.Fatal(err)
	}
	// Decoded as raw tags, so that tag 1 is read as milliseconds, not as RFC 8949's seconds.
	var raw cbor.RawMessage
	if err := dm.Unmarshal(b, &raw); err != nil {
		t.Fatalf("%s: answer % x is not CBOR: %v", op, b, err)
	}
	var conv func(r cbor.RawMessage) any
	conv = func(r cbor.RawMessage) any {
		switch r[0] >> 5 {
		case 4:
			var a []cbor.RawMessage
			if err := dm.Unmarshal(r, &a); err != nil {
				t.Fatal(err)
			}
			out := make([]any, len(a))
			for i, e := range a {
				out[i] = conv(e)
			}
			return out
		case 5:
			var m map[string]cbor.RawMessage
			if err := dm.Unmarshal(r, &m); err != nil {
				t.Fatal(err)
			}
			out := map[string]any{}
			for k, e := range m {
				out[k] = conv(e)
			}
			return out
		case 6:
			var tag cbor.RawTag
			if err := dm.Unmarshal(r, &tag); err != nil || tag.Number != 1 {
				t.Fatalf("%s: tag % x: %v", op, r, err)
			}
			var ms float64
			if err := dm.Unmarshal(tag.Content, &ms); err != nil {
				t.Fatalf("%s: tag 1 content % x: %v", op, tag.Content, err)
			}
			return cborMillis(ms)
		}
		var v any
		if err := dm.Unmarshal(r, &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	return conv(raw)
}

// compareAnswer compares a JSON answer with a CBOR one member by member.
func compareAnswer(t *testing.T, path string, j, c any) {
	t.Helper()
	key := path[strings.LastIndexAny(path, ". ")+1:]
	switch c := c.(type) {
	case map[string]any:
		jm, ok := j.(map[string]any)
		if !ok {
			t.Errorf("%s: object in CBOR, %T in JSON", path, j)
			return
		}
		keys := func(m map[string]any) []string {
			var ks []string
			for k := range m {
				ks = append(ks, k)
			}
			sort.Strings(ks)
			return ks
		}
		if !reflect.DeepEqual(keys(jm), keys(c)) {
			t.Errorf("%s: members %v in JSON, %v in CBOR", path, keys(jm), keys(c))
			return
		}
		for k := range c {
			compareAnswer(t, path+"."+k, jm[k], c[k])
		}
	case []any:
		ja, ok := j.([]any)
		if !ok || len(ja) != len(c) {
			t.Errorf("%s: %d elements in CBOR, %v in JSON", path, len(c), j)
			return
		}
		for i := range c {
			compareAnswer(t, fmt.Sprintf("%s.%d", path, i), ja[i], c[i])
		}
	case []byte:
		js, _ := j.(string)
		jb, err := base64.StdEncoding.DecodeString(js)
		if err != nil || !bytes.Equal(jb, c) {
			t.Errorf("%s: blob % x in CBOR, %v in JSON", path, c, j)
		}
	case cborMillis:
		jn, ok := j.(json.Number)
		f, err := jn.Float64()
		if !ok || err != nil {
			t.Errorf("%s: timestamp in CBOR, %v in JSON", path, j)
		} else if !volatile[key] && math.Round(f*1000) != float64(c) {
			t.Errorf("%s: %v ms in CBOR, %v s in JSON", path, float64(c), j)
		}
	case int64, uint64, float64:
		jn, ok := j.(json.Number)
		if !ok || jn.String() != fmt.Sprint(c) {
			t.Errorf("%s: %v in CBOR, %v in JSON", path, c, j)
		}
	default:
		if volatile[key] {
			if reflect.TypeOf(j) != reflect.TypeOf(c) {
				t.Errorf("%s: %T in CBOR, %T in JSON", path, c, j)
			}
			return
		}
		if !reflect.DeepEqual(j, c) {
			t.Errorf("%s: %#v in CBOR, %#v in JSON", path, c, j)
		}
	}
}

// TestKinesisCBORSubscribeToShard subscribes as the Java SDK v2 does with CBOR on: the
// request in CBOR, the event payloads and errors in CBOR (blobs as byte strings, timestamps
// as tag 1 of milliseconds), and the events alike, member by member, to a JSON subscriber's.
func TestKinesisCBORSubscribeToShard(t *testing.T) {
	s := startServer(t, "", map[string]string{"localpipe.yaml": ""})
	auth := "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=x"
	call := func(op string, body map[string]any) map[string]any {
		t.Helper()
		resp := s.do(t, "POST", "http://"+s.a.Addr()+"/", string(encodeJSON(t, body)),
			"X-Amz-Target", "Kinesis_20131202."+op, "Content-Type", "application/x-amz-json-1.1", "Authorization", auth)
		if resp.status != 200 {
			t.Fatalf("%s: %d %s", op, resp.status, resp.body)
		}
		var m map[string]any
		if resp.body != "" {
			d := json.NewDecoder(strings.NewReader(resp.body))
			d.UseNumber()
			if err := d.Decode(&m); err != nil {
				t.Fatal(err)
			}
		}
		return m
	}
	call("CreateStream", map[string]any{"StreamName": "s", "ShardCount": 1})
	call("PutRecord", map[string]any{"StreamName": "s", "PartitionKey": "k", "Data": []byte("one\x00\xff")})
	call("PutRecord", map[string]any{"StreamName": "s", "PartitionKey": "k", "Data": []byte("two")})
	consumer := func(name string) string {
		c := call("RegisterStreamConsumer", map[string]any{"StreamARN": streamARN, "ConsumerName": name})
		return c["Consumer"].(map[string]any)["ConsumerARN"].(string)
	}
	jsonARN, cborARN := consumer("j"), consumer("c")

	// subscribe returns the answer's status and content type, and its first two events'
	// types and payloads (initial-response, then the records) or its error body.
	subscribe := func(ctype string, body []byte) (int, string, []eventstream.Message) {
		t.Helper()
		req, err := http.NewRequest("POST", "http://"+s.a.Addr()+"/", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Amz-Target", "Kinesis_20131202.SubscribeToShard")
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("Authorization", auth)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, resp.Header.Get("Content-Type"), []eventstream.Message{{Payload: b}}
		}
		var msgs []eventstream.Message
		dec := eventstream.NewDecoder()
		for len(msgs) < 2 {
			m, err := dec.Decode(resp.Body, nil)
			if err != nil {
				t.Fatalf("event %d: %v", len(msgs), err)
			}
			msgs = append(msgs, m)
		}
		return resp.StatusCode, resp.Header.Get("Content-Type"), msgs
	}
	start := map[string]any{"Type": "AT_TIMESTAMP", "Timestamp": time.UnixMilli(1_000_000)}
	_, _, jm := subscribe("application/x-amz-json-1.1", encodeJSON(t, map[string]any{"ConsumerARN": jsonARN, "ShardId": "shardId-000000000000", "StartingPosition": start}))
	status, ctype, cm := subscribe("application/x-amz-cbor-1.1", encodeCBOR(t, map[string]any{"ConsumerARN": cborARN, "ShardId": "shardId-000000000000", "StartingPosition": start}))
	if status != 200 || ctype != "application/vnd.amazon.eventstream" {
		t.Fatalf("CBOR subscription: %d %s % x", status, ctype, cm[0].Payload)
	}
	for i, want := range []string{"initial-response", "SubscribeToShardEvent"} {
		if got := cm[i].Headers.Get(":event-type"); got == nil || got.String() != want {
			t.Fatalf("CBOR event %d is %v, want %s", i, got, want)
		}
		if got := cm[i].Headers.Get(":content-type"); got == nil || got.String() != "application/x-amz-cbor-1.1" {
			t.Fatalf("CBOR event %d content type %v", i, got)
		}
	}
	var jevent any
	d := json.NewDecoder(bytes.NewReader(jm[1].Payload))
	d.UseNumber()
	if err := d.Decode(&jevent); err != nil {
		t.Fatal(err)
	}
	cevent := decodeCBOR(t, "SubscribeToShardEvent", cm[1].Payload)
	compareAnswer(t, "SubscribeToShardEvent", jevent, cevent)
	recs, _ := cevent.(map[string]any)["Records"].([]any)
	if len(recs) != 2 || !bytes.Equal(recs[0].(map[string]any)["Data"].([]byte), []byte("one\x00\xff")) {
		t.Fatalf("CBOR event records: %v", cevent)
	}
	if _, ok := recs[0].(map[string]any)["ApproximateArrivalTimestamp"].(cborMillis); !ok {
		t.Fatalf("arrival time is not tag 1: %#v", recs[0])
	}

	// An error before the stream starts is a CBOR answer with the JSON one's __type and message.
	bad := map[string]any{"ConsumerARN": streamARN + "/consumer/nope:1", "ShardId": "shardId-000000000000", "StartingPosition": map[string]any{"Type": "LATEST"}}
	jstatus, _, jerr := subscribe("application/x-amz-json-1.1", encodeJSON(t, bad))
	cstatus, ctype, cerr := subscribe("application/x-amz-cbor-1.1", encodeCBOR(t, bad))
	if jstatus != 400 || cstatus != 400 || ctype != "application/x-amz-cbor-1.1" {
		t.Fatalf("unknown consumer: JSON %d, CBOR %d %s", jstatus, cstatus, ctype)
	}
	var jbody any
	if err := json.Unmarshal(jerr[0].Payload, &jbody); err != nil {
		t.Fatal(err)
	}
	compareAnswer(t, "error", jbody, decodeCBOR(t, "error", cerr[0].Payload))
	if cstatus, _, cerr = subscribe("application/x-amz-cbor-1.1", []byte("\xa1\x61A")); cstatus != 400 ||
		decodeCBOR(t, "malformed", cerr[0].Payload).(map[string]any)["__type"] != "SerializationException" {
		t.Fatalf("malformed CBOR: %d % x", cstatus, cerr[0].Payload)
	}
}

// TestKinesisCBORMatchesSDK reads the same records and consumer through the AWS SDK for Go v2
// (JSON 1.1) and in CBOR: the CBOR answer's byte strings are the SDK's blobs and its tag 1
// timestamps the SDK's times to the millisecond.
func TestKinesisCBORMatchesSDK(t *testing.T) {
	s := startServer(t, "", map[string]string{"localpipe.yaml": ""})
	ctx := context.Background()
	if _, err := s.kin.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("s"), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"a\x00\xff", "", "third"} {
		if _, err := s.kin.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("s"), PartitionKey: aws.String("k"), Data: []byte(d)}); err != nil {
			t.Fatal(err)
		}
	}
	reg, err := s.kin.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: aws.String(streamARN), ConsumerName: aws.String("c")})
	if err != nil {
		t.Fatal(err)
	}
	cborCall := func(op string, body map[string]any) map[string]any {
		t.Helper()
		resp := s.do(t, "POST", "http://"+s.a.Addr()+"/", string(encodeCBOR(t, body)),
			"X-Amz-Target", "Kinesis_20131202."+op, "Content-Type", "application/x-amz-cbor-1.1",
			"Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=x")
		if resp.status != 200 {
			t.Fatalf("%s: %d % x", op, resp.status, resp.body)
		}
		return decodeCBOR(t, op, []byte(resp.body)).(map[string]any)
	}
	sameTime := func(what string, c any, want *time.Time) {
		t.Helper()
		if ms, ok := c.(cborMillis); !ok || want == nil || float64(ms) != float64(want.UnixMilli()) {
			t.Errorf("%s: %#v in CBOR, %v from the SDK", what, c, want)
		}
	}

	it, err := s.kin.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("s"), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: ktypes.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.kin.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil {
		t.Fatal(err)
	}
	// The iterator is read again, in CBOR: iterators are not used up.
	c := cborCall("GetRecords", map[string]any{"ShardIterator": *it.ShardIterator})
	recs, _ := c["Records"].([]any)
	if len(recs) != len(got.Records) || len(recs) != 3 {
		t.Fatalf("%d records in CBOR, %d from the SDK", len(recs), len(got.Records))
	}
	for i, r := range got.Records {
		cr := recs[i].(map[string]any)
		if b, ok := cr["Data"].([]byte); !ok || !bytes.Equal(b, r.Data) {
			t.Errorf("record %d: data %#v in CBOR, %q from the SDK", i, cr["Data"], r.Data)
		}
		if cr["SequenceNumber"] != *r.SequenceNumber || cr["PartitionKey"] != *r.PartitionKey {
			t.Errorf("record %d: %v in CBOR, %+v from the SDK", i, cr, r)
		}
		sameTime(fmt.Sprint("record ", i, " arrival"), cr["ApproximateArrivalTimestamp"], r.ApproximateArrivalTimestamp)
	}

	sum, err := s.kin.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("s")})
	if err != nil {
		t.Fatal(err)
	}
	c = cborCall("DescribeStreamSummary", map[string]any{"StreamName": "s"})
	sameTime("stream creation", c["StreamDescriptionSummary"].(map[string]any)["StreamCreationTimestamp"], sum.StreamDescriptionSummary.StreamCreationTimestamp)

	// A timestamp sent in CBOR means what the same time sent by the SDK means.
	at := *reg.Consumer.ConsumerCreationTimestamp
	c = cborCall("DescribeStreamConsumer", map[string]any{"ConsumerARN": *reg.Consumer.ConsumerARN})
	sameTime("consumer creation", c["ConsumerDescription"].(map[string]any)["ConsumerCreationTimestamp"], &at)
	list, err := s.kin.ListStreamConsumers(ctx, &kinesis.ListStreamConsumersInput{StreamARN: aws.String(streamARN), StreamCreationTimestamp: sum.StreamDescriptionSummary.StreamCreationTimestamp})
	if err != nil || len(list.Consumers) != 1 {
		t.Fatalf("SDK ListStreamConsumers: %+v %v", list, err)
	}
	c = cborCall("ListStreamConsumers", map[string]any{"StreamARN": streamARN, "StreamCreationTimestamp": *sum.StreamDescriptionSummary.StreamCreationTimestamp})
	if cs, _ := c["Consumers"].([]any); len(cs) != 1 {
		t.Fatalf("CBOR ListStreamConsumers: %v", c)
	}
}

// TestFirehoseRefusesCBOR: Firehose's model and SDKs speak JSON only, so a CBOR request gets a
// CBOR SerializationException that tells the user how to switch CBOR off.
func TestFirehoseRefusesCBOR(t *testing.T) {
	s := startServer(t, "", map[string]string{"localpipe.yaml": ""})
	resp := s.do(t, "POST", "http://"+s.a.Addr()+"/", "\xa0",
		"X-Amz-Target", "Firehose_20150804.ListDeliveryStreams", "Content-Type", "application/x-amz-cbor-1.1",
		"Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/firehose/aws4_request, SignedHeaders=host, Signature=x")
	m, _ := decodeCBOR(t, "ListDeliveryStreams", []byte(resp.body)).(map[string]any)
	if msg, _ := m["message"].(string); resp.status != 400 || m["__type"] != "SerializationException" || !strings.Contains(msg, "cborEnabled=false") {
		t.Fatalf("%d %v", resp.status, m)
	}
}
