// Package kinesisapi serves Kinesis Data Streams' JSON 1.1 API over the stream engine: it
// decodes and validates requests as AWS does, encodes sequence numbers and shard iterators,
// maps engine errors to AWS's error types and messages, and keeps CloudWatch-named metrics.
package kinesisapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
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
	// Space guards the data dir's disk: record writes are refused while it is known to be
	// full, a full disk is answered with a retryable 503, and a delete that finds it full
	// is retried once the reserve is freed. Nil means unguarded.
	Space awsjson.Space
	// Intercept wraps every operation, over HTTP and in-process (fault injection); nil means
	// none.
	Intercept awsjson.Interceptor
	// OnPut learns each record a PutRecord or PutRecords wrote, with the request's context
	// (the cross-hop trace); nil means nobody asks. One call per record keeps a put free of
	// allocations for it, and stream is the engine's string for the name, which lives
	// anyway, so a trace that keeps it keeps no copy per request.
	OnPut func(ctx context.Context, stream string, record Put)
	// Throttle applies AWS's per-shard and control-plane rate limits (--throttle); nil
	// means none, as by default.
	Throttle *Throttle
}

// Put is a record PutRecord or PutRecords wrote: its place in the engine's shard, from
// which the methods give the shard and sequence number the answer gives for it. They are
// methods so that a hook that does not need them (the trace hook on an untraced request)
// costs no formatting per record.
type Put struct {
	Shard    int
	Position uint64
	seq      seqParts
}

// ShardID is the record's shard as the API names it.
func (p Put) ShardID() string { return shardName(p.Shard) }

// SequenceNumber is the record's sequence number as the answer gave it.
func (p Put) SequenceNumber() string { return encodeSeq(p.seq) }

// Handler is the Kinesis JSON 1.1 endpoint.
type Handler struct {
	eng     *stream.Engine
	logger  *slog.Logger
	now     func() time.Time
	metrics *metrics
	svc     *awsjson.Service
	space   awsjson.Space
	subs    subscriptions
	// subLifetime and subHeartbeat are the package's values when the handler was made: a
	// test that lowers them restores them while its subscriptions may still be ending.
	subLifetime, subHeartbeat time.Duration
	account                   accountSettings
	onPut                     func(ctx context.Context, stream string, record Put)
	limits                    *Throttle
}

// New returns a handler serving eng.
func New(eng *stream.Engine, opts Options) *Handler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Space == nil {
		opts.Space = awsjson.Unguarded
	}
	h := &Handler{eng: eng, logger: opts.Logger, now: opts.Now, metrics: newMetrics(opts.Registerer), space: opts.Space, onPut: opts.OnPut, limits: opts.Throttle,
		subLifetime: subscriptionLifetime, subHeartbeat: subscriptionHeartbeat}
	if opts.Registerer != nil {
		opts.Registerer.MustRegister(newDamageCollector(eng))
	}
	h.svc = &awsjson.Service{
		TargetPrefix: TargetPrefix,
		Known:        func(a string) bool { _, ok := actions[a]; return ok },
		Invoke:       h.invoke,
		MaxBody:      maxBody,
		Intercept:    opts.Intercept,
		CBOR:         kinesisCBOR,
	}
	return h
}

// kinesisCBOR answers the Java SDKs, the KCL and the KPL, which speak CBOR to Kinesis by
// default.
var kinesisCBOR = awsjson.NewCBOR(cborShapes)

// maxBody bounds what is read of a request: a 10 MiB record in base64 with its key fits.
const maxBody = 16 << 20

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if awsjson.CORS(w, r) {
		return
	}
	// SubscribeToShard answers with an event stream, not one JSON document.
	if a, ok := awsjson.Target(r.Header, TargetPrefix); ok && a == "SubscribeToShard" && r.Method == http.MethodPost &&
		(strings.HasPrefix(r.Header.Get("Content-Type"), awsjson.ContentType) || isCBOR(r)) {
		h.subscribeHTTP(w, r)
		return
	} else if ok && a == "GetRecords" {
		h.serveLending(w, r)
		return
	}
	h.svc.ServeHTTP(w, r)
}

// Invoke runs one action in-process with the same decoding and validation as an HTTP
// request; API Gateway's AWS integrations call it. An empty region means the default.
func (h *Handler) Invoke(ctx context.Context, action string, body []byte, region string) (status int, contentType string, resp []byte) {
	return h.svc.Call(ctx, action, body, region)
}

