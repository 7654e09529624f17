package objectstore

import (
	"errors"
	"os"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// groupCommit runs the metadata updates of concurrent writes in one bbolt transaction: a
// commit costs two fsyncs whatever it holds, so writers that arrive while one commit is on
// the disk share the next. A lone writer commits at once (no batching delay, unlike
// bolt.DB.Batch). An update that fails rolls its batch back; it gets its error and the
// others run again without it, so every update function must be safe to run twice.
type groupCommit struct {
	mu      sync.Mutex
	pending []*commitReq
	running bool // a goroutine is committing; newcomers queue for the next batch
}

type commitReq struct {
	fn   func(*bolt.Tx) error
	done chan error
}

// update runs fn in a write transaction, possibly shared with other writers' updates, and
// returns once that transaction has committed (nil) or fn's or the commit's error.
func (s *Store) update(fn func(*bolt.Tx) error) error {
	req := &commitReq{fn: fn, done: make(chan error, 1)}
	g := &s.commits
	g.mu.Lock()
	g.pending = append(g.pending, req)
	lead := !g.running
	g.running = true
	g.mu.Unlock()
	if lead {
		s.commitPending()
	}
	return <-req.done
}

// commitPending commits everything queued, then hands on to a new goroutine if more queued
// meanwhile, so the writer that led returns as soon as its own batch is done.
func (s *Store) commitPending() {
	g := &s.commits
	g.mu.Lock()
	batch := g.pending
	g.pending = nil
	g.mu.Unlock()
	s.runBatch(batch)
	g.mu.Lock()
	more := len(g.pending) > 0
	if !more {
		g.running = false
	}
	g.mu.Unlock()
	if more {
		go s.commitPending()
	}
}

type batchFailure struct {
	i   int
	err error
}

func (b *batchFailure) Error() string { return b.err.Error() }

func (s *Store) runBatch(batch []*commitReq) {
	for len(batch) > 0 {
		err := s.db.Update(func(tx *bolt.Tx) error {
			for i, r := range batch {
				if err := r.fn(tx); err != nil {
					return &batchFailure{i, err}
				}
			}
			return nil
		})
		var bf *batchFailure
		if !errors.As(err, &bf) {
			for _, r := range batch {
				r.done <- err
			}
			return
		}
		batch[bf.i].done <- bf.err
		batch = append(batch[:bf.i:bf.i], batch[bf.i+1:]...)
	}
}

// renameInTx moves a finished temp blob to its final name from inside an update function,
// so a reader finds the file as soon as it can find the metadata. Run again after a batch
// rolled back, it finds the rename done and succeeds.
func renameInTx(tmp, final string) error {
	err := os.Rename(tmp, final)
	if err != nil && errors.Is(err, os.ErrNotExist) {
		if _, serr := os.Stat(final); serr == nil {
			return nil
		}
	}
	return err
}
