package firehose

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
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