func (h *Handler) invoke(ctx context.Context, action string, body []byte, region string) (status int, resp []byte) {
	if aerr := h.limits.control(ctx, action, body); aerr != nil {
		return aerr.Status, aerr.Body()
	}
	return awsjson.Run(actions, action, body, h.logger, "kinesis", func() *call {
		return &call{h: h, ctx: ctx, region: region, now: h.now()}
	})
}

// call is the state of one request.
type call struct {
	h      *Handler
	ctx    context.Context
	region string
	now    time.Time
}

type actionFunc = awsjson.Operation[*call]

var actions map[string]actionFunc

func init() {
	actions = map[string]actionFunc{
		"CreateStream":                           op((*createStreamIn).check, (*call).createStream),
		"DeleteStream":                           onStream((*deleteStreamIn).check, (*call).deleteStream),
		"DescribeStream":                         onStream((*describeStreamIn).check, (*call).describeStream),
		"DescribeStreamSummary":                  onStream((*streamRef).validate, (*call).describeStreamSummary),
		"ListStreams":                            op((*listStreamsIn).check, (*call).listStreams),
		"ListShards":                             op((*listShardsIn).check, (*call).listShards),
		"PutRecord":                              (*call).putRecord,
		"PutRecords":                             (*call).putRecords,
		"GetShardIterator":                       op((*getShardIteratorIn).check, (*call).getShardIterator),
		"GetRecords":                             (*call).getRecords,
		"IncreaseStreamRetentionPeriod":          onActive((*retentionIn).check, (*call).increaseRetention),
		"DecreaseStreamRetentionPeriod":          onActive((*retentionIn).check, (*call).decreaseRetention),
		"AddTagsToStream":                        onActive((*addTagsIn).check, (*call).addTags),
		"RemoveTagsFromStream":                   onActive((*removeTagsIn).check, (*call).removeTags),
		"ListTagsForStream":                      onStream((*listTagsIn).check, (*call).listTags),
		"UpdateMaxRecordSize":                    onActive((*maxRecordSizeIn).check, (*call).updateMaxRecordSize),
		"DescribeLimits":                         (*call).describeLimits,
		"EnableEnhancedMonitoring":               onStream((*monitoringIn).check, (*call).enableMonitoring),
		"DisableEnhancedMonitoring":              onStream((*monitoringIn).check, (*call).disableMonitoring),
		"RegisterStreamConsumer":                 op((*registerConsumerIn).check, (*call).registerConsumer),
		"DescribeStreamConsumer":                 (*call).describeConsumer,
		"DeregisterStreamConsumer":               (*call).deregisterConsumer,
		"ListStreamConsumers":                    op((*listConsumersIn).check, (*call).listConsumers),
		"TagResource":                            onResource((*tagResourceIn).check, (*call).tagResource),
		"UntagResource":                          onResource((*untagResourceIn).check, (*call).untagResource),
		"ListTagsForResource":                    onResource(nil, (*call).listTagsForResource),
		"PutResourcePolicy":                      onResource((*putPolicyIn).check, (*call).putResourcePolicy),
		"GetResourcePolicy":                      onResource(nil, (*call).getResourcePolicy),
		"DeleteResourcePolicy":                   onResource(nil, (*call).deleteResourcePolicy),
		"StartStreamEncryption":                  op((*encryptionIn).check, func(c *call, in *encryptionIn) ([]byte, *awsjson.Error) { return c.encryption(in, true) }),
		"StopStreamEncryption":                   op((*encryptionIn).check, func(c *call, in *encryptionIn) ([]byte, *awsjson.Error) { return c.encryption(in, false) }),
		"DescribeAccountSettings":                (*call).describeAccountSettings,
		"UpdateAccountSettings":                  op((*updateAccountSettingsIn).check, (*call).updateAccountSettings),
		"SplitShard":                             op((*splitShardIn).check, (*call).splitShard),
		"MergeShards":                            op((*mergeShardsIn).check, (*call).mergeShards),
		"UpdateShardCount":                       op((*updateShardCountIn).check, (*call).updateShardCount),
		"UpdateStreamMode":                       op((*updateStreamModeIn).check, (*call).updateStreamMode),
		"UpdateStreamWarmThroughput":             onActive((*warmThroughputIn).check, (*call).updateWarmThroughput),
		"UpdateStreamRecordDistributionStrategy": onActive((*distributionIn).check, (*call).updateDistribution),
		// Over HTTP, ServeHTTP streams it; an in-process call has no stream to answer on.
		"SubscribeToShard": func(*call, []byte) ([]byte, *awsjson.Error) {
			return nil, awsjson.NewError("InvalidArgumentException", "SubscribeToShard answers with an event stream; call it over HTTP")
		},
	}
	// Actions in the model that localpipe does not emulate get an answer that says so,
	// rather than UnknownOperationException, which would suggest a client bug. The type is
	// InvalidArgumentException because these operations model it, so the SDKs surface it as a
	// typed, non-retried 400 carrying the message.
	for _, a := range []string{"CreateChannel", "DescribeChannel", "ListChannels", "UpdateChannel", "DeleteChannel"} {
		name := a
		actions[name] = func(*call, []byte) ([]byte, *awsjson.Error) {
			return nil, awsjson.NewError("InvalidArgumentException", name+" is not supported by localpipe: it has no channels")
		}
	}
}

