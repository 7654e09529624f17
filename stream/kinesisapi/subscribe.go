package kinesisapi

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"

	"github.com/localpipe/localpipe/internal/awsjson"
	"github.com/localpipe/localpipe/stream"
)

// SubscribeToShard answers with an AWS event stream (application/vnd.amazon.eventstream):
// an initial-response event, then SubscribeToShardEvents as records are appended (pushed:
// the subscription sleeps on the shard's append signal, not on a polling interval), with an
// empty event at least every heartbeat so the client knows the subscription lives. It ends
// after subscriptionLifetime, as on AWS, when the consumer is deregistered or the stream
// deleted, or when the client goes away.

// Package variables that tests lower before making a Handler, which keeps them.
var (
	subscriptionLifetime  = 5 * time.Minute
	subscriptionHeartbeat = 5 * time.Second
)

// subscribeMaxBytes bounds one event's record data, as GetRecords bounds one answer.
const subscribeMaxBytes = 2 << 20

// subscriptions are the open SubscribeToShard calls, one per consumer and shard.
type subscriptions struct {
	mu   sync.Mutex
	open map[string]chan struct{} // consumer ARN + " " + shard id → closed to end it
}

func (s *subscriptions) add(key string) (chan struct{}, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open == nil {
		s.open = map[string]chan struct{}{}
	}
	if _, busy := s.open[key]; busy {
		return nil, false
	}
	ch := make(chan struct{})
	s.open[key] = ch
	return ch, true
}

func (s *subscriptions) remove(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.open, key)
}

// endConsumer ends every subscription of a consumer (it was deregistered).
func (s *subscriptions) endConsumer(consumerARN string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, ch := range s.open {
		if strings.HasPrefix(k, consumerARN+" ") {
			close(ch)
			delete(s.open, k)
		}
	}
}

// subscription is a validated SubscribeToShard request.
type subscription struct {
	key      string
	stream   string
	shard    stream.ShardInfo
	position uint64
	end      chan struct{}
}

