package kinesisapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/localpipe/localpipe/internal/awsjson"
	"github.com/localpipe/localpipe/stream"
)

// Throttle applies Kinesis's documented limits, so that a client's retry logic meets the
// errors it will meet on AWS. It is opt-in (--throttle): a nil *Throttle is off. Each method
// the request paths call is a nil check small enough to inline in front of the real work
// (its …On twin), so the default path pays one comparison per call site and no call.
//
// Each limit is a token bucket that holds at most one second's worth, so a client may burst
// to a full second's allowance after a pause, as AWS allows, and is refused (never delayed)
// beyond it. The per-shard limits are the same in both capacity modes (AWS: "A shard
// supports 1 MB/s and 1000 records per second for writes and 2 MB/s for reads in both
// on-demand and provisioned capacity modes"); an on-demand stream's default capacity, 4 MB/s
// of writes and 8 MB/s of reads, is exactly what its OnDemandShardCount shards give. AWS
// scales an on-demand stream past that within minutes; localpipe keeps its shards.
type Throttle struct {
	now func() time.Time

	mu      sync.Mutex
	streams map[string]*streamBuckets
	calls   map[string]*callBucket // key: the action, then what its limit counts per (stream, shard, consumer)
	sweepAt int                    // the size of calls that sweeps it next
}

// callBucket is a control-plane limit's bucket, with its rate so that a sweep can tell a
// full one.
type callBucket struct {
	bucket
	rate float64
}

// maxIdleCalls is how many control-plane buckets may be kept before full ones are swept
// out. Their keys come from request bodies (any stream name, consumer ARN or shard id), and
// a full bucket is what a missing one means, so a sweep keeps only the keys called within
// about the last second. The next sweep waits until the table has doubled, so a burst of
// keys costs amortized constant time each.
const maxIdleCalls = 4096

type unlimitedKey struct{}

// Unlimited marks calls localpipe makes for itself, such as creating the --config file's
// streams at start: no client made them, so no rate limit counts them, and a config with
// more streams than CreateStream's 5 a second still starts.
func Unlimited(ctx context.Context) context.Context {
	return context.WithValue(ctx, unlimitedKey{}, true)
}

// NewThrottle returns the limits on. now is the clock the buckets fill by; nil means
// time.Now (tests pass a clock only they move, so no assertion depends on timing).
func NewThrottle(now func() time.Time) *Throttle {
	if now == nil {
		now = time.Now
	}
	return &Throttle{now: now, streams: map[string]*streamBuckets{}, calls: map[string]*callBucket{}}
}

// Per-shard limits [KDS-LIM]: writes 1 MiB/s (data plus partition key) and 1,000 records/s;
// reads 5 GetRecords calls/s and 2 MiB/s; GetShardIterator 5 calls/s per open shard.
const (
	writeBytesPerSec    = 1 << 20
	writeRecordsPerSec  = 1000
	readCallsPerSec     = 5
	readBytesPerSec     = 2 << 20
	iteratorCallsPerSec = 5
)

// bucket is a token bucket holding at most rate tokens (one second's worth). Tokens may go
// below zero: GetRecords takes what it returned after the fact, so a 10 MiB answer leaves a
// debt that refuses reads for the seconds it takes to repay, as AWS documents.
type bucket struct {
	tokens float64
	at     time.Time
}

func newBucket(rate float64, now time.Time) *bucket { return &bucket{tokens: rate, at: now} }

func (b *bucket) fill(rate float64, now time.Time) {
	if d := now.Sub(b.at); d > 0 {
		b.tokens = min(rate, b.tokens+d.Seconds()*rate)
		b.at = now
	}
}

// shardBuckets are one shard's limits.
type shardBuckets struct {
	writeBytes, writeRecords, readCalls, readBytes, iterCalls *bucket
}

// streamBuckets are a stream's shards' limits. created tells a stream re-created under the
// same name, whose shards start with full buckets, from the one before it.
type streamBuckets struct {
	created time.Time
	shards  map[int]*shardBuckets
}

