package firehose

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// reader delivers one shard of the source. The source log itself is the buffer: the reader
// keeps only the range of positions it has accepted and reads the records again when it
// writes the object, so a buffer costs no memory however large it is allowed to grow.
//
// The reader is a state machine (run): it waits for its shard's parents, loads its
// checkpoint, redoes a batch a crash interrupted, then reads the shard into a batch until
// the batch is cut by size, by the interval or by a flush, and delivers it. A batch whose
// delivery failed waits out the backoff and is delivered again as it is, never extended.
// Every state that waits listens for a flush through one function (wait), and a flush is
// served and answered in one place (flush); a batch is delivered, and the machine's position
// moved past it, in one place too (deliverBuf, around deliver, which decides, writes and
// commits).
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
	// decision is the decision being committed while deliver writes the batch's objects
	// (nil otherwise); each object waits for it before it ends.
	decision *decision
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

func stateKey(name string, shard int) []byte { return []byte(fmt.Sprintf("%s\x00%06d", name, shard)) }

// machine is the state of one run of a reader. It lives on the reader's goroutine only.
type machine struct {
	r      *reader
	stream string
	pos    uint64 // the next position to read
	buf    batch
	// held is a flush that came while the parents were being delivered, once they were; it
	// is served by the first state that can.
	held chan flushResult
	// failing is set while buf holds a batch whose delivery failed: it waits out the backoff
	// and is delivered again as it is (its keys derive from its range, and some of its
	// objects may be written already).
	failing bool
	// redo is set while buf is a batch a crash left decided but not committed, so its
	// deliveries are told apart from retries.
	redo  bool
	timer *time.Timer // the interval of a non-empty buf; nil when none runs
}

// stateFn is one state of the reader: it does its work and returns the next state, nil to
// stop.
type stateFn func(*machine) stateFn

func (r *reader) run() {
	defer close(r.doneCh())
	m := &machine{r: r, stream: sourceStream(*r.d.info.Load())}
	defer m.stopTimer()
	for state := stateFn(awaitingParents); state != nil; {
		state = state(m)
	}
}

// wake is what ended a wait.
type wake int

const (
	evStop    wake = iota // the delivery stream is stopping
	evFlush               // a flush asks for everything up to the source's tip
	evChanged             // the source has new records
	evTimer               // the batch's interval is up
	evAgain               // the time to try again (a backoff, a wait for the source) is up
)

// wait blocks until something happens that the current state acts on; nil channels are
// never ready. Only reading passes the interval: while the source is down a batch that
// comes due stays due, its timer's tick waiting in the channel until reading is back. A held
// flush is handed out first, before a stop, so it is never left unanswered. The gauge is published before
// blocking, so it is current while the reader idles.
func (m *machine) wait(changed <-chan struct{}, interval, again <-chan time.Time) (wake, chan flushResult) {
	if h := m.held; h != nil {
		m.held = nil
		return evFlush, h
	}
	m.r.report(m.buf.Bytes)
	select {
	case <-m.r.d.stop:
		return evStop, nil
	case reply := <-m.r.flush:
		return evFlush, reply
	case <-changed:
		return evChanged, nil
	case <-interval:
		m.timer = nil
		return evTimer, nil
	case <-again:
		return evAgain, nil
	}
}

// answer replies to a flush. The gauge goes first: whoever flushed may read it next.
func (m *machine) answer(reply chan flushResult, keys []string, err error) {
	m.r.report(m.buf.Bytes)
	reply <- flushResult{keys: keys, err: err}
}

func (m *machine) interval() <-chan time.Time {
	if m.timer == nil {
		return nil
	}
	return m.timer.C
}

func (m *machine) stopTimer() {
	if m.timer != nil {
		m.timer.Stop()
		m.timer = nil
	}
}

// awaitingParents waits until the shard's parents are delivered, so one partition key's
// records reach S3 in order. A flush that comes meanwhile is answered at once if a parent is
// still unfinished (nothing of this shard may go before it), and otherwise held, to be
// served once the reader has started.
func awaitingParents(m *machine) stateFn {
	r := m.r
	lin, ok := r.d.e.src.(Lineage)
	if !ok {
		return loading
	}
	parents, err := lin.Parents(m.stream, r.shard)
	if err != nil {
		return loading
	}
	finished := func() bool {
		for _, p := range parents {
			select {
			case <-r.d.finishedCh(p):
			default:
				return false
			}
		}
		return true
	}
	for _, p := range parents {
		// The parent's finishing is the change this state waits for.
		for waiting := true; waiting; {
			switch ev, reply := m.wait(r.d.finishedCh(p), nil, nil); ev {
			case evStop:
				return nil
			case evChanged:
				waiting = false
			case evFlush:
				if finished() {
					m.held = reply
					return loading
				}
				m.answer(reply, nil, nil)
			}
		}
	}
	return loading
}

