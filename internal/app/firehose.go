package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/localpipe/localpipe/firehose"
	"github.com/localpipe/localpipe/firehose/firehoseapi"
	"github.com/localpipe/localpipe/internal/awsjson"
	"github.com/localpipe/localpipe/objectstore"
	"github.com/localpipe/localpipe/stream"
	"github.com/localpipe/localpipe/stream/kinesisapi"
)

// openFirehose opens the Firehose engine over the stream and object engines, with its
// CloudWatch-named metrics on the app registry, and its JSON 1.1 handler. New delivery streams
// stay CREATING for --stream-create-delay, like Kinesis streams.
func (a *App) openFirehose() error {
	var err error
	a.fh, err = firehose.Open(firehose.Options{DB: a.db, Source: streamSource{a.streams}, Sink: storeSink{a.objects, a.faults},
		Logger: a.logger, Metrics: consoleMetrics{firehoseapi.NewMetrics(a.registry), a.console},
		Transformer: transformer{a.functions}, Processing: firehoseapi.NewProcessingMetrics(a.registry), Region: awsjson.DefaultRegion, Account: awsjson.Account,
		Hooks: a.console.firehoseHooks(traceHooks(a.trace))})
	if err != nil {
		return err
	}
	a.firehoseAPI = firehoseapi.New(a.fh, firehoseapi.Options{
		Logger: a.logger,
		StreamExists: func(name string) bool {
			info, err := a.streams.Describe(name)
			return err == nil && !info.Hidden
		},
		BucketExists: storeSink{a.objects, nil}.BucketExists,
		CreateDelay:  a.cfg.StreamCreateDelay,
		Space:        a.reserve,
		Intercept:    a.faults.interceptor("firehose"),
	})
	return nil
}

// streamSource gives Firehose the Kinesis engine as its Source: Kinesis streams to read, and
// hidden one-shard streams as DirectPut buffers.
type streamSource struct{ e *stream.Engine }

func (s streamSource) CreateLog(name string) error {
	// The log must take any record Firehose accepts (1,000 KiB), and keep records as long as
	// AWS keeps undeliverable data (24 h, the default retention). The size is set at creation:
	// under --stream-create-delay the log is CREATING at first and refuses updates.
	return s.e.CreateStream(stream.CreateInput{Name: name, ShardCount: 1, Mode: stream.ModeProvisioned, Hidden: true, MaxRecordSizeKiB: 1024})
}

func (s streamSource) DeleteLog(name string) error {
	if err := s.e.DeleteStream(name); err != nil && !errors.Is(err, stream.ErrStreamNotFound) {
		return err
	}
	return nil
}

func (s streamSource) Append(ctx context.Context, name string, records [][]byte) ([]uint64, error) {
	entries := make([]stream.PutEntry, len(records))
	for i, r := range records {
		entries[i] = stream.PutEntry{PartitionKey: "firehose", Data: r}
	}
	res, err := s.e.Put(ctx, name, entries)
	if err != nil {
		return nil, err
	}
	pos := make([]uint64, len(res))
	for i, r := range res {
		pos[i] = r.Position
	}
	return pos, nil
}

func (s streamSource) Shards(name string) (int, error) {
	info, err := s.e.Describe(name)
	if err != nil {
		return 0, err
	}
	return len(info.Shards), nil
}

func (s streamSource) StartAt(name string, shard int, t time.Time) (uint64, error) {
	return s.e.FindTime(name, shard, t)
}

func (s streamSource) Read(name string, shard int, from uint64, max int) ([]firehose.Record, uint64, error) {
	res, err := s.e.Read(name, shard, from, max, 4<<20)
	if err != nil {
		return nil, from, err
	}
	out := make([]firehose.Record, len(res.Records))
	for i, r := range res.Records {
		out[i] = firehose.Record{Position: r.Position, Arrival: r.Arrival, Data: r.Data, PartitionKey: r.PartitionKey}
	}
	return out, res.Next, nil
}

// Scan reads as Read does, handing each record to fn straight from the stream engine's read
// buffer (see firehose.RecordScanner).
func (s streamSource) Scan(name string, shard int, from uint64, maxRecords, maxBytes int, fn func(uint64, time.Time, []byte)) (uint64, error) {
	res, err := s.e.ReadFunc(name, shard, from, maxRecords, maxBytes, func(pos uint64, arrivalMs int64, _, data []byte) {
		fn(pos, time.UnixMilli(arrivalMs), data)
	})
	if err != nil {
		return from, err
	}
	return res.Next, nil
}

// ShardSequence names a Kinesis shard's records as Kinesis does, for a function's
// kinesisRecordMetadata.
func (s streamSource) ShardSequence(name string, shard int) (string, func(uint64, time.Time) string, error) {
	info, err := s.e.Describe(name)
	if err != nil {
		return "", nil, err
	}
	for _, sh := range info.Shards {
		if sh.Index == shard {
			return sh.ID, func(pos uint64, arrival time.Time) string {
				return kinesisapi.SequenceNumber(sh.Created, sh.Index, pos, arrival)
			}, nil
		}
	}
	return "", nil, fmt.Errorf("stream %s has no shard %d", name, shard)
}

func (s streamSource) Watch(name string, shard int) (uint64, <-chan struct{}, error) {
	return s.e.Watch(name, shard)
}

// ShardEnd and Parents let Firehose follow a resharded stream's lineage (firehose.Lineage).
func (s streamSource) ShardEnd(name string, shard int) (bool, uint64, error) {
	return s.e.ShardEnd(name, shard)
}

func (s streamSource) Parents(name string, shard int) ([]int, error) {
	info, err := s.e.Describe(name)
	if err != nil {
		return nil, err
	}
	if shard < 0 || shard >= len(info.Shards) {
		return nil, stream.ErrShardNotFound
	}
	return info.Shards[shard].Parents, nil
}

// storeSink gives Firehose the object store as its Sink. Its writes meet the S3 faults
// declared for PutObject, as Firehose's writes to S3 do on AWS.
type storeSink struct {
	s      *objectstore.Store
	faults *faultRegistry
}

func (k storeSink) BucketExists(ctx context.Context, bucket string) bool {
	_, err := k.s.HeadBucket(ctx, bucket)
	return err == nil
}

func (k storeSink) PutObject(ctx context.Context, bucket, key string, body io.Reader, contentType, contentEncoding string) error {
	return k.PutObjectThen(ctx, bucket, key, body, contentType, contentEncoding, nil)
}

// PutObjectThen makes storeSink a firehose.CommitSink: the engine and the store share a.db.
func (k storeSink) PutObjectThen(ctx context.Context, bucket, key string, body io.Reader, contentType, contentEncoding string, then func(*bolt.Tx) error) error {
	if code, msg, _ := k.faults.s3Fault(ctx, "PutObject", bucket); code != "" {
		return &firehose.SinkError{Code: code, Message: msg}
	}
	_, err := k.s.PutObjectThen(ctx, bucket, key, body, objectstore.ObjectMeta{ContentType: contentType, ContentEncoding: contentEncoding}, then)
	if errors.Is(err, objectstore.ErrNoSuchBucket) {
		return &firehose.SinkError{Code: "NoSuchBucket", Message: "The specified bucket does not exist"}
	}
	return err
}

// FirehoseAPI is the Firehose JSON 1.1 handler, for in-process calls such as API Gateway's AWS
// integrations.
func (a *App) FirehoseAPI() *firehoseapi.Handler { return a.firehoseAPI }
