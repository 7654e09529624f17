package kinesisapi

import (
	"fmt"
	"strconv"
	"time"

	"github.com/localpipe/localpipe/internal/awsjson"
	"github.com/localpipe/localpipe/stream"
)

type putRecordIn struct {
	streamRef
	Data                      []byte  `json:"Data"`
	PartitionKey              *string `json:"PartitionKey"`
	ExplicitHashKey           *string `json:"ExplicitHashKey"`
	SequenceNumberForOrdering *string `json:"SequenceNumberForOrdering"`
}

// explicitHash parses an ExplicitHashKey that passed the model's pattern.
func explicitHash(s *string) (*stream.HashKey, *awsjson.Error) {
	if s == nil {
		return nil, nil
	}
	h, err := stream.ParseHashKey(*s)
	if err != nil {
		return nil, awsjson.NewError("InvalidArgumentException", "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was "+*s)
	}
	return &h, nil
}

// recordSize checks a record against the stream's limit, which covers data and key. member
// is the record's place in a PutRecords batch counting from 1, or 0 for PutRecord's record;
// the path naming it is built only for an error, since this runs for every record.
func recordSize(member int, data []byte, key string, maxKiB int) *awsjson.Error {
	if maxKiB <= 0 {
		maxKiB = stream.DefaultMaxRecordSizeKiB
	}
	limit := maxKiB << 10
	if len(data) > limit {
		path := "data"
		if member > 0 {
			path = fmt.Sprintf("records.%d.member.data", member)
		}
		var v validator
		v.Blob(path, data, limit)
		return v.Err()
	}
	if len(data)+len(key) > limit {
		return awsjson.NewError("InvalidArgumentException", fmt.Sprintf("Record size %d bytes (data plus partition key) exceeds the maximum record size of %d bytes.", len(data)+len(key), limit))
	}
	return nil
}

// plainlyValid reports whether a PutRecords entry certainly passes the model's checks below,
// so that the common entry costs no member paths: a key of 1 to 256 bytes has 1 to 256
// UTF-16 units, and an entry with an ExplicitHashKey takes the full checks.
func plainlyValid(e *putRecordsEntry) bool {
	return e.PartitionKey != nil && len(*e.PartitionKey) >= 1 && len(*e.PartitionKey) <= 256 &&
		e.Data != nil && len(e.Data) <= maxDataModel && e.ExplicitHashKey == nil
}

