package kinesisapi

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/localpipe/localpipe/stream"
)

const half = "170141183460469231731687303715884105728" // 2^127

func (e *env) shards(t *testing.T, name string, f *types.ShardFilter) []string {
	t.Helper()
	out, err := e.kc.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(name), ShardFilter: f})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, sh := range out.Shards {
		ids = append(ids, aws.ToString(sh.ShardId)[len("shardId-00000000000"):])
	}
	return ids
}

func (e *env) putKey(t *testing.T, name, key string) *kinesis.PutRecordOutput {
	t.Helper()
	out, err := e.kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String(key), Data: []byte(key)})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSplitAndMergeThroughSDK: a split closes its parent (EndingSequenceNumber, readable to
// its end, then ChildShards and no NextShardIterator) and routes new records to the children
// by hash key; a merge names both parents; each refusal is AWS's.
func TestSplitAndMergeThroughSDK(t *testing.T) {
	e := newEnv(t, nil)
	e.create(t, "r", 1)
	for i := range 3 {
		e.putKey(t, "r", fmt.Sprint("before", i))
	}
	split := func(shard, key string) error {
		_, err := e.kc.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String("r"), ShardToSplit: aws.String(shard), NewStartingHashKey: aws.String(key)})
		return err
	}
	wantErr(t, split("shardId-000000000000", "1"), "InvalidArgumentException",
		"NewStartingHashKey 1 used in SplitShard() on shard shardId-000000000000 in stream r under account 000000000000 is not both greater than one plus the shard's StartingHashKey 0 and less than the shard's EndingHashKey 340282366920938463463374607431768211455.")
	wantErr(t, split("shardId-000000000009", half), "ResourceNotFoundException", "Could not find shard shardId-000000000009 in stream r under account 000000000000.")
	wantErr(t, split("bad", half), "ResourceNotFoundException", "Could not find shard bad in stream r under account 000000000000.")
	e.clock.Add(time.Minute)
	if err := split("shardId-000000000000", half); err != nil {
		t.Fatal(err)
	}
	wantErr(t, split("shardId-000000000000", half), "InvalidArgumentException", "has already been merged or split")

	d, err := e.kc.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("r")})
	if err != nil {
		t.Fatal(err)
	}
	sh := d.StreamDescription.Shards
	if len(sh) != 3 || sh[0].SequenceNumberRange.EndingSequenceNumber == nil || sh[1].SequenceNumberRange.EndingSequenceNumber != nil ||
		aws.ToString(sh[1].ParentShardId) != "shardId-000000000000" || sh[1].AdjacentParentShardId != nil ||
		aws.ToString(sh[2].HashKeyRange.StartingHashKey) != half {
		t.Fatalf("shards after split: %+v", sh)
	}
	sum, err := e.kc.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("r")})
	if err != nil || aws.ToInt32(sum.StreamDescriptionSummary.OpenShardCount) != 2 {
		t.Fatalf("summary %+v %v", sum, err)
	}

	// New records land in the child that holds their hash key.
	for i := range 10 {
		key := fmt.Sprint("after", i)
		want := "shardId-000000000001"
		if stream.PartitionHash(key).Cmp(mustHash(t, half)) >= 0 {
			want = "shardId-000000000002"
		}
		if got := aws.ToString(e.putKey(t, "r", key).ShardId); got != want {
			t.Fatalf("%s went to %s, want %s", key, got, want)
		}
	}

	// The parent reads to its end, then hands over to its children.
	it, err := e.kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("r"), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	gr, err := e.kc.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil {
		t.Fatal(err)
	}
	if len(gr.Records) != 3 || gr.NextShardIterator != nil || len(gr.ChildShards) != 2 ||
		aws.ToString(gr.ChildShards[1].ShardId) != "shardId-000000000002" ||
		!slices.Equal(gr.ChildShards[1].ParentShards, []string{"shardId-000000000000"}) ||
		aws.ToString(gr.ChildShards[1].HashKeyRange.StartingHashKey) != half {
		t.Fatalf("GetRecords at the parent's end: %d records, next %v, children %+v", len(gr.Records), gr.NextShardIterator, gr.ChildShards)
	}

	// LATEST on a closed shard is its end: the first GetRecords hands over at once.
	it, err = e.kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("r"), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeLatest})
	if err != nil {
		t.Fatal(err)
	}
	gr, err = e.kc.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil || len(gr.Records) != 0 || gr.NextShardIterator != nil || len(gr.ChildShards) != 2 {
		t.Fatalf("GetRecords at LATEST of a closed shard: %+v %v", gr, err)
	}

	merge := func(a, b string) error {
		_, err := e.kc.MergeShards(ctx, &kinesis.MergeShardsInput{StreamName: aws.String("r"), ShardToMerge: aws.String(a), AdjacentShardToMerge: aws.String(b)})
		return err
	}
	wantErr(t, merge("shardId-000000000001", "shardId-000000000001"), "InvalidArgumentException",
		"Shards shardId-000000000001 and shardId-000000000001 in stream r under account 000000000000 are not an adjacent pair of shards eligible for merging")
	wantErr(t, merge("shardId-000000000000", "shardId-000000000001"), "InvalidArgumentException", "has already been merged or split")
	e.clock.Add(time.Minute)
	// recorded: AWS takes the pair in order only.
	wantErr(t, merge("shardId-000000000002", "shardId-000000000001"), "InvalidArgumentException",
		"Shards shardId-000000000002 and shardId-000000000001 in stream r under account 000000000000 are not an adjacent pair of shards eligible for merging")
	if err := merge("shardId-000000000001", "shardId-000000000002"); err != nil {
		t.Fatal(err)
	}
	d, _ = e.kc.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("r")})
	c := d.StreamDescription.Shards[3]
	if aws.ToString(c.ParentShardId) != "shardId-000000000001" || aws.ToString(c.AdjacentParentShardId) != "shardId-000000000002" ||
		aws.ToString(c.HashKeyRange.StartingHashKey) != "0" {
		t.Fatalf("merged shard %+v", c)
	}

	// ListShards, by filter: 0 closed at the split (a minute in), 1 and 2 at the merge.
	created := d.StreamDescription.StreamCreationTimestamp
	between := created.Add(90 * time.Second)
	for _, tc := range []struct {
		f    *types.ShardFilter
		want []string
	}{
		{nil, []string{"0", "1", "2", "3"}},
		{&types.ShardFilter{Type: types.ShardFilterTypeFromTrimHorizon}, []string{"0", "1", "2", "3"}},
		{&types.ShardFilter{Type: types.ShardFilterTypeAtTrimHorizon}, []string{"0"}},
		{&types.ShardFilter{Type: types.ShardFilterTypeAtLatest}, []string{"3"}},
		{&types.ShardFilter{Type: types.ShardFilterTypeAfterShardId, ShardId: aws.String("shardId-000000000001")}, []string{"2", "3"}},
		{&types.ShardFilter{Type: types.ShardFilterTypeAtTimestamp, Timestamp: aws.Time(between)}, []string{"1", "2"}},
		{&types.ShardFilter{Type: types.ShardFilterTypeAtTimestamp, Timestamp: aws.Time(created.Add(-time.Hour))}, []string{"0"}},
		{&types.ShardFilter{Type: types.ShardFilterTypeFromTimestamp, Timestamp: aws.Time(between)}, []string{"1", "2", "3"}},
		{&types.ShardFilter{Type: types.ShardFilterTypeFromTimestamp, Timestamp: aws.Time(created.Add(-48 * time.Hour))}, []string{"0", "1", "2", "3"}},
	} {
		if got := e.shards(t, "r", tc.f); !slices.Equal(got, tc.want) {
			t.Errorf("filter %+v: %v, want %v", tc.f, got, tc.want)
		}
	}
	for _, tc := range []struct {
		f   types.ShardFilter
		msg string
	}{
		{types.ShardFilter{Type: types.ShardFilterTypeAfterShardId}, "ShardId must be specified"},
		{types.ShardFilter{Type: types.ShardFilterTypeAtTimestamp}, "Timestamp must be specified"},
		{types.ShardFilter{Type: types.ShardFilterTypeFromTimestamp}, "Timestamp must be specified"},
		{types.ShardFilter{Type: types.ShardFilterTypeAtLatest, ShardId: aws.String("shardId-000000000001")}, "ShardId can only be specified"},
		{types.ShardFilter{Type: types.ShardFilterTypeAtLatest, Timestamp: aws.Time(between)}, "Timestamp can only be specified"},
	} {
		_, err := e.kc.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("r"), ShardFilter: &tc.f})
		wantErr(t, err, "InvalidArgumentException", tc.msg)
	}
	// ExclusiveStartShardId narrows a filter further.
	both, err := e.kc.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("r"), ExclusiveStartShardId: aws.String("shardId-000000000001"),
		ShardFilter: &types.ShardFilter{Type: types.ShardFilterTypeFromTrimHorizon}})
	if err != nil || len(both.Shards) != 2 || aws.ToString(both.Shards[0].ShardId) != "shardId-000000000002" {
		t.Fatalf("ExclusiveStartShardId with a filter: %+v %v", both, err)
	}
	// Pages keep the filter.
	p1, err := e.kc.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("r"), MaxResults: aws.Int32(1),
		ShardFilter: &types.ShardFilter{Type: types.ShardFilterTypeFromTimestamp, Timestamp: aws.Time(between)}})
	if err != nil {
		t.Fatal(err)
	}
	p2, err := e.kc.ListShards(ctx, &kinesis.ListShardsInput{NextToken: p1.NextToken})
	if err != nil || len(p2.Shards) != 2 || aws.ToString(p2.Shards[0].ShardId) != "shardId-000000000002" {
		t.Fatalf("second page %+v %v", p2, err)
	}
}

