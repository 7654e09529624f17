package stream

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
)

// pendingChange is a reshard or mode change that was accepted and waits for its time: the
// stream reports UPDATING until At, then the change applies in one metadata commit. A crash
// therefore leaves the shard map as it was before the change or as it is after it, and a
// change a crash interrupted is applied by the next Open.
type pendingChange struct {
	At    int64         `json:"at"`
	Steps []reshardStep `json:"steps,omitempty"`
	Mode  string        `json:"mode,omitempty"`
}

// reshardStep closes Close (one shard for a split, two for a merge, the lower range first)
// and opens one child per range in Ranges, numbered on from the stream's last shard. Steps
// apply in order, so a later step may close an earlier one's child; child indexes are fixed
// when the change is planned, since no other change can come between (the stream is
// UPDATING).
type reshardStep struct {
	Close  []int       `json:"close"`
	Ranges [][2]string `json:"ranges"`
}

// On disk, each shard a reshard opened holds its place in the lineage (lineageFile) and each
// shard it closed holds its seal (sealFile), both written and fsynced before the metadata
// commit, so that `localpipe repair` can rebuild a resharded stream's map from the logs
// alone. meta.db stays the truth: a seal left by a change a crash interrupted is removed at
// the next start, before the change is applied again.
const (
	lineageFile = "lineage.json"
	sealFile    = "sealed.json"
)

type lineageRecord struct {
	Start   string `json:"start"`
	End     string `json:"end"`
	Parents []int  `json:"parents"`
	Created int64  `json:"created"`
}

type sealRecord struct {
	Tip      uint64 `json:"tip"`
	ClosedAt int64  `json:"closedAt"`
}

func writeJSONFile(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, b)
}

// SplitShard closes shard and opens two children: one from its starting hash key to
// newStart-1, one from newStart to its ending hash key.
func (e *Engine) SplitShard(name string, shard int, newStart HashKey) error {
	return e.reshard(name, func(m *streamMeta) (*pendingChange, error) {
		sh, err := openShardMeta(m, shard)
		if err != nil {
			return nil, err
		}
		start, end := sh.keys()
		// AWS's bounds: strictly above start+1 and strictly below end.
		if newStart.Cmp(start.add(1)) <= 0 || newStart.Cmp(end) >= 0 {
			return nil, ErrHashKeyOutside
		}
		return &pendingChange{Steps: []reshardStep{{Close: []int{shard}, Ranges: [][2]string{
			{sh.Start, newStart.sub(1).String()}, {newStart.String(), sh.End},
		}}}}, nil
	})
}

// MergeShards closes shard and adjacent, whose hash range must start right after shard's,
// and opens one child over both ranges.
func (e *Engine) MergeShards(name string, shard, adjacent int) error {
	return e.reshard(name, func(m *streamMeta) (*pendingChange, error) {
		a, err := openShardMeta(m, shard)
		if err != nil {
			return nil, err
		}
		b, err := openShardMeta(m, adjacent)
		if err != nil {
			return nil, err
		}
		// AWS takes the pair in order only: adjacent's range must follow shard's (kinesalite
		// recorded AWS refusing the reverse).
		_, aEnd := a.keys()
		bStart, _ := b.keys()
		if aEnd.Cmp(MaxHashKey) == 0 || aEnd.add(1).Cmp(bStart) != 0 {
			return nil, ErrNotAdjacent
		}
		return &pendingChange{Steps: []reshardStep{{Close: []int{shard, adjacent}, Ranges: [][2]string{{a.Start, b.End}}}}}, nil
	})
}

// UpdateShardCount reshapes the open shards into target shards of equal width (AWS's
// UNIFORM_SCALING) by splits and then merges, so every new shard has one or two parents as on
// AWS, and short-lived shards may appear in between. It returns the open shard count before
// the change. The wire layer checks AWS's bounds on target; the engine keeps the one that
// needs history: ScalingsPerDay in any 24 hours.
func (e *Engine) UpdateShardCount(name string, target int) (current int, err error) {
	err = e.reshard(name, func(m *streamMeta) (*pendingChange, error) {
		if m.Mode != ModeProvisioned {
			return nil, ErrNotProvisioned
		}
		now := e.opts.Now().UnixNano()
		var recent []int64
		for _, t := range m.Scalings {
			if t > now-int64(24*time.Hour) {
				recent = append(recent, t)
			}
		}
		if len(recent) >= ScalingsPerDay {
			return nil, ErrScalingRate
		}
		m.Scalings = append(recent, now)
		open := openSpans(m)
		current = len(open)
		return &pendingChange{Steps: planUniform(open, len(m.Shards), target)}, nil
	})
	return current, err
}

// UpdateStreamMode switches between PROVISIONED and ON_DEMAND. The shards stay as they are.
func (e *Engine) UpdateStreamMode(name, mode string) error {
	return e.reshard(name, func(m *streamMeta) (*pendingChange, error) {
		if m.Mode == mode {
			return nil, ErrModeUnchanged
		}
		return &pendingChange{Mode: mode}, nil
	})
}

