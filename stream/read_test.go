package stream

import (
	"bytes"
	"context"
	"fmt"
	"testing"
)

// TestReadFramesOfEverySize reads records smaller and larger than the segment reader's
// buffer, interleaved so that frames straddle its refills, through Read and ReadFunc, and
// checks that a record's Data cannot be appended into its neighbour's.
func TestReadFramesOfEverySize(t *testing.T) {
	e := openTest(t, t.TempDir(), nil)
	if err := e.CreateStream(CreateInput{Name: "s", ShardCount: 1}); err != nil {
		t.Fatal(err)
	}
	var want []PutEntry
	for i, size := range []int{0, 1, 100, 70 << 10, 3, 64<<10 - frameHeaderLen - bodyFixedLen - 2, 200 << 10, 5, 64 << 10, 1 << 20, 17} {
		data := bytes.Repeat([]byte{byte('a' + i)}, size)
		want = append(want, PutEntry{PartitionKey: fmt.Sprint("key-", i), Data: data})
	}
	for i := 0; i < 300; i++ {
		want = append(want, PutEntry{PartitionKey: "k", Data: []byte(fmt.Sprintf("small %d", i))})
	}
	for i := 0; i < len(want); i += 100 {
		if _, err := e.Put(context.Background(), "s", want[i:min(i+100, len(want))]); err != nil {
			t.Fatal(err)
		}
	}
	got := readAll(t, e, "s", 0)
	if len(got) != len(want) {
		t.Fatalf("read %d records, want %d", len(got), len(want))
	}
	for i, r := range got {
		if r.Position != uint64(i) || r.PartitionKey != want[i].PartitionKey || !bytes.Equal(r.Data, want[i].Data) {
			t.Fatalf("record %d: position %d key %q, %d bytes; want key %q, %d bytes", i, r.Position, r.PartitionKey, len(r.Data), want[i].PartitionKey, len(want[i].Data))
		}
	}
	_ = append(got[0].Data, "clobber"...)
	_ = append(got[1].Data, "clobber"...)
	if !bytes.Equal(got[1].Data, want[1].Data) || !bytes.Equal(got[2].Data, want[2].Data) {
		t.Fatal("appending to a record's data changed the next record's")
	}
	n := 0
	res, err := e.ReadFunc("s", 0, 0, 10000, 10<<20, func(pos uint64, arrivalMs int64, key, data []byte) {
		if pos != uint64(n) || string(key) != want[n].PartitionKey || !bytes.Equal(data, want[n].Data) || arrivalMs != got[n].Arrival.UnixMilli() {
			t.Fatalf("ReadFunc record %d at %d: key %q, %d bytes", n, pos, key, len(data))
		}
		n++
	})
	if err != nil || n != len(want) || res.Next != uint64(len(want)) || res.Records != nil {
		t.Fatalf("ReadFunc: %d records, next %d, %v", n, res.Next, err)
	}
}

// TestReadTarget checks that ReadTarget says what Describe says of the stream and shard.
func TestReadTarget(t *testing.T) {
	e := openTest(t, t.TempDir(), nil)
	if err := e.CreateStream(CreateInput{Name: "s", ShardCount: 2}); err != nil {
		t.Fatal(err)
	}
	putN(t, e, "s", 3, "r")
	info, err := e.Describe("s")
	if err != nil {
		t.Fatal(err)
	}
	for shard := range 3 {
		rt, err := e.ReadTarget("s", shard)
		if err != nil || rt.Name != "s" || !rt.Created.Equal(info.Created) || rt.Shards != 2 {
			t.Fatalf("shard %d: %+v %v", shard, rt, err)
		}
		if shard < 2 {
			b, _ := e.Bounds("s", shard)
			if !rt.ShardCreated.Equal(info.Shards[shard].Created) || rt.Closed || rt.Tip != b.Tip {
				t.Fatalf("shard %d: %+v, want created %s, tip %d", shard, rt, info.Shards[shard].Created, b.Tip)
			}
		}
	}
	if _, err := e.ReadTarget("nope", 0); err != ErrStreamNotFound {
		t.Fatalf("missing stream: %v", err)
	}
}