// shardLocked returns the buckets of a stream's shard, full the first time it is asked for.
func (t *Throttle) shardLocked(name string, created time.Time, shard int, now time.Time) *shardBuckets {
	st := t.streams[name]
	if st == nil || !st.created.Equal(created) {
		st = &streamBuckets{created: created, shards: map[int]*shardBuckets{}}
		t.streams[name] = st
	}
	sb := st.shards[shard]
	if sb == nil {
		sb = &shardBuckets{
			writeBytes: newBucket(writeBytesPerSec, now), writeRecords: newBucket(writeRecordsPerSec, now),
			readCalls: newBucket(readCallsPerSec, now), readBytes: newBucket(readBytesPerSec, now),
			iterCalls: newBucket(iteratorCallsPerSec, now),
		}
		st.shards[shard] = sb
	}
	return sb
}

// admitWriteLocked takes one record of size bytes from a shard's write buckets if both have
// room; otherwise it takes nothing, so a refused record costs no allowance.
func (sb *shardBuckets) admitWriteLocked(size int, now time.Time) bool {
	sb.writeBytes.fill(writeBytesPerSec, now)
	sb.writeRecords.fill(writeRecordsPerSec, now)
	if sb.writeRecords.tokens < 1 || sb.writeBytes.tokens < float64(size) {
		return false
	}
	sb.writeRecords.tokens--
	sb.writeBytes.tokens -= float64(size)
	return true
}

// shardRateExceeded is AWS's message for a shard's write limits (PutRecord's error and a
// PutRecords entry's ErrorMessage).
func shardRateExceeded(name string, shard int) string {
	return fmt.Sprintf("Rate exceeded for shard %s in stream %s under account %s.", shardName(shard), name, awsjson.Account)
}

func throughputExceeded(msg string) *awsjson.Error {
	return awsjson.NewError("ProvisionedThroughputExceededException", msg)
}

// shardOf is the open shard a record goes to, as the engine routes it.
func shardOf(target stream.PutTarget, partitionKey string, explicit *stream.HashKey) int {
	if explicit != nil {
		return target.Routing.ShardFor(*explicit)
	}
	return target.Routing.ShardFor(stream.PartitionHash(partitionKey))
}

// write admits a PutRecord, or refuses it with ProvisionedThroughputExceededException before
// anything is stored.
func (t *Throttle) write(info stream.PutTarget, partitionKey string, explicit *stream.HashKey, dataLen int) *awsjson.Error {
	if t == nil {
		return nil
	}
	return t.writeOn(info, partitionKey, explicit, dataLen)
}

func (t *Throttle) writeOn(info stream.PutTarget, partitionKey string, explicit *stream.HashKey, dataLen int) *awsjson.Error {
	shard := shardOf(info, partitionKey, explicit)
	now := t.now()
	t.mu.Lock()
	ok := t.shardLocked(info.Name, info.Created, shard, now).admitWriteLocked(dataLen+len(partitionKey), now)
	t.mu.Unlock()
	if !ok {
		return throughputExceeded(shardRateExceeded(info.Name, shard))
	}
	return nil
}

// writes decides a PutRecords batch entry by entry, in order, as AWS does: it returns the
// entries to store and, when any was refused, refused[i] holding the ErrorMessage of
// entry i ("" for one admitted). A refused entry stores nothing and takes no allowance, so
// a smaller entry after it may still fit.
func (t *Throttle) writes(info stream.PutTarget, entries []stream.PutEntry) (admitted []stream.PutEntry, refused []string) {
	if t == nil {
		return entries, nil
	}
	return t.writesOn(info, entries)
}

func (t *Throttle) writesOn(info stream.PutTarget, entries []stream.PutEntry) (admitted []stream.PutEntry, refused []string) {
	shards := make([]int, len(entries))
	for i, e := range entries {
		shards[i] = shardOf(info, e.PartitionKey, e.ExplicitHashKey)
	}
	now := t.now()
	admitted = entries[:0:0]
	t.mu.Lock()
	for i, e := range entries {
		if t.shardLocked(info.Name, info.Created, shards[i], now).admitWriteLocked(len(e.Data)+len(e.PartitionKey), now) {
			admitted = append(admitted, e)
			continue
		}
		if refused == nil {
			refused = make([]string, len(entries))
		}
		refused[i] = shardRateExceeded(info.Name, shards[i])
	}
	t.mu.Unlock()
	return admitted, refused
}