// reshard records the change plan makes of the stream's metadata as pending, after the
// checks AWS makes before the stream's status, and applies it at once without a
// CreateDelay, or when the delay has passed.
func (e *Engine) reshard(name string, plan func(m *streamMeta) (*pendingChange, error)) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrClosed
	}
	st, ok := e.streams[name]
	if !ok {
		return ErrStreamNotFound
	}
	m := st.meta
	m.Scalings = slices.Clone(m.Scalings)
	pc, err := plan(&m)
	if err != nil {
		return err
	}
	if s := e.status(&st.meta); s != StatusActive {
		return &NotActiveError{Name: name, Status: s}
	}
	pc.At = e.opts.Now().Add(e.opts.CreateDelay).UnixNano()
	m.Pending = pc
	if err := e.opts.DB.Update(func(tx *bolt.Tx) error { return e.put(tx, &m) }); err != nil {
		return err
	}
	st.meta = m
	if e.opts.CreateDelay > 0 {
		e.settleLater(st, time.Duration(pc.At-e.opts.Now().UnixNano()))
		return nil
	}
	if err := e.settleLocked(st); err != nil {
		// Accepted and durable: it is retried, as after a crash.
		e.logger.Error("stream: cannot apply a reshard; retrying", "stream", name, "err", err)
		e.settleLater(st, time.Second)
	}
	return nil
}

// settleLater applies st's pending change after d.
func (e *Engine) settleLater(st *streamState, d time.Duration) {
	time.AfterFunc(max(d, 0), func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.closed || e.streams[st.meta.Name] != st || st.meta.Pending == nil || st.meta.DeletingAt != 0 {
			return
		}
		if err := e.settleLocked(st); err != nil {
			e.logger.Error("stream: cannot apply a reshard; retrying", "stream", st.meta.Name, "err", err)
			e.settleLater(st, time.Second)
		}
	})
}

// settleLocked applies st's pending change: it seals each closing shard (appends queued
// before the seal are kept, later ones are refused and retried by Put under the new map),
// opens the children's logs, and commits the new map in one transaction. Until that commit
// nothing outside this process has changed but empty child directories, which a retry
// reuses. Callers hold e.mu.
func (e *Engine) settleLocked(st *streamState) error {
	m := st.meta
	pc := m.Pending
	m.Shards = slices.Clone(m.Shards)
	logs := slices.Clone(st.shards)
	now := e.opts.Now().UnixNano()
	var sealed, opened []*shardLog
	undo := func() {
		for _, l := range opened {
			l.close()
		}
		for _, l := range sealed {
			l.sealed.Store(false)
		}
	}
	for _, step := range pc.Steps {
		for _, p := range step.Close {
			if p < 0 || p >= len(m.Shards) || m.Shards[p].ClosedAt != 0 {
				undo()
				return fmt.Errorf("stream: pending change closes shard %d, which is not open", p)
			}
			tip, err := logs[p].seal()
			if err != nil {
				undo()
				return err
			}
			if p < len(st.shards) {
				sealed = append(sealed, logs[p])
			}
			m.Shards[p].ClosedAt, m.Shards[p].Tip = now, tip
			if err := writeJSONFile(filepath.Join(shardDir(st.dir, p), sealFile), sealRecord{Tip: tip, ClosedAt: now}); err != nil {
				undo()
				return err
			}
		}
		for _, r := range step.Ranges {
			idx := len(m.Shards)
			l, err := openShard(shardDir(st.dir, idx), &e.cfg, e.logger.With("stream", m.Name, "shard", idx))
			if err != nil {
				undo()
				return err
			}
			opened = append(opened, l)
			logs = append(logs, l)
			m.Shards = append(m.Shards, shardMeta{Index: idx, Start: r[0], End: r[1], Created: now, Parents: slices.Clone(step.Close)})
			lr := lineageRecord{Start: r[0], End: r[1], Parents: step.Close, Created: now}
			if err := writeJSONFile(filepath.Join(shardDir(st.dir, idx), lineageFile), lr); err != nil {
				undo()
				return err
			}
		}
	}
	if pc.Mode != "" {
		m.Mode = pc.Mode
	}
	m.Pending = nil
	syncDir(st.dir)
	if err := e.opts.DB.Update(func(tx *bolt.Tx) error { return e.put(tx, &m) }); err != nil {
		undo()
		return err
	}
	st.meta = m
	st.shards = logs
	st.routing = routingOf(m.Shards)
	// Readers waiting at a closed shard's tip learn that no record will come.
	for _, l := range sealed {
		l.poke()
	}
	return nil
}

// ShardEnd reports whether a shard was closed by a split or merge and, if so, the position
// after its last record; cheap enough for a reader to ask each time it reaches the tip.
func (e *Engine) ShardEnd(name string, shard int) (closed bool, end uint64, err error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	st, ok := e.streams[name]
	switch {
	case !ok:
		return false, 0, ErrStreamNotFound
	case shard < 0 || shard >= len(st.meta.Shards):
		return false, 0, ErrShardNotFound
	}
	sh := st.meta.Shards[shard]
	return sh.ClosedAt != 0, sh.Tip, nil
}

