package kinesisapi

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/big"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/localpipe/localpipe/internal/awsjson"
	"github.com/localpipe/localpipe/stream"
)

// invoke calls the handler in-process, as API Gateway does, and decodes the answer.
func (e *env) invoke(t *testing.T, action, body string) (int, map[string]any) {
	t.Helper()
	status, ct, out := e.h.Invoke(ctx, action, []byte(body), "")
	if ct != "application/x-amz-json-1.1" {
		t.Fatalf("content type %q", ct)
	}
	m := map[string]any{}
	if len(out) > 0 {
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatalf("%s %s: response is not JSON: %q", action, body, out)
		}
	}
	return status, m
}

func (e *env) mustInvoke(t *testing.T, action, body string) map[string]any {
	t.Helper()
	status, m := e.invoke(t, action, body)
	if status != 200 {
		t.Fatalf("%s %s: %d %v", action, body, status, m)
	}
	return m
}

func errText(m map[string]any) (string, string) {
	typ, _ := m["__type"].(string)
	msg, _ := m["message"].(string)
	if msg == "" {
		msg, _ = m["Message"].(string)
	}
	return typ, msg
}

// TestValidationMessages checks full ValidationException texts, in AWS's member order, with
// AWS's value rendering and the ten-failure cap.
func TestValidationMessages(t *testing.T) {
	e := newEnv(t, nil)
	e.create(t, "s", 1)
	emoji := strings.Repeat("😀", 129) // 258 UTF-16 units: too long for Java, 129 runes
	var elevenRecords []string
	for i := 0; i < 11; i++ {
		elevenRecords = append(elevenRecords, `{"Data":""}`)
	}
	var ten []string
	for i := 1; i <= 10; i++ {
		ten = append(ten, fmt.Sprintf("Value null at 'records.%d.member.partitionKey' failed to satisfy constraint: Member must not be null", i))
	}
	for _, tc := range []struct{ action, body, want string }{
		{"CreateStream", `{}`,
			"1 validation error detected: Value null at 'streamName' failed to satisfy constraint: Member must not be null"},
		{"CreateStream", `{"StreamName":"","ShardCount":0}`,
			"3 validation errors detected: Value '0' at 'shardCount' failed to satisfy constraint: Member must have value greater than or equal to 1; " +
				"Value '' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; " +
				"Value '' at 'streamName' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"CreateStream", `{"StreamName":"x","StreamModeDetails":{"StreamMode":"X"}}`,
			"1 validation error detected: Value 'X' at 'streamModeDetails.streamMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, ON_DEMAND]"},
		{"CreateStream", `{"StreamName":"x","StreamModeDetails":{}}`,
			"1 validation error detected: Value null at 'streamModeDetails.streamMode' failed to satisfy constraint: Member must not be null"},
		{"CreateStream", `{"StreamName":"x","MaxRecordSizeInKiB":1000}`,
			"1 validation error detected: Value '1000' at 'maxRecordSizeInKiB' failed to satisfy constraint: Member must have value greater than or equal to 1024"},
		{"CreateStream", `{"StreamName":"x","Tags":{}}`,
			"1 validation error detected: Value '{}' at 'tags' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"AddTagsToStream", `{"StreamName":"s","Tags":{"":"v","b":"2"}}`,
			"1 validation error detected: Value '{=v, b=2}' at 'tags' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]"},
		{"AddTagsToStream", `{"StreamName":"s"}`,
			"1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null"},
		{"RemoveTagsFromStream", `{"StreamName":"s","TagKeys":[]}`,
			"1 validation error detected: Value '[]' at 'tagKeys' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"RemoveTagsFromStream", `{"StreamName":"s","TagKeys":["a",""]}`,
			"1 validation error detected: Value '[a, ]' at 'tagKeys' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]"},
		{"PutRecords", `{"StreamName":"s","Records":[]}`,
			"1 validation error detected: Value '[]' at 'records' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"PutRecords", `{"StreamName":"s","Records":[{}]}`,
			"2 validation errors detected: Value null at 'records.1.member.partitionKey' failed to satisfy constraint: Member must not be null; " +
				"Value null at 'records.1.member.data' failed to satisfy constraint: Member must not be null"},
		{"PutRecords", `{"StreamName":"s","Records":[` + strings.Join(elevenRecords, ",") + `]}`,
			"10 validation errors detected: " + strings.Join(ten, "; ")},
		{"PutRecords", `{"Records":[{"PartitionKey":"k","Data":"","ExplicitHashKey":"01"}],"StreamName":"a/b"}`,
			"2 validation errors detected: Value '01' at 'records.1.member.explicitHashKey' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38}); " +
				"Value 'a/b' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"},
		{"PutRecord", `{"StreamName":"s","PartitionKey":"` + emoji + `","Data":""}`,
			"1 validation error detected: Value '" + emoji + "' at 'partitionKey' failed to satisfy constraint: Member must have length less than or equal to 256"},
		{"PutRecord", `{"StreamName":"s","PartitionKey":"k","Data":"","SequenceNumberForOrdering":"x","ExplicitHashKey":"y"}`,
			"2 validation errors detected: Value 'x' at 'sequenceNumberForOrdering' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\\d{0,128}); " +
				"Value 'y' at 'explicitHashKey' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38})"},
		{"GetRecords", `{"Limit":0}`,
			"2 validation errors detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1; " +
				"Value null at 'shardIterator' failed to satisfy constraint: Member must not be null"},
		{"GetRecords", `{"ShardIterator":"` + strings.Repeat("A", 516) + `"}`,
			"1 validation error detected: Value '" + strings.Repeat("A", 516) + "' at 'shardIterator' failed to satisfy constraint: Member must have length less than or equal to 512"},
		{"GetShardIterator", `{"StreamName":"s"}`,
			"2 validation errors detected: Value null at 'shardId' failed to satisfy constraint: Member must not be null; " +
				"Value null at 'shardIteratorType' failed to satisfy constraint: Member must not be null"},
		{"ListStreams", `{"Limit":10001}`,
			"1 validation error detected: Value '10001' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 10000"},
		{"ListStreams", `{"ExclusiveStartStreamName":"` + strings.Repeat("n", 129) + `"}`,
			"1 validation error detected: Value '" + strings.Repeat("n", 129) + "' at 'exclusiveStartStreamName' failed to satisfy constraint: Member must have length less than or equal to 128"},
		{"ListShards", `{"StreamName":"s","ExclusiveStartShardId":"","MaxResults":0}`,
			"3 validation errors detected: Value '' at 'exclusiveStartShardId' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; " +
				"Value '' at 'exclusiveStartShardId' failed to satisfy constraint: Member must have length greater than or equal to 1; " +
				"Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"ListShards", `{"StreamName":"s","ShardFilter":{"Type":"NEWEST"}}`,
			"1 validation error detected: Value 'NEWEST' at 'shardFilter.type' failed to satisfy constraint: Member must satisfy enum value set: [AFTER_SHARD_ID, AT_TRIM_HORIZON, FROM_TRIM_HORIZON, AT_LATEST, AT_TIMESTAMP, FROM_TIMESTAMP]"},
		{"DescribeStream", `{"StreamName":"a b","Limit":0}`,
			"2 validation errors detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1; " +
				"Value 'a b' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"},
		{"DescribeStreamSummary", `{"StreamARN":"arn:aws:kinesis:us-east-1:123:stream/s"}`,
			"1 validation error detected: Value 'arn:aws:kinesis:us-east-1:123:stream/s' at 'streamARN' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+"},
		{"IncreaseStreamRetentionPeriod", `{"StreamName":"s"}`,
			"1 validation error detected: Value null at 'retentionPeriodHours' failed to satisfy constraint: Member must not be null"},
		{"ListTagsForStream", `{"StreamName":"s","Limit":51,"ExclusiveStartTagKey":""}`,
			"2 validation errors detected: Value '51' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 50; " +
				"Value '' at 'exclusiveStartTagKey' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"UpdateMaxRecordSize", `{"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s"}`,
			"1 validation error detected: Value null at 'maxRecordSizeInKiB' failed to satisfy constraint: Member must not be null"},
	} {
		status, m := e.invoke(t, tc.action, tc.body)
		typ, msg := errText(m)
		if status != 400 || typ != "ValidationException" || msg != tc.want {
			t.Errorf("%s %.80s:\n got %d %s %q\nwant ValidationException %q", tc.action, tc.body, status, typ, msg, tc.want)
		}
	}
	// A fractional integer is truncated, as AWS truncates it.
	if m := e.mustInvoke(t, "DescribeStream", `{"StreamName":"s","Limit":1.9}`); len(m["StreamDescription"].(map[string]any)["Shards"].([]any)) != 1 {
		t.Fatalf("fractional limit: %v", m)
	}
}

