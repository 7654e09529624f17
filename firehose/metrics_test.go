package firehose

import (
	"context"
	"sync"
	"testing"
	"time"
)

type incomingMetrics struct {
	nopMetrics
	mu               sync.Mutex
	records, bytes   map[string]int
	delivered, fails int
}

func (m *incomingMetrics) Incoming(stream string, records, bytes int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.records[stream] += records
	m.bytes[stream] += bytes
}

func (m *incomingMetrics) Delivered(string, int, int, time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.delivered++
}

func (m *incomingMetrics) get(stream string) (int, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.records[stream], m.bytes[stream]
}

// TestKinesisIncomingOncePerRecord: a Kinesis-sourced delivery stream reports the records it
// reads from every shard as incoming, once each, also when a failed batch is redone by the
// next engine on the same state.
func TestKinesisIncomingOncePerRecord(t *testing.T) {
	env := openTest(t)
	env.e.Close(context.Background())
	m := &incomingMetrics{records: map[string]int{}, bytes: map[string]int{}}
	open := func() *Engine {
		e, err := Open(Options{DB: env.db, Source: env.src, Sink: env.sink, Metrics: m, Now: func() time.Time { return testClock }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close(context.Background()) })
		return e
	}
	e := open()
	env.src.createStream("src", 2)
	if _, err := e.Create(baseConfig("ds", func(c *Config) { c.Type, c.KinesisStream = KinesisStreamAsSource, "src" }), nil); err != nil {
		t.Fatal(err)
	}
	env.src.appendShard("src", 0, [][]byte{[]byte("one"), []byte("two"), []byte("three")})
	env.src.appendShard("src", 1, [][]byte{[]byte("four"), []byte("five")})
	env.sink.failAt = 1
	if _, err := e.Flush(context.Background(), "ds"); err == nil {
		t.Fatal("flush succeeded through a failing sink")
	}
	if r, b := m.get("ds"); r != 5 || b != 19 {
		t.Fatalf("incoming after the failed flush: %d records, %d bytes; want 5, 19", r, b)
	}
	e.Close(context.Background())
	env.sink.failAt = 0
	e = open()
	env.src.appendShard("src", 0, [][]byte{[]byte("six")})
	keys, err := e.Flush(context.Background(), "ds")
	// The two pending batches are redone as the readers start; the flush delivers the new one.
	if err != nil || len(keys) != 1 || len(env.sink.keys()) != 3 {
		t.Fatalf("flush after restart: %v %v; objects %v", keys, err, env.sink.keys())
	}
	if r, b := m.get("ds"); r != 6 || b != 22 {
		t.Fatalf("incoming after the redo: %d records, %d bytes; want 6, 22", r, b)
	}
	// A DirectPut stream counts at Put, not again when its reader takes the records.
	e.Create(baseConfig("put", nil), nil)
	put(t, e, "put", "ab", "c")
	if _, err := e.Flush(context.Background(), "put"); err != nil {
		t.Fatal(err)
	}
	if r, b := m.get("put"); r != 2 || b != 3 {
		t.Fatalf("DirectPut incoming: %d records, %d bytes; want 2, 3", r, b)
	}
}
