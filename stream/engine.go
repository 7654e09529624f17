package stream

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

var (
	bucketRoot    = []byte("kinesis")
	bucketStreams = []byte("streams")
)

// Engine owns every stream: metadata in bbolt, records in per-shard logs under Options.Dir.
// All methods are safe for concurrent use.
type Engine struct {
	opts   Options
	cfg    shardConfig
	logger *slog.Logger

	mu      sync.RWMutex
	streams map[string]*streamState
	closed  bool

	stop chan struct{}
	wg   sync.WaitGroup
}

type streamState struct {
	meta   streamMeta
	dir    string
	shards []*shardLog
	// routing is built from meta.Shards whenever they change; guarded by Engine.mu.
	routing *Routing
	// spread counts the records placed under the AUTO distribution strategy, which deals
	// them to the open shards in turn.
	spread atomic.Uint64
}

// streamMeta is what bbolt keeps per stream. Times are unix nanoseconds so a stream's
// identity (its creation time) survives a round trip exactly.
type streamMeta struct {
	Name             string            `json:"name"`
	Mode             string            `json:"mode"`
	Created          int64             `json:"created"`
	ActiveAt         int64             `json:"activeAt"`
	DeletingAt       int64             `json:"deletingAt,omitempty"`
	RetentionHours   int               `json:"retentionHours"`
	MaxRecordSizeKiB int               `json:"maxRecordSizeKiB"`
	EncryptionType   string            `json:"encryptionType"`
	Shards           []shardMeta       `json:"shards"`
	Tags             map[string]string `json:"tags,omitempty"`
	Hidden           bool              `json:"hidden,omitempty"`
	// ShardLevelMetrics are the enhanced-monitoring metric names a client enabled. localpipe
	// publishes no CloudWatch metrics; it keeps the names so DescribeStream reports them.
	ShardLevelMetrics []string `json:"shardLevelMetrics,omitempty"`
	// Consumers are the enhanced fan-out consumers registered (consumers.go).
	Consumers []consumerMeta `json:"consumers,omitempty"`
	// KeyID is the KMS key StartStreamEncryption named; the data stays as it is on disk.
	KeyID string `json:"keyId,omitempty"`
	// Policy is the stream's resource policy document, kept as given.
	Policy string `json:"policy,omitempty"`
	// WarmThroughputMiBps and RecordDistribution are on-demand settings (settings.go),
	// kept and described; localpipe has no capacity to warm, so they change no behaviour.
	WarmThroughputMiBps int    `json:"warmThroughputMiBps,omitempty"`
	RecordDistribution  string `json:"recordDistribution,omitempty"`
	// Pending is a reshard or mode change accepted but not yet in effect: the stream is
	// UPDATING until Pending.At (reshard.go).
	Pending *pendingChange `json:"pending,omitempty"`
	// Scalings are the times (unix ns) of UpdateShardCount calls in the last 24 hours.
	Scalings []int64 `json:"scalings,omitempty"`
}

// shardMeta is one shard. A shard's Index is also its place in streamMeta.Shards and in
// streamState.shards: indexes are never reused, shards never removed.
type shardMeta struct {
	Index   int    `json:"index"`
	Start   string `json:"start"`
	End     string `json:"end"`
	Created int64  `json:"created"`
	// Parents: ParentShardId, then a merge's AdjacentParentShardId.
	Parents []int `json:"parents,omitempty"`
	// ClosedAt (unix ns) is set once the shard was split or merged; its log then holds
	// exactly the positions [0, Tip) and takes no more appends.
	ClosedAt int64  `json:"closedAt,omitempty"`
	Tip      uint64 `json:"tip,omitempty"`
}

// ensureBuckets creates the engine's buckets in a new metadata file. Later starts find them
// and commit nothing: a commit costs two fsyncs, which a start on a busy disk waits for.
func ensureBuckets(db *bolt.DB) error {
	missing := false
	if err := db.View(func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketRoot)
		missing = root == nil || root.Bucket(bucketStreams) == nil
		return nil
	}); err != nil || !missing {
		return err
	}
	return db.Update(func(tx *bolt.Tx) error {
		root, err := tx.CreateBucketIfNotExists(bucketRoot)
		if err != nil {
			return err
		}
		_, err = root.CreateBucketIfNotExists(bucketStreams)
		return err
	})
}

