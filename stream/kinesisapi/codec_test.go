package kinesisapi

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestSequenceNumbers(t *testing.T) {
	created := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	prev := ""
	for _, pos := range []uint64{0, 1, 2, 255, 256, 1 << 20, 1<<40 + 7} {
		for _, shard := range []int{0, 1, 15, 16, 4000} {
			s := seqFor(created, shard, pos, created.Add(time.Duration(pos)*time.Millisecond))
			if len(s) != 56 {
				t.Fatalf("length %d: %s", len(s), s)
			}
			p, ok := decodeSeq(s)
			if !ok || p.position != pos || p.shard != shard || p.shardCreated != created.Unix() {
				t.Fatalf("round trip %d/%d: %+v %v", shard, pos, p, ok)
			}
		}
		s := seqFor(created, 0, pos, created)
		if prev != "" && !(len(s) == len(prev) && s > prev) {
			t.Fatalf("not increasing: %s after %s", s, prev)
		}
		prev = s
	}
	for _, bad := range []string{"", "0", "1", "12345", strings.Repeat("9", 56), "49559266461454070523309915164834022007924120923395850242x"} {
		if _, ok := decodeSeq(bad); ok {
			t.Errorf("decodeSeq(%q) accepted", bad)
		}
	}
}

func TestIterators(t *testing.T) {
	it := iterator{streamCreated: 123456789, shard: 3, position: 99, issuedMs: 1700000000000, stream: "s.n_a-me"}
	s := it.encode()
	if len(s) > 512 {
		t.Fatalf("iterator too long: %d", len(s))
	}
	got, err := decodeIterator(s)
	if err != nil || got != it {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	long := iterator{stream: strings.Repeat("x", 128)}
	if n := len(long.encode()); n > 512 {
		t.Fatalf("longest iterator %d chars", n)
	}
	b := []byte(s)
	b[10] ^= 1
	for _, bad := range []string{"", "AAAA", "not base64!", string(b), s[:len(s)-4]} {
		if _, err := decodeIterator(bad); err == nil {
			t.Errorf("decodeIterator(%q) accepted", bad)
		}
	}
}

func FuzzSequenceNumber(f *testing.F) {
	f.Add(seqFor(time.Unix(1700000000, 0), 2, 42, time.Unix(1700000001, 0)))
	f.Add("49559266461454070523309915164834022007924120923395850242")
	f.Add("0")
	f.Fuzz(func(t *testing.T, s string) {
		p, ok := decodeSeq(s)
		if ok && encodeSeq(p) != s {
			t.Fatalf("decode/encode mismatch for %s", s)
		}
	})
}

func FuzzIterator(f *testing.F) {
	f.Add(iterator{streamCreated: 1, shard: 2, position: 3, issuedMs: 4, stream: "s"}.encode())
	f.Add("AAAAAAAAAAFYVN3VlFy")
	f.Fuzz(func(t *testing.T, s string) {
		it, err := decodeIterator(s)
		if err == nil && it.encode() != s {
			t.Fatalf("accepted a non-canonical iterator")
		}
	})
}

// FuzzDecodeRequest feeds arbitrary bodies to every action: whatever comes in, the answer is
// a 200 or a 4xx JSON error, never a panic or a 500.
func FuzzDecodeRequest(f *testing.F) {
	for _, seed := range []string{
		`{}`, `{"StreamName":"s","ShardCount":1}`, `{"StreamName":"s","PartitionKey":"k","Data":"aGk="}`,
		`{"Records":[{"PartitionKey":"k","Data":""}],"StreamName":"s"}`, `{"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}`,
		`{"ShardIterator":"AAAA","Limit":1}`, `{"StreamName":"s","Tags":{"a":"b"}}`, `{"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s"}`,
		`{"StreamName":"s","ShardFilter":{"Type":"AFTER_SHARD_ID"}}`, `{"Limit":-1}`, `[`, `{"Data":null}`, `{"StreamName":"s","RetentionPeriodHours":48}`,
	} {
		for i := range actionNames {
			f.Add(uint8(i), seed)
		}
	}
	e := newFuzzEnv(f)
	f.Fuzz(func(t *testing.T, action uint8, body string) {
		name := actionNames[int(action)%len(actionNames)]
		status, _, _ := e.Invoke(context.Background(), name, []byte(body), "")
		if status != 200 && status/100 != 4 {
			t.Fatalf("%s %q: status %d", name, body, status)
		}
	})
}

var actionNames = []string{"CreateStream", "DeleteStream", "DescribeStream", "DescribeStreamSummary", "ListStreams",
	"ListShards", "PutRecord", "PutRecords", "GetShardIterator", "GetRecords", "IncreaseStreamRetentionPeriod",
	"DecreaseStreamRetentionPeriod", "AddTagsToStream", "RemoveTagsFromStream", "ListTagsForStream", "UpdateMaxRecordSize",
	"DescribeLimits", "EnableEnhancedMonitoring"}
