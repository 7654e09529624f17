package stream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func openTest(t testing.TB, dir string, mod func(*Options)) *Engine {
	t.Helper()
	// No test here pulls the plug, so bbolt's fsyncs would only make the suite slow.
	db, err := bolt.Open(filepath.Join(dir, "meta.db"), 0o644, &bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Dir: filepath.Join(dir, "kinesis"), DB: db, RetentionInterval: time.Hour}
	if mod != nil {
		mod(&opts)
	}
	e, err := Open(opts)
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(); db.Close() })
	return e
}

func closeTest(t *testing.T, e *Engine) {
	t.Helper()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.opts.DB.Close(); err != nil {
		t.Fatal(err)
	}
}

func putN(t *testing.T, e *Engine, name string, n int, prefix string) []PutResult {
	t.Helper()
	var out []PutResult
	for i := 0; i < n; i++ {
		res, err := e.Put(context.Background(), name, []PutEntry{{PartitionKey: "k", Data: []byte(fmt.Sprintf("%s-%d", prefix, i))}})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, res...)
	}
	return out
}

func readAll(t *testing.T, e *Engine, name string, shard int) []Record {
	t.Helper()
	var out []Record
	from := uint64(0)
	for {
		res, err := e.Read(name, shard, from, 1000, 10<<20)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, res.Records...)
		if res.Next >= res.Tip {
			return out
		}
		from = res.Next
	}
}

func TestSplitHashRangeMatchesAWS(t *testing.T) {
	got := SplitHashRange(5)
	want := [][2]string{
		{"0", "68056473384187692692674921486353642290"},
		{"68056473384187692692674921486353642291", "136112946768375385385349842972707284581"},
		{"136112946768375385385349842972707284582", "204169420152563078078024764459060926872"},
		{"204169420152563078078024764459060926873", "272225893536750770770699685945414569163"},
		{"272225893536750770770699685945414569164", "340282366920938463463374607431768211455"},
	}
	for i := range want {
		if got[i][0].String() != want[i][0] || got[i][1].String() != want[i][1] {
			t.Errorf("shard %d: got %s-%s want %s-%s", i, got[i][0], got[i][1], want[i][0], want[i][1])
		}
	}
	if h := PartitionHash("some key").String(); h != "272920532051804358254284401303063794804" {
		t.Errorf("md5(some key) = %s", h)
	}
}

func TestParseHashKeyBad(t *testing.T) {
	for _, s := range []string{"", "-1", "1.5", "abc", " 1", "340282366920938463463374607431768211456", "9999999999999999999999999999999999999999"} {
		if _, err := ParseHashKey(s); err == nil {
			t.Errorf("ParseHashKey(%q) accepted", s)
		}
	}
	for _, s := range []string{"0", "340282366920938463463374607431768211455", "0001"} {
		if _, err := ParseHashKey(s); err != nil {
			t.Errorf("ParseHashKey(%q): %v", s, err)
		}
	}
}

func TestPutReadRestart(t *testing.T) {
	dir := t.TempDir()
	e := openTest(t, dir, func(o *Options) { o.SegmentMaxBytes = 2048; o.IndexIntervalBytes = 128 })
	if err := e.CreateStream(CreateInput{Name: "s", ShardCount: 1}); err != nil {
		t.Fatal(err)
	}
	if err := e.CreateStream(CreateInput{Name: "s", ShardCount: 1}); !errors.Is(err, ErrStreamExists) {
		t.Fatalf("duplicate create: %v", err)
	}
	first := putN(t, e, "s", 500, "a")
	for i, r := range first {
		if r.Position != uint64(i) {
			t.Fatalf("position %d = %d", i, r.Position)
		}
	}
	closeTest(t, e)
	if segs, _ := filepath.Glob(filepath.Join(dir, "kinesis", "*", "shard-000000000000", "*.log")); len(segs) < 5 {
		t.Fatalf("expected several segments, got %d", len(segs))
	}
	e = openTest(t, dir, func(o *Options) { o.SegmentMaxBytes = 2048; o.IndexIntervalBytes = 128 })
	more := putN(t, e, "s", 10, "b")
	if more[0].Position != 500 {
		t.Fatalf("positions did not continue: %d", more[0].Position)
	}
	recs := readAll(t, e, "s", 0)
	if len(recs) != 510 {
		t.Fatalf("read %d records", len(recs))
	}
	for i, r := range recs {
		want := fmt.Sprintf("a-%d", i)
		if i >= 500 {
			want = fmt.Sprintf("b-%d", i-500)
		}
		if string(r.Data) != want || r.Position != uint64(i) || r.PartitionKey != "k" {
			t.Fatalf("record %d = %+v", i, r)
		}
	}
	// Reads from any position cost a seek: check every start point.
	for _, from := range []uint64{0, 1, 77, 250, 499, 500, 509} {
		res, err := e.Read("s", 0, from, 3, 1<<20)
		if err != nil || len(res.Records) == 0 || res.Records[0].Position != from {
			t.Fatalf("read from %d: %+v %v", from, res, err)
		}
	}
}

