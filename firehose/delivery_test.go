package firehose

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	bolt "go.etcd.io/bbolt"
)

// memSource is an in-memory Source: a log per shard, positions are indexes. Positions in
// lost are skipped by Read, as the stream engine skips records lost to damage.
type memSource struct {
	mu      sync.Mutex
	logs    map[string][][]Record
	changed map[string]chan struct{}
	now     func() time.Time
	lost    map[uint64]bool
}

func newMemSource(now func() time.Time) *memSource {
	return &memSource{logs: map[string][][]Record{}, changed: map[string]chan struct{}{}, now: now}
}

func (s *memSource) CreateLog(name string) error { return s.createStream(name, 1) }

func (s *memSource) createStream(name string, shards int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.logs[name] = make([][]Record, shards)
	for i := 0; i < shards; i++ {
		s.changed[fmt.Sprint(name, i)] = make(chan struct{})
	}
	return nil
}

func (s *memSource) DeleteLog(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.logs, name)
	return nil
}

func (s *memSource) Append(_ context.Context, name string, records [][]byte) ([]uint64, error) {
	return s.appendShard(name, 0, records)
}

func (s *memSource) appendShard(name string, shard int, records [][]byte) ([]uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	logs, ok := s.logs[name]
	if !ok {
		return nil, errors.New("no such log")
	}
	var pos []uint64
	for _, r := range records {
		pos = append(pos, uint64(len(logs[shard])))
		logs[shard] = append(logs[shard], Record{Position: uint64(len(logs[shard])), Arrival: s.now(), Data: append([]byte(nil), r...)})
	}
	k := fmt.Sprint(name, shard)
	close(s.changed[k])
	s.changed[k] = make(chan struct{})
	return pos, nil
}

func (s *memSource) Shards(stream string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.logs[stream]), nil
}

func (s *memSource) StartAt(stream string, shard int, t time.Time) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.logs[stream][shard] {
		if !r.Arrival.Before(t) {
			return r.Position, nil
		}
	}
	return uint64(len(s.logs[stream][shard])), nil
}

func (s *memSource) Read(stream string, shard int, from uint64, max int) ([]Record, uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	log := s.logs[stream][shard]
	if from >= uint64(len(log)) {
		return nil, from, nil
	}
	end := min(uint64(len(log)), from+uint64(max))
	var out []Record
	for _, r := range log[from:end] {
		if !s.lost[r.Position] {
			out = append(out, r)
		}
	}
	return out, end, nil
}

func (s *memSource) lose(positions ...uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lost == nil {
		s.lost = map[uint64]bool{}
	}
	for _, p := range positions {
		s.lost[p] = true
	}
}

func (s *memSource) Watch(stream string, shard int) (uint64, <-chan struct{}, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return uint64(len(s.logs[stream][shard])), s.changed[fmt.Sprint(stream, shard)], nil
}

type memObject struct {
	body                []byte
	ctype, cenc         string
	writes              int
	firstBodyOfAllTimes []byte
}

// memSink is an in-memory Sink; failAt makes the n-th PutObject (1-based) and later ones fail.
type memSink struct {
	mu      sync.Mutex
	objects map[string]*memObject
	puts    int
	failAt  int
	onPut   func() // called before each write, outside the lock
}

func newMemSink() *memSink { return &memSink{objects: map[string]*memObject{}} }

func (s *memSink) BucketExists(context.Context, string) bool { return true }

