package kinesisapi

import (
	"fmt"
	"strings"
	"testing"

	"github.com/localpipe/localpipe/internal/awsjson/awsjsontest"
)

//go:generate go run ../../internal/awsjson/numbersgen -model $BOTOCORE_DATA/kinesis/2013-12-02/service-2.json.gz -pkg kinesisapi -o model_numbers_test.go

// numberBases are valid requests of each operation with a numeric member, which a probe of
// one member changes; "{it}" stands for a live shard iterator and "{n}" for a fresh stream
// name.
var numberBases = map[string]string{
	"CreateStream":                  `{"StreamName":"{n}","ShardCount":1}`,
	"DecreaseStreamRetentionPeriod": `{"StreamName":"s"}`,
	"IncreaseStreamRetentionPeriod": `{"StreamName":"s"}`,
	"DescribeStream":                `{"StreamName":"s"}`,
	"GetRecords":                    `{"ShardIterator":"{it}"}`,
	"GetShardIterator":              `{"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"AT_TIMESTAMP"}`,
	"ListShards":                    `{"StreamName":"s","ShardFilter":{"Type":"AT_TIMESTAMP"}}`,
	"ListStreams":                   `{}`,
	"ListTagsForStream":             `{"StreamName":"s"}`,
	"UpdateMaxRecordSize":           `{"StreamName":"s"}`,
	"UpdateShardCount":              `{"StreamName":"s","ScalingType":"UNIFORM_SCALING"}`,
}

// numberUnsupported are the operations with numeric members that localpipe answers as not
// supported, whatever their input.
var numberUnsupported = map[string]bool{
	"ListStreamConsumers": true, "SubscribeToShard": true,
	"UpdateStreamMode": true, "UpdateStreamWarmThroughput": true,
}

// TestNumericMembersFollowModel sends every numeric member of every operation the values that
// probe its range (the model's bounds ± 1, values beyond 32 and 64 bits, overflowing
// exponents, fractions): out of the model's range the answer is AWS's ValidationException
// naming the member and bound, and whatever the value, never a 500.
func TestNumericMembersFollowModel(t *testing.T) {
	e := newEnv(t, nil)
	e.create(t, "s", 1)
	it := e.mustInvoke(t, "GetShardIterator", `{"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}`)["ShardIterator"].(string)
	n := 0
	for _, m := range modelNumbers {
		if numberUnsupported[m.Op] {
			continue
		}
		base, ok := numberBases[m.Op]
		if !ok {
			t.Errorf("%s.%s: no base request to probe it with; add one to numberBases", m.Op, m.Path)
			continue
		}
		for _, c := range m.Cases() {
			n++
			b := strings.NewReplacer("{it}", it, "{n}", fmt.Sprintf("probe%d", n)).Replace(base)
			body, err := awsjsontest.With(b, m.Path, c.Value)
			if err != nil {
				t.Fatal(err)
			}
			status, out := e.invoke(t, m.Op, string(body))
			typ, msg := errText(out)
			switch {
			case status/100 != 2 && status/100 != 4:
				t.Errorf("%s %s: %d %s %s", m.Op, body, status, typ, msg)
			case c.Want != "" && (typ != "ValidationException" || !strings.Contains(msg, c.Want)):
				t.Errorf("%s %s: got %d %s %q, want ValidationException with %q", m.Op, body, status, typ, msg, c.Want)
			case c.Want == "" && typ == "ValidationException" && strings.Contains(msg, "'"+m.ValidationPath()+"'"):
				t.Errorf("%s %s: in the model's range, but %q", m.Op, body, msg)
			}
		}
	}
}

// TestHugeNumbers pins the answers to the values that used to overflow: a ShardCount beyond
// 64 bits passed the shard-limit check as a negative sum and panicked allocating hash ranges,
// and a far-future AT_TIMESTAMP wrapped to a past instant and read from the trim horizon.
func TestHugeNumbers(t *testing.T) {
	e := newEnv(t, nil)
	e.create(t, "s", 1)
	limit := "This request would exceed the shard limit for the account 000000000000 in us-east-1. Current shard count for the account: 1. Limit: 500. Number of additional shards that would have resulted from this request: 2147483647."
	for _, tc := range []struct{ action, body, typ, msg string }{
		{"CreateStream", `{"StreamName":"x","ShardCount":9223372036854775807}`, "LimitExceededException", limit},
		{"CreateStream", `{"StreamName":"x","ShardCount":1e30}`, "LimitExceededException", limit},
		{"CreateStream", `{"StreamName":"x","ShardCount":-1}`, "ValidationException",
			"1 validation error detected: Value '-1' at 'shardCount' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"CreateStream", `{"StreamName":"x","ShardCount":-1e30}`, "ValidationException",
			"1 validation error detected: Value '-2147483648' at 'shardCount' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"CreateStream", `{"StreamName":"x","ShardCount":1,"WarmThroughputMiBps":-1}`, "ValidationException",
			"1 validation error detected: Value '-1' at 'warmThroughputMiBps' failed to satisfy constraint: Member must have value greater than or equal to 0"},
		{"IncreaseStreamRetentionPeriod", `{"StreamName":"s","RetentionPeriodHours":1e30}`, "InvalidArgumentException",
			"Maximum allowed retention period is 8760 hours. Requested retention period (2147483647 hours) is too long."},
		{"GetShardIterator", `{"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"AT_TIMESTAMP","Timestamp":1e300}`, "InvalidArgumentException",
			"The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: 9223372036854775807, currentTimestampInMillis: "},
	} {
		status, m := e.invoke(t, tc.action, tc.body)
		typ, msg := errText(m)
		if status != 400 || typ != tc.typ || !strings.HasPrefix(msg, tc.msg) {
			t.Errorf("%s %s:\n got %d %s %q\nwant %s %q", tc.action, tc.body, status, typ, msg, tc.typ, tc.msg)
		}
	}
}
