package kinesisapi

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
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
	minRetention      = 24
	maxRetention      = 8760
)

func marshal(v any) ([]byte, *awsjson.Error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, &awsjson.Error{Status: 500, Type: "InternalFailure", Message: err.Error()}
	}
	return b, nil
}

var empty = []byte("{}")

// ---- stream lifecycle ----

type streamModeDetails struct {
	StreamMode *string `json:"StreamMode"`
}

type createStreamIn struct {
	StreamName         *string            `json:"StreamName"`
	ShardCount         *int64             `json:"ShardCount"`
	StreamModeDetails  *streamModeDetails `json:"StreamModeDetails"`
	Tags               map[string]string  `json:"Tags"`
	MaxRecordSizeInKiB *int64             `json:"MaxRecordSizeInKiB"`
}

func (c *call) createStream(body []byte) ([]byte, *awsjson.Error) {
	var in createStreamIn
	if err := awsjson.Decode(body, &in); err != nil {
		return nil, err
	}
	var v validator
	if v.required("streamName", in.StreamName != nil) {
		v.streamName("streamName", in.StreamName)
	}
	v.intRange("shardCount", in.ShardCount, 1, 0)
	if in.StreamModeDetails != nil && v.required("streamModeDetails.streamMode", in.StreamModeDetails.StreamMode != nil) {
		v.enum("streamModeDetails.streamMode", in.StreamModeDetails.StreamMode, stream.ModeProvisioned, stream.ModeOnDemand)
	}
	v.intRange("maxRecordSizeInKiB", in.MaxRecordSizeInKiB, 1024, 10240)
	validateTags(&v, "tags", in.Tags, 0)
	if err := v.err(); err != nil {
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
			return nil, awsjson.NewError("ValidationException", "ShardCount is not allowed for ON_DEMAND streams")
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
	if err := checkTagChars(in.Tags); err != nil {
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
	return empty, nil
}

func (c *call) openShards() int {
	n := 0
	for _, s := range c.h.eng.List() {
		n += len(s.Shards)
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
	if err := v.err(); err != nil {
		return nil, err
	}
	name, aerr := c.target(in.StreamName, in.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
	if err := c.h.eng.DeleteStream(name); err != nil {
		return nil, c.engineError(name, err)
	}
	return empty, nil
}

type hashKeyRange struct {
	StartingHashKey string `json:"StartingHashKey"`
	EndingHashKey   string `json:"EndingHashKey"`
}

type seqRange struct {
	StartingSequenceNumber string  `json:"StartingSequenceNumber"`
	EndingSequenceNumber   *string `json:"EndingSequenceNumber,omitempty"`
}

type shardOut struct {
	ShardId               string       `json:"ShardId"`
	ParentShardId         *string      `json:"ParentShardId,omitempty"`
	AdjacentParentShardId *string      `json:"AdjacentParentShardId,omitempty"`
	HashKeyRange          hashKeyRange `json:"HashKeyRange"`
	SequenceNumberRange   seqRange     `json:"SequenceNumberRange"`
}

func shardJSON(sh stream.ShardInfo) shardOut {
	return shardOut{
		ShardId:             sh.ID,
		HashKeyRange:        hashKeyRange{sh.StartKey.String(), sh.EndKey.String()},
		SequenceNumberRange: seqRange{StartingSequenceNumber: seqFor(sh.Created, sh.Index, 0, sh.Created)},
	}
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

// shardIndex parses a shard id in AWS's form. AWS also accepts the bare number after the
// prefix's dash ("shardId-1" and "1" name shard 1), which some clients rely on.
var shardIDRE = regexp.MustCompile(`^(?:shardId-)?(\d{1,20})$`)

func shardIndex(id string) (int, bool) {
	m := shardIDRE.FindStringSubmatch(id)
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n > math.MaxInt32 {
		return 0, false
	}
	return n, true
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
		Limit                 *int64  `json:"Limit"`
		ExclusiveStartShardId *string `json:"ExclusiveStartShardId"`
	}
	if err := awsjson.Decode(body, &in); err != nil {
		return nil, err
	}
	var v validator
	v.streamName("streamName", in.StreamName)
	v.intRange("limit", in.Limit, 1, 10000)
	v.shardID("exclusiveStartShardId", in.ExclusiveStartShardId)
	v.streamARN("streamARN", in.StreamARN)
	if err := v.err(); err != nil {
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
	shards := shardsAfter(info.Shards, in.ExclusiveStartShardId)
	more := len(shards) > limit
	if more {
		shards = shards[:limit]
	}
	out := make([]shardOut, 0, len(shards))
	for _, sh := range shards {
		out = append(out, shardJSON(sh))
	}
	return marshal(map[string]any{"StreamDescription": map[string]any{
		"StreamName":              info.Name,
		"StreamARN":               c.arn(info.Name),
		"StreamStatus":            info.Status,
		"StreamModeDetails":       modeOut{info.Mode},
		"Shards":                  out,
		"HasMoreShards":           more,
		"RetentionPeriodHours":    info.RetentionHours,
		"StreamCreationTimestamp": epochSeconds(info.Created),
		"EnhancedMonitoring":      []enhancedMonitoring{{ShardLevelMetrics: []string{}}},
		"EncryptionType":          info.EncryptionType,
	}})
}

func (c *call) describeStreamSummary(body []byte) ([]byte, *awsjson.Error) {
	var in streamRef
	if err := awsjson.Decode(body, &in); err != nil {
		return nil, err
	}
	var v validator
	in.validate(&v)
	if err := v.err(); err != nil {
		return nil, err
	}
	info, aerr := c.describe(in.StreamName, in.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
	return marshal(map[string]any{"StreamDescriptionSummary": map[string]any{
		"StreamName":              info.Name,
		"StreamARN":               c.arn(info.Name),
		"StreamStatus":            info.Status,
		"StreamModeDetails":       modeOut{info.Mode},
		"RetentionPeriodHours":    info.RetentionHours,
		"StreamCreationTimestamp": epochSeconds(info.Created),
		"EnhancedMonitoring":      []enhancedMonitoring{{ShardLevelMetrics: []string{}}},
		"EncryptionType":          info.EncryptionType,
		"OpenShardCount":          len(info.Shards),
		"ConsumerCount":           0,
		"MaxRecordSizeInKiB":      info.MaxRecordSizeKiB,
	}})
}

func (c *call) listStreams(body []byte) ([]byte, *awsjson.Error) {
	var in struct {
		Limit                    *int64  `json:"Limit"`
		ExclusiveStartStreamName *string `json:"ExclusiveStartStreamName"`
		NextToken                *string `json:"NextToken"`
	}
	if err := awsjson.Decode(body, &in); err != nil {
		return nil, err
	}
	var v validator
	v.intRange("limit", in.Limit, 1, 10000)
	v.streamName("exclusiveStartStreamName", in.ExclusiveStartStreamName)
	v.str("nextToken", in.NextToken, 1, 1048576, nil, "")
	if err := v.err(); err != nil {
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
			"StreamModeDetails": modeOut{s.Mode}, "StreamCreationTimestamp": epochSeconds(s.Created),
		})
	}
	out := map[string]any{"StreamNames": names, "HasMoreStreams": more, "StreamSummaries": summaries}
	if more {
		out["NextToken"] = base64.RawURLEncoding.EncodeToString([]byte("ls:" + names[len(names)-1]))
	}
	return marshal(out)
}

type shardFilter struct {
	Type      *string  `json:"Type"`
	ShardId   *string  `json:"ShardId"`
	Timestamp *float64 `json:"Timestamp"`
}

// listShardsToken is the opaque NextToken of ListShards.
type listShardsToken struct {
	Stream  string `json:"s"`
	Created int64  `json:"c"`
	After   int    `json:"a"`
}

func (c *call) listShards(body []byte) ([]byte, *awsjson.Error) {
	var in struct {
		streamRef
		NextToken               *string      `json:"NextToken"`
		ExclusiveStartShardId   *string      `json:"ExclusiveStartShardId"`
		MaxResults              *int64       `json:"MaxResults"`
		StreamCreationTimestamp *float64     `json:"StreamCreationTimestamp"`
		ShardFilter             *shardFilter `json:"ShardFilter"`
	}
	if err := awsjson.Decode(body, &in); err != nil {
		return nil, err
	}
	var v validator
	v.streamName("streamName", in.StreamName)
	v.str("nextToken", in.NextToken, 1, 1048576, nil, "")
	v.shardID("exclusiveStartShardId", in.ExclusiveStartShardId)
	v.intRange("maxResults", in.MaxResults, 1, 10000)
	if f := in.ShardFilter; f != nil {
		if v.required("shardFilter.type", f.Type != nil) {
			v.enum("shardFilter.type", f.Type, "AFTER_SHARD_ID", "AT_TRIM_HORIZON", "FROM_TRIM_HORIZON", "AT_LATEST", "AT_TIMESTAMP", "FROM_TIMESTAMP")
		}
		v.shardID("shardFilter.shardId", f.ShardId)
	}
	v.streamARN("streamARN", in.StreamARN)
	if err := v.err(); err != nil {
		return nil, err
	}
	limit := 1000
	if in.MaxResults != nil {
		limit = int(*in.MaxResults)
	}
	var shards []stream.ShardInfo
	var name string
	switch {
	case in.NextToken != nil:
		if in.StreamName != nil || in.StreamARN != nil {
			return nil, awsjson.NewError("InvalidArgumentException", "NextToken and StreamName cannot be provided together.")
		}
		b, err := base64.RawURLEncoding.DecodeString(*in.NextToken)
		var tok listShardsToken
		if err != nil || json.Unmarshal(b, &tok) != nil || tok.Stream == "" {
			return nil, awsjson.NewError("InvalidArgumentException", "Invalid NextToken.")
		}
		info, err := c.h.eng.Describe(tok.Stream)
		if err != nil || info.Created.UnixNano() != tok.Created {
			return nil, awsjson.NewError("ExpiredNextTokenException", "The NextToken has expired or the stream no longer exists.")
		}
		name = info.Name
		for _, sh := range info.Shards {
			if sh.Index > tok.After {
				shards = append(shards, sh)
			}
		}
	case in.StreamName == nil && in.StreamARN == nil:
		return nil, awsjson.NewError("InvalidArgumentException", "Either NextToken or StreamName should be provided.")
	default:
		info, aerr := c.describe(in.StreamName, in.StreamARN)
		if aerr != nil {
			return nil, aerr
		}
		name = info.Name
		shards = shardsAfter(info.Shards, in.ExclusiveStartShardId)
		if f := in.ShardFilter; f != nil && *f.Type == "AFTER_SHARD_ID" {
			if f.ShardId == nil {
				return nil, awsjson.NewError("InvalidArgumentException", "ShardId must be specified in ShardFilter when ShardFilter type is AFTER_SHARD_ID.")
			}
			shards = shardsAfter(shards, f.ShardId)
		}
		if f := in.ShardFilter; f != nil && (*f.Type == "AT_TIMESTAMP" || *f.Type == "FROM_TIMESTAMP") && f.Timestamp == nil {
			return nil, awsjson.NewError("InvalidArgumentException", "Timestamp must be specified in ShardFilter when ShardFilter type is "+*f.Type+".")
		}
		// Every shard is open (localpipe does not split or merge), so the remaining
		// filter types all select every shard.
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
		info, _ := c.h.eng.Describe(name)
		tok, _ := json.Marshal(listShardsToken{Stream: name, Created: info.Created.UnixNano(), After: shards[len(shards)-1].Index})
		out["NextToken"] = base64.RawURLEncoding.EncodeToString(tok)
	}
	return marshal(out)
}

// ---- retention, record size, tags ----

func (c *call) retention(body []byte, increase bool) ([]byte, *awsjson.Error) {
	var in struct {
		streamRef
		RetentionPeriodHours *int64 `json:"RetentionPeriodHours"`
	}
	if err := awsjson.Decode(body, &in); err != nil {
		return nil, err
	}
	var v validator
	v.streamName("streamName", in.StreamName)
	v.required("retentionPeriodHours", in.RetentionPeriodHours != nil)
	v.streamARN("streamARN", in.StreamARN)
	if err := v.err(); err != nil {
		return nil, err
	}
	name, aerr := c.target(in.StreamName, in.StreamARN)
	if aerr != nil {
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
		MaxRecordSizeInKiB *int64  `json:"MaxRecordSizeInKiB"`
	}
	if err := awsjson.Decode(body, &in); err != nil {
		return nil, err
	}
	var v validator
	v.streamARN("streamARN", in.StreamARN)
	if v.required("maxRecordSizeInKiB", in.MaxRecordSizeInKiB != nil) {
		v.intRange("maxRecordSizeInKiB", in.MaxRecordSizeInKiB, 1024, 10240)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	name, aerr := c.target(nil, in.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
	if err := c.h.eng.UpdateMaxRecordSize(name, int(*in.MaxRecordSizeInKiB)); err != nil {
		return nil, c.engineError(name, err)
	}
	return empty, nil
}

func validateTags(v *validator, path string, tags map[string]string, min int) {
	if tags == nil {
		return
	}
	if len(tags) < min {
		v.fail("'{}'", path, "have length greater than or equal to "+strconv.Itoa(min))
	}
	if len(tags) > 200 {
		v.fail(quote(fmt.Sprint(tags)), path, "have length less than or equal to 200")
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		kk, vv := k, tags[k]
		v.str(path+".key", &kk, 1, 128, nil, "")
		v.str(path+".value", &vv, 0, 256, nil, "")
	}
}

var tagCharsRE = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@%]*$`)

func checkTagChars(tags map[string]string) *awsjson.Error {
	for k, v := range tags {
		if !tagCharsRE.MatchString(k) || !tagCharsRE.MatchString(v) {
			return awsjson.NewError("InvalidArgumentException", "Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @.")
		}
	}
	return nil
}

func tooManyTags(name string) *awsjson.Error {
	return awsjson.NewError("LimitExceededException", fmt.Sprintf("Failed to add tags to stream %s under account %s because a given stream cannot have more than %d tags associated with it.", name, awsjson.Account, tagsPerStream))
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
	v.streamName("streamName", in.StreamName)
	if v.required("tags", in.Tags != nil) {
		validateTags(&v, "tags", in.Tags, 1)
	}
	v.streamARN("streamARN", in.StreamARN)
	if err := v.err(); err != nil {
		return nil, err
	}
	name, aerr := c.target(in.StreamName, in.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
	if err := checkTagChars(in.Tags); err != nil {
		return nil, err
	}
	err := c.h.eng.UpdateTags(name, func(tags map[string]string) error {
		n := len(tags)
		for k := range in.Tags {
			if _, ok := tags[k]; !ok {
				n++
			}
		}
		if n > tagsPerStream {
			return tooManyTags(name)
		}
		for k, val := range in.Tags {
			tags[k] = val
		}
		return nil
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
	v.streamName("streamName", in.StreamName)
	if v.required("tagKeys", in.TagKeys != nil) {
		if len(in.TagKeys) < 1 {
			v.fail("'[]'", "tagKeys", "have length greater than or equal to 1")
		}
		if len(in.TagKeys) > 50 {
			v.fail(quote("["+strings.Join(in.TagKeys, ", ")+"]"), "tagKeys", "have length less than or equal to 50")
		}
		for i := range in.TagKeys {
			v.str(fmt.Sprintf("tagKeys.%d.member", i+1), &in.TagKeys[i], 1, 128, nil, "")
		}
	}
	v.streamARN("streamARN", in.StreamARN)
	if err := v.err(); err != nil {
		return nil, err
	}
	name, aerr := c.target(in.StreamName, in.StreamARN)
	if aerr != nil {
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
		Limit                *int64  `json:"Limit"`
	}
	if err := awsjson.Decode(body, &in); err != nil {
		return nil, err
	}
	var v validator
	v.streamName("streamName", in.StreamName)
	v.str("exclusiveStartTagKey", in.ExclusiveStartTagKey, 1, 128, nil, "")
	v.intRange("limit", in.Limit, 1, 50)
	v.streamARN("streamARN", in.StreamARN)
	if err := v.err(); err != nil {
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
	return marshal(map[string]any{"Tags": tags, "HasMoreTags": more})
}

func (c *call) describeLimits(body []byte) ([]byte, *awsjson.Error) {
	var in struct{}
	if err := awsjson.Decode(body, &in); err != nil {
		return nil, err
	}
	open, onDemand := 0, 0
	for _, s := range c.h.eng.List() {
		open += len(s.Shards)
		if s.Mode == stream.ModeOnDemand {
			onDemand++
		}
	}
	return marshal(map[string]any{"ShardLimit": shardLimit, "OpenShardCount": open,
		"OnDemandStreamCount": onDemand, "OnDemandStreamCountLimit": 50})
}

// enhancedMonitoring accepts Enable/DisableEnhancedMonitoring and reports no shard-level
// metrics, since localpipe keeps only stream-level ones.
func (c *call) enhancedMonitoring(body []byte) ([]byte, *awsjson.Error) {
	var in struct {
		streamRef
		ShardLevelMetrics []string `json:"ShardLevelMetrics"`
	}
	if err := awsjson.Decode(body, &in); err != nil {
		return nil, err
	}
	var v validator
	v.streamName("streamName", in.StreamName)
	v.required("shardLevelMetrics", in.ShardLevelMetrics != nil)
	v.streamARN("streamARN", in.StreamARN)
	if err := v.err(); err != nil {
		return nil, err
	}
	info, aerr := c.describe(in.StreamName, in.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
	return marshal(map[string]any{"StreamName": info.Name, "StreamARN": c.arn(info.Name),
		"CurrentShardLevelMetrics": []string{}, "DesiredShardLevelMetrics": []string{}})
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
	limit := maxKiB << 10
	if len(data) > limit {
		var v validator
		v.blob(path, data, limit)
		return v.err()
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
	v.streamName("streamName", in.StreamName)
	v.required("data", in.Data != nil)
	v.blob("data", in.Data, 10<<20)
	if v.required("partitionKey", in.PartitionKey != nil) {
		v.str("partitionKey", in.PartitionKey, 1, 256, nil, "")
	}
	v.str("explicitHashKey", in.ExplicitHashKey, 0, 0, hashKeyRE, hashKeyPattern)
	v.str("sequenceNumberForOrdering", in.SequenceNumberForOrdering, 0, 0, seqNumberRE, seqNumberPattern)
	v.streamARN("streamARN", in.StreamARN)
	if err := v.err(); err != nil {
		return nil, err
	}
	name, aerr := c.target(in.StreamName, in.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
	hk, aerr := explicitHash(in.ExplicitHashKey)
	if aerr != nil {
		return nil, aerr
	}
	info, err := c.h.eng.Describe(name)
	if err != nil || info.Hidden {
		return nil, notFound(name)
	}
	if aerr := recordSize("data", in.Data, *in.PartitionKey, info.MaxRecordSizeKiB); aerr != nil {
		return nil, aerr
	}
	// SequenceNumberForOrdering needs no work: one shard's records are already strictly
	// ordered by arrival at its writer.
	res, err := c.h.eng.Put(c.ctx, name, []stream.PutEntry{{PartitionKey: *in.PartitionKey, ExplicitHashKey: hk, Data: in.Data}})
	if err != nil {
		return nil, c.engineError(name, err)
	}
	r := res[0]
	sh := info.Shards[r.Shard]
	m := c.h.metrics.stream(name)
	m.incomingRecords.Inc()
	m.incomingBytes.Add(float64(len(in.Data)))
	m.putRecordSuccess.Inc()
	m.putRecordLatency.Observe(time.Since(start).Seconds())
	out := make([]byte, 0, 128)
	out = append(out, `{"ShardId":"`...)
	out = append(out, sh.ID...)
	out = append(out, `","SequenceNumber":"`...)
	out = append(out, seqFor(sh.Created, sh.Index, r.Position, r.Arrival)...)
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
	if v.required("records", in.Records != nil) {
		if len(in.Records) < 1 {
			v.fail("'[]'", "records", "have length greater than or equal to 1")
		}
		if len(in.Records) > 500 {
			v.fail(quote(fmt.Sprintf("[%d records]", len(in.Records))), "records", "have length less than or equal to 500")
		}
		for i := range in.Records {
			e := &in.Records[i]
			p := fmt.Sprintf("records.%d.member.", i+1)
			v.required(p+"data", e.Data != nil)
			v.blob(p+"data", e.Data, 10<<20)
			v.str(p+"explicitHashKey", e.ExplicitHashKey, 0, 0, hashKeyRE, hashKeyPattern)
			if v.required(p+"partitionKey", e.PartitionKey != nil) {
				v.str(p+"partitionKey", e.PartitionKey, 1, 256, nil, "")
			}
		}
	}
	v.streamName("streamName", in.StreamName)
	v.streamARN("streamARN", in.StreamARN)
	if err := v.err(); err != nil {
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
		return nil, awsjson.NewError("InvalidArgumentException", fmt.Sprintf("Records size %d bytes exceeds the PutRecords limit of %d bytes (data plus partition keys).", total, putRecordsMaxSize))
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
		sh := info.Shards[r.Shard]
		out = append(out, `{"SequenceNumber":"`...)
		out = append(out, seqFor(sh.Created, sh.Index, r.Position, r.Arrival)...)
		out = append(out, `","ShardId":"`...)
		out = append(out, sh.ID...)
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
	v.streamName("streamName", in.StreamName)
	if v.required("shardId", in.ShardId != nil) {
		v.shardID("shardId", in.ShardId)
	}
	if v.required("shardIteratorType", in.ShardIteratorType != nil) {
		v.enum("shardIteratorType", in.ShardIteratorType, "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER", "TRIM_HORIZON", "LATEST", "AT_TIMESTAMP")
	}
	v.str("startingSequenceNumber", in.StartingSequenceNumber, 0, 0, seqNumberRE, seqNumberPattern)
	v.streamARN("streamARN", in.StreamARN)
	if err := v.err(); err != nil {
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
	typ := *in.ShardIteratorType
	switch typ {
	case "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER":
		if in.StartingSequenceNumber == nil {
			return nil, awsjson.NewError("InvalidArgumentException", "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified "+typ+" and no StartingSequenceNumber.")
		}
	case "TRIM_HORIZON", "LATEST", "AT_TIMESTAMP":
		if in.StartingSequenceNumber != nil {
			return nil, awsjson.NewError("InvalidArgumentException", "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified "+typ+" and also a StartingSequenceNumber.")
		}
	}
	idx, ok := shardIndex(*in.ShardId)
	if !ok {
		return nil, awsjson.NewError("ResourceNotFoundException", fmt.Sprintf("Could not find shard %s in stream %s under account %s.", *in.ShardId, name, awsjson.Account))
	}
	if idx >= len(info.Shards) {
		return nil, awsjson.NewError("ResourceNotFoundException", fmt.Sprintf("Shard %s in stream %s under account %s does not exist", fmt.Sprintf("shardId-%012d", idx), name, awsjson.Account))
	}
	if info.Status != stream.StatusActive && info.Status != stream.StatusUpdating {
		return nil, c.engineError(name, &stream.NotActiveError{Name: name, Status: info.Status})
	}
	sh := info.Shards[idx]
	var pos uint64
	switch typ {
	case "TRIM_HORIZON":
		b, err := c.h.eng.Bounds(name, idx)
		if err != nil {
			return nil, c.engineError(name, err)
		}
		pos = b.First
	case "LATEST":
		b, err := c.h.eng.Bounds(name, idx)
		if err != nil {
			return nil, c.engineError(name, err)
		}
		pos = b.Tip
	case "AT_TIMESTAMP":
		if in.Timestamp == nil {
			return nil, awsjson.NewError("InvalidArgumentException", "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.")
		}
		ms := int64(math.Round(*in.Timestamp * 1000))
		if ms > c.now.UnixMilli() {
			return nil, awsjson.NewError("InvalidArgumentException", fmt.Sprintf("The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: %d, currentTimestampInMillis: %d", ms, c.now.UnixMilli()))
		}
		p, err := c.h.eng.FindTime(name, idx, time.UnixMilli(ms))
		if err != nil {
			return nil, c.engineError(name, err)
		}
		pos = p
	default:
		seq := *in.StartingSequenceNumber
		p, ok := decodeSeq(seq)
		if !ok || p.shard != idx || p.shardCreated != sh.Created.Unix() {
			return nil, awsjson.NewError("InvalidArgumentException", fmt.Sprintf("StartingSequenceNumber %s used in GetShardIterator on shard %s in stream %s under account %s is invalid.", seq, sh.ID, name, awsjson.Account))
		}
		pos = p.position
		if typ == "AFTER_SEQUENCE_NUMBER" {
			pos++
		}
	}
	it := iterator{streamCreated: info.Created.UnixNano(), shard: idx, position: pos, issuedMs: c.now.UnixMilli(), stream: name}
	return marshal(map[string]string{"ShardIterator": it.encode()})
}

// javaDate formats t as java.util.Date.toString does, which AWS's expiry message uses.
func javaDate(t time.Time) string { return t.UTC().Format("Mon Jan 02 15:04:05 MST 2006") }

func (c *call) getRecords(body []byte) ([]byte, *awsjson.Error) {
	start := time.Now()
	var in struct {
		ShardIterator *string `json:"ShardIterator"`
		Limit         *int64  `json:"Limit"`
		StreamARN     *string `json:"StreamARN"`
	}
	if err := awsjson.Decode(body, &in); err != nil {
		return nil, err
	}
	var v validator
	if v.required("shardIterator", in.ShardIterator != nil) {
		v.str("shardIterator", in.ShardIterator, 1, 512, nil, "")
	}
	v.intRange("limit", in.Limit, 1, 10000)
	v.streamARN("streamARN", in.StreamARN)
	if err := v.err(); err != nil {
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
	if age := c.now.UnixMilli() - it.issuedMs; age > iteratorTTL.Milliseconds() {
		return nil, awsjson.NewError("ExpiredIteratorException", fmt.Sprintf("Iterator expired. The iterator was created at time %s while right now it is %s which is further in the future than the tolerated delay of %d milliseconds.",
			javaDate(time.UnixMilli(it.issuedMs)), javaDate(c.now), iteratorTTL.Milliseconds()))
	}
	info, derr := c.h.eng.Describe(it.stream)
	if derr != nil || info.Created.UnixNano() != it.streamCreated {
		// The stream was deleted (and perhaps re-created): the iterator points nowhere.
		return nil, notFound(it.stream)
	}
	if it.shard >= len(info.Shards) {
		return nil, awsjson.NewError("ResourceNotFoundException", fmt.Sprintf("Shard shardId-%012d in stream %s under account %s does not exist", it.shard, it.stream, awsjson.Account))
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
	bytes := 0
	out := make([]byte, 0, 256)
	out = append(out, `{"Records":[`...)
	for i, r := range res.Records {
		if i > 0 {
			out = append(out, ',')
		}
		bytes += len(r.Data)
		out = append(out, `{"SequenceNumber":"`...)
		out = append(out, seqFor(sh.Created, sh.Index, r.Position, r.Arrival)...)
		out = append(out, `","ApproximateArrivalTimestamp":`...)
		out = append(out, epochSeconds(r.Arrival)...)
		out = append(out, `,"Data":"`...)
		out = base64.StdEncoding.AppendEncode(out, r.Data)
		out = append(out, `","PartitionKey":`...)
		pk, _ := json.Marshal(r.PartitionKey)
		out = append(out, pk...)
		out = append(out, '}')
	}
	age := int64(0)
	if n := len(res.Records); n > 0 {
		age = max(0, c.now.UnixMilli()-res.Records[n-1].Arrival.UnixMilli())
		if res.Next < res.Tip {
			behind = age
		}
	}
	out = append(out, `],"NextShardIterator":"`...)
	out = append(out, next.encode()...)
	out = append(out, `","MillisBehindLatest":`...)
	out = strconv.AppendInt(out, behind, 10)
	out = append(out, '}')
	c.h.metrics.getRecordsRecords.WithLabelValues(it.stream).Add(float64(len(res.Records)))
	c.h.metrics.getRecordsBytes.WithLabelValues(it.stream).Add(float64(bytes))
	c.h.metrics.outgoingRecords.WithLabelValues(it.stream).Add(float64(len(res.Records)))
	c.h.metrics.outgoingBytes.WithLabelValues(it.stream).Add(float64(bytes))
	c.h.metrics.getRecordsSuccess.WithLabelValues(it.stream).Inc()
	c.h.metrics.iteratorAge.WithLabelValues(it.stream).Set(float64(age))
	c.h.metrics.getRecordsLatency.WithLabelValues(it.stream).Observe(time.Since(start).Seconds())
	return out, nil
}
