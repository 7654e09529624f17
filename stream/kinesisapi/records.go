package kinesisapi

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

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

// ---- stream lifecycle ----

type streamModeDetails struct {
	StreamMode *string `json:"StreamMode"`
}

type createStreamIn struct {
	StreamName          *string            `json:"StreamName"`
	ShardCount          *int32             `json:"ShardCount"`
	StreamModeDetails   *streamModeDetails `json:"StreamModeDetails"`
	Tags                map[string]string  `json:"Tags"`
	WarmThroughputMiBps *int32             `json:"WarmThroughputMiBps"` // checked, then ignored: localpipe has no throughput to warm
	MaxRecordSizeInKiB  *int32             `json:"MaxRecordSizeInKiB"`
}

func (c *call) createStream(body []byte) ([]byte, *awsjson.Error) {
	var in createStreamIn
	if err := awsjson.Decode(body, &in); err != nil {
		return nil, err
	}
	// Members are checked in the order AWS reports them (kinesalite's tests record it for
	// the older members; newer ones follow).
	var v validator
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
	if err := v.Err(); err != nil {
		return nil, err
	}
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
	err := c.h.eng.CreateStream(stream.CreateInput{Name: *in.StreamName, ShardCount: n, Mode: mode, Tags: in.Tags, MaxRecordSizeKiB: kib})
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

func (c *call) deleteStream(body []byte) ([]byte, *awsjson.Error) {
	var in struct {
		streamRef
		EnforceConsumerDeletion *bool `json:"EnforceConsumerDeletion"`
	}
	if err := awsjson.Decode(body, &in); err != nil {
		return nil, err
	}
	var v validator
	in.validate(&v)
	if err := v.Err(); err != nil {
		return nil, err
	}
	name, aerr := c.target(in.StreamName, in.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
	info, err := c.h.eng.Describe(name)
	if err != nil || info.Hidden {
		return nil, notFound(name)
	}
	if info.ConsumerCount > 0 && (in.EnforceConsumerDeletion == nil || !*in.EnforceConsumerDeletion) {
		return nil, awsjson.NewError("ResourceInUseException", fmt.Sprintf("DeleteStream can't delete %s because there are consumers associated with this data stream. To delete %s anyway, set the EnforceConsumerDeletion parameter to true to force the deletion of all the consumers that are associated with it.", c.arn(name), name))
	}
	if info.Status == stream.StatusCreating {
		// AWS's answer for this case is older than the rest of the API and shows it: the
		// type carries the service namespace (SDKs strip it) and the text is worded apart.
		return nil, &awsjson.Error{Status: 400, Type: "com.amazonaws.kinesis.v20130901#ResourceInUseException",
			Message: "Attempt to change a resource which is still in use: Stream is being created: " + name}
	}
	err = c.h.eng.DeleteStream(name)
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

// Output members are declared in alphabetical order because AWS writes them so (as
// encoding/json does for the maps used elsewhere).

type hashKeyRange struct {
	EndingHashKey   string `json:"EndingHashKey"`
	StartingHashKey string `json:"StartingHashKey"`
}

type seqRange struct {
	EndingSequenceNumber   *string `json:"EndingSequenceNumber,omitempty"`
	StartingSequenceNumber string  `json:"StartingSequenceNumber"`
}

type shardOut struct {
	AdjacentParentShardId *string      `json:"AdjacentParentShardId,omitempty"`
	HashKeyRange          hashKeyRange `json:"HashKeyRange"`
	ParentShardId         *string      `json:"ParentShardId,omitempty"`
	SequenceNumberRange   seqRange     `json:"SequenceNumberRange"`
	ShardId               string       `json:"ShardId"`
}

func shardJSON(sh stream.ShardInfo) shardOut {
	out := shardOut{
		ShardId:             sh.ID,
		HashKeyRange:        hashKeyRange{EndingHashKey: sh.EndKey.String(), StartingHashKey: sh.StartKey.String()},
		SequenceNumberRange: seqRange{StartingSequenceNumber: seqFor(sh.Created, sh.Index, 0, sh.Created)},
	}
	if len(sh.Parents) > 0 {
		p := shardName(sh.Parents[0])
		out.ParentShardId = &p
	}
	if len(sh.Parents) > 1 {
		a := shardName(sh.Parents[1])
		out.AdjacentParentShardId = &a
	}
	if sh.Closed {
		end := endingSeq(sh)
		out.SequenceNumberRange.EndingSequenceNumber = &end
	}
	return out
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

// shardIndex parses a shard id as AWS does: the digits after the first dash, or the whole id
// if it has none ("shardId-000000000001", "shardId-1" and "1" all name shard 1).
func shardIndex(id string) (int, bool) {
	digits := id
	if parts := strings.Split(id, "-"); len(parts) > 1 && parts[1] != "" {
		digits = parts[1]
	}
	if digits == "" || len(digits) > 20 {
		return 0, false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || n > math.MaxInt32 {
		return 0, false
	}
	return int(n), true
}

func shardName(i int) string { return fmt.Sprintf("shardId-%012d", i) }

// shardAfter reports whether shard id a comes after b in listing order.
func shardAfter(a, b string) bool {
	ai, aok := shardIndex(a)
	bi, bok := shardIndex(b)
	if aok && bok {
		return ai > bi
	}
	return a > b
}

// shardsAfter returns the shards after the one named by exclusiveStart (all if nil).
func shardsAfter(shards []stream.ShardInfo, exclusiveStart *string) []stream.ShardInfo {
	if exclusiveStart == nil {
		return shards
	}
	idx, ok := shardIndex(*exclusiveStart)
	if !ok {
		// Shard ids sort as strings; an unparsable one still has a place in that order.
		i := sort.Search(len(shards), func(i int) bool { return shards[i].ID > *exclusiveStart })
		return shards[i:]
	}
	for i, sh := range shards {
		if sh.Index > idx {
			return shards[i:]
		}
	}
	return nil
}

func (c *call) describeStream(body []byte) ([]byte, *awsjson.Error) {
	var in struct {
		streamRef
		Limit                 *int32  `json:"Limit"`
		ExclusiveStartShardId *string `json:"ExclusiveStartShardId"`
	}
	if err := awsjson.Decode(body, &in); err != nil {
		return nil, err
	}
	var v validator
	v.IntRange("limit", in.Limit, 1, 10000)
	v.shardID("exclusiveStartShardId", in.ExclusiveStartShardId)
	v.streamName("streamName", in.StreamName)
	v.streamARN("streamARN", in.StreamARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	info, aerr := c.describe(in.StreamName, in.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
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

func (c *call) describeStreamSummary(body []byte) ([]byte, *awsjson.Error) {
	var in streamRef
	if err := awsjson.Decode(body, &in); err != nil {
		return nil, err
	}
	var v validator
	in.validate(&v)
	if err := v.Err(); err != nil {
		return nil, err
	}
	info, aerr := c.describe(in.StreamName, in.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
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
	return awsjson.Marshal(map[string]any{"StreamDescriptionSummary": desc})
}

func (c *call) listStreams(body []byte) ([]byte, *awsjson.Error) {
	var in struct {
		Limit                    *int32  `json:"Limit"`
		ExclusiveStartStreamName *string `json:"ExclusiveStartStreamName"`
		NextToken                *string `json:"NextToken"`
	}
	if err := awsjson.Decode(body, &in); err != nil {
		return nil, err
	}
	var v validator
	v.IntRange("limit", in.Limit, 1, 10000)
	v.streamName("exclusiveStartStreamName", in.ExclusiveStartStreamName)
	v.Str("nextToken", in.NextToken, 1, 1048576, nil, "")
	if err := v.Err(); err != nil {
		return nil, err
	}
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

type shardFilter struct {
	Type      *string  `json:"Type"`
	ShardId   *string  `json:"ShardId"`
	Timestamp *float64 `json:"Timestamp"`
}

// listShardsToken is the opaque NextToken of ListShards: the stream, the filter, and the last
// shard listed.
type listShardsToken struct {
	Stream  string  `json:"s"`
	Created int64   `json:"c"`
	After   int     `json:"a"`
	Filter  string  `json:"f,omitempty"`
	Time    float64 `json:"t,omitempty"`
}

func (c *call) listShards(body []byte) ([]byte, *awsjson.Error) {
	var in struct {
		streamRef
		NextToken               *string      `json:"NextToken"`
		ExclusiveStartShardId   *string      `json:"ExclusiveStartShardId"`
		MaxResults              *int32       `json:"MaxResults"`
		StreamCreationTimestamp *float64     `json:"StreamCreationTimestamp"`
		ShardFilter             *shardFilter `json:"ShardFilter"`
	}
	if err := awsjson.Decode(body, &in); err != nil {
		return nil, err
	}
	var v validator
	v.shardID("exclusiveStartShardId", in.ExclusiveStartShardId)
	v.IntRange("maxResults", in.MaxResults, 1, 10000)
	v.Str("nextToken", in.NextToken, 1, 1048576, nil, "")
	v.streamName("streamName", in.StreamName)
	if f := in.ShardFilter; f != nil {
		if v.Required("shardFilter.type", f.Type != nil) {
			v.Enum("shardFilter.type", f.Type, "AFTER_SHARD_ID", "AT_TRIM_HORIZON", "FROM_TRIM_HORIZON", "AT_LATEST", "AT_TIMESTAMP", "FROM_TIMESTAMP")
		}
		v.shardID("shardFilter.shardId", f.ShardId)
	}
	v.streamARN("streamARN", in.StreamARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	limit := 1000
	if in.MaxResults != nil {
		limit = int(*in.MaxResults)
	}
	var tok listShardsToken
	var info stream.StreamInfo
	switch {
	case in.NextToken != nil:
		if in.StreamName != nil || in.StreamARN != nil {
			return nil, awsjson.NewError("InvalidArgumentException", "NextToken and StreamName cannot be provided together.")
		}
		b, err := base64.RawURLEncoding.DecodeString(*in.NextToken)
		if err != nil || json.Unmarshal(b, &tok) != nil || tok.Stream == "" {
			return nil, awsjson.NewError("InvalidArgumentException", "Invalid NextToken.")
		}
		info, err = c.h.eng.Describe(tok.Stream)
		if err != nil || info.Hidden || info.Created.UnixNano() != tok.Created {
			return nil, awsjson.NewError("ExpiredNextTokenException", "The NextToken has expired or the stream no longer exists.")
		}
	case in.StreamName == nil && in.StreamARN == nil:
		return nil, awsjson.NewError("InvalidArgumentException", "Either NextToken or StreamName should be provided.")
	default:
		var aerr *awsjson.Error
		info, aerr = c.describe(in.StreamName, in.StreamARN)
		if aerr != nil {
			return nil, aerr
		}
		tok = listShardsToken{Stream: info.Name, Created: info.Created.UnixNano(), After: -1, Filter: "FROM_TRIM_HORIZON"}
		if f := in.ShardFilter; f != nil {
			typ := *f.Type
			// The texts are guesses: AWS documents the rules, not its words for them.
			switch {
			case typ == "AFTER_SHARD_ID" && f.ShardId == nil:
				return nil, awsjson.NewError("InvalidArgumentException", "ShardId must be specified in ShardFilter when ShardFilter type is AFTER_SHARD_ID.")
			case typ != "AFTER_SHARD_ID" && f.ShardId != nil:
				return nil, awsjson.NewError("InvalidArgumentException", "ShardId can only be specified in ShardFilter when ShardFilter type is AFTER_SHARD_ID.")
			case (typ == "AT_TIMESTAMP" || typ == "FROM_TIMESTAMP") && f.Timestamp == nil:
				return nil, awsjson.NewError("InvalidArgumentException", "Timestamp must be specified in ShardFilter when ShardFilter type is "+typ+".")
			case typ != "AT_TIMESTAMP" && typ != "FROM_TIMESTAMP" && f.Timestamp != nil:
				return nil, awsjson.NewError("InvalidArgumentException", "Timestamp can only be specified in ShardFilter when ShardFilter type is AT_TIMESTAMP or FROM_TIMESTAMP.")
			}
			if typ == "AFTER_SHARD_ID" {
				// With ExclusiveStartShardId as well, the later of the two counts.
				if in.ExclusiveStartShardId == nil || shardAfter(*f.ShardId, *in.ExclusiveStartShardId) {
					in.ExclusiveStartShardId = f.ShardId
				}
			} else {
				tok.Filter = typ
			}
			if f.Timestamp != nil {
				tok.Time = *f.Timestamp
			}
		}
	}
	shards := c.filterShards(info, tok.Filter, time.UnixMilli(epochMillis(tok.Time)))
	shards = shardsAfter(shards, in.ExclusiveStartShardId)
	for len(shards) > 0 && shards[0].Index <= tok.After {
		shards = shards[1:]
	}
	more := len(shards) > limit
	if more {
		shards = shards[:limit]
	}
	out := map[string]any{}
	list := make([]shardOut, 0, len(shards))
	for _, sh := range shards {
		list = append(list, shardJSON(sh))
	}
	out["Shards"] = list
	if more {
		tok.After = shards[len(shards)-1].Index
		b, _ := json.Marshal(tok)
		out["NextToken"] = base64.RawURLEncoding.EncodeToString(b)
	}
	return awsjson.Marshal(out)
}

// ---- retention, record size, tags ----

func (c *call) retention(body []byte, increase bool) ([]byte, *awsjson.Error) {
	var in struct {
		streamRef
		RetentionPeriodHours *int32 `json:"RetentionPeriodHours"`
	}
	if err := awsjson.Decode(body, &in); err != nil {
		return nil, err
	}
	var v validator
	v.Required("retentionPeriodHours", in.RetentionPeriodHours != nil)
	v.streamName("streamName", in.StreamName)
	v.streamARN("streamARN", in.StreamARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	name, aerr := c.target(in.StreamName, in.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := c.active(name); aerr != nil {
		return nil, aerr
	}
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

func (c *call) increaseRetention(body []byte) ([]byte, *awsjson.Error) {
	return c.retention(body, true)
}
func (c *call) decreaseRetention(body []byte) ([]byte, *awsjson.Error) {
	return c.retention(body, false)
}

func (c *call) updateMaxRecordSize(body []byte) ([]byte, *awsjson.Error) {
	var in struct {
		StreamARN          *string `json:"StreamARN"`
		MaxRecordSizeInKiB *int32  `json:"MaxRecordSizeInKiB"`
	}
	if err := awsjson.Decode(body, &in); err != nil {
		return nil, err
	}
	var v validator
	v.streamARN("streamARN", in.StreamARN)
	if v.Required("maxRecordSizeInKiB", in.MaxRecordSizeInKiB != nil) {
		v.IntRange("maxRecordSizeInKiB", in.MaxRecordSizeInKiB, 1024, 10240)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	name, aerr := c.target(nil, in.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := c.active(name); aerr != nil {
		return nil, aerr
	}
	if err := c.h.eng.UpdateMaxRecordSize(name, int(*in.MaxRecordSizeInKiB)); err != nil {
		return nil, c.engineError(name, err)
	}
	return empty, nil
}

// checkTagChars applies AWS's two character rules to tags, with their texts (kinesalite
// recorded both): a set of allowed characters, and then, although that set lists it, no '%'.
func checkTagChars(name string, tags map[string]string) *awsjson.Error {
	percent := false
	for k, v := range tags {
		if !awsjson.TagChars(k) || !awsjson.TagChars(v) {
			return awsjson.NewError("InvalidArgumentException", "Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @ :.")
		}
		percent = percent || strings.Contains(k, "%") || strings.Contains(v, "%")
	}
	if percent {
		return awsjson.NewError("InvalidArgumentException", fmt.Sprintf("Failed to add tags to stream %s under account %s because some tags contained illegal characters. The allowed characters are Unicode letters, white-spaces, '_',',','/','=','+','-','@',':'.", name, awsjson.Account))
	}
	return nil
}

// tooManyTags is AWS's answer to a stream passing 50 tags; an InvalidArgumentException, not a
// LimitExceededException (kinesalite's tests against AWS record the type).
func tooManyTags(name string) *awsjson.Error {
	return awsjson.NewError("InvalidArgumentException", fmt.Sprintf("Failed to add tags to stream %s under account %s because a given stream cannot have more than %d tags associated with it.", name, awsjson.Account, tagsPerStream))
}

func (c *call) addTags(body []byte) ([]byte, *awsjson.Error) {
	var in struct {
		streamRef
		Tags map[string]string `json:"Tags"`
	}
	if err := awsjson.Decode(body, &in); err != nil {
		return nil, err
	}
	var v validator
	if v.Required("tags", in.Tags != nil) {
		v.TagMap("tags", in.Tags, tagMapMax)
	}
	v.streamName("streamName", in.StreamName)
	v.streamARN("streamARN", in.StreamARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	name, aerr := c.target(in.StreamName, in.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := c.active(name); aerr != nil {
		return nil, aerr
	}
	if err := checkTagChars(name, in.Tags); err != nil {
		return nil, err
	}
	err := c.h.eng.UpdateTags(name, func(tags map[string]string) error {
		return awsjson.MergeTags(tags, in.Tags, tagsPerStream, func() error { return tooManyTags(name) })
	})
	if err != nil {
		return nil, c.engineError(name, err)
	}
	return empty, nil
}

func (c *call) removeTags(body []byte) ([]byte, *awsjson.Error) {
	var in struct {
		streamRef
		TagKeys []string `json:"TagKeys"`
	}
	if err := awsjson.Decode(body, &in); err != nil {
		return nil, err
	}
	var v validator
	if v.Required("tagKeys", in.TagKeys != nil) {
		v.TagKeyList("tagKeys", in.TagKeys, tagKeysMax)
	}
	v.streamName("streamName", in.StreamName)
	v.streamARN("streamARN", in.StreamARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	name, aerr := c.target(in.StreamName, in.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := c.active(name); aerr != nil {
		return nil, aerr
	}
	err := c.h.eng.UpdateTags(name, func(tags map[string]string) error {
		for _, k := range in.TagKeys {
			delete(tags, k)
		}
		return nil
	})
	if err != nil {
		return nil, c.engineError(name, err)
	}
	return empty, nil
}

func (c *call) listTags(body []byte) ([]byte, *awsjson.Error) {
	var in struct {
		streamRef
		ExclusiveStartTagKey *string `json:"ExclusiveStartTagKey"`
		Limit                *int32  `json:"Limit"`
	}
	if err := awsjson.Decode(body, &in); err != nil {
		return nil, err
	}
	var v validator
	v.IntRange("limit", in.Limit, 1, 50)
	v.Str("exclusiveStartTagKey", in.ExclusiveStartTagKey, 1, 128, nil, "")
	v.streamName("streamName", in.StreamName)
	v.streamARN("streamARN", in.StreamARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	info, aerr := c.describe(in.StreamName, in.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
	keys := make([]string, 0, len(info.Tags))
	for k := range info.Tags {
		if in.ExclusiveStartTagKey == nil || k > *in.ExclusiveStartTagKey {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	limit := 50
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	more := len(keys) > limit
	if more {
		keys = keys[:limit]
	}
	type tag struct {
		Key   string `json:"Key"`
		Value string `json:"Value"`
	}
	tags := make([]tag, 0, len(keys))
	for _, k := range keys {
		tags = append(tags, tag{k, info.Tags[k]})
	}
	return awsjson.Marshal(map[string]any{"Tags": tags, "HasMoreTags": more})
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

func (c *call) enableMonitoring(body []byte) ([]byte, *awsjson.Error) {
	return c.enhancedMonitoring(body, true)
}

func (c *call) disableMonitoring(body []byte) ([]byte, *awsjson.Error) {
	return c.enhancedMonitoring(body, false)
}

// enhancedMonitoring adds the named metrics to the stream's enabled set, or removes them,
// and answers with the set before (Current) and after (Desired), as AWS does. localpipe
// publishes no shard-level metrics; it keeps the names so DescribeStream shows them.
func (c *call) enhancedMonitoring(body []byte, enable bool) ([]byte, *awsjson.Error) {
	var in struct {
		streamRef
		ShardLevelMetrics []string `json:"ShardLevelMetrics"`
	}
	if err := awsjson.Decode(body, &in); err != nil {
		return nil, err
	}
	var v validator
	v.streamName("streamName", in.StreamName)
	if v.Required("shardLevelMetrics", in.ShardLevelMetrics != nil) {
		v.shardLevelMetrics("shardLevelMetrics", in.ShardLevelMetrics)
	}
	v.streamARN("streamARN", in.StreamARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	info, aerr := c.describe(in.StreamName, in.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
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

// ---- records ----

type putRecordIn struct {
	streamRef
	Data                      []byte  `json:"Data"`
	PartitionKey              *string `json:"PartitionKey"`
	ExplicitHashKey           *string `json:"ExplicitHashKey"`
	SequenceNumberForOrdering *string `json:"SequenceNumberForOrdering"`
}

// explicitHash parses an ExplicitHashKey that passed the model's pattern.
func explicitHash(s *string) (*stream.HashKey, *awsjson.Error) {
	if s == nil {
		return nil, nil
	}
	h, err := stream.ParseHashKey(*s)
	if err != nil {
		return nil, awsjson.NewError("InvalidArgumentException", "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was "+*s)
	}
	return &h, nil
}

// recordSize checks a record against the stream's limit, which covers data and key.
func recordSize(path string, data []byte, key string, maxKiB int) *awsjson.Error {
	if maxKiB <= 0 {
		maxKiB = stream.DefaultMaxRecordSizeKiB
	}
	limit := maxKiB << 10
	if len(data) > limit {
		var v validator
		v.Blob(path, data, limit)
		return v.Err()
	}
	if len(data)+len(key) > limit {
		return awsjson.NewError("InvalidArgumentException", fmt.Sprintf("Record size %d bytes (data plus partition key) exceeds the maximum record size of %d bytes.", len(data)+len(key), limit))
	}
	return nil
}

func (c *call) putRecord(body []byte) ([]byte, *awsjson.Error) {
	start := time.Now()
	var in putRecordIn
	if err := awsjson.Decode(body, &in); err != nil {
		return nil, err
	}
	var v validator
	v.Str("sequenceNumberForOrdering", in.SequenceNumberForOrdering, 0, 0, seqNumberRE, seqNumberPattern)
	if v.Required("partitionKey", in.PartitionKey != nil) {
		v.Str("partitionKey", in.PartitionKey, 1, 256, nil, "")
	}
	v.Str("explicitHashKey", in.ExplicitHashKey, 0, 0, hashKeyRE, hashKeyPattern)
	if v.Required("data", in.Data != nil) {
		v.Blob("data", in.Data, maxDataModel)
	}
	v.streamName("streamName", in.StreamName)
	v.streamARN("streamARN", in.StreamARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	name, aerr := c.target(in.StreamName, in.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
	// AWS looks for the stream first, then at the hash key and the ordering number.
	info, err := c.h.eng.Describe(name)
	if err != nil || info.Hidden {
		return nil, notFound(name)
	}
	hk, aerr := explicitHash(in.ExplicitHashKey)
	if aerr != nil {
		return nil, aerr
	}
	if o := in.SequenceNumberForOrdering; o != nil {
		// Beyond this check the number needs no work: a shard's records are already
		// strictly ordered by arrival at its writer. AWS rejects numbers it did not issue
		// and ones from the future.
		if p, ok := decodeSeq(*o); !ok || p.arrival > c.now.Unix() {
			return nil, awsjson.NewError("InvalidArgumentException", fmt.Sprintf("ExclusiveMinimumSequenceNumber %s used in PutRecord on stream %s under account %s is invalid.", *o, name, awsjson.Account))
		}
	}
	if aerr := recordSize("data", in.Data, *in.PartitionKey, info.MaxRecordSizeKiB); aerr != nil {
		return nil, aerr
	}
	if !c.h.space.Writable() {
		return nil, noSpace()
	}
	res, err := c.h.eng.Put(c.ctx, name, []stream.PutEntry{{PartitionKey: *in.PartitionKey, ExplicitHashKey: hk, Data: in.Data}})
	if err != nil {
		return nil, c.engineError(name, err)
	}
	r := res[0]
	m := c.h.metrics.stream(name)
	m.incomingRecords.Inc()
	m.incomingBytes.Add(float64(len(in.Data)))
	m.putRecordSuccess.Inc()
	m.putRecordLatency.Observe(time.Since(start).Seconds())
	seq := seqFor(r.ShardCreated, r.Shard, r.Position, r.Arrival)
	if c.h.onPut != nil {
		c.h.onPut(c.ctx, info.Name, Put{ShardID: shardName(r.Shard), SequenceNumber: seq, Shard: r.Shard, Position: r.Position})
	}
	out := make([]byte, 0, 128)
	out = append(out, `{"SequenceNumber":"`...)
	out = append(out, seq...)
	out = append(out, `","ShardId":"`...)
	out = append(out, shardName(r.Shard)...)
	out = append(out, `"}`...)
	return out, nil
}

type putRecordsEntry struct {
	Data            []byte  `json:"Data"`
	ExplicitHashKey *string `json:"ExplicitHashKey"`
	PartitionKey    *string `json:"PartitionKey"`
}

func (c *call) putRecords(body []byte) ([]byte, *awsjson.Error) {
	start := time.Now()
	var in struct {
		Records []putRecordsEntry `json:"Records"`
		streamRef
	}
	if err := awsjson.Decode(body, &in); err != nil {
		return nil, err
	}
	var v validator
	if v.Required("records", in.Records != nil) {
		if len(in.Records) < 1 {
			v.Fail("'[]'", "records", "have length greater than or equal to 1")
		}
		if len(in.Records) > 500 {
			v.Fail(awsjson.Quote(fmt.Sprintf("[%d records]", len(in.Records))), "records", "have length less than or equal to 500")
		}
		for i := range in.Records {
			e := &in.Records[i]
			p := fmt.Sprintf("records.%d.member.", i+1)
			if v.Required(p+"partitionKey", e.PartitionKey != nil) {
				v.Str(p+"partitionKey", e.PartitionKey, 1, 256, nil, "")
			}
			if v.Required(p+"data", e.Data != nil) {
				v.Blob(p+"data", e.Data, maxDataModel)
			}
			v.Str(p+"explicitHashKey", e.ExplicitHashKey, 0, 0, hashKeyRE, hashKeyPattern)
		}
	}
	v.streamName("streamName", in.StreamName)
	v.streamARN("streamARN", in.StreamARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	name, aerr := c.target(in.StreamName, in.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
	info, err := c.h.eng.Describe(name)
	if err != nil || info.Hidden {
		return nil, notFound(name)
	}
	entries := make([]stream.PutEntry, len(in.Records))
	total, dataBytes := 0, 0
	for i, e := range in.Records {
		hk, aerr := explicitHash(e.ExplicitHashKey)
		if aerr != nil {
			return nil, aerr
		}
		if aerr := recordSize(fmt.Sprintf("records.%d.member.data", i+1), e.Data, *e.PartitionKey, info.MaxRecordSizeKiB); aerr != nil {
			return nil, aerr
		}
		total += len(e.Data) + len(*e.PartitionKey)
		dataBytes += len(e.Data)
		entries[i] = stream.PutEntry{PartitionKey: *e.PartitionKey, ExplicitHashKey: hk, Data: e.Data}
	}
	if total > putRecordsMaxSize {
		return nil, awsjson.NewError("InvalidArgumentException", "Records size exceeds 5 MB limit")
	}
	if awsjson.IsCheckOnly(c.ctx) {
		return []byte("{}"), nil
	}
	if !c.h.space.Writable() {
		return nil, noSpace()
	}
	res, err := c.h.eng.Put(c.ctx, name, entries)
	if err != nil {
		return nil, c.engineError(name, err)
	}
	m := c.h.metrics.stream(name)
	m.incomingRecords.Add(float64(len(res)))
	m.incomingBytes.Add(float64(dataBytes))
	m.putRecordsOK.Add(float64(len(res)))
	m.putRecordsSuccess.Inc()
	m.putRecordsLatency.Observe(time.Since(start).Seconds())
	out := make([]byte, 0, 40+len(res)*100)
	out = append(out, `{"FailedRecordCount":0,"Records":[`...)
	for i, r := range res {
		if i > 0 {
			out = append(out, ',')
		}
		seq := seqFor(r.ShardCreated, r.Shard, r.Position, r.Arrival)
		if c.h.onPut != nil {
			c.h.onPut(c.ctx, info.Name, Put{ShardID: shardName(r.Shard), SequenceNumber: seq, Shard: r.Shard, Position: r.Position})
		}
		out = append(out, `{"SequenceNumber":"`...)
		out = append(out, seq...)
		out = append(out, `","ShardId":"`...)
		out = append(out, shardName(r.Shard)...)
		out = append(out, `"}`...)
	}
	out = append(out, "]}"...)
	return out, nil
}

func (c *call) getShardIterator(body []byte) ([]byte, *awsjson.Error) {
	var in struct {
		streamRef
		ShardId                *string  `json:"ShardId"`
		ShardIteratorType      *string  `json:"ShardIteratorType"`
		StartingSequenceNumber *string  `json:"StartingSequenceNumber"`
		Timestamp              *float64 `json:"Timestamp"`
	}
	if err := awsjson.Decode(body, &in); err != nil {
		return nil, err
	}
	var v validator
	if v.Required("shardId", in.ShardId != nil) {
		v.shardID("shardId", in.ShardId)
	}
	if v.Required("shardIteratorType", in.ShardIteratorType != nil) {
		v.Enum("shardIteratorType", in.ShardIteratorType, "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER", "TRIM_HORIZON", "LATEST", "AT_TIMESTAMP")
	}
	v.Str("startingSequenceNumber", in.StartingSequenceNumber, 0, 0, seqNumberRE, seqNumberPattern)
	v.streamName("streamName", in.StreamName)
	v.streamARN("streamARN", in.StreamARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	name, aerr := c.target(in.StreamName, in.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
	// AWS checks, in this order: the shard id's form, the stream, the shard, then the
	// iterator type against the sequence number (kinesalite's getShardIterator records it).
	idx, ok := shardIndex(*in.ShardId)
	if !ok {
		return nil, awsjson.NewError("ResourceNotFoundException", fmt.Sprintf("Could not find shard %s in stream %s under account %s.", *in.ShardId, name, awsjson.Account))
	}
	shardMissing := awsjson.NewError("ResourceNotFoundException", fmt.Sprintf("Shard %s in stream %s under account %s does not exist", shardName(idx), name, awsjson.Account))
	info, err := c.h.eng.Describe(name)
	if err != nil || info.Hidden || idx >= len(info.Shards) {
		// For a missing stream, too, AWS names the shard rather than the stream.
		return nil, shardMissing
	}
	typ := *in.ShardIteratorType
	const either = "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified "
	switch {
	case in.StartingSequenceNumber != nil && (typ == "TRIM_HORIZON" || typ == "LATEST"):
		return nil, awsjson.NewError("InvalidArgumentException", either+typ+" and also a StartingSequenceNumber.")
	case in.StartingSequenceNumber == nil && (typ == "AT_SEQUENCE_NUMBER" || typ == "AFTER_SEQUENCE_NUMBER"):
		return nil, awsjson.NewError("InvalidArgumentException", either+typ+" and no StartingSequenceNumber.")
	}
	if info.Status != stream.StatusActive && info.Status != stream.StatusUpdating {
		return nil, c.engineError(name, &stream.NotActiveError{Name: name, Status: info.Status})
	}
	pos, aerr := c.startPosition(name, info.Shards[idx], typ, in.StartingSequenceNumber, in.Timestamp)
	if aerr != nil {
		return nil, aerr
	}
	it := iterator{streamCreated: info.Created.UnixNano(), shard: idx, position: pos, issuedMs: c.now.UnixMilli(), stream: name}
	out := make([]byte, 0, 200)
	out = append(out, `{"ShardIterator":"`...)
	out = append(out, it.encode()...)
	return append(out, `"}`...), nil
}

// startPosition resolves a starting position (GetShardIterator's iterator type, or
// SubscribeToShard's StartingPosition) to a position in the shard.
func (c *call) startPosition(name string, sh stream.ShardInfo, typ string, startSeq *string, timestamp *float64) (uint64, *awsjson.Error) {
	var pos uint64
	idx := sh.Index
	switch typ {
	case "TRIM_HORIZON", "LATEST":
		b, err := c.h.eng.Bounds(name, idx)
		if err != nil {
			return 0, c.engineError(name, err)
		}
		pos = b.First
		if typ == "LATEST" {
			pos = b.Tip
		}
	case "AT_TIMESTAMP":
		if timestamp == nil {
			return 0, awsjson.NewError("InvalidArgumentException", "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.")
		}
		ms := epochMillis(*timestamp)
		if ms > c.now.UnixMilli() {
			return 0, awsjson.NewError("InvalidArgumentException", fmt.Sprintf("The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: %d, currentTimestampInMillis: %d", ms, c.now.UnixMilli()))
		}
		p, err := c.h.eng.FindTime(name, idx, time.UnixMilli(ms))
		if err != nil {
			return 0, c.engineError(name, err)
		}
		pos = p
	default:
		seq := *startSeq
		invalid := fmt.Sprintf("StartingSequenceNumber %s used in GetShardIterator on shard %s in stream %s under account %s is invalid", seq, sh.ID, name, awsjson.Account)
		p, ok := decodeSeq(seq)
		if !ok {
			return 0, awsjson.NewError("InvalidArgumentException", invalid+".")
		}
		if p.shard != idx {
			return 0, awsjson.NewError("InvalidArgumentException", fmt.Sprintf("Invalid StartingSequenceNumber. It encodes %s, while it was used in a call to a shard with %s", shardName(p.shard), sh.ID))
		}
		if p.shardCreated != sh.Created.Unix() {
			return 0, awsjson.NewError("InvalidArgumentException", invalid+" because it did not come from this stream.")
		}
		b, err := c.h.eng.Bounds(name, idx)
		if err != nil {
			return 0, c.engineError(name, err)
		}
		if seq == seqFor(sh.Created, idx, 0, sh.Created) && !c.firstRecordIs(name, idx, sh) {
			// The shard's StartingSequenceNumber, not a record's: reading at or after it
			// starts at the shard's first position, even before any record exists
			// (SubscribeToShard's continuation on an empty shard is this number).
			return 0, nil
		}
		if p.position >= b.Tip {
			// Well formed, but not issued yet: an iterator there would skip the records
			// that get those positions.
			return 0, awsjson.NewError("InvalidArgumentException", invalid+".")
		}
		pos = p.position
		if typ == "AFTER_SEQUENCE_NUMBER" {
			pos++
		}
	}
	return pos, nil
}

// firstRecordIs reports whether the shard's first record has the number the shard starts
// with, which happens when it arrived in the second the shard was created.
func (c *call) firstRecordIs(name string, idx int, sh stream.ShardInfo) bool {
	res, err := c.h.eng.Read(name, idx, 0, 1, 0)
	return err == nil && len(res.Records) == 1 && res.Records[0].Position == 0 &&
		res.Records[0].Arrival.Unix() == sh.Created.Unix()
}

// javaDate formats t as java.util.Date.toString does, which AWS's expiry message uses.
func javaDate(t time.Time) string { return t.UTC().Format("Mon Jan 02 15:04:05 MST 2006") }

func (c *call) getRecords(body []byte) ([]byte, *awsjson.Error) {
	start := time.Now()
	var in struct {
		ShardIterator *string `json:"ShardIterator"`
		Limit         *int32  `json:"Limit"`
		StreamARN     *string `json:"StreamARN"`
	}
	if err := awsjson.Decode(body, &in); err != nil {
		return nil, err
	}
	var v validator
	v.IntRange("limit", in.Limit, 1, 10000)
	if v.Required("shardIterator", in.ShardIterator != nil) {
		v.Str("shardIterator", in.ShardIterator, 1, 512, nil, "")
	}
	v.streamARN("streamARN", in.StreamARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	it, err := decodeIterator(*in.ShardIterator)
	if err != nil {
		return nil, awsjson.NewError("InvalidArgumentException", "Invalid ShardIterator.")
	}
	if in.StreamARN != nil {
		if n, aerr := c.target(nil, in.StreamARN); aerr != nil || n != it.stream {
			return nil, awsjson.NewError("InvalidArgumentException", "Invalid ShardIterator.")
		}
	}
	if it.issuedMs > c.now.UnixMilli() {
		return nil, awsjson.NewError("InvalidArgumentException", "Invalid ShardIterator.") // issued in the future
	}
	if age := c.now.UnixMilli() - it.issuedMs; age > iteratorTTL.Milliseconds() {
		return nil, awsjson.NewError("ExpiredIteratorException", fmt.Sprintf("Iterator expired. The iterator was created at time %s while right now it is %s which is further in the future than the tolerated delay of %d milliseconds.",
			javaDate(time.UnixMilli(it.issuedMs)), javaDate(c.now), iteratorTTL.Milliseconds()))
	}
	info, derr := c.h.eng.Describe(it.stream)
	if derr != nil || info.Hidden || info.Created.UnixNano() != it.streamCreated || it.shard >= len(info.Shards) {
		// The stream was deleted, and perhaps re-created: the iterator's shard is gone, which
		// AWS reports as ResourceNotFound naming the shard (as for a deleted stream), not as
		// an invalid iterator, since the iterator itself is genuine.
		return nil, awsjson.NewError("ResourceNotFoundException", fmt.Sprintf("Shard %s in stream %s under account %s does not exist", shardName(it.shard), it.stream, awsjson.Account))
	}
	limit := 10000
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	res, err := c.h.eng.Read(it.stream, it.shard, it.position, limit, getRecordsMaxSize)
	if err != nil {
		return nil, c.engineError(it.stream, err)
	}
	sh := info.Shards[it.shard]
	next := iterator{streamCreated: it.streamCreated, shard: it.shard, position: res.Next, issuedMs: c.now.UnixMilli(), stream: it.stream}
	behind := int64(0)
	if n := len(res.Records); n > 0 && res.Next < res.Tip {
		// Behind the tip: by the age of the last record returned.
		behind = max(0, c.now.UnixMilli()-res.Records[n-1].Arrival.UnixMilli())
	}
	// At a closed shard's end the reader moves on to the children: no next iterator.
	ended := sh.Closed && res.Next >= min(sh.End, res.Tip)
	var bytes int
	out := make([]byte, 0, recordsSize(res.Records))
	if ended {
		ch, aerr := awsjson.Marshal(childShards(info, sh))
		if aerr != nil {
			return nil, aerr
		}
		out = append(out, `{"ChildShards":`...)
		out = append(out, ch...)
		out = append(out, `,"MillisBehindLatest":`...)
		out = strconv.AppendInt(out, behind, 10)
	} else {
		out = append(out, `{"MillisBehindLatest":`...)
		out = strconv.AppendInt(out, behind, 10)
		out = append(out, `,"NextShardIterator":"`...)
		out = append(out, next.encode()...)
		out = append(out, '"')
	}
	out = append(out, `,"Records":[`...)
	out, bytes = appendRecords(out, sh, res.Records)
	out = append(out, "]}"...)
	m := c.h.metrics.stream(it.stream)
	m.getRecordsRecords.Add(float64(len(res.Records)))
	m.getRecordsBytes.Add(float64(bytes))
	m.outgoingRecords.Add(float64(len(res.Records)))
	m.outgoingBytes.Add(float64(bytes))
	m.getRecordsSuccess.Inc()
	m.iteratorAge.Set(float64(behind))
	m.getRecordsLatency.Observe(time.Since(start).Seconds())
	return out, nil
}

// recordsSize estimates the JSON of records, so their encoding allocates once.
func recordsSize(records []stream.Record) int {
	size := 200
	for _, r := range records {
		size += 160 + len(r.PartitionKey) + base64.StdEncoding.EncodedLen(len(r.Data))
	}
	return size
}

// appendRecords appends records as the members of a Records array (GetRecords, and
// SubscribeToShard's events), and returns the bytes of data they carry.
func appendRecords(out []byte, sh stream.ShardInfo, records []stream.Record) ([]byte, int) {
	n := 0
	for i, r := range records {
		if i > 0 {
			out = append(out, ',')
		}
		n += len(r.Data)
		out = append(out, `{"ApproximateArrivalTimestamp":`...)
		out = awsjson.AppendTimestamp(out, r.Arrival)
		out = append(out, `,"Data":"`...)
		out = base64.StdEncoding.AppendEncode(out, r.Data)
		out = append(out, `","PartitionKey":`...)
		out = awsjson.AppendString(out, r.PartitionKey)
		out = append(out, `,"SequenceNumber":"`...)
		out = append(out, seqFor(sh.Created, sh.Index, r.Position, r.Arrival)...)
		out = append(out, `"}`...)
	}
	return out, n
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
