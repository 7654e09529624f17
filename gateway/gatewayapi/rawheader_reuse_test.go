package gatewayapi

import (
	"fmt"
	"math/rand"
	"reflect"
	"testing"
)

// TestHeadLogReusesBuffers: a connection's head log reuses its buffers from one request to the
// next, so a head recorded later never shows bytes of an earlier, longer one; random streams of
// heads split at random points are read back exactly.
func TestHeadLogReusesBuffers(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for iter := 0; iter < 300; iter++ {
		var stream []byte
		var want []rawHead
		var ends []int
		n := 1 + rng.Intn(30)
		for i := 0; i < n; i++ {
			target := fmt.Sprintf("/p%d?x=%d", i, rng.Intn(3))
			hd := rawHead{method: []string{"GET", "POST", "PUT"}[rng.Intn(3)], target: target}
			stream = append(stream, hd.method+" "+target+" HTTP/1.1\r\n"...)
			for j := 0; j < rng.Intn(6); j++ {
				name := fmt.Sprintf("X-h%d-%d-%s", i, j, string(rune('a'+rng.Intn(26))))
				hd.names = append(hd.names, name)
				stream = append(stream, name+": v\r\n"...)
			}
			body := rng.Intn(5)
			if body > 0 {
				hd.names = append(hd.names, "Content-Length")
				stream = append(stream, fmt.Sprintf("Content-Length: %d\r\n", body)...)
			}
			stream = append(stream, "\r\n"...)
			ends = append(ends, len(stream))
			for k := 0; k < body; k++ {
				stream = append(stream, 'b')
			}
			want = append(want, hd)
		}
		var h headLog
		next := 0 // oldest head not yet claimed or dropped
		consumed := 0
		for p := stream; len(p) > 0; {
			c := min(len(p), 1+rng.Intn(80))
			h.write(p[:c])
			p = p[c:]
			consumed += c
			completed := 0
			for _, e := range ends {
				if e <= consumed {
					completed++
				}
			}
			// claim a random recent head that is still recorded
			recorded := len(h.heads)
			if recorded > 0 && rng.Intn(3) == 0 {
				// heads recorded so far: find how many complete heads: the last recorded ones
				total := completed
				k := rng.Intn(recorded)
				// account for evictions: heads in h are want[total-recorded : total]
				idx := total - recorded + k
				names, ok := h.claim(want[idx].method, want[idx].target)
				if !ok {
					t.Fatalf("iter %d: head %d not found", iter, idx)
				}
				if !reflect.DeepEqual(names, want[idx].names) {
					t.Fatalf("iter %d head %d: %q want %q", iter, idx, names, want[idx].names)
				}
				next = idx + 1
			}
			if next < len(want) {
				_ = next
			}
			// track evictions
			total := 0
			_ = total
		}
		// the remaining recorded ones must be the newest
		for i, hb := range h.heads {
			got := hb.head()
			w := want[len(want)-len(h.heads)+i]
			if !reflect.DeepEqual(got, w) {
				t.Fatalf("iter %d tail %d: %q want %q", iter, i, got, w)
			}
		}
	}
}
