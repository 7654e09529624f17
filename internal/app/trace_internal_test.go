package app

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/localpipe/localpipe/internal/trace"
	"github.com/localpipe/localpipe/stream/kinesisapi"
)

// TestRecordsByShard: a put's records come out a shard at a time, in shard order, each
// shard's in the order they were given, however many shards there are.
func TestRecordsByShard(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, shards := range []int{1, 4, 64, 65, 500, 5000} {
		puts := make([]kinesisapi.Put, 500)
		for i := range puts {
			puts[i] = kinesisapi.Put{Shard: r.IntN(shards), Position: uint64(i)}
		}
		var want []trace.Record
		for s := range shards {
			for _, p := range puts {
				if p.Shard == s {
					want = append(want, trace.Record{Stream: "s", Shard: s, Position: p.Position})
				}
			}
		}
		if got := recordsByShard("s", puts); !reflect.DeepEqual(got, want) {
			t.Errorf("%d shards: %v", shards, got)
		}
	}
	if got := recordsByShard("s", nil); !slices.Equal(got, []trace.Record{}) {
		t.Errorf("no puts: %v", got)
	}
}
