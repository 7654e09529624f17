// Package firehoseapi serves Kinesis Data Firehose's JSON 1.1 API over the firehose engine: it
// decodes and validates requests as AWS does, maps the S3 destination and processor settings
// onto the engine's Config, answers DescribeDeliveryStream in AWS's full shape, and maps
// engine errors to AWS's error types and messages.
package firehoseapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/localpipe/localpipe/firehose"
	"github.com/localpipe/localpipe/internal/awsjson"
)

// TargetPrefix is the X-Amz-Target prefix of Firehose requests.
const TargetPrefix = "Firehose_20150804."

// Options configure New. Nil and zero values mean defaults.
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time
	// StreamExists says whether a Kinesis stream a KinesisStreamAsSource delivery stream names
	// exists (AWS checks at creation). Nil means every stream exists.
	StreamExists func(name string) bool
	// BucketExists says whether a destination bucket exists. Nil means every bucket exists.
	BucketExists func(ctx context.Context, bucket string) bool
	// CreateDelay keeps a new delivery stream CREATING this long, as AWS does for tens of
	// seconds; zero (the default) makes it ACTIVE at once.
	CreateDelay time.Duration
	// Space guards the data dir's disk: record writes are refused while it is known to be
	// full, a full disk is answered with a retryable 503, and a delete that finds it full
	// is retried once the reserve is freed. Nil means unguarded.
	Space awsjson.Space
	// Intercept wraps every operation, over HTTP and in-process (fault injection); nil means
	// none.
	Intercept awsjson.Interceptor
}

// Handler is the Firehose JSON 1.1 endpoint.
type Handler struct {
	eng  *firehose.Engine
	opts Options
	svc  *awsjson.Service
}

// New returns a handler serving eng.
func New(eng *firehose.Engine, opts Options) *Handler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.StreamExists == nil {
		opts.StreamExists = func(string) bool { return true }
	}
	if opts.BucketExists == nil {
		opts.BucketExists = func(context.Context, string) bool { return true }
	}
	if opts.Space == nil {
		opts.Space = awsjson.Unguarded
	}
	h := &Handler{eng: eng, opts: opts}
	h.svc = &awsjson.Service{
		TargetPrefix: TargetPrefix,
		Known:        func(a string) bool { _, ok := actions[a]; return ok },
		Invoke:       h.invoke,
		MaxBody:      maxBody,
		Intercept:    opts.Intercept,
	}
	return h
}

// maxBody bounds what is read of a request: a 4 MiB PutRecordBatch in base64 with its JSON
// framing fits with room to spare, so an over-limit batch gets AWS's message, not a 413.
const maxBody = 16 << 20

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if awsjson.CORS(w, r) {
		return
	}
	h.svc.ServeHTTP(w, r)
}

// Invoke runs one action in-process with the same decoding and validation as an HTTP
// request; API Gateway's AWS integrations and the --config bootstrap call it. An empty
// region means the default.
func (h *Handler) Invoke(ctx context.Context, action string, body []byte, region string) (status int, contentType string, resp []byte) {
	return h.svc.Call(ctx, action, body, region)
}

func (h *Handler) invoke(ctx context.Context, action string, body []byte, region string) (status int, resp []byte) {
	return awsjson.Run(actions, action, body, h.opts.Logger, "firehose", func() *call {
		return &call{h: h, ctx: ctx, region: region, now: h.opts.Now()}
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
		"CreateDeliveryStream":          op((*createIn).check, (*call).createDeliveryStream),
		"DeleteDeliveryStream":          op((*deleteIn).check, (*call).deleteDeliveryStream),
		"DescribeDeliveryStream":        onDelivery((*describeDeliveryStreamIn).check, (*call).describeDeliveryStream),
		"ListDeliveryStreams":           op((*listDeliveryStreamsIn).check, (*call).listDeliveryStreams),
		"PutRecord":                     op((*putRecordIn).check, (*call).putRecord),
		"PutRecordBatch":                op((*putRecordBatchIn).check, (*call).putRecordBatch),
		"UpdateDestination":             op((*updateDestinationIn).check, (*call).updateDestination),
		"TagDeliveryStream":             op((*tagIn).check, (*call).tagDeliveryStream),
		"UntagDeliveryStream":           op((*untagIn).check, (*call).untagDeliveryStream),
		"ListTagsForDeliveryStream":     onDelivery((*listTagsIn).check, (*call).listTags),
		"StartDeliveryStreamEncryption": op((*startEncryptionIn).check, (*call).startEncryption),
		"StopDeliveryStreamEncryption":  op((*nameIn).check, (*call).stopEncryption),
	}
}

func (c *call) arn(name string) string {
	return fmt.Sprintf("arn:aws:firehose:%s:%s:deliverystream/%s", c.region, awsjson.Account, name)
}

// The texts of these two follow what AWS is reported to answer (aws-semantics.md C.4); AWS
// documents neither.
func notFound(name string) *awsjson.Error {
	return awsjson.NewError("ResourceNotFoundException", fmt.Sprintf("Firehose %s under account %s not found.", name, awsjson.Account))
}

func inUse(name string) *awsjson.Error {
	return awsjson.NewError("ResourceInUseException", fmt.Sprintf("Firehose %s under accountId %s already exists", name, awsjson.Account))
}

func invalidArg(format string, args ...any) *awsjson.Error {
	return awsjson.NewError("InvalidArgumentException", fmt.Sprintf(format, args...))
}

// notPermitted is AWS's verified answer to PutRecord[Batch] on a Kinesis-sourced stream.
var notPermitted = "This operation is not permitted on KinesisStreamAsSource delivery stream type."

// noSpace answers a write the data dir's disk has no room for, with the error the model
// gives PutRecord and PutRecordBatch for "back off and retry".
func noSpace() *awsjson.Error { return awsjson.NoSpaceError("ServiceUnavailableException") }

// engineError maps the engine's errors to AWS's; anything unexpected is InternalFailure and a
// log line.
func (c *call) engineError(name string, err error) *awsjson.Error {
	switch {
	case awsjson.IsNoSpace(err):
		return noSpace()
	case errors.Is(err, firehose.ErrNotFound):
		return notFound(name)
	case errors.Is(err, firehose.ErrExists):
		return inUse(name)
	case errors.Is(err, firehose.ErrNotPut):
		return invalidArg("%s", notPermitted)
	case errors.Is(err, firehose.ErrClosed):
		return awsjson.NewError("ServiceUnavailableException", "localpipe is shutting down")
	}
	return awsjson.ErrorOrInternal(err, c.h.opts.Logger, "firehose: internal error", "deliveryStream", name)
}

// describe loads a delivery stream, reporting it as AWS would while it is still CREATING.
func (c *call) describe(name string) (firehose.Info, *awsjson.Error) {
	in, err := c.h.eng.Describe(name)
	if err != nil {
		return in, c.engineError(name, err)
	}
	if c.creating(in) {
		in.Status = "CREATING"
	}
	return in, nil
}

func (c *call) creating(in firehose.Info) bool {
	return c.h.opts.CreateDelay > 0 && c.now.Before(in.Created.Add(c.h.opts.CreateDelay))
}

// Operations lists the operations the handler serves, sorted.
func Operations() []string { return awsjson.OperationNames(actions) }

// RequestShape returns a new zero value of the type action's request body decodes into, or
// nil. The wire ignores members it does not know, as AWS does; the --config file must not,
// so it checks its entries against these types.
func RequestShape(action string) any {
	switch action {
	case "CreateDeliveryStream":
		return &createIn{}
	}
	return nil
}
