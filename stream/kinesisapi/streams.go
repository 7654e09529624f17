package kinesisapi

import (
	"encoding/base64"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/localpipe/localpipe/internal/awsjson"
	"github.com/localpipe/localpipe/stream"
)

const (
	shardLimit        = 500 // the provisioned shard quota of us-east-1 (aws-semantics.md B.4)
	tagsPerStream     = 50
	putRecordsMaxSize = 5 << 20
	getRecordsMaxSize = 10 << 20
	maxDataModel      = 10 << 20 // Data's model bound; the stream's MaxRecordSizeInKiB is checked after
	minRetention      = 24
	maxRetention      = 8760
)

// epochMillis converts a timestamp member (epoch seconds) to milliseconds as Java's (long)
// cast does, saturating, where Go's conversion of an out-of-range float is undefined: a
// timestamp of 1e300 is far in the future, not some arbitrary past instant.
func epochMillis(sec float64) int64 {
	ms := math.Floor(sec * 1000)
	switch {
	case ms >= math.MaxInt64:
		return math.MaxInt64
	case ms <= math.MinInt64:
		return math.MinInt64
	}
	return int64(ms)
}

// empty is the body of an operation without output: AWS sends nothing at all, not {}.
var empty = []byte{}

type streamModeDetails struct {
	StreamMode *string `json:"StreamMode"`
}

type createStreamIn struct {
	StreamName          *string            `json:"StreamName"`
	ShardCount          *int32             `json:"ShardCount"`
	StreamModeDetails   *streamModeDetails `json:"StreamModeDetails"`
	Tags                map[string]string  `json:"Tags"`
	WarmThroughputMiBps *int32             `json:"WarmThroughputMiBps"` // kept and described: localpipe has no throughput to warm
	MaxRecordSizeInKiB  *int32             `json:"MaxRecordSizeInKiB"`
}

// check checks members in the order AWS reports them (kinesalite's tests record it for the
// older members; newer ones follow).
func (in *createStreamIn) check(v *validator) {
	v.IntRange("shardCount", in.ShardCount, 1, 0)
	if v.Required("streamName", in.StreamName != nil) {
		v.streamName("streamName", in.StreamName)
	}
	if in.StreamModeDetails != nil && v.Required("streamModeDetails.streamMode", in.StreamModeDetails.StreamMode != nil) {
		v.Enum("streamModeDetails.streamMode", in.StreamModeDetails.StreamMode, stream.ModeProvisioned, stream.ModeOnDemand)
	}
	v.TagMap("tags", in.Tags, tagMapMax)
	v.IntRange("warmThroughputMiBps", in.WarmThroughputMiBps, 0, 0)
	v.IntRange("maxRecordSizeInKiB", in.MaxRecordSizeInKiB, 1024, 10240)
}

func (c *call) createStream(in *createStreamIn) ([]byte, *awsjson.Error) {
	mode := stream.ModeProvisioned
	if in.StreamModeDetails != nil {
		mode = *in.StreamModeDetails.StreamMode
	}
	n := 0
	switch {
	case mode == stream.ModeOnDemand:
		if in.ShardCount != nil {
			// The text is what CloudFormation relays from Kinesis for this case; the type is
			// a guess.
			return nil, awsjson.NewError("ValidationException", "ShardCount is not expected when StreamMode=ON_DEMAND")
		}
		n = stream.OnDemandShardCount
	case in.ShardCount == nil:
		// Without ShardCount AWS creates an on-demand stream with 4 shards.
		mode, n = stream.ModeOnDemand, stream.OnDemandShardCount
	default:
		n = int(*in.ShardCount)
	}
	if cur := c.openShards(); cur+n > shardLimit {
		return nil, awsjson.NewError("LimitExceededException", fmt.Sprintf("This request would exceed the shard limit for the account %s in %s. Current shard count for the account: %d. Limit: %d. Number of additional shards that would have resulted from this request: %d. Refer to the AWS Service Limits page (http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and how to request higher limits.",
			awsjson.Account, c.region, cur, shardLimit, n))
	}
	if len(in.Tags) > tagsPerStream {
		return nil, tooManyTags(*in.StreamName)
	}
	if err := checkTagChars(*in.StreamName, in.Tags); err != nil {
		return nil, err
	}
	kib := 0
	if in.MaxRecordSizeInKiB != nil {
		kib = int(*in.MaxRecordSizeInKiB)
	}
	warm := 0
	if in.WarmThroughputMiBps != nil {
		warm = int(*in.WarmThroughputMiBps)
	}
	err := c.h.eng.CreateStream(stream.CreateInput{Name: *in.StreamName, ShardCount: n, Mode: mode, Tags: in.Tags, MaxRecordSizeKiB: kib, WarmThroughputMiBps: warm})
	if err != nil {
		return nil, c.engineError(*in.StreamName, err)
	}
	c.h.metrics.stream(*in.StreamName) // every series of a new stream starts at zero
	return empty, nil
}

