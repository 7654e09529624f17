package app

import (
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/localpipe/localpipe/firehose"
	"github.com/localpipe/localpipe/gateway/gatewayapi"
	"github.com/localpipe/localpipe/internal/awsjson"
	"github.com/localpipe/localpipe/internal/trace"
	"github.com/localpipe/localpipe/stream/kinesisapi"
)

// openTrace creates the trace index (unless --trace-size is 0) and returns the Kinesis
// handler's OnPut for it.
func (a *App) openTrace() func(context.Context, string, []kinesisapi.Put) {
	if a.cfg.TraceSize <= 0 {
		return nil
	}
	a.trace = trace.New(a.cfg.TraceSize)
	a.trace.KinesisNames = kinesisapi.PutNames
	a.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "localpipe_trace_requests",
		Help: "Requests the cross-hop trace index holds (at most --trace-size)."},
		func() float64 { return float64(a.trace.Len()) }))
	return traceKinesisPut
}

// traceFrom finds a request's trace in its context, in the note the edge keeps for it: an
// API Gateway request's integration runs in-process with the same context, so the records
// it writes land in the gateway request's trace.
func traceFrom(ctx context.Context) *trace.Request {
	if n := awsjson.NoteFrom(ctx); n != nil {
		tr, _ := n.Trace.(*trace.Request)
		return tr
	}
	return nil
}

// tracedS3 serves an S3 request, and indexes those that may change a bucket (every method
// but GET, HEAD and OPTIONS) under the x-amz-request-id they were answered with, as one hop:
// what S3 made of it. Reads are not indexed, so that a pipeline's many reads do not push
// the traces of its writes out of the ring.
func (a *App) tracedS3(w http.ResponseWriter, r *http.Request) {
	if a.trace == nil || r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions {
		a.s3.ServeHTTP(w, r)
		return
	}
	tr := a.trace.Begin()
	note := awsjson.NoteFrom(r.Context())
	if note == nil {
		note = &awsjson.Note{}
		r = r.WithContext(awsjson.WithNote(r.Context(), note))
	}
	sw := &statusWriter{ResponseWriter: w}
	a.s3.ServeHTTP(sw, r)
	bucket, key, _ := strings.Cut(note.Resource, "/")
	hop := trace.S3Hop(note.Operation, truncate(bucket, 100), truncate(key, 1024), sw.code())
	tr.Publish(header(w.Header(), "X-Amz-Request-Id"), &hop)
}

// traced serves a request that may write records (an API Gateway invoke, a Kinesis or
// Firehose call) with a trace in its context, and indexes the trace under the request id it
// was answered with. Kinesis and Firehose requests that wrote nothing are not indexed, so
// the reads and control calls that a pipeline makes many of do not push traces out of the
// ring.
func (a *App) traced(svc service, w http.ResponseWriter, r *http.Request, serve func(http.ResponseWriter, *http.Request)) {
	if a.trace == nil {
		serve(w, r)
		return
	}
	tr := a.trace.Begin()
	// The request log's note carries the trace when there is one, which saves a copy of the
	// request on every put.
	note := awsjson.NoteFrom(r.Context())
	if note == nil {
		note = &awsjson.Note{}
		r = r.WithContext(awsjson.WithNote(r.Context(), note))
	}
	note.Trace = tr
	if svc != svcGatewayInvoke {
		serve(w, r)
		if tr.Empty() {
			tr.Discard()
			return
		}
		tr.Publish(header(w.Header(), "X-Amzn-Requestid"), nil)
		return
	}
	sw := &statusWriter{ResponseWriter: w}
	serve(sw, r)
	apiID, stage, _, _ := gatewayapi.InvokeTarget(r)
	// The gateway names the resource it matched in the note.
	hop := trace.GatewayHop(truncate(apiID, 100), truncate(stage, 100), note.Resource, sw.code())
	tr.Publish(header(w.Header(), "X-Amzn-Requestid"), &hop)
}

