package firehoseapi

import "github.com/localpipe/localpipe/internal/awsjson"

// op is awsjson.Op with Firehose's validator: the body decodes into In, check records the
// model's constraint failures, and run sees only a request that passed both.
func op[In any](check func(*In, *validator), run func(*call, *In) ([]byte, *awsjson.Error)) actionFunc {
	return awsjson.Op(func(in *In) *awsjson.Error {
		var v validator
		check(in, &v)
		return v.Err()
	}, run)
}