// loading reads the checkpoint, and any batch a crash left decided but not committed, which
// is delivered again (same keys, same records) before anything else. A checkpoint that
// cannot be read is tried again every second; a flush meanwhile gets the error.
func loading(m *machine) stateFn {
	r := m.r
	in := *r.d.info.Load()
	pos, pending, err := r.load(in)
	if err != nil {
		r.d.e.logger.Warn("firehose: cannot start reading", "deliveryStream", in.Name, "shard", r.shard, "err", err)
		switch ev, reply := m.wait(nil, nil, time.After(time.Second)); ev {
		case evStop:
			return nil
		case evFlush:
			m.answer(reply, nil, err)
		}
		return loading
	}
	m.pos = pos
	if pending == nil {
		return reading
	}
	m.buf, m.redo = *pending, true
	return redoing
}

// redoing delivers the batch a crash interrupted, at once.
func redoing(m *machine) stateFn {
	m.deliverBuf(triggerRedo)
	return m.next()
}

// next is the state that follows a delivery or a flush: waiting out the backoff if a batch
// failed, else reading. A decided batch goes the same way even if nothing failed: reading
// would add records to it, and its keys derive from its range.
func (m *machine) next() stateFn {
	if m.failing || m.buf.Spec != nil {
		return backingOff
	}
	return reading
}

// reading takes the source's records into the batch, delivering it when it is full, and
// once caught up waits for more records, the batch's interval or a flush. A closed shard's
// reader stops once it has delivered the shard to its end.
func reading(m *machine) stateFn {
	r := m.r
	if h := m.held; h != nil {
		m.held = nil
		return m.flush(h)
	}
	r.report(m.buf.Bytes)
	_, n, err := m.take()
	if m.failing {
		return backingOff
	}
	if err != nil {
		r.d.e.logger.Warn("firehose: reading source", "deliveryStream", r.d.info.Load().Name, "stream", m.stream, "shard", r.shard, "err", err)
		return sourceDown
	}
	if !m.buf.empty() && m.timer == nil {
		m.timer = time.NewTimer(r.d.info.Load().Interval)
	}
	if n > 0 {
		return reading
	}
	if r.ended(m.stream, m.pos, &m.buf) {
		r.finish(m.stream)
		return nil
	}
	tip, changed, err := r.d.e.src.Watch(m.stream, r.shard)
	if err == nil && tip > m.pos {
		return reading
	}
	if err != nil {
		changed = nil
	}
	switch ev, reply := m.wait(changed, m.interval(), nil); ev {
	case evStop:
		return nil
	case evFlush:
		return m.flush(reply)
	case evTimer:
		m.deliverBuf(triggerInterval)
		return m.next()
	}
	return reading
}

// backingOff waits out the backoff of a batch whose delivery failed, then delivers it again.
// A flush tries it at once.
func backingOff(m *machine) stateFn {
	m.stopTimer() // the batch is cut already; only the backoff decides when it goes
	switch ev, reply := m.wait(nil, nil, m.r.retryAfter()); ev {
	case evStop:
		return nil
	case evFlush:
		return m.flush(reply)
	}
	if m.redo {
		m.deliverBuf(triggerRedo)
	} else {
		m.deliverBuf(triggerRetry)
	}
	return m.next()
}

// sourceDown waits a second after the source could not be read, then reads again. A flush
// tries at once.
func sourceDown(m *machine) stateFn {
	switch ev, reply := m.wait(nil, nil, time.After(time.Second)); ev {
	case evStop:
		return nil
	case evFlush:
		return m.flush(reply)
	}
	return reading
}

// flush serves a flush: it delivers the batch, reads to the source's current tip delivering
// everything (cut by size as reading does), and answers. A closed shard delivered to its end
// finishes before the answer, so the flush goes on to its children.
func (m *machine) flush(reply chan flushResult) stateFn {
	keys, err := m.catchUp()
	fin := err == nil && m.r.ended(m.stream, m.pos, &m.buf)
	if fin {
		m.r.finish(m.stream)
	}
	m.answer(reply, keys, err)
	if fin {
		return nil
	}
	return m.next()
}

