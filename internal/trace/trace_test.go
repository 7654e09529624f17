package trace

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
)

func kin(seq int) Hop {
	return KinesisHop("s", "shardId-000000000000", fmt.Sprint(seq))
}

func obj(key string) Hop {
	return DeliveryHop("d", "b", key)
}

// put begins a request that wrote records at positions of shard 0 of stream s, and
// publishes it under id.
func put(x *Index, id string, positions ...uint64) {
	r := x.Begin()
	var hops []Hop
	var recs []Record
	for _, p := range positions {
		hops = append(hops, kin(int(p)))
		recs = append(recs, Record{Stream: "s", Position: p})
	}
	r.Put(hops, recs)
	r.Publish(id, nil)
}

func TestRingKeepsTheMostRecent(t *testing.T) {
	x := New(3)
	for i := range 5 {
		put(x, fmt.Sprint("req", i), uint64(i))
	}
	if x.Len() != 3 {
		t.Fatalf("Len = %d, want 3", x.Len())
	}
	for i := range 5 {
		_, ok := x.Get(fmt.Sprint("req", i))
		if want := i >= 2; ok != want {
			t.Errorf("req%d found: %v, want %v", i, ok, want)
		}
	}
	// An evicted request's records are forgotten with it: delivering them finds nothing.
	x.Delivered("s", 0, 0, 4, []Hop{obj("k")})
	if l := x.recs[shardKey{"s", 0}]; len(l.pos) != 3 {
		t.Errorf("records kept: %v, want the 3 of the requests kept", l.pos)
	}
	if n := indexed(x, "s", 0); n != 3 {
		t.Errorf("records indexed: %d, want 3", n)
	}
	hops, _ := x.Get("req4")
	if want := []Hop{kin(4), obj("k")}; !reflect.DeepEqual(hops, want) {
		t.Errorf("req4: %+v, want %+v", hops, want)
	}
}

func TestHopBudgetEvictsOldRequests(t *testing.T) {
	x := New(200) // a budget of 2000 hops
	for i := range 5 {
		pos := make([]uint64, 500)
		for j := range pos {
			pos[j] = uint64(i*500 + j)
		}
		put(x, fmt.Sprint("batch", i), pos...)
	}
	if x.hops > x.budget {
		t.Errorf("%d hops held, over the budget of %d", x.hops, x.budget)
	}
	if _, ok := x.Get("batch0"); ok {
		t.Error("the oldest batch was kept beyond the hop budget")
	}
	if _, ok := x.Get("batch4"); !ok {
		t.Error("the newest batch was evicted")
	}
}

// TestRingGrowsThenWraps evicts by the hop budget while the ring is still growing, then
// fills and wraps it: the requests found must always be the most recent ones kept.
func TestRingGrowsThenWraps(t *testing.T) {
	x := New(4) // a budget of 1024 hops: two batches of 500 fit, a third does not
	var kept []string
	var next uint64
	publish := func(id string, n int) {
		pos := make([]uint64, n)
		for j := range pos {
			pos[j] = next
			next++
		}
		put(x, id, pos...)
		kept = append(kept, id)
	}
	check := func(want ...string) {
		t.Helper()
		for _, id := range kept {
			_, ok := x.Get(id)
			if w := slices.Contains(want, id); ok != w {
				t.Errorf("%s found: %v, want %v", id, ok, w)
			}
		}
		if x.Len() != len(want) {
			t.Errorf("Len = %d, want %d", x.Len(), len(want))
		}
	}
	publish("b0", 500)
	publish("b1", 500)
	publish("b2", 500) // over the budget: b0 goes while the ring holds 3 of its 4
	check("b1", "b2")
	publish("s0", 1)
	publish("s1", 1) // the ring reaches its size and wraps
	check("b1", "b2", "s0", "s1")
	for i := range 6 {
		publish(fmt.Sprint("t", i), 1)
	}
	check("t2", "t3", "t4", "t5")
}

func TestDeliveredLinksRecordsToObjects(t *testing.T) {
	x := New(10)
	put(x, "a", 10, 11, 12)
	put(x, "b", 13)
	put(x, "c", 20)
	// A range wider than the records indexed, then a narrow one; a redo of the same batch
	// adds nothing.
	x.Delivered("s", 0, 0, 1000, []Hop{obj("k1")})
	x.Delivered("s", 0, 0, 1000, []Hop{obj("k1")})
	x.Delivered("s", 0, 20, 20, []Hop{obj("k2")})
	x.Delivered("s", 1, 0, 1000, []Hop{obj("other shard")})
	x.Delivered("t", 0, 0, 1000, []Hop{obj("other stream")})
	for id, want := range map[string][]Hop{
		"a": {kin(10), kin(11), kin(12), obj("k1")},
		"b": {kin(13), obj("k1")},
		"c": {kin(20), obj("k1"), obj("k2")},
	} {
		if got, _ := x.Get(id); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %+v, want %+v", id, got, want)
		}
	}
}

