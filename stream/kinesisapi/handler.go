// Package kinesisapi serves Kinesis Data Streams' JSON 1.1 API over the stream engine: it
// decodes and validates requests as AWS does, encodes sequence numbers and shard iterators,
// maps engine errors to AWS's error types and messages, and keeps CloudWatch-named metrics.
package kinesisapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/localpipe/localpipe/internal/awsjson"
	"github.com/localpipe/localpipe/stream"
)

// TargetPrefix is the X-Amz-Target prefix of Kinesis requests.
const TargetPrefix = "Kinesis_20131202."

// Options configure New. Nil and zero values mean defaults.
type Options struct {
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	Now        func() time.Time
}

// Handler is the Kinesis JSON 1.1 endpoint.
type Handler struct {
	eng     *stream.Engine
	logger  *slog.Logger
	now     func() time.Time
	metrics *metrics
}

// New returns a handler serving eng.
func New(eng *stream.Engine, opts Options) *Handler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Handler{eng: eng, logger: opts.Logger, now: opts.Now, metrics: newMetrics(opts.Registerer)}
}

// maxBody bounds what is read of a request: 500 records of 10 MiB in base64 fit under it.
const maxBody = 80 << 20

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := awsjson.NewRequestID()
	respond := func(status int, body []byte) {
		awsjson.SetHeaders(w.Header(), reqID)
		w.WriteHeader(status)
		w.Write(body)
	}
	if r.Method != http.MethodPost {
		respond(400, awsjson.ErrorBody("AccessDeniedException", "Unable to determine service/operation name to be authorized"))
		return
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-amz-cbor") {
		// The Java SDKs default to CBOR for Kinesis; localpipe speaks JSON only.
		respond(400, awsjson.ErrorBody("SerializationException",
			"localpipe speaks JSON 1.1 only: disable CBOR in the Java SDK (AWS_CBOR_DISABLE=true for SDK v1, -Daws.cborEnabled=false or AWS_CBOR_ENABLED=false for SDK v2)"))
		return
	}
	action := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), TargetPrefix)
	if r.Header.Get("Authorization") == "" && r.URL.Query().Get("X-Amz-Algorithm") == "" {
		respond(400, awsjson.ErrorBody("MissingAuthenticationTokenException", "Missing Authentication Token"))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		respond(400, awsjson.ErrorBody("SerializationException", "could not read the request body"))
		return
	}
	if len(body) > maxBody {
		respond(413, awsjson.ErrorBody("SerializationException", "request body too large"))
		return
	}
	status, _, out := h.invoke(r.Context(), action, body, awsjson.Region(r))
	respond(status, out)
}

// Invoke runs one action in-process with the same decoding and validation as an HTTP
// request; API Gateway's AWS integrations call it. An empty region means the default.
func (h *Handler) Invoke(ctx context.Context, action string, body []byte, region string) (status int, contentType string, resp []byte) {
	if region == "" {
		region = awsjson.DefaultRegion
	}
	status, _, resp = h.invoke(ctx, action, body, region)
	return status, awsjson.ContentType, resp
}

func (h *Handler) invoke(ctx context.Context, action string, body []byte, region string) (status int, contentType string, resp []byte) {
	defer func() {
		if p := recover(); p != nil {
			h.logger.Error("kinesis: panic serving request", "action", action, "panic", p, "stack", string(debug.Stack()))
			status, resp = 500, awsjson.ErrorBody("InternalFailure", "internal error")
		}
	}()
	fn, ok := actions[action]
	if !ok {
		return 400, awsjson.ContentType, awsjson.ErrorBody("UnknownOperationException", "")
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return 400, awsjson.ContentType, awsjson.ErrorBody("SerializationException", "")
	}
	c := &call{h: h, ctx: ctx, region: region, now: h.now()}
	out, aerr := fn(c, body)
	if aerr != nil {
		return aerr.Status, awsjson.ContentType, awsjson.ErrorBody(aerr.Type, aerr.Message)
	}
	return 200, awsjson.ContentType, out
}

// call is the state of one request.
type call struct {
	h      *Handler
	ctx    context.Context
	region string
	now    time.Time
}

type actionFunc func(c *call, body []byte) ([]byte, *awsjson.Error)

var actions map[string]actionFunc

