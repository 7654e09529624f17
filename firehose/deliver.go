package firehose

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// delivery is a running delivery stream: one reader per source shard.
type delivery struct {
	e       *Engine
	info    atomic.Pointer[Info]
	readers []*reader
	stop    chan struct{}
	// buffered is the sum of the readers' buffered bytes, for the buffer-bytes metric.
	buffered atomic.Int64

	// mu guards readers, which grows when a Kinesis source is resharded, and finished
	// (lineage.go).
	mu       sync.Mutex
	finished map[int]chan struct{}
}

func (d *delivery) wait() {
	for i := 0; d.reader(i) != nil; i++ {
		<-d.reader(i).doneCh()
	}
}

type flushResult struct {
	keys []string
	err  error
}

func (d *delivery) flushAll(ctx context.Context) ([]string, error) {
	var keys []string
	var errs []error
	// By index, not over a copy: a parent that finishes during the flush starts its
	// children's readers, and the flush goes on to them.
	for i := 0; d.reader(i) != nil; i++ {
		r := d.reader(i)
		reply := make(chan flushResult, 1)
		select {
		case r.flush <- reply:
		case <-r.doneCh():
			continue
		case <-ctx.Done():
			return keys, ctx.Err()
		}
		select {
		case res := <-reply:
			keys = append(keys, res.keys...)
			if res.err != nil {
				errs = append(errs, res.err)
			}
		case <-ctx.Done():
			return keys, ctx.Err()
		}
	}
	return keys, errors.Join(errs...)
}

// reader delivers one shard of the source. The source log itself is the buffer: the reader
// keeps only the range of positions it has accepted and reads the records again when it
// writes the object, so a buffer costs no memory however large it is allowed to grow.
type reader struct {
	d     *delivery
	shard int
	flush chan chan flushResult
	done  chan struct{}
	once  sync.Once
	// reported is this reader's share of delivery.buffered.
	reported int64
	// parts measures partitions for the size trigger of a partitioned stream.
	parts *partSizer
	// failures counts the deliveries that failed in a row, for the backoff; failure is the
	// error the latest of them met (nil after a success), for DescribeDeliveryStream.
	failures int
	failure  atomic.Pointer[DeliveryError]
}