// TestRecordsOutOfOrder: concurrent requests may report their records in another order
// than the shard took them in; a delivery finds them all the same.
func TestRecordsOutOfOrder(t *testing.T) {
	x := New(10)
	put(x, "b", 5, 6)
	put(x, "a", 1, 2)
	put(x, "c", 9)
	put(x, "d", 3)
	x.Delivered("s", 0, 2, 5, []Hop{obj("k")})
	for id, want := range map[string]int{"a": 3, "b": 3, "c": 1, "d": 2} {
		if n := len(mustGet(t, x, id)); n != want {
			t.Errorf("%s: %d hops, want %d", id, n, want)
		}
	}
}

// TestDroppedRecordsLeave: the records of requests gone from the index do not pile up.
func TestDroppedRecordsLeave(t *testing.T) {
	x := New(5)
	for i := range 1000 {
		put(x, fmt.Sprint(i), uint64(i))
	}
	if l := x.recs[shardKey{"s", 0}]; len(l.pos) != 5 {
		t.Errorf("%d records indexed for 5 requests", len(l.pos))
	}
	x = New(5)
	for i := range 10 {
		r := x.Begin()
		r.Put([]Hop{kin(i)}, []Record{{Stream: fmt.Sprint("stream", i), Position: 0}})
		r.Publish(fmt.Sprint(i), nil)
	}
	if len(x.recs) != 5 {
		t.Errorf("%d shards indexed for 5 requests", len(x.recs))
	}
}

// TestDeliveredBeforePublish: Firehose may write a record's object before the request that
// put the record has answered; the delivery is kept for it.
func TestDeliveredBeforePublish(t *testing.T) {
	x := New(10)
	r := x.Begin()
	r.Put([]Hop{kin(7)}, []Record{{Stream: "s", Position: 7}})
	x.Delivered("s", 0, 7, 7, []Hop{obj("k")})
	if _, ok := x.Get("late"); ok {
		t.Fatal("found before it was published")
	}
	gw := GatewayHop("api", "prod", "/stream", 200)
	r.Publish("late", &gw)
	if got, want := mustGet(t, x, "late"), []Hop{gw, kin(7), obj("k")}; !reflect.DeepEqual(got, want) {
		t.Errorf("%+v, want %+v", got, want)
	}
}

func TestClear(t *testing.T) {
	x := New(10)
	put(x, "a", 1)
	put(x, "b", 2)
	x.Clear()
	if _, ok := x.Get("a"); ok || x.Len() != 0 || len(x.recs) != 0 || x.hops != 0 {
		t.Errorf("after Clear: Len %d, %d shards, %d hops", x.Len(), len(x.recs), x.hops)
	}
	put(x, "c", 1)
	if _, ok := x.Get("c"); !ok {
		t.Error("nothing is traced after Clear")
	}
	var none *Index
	none.Clear()
}

func TestDiscardForgetsRecords(t *testing.T) {
	x := New(10)
	r := x.Begin()
	r.Put([]Hop{kin(1)}, []Record{{Stream: "s", Position: 1}})
	r.Discard()
	r.Put([]Hop{kin(2)}, []Record{{Stream: "s", Position: 2}}) // too late: ignored
	if len(x.recs) != 0 || x.hops != 0 {
		t.Errorf("a discarded request left %d shards indexed, %d hops", len(x.recs), x.hops)
	}
	var nilReq *Request
	nilReq.Put([]Hop{kin(1)}, nil)
	nilReq.Publish("x", nil)
	if !nilReq.Empty() {
		t.Error("a nil request is not empty")
	}
}

func TestConcurrentUse(t *testing.T) {
	x := New(50)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				p := uint64(g*1000 + i)
				put(x, fmt.Sprint(g, "-", i), p)
				x.Delivered("s", 0, p, p, []Hop{obj(fmt.Sprint(p))})
				x.Get(fmt.Sprint(g, "-", i))
			}
		}()
	}
	wg.Wait()
	// Records of requests that left the index may wait behind a live one at the front.
	if x.Len() != 50 || len(x.byID) != 50 || indexed(x, "s", 0) != 50 {
		t.Errorf("Len %d, ids %d, records %d; want 50 each", x.Len(), len(x.byID), indexed(x, "s", 0))
	}
}

