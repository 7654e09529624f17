package trace

import (
	"crypto/rand"
	"fmt"
	"testing"
)

// BenchmarkPublish is the index's share of a traced PutRecord: one record put and its
// request published, in a full index of the default size (every publish evicts).
func BenchmarkPublish(b *testing.B) {
	x := New(DefaultSize)
	ids := make([]string, 2*DefaultSize)
	for i := range ids {
		var u [16]byte
		rand.Read(u[:])
		ids[i] = fmt.Sprintf("%x-%x-%x-%x-%x", u[:4], u[4:6], u[6:8], u[8:10], u[10:])
	}
	b.ReportAllocs()
	pos := uint64(0)
	for b.Loop() {
		r := x.Begin()
		r.Put([]Hop{KinesisHop("s", "shardId-000000000000", "1")},
			[]Record{{Stream: "s", Position: pos}})
		// An id comes again only after its request left the index.
		r.Publish(ids[pos%uint64(len(ids))], nil)
		pos++
	}
}
