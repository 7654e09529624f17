// Package firehose is localpipe's Kinesis Data Firehose engine: delivery streams that read
// records from a durable source log, buffer them by size and interval, and write them as
// objects to a sink, committing their read position only after the object is durable. It sees
// streams and buckets only through its Source and Sink interfaces.
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
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Errors the wire layer maps to Firehose's.
var (
	ErrNotFound = errors.New("delivery stream not found")
	ErrExists   = errors.New("delivery stream already exists")
	ErrNotPut   = errors.New("delivery stream is not a DirectPut stream")
	ErrClosed   = errors.New("firehose engine closed")
)

// Source types, as DeliveryStreamType names them.
const (
	DirectPut             = "DirectPut"
	KinesisStreamAsSource = "KinesisStreamAsSource"
)

// Record is one record read from a source log.
type Record struct {
	Position uint64
	Arrival  time.Time
	Data     []byte
	// PartitionKey is the Kinesis record's partition key, for a function's
	// kinesisRecordMetadata; empty for a DirectPut log.
	PartitionKey string
}

// Source is where records come from: Kinesis streams, and the hidden one-shard logs that make
// DirectPut records durable before PutRecord returns.
type Source interface {
	CreateLog(name string) error
	DeleteLog(name string) error
	Append(ctx context.Context, name string, records [][]byte) ([]uint64, error)
	Shards(stream string) (int, error)
	// StartAt is the position of the first record that arrived at or after t.
	StartAt(stream string, shard int, t time.Time) (uint64, error)
	Read(stream string, shard int, from uint64, max int) (records []Record, next uint64, err error)
	// Watch returns the shard's tip and a channel closed when a record is appended past it.
	Watch(stream string, shard int) (uint64, <-chan struct{}, error)
}

// RecordScanner is a Source that can also hand a read's records to a callback as it holds
// them, instead of a copy of each: data is valid only until fn returns, and fn must not call
// the source. Delivery copies the records into buffers of its own, reused, so a batch's bytes
// are copied once on their way to the compressor and allocate nothing per record. A scan
// stops after maxRecords records, or before the record that would take their data past
// maxBytes, but always returns at least one when there is one.
type RecordScanner interface {
	Scan(stream string, shard int, from uint64, maxRecords, maxBytes int, fn func(pos uint64, arrival time.Time, data []byte)) (next uint64, err error)
}

// CommitSink is a Sink that keeps its objects in the engine's own database (Options.DB) and
// can run then in the transaction that makes an object visible. Delivery moves its checkpoint
// past a batch of one object that way: the object and the checkpoint are committed together,
// a commit fewer per batch.
type CommitSink interface {
	PutObjectThen(ctx context.Context, bucket, key string, body io.Reader, contentType, contentEncoding string, then func(*bolt.Tx) error) error
}

// Sink is where objects go: the object store.
type Sink interface {
	BucketExists(ctx context.Context, bucket string) bool
	PutObject(ctx context.Context, bucket, key string, body io.Reader, contentType, contentEncoding string) error
}

