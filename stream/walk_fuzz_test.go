package stream

import (
	"bytes"
	"fmt"
	"log/slog"
	"math/rand"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func fuzzShardConfig() *shardConfig {
	return &shardConfig{segmentMaxBytes: 1 << 20, segmentMaxAge: time.Hour, indexInterval: 100, now: time.Now}
}

// readShard reads every record of an open shard log from its start.
func readShard(t *testing.T, s *shardLog) []Record {
	t.Helper()
	var out []Record
	from := uint64(0)
	for {
		res, err := s.read(from, 7, 1<<20, 0)
		if err != nil {
			t.Fatal(err)
		}
		if res.Next <= from && res.Next < res.Tip {
			t.Fatalf("read from %d made no progress (next %d, tip %d)", from, res.Next, res.Tip)
		}
		out = append(out, res.Records...)
		if res.Next >= res.Tip {
			return out
		}
		from = res.Next
	}
}

// fuzzLog is a segment of records of varied sizes (some empty, one large), and their
// frames' offsets.
func fuzzLog() ([]byte, []int64) {
	var b []byte
	var offs []int64
	for p := uint64(0); p < 12; p++ {
		offs = append(offs, int64(len(b)))
		data := bytes.Repeat([]byte{byte('a' + p)}, int(p*p*3))
		b = appendFrame(b, p, 1_700_000_000_000+int64(p), fmt.Sprint("key", p), data)
	}
	return b, offs
}

// Any one damaged byte costs the record it is in, and nothing else: whether the segment is
// the active one (recovered at open, with no index to trust) or sealed (indexed lazily by
// its first reader), and whatever the byte was changed to.
func FuzzDamagedByteCostsOneRecord(f *testing.F) {
	log, offs := fuzzLog()
	for _, o := range offs {
		for _, d := range []int64{0, 1, 3, 4, 7, 8, 9, 16, 17, 25, 30} {
			f.Add(uint(o+d), byte(0x10), o%2 == 0)
		}
	}
	f.Add(uint(len(log)-1), byte(0xff), true)
	f.Fuzz(func(t *testing.T, at uint, x byte, sealed bool) {
		if x == 0 {
			return
		}
		b := bytes.Clone(log)
		at %= uint(len(b))
		b[at] ^= x
		hit := 0
		for i, o := range offs {
			if int64(at) >= o {
				hit = i
			}
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, segmentName(0)+".log"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		last := hit == len(offs)-1
		if sealed {
			// An active segment after this one makes it sealed.
			next := appendFrame(nil, uint64(len(offs)), 1_800_000_000_000, "k", []byte("next"))
			if err := os.WriteFile(filepath.Join(dir, segmentName(uint64(len(offs)))+".log"), next, 0o644); err != nil {
				t.Fatal(err)
			}
			last = false
		}
		s, err := openShard(dir, fuzzShardConfig(), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		defer s.close()
		recs := readShard(t, s)
		var got []uint64
		for _, r := range recs {
			got = append(got, r.Position)
			if want := bytes.Repeat([]byte{byte('a' + r.Position)}, int(r.Position*r.Position*3)); r.Position < uint64(len(offs)) && !bytes.Equal(r.Data, want) {
				t.Fatalf("record %d served with damaged data", r.Position)
			}
		}
		var want []uint64
		for p := uint64(0); p < uint64(len(offs)); p++ {
			if p != uint64(hit) {
				want = append(want, p)
			}
		}
		if sealed {
			want = append(want, uint64(len(offs)))
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("byte %d of record %d damaged: read %v, want %v", at, hit, got, want)
		}
		// Positions are never reused, but for a damaged last record of the active segment:
		// start-up cannot tell it from a torn write, so it is cut and its position reused.
		wantPos := uint64(len(offs))
		switch {
		case sealed:
			wantPos++
		case last:
			wantPos = uint64(hit)
		}
		if first, _, err := s.append([]string{"k"}, [][]byte{[]byte("new")}); err != nil || first != wantPos {
			t.Fatalf("append got position %d, %v; want %d", first, err, wantPos)
		}
	})
}

// Whatever bytes a segment holds, opening and reading it neither fails nor panics, reads
// make progress, positions only increase, and an append lands at the tip and is read back.
func FuzzRecoverSegment(f *testing.F) {
	log, offs := fuzzLog()
	f.Add(log)
	f.Add(log[:offs[5]+3])
	f.Add(append(bytes.Clone(log[:offs[4]]), log[offs[6]:]...))
	f.Add(append(bytes.Clone(log), "garbage after the frames"...))
	f.Add([]byte{})
	f.Add(make([]byte, 100))
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, segmentName(0)+".log"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := openShard(dir, fuzzShardConfig(), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		defer s.close()
		recs := readShard(t, s)
		for i := 1; i < len(recs); i++ {
			if recs[i].Position <= recs[i-1].Position {
				t.Fatalf("positions out of order: %d after %d", recs[i].Position, recs[i-1].Position)
			}
		}
		tip, _ := s.watch()
		first, _, err := s.append([]string{"k"}, [][]byte{[]byte("new")})
		if err != nil || first != tip {
			t.Fatalf("append at tip %d: %d %v", tip, first, err)
		}
		recs = readShard(t, s)
		if len(recs) == 0 || recs[len(recs)-1].Position != tip || string(recs[len(recs)-1].Data) != "new" {
			t.Fatalf("appended record not read back")
		}
	})
}

// BenchmarkResyncWorstCase measures the search past damage when nothing follows it: every
// byte of a 64 MiB segment (the default size) of random data is tried as a frame start.
func BenchmarkResyncWorstCase(b *testing.B) {
	data := make([]byte, 64<<20)
	rand.New(rand.NewSource(1)).Read(data)
	path := filepath.Join(b.TempDir(), "seg")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if c, _, err := resync(f, 0, int64(len(data)), 1000, noUpper); err != nil || c != -1 {
			b.Fatal(c, err)
		}
	}
}
