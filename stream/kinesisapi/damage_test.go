package kinesisapi

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	bolt "go.etcd.io/bbolt"

	"github.com/localpipe/localpipe/stream"
)

// The reproduction, through the SDK: a flipped byte in the middle of the active
// segment and one in an older segment, found after a restart, and one more in a sealed
// segment while the server runs. GetRecords from TRIM_HORIZON returns every other record,
// including those acknowledged after the restart, and the damage is counted.
func TestDamagedRecordsAreSkippedNotHidden(t *testing.T) {
	dir := t.TempDir()
	var db *bolt.DB
	onDisk := func(t *testing.T) *env {
		t.Helper()
		var err error
		db, err = bolt.Open(filepath.Join(dir, "meta.db"), 0o644, nil)
		if err != nil {
			t.Fatal(err)
		}
		e := newEnv(t, func(o *stream.Options) {
			o.Dir, o.DB = filepath.Join(dir, "kinesis"), db
			o.SegmentMaxBytes, o.IndexIntervalBytes = 1024, 128
		})
		db := db
		t.Cleanup(func() { e.eng.Close(); db.Close() })
		return e
	}
	data := func(i int) string { return fmt.Sprintf("record-%03d-%s", i, bytes.Repeat([]byte("."), 30)) }
	put := func(t *testing.T, e *env, from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			if _, err := e.kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("d"), PartitionKey: aws.String("k"), Data: []byte(data(i))}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// damage flips a byte in the middle of record i's data, wherever it is.
	damage := func(t *testing.T, i int) {
		t.Helper()
		logs, _ := filepath.Glob(filepath.Join(dir, "kinesis", "*", "*", "*.log"))
		for _, l := range logs {
			f, err := os.OpenFile(l, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(l)
			if err != nil {
				t.Fatal(err)
			}
			if at := bytes.Index(b, []byte(data(i))); at >= 0 {
				_, err := f.WriteAt([]byte{b[at+12] ^ 0x10}, int64(at+12))
				f.Close()
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			f.Close()
		}
		t.Fatalf("record %d not found in any segment", i)
	}
	readAll := func(t *testing.T, e *env) []string {
		t.Helper()
		it, err := e.kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("d"),
			ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		var last string
		iter := it.ShardIterator
		for {
			res, err := e.kc.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(7)})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range res.Records {
				if len(*r.SequenceNumber) != len(last) && last != "" || *r.SequenceNumber <= last {
					t.Fatalf("sequence number %s after %s", *r.SequenceNumber, last)
				}
				last = *r.SequenceNumber
				out = append(out, string(r.Data))
			}
			if len(res.Records) == 0 && *res.MillisBehindLatest == 0 {
				return out
			}
			iter = res.NextShardIterator
		}
	}
	want := func(n int, lost ...int) []string {
		var out []string
		for i := 0; i < n; i++ {
			if sort.SearchInts(lost, i) == len(lost) || lost[sort.SearchInts(lost, i)] != i {
				out = append(out, data(i))
			}
		}
		return out
	}
	counted := func(t *testing.T, e *env) float64 {
		t.Helper()
		mf, err := e.reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range mf {
			if f.GetName() == "localpipe_kinesis_damaged_records_total" {
				for _, m := range f.Metric {
					return m.Counter.GetValue()
				}
			}
		}
		t.Fatal("no localpipe_kinesis_damaged_records_total series")
		return 0
	}

	e := onDisk(t)
	e.create(t, "d", 1)
	put(t, e, 0, 60)
	if got := readAll(t, e); fmt.Sprint(got) != fmt.Sprint(want(60)) {
		t.Fatalf("before damage: %d records", len(got))
	}
	if err := e.eng.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	damage(t, 5)  // the oldest segment
	damage(t, 55) // the active one, before the last index entry
	e = onDisk(t)
	put(t, e, 60, 65)
	if got := readAll(t, e); fmt.Sprint(got) != fmt.Sprint(want(65, 5, 55)) {
		t.Fatalf("after a restart: read %d records\n%v", len(got), got)
	}
	damage(t, 30) // a sealed segment, while running
	if got := readAll(t, e); fmt.Sprint(got) != fmt.Sprint(want(65, 5, 30, 55)) {
		t.Fatalf("after damage while running: read %d records\n%v", len(got), got)
	}
	if n := counted(t, e); n != 3 {
		t.Fatalf("localpipe_kinesis_damaged_records_total = %v, want 3", n)
	}
}
