package kinesisapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/localpipe/localpipe/internal/sdkhttp"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
	"github.com/prometheus/client_golang/prometheus"
	bolt "go.etcd.io/bbolt"

	"github.com/localpipe/localpipe/stream"
)

type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return time.Now().Add(c.off) }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

type env struct {
	kc    *kinesis.Client
	url   string
	eng   *stream.Engine
	clock *clock
	h     *Handler
	reg   *prometheus.Registry
}

func newEnv(t testing.TB, mod func(*stream.Options)) *env {
	t.Helper()
	dir := t.TempDir()
	db, err := bolt.Open(filepath.Join(dir, "meta.db"), 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{}
	opts := stream.Options{Dir: filepath.Join(dir, "kinesis"), DB: db, Now: clk.Now}
	if mod != nil {
		mod(&opts)
	}
	eng, err := stream.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	h := New(eng, Options{Now: clk.Now, Registerer: reg})
	// HTTP/1.1 and cleartext HTTP/2, as the app serves them.
	srv := httptest.NewUnstartedServer(h)
	var protos http.Protocols
	protos.SetHTTP1(true)
	protos.SetUnencryptedHTTP2(true)
	srv.Config.Protocols = &protos
	srv.Start()
	t.Cleanup(func() { srv.Close(); eng.Close(); db.Close() })
	kc := kinesis.New(kinesis.Options{
		Region: "eu-central-1", BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 3, HTTPClient: sdkhttp.New(),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
	return &env{kc: kc, url: srv.URL, eng: eng, clock: clk, h: h, reg: reg}
}

var ctx = context.Background()

// wantErr checks an SDK error's AWS code and, if msg is not empty, that its message contains msg.
func wantErr(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s, got %v", code, err)
	}
	if ae.ErrorCode() != code || !strings.Contains(ae.ErrorMessage(), msg) {
		t.Fatalf("want %s %q, got %s %q", code, msg, ae.ErrorCode(), ae.ErrorMessage())
	}
}

func (e *env) create(t testing.TB, name string, shards int32) {
	t.Helper()
	if _, err := e.kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(shards)}); err != nil {
		t.Fatal(err)
	}
}

func TestStreamLifecycle(t *testing.T) {
	e := newEnv(t, nil)
	e.create(t, "life", 3)
	_, err := e.kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("life"), ShardCount: aws.Int32(1)})
	wantErr(t, err, "ResourceInUseException", "Stream life under account 000000000000 already exists.")

	d, err := e.kc.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("life")})
	if err != nil {
		t.Fatal(err)
	}
	sd := d.StreamDescription
	if *sd.StreamARN != "arn:aws:kinesis:eu-central-1:000000000000:stream/life" || sd.StreamStatus != types.StreamStatusActive ||
		len(sd.Shards) != 3 || *sd.HasMoreShards || *sd.RetentionPeriodHours != 24 || sd.StreamCreationTimestamp == nil {
		t.Fatalf("describe: %+v", sd)
	}
	wantRanges := [][2]string{
		{"0", "113427455640312821154458202477256070484"},
		{"113427455640312821154458202477256070485", "226854911280625642308916404954512140969"},
		{"226854911280625642308916404954512140970", "340282366920938463463374607431768211455"},
	}
	for i, sh := range sd.Shards {
		if *sh.ShardId != fmt.Sprintf("shardId-%012d", i) || *sh.HashKeyRange.StartingHashKey != wantRanges[i][0] ||
			*sh.HashKeyRange.EndingHashKey != wantRanges[i][1] || len(*sh.SequenceNumberRange.StartingSequenceNumber) != 56 ||
			sh.SequenceNumberRange.EndingSequenceNumber != nil {
			t.Fatalf("shard %d: %+v", i, sh)
		}
	}
	// Pagination of shards.
	d, _ = e.kc.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("life"), Limit: aws.Int32(2)})
	if len(d.StreamDescription.Shards) != 2 || !*d.StreamDescription.HasMoreShards {
		t.Fatalf("limit 2: %+v", d.StreamDescription)
	}
	d, _ = e.kc.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("life"), ExclusiveStartShardId: aws.String("shardId-000000000001")})
	if len(d.StreamDescription.Shards) != 1 || *d.StreamDescription.Shards[0].ShardId != "shardId-000000000002" {
		t.Fatalf("exclusive start: %+v", d.StreamDescription.Shards)
	}
	// StreamARN in place of StreamName.
	arn := "arn:aws:kinesis:eu-central-1:000000000000:stream/life"
	s, err := e.kc.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamARN: aws.String(arn)})
	if err != nil || *s.StreamDescriptionSummary.OpenShardCount != 3 || s.StreamDescriptionSummary.StreamModeDetails.StreamMode != types.StreamModeProvisioned {
		t.Fatalf("summary: %v %+v", err, s)
	}
	_, err = e.kc.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("nope")})
	wantErr(t, err, "ResourceNotFoundException", "Stream nope under account 000000000000 not found.")

	if _, err := e.kc.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamARN: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.kc.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String("life")})
	wantErr(t, err, "ResourceNotFoundException", "not found")
}

func TestOnDemandAndDefaults(t *testing.T) {
	e := newEnv(t, nil)
	e.kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("od"), StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}})
	e.kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("plain")})
	for _, n := range []string{"od", "plain"} {
		s, err := e.kc.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(n)})
		if err != nil || *s.StreamDescriptionSummary.OpenShardCount != 4 || s.StreamDescriptionSummary.StreamModeDetails.StreamMode != types.StreamModeOnDemand {
			t.Fatalf("%s: %v %+v", n, err, s)
		}
	}
}