// active reports a stream that is missing or hidden (Firehose's internal buffers) as not
// found, so the Kinesis API can neither see nor change a hidden stream, and one that is not
// ACTIVE as in use; AWS checks both before it looks at the request's other arguments.
func (c *call) active(name string) *awsjson.Error {
	info, err := c.h.eng.Describe(name)
	if err != nil || info.Hidden {
		return notFound(name)
	}
	if info.Status != stream.StatusActive {
		return c.engineError(name, &stream.NotActiveError{Name: name, Status: info.Status})
	}
	return nil
}

func (c *call) openShards() int {
	n := 0
	for _, s := range c.h.eng.List() {
		n += openShardCount(s)
	}
	return n
}

type streamRef struct {
	StreamName *string `json:"StreamName"`
	StreamARN  *string `json:"StreamARN"`
}

func (r *streamRef) validate(v *validator) {
	v.streamName("streamName", r.StreamName)
	v.streamARN("streamARN", r.StreamARN)
}

type deleteStreamIn struct {
	streamRef
	EnforceConsumerDeletion *bool `json:"EnforceConsumerDeletion"`
}

func (in *deleteStreamIn) check(v *validator) { in.validate(v) }

func (c *call) deleteStream(info stream.StreamInfo, in *deleteStreamIn) ([]byte, *awsjson.Error) {
	name := info.Name
	if info.ConsumerCount > 0 && (in.EnforceConsumerDeletion == nil || !*in.EnforceConsumerDeletion) {
		return nil, awsjson.NewError("ResourceInUseException", fmt.Sprintf("DeleteStream can't delete %s because there are consumers associated with this data stream. To delete %s anyway, set the EnforceConsumerDeletion parameter to true to force the deletion of all the consumers that are associated with it.", c.arn(name), name))
	}
	// "A stream cannot be deleted while it has active channels" (DeleteChannel's reference).
	if chs := c.h.channelsOn(info); len(chs) > 0 {
		return nil, awsjson.NewError("ResourceInUseException", fmt.Sprintf("DeleteStream can't delete %s because channels read from this data stream: %s. Delete them first; ListChannels with a StreamFilter lists them.", c.arn(name), strings.Join(chs, ", ")))
	}
	// A CREATING stream is deleted like an ACTIVE one (it goes DELETING): AWS once refused
	// that with a ResourceInUseException, and answers recorded against it since accept it.
	err := c.h.eng.DeleteStream(name)
	if awsjson.IsNoSpace(err) && c.h.space.Release() {
		// Freed the reserve: the metadata commit has room now.
		err = c.h.eng.DeleteStream(name)
	}
	if err != nil {
		return nil, c.engineError(name, err)
	}
	c.h.metrics.forget(name)
	return empty, nil
}

type modeOut struct {
	StreamMode string `json:"StreamMode"`
}

