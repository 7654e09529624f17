package firehose

import (
	"context"
	"io"
	"path/filepath"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestBackoff(t *testing.T) {
	for _, c := range []struct {
		n         int
		base, max time.Duration
		want      time.Duration
	}{
		{1, time.Second, 16 * time.Second, time.Second},
		{2, time.Second, 16 * time.Second, 2 * time.Second},
		{3, time.Second, 16 * time.Second, 4 * time.Second},
		{5, time.Second, 16 * time.Second, 16 * time.Second},
		{6, time.Second, 16 * time.Second, 16 * time.Second},
		{1000, time.Second, 16 * time.Second, 16 * time.Second}, // no overflow however long it fails
		{3, 3 * time.Millisecond, 10 * time.Millisecond, 10 * time.Millisecond},
		{0, time.Second, 16 * time.Second, time.Second},
	} {
		if got := backoff(c.n, c.base, c.max); got != c.want {
			t.Errorf("backoff(%d, %v, %v) = %v, want %v", c.n, c.base, c.max, got, c.want)
		}
	}
}

// slowDownSink fails its first `fail` puts with S3's SlowDown, and hands each failing put to
// the test (entered) and waits for it (proceed), so the test sees the engine between two
// attempts.
type slowDownSink struct {
	*memSink
	mu      sync.Mutex
	fail    int
	entered chan struct{}
	proceed chan struct{}
}

func (s *slowDownSink) PutObject(ctx context.Context, bucket, key string, body io.Reader, ctype, cenc string) error {
	s.mu.Lock()
	failing := s.fail > 0
	if failing {
		s.fail--
	}
	s.mu.Unlock()
	if !failing {
		return s.memSink.PutObject(ctx, bucket, key, body, ctype, cenc)
	}
	io.Copy(io.Discard, body)
	s.entered <- struct{}{}
	<-s.proceed
	return &SinkError{Code: "SlowDown", Message: "Please reduce your request rate."}
}

// attemptMetrics counts put attempts by result, as DeliveryToS3.Success does.
type attemptMetrics struct {
	nopMetrics
	mu                 sync.Mutex
	failed, successful int
}

func (m *attemptMetrics) Delivered(string, int, int, time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.successful++
}

func (m *attemptMetrics) DeliveryFailed(string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failed++
}

// TestDeliveryRetriesThroughSlowDown: a batch whose put meets S3 SlowDown several times is
// retried on the backoff schedule by the reader itself (no flush), the delivery error shows
// meanwhile with the attempts it took, and once the store takes the put the batch lands in
// one object written once, records that arrived during the retries in the next object, and
// the error is gone.
func TestDeliveryRetriesThroughSlowDown(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "fh.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	const failures = 5
	sink := &slowDownSink{memSink: newMemSink(), fail: failures, entered: make(chan struct{}), proceed: make(chan struct{})}
	met := &attemptMetrics{}
	e, err := Open(Options{DB: db, Source: newMemSource(func() time.Time { return testClock }), Sink: sink, Metrics: met,
		Now: func() time.Time { return testClock }, RetryBase: time.Millisecond, RetryMax: 4 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(context.Background()) })
	if _, err := e.Create(baseConfig("ds", func(c *Config) { c.Interval = time.Millisecond }), nil); err != nil {
		t.Fatal(err)
	}
	put(t, e, "ds", "a", "b")
	for attempt := 1; attempt <= failures; attempt++ {
		<-sink.entered // the interval's delivery, then the reader's own retries
		de, err := e.DeliveryError("ds")
		switch {
		case err != nil:
			t.Fatal(err)
		case attempt == 1 && de != nil:
			t.Fatalf("a delivery error %+v before any attempt failed", de)
		case attempt > 1 && (de == nil || de.Code != "S3.SlowDown" || de.Attempts != attempt-1 || de.Message != "Please reduce your request rate."):
			t.Fatalf("before attempt %d: delivery error %+v, want S3.SlowDown after %d attempts", attempt, de, attempt-1)
		}
		if attempt == 2 {
			put(t, e, "ds", "c") // arrives while the batch is retried: not added to it
		}
		sink.proceed <- struct{}{}
	}
	keys := waitKeys(t, sink.memSink, 2)
	if _, err := e.Flush(context.Background(), "ds"); err != nil { // the reader is past its deliveries
		t.Fatal(err)
	}
	if de, _ := e.DeliveryError("ds"); de != nil {
		t.Errorf("after the delivery: delivery error %+v, want none", de)
	}
	var bodies []string
	for _, k := range keys {
		o := sink.get(t, k)
		if o.writes != 1 {
			t.Errorf("%s written %d times", k, o.writes)
		}
		bodies = append(bodies, string(o.body))
	}
	if len(bodies) != 2 || bodies[0]+bodies[1] != "abc" && bodies[1]+bodies[0] != "abc" || (bodies[0] != "ab" && bodies[1] != "ab") {
		t.Errorf("objects hold %q, want ab (the batch that was retried) and c", bodies)
	}
	met.mu.Lock()
	defer met.mu.Unlock()
	if met.failed != failures || met.successful != 2 {
		t.Errorf("put attempts: %d failed, %d successful; want %d and 2", met.failed, met.successful, failures)
	}
}