// Open loads stream metadata, opens every shard log (reading only the active segment of
// each), finishes deletions a crash interrupted, and moves any other directory no stream
// owns to Options.LostFound: metadata that does not know a log is no proof the log is
// garbage (it may be the metadata that was lost), so nothing is deleted on its strength.
func Open(opts Options) (*Engine, error) {
	if opts.DB == nil {
		return nil, errors.New("stream: Options.DB is required")
	}
	if opts.Dir == "" {
		return nil, errors.New("stream: Options.Dir is required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.SegmentMaxBytes <= 0 {
		opts.SegmentMaxBytes = 64 << 20
	}
	if opts.SegmentMaxAge <= 0 {
		opts.SegmentMaxAge = time.Hour
	}
	if opts.IndexIntervalBytes <= 0 {
		opts.IndexIntervalBytes = 4 << 10
	}
	if opts.RetentionInterval <= 0 {
		opts.RetentionInterval = time.Minute
	}
	if !opts.Fsync.Always && opts.Fsync.Interval <= 0 {
		opts.Fsync.Interval = time.Second
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, err
	}
	e := &Engine{
		opts: opts, logger: opts.Logger, streams: map[string]*streamState{}, stop: make(chan struct{}),
		cfg: shardConfig{
			segmentMaxBytes: opts.SegmentMaxBytes, segmentMaxAge: opts.SegmentMaxAge,
			indexInterval: int64(opts.IndexIntervalBytes), fsyncAlways: opts.Fsync.Always, now: opts.Now,
			eagerIdxEntries: cmp.Or(opts.eagerIdxEntries, 2048), tailIdxEntries: cmp.Or(opts.tailIdxEntries, 256),
		},
	}
	if err := ensureBuckets(opts.DB); err != nil {
		return nil, err
	}
	var metas []streamMeta
	err := opts.DB.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRoot).Bucket(bucketStreams)
		return b.ForEach(func(k, v []byte) error {
			var m streamMeta
			if err := json.Unmarshal(v, &m); err != nil {
				return fmt.Errorf("stream: metadata of %q: %w", k, err)
			}
			metas = append(metas, m)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	owned, forgot := map[string]bool{}, false
	for _, m := range metas {
		if _, err := os.Stat(e.streamDir(m) + deletingSuffix); err == nil {
			// remove() had set the directory aside but not forgotten the stream yet.
			m.DeletingAt = max(m.DeletingAt, 1)
		}
		if m.DeletingAt != 0 {
			// A deletion the last process did not finish.
			if err := e.forget(m); err != nil {
				return nil, err
			}
			forgot = true
			continue
		}
		st := &streamState{meta: m, dir: e.streamDir(m), routing: routingOf(m.Shards)}
		if _, err := os.Stat(st.dir); errors.Is(err, os.ErrNotExist) {
			// CreateStream makes the directory before it commits the metadata, so only
			// something outside localpipe can have taken it.
			e.logger.Error("stream: the shard logs of a stream are missing; it starts empty", "stream", m.Name, "dir", st.dir)
		}
		for _, sh := range m.Shards {
			l, err := openShard(shardDir(st.dir, sh.Index), &e.cfg, e.logger.With("stream", m.Name, "shard", sh.Index))
			if err != nil {
				e.closeStreams()
				return nil, fmt.Errorf("stream %s shard %d: %w", m.Name, sh.Index, err)
			}
			if sh.ClosedAt != 0 {
				l.sealed.Store(true)
			} else {
				// A seal of a change a crash interrupted; the change is applied again below.
				os.Remove(filepath.Join(shardDir(st.dir, sh.Index), sealFile))
			}
			st.shards = append(st.shards, l)
		}
		e.streams[m.Name] = st
		owned[filepath.Base(st.dir)] = true
	}
	if forgot {
		syncDir(e.opts.Dir)
	}
	if err := e.setAsideUnowned(owned); err != nil {
		e.closeStreams()
		return nil, err
	}
	// A change the last process accepted but did not apply (it stopped, or crashed, while
	// the stream was UPDATING) takes effect now if it is due, or when it is.
	for _, st := range e.streams {
		if pc := st.meta.Pending; pc != nil {
			d := time.Duration(pc.At - opts.Now().UnixNano())
			if d > 0 {
				e.settleLater(st, d)
			} else if err := e.settleLocked(st); err != nil {
				e.logger.Error("stream: cannot apply a reshard; retrying", "stream", st.meta.Name, "err", err)
				e.settleLater(st, time.Second)
			}
		}
	}
	e.wg.Add(1)
	go e.background()
	return e, nil
}

func (e *Engine) streamDir(m streamMeta) string {
	return filepath.Join(e.opts.Dir, m.Name+"-"+strconv.FormatInt(m.Created, 10))
}

func shardDir(streamDir string, index int) string {
	return filepath.Join(streamDir, fmt.Sprintf("shard-%012d", index))
}

// background fsyncs dirty shards on the --fsync interval and drops expired segments.
func (e *Engine) background() {
	defer e.wg.Done()
	var syncC <-chan time.Time
	if !e.opts.Fsync.Always {
		t := time.NewTicker(e.opts.Fsync.Interval)
		defer t.Stop()
		syncC = t.C
	}
	ret := time.NewTicker(e.opts.RetentionInterval)
	defer ret.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-syncC:
			for _, l := range e.allShards() {
				if err := l.sync(); err != nil {
					e.logger.Error("stream: fsync failed", "dir", l.dir, "err", err)
				}
			}
		case <-ret.C:
			e.EnforceRetention()
		}
	}
}

