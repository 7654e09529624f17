package stream

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"sync"
	"sync/atomic"
)

// Damage in a segment (a flipped bit, a torn or lost page, a length that points nowhere) is
// a run of bytes that holds no intact frame. Readers step over it to the next frame that
// verifies, so damage costs only the records it touched: the frames are length-prefixed,
// but a length is not covered by the CRC, so a damaged frame's length cannot be trusted to
// find the next one. Instead the bytes after the damage are searched for an offset where a
// frame verifies (length in range, CRC matching) and whose position could follow: a frame
// is at least minFrameLen bytes, so after skipping k bytes at most k/minFrameLen records can
// have been lost. That bound, with the CRC, makes a false match in the skipped bytes
// practically impossible (short of a damaged record whose data is itself a frame of this
// format with a fitting position), and it keeps the search cheap: most offsets fail on the
// position before any CRC is computed.
const minFrameLen = frameHeaderLen + bodyFixedLen

// damagedRegion is what a search from the start of one damaged region found.
type damagedRegion struct {
	resume    int64  // offset of the first intact frame after the damage, or -1
	resumePos uint64 // its position
	scanned   int64  // with resume -1: the limit searched up to (the active segment grows)
}

// damageState remembers, per segment, the damage readers found, so the search and the error
// log happen once per region per process rather than once per read.
type damageState struct {
	mu       sync.Mutex
	regions  map[int64]damagedRegion // by the offset where the damage starts
	reported map[int64]bool          // by resume offset (or start, for damage to the end)
}

// forgetFrom drops what is known about damage at or after off.
func (ds *damageState) forgetFrom(off int64) {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	for k := range ds.regions {
		if k >= off {
			delete(ds.regions, k)
		}
	}
}

// damageCounters are a shard's totals since the process started, read by Engine.Damage.
type damageCounters struct {
	regions, records, bytes atomic.Int64
}

// walk calls fn for each intact frame of sg in [off, limit) in order, until fn returns
// false. want is the position of the frame at off; upper bounds the positions the segment
// can hold (the next segment's base, or the tip). Damage is stepped over (see resumeAfter);
// with reportTail, damage that runs to limit is reported too, as readers of a log that
// should be whole do; recovery instead cuts a damaged tail as torn.
//
// It returns the offset just past the last frame fn accepted, or where a damaged tail
// starts, and any I/O error.
func (s *shardLog) walk(sg *segment, off, limit int64, want, upper uint64, reportTail bool, fn func(fr frame, off int64) bool) (int64, error) {
	r := readers.Get().(*bufio.Reader)
	defer func() { r.Reset(nil); readers.Put(r) }()
	r.Reset(io.NewSectionReader(sg.f, off, limit-off))
	var buf []byte
	for off < limit {
		fr, n, unread, err := readFrame(r, &buf, limit-off)
		if err == nil && fr.pos == want && fr.pos < upper {
			if !fn(fr, off) {
				return off, nil
			}
			r.Discard(unread)
			off += int64(n)
			want = fr.pos + 1
			continue
		}
		if err != nil && !errors.Is(err, errBadFrame) && !errors.Is(err, errShortFrame) {
			return off, err
		}
		d, err := s.resumeAfter(sg, off, limit, want, upper, reportTail)
		if err != nil {
			return off, err
		}
		if d.resume < 0 {
			return off, nil
		}
		off, want = d.resume, d.resumePos
		r.Reset(io.NewSectionReader(sg.f, off, limit-off))
	}
	// A log cut at a frame boundary ends cleanly but short of the positions it held.
	if reportTail && want < upper && upper != noUpper {
		if _, err := s.resumeAfter(sg, off, limit, want, upper, true); err != nil {
			return off, err
		}
	}
	return off, nil
}

// readers are the buffered readers walks read segments through, kept between walks
// because a read of a few records would otherwise allocate a whole buffer.
var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 64<<10) }}

