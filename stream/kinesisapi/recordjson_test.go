package kinesisapi

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/localpipe/localpipe/internal/awsjson"
	"github.com/localpipe/localpipe/stream"
)

// TestSequenceIncrement holds the shortcut recordJSON takes for a record following its
// predecessor: adding 2^80 to the digits gives the number of the next position.
func TestSequenceIncrement(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	positions := []uint64{0, 1, 9, 99, 1<<32 - 1, 1<<63 - 2, 1<<64 - 2}
	for range 2000 {
		positions = append(positions, r.Uint64N(1<<40), r.Uint64()>>r.UintN(64))
	}
	for i, pos := range positions {
		if pos == 1<<64-1 {
			continue
		}
		p := seqParts{shardCreated: r.Int64N(1 << 36), shard: r.IntN(1 << 31), position: pos, arrival: r.Int64N(1 << 36)}
		if i%3 == 0 {
			p.shard = i % 20
		}
		var digits [seqDigits]byte
		appendSeq(digits[:0], p)
		addPow80(&digits)
		p.position++
		if want := encodeSeq(p); string(digits[:]) != want {
			t.Fatalf("%+v: %s, want %s", p, digits, want)
		}
	}
}

// TestAddPow80 checks addPow80 against math/big on digits of every kind, runs of nines
// (long carries, across words) among them.
func TestAddPow80(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	pow, _ := new(big.Int).SetString(pow80, 10)
	for i := range 20000 {
		var digits [seqDigits]byte
		for j := range digits {
			switch {
			case j == 0:
				digits[j] = '1' + byte(r.UintN(8))
			case i%4 == 0 && j > seqDigits-40:
				digits[j] = '9'
			case i%4 == 1:
				digits[j] = "09"[r.UintN(2)]
			default:
				digits[j] = '0' + byte(r.UintN(10))
			}
		}
		n, _ := new(big.Int).SetString(string(digits[:]), 10)
		want := n.Add(n, pow).String()
		addPow80(&digits)
		if string(digits[:]) != want {
			t.Fatalf("%s + 2^80 = %s, want %s", n.Sub(n, pow), digits, want)
		}
	}
}

