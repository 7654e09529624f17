package kinesisapi

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/localpipe/localpipe/internal/awsjson"
	"github.com/localpipe/localpipe/stream"
)

// Operations on streams and consumers named by ARN (resource policies; their tags are in
// tags.go), stream encryption settings, and the account's settings. localpipe keeps what
// they set and describes it; it enforces no policy and encrypts nothing.

// resource is what a ResourceARN names: a stream, one of its consumers, or a channel.
type resource struct {
	stream   string
	consumer string // "" for the stream itself
	channel  string // set for a channel, whose stream is ""
}

func (c *call) resource(arn *string) (resource, *awsjson.Error) {
	if channelARNRE.MatchString(*arn) {
		ch, aerr := c.channel(*arn)
		if aerr != nil {
			return resource{}, aerr
		}
		return resource{channel: ch.Name}, nil
	}
	if m := consumerARNPart.FindStringSubmatch(*arn); m != nil {
		stream, _, aerr := c.resolve(consumerRef{ConsumerARN: arn})
		if aerr != nil {
			return resource{}, aerr
		}
		return resource{stream: stream, consumer: m[4]}, nil
	}
	name, aerr := c.target(nil, arn)
	if aerr != nil {
		return resource{}, aerr
	}
	if info, err := c.h.eng.Describe(name); err != nil || info.Hidden {
		return resource{}, notFound(name)
	}
	return resource{stream: name}, nil
}

// noChannelPolicy answers a resource-policy call on a channel: resource policies attach to
// streams and consumers (PutResourcePolicy's reference names only those).
func noChannelPolicy(r resource, arn string) *awsjson.Error {
	if r.channel == "" {
		return nil
	}
	return awsjson.NewError("InvalidArgumentException", fmt.Sprintf("Resource policies attach to data streams and consumers; %s is a channel.", arn))
}

func (c *call) setPolicy(r resource, policy string) *awsjson.Error {
	err := c.h.eng.SetPolicy(r.stream, r.consumer, policy)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, stream.ErrConsumerNotFound):
		return consumerNotFound(r.consumer, r.stream)
	}
	return c.engineError(r.stream, err)
}

type putPolicyIn struct {
	resourceRef
	Policy *string `json:"Policy"`
}

func (in *putPolicyIn) check(v *validator) { v.Required("policy", in.Policy != nil) }

func (c *call) putResourcePolicy(r resource, in *putPolicyIn) ([]byte, *awsjson.Error) {
	if aerr := noChannelPolicy(r, *in.ResourceARN); aerr != nil {
		return nil, aerr
	}
	if !awsjson.Valid([]byte(*in.Policy)) {
		return nil, awsjson.NewError("InvalidArgumentException", "Policy is not valid JSON.")
	}
	if aerr := c.setPolicy(r, *in.Policy); aerr != nil {
		return nil, aerr
	}
	return empty, nil
}

func (c *call) getResourcePolicy(r resource, in *resourceRef) ([]byte, *awsjson.Error) {
	if aerr := noChannelPolicy(r, *in.ResourceARN); aerr != nil {
		return nil, aerr
	}
	policy := ""
	if r.consumer != "" {
		ci, _ := c.h.eng.Consumer(r.stream, r.consumer)
		policy = ci.Policy
	} else {
		info, _ := c.h.eng.Describe(r.stream)
		policy = info.Policy
	}
	if policy == "" {
		policy = "{}" // a resource without a policy has the empty one
	}
	return awsjson.Marshal(map[string]string{"Policy": policy})
}

func (c *call) deleteResourcePolicy(r resource, in *resourceRef) ([]byte, *awsjson.Error) {
	if aerr := noChannelPolicy(r, *in.ResourceARN); aerr != nil {
		return nil, aerr
	}
	if aerr := c.setPolicy(r, ""); aerr != nil {
		return nil, aerr
	}
	return empty, nil
}

type encryptionIn struct {
	streamRef
	EncryptionType *string `json:"EncryptionType"`
	KeyId          *string `json:"KeyId"`
}

func (in *encryptionIn) check(v *validator) {
	in.validate(v)
	if v.Required("encryptionType", in.EncryptionType != nil) {
		v.Enum("encryptionType", in.EncryptionType, "NONE", "KMS")
	}
	if v.Required("keyId", in.KeyId != nil) {
		v.Str("keyId", in.KeyId, 1, 2048, nil, "")
	}
}

// encryption is StartStreamEncryption (start) and StopStreamEncryption.
func (c *call) encryption(in *encryptionIn, start bool) ([]byte, *awsjson.Error) {
	if *in.EncryptionType != "KMS" {
		return nil, awsjson.NewError("InvalidArgumentException", "Encryption type "+*in.EncryptionType+" is not supported. The only valid value is KMS.")
	}
	name, aerr := c.target(in.StreamName, in.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
	typ, key := "KMS", *in.KeyId
	if !start {
		typ, key = "NONE", ""
	}
	if err := c.h.eng.SetEncryption(name, typ, key); err != nil {
		return nil, c.engineError(name, err)
	}
	return empty, nil
}

// accountSettings are the account's Kinesis settings: today only the on-demand minimum
// throughput billing commitment. They live as long as the process, like an account would
// outlive any one stream; localpipe bills nothing.
type accountSettings struct {
	mu        sync.Mutex
	status    string // ENABLED or DISABLED
	startedAt time.Time
}

// enabled reports whether the account committed to on-demand minimum throughput, which warm
// throughput requires.
func (a *accountSettings) enabled() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.status == "ENABLED"
}

func (a *accountSettings) json() map[string]any {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := map[string]any{"Status": "DISABLED"}
	if a.status == "ENABLED" {
		out["Status"] = a.status
		out["StartedAt"] = awsjson.Timestamp(a.startedAt)
		out["EarliestAllowedEndAt"] = awsjson.Timestamp(a.startedAt.AddDate(0, 0, 365))
	}
	return map[string]any{"MinimumThroughputBillingCommitment": out}
}

func (c *call) describeAccountSettings(body []byte) ([]byte, *awsjson.Error) {
	var in struct{}
	if err := awsjson.Decode(body, &in); err != nil {
		return nil, err
	}
	return awsjson.Marshal(c.h.account.json())
}

type updateAccountSettingsIn struct {
	MinimumThroughputBillingCommitment *struct {
		Status *string `json:"Status"`
	} `json:"MinimumThroughputBillingCommitment"`
}

func (in *updateAccountSettingsIn) check(v *validator) {
	if v.Required("minimumThroughputBillingCommitment", in.MinimumThroughputBillingCommitment != nil) {
		st := in.MinimumThroughputBillingCommitment.Status
		if v.Required("minimumThroughputBillingCommitment.status", st != nil) {
			v.Enum("minimumThroughputBillingCommitment.status", st, "ENABLED", "DISABLED")
		}
	}
}

func (c *call) updateAccountSettings(in *updateAccountSettingsIn) ([]byte, *awsjson.Error) {
	a := &c.h.account
	a.mu.Lock()
	want := *in.MinimumThroughputBillingCommitment.Status
	if want == "ENABLED" && a.status != "ENABLED" {
		a.status, a.startedAt = want, c.now
	} else if want == "DISABLED" {
		a.status = want
	}
	a.mu.Unlock()
	return awsjson.Marshal(a.json())
}