// Config is a delivery stream's delivery settings, validated by the wire layer.
type Config struct {
	Name          string `json:"name"`
	Type          string `json:"type"`
	KinesisStream string `json:"kinesisStream,omitempty"` // for KinesisStreamAsSource
	Bucket        string `json:"bucket"`
	Prefix        string `json:"prefix,omitempty"`
	ErrorPrefix   string `json:"errorPrefix,omitempty"`
	SizeBytes     int64  `json:"sizeBytes"`
	Interval      time.Duration
	Compression   string `json:"compression"` // UNCOMPRESSED, GZIP, ZIP, Snappy, HADOOP_SNAPPY
	FileExtension string `json:"fileExtension,omitempty"`
	// Delimiter, when set, is appended to every record (the AppendDelimiterToRecord processor).
	Delimiter *string `json:"delimiter,omitempty"`
	// SubRecordType, when set, splits each record before partitioning (the RecordDeAggregation
	// processor): "JSON" (concatenated JSON objects) or "DELIMITED" (split on SubRecordDelimiter,
	// which is base64 as the API takes it; a value that is not base64 is used literally).
	// KPL aggregates from a Kinesis source are always de-aggregated first.
	SubRecordType      string `json:"subRecordType,omitempty"`
	SubRecordDelimiter string `json:"subRecordDelimiter,omitempty"`
	// PartitionQuery is the MetadataExtraction processor's jq query
	// ({customer_id: .customer_id, device: .type.device}); non-empty means dynamic
	// partitioning, with !{partitionKeyFromQuery:name} in Prefix.
	PartitionQuery string `json:"partitionQuery,omitempty"`
	// TimeZone is CustomTimeZone (an IANA name) for !{timestamp:…} and the default time
	// prefix; empty means UTC.
	TimeZone string `json:"timeZone,omitempty"`
	// Lambda, when set, is the Lambda processor: every record goes through the function.
	Lambda *Lambda `json:"lambda,omitempty"`
	// Description is the wire layer's own record of the stream (for Describe), kept verbatim.
	Description json.RawMessage `json:"description,omitempty"`
	// Channel, when set, makes this a Kinesis channel's delivery (channel.go): its keys,
	// record format and dead-letter queue. The Firehose API does not show such a stream.
	Channel *Channel `json:"channel,omitempty"`
	// StartAtTip makes a Kinesis source start at each shard's tip as Create runs, so only
	// records written after it are delivered (a channel does not backfill). Without it the
	// start is the records that arrived from the creation time on, which cannot tell apart
	// records of the same millisecond.
	StartAtTip bool `json:"startAtTip,omitempty"`
}

// Info is a delivery stream's configuration and state.
type Info struct {
	Config
	Status  string    `json:"status"`
	Version int       `json:"version"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
	Tags    []Tag     `json:"tags,omitempty"`
}

// Tag is a delivery stream tag, kept in the order given.
type Tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value,omitempty"`
}

// Options configure Open.
type Options struct {
	DB     *bolt.DB
	Source Source
	Sink   Sink
	Logger *slog.Logger
	Now    func() time.Time
	// Metrics receives delivery events; nil discards them.
	Metrics Metrics
	// RetryBase is the wait before the first retry of a failed delivery, doubled after each
	// further failure up to RetryMax (zero: DefaultRetryBase and DefaultRetryMax). Tests
	// lower them so a fault lasting several retries takes milliseconds.
	RetryBase, RetryMax time.Duration
	// Transformer calls Lambda processors' functions; nil fails every transformation as a
	// function that does not exist.
	Transformer Transformer
	// Processing receives Lambda processor events; nil discards them.
	Processing ProcessingMetrics
	// Region and Account name the delivery stream's ARN in a function's event; empty means
	// us-east-1 and 000000000000.
	Region, Account string
	// Hooks learn where records went, for the cross-hop trace.
	Hooks Hooks
}

// The default backoff of a failed delivery. AWS retries S3 delivery for up to 24 hours
// without documenting its schedule; the cap keeps a local developer's wait short once the
// cause is gone (a flush retries at once in any case).
const (
	DefaultRetryBase = time.Second
	DefaultRetryMax  = 16 * time.Second
)

// SinkError is an error a Sink returns when the store refused a write with an S3 error
// code, so the delivery error is described with it (S3.SlowDown) as Firehose does.
type SinkError struct {
	Code    string // S3's error code: SlowDown, AccessDenied, NoSuchBucket, InternalError, …
	Message string
}

func (e *SinkError) Error() string { return e.Code + ": " + e.Message }

// DeliveryError is what the latest failed attempt to deliver a batch met, kept until a
// delivery succeeds: Firehose's error code for it (S3.SlowDown; InternalError for an error
// without an S3 code), the message, when the failures began and how many attempts failed.
type DeliveryError struct {
	Code     string
	Message  string
	Since    time.Time
	Attempts int
}

