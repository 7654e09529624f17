package kinesisapi

import (
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// BenchmarkSubscribeToShard measures enhanced fan-out against an in-process server:
// records/s delivered to 1, 10 and 50 subscriptions at once (10 consumers per stream at most
// on 5 shards, within AWS's 20 consumers), and the put→receive latency of single records at
// a low rate, beside the same latency for a GetRecords poller sleeping 200 ms between empty
// calls (AWS's advice for 5 calls/s per shard).
// Run: go test ./stream/kinesisapi -run '^$' -bench SubscribeToShard -benchtime 1x
func BenchmarkSubscribeToShard(b *testing.B) {
	for _, subs := range []int{1, 10, 50} {
		b.Run(fmt.Sprintf("throughput/subscriptions=%d", subs), func(b *testing.B) {
			for range b.N {
				benchFanOut(b, subs)
			}
		})
	}
	b.Run("latency/subscribe", func(b *testing.B) { benchLatency(b, false) })
	b.Run("latency/getrecords-200ms", func(b *testing.B) { benchLatency(b, true) })
}

// subscribe opens subscriptions for the given consumers on every shard of stream and calls
// got for each record each receives; it returns a function that closes them.
func benchSubscribe(b *testing.B, e *env, stream string, shards, consumers int, got func(data []byte)) func() {
	b.Helper()
	arn := aws.String("arn:aws:kinesis:eu-central-1:000000000000:stream/" + stream)
	var closers []func()
	for c := range consumers {
		reg, err := e.kc.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: arn, ConsumerName: aws.String(fmt.Sprintf("c%d", c))})
		if err != nil {
			b.Fatal(err)
		}
		for sh := range shards {
			out, err := e.ownClient().SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{ConsumerARN: reg.Consumer.ConsumerARN,
				ShardId: aws.String(fmt.Sprintf("shardId-%012d", sh)), StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeLatest}})
			if err != nil {
				b.Fatal(err)
			}
			st := out.GetStream()
			go func() {
				for ev := range st.Events() {
					if se, ok := ev.(*types.SubscribeToShardEventStreamMemberSubscribeToShardEvent); ok {
						for _, r := range se.Value.Records {
							got(r.Data)
						}
					}
				}
			}()
			closers = append(closers, func() { st.Close() })
		}
	}
	return func() {
		for _, c := range closers {
			c()
		}
	}
}

func benchFanOut(b *testing.B, subs int) {
	b.StopTimer()
	e := newEnv(b, nil)
	shards, consumers := 1, subs
	if subs > 10 {
		shards, consumers = 5, subs/5
	}
	e.create(b, "fan", int32(shards))
	const records = 20_000
	var (
		mu       sync.Mutex
		received int
		done     = make(chan struct{})
	)
	want := records * consumers
	stop := benchSubscribe(b, e, "fan", shards, consumers, func([]byte) {
		mu.Lock()
		received++
		if received == want {
			close(done)
		}
		mu.Unlock()
	})
	defer stop()
	payload := make([]byte, 100)
	b.StartTimer()
	start := time.Now()
	for i := 0; i < records; i += 500 {
		entries := make([]types.PutRecordsRequestEntry, 500)
		for j := range entries {
			entries[j] = types.PutRecordsRequestEntry{PartitionKey: aws.String(strconv.Itoa(i + j)), Data: payload}
		}
		if _, err := e.kc.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("fan"), Records: entries}); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		b.Fatalf("%d of %d deliveries in 2 minutes", received, want)
	}
	elapsed := time.Since(start)
	b.ReportMetric(float64(want)/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(float64(records)/elapsed.Seconds(), "records/s")
}

func benchLatency(b *testing.B, poll bool) {
	e := newEnv(b, nil)
	e.create(b, "lat", 1)
	arrived := make(chan string, 1)
	if poll {
		it, err := e.kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("lat"), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeLatest})
		if err != nil {
			b.Fatal(err)
		}
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			iter := it.ShardIterator
			for {
				select {
				case <-stop:
					return
				default:
				}
				out, err := e.kc.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter})
				if err != nil {
					return
				}
				for _, r := range out.Records {
					arrived <- string(r.Data)
				}
				iter = out.NextShardIterator
				if len(out.Records) == 0 {
					time.Sleep(200 * time.Millisecond)
				}
			}
		}()
	} else {
		stop := benchSubscribe(b, e, "lat", 1, 1, func(d []byte) { arrived <- string(d) })
		defer stop()
	}
	var lat []time.Duration
	for i := 0; b.Loop(); i++ {
		for range 20 {
			id := fmt.Sprint(len(lat))
			t0 := time.Now()
			if _, err := e.kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("lat"), PartitionKey: aws.String("k"), Data: []byte(id)}); err != nil {
				b.Fatal(err)
			}
			for got := <-arrived; got != id; got = <-arrived {
			}
			lat = append(lat, time.Since(t0))
			time.Sleep(time.Duration(17+len(lat)%13) * time.Millisecond) // a low, uneven rate
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