func TestTornTailRecovery(t *testing.T) {
	for _, tc := range []struct {
		name    string
		corrupt func(t *testing.T, path string, offsets []int64)
		keep    int
	}{
		{"truncate mid-record", func(t *testing.T, p string, off []int64) { os.Truncate(p, off[7]+5) }, 7},
		{"truncate mid-header", func(t *testing.T, p string, off []int64) { os.Truncate(p, off[9]+3) }, 9},
		// A flipped bit with intact records after it is not a torn tail: see damage_test.go.
		{"flip a bit in the last record", func(t *testing.T, p string, off []int64) { flip(t, p, off[9]+28) }, 9},
		{"garbage appended", func(t *testing.T, p string, off []int64) {
			f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
			f.Write([]byte("garbage that is not a frame"))
			f.Close()
		}, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			// Recovery scans past the last index entry; with the default interval that is
			// the whole of this small segment.
			e := openTest(t, dir, nil)
			e.CreateStream(CreateInput{Name: "s", ShardCount: 1})
			putN(t, e, "s", 10, "r")
			closeTest(t, e)
			logs, _ := filepath.Glob(filepath.Join(dir, "kinesis", "*", "shard-000000000000", "*.log"))
			offsets := frameOffsets(t, logs[0])
			tc.corrupt(t, logs[0], offsets)
			e = openTest(t, dir, nil)
			recs := readAll(t, e, "s", 0)
			if len(recs) != tc.keep {
				t.Fatalf("kept %d records, want %d", len(recs), tc.keep)
			}
			for i, r := range recs {
				if string(r.Data) != fmt.Sprintf("r-%d", i) {
					t.Fatalf("record %d = %q", i, r.Data)
				}
			}
			res := putN(t, e, "s", 1, "after")
			if res[0].Position != uint64(tc.keep) {
				t.Fatalf("next position %d", res[0].Position)
			}
			if recs := readAll(t, e, "s", 0); string(recs[len(recs)-1].Data) != "after-0" {
				t.Fatalf("append after recovery not readable")
			}
		})
	}
}

// A flipped bit behind the recovery point (in data the index vouches for) is found by the
// reader's CRC check: the damaged record is skipped, the records on both sides are served.
func TestBitRotInSealedData(t *testing.T) {
	dir := t.TempDir()
	mod := func(o *Options) { o.SegmentMaxBytes = 300; o.IndexIntervalBytes = 64 }
	e := openTest(t, dir, mod)
	e.CreateStream(CreateInput{Name: "s", ShardCount: 1})
	putN(t, e, "s", 40, "r")
	closeTest(t, e)
	logs, _ := filepath.Glob(filepath.Join(dir, "kinesis", "*", "shard-000000000000", "*.log"))
	sort.Strings(logs)
	offsets := frameOffsets(t, logs[1])
	flip(t, logs[1], offsets[2]+28)
	e = openTest(t, dir, mod)
	recs := readAll(t, e, "s", 0)
	perSeg := len(frameOffsets(t, logs[0]))
	if len(recs) != 39 || string(recs[perSeg+1].Data) != fmt.Sprintf("r-%d", perSeg+1) || string(recs[perSeg+2].Data) != fmt.Sprintf("r-%d", perSeg+3) {
		t.Fatalf("damaged record served, or intact records lost: %d records", len(recs))
	}
	if string(recs[len(recs)-1].Data) != "r-39" {
		t.Fatalf("records after the damaged segment lost")
	}
}

func flip(t *testing.T, path string, off int64) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[off] ^= 0x10
	os.WriteFile(path, b, 0o644)
}

func frameOffsets(t *testing.T, path string) []int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []int64
	off := 0
	for off < len(b) {
		_, n, err := decodeFrame(b[off:])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, int64(off))
		off += n
	}
	return out
}