// TestHashRangesAndRouting checks the even split of the hash-key space and MD5 routing
// against the exact values in aws-semantics.md B.5.
func TestHashRangesAndRouting(t *testing.T) {
	e := newEnv(t, nil)
	want := map[int][]string{
		1: {"0", "340282366920938463463374607431768211455"},
		2: {"0", "170141183460469231731687303715884105727", "170141183460469231731687303715884105728", "340282366920938463463374607431768211455"},
		3: {"0", "113427455640312821154458202477256070484", "113427455640312821154458202477256070485", "226854911280625642308916404954512140969",
			"226854911280625642308916404954512140970", "340282366920938463463374607431768211455"},
		4: {"0", "85070591730234615865843651857942052863", "85070591730234615865843651857942052864", "170141183460469231731687303715884105727",
			"170141183460469231731687303715884105728", "255211775190703847597530955573826158591", "255211775190703847597530955573826158592", "340282366920938463463374607431768211455"},
		5: {"0", "68056473384187692692674921486353642290", "68056473384187692692674921486353642291", "136112946768375385385349842972707284581",
			"136112946768375385385349842972707284582", "204169420152563078078024764459060926872", "204169420152563078078024764459060926873", "272225893536750770770699685945414569163",
			"272225893536750770770699685945414569164", "340282366920938463463374607431768211455"},
	}
	// partition key → shard index for 1, 2, 4 and 5 shards.
	routes := map[string]map[int]int{
		"some key":     {1: 0, 2: 1, 4: 3, 5: 4},
		"test":         {1: 0, 2: 0, 4: 0, 5: 0},
		"partitionKey": {1: 0, 2: 1, 4: 2},
		"1":            {1: 0, 2: 1, 4: 3},
	}
	for n := 1; n <= 5; n++ {
		name := fmt.Sprint("split", n)
		e.mustInvoke(t, "CreateStream", fmt.Sprintf(`{"StreamName":%q,"ShardCount":%d}`, name, n))
		d := e.mustInvoke(t, "DescribeStream", fmt.Sprintf(`{"StreamName":%q}`, name))
		var got []string
		var prevStart string
		for i, sh := range d["StreamDescription"].(map[string]any)["Shards"].([]any) {
			sh := sh.(map[string]any)
			r := sh["HashKeyRange"].(map[string]any)
			got = append(got, r["StartingHashKey"].(string), r["EndingHashKey"].(string))
			if sh["ShardId"] != fmt.Sprintf("shardId-%012d", i) {
				t.Fatalf("shard id %v", sh["ShardId"])
			}
			// Starting sequence numbers of sibling shards differ only in the shard index
			// fields: by 2^144+16 per shard, as kinesalite measured on AWS.
			start := sh["SequenceNumberRange"].(map[string]any)["StartingSequenceNumber"].(string)
			if i > 0 {
				if d := seqDiff(start, prevStart); d != "22300745198530623141535718272648361505980432" {
					t.Fatalf("starting sequence numbers differ by %s", d)
				}
			}
			prevStart = start
		}
		if strings.Join(got, " ") != strings.Join(want[n], " ") {
			t.Fatalf("%d shards:\n got %v\nwant %v", n, got, want[n])
		}
		for key, byN := range routes {
			wantIdx, ok := byN[n]
			if !ok {
				continue
			}
			p := e.mustInvoke(t, "PutRecord", fmt.Sprintf(`{"StreamName":%q,"PartitionKey":%q,"Data":"eA=="}`, name, key))
			if p["ShardId"] != fmt.Sprintf("shardId-%012d", wantIdx) {
				t.Errorf("%q with %d shards went to %v, want %d", key, n, p["ShardId"], wantIdx)
			}
		}
	}
}