func (c *call) arn(name string) string {
	return fmt.Sprintf("arn:aws:kinesis:%s:%s:stream/%s", c.region, awsjson.Account, name)
}

func notFound(name string) *awsjson.Error {
	return awsjson.NewError("ResourceNotFoundException", fmt.Sprintf("Stream %s under account %s not found.", name, awsjson.Account))
}

// noSpace answers a write the data dir's disk has no room for.
func noSpace() *awsjson.Error { return awsjson.NoSpaceError("ServiceUnavailable") }

// engineError maps the engine's errors to AWS's; anything unexpected is InternalFailure and
// a log line.
func (c *call) engineError(name string, err error) *awsjson.Error {
	var na *stream.NotActiveError
	switch {
	case awsjson.IsNoSpace(err):
		return noSpace()
	case errors.Is(err, stream.ErrStreamNotFound):
		return notFound(name)
	case errors.As(err, &na):
		return awsjson.NewError("ResourceInUseException", fmt.Sprintf("Stream %s under account %s not ACTIVE, instead in state %s", name, awsjson.Account, na.Status))
	case errors.Is(err, stream.ErrStreamExists):
		return awsjson.NewError("ResourceInUseException", fmt.Sprintf("Stream %s under account %s already exists.", name, awsjson.Account))
	}
	return awsjson.ErrorOrInternal(err, c.h.logger, "kinesis: internal error", "stream", name)
}

// streamARNParts splits a stream ARN that passed the model's pattern.
var streamARNParts = regexp.MustCompile(`^arn:aws[^:]*:kinesis:([^:]*):(\d{12}):stream/(.+)$`)

// target resolves StreamName or StreamARN (AWS accepts either, or both, since 2023) to a
// stream name. The ARN's region is not compared with the request's: localpipe holds one set
// of streams whatever region a client signs for. The texts of the errors below are guesses;
// AWS documents none of them.
func (c *call) target(name, arn *string) (string, *awsjson.Error) {
	switch {
	case arn != nil:
		m := streamARNParts.FindStringSubmatch(*arn)
		if m == nil || !streamNameRE.MatchString(m[3]) || len(m[3]) > 128 {
			return "", awsjson.NewError("InvalidArgumentException", "Invalid StreamARN "+*arn)
		}
		n := m[3]
		if m[2] != awsjson.Account {
			return "", awsjson.NewError("ResourceNotFoundException", fmt.Sprintf("Stream %s under account %s not found.", n, m[2]))
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

// Operations lists the operations the handler serves, sorted.
func Operations() []string { return awsjson.OperationNames(actions) }

// RequestShape returns a new zero value of the type action's request body decodes into, or
// nil. The wire ignores members it does not know, as AWS does; the --config file must not,
// so it checks its entries against these types.
func RequestShape(action string) any {
	switch action {
	case "CreateStream":
		return &createStreamIn{}
	}
	return nil
}

// Forget drops the metric series of a stream deleted other than through the API (by a
// reset), so a stream created again under its name counts from zero.
func (h *Handler) Forget(name string) { h.metrics.forget(name) }
