package app_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"

	"github.com/localpipe/localpipe/internal/app"
)

// throttleClock is the clock the limits refill by; only the test moves it, so what is
// admitted never depends on how fast the machine runs the test.
type throttleClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *throttleClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *throttleClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// startThrottled starts localpipe with --throttle and the streams of config, and returns it
// with a Kinesis client that does not retry, so every refusal reaches the test.
func startThrottled(t *testing.T, config string) (*server, *kinesis.Client, *throttleClock) {
	t.Helper()
	clk := &throttleClock{t: time.Unix(1_700_000_000, 0)}
	srv := startServerConfig(t, func(c *app.Config) { c.Throttle, c.ThrottleClock = true, clk.now }, "",
		map[string]string{"localpipe.yaml": config})
	return srv, kinesis.New(srv.kin.Options(), func(o *kinesis.Options) { o.RetryMaxAttempts = 1 }), clk
}

// wantAWSError checks that err is the AWS error code with exactly the message msg.
func wantAWSError(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s, got %v", code, err)
	}
	if ae.ErrorCode() != code || ae.ErrorMessage() != msg {
		t.Fatalf("want %s %q, got %s %q", code, msg, ae.ErrorCode(), ae.ErrorMessage())
	}
}

// batch is n PutRecords entries with data "<tag>-<i>", all bound for the shard that holds
// hashKey.
func batch(tag string, n int, hashKey string) []ktypes.PutRecordsRequestEntry {
	out := make([]ktypes.PutRecordsRequestEntry, n)
	for i := range out {
		out[i] = ktypes.PutRecordsRequestEntry{Data: []byte(fmt.Sprintf("%s-%d", tag, i)), PartitionKey: aws.String("k"), ExplicitHashKey: aws.String(hashKey)}
	}
	return out
}

// TestThrottlePutRecordsRecordsPerSecond: a shard takes 1,000 records in a second, and a
// PutRecords beyond that fails entry by entry with AWS's error and message and
// FailedRecordCount, storing none of the refused records; a tenth of a second later the
// shard takes a hundred more, the first hundred entries of the batch.
func TestThrottlePutRecordsRecordsPerSecond(t *testing.T) {
	srv, kc, clk := startThrottled(t, "streams:\n  - {StreamName: one, ShardCount: 1}\n")
	ctx := context.Background()
	put := func(tag string) *kinesis.PutRecordsOutput {
		t.Helper()
		out, err := kc.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("one"), Records: batch(tag, 500, "0")})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, tag := range []string{"a", "b"} {
		if out := put(tag); aws.ToInt32(out.FailedRecordCount) != 0 {
			t.Fatalf("batch %s within the second's 1,000 records: %d failed", tag, aws.ToInt32(out.FailedRecordCount))
		}
	}
	const msg = "Rate exceeded for shard shardId-000000000000 in stream one under account 000000000000."
	out := put("c")
	if aws.ToInt32(out.FailedRecordCount) != 500 || len(out.Records) != 500 {
		t.Fatalf("batch c: FailedRecordCount %d of %d entries, want 500 of 500", aws.ToInt32(out.FailedRecordCount), len(out.Records))
	}
	for i, r := range out.Records {
		if aws.ToString(r.ErrorCode) != "ProvisionedThroughputExceededException" || aws.ToString(r.ErrorMessage) != msg || r.SequenceNumber != nil || r.ShardId != nil {
			t.Fatalf("batch c entry %d: %+v", i, r)
		}
	}
	clk.add(100 * time.Millisecond)
	out = put("d")
	if aws.ToInt32(out.FailedRecordCount) != 400 {
		t.Fatalf("batch d after 100ms: FailedRecordCount %d, want 400", aws.ToInt32(out.FailedRecordCount))
	}
	for i, r := range out.Records {
		if ok := r.ErrorCode == nil && r.SequenceNumber != nil; ok != (i < 100) {
			t.Fatalf("batch d entry %d: %+v (want the first 100 stored)", i, r)
		}
	}

	clk.add(time.Second) // a second of read allowance for the check
	got := map[string]int{}
	for _, r := range srv.records(t, "one") {
		got[strings.SplitN(string(r.Data), "-", 2)[0]]++
	}
	if want := map[string]int{"a": 500, "b": 500, "d": 100}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("stored records by batch: %v, want %v (nothing refused is stored)", got, want)
	}
}