func mustHash(t *testing.T, s string) stream.HashKey {
	t.Helper()
	h, err := stream.ParseHashKey(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestUpdateShardCountAndMode: uniform scaling within AWS's bounds, and the capacity mode.
func TestUpdateShardCountAndMode(t *testing.T) {
	e := newEnv(t, nil)
	e.create(t, "u", 2)
	scale := func(n int32) (*kinesis.UpdateShardCountOutput, error) {
		return e.kc.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{StreamName: aws.String("u"), TargetShardCount: aws.Int32(n), ScalingType: types.ScalingTypeUniformScaling})
	}
	_, err := scale(5)
	wantErr(t, err, "LimitExceededException", "Current open shard count: 2 Target shard count: 5")
	out, err := scale(3)
	if err != nil || aws.ToInt32(out.CurrentShardCount) != 2 || aws.ToInt32(out.TargetShardCount) != 3 || aws.ToString(out.StreamName) != "u" {
		t.Fatalf("scale to 3: %+v %v", out, err)
	}
	ls, err := e.kc.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("u"), ShardFilter: &types.ShardFilter{Type: types.ShardFilterTypeAtLatest}})
	if err != nil {
		t.Fatal(err)
	}
	want := stream.SplitHashRange(3)
	if len(ls.Shards) != 3 {
		t.Fatalf("%d open shards", len(ls.Shards))
	}
	for _, sh := range ls.Shards {
		r := sh.HashKeyRange
		if !slices.ContainsFunc(want, func(w [2]stream.HashKey) bool {
			return w[0].String() == aws.ToString(r.StartingHashKey) && w[1].String() == aws.ToString(r.EndingHashKey)
		}) {
			t.Fatalf("open shard %s is not uniform: %+v", aws.ToString(sh.ShardId), r)
		}
	}
	_, err = scale(1)
	wantErr(t, err, "LimitExceededException", "cannot scale down below half")
	arn := aws.String("arn:aws:kinesis:eu-central-1:000000000000:stream/u")
	if _, err := e.kc.UpdateStreamMode(ctx, &kinesis.UpdateStreamModeInput{StreamARN: arn, StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}}); err != nil {
		t.Fatal(err)
	}
	sum, err := e.kc.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamARN: arn})
	if err != nil || sum.StreamDescriptionSummary.StreamModeDetails.StreamMode != types.StreamModeOnDemand || aws.ToInt32(sum.StreamDescriptionSummary.OpenShardCount) != 3 {
		t.Fatalf("after the mode change: %+v %v", sum, err)
	}
	_, err = scale(4)
	wantErr(t, err, "ValidationException", "ON_DEMAND")
	_, err = e.kc.UpdateStreamMode(ctx, &kinesis.UpdateStreamModeInput{StreamARN: arn, StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}})
	wantErr(t, err, "InvalidArgumentException", "already in ON_DEMAND mode")
}

