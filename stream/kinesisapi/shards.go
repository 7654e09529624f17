package kinesisapi

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/localpipe/localpipe/internal/awsjson"
	"github.com/localpipe/localpipe/stream"
)

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

// appendShardName appends shardName(i) without formatting through fmt, for the put paths'
// responses; shard indexes are never negative.
func appendShardName(b []byte, i int) []byte {
	b = append(b, "shardId-"...)
	var d [20]byte
	n := strconv.AppendUint(d[:0], uint64(i), 10)
	for k := len(n); k < 12; k++ {
		b = append(b, '0')
	}
	return append(b, n...)
}

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

type listShardsIn struct {
	streamRef
	NextToken               *string      `json:"NextToken"`
	ExclusiveStartShardId   *string      `json:"ExclusiveStartShardId"`
	MaxResults              *int32       `json:"MaxResults"`
	StreamCreationTimestamp *float64     `json:"StreamCreationTimestamp"`
	ShardFilter             *shardFilter `json:"ShardFilter"`
}

func (in *listShardsIn) check(v *validator) {
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
}

func (c *call) listShards(in *listShardsIn) ([]byte, *awsjson.Error) {
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

type getShardIteratorIn struct {
	streamRef
	ShardId                *string  `json:"ShardId"`
	ShardIteratorType      *string  `json:"ShardIteratorType"`
	StartingSequenceNumber *string  `json:"StartingSequenceNumber"`
	Timestamp              *float64 `json:"Timestamp"`
}

func (in *getShardIteratorIn) check(v *validator) {
	if v.Required("shardId", in.ShardId != nil) {
		v.shardID("shardId", in.ShardId)
	}
	if v.Required("shardIteratorType", in.ShardIteratorType != nil) {
		v.Enum("shardIteratorType", in.ShardIteratorType, "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER", "TRIM_HORIZON", "LATEST", "AT_TIMESTAMP")
	}
	v.Str("startingSequenceNumber", in.StartingSequenceNumber, 0, 0, seqNumberRE, seqNumberPattern)
	v.streamName("streamName", in.StreamName)
	v.streamARN("streamARN", in.StreamARN)
}

func (c *call) getShardIterator(in *getShardIteratorIn) ([]byte, *awsjson.Error) {
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