func TestCreatingThenActive(t *testing.T) {
	e := newEnv(t, func(o *stream.Options) { o.CreateDelay = time.Minute })
	e.create(t, "slow", 1)
	s, _ := e.kc.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("slow")})
	if s.StreamDescriptionSummary.StreamStatus != types.StreamStatusCreating {
		t.Fatalf("status %s", s.StreamDescriptionSummary.StreamStatus)
	}
	_, err := e.kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("slow"), PartitionKey: aws.String("k"), Data: []byte("x")})
	wantErr(t, err, "ResourceInUseException", "Stream slow under account 000000000000 not ACTIVE, instead in state CREATING")
	e.clock.Add(time.Minute)
	if _, err := e.kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("slow"), PartitionKey: aws.String("k"), Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
}

func TestListStreamsAndShards(t *testing.T) {
	e := newEnv(t, nil)
	for _, n := range []string{"c", "a", "b"} {
		e.create(t, n, 2)
	}
	l, err := e.kc.ListStreams(ctx, &kinesis.ListStreamsInput{Limit: aws.Int32(2)})
	if err != nil || strings.Join(l.StreamNames, ",") != "a,b" || !*l.HasMoreStreams || l.NextToken == nil || len(l.StreamSummaries) != 2 ||
		*l.StreamSummaries[0].StreamARN != "arn:aws:kinesis:eu-central-1:000000000000:stream/a" {
		t.Fatalf("page 1: %v %+v", err, l)
	}
	l2, err := e.kc.ListStreams(ctx, &kinesis.ListStreamsInput{NextToken: l.NextToken})
	if err != nil || strings.Join(l2.StreamNames, ",") != "c" || *l2.HasMoreStreams {
		t.Fatalf("page 2: %v %+v", err, l2)
	}
	l3, _ := e.kc.ListStreams(ctx, &kinesis.ListStreamsInput{ExclusiveStartStreamName: aws.String("a")})
	if strings.Join(l3.StreamNames, ",") != "b,c" {
		t.Fatalf("exclusive start: %v", l3.StreamNames)
	}

	s, err := e.kc.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("a"), MaxResults: aws.Int32(1)})
	if err != nil || len(s.Shards) != 1 || s.NextToken == nil {
		t.Fatalf("list shards: %v %+v", err, s)
	}
	s2, err := e.kc.ListShards(ctx, &kinesis.ListShardsInput{NextToken: s.NextToken})
	if err != nil || len(s2.Shards) != 1 || *s2.Shards[0].ShardId != "shardId-000000000001" || s2.NextToken != nil {
		t.Fatalf("list shards page 2: %v %+v", err, s2)
	}
	_, err = e.kc.ListShards(ctx, &kinesis.ListShardsInput{NextToken: s.NextToken, StreamName: aws.String("a")})
	wantErr(t, err, "InvalidArgumentException", "NextToken and StreamName cannot be provided together.")
	_, err = e.kc.ListShards(ctx, &kinesis.ListShardsInput{})
	wantErr(t, err, "InvalidArgumentException", "Either NextToken or StreamName should be provided.")
	s3, _ := e.kc.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("a"), ShardFilter: &types.ShardFilter{Type: types.ShardFilterTypeAfterShardId, ShardId: aws.String("shardId-000000000000")}})
	if len(s3.Shards) != 1 || *s3.Shards[0].ShardId != "shardId-000000000001" {
		t.Fatalf("AFTER_SHARD_ID: %+v", s3.Shards)
	}
	for _, ft := range []types.ShardFilterType{types.ShardFilterTypeAtTrimHorizon, types.ShardFilterTypeFromTrimHorizon, types.ShardFilterTypeAtLatest} {
		s4, err := e.kc.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("a"), ShardFilter: &types.ShardFilter{Type: ft}})
		if err != nil || len(s4.Shards) != 2 {
			t.Fatalf("%s: %v %+v", ft, err, s4)
		}
	}
	s5, err := e.kc.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("a"), ShardFilter: &types.ShardFilter{Type: types.ShardFilterTypeAtTimestamp, Timestamp: aws.Time(time.Now())}})
	if err != nil || len(s5.Shards) != 2 {
		t.Fatalf("AT_TIMESTAMP: %v", err)
	}
}