// TestUpdatingRefusesChangesButTakesRecords: while a reshard waits out the create delay the
// stream is UPDATING; other changes get ResourceInUseException, records are still taken.
func TestUpdatingRefusesChangesButTakesRecords(t *testing.T) {
	e := newEnv(t, func(o *stream.Options) { o.CreateDelay = time.Hour })
	e.create(t, "w", 2)
	e.clock.Add(time.Hour)
	if _, err := e.kc.MergeShards(ctx, &kinesis.MergeShardsInput{StreamName: aws.String("w"), ShardToMerge: aws.String("shardId-000000000000"), AdjacentShardToMerge: aws.String("shardId-000000000001")}); err != nil {
		t.Fatal(err)
	}
	sum, err := e.kc.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("w")})
	if err != nil || sum.StreamDescriptionSummary.StreamStatus != types.StreamStatusUpdating {
		t.Fatalf("%+v %v", sum, err)
	}
	_, err = e.kc.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String("w"), ShardToSplit: aws.String("shardId-000000000000"), NewStartingHashKey: aws.String("100")})
	wantErr(t, err, "ResourceInUseException", "Stream w under account 000000000000 not ACTIVE, instead in state UPDATING")
	_, err = e.kc.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{StreamName: aws.String("w"), TargetShardCount: aws.Int32(2), ScalingType: types.ScalingTypeUniformScaling})
	wantErr(t, err, "ResourceInUseException", "instead in state UPDATING")
	e.putKey(t, "w", "during")
}