func (e *Engine) allShards() []*shardLog {
	e.mu.RLock()
	defer e.mu.RUnlock()
	var out []*shardLog
	for _, st := range e.streams {
		out = append(out, st.shards...)
	}
	return out
}

// EnforceRetention deletes every sealed segment whose records are all past their stream's
// retention period. It runs periodically; tests call it directly.
func (e *Engine) EnforceRetention() {
	now := e.opts.Now()
	e.mu.RLock()
	defer e.mu.RUnlock()
	for _, st := range e.streams {
		cutoff := now.Add(-time.Duration(st.meta.RetentionHours) * time.Hour).UnixMilli()
		for _, l := range st.shards {
			if n := l.dropExpired(cutoff); n > 0 {
				e.logger.Debug("stream: deleted expired segments", "stream", st.meta.Name, "dir", l.dir, "segments", n)
			}
		}
	}
}

// Damage returns, for every shard of every stream, what its readers have stepped over
// since the process started: damaged regions found in its log, records lost in them (as far
// as their positions are known) and bytes skipped. A tail cut off at start-up is logged but
// not counted: a crash in the middle of a write leaves one, and it cannot be told apart from
// damage to the last records.
func (e *Engine) Damage() []ShardDamage {
	e.mu.RLock()
	defer e.mu.RUnlock()
	var out []ShardDamage
	for _, st := range e.streams {
		for i, l := range st.shards {
			out = append(out, ShardDamage{Stream: st.meta.Name, Shard: i,
				Regions: l.damaged.regions.Load(), Records: l.damaged.records.Load(), Bytes: l.damaged.bytes.Load()})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Stream != out[j].Stream {
			return out[i].Stream < out[j].Stream
		}
		return out[i].Shard < out[j].Shard
	})
	return out
}

// Sync fsyncs every shard with unsynced appends.
func (e *Engine) Sync() error {
	var errs []error
	for _, l := range e.allShards() {
		errs = append(errs, l.sync())
	}
	return errors.Join(errs...)
}

// Close stops background work, fsyncs and closes every shard. Appends after Close fail with
// ErrClosed.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	e.mu.Unlock()
	close(e.stop)
	e.wg.Wait()
	return e.closeStreams()
}

func (e *Engine) closeStreams() error {
	var errs []error
	for _, st := range e.streams {
		for _, l := range st.shards {
			errs = append(errs, l.close())
		}
	}
	return errors.Join(errs...)
}

func (e *Engine) status(m *streamMeta) string {
	switch {
	case m.DeletingAt != 0:
		return StatusDeleting
	case e.opts.Now().UnixNano() < m.ActiveAt:
		return StatusCreating
	case m.Pending != nil:
		return StatusUpdating
	}
	return StatusActive
}