func TestCorruptIndexIsRebuilt(t *testing.T) {
	dir := t.TempDir()
	mod := func(o *Options) { o.SegmentMaxBytes = 1024; o.IndexIntervalBytes = 64 }
	e := openTest(t, dir, mod)
	e.CreateStream(CreateInput{Name: "s", ShardCount: 1})
	putN(t, e, "s", 200, "r")
	closeTest(t, e)
	idx, _ := filepath.Glob(filepath.Join(dir, "kinesis", "*", "shard-000000000000", "*.idx"))
	sort.Strings(idx)
	os.WriteFile(idx[0], []byte("not an index at all, not at all, not an index at al"), 0o644)
	os.Remove(idx[1])
	os.Truncate(idx[len(idx)-1], 40)
	e = openTest(t, dir, mod)
	if recs := readAll(t, e, "s", 0); len(recs) != 200 {
		t.Fatalf("read %d", len(recs))
	}
}

func TestRetentionAndFindTime(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	dir := t.TempDir()
	e := openTest(t, dir, func(o *Options) { o.Now = clock.Now; o.SegmentMaxAge = time.Hour })
	e.CreateStream(CreateInput{Name: "s", ShardCount: 1})
	// Three hours of records, one segment per hour.
	for h := 0; h < 30; h++ {
		putN(t, e, "s", 2, fmt.Sprintf("h%d", h))
		clock.Add(time.Hour)
	}
	pos, err := e.FindTime("s", 0, time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC))
	if err != nil || pos != 20 {
		t.Fatalf("FindTime = %d %v", pos, err)
	}
	b, _ := e.Bounds("s", 0)
	// now = 30:00; retention 24h keeps records from 06:00 on.
	if b.First != 12 || b.Tip != 60 {
		t.Fatalf("bounds %+v", b)
	}
	recs := readAll(t, e, "s", 0)
	if len(recs) != 48 || string(recs[0].Data) != "h6-0" {
		t.Fatalf("retention filter: %d records, first %q", len(recs), recs[0].Data)
	}
	before, _ := filepath.Glob(filepath.Join(dir, "kinesis", "*", "*", "*.log"))
	e.EnforceRetention()
	after, _ := filepath.Glob(filepath.Join(dir, "kinesis", "*", "*", "*.log"))
	if len(after) >= len(before) || len(after) < 24 {
		t.Fatalf("segments before %d after %d", len(before), len(after))
	}
	if recs := readAll(t, e, "s", 0); len(recs) != 48 {
		t.Fatalf("after deletion read %d", len(recs))
	}
}

func TestWatchWakesTipReader(t *testing.T) {
	e := openTest(t, t.TempDir(), nil)
	e.CreateStream(CreateInput{Name: "s", ShardCount: 1})
	tip, ch, err := e.Watch("s", 0)
	if err != nil || tip != 0 {
		t.Fatal(tip, err)
	}
	select {
	case <-ch:
		t.Fatal("woken without an append")
	default:
	}
	go e.Put(context.Background(), "s", []PutEntry{{PartitionKey: "k", Data: []byte("x")}})
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("not woken")
	}
}