func (s *memSink) PutObject(_ context.Context, _, key string, body io.Reader, ctype, cenc string) error {
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	if s.onPut != nil {
		s.onPut()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.puts++
	if s.failAt > 0 && s.puts >= s.failAt {
		return errors.New("injected sink failure")
	}
	o := s.objects[key]
	if o == nil {
		o = &memObject{firstBodyOfAllTimes: b}
		s.objects[key] = o
	}
	o.body, o.ctype, o.cenc = b, ctype, cenc
	o.writes++
	return nil
}

func (s *memSink) keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for k := range s.objects {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (s *memSink) get(t *testing.T, key string) *memObject {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.objects[key]
	if o == nil {
		t.Fatalf("no object %q", key)
	}
	return o
}

type testEnv struct {
	db   *bolt.DB
	src  *memSource
	sink *memSink
	e    *Engine
	met  *recMetrics
	// tr, when set before reopen, is the engine's Transformer.
	tr Transformer
	// opts, when set before reopen, changes the engine's options further.
	opts func(*Options)
}

var testClock = time.Date(2026, 3, 23, 9, 51, 59, 0, time.UTC)

func openTest(t *testing.T) *testEnv {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "fh.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	env := &testEnv{db: db, src: newMemSource(func() time.Time { return testClock }), sink: newMemSink(), met: &recMetrics{buffered: map[string]int64{}}}
	env.reopen(t)
	return env
}

func (env *testEnv) reopen(t *testing.T) {
	t.Helper()
	o := Options{DB: env.db, Source: env.src, Sink: env.sink, Metrics: env.met, Now: func() time.Time { return testClock }, Transformer: env.tr}
	if env.opts != nil {
		env.opts(&o)
	}
	e, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	env.e = e
	t.Cleanup(func() { e.Close(context.Background()) })
}

type recMetrics struct {
	nopMetrics
	mu       sync.Mutex
	buffered map[string]int64
	max      int64
}

func (m *recMetrics) Buffered(stream string, n int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.buffered[stream] = n
	m.max = max(m.max, n)
}

func baseConfig(name string, mod func(*Config)) Config {
	c := Config{Name: name, Type: DirectPut, Bucket: "out", SizeBytes: 5 << 20, Interval: 300 * time.Second, Compression: Uncompressed}
	if mod != nil {
		mod(&c)
	}
	return c
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func put(t *testing.T, e *Engine, name string, recs ...string) {
	t.Helper()
	var b [][]byte
	for _, r := range recs {
		b = append(b, []byte(r))
	}
	if _, err := e.Put(context.Background(), name, b); err != nil {
		t.Fatal(err)
	}
}

const dpPrefix = "customer_id=!{partitionKeyFromQuery:customer_id}/device=!{partitionKeyFromQuery:device}/"

func partitioned(c *Config) {
	nl := "\n"
	c.Prefix = dpPrefix
	c.ErrorPrefix = "errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/"
	c.PartitionQuery = "{customer_id: .customer_id, device: .type.device}"
	c.Delimiter = &nl
	c.Compression = GZIP
}

var suffixRE = `ds-1-2026-03-23-09-51-59-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.gz`

func TestDynamicPartitioning(t *testing.T) {
	env := openTest(t)
	if _, err := env.e.Create(baseConfig("ds", partitioned), nil); err != nil {
		t.Fatal(err)
	}
	put(t, env.e, "ds",
		`{"customer_id":"1234567890","type":{"device":"mobile"},"n":1}`,
		`{"customer_id":"42","type":{"device":"desktop"},"n":2}`,
		`not json at all`,
		`{"customer_id":"1234567890","type":{"device":"mobile"},"n":3}`,
		`{"customer_id":"42"}`,
		`{"customer_id":42,"type":{"device":"desktop"},"n":4}`,
	)
	keys, err := env.e.Flush(context.Background(), "ds")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"customer_id=1234567890/device=mobile/": `{"customer_id":"1234567890","type":{"device":"mobile"},"n":1}` + "\n" + `{"customer_id":"1234567890","type":{"device":"mobile"},"n":3}` + "\n",
		"customer_id=42/device=desktop/":        `{"customer_id":"42","type":{"device":"desktop"},"n":2}` + "\n" + `{"customer_id":42,"type":{"device":"desktop"},"n":4}` + "\n",
	}
	if len(keys) != 3 {
		t.Fatalf("keys %v", keys)
	}
	var errKey string
	for _, k := range keys {
		o := env.sink.get(t, k)
		if o.cenc != "gzip" || o.ctype != "application/octet-stream" {
			t.Errorf("%s: Content-Type %q Content-Encoding %q", k, o.ctype, o.cenc)
		}
		if strings.HasPrefix(k, "errors/") {
			errKey = k
			continue
		}
		i := strings.LastIndexByte(k, '/') + 1
		if !regexp.MustCompile("^" + suffixRE + "$").MatchString(k[i:]) {
			t.Errorf("suffix of %q", k)
		}
		body := string(gunzip(t, o.body))
		if want[k[:i]] != body {
			t.Errorf("%s holds %q", k, body)
		}
		delete(want, k[:i])
	}
	if len(want) != 0 {
		t.Errorf("partitions not written: %v", want)
	}
	if !regexp.MustCompile(`^errors/metadata-extraction-failed/2026/03/23/` + suffixRE + "$").MatchString(errKey) {
		t.Fatalf("error key %q", errKey)
	}
	lines := strings.Split(strings.TrimSuffix(string(gunzip(t, env.sink.get(t, errKey).body)), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("error object %q", lines)
	}
	for i, wantRaw := range []string{`not json at all`, `{"customer_id":"42"}`} {
		var er map[string]any
		if err := json.Unmarshal([]byte(lines[i]), &er); err != nil {
			t.Fatal(err)
		}
		raw, _ := base64.StdEncoding.DecodeString(er["rawData"].(string))
		if string(raw) != wantRaw || er["errorCode"] != "DynamicPartitioning.MetadataExtractionFailed" ||
			er["arrivalTimestamp"] != float64(testClock.UnixMilli()) || er["attemptsMade"] != float64(1) || er["attemptEndingTimestamp"] == nil {
			t.Errorf("error record %d: %v", i, er)
		}
		wantMsg := []string{"Non JSON record provided", "partitionKeys values must not be null or empty"}[i]
		if er["errorMessage"] != wantMsg {
			t.Errorf("error record %d message %q", i, er["errorMessage"])
		}
	}
	if !strings.HasPrefix(lines[0], `{"attemptsMade":1,"arrivalTimestamp":`) {
		t.Errorf("field order: %s", lines[0])
	}
}

func TestPartitionQuota(t *testing.T) {
	defer func(n int) { maxPartitions = n }(maxPartitions)
	maxPartitions = 3
	env := openTest(t)
	env.e.Create(baseConfig("ds", func(c *Config) {
		partitioned(c)
		c.Compression = Uncompressed
		c.Prefix = "c=!{partitionKeyFromQuery:customer_id}/"
		c.PartitionQuery = "{customer_id: .c}"
	}), nil)
	for i := 0; i < 5; i++ {
		put(t, env.e, "ds", fmt.Sprintf(`{"c":%d}`, i))
	}
	put(t, env.e, "ds", `{"c":0}`, `{"c":4}`)
	keys, err := env.e.Flush(context.Background(), "ds")
	if err != nil || len(keys) != 4 {
		t.Fatalf("%v %v", keys, err)
	}
	var errs []string
	for _, k := range keys {
		if strings.HasPrefix(k, "errors/processing-failed/") {
			for _, l := range strings.Split(strings.TrimSpace(string(env.sink.get(t, k).body)), "\n") {
				var er errRecord
				json.Unmarshal([]byte(l), &er)
				raw, _ := base64.StdEncoding.DecodeString(er.RawData)
				if er.ErrorCode != "DynamicPartitioning.ActivePartitionsLimitExceeded" {
					t.Errorf("code %q", er.ErrorCode)
				}
				errs = append(errs, string(raw))
			}
		} else if k[:4] == "c=0/" && string(env.sink.get(t, k).body) != "{\"c\":0}\n{\"c\":0}\n" {
			t.Errorf("partition 0 holds %q", env.sink.get(t, k).body)
		}
	}
	if strings.Join(errs, " ") != `{"c":3} {"c":4} {"c":4}` {
		t.Errorf("records past the quota: %v", errs)
	}
}

// TestCrashRewriteIsDeterministic: the object store fails part-way through a partitioned
// batch (some objects written, the checkpoint not committed), the engine goes away, and a new
// engine on the same state redoes the batch. Every object keeps its key and bytes, and every
// record is in S3 exactly once.
func TestCrashRewriteIsDeterministic(t *testing.T) {
	for _, failAt := range []int{1, 2, 3, 4} {
		t.Run(fmt.Sprint("failAt", failAt), func(t *testing.T) {
			env := openTest(t)
			env.e.Create(baseConfig("ds", func(c *Config) {
				partitioned(c)
				c.Prefix = "r=!{firehose:random-string}/" + dpPrefix
			}), nil)
			var all []string
			for i := 0; i < 40; i++ {
				r := fmt.Sprintf(`{"customer_id":"c%d","type":{"device":"d%d"},"i":%d}`, i%3, i%2, i)
				if i%7 == 0 {
					r = fmt.Sprintf("bad %d", i)
				}
				all = append(all, r)
				put(t, env.e, "ds", r)
			}
			env.sink.failAt = failAt
			if _, err := env.e.Flush(context.Background(), "ds"); err == nil {
				t.Fatal("flush succeeded through a failing sink")
			}
			first := map[string][]byte{}
			for _, k := range env.sink.keys() {
				first[k] = env.sink.get(t, k).body
			}
			env.e.Close(context.Background())
			// Someone changes the destination before the restart: the pending batch keeps
			// the layout it was decided with.
			env.sink.failAt = 0
			env.reopen(t)
			if _, err := env.e.Update("ds", true, func(in *Info) error { in.Prefix = "changed/" + dpPrefix; return nil }); err != nil {
				t.Fatal(err)
			}
			if _, err := env.e.Flush(context.Background(), "ds"); err != nil {
				t.Fatal(err)
			}
			keys := env.sink.keys()
			if len(keys) != 7 { // 3×2 partitions seen (c0..c2 × d0,d1) and one error object
				t.Errorf("objects: %v", keys)
			}
			for k, b := range first {
				o := env.sink.get(t, k)
				if !bytes.Equal(o.body, b) {
					t.Errorf("%s was rewritten with other bytes", k)
				}
			}
			seen := map[string]int{}
			for _, k := range keys {
				if strings.HasPrefix(k, "changed/") {
					t.Errorf("%s: the redo used the updated prefix", k)
				}
				body := gunzip(t, env.sink.get(t, k).body)
				for _, l := range strings.Split(strings.TrimSuffix(string(body), "\n"), "\n") {
					if strings.HasPrefix(k, "errors/") {
						var er errRecord
						json.Unmarshal([]byte(l), &er)
						raw, _ := base64.StdEncoding.DecodeString(er.RawData)
						l = string(raw)
					}
					seen[l]++
				}
			}
			for _, r := range all {
				if seen[r] != 1 {
					t.Errorf("%q delivered %d times", r, seen[r])
				}
			}
			if len(seen) != len(all) {
				t.Errorf("%d distinct records delivered, want %d", len(seen), len(all))
			}
		})
	}
}

func TestRecordDeAggregation(t *testing.T) {
	env := openTest(t)
	nl := "\n"
	env.e.Create(baseConfig("json", func(c *Config) { c.SubRecordType = "JSON"; c.Delimiter = &nl }), nil)
	env.e.Create(baseConfig("delim", func(c *Config) { c.SubRecordType = "DELIMITED"; c.SubRecordDelimiter = "IyMjIw==" }), nil)
	put(t, env.e, "json", `{"a":1}{"a":2}`+"\n"+`{"a":3}`, `not json`)
	put(t, env.e, "delim", "x####y####", "z")
	keys, _ := env.e.Flush(context.Background(), "json")
	if got := string(env.sink.get(t, keys[0]).body); got != "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\nnot json\n" {
		t.Errorf("JSON sub-records: %q", got)
	}
	keys, _ = env.e.Flush(context.Background(), "delim")
	if got := string(env.sink.get(t, keys[0]).body); got != "xyz" {
		t.Errorf("DELIMITED sub-records: %q", got)
	}
}

// TestDeAggregationFeedsPartitioning: concatenated JSON split by RecordDeAggregation is
// partitioned record by record, and KPL aggregates from a Kinesis source are split first.
func TestDeAggregationFeedsPartitioning(t *testing.T) {
	env := openTest(t)
	env.src.createStream("src", 2)
	env.e.Create(baseConfig("ds", func(c *Config) {
		partitioned(c)
		c.Compression = Uncompressed
		c.Type, c.KinesisStream = KinesisStreamAsSource, "src"
		c.SubRecordType = "JSON"
	}), nil)
	agg := kplAggregate([]string{"pk"}, [][]byte{
		[]byte(`{"customer_id":"a","type":{"device":"m"}}{"customer_id":"b","type":{"device":"m"}}`),
		[]byte(`{"customer_id":"a","type":{"device":"m"},"second":true}`),
	}, false)
	env.src.appendShard("src", 0, [][]byte{agg})
	env.src.appendShard("src", 1, [][]byte{[]byte(`{"customer_id":"b","type":{"device":"m"},"shard":1}`)})
	if _, err := env.e.Put(context.Background(), "ds", [][]byte{[]byte("x")}); !errors.Is(err, ErrNotPut) {
		t.Errorf("put to a Kinesis-sourced stream: %v", err)
	}
	keys, err := env.e.Flush(context.Background(), "ds")
	if err != nil || len(keys) != 3 {
		t.Fatalf("%v %v", keys, err)
	}
	got := map[string]string{}
	for _, k := range keys {
		got[k[:strings.LastIndexByte(k, '/')+1]] += string(env.sink.get(t, k).body)
	}
	if got["customer_id=a/device=m/"] != "{\"customer_id\":\"a\",\"type\":{\"device\":\"m\"}}\n{\"customer_id\":\"a\",\"type\":{\"device\":\"m\"},\"second\":true}\n" ||
		!strings.Contains(got["customer_id=b/device=m/"], `"shard":1`) || strings.Count(got["customer_id=b/device=m/"], "\n") != 2 {
		t.Errorf("objects: %q", got)
	}
}

func TestKPLFromKinesisWithoutProcessors(t *testing.T) {
	env := openTest(t)
	env.src.createStream("src", 1)
	env.e.Create(baseConfig("ds", func(c *Config) { c.Type, c.KinesisStream = KinesisStreamAsSource, "src" }), nil)
	agg := kplAggregate([]string{"a", "b"}, [][]byte{[]byte("one;"), []byte("two;")}, true)
	broken := append([]byte(nil), agg...)
	broken[len(broken)-1] ^= 0xff // MD5 mismatch: delivered as it is
	env.src.appendShard("src", 0, [][]byte{agg, []byte("plain;"), broken})
	keys, err := env.e.Flush(context.Background(), "ds")
	if err != nil || len(keys) != 1 {
		t.Fatalf("%v %v", keys, err)
	}
	want := append([]byte("one;two;plain;"), broken...)
	if got := env.sink.get(t, keys[0]).body; !bytes.Equal(got, want) {
		t.Errorf("object %q", got)
	}
}

func TestTimestampPrefixTimeZoneAndExtension(t *testing.T) {
	env := openTest(t)
	env.e.Create(baseConfig("ds", func(c *Config) {
		c.Prefix = "y=!{timestamp:yyyy}/h=!{timestamp:HH}/!{firehose:random-string}/!{firehose:random-string}/"
		c.ErrorPrefix = "e/!{firehose:error-output-type}/"
		c.TimeZone = "Asia/Tokyo"
		c.Compression = GZIP
		c.FileExtension = ".json.gz"
	}), nil)
	env.e.Create(baseConfig("plain", func(c *Config) { c.Prefix = "p/"; c.FileExtension = ".ndjson" }), nil)
	put(t, env.e, "ds", "a")
	put(t, env.e, "plain", "b")
	keys, _ := env.e.Flush(context.Background(), "ds")
	// 09:51:59 UTC is 18:51:59 in Tokyo.
	m := regexp.MustCompile(`^y=2026/h=18/([0-9a-f]{8}-[0-9a-f]{2})/([0-9a-f]{8}-[0-9a-f]{2})/ds-1-2026-03-23-18-51-59-[0-9a-f-]{36}\.json\.gz$`).FindStringSubmatch(keys[0])
	if m == nil || m[1] == m[2] {
		t.Fatalf("key %q", keys[0])
	}
	if o := env.sink.get(t, keys[0]); o.cenc != "gzip" || string(gunzip(t, o.body)) != "a" {
		t.Errorf("gzip object %+v", o)
	}
	keys, _ = env.e.Flush(context.Background(), "plain")
	if !regexp.MustCompile(`^p/2026/03/23/09/plain-1-2026-03-23-09-51-59-[0-9a-f-]{36}\.ndjson$`).MatchString(keys[0]) {
		t.Errorf("key %q", keys[0])
	}
	if o := env.sink.get(t, keys[0]); o.cenc != "" || o.ctype != "application/octet-stream" {
		t.Errorf("uncompressed object headers %q %q", o.ctype, o.cenc)
	}
}

func TestBufferedBytesMetric(t *testing.T) {
	env := openTest(t)
	env.e.Create(baseConfig("ds", nil), nil)
	put(t, env.e, "ds", "12345", "678")
	deadline := time.Now().Add(5 * time.Second)
	for {
		env.met.mu.Lock()
		n := env.met.buffered["ds"]
		env.met.mu.Unlock()
		if n == 8 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("buffered = %d, want 8", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	env.e.Flush(context.Background(), "ds")
	deadline = time.Now().Add(5 * time.Second)
	for {
		env.met.mu.Lock()
		n := env.met.buffered["ds"]
		env.met.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("buffered after flush = %d", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRedoAfterObjectsBeforeCheckpoint puts the engine's state back to what a crash right
// after the last object of a partitioned batch (and before the checkpoint) leaves: the batch
// is redone into exactly the same keys with the same bytes, and nothing else is written.
func TestRedoAfterObjectsBeforeCheckpoint(t *testing.T) {
	env := openTest(t)
	env.e.Create(baseConfig("ds", partitioned), nil)
	for i := 0; i < 20; i++ {
		put(t, env.e, "ds", fmt.Sprintf(`{"customer_id":"c%d","type":{"device":"d"},"i":%d}`, i%4, i))
	}
	keys := crashBeforeCommit(t, env, "ds")
	if len(keys) != 4 {
		t.Fatalf("flush wrote %v", keys)
	}
	before := map[string][]byte{}
	for _, k := range env.sink.keys() {
		before[k] = env.sink.get(t, k).body
	}
	// More records arrive before the restart; they must not join the redone batch.
	put(t, env.e, "ds", `{"customer_id":"c0","type":{"device":"d"},"late":true}`)
	env.reopen(t)
	more, err := env.e.Flush(context.Background(), "ds")
	if err != nil || len(more) != 1 {
		t.Fatalf("after redo: %v %v", more, err)
	}
	for k, b := range before {
		o := env.sink.get(t, k)
		if o.writes != 2 || !bytes.Equal(o.body, b) {
			t.Errorf("%s: %d writes, same bytes %v", k, o.writes, bytes.Equal(o.body, b))
		}
	}
	if got := len(env.sink.keys()); got != len(before)+1 {
		t.Errorf("%d objects, want %d", got, len(before)+1)
	}
	if body := string(gunzip(t, env.sink.get(t, more[0]).body)); !strings.Contains(body, "late") || strings.Count(body, "\n") != 1 {
		t.Errorf("late object %q", body)
	}
}

// crashBeforeCommit flushes the delivery stream, closes the engine, and puts its state back
// to what a crash right after the flush's last object was written, and before the checkpoint
// moved past it, leaves. It returns the keys the flush wrote.
func crashBeforeCommit(t *testing.T, env *testEnv, name string) []string {
	t.Helper()
	var pending, check []byte
	env.sink.onPut = func() {
		env.db.View(func(tx *bolt.Tx) error {
			root := tx.Bucket(rootBucket)
			pending = append([]byte(nil), root.Bucket(batchBucket).Get(stateKey(name, 0))...)
			check = append([]byte(nil), root.Bucket(checkBucket).Get(stateKey(name, 0))...)
			return nil
		})
	}
	keys, err := env.e.Flush(context.Background(), name)
	if err != nil || len(pending) == 0 {
		t.Fatalf("flush: %v %v, pending=%q", keys, err, pending)
	}
	env.sink.onPut = nil
	if err := env.e.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	err = env.db.Update(func(tx *bolt.Tx) error {
		root := tx.Bucket(rootBucket)
		if err := root.Bucket(batchBucket).Put(stateKey(name, 0), pending); err != nil {
			return err
		}
		if len(check) == 0 {
			return root.Bucket(checkBucket).Delete(stateKey(name, 0))
		}
		return root.Bucket(checkBucket).Put(stateKey(name, 0), check)
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// Records the source lost to damage leave a gap in positions: Firehose delivers the others
// and moves its checkpoint past the gap, whether the records were lost before it read them
// or between fixing a batch and redoing it after a crash (where the batch's every record
// may be gone, which must not stall the delivery stream).
func TestSourceGapsFromDamage(t *testing.T) {
	env := openTest(t)
	if _, err := env.e.Create(baseConfig("ds", nil), nil); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		put(t, env.e, "ds", fmt.Sprintf("r%d,", i))
	}
	env.src.lose(3, 4)
	keys, err := env.e.Flush(context.Background(), "ds")
	if err != nil || len(keys) != 1 {
		t.Fatalf("flush: %v %v", keys, err)
	}
	if got := string(env.sink.get(t, keys[0]).body); got != "r0,r1,r2,r5,r6,r7,r8,r9," {
		t.Fatalf("object %q", got)
	}

	put(t, env.e, "ds", "r10,", "r11,", "r12,")
	var pending, check []byte
	env.sink.onPut = func() {
		env.db.View(func(tx *bolt.Tx) error {
			root := tx.Bucket(rootBucket)
			pending = append([]byte(nil), root.Bucket(batchBucket).Get(stateKey("ds", 0))...)
			check = append([]byte(nil), root.Bucket(checkBucket).Get(stateKey("ds", 0))...)
			return nil
		})
	}
	if _, err := env.e.Flush(context.Background(), "ds"); err != nil || len(pending) == 0 {
		t.Fatalf("flush: %v, pending %q", err, pending)
	}
	env.sink.onPut = nil
	env.e.Close(context.Background())
	// As if the process died after the batch's object and before its checkpoint, and the
	// batch's records were damaged before the restart.
	env.db.Update(func(tx *bolt.Tx) error {
		root := tx.Bucket(rootBucket)
		root.Bucket(batchBucket).Put(stateKey("ds", 0), pending)
		return root.Bucket(checkBucket).Put(stateKey("ds", 0), check)
	})
	env.src.lose(10, 11, 12)
	env.reopen(t)
	if _, err := env.e.Flush(context.Background(), "ds"); err != nil {
		t.Fatalf("redo of a batch whose records are all lost: %v", err)
	}
	for _, k := range env.sink.keys() {
		if o := env.sink.get(t, k); len(o.body) == 0 {
			t.Fatalf("object %s overwritten with nothing (%d writes)", k, o.writes)
		}
	}
	put(t, env.e, "ds", "r13,")
	keys, err = env.e.Flush(context.Background(), "ds")
	if err != nil || len(keys) != 1 {
		t.Fatalf("flush after the redo: %v %v", keys, err)
	}
	if got := string(env.sink.get(t, keys[0]).body); got != "r13," {
		t.Fatalf("object %q", got)
	}
}