func init() {
	actions = map[string]actionFunc{
		"CreateStream":                  (*call).createStream,
		"DeleteStream":                  (*call).deleteStream,
		"DescribeStream":                (*call).describeStream,
		"DescribeStreamSummary":         (*call).describeStreamSummary,
		"ListStreams":                   (*call).listStreams,
		"ListShards":                    (*call).listShards,
		"PutRecord":                     (*call).putRecord,
		"PutRecords":                    (*call).putRecords,
		"GetShardIterator":              (*call).getShardIterator,
		"GetRecords":                    (*call).getRecords,
		"IncreaseStreamRetentionPeriod": (*call).increaseRetention,
		"DecreaseStreamRetentionPeriod": (*call).decreaseRetention,
		"AddTagsToStream":               (*call).addTags,
		"RemoveTagsFromStream":          (*call).removeTags,
		"ListTagsForStream":             (*call).listTags,
		"UpdateMaxRecordSize":           (*call).updateMaxRecordSize,
		"DescribeLimits":                (*call).describeLimits,
		"EnableEnhancedMonitoring":      (*call).enhancedMonitoring,
		"DisableEnhancedMonitoring":     (*call).enhancedMonitoring,
	}
	// Actions in the model that localpipe does not emulate get an answer that says so,
	// rather than UnknownOperationException, which would suggest a client bug.
	for _, a := range []string{"SplitShard", "MergeShards", "UpdateShardCount", "UpdateStreamMode",
		"RegisterStreamConsumer", "DeregisterStreamConsumer", "DescribeStreamConsumer", "ListStreamConsumers",
		"SubscribeToShard", "StartStreamEncryption", "StopStreamEncryption", "PutResourcePolicy",
		"GetResourcePolicy", "DeleteResourcePolicy", "TagResource", "UntagResource", "ListTagsForResource",
		"DescribeAccountSettings", "UpdateAccountSettings", "UpdateStreamWarmThroughput"} {
		name := a
		actions[name] = func(*call, []byte) ([]byte, *awsjson.Error) {
			return nil, awsjson.NewError("InvalidArgumentException", name+" is not supported by localpipe")
		}
	}
}

func (c *call) arn(name string) string {
	return fmt.Sprintf("arn:aws:kinesis:%s:%s:stream/%s", c.region, awsjson.Account, name)
}

func notFound(name string) *awsjson.Error {
	return awsjson.NewError("ResourceNotFoundException", fmt.Sprintf("Stream %s under account %s not found.", name, awsjson.Account))
}

// engineError maps the engine's errors to AWS's; anything unexpected is InternalFailure and
// a log line.
func (c *call) engineError(name string, err error) *awsjson.Error {
	var na *stream.NotActiveError
	switch {
	case errors.Is(err, stream.ErrStreamNotFound):
		return notFound(name)
	case errors.As(err, &na):
		return awsjson.NewError("ResourceInUseException", fmt.Sprintf("Stream %s under account %s not ACTIVE, instead in state %s", name, awsjson.Account, na.Status))
	case errors.Is(err, stream.ErrStreamExists):
		return awsjson.NewError("ResourceInUseException", fmt.Sprintf("Stream %s under account %s already exists.", name, awsjson.Account))
	}
	var ae *awsjson.Error
	if errors.As(err, &ae) {
		return ae
	}
	c.h.logger.Error("kinesis: internal error", "stream", name, "err", err)
	return &awsjson.Error{Status: 500, Type: "InternalFailure", Message: "internal error"}
}

// target resolves StreamName or StreamARN (both accepted since 2023) to a stream name.
func (c *call) target(name, arn *string) (string, *awsjson.Error) {
	switch {
	case arn != nil:
		i := strings.Index(*arn, ":stream/")
		n := (*arn)[i+len(":stream/"):]
		parts := strings.Split(*arn, ":")
		if len(parts) < 6 || !streamNameRE.MatchString(n) {
			return "", awsjson.NewError("InvalidArgumentException", "Invalid StreamARN "+*arn)
		}
		if parts[4] != awsjson.Account {
			return "", awsjson.NewError("ResourceNotFoundException", fmt.Sprintf("Stream %s under account %s not found.", n, parts[4]))
		}
		if name != nil && *name != n {
			return "", awsjson.NewError("InvalidArgumentException", "StreamName and StreamARN refer to different streams")
		}
		return n, nil
	case name != nil:
		return *name, nil
	}
	// Both members are optional in the model, so this is not a ValidationException.
	return "", awsjson.NewError("InvalidArgumentException", "Either StreamName or StreamARN must be provided")
}

func epochSeconds(t time.Time) jsonNumber {
	return jsonNumber(fmt.Sprintf("%.3f", float64(t.UnixMilli())/1000))
}

// jsonNumber is emitted verbatim: AWS writes timestamps as epoch seconds with a fraction.
type jsonNumber string

func (n jsonNumber) MarshalJSON() ([]byte, error) { return []byte(n), nil }
