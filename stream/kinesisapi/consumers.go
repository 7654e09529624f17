package kinesisapi

import (
	"errors"
	"fmt"
	"github.com/localpipe/localpipe/internal/lazyre"
	"strconv"

	"github.com/localpipe/localpipe/internal/awsjson"
	"github.com/localpipe/localpipe/stream"
)

// Enhanced fan-out: consumers registered on a stream, named by an ARN that carries the
// stream, the consumer and its creation time in seconds, as AWS's do.

var (
	consumerNameRE  = lazyre.New(`^[a-zA-Z0-9_.-]+$`)
	consumerARNRE   = lazyre.New(`^(arn):aws.*:kinesis:.*:\d{12}:.*stream/[a-zA-Z0-9_.-]+/consumer/[a-zA-Z0-9_.-]+:[0-9]+$`)
	consumerARNPart = lazyre.New(`^arn:aws[^:]*:kinesis:([^:]*):(\d{12}):stream/([a-zA-Z0-9_.-]+)/consumer/([a-zA-Z0-9_.-]+):([0-9]+)$`)
)

const consumerARNPattern = `^(arn):aws.*:kinesis:.*:\d{12}:.*stream\/[a-zA-Z0-9_.-]+\/consumer\/[a-zA-Z0-9_.-]+:[0-9]+`

func (v *validator) consumerName(path string, s *string) {
	v.Str(path, s, 1, 128, consumerNameRE, "[a-zA-Z0-9_.-]+")
}

func (v *validator) consumerARN(path string, s *string) {
	v.Str(path, s, 1, 2048, consumerARNRE, consumerARNPattern)
}

func (c *call) consumerARN(streamName string, ci stream.ConsumerInfo) string {
	return fmt.Sprintf("%s/consumer/%s:%d", c.arn(streamName), ci.Name, ci.Created.Unix())
}

func consumerNotFound(name, streamName string) *awsjson.Error {
	return awsjson.NewError("ResourceNotFoundException",
		fmt.Sprintf("Consumer %s under stream %s under account %s not found.", name, streamName, awsjson.Account))
}

// consumerRef is how DescribeStreamConsumer and DeregisterStreamConsumer name a consumer:
// by its ARN, or by stream ARN and consumer name.
type consumerRef struct {
	StreamARN    *string `json:"StreamARN"`
	ConsumerName *string `json:"ConsumerName"`
	ConsumerARN  *string `json:"ConsumerARN"`
}

func (r *consumerRef) validate(v *validator) {
	v.streamARN("streamARN", r.StreamARN)
	v.consumerName("consumerName", r.ConsumerName)
	v.consumerARN("consumerARN", r.ConsumerARN)
}

// resolve finds the consumer a reference names; an ARN must also match the consumer's
// creation time, so an ARN of a consumer deregistered and registered again is stale.
func (c *call) resolve(r consumerRef) (string, stream.ConsumerInfo, *awsjson.Error) {
	var streamName, name string
	created := int64(-1)
	switch {
	case r.ConsumerARN != nil:
		m := consumerARNPart.FindStringSubmatch(*r.ConsumerARN)
		if m == nil {
			return "", stream.ConsumerInfo{}, awsjson.NewError("InvalidArgumentException", "Invalid ConsumerARN "+*r.ConsumerARN)
		}
		streamName, name = m[3], m[4]
		created, _ = strconv.ParseInt(m[5], 10, 64)
		if r.ConsumerName != nil && *r.ConsumerName != name || r.StreamARN != nil && *r.StreamARN != c.arn(streamName) {
			return "", stream.ConsumerInfo{}, awsjson.NewError("InvalidArgumentException", "ConsumerARN does not match the StreamARN and ConsumerName given")
		}
	case r.StreamARN != nil && r.ConsumerName != nil:
		n, aerr := c.target(nil, r.StreamARN)
		if aerr != nil {
			return "", stream.ConsumerInfo{}, aerr
		}
		streamName, name = n, *r.ConsumerName
	default:
		return "", stream.ConsumerInfo{}, awsjson.NewError("InvalidArgumentException", "Either ConsumerARN or both ConsumerName and StreamARN must be provided")
	}
	if info, err := c.h.eng.Describe(streamName); err != nil || info.Hidden {
		return "", stream.ConsumerInfo{}, notFound(streamName)
	}
	ci, err := c.h.eng.Consumer(streamName, name)
	if err != nil || created >= 0 && ci.Created.Unix() != created {
		return "", stream.ConsumerInfo{}, consumerNotFound(name, streamName)
	}
	return streamName, ci, nil
}

func (c *call) consumerJSON(streamName string, ci stream.ConsumerInfo) map[string]any {
	return map[string]any{
		"ConsumerName":              ci.Name,
		"ConsumerARN":               c.consumerARN(streamName, ci),
		"ConsumerStatus":            ci.Status,
		"ConsumerCreationTimestamp": awsjson.Timestamp(ci.Created),
	}
}

