package app

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/localpipe/localpipe/firehose"
	"github.com/localpipe/localpipe/gateway/gatewayapi"
	"github.com/localpipe/localpipe/internal/awsjson"
	"github.com/localpipe/localpipe/internal/trace"
	"github.com/localpipe/localpipe/stream/kinesisapi"
)

// traceKey carries a request's *trace.Request in its context, from the edge to the services'
// callbacks: an API Gateway request's integration runs in-process with the same context, so
// the records it writes land in the gateway request's trace.
type traceKey struct{}

func traceFrom(ctx context.Context) *trace.Request {
	tr, _ := ctx.Value(traceKey{}).(*trace.Request)
	return tr
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
	ctx := context.WithValue(r.Context(), traceKey{}, tr)
	if svc != svcGatewayInvoke {
		serve(w, r.WithContext(ctx))
		if tr.Empty() {
			tr.Discard()
			return
		}
		tr.Publish(header(w.Header(), "X-Amzn-Requestid"), nil)
		return
	}
	// The gateway names the resource it matched in the request log's note.
	note := awsjson.NoteFrom(ctx)
	if note == nil {
		note = &awsjson.Note{}
		ctx = awsjson.WithNote(ctx, note)
	}
	sw := &statusWriter{ResponseWriter: w}
	serve(sw, r.WithContext(ctx))
	apiID, stage, _, _ := gatewayapi.InvokeTarget(r)
	tr.Publish(header(w.Header(), "X-Amzn-Requestid"), &trace.Hop{Service: "apigateway",
		APIID: truncate(apiID, 100), Stage: truncate(stage, 100), ResourcePath: note.Resource, Status: sw.code()})
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

// traceKinesisPut is Kinesis's OnPut: one hop per record written.
func traceKinesisPut(ctx context.Context, stream string, puts []kinesisapi.Put) {
	tr := traceFrom(ctx)
	if tr == nil {
		return
	}
	hops := make([]trace.Hop, len(puts))
	recs := make([]trace.Record, len(puts))
	for i, p := range puts {
		hops[i] = trace.Hop{Service: "kinesis", StreamName: stream, ShardID: p.ShardID, SequenceNumber: p.SequenceNumber}
		recs[i] = trace.Record{Stream: stream, Shard: p.Shard, Position: p.Position}
	}
	tr.Put(hops, recs)
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
				hops[i] = trace.Hop{Service: "firehose", DeliveryStreamName: deliveryStream, RecordID: id}
			}
			for i, p := range positions {
				recs[i] = trace.Record{Stream: log, Position: p}
			}
			tr.Put(hops, recs)
		},
		Delivered: func(d firehose.Delivery) {
			hops := make([]trace.Hop, len(d.Keys))
			for i, k := range d.Keys {
				hops[i] = trace.Hop{Service: "firehose", DeliveryStreamName: d.DeliveryStream, Bucket: d.Bucket, Key: k}
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
