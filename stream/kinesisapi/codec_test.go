package kinesisapi

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/localpipe/localpipe/internal/awsjson/awsjsontest"
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

// refSeq is the sequence-number structure written the slow, obvious way.
func refSeq(p seqParts) string {
	h := fmt.Sprintf("2%09x%01x%016x00%09x%08x2", p.shardCreated, p.shard&0xf, p.position, p.arrival, p.shard)
	n, _ := new(big.Int).SetString(h, 16)
	return n.String()
}

func TestSequenceNumbersMatchReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		p := seqParts{
			shardCreated: r.Int64N(1 << 36),
			shard:        int(r.Int32()),
			position:     r.Uint64(),
			arrival:      r.Int64N(1 << 36),
		}
		switch i % 4 {
		case 0:
			p.position = r.Uint64N(1000)
		case 1:
			p.shard = r.IntN(20)
		case 2:
			p.position = ^uint64(0) - r.Uint64N(3)
		}
		got, want := encodeSeq(p), refSeq(p)
		if got != want {
			t.Fatalf("%+v: %s, want %s", p, got, want)
		}
		back, ok := decodeSeq(got)
		if !ok || back != p {
			t.Fatalf("decode %s: %+v %v, want %+v", got, back, ok, p)
		}
		// What a hook keeps of a put names it as the answer did.
		if id, seq := PutNames(Put{Shard: p.shard, seq: p}.Number()); id != shardName(p.shard) || seq != want {
			t.Fatalf("%+v: PutNames %s %s, want %s %s", p, id, seq, shardName(p.shard), want)
		}
	}
	// Within a shard, numbers grow with the position, as numbers and as strings alike.
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	prev := seqFor(created, 3, 0, created)
	for pos := uint64(1); pos < 5000; pos += 1 + pos/7 {
		s := seqFor(created, 3, pos, created.Add(time.Duration(pos)*time.Millisecond))
		a, _ := new(big.Int).SetString(s, 10)
		b, _ := new(big.Int).SetString(prev, 10)
		if len(s) != 56 || s <= prev || a.Cmp(b) <= 0 {
			t.Fatalf("%s after %s", s, prev)
		}
		prev = s
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
	for _, bad := range []string{"", "AAAA", "not base64!", string(b), s[:len(s)-4], s[:8] + "\n" + s[8:], s + "\r\n"} {
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
		// Whatever decodes must be canonical: encoding its parts, fast or slow, gives the
		// same string back, so no two strings decode to the same parts.
		p, ok := decodeSeq(s)
		if ok && (encodeSeq(p) != s || refSeq(p) != s) {
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
// a 200 (with a JSON object or, for operations without output, nothing) or a 4xx JSON error
// with a __type, never a panic or a 500.
func FuzzDecodeRequest(f *testing.F) {
	for _, seed := range []string{
		`{}`, `{"StreamName":"s","ShardCount":1}`, `{"StreamName":"s","PartitionKey":"k","Data":"aGk="}`,
		`{"Records":[{"PartitionKey":"k","Data":""}],"StreamName":"s"}`, `{"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}`,
		`{"ShardIterator":"AAAA","Limit":1}`, `{"StreamName":"s","Tags":{"a":"b"}}`, `{"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s"}`,
		`{"StreamName":"s","ShardFilter":{"Type":"AFTER_SHARD_ID"}}`, `{"Limit":-1}`, `[`, `{"Data":null}`, `{"StreamName":"s","RetentionPeriodHours":48}`,
		`{"StreamName":"s","ShardId":"1","ShardIteratorType":"AT_SEQUENCE_NUMBER","StartingSequenceNumber":"49559266461454070523309915164834022007924120923395850242"}`,
		`{"StreamName":"s","ShardId":"x-1","ShardIteratorType":"AT_TIMESTAMP","Timestamp":1e300}`, `{"StreamName":"s","Limit":1e300,"ExclusiveStartShardId":"9"}`,
		`{"NextToken":"eyJzIjoicyIsImMiOjAsImEiOjB9"}`, `{"StreamName":"s","TagKeys":[null,""]}`, `{"StreamName":"s","Records":[null]}`,
		`{"StreamARN":"arn:aws:kinesis:x:000000000000:stream/s/t","MaxRecordSizeInKiB":2048}`, `{"StreamName":"s","ShardLevelMetrics":[]}`,
		`{"StreamName":"s","ShardToSplit":"shardId-000000000000","NewStartingHashKey":"340282366920938463463374607431768211456"}`,
		`{"StreamName":"s","ShardToSplit":"0","NewStartingHashKey":"99999999999999999999999999999999999999"}`,
		`{"StreamName":"s","ShardToMerge":"shardId-000000000001","AdjacentShardToMerge":"0"}`,
		`{"StreamName":"s","TargetShardCount":3,"ScalingType":"UNIFORM_SCALING"}`,
		`{"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s","StreamModeDetails":{"StreamMode":"ON_DEMAND"}}`,
		`{"StreamName":"s","ShardFilter":{"Type":"FROM_TIMESTAMP","Timestamp":-1e300}}`,
		`{"StreamName":"s","ShardFilter":{"Type":"AT_TIMESTAMP","Timestamp":1e300}}`,
		`{"NextToken":"eyJzIjoicyIsImMiOjAsImEiOi0xLCJmIjoiQVRfVElNRVNUQU1QIiwidCI6MWUzMDB9"}`,
		channelBody("c", nil), channelBody("c", func(m map[string]any) { m["S3TablesDestinationConfiguration"] = tablesDestination() }),
		`{"ChannelARN":"arn:aws:kinesis:us-east-1:000000000000:channel/c","S3DestinationConfiguration":{"DataFreshnessInSeconds":1e300}}`,
		`{"MaxResults":2,"NextToken":"Yw","StreamFilter":[{"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s","StreamCreationTimestamp":-1e300}]}`,
		`{"ResourceARN":"arn:aws:kinesis:us-east-1:000000000000:channel/c","Tags":{"k":"v"}}`,
	} {
		for i := range actionNames {
			f.Add(uint8(i), seed)
		}
	}
	// Every numeric member of the model, probed with values beyond its range and its type's.
	for _, m := range modelNumbers {
		i := slices.Index(actionNames, m.Op)
		base, ok := numberBases[m.Op]
		if i < 0 || !ok {
			continue
		}
		for j, c := range m.Cases() {
			// A fresh name each: once one probe creates its stream, the rest would only
			// meet ResourceInUseException.
			b := strings.NewReplacer("{it}", "AAAA", "{n}", fmt.Sprintf("fz-%s-%d", m.Path, j)).Replace(base)
			body, err := awsjsontest.With(b, m.Path, c.Value)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(uint8(i), string(body))
		}
	}
	e := newFuzzEnv(f)
	f.Fuzz(func(t *testing.T, action uint8, body string) {
		name := actionNames[int(action)%len(actionNames)]
		status, _, out := e.Invoke(context.Background(), name, []byte(body), "")
		if status != 200 && status/100 != 4 {
			t.Fatalf("%s %q: status %d %s", name, body, status, out)
		}
		var m map[string]any
		if (status != 200 || len(out) > 0) && json.Unmarshal(out, &m) != nil {
			t.Fatalf("%s %q: answer is not a JSON object: %q", name, body, out)
		}
		if status != 200 && m["__type"] == nil {
			t.Fatalf("%s %q: error without __type: %s", name, body, out)
		}
	})
}

var actionNames = []string{"CreateStream", "DeleteStream", "DescribeStream", "DescribeStreamSummary", "ListStreams",
	"ListShards", "PutRecord", "PutRecords", "GetShardIterator", "GetRecords", "IncreaseStreamRetentionPeriod",
	"DecreaseStreamRetentionPeriod", "AddTagsToStream", "RemoveTagsFromStream", "ListTagsForStream", "UpdateMaxRecordSize",
	"DescribeLimits", "EnableEnhancedMonitoring", "DisableEnhancedMonitoring", "SplitShard", "Frobnicate",
	"MergeShards", "UpdateShardCount", "UpdateStreamMode",
	"CreateChannel", "DescribeChannel", "ListChannels", "UpdateChannel", "DeleteChannel", "TagResource", "ListTagsForResource"}