type registerConsumerIn struct {
	StreamARN    *string           `json:"StreamARN"`
	ConsumerName *string           `json:"ConsumerName"`
	Tags         map[string]string `json:"Tags"`
}

func (in *registerConsumerIn) check(v *validator) {
	if v.Required("streamARN", in.StreamARN != nil) {
		v.streamARN("streamARN", in.StreamARN)
	}
	if v.Required("consumerName", in.ConsumerName != nil) {
		v.consumerName("consumerName", in.ConsumerName)
	}
	v.TagMap("tags", in.Tags, tagMapMax)
}

func (c *call) registerConsumer(in *registerConsumerIn) ([]byte, *awsjson.Error) {
	name, aerr := c.target(nil, in.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
	if info, err := c.h.eng.Describe(name); err != nil || info.Hidden {
		return nil, notFound(name)
	}
	ci, err := c.h.eng.RegisterConsumer(name, *in.ConsumerName)
	switch {
	case errors.Is(err, stream.ErrConsumerExists):
		existing, _ := c.h.eng.Consumer(name, *in.ConsumerName)
		return nil, awsjson.NewError("ResourceInUseException", fmt.Sprintf("Consumer %s under account %s already exists.", c.consumerARN(name, existing), awsjson.Account))
	case errors.Is(err, stream.ErrConsumerLimit):
		return nil, awsjson.NewError("LimitExceededException", fmt.Sprintf("Consumer limit of %d exceeded for stream %s under account %s.", stream.MaxConsumers, name, awsjson.Account))
	case err != nil:
		return nil, c.engineError(name, err)
	}
	return awsjson.Marshal(map[string]any{"Consumer": c.consumerJSON(name, ci)})
}

// consumerFrom decodes, checks and resolves the consumerRef a request names.
func (c *call) consumerFrom(body []byte) (string, stream.ConsumerInfo, *awsjson.Error) {
	var in consumerRef
	if err := awsjson.Decode(body, &in); err != nil {
		return "", stream.ConsumerInfo{}, err
	}
	var v validator
	in.validate(&v)
	if err := v.Err(); err != nil {
		return "", stream.ConsumerInfo{}, err
	}
	return c.resolve(in)
}

func (c *call) describeConsumer(body []byte) ([]byte, *awsjson.Error) {
	streamName, ci, aerr := c.consumerFrom(body)
	if aerr != nil {
		return nil, aerr
	}
	out := c.consumerJSON(streamName, ci)
	out["StreamARN"] = c.arn(streamName)
	return awsjson.Marshal(map[string]any{"ConsumerDescription": out})
}

func (c *call) deregisterConsumer(body []byte) ([]byte, *awsjson.Error) {
	streamName, ci, aerr := c.consumerFrom(body)
	if aerr != nil {
		return nil, aerr
	}
	if err := c.h.eng.DeregisterConsumer(streamName, ci.Name); err != nil {
		if errors.Is(err, stream.ErrConsumerNotFound) {
			return nil, consumerNotFound(ci.Name, streamName)
		}
		return nil, c.engineError(streamName, err)
	}
	c.h.subs.endConsumer(c.consumerARN(streamName, ci))
	return empty, nil
}

type listConsumersIn struct {
	StreamARN               *string  `json:"StreamARN"`
	NextToken               *string  `json:"NextToken"`
	MaxResults              *int32   `json:"MaxResults"`
	StreamCreationTimestamp *float64 `json:"StreamCreationTimestamp"`
}

func (in *listConsumersIn) check(v *validator) {
	if v.Required("streamARN", in.StreamARN != nil) {
		v.streamARN("streamARN", in.StreamARN)
	}
	v.IntRange("maxResults", in.MaxResults, 1, 10000)
	v.Str("nextToken", in.NextToken, 1, 1048576, nil, "")
}

func (c *call) listConsumers(in *listConsumersIn) ([]byte, *awsjson.Error) {
	name, aerr := c.target(nil, in.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
	info, err := c.h.eng.Describe(name)
	if err != nil || info.Hidden {
		return nil, notFound(name)
	}
	if in.StreamCreationTimestamp != nil && epochMillis(*in.StreamCreationTimestamp) != info.Created.UnixMilli() {
		return nil, notFound(name) // a stream of that name, but not the one created then
	}
	cs, err := c.h.eng.Consumers(name)
	if err != nil {
		return nil, c.engineError(name, err)
	}
	start := 0
	if in.NextToken != nil {
		n, err := strconv.Atoi(*in.NextToken)
		if err != nil || n < 0 || n > len(cs) {
			return nil, awsjson.NewError("InvalidArgumentException", "Invalid NextToken.")
		}
		start = n
	}
	limit := 100
	if in.MaxResults != nil {
		limit = int(*in.MaxResults)
	}
	end := min(len(cs), start+limit)
	list := make([]map[string]any, 0, end-start)
	for _, ci := range cs[start:end] {
		list = append(list, c.consumerJSON(name, ci))
	}
	out := map[string]any{"Consumers": list}
	if end < len(cs) {
		out["NextToken"] = strconv.Itoa(end)
	}
	return awsjson.Marshal(out)
}