func (e *Engine) info(st *streamState) StreamInfo {
	m := &st.meta
	si := StreamInfo{
		Name: m.Name, Status: e.status(m), Mode: m.Mode, Created: time.Unix(0, m.Created),
		RetentionHours: m.RetentionHours, MaxRecordSizeKiB: m.MaxRecordSizeKiB,
		EncryptionType: m.EncryptionType, Tags: maps.Clone(m.Tags), Hidden: m.Hidden,
		ShardLevelMetrics:          slices.Clone(m.ShardLevelMetrics),
		ConsumerCount:              len(m.Consumers),
		KeyID:                      m.KeyID,
		Policy:                     m.Policy,
		WarmThroughputMiBps:        m.WarmThroughputMiBps,
		RecordDistributionStrategy: m.RecordDistribution,
	}
	if si.Tags == nil {
		si.Tags = map[string]string{}
	}
	si.Shards = shardInfos(m.Shards)
	return si
}

func (e *Engine) put(tx *bolt.Tx, m *streamMeta) error {
	v, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketRoot).Bucket(bucketStreams).Put([]byte(m.Name), v)
}

// CreateStream creates a stream with evenly split hash ranges. It stays CREATING for
// Options.CreateDelay.
func (e *Engine) CreateStream(in CreateInput) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrClosed
	}
	if _, ok := e.streams[in.Name]; ok {
		return ErrStreamExists
	}
	n := in.ShardCount
	mode := in.Mode
	if mode == "" {
		mode = ModeProvisioned
	}
	if n <= 0 {
		n = OnDemandShardCount
	}
	now := e.opts.Now()
	// Creation times must differ between a stream and its re-creation, which may come within
	// the same clock tick.
	created := now.UnixNano()
	m := streamMeta{
		Name: in.Name, Mode: mode, Created: created, ActiveAt: created + int64(e.opts.CreateDelay),
		RetentionHours: DefaultRetentionHours, MaxRecordSizeKiB: in.MaxRecordSizeKiB, WarmThroughputMiBps: in.WarmThroughputMiBps,
		EncryptionType: "NONE", Tags: maps.Clone(in.Tags), Hidden: in.Hidden,
	}
	if m.MaxRecordSizeKiB == 0 {
		m.MaxRecordSizeKiB = DefaultMaxRecordSizeKiB
	}
	for i, r := range SplitHashRange(n) {
		m.Shards = append(m.Shards, shardMeta{Index: i, Start: r[0].String(), End: r[1].String(), Created: created})
	}
	st := &streamState{meta: m, dir: e.streamDir(m), routing: routingOf(m.Shards)}
	for i := range m.Shards {
		l, err := openShard(shardDir(st.dir, i), &e.cfg, e.logger.With("stream", m.Name, "shard", i))
		if err != nil {
			for _, l := range st.shards {
				l.close()
			}
			os.RemoveAll(st.dir)
			return err
		}
		st.shards = append(st.shards, l)
	}
	syncDir(e.opts.Dir)
	if err := e.opts.DB.Update(func(tx *bolt.Tx) error { return e.put(tx, &m) }); err != nil {
		for _, l := range st.shards {
			l.close()
		}
		os.RemoveAll(st.dir)
		return err
	}
	e.streams[in.Name] = st
	return nil
}

// DeleteStreamNow deletes a stream at once, whatever CreateDelay says, for a reset that
// creates streams of the same names right after. A delayed deletion already under way
// finds the stream gone and does nothing.
func (e *Engine) DeleteStreamNow(name string) error {
	e.mu.Lock()
	st, ok := e.streams[name]
	if !ok {
		e.mu.Unlock()
		return ErrStreamNotFound
	}
	delete(e.streams, name)
	e.mu.Unlock()
	return e.remove(st)
}

