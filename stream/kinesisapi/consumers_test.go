package kinesisapi

import (
	"fmt"
	"github.com/localpipe/localpipe/internal/sdkhttp"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// TestStreamConsumers registers, describes, lists and deregisters enhanced fan-out
// consumers with the SDK, with AWS's ARN shape, limit and errors.
func TestStreamConsumers(t *testing.T) {
	e := newEnv(t, nil)
	e.create(t, "fan", 1)
	streamARN := aws.String("arn:aws:kinesis:eu-central-1:000000000000:stream/fan")
	reg, err := e.kc.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: streamARN, ConsumerName: aws.String("app")})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(reg.Consumer.ConsumerARN)
	if !regexp.MustCompile(`^arn:aws:kinesis:eu-central-1:000000000000:stream/fan/consumer/app:\d{10}$`).MatchString(arn) || reg.Consumer.ConsumerStatus != types.ConsumerStatusActive {
		t.Fatalf("registered %s %s", arn, reg.Consumer.ConsumerStatus)
	}
	_, err = e.kc.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: streamARN, ConsumerName: aws.String("app")})
	wantErr(t, err, "ResourceInUseException", "already exists")
	byARN, err := e.kc.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{ConsumerARN: aws.String(arn)})
	if err != nil || aws.ToString(byARN.ConsumerDescription.StreamARN) != *streamARN || aws.ToString(byARN.ConsumerDescription.ConsumerName) != "app" {
		t.Fatalf("describe by ARN: %v %+v", err, byARN)
	}
	byName, err := e.kc.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{StreamARN: streamARN, ConsumerName: aws.String("app")})
	if err != nil || aws.ToString(byName.ConsumerDescription.ConsumerARN) != arn {
		t.Fatalf("describe by name: %v %+v", err, byName)
	}
	// The same name with another creation second is another (stale) consumer.
	other := map[bool]string{true: "8", false: "9"}[strings.HasSuffix(arn, "9")]
	_, err = e.kc.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{ConsumerARN: aws.String(arn[:len(arn)-1] + other)})
	wantErr(t, err, "ResourceNotFoundException", "")
	for i := 2; i <= 20; i++ {
		if _, err := e.kc.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: streamARN, ConsumerName: aws.String(fmt.Sprintf("c%02d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = e.kc.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: streamARN, ConsumerName: aws.String("one-too-many")})
	wantErr(t, err, "LimitExceededException", "")
	var names []string
	in := &kinesis.ListStreamConsumersInput{StreamARN: streamARN, MaxResults: aws.Int32(7)}
	for {
		page, err := e.kc.ListStreamConsumers(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page.Consumers {
			names = append(names, aws.ToString(c.ConsumerName))
		}
		if page.NextToken == nil {
			break
		}
		in.NextToken = page.NextToken
	}
	if len(names) != 20 || names[0] != "app" {
		t.Fatalf("listed %v", names)
	}
	sum, err := e.kc.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("fan")})
	if err != nil || aws.ToInt32(sum.StreamDescriptionSummary.ConsumerCount) != 20 {
		t.Fatalf("consumer count: %v %v", err, sum)
	}
	_, err = e.kc.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String("fan")})
	wantErr(t, err, "ResourceInUseException", "EnforceConsumerDeletion")
	if _, err := e.kc.DeregisterStreamConsumer(ctx, &kinesis.DeregisterStreamConsumerInput{ConsumerARN: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.kc.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{ConsumerARN: aws.String(arn)})
	wantErr(t, err, "ResourceNotFoundException", "")
	if _, err := e.kc.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String("fan"), EnforceConsumerDeletion: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
}

// ownClient is a client with a protocol codec and a connection of its own, speaking
// cleartext HTTP/2 as clients reach AWS's endpoint over TLS: the SDK's event-stream codec
// keeps a buffer that concurrent SubscribeToShard calls on one client share (a data race in
// smithy-go, seen under -race), and over HTTP/1.1 the Go SDK closed a subscription's
// connection under it now and then (a few of 50 subscriptions at once; the frames decode
// cleanly with the eventstream decoder over HTTP/1.1, and never failed over HTTP/2).
func (e *env) ownClient() *kinesis.Client {
	opts := e.kc.Options()
	opts.Protocol = nil
	var protos http.Protocols
	protos.SetUnencryptedHTTP2(true)
	opts.HTTPClient = sdkhttp.Wrap(&http.Client{Transport: &http.Transport{Protocols: &protos}})
	return kinesis.New(opts)
}