// indexed counts the records of a shard the index can still find.
func indexed(x *Index, stream string, shard int) int {
	x.mu.Lock()
	defer x.mu.Unlock()
	l := x.recs[shardKey{stream, shard}]
	if l == nil {
		return 0
	}
	n := 0
	for _, r := range l.reqs {
		if !r.dropped {
			n++
		}
	}
	return n
}

func mustGet(t *testing.T, x *Index, id string) []Hop {
	t.Helper()
	hops, ok := x.Get(id)
	if !ok {
		t.Fatalf("%s not found", id)
	}
	return hops
}

func TestParseUUID(t *testing.T) {
	good := "0f1e2d3c-4b5a-4697-8877-a6b5c4d3e2f1"
	u, ok := parseUUID(good)
	if !ok || fmt.Sprintf("%x", u) != strings.ReplaceAll(good, "-", "") {
		t.Fatalf("%s: %x %v", good, u, ok)
	}
	if v, ok := parseUUID(strings.ToUpper(good)); !ok || v != u {
		t.Errorf("upper case: %x %v", v, ok)
	}
	for _, bad := range []string{
		"", "x", good[:35], good + "0", "0f1e2d3c-4b5a-4697-8877-a6b5c4d3e2fg", "0f1e2d3c04b5a-4697-8877-a6b5c4d3e2f1",
		"0f1e2d3c-4b5a-4697-8877a-6b5c4d3e2f1", "0f1e2d3c-4b5a-4697-8877-a6b5c4d3e2f\x00", "0f1e2d3c-4b5a-4697-88 7-a6b5c4d3e2f1",
		"0f1e2d3c-4b5a-4697-8877-a6b5c4d3é2f", "{f1e2d3c-4b5a-4697-8877-a6b5c4d3e2f1", "0f1e2d3c-+b5a-4697-8877-a6b5c4d3e2f1",
	} {
		if _, ok := parseUUID(bad); ok {
			t.Errorf("%q parsed as a UUID", bad)
		}
	}
	// An id that is not a UUID is still found.
	x := New(10)
	x.Begin().Publish("not-a-uuid", &Hop{kind: kindGateway})
	x.Begin().Publish(good, &Hop{kind: kindKinesis})
	if h := mustGet(t, x, "not-a-uuid"); h[0].kind != kindGateway {
		t.Errorf("not-a-uuid: %v", h)
	}
	if h := mustGet(t, x, strings.ToUpper(good)); h[0].kind != kindKinesis {
		t.Errorf("%s: %v", good, h)
	}
}

// FuzzParseUUID: a string parses as a UUID exactly when it is one, and then formats back to
// itself (in lower case).
func FuzzParseUUID(f *testing.F) {
	f.Add("0f1e2d3c-4b5a-4697-8877-a6b5c4d3e2f1")
	f.Add("0F1E2D3C-4B5A-4697-8877-A6B5C4D3E2F1")
	f.Add("0f1e2d3c-4b5a-4697-8877-a6b5c4d3e2f")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		u, ok := parseUUID(s)
		back := fmt.Sprintf("%x-%x-%x-%x-%x", u[:4], u[4:6], u[6:8], u[8:10], u[10:])
		if ok != (back == strings.ToLower(s)) {
			t.Errorf("%q: ok %v, formats back as %q", s, ok, back)
		}
	})
}

func TestHopJSON(t *testing.T) {
	for _, c := range []struct {
		hop  Hop
		want string
	}{
		{GatewayHop("a1", "prod", "/stream", 200), `{"service":"apigateway","apiId":"a1","stage":"prod","resourcePath":"/stream","status":200}`},
		{GatewayHop("nosuchapi", "test", "", 403), `{"service":"apigateway","apiId":"nosuchapi","stage":"test","status":403}`},
		{KinesisHop("s", "shardId-000000000001", "49"), `{"service":"kinesis","streamName":"s","shardId":"shardId-000000000001","sequenceNumber":"49"}`},
		{FirehoseRecordHop("d", "r1"), `{"service":"firehose","deliveryStreamName":"d","recordId":"r1"}`},
		{S3Hop("PutObject", "b", "dir/k", 200), `{"service":"s3","operation":"PutObject","bucket":"b","key":"dir/k","status":200}`},
		{S3Hop("DeleteBucket", "b", "", 409), `{"service":"s3","operation":"DeleteBucket","bucket":"b","status":409}`},
		{DeliveryHop("d", "b", "2026/12/02/k \"x\"<\u2028>"), `{"service":"firehose","deliveryStreamName":"d","bucket":"b","key":"2026/12/02/k \"x\"\u003c\u2028\u003e"}`},
	} {
		got, err := json.Marshal(c.hop)
		if err != nil || string(got) != c.want {
			t.Errorf("%s (%v), want %s", got, err, c.want)
		}
	}
}