// appendRefused appends a PutRecords result entry for a refused record.
func appendRefused(out []byte, msg string) []byte {
	out = append(out, `{"ErrorCode":"ProvisionedThroughputExceededException","ErrorMessage":`...)
	out = awsjson.AppendString(out, msg)
	return append(out, '}')
}

// countRefused is FailedRecordCount.
func countRefused(refused []string) int {
	n := 0
	for _, r := range refused {
		if r != "" {
			n++
		}
	}
	return n
}

// readRateExceeded is the message AWS has given for GetRecords over a shard's read limits
// since about 2022 (the older form was the write limit's).
func readRateExceeded(name string, shard int) *awsjson.Error {
	return throughputExceeded(fmt.Sprintf("Rate exceeded for Shard - %s/%s/%s", awsjson.Account, name, shardName(shard)))
}

// read admits a GetRecords call: the shard must have a call left this second and must not
// owe read bytes. What the call returns is taken afterwards by readDone.
func (t *Throttle) read(name string, created time.Time, shard int) *awsjson.Error {
	if t == nil {
		return nil
	}
	return t.readOn(name, created, shard)
}

func (t *Throttle) readOn(name string, created time.Time, shard int) *awsjson.Error {
	now := t.now()
	t.mu.Lock()
	sb := t.shardLocked(name, created, shard, now)
	sb.readCalls.fill(readCallsPerSec, now)
	sb.readBytes.fill(readBytesPerSec, now)
	ok := sb.readCalls.tokens >= 1 && sb.readBytes.tokens > 0
	if ok {
		sb.readCalls.tokens--
	}
	t.mu.Unlock()
	if !ok {
		return readRateExceeded(name, shard)
	}
	return nil
}

// readDone takes the bytes a GetRecords call returned from its shard's read allowance.
func (t *Throttle) readDone(name string, created time.Time, shard, bytes int) {
	if t == nil {
		return
	}
	t.readDoneOn(name, created, shard, bytes)
}

func (t *Throttle) readDoneOn(name string, created time.Time, shard, bytes int) {
	now := t.now()
	t.mu.Lock()
	sb := t.shardLocked(name, created, shard, now)
	sb.readBytes.fill(readBytesPerSec, now)
	sb.readBytes.tokens -= float64(bytes)
	t.mu.Unlock()
}

// controlScope says what a control-plane limit counts calls per.
type controlScope int

const (
	perAccount controlScope = iota
	perStream
	perShard         // GetShardIterator: per open shard, refused as a shard's throughput
	perConsumerShard // SubscribeToShard: per registered consumer and shard
)

// controlLimit is an operation's documented rate limit.
type controlLimit struct {
	perSec float64
	scope  controlScope
}

// controlLimits are the rate limits the Kinesis API reference states for each operation (the
// same sentences are in the service model's documentation, as the AWS SDK for Go v2 carries
// it). Operations it gives no figure for are not limited; neither are the ones localpipe
// answers as not supported (channels, warm throughput).
var controlLimits = map[string]controlLimit{
	"AddTagsToStream":          {5, perAccount},
	"CreateStream":             {5, perAccount},
	"DeleteStream":             {5, perAccount},
	"DescribeAccountSettings":  {5, perAccount},
	"DescribeLimits":           {1, perAccount},
	"DescribeStream":           {10, perAccount},
	"DescribeStreamSummary":    {20, perAccount},
	"ListStreams":              {5, perAccount},
	"ListTagsForStream":        {5, perAccount},
	"MergeShards":              {5, perAccount},
	"RegisterStreamConsumer":   {5, perAccount},
	"RemoveTagsFromStream":     {5, perAccount},
	"SplitShard":               {5, perAccount},
	"UpdateAccountSettings":    {5, perAccount},
	"DeregisterStreamConsumer": {5, perStream},
	"DescribeStreamConsumer":   {20, perStream},
	"ListShards":               {1000, perStream},
	"ListStreamConsumers":      {5, perStream},
	"GetShardIterator":         {iteratorCallsPerSec, perShard},
	"SubscribeToShard":         {1, perConsumerShard},
}

