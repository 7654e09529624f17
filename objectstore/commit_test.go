package objectstore

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TestGroupCommit queues 40 updates behind one that holds the write transaction, so they
// commit as one batch; every third fails. The failures get their own errors and leave no
// writes; all the others commit.
func TestGroupCommit(t *testing.T) {
	dir := t.TempDir()
	db, err := bolt.Open(filepath.Join(dir, "meta.db"), 0o644, &bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := Open(Options{DB: db, Dir: filepath.Join(dir, "s3")})
	if err != nil {
		t.Fatal(err)
	}
	release, started := make(chan struct{}), make(chan struct{})
	first := make(chan error)
	go func() { first <- s.update(func(*bolt.Tx) error { close(started); <-release; return nil }) }()
	<-started
	var once sync.Once
	defer once.Do(func() { close(release) }) // should the test fail before releasing
	const n = 40
	errs := make([]error, n)
	runs := make([]int, n) // how often each update function ran
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.update(func(tx *bolt.Tx) error {
				mu.Lock()
				runs[i]++
				mu.Unlock()
				b, err := tx.CreateBucketIfNotExists([]byte("test"))
				if err != nil {
					return err
				}
				b.Put(fmt.Appendf(nil, "k%02d", i), []byte("v"))
				if i%3 == 0 {
					return fmt.Errorf("update %d fails", i)
				}
				return nil
			})
		}()
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		s.commits.mu.Lock()
		queued := len(s.commits.pending)
		s.commits.mu.Unlock()
		if queued == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d updates queued", queued)
		}
		time.Sleep(time.Millisecond)
	}
	once.Do(func() { close(release) })
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	retried := 0
	db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("test"))
		for i := 0; i < n; i++ {
			stored := b != nil && b.Get(fmt.Appendf(nil, "k%02d", i)) != nil
			if i%3 == 0 {
				if errs[i] == nil || errs[i].Error() != fmt.Sprintf("update %d fails", i) || stored {
					t.Errorf("update %d: err %v, stored %v", i, errs[i], stored)
				}
			} else if errs[i] != nil || !stored {
				t.Errorf("update %d: err %v, stored %v", i, errs[i], stored)
			}
			if runs[i] > 1 {
				retried++
			}
		}
		return nil
	})
	// They ran as one batch: the failures made the others run again.
	if retried == 0 {
		t.Error("no update ran twice: the queued updates were not batched")
	}
	var bf *batchFailure
	if errors.As(errs[0], &bf) {
		t.Error("the batch's internal error type escaped")
	}
}