func TestPutAndGetEveryIteratorType(t *testing.T) {
	e := newEnv(t, nil)
	e.create(t, "rw", 5)
	// "some key" → shard 4 of 5, as in AWS's tutorial.
	p, err := e.kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("rw"), PartitionKey: aws.String("some key"), Data: []byte("first")})
	if err != nil || *p.ShardId != "shardId-000000000004" || len(*p.SequenceNumber) != 56 {
		t.Fatalf("put: %v %+v", err, p)
	}
	// ExplicitHashKey overrides the partition key's hash.
	p0, _ := e.kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("rw"), PartitionKey: aws.String("some key"), ExplicitHashKey: aws.String("0"), Data: []byte("x")})
	if *p0.ShardId != "shardId-000000000000" {
		t.Fatalf("explicit hash key: %s", *p0.ShardId)
	}
	before := time.Now().Add(-time.Second)
	var seqs []string
	for i := 0; i < 10; i++ {
		out, err := e.kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("rw"), PartitionKey: aws.String("some key"),
			Data: []byte(fmt.Sprint(i)), SequenceNumberForOrdering: aws.String(*p.SequenceNumber)})
		if err != nil {
			t.Fatal(err)
		}
		if len(seqs) > 0 && !(*out.SequenceNumber > seqs[len(seqs)-1]) {
			t.Fatalf("sequence numbers not increasing: %s after %s", *out.SequenceNumber, seqs[len(seqs)-1])
		}
		seqs = append(seqs, *out.SequenceNumber)
	}
	get := func(in *kinesis.GetShardIteratorInput) *kinesis.GetRecordsOutput {
		t.Helper()
		in.StreamName, in.ShardId = aws.String("rw"), aws.String("shardId-000000000004")
		it, err := e.kc.GetShardIterator(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		out, err := e.kc.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	all := get(&kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	if len(all.Records) != 11 || string(all.Records[0].Data) != "first" || *all.Records[0].PartitionKey != "some key" ||
		*all.MillisBehindLatest != 0 || all.NextShardIterator == nil || all.Records[0].ApproximateArrivalTimestamp.Before(before) {
		t.Fatalf("TRIM_HORIZON: %+v", all)
	}
	if at := get(&kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: aws.String(seqs[3])}); string(at.Records[0].Data) != "3" {
		t.Fatalf("AT_SEQUENCE_NUMBER: %q", at.Records[0].Data)
	}
	if after := get(&kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeAfterSequenceNumber, StartingSequenceNumber: aws.String(seqs[3])}); string(after.Records[0].Data) != "4" {
		t.Fatalf("AFTER_SEQUENCE_NUMBER: %q", after.Records[0].Data)
	}
	if ts := get(&kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeAtTimestamp, Timestamp: aws.Time(before)}); len(ts.Records) != 11 {
		t.Fatalf("AT_TIMESTAMP (past): %d", len(ts.Records))
	}
	if ts := get(&kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeAtTimestamp, Timestamp: aws.Time(time.Now())}); len(ts.Records) != 0 {
		t.Fatalf("AT_TIMESTAMP (now): %d", len(ts.Records))
	}
	latest := get(&kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeLatest})
	if len(latest.Records) != 0 {
		t.Fatalf("LATEST returned old records")
	}
	e.kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("rw"), PartitionKey: aws.String("some key"), Data: []byte("new")})
	next, err := e.kc.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: latest.NextShardIterator})
	if err != nil || len(next.Records) != 1 || string(next.Records[0].Data) != "new" {
		t.Fatalf("after LATEST: %v %+v", err, next)
	}
	// Limit and MillisBehindLatest when behind.
	it, _ := e.kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("rw"), ShardId: aws.String("shardId-000000000004"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	e.clock.Add(2 * time.Second)
	part, _ := e.kc.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator, Limit: aws.Int32(2)})
	if len(part.Records) != 2 || *part.MillisBehindLatest < 2000 {
		t.Fatalf("limit 2: %d records, behind %d", len(part.Records), *part.MillisBehindLatest)
	}
	// Iterators expire after five minutes.
	e.clock.Add(5*time.Minute + time.Second)
	_, err = e.kc.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: part.NextShardIterator})
	wantErr(t, err, "ExpiredIteratorException", "which is further in the future than the tolerated delay of 300000 milliseconds.")
}

func TestPutRecords(t *testing.T) {
	e := newEnv(t, nil)
	e.create(t, "batch", 4)
	var entries []types.PutRecordsRequestEntry
	for i := 0; i < 500; i++ {
		entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprint(i)), Data: []byte(fmt.Sprint(i))})
	}
	out, err := e.kc.PutRecords(ctx, &kinesis.PutRecordsInput{StreamARN: aws.String("arn:aws:kinesis:eu-central-1:000000000000:stream/batch"), Records: entries})
	if err != nil || *out.FailedRecordCount != 0 || len(out.Records) != 500 {
		t.Fatalf("%v %+v", err, out)
	}
	// "1" hashes to shard 3 of 4, "partitionKey"-style checks from aws-semantics.md B.5.
	if *out.Records[1].ShardId != "shardId-000000000003" {
		t.Fatalf("record 1 went to %s", *out.Records[1].ShardId)
	}
	n := 0
	for s := 0; s < 4; s++ {
		it, err := e.kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("batch"), ShardId: aws.String(fmt.Sprintf("shardId-%012d", s)), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		r, err := e.kc.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
		if err != nil {
			t.Fatal(err)
		}
		n += len(r.Records)
	}
	if n != 500 {
		t.Fatalf("read %d", n)
	}
}

