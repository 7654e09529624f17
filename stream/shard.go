package stream

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// segment is one log file of a shard, named by the position of its first record, and its
// sparse index. Sealed segments load their index lazily so opening a shard with a long
// history reads only the active segment.
type segment struct {
	base    uint64
	logPath string
	idxPath string

	loadMu sync.Mutex
	loaded atomic.Bool
	f      *os.File
	idxF   *os.File // only for the active segment
	idx    []idxEntry
	size   int64 // bytes of valid frames; for the active segment, what readers may see

	// skip is how many of the index file's entries come before idx. Recovery reads only the
	// tail of a large active segment's index (see readActiveIdx); the entries before it
	// (prefix) are read when a search first falls before idx, and first is the file's first
	// entry, for firstArrival.
	skip   int
	first  idxEntry
	prefix atomic.Pointer[[]idxEntry]

	damage damageState
}

func segmentName(base uint64) string { return fmt.Sprintf("%020d", base) }

// firstArrival is the arrival time of the segment's first record, or ok=false if it has none.
func (sg *segment) firstArrival() (int64, bool) {
	if sg.skip > 0 {
		return sg.first.arrivalM, true
	}
	if len(sg.idx) == 0 {
		return 0, false
	}
	return sg.idx[0].arrivalM, true
}

// shardLog is the append-only log of one shard: a run of segments, a writer goroutine that
// group-commits concurrent appends, and a broadcast channel for readers waiting at the tip.
type shardLog struct {
	dir    string
	cfg    *shardConfig
	logger *slog.Logger

	mu       sync.RWMutex
	segs     []*segment // sorted by base; the last one is active
	tip      uint64
	lastArrM int64
	notify   chan struct{}

	reqs  chan *appendReq
	stop  chan struct{}
	done  chan struct{}
	dirty atomic.Bool
	once  sync.Once
	// sealed refuses appends: the shard was split or merged. Only the writer sets it (in
	// order with the appends before it), or Open for a shard closed in the metadata.
	sealed atomic.Bool

	damaged damageCounters
}

type shardConfig struct {
	segmentMaxBytes int64
	segmentMaxAge   time.Duration
	indexInterval   int64
	fsyncAlways     bool
	now             func() time.Time

	// Recovery reads an active segment's index whole up to eagerIdxEntries entries; past
	// that, its first entry and its last tailIdxEntries (see readActiveIdx).
	eagerIdxEntries, tailIdxEntries int
}

type appendReq struct {
	keys  []string
	data  [][]byte
	reply chan appendResult
	// seal asks the writer to refuse appends from now on; its reply's first is the tip.
	seal bool
}

type appendResult struct {
	first    uint64
	arrivalM int64
	err      error
}

const maxBatchBytes = 16 << 20

// openShard opens or creates a shard directory and recovers its active segment.
func openShard(dir string, cfg *shardConfig, logger *slog.Logger) (*shardLog, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	s := &shardLog{dir: dir, cfg: cfg, logger: logger, notify: make(chan struct{}),
		reqs: make(chan *appendReq, 1024), stop: make(chan struct{}), done: make(chan struct{})}
	names, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, de := range names {
		name := de.Name()
		if strings.HasSuffix(name, ".tmp") {
			os.Remove(filepath.Join(dir, name))
			continue
		}
		if !strings.HasSuffix(name, ".log") {
			continue
		}
		base, err := strconv.ParseUint(strings.TrimSuffix(name, ".log"), 10, 64)
		if err != nil {
			continue
		}
		s.segs = append(s.segs, s.newSegment(base))
	}
	sort.Slice(s.segs, func(i, j int) bool { return s.segs[i].base < s.segs[j].base })
	// An index whose log is gone (retention deleted the log first) is garbage.
	for _, de := range names {
		if name := de.Name(); strings.HasSuffix(name, ".idx") {
			if _, err := os.Stat(filepath.Join(dir, strings.TrimSuffix(name, ".idx")+".log")); errors.Is(err, os.ErrNotExist) {
				os.Remove(filepath.Join(dir, name))
			}
		}
	}
	if len(s.segs) == 0 {
		s.segs = append(s.segs, s.newSegment(0))
	}
	if err := s.recoverActive(); err != nil {
		s.closeFiles()
		return nil, err
	}
	go s.writer()
	return s, nil
}

