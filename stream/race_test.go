package stream

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// Retention reslices a shard's segment list while the writer rolls to a new segment. With
// one record per segment and a clock that moves a retention period's worth every few
// records, nearly every append rolls and nearly every retention pass drops segments, so the
// two meet often; run under -race this catches any read of the segment list outside the
// lock, and the read-back catches a record written to a segment that was already sealed.
func TestRollRacesRetention(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	e := openTest(t, t.TempDir(), func(o *Options) {
		o.Now = clock.Now
		o.SegmentMaxBytes = 1
		o.IndexIntervalBytes = 1
	})
	if err := e.CreateStream(CreateInput{Name: "s", ShardCount: 1}); err != nil {
		t.Fatal(err)
	}
	n := 600
	if testing.Short() {
		n = 150
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				e.EnforceRetention()
			}
		}
	}()
	var last PutResult
	for i := 0; i < n; i++ {
		res, err := e.Put(context.Background(), "s", []PutEntry{{PartitionKey: "k", Data: []byte(fmt.Sprint(i))}})
		if err != nil {
			close(stop)
			wg.Wait()
			t.Fatal(err)
		}
		if res[0].Position != uint64(i) {
			t.Errorf("record %d got position %d", i, res[0].Position)
		}
		last = res[0]
		clock.Add(4 * time.Hour)
	}
	close(stop)
	wg.Wait()
	b, err := e.Bounds("s", 0)
	if err != nil {
		t.Fatal(err)
	}
	if b.Tip != uint64(n) || b.First == 0 {
		t.Fatalf("bounds %+v: retention dropped nothing or the tip moved", b)
	}
	recs := readAll(t, e, "s", 0)
	if len(recs) != int(b.Tip-b.First) {
		t.Fatalf("read %d records, want %d (bounds %+v)", len(recs), b.Tip-b.First, b)
	}
	for i, r := range recs {
		if want := b.First + uint64(i); r.Position != want || string(r.Data) != fmt.Sprint(want) {
			t.Fatalf("record %d: position %d data %q, want position %d", i, r.Position, r.Data, want)
		}
	}
	if string(recs[len(recs)-1].Data) != fmt.Sprint(last.Position) {
		t.Fatalf("last record %q", recs[len(recs)-1].Data)
	}
}
