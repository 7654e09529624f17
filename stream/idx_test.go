package stream

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestReadIdxAgreesWithDecodeIdx: reading an index file in pieces finds the same trusted
// entries as decoding it whole, wherever the damage falls against the pieces' boundaries.
func TestReadIdxAgreesWithDecodeIdx(t *testing.T) {
	var whole []byte
	for i := range 2500 { // three pieces of 1024 entries
		whole = appendIdxEntry(whole, idxEntry{pos: uint64(i) * 10, offset: int64(i) * 100, arrivalM: int64(i)})
	}
	damaged := func(at int, b byte) []byte {
		c := slices.Clone(whole)
		c[at] ^= b
		return c
	}
	outOfOrder := slices.Clone(whole)
	copy(outOfOrder[1024*idxEntryLen:], appendIdxEntry(nil, idxEntry{pos: 1, offset: 1}))
	cases := map[string][]byte{
		"intact":                      whole,
		"empty":                       nil,
		"partial entry":               whole[:idxEntryLen-1],
		"torn last entry":             whole[:len(whole)-5],
		"one whole piece":             whole[:1024*idxEntryLen],
		"bad CRC in the second piece": damaged(1500*idxEntryLen+3, 0x40),
		"bad CRC at a piece's start":  damaged(1024*idxEntryLen, 0x01),
		"bad CRC at a piece's end":    damaged(1024*idxEntryLen-1, 0x80),
		"out of order at a boundary":  outOfOrder,
		"torn right after a boundary": whole[:1024*idxEntryLen+7],
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.idx")
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got, err := readIdx(f)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := decodeIdx(b)
			if !slices.Equal(got, want) {
				t.Errorf("readIdx found %d entries, decodeIdx %d", len(got), len(want))
			}
		})
	}
}

// FuzzReadIdx: whatever an index file holds, reading it in pieces trusts exactly the entries
// decoding it whole does.
func FuzzReadIdx(f *testing.F) {
	f.Add(appendIdxEntry(appendIdxEntry(nil, idxEntry{1, 0, 5}), idxEntry{9, 4096, 6}))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), "x.idx")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		fl, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer fl.Close()
		got, err := readIdx(fl)
		if err != nil {
			t.Fatal(err)
		}
		if want, _ := decodeIdx(b); !slices.Equal(got, want) {
			t.Fatalf("readIdx found %d entries, decodeIdx %d", len(got), len(want))
		}
	})
}

// TestActiveIndexReadInPart: after a restart that reads only the ends of the active
// segment's index (readActiveIdx), reads from every position, searches by arrival time and
// the shard's first arrival give what a full read gives; appends continue the index file in
// place, so it stays whole and valid for the next start.
func TestActiveIndexReadInPart(t *testing.T) {
	dir := t.TempDir()
	now := time.UnixMilli(1_700_000_000_000)
	clock := func() time.Time { return now }
	opts := func(eager, tail int) func(*Options) {
		return func(o *Options) {
			o.IndexIntervalBytes, o.SegmentMaxAge, o.Now = 64, 24*time.Hour, clock
			o.eagerIdxEntries, o.tailIdxEntries = eager, tail
		}
	}
	e := openTest(t, dir, opts(0, 0))
	if err := e.CreateStream(CreateInput{Name: "s", ShardCount: 1}); err != nil {
		t.Fatal(err)
	}
	const n = 300
	arrivals := make([]time.Time, 0, n+20)
	put := func(e *Engine, k int) {
		for range k {
			now = now.Add(time.Second)
			arrivals = append(arrivals, now)
			putN(t, e, "s", 1, "r")
		}
	}
	put(e, n)
	closeTest(t, e)
	idxPath, _ := filepath.Glob(filepath.Join(dir, "kinesis", "*", "shard-000000000000", "*.idx"))
	if len(idxPath) != 1 {
		t.Fatalf("index files %v", idxPath)
	}
	before, err := os.ReadFile(idxPath[0])
	if err != nil {
		t.Fatal(err)
	}
	full, valid := decodeIdx(before)
	if !valid || len(full) < 50 {
		t.Fatalf("index of %d entries (valid %v); the test needs many", len(full), valid)
	}

	e = openTest(t, dir, opts(8, 4))
	l := e.streams["s"].shards[0]
	if sg := l.active(); sg.skip != len(full)-4 || len(sg.idx) != 4 {
		t.Fatalf("restart read %d entries and left %d, want 4 and %d", len(sg.idx), sg.skip, len(full)-4)
	}
	check := func(stage string, total int) {
		t.Helper()
		for from := 0; from < total; from++ {
			res, err := e.Read("s", 0, uint64(from), 1, 1<<20)
			if err != nil || len(res.Records) != 1 || res.Records[0].Position != uint64(from) {
				t.Fatalf("%s: read from %d: %+v %v", stage, from, res.Records, err)
			}
		}
		for i, at := range arrivals[:total] {
			if pos, err := e.FindTime("s", 0, at); err != nil || pos != uint64(i) {
				t.Fatalf("%s: FindTime of record %d's arrival = %d %v", stage, i, pos, err)
			}
		}
	}
	check("after a restart", n)
	put(e, 20)
	check("after appends", n+20)
	closeTest(t, e)

	after, err := os.ReadFile(idxPath[0])
	if err != nil {
		t.Fatal(err)
	}
	got, valid := decodeIdx(after)
	if !valid || !bytes.HasPrefix(after, before) || len(got) <= len(full) {
		t.Fatalf("index after appends: %d entries (valid %v), the old ones kept: %v", len(got), valid, bytes.HasPrefix(after, before))
	}
	e = openTest(t, dir, opts(0, 0))
	check("after a restart reading the whole index", n+20)
	if sg := e.streams["s"].shards[0].active(); sg.skip != 0 || !slices.Equal(sg.idx, got) {
		t.Fatalf("a full read found %d entries, the file holds %d", len(sg.idx), len(got))
	}
	closeTest(t, e)
}