// controlTarget is what a limited operation's request names; decoded only when the
// throttle is on and the operation is limited.
type controlTarget struct {
	StreamName  *string `json:"StreamName"`
	StreamARN   *string `json:"StreamARN"`
	ShardId     *string `json:"ShardId"`
	ConsumerARN *string `json:"ConsumerARN"`
	NextToken   *string `json:"NextToken"` // ListShards' later pages name the stream only here
}

// stream names the stream a request is about, "" when it names none (or not well enough to
// count it: the operation then answers the request's own error).
func (ct *controlTarget) stream() string {
	switch {
	case ct.StreamName != nil:
		return *ct.StreamName
	case ct.StreamARN != nil:
		if m := streamARNParts.FindStringSubmatch(*ct.StreamARN); m != nil {
			return m[3]
		}
	case ct.ConsumerARN != nil:
		if m := consumerARNPart.FindStringSubmatch(*ct.ConsumerARN); m != nil {
			return m[3]
		}
	case ct.NextToken != nil:
		var tok listShardsToken
		if b, err := base64.RawURLEncoding.DecodeString(*ct.NextToken); err == nil && json.Unmarshal(b, &tok) == nil {
			return tok.Stream
		}
	}
	return ""
}

// control admits a control-plane call or refuses it as AWS does: LimitExceededException
// "Rate exceeded for stream X under account Y." (or "… for account Y." for a request that
// names no stream), and for GetShardIterator the shard's ProvisionedThroughputExceeded.
func (t *Throttle) control(ctx context.Context, action string, body []byte) *awsjson.Error {
	if t == nil {
		return nil
	}
	return t.controlOn(ctx, action, body)
}

func (t *Throttle) controlOn(ctx context.Context, action string, body []byte) *awsjson.Error {
	if ctx.Value(unlimitedKey{}) != nil {
		return nil
	}
	lim, ok := controlLimits[action]
	if !ok {
		return nil
	}
	var target controlTarget
	// A body that does not decode is counted per account; the operation then answers it.
	_ = json.Unmarshal(body, &target)
	name := target.stream()
	key := action
	switch lim.scope {
	case perStream:
		if name == "" {
			return nil
		}
		key += "\x00" + name
	case perShard:
		if name == "" || target.ShardId == nil {
			return nil
		}
		idx, ok := shardIndex(*target.ShardId)
		if !ok {
			return nil
		}
		key += "\x00" + name + "\x00" + shardName(idx)
		if !t.take(key, lim.perSec) {
			return throughputExceeded(shardRateExceeded(name, idx))
		}
		return nil
	case perConsumerShard:
		if target.ConsumerARN == nil || target.ShardId == nil {
			return nil
		}
		if !t.take(key+"\x00"+*target.ConsumerARN+"\x00"+*target.ShardId, lim.perSec) {
			// AWS documents the limit but not its message; this one names what it counts.
			return awsjson.NewError("LimitExceededException", fmt.Sprintf("Rate exceeded for consumer %s and shard %s", *target.ConsumerARN, *target.ShardId))
		}
		return nil
	}
	if t.take(key, lim.perSec) {
		return nil
	}
	if name == "" {
		return awsjson.NewError("LimitExceededException", fmt.Sprintf("Rate exceeded for account %s.", awsjson.Account))
	}
	return awsjson.NewError("LimitExceededException", fmt.Sprintf("Rate exceeded for stream %s under account %s.", name, awsjson.Account))
}

// sweepLocked forgets the control-plane buckets that have filled up again.
func (t *Throttle) sweepLocked(now time.Time) {
	for k, b := range t.calls {
		if b.fill(b.rate, now); b.tokens >= b.rate {
			delete(t.calls, k)
		}
	}
}

// take takes one call from the bucket under key, made full on first use.
func (t *Throttle) take(key string, rate float64) bool {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.calls[key]
	if b == nil {
		if len(t.calls) >= max(maxIdleCalls, t.sweepAt) {
			t.sweepLocked(now)
			t.sweepAt = 2 * len(t.calls)
		}
		b = &callBucket{bucket: bucket{tokens: rate, at: now}, rate: rate}
		t.calls[key] = b
	}
	b.fill(rate, now)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
