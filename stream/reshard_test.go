package stream

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func hk(t *testing.T, s string) HashKey {
	t.Helper()
	h, err := ParseHashKey(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func describe(t *testing.T, e *Engine, name string) StreamInfo {
	t.Helper()
	info, err := e.Describe(name)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func openShardsOf(info StreamInfo) []ShardInfo {
	var out []ShardInfo
	for _, sh := range info.Shards {
		if !sh.Closed {
			out = append(out, sh)
		}
	}
	return out
}

func TestSplitShard(t *testing.T) {
	dir := t.TempDir()
	e := openTest(t, dir, nil)
	if err := e.CreateStream(CreateInput{Name: "s", ShardCount: 1}); err != nil {
		t.Fatal(err)
	}
	putN(t, e, "s", 5, "before")
	mid := hk(t, "170141183460469231731687303715884105728") // 2^127
	for _, bad := range []string{"0", "1", "340282366920938463463374607431768211455"} {
		if err := e.SplitShard("s", 0, hk(t, bad)); !errors.Is(err, ErrHashKeyOutside) {
			t.Fatalf("split at %s: %v", bad, err)
		}
	}
	if err := e.SplitShard("s", 1, mid); !errors.Is(err, ErrShardNotFound) {
		t.Fatalf("split of a missing shard: %v", err)
	}
	if err := e.SplitShard("s", 0, mid); err != nil {
		t.Fatal(err)
	}
	info := describe(t, e, "s")
	if info.Status != StatusActive || len(info.Shards) != 3 {
		t.Fatalf("after split: %+v", info)
	}
	p, a, b := info.Shards[0], info.Shards[1], info.Shards[2]
	if !p.Closed || p.End != 5 || !slices.Equal(p.Children, []int{1, 2}) {
		t.Fatalf("parent %+v", p)
	}
	if a.Closed || !slices.Equal(a.Parents, []int{0}) || a.StartKey != (HashKey{}) || a.EndKey != mid.sub(1) ||
		b.StartKey != mid || b.EndKey != MaxHashKey || !slices.Equal(b.Parents, []int{0}) {
		t.Fatalf("children %+v %+v", a, b)
	}
	if err := e.SplitShard("s", 0, mid); !errors.Is(err, ErrShardClosed) {
		t.Fatalf("split of a closed shard: %v", err)
	}
	// New records go to the child holding their hash key; the parent keeps its records.
	for i := 0; i < 20; i++ {
		key := fmt.Sprint("k", i)
		res, err := e.Put(context.Background(), "s", []PutEntry{{PartitionKey: key, Data: []byte(key)}})
		if err != nil {
			t.Fatal(err)
		}
		want := 1
		if PartitionHash(key).Cmp(mid) >= 0 {
			want = 2
		}
		if res[0].Shard != want || !res[0].ShardCreated.Equal(info.Shards[want].Created) {
			t.Fatalf("%s went to shard %d, want %d", key, res[0].Shard, want)
		}
	}
	if n := len(readAll(t, e, "s", 0)); n != 5 {
		t.Fatalf("parent holds %d records", n)
	}
	closeTest(t, e)

	// The map and the seal survive a restart.
	e = openTest(t, dir, nil)
	again := describe(t, e, "s")
	if len(again.Shards) != 3 || !again.Shards[0].Closed || again.Shards[0].End != 5 {
		t.Fatalf("after restart: %+v", again.Shards)
	}
	if _, _, err := e.shards(t, "s")[0].append([]string{"k"}, [][]byte{nil}); !errors.Is(err, errSealed) {
		t.Fatalf("append to a closed shard after restart: %v", err)
	}
	if n := len(readAll(t, e, "s", 1)) + len(readAll(t, e, "s", 2)); n != 20 {
		t.Fatalf("children hold %d records", n)
	}
}

// shards returns a stream's logs, for tests that reach below Put.
func (e *Engine) shards(t *testing.T, name string) []*shardLog {
	t.Helper()
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.streams[name].shards
}

func TestMergeShards(t *testing.T) {
	e := openTest(t, t.TempDir(), nil)
	e.CreateStream(CreateInput{Name: "s", ShardCount: 3})
	if err := e.MergeShards("s", 0, 2); !errors.Is(err, ErrNotAdjacent) {
		t.Fatalf("merge of non-adjacent shards: %v", err)
	}
	if err := e.MergeShards("s", 2, 1); !errors.Is(err, ErrNotAdjacent) {
		t.Fatalf("merge of a pair in reverse order: %v", err)
	}
	if err := e.MergeShards("s", 1, 2); err != nil {
		t.Fatal(err)
	}
	info := describe(t, e, "s")
	c := info.Shards[3]
	if !slices.Equal(c.Parents, []int{1, 2}) || c.StartKey != info.Shards[1].StartKey || c.EndKey != MaxHashKey {
		t.Fatalf("child %+v", c)
	}
	if err := e.MergeShards("s", 1, 0); !errors.Is(err, ErrShardClosed) {
		t.Fatalf("merge of a closed shard: %v", err)
	}
	if err := e.MergeShards("s", 0, 3); err != nil {
		t.Fatal(err)
	}
	if open := openShardsOf(describe(t, e, "s")); len(open) != 1 || open[0].Index != 4 || open[0].EndKey != MaxHashKey {
		t.Fatalf("open shards %+v", open)
	}
}

// TestUpdateShardCountModel checks planUniform against what UNIFORM_SCALING promises, over
// random sequences of splits, merges and scalings: the open shards end up exactly
// SplitHashRange(target); every shard has at most two parents, all closed; each closed
// shard's children cover exactly its range (split) or it and its sibling's (merge); and the
// open shards always tile the key space.
func TestUpdateShardCountModel(t *testing.T) {
	for seed := range 30 {
		rng := rand.New(rand.NewPCG(uint64(seed), 1))
		e := openTest(t, t.TempDir(), nil)
		e.CreateStream(CreateInput{Name: "s", ShardCount: 1 + rng.IntN(6)})
		for op := 0; op < 8; op++ {
			info := describe(t, e, "s")
			open := openShardsOf(info)
			switch rng.IntN(3) {
			case 0:
				sh := open[rng.IntN(len(open))]
				if w := sh.EndKey.big(); w.Sub(w, sh.StartKey.big()).BitLen() > 8 {
					k := sh.StartKey.add(2 + rng.Uint64N(100))
					if err := e.SplitShard("s", sh.Index, k); err != nil {
						t.Fatal(err)
					}
				}
			case 1:
				if len(open) > 1 {
					sortByStart(open)
					i := rng.IntN(len(open) - 1)
					if err := e.MergeShards("s", open[i].Index, open[i+1].Index); err != nil {
						t.Fatal(err)
					}
				}
			default:
				n := len(open)
				target := (n+1)/2 + rng.IntN(2*n-(n+1)/2+1)
				e.mu.Lock()
				e.streams["s"].meta.Scalings = nil // the rate limit has its own test
				e.mu.Unlock()
				cur, err := e.UpdateShardCount("s", target)
				if err != nil || cur != n {
					t.Fatalf("seed %d: scaling %d → %d: %d, %v", seed, n, target, cur, err)
				}
				got := openShardsOf(describe(t, e, "s"))
				sortByStart(got)
				want := SplitHashRange(target)
				if len(got) != len(want) {
					t.Fatalf("seed %d: %d → %d gave %d shards", seed, n, target, len(got))
				}
				for i := range want {
					if got[i].StartKey != want[i][0] || got[i].EndKey != want[i][1] {
						t.Fatalf("seed %d: shard %d range %v–%v, want %v", seed, i, got[i].StartKey, got[i].EndKey, want[i])
					}
				}
			}
			checkLineage(t, describe(t, e, "s"))
		}
	}
}

func sortByStart(s []ShardInfo) {
	slices.SortFunc(s, func(a, b ShardInfo) int { return a.StartKey.Cmp(b.StartKey) })
}

func checkLineage(t *testing.T, info StreamInfo) {
	t.Helper()
	open := openShardsOf(info)
	sortByStart(open)
	next := HashKey{}
	for i, sh := range open {
		if sh.StartKey != next {
			t.Fatalf("open shards leave a gap or overlap before %s", sh.ID)
		}
		if i < len(open)-1 {
			next = sh.EndKey.add(1)
		} else if sh.EndKey != MaxHashKey {
			t.Fatalf("last open shard ends at %v", sh.EndKey)
		}
	}
	for _, sh := range info.Shards {
		if len(sh.Parents) > 2 {
			t.Fatalf("%s has %d parents", sh.ID, len(sh.Parents))
		}
		lo, hi := MaxHashKey, HashKey{}
		for _, p := range sh.Parents {
			ps := info.Shards[p]
			if !ps.Closed || p >= sh.Index {
				t.Fatalf("%s's parent %s is open or younger", sh.ID, ps.ID)
			}
			if ps.StartKey.Cmp(lo) < 0 {
				lo = ps.StartKey
			}
			if ps.EndKey.Cmp(hi) > 0 {
				hi = ps.EndKey
			}
		}
		switch len(sh.Parents) {
		case 1:
			if sh.StartKey.Cmp(lo) < 0 || sh.EndKey.Cmp(hi) > 0 {
				t.Fatalf("%s is outside its parent", sh.ID)
			}
		case 2:
			if sh.StartKey != lo || sh.EndKey != hi {
				t.Fatalf("%s does not cover its parents", sh.ID)
			}
		}
		if sh.Closed && len(sh.Children) == 0 {
			t.Fatalf("%s is closed without children", sh.ID)
		}
	}
}

func TestUpdateShardCountRateAndMode(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	e := openTest(t, t.TempDir(), func(o *Options) { o.Now = clock.Now })
	e.CreateStream(CreateInput{Name: "s", ShardCount: 2})
	for i := 0; i < ScalingsPerDay; i++ {
		if _, err := e.UpdateShardCount("s", 2+i%2); err != nil {
			t.Fatalf("scaling %d: %v", i, err)
		}
		clock.Add(time.Minute)
	}
	if _, err := e.UpdateShardCount("s", 2); !errors.Is(err, ErrScalingRate) {
		t.Fatalf("eleventh scaling in a day: %v", err)
	}
	clock.Add(24 * time.Hour)
	if _, err := e.UpdateShardCount("s", 2); err != nil {
		t.Fatalf("a day later: %v", err)
	}
	if err := e.UpdateStreamMode("s", ModeProvisioned); !errors.Is(err, ErrModeUnchanged) {
		t.Fatalf("same mode: %v", err)
	}
	if err := e.UpdateStreamMode("s", ModeOnDemand); err != nil {
		t.Fatal(err)
	}
	if info := describe(t, e, "s"); info.Mode != ModeOnDemand {
		t.Fatalf("mode %s", info.Mode)
	}
	if _, err := e.UpdateShardCount("s", 4); !errors.Is(err, ErrNotProvisioned) {
		t.Fatalf("scaling an on-demand stream: %v", err)
	}
}

// TestPendingReshardSurvivesRestart: a split accepted under a create delay keeps the stream
// UPDATING (readable and writable, refusing other changes) with the old map, across a
// restart, and takes effect at the next start after its time, with child directories a
// crashed attempt left behind reused and its seal of the parent removed.
func TestPendingReshardSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	clock := &fakeClock{t: time.Now()}
	opts := func(o *Options) { o.Now = clock.Now; o.CreateDelay = time.Hour }
	e := openTest(t, dir, opts)
	e.CreateStream(CreateInput{Name: "s", ShardCount: 1})
	clock.Add(time.Hour)
	if err := e.SplitShard("s", 0, hk(t, "1000")); err != nil {
		t.Fatal(err)
	}
	info := describe(t, e, "s")
	if info.Status != StatusUpdating || len(info.Shards) != 1 {
		t.Fatalf("while updating: %+v", info)
	}
	var na *NotActiveError
	if err := e.MergeShards("s", 0, 0); !errors.Is(err, ErrNotAdjacent) {
		t.Fatalf("argument checks come before the status: %v", err)
	}
	if err := e.SplitShard("s", 0, hk(t, "2000")); !errors.As(err, &na) || na.Status != StatusUpdating {
		t.Fatalf("second split while updating: %v", err)
	}
	putN(t, e, "s", 3, "during")
	closeTest(t, e)
	// What a crash between opening the children and committing the map leaves behind.
	st := filepath.Join(dir, "kinesis", fmt.Sprintf("s-%d", info.Created.UnixNano()))
	if err := os.MkdirAll(shardDir(st, 1), 0o755); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(shardDir(st, 0), sealFile)
	if err := os.WriteFile(stale, []byte(`{"tip":1,"closedAt":1}`), 0o644); err != nil {
		t.Fatal(err)
	}

	e = openTest(t, dir, opts)
	if info := describe(t, e, "s"); info.Status != StatusUpdating || len(info.Shards) != 1 {
		t.Fatalf("restart before the change is due: %+v", info)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a seal the metadata does not know survived the start: %v", err)
	}
	closeTest(t, e)
	clock.Add(time.Hour)
	e = openTest(t, dir, opts)
	info = describe(t, e, "s")
	if info.Status != StatusActive || len(info.Shards) != 3 || info.Shards[0].End != 3 {
		t.Fatalf("restart after the change is due: %+v", info)
	}
}

// TestPutsDuringSplit: records acknowledged while a shard is split are each in exactly one
// shard, and one partition key's records are in order: the parent's, then the child's.
func TestPutsDuringSplit(t *testing.T) {
	e := openTest(t, t.TempDir(), nil)
	e.CreateStream(CreateInput{Name: "s", ShardCount: 1})
	const writers, per = 8, 200
	var wg sync.WaitGroup
	acked := make([][]PutResult, writers)
	// The split comes once every writer is under way, so it lands among their puts.
	var started sync.WaitGroup
	started.Add(writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			signalled := false
			signal := func() {
				if !signalled {
					signalled = true
					started.Done()
				}
			}
			defer signal() // also when a put fails early
			for i := range per {
				if i == 10 {
					signal()
				}
				res, err := e.Put(context.Background(), "s", []PutEntry{{PartitionKey: fmt.Sprint("w", w), Data: []byte(fmt.Sprint(w, "/", i))}})
				if err != nil {
					t.Error(err)
					return
				}
				acked[w] = append(acked[w], res[0])
			}
		}()
	}
	started.Wait()
	if err := e.SplitShard("s", 0, hk(t, "170141183460469231731687303715884105728")); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	seen := map[string]bool{}
	for shard := range describe(t, e, "s").Shards {
		for _, r := range readAll(t, e, "s", shard) {
			if seen[string(r.Data)] {
				t.Fatalf("%s stored twice", r.Data)
			}
			seen[string(r.Data)] = true
		}
	}
	for w, rs := range acked {
		if len(rs) != per {
			t.Fatalf("writer %d: %d acknowledged", w, len(rs))
		}
		for i, r := range rs {
			if !seen[fmt.Sprint(w, "/", i)] {
				t.Fatalf("acknowledged record %d/%d lost", w, i)
			}
			if i > 0 {
				prev := rs[i-1]
				if r.Shard == prev.Shard && r.Position <= prev.Position || r.Shard != prev.Shard && (prev.Shard != 0 || r.Shard == 0) {
					t.Fatalf("writer %d out of order: %+v then %+v", w, prev, r)
				}
			}
		}
	}
}

// BenchmarkSplitShard measures one split of an idle shard: the seal (an fsync), the
// children's logs, their lineage files and the metadata commit. Puts to the stream wait for
// about this long while a split applies.
func BenchmarkSplitShard(b *testing.B) {
	dir := b.TempDir()
	db, err := bolt.Open(filepath.Join(dir, "meta.db"), 0o644, nil)
	if err != nil {
		b.Fatal(err)
	}
	e, err := Open(Options{Dir: filepath.Join(dir, "kinesis"), DB: db, RetentionInterval: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { e.Close(); db.Close() })
	if err := e.CreateStream(CreateInput{Name: "s", ShardCount: 1}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		info, _ := e.Describe("s")
		open := openShardsOf(info)
		sh := open[len(open)-1] // the widest: the last one, which each split halves
		mid := sh.StartKey.big()
		mid.Add(mid, sh.EndKey.big()).Rsh(mid, 1)
		if err := e.SplitShard("s", sh.Index, fromBig(mid)); err != nil {
			b.Fatal(err)
		}
	}
}