func TestRetentionAndTags(t *testing.T) {
	e := newEnv(t, nil)
	e.create(t, "rt", 1)
	_, err := e.kc.IncreaseStreamRetentionPeriod(ctx, &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: aws.String("rt"), RetentionPeriodHours: aws.Int32(23)})
	wantErr(t, err, "InvalidArgumentException", "Minimum allowed retention period is 24 hours. Requested retention period (23 hours) is too short.")
	_, err = e.kc.IncreaseStreamRetentionPeriod(ctx, &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: aws.String("rt"), RetentionPeriodHours: aws.Int32(8761)})
	wantErr(t, err, "InvalidArgumentException", "Maximum allowed retention period is 8760 hours.")
	if _, err := e.kc.IncreaseStreamRetentionPeriod(ctx, &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: aws.String("rt"), RetentionPeriodHours: aws.Int32(48)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.kc.IncreaseStreamRetentionPeriod(ctx, &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: aws.String("rt"), RetentionPeriodHours: aws.Int32(30)})
	wantErr(t, err, "InvalidArgumentException", "Requested retention period (30 hours) for stream rt can not be shorter than existing retention period (48 hours). Use DecreaseRetentionPeriod API.")
	_, err = e.kc.DecreaseStreamRetentionPeriod(ctx, &kinesis.DecreaseStreamRetentionPeriodInput{StreamName: aws.String("rt"), RetentionPeriodHours: aws.Int32(72)})
	wantErr(t, err, "InvalidArgumentException", "can not be longer than existing retention period (48 hours).")
	if _, err := e.kc.DecreaseStreamRetentionPeriod(ctx, &kinesis.DecreaseStreamRetentionPeriodInput{StreamName: aws.String("rt"), RetentionPeriodHours: aws.Int32(24)}); err != nil {
		t.Fatal(err)
	}
	// Records older than the retention period are no longer returned.
	e.kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("rt"), PartitionKey: aws.String("k"), Data: []byte("old")})
	e.clock.Add(25 * time.Hour)
	e.kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("rt"), PartitionKey: aws.String("k"), Data: []byte("new")})
	it, _ := e.kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("rt"), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	r, _ := e.kc.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	if len(r.Records) != 1 || string(r.Records[0].Data) != "new" {
		t.Fatalf("retention: %d records", len(r.Records))
	}

	if _, err := e.kc.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: aws.String("rt"), Tags: map[string]string{"b": "2", "a": "1", "c": ""}}); err != nil {
		t.Fatal(err)
	}
	tags, err := e.kc.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{StreamName: aws.String("rt"), Limit: aws.Int32(2)})
	if err != nil || len(tags.Tags) != 2 || *tags.Tags[0].Key != "a" || !*tags.HasMoreTags {
		t.Fatalf("tags: %v %+v", err, tags)
	}
	tags, _ = e.kc.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{StreamName: aws.String("rt"), ExclusiveStartTagKey: aws.String("b")})
	if len(tags.Tags) != 1 || *tags.Tags[0].Key != "c" || *tags.HasMoreTags {
		t.Fatalf("tags after b: %+v", tags)
	}
	e.kc.RemoveTagsFromStream(ctx, &kinesis.RemoveTagsFromStreamInput{StreamName: aws.String("rt"), TagKeys: []string{"a", "c"}})
	tags, _ = e.kc.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{StreamName: aws.String("rt")})
	if len(tags.Tags) != 1 || *tags.Tags[0].Key != "b" {
		t.Fatalf("after remove: %+v", tags)
	}
	many := map[string]string{}
	for i := 0; i < 50; i++ {
		many[fmt.Sprint("k", i)] = "v"
	}
	_, err = e.kc.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: aws.String("rt"), Tags: many})
	wantErr(t, err, "InvalidArgumentException", "Failed to add tags to stream rt under account 000000000000 because a given stream cannot have more than 50 tags associated with it.")
}