// Hooks learn where records went: into a DirectPut stream's log, then into objects. Nil
// functions mean nobody asks.
type Hooks struct {
	// Put is called with Put's context when records were appended to the log of a DirectPut
	// delivery stream, at these positions of its only shard, under these record ids.
	Put func(ctx context.Context, deliveryStream, log string, positions []uint64, ids []string)
	// Delivered is called once the objects a batch was written to are durable and the batch
	// is committed (again after a redo or a retry of the same batch).
	Delivered func(Delivery)
}

// Delivery is a batch committed: the records at positions First to Last (inclusive) of one
// shard of the source log went into the objects Keys of Bucket.
type Delivery struct {
	DeliveryStream string
	Source         string // the Kinesis stream, or a DirectPut stream's log
	Shard          int
	First, Last    uint64
	Bucket         string
	Keys           []string
	Records        int
	Bytes          int64
	// Trigger is what sent the batch: size, interval, flush, shutdown, retry or redo.
	Trigger string
}

// Metrics observes deliveries, for Firehose's CloudWatch-named series.
type Metrics interface {
	Incoming(stream string, records, bytes int)
	Delivered(stream string, records, bytes int, freshness time.Duration)
	DeliveryFailed(stream string)
	Buffered(stream string, bytes int64)
	Forget(stream string)
}

// Engine runs every delivery stream. Methods are safe for concurrent use.
type Engine struct {
	db      *bolt.DB
	src     Source
	sink    Sink
	logger  *slog.Logger
	now     func() time.Time
	metrics Metrics
	// retryBase and retryMax bound the backoff of a failed delivery (see backoff).
	retryBase, retryMax time.Duration

	transformer     Transformer
	processing      ProcessingMetrics
	region, account string
	hooks           Hooks

	mu      sync.Mutex
	streams map[string]*delivery
	closed  bool
	wg      sync.WaitGroup
	// closing tells the deliveries of Close's last flush apart from those a user asked for.
	closing atomic.Bool
}

// What made a batch go to S3, as the delivery log line says.
const (
	triggerSize     = "size"
	triggerInterval = "interval"
	triggerFlush    = "flush"
	triggerShutdown = "shutdown"
	triggerRetry    = "retry" // a delivery that failed, tried again
	triggerRedo     = "redo"  // a batch a crash interrupted, written again at start
)

var (
	rootBucket  = []byte("firehose")
	infoBucket  = []byte("streams")     // name → Info JSON
	checkBucket = []byte("checkpoints") // name \0 shard → next position (8 bytes BE)
	batchBucket = []byte("batches")     // name \0 shard → pending batch JSON (written before the object)
)