// catchUp delivers a batch that is decided already (it cannot grow), then reads to the
// source's tip and delivers what it holds.
func (m *machine) catchUp() ([]string, error) {
	var keys []string
	if m.buf.Spec != nil {
		k, err := m.deliverBuf(triggerFlush)
		if err != nil {
			return nil, err
		}
		keys = k
	}
	for {
		k, n, err := m.take()
		keys = append(keys, k...)
		if err != nil {
			return keys, err
		}
		if n == 0 {
			break
		}
	}
	k, err := m.deliverBuf(triggerFlush)
	return append(keys, k...), err
}

// take reads one chunk of the source past pos into the batch, delivering the batch each time
// it is full, and returns the keys written and how many records it read. If a full batch
// cannot be delivered, the machine is failing and pos is just past the batch: the records
// after it stay in the source until it goes.
func (m *machine) take() (keys []string, n int, err error) {
	r := m.r
	cur := *r.d.info.Load()
	c := chunks.Get().(*chunk)
	defer chunks.Put(c)
	next, err := r.read(m.stream, m.pos, c)
	if err != nil {
		return nil, 0, err
	}
	recs := c.recs
	extra := 0
	if cur.Delimiter != nil {
		extra = len(*cur.Delimiter)
	}
	var in incoming
	ps := r.sizer(cur)
	for _, rec := range recs {
		m.buf.add(rec, extra, ps)
		in.take(rec)
		if r.full(&m.buf, cur.SizeBytes, cur, ps) {
			k, err := m.deliverBuf(triggerSize)
			if err != nil {
				r.reportIncoming(cur, in)
				m.pos = m.buf.Last + 1
				return keys, len(recs), err
			}
			keys = append(keys, k...)
		}
	}
	r.reportIncoming(cur, in)
	m.pos = next
	return keys, len(recs), nil
}

// deliverBuf delivers the batch (see deliver) and, once it is committed, starts an empty one
// past it. On failure the batch stays, decided, and the machine is failing.
func (m *machine) deliverBuf(trigger string) ([]string, error) {
	keys, err := m.r.deliver(&m.buf, trigger)
	if err != nil {
		m.failing = true
		return nil, err
	}
	if !m.buf.empty() {
		// A redone batch starts at the checkpoint, behind pos; any other batch ends at pos.
		m.pos = max(m.pos, m.buf.Last+1)
	}
	m.buf, m.failing, m.redo = batch{}, false, false
	m.stopTimer()
	return keys, nil
}

// load reads the reader's checkpoint and any batch a crash left half-delivered. Without a
// checkpoint, a Kinesis source starts at the records that arrived from the delivery stream's
// creation on (AWS starts at LATEST as of creation); a DirectPut log from its start.
func (r *reader) load(in Info) (pos uint64, pending *batch, err error) {
	e := r.d.e
	found := false
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
		return pos, pending, err
	}
	if in.Type == KinesisStreamAsSource {
		pos, err = e.src.StartAt(in.KinesisStream, r.shard, in.Created)
	}
	return pos, pending, err
}