func (c *call) putRecord(body []byte) ([]byte, *awsjson.Error) {
	start := time.Now()
	var in putRecordIn
	if err := awsjson.Decode(body, &in); err != nil {
		return nil, err
	}
	var v validator
	v.Str("sequenceNumberForOrdering", in.SequenceNumberForOrdering, 0, 0, seqNumberRE, seqNumberPattern)
	if v.Required("partitionKey", in.PartitionKey != nil) {
		v.Str("partitionKey", in.PartitionKey, 1, 256, nil, "")
	}
	v.Str("explicitHashKey", in.ExplicitHashKey, 0, 0, hashKeyRE, hashKeyPattern)
	if v.Required("data", in.Data != nil) {
		v.Blob("data", in.Data, maxDataModel)
	}
	v.streamName("streamName", in.StreamName)
	v.streamARN("streamARN", in.StreamARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	name, aerr := c.target(in.StreamName, in.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
	// AWS looks for the stream first, then at the hash key and the ordering number.
	info, err := c.h.eng.PutTarget(name)
	if err != nil || info.Hidden {
		return nil, notFound(name)
	}
	hk, aerr := explicitHash(in.ExplicitHashKey)
	if aerr != nil {
		return nil, aerr
	}
	if o := in.SequenceNumberForOrdering; o != nil {
		// Beyond this check the number needs no work: a shard's records are already
		// strictly ordered by arrival at its writer. AWS rejects numbers it did not issue
		// and ones from the future.
		if p, ok := decodeSeq(*o); !ok || p.arrival > c.now.Unix() {
			return nil, awsjson.NewError("InvalidArgumentException", fmt.Sprintf("ExclusiveMinimumSequenceNumber %s used in PutRecord on stream %s under account %s is invalid.", *o, name, awsjson.Account))
		}
	}
	if aerr := recordSize(0, in.Data, *in.PartitionKey, info.MaxRecordSizeKiB); aerr != nil {
		return nil, aerr
	}
	if !c.h.space.Writable() {
		return nil, noSpace()
	}
	if aerr := c.h.limits.write(info, *in.PartitionKey, hk, len(in.Data)); aerr != nil {
		c.h.metrics.stream(name).writeThroughputExceeded.Inc()
		return nil, aerr
	}
	res, err := c.h.eng.Put(c.ctx, name, []stream.PutEntry{{PartitionKey: *in.PartitionKey, ExplicitHashKey: hk, Data: in.Data}})
	if err != nil {
		return nil, c.engineError(name, err)
	}
	r := res[0]
	m := c.h.metrics.stream(name)
	m.incomingRecords.Inc()
	m.incomingBytes.Add(float64(len(in.Data)))
	m.putRecordSuccess.Inc()
	m.putRecordLatency.Observe(time.Since(start).Seconds())
	seq := seqPartsOf(r.ShardCreated, r.Shard, r.Position, r.Arrival)
	if c.h.onPut != nil {
		c.h.onPut(c.ctx, info.Name, Put{Shard: r.Shard, Position: r.Position, seq: seq})
	}
	out := make([]byte, 0, 128)
	out = append(out, `{"SequenceNumber":"`...)
	out = appendSeq(out, seq)
	out = append(out, `","ShardId":"`...)
	out = appendShardName(out, r.Shard)
	out = append(out, `"}`...)
	return out, nil
}

type putRecordsEntry struct {
	Data            []byte  `json:"Data"`
	ExplicitHashKey *string `json:"ExplicitHashKey"`
	PartitionKey    *string `json:"PartitionKey"`
}

// putRecordsEntry checks the member'th entry of a PutRecords batch against the model.
func (v *validator) putRecordsEntry(member int, e *putRecordsEntry) {
	p := fmt.Sprintf("records.%d.member.", member)
	if v.Required(p+"partitionKey", e.PartitionKey != nil) {
		v.Str(p+"partitionKey", e.PartitionKey, 1, 256, nil, "")
	}
	if v.Required(p+"data", e.Data != nil) {
		v.Blob(p+"data", e.Data, maxDataModel)
	}
	v.Str(p+"explicitHashKey", e.ExplicitHashKey, 0, 0, hashKeyRE, hashKeyPattern)
}

func (c *call) putRecords(body []byte) ([]byte, *awsjson.Error) {
	start := time.Now()
	var in struct {
		Records []putRecordsEntry `json:"Records"`
		streamRef
	}
	if err := awsjson.Decode(body, &in); err != nil {
		return nil, err
	}
	var v validator
	if v.Required("records", in.Records != nil) {
		if len(in.Records) < 1 {
			v.Fail("'[]'", "records", "have length greater than or equal to 1")
		}
		if len(in.Records) > 500 {
			v.Fail(awsjson.Quote(fmt.Sprintf("[%d records]", len(in.Records))), "records", "have length less than or equal to 500")
		}
		for i := range in.Records {
			if e := &in.Records[i]; !plainlyValid(e) {
				v.putRecordsEntry(i+1, e)
			}
		}
	}
	v.streamName("streamName", in.StreamName)
	v.streamARN("streamARN", in.StreamARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	name, aerr := c.target(in.StreamName, in.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
	info, err := c.h.eng.PutTarget(name)
	if err != nil || info.Hidden {
		return nil, notFound(name)
	}
	entries := make([]stream.PutEntry, len(in.Records))
	total, dataBytes := 0, 0
	for i, e := range in.Records {
		hk, aerr := explicitHash(e.ExplicitHashKey)
		if aerr != nil {
			return nil, aerr
		}
		if aerr := recordSize(i+1, e.Data, *e.PartitionKey, info.MaxRecordSizeKiB); aerr != nil {
			return nil, aerr
		}
		total += len(e.Data) + len(*e.PartitionKey)
		dataBytes += len(e.Data)
		entries[i] = stream.PutEntry{PartitionKey: *e.PartitionKey, ExplicitHashKey: hk, Data: e.Data}
	}
	if total > putRecordsMaxSize {
		return nil, awsjson.NewError("InvalidArgumentException", "Records size exceeds 5 MB limit")
	}
	if awsjson.IsCheckOnly(c.ctx) {
		return []byte("{}"), nil
	}
	if !c.h.space.Writable() {
		return nil, noSpace()
	}
	entries, refused := c.h.limits.writes(info, entries)
	res, err := c.h.eng.Put(c.ctx, name, entries)
	if err != nil {
		return nil, c.engineError(name, err)
	}
	failed := countRefused(refused)
	m := c.h.metrics.stream(name)
	m.incomingRecords.Add(float64(len(res)))
	m.putRecordsOK.Add(float64(len(res)))
	m.putRecordsFailed.Add(float64(failed))
	m.writeThroughputExceeded.Add(float64(failed))
	if len(res) > 0 {
		m.putRecordsSuccess.Inc()
	}
	m.putRecordsLatency.Observe(time.Since(start).Seconds())
	out := make([]byte, 0, 40+len(in.Records)*100)
	out = append(out, `{"FailedRecordCount":`...)
	out = strconv.AppendInt(out, int64(failed), 10)
	out = append(out, `,"Records":[`...)
	for i, k := 0, 0; i < len(in.Records); i++ {
		if i > 0 {
			out = append(out, ',')
		}
		if refused != nil && refused[i] != "" {
			out = appendRefused(out, refused[i])
			dataBytes -= len(in.Records[i].Data)
			continue
		}
		r := res[k]
		k++
		seq := seqPartsOf(r.ShardCreated, r.Shard, r.Position, r.Arrival)
		if c.h.onPut != nil {
			c.h.onPut(c.ctx, info.Name, Put{Shard: r.Shard, Position: r.Position, seq: seq})
		}
		out = append(out, `{"SequenceNumber":"`...)
		out = appendSeq(out, seq)
		out = append(out, `","ShardId":"`...)
		out = appendShardName(out, r.Shard)
		out = append(out, `"}`...)
	}
	out = append(out, "]}"...)
	m.incomingBytes.Add(float64(dataBytes))
	return out, nil
}

// javaDate formats t as java.util.Date.toString does, which AWS's expiry message uses.
func javaDate(t time.Time) string { return t.UTC().Format("Mon Jan 02 15:04:05 MST 2006") }

func (c *call) getRecords(body []byte) ([]byte, *awsjson.Error) {
	start := time.Now()
	var in struct {
		ShardIterator *string `json:"ShardIterator"`
		Limit         *int32  `json:"Limit"`
		StreamARN     *string `json:"StreamARN"`
	}
	if err := awsjson.Decode(body, &in); err != nil {
		return nil, err
	}
	var v validator
	v.IntRange("limit", in.Limit, 1, 10000)
	if v.Required("shardIterator", in.ShardIterator != nil) {
		v.Str("shardIterator", in.ShardIterator, 1, 512, nil, "")
	}
	v.streamARN("streamARN", in.StreamARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	it, err := decodeIterator(*in.ShardIterator)
	if err != nil {
		return nil, awsjson.NewError("InvalidArgumentException", "Invalid ShardIterator.")
	}
	if in.StreamARN != nil {
		if n, aerr := c.target(nil, in.StreamARN); aerr != nil || n != it.stream {
			return nil, awsjson.NewError("InvalidArgumentException", "Invalid ShardIterator.")
		}
	}
	if it.issuedMs > c.now.UnixMilli() {
		return nil, awsjson.NewError("InvalidArgumentException", "Invalid ShardIterator.") // issued in the future
	}
	if age := c.now.UnixMilli() - it.issuedMs; age > iteratorTTL.Milliseconds() {
		return nil, awsjson.NewError("ExpiredIteratorException", fmt.Sprintf("Iterator expired. The iterator was created at time %s while right now it is %s which is further in the future than the tolerated delay of %d milliseconds.",
			javaDate(time.UnixMilli(it.issuedMs)), javaDate(c.now), iteratorTTL.Milliseconds()))
	}
	t, derr := c.h.eng.ReadTarget(it.stream, it.shard)
	if derr != nil || t.Hidden || t.Created.UnixNano() != it.streamCreated || it.shard >= t.Shards {
		// The stream was deleted, and perhaps re-created: the iterator's shard is gone, which
		// AWS reports as ResourceNotFound naming the shard (as for a deleted stream), not as
		// an invalid iterator, since the iterator itself is genuine.
		return nil, awsjson.NewError("ResourceNotFoundException", fmt.Sprintf("Shard %s in stream %s under account %s does not exist", shardName(it.shard), it.stream, awsjson.Account))
	}
	limit := 10000
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	if aerr := c.h.limits.read(t.Name, t.Created, it.shard); aerr != nil {
		c.h.metrics.stream(it.stream).readThroughputExceeded.Inc()
		return nil, aerr
	}
	// The records are encoded as the engine reads them, after room left for the members
	// that precede them but depend on where the read ended; the first record's size times
	// the records there are to read sizes the answer.
	w := newRecordJSON(t.ShardCreated, it.shard)
	var out []byte
	var lastArrivalMs int64
	res, err := c.h.eng.ReadFunc(it.stream, it.shard, it.position, limit, getRecordsMaxSize, func(pos uint64, arrivalMs int64, key, data []byte) {
		if out == nil {
			n := min(limit, int(min(t.Tip-pos, uint64(limit))), getRecordsMaxSize/max(len(data), 1)+1)
			out = answerBuffer(c.ctx, getRecordsHead+max(n, 1)*recordJSONSize(len(key), len(data))+2)[:getRecordsHead]
		}
		out = w.add(out, pos, arrivalMs, key, data)
		lastArrivalMs = arrivalMs
	})
	if err != nil {
		return nil, c.engineError(it.stream, err)
	}
	if out == nil {
		out = make([]byte, getRecordsHead, getRecordsHead+2)
	}
	out = append(out, "]}"...)
	behind := int64(0)
	if w.n > 0 && res.Next < res.Tip {
		// Behind the tip: by the age of the last record returned.
		behind = max(0, c.now.UnixMilli()-lastArrivalMs)
	}
	// At a closed shard's end the reader moves on to the children: no next iterator.
	var head []byte
	if t.Closed && res.Next >= min(t.End, res.Tip) {
		info, derr := c.h.eng.Describe(it.stream)
		if derr != nil || it.shard >= len(info.Shards) {
			return nil, c.engineError(it.stream, stream.ErrStreamNotFound)
		}
		ch, aerr := awsjson.Marshal(childShards(info, info.Shards[it.shard]))
		if aerr != nil {
			return nil, aerr
		}
		head = append(head, `{"ChildShards":`...)
		head = append(head, ch...)
		head = append(head, `,"MillisBehindLatest":`...)
		head = strconv.AppendInt(head, behind, 10)
	} else {
		next := iterator{streamCreated: it.streamCreated, shard: it.shard, position: res.Next, issuedMs: c.now.UnixMilli(), stream: it.stream}
		head = make([]byte, 0, 128)
		head = append(head, `{"MillisBehindLatest":`...)
		head = strconv.AppendInt(head, behind, 10)
		head = append(head, `,"NextShardIterator":"`...)
		head = append(head, next.encode()...)
		head = append(head, '"')
	}
	head = append(head, `,"Records":[`...)
	lend(c.ctx, out)
	if len(head) <= getRecordsHead {
		out = out[getRecordsHead-len(head):]
		copy(out, head)
	} else {
		out = append(head, out[getRecordsHead:]...)
	}
	c.h.limits.readDone(t.Name, t.Created, it.shard, w.bytes)
	m := c.h.metrics.stream(it.stream)
	m.getRecordsRecords.Add(float64(w.n))
	m.getRecordsBytes.Add(float64(w.bytes))
	m.outgoingRecords.Add(float64(w.n))
	m.outgoingBytes.Add(float64(w.bytes))
	m.getRecordsSuccess.Inc()
	m.iteratorAge.Set(float64(behind))
	m.getRecordsLatency.Observe(time.Since(start).Seconds())
	return out, nil
}

// getRecordsHead is the room GetRecords leaves before the records for the members that
// precede them: MillisBehindLatest and a NextShardIterator, which for the longest stream
// name is 232 characters. A ChildShards member that does not fit is the rare case that
// costs a copy.
const getRecordsHead = 320
