package kinesisapi

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	bolt "go.etcd.io/bbolt"

	"github.com/localpipe/localpipe/internal/awsjson"
	"github.com/localpipe/localpipe/stream"
)

// stepClock is a clock only the test moves.
type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *stepClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *stepClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// controlActions are the limited operations, in a fixed order for the fuzz target.
var controlActions = func() []string {
	var out []string
	for a := range controlLimits {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}()

// TestThrottleControlBadBodies: the control-plane limits read the stream and shard a
// request names from its body before the operation validates it; a body that is not JSON,
// has members of the wrong type, or names nothing countable is never refused on a first
// call, so the operation answers it with its own error.
func TestThrottleControlBadBodies(t *testing.T) {
	bodies := []string{
		``, `[`, `null`, `"s"`, `{"StreamName":5}`, `{"StreamName":null}`, `{"StreamARN":"not an arn"}`,
		`{"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/"}`, `{"ShardId":"shardId-000000000000"}`,
		`{"StreamName":"s","ShardId":"shardId-"}`, `{"StreamName":"s","ShardId":"shardId-99999999999999999999999"}`,
		`{"StreamName":"s","ShardId":7}`, `{"ConsumerARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c"}`,
		`{"ConsumerARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c:1"}`,
		`{"NextToken":"%%%"}`, `{"NextToken":"bHM6cw"}`, `{"NextToken":"e30"}`, `{"NextToken":5}`,
		`{"StreamName":"` + strings.Repeat("s", 1<<16) + `"}`, `{"StreamName":"s"` + strings.Repeat(` `, 100),
	}
	for _, action := range controlActions {
		for _, body := range bodies {
			th := NewThrottle(nil)
			if aerr := th.control(ctx, action, []byte(body)); aerr != nil {
				t.Errorf("%s %.60q: refused on its first call: %v", action, body, aerr)
			}
		}
	}
	var off *Throttle
	if off.control(ctx, "DescribeStream", nil) != nil || off.read("", time.Time{}, 0) != nil || off.write(stream.PutTarget{}, "k", nil, 1) != nil {
		t.Fatal("a nil Throttle refused a call")
	}
}

// FuzzThrottleControl: any body, for any limited operation, is decided without a panic,
// and a first call is never refused (every bucket starts full).
func FuzzThrottleControl(f *testing.F) {
	for i, seed := range []string{`{}`, `{"StreamName":"s"}`, `{"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s"}`,
		`{"StreamName":"s","ShardId":"shardId-000000000001"}`, `{"StreamName":"s","ShardId":"1"}`, `[`, `{"ShardId":{}}`,
		`{"ConsumerARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c:1"}`, `{"NextToken":"eyJzIjoicyIsImMiOjAsImEiOjB9"}`} {
		f.Add(uint8(i), []byte(seed))
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		action := controlActions[int(which)%len(controlActions)]
		th := NewThrottle(nil)
		if aerr := th.control(ctx, action, body); aerr != nil {
			t.Fatalf("%s %q: refused on its first call: %v", action, body, aerr)
		}
		_ = th.control(ctx, action, body)
	})
}

// TestThrottleListShardsPages: ListShards is limited per stream, and a later page, which
// names its stream only inside NextToken, counts against that stream.
func TestThrottleListShardsPages(t *testing.T) {
	clk := &stepClock{t: time.Unix(1_700_000_000, 0)}
	th := NewThrottle(clk.now)
	for range 999 {
		if aerr := th.control(ctx, "ListShards", []byte(`{"StreamName":"s"}`)); aerr != nil {
			t.Fatal(aerr)
		}
	}
	page := `{"NextToken":"eyJzIjoicyIsImMiOjAsImEiOjB9"}` // {"s":"s","c":0,"a":0}
	if aerr := th.control(ctx, "ListShards", []byte(page)); aerr != nil {
		t.Fatal(aerr)
	}
	aerr := th.control(ctx, "ListShards", []byte(page))
	if aerr == nil || aerr.Type != "LimitExceededException" || aerr.Message != "Rate exceeded for stream s under account 000000000000." {
		t.Fatalf("1,001st ListShards of stream s in a second: %v", aerr)
	}
	if aerr := th.control(ctx, "ListShards", []byte(`{"StreamName":"t"}`)); aerr != nil {
		t.Fatalf("another stream: %v", aerr)
	}
}

