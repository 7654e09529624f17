package firehoseapi

import (
	"github.com/localpipe/localpipe/firehose"
	"github.com/localpipe/localpipe/internal/awsjson"
)

// op is awsjson.Op with Firehose's validator: the body decodes into In, check records the
// model's constraint failures, and run sees only a request that passed both.
func op[In any](check func(*In, *validator), run func(*call, *In) ([]byte, *awsjson.Error)) actionFunc {
	return awsjson.Op(func(in *In) *awsjson.Error {
		var v validator
		check(in, &v)
		return v.Err()
	}, run)
}

// deliveryName is an input that names one delivery stream (nameIn, embedded).
func (n *nameIn) deliveryName() string { return *n.DeliveryStreamName }

// onDelivery is op for an operation on a delivery stream in any state: once the input has
// passed check (which requires DeliveryStreamName), run sees the stream's description; a
// missing one is AWS's ResourceNotFoundException.
func onDelivery[In any, P interface {
	*In
	deliveryName() string
}](check func(P, *validator), run func(c *call, info firehose.Info, in P) ([]byte, *awsjson.Error)) actionFunc {
	return op(func(in *In, v *validator) { check(in, v) }, func(c *call, in *In) ([]byte, *awsjson.Error) {
		info, aerr := c.describe(P(in).deliveryName())
		if aerr != nil {
			return nil, aerr
		}
		return run(c, info, in)
	})
}
