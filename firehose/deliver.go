package firehose

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
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
}

func (d *delivery) wait() {
	for _, r := range d.readers {
		<-r.doneCh()
	}
}

type flushResult struct {
	keys []string
	err  error
}

func (d *delivery) flushAll(ctx context.Context) ([]string, error) {
	var keys []string
	var errs []error
	for _, r := range d.readers {
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
}

func (b *batch) empty() bool { return b.Records == 0 }

func (b *batch) add(rec Record, extra int) {
	if b.Records == 0 {
		b.First, b.Oldest = rec.Position, rec.Arrival
	}
	b.Last = rec.Position
	b.Records++
	b.Bytes += int64(len(rec.Data) + extra)
}

func stateKey(name string, shard int) []byte { return []byte(fmt.Sprintf("%s\x00%06d", name, shard)) }

func (r *reader) run() {
	defer close(r.doneCh())
	e := r.d.e
	in := *r.d.info.Load()
	stream := sourceStream(in)
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
	if pending != nil {
		// A crash came between writing this batch's object and committing past it: write the
		// same object again (same key, same records) before anything else.
		for {
			if _, err := r.deliver(pending); err == nil {
				pos = pending.Last + 1
				break
			}
			select {
			case <-r.d.stop:
				return
			case <-time.After(time.Second):
			}
		}
	}
	var buf batch
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
		for _, rec := range recs {
			buf.add(rec, extra)
			if buf.Bytes >= cur.SizeBytes {
				if _, err := r.deliver(&buf); err != nil {
					// Keep the batch; what is past it stays in the source until it goes.
					next = buf.Last + 1
					retry = time.After(time.Second)
					break
				}
				buf = batch{}
				resetTimer()
			}
		}
		pos = next
		if !buf.empty() && timerC == nil && retry == nil {
			timer = time.NewTimer(cur.Interval)
			timerC = timer.C
		}
		if len(recs) > 0 && retry == nil {
			continue
		}
		tip, changed, werr := e.src.Watch(stream, r.shard)
		if werr == nil && tip > pos && retry == nil {
			continue
		}
		if werr != nil {
			changed = nil
		}
		select {
		case <-changed:
		case <-timerC:
			timerC, timer = nil, nil
			if _, err := r.deliver(&buf); err != nil {
				retry = time.After(time.Second)
			} else {
				buf = batch{}
			}
		case <-retry:
			retry = nil
			if !buf.empty() {
				if _, err := r.deliver(&buf); err != nil {
					retry = time.After(time.Second)
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
			reply <- flushResult{keys: keys, err: err}
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
		for _, rec := range recs {
			buf.add(rec, extra)
			if buf.Bytes >= cur.SizeBytes {
				k, err := r.deliver(buf)
				if err != nil {
					*pos = buf.Last + 1
					return keys, err
				}
				keys = append(keys, k...)
				*buf = batch{}
			}
		}
		*pos = next
		if len(recs) == 0 {
			break
		}
	}
	k, err := r.deliver(buf)
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

// deliver writes a batch as one object and then commits past it. The batch and its key are
// recorded first, so a crash in between is redone with the same key (see run), and the
// object's key depends only on what it holds: S3 ends up with every record exactly once.
func (r *reader) deliver(b *batch) ([]string, error) {
	if b.empty() {
		return nil, nil
	}
	e := r.d.e
	in := *r.d.info.Load()
	if b.Key == "" {
		b.Version = in.Version
		b.Key = objectKey(in, r.shard, b)
		v, _ := json.Marshal(b)
		if err := e.db.Update(func(tx *bolt.Tx) error {
			return tx.Bucket(rootBucket).Bucket(batchBucket).Put(stateKey(in.Name, r.shard), v)
		}); err != nil {
			return nil, err
		}
	}
	if err := r.write(in, b); err != nil {
		e.metrics.DeliveryFailed(in.Name)
		e.logger.Warn("firehose: delivery to S3 failed; will retry", "deliveryStream", in.Name, "bucket", in.Bucket, "key", b.Key, "err", err)
		return nil, err
	}
	err := e.db.Update(func(tx *bolt.Tx) error {
		root := tx.Bucket(rootBucket)
		var v [8]byte
		binary.BigEndian.PutUint64(v[:], b.Last+1)
		if err := root.Bucket(checkBucket).Put(stateKey(in.Name, r.shard), v[:]); err != nil {
			return err
		}
		return root.Bucket(batchBucket).Delete(stateKey(in.Name, r.shard))
	})
	if err != nil {
		return nil, err
	}
	e.metrics.Delivered(in.Name, b.Records, int(b.Bytes), e.now().Sub(b.Oldest))
	e.logger.Debug("firehose: delivered", "deliveryStream", in.Name, "key", b.Key, "records", b.Records, "bytes", b.Bytes)
	return []string{b.Key}, nil
}

// write streams the batch's records from the source log through the compressor into the sink.
func (r *reader) write(in Info, b *batch) error {
	e := r.d.e
	stream := sourceStream(in)
	pr, pw := io.Pipe()
	done := make(chan struct{})
	b = &batch{First: b.First, Last: b.Last, Key: b.Key} // the writer goroutine's own copy
	go func() {
		defer close(done)
		cw, err := newCompressor(in.Compression, pw, strings.TrimSuffix(b.Key[strings.LastIndexByte(b.Key, '/')+1:], extension(in)))
		if err != nil {
			pw.CloseWithError(err)
			return
		}
		pos := b.First
		for pos <= b.Last {
			recs, next, err := e.src.Read(stream, r.shard, pos, 1000)
			if err == nil && len(recs) == 0 {
				err = fmt.Errorf("firehose: records %d..%d of %s shard %d are gone from the source", pos, b.Last, stream, r.shard)
			}
			if err != nil {
				pw.CloseWithError(err)
				return
			}
			for _, rec := range recs {
				if rec.Position > b.Last {
					break
				}
				if _, err := cw.Write(rec.Data); err != nil {
					pw.CloseWithError(err)
					return
				}
				if in.Delimiter != nil {
					io.WriteString(cw, *in.Delimiter)
				}
			}
			pos = next
		}
		pw.CloseWithError(cw.Close())
	}()
	err := e.sink.PutObject(context.Background(), in.Bucket, b.Key, pr, "application/octet-stream", "")
	pr.CloseWithError(errors.New("firehose: object write ended"))
	<-done
	return err
}

// objectKey names a batch's object as Firehose does: the prefix (with the default UTC
// YYYY/MM/dd/HH/ time path when it has no expression), then
// DeliveryStreamName-Version-YYYY-MM-DD-HH-MM-SS-RandomString and the file extension. The
// times are the oldest record's approximate arrival, and the random string is a UUID-shaped
// hash of what the object holds, so rewriting the same batch gives the same key.
func objectKey(in Info, shard int, b *batch) string {
	t := b.Oldest.UTC()
	h := sha256.Sum256(fmt.Appendf(nil, "%s\x00%d\x00%s\x00%d\x00%d\x00%d", in.Name, in.Created.UnixNano(), sourceStream(in), shard, b.First, b.Last))
	x := hex.EncodeToString(h[:16])
	uuid := x[:8] + "-" + x[8:12] + "-4" + x[13:16] + "-" + string("89ab"[h[8]&3]) + x[17:20] + "-" + x[20:32]
	return in.Prefix + t.Format("2006/01/02/15/") + fmt.Sprintf("%s-%d-%s-%s", in.Name, b.Version, t.Format("2006-01-02-15-04-05"), uuid) + extension(in)
}