// statusWriter notes the status an answer was sent with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// traceKinesisPut is Kinesis's OnPut: one hop per record written, which keeps the record's
// sequence number as a number; the trace endpoint names it.
func traceKinesisPut(ctx context.Context, stream string, puts []kinesisapi.Put) {
	tr := traceFrom(ctx)
	if tr == nil {
		return
	}
	if len(puts) == 1 { // PutRecord: nothing escapes, the index copies the one hop
		p := puts[0]
		hop := [1]trace.Hop{trace.KinesisNumberHop(stream, p.Number())}
		rec := [1]trace.Record{{Stream: stream, Shard: p.Shard, Position: p.Position}}
		tr.Put(hop[:], rec[:])
		return
	}
	hops := make([]trace.Hop, len(puts))
	for i, p := range puts {
		hops[i] = trace.KinesisNumberHop(stream, p.Number())
	}
	tr.PutMany(hops, recordsByShard(stream, puts))
}

// recordsByShard lists the records of puts a shard at a time, as the trace index adds them
// most cheaply, each shard's in the order given (which is their order in the shard): a
// counting sort, shard indexes being small numbers.
func recordsByShard(stream string, puts []kinesisapi.Put) []trace.Record {
	recs := make([]trace.Record, len(puts))
	top := 0
	for _, p := range puts {
		top = max(top, p.Shard)
	}
	if top >= 4096 {
		for i, p := range puts {
			recs[i] = trace.Record{Stream: stream, Shard: p.Shard, Position: p.Position}
		}
		slices.SortStableFunc(recs, func(a, b trace.Record) int { return cmp.Compare(a.Shard, b.Shard) })
		return recs
	}
	var small [65]int
	next := small[:]
	if top+2 > len(small) {
		next = make([]int, top+2)
	}
	next = next[:top+2]
	for _, p := range puts {
		next[p.Shard+1]++
	}
	for i := 1; i < len(next); i++ {
		next[i] += next[i-1]
	}
	// next[s] is now where shard s's records start.
	for _, p := range puts {
		recs[next[p.Shard]] = trace.Record{Stream: stream, Shard: p.Shard, Position: p.Position}
		next[p.Shard]++
	}
	return recs
}

// traceHooks are Firehose's hooks into the index x: a DirectPut record's hop, found again by
// its place in the delivery stream's log, and the objects a committed batch went to.
func traceHooks(x *trace.Index) firehose.Hooks {
	if x == nil {
		return firehose.Hooks{}
	}
	return firehose.Hooks{
		Put: func(ctx context.Context, deliveryStream, log string, positions []uint64, ids []string) {
			tr := traceFrom(ctx)
			if tr == nil {
				return
			}
			hops := make([]trace.Hop, len(ids))
			recs := make([]trace.Record, len(positions))
			for i, id := range ids {
				hops[i] = trace.FirehoseRecordHop(deliveryStream, id)
			}
			for i, p := range positions {
				recs[i] = trace.Record{Stream: log, Position: p}
			}
			tr.Put(hops, recs)
		},
		Delivered: func(d firehose.Delivery) {
			hops := make([]trace.Hop, len(d.Keys))
			for i, k := range d.Keys {
				hops[i] = trace.DeliveryHop(d.DeliveryStream, d.Bucket, k)
			}
			x.Delivered(d.Source, d.Shard, d.First, d.Last, hops)
		},
	}
}

// serveTrace answers GET /_localpipe/trace/{requestId} with the request's hops as JSON.
func (a *App) serveTrace(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	answer := func(status int, v any) {
		body, _ := json.Marshal(v)
		w.WriteHeader(status)
		w.Write(append(body, '\n'))
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET")
		answer(http.StatusMethodNotAllowed, map[string]string{"message": "use GET"})
		return
	}
	id := strings.TrimPrefix(r.URL.Path, "/_localpipe/trace/")
	if a.trace == nil {
		answer(http.StatusNotFound, map[string]string{"message": "tracing is off (--trace-size 0)"})
		return
	}
	hops, ok := a.trace.Get(id)
	if !ok {
		answer(http.StatusNotFound, map[string]string{"message": "no trace of request " + truncate(id, 100) +
			": localpipe did not answer a record put or an API Gateway invoke with that id, or the trace index has let it go " +
			"(it keeps the last " + strconv.Itoa(a.trace.Size()) + " traced requests, --trace-size)"})
		return
	}
	answer(http.StatusOK, struct {
		RequestID string      `json:"requestId"`
		Hops      []trace.Hop `json:"hops"`
	}{id, hops})
}
