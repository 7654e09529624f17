package app_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/localpipe/localpipe/internal/app"
)

// TestFirehoseFollowsReshards: a delivery stream reading a Kinesis stream goes on past a
// split and a merge, into the children, without losing or repeating a record, and one
// partition key's records reach S3 in the order they were put (the parent's before the
// child's).
func TestFirehoseFollowsReshards(t *testing.T) {
	s := startServer(t, "", map[string]string{"localpipe.yaml": `
streams: [{StreamName: src, ShardCount: 1}]
buckets: [out]
deliveryStreams:
  - DeliveryStreamName: follow
    DeliveryStreamType: KinesisStreamAsSource
    KinesisStreamSourceConfiguration:
      KinesisStreamARN: arn:aws:kinesis:us-east-1:000000000000:stream/src
      RoleARN: arn:aws:iam::000000000000:role/r
    ExtendedS3DestinationConfiguration:
      BucketARN: arn:aws:s3:::out
      RoleARN: arn:aws:iam::000000000000:role/r
      ProcessingConfiguration:
        Enabled: true
        Processors: [{Type: AppendDelimiterToRecord}]
`})
	ctx := context.Background()
	n := 0
	put := func(count int) {
		t.Helper()
		for range count {
			for _, key := range []string{"a", "b", "c", "d"} {
				data := fmt.Sprintf("%s-%04d", key, n)
				if _, err := s.kin.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("src"), PartitionKey: aws.String(key), Data: []byte(data)}); err != nil {
					t.Fatal(err)
				}
			}
			n++
		}
	}
	// Nothing is delivered but by these flushes (the buffer's size and interval are far), so
	// the keys they return are every object, in the order it was written.
	var keys []string
	flush := func() {
		t.Helper()
		k, err := s.a.Firehose().Flush(ctx, "follow")
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k...)
	}
	put(5)
	flush() // the parent delivers part of its records before it closes
	put(5)
	if _, err := s.kin.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String("src"), ShardToSplit: aws.String("shardId-000000000000"),
		NewStartingHashKey: aws.String("170141183460469231731687303715884105728")}); err != nil {
		t.Fatal(err)
	}
	put(5)
	if _, err := s.kin.MergeShards(ctx, &kinesis.MergeShardsInput{StreamName: aws.String("src"), ShardToMerge: aws.String("shardId-000000000001"),
		AdjacentShardToMerge: aws.String("shardId-000000000002")}); err != nil {
		t.Fatal(err)
	}
	put(5)
	if _, err := s.kin.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{StreamName: aws.String("src"), TargetShardCount: aws.Int32(2), ScalingType: types.ScalingTypeUniformScaling}); err != nil {
		t.Fatal(err)
	}
	put(5)
	flush()

	objs := s.objects(t, "out")
	if len(objs) != len(keys) {
		t.Fatalf("%d objects, %d flushed", len(objs), len(keys))
	}
	seen := map[string]int{}
	byKey := map[string][]string{}
	for _, k := range keys {
		for _, r := range strings.Split(strings.TrimSuffix(objs[k], "\n"), "\n") {
			seen[r]++
			byKey[r[:1]] = append(byKey[r[:1]], r)
		}
	}
	if len(seen) != 4*n {
		t.Fatalf("%d distinct records delivered, %d put", len(seen), 4*n)
	}
	for r, c := range seen {
		if c != 1 {
			t.Fatalf("%s delivered %d times", r, c)
		}
	}
	for key, rs := range byKey {
		if !sort.StringsAreSorted(rs) {
			t.Fatalf("key %s delivered out of order: %v", key, rs)
		}
	}
}

// TestReshardHonoursCreateDelay: under --stream-create-delay a split leaves the stream
// UPDATING, with its old shards, for the delay, then ACTIVE with the children, as AWS's
// asynchronous resharding does.
func TestReshardHonoursCreateDelay(t *testing.T) {
	s := startServerConfig(t, func(c *app.Config) { c.StreamCreateDelay = 200 * time.Millisecond }, "", map[string]string{"localpipe.yaml": ""})
	ctx := context.Background()
	if _, err := s.kin.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("slow"), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	active := kinesis.NewStreamExistsWaiter(s.kin, func(o *kinesis.StreamExistsWaiterOptions) { o.MinDelay = 50 * time.Millisecond })
	if err := active.Wait(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("slow")}, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := s.kin.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String("slow"), ShardToSplit: aws.String("shardId-000000000000"),
		NewStartingHashKey: aws.String("170141183460469231731687303715884105728")}); err != nil {
		t.Fatal(err)
	}
	d, err := s.kin.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("slow")})
	if err != nil || d.StreamDescription.StreamStatus != types.StreamStatusUpdating || len(d.StreamDescription.Shards) != 1 {
		t.Fatalf("right after the split: %+v %v", d, err)
	}
	if err := active.Wait(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("slow")}, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	d, err = s.kin.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("slow")})
	if err != nil || len(d.StreamDescription.Shards) != 3 || d.StreamDescription.Shards[0].SequenceNumberRange.EndingSequenceNumber == nil {
		t.Fatalf("once ACTIVE again: %+v %v", d, err)
	}
}