func TestLimitsAndErrors(t *testing.T) {
	e := newEnv(t, nil)
	e.create(t, "lim", 1)
	long := strings.Repeat("a", 129)
	_, err := e.kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("bad name"), ShardCount: aws.Int32(1)})
	wantErr(t, err, "ValidationException", "1 validation error detected: Value 'bad name' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
	_, err = e.kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(long), ShardCount: aws.Int32(0)})
	wantErr(t, err, "ValidationException", "2 validation errors detected: Value '0' at 'shardCount' failed to satisfy constraint: Member must have value greater than or equal to 1; Value '"+long+"' at 'streamName' failed to satisfy constraint: Member must have length less than or equal to 128")
	// The CLI passes a misspelt metric through; AWS checks the list against the enum.
	_, err = e.kc.EnableEnhancedMonitoring(ctx, &kinesis.EnableEnhancedMonitoringInput{StreamName: aws.String("lim"), ShardLevelMetrics: []types.MetricsName{"IncomingBytes", "Bogus"}})
	wantErr(t, err, "ValidationException", "1 validation error detected: Value '[IncomingBytes, Bogus]' at 'shardLevelMetrics' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [IncomingBytes, IncomingRecords, OutgoingBytes, OutgoingRecords, WriteProvisionedThroughputExceeded, ReadProvisionedThroughputExceeded, IteratorAgeMilliseconds, ALL]]")
	_, err = e.kc.DisableEnhancedMonitoring(ctx, &kinesis.DisableEnhancedMonitoringInput{StreamName: aws.String("lim"), ShardLevelMetrics: []types.MetricsName{}})
	wantErr(t, err, "ValidationException", "1 validation error detected: Value '[]' at 'shardLevelMetrics' failed to satisfy constraint: Member must have length greater than or equal to 1")
	_, err = e.kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("huge"), ShardCount: aws.Int32(600)})
	wantErr(t, err, "LimitExceededException", "This request would exceed the shard limit for the account 000000000000 in eu-central-1.")

	_, err = e.kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("lim"), PartitionKey: aws.String("k"), Data: make([]byte, 1<<20+1)})
	wantErr(t, err, "ValidationException", "Value 'java.nio.HeapByteBuffer[pos=0 lim=1048577 cap=1048577]' at 'data' failed to satisfy constraint: Member must have length less than or equal to 1048576")
	_, err = e.kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("lim"), PartitionKey: aws.String("kk"), Data: make([]byte, 1<<20-1)})
	wantErr(t, err, "InvalidArgumentException", "exceeds the maximum record size")
	_, err = e.kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("lim"), PartitionKey: aws.String(strings.Repeat("p", 257)), Data: []byte("x")})
	wantErr(t, err, "ValidationException", "at 'partitionKey' failed to satisfy constraint: Member must have length less than or equal to 256")
	_, err = e.kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("lim"), PartitionKey: aws.String(""), Data: []byte("x")})
	wantErr(t, err, "ValidationException", "Member must have length greater than or equal to 1")
	_, err = e.kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("lim"), PartitionKey: aws.String("k"), ExplicitHashKey: aws.String("340282366920938463463374607431768211456"), Data: []byte("x")})
	wantErr(t, err, "InvalidArgumentException", "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was 340282366920938463463374607431768211456")
	_, err = e.kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("missing"), PartitionKey: aws.String("k"), Data: []byte("x")})
	wantErr(t, err, "ResourceNotFoundException", "Stream missing under account 000000000000 not found.")

	// A larger MaxRecordSizeInKiB raises the limit.
	e.kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("big"), ShardCount: aws.Int32(1), MaxRecordSizeInKiB: aws.Int32(2048)})
	if _, err := e.kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("big"), PartitionKey: aws.String("k"), Data: make([]byte, 2<<20-1)}); err != nil {
		t.Fatalf("2 MiB stream: %v", err)
	}

	// UpdateMaxRecordSize (StreamARN only) raises the limit of an existing stream.
	_, err = e.kc.UpdateMaxRecordSize(ctx, &kinesis.UpdateMaxRecordSizeInput{StreamARN: aws.String("arn:aws:kinesis:eu-central-1:000000000000:stream/lim"), MaxRecordSizeInKiB: aws.Int32(10241)})
	wantErr(t, err, "ValidationException", "Member must have value less than or equal to 10240")
	if _, err := e.kc.UpdateMaxRecordSize(ctx, &kinesis.UpdateMaxRecordSizeInput{StreamARN: aws.String("arn:aws:kinesis:eu-central-1:000000000000:stream/lim"), MaxRecordSizeInKiB: aws.Int32(1025)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("lim"), PartitionKey: aws.String("k"), Data: make([]byte, 1<<20+1)}); err != nil {
		t.Fatalf("after UpdateMaxRecordSize: %v", err)
	}
	e.kc.UpdateMaxRecordSize(ctx, &kinesis.UpdateMaxRecordSizeInput{StreamARN: aws.String("arn:aws:kinesis:eu-central-1:000000000000:stream/lim"), MaxRecordSizeInKiB: aws.Int32(1024)})

	var entries []types.PutRecordsRequestEntry
	for i := 0; i < 501; i++ {
		entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: aws.String("k"), Data: []byte("x")})
	}
	_, err = e.kc.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("lim"), Records: entries})
	wantErr(t, err, "ValidationException", "at 'records' failed to satisfy constraint: Member must have length less than or equal to 500")
	entries = entries[:6]
	for i := range entries {
		entries[i].Data = make([]byte, 1<<20-10)
	}
	_, err = e.kc.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("lim"), Records: entries})
	wantErr(t, err, "InvalidArgumentException", "Records size exceeds 5 MB limit")
	_, err = e.kc.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("lim"), Records: []types.PutRecordsRequestEntry{{PartitionKey: aws.String("k"), Data: []byte("x")}, {PartitionKey: aws.String(""), Data: []byte("x")}}})
	wantErr(t, err, "ValidationException", "Value '' at 'records.2.member.partitionKey' failed to satisfy constraint: Member must have length greater than or equal to 1")

	_, err = e.kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("lim"), ShardId: aws.String("abc"), ShardIteratorType: types.ShardIteratorTypeLatest})
	wantErr(t, err, "ResourceNotFoundException", "Could not find shard abc in stream lim under account 000000000000.")
	_, err = e.kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("lim"), ShardId: aws.String("shardId-000000000007"), ShardIteratorType: types.ShardIteratorTypeLatest})
	wantErr(t, err, "ResourceNotFoundException", "Shard shardId-000000000007 in stream lim under account 000000000000 does not exist")
	_, err = e.kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("lim"), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber})
	wantErr(t, err, "InvalidArgumentException", "Request specified AT_SEQUENCE_NUMBER and no StartingSequenceNumber.")
	_, err = e.kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("lim"), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeLatest, StartingSequenceNumber: aws.String("1")})
	wantErr(t, err, "InvalidArgumentException", "Request specified LATEST and also a StartingSequenceNumber.")
	_, err = e.kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("lim"), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: aws.String("12345")})
	wantErr(t, err, "InvalidArgumentException", "StartingSequenceNumber 12345 used in GetShardIterator on shard shardId-000000000000 in stream lim under account 000000000000 is invalid.")
	_, err = e.kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("lim"), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeAtTimestamp})
	wantErr(t, err, "InvalidArgumentException", "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP.")
	_, err = e.kc.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String("AAAAAAAAAAFYVN3VlFy")})
	wantErr(t, err, "InvalidArgumentException", "Invalid ShardIterator.")
	it, _ := e.kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("lim"), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeLatest})
	_, err = e.kc.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator, Limit: aws.Int32(10001)})
	wantErr(t, err, "ValidationException", "Value '10001' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 10000")
	// A sequence number from another shard is invalid on this one.
	e.create(t, "two", 2)
	p, _ := e.kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("two"), PartitionKey: aws.String("some key"), Data: []byte("x")})
	_, err = e.kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("two"), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: p.SequenceNumber})
	wantErr(t, err, "InvalidArgumentException", "Invalid StartingSequenceNumber. It encodes shardId-000000000001, while it was used in a call to a shard with shardId-000000000000")
	// An iterator of a deleted and re-created stream points nowhere.
	it, _ = e.kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("two"), ShardId: aws.String("shardId-000000000001"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	e.kc.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String("two")})
	e.create(t, "two", 2)
	_, err = e.kc.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	wantErr(t, err, "ResourceNotFoundException", "")
}

// raw sends a hand-made request, for inputs the SDK would refuse to build. The answer's
// JSON error members are returned with "message" standing for either spelling AWS uses; a body
// that is not JSON comes back as m["raw"].
func raw(t *testing.T, url, method, target, contentType, body string, auth bool) (int, map[string]string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, url+"/", strings.NewReader(body))
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if auth {
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260101/ap-south-1/kinesis/aws4_request, SignedHeaders=host, Signature=x")
		req.Header.Set("X-Amz-Date", "20260101T000000Z")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := map[string]string{}
	var generic map[string]any
	if json.Unmarshal(b, &generic) != nil || generic["__type"] == nil {
		m["raw"] = string(b)
		return resp.StatusCode, m, resp.Header
	}
	for k, v := range generic {
		if s, ok := v.(string); ok {
			if k == "Message" {
				k = "message"
			}
			m[k] = s
		}
	}
	return resp.StatusCode, m, resp.Header
}

