package app

import (
	"container/list"
	"context"
	"sync"
)

// byteGate bounds the request-body bytes held across all requests at once. Waiters are
// served first come, first served, so a large body is not starved by a stream of small
// ones.
type byteGate struct {
	mu      sync.Mutex
	size    int64
	used    int64
	waiters list.List // of *gateWaiter
}

type gateWaiter struct {
	n     int64
	ready chan struct{}
}

func newByteGate(size int64) *byteGate { return &byteGate{size: size} }

// tryAcquire takes n bytes if they are free now and nobody waits; it reports how many it
// took (n or 0).
func (g *byteGate) tryAcquire(n int64) int64 {
	n = min(n, g.size)
	if n <= 0 {
		return 0
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.used+n <= g.size && g.waiters.Len() == 0 {
		g.used += n
		return n
	}
	return 0
}

// acquire takes n bytes (at most the gate's size, so one huge request can still pass alone),
// waiting until they are free or ctx ends; it reports how many it took, 0 on failure.
func (g *byteGate) acquire(ctx context.Context, n int64) int64 {
	n = min(n, g.size)
	if n <= 0 {
		return 0
	}
	g.mu.Lock()
	if g.used+n <= g.size && g.waiters.Len() == 0 {
		g.used += n
		g.mu.Unlock()
		return n
	}
	w := &gateWaiter{n: n, ready: make(chan struct{})}
	elem := g.waiters.PushBack(w)
	g.mu.Unlock()
	select {
	case <-w.ready:
		return n
	case <-ctx.Done():
		g.mu.Lock()
		select {
		case <-w.ready:
			// Granted while giving up: hand the bytes back.
			g.used -= n
			g.notifyLocked()
		default:
			g.waiters.Remove(elem)
			// A waiter behind this one may fit now that it no longer queues first.
			g.notifyLocked()
		}
		g.mu.Unlock()
		return 0
	}
}

func (g *byteGate) release(n int64) {
	if n <= 0 {
		return
	}
	g.mu.Lock()
	g.used -= n
	g.notifyLocked()
	g.mu.Unlock()
}

func (g *byteGate) notifyLocked() {
	for e := g.waiters.Front(); e != nil; e = g.waiters.Front() {
		w := e.Value.(*gateWaiter)
		if g.used+w.n > g.size {
			return
		}
		g.used += w.n
		g.waiters.Remove(e)
		close(w.ready)
	}
}

// inUse reports the bytes held, for the metric.
func (g *byteGate) inUse() int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.used
}

// queued reports how many requests wait, for tests.
func (g *byteGate) queued() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.waiters.Len()
}