// TestThrottleBuckets checks the bucket arithmetic the end-to-end tests rely on: a burst of
// one second's worth, refill by elapsed time, no refill beyond one second's worth, and a
// refused PutRecords entry taking nothing, so a smaller entry after it still fits.
func TestThrottleBuckets(t *testing.T) {
	clk := &stepClock{t: time.Unix(1_700_000_000, 0)}
	th := NewThrottle(clk.now)
	info := stream.StreamInfo{Name: "s", Created: clk.t, Shards: []stream.ShardInfo{{Index: 0, StartKey: stream.HashKey{}, EndKey: stream.SplitHashRange(1)[0][1]}}}
	target := stream.PutTarget{Name: info.Name, Created: info.Created, Routing: stream.NewRouting(info.Shards)}
	entry := func(n int) stream.PutEntry { return stream.PutEntry{PartitionKey: "k", Data: make([]byte, n-1)} }

	kept, refused := th.writes(target, []stream.PutEntry{entry(600 << 10), entry(600 << 10), entry(400 << 10)})
	if len(kept) != 2 || refused[0] != "" || refused[1] == "" || refused[2] != "" {
		t.Fatalf("600+600+400 KiB into 1 MiB: kept %d, refused %q", len(kept), refused)
	}
	if th.write(target, "k", nil, 100<<10) == nil {
		t.Fatal("a full shard took 100 KiB more")
	}
	clk.add(100 * time.Millisecond) // 102.4 KiB
	if aerr := th.write(target, "k", nil, 100<<10-1); aerr != nil {
		t.Fatalf("after 100ms: %v", aerr)
	}
	clk.add(time.Hour) // refills to one second's worth, no more
	if kept, _ := th.writes(target, []stream.PutEntry{entry(1 << 20), entry(1)}); len(kept) != 1 {
		t.Fatalf("an hour later: kept %d of 1 MiB + 1 byte, want 1", len(kept))
	}
	if aerr := th.read(info.Name, info.Created, 0); aerr != nil {
		t.Fatal(aerr)
	}
	th.readDone(info.Name, info.Created, 0, 10<<20) // 8 MiB owed: 4 s to repay
	clk.add(3999 * time.Millisecond)
	if th.read(info.Name, info.Created, 0) == nil {
		t.Fatal("read while owing")
	}
	clk.add(2 * time.Millisecond)
	if aerr := th.read(info.Name, info.Created, 0); aerr != nil {
		t.Fatalf("once repaid: %v", aerr)
	}
	// A stream re-created under the name starts with full buckets.
	target.Created = target.Created.Add(time.Second)
	if kept, _ := th.writes(target, []stream.PutEntry{entry(1 << 20)}); len(kept) != 1 {
		t.Fatal("a re-created stream inherited its predecessor's allowance")
	}
}

// throttledClient serves the env's engine with the limits th applies, over HTTP/1.1 and h2c
// as the app does, and returns a maker of clients of it that do not retry. Each
// subscription needs a client of its own: the SDK's event-stream codec is not safe for two
// at once (see ownClient).
func (e *env) throttledClient(t *testing.T, th *Throttle) func() *kinesis.Client {
	t.Helper()
	srv := httptest.NewUnstartedServer(New(e.eng, Options{Throttle: th}))
	var protos http.Protocols
	protos.SetHTTP1(true)
	protos.SetUnencryptedHTTP2(true)
	srv.Config.Protocols = &protos
	srv.Start()
	t.Cleanup(srv.Close)
	return func() *kinesis.Client {
		opts := e.ownClient().Options()
		opts.Protocol = nil
		opts.BaseEndpoint, opts.RetryMaxAttempts = aws.String(srv.URL), 1
		return kinesis.New(opts)
	}
}

// TestThrottleSubscribeToShard: a consumer may subscribe to a shard once a second; a
// second call in the same second is LimitExceeded before anything else is looked at, and a
// second later it gets as far as the subscription still open (ResourceInUse).
func TestThrottleSubscribeToShard(t *testing.T) {
	e := newEnv(t, nil)
	e.create(t, "push", 2)
	reg, err := e.kc.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{
		StreamARN: aws.String("arn:aws:kinesis:eu-central-1:000000000000:stream/push"), ConsumerName: aws.String("efo")})
	if err != nil {
		t.Fatal(err)
	}
	clk := &stepClock{t: time.Unix(1_700_000_000, 0)}
	client := e.throttledClient(t, NewThrottle(clk.now))
	in := func(shard string) *kinesis.SubscribeToShardInput {
		return &kinesis.SubscribeToShardInput{ConsumerARN: reg.Consumer.ConsumerARN, ShardId: aws.String(shard),
			StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeLatest}}
	}
	sub, err := client().SubscribeToShard(ctx, in("shardId-000000000000"))
	if err != nil {
		t.Fatal(err)
	}
	defer sub.GetStream().Close()
	_, err = client().SubscribeToShard(ctx, in("shardId-000000000000"))
	wantErr(t, err, "LimitExceededException", "Rate exceeded for consumer "+aws.ToString(reg.Consumer.ConsumerARN)+" and shard shardId-000000000000")
	other, err := client().SubscribeToShard(ctx, in("shardId-000000000001"))
	if err != nil {
		t.Fatalf("the limit is per shard: %v", err)
	}
	defer other.GetStream().Close()
	clk.add(time.Second)
	_, err = client().SubscribeToShard(ctx, in("shardId-000000000000"))
	wantErr(t, err, "ResourceInUseException", "Another active subscription")
}

