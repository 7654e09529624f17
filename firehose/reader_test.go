package firehose

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// lineageSource is a memSource whose shards split: split closes a shard at its end and
// gives it children, as a Kinesis reshard does.
type lineageSource struct {
	*memSource
	lmu     sync.Mutex
	ends    map[int]uint64 // closed shards: the position after their last record
	parents map[int][]int
}

func (s *lineageSource) ShardEnd(_ string, shard int) (bool, uint64, error) {
	s.lmu.Lock()
	defer s.lmu.Unlock()
	end, ok := s.ends[shard]
	return ok, end, nil
}

func (s *lineageSource) Parents(_ string, shard int) ([]int, error) {
	s.lmu.Lock()
	defer s.lmu.Unlock()
	return s.parents[shard], nil
}

// split closes shard of stream at its current end and adds n child shards.
func (s *lineageSource) split(stream string, shard, n int) {
	s.mu.Lock()
	end := uint64(len(s.logs[stream][shard]))
	for i := 0; i < n; i++ {
		s.changed[fmt.Sprint(stream, len(s.logs[stream]))] = make(chan struct{})
		s.logs[stream] = append(s.logs[stream], nil)
	}
	children := len(s.logs[stream])
	s.mu.Unlock()
	s.lmu.Lock()
	defer s.lmu.Unlock()
	if s.ends == nil {
		s.ends, s.parents = map[int]uint64{}, map[int][]int{}
	}
	s.ends[shard] = end
	for c := children - n; c < children; c++ {
		s.parents[c] = []int{shard}
	}
}

// gateSink fails every put of an object that holds blocked, until blocked is cleared.
type gateSink struct {
	*memSink
	mu      sync.Mutex
	blocked string
}

func (s *gateSink) block(b string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.blocked = b
}

func (s *gateSink) PutObject(ctx context.Context, bucket, key string, body io.Reader, ctype, cenc string) error {
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	s.mu.Lock()
	blocked := s.blocked
	s.mu.Unlock()
	if blocked != "" && bytes.Contains(b, []byte(blocked)) {
		return &SinkError{Code: "SlowDown", Message: "Please reduce your request rate."}
	}
	return s.memSink.PutObject(ctx, bucket, key, bytes.NewReader(b), ctype, cenc)
}

// deliveries records Hooks.Delivered calls in order.
type deliveries struct {
	mu   sync.Mutex
	list []Delivery
	ch   chan Delivery
}

func (d *deliveries) hook(x Delivery) {
	d.mu.Lock()
	d.list = append(d.list, x)
	d.mu.Unlock()
	if d.ch != nil {
		d.ch <- x
	}
}

func (d *deliveries) all() []Delivery {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Delivery(nil), d.list...)
}