// DeleteStream marks the stream DELETING and removes it and its data after
// Options.CreateDelay (at once when that is zero).
func (e *Engine) DeleteStream(name string) error {
	e.mu.Lock()
	st, ok := e.streams[name]
	if !ok || st.meta.DeletingAt != 0 {
		e.mu.Unlock()
		return ErrStreamNotFound
	}
	if e.opts.CreateDelay <= 0 {
		delete(e.streams, name)
		e.mu.Unlock()
		return e.remove(st)
	}
	m := st.meta
	m.DeletingAt = e.opts.Now().UnixNano()
	if err := e.opts.DB.Update(func(tx *bolt.Tx) error { return e.put(tx, &m) }); err != nil {
		e.mu.Unlock()
		return err
	}
	st.meta = m
	e.mu.Unlock()
	time.AfterFunc(e.opts.CreateDelay, func() {
		e.mu.Lock()
		if cur, ok := e.streams[name]; !ok || cur != st || e.closed {
			e.mu.Unlock()
			return
		}
		delete(e.streams, name)
		e.mu.Unlock()
		if err := e.remove(st); err != nil {
			e.logger.Error("stream: delete failed", "stream", name, "err", err)
		}
	})
	return nil
}

// remove closes a stream's shards, renames its directory to mark it as being deleted, then
// deletes its metadata and its files. The rename is what lets Open tell a deletion a crash
// interrupted (finish it) from a log whose metadata is missing (keep it).
func (e *Engine) remove(st *streamState) error {
	for _, l := range st.shards {
		l.close()
	}
	gone := st.dir + deletingSuffix
	if err := os.Rename(st.dir, gone); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	syncDir(e.opts.Dir)
	if err := e.forget(st.meta); err != nil {
		return err
	}
	return os.RemoveAll(gone)
}

// forget deletes a stream's metadata, unless the name has since been given to a new stream,
// and whatever is left of its directory under either name.
func (e *Engine) forget(m streamMeta) error {
	err := e.opts.DB.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRoot).Bucket(bucketStreams)
		var cur streamMeta
		if v := b.Get([]byte(m.Name)); v != nil && json.Unmarshal(v, &cur) == nil && cur.Created != m.Created {
			return nil
		}
		return b.Delete([]byte(m.Name))
	})
	if err != nil {
		return err
	}
	dir := e.streamDir(m)
	return errors.Join(os.RemoveAll(dir), os.RemoveAll(dir+deletingSuffix))
}

func (e *Engine) get(name string) (*streamState, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return nil, ErrClosed
	}
	st, ok := e.streams[name]
	if !ok {
		return nil, ErrStreamNotFound
	}
	return st, nil
}

// Describe returns a snapshot of one stream.
func (e *Engine) Describe(name string) (StreamInfo, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	st, ok := e.streams[name]
	if !ok {
		return StreamInfo{}, ErrStreamNotFound
	}
	return e.info(st), nil
}

