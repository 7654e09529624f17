package objectstore

import (
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestReopenCommitsNothing: a start on metadata that needs no change commits nothing to
// bbolt, since each commit is two fsyncs the start waits for.
func TestReopenCommitsNothing(t *testing.T) {
	dir := t.TempDir()
	open := func() (*Store, *bolt.DB) {
		db, err := bolt.Open(filepath.Join(dir, "meta.db"), 0o644, &bolt.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		s, err := Open(Options{DB: db, Dir: filepath.Join(dir, "s3")})
		if err != nil {
			db.Close()
			t.Fatal(err)
		}
		return s, db
	}
	s, db := open()
	if st := db.Stats(); st.TxStats.GetWrite() == 0 {
		t.Fatal("opening on a new metadata file wrote nothing; the count this test relies on is not kept")
	}
	if err := s.CreateBucket(ctx, "bkt", ""); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s, db = open()
	defer db.Close()
	if st := db.Stats(); st.TxStats.GetWrite() != 0 {
		t.Errorf("reopening an unchanged data dir wrote %d pages to the metadata file; want none", st.TxStats.GetWrite())
	}
	if _, err := s.HeadBucket(ctx, "bkt"); err != nil {
		t.Errorf("the bucket is gone after the reopen: %v", err)
	}
}