func seqDiff(a, b string) string {
	pa, _ := new(big.Int).SetString(a, 10)
	pb, _ := new(big.Int).SetString(b, 10)
	return pa.Sub(pa, pb).String()
}

func TestIteratorExpiryMessage(t *testing.T) {
	e := newEnv(t, nil)
	e.create(t, "exp", 1)
	now := time.Date(2015, 1, 22, 1, 22, 2, 0, time.UTC)
	h := New(e.eng, Options{Now: func() time.Time { return now }})
	_, _, out := h.Invoke(ctx, "GetShardIterator", []byte(`{"StreamName":"exp","ShardId":"0","ShardIteratorType":"LATEST"}`), "")
	var it struct{ ShardIterator string }
	json.Unmarshal(out, &it)
	now = now.Add(5 * time.Minute) // exactly five minutes: still valid
	if status, _, out := h.Invoke(ctx, "GetRecords", []byte(`{"ShardIterator":"`+it.ShardIterator+`"}`), ""); status != 200 {
		t.Fatalf("at 5 min: %d %s", status, out)
	}
	now = now.Add(time.Second + 1)
	status, _, out := h.Invoke(ctx, "GetRecords", []byte(`{"ShardIterator":"`+it.ShardIterator+`"}`), "")
	want := `{"__type":"ExpiredIteratorException","message":"Iterator expired. The iterator was created at time Thu Jan 22 01:22:02 UTC 2015 while right now it is Thu Jan 22 01:27:03 UTC 2015 which is further in the future than the tolerated delay of 300000 milliseconds."}`
	if status != 400 || string(out) != want {
		t.Fatalf("got %d %s", status, out)
	}
	// A tampered iterator is invalid, not expired.
	b := []byte(it.ShardIterator)
	b[12] ^= 2
	status, _, out = h.Invoke(ctx, "GetRecords", []byte(`{"ShardIterator":"`+string(b)+`"}`), "")
	if status != 400 || !strings.Contains(string(out), `"message":"Invalid ShardIterator."`) {
		t.Fatalf("tampered: %d %s", status, out)
	}
}