// readFrame decodes the next frame from r, which holds room bytes, and returns it, its
// length, and how many of its bytes are still unread. A frame that fits r's buffer is
// decoded in place and left unread (key and data alias the buffer, with no copy, until the
// caller discards the frame); a larger one is read into *buf, reused between calls.
func readFrame(r *bufio.Reader, buf *[]byte, room int64) (fr frame, n, unread int, err error) {
	hdr, err := r.Peek(frameHeaderLen)
	if err != nil {
		return frame{}, 0, 0, shortOr(err)
	}
	bodyLen := int(binary.LittleEndian.Uint32(hdr))
	if bodyLen < bodyFixedLen || bodyLen > maxBodyLen {
		return frame{}, 0, 0, errBadFrame
	}
	n = frameHeaderLen + bodyLen
	if int64(n) > room {
		return frame{}, 0, 0, errShortFrame
	}
	var b []byte
	if n <= r.Size() {
		if b, err = r.Peek(n); err != nil {
			return frame{}, 0, 0, shortOr(err)
		}
		unread = n
	} else {
		if cap(*buf) < n {
			*buf = make([]byte, n)
		}
		b = (*buf)[:n]
		if _, err := io.ReadFull(r, b); err != nil {
			return frame{}, 0, 0, shortOr(err)
		}
	}
	fr, _, err = decodeFrame(b)
	return fr, n, unread, err
}

// shortOr maps running out of bytes to errShortFrame and passes real I/O errors through.
func shortOr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, bufio.ErrBufferFull) {
		return errShortFrame
	}
	return err
}

// resumeAfter returns where intact frames resume after damage found at off (where a frame
// with position want should have been), searching once per region and reporting it once:
// at error, with the positions lost as far as they are known, and in the shard's counters.
func (s *shardLog) resumeAfter(sg *segment, off, limit int64, want, upper uint64, reportTail bool) (damagedRegion, error) {
	ds := &sg.damage
	ds.mu.Lock()
	defer ds.mu.Unlock()
	if d, ok := ds.regions[off]; ok && (d.resume >= 0 || d.scanned >= limit) {
		return d, nil
	}
	c, pos, err := resync(sg.f, off, limit, want, upper)
	if err != nil {
		return damagedRegion{}, err
	}
	d := damagedRegion{resume: c, resumePos: pos, scanned: limit}
	if ds.regions == nil {
		ds.regions, ds.reported = map[int64]damagedRegion{}, map[int64]bool{}
	}
	ds.regions[off] = d
	key := c
	if c < 0 {
		if !reportTail {
			return d, nil
		}
		key = -off - 1
	}
	if ds.reported[key] {
		return d, nil
	}
	ds.reported[key] = true
	end, lost := c, int64(0)
	attrs := []any{"file", sg.logPath, "offset", off}
	if c >= 0 {
		lost = int64(pos - want)
		attrs = append(attrs, "bytes", c-off, "resumed_at_position", pos)
		if lost > 0 {
			attrs = append(attrs, "first_lost_position", want, "last_lost_position", pos-1)
		}
	} else {
		end = limit
		attrs = append(attrs, "bytes", limit-off, "first_lost_position", want)
		if upper > want && upper != noUpper {
			lost = int64(upper - want)
			attrs = append(attrs, "last_lost_position", upper-1)
		}
	}
	s.damaged.regions.Add(1)
	s.damaged.records.Add(lost)
	s.damaged.bytes.Add(end - off)
	s.logger.Error("stream: damaged bytes in shard log skipped; the records in them are lost, those after them are served", attrs...)
	return d, nil
}

// noUpper is the bound on positions when none is known (recovering the active segment).
const noUpper = ^uint64(0)

// resync returns the first offset in (x, limit) where an intact frame starts whose position
// could follow damage at x that began where position want was expected, and that position;
// -1 if there is none.
func resync(f *os.File, x, limit int64, want, upper uint64) (int64, uint64, error) {
	const window = 1 << 20
	buf := make([]byte, window+minFrameLen)
	for c0 := x + 1; c0+minFrameLen <= limit; c0 += window {
		n, err := f.ReadAt(buf[:min(int64(len(buf)), limit-c0)], c0)
		if err != nil && !errors.Is(err, io.EOF) {
			return -1, 0, err
		}
		b := buf[:n]
		for i := 0; i < window && i+minFrameLen <= len(b); i++ {
			c := c0 + int64(i)
			bodyLen := int64(binary.LittleEndian.Uint32(b[i:]))
			if bodyLen < bodyFixedLen || bodyLen > maxBodyLen || c+frameHeaderLen+bodyLen > limit {
				continue
			}
			p := binary.LittleEndian.Uint64(b[i+frameHeaderLen:])
			if p < want || p >= upper || p-want > uint64(c-x)/minFrameLen {
				continue
			}
			if fr, _, err := readFrameAt(f, c); err == nil && fr.pos == p {
				return c, p, nil
			}
		}
	}
	return -1, 0, nil
}