// benchOff is the default, off, throttle of BenchmarkThrottle's off-calls.
var benchOff *Throttle

// BenchmarkThrottle measures what --throttle costs a PutRecord in-process: "off" is the
// default (a nil *Throttle, one branch per call site), "on" decides every record against
// its shard's buckets with a clock that keeps them from running dry. "off-calls" is the
// off path's call sites alone.
// Run: go test ./stream/kinesisapi -run '^$' -bench Throttle -benchtime 20000x
func BenchmarkThrottle(b *testing.B) {
	b.Run("off-calls", func(b *testing.B) {
		th := benchOff // loaded as the handler loads its field, not a constant the compiler folds
		info := stream.StreamInfo{Name: "s"}
		target := stream.PutTarget{Name: "s"}
		entries := []stream.PutEntry{{PartitionKey: "k"}}
		body := []byte(`{"StreamName":"s"}`)
		b.ReportAllocs()
		for range b.N {
			_ = th.control(ctx, "PutRecord", body)
			_ = th.write(target, "k", nil, 1)
			_, _ = th.writes(target, entries)
			_ = th.read(info.Name, info.Created, 0)
			th.readDone(info.Name, info.Created, 0, 1)
		}
	})
	for _, on := range []bool{false, true} {
		name := "PutRecord/off"
		if on {
			name = "PutRecord/on"
		}
		b.Run(name, func(b *testing.B) {
			dir := b.TempDir()
			db, err := bolt.Open(filepath.Join(dir, "meta.db"), 0o644, &bolt.Options{NoSync: true})
			if err != nil {
				b.Fatal(err)
			}
			eng, err := stream.Open(stream.Options{Dir: filepath.Join(dir, "kinesis"), DB: db})
			if err != nil {
				b.Fatal(err)
			}
			defer func() { eng.Close(); db.Close() }()
			var opts Options
			if on {
				clk := &stepClock{t: time.Unix(1_700_000_000, 0)}
				opts.Throttle = NewThrottle(func() time.Time { clk.add(time.Millisecond); return clk.now() })
			}
			h := New(eng, opts)
			if st, _, out := h.Invoke(ctx, "CreateStream", []byte(`{"StreamName":"b","ShardCount":4}`), ""); st != 200 {
				b.Fatalf("%d %s", st, out)
			}
			body := []byte(`{"StreamName":"b","PartitionKey":"key-1","Data":"` + strings.Repeat("QUJD", 64) + `"}`)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if st, _, out := h.Invoke(ctx, "PutRecord", body, ""); st != 200 {
					b.Fatalf("%d %s", st, out)
				}
			}
		})
	}
}

// TestThrottleControlKeysBounded: control-plane buckets are keyed by names from request
// bodies; made-up names called once a second apart do not grow the table past twice
// maxIdleCalls, since a bucket that has filled again is swept out, while a limit in force
// survives a sweep.
func TestThrottleControlKeysBounded(t *testing.T) {
	clk := &stepClock{t: time.Unix(1_700_000_000, 0)}
	th := NewThrottle(clk.now)
	ctx := context.Background()
	body := func(name string) []byte { return []byte(`{"StreamName":"` + name + `"}`) }
	busy := func() *awsjson.Error { return th.control(ctx, "ListStreamConsumers", body("busy")) }
	for i := range 5 {
		if aerr := busy(); aerr != nil {
			t.Fatalf("call %d of 5 a second refused: %v", i+1, aerr)
		}
	}
	for i := range maxIdleCalls + 1 { // the last one sweeps, in the same instant
		th.control(ctx, "ListStreamConsumers", body(fmt.Sprintf("once-%d", i)))
	}
	if busy() == nil {
		t.Fatal("a sixth call in the second was taken after a sweep")
	}
	for i := range 3 * maxIdleCalls {
		if i%maxIdleCalls == 0 {
			clk.add(time.Second)
		}
		th.control(ctx, "ListStreamConsumers", body(fmt.Sprintf("made-up-%d", i)))
	}
	if n := len(th.calls); n > 2*maxIdleCalls {
		t.Errorf("%d control buckets kept, want at most %d", n, 2*maxIdleCalls)
	}
}