// TestSequenceNumberChecks covers GetShardIterator's sequence-number errors: garbage, another
// shard, another stream, and a number not yet issued.
func TestSequenceNumberChecks(t *testing.T) {
	e := newEnv(t, nil)
	e.create(t, "sq", 2)
	put := func(stream, key string) string {
		p := e.mustInvoke(t, "PutRecord", fmt.Sprintf(`{"StreamName":%q,"PartitionKey":%q,"Data":"eA=="}`, stream, key))
		return p["SequenceNumber"].(string)
	}
	s1 := put("sq", "some key") // shard 1
	s0 := put("sq", "test")     // shard 0
	gsi := func(shard, typ, seq string) (int, string, string) {
		status, m := e.invoke(t, "GetShardIterator", fmt.Sprintf(`{"StreamName":"sq","ShardId":%q,"ShardIteratorType":%q,"StartingSequenceNumber":%q}`, shard, typ, seq))
		typ2, msg := errText(m)
		return status, typ2, msg
	}
	if st, _, msg := gsi("shardId-000000000000", "AT_SEQUENCE_NUMBER", s0); st != 200 {
		t.Fatalf("own sequence number: %s", msg)
	}
	for _, tc := range []struct{ shard, typ, seq, want string }{
		{"shardId-000000000000", "AT_SEQUENCE_NUMBER", "123", "StartingSequenceNumber 123 used in GetShardIterator on shard shardId-000000000000 in stream sq under account 000000000000 is invalid."},
		{"shardId-000000000000", "AFTER_SEQUENCE_NUMBER", s1, "Invalid StartingSequenceNumber. It encodes shardId-000000000001, while it was used in a call to a shard with shardId-000000000000"},
		{"shardId-000000000000", "AT_SEQUENCE_NUMBER", seqFor(time.Unix(1000, 0), 0, 0, time.Unix(1000, 0)),
			"StartingSequenceNumber " + seqFor(time.Unix(1000, 0), 0, 0, time.Unix(1000, 0)) + " used in GetShardIterator on shard shardId-000000000000 in stream sq under account 000000000000 is invalid because it did not come from this stream."},
		{"shardId-000000000000", "LATEST", s0, "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified LATEST and also a StartingSequenceNumber."},
	} {
		st, typ, msg := gsi(tc.shard, tc.typ, tc.seq)
		if st != 400 || typ != "InvalidArgumentException" || msg != tc.want {
			t.Errorf("%s %s %s: %d %s %q", tc.shard, tc.typ, tc.seq, st, typ, msg)
		}
	}
	// A well-formed number this shard has not issued yet.
	info, _ := e.eng.Describe("sq")
	future := seqFor(info.Shards[0].Created, 0, 5, time.Now())
	if st, typ, _ := gsi("shardId-000000000000", "AT_SEQUENCE_NUMBER", future); st != 400 || typ != "InvalidArgumentException" {
		t.Fatalf("future sequence number: %d %s", st, typ)
	}
	// AFTER the last record is the tip: an empty read, then the next record.
	st, m := e.invoke(t, "GetShardIterator", `{"StreamName":"sq","ShardId":"1","ShardIteratorType":"AFTER_SEQUENCE_NUMBER","StartingSequenceNumber":"`+s1+`"}`)
	if st != 200 {
		t.Fatal(m)
	}
	r := e.mustInvoke(t, "GetRecords", `{"ShardIterator":"`+m["ShardIterator"].(string)+`"}`)
	if len(r["Records"].([]any)) != 0 || r["MillisBehindLatest"].(float64) != 0 {
		t.Fatalf("after last: %v", r)
	}
	// Shard ids in the other forms AWS accepts, and ones it does not.
	for id, want := range map[string]string{
		"abc":                  "Could not find shard abc in stream sq under account 000000000000.",
		"shardId-000000000009": "Shard shardId-000000000009 in stream sq under account 000000000000 does not exist",
		"x-9":                  "Shard shardId-000000000009 in stream sq under account 000000000000 does not exist",
	} {
		st, m := e.invoke(t, "GetShardIterator", `{"StreamName":"sq","ShardId":"`+id+`","ShardIteratorType":"LATEST"}`)
		if typ, msg := errText(m); st != 400 || typ != "ResourceNotFoundException" || msg != want {
			t.Errorf("%s: %d %s %q", id, st, typ, msg)
		}
	}
	st, m = e.invoke(t, "GetShardIterator", `{"StreamName":"gone","ShardId":"shardId-000000000000","ShardIteratorType":"LATEST"}`)
	if typ, msg := errText(m); st != 400 || typ != "ResourceNotFoundException" || msg != "Shard shardId-000000000000 in stream gone under account 000000000000 does not exist" {
		t.Errorf("missing stream: %d %s %q", st, typ, msg)
	}
}