// A Kinesis hop kept as its number reads back as the hop its names make, in its place
// among the request's hops.
func TestKinesisNumberHopIsNamedWhenRead(t *testing.T) {
	x := New(10)
	x.KinesisNames = func(n [3]uint64) (string, string) {
		return fmt.Sprintf("shardId-%012d", n[2]), fmt.Sprint(n[0]*1000 + n[1])
	}
	r := x.Begin()
	r.Put([]Hop{KinesisNumberHop("s", [3]uint64{4, 2, 7}), KinesisNumberHop("s", [3]uint64{5, 0, 1})},
		[]Record{{Stream: "s", Shard: 7, Position: 1}, {Stream: "s", Shard: 1, Position: 1}})
	first := GatewayHop("a1", "prod", "/stream", 200)
	r.Publish("req", &first)
	x.Delivered("s", 7, 0, 9, []Hop{obj("k")})
	hops, ok := x.Get("req")
	want := []Hop{first, KinesisHop("s", "shardId-000000000007", "4002"), KinesisHop("s", "shardId-000000000001", "5000"), obj("k")}
	if !ok || !reflect.DeepEqual(hops, want) {
		t.Fatalf("Get: %+v %v, want %+v", hops, ok, want)
	}
	// Reading names a copy: the index keeps the number.
	if again, _ := x.Get("req"); !reflect.DeepEqual(again, want) {
		t.Fatalf("second Get: %+v", again)
	}
}

// TestRunsOfManyShards: a request's records of several shards, given a shard at a time as
// the Kinesis hook gives them, land among other requests' records of those shards wherever
// they fall (after, between, around), and each position keeps its own request.
func TestRunsOfManyShards(t *testing.T) {
	x := New(10)
	putRecs := func(id string, recs ...Record) {
		r := x.Begin()
		hops := make([]Hop, len(recs))
		for i, rec := range recs {
			hops[i] = kin(int(rec.Position))
		}
		r.PutMany(hops, recs)
		r.Publish(id, nil)
	}
	putRecs("late", Record{"s", 0, 20}, Record{"s", 0, 21}, Record{"s", 1, 7})
	putRecs("early", Record{"s", 0, 10}, Record{"s", 0, 11}, Record{"s", 0, 12}, Record{"s", 1, 3}, Record{"s", 1, 4})
	putRecs("middle", Record{"s", 0, 13}, Record{"s", 0, 14}, Record{"s", 1, 5})
	putRecs("around", Record{"s", 0, 8}, Record{"s", 0, 15}, Record{"s", 0, 30})
	putRecs("dup", Record{"s", 0, 21}, Record{"s", 0, 22})
	want := map[shardKey][]uint64{{"s", 0}: {8, 10, 11, 12, 13, 14, 15, 20, 21, 22, 30}, {"s", 1}: {3, 4, 5, 7}}
	owner := map[uint64]string{8: "around", 10: "early", 11: "early", 12: "early", 13: "middle", 14: "middle", 15: "around",
		20: "late", 21: "dup", 22: "dup", 30: "around"}
	for k, pos := range want {
		l := x.recs[k]
		if !reflect.DeepEqual(l.pos, pos) {
			t.Fatalf("%v: positions %v, want %v", k, l.pos, pos)
		}
		if k.shard == 0 {
			for i, p := range l.pos {
				if l.reqs[i] != x.byID[owner[p]] {
					t.Errorf("position %d is not %s's", p, owner[p])
				}
			}
		}
	}
	x.Delivered("s", 1, 5, 5, []Hop{obj("k")})
	if got, want := mustGet(t, x, "middle"), []Hop{kin(13), kin(14), kin(5), obj("k")}; !reflect.DeepEqual(got, want) {
		t.Errorf("middle: %+v, want %+v", got, want)
	}
}