type enhancedMonitoring struct {
	ShardLevelMetrics []string `json:"ShardLevelMetrics"`
}

func (c *call) describe(name *string, arn *string) (stream.StreamInfo, *awsjson.Error) {
	n, aerr := c.target(name, arn)
	if aerr != nil {
		return stream.StreamInfo{}, aerr
	}
	info, err := c.h.eng.Describe(n)
	if err != nil || info.Hidden {
		return info, notFound(n)
	}
	return info, nil
}

type describeStreamIn struct {
	streamRef
	Limit                 *int32  `json:"Limit"`
	ExclusiveStartShardId *string `json:"ExclusiveStartShardId"`
}

func (in *describeStreamIn) check(v *validator) {
	v.IntRange("limit", in.Limit, 1, 10000)
	v.shardID("exclusiveStartShardId", in.ExclusiveStartShardId)
	v.streamName("streamName", in.StreamName)
	v.streamARN("streamARN", in.StreamARN)
}

func (c *call) describeStream(info stream.StreamInfo, in *describeStreamIn) ([]byte, *awsjson.Error) {
	limit := 100
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	shards := shardsAfter(c.retained(info, info.Shards), in.ExclusiveStartShardId)
	if info.Status == stream.StatusCreating {
		// AWS lists a stream's shards only once they exist, when it turns ACTIVE.
		shards = nil
	}
	more := len(shards) > limit
	if more {
		shards = shards[:limit]
	}
	out := make([]shardOut, 0, len(shards))
	for _, sh := range shards {
		out = append(out, shardJSON(sh))
	}
	desc := map[string]any{
		"StreamName":              info.Name,
		"StreamARN":               c.arn(info.Name),
		"StreamStatus":            info.Status,
		"StreamModeDetails":       modeOut{info.Mode},
		"Shards":                  out,
		"HasMoreShards":           more,
		"RetentionPeriodHours":    info.RetentionHours,
		"StreamCreationTimestamp": awsjson.Timestamp(info.Created),
		"EnhancedMonitoring":      []enhancedMonitoring{{ShardLevelMetrics: orEmpty(info.ShardLevelMetrics)}},
		"EncryptionType":          info.EncryptionType,
	}
	withKeyID(desc, info)
	return awsjson.Marshal(map[string]any{"StreamDescription": desc})
}

// withKeyID adds the KMS key of an encrypted stream to its description.
func withKeyID(desc map[string]any, info stream.StreamInfo) {
	if info.KeyID != "" {
		desc["KeyId"] = info.KeyID
	}
}

func (c *call) describeStreamSummary(info stream.StreamInfo, _ *streamRef) ([]byte, *awsjson.Error) {
	desc := map[string]any{
		"StreamName":              info.Name,
		"StreamARN":               c.arn(info.Name),
		"StreamStatus":            info.Status,
		"StreamModeDetails":       modeOut{info.Mode},
		"RetentionPeriodHours":    info.RetentionHours,
		"StreamCreationTimestamp": awsjson.Timestamp(info.Created),
		"EnhancedMonitoring":      []enhancedMonitoring{{ShardLevelMetrics: orEmpty(info.ShardLevelMetrics)}},
		"EncryptionType":          info.EncryptionType,
		"OpenShardCount":          openShardCount(info),
		"ConsumerCount":           info.ConsumerCount,
		"MaxRecordSizeInKiB":      info.MaxRecordSizeKiB,
	}
	withKeyID(desc, info)
	withOnDemandSettings(desc, info)
	return awsjson.Marshal(map[string]any{"StreamDescriptionSummary": desc})
}

type listStreamsIn struct {
	Limit                    *int32  `json:"Limit"`
	ExclusiveStartStreamName *string `json:"ExclusiveStartStreamName"`
	NextToken                *string `json:"NextToken"`
}

