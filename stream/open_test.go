package stream

import (
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestReopenCommitsNothing: a start on metadata that needs no change commits nothing to
// bbolt, since each commit is two fsyncs the start waits for. openTest opens a new bolt.DB,
// so its write count starts at zero.
func TestReopenCommitsNothing(t *testing.T) {
	dir := t.TempDir()
	e := openTest(t, dir, nil)
	if got := writes(e.opts.DB); got == 0 {
		t.Fatal("opening on a new metadata file wrote nothing; the count this test relies on is not kept")
	}
	if err := e.CreateStream(CreateInput{Name: "s", ShardCount: 2}); err != nil {
		t.Fatal(err)
	}
	closeTest(t, e)
	e = openTest(t, dir, nil)
	if got := writes(e.opts.DB); got != 0 {
		t.Errorf("reopening an unchanged data dir wrote %d pages to the metadata file; want none", got)
	}
	if _, err := e.Describe("s"); err != nil {
		t.Errorf("the stream is gone after the reopen: %v", err)
	}
}

// writes is how many pages db has written since it was opened.
func writes(db *bolt.DB) int64 {
	st := db.Stats()
	return st.TxStats.GetWrite()
}