func TestMalformedRequests(t *testing.T) {
	e := newEnv(t, nil)
	e.create(t, "m", 1)
	const ct = "application/x-amz-json-1.1"
	const kt = "Kinesis_20131202."
	for _, tc := range []struct {
		name, method, target, ctype, body string
		auth                              bool
		status                            int
		typ, msg                          string
	}{
		{"unknown action", "POST", kt + "Frobnicate", ct, "{}", true, 400, "UnknownOperationException", ""},
		{"unknown action, bad JSON", "POST", kt + "Frobnicate", ct, "{", true, 400, "SerializationException", ""},
		{"no prefix", "POST", "ListStreams", ct, "{}", true, 400, "UnknownOperationException", ""},
		{"empty body", "POST", kt + "ListStreams", ct, "", true, 400, "SerializationException", ""},
		{"empty body, unknown action", "POST", kt + "Nope", ct, "", true, 400, "UnknownOperationException", ""},
		{"not json", "POST", kt + "ListStreams", ct, "{nope", true, 400, "SerializationException", ""},
		{"json array", "POST", kt + "ListStreams", ct, "[1]", true, 400, "SerializationException", ""},
		{"json string", "POST", kt + "ListStreams", ct, `"x"`, true, 400, "SerializationException", ""},
		{"trailing garbage", "POST", kt + "ListStreams", ct, "{} {}", true, 400, "SerializationException", ""},
		{"number for string", "POST", kt + "DescribeStream", ct, `{"StreamName":5}`, true, 400, "SerializationException", "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String"},
		{"bool for string", "POST", kt + "DescribeStream", ct, `{"StreamName":true}`, true, 400, "SerializationException", "class java.lang.Boolean can not be converted to an String"},
		{"object for string", "POST", kt + "DescribeStream", ct, `{"StreamName":{}}`, true, 400, "SerializationException", "Start of structure or map found where not expected."},
		{"list for string", "POST", kt + "DescribeStream", ct, `{"StreamName":[]}`, true, 400, "SerializationException", "Start of list found where not expected"},
		{"string for int", "POST", kt + "ListStreams", ct, `{"Limit":"5"}`, true, 400, "SerializationException", "class java.lang.String can not be converted to an Integer"},
		{"bad base64 length", "POST", kt + "PutRecord", ct, `{"StreamName":"m","PartitionKey":"k","Data":"!!!"}`, true, 400, "SerializationException", "'!!!' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 3"},
		{"bad base64 char", "POST", kt + "PutRecord", ct, `{"StreamName":"m","PartitionKey":"k","Data":"=+/="}`, true, 400, "SerializationException", "'=+/=' can not be converted to a Blob: Invalid Base64 character: '='"},
		{"bad base64 tail", "POST", kt + "PutRecord", ct, `{"StreamName":"m","PartitionKey":"k","Data":"+/+="}`, true, 400, "SerializationException", "'+/+=' can not be converted to a Blob: Invalid last non-pad Base64 character dectected"},
		{"number for list", "POST", kt + "PutRecords", ct, `{"StreamName":"m","Records":5}`, true, 400, "SerializationException", "Expected list or null"},
		{"string for map", "POST", kt + "AddTagsToStream", ct, `{"StreamName":"m","Tags":"x"}`, true, 400, "SerializationException", "Expected map or null"},
		{"string for structure", "POST", kt + "CreateStream", ct, `{"StreamName":"m2","StreamModeDetails":"x"}`, true, 400, "SerializationException", "Expected null"},
		{"member names are case-sensitive", "POST", kt + "DescribeStreamSummary", ct, `{"streamname":"m"}`, true, 400, "InvalidArgumentException", ""},
		{"missing members", "POST", kt + "PutRecord", ct, `{"StreamName":"m"}`, true, 400, "ValidationException", "2 validation errors detected: Value null at 'partitionKey' failed to satisfy constraint: Member must not be null; Value null at 'data' failed to satisfy constraint: Member must not be null"},
		{"bad enum", "POST", kt + "GetShardIterator", ct, `{"StreamName":"m","ShardId":"shardId-000000000000","ShardIteratorType":"OLDEST"}`, true, 400, "ValidationException", "Member must satisfy enum value set: [AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER, TRIM_HORIZON, LATEST, AT_TIMESTAMP]"},
		{"bad hash key pattern", "POST", kt + "PutRecord", ct, `{"StreamName":"m","PartitionKey":"k","Data":"","ExplicitHashKey":"-1"}`, true, 400, "ValidationException", "at 'explicitHashKey' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38})"},
		{"bad ARN", "POST", kt + "DescribeStreamSummary", ct, `{"StreamARN":"arn:aws:s3:::bucket"}`, true, 400, "ValidationException", "at 'streamARN'"},
		{"no stream", "POST", kt + "DescribeStreamSummary", ct, `{}`, true, 400, "InvalidArgumentException", ""},
		{"GET", "GET", kt + "ListStreams", ct, "", true, 403, "", "<AccessDeniedException>\n  <Message>Unable to determine service/operation name to be authorized</Message>\n</AccessDeniedException>\n"},
		{"no content type", "POST", kt + "ListStreams", "", "{}", true, 404, "", "<UnknownOperationException/>\n"},
		{"no content type, no target", "POST", "", "", "{}", true, 403, "", "<AccessDeniedException>"},
		{"plain json", "POST", kt + "ListStreams", "application/json", "{}", true, 200, "", `{"Output":{"__type":"com.amazon.coral.service#UnknownOperationException","message":null},"Version":"1.0"}`},
		{"unsigned", "POST", kt + "ListStreams", ct, "{}", false, 400, "MissingAuthenticationTokenException", "Missing Authentication Token"},
		{"unsigned, bad JSON", "POST", kt + "ListStreams", ct, "{", false, 400, "SerializationException", ""},
		{"cbor", "POST", kt + "ListStreams", "application/x-amz-cbor-1.1", "\xa0", true, 200, "", "\x6bStreamNames"},
		{"cbor error", "POST", kt + "DescribeStream", "application/x-amz-cbor-1.1", "\xa0", true, 400, "", "\x66__type\x78\x18InvalidArgumentException\x67message"},
		{"channel without its members", "POST", kt + "CreateChannel", ct, `{}`, true, 400, "ValidationException", "at 'channelName' failed to satisfy constraint: Member must not be null"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, m, h := raw(t, e.url, tc.method, tc.target, tc.ctype, tc.body, tc.auth)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %v", status, tc.status, m)
			}
			if tc.typ == "" {
				if !strings.Contains(m["raw"], tc.msg) {
					t.Fatalf("body %q, want %q", m["raw"], tc.msg)
				}
			} else if m["__type"] != tc.typ || !strings.Contains(m["message"], tc.msg) {
				t.Fatalf("got %d %v", status, m)
			}
			if h.Get("x-amzn-RequestId") == "" || h.Get("x-amz-id-2") == "" {
				t.Fatalf("headers: %v", h)
			}
			if tc.typ != "" && h.Get("Content-Type") != ct || strings.HasPrefix(tc.name, "cbor") && h.Get("Content-Type") != "application/x-amz-cbor-1.1" {
				t.Fatalf("content type: %v", h)
			}
		})
	}
	// An incomplete signature is refused as AWS refuses it.
	req, _ := http.NewRequest("POST", e.url+"/", strings.NewReader("{}"))
	req.Header.Set("X-Amz-Target", kt+"ListStreams")
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/kinesis/aws4_request")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(b), `"__type":"IncompleteSignatureException"`) ||
		!strings.Contains(string(b), "Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization=") {
		t.Fatalf("incomplete signature: %d %s", resp.StatusCode, b)
	}
	// The region of the signature shows up in ARNs.
	req, _ = http.NewRequest("POST", e.url+"/", bytes.NewReader([]byte(`{"StreamName":"m"}`)))
	req.Header.Set("X-Amz-Target", kt+"DescribeStreamSummary")
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260101/ap-south-1/kinesis/aws4_request, SignedHeaders=host, Signature=x")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"StreamARN":"arn:aws:kinesis:ap-south-1:000000000000:stream/m"`) {
		t.Fatalf("region: %s", b)
	}
}