// TestThrottleBytesPerShard: a shard takes 1 MiB a second, data plus partition key, counted
// per shard: PutRecord over it fails with ProvisionedThroughputExceededException and stores
// nothing, while the stream's other shard still takes records; in a PutRecords spanning
// both, only the full shard's entry fails.
func TestThrottleBytesPerShard(t *testing.T) {
	srv, kc, clk := startThrottled(t, "streams:\n  - {StreamName: two, ShardCount: 2}\n")
	ctx := context.Background()
	const shard0, shard1 = "0", "340282366920938463463374607431768211455"
	putOne := func(data []byte, hashKey string) error {
		_, err := kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("two"), PartitionKey: aws.String("k"), Data: data, ExplicitHashKey: aws.String(hashKey)})
		return err
	}
	if err := putOne(make([]byte, 1<<20-1), shard0); err != nil { // with its key, exactly 1 MiB
		t.Fatal(err)
	}
	err := putOne([]byte("over"), shard0)
	wantAWSError(t, err, "ProvisionedThroughputExceededException", "Rate exceeded for shard shardId-000000000000 in stream two under account 000000000000.")
	if err := putOne([]byte("other shard"), shard1); err != nil {
		t.Fatalf("shard 1 has its own allowance: %v", err)
	}
	out, err := kc.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("two"), Records: []ktypes.PutRecordsRequestEntry{
		{Data: []byte("to 0"), PartitionKey: aws.String("k"), ExplicitHashKey: aws.String(shard0)},
		{Data: []byte("to 1"), PartitionKey: aws.String("k"), ExplicitHashKey: aws.String(shard1)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(out.FailedRecordCount) != 1 || aws.ToString(out.Records[0].ErrorCode) != "ProvisionedThroughputExceededException" ||
		aws.ToString(out.Records[1].ShardId) != "shardId-000000000001" {
		t.Fatalf("mixed PutRecords: %d failed, %+v", aws.ToInt32(out.FailedRecordCount), out.Records)
	}
	clk.add(time.Second)
	if err := putOne([]byte("after a second"), shard0); err != nil {
		t.Fatalf("a second later: %v", err)
	}
	var data []string
	for _, r := range srv.records(t, "two") {
		if len(r.Data) < 100 {
			data = append(data, string(r.Data))
		}
	}
	if want := "[after a second other shard to 1]"; fmt.Sprint(data) != want {
		t.Fatalf("small records stored: %v, want %s", data, want)
	}
	metrics := srv.do(t, "GET", srv.a.Endpoint()+"/metrics", "").body
	if want := `localpipe_kinesis_write_provisioned_throughput_exceeded_total{stream_name="two"} 2`; !strings.Contains(metrics, want) {
		t.Errorf("/metrics lacks %s", want)
	}
}

// TestThrottleOnDemand: an on-demand stream's shards have the same per-shard limits, so a
// new on-demand stream takes 4,000 records a second (AWS's default on-demand write
// capacity, 4 MB/s and 4,000 records/s) and not one more.
func TestThrottleOnDemand(t *testing.T) {
	_, kc, _ := startThrottled(t, "streams:\n  - {StreamName: od, StreamModeDetails: {StreamMode: ON_DEMAND}}\n")
	ctx := context.Background()
	shards, err := kc.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("od")})
	if err != nil {
		t.Fatal(err)
	}
	if len(shards.Shards) != 4 {
		t.Fatalf("%d shards", len(shards.Shards))
	}
	failed := 0
	for round := range 3 {
		for _, sh := range shards.Shards {
			out, err := kc.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("od"),
				Records: batch(fmt.Sprint(round), 500, aws.ToString(sh.HashKeyRange.StartingHashKey))})
			if err != nil {
				t.Fatal(err)
			}
			failed += int(aws.ToInt32(out.FailedRecordCount))
		}
		if want := max(0, round-1) * 2000; failed != want {
			t.Fatalf("after round %d: %d records refused, want %d", round, failed, want)
		}
	}
}