// TestSubscribeToShard receives records through the SDK's event stream: those put before
// the subscription (TRIM_HORIZON) and those put during it, pushed in order; a second
// subscription of the consumer to the shard is refused; resuming after the continuation
// sequence number loses and repeats nothing; deregistering the consumer ends the stream.
func TestSubscribeToShard(t *testing.T) {
	e := newEnv(t, nil)
	e.create(t, "push", 1)
	streamARN := aws.String("arn:aws:kinesis:eu-central-1:000000000000:stream/push")
	reg, err := e.kc.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: streamARN, ConsumerName: aws.String("efo")})
	if err != nil {
		t.Fatal(err)
	}
	put := func(i int) {
		t.Helper()
		if _, err := e.kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("push"), PartitionKey: aws.String("k"), Data: []byte(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		put(i)
	}
	sub, err := e.ownClient().SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{ConsumerARN: reg.Consumer.ConsumerARN, ShardId: aws.String("shardId-000000000000"),
		StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeTrimHorizon}})
	if err != nil {
		t.Fatal(err)
	}
	stream := sub.GetStream()
	_, err = e.ownClient().SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{ConsumerARN: reg.Consumer.ConsumerARN, ShardId: aws.String("shardId-000000000000"),
		StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeLatest}})
	wantErr(t, err, "ResourceInUseException", "Another active subscription")
	var got []string
	continuation := ""
	deadline := time.After(10 * time.Second)
	for len(got) < 6 {
		select {
		case ev, ok := <-stream.Events():
			if !ok {
				t.Fatalf("stream ended after %v: %v", got, stream.Err())
			}
			se := ev.(*types.SubscribeToShardEventStreamMemberSubscribeToShardEvent).Value
			for _, r := range se.Records {
				got = append(got, string(r.Data))
			}
			continuation = aws.ToString(se.ContinuationSequenceNumber)
			if len(got) == 3 {
				for i := 3; i < 6; i++ {
					put(i)
				}
			}
		case <-deadline:
			t.Fatalf("received %v in 10 s", got)
		}
	}
	if fmt.Sprint(got) != "[0 1 2 3 4 5]" {
		t.Fatalf("received %v", got)
	}
	stream.Close()
	put(6)
	// The server drops the first subscription when it sees the client gone.
	var resumed *kinesis.SubscribeToShardOutput
	for range 100 {
		resumed, err = e.ownClient().SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{ConsumerARN: reg.Consumer.ConsumerARN, ShardId: aws.String("shardId-000000000000"),
			StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeAfterSequenceNumber, SequenceNumber: aws.String(continuation)}})
		if err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	rs := resumed.GetStream()
	defer rs.Close()
	ev := <-rs.Events()
	se := ev.(*types.SubscribeToShardEventStreamMemberSubscribeToShardEvent).Value
	if len(se.Records) != 1 || string(se.Records[0].Data) != "6" {
		t.Fatalf("resumed with %d records", len(se.Records))
	}
	if _, err := e.kc.DeregisterStreamConsumer(ctx, &kinesis.DeregisterStreamConsumerInput{ConsumerARN: reg.Consumer.ConsumerARN}); err != nil {
		t.Fatal(err)
	}
	for range rs.Events() {
	}
	if rs.Err() == nil {
		t.Fatal("the subscription outlived its consumer without an error")
	}
}

// TestSubscribeToEmptyShardResumes: a subscription that saw no records hands out the shard's
// starting sequence number, and resuming after it reads the shard's first record.
func TestSubscribeToEmptyShardResumes(t *testing.T) {
	e := newEnv(t, nil)
	e.create(t, "empty", 1)
	reg, err := e.kc.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{
		StreamARN: aws.String("arn:aws:kinesis:eu-central-1:000000000000:stream/empty"), ConsumerName: aws.String("efo")})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := e.kc.SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{ConsumerARN: reg.Consumer.ConsumerARN, ShardId: aws.String("shardId-000000000000"),
		StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeLatest}})
	if err != nil {
		t.Fatal(err)
	}
	ev := <-sub.GetStream().Events()
	sub.GetStream().Close()
	cont := ev.(*types.SubscribeToShardEventStreamMemberSubscribeToShardEvent).Value.ContinuationSequenceNumber
	e.clock.Add(2 * time.Second) // the record arrives in a later second than the shard's creation
	if _, err := e.kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("empty"), PartitionKey: aws.String("k"), Data: []byte("first")}); err != nil {
		t.Fatal(err)
	}
	var again *kinesis.SubscribeToShardOutput
	for range 100 {
		again, err = e.ownClient().SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{ConsumerARN: reg.Consumer.ConsumerARN, ShardId: aws.String("shardId-000000000000"),
			StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeAfterSequenceNumber, SequenceNumber: cont}})
		if err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer again.GetStream().Close()
	ev = <-again.GetStream().Events()
	if rs := ev.(*types.SubscribeToShardEventStreamMemberSubscribeToShardEvent).Value.Records; len(rs) != 1 || string(rs[0].Data) != "first" {
		t.Fatalf("resumed after the starting sequence number with %d records", len(rs))
	}
}

// TestSubscriptionLifetime: a subscription ends by itself after its lifetime (five minutes on
// AWS, lowered here), cleanly, and the consumer may subscribe again at once.
func TestSubscriptionLifetime(t *testing.T) {
	l, h := subscriptionLifetime, subscriptionHeartbeat
	t.Cleanup(func() { subscriptionLifetime, subscriptionHeartbeat = l, h })
	// A lifetime of a second leaves room for several heartbeats on a loaded machine; with
	// 300 ms the test failed once under heavy load.
	subscriptionLifetime, subscriptionHeartbeat = time.Second, 50*time.Millisecond
	e := newEnv(t, nil)
	e.create(t, "short", 1)
	reg, err := e.kc.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{
		StreamARN: aws.String("arn:aws:kinesis:eu-central-1:000000000000:stream/short"), ConsumerName: aws.String("efo")})
	if err != nil {
		t.Fatal(err)
	}
	in := &kinesis.SubscribeToShardInput{ConsumerARN: reg.Consumer.ConsumerARN, ShardId: aws.String("shardId-000000000000"),
		StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeLatest}}
	sub, err := e.kc.SubscribeToShard(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	events := 0
	for range sub.GetStream().Events() {
		events++
	}
	if err := sub.GetStream().Err(); err != nil || events < 2 {
		t.Fatalf("ended after %d events (heartbeats included) with %v", events, err)
	}
	again, err := e.ownClient().SubscribeToShard(ctx, in)
	if err != nil {
		t.Fatalf("subscribing again after the lifetime: %v", err)
	}
	again.GetStream().Close()
}