// deliver writes a batch's objects and then commits past it. The batch, its configuration
// and its key are recorded first, so a crash in between is redone with the same keys (see
// loading), and every key depends only on what its object holds: S3 ends up with every
// record exactly once.
func (r *reader) deliver(b *batch, trigger string) ([]string, error) {
	if b.empty() {
		return nil, nil
	}
	e := r.d.e
	in := *r.d.info.Load()
	if b.Spec == nil {
		// The batch counts as decided only once its record is durable: a decided batch is
		// written without recording it again.
		nb := *b
		nb.Spec = specOf(in)
		if nb.Key != "" { // decided by an older localpipe, before batches carried their spec
			nb.Spec.Version = nb.Version
		} else {
			nb.Version = in.Version
			nb.Decided = e.now().UTC().Truncate(time.Millisecond)
			switch {
			case nb.Spec.Channel != nil:
				nb.Key, _ = r.channelKeys(in, nb.Spec, &nb)
			case nb.Spec.PartitionQuery == "":
				nb.Key = r.objectKey(in, nb.Spec, &nb, nb.Oldest, "", prefixEnv{})
			}
		}
		v, _ := json.Marshal(&nb)
		// The decision is committed while the objects are written, not before: each object
		// holds back its end until the decision is durable (objectWriter.close), and the
		// sink commits an object only once it has read its end, so no crash can leave an
		// object without the decision that rewrites it under the same key.
		d := &decision{done: make(chan struct{})}
		go func() {
			defer close(d.done)
			d.err = e.db.Update(func(tx *bolt.Tx) error {
				return tx.Bucket(rootBucket).Bucket(batchBucket).Put(stateKey(in.Name, r.shard), v)
			})
		}()
		undecided := *b
		*b, r.decision = nb, d
		defer func() {
			r.decision = nil
			if d.wait() != nil {
				*b = undecided
			}
		}()
	} else if n, err := r.readable(in, b); err == nil && n == 0 {
		// A decided batch is written again after a failure or a crash, maybe over objects
		// already written. If the source has lost every one of its records to damage since,
		// writing would replace those objects with empty ones: keep them, and move on.
		e.logger.Warn("firehose: every record of a batch to write again is gone from the source; objects already written are kept",
			"deliveryStream", in.Name, "first", b.First, "last", b.Last)
		if err := r.commit(in, b); err != nil {
			return nil, err
		}
		r.failures = 0
		r.failure.Store(nil)
		return nil, nil
	}
	keys, committed, err := r.write(in, b)
	if d := r.decision; d != nil && d.wait() != nil {
		// Deciding failed, and with it every object written meanwhile: the batch is as it was.
		return nil, d.err
	}
	if err != nil {
		e.metrics.DeliveryFailed(in.Name)
		de := r.failed(err)
		e.logger.Warn("firehose: delivery to S3 failed; will retry", "deliveryStream", in.Name, "bucket", in.Bucket, "first", b.First, "last", b.Last,
			"errorCode", de.Code, "attempts", de.Attempts, "retryIn", backoff(r.failures, e.retryBase, e.retryMax), "err", err)
		return nil, err
	}
	if !committed {
		if err := r.commit(in, b); err != nil {
			return nil, err
		}
	}
	r.failures = 0
	r.failure.Store(nil)
	e.metrics.Delivered(in.Name, b.Records, int(b.Bytes), e.now().Sub(b.Oldest))
	if trigger == triggerFlush && e.closing.Load() {
		trigger = triggerShutdown
	}
	if e.hooks.Delivered != nil {
		e.hooks.Delivered(Delivery{DeliveryStream: in.Name, Source: sourceStream(in), Shard: r.shard,
			First: b.First, Last: b.Last, Bucket: in.Bucket, Keys: keys, Records: b.Records, Bytes: b.Bytes, Trigger: trigger})
	}
	e.logger.Info("firehose: delivered", "deliveryStream", in.Name, "bucket", in.Bucket, "keys", keys,
		"records", b.Records, "bytes", b.Bytes, "trigger", trigger)
	return keys, nil
}

// decision is the commit of a batch's decision (its keys and spec), under way while the
// batch's objects are written.
type decision struct {
	done chan struct{}
	err  error
}

func (d *decision) wait() error {
	<-d.done
	return d.err
}

// failed counts a failed delivery and records the error it met as Firehose names it: S3's
// error code under "S3.", or InternalError for a failure that carries no S3 code (a local
// disk error, say).
func (r *reader) failed(err error) *DeliveryError {
	r.failures++
	de := &DeliveryError{Code: "InternalError", Message: err.Error(), Since: r.d.e.now(), Attempts: 1}
	var se *SinkError
	if errors.As(err, &se) {
		de.Code, de.Message = "S3."+se.Code, se.Message
	}
	if prev := r.failure.Load(); prev != nil {
		de.Since, de.Attempts = prev.Since, prev.Attempts+1
	}
	r.failure.Store(de)
	return de
}

// commit moves the checkpoint past the batch and forgets it.
func (r *reader) commit(in Info, b *batch) error {
	return r.d.e.db.Update(r.commitTx(in, b))
}

// commitTx is commit's update, also run by a CommitSink in the transaction of the batch's
// object. Running it twice is harmless.
func (r *reader) commitTx(in Info, b *batch) func(*bolt.Tx) error {
	return func(tx *bolt.Tx) error {
		if tx.DB() != r.d.e.db {
			return errors.New("firehose: the sink's database is not the engine's")
		}
		root := tx.Bucket(rootBucket)
		var v [8]byte
		binary.BigEndian.PutUint64(v[:], b.Last+1)
		if err := root.Bucket(checkBucket).Put(stateKey(in.Name, r.shard), v[:]); err != nil {
			return err
		}
		return root.Bucket(batchBucket).Delete(stateKey(in.Name, r.shard))
	}
}