// backoff is the wait before retrying after n failed deliveries in a row (n ≥ 1): base,
// doubled per further failure, capped at max. There is no jitter: jitter spreads the retries
// of many clients of one service, while here every retry goes to one local store, and a test
// reading the log is better served by a schedule it can predict.
func backoff(n int, base, max time.Duration) time.Duration {
	d := base
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

// retryAfter is when the reader retries a failed delivery.
func (r *reader) retryAfter() <-chan time.Time {
	return time.After(backoff(r.failures, r.d.e.retryBase, r.d.e.retryMax))
}

// report publishes how many bytes the reader holds in its buffer (positions in the log, not
// copies of the records).
func (r *reader) report(n int64) {
	if n == r.reported {
		return
	}
	total := r.d.buffered.Add(n - r.reported)
	r.reported = n
	r.d.e.metrics.Buffered(r.d.info.Load().Name, total)
}

func (r *reader) doneCh() chan struct{} {
	r.once.Do(func() { r.done = make(chan struct{}) })
	return r.done
}

// batch is a range of records bound for one object.
type batch struct {
	First, Last uint64    // positions, inclusive
	Oldest      time.Time // approximate arrival of the oldest record
	Bytes       int64
	Records     int
	Key         string // decided before the object is written, so a retry writes the same key
	Version     int
	// Spec is the configuration the batch's objects are laid out with, frozen with its keys
	// (nil until then), so a redo after a crash writes the same objects under the same keys
	// even if UpdateDestination came in between.
	Spec *spec `json:",omitempty"`
	// Decided is when the keys were fixed; error records carry it as attemptEndingTimestamp.
	Decided time.Time `json:",omitzero"`

	// parts is the bytes of each partition the batch holds, by partition id, for the size
	// trigger of a partitioned stream: nil until the batch as a whole reaches the size (no
	// partition can be full before that), then measured once over the batch and kept up as
	// records join. largest is the largest of them. They only decide when the batch is cut,
	// so they are neither stored nor needed by a redo.
	parts   map[string]int64
	largest int64
}

func (b *batch) empty() bool { return b.Records == 0 }

func (b *batch) add(rec Record, extra int, ps *partSizer) {
	if b.Records == 0 {
		b.First, b.Oldest = rec.Position, rec.Arrival
	}
	b.Last = rec.Position
	b.Records++
	b.Bytes += int64(len(rec.Data) + extra)
	if ps != nil && b.parts != nil {
		for _, d := range ps.split.split(rec.Data) {
			ps.measure(b, d, extra)
		}
	}
}

// full reports whether the batch has reached the size that delivers it (ps is the stream's
// partition sizer, nil when it is not partitioned).
//
// AWS buffers each partition of a partitioned stream on its own (SizeInMBs is per partition)
// and writes a partition's object when that partition is full. Here a batch is one contiguous
// range of the source shard, re-read at write time and committed as a whole once every one
// of its objects is written; that is what makes a redo after a crash write the same objects
// under the same keys. Cutting one partition out of the range would need a checkpoint per
// partition over interleaved records, so instead the whole batch, every partition in it, is
// delivered when its largest partition reaches SizeBytes: the full partition's object is as
// large as AWS makes it, and the others are delivered early, in smaller objects than AWS
// would write (their time prefixes and object names stay right). So that a batch of many
// partitions does not grow without end, it is also cut when it holds maxOpenObjects times
// SizeBytes in all: that many partitions are written in one pass over the range (see
// writePartitioned), so the passes per byte delivered stay what they are with one SizeBytes.
func (r *reader) full(b *batch, size int64, cur Info, ps *partSizer) bool {
	if b.Bytes < size {
		return false
	}
	if ps == nil {
		return true
	}
	if b.parts == nil && !r.measureAll(b, cur, ps) {
		return true // the source could not be read again: deliver, as without partitions
	}
	return b.largest >= size || b.Bytes >= size*maxOpenObjects
}

// measureAll measures the partitions of what the batch holds so far, reading it again from
// the source as writePartitioned will.
func (r *reader) measureAll(b *batch, cur Info, ps *partSizer) bool {
	extra := 0
	if cur.Delimiter != nil {
		extra = len(*cur.Delimiter)
	}
	b.parts, b.largest = map[string]int64{}, 0
	err := r.each(cur, specOf(cur), b, func(_ time.Time, d []byte) error {
		ps.measure(b, d, extra)
		return nil
	})
	if err != nil {
		b.parts, b.largest = nil, 0
		r.d.e.logger.Warn("firehose: measuring partitions", "deliveryStream", cur.Name, "shard", r.shard, "err", err)
		return false
	}
	return true
}

// partSizer measures what each record adds to each partition of a batch, with the
// de-aggregation and partition keys that writePartitioned applies when it writes the batch.
type partSizer struct {
	config string // what the sizer was built from
	query  *partitionQuery
	names  []string
	split  *splitter
	id     []byte
}

// sizer returns the partition sizer for the stream's current configuration, nil when it is
// not partitioned.
func (r *reader) sizer(cur Info) *partSizer {
	if cur.PartitionQuery == "" {
		return nil
	}
	config := cur.Type + "\x00" + cur.PartitionQuery + "\x00" + cur.Prefix + "\x00" + cur.SubRecordType + "\x00" + cur.SubRecordDelimiter
	if r.parts != nil && r.parts.config == config {
		return r.parts
	}
	ps := &partSizer{config: config, split: newSplitter(cur.Type == KinesisStreamAsSource, specOf(cur))}
	ps.query, _ = parsePartitionQuery(cur.PartitionQuery)
	if pfx, err := layoutPrefix(cur.Prefix); err == nil && pfx != nil {
		ps.names = pfx.queryKeys()
	}
	r.parts = ps
	return ps
}

// errorPart is the partition id that records failing partitioning are counted under: one for
// all error objects, as they are small beside the partitions in practice.
const errorPart = "\x00error"

// measure adds one delivered record d (after de-aggregation) to its partition's bytes.
func (ps *partSizer) measure(b *batch, d []byte, extra int) {
	part := errorPart
	if ps.query != nil {
		if keys, err := ps.query.eval(d); err == nil {
			ps.id = ps.id[:0]
			for _, k := range ps.names {
				ps.id = append(append(ps.id, keys[k]...), 0)
			}
			if _, ok := b.parts[string(ps.id)]; ok || len(b.parts)-b.errorParts() < maxPartitions {
				part = string(ps.id)
			} // else over the active-partition quota: error output
		}
	}
	n := b.parts[part] + int64(len(d)+extra)
	b.parts[part] = n
	b.largest = max(b.largest, n)
}

func (b *batch) errorParts() int {
	if _, ok := b.parts[errorPart]; ok {
		return 1
	}
	return 0
}

// incoming counts the records a reader takes into its buffer from one read of the source.
type incoming struct{ records, bytes int }

func (n *incoming) take(rec Record) {
	n.records++
	n.bytes += len(rec.Data)
}

// reportIncoming reports records taken from a Kinesis source as IncomingRecords and
// IncomingBytes: for that source AWS counts what Firehose reads from the stream (a DirectPut
// stream counts at PutRecord instead, see Engine.Put). A record counts when it joins the
// buffer, which happens once per record in a process's life: records past a batch that failed
// are read again but were not taken, and a batch redone after a crash is re-read by deliver,
// which counts nothing. Counters start at zero with each process, like every Prometheus
// counter; records taken before a crash but not yet delivered are taken, and counted, again
// by the next process, while a redone batch's records are not. Bytes are the Kinesis records'
// data before de-aggregation, as the stream holds them.
func (r *reader) reportIncoming(cur Info, n incoming) {
	if cur.Type == KinesisStreamAsSource && n.records > 0 {
		r.d.e.metrics.Incoming(cur.Name, n.records, n.bytes)
	}
}

func stateKey(name string, shard int) []byte { return []byte(fmt.Sprintf("%s\x00%06d", name, shard)) }

func (r *reader) run() {
	defer close(r.doneCh())
	e := r.d.e
	in := *r.d.info.Load()
	stream := sourceStream(in)
	held, ok := r.awaitParents(stream)
	if !ok {
		return
	}
	pos, pending, found, err := r.load(in)
	for err != nil {
		e.logger.Warn("firehose: cannot start reading", "deliveryStream", in.Name, "shard", r.shard, "err", err)
		select {
		case <-r.d.stop:
			return
		case reply := <-r.flush:
			reply <- flushResult{err: err}
		case <-time.After(time.Second):
		}
		pos, pending, found, err = r.load(in)
	}
	_ = found
	var buf batch
	if pending != nil {
		// A crash came between writing this batch's object and committing past it: write the
		// same object again (same key, same records) before anything else.
	redo:
		for {
			keys, err := r.deliver(pending, triggerRedo)
			if err == nil {
				pos = pending.Last + 1
				break
			}
			select {
			case <-r.d.stop:
				return
			case reply := <-r.flush:
				// A flush retries at once, and on success goes on to the rest of the log.
				if keys, err = r.deliver(pending, triggerFlush); err != nil {
					reply <- flushResult{err: err}
					continue
				}
				pos = pending.Last + 1
				// A batch that fails here stays in buf, decided, for the loop below to retry.
				more, err := r.catchUpAndDeliver(stream, &pos, &buf)
				if err == nil {
					buf = batch{}
				}
				r.report(buf.Bytes)
				reply <- flushResult{keys: append(keys, more...), err: err}
				break redo
			case <-r.retryAfter():
			}
		}
	}
	if held != nil {
		keys, err := r.catchUpAndDeliver(stream, &pos, &buf)
		if err == nil {
			buf = batch{}
		}
		r.report(buf.Bytes)
		fin := err == nil && r.ended(stream, pos, &buf)
		if fin {
			r.finish(stream)
		}
		held <- flushResult{keys: keys, err: err}
		if fin {
			return
		}
	}
	var timer *time.Timer
	var timerC <-chan time.Time
	resetTimer := func() {
		if timer != nil {
			timer.Stop()
		}
		timer, timerC = nil, nil
	}
	defer resetTimer()
	var retry <-chan time.Time
	for {
		r.report(buf.Bytes)
		if buf.Spec != nil {
			// A batch whose delivery failed is retried as it is, never extended: its object
			// keys derive from its range, and some of its objects may be written already.
			select {
			case <-r.d.stop:
				return
			case reply := <-r.flush:
				keys, err := r.catchUpAndDeliver(stream, &pos, &buf)
				if err == nil {
					buf = batch{}
					resetTimer()
				}
				r.report(buf.Bytes) // before answering: whoever flushed may read the gauge next
				reply <- flushResult{keys: keys, err: err}
			case <-r.retryAfter():
				if _, err := r.deliver(&buf, triggerRetry); err == nil {
					buf = batch{}
					resetTimer()
				}
			}
			retry = nil
			continue
		}
		cur := *r.d.info.Load()
		recs, next, err := e.src.Read(stream, r.shard, pos, 1000)
		if err != nil {
			e.logger.Warn("firehose: reading source", "deliveryStream", cur.Name, "stream", stream, "shard", r.shard, "err", err)
			select {
			case <-r.d.stop:
				return
			case reply := <-r.flush:
				reply <- flushResult{err: err}
			case <-time.After(time.Second):
			}
			continue
		}
		extra := 0
		if cur.Delimiter != nil {
			extra = len(*cur.Delimiter)
		}
		var in incoming
		ps := r.sizer(cur)
		for _, rec := range recs {
			buf.add(rec, extra, ps)
			in.take(rec)
			if r.full(&buf, cur.SizeBytes, cur, ps) {
				if _, err := r.deliver(&buf, triggerSize); err != nil {
					// Keep the batch; what is past it stays in the source until it goes.
					next = buf.Last + 1
					retry = r.retryAfter()
					break
				}
				buf = batch{}
				resetTimer()
			}
		}
		r.reportIncoming(cur, in)
		pos = next
		if !buf.empty() && timerC == nil && retry == nil {
			timer = time.NewTimer(cur.Interval)
			timerC = timer.C
		}
		if len(recs) > 0 && retry == nil {
			continue
		}
		if r.ended(stream, pos, &buf) {
			r.finish(stream)
			return
		}
		tip, changed, werr := e.src.Watch(stream, r.shard)
		if werr == nil && tip > pos && retry == nil {
			continue
		}
		if werr != nil {
			changed = nil
		}
		r.report(buf.Bytes)
		select {
		case <-changed:
		case <-timerC:
			timerC, timer = nil, nil
			if _, err := r.deliver(&buf, triggerInterval); err != nil {
				retry = r.retryAfter()
			} else {
				buf = batch{}
			}
		case <-retry:
			retry = nil
			if !buf.empty() {
				if _, err := r.deliver(&buf, triggerRetry); err != nil {
					retry = r.retryAfter()
				} else {
					buf = batch{}
					resetTimer()
				}
			}
		case reply := <-r.flush:
			keys, err := r.catchUpAndDeliver(stream, &pos, &buf)
			if err == nil {
				buf = batch{}
				resetTimer()
			}
			r.report(buf.Bytes) // before answering: whoever flushed may read the gauge next
			// A closed shard finishes before the answer, so the flush goes on to its children.
			fin := err == nil && r.ended(stream, pos, &buf)
			if fin {
				r.finish(stream)
			}
			reply <- flushResult{keys: keys, err: err}
			if fin {
				return
			}
		case <-r.d.stop:
			return
		}
	}
}

// catchUpAndDeliver reads to the source's current tip and delivers everything buffered,
// splitting by size as the normal path would.
func (r *reader) catchUpAndDeliver(stream string, pos *uint64, buf *batch) ([]string, error) {
	e := r.d.e
	var keys []string
	if buf.Spec != nil {
		k, err := r.deliver(buf, triggerFlush)
		if err != nil {
			return nil, err
		}
		keys = k
		*buf = batch{}
	}
	cur := *r.d.info.Load()
	extra := 0
	if cur.Delimiter != nil {
		extra = len(*cur.Delimiter)
	}
	for {
		recs, next, err := e.src.Read(stream, r.shard, *pos, 1000)
		if err != nil {
			return keys, err
		}
		var in incoming
		ps := r.sizer(cur)
		for _, rec := range recs {
			buf.add(rec, extra, ps)
			in.take(rec)
			if r.full(buf, cur.SizeBytes, cur, ps) {
				k, err := r.deliver(buf, triggerSize)
				if err != nil {
					r.reportIncoming(cur, in)
					*pos = buf.Last + 1
					return keys, err
				}
				keys = append(keys, k...)
				*buf = batch{}
			}
		}
		r.reportIncoming(cur, in)
		*pos = next
		if len(recs) == 0 {
			break
		}
	}
	k, err := r.deliver(buf, triggerFlush)
	return append(keys, k...), err
}

// load reads the reader's checkpoint and any batch a crash left half-delivered. Without a
// checkpoint, a Kinesis source starts at the records that arrived from the delivery stream's
// creation on (AWS starts at LATEST as of creation); a DirectPut log from its start.
func (r *reader) load(in Info) (pos uint64, pending *batch, found bool, err error) {
	e := r.d.e
	err = e.db.View(func(tx *bolt.Tx) error {
		root := tx.Bucket(rootBucket)
		if v := root.Bucket(checkBucket).Get(stateKey(in.Name, r.shard)); len(v) == 8 {
			pos, found = binary.BigEndian.Uint64(v), true
		}
		if v := root.Bucket(batchBucket).Get(stateKey(in.Name, r.shard)); v != nil {
			pending = &batch{}
			return json.Unmarshal(v, pending)
		}
		return nil
	})
	if err != nil || found {
		return pos, pending, found, err
	}
	if in.Type == KinesisStreamAsSource {
		pos, err = e.src.StartAt(in.KinesisStream, r.shard, in.Created)
	}
	return pos, pending, false, err
}
