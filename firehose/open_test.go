package firehose

import (
	"context"
	"testing"
)

// TestReopenCommitsNothing: a start on metadata that needs no change commits nothing to
// bbolt, since each commit is two fsyncs the start waits for.
func TestReopenCommitsNothing(t *testing.T) {
	env := openTest(t)
	if _, err := env.e.Create(baseConfig("ds", nil), nil); err != nil {
		t.Fatal(err)
	}
	if err := env.e.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := env.db.Stats()
	before := st.TxStats.GetWrite()
	if before == 0 {
		t.Fatal("creating a delivery stream wrote nothing; the count this test relies on is not kept")
	}
	env.reopen(t)
	st = env.db.Stats()
	if got := st.TxStats.GetWrite() - before; got != 0 {
		t.Errorf("reopening an unchanged data dir wrote %d pages to the metadata file; want none", got)
	}
	if _, err := env.e.Describe("ds"); err != nil {
		t.Errorf("the delivery stream is gone after the reopen: %v", err)
	}
}