// Open loads every delivery stream and starts its readers.
func Open(opts Options) (*Engine, error) {
	if opts.DB == nil || opts.Source == nil || opts.Sink == nil {
		return nil, errors.New("firehose: Options.DB, Source and Sink are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Metrics == nil {
		opts.Metrics = nopMetrics{}
	}
	if opts.RetryBase <= 0 {
		opts.RetryBase = DefaultRetryBase
	}
	if opts.RetryMax <= 0 {
		opts.RetryMax = max(DefaultRetryMax, opts.RetryBase)
	}
	if opts.Processing == nil {
		opts.Processing = nopMetrics{}
	}
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.Account == "" {
		opts.Account = "000000000000"
	}
	e := &Engine{db: opts.DB, src: opts.Source, sink: opts.Sink, logger: opts.Logger, now: opts.Now,
		metrics: opts.Metrics, retryBase: opts.RetryBase, retryMax: opts.RetryMax, streams: map[string]*delivery{},
		transformer: opts.Transformer, processing: opts.Processing, region: opts.Region, account: opts.Account,
		hooks: opts.Hooks}
	if err := ensureBuckets(e.db); err != nil {
		return nil, err
	}
	var infos []Info
	err := e.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(rootBucket).Bucket(infoBucket).ForEach(func(_, v []byte) error {
			var in Info
			if err := json.Unmarshal(v, &in); err != nil {
				return err
			}
			infos = append(infos, in)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	for _, in := range infos {
		if in.Status == "DELETING" {
			e.purge(in)
			continue
		}
		e.start(in)
	}
	return e, nil
}

// ensureBuckets creates the engine's buckets in a new metadata file. Later starts find them
// and commit nothing: a commit costs two fsyncs, which a start on a busy disk waits for.
func ensureBuckets(db *bolt.DB) error {
	subs := [][]byte{infoBucket, checkBucket, batchBucket}
	missing := false
	if err := db.View(func(tx *bolt.Tx) error {
		root := tx.Bucket(rootBucket)
		missing = root == nil
		for _, b := range subs {
			missing = missing || root.Bucket(b) == nil
		}
		return nil
	}); err != nil || !missing {
		return err
	}
	return db.Update(func(tx *bolt.Tx) error {
		root, err := tx.CreateBucketIfNotExists(rootBucket)
		if err != nil {
			return err
		}
		for _, b := range subs {
			if _, err := root.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
}

type nopMetrics struct{}

func (nopMetrics) Incoming(string, int, int)                 {}
func (nopMetrics) Delivered(string, int, int, time.Duration) {}
func (nopMetrics) DeliveryFailed(string)                     {}
func (nopMetrics) Buffered(string, int64)                    {}
func (nopMetrics) Forget(string)                             {}
func (nopMetrics) Invoked(string, time.Duration, bool)       {}
func (nopMetrics) Processed(string, int, int)                {}

// logName is the hidden source log that holds a DirectPut stream's records. Its name cannot
// collide with a Kinesis stream's (they allow no ':'), and it carries the creation time so a
// re-created delivery stream starts empty.
func logName(in Info) string {
	return fmt.Sprintf("firehose:%s:%d", in.Name, in.Created.UnixNano())
}

// sourceStream is the stream a delivery stream reads.
func sourceStream(in Info) string {
	if in.Type == KinesisStreamAsSource {
		return in.KinesisStream
	}
	return logName(in)
}

// Create stores a new delivery stream and starts delivering.
func (e *Engine) Create(cfg Config, tags []Tag) (Info, error) {
	now := e.now().UTC().Truncate(time.Millisecond)
	in := Info{Config: cfg, Status: "ACTIVE", Version: 1, Created: now, Updated: now, Tags: tags}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return Info{}, ErrClosed
	}
	if _, ok := e.streams[cfg.Name]; ok {
		return Info{}, ErrExists
	}
	if in.Type == DirectPut {
		if err := e.src.CreateLog(logName(in)); err != nil {
			return Info{}, err
		}
	}
	if err := e.saveNew(in); err != nil {
		return Info{}, err
	}
	e.startLocked(in)
	return in, nil
}

// saveNew stores a new delivery stream, with each shard's tip as its read position when it
// starts at the tip, in one transaction: a crash cannot leave the positions without the
// stream, which a second Create would then move past records written in between.
func (e *Engine) saveNew(in Info) error {
	v, err := json.Marshal(in)
	if err != nil {
		return err
	}
	// The tips are read before the transaction: the source may keep its own metadata in the
	// same database.
	var tips []uint64
	if in.Type == KinesisStreamAsSource && in.StartAtTip {
		n, err := e.src.Shards(in.KinesisStream)
		if err != nil {
			return err
		}
		for s := 0; s < n; s++ {
			tip, _, err := e.src.Watch(in.KinesisStream, s)
			if err != nil {
				return err
			}
			tips = append(tips, tip)
		}
	}
	return e.db.Update(func(tx *bolt.Tx) error {
		root := tx.Bucket(rootBucket)
		for s, tip := range tips {
			var pos [8]byte
			binary.BigEndian.PutUint64(pos[:], tip)
			if err := root.Bucket(checkBucket).Put(stateKey(in.Name, s), pos[:]); err != nil {
				return err
			}
		}
		return root.Bucket(infoBucket).Put([]byte(in.Name), v)
	})
}

func (e *Engine) save(in Info) error {
	v, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return e.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(rootBucket).Bucket(infoBucket).Put([]byte(in.Name), v)
	})
}

func (e *Engine) start(in Info) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.startLocked(in)
}

func (e *Engine) startLocked(in Info) {
	d := &delivery{e: e, stop: make(chan struct{})}
	d.info.Store(&in)
	e.streams[in.Name] = d
	shards := 1
	if in.Type == KinesisStreamAsSource {
		n, err := e.src.Shards(in.KinesisStream)
		if err != nil {
			e.logger.Warn("firehose: source stream unavailable; delivery stream idle until restart", "deliveryStream", in.Name, "stream", in.KinesisStream, "err", err)
			n = 0
		}
		shards = n
	}
	d.mu.Lock()
	for s := 0; s < shards; s++ {
		d.startReaderLocked(s)
	}
	d.mu.Unlock()
}

// Describe returns a delivery stream's info.
func (e *Engine) Describe(name string) (Info, error) {
	e.mu.Lock()
	d, ok := e.streams[name]
	e.mu.Unlock()
	if !ok {
		return Info{}, ErrNotFound
	}
	return *d.info.Load(), nil
}

// DeliveryError returns the error the delivery stream's latest failed delivery met, or nil
// once its delivery succeeds again (of the shards of a Kinesis source, the one failing
// longest).
func (e *Engine) DeliveryError(name string) (*DeliveryError, error) {
	e.mu.Lock()
	d, ok := e.streams[name]
	e.mu.Unlock()
	if !ok {
		return nil, ErrNotFound
	}
	var latest *DeliveryError
	// By index under d.mu: a reshard's children join the readers while we look.
	for i := 0; d.reader(i) != nil; i++ {
		if de := d.reader(i).failure.Load(); de != nil && (latest == nil || de.Since.Before(latest.Since)) {
			latest = de
		}
	}
	return latest, nil
}

// List returns every delivery stream, sorted by name.
func (e *Engine) List() []Info {
	e.mu.Lock()
	out := make([]Info, 0, len(e.streams))
	for _, d := range e.streams {
		out = append(out, *d.info.Load())
	}
	e.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Update changes a delivery stream's stored settings through fn, bumping its version as AWS
// does on UpdateDestination when bump is set. Readers pick the change up at their next batch.
func (e *Engine) Update(name string, bump bool, fn func(*Info) error) (Info, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	d, ok := e.streams[name]
	if !ok {
		return Info{}, ErrNotFound
	}
	in := *d.info.Load()
	in.Tags = append([]Tag(nil), in.Tags...)
	if err := fn(&in); err != nil {
		return Info{}, err
	}
	if bump {
		in.Version++
		in.Updated = e.now().UTC().Truncate(time.Millisecond)
	}
	if err := e.save(in); err != nil {
		return Info{}, err
	}
	d.info.Store(&in)
	return in, nil
}

// Delete stops a delivery stream and removes it with its buffer log and checkpoints. Records
// still buffered are not delivered, as with AWS.
func (e *Engine) Delete(name string) error {
	e.mu.Lock()
	d, ok := e.streams[name]
	if ok {
		delete(e.streams, name)
	}
	e.mu.Unlock()
	if !ok {
		return ErrNotFound
	}
	in := *d.info.Load()
	in.Status = "DELETING"
	e.save(in)
	close(d.stop)
	d.wait()
	e.purge(in)
	e.metrics.Forget(name)
	e.processing.Forget(name)
	return nil
}

func (e *Engine) purge(in Info) {
	if in.Type == DirectPut {
		if err := e.src.DeleteLog(logName(in)); err != nil {
			e.logger.Warn("firehose: deleting buffer log", "deliveryStream", in.Name, "err", err)
		}
	}
	e.db.Update(func(tx *bolt.Tx) error {
		root := tx.Bucket(rootBucket)
		for _, b := range [][]byte{checkBucket, batchBucket} {
			c := root.Bucket(b).Cursor()
			prefix := []byte(in.Name + "\x00")
			var keys [][]byte
			for k, _ := c.Seek(prefix); k != nil && len(k) >= len(prefix) && string(k[:len(prefix)]) == string(prefix); k, _ = c.Next() {
				keys = append(keys, append([]byte(nil), k...))
			}
			for _, k := range keys {
				root.Bucket(b).Delete(k)
			}
		}
		return root.Bucket(infoBucket).Delete([]byte(in.Name))
	})
}

// Put appends records to a DirectPut delivery stream's log; they are durable (in the file)
// when it returns. It returns one record id per record.
func (e *Engine) Put(ctx context.Context, name string, records [][]byte) ([]string, error) {
	e.mu.Lock()
	d, ok := e.streams[name]
	e.mu.Unlock()
	if !ok {
		return nil, ErrNotFound
	}
	in := d.info.Load()
	if in.Type != DirectPut {
		return nil, ErrNotPut
	}
	pos, err := e.src.Append(ctx, logName(*in), records)
	if err != nil {
		return nil, err
	}
	n := 0
	for _, r := range records {
		n += len(r)
	}
	e.metrics.Incoming(name, len(records), n)
	ids := make([]string, len(pos))
	for i, p := range pos {
		ids[i] = recordID(*in, p)
	}
	if e.hooks.Put != nil {
		e.hooks.Put(ctx, name, logName(*in), pos, ids)
	}
	return ids, nil
}

// recordID is an opaque id in the shape of AWS's (long, alphanumeric), derived from the
// record's place in the log so it is stable.
func recordID(in Info, pos uint64) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(in.Created.UnixNano()))
	binary.BigEndian.PutUint64(b[8:], pos)
	h := sha256.Sum256(append([]byte(in.Name), b[:]...))
	return hex.EncodeToString(h[:]) + hex.EncodeToString(b[:])
}

// Flush delivers what every reader of the delivery stream holds now, after catching up with
// its source's current tip, and returns the keys written.
func (e *Engine) Flush(ctx context.Context, name string) ([]string, error) {
	e.mu.Lock()
	d, ok := e.streams[name]
	e.mu.Unlock()
	if !ok {
		return nil, ErrNotFound
	}
	return d.flushAll(ctx)
}

// FlushAll flushes every delivery stream.
func (e *Engine) FlushAll(ctx context.Context) (map[string][]string, error) {
	out := map[string][]string{}
	var errs []error
	for _, in := range e.List() {
		keys, err := e.Flush(ctx, in.Name)
		if err != nil && !errors.Is(err, ErrNotFound) {
			errs = append(errs, fmt.Errorf("%s: %w", in.Name, err))
		}
		out[in.Name] = keys
	}
	return out, errors.Join(errs...)
}

// Close flushes every delivery stream (what was buffered is written, as a user stopping
// localpipe expects to find it) and stops the readers. Records that cannot be written stay
// in their durable source log and are delivered after the next start.
func (e *Engine) Close(ctx context.Context) error {
	e.mu.Lock()
	closed := e.closed
	e.mu.Unlock()
	if closed {
		return nil
	}
	e.closing.Store(true)
	_, err := e.FlushAll(ctx)
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return err
	}
	e.closed = true
	for _, d := range e.streams {
		close(d.stop)
	}
	e.mu.Unlock()
	e.wg.Wait()
	return err
}
