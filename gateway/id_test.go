package gateway

import "testing"

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	counts := map[rune]int{}
	for range 2000 {
		id := NewID()
		if !idRe.MatchString(id) {
			t.Fatalf("NewID() = %q, want 10 lower-case letters and digits", id)
		}
		if seen[id] {
			t.Fatalf("NewID() repeated %q", id)
		}
		seen[id] = true
		for _, r := range id {
			counts[r]++
		}
		if rid := NewResourceID(); !resourceIDRe.MatchString(rid) {
			t.Fatalf("NewResourceID() = %q", rid)
		}
	}
	// 20000 characters over 36 symbols: each expected about 555 times. Every symbol must
	// appear, and none wildly more often than the others (a modulo bias would show here).
	if len(counts) != len(IDAlphabet) {
		t.Errorf("only %d of %d symbols drawn", len(counts), len(IDAlphabet))
	}
	for r, n := range counts {
		if n < 400 || n > 720 {
			t.Errorf("symbol %q drawn %d times of 20000", r, n)
		}
	}
}