func (in *listStreamsIn) check(v *validator) {
	v.IntRange("limit", in.Limit, 1, 10000)
	v.streamName("exclusiveStartStreamName", in.ExclusiveStartStreamName)
	v.Str("nextToken", in.NextToken, 1, 1048576, nil, "")
}

func (c *call) listStreams(in *listStreamsIn) ([]byte, *awsjson.Error) {
	after := ""
	if in.ExclusiveStartStreamName != nil {
		after = *in.ExclusiveStartStreamName
	}
	if in.NextToken != nil {
		b, err := base64.RawURLEncoding.DecodeString(*in.NextToken)
		if err != nil || !strings.HasPrefix(string(b), "ls:") {
			return nil, awsjson.NewError("InvalidArgumentException", "Invalid NextToken.")
		}
		after = string(b[3:])
	}
	limit := 100
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	names := []string{}
	summaries := []map[string]any{}
	more := false
	for _, s := range c.h.eng.List() {
		if s.Name <= after {
			continue
		}
		if len(names) == limit {
			more = true
			break
		}
		names = append(names, s.Name)
		summaries = append(summaries, map[string]any{
			"StreamName": s.Name, "StreamARN": c.arn(s.Name), "StreamStatus": s.Status,
			"StreamModeDetails": modeOut{s.Mode}, "StreamCreationTimestamp": awsjson.Timestamp(s.Created),
		})
	}
	out := map[string]any{"StreamNames": names, "HasMoreStreams": more, "StreamSummaries": summaries}
	if more {
		out["NextToken"] = base64.RawURLEncoding.EncodeToString([]byte("ls:" + names[len(names)-1]))
	}
	return awsjson.Marshal(out)
}

type retentionIn struct {
	streamRef
	RetentionPeriodHours *int32 `json:"RetentionPeriodHours"`
}

func (in *retentionIn) check(v *validator) {
	v.Required("retentionPeriodHours", in.RetentionPeriodHours != nil)
	v.streamName("streamName", in.StreamName)
	v.streamARN("streamARN", in.StreamARN)
}

func (c *call) retention(name string, in *retentionIn, increase bool) ([]byte, *awsjson.Error) {
	h := *in.RetentionPeriodHours
	if h < minRetention {
		return nil, awsjson.NewError("InvalidArgumentException", fmt.Sprintf("Minimum allowed retention period is %d hours. Requested retention period (%d hours) is too short.", minRetention, h))
	}
	if h > maxRetention {
		return nil, awsjson.NewError("InvalidArgumentException", fmt.Sprintf("Maximum allowed retention period is %d hours. Requested retention period (%d hours) is too long.", maxRetention, h))
	}
	err := c.h.eng.UpdateRetention(name, func(cur int) (int, error) {
		if increase && int(h) < cur {
			return 0, awsjson.NewError("InvalidArgumentException", fmt.Sprintf("Requested retention period (%d hours) for stream %s can not be shorter than existing retention period (%d hours). Use DecreaseRetentionPeriod API.", h, name, cur))
		}
		if !increase && int(h) > cur {
			return 0, awsjson.NewError("InvalidArgumentException", fmt.Sprintf("Requested retention period (%d hours) for stream %s can not be longer than existing retention period (%d hours). Use IncreaseRetentionPeriod API.", h, name, cur))
		}
		return int(h), nil
	})
	if err != nil {
		return nil, c.engineError(name, err)
	}
	return empty, nil
}

func (c *call) increaseRetention(name string, in *retentionIn) ([]byte, *awsjson.Error) {
	return c.retention(name, in, true)
}
func (c *call) decreaseRetention(name string, in *retentionIn) ([]byte, *awsjson.Error) {
	return c.retention(name, in, false)
}

type maxRecordSizeIn struct {
	arnRef
	MaxRecordSizeInKiB *int32 `json:"MaxRecordSizeInKiB"`
}