// TestSDKMiscellany covers the remaining actions through the SDK, its paginators and its
// waiter, and StreamARN on the read path.
func TestSDKMiscellany(t *testing.T) {
	e := newEnv(t, func(o *stream.Options) { o.CreateDelay = 300 * time.Millisecond })
	for i := 0; i < 5; i++ {
		e.create(t, fmt.Sprint("p", i), 3)
	}
	w := kinesis.NewStreamExistsWaiter(e.kc, func(o *kinesis.StreamExistsWaiterOptions) { o.MinDelay = 100 * time.Millisecond })
	e.clock.Add(time.Second) // the engine's clock decides when CREATING ends
	if err := w.Wait(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("p4")}, 10*time.Second); err != nil {
		t.Fatalf("waiter: %v", err)
	}
	var names []string
	for p := kinesis.NewListStreamsPaginator(e.kc, &kinesis.ListStreamsInput{Limit: aws.Int32(2)}); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, out.StreamNames...)
	}
	if strings.Join(names, ",") != "p0,p1,p2,p3,p4" {
		t.Fatalf("ListStreams pages: %v", names)
	}
	var shards []string
	in := &kinesis.ListShardsInput{StreamName: aws.String("p2"), MaxResults: aws.Int32(1)}
	for {
		out, err := e.kc.ListShards(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range out.Shards {
			shards = append(shards, *s.ShardId)
		}
		if out.NextToken == nil {
			break
		}
		in = &kinesis.ListShardsInput{NextToken: out.NextToken, MaxResults: aws.Int32(1)}
	}
	if len(shards) != 3 || shards[2] != "shardId-000000000002" {
		t.Fatalf("ListShards pages: %v", shards)
	}
	l, err := e.kc.DescribeLimits(ctx, &kinesis.DescribeLimitsInput{})
	if err != nil || *l.ShardLimit != 500 || *l.OpenShardCount != 15 {
		t.Fatalf("DescribeLimits: %v %+v", err, l)
	}
	if _, err := e.kc.EnableEnhancedMonitoring(ctx, &kinesis.EnableEnhancedMonitoringInput{StreamName: aws.String("p0"), ShardLevelMetrics: []types.MetricsName{types.MetricsNameAll}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.kc.DisableEnhancedMonitoring(ctx, &kinesis.DisableEnhancedMonitoringInput{StreamName: aws.String("p0"), ShardLevelMetrics: []types.MetricsName{types.MetricsNameAll}}); err != nil {
		t.Fatal(err)
	}
	// The read path by ARN, with the signing region's ARN.
	arn := aws.String("arn:aws:kinesis:eu-central-1:000000000000:stream/p1")
	if _, err := e.kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamARN: arn, PartitionKey: aws.String("k"), Data: []byte("by arn")}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		it, err := e.kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamARN: arn, ShardId: aws.String(fmt.Sprint(i)), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		r, err := e.kc.GetRecords(ctx, &kinesis.GetRecordsInput{StreamARN: arn, ShardIterator: it.ShardIterator})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Records) == 1 && string(r.Records[0].Data) == "by arn" {
			return
		}
	}
	t.Fatal("record put by ARN not found")
}