func TestConcurrentPutsGroupCommit(t *testing.T) {
	e := openTest(t, t.TempDir(), func(o *Options) { o.Fsync = FsyncPolicy{Always: true} })
	e.CreateStream(CreateInput{Name: "s", ShardCount: 2})
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[[2]uint64]bool{}
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				res, err := e.Put(context.Background(), "s", []PutEntry{
					{PartitionKey: fmt.Sprint(w, i), Data: []byte{byte(w), byte(i)}},
					{PartitionKey: fmt.Sprint(i, w), Data: []byte{byte(i), byte(w)}},
				})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for _, r := range res {
					k := [2]uint64{uint64(r.Shard), r.Position}
					if seen[k] {
						t.Errorf("position reused: %v", k)
					}
					seen[k] = true
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	n := len(readAll(t, e, "s", 0)) + len(readAll(t, e, "s", 1))
	if n != 1600 || len(seen) != 1600 {
		t.Fatalf("read %d, acknowledged %d", n, len(seen))
	}
}

func TestDeleteAndRecreate(t *testing.T) {
	dir := t.TempDir()
	e := openTest(t, dir, nil)
	e.CreateStream(CreateInput{Name: "s", ShardCount: 1})
	putN(t, e, "s", 3, "old")
	old, _ := e.Describe("s")
	if err := e.DeleteStream("s"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Put(context.Background(), "s", []PutEntry{{PartitionKey: "k"}}); !errors.Is(err, ErrStreamNotFound) {
		t.Fatalf("put after delete: %v", err)
	}
	e.CreateStream(CreateInput{Name: "s", ShardCount: 1})
	cur, _ := e.Describe("s")
	if cur.Created.Equal(old.Created) {
		t.Fatal("re-created stream has the old identity")
	}
	if recs := readAll(t, e, "s", 0); len(recs) != 0 {
		t.Fatalf("old records visible: %d", len(recs))
	}
	dirs, _ := os.ReadDir(filepath.Join(dir, "kinesis"))
	if len(dirs) != 1 {
		t.Fatalf("%d stream dirs", len(dirs))
	}
}

func TestCreatingThenActive(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	e := openTest(t, t.TempDir(), func(o *Options) { o.Now = clock.Now; o.CreateDelay = time.Second })
	e.CreateStream(CreateInput{Name: "s", Mode: ModeOnDemand})
	info, _ := e.Describe("s")
	if info.Status != StatusCreating || len(info.Shards) != 4 {
		t.Fatalf("%+v", info)
	}
	var na *NotActiveError
	if _, err := e.Put(context.Background(), "s", []PutEntry{{PartitionKey: "k"}}); !errors.As(err, &na) || na.Status != StatusCreating {
		t.Fatalf("put while creating: %v", err)
	}
	clock.Add(time.Second)
	if info, _ := e.Describe("s"); info.Status != StatusActive {
		t.Fatalf("status %s", info.Status)
	}
}

func TestFrameDecodeBadInputs(t *testing.T) {
	good := appendFrame(nil, 7, 1234, "key", []byte("data"))
	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, errShortFrame},
		{"short header", good[:5], errShortFrame},
		{"short body", good[:len(good)-1], errShortFrame},
		{"length too small", append([]byte{1, 0, 0, 0}, good[4:]...), errBadFrame},
		{"length too large", append([]byte{0xff, 0xff, 0xff, 0xff}, good[4:]...), errBadFrame},
		{"bad crc", append(append([]byte{}, good[:4]...), append([]byte{0, 0, 0, 0}, good[8:]...)...), errBadFrame},
	} {
		if _, _, err := decodeFrame(tc.in); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v want %v", tc.name, err, tc.want)
		}
	}
	f, n, err := decodeFrame(good)
	if err != nil || n != len(good) || f.pos != 7 || f.arrivalM != 1234 || string(f.key) != "key" || string(f.data) != "data" {
		t.Fatalf("round trip: %+v %d %v", f, n, err)
	}
}

func FuzzDecodeFrame(f *testing.F) {
	f.Add(appendFrame(nil, 1, 2, "k", []byte("v")))
	f.Add(appendFrame(appendFrame(nil, 1, 2, "", nil), 2, 3, "pk", bytes.Repeat([]byte{0xab}, 100)))
	f.Add([]byte{})
	f.Add([]byte{18, 0, 0, 0, 1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, b []byte) {
		for len(b) > 0 {
			fr, n, err := decodeFrame(b)
			if err != nil {
				return
			}
			re := appendFrame(nil, fr.pos, fr.arrivalM, string(fr.key), fr.data)
			if !bytes.Equal(re, b[:n]) {
				t.Fatalf("re-encoding differs")
			}
			b = b[n:]
		}
	})
}

func FuzzDecodeIndex(f *testing.F) {
	f.Add(appendIdxEntry(appendIdxEntry(nil, idxEntry{1, 0, 5}), idxEntry{9, 4096, 6}))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, _ := decodeIdx(b)
		for i := 1; i < len(entries); i++ {
			if entries[i].pos <= entries[i-1].pos {
				t.Fatal("unordered entries accepted")
			}
		}
	})
}

// BenchmarkPut measures Engine.Put of 100-byte records into a 4-shard stream: one record a
// call (PutRecord's shape) and 500 under distinct keys (PutRecords').
// Run: go test ./stream -run '^$' -bench Put -benchmem
func BenchmarkPut(b *testing.B) {
	for _, n := range []int{1, 500} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			e := openTest(b, b.TempDir(), nil)
			if err := e.CreateStream(CreateInput{Name: "s", ShardCount: 4}); err != nil {
				b.Fatal(err)
			}
			entries := make([]PutEntry, n)
			for i := range entries {
				entries[i] = PutEntry{PartitionKey: "key-" + strconv.Itoa(i), Data: make([]byte, 100)}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if _, err := e.Put(context.Background(), "s", entries); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
