package kinesisapi

import (
	"github.com/localpipe/localpipe/internal/awsjson"
	"github.com/localpipe/localpipe/stream"
)

// The prologues Kinesis's operations share, on top of awsjson.Op: decode, check the model's
// constraints, then find the stream the request names. AWS reports a bad input before a
// missing stream, and a missing stream before a stream in the wrong state, so the steps run in
// that order for every operation.

// op is awsjson.Op with Kinesis's validator.
func op[In any](check func(*In, *validator), run func(*call, *In) ([]byte, *awsjson.Error)) actionFunc {
	return awsjson.Op(checker(check), run)
}

func checker[In any](check func(*In, *validator)) func(*In) *awsjson.Error {
	if check == nil {
		return nil
	}
	return func(in *In) *awsjson.Error {
		var v validator
		check(in, &v)
		return v.Err()
	}
}

// naming is an input that names one stream by StreamName, StreamARN or both.
type naming interface{ names() (name, arn *string) }

func (r *streamRef) names() (name, arn *string) { return r.StreamName, r.StreamARN }

// arnRef is the input of the newer operations that name a stream by StreamARN alone.
type arnRef struct {
	StreamARN *string `json:"StreamARN"`
}

func (r *arnRef) names() (name, arn *string) { return nil, r.StreamARN }

// onStream is op for an operation on a stream in any state: run sees the stream's
// description; a missing or hidden stream is ResourceNotFoundException.
func onStream[In any, P interface {
	*In
	naming
}](check func(P, *validator), run func(c *call, info stream.StreamInfo, in P) ([]byte, *awsjson.Error)) actionFunc {
	return op(func(in *In, v *validator) { check(in, v) }, func(c *call, in *In) ([]byte, *awsjson.Error) {
		info, aerr := c.describe(P(in).names())
		if aerr != nil {
			return nil, aerr
		}
		return run(c, info, in)
	})
}

// onActive is op for an operation that changes a stream, which must be ACTIVE; run sees its
// name.
func onActive[In any, P interface {
	*In
	naming
}](check func(P, *validator), run func(c *call, name string, in P) ([]byte, *awsjson.Error)) actionFunc {
	return op(func(in *In, v *validator) { check(in, v) }, func(c *call, in *In) ([]byte, *awsjson.Error) {
		name, aerr := c.target(P(in).names())
		if aerr != nil {
			return nil, aerr
		}
		if aerr := c.active(name); aerr != nil {
			return nil, aerr
		}
		return run(c, name, in)
	})
}

// resourceRef is the ResourceARN (required) of the operations on a stream or a consumer
// named by ARN: tags and resource policies.
type resourceRef struct {
	ResourceARN *string `json:"ResourceARN"`
}

func (r *resourceRef) resourceARN() *string { return r.ResourceARN }

// onResource is op for an operation on what a ResourceARN names: the ARN is checked first,
// then the input's own members (check may be nil), and run sees the stream or consumer.
func onResource[In any, P interface {
	*In
	resourceARN() *string
}](check func(P, *validator), run func(c *call, r resource, in P) ([]byte, *awsjson.Error)) actionFunc {
	return op(func(in *In, v *validator) {
		arn := P(in).resourceARN()
		if v.Required("resourceARN", arn != nil) {
			v.Str("resourceARN", arn, 1, 2048, nil, "")
		}
		if check != nil {
			check(in, v)
		}
	}, func(c *call, in *In) ([]byte, *awsjson.Error) {
		r, aerr := c.resource(P(in).resourceARN())
		if aerr != nil {
			return nil, aerr
		}
		return run(c, r, in)
	})
}