func TestStreamARNForms(t *testing.T) {
	e := newEnv(t, nil)
	e.create(t, "arn", 1)
	const arn = "arn:aws:kinesis:us-east-1:000000000000:stream/arn"
	for _, tc := range []struct{ body, typ, msg string }{
		{`{"StreamARN":"` + arn + `"}`, "", ""},
		{`{"StreamARN":"` + arn + `","StreamName":"arn"}`, "", ""},
		{`{"StreamARN":"arn:aws-cn:kinesis:cn-north-1:000000000000:stream/arn"}`, "", ""},
		{`{"StreamARN":"arn:aws:kinesis:us-east-1:111111111111:stream/arn"}`, "ResourceNotFoundException", "Stream arn under account 111111111111 not found."},
		{`{"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/other"}`, "ResourceNotFoundException", "Stream other under account 000000000000 not found."},
		{`{"StreamARN":"` + arn + `","StreamName":"other"}`, "InvalidArgumentException", ""},
		{`{"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/a*b"}`, "InvalidArgumentException", ""},
	} {
		st, m := e.invoke(t, "DescribeStreamSummary", tc.body)
		typ, msg := errText(m)
		if tc.typ == "" && st != 200 || tc.typ != "" && (typ != tc.typ || !strings.Contains(msg, tc.msg)) {
			t.Errorf("%s: %d %s %q", tc.body, st, typ, msg)
		}
	}
	// GetRecords accepts the ARN next to the iterator, which must belong to that stream.
	it := e.mustInvoke(t, "GetShardIterator", `{"StreamARN":"`+arn+`","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}`)["ShardIterator"].(string)
	e.mustInvoke(t, "GetRecords", `{"StreamARN":"`+arn+`","ShardIterator":"`+it+`"}`)
	e.create(t, "other", 1)
	st, m := e.invoke(t, "GetRecords", `{"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/other","ShardIterator":"`+it+`"}`)
	if typ, _ := errText(m); st != 400 || typ != "InvalidArgumentException" {
		t.Fatalf("iterator of another stream: %d %v", st, m)
	}
}

// TestEmptyOutputs checks that operations without output answer with an empty body, as AWS
// does, and that the accepted-but-inert operations answer sensibly.
func TestEmptyOutputs(t *testing.T) {
	e := newEnv(t, nil)
	for _, c := range []struct{ action, body string }{
		{"CreateStream", `{"StreamName":"e","ShardCount":1}`},
		{"AddTagsToStream", `{"StreamName":"e","Tags":{"a":"1"}}`},
		{"RemoveTagsFromStream", `{"StreamName":"e","TagKeys":["a"]}`},
		{"IncreaseStreamRetentionPeriod", `{"StreamName":"e","RetentionPeriodHours":48}`},
		{"DecreaseStreamRetentionPeriod", `{"StreamName":"e","RetentionPeriodHours":24}`},
		{"DeleteStream", `{"StreamName":"e"}`},
	} {
		status, _, out := e.h.Invoke(ctx, c.action, []byte(c.body), "")
		if status != 200 || len(out) != 0 {
			t.Errorf("%s: %d %q", c.action, status, out)
		}
	}
	e.create(t, "f", 2)
	l := e.mustInvoke(t, "DescribeLimits", `{}`)
	if l["ShardLimit"].(float64) != 500 || l["OpenShardCount"].(float64) != 2 {
		t.Fatalf("limits: %v", l)
	}
	m := e.mustInvoke(t, "EnableEnhancedMonitoring", `{"StreamName":"f","ShardLevelMetrics":["ALL"]}`)
	if m["StreamName"] != "f" {
		t.Fatalf("enhanced monitoring: %v", m)
	}
	if st, m := e.invoke(t, "CreateChannel", `{}`); st != 400 || m["__type"] != "ValidationException" {
		t.Errorf("CreateChannel: %d %v", st, m)
	}
	if m := e.mustInvoke(t, "ListChannels", `{}`); len(m["ChannelSummaries"].([]any)) != 0 {
		t.Errorf("ListChannels: %v", m)
	}
	if st, m := e.invoke(t, "Frobnicate", `{}`); st != 400 || m["__type"] != "UnknownOperationException" {
		t.Errorf("unknown: %d %v", st, m)
	}
}

func TestCreatingStreamHasNoShardsYet(t *testing.T) {
	e := newEnv(t, func(o *stream.Options) { o.CreateDelay = time.Minute })
	e.mustInvoke(t, "CreateStream", `{"StreamName":"c","ShardCount":3}`)
	d := e.mustInvoke(t, "DescribeStream", `{"StreamName":"c"}`)["StreamDescription"].(map[string]any)
	if d["StreamStatus"] != "CREATING" || len(d["Shards"].([]any)) != 0 || d["HasMoreShards"] != false {
		t.Fatalf("creating: %v", d)
	}
	for _, c := range []struct{ action, body, typ, msg string }{
		{"IncreaseStreamRetentionPeriod", `{"StreamName":"c","RetentionPeriodHours":1}`, "ResourceInUseException", "Stream c under account 000000000000 not ACTIVE, instead in state CREATING"},
		{"AddTagsToStream", `{"StreamName":"c","Tags":{"a":"b"}}`, "ResourceInUseException", "Stream c under account 000000000000 not ACTIVE, instead in state CREATING"},
		{"PutRecord", `{"StreamName":"c","PartitionKey":"k","Data":""}`, "ResourceInUseException", "Stream c under account 000000000000 not ACTIVE, instead in state CREATING"},
		{"GetShardIterator", `{"StreamName":"c","ShardId":"0","ShardIteratorType":"LATEST"}`, "ResourceInUseException", "Stream c under account 000000000000 not ACTIVE, instead in state CREATING"},
	} {
		st, m := e.invoke(t, c.action, c.body)
		if typ, msg := errText(m); st != 400 || typ != c.typ || msg != c.msg {
			t.Errorf("%s: %d %s %q", c.action, st, typ, msg)
		}
	}
	e.clock.Add(time.Minute)
	d = e.mustInvoke(t, "DescribeStream", `{"StreamName":"c"}`)["StreamDescription"].(map[string]any)
	if d["StreamStatus"] != "ACTIVE" || len(d["Shards"].([]any)) != 3 {
		t.Fatalf("active: %v", d)
	}
}