func (in *maxRecordSizeIn) check(v *validator) {
	v.streamARN("streamARN", in.StreamARN)
	if v.Required("maxRecordSizeInKiB", in.MaxRecordSizeInKiB != nil) {
		v.IntRange("maxRecordSizeInKiB", in.MaxRecordSizeInKiB, 1024, 10240)
	}
}

func (c *call) updateMaxRecordSize(name string, in *maxRecordSizeIn) ([]byte, *awsjson.Error) {
	if err := c.h.eng.UpdateMaxRecordSize(name, int(*in.MaxRecordSizeInKiB)); err != nil {
		return nil, c.engineError(name, err)
	}
	return empty, nil
}

func (c *call) describeLimits(body []byte) ([]byte, *awsjson.Error) {
	var in struct{}
	if err := awsjson.Decode(body, &in); err != nil {
		return nil, err
	}
	open, onDemand := 0, 0
	for _, s := range c.h.eng.List() {
		open += openShardCount(s)
		if s.Mode == stream.ModeOnDemand {
			onDemand++
		}
	}
	return awsjson.Marshal(map[string]any{"ShardLimit": shardLimit, "OpenShardCount": open,
		"OnDemandStreamCount": onDemand, "OnDemandStreamCountLimit": 50})
}

// metricNames are the shard-level metrics in the model's order; "ALL" stands for all of them.
var metricNames = []string{"IncomingBytes", "IncomingRecords", "OutgoingBytes", "OutgoingRecords",
	"WriteProvisionedThroughputExceeded", "ReadProvisionedThroughputExceeded", "IteratorAgeMilliseconds"}

func (c *call) enableMonitoring(info stream.StreamInfo, in *monitoringIn) ([]byte, *awsjson.Error) {
	return c.enhancedMonitoring(info, in, true)
}

func (c *call) disableMonitoring(info stream.StreamInfo, in *monitoringIn) ([]byte, *awsjson.Error) {
	return c.enhancedMonitoring(info, in, false)
}

type monitoringIn struct {
	streamRef
	ShardLevelMetrics []string `json:"ShardLevelMetrics"`
}

func (in *monitoringIn) check(v *validator) {
	v.streamName("streamName", in.StreamName)
	if v.Required("shardLevelMetrics", in.ShardLevelMetrics != nil) {
		v.shardLevelMetrics("shardLevelMetrics", in.ShardLevelMetrics)
	}
	v.streamARN("streamARN", in.StreamARN)
}

// enhancedMonitoring adds the named metrics to the stream's enabled set, or removes them,
// and answers with the set before (Current) and after (Desired), as AWS does. localpipe
// publishes no shard-level metrics; it keeps the names so DescribeStream shows them.
func (c *call) enhancedMonitoring(info stream.StreamInfo, in *monitoringIn, enable bool) ([]byte, *awsjson.Error) {
	named := func(m string) bool {
		return slices.Contains(in.ShardLevelMetrics, m) || slices.Contains(in.ShardLevelMetrics, "ALL")
	}
	before, after, err := c.h.eng.UpdateShardLevelMetrics(info.Name, func(cur []string) []string {
		var out []string
		for _, m := range metricNames {
			on := slices.Contains(cur, m)
			if named(m) {
				on = enable
			}
			if on {
				out = append(out, m)
			}
		}
		return out
	})
	if err != nil {
		return nil, c.engineError(info.Name, err)
	}
	return awsjson.Marshal(map[string]any{"StreamName": info.Name, "StreamARN": c.arn(info.Name),
		"CurrentShardLevelMetrics": orEmpty(before), "DesiredShardLevelMetrics": orEmpty(after)})
}

// orEmpty keeps an empty list a JSON [] rather than null, as AWS sends it.
func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func openShardCount(info stream.StreamInfo) int {
	if info.Status == stream.StatusCreating {
		return 0
	}
	n := 0
	for _, sh := range info.Shards {
		if !sh.Closed {
			n++
		}
	}
	return n
}
