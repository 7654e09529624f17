package stream

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
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