// TestThrottleGetRecords: a shard answers 5 GetRecords calls a second, and after a call
// that returned more than its 2 MiB/s it refuses reads until the excess is paid back.
func TestThrottleGetRecords(t *testing.T) {
	srv, kc, clk := startThrottled(t, "streams:\n  - {StreamName: one, ShardCount: 1}\n")
	ctx := context.Background()
	for range 3 { // 3 MiB, a second apart as the write limit wants
		if _, err := kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("one"), PartitionKey: aws.String("k"), Data: make([]byte, 1<<20-1)}); err != nil {
			t.Fatal(err)
		}
		clk.add(time.Second)
	}
	it, err := kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("one"), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: ktypes.ShardIteratorTypeLatest})
	if err != nil {
		t.Fatal(err)
	}
	const msg = "Rate exceeded for Shard - 000000000000/one/shardId-000000000000"
	iter := it.ShardIterator
	for i := range 5 {
		res, err := kc.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter})
		if err != nil {
			t.Fatalf("call %d of 5: %v", i+1, err)
		}
		iter = res.NextShardIterator
	}
	_, err = kc.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter})
	wantAWSError(t, err, "ProvisionedThroughputExceededException", msg)
	clk.add(200 * time.Millisecond) // one call's worth
	if _, err := kc.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter}); err != nil {
		t.Fatalf("after 200ms: %v", err)
	}

	clk.add(time.Second)
	it, err = kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("one"), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: ktypes.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	res, err := kc.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil || len(res.Records) != 3 {
		t.Fatalf("reading 3 MiB: %d records, %v", len(res.Records), err)
	}
	// 3 MiB against 2 MiB of allowance leaves 1 MiB owed: half a second to repay.
	_, err = kc.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: res.NextShardIterator})
	wantAWSError(t, err, "ProvisionedThroughputExceededException", msg)
	clk.add(400 * time.Millisecond)
	_, err = kc.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: res.NextShardIterator})
	wantAWSError(t, err, "ProvisionedThroughputExceededException", msg)
	clk.add(200 * time.Millisecond)
	if _, err := kc.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: res.NextShardIterator}); err != nil {
		t.Fatalf("once the excess is repaid: %v", err)
	}
	metrics := srv.do(t, "GET", srv.a.Endpoint()+"/metrics", "").body
	if want := `localpipe_kinesis_read_provisioned_throughput_exceeded_total{stream_name="one"} 3`; !strings.Contains(metrics, want) {
		t.Errorf("/metrics lacks %s", want)
	}
}