func (c *call) prepareSubscribe(body []byte) (*subscription, *awsjson.Error) {
	var in struct {
		ConsumerARN      *string `json:"ConsumerARN"`
		ShardId          *string `json:"ShardId"`
		StartingPosition *struct {
			Type           *string  `json:"Type"`
			SequenceNumber *string  `json:"SequenceNumber"`
			Timestamp      *float64 `json:"Timestamp"`
		} `json:"StartingPosition"`
	}
	if err := awsjson.Decode(body, &in); err != nil {
		return nil, err
	}
	var v validator
	if v.Required("consumerARN", in.ConsumerARN != nil) {
		v.consumerARN("consumerARN", in.ConsumerARN)
	}
	if v.Required("shardId", in.ShardId != nil) {
		v.shardID("shardId", in.ShardId)
	}
	if v.Required("startingPosition", in.StartingPosition != nil) {
		sp := in.StartingPosition
		if v.Required("startingPosition.type", sp.Type != nil) {
			v.Enum("startingPosition.type", sp.Type, "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER", "TRIM_HORIZON", "LATEST", "AT_TIMESTAMP")
		}
		v.Str("startingPosition.sequenceNumber", sp.SequenceNumber, 0, 0, seqNumberRE, seqNumberPattern)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	streamName, ci, aerr := c.resolve(consumerRef{ConsumerARN: in.ConsumerARN})
	if aerr != nil {
		return nil, aerr
	}
	if ci.Status != stream.StatusActive {
		return nil, awsjson.NewError("ResourceInUseException", fmt.Sprintf("Consumer %s with creation timestamp %d under stream %s and account %s is not in ACTIVE status.",
			ci.Name, ci.Created.Unix(), streamName, awsjson.Account))
	}
	info, err := c.h.eng.Describe(streamName)
	if err != nil {
		return nil, c.engineError(streamName, err)
	}
	idx, ok := shardIndex(*in.ShardId)
	if !ok || idx >= len(info.Shards) {
		return nil, awsjson.NewError("ResourceNotFoundException", fmt.Sprintf("Shard %s in stream %s under account %s does not exist", *in.ShardId, streamName, awsjson.Account))
	}
	sp := in.StartingPosition
	typ := *sp.Type
	switch {
	case sp.SequenceNumber == nil && (typ == "AT_SEQUENCE_NUMBER" || typ == "AFTER_SEQUENCE_NUMBER"):
		return nil, awsjson.NewError("InvalidArgumentException", "StartingPosition.SequenceNumber is required for "+typ)
	case sp.SequenceNumber != nil && typ != "AT_SEQUENCE_NUMBER" && typ != "AFTER_SEQUENCE_NUMBER":
		return nil, awsjson.NewError("InvalidArgumentException", "StartingPosition.SequenceNumber may only be given with AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER")
	}
	sh := info.Shards[idx]
	pos, aerr := c.startPosition(streamName, sh, typ, sp.SequenceNumber, sp.Timestamp)
	if aerr != nil {
		return nil, aerr
	}
	key := c.consumerARN(streamName, ci) + " " + sh.ID
	end, ok := c.h.subs.add(key)
	if !ok {
		return nil, awsjson.NewError("ResourceInUseException", fmt.Sprintf("Another active subscription exists for this consumer: %s:%s:%s:%s",
			awsjson.Account, streamName, sh.ID, ci.Name))
	}
	return &subscription{key: key, stream: streamName, shard: sh, position: pos, end: end}, nil
}

// subscribeHTTP serves SubscribeToShard. Errors found before the stream starts are ordinary
// JSON 1.1 errors; errors after it are exception events, as AWS sends them.
func (h *Handler) subscribeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	// A CBOR subscriber (the Java SDK v2 and KCL 2.x by default) gets its errors and event
	// payloads in CBOR; the subscription itself runs on JSON like every other operation.
	payloadType, encode := "application/json", func(_ string, p []byte) []byte { return p }
	writeError := func(e *awsjson.Error) { awsjson.WriteError(w, r, e.Status, e.Type, e.Message) }
	if isCBOR(r) {
		payloadType = awsjson.CBORContentType
		writeError = func(e *awsjson.Error) { kinesisCBOR.WriteError(w, "SubscribeToShard", e) }
		encode = func(event string, p []byte) []byte {
			if b, err := kinesisCBOR.EventCBOR("SubscribeToShard", "EventStream", event, p); err == nil {
				return b
			}
			// Every payload is JSON this file wrote; one that does not transcode is a bug,
			// which the client sees as an unreadable event rather than a silent gap.
			h.logger.Error("kinesis: SubscribeToShard event does not transcode to CBOR", "event", event)
			return p
		}
		j, err := kinesisCBOR.RequestJSON("SubscribeToShard", body)
		if err != nil {
			writeError(awsjson.NewError("SerializationException", ""))
			return
		}
		body = j
	}
	if aerr := h.limits.control(r.Context(), "SubscribeToShard", body); aerr != nil {
		writeError(aerr)
		return
	}
	c := &call{h: h, ctx: r.Context(), region: awsjson.Region(r), now: h.now()}
	sub, aerr := c.prepareSubscribe(body)
	if aerr != nil {
		writeError(aerr)
		return
	}
	defer h.subs.remove(sub.key)
	w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
	w.Header().Set("X-Amzn-Requestid", awsjson.NewRequestID())
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	enc := eventstream.NewEncoder()
	send := func(headers eventstream.Headers, payload []byte) bool {
		if err := enc.Encode(w, eventstream.Message{Headers: headers, Payload: payload}); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	event := func(typ string, payload []byte) bool {
		var hs eventstream.Headers
		hs.Set(":message-type", eventstream.StringValue("event"))
		hs.Set(":event-type", eventstream.StringValue(typ))
		hs.Set(":content-type", eventstream.StringValue(payloadType))
		return send(hs, encode(typ, payload))
	}
	exception := func(e *awsjson.Error) {
		var hs eventstream.Headers
		hs.Set(":message-type", eventstream.StringValue("exception"))
		hs.Set(":exception-type", eventstream.StringValue(e.Type))
		hs.Set(":content-type", eventstream.StringValue(payloadType))
		send(hs, encode(e.Type, awsjson.ErrorBody(e.Type, e.Message)))
	}
	if !event("initial-response", []byte("{}")) {
		return
	}
	h.metrics.stream(sub.stream).subscribeSuccess.Inc()
	c.stream(r.Context(), sub, event, exception)
}

// isCBOR reports whether a request is application/x-amz-cbor-1.1.
func isCBOR(r *http.Request) bool {
	ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	return strings.TrimSpace(ct) == awsjson.CBORContentType
}

// stream sends the shard's records from the subscription's position until it ends.
func (c *call) stream(ctx context.Context, sub *subscription, event func(string, []byte) bool, exception func(*awsjson.Error)) {
	eng := c.h.eng
	lifetime := time.NewTimer(c.h.subLifetime)
	defer lifetime.Stop()
	heartbeat := time.NewTicker(c.h.subHeartbeat)
	defer heartbeat.Stop()
	pos := sub.position
	continuation := c.continuation(sub, pos)
	first := true
	for {
		res, err := eng.Read(sub.stream, sub.shard.Index, pos, 10000, subscribeMaxBytes)
		if err != nil {
			exception(c.engineError(sub.stream, err))
			return
		}
		var children []childShardOut
		if res.Next >= res.Tip {
			if closed, _, _ := eng.ShardEnd(sub.stream, sub.shard.Index); closed {
				// The shard's last event names its children, and ends the subscription.
				info, err := eng.Describe(sub.stream)
				if err != nil {
					exception(c.engineError(sub.stream, err))
					return
				}
				children = childShards(info, info.Shards[sub.shard.Index])
			}
		}
		if len(res.Records) > 0 || first || children != nil {
			first = false
			behind := int64(0)
			if n := len(res.Records); n > 0 {
				last := res.Records[n-1]
				continuation = seqFor(sub.shard.Created, sub.shard.Index, last.Position, last.Arrival)
				if res.Next < res.Tip {
					behind = max(0, time.Now().UnixMilli()-last.Arrival.UnixMilli())
				}
			}
			out := make([]byte, 0, recordsSize(res.Records))
			out = append(out, '{')
			if children != nil {
				ch, aerr := awsjson.Marshal(children)
				if aerr != nil {
					exception(aerr)
					return
				}
				out = append(out, `"ChildShards":`...)
				out = append(out, ch...)
				out = append(out, ',')
			}
			out = append(out, `"ContinuationSequenceNumber":"`...)
			out = append(out, continuation...)
			out = append(out, `","MillisBehindLatest":`...)
			out = fmt.Appendf(out, "%d", behind)
			out = append(out, `,"Records":[`...)
			var n int
			out, n = appendRecords(out, sub.shard, res.Records)
			out = append(out, "]}"...)
			if !event("SubscribeToShardEvent", out) {
				return
			}
			m := c.h.metrics.stream(sub.stream)
			m.subscribeRecords.Add(float64(len(res.Records)))
			m.subscribeBytes.Add(float64(n))
			m.outgoingRecords.Add(float64(len(res.Records)))
			m.outgoingBytes.Add(float64(n))
			heartbeat.Reset(c.h.subHeartbeat)
		}
		if children != nil {
			return
		}
		pos = res.Next
		if res.Next < res.Tip {
			continue // more is there already
		}
		tip, appended, err := eng.Watch(sub.stream, sub.shard.Index)
		if err != nil {
			exception(c.engineError(sub.stream, err))
			return
		}
		if tip > pos {
			continue
		}
		select {
		case <-appended:
		case <-heartbeat.C:
			first = true // an empty event says the subscription is alive
		case <-lifetime.C:
			return
		case <-sub.end:
			exception(awsjson.NewError("ResourceNotFoundException", "The consumer was deregistered."))
			return
		case <-ctx.Done():
			return
		}
	}
}

// continuation is the sequence number a client resumes after (AFTER_SEQUENCE_NUMBER) to read
// from pos on: the number of the record before pos, or, when there is none to name, the
// shard's starting sequence number, which startPosition reads from the shard's start.
func (c *call) continuation(sub *subscription, pos uint64) string {
	if pos > 0 {
		res, err := c.h.eng.Read(sub.stream, sub.shard.Index, pos-1, 1, 0)
		if err == nil && len(res.Records) == 1 && res.Records[0].Position == pos-1 {
			r := res.Records[0]
			return seqFor(sub.shard.Created, sub.shard.Index, r.Position, r.Arrival)
		}
	}
	return seqFor(sub.shard.Created, sub.shard.Index, 0, sub.shard.Created)
}