// oldGetRecords is GetRecords's answer as it was written before records were encoded while
// the engine read them (from a snapshot of the stream and a copy of the records): the oracle
// the answers must match byte for byte.
func oldGetRecords(t *testing.T, eng *stream.Engine, iter string, limit int, now time.Time) string {
	t.Helper()
	it, err := decodeIterator(iter)
	if err != nil {
		t.Fatal(err)
	}
	info, err := eng.Describe(it.stream)
	if err != nil {
		t.Fatal(err)
	}
	res, err := eng.Read(it.stream, it.shard, it.position, limit, getRecordsMaxSize)
	if err != nil {
		t.Fatal(err)
	}
	sh := info.Shards[it.shard]
	next := iterator{streamCreated: it.streamCreated, shard: it.shard, position: res.Next, issuedMs: now.UnixMilli(), stream: it.stream}
	behind := int64(0)
	if n := len(res.Records); n > 0 && res.Next < res.Tip {
		behind = max(0, now.UnixMilli()-res.Records[n-1].Arrival.UnixMilli())
	}
	var b strings.Builder
	if sh.Closed && res.Next >= min(sh.End, res.Tip) {
		ch, aerr := awsjson.Marshal(childShards(info, sh))
		if aerr != nil {
			t.Fatal(aerr)
		}
		fmt.Fprintf(&b, `{"ChildShards":%s,"MillisBehindLatest":%d`, ch, behind)
	} else {
		fmt.Fprintf(&b, `{"MillisBehindLatest":%d,"NextShardIterator":"%s"`, behind, next.encode())
	}
	b.WriteString(`,"Records":[`)
	for i, r := range res.Records {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"ApproximateArrivalTimestamp":%s,"Data":"%s","PartitionKey":%s,"SequenceNumber":"%s"}`,
			awsjson.AppendTimestamp(nil, r.Arrival), base64.StdEncoding.EncodeToString(r.Data),
			awsjson.AppendString(nil, r.PartitionKey), seqFor(sh.Created, sh.Index, r.Position, r.Arrival))
	}
	b.WriteString("]}")
	return b.String()
}

// TestGetRecordsAnswerBytes compares GetRecords's answers with oldGetRecords's, over keys
// that need escapes, data of every size up to a few hundred bytes, arrivals within one
// second and across seconds, reads from every kind of start and of every length, and at
// a closed shard's end.
func TestGetRecordsAnswerBytes(t *testing.T) {
	e := newEnv(t, nil)
	e.create(t, "g", 1)
	keys := []string{"k", "pk-1", `with "quotes"`, `back\slash`, "tab\tnew\nline", "é", "😀", "\u2028", "\x01", strings.Repeat("k", 256)}
	r := rand.New(rand.NewPCG(3, 4))
	total := 0
	for batch := range 12 {
		var recs []string
		for i := range 1 + r.IntN(40) {
			data := make([]byte, r.IntN(300))
			for j := range data {
				data[j] = byte(r.UintN(256))
			}
			rec, err := json.Marshal(map[string]any{"PartitionKey": keys[(batch+i)%len(keys)], "Data": data})
			if err != nil {
				t.Fatal(err)
			}
			recs = append(recs, string(rec))
		}
		total += len(recs)
		e.mustInvoke(t, "PutRecords", `{"StreamName":"g","Records":[`+strings.Join(recs, ",")+`]}`)
		e.clock.Add(time.Duration(r.IntN(900)) * time.Millisecond)
	}
	now := e.clock.Now().Add(time.Second)
	h := New(e.eng, Options{Now: func() time.Time { return now }})
	// Over HTTP, answers are built in buffers reused from one request to the next.
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	iterAt := func(body string) string {
		t.Helper()
		st, _, out := h.Invoke(ctx, "GetShardIterator", []byte(body), "")
		var it struct{ ShardIterator string }
		if st != 200 || json.Unmarshal(out, &it) != nil {
			t.Fatalf("GetShardIterator %s: %d %s", body, st, out)
		}
		return it.ShardIterator
	}
	check := func(iter string, limit int) (int, string) {
		t.Helper()
		body := `{"ShardIterator":"` + iter + `"}`
		if limit > 0 {
			body = `{"ShardIterator":"` + iter + `","Limit":` + strconv.Itoa(limit) + `}`
		}
		want := oldGetRecords(t, e.eng, iter, cmp.Or(limit, 10000), now)
		st, _, out := h.Invoke(ctx, "GetRecords", []byte(body), "")
		if st != 200 || string(out) != want {
			t.Fatalf("GetRecords %s:\n got %d %s\nwant %s", body, st, out, want)
		}
		if st, m, _ := raw(t, srv.URL, "POST", "Kinesis_20131202.GetRecords", awsjson.ContentType, body, true); st != 200 || m["raw"] != want {
			t.Fatalf("GetRecords over HTTP %s:\n got %d %s\nwant %s", body, st, m["raw"], want)
		}
		var m struct {
			Records           []json.RawMessage
			NextShardIterator string
		}
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatal(err)
		}
		return len(m.Records), m.NextShardIterator
	}
	if n, _ := check(iterAt(`{"StreamName":"g","ShardId":"0","ShardIteratorType":"TRIM_HORIZON"}`), 0); n != total {
		t.Fatalf("read %d of %d records", n, total)
	}
	check(iterAt(`{"StreamName":"g","ShardId":"0","ShardIteratorType":"LATEST"}`), 0)
	for _, limit := range []int{1, 2, 7, 100} {
		iter := iterAt(`{"StreamName":"g","ShardId":"0","ShardIteratorType":"TRIM_HORIZON"}`)
		for read := 0; read < total; {
			n, next := check(iter, limit)
			if n == 0 {
				t.Fatalf("Limit %d: no records after %d", limit, read)
			}
			read, iter = read+n, next
		}
	}
	// At a closed shard's end the answer names the children instead of a next iterator.
	if _, err := e.kc.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String("g"), ShardToSplit: aws.String("shardId-000000000000"), NewStartingHashKey: aws.String("100")}); err != nil {
		t.Fatal(err)
	}
	now = e.clock.Now().Add(time.Second)
	check(iterAt(`{"StreamName":"g","ShardId":"0","ShardIteratorType":"TRIM_HORIZON"}`), 0)
	check(iterAt(`{"StreamName":"g","ShardId":"0","ShardIteratorType":"TRIM_HORIZON"}`), 5)
}

// TestAppendBase64 compares appendBase64 with the standard encoder on every length up to a
// few hundred bytes, after a prefix and with random contents.
func TestAppendBase64(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for n := range 400 {
		src := make([]byte, n)
		for i := range src {
			src[i] = byte(r.UintN(256))
		}
		if got, want := appendBase64([]byte("x"), src), base64.StdEncoding.AppendEncode([]byte("x"), src); string(got) != string(want) {
			t.Fatalf("%d bytes: %s, want %s", n, got, want)
		}
	}
}

func FuzzAppendBase64(f *testing.F) {
	f.Add([]byte(""), []byte("hello, world"))
	f.Add([]byte("prefix"), []byte{0xff, 0xfe, 0, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Fuzz(func(t *testing.T, prefix, src []byte) {
		if got, want := appendBase64(prefix, src), base64.StdEncoding.AppendEncode(prefix, src); string(got) != string(want) {
			t.Fatalf("%x: %s, want %s", src, got, want)
		}
	})
}

func BenchmarkAppendBase64(b *testing.B) {
	for _, size := range []int{100, 1000, 10000} {
		src := make([]byte, size)
		dst := make([]byte, 0, 2*size)
		b.Run(fmt.Sprintf("appendBase64/%d", size), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				dst = appendBase64(dst[:0], src)
			}
		})
		b.Run(fmt.Sprintf("std/%d", size), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				dst = base64.StdEncoding.AppendEncode(dst[:0], src)
			}
		})
	}
}