// TestLineageParentBeforeChildren: after a split, the children's readers deliver nothing while
// the closed parent still has records to deliver (a flush meanwhile is answered without
// them), and once the parent's delivery goes through one flush delivers the parent, stops
// its reader, and goes on to the children.
func TestLineageParentBeforeChildren(t *testing.T) {
	env := openTest(t)
	if err := env.e.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	lin := &lineageSource{memSource: env.src}
	gate := &gateSink{memSink: env.sink}
	var got deliveries
	env.opts = func(o *Options) {
		o.Source, o.Sink, o.RetryBase, o.RetryMax = lin, gate, time.Millisecond, 4*time.Millisecond
		o.Hooks.Delivered = got.hook
	}
	env.reopen(t)
	if err := lin.createStream("src", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := env.e.Create(baseConfig("ds", func(c *Config) { c.Type, c.KinesisStream = KinesisStreamAsSource, "src" }), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := lin.appendShard("src", 0, [][]byte{[]byte("a"), []byte("b")}); err != nil {
		t.Fatal(err)
	}
	gate.block("a")
	lin.split("src", 0, 2)
	for shard, rec := range map[int]string{1: "c", 2: "d"} {
		if _, err := lin.appendShard("src", shard, [][]byte{[]byte(rec)}); err != nil {
			t.Fatal(err)
		}
	}
	// The parent's batch is decided and fails at the last flush; after the restart every
	// shard has a reader, the children's waiting for the parent.
	if err := env.e.Close(context.Background()); err == nil {
		t.Fatal("close flushed the blocked parent")
	}
	env.reopen(t)
	if keys, err := env.e.Flush(context.Background(), "ds"); err == nil || len(keys) != 0 {
		t.Fatalf("flush while the parent fails: %v, %v; want an error and no keys", keys, err)
	}
	if keys := gate.keys(); len(keys) != 0 {
		t.Fatalf("objects written while the parent fails: %v", keys)
	}
	gate.block("")
	keys, err := env.e.Flush(context.Background(), "ds")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(gate.keys()); n != 3 {
		t.Fatalf("after the flush: %d objects (flush returned %v), want the parent's and both children's", n, keys)
	}
	ds := got.all()
	if len(ds) != 3 || ds[0].Shard != 0 || ds[0].First != 0 || ds[0].Last != 1 {
		t.Fatalf("deliveries %+v, want the parent's first", ds)
	}
	env.e.mu.Lock()
	d := env.e.streams["ds"]
	env.e.mu.Unlock()
	<-d.reader(0).doneCh() // the parent's reader stops once its shard is delivered
	if keys, err := env.e.Flush(context.Background(), "ds"); err != nil || len(keys) != 0 {
		t.Errorf("second flush: %v, %v; want nothing", keys, err)
	}
}

// TestRedoRetriedOnBackoff: a batch a crash left decided, whose redo fails, is retried by the
// reader on the backoff as a redo (same key, same records; records that came after the crash
// stay out of it); a flush meanwhile tries it at once and answers the error.
func TestRedoRetriedOnBackoff(t *testing.T) {
	env := openTest(t)
	if _, err := env.e.Create(baseConfig("ds", nil), nil); err != nil {
		t.Fatal(err)
	}
	put(t, env.e, "ds", "a", "b")
	keys := crashBeforeCommit(t, env, "ds")
	put(t, env.e, "ds", "c")
	gate := &gateSink{memSink: env.sink, blocked: "a"}
	got := deliveries{ch: make(chan Delivery, 4)}
	env.opts = func(o *Options) {
		o.Sink, o.RetryBase, o.RetryMax = gate, time.Millisecond, 4*time.Millisecond
		o.Hooks.Delivered = got.hook
	}
	env.reopen(t)
	if k, err := env.e.Flush(context.Background(), "ds"); err == nil {
		t.Fatalf("flush while the redo fails: %v, want an error", k)
	}
	if de, err := env.e.DeliveryError("ds"); err != nil || de == nil || de.Code != "S3.SlowDown" {
		t.Fatalf("delivery error %+v, %v; want S3.SlowDown", de, err)
	}
	gate.block("")
	d := <-got.ch
	if d.Trigger != triggerRedo || d.First != 0 || d.Last != 1 || len(d.Keys) != 1 || d.Keys[0] != keys[0] {
		t.Fatalf("delivery %+v, want the redo of 0..1 into %v", d, keys)
	}
	if o := gate.get(t, keys[0]); string(o.body) != "ab" || o.writes != 2 {
		t.Errorf("redone object %q written %d times, want ab twice", o.body, o.writes)
	}
	more, err := env.e.Flush(context.Background(), "ds")
	if err != nil || len(more) != 1 {
		t.Fatalf("flush after the redo: %v, %v", more, err)
	}
	if o := gate.get(t, more[0]); string(o.body) != "c" {
		t.Errorf("next object %q, want c", o.body)
	}
	if de, _ := env.e.DeliveryError("ds"); de != nil {
		t.Errorf("delivery error %+v after the redo went through", de)
	}
}

// flakySource is a memSource whose reads fail while err is set.
type flakySource struct {
	*memSource
	fmu sync.Mutex
	err error
}

func (s *flakySource) fail(err error) {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	s.err = err
}

func (s *flakySource) Read(stream string, shard int, from uint64, max int) ([]Record, uint64, error) {
	s.fmu.Lock()
	err := s.err
	s.fmu.Unlock()
	if err != nil {
		return nil, 0, err
	}
	return s.memSource.Read(stream, shard, from, max)
}

// TestFlushWhileSourceDown: a flush while the source cannot be read is answered with the
// source's error, and once the source is back the next flush delivers every record once.
func TestFlushWhileSourceDown(t *testing.T) {
	env := openTest(t)
	if err := env.e.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	src := &flakySource{memSource: env.src}
	env.opts = func(o *Options) { o.Source = src }
	env.reopen(t)
	if _, err := env.e.Create(baseConfig("ds", nil), nil); err != nil {
		t.Fatal(err)
	}
	put(t, env.e, "ds", "a")
	down := errors.New("disk gone")
	src.fail(down)
	put(t, env.e, "ds", "b")
	if keys, err := env.e.Flush(context.Background(), "ds"); !errors.Is(err, down) || len(keys) != 0 {
		t.Fatalf("flush while the source is down: %v, %v; want %v", keys, err, down)
	}
	src.fail(nil)
	keys, err := env.e.Flush(context.Background(), "ds")
	if err != nil || len(keys) != 1 {
		t.Fatalf("flush after: %v, %v", keys, err)
	}
	if o := env.sink.get(t, keys[0]); string(o.body) != "ab" || o.writes != 1 {
		t.Errorf("object %q written %d times, want ab once", o.body, o.writes)
	}
}

// scanSource is memSource as a RecordScanner that hands each record over in one buffer it
// scribbles over once fn returns, as the stream engine's reused read buffer is.
type scanSource struct{ *memSource }

func (s scanSource) Scan(stream string, shard int, from uint64, maxRecords, _ int, fn func(uint64, time.Time, []byte)) (uint64, error) {
	recs, next, err := s.Read(stream, shard, from, maxRecords)
	var buf []byte
	for _, r := range recs {
		buf = append(buf[:0], r.Data...)
		fn(r.Position, r.Arrival, buf)
		for i := range buf {
			buf[i] = 'X'
		}
	}
	return next, err
}

// TestScanningSourceDelivers: from a source that lends its records to a callback, delivery
// copies each before the source reuses its buffer, over more reads than delivery keeps
// buffers for, partitioned (two passes over the batch, records held by partition) or not.
func TestScanningSourceDelivers(t *testing.T) {
	env := openTest(t)
	env.e.Close(context.Background())
	env.opts = func(o *Options) { o.Source = scanSource{env.src} }
	env.reopen(t)
	if _, err := env.e.Create(baseConfig("ds", partitioned), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := env.e.Create(baseConfig("plain", nil), nil); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	var plain strings.Builder
	var recs []string
	for i := 0; i < 5500; i++ {
		rec := fmt.Sprintf(`{"customer_id":"c%d","type":{"device":"d"},"n":%d}`, i%3, i)
		recs = append(recs, rec)
		want[fmt.Sprintf("customer_id=c%d/device=d/", i%3)] += rec + "\n"
		plain.WriteString(rec)
	}
	put(t, env.e, "ds", recs...)
	put(t, env.e, "plain", recs...)
	keys, err := env.e.Flush(context.Background(), "ds")
	if err != nil || len(keys) != 3 {
		t.Fatalf("flush: %v %v", keys, err)
	}
	for _, k := range keys {
		i := strings.LastIndexByte(k, '/') + 1
		if got := string(gunzip(t, env.sink.get(t, k).body)); got != want[k[:i]] {
			t.Errorf("%s holds %d bytes, want %d", k, len(got), len(want[k[:i]]))
		}
	}
	keys, err = env.e.Flush(context.Background(), "plain")
	if err != nil || len(keys) != 1 {
		t.Fatalf("flush: %v %v", keys, err)
	}
	if got := string(env.sink.get(t, keys[0]).body); got != plain.String() {
		t.Errorf("object holds %d bytes, want %d", len(got), plain.Len())
	}
}

// commitSink is memSink as a CommitSink over the engine's database. It runs then after
// storing the object, not in one transaction with it as the object store does, which is
// enough to see delivery hand its checkpoint over.
type commitSink struct {
	*memSink
	db    *bolt.DB
	mu    sync.Mutex
	thens int
}

func (s *commitSink) PutObjectThen(ctx context.Context, bucket, key string, body io.Reader, ctype, cenc string, then func(*bolt.Tx) error) error {
	if err := s.memSink.PutObject(ctx, bucket, key, body, ctype, cenc); err != nil {
		return err
	}
	s.mu.Lock()
	s.thens++
	s.mu.Unlock()
	return s.db.Update(then)
}

// TestCheckpointWithObject: with a CommitSink, a batch of one object moves its checkpoint in
// the object's commit, and nothing is delivered again after a restart; a partitioned batch
// (several objects) commits its checkpoint on its own.
func TestCheckpointWithObject(t *testing.T) {
	env := openTest(t)
	env.e.Close(context.Background())
	sink := &commitSink{memSink: env.sink, db: env.db}
	env.opts = func(o *Options) { o.Sink = sink }
	env.reopen(t)
	for _, c := range []Config{baseConfig("plain", nil), baseConfig("ds", partitioned)} {
		if _, err := env.e.Create(c, nil); err != nil {
			t.Fatal(err)
		}
		put(t, env.e, c.Name, `{"customer_id":"a","type":{"device":"d"}}`, `{"customer_id":"b","type":{"device":"d"}}`)
		if keys, err := env.e.Flush(context.Background(), c.Name); err != nil || len(keys) == 0 {
			t.Fatalf("%s: flush %v %v", c.Name, keys, err)
		}
	}
	if sink.thens != 1 {
		t.Errorf("%d objects carried a checkpoint, want 1", sink.thens)
	}
	objects := len(env.sink.keys())
	env.e.Close(context.Background())
	env.reopen(t)
	for _, name := range []string{"plain", "ds"} {
		if keys, err := env.e.Flush(context.Background(), name); err != nil || len(keys) != 0 {
			t.Errorf("%s after a restart: flush %v %v", name, keys, err)
		}
	}
	if n := len(env.sink.keys()); n != objects {
		t.Errorf("%d objects after a restart, want %d", n, objects)
	}
}
