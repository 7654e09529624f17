package stream

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// damageFixture is a one-shard stream whose log has three sealed segments of nine records
// and an active one of seven, with a sparse-index entry every third record, so damage can
// be put before, at and after an index entry, in the oldest segment, in the one sealed
// last, and in the active one before and after the point start-up recovery scans from.
type damageFixture struct {
	dir   string
	logs  []string  // segment logs, oldest first
	idxs  []string  // their indexes
	bases []uint64  // their first positions
	offs  [][]int64 // frame offsets per segment
	n     uint64    // records written
	// lazy has the checks' restarts read the active segment's index in part: its first
	// entry and its last, the middle one when a read needs it (readActiveIdx).
	lazy bool
}

const (
	fixOldest = 0
	fixSealed = 2
	fixActive = 3
)

func fixtureOpts(logs *bytes.Buffer, lazy bool) func(*Options) {
	return func(o *Options) {
		o.SegmentMaxBytes = 600
		o.IndexIntervalBytes = 150
		if lazy {
			o.eagerIdxEntries, o.tailIdxEntries = 1, 1
		}
		o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
}

func fixtureData(pos uint64) string { return fmt.Sprintf("r-%03d-%s", pos, strings.Repeat("x", 34)) }

func newDamageFixture(t *testing.T) *damageFixture {
	t.Helper()
	fx := &damageFixture{dir: t.TempDir(), n: 34}
	e := openTest(t, fx.dir, fixtureOpts(&bytes.Buffer{}, false))
	if err := e.CreateStream(CreateInput{Name: "s", ShardCount: 1}); err != nil {
		t.Fatal(err)
	}
	for p := uint64(0); p < fx.n; p++ {
		if _, err := e.Put(context.Background(), "s", []PutEntry{{PartitionKey: "k", Data: []byte(fixtureData(p))}}); err != nil {
			t.Fatal(err)
		}
	}
	closeTest(t, e)
	fx.logs, _ = filepath.Glob(filepath.Join(fx.dir, "kinesis", "*", "shard-000000000000", "*.log"))
	sort.Strings(fx.logs)
	if len(fx.logs) != 4 {
		t.Fatalf("fixture has %d segments, want 4", len(fx.logs))
	}
	for _, l := range fx.logs {
		fx.idxs = append(fx.idxs, strings.TrimSuffix(l, ".log")+".idx")
		fx.offs = append(fx.offs, frameOffsets(t, l))
	}
	for i := range fx.logs {
		if i == 0 {
			fx.bases = append(fx.bases, 0)
		} else {
			fx.bases = append(fx.bases, fx.bases[i-1]+uint64(len(fx.offs[i-1])))
		}
	}
	if len(fx.offs[fixActive]) != 7 || len(fx.offs[0]) != 9 {
		t.Fatalf("fixture segments hold %d and %d records", len(fx.offs[0]), len(fx.offs[fixActive]))
	}
	return fx
}

// frameRange is the byte range of frame k of segment seg.
func (fx *damageFixture) frameRange(t *testing.T, seg, k int) (int64, int64) {
	start := fx.offs[seg][k]
	if k+1 < len(fx.offs[seg]) {
		return start, fx.offs[seg][k+1]
	}
	st, err := os.Stat(fx.logs[seg])
	if err != nil {
		t.Fatal(err)
	}
	return start, st.Size()
}

// check reopens the shard and asserts that exactly the records not in lost are read, in
// order, from the start and from every position; that the damage counters say what was
// lost; that an append lands at nextPos and is readable; and that all of it holds across
// another restart.
func (fx *damageFixture) check(t *testing.T, lost []uint64, nextPos uint64, wantRegions int64) {
	t.Helper()
	var want []uint64
	for p := uint64(0); p < fx.n; p++ {
		if !slices.Contains(lost, p) {
			want = append(want, p)
		}
	}
	logs := &bytes.Buffer{}
	e := openTest(t, fx.dir, fixtureOpts(logs, fx.lazy))
	appended := false
	assertRecords := func(stage string, want []uint64) {
		t.Helper()
		recs := readAll(t, e, "s", 0)
		var got []uint64
		for _, r := range recs {
			got = append(got, r.Position)
			wantData := fixtureData(r.Position)
			if appended && r.Position == nextPos {
				wantData = "after"
			}
			if string(r.Data) != wantData {
				t.Fatalf("%s: record %d holds %q", stage, r.Position, r.Data)
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%s: read positions\n%v\nwant\n%v\nlog:\n%s", stage, got, want, logs)
		}
		// The sparse index still leads every read to the first record at or after it.
		for from := uint64(0); from < fx.n; from++ {
			res, err := e.Read("s", 0, from, 1, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			i := sort.Search(len(want), func(i int) bool { return want[i] >= from })
			if i == len(want) {
				if len(res.Records) != 0 {
					t.Fatalf("%s: read from %d got %d, want nothing", stage, from, res.Records[0].Position)
				}
				continue
			}
			if len(res.Records) != 1 || res.Records[0].Position != want[i] {
				t.Fatalf("%s: read from %d got %+v, want position %d", stage, from, res.Records, want[i])
			}
		}
	}
	assertRecords("after restart", want)
	var regions, records int64
	for _, d := range e.Damage() {
		regions += d.Regions
		records += d.Records
	}
	if regions != wantRegions {
		t.Errorf("damage counters: %d regions, want %d\nlog:\n%s", regions, wantRegions, logs)
	}
	if wantRegions > 0 {
		if records != int64(len(lost)) {
			t.Errorf("damage counters: %d records lost, want %d", records, len(lost))
		}
		if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), fmt.Sprintf("first_lost_position=%d", lost[0])) {
			t.Errorf("damage not logged at error with the lost positions:\n%s", logs)
		}
	}
	res, err := e.Put(context.Background(), "s", []PutEntry{{PartitionKey: "k", Data: []byte("after")}})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Position != nextPos {
		t.Fatalf("append after damage got position %d, want %d", res[0].Position, nextPos)
	}
	appended = true
	want = append(want, nextPos)
	assertRecords("after append", want)
	closeTest(t, e)
	e = openTest(t, fx.dir, fixtureOpts(logs, fx.lazy))
	assertRecords("after a second restart", want)
}

func flipAt(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b [1]byte
	if _, err := f.ReadAt(b[:], off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x10
	if _, err := f.WriteAt(b[:], off); err != nil {
		t.Fatal(err)
	}
}

// One flipped byte costs the record it is in and nothing else, wherever it is: in the
// length (low byte: a plausible wrong length; high byte: an impossible one), the CRC, the
// frame's position, or the data; in the oldest segment, the one sealed last, or the active
// one; at, between and after sparse-index entries. The one exception is the active
// segment's last record, which start-up cannot tell from a torn write: it is cut, and its
// position is given to the next append.
func TestDamagedFrameCostsOnlyItsRecord(t *testing.T) {
	classes := []struct {
		name string
		at   int64 // offset within the frame
	}{
		{"length low byte", 0},
		{"length high byte", 3},
		{"checksum", 5},
		{"position", frameHeaderLen + 1},
		{"partition key", frameHeaderLen + bodyFixedLen},
		{"data", frameHeaderLen + bodyFixedLen + 1 + 20},
		{"last byte", -1},
	}
	segs := []struct {
		name string
		seg  int
		lazy bool
	}{{"oldest", fixOldest, false}, {"sealed", fixSealed, false}, {"active", fixActive, false}, {"active, index read in part", fixActive, true}}
	records := []int{0, 1, 3, 5, 6, 8} // first, before, at and after index entries, last
	if testing.Short() {
		records = []int{1, 6}
	}
	for _, sg := range segs {
		for _, k := range records {
			for _, c := range classes {
				t.Run(fmt.Sprintf("%s/record %d/%s", sg.name, k, c.name), func(t *testing.T) {
					t.Parallel()
					fx := newDamageFixture(t)
					fx.lazy = sg.lazy
					if k >= len(fx.offs[sg.seg]) {
						t.Skip("segment has fewer records")
					}
					start, end := fx.frameRange(t, sg.seg, k)
					at := start + c.at
					if c.at < 0 {
						at = end - 1
					}
					flipAt(t, fx.logs[sg.seg], at)
					pos := fx.bases[sg.seg] + uint64(k)
					if sg.seg == fixActive && k == len(fx.offs[sg.seg])-1 {
						fx.check(t, []uint64{pos}, pos, 0)
						return
					}
					fx.check(t, []uint64{pos}, fx.n, 1)
				})
			}
		}
	}
}

// A run of zeroed bytes (a lost page) across several records costs the records it touches.
func TestZeroedRunCostsTheRecordsItTouches(t *testing.T) {
	for _, tc := range []struct {
		name   string
		seg    int
		from   int   // first record touched
		to     int   // last record touched
		cutIn  int64 // bytes into the first
		cutOut int64 // bytes into the last (from its start)
	}{
		{"sealed, three records", fixSealed, 2, 4, 10, 30},
		{"oldest, from the start", fixOldest, 0, 1, 0, 5},
		{"active, across an index entry", fixActive, 2, 4, 40, 3},
		{"active, index read in part", fixActive, 2, 4, 40, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fx := newDamageFixture(t)
			fx.lazy = strings.Contains(tc.name, "in part")
			a := fx.offs[tc.seg][tc.from] + tc.cutIn
			b := fx.offs[tc.seg][tc.to] + tc.cutOut
			f, err := os.OpenFile(fx.logs[tc.seg], os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteAt(make([]byte, b-a), a); err != nil {
				t.Fatal(err)
			}
			f.Close()
			var lost []uint64
			for k := tc.from; k <= tc.to; k++ {
				lost = append(lost, fx.bases[tc.seg]+uint64(k))
			}
			fx.check(t, lost, fx.n, 1)
		})
	}
}

// A damaged sparse-index entry is detected by its checksum and the index rebuilt from the
// log; no record is lost and none is reported lost.
func TestDamagedIndexEntryIsRebuilt(t *testing.T) {
	for _, sg := range []struct {
		name string
		seg  int
		lazy bool
	}{{"oldest", fixOldest, false}, {"sealed", fixSealed, false}, {"active", fixActive, false}, {"active, index read in part", fixActive, true}} {
		for _, entry := range []int{0, 1, 2} {
			for _, at := range []int64{0, 9, 17, 25, 31} { // position, offset, arrival, CRC, padding
				t.Run(fmt.Sprintf("%s/entry %d/byte %d", sg.name, entry, at), func(t *testing.T) {
					t.Parallel()
					fx := newDamageFixture(t)
					fx.lazy = sg.lazy
					flipAt(t, fx.idxs[sg.seg], int64(entry)*idxEntryLen+at)
					fx.check(t, nil, fx.n, 0)
					raw, err := os.ReadFile(fx.idxs[sg.seg])
					if err != nil {
						t.Fatal(err)
					}
					if _, valid := decodeIdx(raw); !valid && at != 31 {
						t.Fatalf("index of the %s segment still damaged after the reads", sg.name)
					}
				})
			}
		}
	}
}

// A log cut at, just before or just after any frame boundary loses only the records past
// the cut: in the active segment they are a torn tail and their positions are reused; in a
// sealed segment they are reported lost and the segments after it are read as before.
func TestTruncatedLog(t *testing.T) {
	fx0 := newDamageFixture(t)
	for _, sg := range []struct {
		name string
		seg  int
		lazy bool
	}{{"sealed", fixSealed, false}, {"active", fixActive, false}, {"active, index read in part", fixActive, true}} {
		offs := fx0.offs[sg.seg]
		_, size := fx0.frameRange(t, sg.seg, len(offs)-1)
		bounds := append(slices.Clone(offs), size)
		for bi, b := range bounds {
			for _, d := range []int64{-1, 0, 1} {
				cut := b + d
				if cut < 0 || cut >= size {
					continue
				}
				t.Run(fmt.Sprintf("%s/boundary %d%+d", sg.name, bi, d), func(t *testing.T) {
					t.Parallel()
					fx := newDamageFixture(t)
					fx.lazy = sg.lazy
					if err := os.Truncate(fx.logs[sg.seg], cut); err != nil {
						t.Fatal(err)
					}
					kept := sort.Search(len(offs), func(i int) bool {
						end := size
						if i+1 < len(offs) {
							end = offs[i+1]
						}
						return end > cut
					})
					first := fx.bases[sg.seg] + uint64(kept)
					var lost []uint64
					for p := first; p < fx.bases[sg.seg]+uint64(len(offs)); p++ {
						lost = append(lost, p)
					}
					if sg.seg == fixActive {
						fx.check(t, lost, first, 0)
						return
					}
					fx.check(t, lost, fx.n, 1)
				})
			}
		}
	}
}

// Start-up scans the active segment past its last trusted index entry; when the index lost
// its tail (a crash before its write), that scan meets damage with intact records after it,
// which it steps over rather than cutting them off as a torn tail.
func TestRecoveryStepsOverDamageBeforeTheTail(t *testing.T) {
	for _, idx := range []string{"missing", "first entry only"} {
		for k := 0; k < 6; k++ {
			t.Run(fmt.Sprintf("index %s/record %d", idx, k), func(t *testing.T) {
				t.Parallel()
				fx := newDamageFixture(t)
				start, _ := fx.frameRange(t, fixActive, k)
				flipAt(t, fx.logs[fixActive], start+frameHeaderLen+bodyFixedLen+10)
				var err error
				if idx == "missing" {
					err = os.Remove(fx.idxs[fixActive])
				} else {
					err = os.Truncate(fx.idxs[fixActive], idxEntryLen)
				}
				if err != nil {
					t.Fatal(err)
				}
				fx.check(t, []uint64{fx.bases[fixActive] + uint64(k)}, fx.n, 1)
			})
		}
	}
}