func openShardMeta(m *streamMeta, idx int) (shardMeta, error) {
	if idx < 0 || idx >= len(m.Shards) {
		return shardMeta{}, ErrShardNotFound
	}
	if m.Shards[idx].ClosedAt != 0 {
		return shardMeta{}, ErrShardClosed
	}
	return m.Shards[idx], nil
}

func (sh shardMeta) keys() (start, end HashKey) {
	start, _ = ParseHashKey(sh.Start)
	end, _ = ParseHashKey(sh.End)
	return start, end
}

// span is an open shard's place in the hash key space.
type span struct {
	idx        int
	start, end HashKey
}

// openSpans returns the open shards by starting hash key.
func openSpans(m *streamMeta) []span {
	var out []span
	for _, sh := range m.Shards {
		if sh.ClosedAt == 0 {
			s, e := sh.keys()
			out = append(out, span{sh.Index, s, e})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].start.Cmp(out[j].start) < 0 })
	return out
}

// planUniform returns the steps that turn the open shards into n equal ones (SplitHashRange's
// ranges): first a split at every target boundary that is not yet one, then merges, left to
// right, of the pieces inside each target range. next is the index the first new shard gets.
func planUniform(open []span, next, n int) []reshardStep {
	var steps []reshardStep
	target := SplitHashRange(n)
	for _, tr := range target[1:] {
		b := tr[0]
		for i, s := range open {
			if s.start.Cmp(b) < 0 && s.end.Cmp(b) >= 0 {
				lo := span{next, s.start, b.sub(1)}
				hi := span{next + 1, b, s.end}
				next += 2
				steps = append(steps, reshardStep{Close: []int{s.idx}, Ranges: [][2]string{{lo.start.String(), lo.end.String()}, {hi.start.String(), hi.end.String()}}})
				open = slices.Replace(open, i, i+1, lo, hi)
				break
			}
		}
	}
	for _, tr := range target {
		var in []int // positions in open of the pieces inside tr
		for i, s := range open {
			if s.start.Cmp(tr[0]) >= 0 && s.end.Cmp(tr[1]) <= 0 {
				in = append(in, i)
			}
		}
		if len(in) < 2 {
			continue
		}
		first := in[0]
		cur := open[first]
		for _, i := range in[1:] {
			p := open[i]
			merged := span{next, cur.start, p.end}
			next++
			steps = append(steps, reshardStep{Close: []int{cur.idx, p.idx}, Ranges: [][2]string{{merged.start.String(), merged.end.String()}}})
			cur = merged
		}
		open = slices.Replace(open, first, in[len(in)-1]+1, cur)
	}
	return steps
}

// add returns h+n, wrapping at 2^128 (callers keep below MaxHashKey).
func (h HashKey) add(n uint64) HashKey {
	lo := h.Lo + n
	hi := h.Hi
	if lo < h.Lo {
		hi++
	}
	return HashKey{hi, lo}
}

// sub returns h-n, wrapping below 0 (callers keep above 0).
func (h HashKey) sub(n uint64) HashKey {
	lo := h.Lo - n
	hi := h.Hi
	if lo > h.Lo {
		hi--
	}
	return HashKey{hi, lo}
}

// provenShards rebuilds the shard map of a stream with n shard directories under dir from
// the lineage and seal files: shards without a lineage record are the stream's first ones,
// which split the key space evenly. ok is false if the records do not make a valid map.
func provenShards(dir string, n int, created int64) (out []shardMeta, ok bool) {
	return shardsFromRecords(n, created, func(i int, name string) ([]byte, error) {
		return os.ReadFile(filepath.Join(shardDir(dir, i), name))
	})
}

// shardsFromRecords is provenShards over read, which returns shard i's file name.
func shardsFromRecords(n int, created int64, read func(i int, name string) ([]byte, error)) (out []shardMeta, ok bool) {
	var first []int
	for i := 0; i < n; i++ {
		sh := shardMeta{Index: i, Created: created}
		if b, err := read(i, lineageFile); err == nil {
			var lr lineageRecord
			if json.Unmarshal(b, &lr) != nil {
				return nil, false
			}
			sh.Start, sh.End, sh.Parents, sh.Created = lr.Start, lr.End, lr.Parents, lr.Created
		} else {
			if len(first) != i {
				return nil, false // a stream's first shards come first
			}
			first = append(first, i)
		}
		if b, err := read(i, sealFile); err == nil {
			var sr sealRecord
			if json.Unmarshal(b, &sr) != nil || sr.ClosedAt == 0 {
				return nil, false
			}
			sh.ClosedAt, sh.Tip = sr.ClosedAt, sr.Tip
		}
		out = append(out, sh)
	}
	if len(first) == 0 {
		return nil, false
	}
	for j, r := range SplitHashRange(len(first)) {
		out[first[j]].Start, out[first[j]].End = r[0].String(), r[1].String()
	}
	return out, validShardMap(out)
}