// TestThrottleControlPlane: operations AWS rate-limits answer LimitExceededException past
// their documented rate, per account or per stream as documented, and GetShardIterator
// (5 calls/s per shard) the shard's ProvisionedThroughputExceededException. Creating the
// config's streams at start is no client's call and counts against nothing: seven streams
// start, and a client still has its 5 CreateStream calls.
func TestThrottleControlPlane(t *testing.T) {
	config := "streams:\n"
	for _, name := range []string{"a", "b", "c", "d", "e", "f", "g"} {
		config += "  - {StreamName: " + name + ", ShardCount: 1}\n"
	}
	_, kc, clk := startThrottled(t, config)
	ctx := context.Background()
	for i := range 5 {
		if _, err := kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(fmt.Sprint("new", i)), ShardCount: aws.Int32(1)}); err != nil {
			t.Fatalf("CreateStream %d of 5: %v", i+1, err)
		}
	}
	_, err := kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("new5"), ShardCount: aws.Int32(1)})
	wantAWSError(t, err, "LimitExceededException", "Rate exceeded for stream new5 under account 000000000000.")
	for i := range 10 {
		if _, err := kc.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String([]string{"a", "b"}[i%2])}); err != nil {
			t.Fatalf("DescribeStream %d of 10: %v", i+1, err)
		}
	}
	_, err = kc.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("b")})
	wantAWSError(t, err, "LimitExceededException", "Rate exceeded for stream b under account 000000000000.")
	for i := range 5 {
		if _, err := kc.ListStreams(ctx, &kinesis.ListStreamsInput{}); err != nil {
			t.Fatalf("ListStreams %d of 5: %v", i+1, err)
		}
	}
	_, err = kc.ListStreams(ctx, &kinesis.ListStreamsInput{})
	wantAWSError(t, err, "LimitExceededException", "Rate exceeded for account 000000000000.")

	arn := func(s string) *string { return aws.String("arn:aws:kinesis:us-east-1:000000000000:stream/" + s) }
	for i := range 5 {
		if _, err := kc.ListStreamConsumers(ctx, &kinesis.ListStreamConsumersInput{StreamARN: arn("a")}); err != nil {
			t.Fatalf("ListStreamConsumers %d of 5: %v", i+1, err)
		}
	}
	_, err = kc.ListStreamConsumers(ctx, &kinesis.ListStreamConsumersInput{StreamARN: arn("a")})
	wantAWSError(t, err, "LimitExceededException", "Rate exceeded for stream a under account 000000000000.")
	if _, err := kc.ListStreamConsumers(ctx, &kinesis.ListStreamConsumersInput{StreamARN: arn("b")}); err != nil {
		t.Fatalf("ListStreamConsumers is limited per stream: %v", err)
	}

	in := &kinesis.GetShardIteratorInput{StreamName: aws.String("a"), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: ktypes.ShardIteratorTypeLatest}
	for i := range 5 {
		if _, err := kc.GetShardIterator(ctx, in); err != nil {
			t.Fatalf("GetShardIterator %d of 5: %v", i+1, err)
		}
	}
	_, err = kc.GetShardIterator(ctx, in)
	wantAWSError(t, err, "ProvisionedThroughputExceededException", "Rate exceeded for shard shardId-000000000000 in stream a under account 000000000000.")

	clk.add(time.Second)
	if _, err := kc.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("a")}); err != nil {
		t.Fatalf("a second later: %v", err)
	}
	if _, err := kc.GetShardIterator(ctx, in); err != nil {
		t.Fatalf("a second later: %v", err)
	}
}

// TestNoThrottleByDefault: without --throttle nothing is refused, however fast: 1,500
// records and 3 MiB to one shard, 20 GetRecords and 20 DescribeStream calls at once.
func TestNoThrottleByDefault(t *testing.T) {
	srv := startServer(t, "", map[string]string{"localpipe.yaml": "streams:\n  - {StreamName: one, ShardCount: 1}\n"})
	kc := kinesis.New(srv.kin.Options(), func(o *kinesis.Options) { o.RetryMaxAttempts = 1 })
	ctx := context.Background()
	for _, tag := range []string{"a", "b", "c"} {
		out, err := kc.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("one"), Records: batch(tag, 500, "0")})
		if err != nil || aws.ToInt32(out.FailedRecordCount) != 0 {
			t.Fatalf("PutRecords %s: %v", tag, err)
		}
	}
	for range 3 {
		if _, err := kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("one"), PartitionKey: aws.String("k"), Data: make([]byte, 1<<20-1)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 20 {
		if _, err := kc.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("one")}); err != nil {
			t.Fatalf("DescribeStream %d: %v", i+1, err)
		}
	}
	it, err := kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("one"), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: ktypes.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	iter, n := it.ShardIterator, 0
	for i := range 20 {
		res, err := kc.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter})
		if err != nil {
			t.Fatalf("GetRecords %d: %v", i+1, err)
		}
		n += len(res.Records)
		iter = res.NextShardIterator
	}
	if n != 1503 {
		t.Fatalf("read %d records, want 1503", n)
	}
}