func TestMetrics(t *testing.T) {
	e := newEnv(t, nil)
	e.mustInvoke(t, "CreateStream", `{"StreamName":"mx","ShardCount":1}`)
	e.mustInvoke(t, "PutRecord", `{"StreamName":"mx","PartitionKey":"k","Data":"aGVsbG8="}`)
	e.mustInvoke(t, "PutRecords", `{"StreamName":"mx","Records":[{"PartitionKey":"k","Data":"YQ=="},{"PartitionKey":"k","Data":"Yg=="}]}`)
	it := e.mustInvoke(t, "GetShardIterator", `{"StreamName":"mx","ShardId":"0","ShardIteratorType":"TRIM_HORIZON"}`)["ShardIterator"].(string)
	e.mustInvoke(t, "GetRecords", `{"ShardIterator":"`+it+`"}`)
	mf, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range mf {
		for _, m := range f.Metric {
			key := f.GetName()
			for _, l := range m.Label {
				if l.GetName() == "result" {
					key += "/" + l.GetValue()
				}
			}
			switch {
			case m.Counter != nil:
				got[key] = m.Counter.GetValue()
			case m.Gauge != nil:
				got[key] = m.Gauge.GetValue()
			case m.Histogram != nil:
				got[key] = float64(m.Histogram.GetSampleCount())
			}
		}
	}
	for name, want := range map[string]float64{
		"localpipe_kinesis_incoming_records_total":                      3,
		"localpipe_kinesis_incoming_bytes_total":                        7,
		"localpipe_kinesis_put_record_success_total":                    1,
		"localpipe_kinesis_put_records_success_total":                   1,
		"localpipe_kinesis_put_records_records_total/successful":        2,
		"localpipe_kinesis_put_records_records_total/failed":            0,
		"localpipe_kinesis_put_record_latency_seconds":                  1,
		"localpipe_kinesis_put_records_latency_seconds":                 1,
		"localpipe_kinesis_get_records_records_total":                   3,
		"localpipe_kinesis_get_records_bytes_total":                     7,
		"localpipe_kinesis_get_records_latency_seconds":                 1,
		"localpipe_kinesis_get_records_iterator_age_milliseconds":       0,
		"localpipe_kinesis_write_provisioned_throughput_exceeded_total": 0,
		"localpipe_kinesis_read_provisioned_throughput_exceeded_total":  0,
	} {
		if v, ok := got[name]; !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", name, v, ok, want)
		}
	}
	// A deleted stream's series go away.
	e.mustInvoke(t, "DeleteStream", `{"StreamName":"mx"}`)
	mf, _ = e.reg.Gather()
	for _, f := range mf {
		if len(f.Metric) != 0 {
			t.Fatalf("series left after delete: %s", f.GetName())
		}
	}
}

func TestHiddenStreamsAreInvisible(t *testing.T) {
	e := newEnv(t, nil)
	if err := e.eng.CreateStream(stream.CreateInput{Name: "hid", ShardCount: 1, Hidden: true}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ action, body string }{
		{"DescribeStream", `{"StreamName":"hid"}`},
		{"DescribeStreamSummary", `{"StreamName":"hid"}`},
		{"DeleteStream", `{"StreamName":"hid"}`},
		{"PutRecord", `{"StreamName":"hid","PartitionKey":"k","Data":""}`},
		{"PutRecords", `{"StreamName":"hid","Records":[{"PartitionKey":"k","Data":""}]}`},
		{"AddTagsToStream", `{"StreamName":"hid","Tags":{"a":"b"}}`},
		{"RemoveTagsFromStream", `{"StreamName":"hid","TagKeys":["a"]}`},
		{"ListTagsForStream", `{"StreamName":"hid"}`},
		{"IncreaseStreamRetentionPeriod", `{"StreamName":"hid","RetentionPeriodHours":48}`},
		{"UpdateMaxRecordSize", `{"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/hid","MaxRecordSizeInKiB":2048}`},
		{"ListShards", `{"StreamName":"hid"}`},
		{"GetShardIterator", `{"StreamName":"hid","ShardId":"0","ShardIteratorType":"LATEST"}`},
	} {
		st, m := e.invoke(t, c.action, c.body)
		if typ, _ := errText(m); st != 400 || typ != "ResourceNotFoundException" {
			t.Errorf("%s: %d %v", c.action, st, m)
		}
	}
	if l := e.mustInvoke(t, "ListStreams", `{}`); len(l["StreamNames"].([]any)) != 0 {
		t.Fatalf("listed: %v", l)
	}
	if _, err := e.eng.Describe("hid"); err != nil {
		t.Fatal("hidden stream was deleted through the API")
	}
}