// TestEnhancedMonitoringState: Enable/Disable answer with the metrics before (Current) and
// after (Desired), ALL stands for every metric, and DescribeStream/DescribeStreamSummary show
// the enabled set, as on AWS (`aws kinesis enable-enhanced-monitoring` then describe-stream).
func TestEnhancedMonitoringState(t *testing.T) {
	e := newEnv(t, nil)
	e.create(t, "em", 1)
	names := func(ms []types.MetricsName) string { return fmt.Sprint(ms) }
	out, err := e.kc.EnableEnhancedMonitoring(ctx, &kinesis.EnableEnhancedMonitoringInput{StreamName: aws.String("em"),
		ShardLevelMetrics: []types.MetricsName{"OutgoingBytes", "IncomingBytes"}})
	if err != nil || names(out.CurrentShardLevelMetrics) != "[]" || names(out.DesiredShardLevelMetrics) != "[IncomingBytes OutgoingBytes]" {
		t.Fatalf("enable: %v %+v", err, out)
	}
	d, err := e.kc.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("em")})
	if err != nil || names(d.StreamDescription.EnhancedMonitoring[0].ShardLevelMetrics) != "[IncomingBytes OutgoingBytes]" {
		t.Fatalf("describe: %v %+v", err, d)
	}
	dis, err := e.kc.DisableEnhancedMonitoring(ctx, &kinesis.DisableEnhancedMonitoringInput{StreamName: aws.String("em"),
		ShardLevelMetrics: []types.MetricsName{"IncomingBytes"}})
	if err != nil || names(dis.CurrentShardLevelMetrics) != "[IncomingBytes OutgoingBytes]" || names(dis.DesiredShardLevelMetrics) != "[OutgoingBytes]" {
		t.Fatalf("disable: %v %+v", err, dis)
	}
	all, err := e.kc.EnableEnhancedMonitoring(ctx, &kinesis.EnableEnhancedMonitoringInput{StreamName: aws.String("em"),
		ShardLevelMetrics: []types.MetricsName{types.MetricsNameAll}})
	if err != nil || len(all.DesiredShardLevelMetrics) != 7 {
		t.Fatalf("enable ALL: %v %+v", err, all)
	}
	if _, err := e.kc.DisableEnhancedMonitoring(ctx, &kinesis.DisableEnhancedMonitoringInput{StreamName: aws.String("em"),
		ShardLevelMetrics: []types.MetricsName{types.MetricsNameAll}}); err != nil {
		t.Fatal(err)
	}
	sum, err := e.kc.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("em")})
	if err != nil || len(sum.StreamDescriptionSummary.EnhancedMonitoring) != 1 || sum.StreamDescriptionSummary.EnhancedMonitoring[0].ShardLevelMetrics == nil ||
		len(sum.StreamDescriptionSummary.EnhancedMonitoring[0].ShardLevelMetrics) != 0 {
		t.Fatalf("summary after disable ALL: %v %+v", err, sum)
	}
}

// A stream still CREATING can be deleted: it goes DELETING, as an ACTIVE one does.
func TestDeleteCreatingStream(t *testing.T) {
	e := newEnv(t, func(o *stream.Options) { o.CreateDelay = time.Minute })
	e.create(t, "slow", 1)
	if _, err := e.kc.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String("slow")}); err != nil {
		t.Fatalf("delete while creating: %v", err)
	}
	s, err := e.kc.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("slow")})
	if err != nil || s.StreamDescriptionSummary.StreamStatus != types.StreamStatusDeleting {
		t.Fatalf("after delete: %v %+v", err, s)
	}
	_, err = e.kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("slow"), PartitionKey: aws.String("k"), Data: []byte("x")})
	wantErr(t, err, "ResourceInUseException", "Stream slow under account 000000000000 not ACTIVE, instead in state DELETING")
}

// RemoveTagsFromStream checks its keys' characters as AddTagsToStream does, with the texts
// kinesalite recorded from AWS for removing; a refused request removes nothing.
func TestRemoveTagsChecksKeyCharacters(t *testing.T) {
	e := newEnv(t, nil)
	e.create(t, "rk", 1)
	if _, err := e.kc.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: aws.String("rk"), Tags: map[string]string{"a": "1"}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		keys []string
		msg  string
	}{
		{[]string{"a", "b*"}, "Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @ :."},
		{[]string{"a", "c,d"}, "Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @ :."},
		{[]string{"a", "50%"}, "Failed to remove tags from stream rk under account 000000000000 because some tags contained illegal characters. The allowed characters are Unicode letters, white-spaces, '_',',','/','=','+','-','@',':'."},
	} {
		_, err := e.kc.RemoveTagsFromStream(ctx, &kinesis.RemoveTagsFromStreamInput{StreamName: aws.String("rk"), TagKeys: tc.keys})
		wantErr(t, err, "InvalidArgumentException", tc.msg)
	}
	tags, err := e.kc.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{StreamName: aws.String("rk")})
	if err != nil || len(tags.Tags) != 1 {
		t.Fatalf("a refused removal removed tags: %v %+v", err, tags)
	}
	if _, err := e.kc.RemoveTagsFromStream(ctx, &kinesis.RemoveTagsFromStreamInput{StreamName: aws.String("rk"), TagKeys: []string{"a", "Grüße 東京/x=y+z-w@v:u_t.s"}}); err != nil {
		t.Fatal(err)
	}
}