// TestSubscribeEndsWithChildShards: a subscription to a shard that is split reads the
// parent's records, then gets one last event with ChildShards, and ends.
func TestSubscribeEndsWithChildShards(t *testing.T) {
	e := newEnv(t, nil)
	e.create(t, "sub", 1)
	reg, err := e.kc.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: aws.String("arn:aws:kinesis:eu-central-1:000000000000:stream/sub"), ConsumerName: aws.String("c")})
	if err != nil {
		t.Fatal(err)
	}
	e.putKey(t, "sub", "a")
	out, err := e.ownClient().SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{ConsumerARN: reg.Consumer.ConsumerARN, ShardId: aws.String("shardId-000000000000"),
		StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeTrimHorizon}})
	if err != nil {
		t.Fatal(err)
	}
	es := out.GetStream()
	defer es.Close()
	var got []string
	var children []types.ChildShard
	split := false
	for ev := range es.Events() {
		se := ev.(*types.SubscribeToShardEventStreamMemberSubscribeToShardEvent).Value
		for _, r := range se.Records {
			got = append(got, string(r.Data))
		}
		children = append(children, se.ChildShards...)
		if len(got) == 1 && !split {
			split = true
			e.putKey(t, "sub", "b")
			if _, err := e.kc.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String("sub"), ShardToSplit: aws.String("shardId-000000000000"), NewStartingHashKey: aws.String(half)}); err != nil {
				t.Fatal(err)
			}
			e.putKey(t, "sub", "c")
		}
	}
	if es.Err() != nil {
		t.Fatal(es.Err())
	}
	if fmt.Sprint(got) != "[a b]" || len(children) != 2 || aws.ToString(children[0].ShardId) != "shardId-000000000001" {
		t.Fatalf("records %v, children %+v", got, children)
	}

	// Subscribing at a closed shard's end gets the children in the first event, and the end.
	out, err = e.ownClient().SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{ConsumerARN: reg.Consumer.ConsumerARN, ShardId: aws.String("shardId-000000000000"),
		StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeLatest}})
	if err != nil {
		t.Fatal(err)
	}
	var events []*types.SubscribeToShardEvent
	for ev := range out.GetStream().Events() {
		v := ev.(*types.SubscribeToShardEventStreamMemberSubscribeToShardEvent).Value
		events = append(events, &v)
	}
	if len(events) != 1 || len(events[0].Records) != 0 || len(events[0].ChildShards) != 2 {
		t.Fatalf("subscription at a closed shard's end: %d events", len(events))
	}
}