// BenchmarkInvokePutRecord measures the in-process cost of one PutRecord (decode, validate,
// append, encode), without HTTP.
func BenchmarkInvokePutRecord(b *testing.B) {
	dir := b.TempDir()
	db, err := bolt.Open(filepath.Join(dir, "meta.db"), 0o644, &bolt.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	eng, err := stream.Open(stream.Options{Dir: filepath.Join(dir, "kinesis"), DB: db})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { eng.Close(); db.Close() }()
	h := New(eng, Options{})
	h.Invoke(ctx, "CreateStream", []byte(`{"StreamName":"b","ShardCount":4}`), "")
	body := []byte(`{"StreamName":"b","PartitionKey":"key-1","Data":"` + strings.Repeat("QUJD", 64) + `"}`)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if st, _, out := h.Invoke(ctx, "PutRecord", body, ""); st != 200 {
			b.Fatalf("%d %s", st, out)
		}
	}
}

// BenchmarkInvokePutRecords measures the in-process cost of one PutRecords of 500 records of
// 100 bytes under distinct partition keys; divide by 500 for the cost per entry.
func BenchmarkInvokePutRecords(b *testing.B) {
	dir := b.TempDir()
	db, err := bolt.Open(filepath.Join(dir, "meta.db"), 0o644, &bolt.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	eng, err := stream.Open(stream.Options{Dir: filepath.Join(dir, "kinesis"), DB: db})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { eng.Close(); db.Close() }()
	h := New(eng, Options{})
	if st, _, out := h.Invoke(ctx, "CreateStream", []byte(`{"StreamName":"b","ShardCount":4}`), ""); st != 200 {
		b.Fatalf("%d %s", st, out)
	}
	var body strings.Builder
	body.WriteString(`{"StreamName":"b","Records":[`)
	for i := range 500 {
		if i > 0 {
			body.WriteByte(',')
		}
		fmt.Fprintf(&body, `{"PartitionKey":"key-%d","Data":"%s"}`, i, strings.Repeat("QUJD", 33))
	}
	body.WriteString(`]}`)
	in := []byte(body.String())
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if st, _, out := h.Invoke(ctx, "PutRecords", in, ""); st != 200 {
			b.Fatalf("%d %s", st, out)
		}
	}
}