func (s *shardLog) newSegment(base uint64) *segment {
	n := segmentName(base)
	return &segment{base: base, logPath: filepath.Join(s.dir, n+".log"), idxPath: filepath.Join(s.dir, n+".idx")}
}

func (s *shardLog) active() *segment { return s.segs[len(s.segs)-1] }

// recoverActive opens the active segment for appending. It trusts the index up to its last
// entry that still points at a matching frame, scans the log only past that point, and cuts
// the file at the first frame that is torn, corrupt or out of sequence.
func (s *shardLog) recoverActive() error {
	sg := s.active()
	f, err := os.OpenFile(sg.logPath, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	sg.f = f
	st, err := f.Stat()
	if err != nil {
		return err
	}
	fileSize := st.Size()
	idxF, err := os.OpenFile(sg.idxPath, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	sg.idxF = idxF
	entries, skip, first, err := readActiveIdx(idxF, sg.base, s.cfg.eagerIdxEntries, s.cfg.tailIdxEntries)
	if err != nil {
		return err
	}
	// Walk back to the newest entry that matches the log.
	for len(entries) > 0 {
		e := entries[len(entries)-1]
		if e.offset < fileSize && e.pos >= sg.base {
			if fr, _, err := readFrameAt(f, e.offset); err == nil && fr.pos == e.pos {
				break
			}
		}
		entries = entries[:len(entries)-1]
	}
	if len(entries) == 0 {
		// Nothing of the tail read matches the log: the index is rebuilt from the start.
		skip = 0
	}
	start, want := int64(0), sg.base
	if len(entries) > 0 {
		start, want = entries[len(entries)-1].offset, entries[len(entries)-1].pos
	}
	keptIdx := len(entries)
	var lastArr int64
	if len(entries) > 0 {
		lastArr = entries[len(entries)-1].arrivalM
	}
	// Damage with intact frames after it is stepped over (and reported) as readers step
	// over it; only damage that nothing intact follows is a torn tail, cut off.
	next := want
	end, err := s.walk(sg, start, fileSize, want, noUpper, false, func(fr frame, off int64) bool {
		if off != start || len(entries) == 0 {
			if len(entries) == 0 || off-entries[len(entries)-1].offset >= s.cfg.indexInterval {
				entries = append(entries, idxEntry{pos: fr.pos, offset: off, arrivalM: fr.arrivalM})
			}
		}
		next = fr.pos + 1
		lastArr = max(lastArr, fr.arrivalM)
		return true
	})
	if err != nil {
		return err
	}
	if end < fileSize {
		s.logger.Warn("stream: cut torn or corrupt tail of shard log",
			"file", sg.logPath, "offset", end, "bytes_dropped", fileSize-end, "first_lost_position", next)
		if err := f.Truncate(end); err != nil {
			return err
		}
		if err := f.Sync(); err != nil {
			return err
		}
		// New frames will be written where the tail was: nothing known about it holds.
		sg.damage.forgetFrom(end)
	}
	// Rewrite the index tail: drop what we could not trust, append what the scan rebuilt.
	var buf []byte
	for _, e := range entries[keptIdx:] {
		buf = appendIdxEntry(buf, e)
	}
	if err := idxF.Truncate(int64(skip+keptIdx) * idxEntryLen); err != nil {
		return err
	}
	if _, err := idxF.WriteAt(buf, int64(skip+keptIdx)*idxEntryLen); err != nil {
		return err
	}
	sg.idx, sg.skip, sg.first = entries, skip, first
	sg.size = end
	sg.loaded.Store(true)
	s.tip = next
	s.lastArrM = lastArr
	return nil
}

// readIdx decodes the index file f up to its first invalid entry, as decodeIdx does, a piece
// at a time: the active segment's index is read while the server starts, and holding the
// file's bytes beside the entries (or growing the entries by appends) would leave garbage
// enough for a collection before the server is ready.
func readIdx(f *os.File) ([]idxEntry, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	entries := make([]idxEntry, 0, st.Size()/idxEntryLen)
	buf := make([]byte, 1024*idxEntryLen)
	for off := int64(0); ; off += int64(len(buf)) {
		n, err := f.ReadAt(buf, off)
		var valid bool
		entries, valid = appendIdx(entries, buf[:n-n%idxEntryLen])
		if !valid || n < len(buf) {
			if err == io.EOF {
				err = nil
			}
			return entries, err
		}
	}
}

// readActiveIdx reads the active segment's index file f: all of it when it has at most
// eager entries, else its first entry and its last tail ones, decoded as decodeIdx decodes
// (up to the first invalid entry); skip is how many entries of the file come before those.
// The rest is read when a search needs it (prefixIdx), so that a start with a long active
// segment does not fill the heap with its index: each fresh page costs a page fault, and on
// some virtual machines a fault costs tens of microseconds. The whole file is read too when
// the first entry or the tail's first does not verify, so that damage there is found and
// rebuilt at start as before.
func readActiveIdx(f *os.File, base uint64, eager, tail int) (entries []idxEntry, skip int, first idxEntry, err error) {
	st, err := f.Stat()
	if err != nil {
		return nil, 0, idxEntry{}, err
	}
	n := int(st.Size() / idxEntryLen)
	if n > eager && n > tail {
		skip = n - tail
		buf := make([]byte, (tail+1)*idxEntryLen)
		_, err1 := f.ReadAt(buf[:idxEntryLen], 0)
		_, err2 := f.ReadAt(buf[idxEntryLen:], int64(skip)*idxEntryLen)
		head, _ := decodeIdx(buf[:idxEntryLen])
		last, _ := decodeIdx(buf[idxEntryLen:])
		if err1 == nil && err2 == nil && len(head) == 1 && head[0].pos == base && head[0].offset == 0 &&
			len(last) > 0 && last[0].pos > head[0].pos && last[0].offset > 0 {
			return last, skip, head[0], nil
		}
	}
	entries, err = readIdx(f)
	return entries, 0, idxEntry{}, err
}

// idxFor returns the index entries of sg to search for the last entry before which after
// (monotonic along the index) is false: idx, or, when the search falls before idx's first
// entry and recovery left entries on disk before it, those entries (prefixIdx).
func (s *shardLog) idxFor(sg *segment, after func(idxEntry) bool) ([]idxEntry, error) {
	if sg.skip == 0 || len(sg.idx) > 0 && !after(sg.idx[0]) {
		return sg.idx, nil
	}
	return s.prefixIdx(sg)
}

// prefixIdx reads the entries of sg's index file before idx, once. Entries that do not
// verify are rebuilt from the log up to idx's first entry, and written back in place when
// there are as many as the file had room for (the appends past them are not disturbed);
// otherwise the file is left as it is, the index being a cache.
func (s *shardLog) prefixIdx(sg *segment) ([]idxEntry, error) {
	if p := sg.prefix.Load(); p != nil {
		return *p, nil
	}
	sg.loadMu.Lock()
	defer sg.loadMu.Unlock()
	if p := sg.prefix.Load(); p != nil {
		return *p, nil
	}
	limit := sg.idx[0]
	buf := make([]byte, sg.skip*idxEntryLen)
	f, err := os.Open(sg.idxPath)
	if err == nil {
		_, err = f.ReadAt(buf, 0)
		f.Close()
	}
	entries, valid := decodeIdx(buf)
	if err != nil || !valid || len(entries) != sg.skip || entries[0] != sg.first || entries[len(entries)-1].pos >= limit.pos {
		s.logger.Warn("stream: index entries before the ones read at start do not verify; rebuilding them from the log",
			"file", sg.idxPath, "entries", sg.skip)
		entries = entries[:0]
		if _, err := s.walk(sg, 0, limit.offset, sg.base, limit.pos, true, func(fr frame, off int64) bool {
			if len(entries) == 0 || off-entries[len(entries)-1].offset >= s.cfg.indexInterval {
				entries = append(entries, idxEntry{pos: fr.pos, offset: off, arrivalM: fr.arrivalM})
			}
			return true
		}); err != nil {
			return nil, err
		}
		// Rebuilt from an intact log, the entries are the ones the file should hold, in the
		// same place: put them back for the next start.
		if len(entries) == sg.skip && entries[0] == sg.first {
			var buf []byte
			for _, e := range entries {
				buf = appendIdxEntry(buf, e)
			}
			if f, err := os.OpenFile(sg.idxPath, os.O_WRONLY, 0); err == nil {
				f.WriteAt(buf, 0)
				f.Close()
			}
		}
	}
	sg.prefix.Store(&entries)
	return entries, nil
}

func readFrameAt(f *os.File, off int64) (frame, int, error) {
	var hdr [frameHeaderLen]byte
	if _, err := f.ReadAt(hdr[:], off); err != nil {
		return frame{}, 0, errShortFrame
	}
	bodyLen := int(uint32(hdr[0]) | uint32(hdr[1])<<8 | uint32(hdr[2])<<16 | uint32(hdr[3])<<24)
	if bodyLen < bodyFixedLen || bodyLen > maxBodyLen {
		return frame{}, 0, errBadFrame
	}
	buf := make([]byte, frameHeaderLen+bodyLen)
	if _, err := f.ReadAt(buf, off); err != nil {
		return frame{}, 0, errShortFrame
	}
	return decodeFrame(buf)
}

// load opens a sealed segment for reading and loads its index, rebuilding the index from the
// log if it is missing or damaged. upper is the base of the next segment.
func (s *shardLog) load(sg *segment, upper uint64) error {
	if sg.loaded.Load() {
		return nil
	}
	sg.loadMu.Lock()
	defer sg.loadMu.Unlock()
	if sg.loaded.Load() {
		return nil
	}
	f, err := os.Open(sg.logPath)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	size := st.Size()
	raw, _ := os.ReadFile(sg.idxPath)
	entries, valid := decodeIdx(raw)
	// Entries past the end of the log vouch for records that are no longer there.
	for len(entries) > 0 && entries[len(entries)-1].offset >= size {
		entries, valid = entries[:len(entries)-1], false
	}
	if !valid || (len(entries) == 0 && size > 0) {
		sg.f = f
		entries = entries[:0]
		_, err := s.walk(sg, 0, size, sg.base, upper, true, func(fr frame, off int64) bool {
			if len(entries) == 0 || off-entries[len(entries)-1].offset >= s.cfg.indexInterval {
				entries = append(entries, idxEntry{pos: fr.pos, offset: off, arrivalM: fr.arrivalM})
			}
			return true
		})
		if err != nil {
			sg.f = nil
			f.Close()
			return err
		}
		var buf []byte
		for _, e := range entries {
			buf = appendIdxEntry(buf, e)
		}
		if err := writeFileAtomic(sg.idxPath, buf); err != nil {
			s.logger.Warn("stream: could not rewrite segment index", "file", sg.idxPath, "err", err)
		}
	}
	sg.f, sg.idx, sg.size = f, entries, size
	sg.loaded.Store(true)
	return nil
}

func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// append submits one shard's records to the writer and waits until they are in the file.
func (s *shardLog) append(keys []string, data [][]byte) (uint64, int64, error) {
	res := s.submit(&appendReq{keys: keys, data: data, reply: make(chan appendResult, 1)})
	return res.first, res.arrivalM, res.err
}

func (s *shardLog) submit(r *appendReq) appendResult {
	select {
	case s.reqs <- r:
	case <-s.stop:
		return appendResult{err: ErrClosed}
	}
	return <-r.reply
}

// seal makes the writer refuse every append after those already queued, fsyncs the log,
// and returns the tip: the shard's records are then exactly [0, tip).
func (s *shardLog) seal() (uint64, error) {
	res := s.submit(&appendReq{seal: true, reply: make(chan appendResult, 1)})
	return res.first, res.err
}

// writer is the shard's only appender. It takes every request that is waiting, writes them
// with one system call (and one fsync under --fsync always), then answers them all: group
// commit, so concurrent producers share the cost of the syscall and the fsync.
func (s *shardLog) writer() {
	defer close(s.done)
	var batch []*appendReq
	for {
		// Cleared, not just truncated: the old requests hold their records' bytes.
		clear(batch)
		batch = batch[:0]
		var seal *appendReq
		select {
		case r := <-s.reqs:
			if r.seal {
				seal = r
			} else {
				batch = append(batch, r)
			}
		case <-s.stop:
			s.failPending()
			return
		}
		bytes := 0
		if len(batch) > 0 {
			bytes = batchBytes(batch[0])
		}
	drain:
		for seal == nil && bytes < maxBatchBytes {
			select {
			case r := <-s.reqs:
				if r.seal {
					seal = r
					break drain
				}
				batch = append(batch, r)
				bytes += batchBytes(r)
			default:
				break drain
			}
		}
		if len(batch) > 0 {
			if s.sealed.Load() {
				for _, r := range batch {
					r.reply <- appendResult{err: errSealed}
				}
			} else {
				bp := framePool.Get().(*[]byte)
				*bp = s.commit(batch, (*bp)[:0])
				if cap(*bp) <= maxPooledFrameBuf {
					framePool.Put(bp)
				}
			}
		}
		if seal != nil {
			s.sealed.Store(true)
			s.dirty.Store(true)
			err := s.sync()
			s.mu.RLock()
			tip := s.tip
			s.mu.RUnlock()
			seal.reply <- appendResult{first: tip, err: err}
		}
	}
}

// framePool shares write buffers between shards, so an idle shard holds none: with many
// shards (every DirectPut delivery stream has one) per-shard buffers sized by the largest
// batch seen added up to most of the heap.
var framePool = sync.Pool{New: func() any { return new([]byte) }}

const maxPooledFrameBuf = 4 << 20

func batchBytes(r *appendReq) int {
	n := 0
	for i := range r.data {
		n += frameLen(len(r.keys[i]), len(r.data[i]))
	}
	return n
}

func (s *shardLog) failPending() {
	for {
		select {
		case r := <-s.reqs:
			r.reply <- appendResult{err: ErrClosed}
		default:
			return
		}
	}
}

func (s *shardLog) commit(batch []*appendReq, buf []byte) []byte {
	fail := func(err error) []byte {
		for _, r := range batch {
			r.reply <- appendResult{err: err}
		}
		return buf
	}
	nowM := s.cfg.now().UnixMilli()
	s.mu.RLock()
	arrM := max(nowM, s.lastArrM)
	sg := s.active()
	needRoll := sg.size >= s.cfg.segmentMaxBytes
	if first, ok := sg.firstArrival(); ok && s.cfg.segmentMaxAge > 0 && arrM-first >= s.cfg.segmentMaxAge.Milliseconds() {
		needRoll = true
	}
	pos := s.tip
	s.mu.RUnlock()
	if needRoll {
		// The new segment comes back from roll rather than from s.active(): s.segs may only
		// be read under s.mu, and retention reslices it concurrently.
		ns, err := s.roll(sg)
		if err != nil {
			s.logger.Error("stream: cannot start a new segment", "dir", s.dir, "err", err)
			return fail(err)
		}
		sg = ns
	}
	off := sg.size
	lastIdxOff := int64(-1 << 62)
	if n := len(sg.idx); n > 0 {
		lastIdxOff = sg.idx[n-1].offset
	}
	var newIdx []idxEntry
	starts := make([]uint64, len(batch))
	for i, r := range batch {
		starts[i] = pos
		for j := range r.data {
			frameOff := off + int64(len(buf))
			if sg.skip+len(sg.idx)+len(newIdx) == 0 || frameOff-lastIdxOff >= s.cfg.indexInterval {
				newIdx = append(newIdx, idxEntry{pos: pos, offset: frameOff, arrivalM: arrM})
				lastIdxOff = frameOff
			}
			buf = appendFrame(buf, pos, arrM, r.keys[j], r.data[j])
			pos++
		}
	}
	if _, err := sg.f.WriteAt(buf, off); err != nil {
		// Leave no partial frames behind for a later append to land after.
		sg.f.Truncate(off)
		s.logger.Error("stream: write failed", "file", sg.logPath, "err", err)
		return fail(err)
	}
	if len(newIdx) > 0 {
		var ib []byte
		for _, e := range newIdx {
			ib = appendIdxEntry(ib, e)
		}
		// The index is a cache rebuilt on open; a failed write here costs nothing but a scan.
		sg.idxF.WriteAt(ib, int64(sg.skip+len(sg.idx))*idxEntryLen)
	}
	if s.cfg.fsyncAlways {
		if err := sg.f.Sync(); err != nil {
			s.logger.Error("stream: fsync failed", "file", sg.logPath, "err", err)
			return fail(err)
		}
	} else {
		s.dirty.Store(true)
	}
	s.mu.Lock()
	sg.size = off + int64(len(buf))
	sg.idx = append(sg.idx, newIdx...)
	s.tip = pos
	s.lastArrM = arrM
	close(s.notify)
	s.notify = make(chan struct{})
	s.mu.Unlock()
	for i, r := range batch {
		r.reply <- appendResult{first: starts[i], arrivalM: arrM}
	}
	return buf
}

// roll seals old, the active segment, and returns the new active segment starting at the
// tip (old itself if it is still empty). Only the writer calls it.
func (s *shardLog) roll(old *segment) (*segment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old.size == 0 {
		return old, nil
	}
	if err := old.f.Sync(); err != nil {
		return nil, err
	}
	ns := s.newSegment(s.tip)
	f, err := os.OpenFile(ns.logPath, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	idxF, err := os.OpenFile(ns.idxPath, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		f.Close()
		return nil, err
	}
	syncDir(s.dir)
	old.idxF.Close()
	old.idxF = nil
	ns.f, ns.idxF = f, idxF
	ns.loaded.Store(true)
	s.segs = append(s.segs, ns)
	return ns, nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// sync flushes the active segment if anything was written since the last sync.
func (s *shardLog) sync() error {
	if !s.dirty.Swap(false) {
		return nil
	}
	s.mu.RLock()
	f := s.active().f
	s.mu.RUnlock()
	return f.Sync()
}

// close stops the writer, fsyncs and closes every file.
func (s *shardLog) close() error {
	var err error
	s.once.Do(func() {
		close(s.stop)
		<-s.done
		s.dirty.Store(true)
		err = s.sync()
		s.mu.Lock()
		s.closeFiles()
		s.mu.Unlock()
	})
	return err
}

func (s *shardLog) closeFiles() {
	for _, sg := range s.segs {
		if sg.f != nil {
			sg.f.Close()
			sg.f = nil
		}
		if sg.idxF != nil {
			sg.idxF.Close()
			sg.idxF = nil
		}
	}
}

// poke wakes the readers waiting in watch without a new record.
func (s *shardLog) poke() {
	s.mu.Lock()
	close(s.notify)
	s.notify = make(chan struct{})
	s.mu.Unlock()
}

// watch returns the tip and a channel closed when it next moves.
func (s *shardLog) watch() (uint64, <-chan struct{}) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.tip, s.notify
}

// segmentFor returns the index in s.segs of the segment holding pos. Callers hold s.mu.
func (s *shardLog) segmentForLocked(pos uint64) int {
	i := sort.Search(len(s.segs), func(i int) bool { return s.segs[i].base > pos })
	return max(i-1, 0)
}

// read returns records from position from on, skipping any that arrived before minArrM.
// The records' keys and data share two buffers, so a read of many small records costs a
// few allocations rather than two per record; each Data is capped at its own length, so
// appending to one cannot overwrite the next.
func (s *shardLog) read(from uint64, maxRecords, maxBytes int, minArrM int64) (ReadResult, error) {
	var recs []Record
	var keys, data []byte
	type span struct{ key, data int } // where a record's key and data end
	var ends []span
	res, err := s.readFunc(from, maxRecords, maxBytes, minArrM, func(pos uint64, arrivalMs int64, key, d []byte) {
		keys, data = append(keys, key...), append(data, d...)
		ends = append(ends, span{len(keys), len(data)})
		recs = append(recs, Record{Position: pos, Arrival: time.UnixMilli(arrivalMs)})
	})
	allKeys := string(keys)
	k, d := 0, 0
	for i, e := range ends {
		recs[i].PartitionKey = allKeys[k:e.key]
		recs[i].Data = data[d:e.data:e.data]
		k, d = e.key, e.data
	}
	res.Records = recs
	return res, err
}

// readFunc reads as read does but hands each record to fn, whose key and data are valid
// only until it returns (they alias the reader's buffer). fn runs under s.mu's read lock.
func (s *shardLog) readFunc(from uint64, maxRecords, maxBytes int, minArrM int64, fn RecordFunc) (ReadResult, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	res := ReadResult{Tip: s.tip, Next: from}
	if from < s.segs[0].base {
		from = s.segs[0].base
		res.Next = from
	}
	if from >= s.tip {
		if from > s.tip {
			res.Next = s.tip
		}
		return res, nil
	}
	n, bytes := 0, 0
	for i := s.segmentForLocked(from); i < len(s.segs); i++ {
		sg := s.segs[i]
		upper := s.upperLocked(i)
		if err := s.load(sg, upper); err != nil {
			return res, err
		}
		start, want := int64(0), sg.base
		if from > sg.base {
			after := func(e idxEntry) bool { return e.pos > from }
			idx, err := s.idxFor(sg, after)
			if err != nil {
				return res, err
			}
			if j := sort.Search(len(idx), func(j int) bool { return after(idx[j]) }); j > 0 {
				start, want = idx[j-1].offset, idx[j-1].pos
			}
		}
		full := false
		_, err := s.walk(sg, start, sg.size, want, upper, true, func(fr frame, off int64) bool {
			if fr.pos < from {
				return true
			}
			if n >= maxRecords || (n > 0 && bytes+len(fr.data) > maxBytes) {
				full = true
				return false
			}
			res.Next = fr.pos + 1
			if fr.arrivalM < minArrM {
				return true
			}
			n++
			bytes += len(fr.data)
			fn(fr.pos, fr.arrivalM, fr.key, fr.data)
			return true
		})
		if err != nil {
			return res, err
		}
		if full {
			break
		}
		// Past the segment's last intact record: whatever positions it lost to damage are
		// behind the reader too.
		res.Next = max(res.Next, upper)
		from = res.Next
	}
	return res, nil
}

// upperLocked is the position after the last one segment i can hold: the next segment's
// base, or the tip for the active segment. Callers hold s.mu.
func (s *shardLog) upperLocked(i int) uint64 {
	if i+1 < len(s.segs) {
		return s.segs[i+1].base
	}
	return s.tip
}

// findTime returns the position of the first record that arrived at or after tM, or the tip.
func (s *shardLog) findTime(tM int64) (uint64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	// Arrival times never decrease along the log, so both levels are binary searches.
	var loadErr error
	i := sort.Search(len(s.segs), func(i int) bool {
		if err := s.load(s.segs[i], s.upperLocked(i)); err != nil {
			loadErr = err
			return true
		}
		a, ok := s.segs[i].firstArrival()
		return !ok || a >= tM
	})
	if loadErr != nil {
		return 0, loadErr
	}
	if i == 0 {
		if _, ok := s.segs[0].firstArrival(); !ok {
			return s.tip, nil
		}
		return s.segs[0].base, nil
	}
	sg := s.segs[i-1]
	after := func(e idxEntry) bool { return e.arrivalM >= tM }
	idx, err := s.idxFor(sg, after)
	if err != nil {
		return 0, err
	}
	j := sort.Search(len(idx), func(j int) bool { return after(idx[j]) })
	e := idx[max(j-1, 0)]
	next := s.upperLocked(i - 1)
	_, err = s.walk(sg, e.offset, sg.size, e.pos, next, true, func(fr frame, off int64) bool {
		if fr.arrivalM >= tM {
			next = fr.pos
			return false
		}
		return true
	})
	return next, err
}

// bounds returns the first position not yet dropped by retention (by file) and the tip.
func (s *shardLog) bounds() (first, tip uint64) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.segs[0].base, s.tip
}

// dropExpired deletes whole sealed segments whose every record arrived before cutoffM.
func (s *shardLog) dropExpired(cutoffM int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for len(s.segs) > 1 {
		next := s.segs[1]
		if err := s.load(next, s.upperLocked(1)); err != nil {
			break
		}
		a, ok := next.firstArrival()
		// The next segment's first arrival bounds this segment's last one from above.
		if !ok || a >= cutoffM {
			break
		}
		old := s.segs[0]
		if old.f != nil {
			old.f.Close()
		}
		if err := os.Remove(old.logPath); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.logger.Warn("stream: cannot delete expired segment", "file", old.logPath, "err", err)
			break
		}
		os.Remove(old.idxPath)
		s.segs = s.segs[1:]
		n++
	}
	return n
}
