package app

import (
	"context"
	"runtime"
	"sync"
	"testing"
)

// TestByteGate: bytes are granted first come, first served; a waiter that gives up takes
// nothing and does not block those behind it; a request larger than the gate passes alone.
func TestByteGate(t *testing.T) {
	g := newByteGate(10)
	bg := context.Background()
	if got := g.acquire(bg, 8); got != 8 {
		t.Fatalf("acquire 8 of 10: got %d", got)
	}
	canceled, cancel := context.WithCancel(bg)
	cancel()
	if got := g.acquire(canceled, 5); got != 0 {
		t.Fatalf("acquire 5 with 2 free and the context over: got %d, want 0", got)
	}
	if got := g.acquire(bg, 2); got != 2 {
		t.Fatalf("acquire 2 with 2 free: got %d", got)
	}

	// Two waiters queue; the first gives up, and the second gets its bytes on release.
	ctx1, give1 := context.WithCancel(bg)
	var wg sync.WaitGroup
	results := make([]int64, 2)
	wg.Add(1)
	go func() { defer wg.Done(); results[0] = g.acquire(ctx1, 10) }()
	for g.queued() < 1 {
		runtime.Gosched()
	}
	wg.Add(1)
	go func() { defer wg.Done(); results[1] = g.acquire(bg, 3) }()
	for g.queued() < 2 {
		runtime.Gosched()
	}
	give1()
	for g.queued() > 1 {
		runtime.Gosched()
	}
	g.release(8)
	wg.Wait()
	if results[0] != 0 || results[1] != 3 {
		t.Fatalf("waiters got %v, want [0 3]", results)
	}
	g.release(2)
	g.release(3)
	if g.inUse() != 0 {
		t.Fatalf("in use %d after every release, want 0", g.inUse())
	}
	if got := g.acquire(bg, 1<<40); got != 10 {
		t.Fatalf("acquire more than the gate holds: got %d, want the whole gate (10)", got)
	}
	g.release(10)
}