// TestPanicIsInternalFailure: a bug of ours becomes a 500 InternalFailure and a log line,
// never a dropped connection.
func TestPanicIsInternalFailure(t *testing.T) {
	e := newEnv(t, nil)
	var logged strings.Builder
	h := New(e.eng, Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	actions["Boom"] = func(*call, []byte) ([]byte, *awsjson.Error) { panic("boom") }
	defer delete(actions, "Boom")
	status, ct, out := h.Invoke(ctx, "Boom", []byte(`{}`), "")
	if status != 500 || ct != "application/x-amz-json-1.1" || string(out) != `{"__type":"InternalFailure"}` || !strings.Contains(logged.String(), "boom") {
		t.Fatalf("%d %q %s / %s", status, ct, out, logged.String())
	}
}

func TestTagRules(t *testing.T) {
	e := newEnv(t, nil)
	e.create(t, "tg", 1)
	for body, want := range map[string]string{
		`{"StreamName":"tg","Tags":{"a":"b<c"}}`: "Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @ :.",
		`{"StreamName":"tg","Tags":{"a%":"b"}}`:  "Failed to add tags to stream tg under account 000000000000 because some tags contained illegal characters. The allowed characters are Unicode letters, white-spaces, '_',',','/','=','+','-','@',':'.",
	} {
		st, m := e.invoke(t, "AddTagsToStream", body)
		if typ, msg := errText(m); st != 400 || typ != "InvalidArgumentException" || msg != want {
			t.Errorf("%s: %d %s %q", body, st, typ, msg)
		}
	}
	e.mustInvoke(t, "AddTagsToStream", `{"StreamName":"tg","Tags":{"Name":"é ü:/=+-@_.","k2":""}}`)
	l := e.mustInvoke(t, "ListTagsForStream", `{"StreamName":"tg"}`)
	if tags := l["Tags"].([]any); len(tags) != 2 || tags[0].(map[string]any)["Value"] != "é ü:/=+-@_." || l["HasMoreTags"] != false {
		t.Fatalf("%v", l)
	}
}

func TestSequenceNumberForOrdering(t *testing.T) {
	e := newEnv(t, nil)
	e.create(t, "ord", 1)
	first := e.mustInvoke(t, "PutRecord", `{"StreamName":"ord","PartitionKey":"k","Data":""}`)["SequenceNumber"].(string)
	next := e.mustInvoke(t, "PutRecord", `{"StreamName":"ord","PartitionKey":"k","Data":"","SequenceNumberForOrdering":"`+first+`"}`)["SequenceNumber"].(string)
	if next <= first {
		t.Fatalf("%s after %s", next, first)
	}
	info, _ := e.eng.Describe("ord")
	future := seqFor(info.Shards[0].Created, 0, 0, time.Now().Add(time.Hour))
	for _, o := range []string{"1", future} {
		st, m := e.invoke(t, "PutRecord", `{"StreamName":"ord","PartitionKey":"k","Data":"","SequenceNumberForOrdering":"`+o+`"}`)
		if typ, msg := errText(m); st != 400 || typ != "InvalidArgumentException" || msg != "ExclusiveMinimumSequenceNumber "+o+" used in PutRecord on stream ord under account 000000000000 is invalid." {
			t.Errorf("%s: %d %s %q", o, st, typ, msg)
		}
	}
}

// BenchmarkInvokeGetRecords measures one GetRecords of 100-byte records, in-process: Limit
// 100, and Limit 10000 as internal/bench -getrecords reads over HTTP (ns/record is the read
// path's cost per record: disk read, CRC check and JSON encoding).
func BenchmarkInvokeGetRecords(b *testing.B) {
	dir := b.TempDir()
	db, err := bolt.Open(filepath.Join(dir, "meta.db"), 0o644, &bolt.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	eng, err := stream.Open(stream.Options{Dir: filepath.Join(dir, "kinesis"), DB: db})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { eng.Close(); db.Close() }()
	h := New(eng, Options{})
	h.Invoke(ctx, "CreateStream", []byte(`{"StreamName":"b","ShardCount":1}`), "")
	var recs []string
	for i := 0; i < 500; i++ {
		recs = append(recs, `{"PartitionKey":"key-`+fmt.Sprint(i)+`","Data":"`+strings.Repeat("QUJD", 33)+`"}`)
	}
	for i := 0; i < 20; i++ {
		if st, _, out := h.Invoke(ctx, "PutRecords", []byte(`{"StreamName":"b","Records":[`+strings.Join(recs, ",")+`]}`), ""); st != 200 {
			b.Fatalf("%d %s", st, out)
		}
	}
	_, _, out := h.Invoke(ctx, "GetShardIterator", []byte(`{"StreamName":"b","ShardId":"0","ShardIteratorType":"TRIM_HORIZON"}`), "")
	var it struct{ ShardIterator string }
	if err := json.Unmarshal(out, &it); err != nil {
		b.Fatal(err)
	}
	for _, limit := range []int{100, 10000} {
		b.Run(fmt.Sprintf("Limit%d", limit), func(b *testing.B) {
			body := []byte(`{"ShardIterator":"` + it.ShardIterator + `","Limit":` + strconv.Itoa(limit) + `}`)
			b.ReportAllocs()
			for b.Loop() {
				// As ServeHTTP does: the answer's buffer is lent and taken back.
				loan := &answerLoan{}
				if st, _, out := h.Invoke(context.WithValue(ctx, answerLoanKey{}, loan), "GetRecords", body, ""); st != 200 {
					b.Fatalf("%d %s", st, out)
				}
				buf := loan.buf[:0]
				answerBuffers.Put(&buf)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*limit), "ns/record")
		})
	}
}

// fullDisk is a Space whose disk is full and has nothing left to free.
type fullDisk struct{}

func (fullDisk) Writable() bool { return false }
func (fullDisk) Release() bool  { return false }

// TestFullDiskAnswers503 checks that record writes on a full disk get the retryable 503
// (TestDiskFull in internal/app fills a real one) while reads and deletes go on.
func TestFullDiskAnswers503(t *testing.T) {
	e := newEnv(t, nil)
	e.create(t, "s", 1)
	e.create(t, "gone", 1)
	h := New(e.eng, Options{Space: fullDisk{}})
	for _, tc := range []struct{ action, body string }{
		{"PutRecord", `{"StreamName":"s","PartitionKey":"k","Data":"aGk="}`},
		{"PutRecords", `{"StreamName":"s","Records":[{"PartitionKey":"k","Data":"aGk="}]}`},
	} {
		status, _, out := h.Invoke(ctx, tc.action, []byte(tc.body), "")
		var m map[string]any
		json.Unmarshal(out, &m)
		if typ, msg := errText(m); status != 503 || typ != "ServiceUnavailable" || strings.Contains(msg, "/") {
			t.Errorf("%s on a full disk: %d %s %q, want 503 ServiceUnavailable naming no path", tc.action, status, typ, msg)
		}
	}
	for _, tc := range []struct{ action, body string }{
		{"DescribeStreamSummary", `{"StreamName":"s"}`},
		{"DeleteStream", `{"StreamName":"gone"}`},
	} {
		if status, _, out := h.Invoke(ctx, tc.action, []byte(tc.body), ""); status != 200 {
			t.Errorf("%s on a full disk: %d %s", tc.action, status, out)
		}
	}
}