// List returns every visible stream, sorted by name.
func (e *Engine) List() []StreamInfo {
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := make([]StreamInfo, 0, len(e.streams))
	for _, st := range e.streams {
		if !st.meta.Hidden {
			out = append(out, e.info(st))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// shardInfos describes shards, with each closed shard's children.
func shardInfos(shards []shardMeta) []ShardInfo {
	out := make([]ShardInfo, 0, len(shards))
	for _, sh := range shards {
		start, _ := ParseHashKey(sh.Start)
		end, _ := ParseHashKey(sh.End)
		si := ShardInfo{
			Index: sh.Index, ID: fmt.Sprintf("shardId-%012d", sh.Index),
			StartKey: start, EndKey: end, Created: time.Unix(0, sh.Created),
			Parents: slices.Clone(sh.Parents),
		}
		if sh.ClosedAt != 0 {
			si.Closed, si.ClosedAt, si.End = true, time.Unix(0, sh.ClosedAt), sh.Tip
		}
		out = append(out, si)
	}
	for _, sh := range shards {
		for _, p := range sh.Parents {
			if p >= 0 && p < len(out) {
				out[p].Children = append(out[p].Children, sh.Index)
			}
		}
	}
	return out
}

// update applies fn to a copy of the stream's metadata and stores the result.
func (e *Engine) update(name string, fn func(m *streamMeta) error) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	st, ok := e.streams[name]
	if !ok {
		return ErrStreamNotFound
	}
	m := st.meta
	m.Tags = maps.Clone(st.meta.Tags)
	if m.Tags == nil {
		m.Tags = map[string]string{}
	}
	if err := fn(&m); err != nil {
		return err
	}
	if err := e.opts.DB.Update(func(tx *bolt.Tx) error { return e.put(tx, &m) }); err != nil {
		return err
	}
	st.meta = m
	return nil
}

// UpdateRetention sets the retention period to what fn returns for the current one; fn's
// error is returned unchanged.
func (e *Engine) UpdateRetention(name string, fn func(cur int) (int, error)) error {
	return e.update(name, func(m *streamMeta) error {
		if s := e.status(m); s != StatusActive {
			return &NotActiveError{Name: name, Status: s}
		}
		h, err := fn(m.RetentionHours)
		if err != nil {
			return err
		}
		m.RetentionHours = h
		return nil
	})
}

// UpdateMaxRecordSize sets the largest record (data plus partition key) the stream accepts.
func (e *Engine) UpdateMaxRecordSize(name string, kib int) error {
	return e.update(name, func(m *streamMeta) error {
		if s := e.status(m); s != StatusActive {
			return &NotActiveError{Name: name, Status: s}
		}
		m.MaxRecordSizeKiB = kib
		return nil
	})
}

// UpdateTags lets fn edit the stream's tags in place; fn's error aborts the change.
func (e *Engine) UpdateTags(name string, fn func(tags map[string]string) error) error {
	return e.update(name, func(m *streamMeta) error { return fn(m.Tags) })
}

// UpdateShardLevelMetrics sets the stream's enabled metric names to what fn returns for the
// current ones, and returns both.
func (e *Engine) UpdateShardLevelMetrics(name string, fn func(cur []string) []string) (before, after []string, err error) {
	err = e.update(name, func(m *streamMeta) error {
		if s := e.status(m); s != StatusActive {
			return &NotActiveError{Name: name, Status: s}
		}
		before = slices.Clone(m.ShardLevelMetrics)
		m.ShardLevelMetrics = fn(slices.Clone(m.ShardLevelMetrics))
		after = slices.Clone(m.ShardLevelMetrics)
		return nil
	})
	return before, after, err
}

// Put appends records, each to the open shard its hash key falls in, and returns once every
// record is written to its shard's file. Records bound for one shard keep their order. A
// record that meets its shard being closed by a reshard goes to the child that now holds its
// hash key, after the parent's last record.
func (e *Engine) Put(ctx context.Context, name string, entries []PutEntry) ([]PutResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	st, err := e.get(name)
	if err != nil {
		return nil, err
	}
	out := make([]PutResult, len(entries))
	todo := make([]int, len(entries))
	for i := range todo {
		todo[i] = i
	}
	for len(todo) > 0 {
		retry, err := e.putOnce(st, name, entries, todo, out)
		if err != nil {
			return nil, err
		}
		todo = retry
	}
	return out, nil
}

// putOnce appends the entries named by todo under the current shard map and returns those
// whose shard was sealed meanwhile.
func (e *Engine) putOnce(st *streamState, name string, entries []PutEntry, todo []int, out []PutResult) ([]int, error) {
	e.mu.RLock()
	status := e.status(&st.meta)
	routes := st.routing.open
	logs := st.shards
	auto := st.meta.RecordDistribution == DistributionAuto
	e.mu.RUnlock()
	// Records keep flowing while a reshard is pending, as on AWS.
	if status != StatusActive && status != StatusUpdating {
		return nil, &NotActiveError{Name: name, Status: status}
	}
	groups := make([]*putGroup, len(logs))
	var only *putGroup // the one group, while there is only one
	n := 0
	// The records' shards are found first and counted, so that the groups' slices are cut
	// from one allocation each instead of growing record by record.
	var few [16]int
	shardOf := few[:0]
	if len(todo) > len(few) {
		shardOf = make([]int, 0, len(todo))
	}
	for _, i := range todo {
		en := entries[i]
		var rt *route
		if auto {
			// AUTO ignores the partition and explicit hash keys and spreads records evenly.
			rt = &routes[st.spread.Add(1)%uint64(len(routes))]
		} else {
			h := PartitionHash(en.PartitionKey)
			if en.ExplicitHashKey != nil {
				h = *en.ExplicitHashKey
			}
			rt = routeFor(routes, h)
		}
		s := rt.index
		g := groups[s]
		if g == nil {
			g = &putGroup{shard: s, created: rt.created}
			groups[s] = g
			only = g
			n++
		}
		g.n++
		shardOf = append(shardOf, s)
	}
	keys, data, members := make([]string, len(todo)), make([][]byte, len(todo)), make([]int, len(todo))
	off := 0
	for _, g := range groups {
		if g != nil {
			end := off + g.n
			g.keys, g.data, g.members = keys[off:off:end], data[off:off:end], members[off:off:end]
			off = end
		}
	}
	for k, i := range todo {
		g := groups[shardOf[k]]
		g.keys = append(g.keys, entries[i].PartitionKey)
		g.data = append(g.data, entries[i].Data)
		g.members = append(g.members, i)
	}
	if n == 1 {
		// Most puts reach one shard: appending here spares a goroutine and its bookkeeping.
		only.write(logs[only.shard])
	} else {
		var wg sync.WaitGroup
		for _, g := range groups {
			if g != nil {
				wg.Add(1)
				go func() {
					defer wg.Done()
					g.write(logs[g.shard])
				}()
			}
		}
		wg.Wait()
	}
	var (
		errs  []error
		retry []int
	)
	for _, g := range groups {
		switch {
		case g == nil:
		case g.err == nil:
			for k, idx := range g.members {
				out[idx] = PutResult{Shard: g.shard, ShardCreated: g.created, Position: g.first + uint64(k), Arrival: time.UnixMilli(g.arrM)}
			}
		case errors.Is(g.err, errSealed):
			retry = append(retry, g.members...)
		default:
			errs = append(errs, g.err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	// Keep the caller's order among the retried records, so one partition key's records
	// land in the child in the order they were given.
	slices.Sort(retry)
	return retry, nil
}

// putGroup is the records of one put bound for one shard, and the outcome of their append.
type putGroup struct {
	shard   int
	n       int // records
	created time.Time
	keys    []string
	data    [][]byte
	members []int // the records' indexes in the put

	first uint64 // position of the first record
	arrM  int64  // arrival, unix ms
	err   error
}

func (g *putGroup) write(l *shardLog) {
	g.first, g.arrM, g.err = l.append(g.keys, g.data)
}

func (e *Engine) shard(name string, shard int) (*streamState, *shardLog, error) {
	st, err := e.get(name)
	if err != nil {
		return nil, nil, err
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	if shard < 0 || shard >= len(st.shards) {
		return nil, nil, ErrShardNotFound
	}
	return st, st.shards[shard], nil
}

func (e *Engine) cutoff(st *streamState) int64 {
	e.mu.RLock()
	h := st.meta.RetentionHours
	e.mu.RUnlock()
	return e.opts.Now().Add(-time.Duration(h) * time.Hour).UnixMilli()
}

// Bounds returns the readable range of a shard. First is the oldest record still within the
// retention period.
func (e *Engine) Bounds(name string, shard int) (ShardBounds, error) {
	st, l, err := e.shard(name, shard)
	if err != nil {
		return ShardBounds{}, err
	}
	first, err := l.findTime(e.cutoff(st))
	if err != nil {
		return ShardBounds{}, err
	}
	_, tip := l.bounds()
	return ShardBounds{First: first, Tip: tip}, nil
}

// FindTime returns the position of the first retained record that arrived at or after t,
// or the tip if there is none.
func (e *Engine) FindTime(name string, shard int, t time.Time) (uint64, error) {
	st, l, err := e.shard(name, shard)
	if err != nil {
		return 0, err
	}
	return l.findTime(max(t.UnixMilli(), e.cutoff(st)))
}

// Read returns up to maxRecords records (and, past the first, up to maxBytes of data) from
// position from on. Records past the retention period are skipped.
func (e *Engine) Read(name string, shard int, from uint64, maxRecords, maxBytes int) (ReadResult, error) {
	st, l, err := e.shard(name, shard)
	if err != nil {
		return ReadResult{}, err
	}
	return l.read(from, maxRecords, maxBytes, e.cutoff(st))
}

// Watch returns a shard's tip and a channel that is closed once a record is appended past
// it, so a reader at the tip can sleep until there is something to read.
func (e *Engine) Watch(name string, shard int) (uint64, <-chan struct{}, error) {
	_, l, err := e.shard(name, shard)
	if err != nil {
		return 0, nil, err
	}
	tip, ch := l.watch()
	return tip, ch, nil
}
