package kinesisapi

import (
	"errors"
	"fmt"
	"time"

	"github.com/localpipe/localpipe/internal/awsjson"
	"github.com/localpipe/localpipe/stream"
)

// Resharding: SplitShard, MergeShards, UpdateShardCount and UpdateStreamMode, the shard
// lineage they leave (ParentShardId, ChildShards, EndingSequenceNumber), and ListShards'
// ShardFilter. Texts marked "recorded" are AWS's as kinesalite's tests captured them; the
// rest are guesses in AWS's style, since AWS documents none of them.

// maxShardsPerStream is UpdateShardCount's documented ceiling for one stream.
const maxShardsPerStream = 10000

func shardNotFound(id, name string) *awsjson.Error {
	// recorded
	return awsjson.NewError("ResourceNotFoundException", fmt.Sprintf("Could not find shard %s in stream %s under account %s.", id, name, awsjson.Account))
}

// reshardTarget resolves the stream and a shard id as SplitShard and MergeShards do: the
// id's form, the stream, then the shard (kinesalite's recorded order).
func (c *call) reshardTarget(ref streamRef, ids ...string) (string, stream.StreamInfo, []int, *awsjson.Error) {
	name, aerr := c.target(ref.StreamName, ref.StreamARN)
	if aerr != nil {
		return "", stream.StreamInfo{}, nil, aerr
	}
	idx := make([]int, len(ids))
	for i, id := range ids {
		n, ok := shardIndex(id)
		if !ok {
			return "", stream.StreamInfo{}, nil, shardNotFound(id, name)
		}
		idx[i] = n
	}
	info, err := c.h.eng.Describe(name)
	if err != nil || info.Hidden {
		return "", info, nil, notFound(name)
	}
	for _, n := range idx {
		if n >= len(info.Shards) {
			return "", info, nil, shardNotFound(shardName(n), name)
		}
	}
	return name, info, idx, nil
}

// shardLimit checks the account's shard quota against extra new open shards.
func (c *call) shardLimit(extra int) *awsjson.Error {
	if cur := c.openShards(); cur+extra > shardLimit {
		// recorded (CreateStream's, which SplitShard shares)
		return awsjson.NewError("LimitExceededException", fmt.Sprintf("This request would exceed the shard limit for the account %s in %s. Current shard count for the account: %d. Limit: %d. Number of additional shards that would have resulted from this request: %d. Refer to the AWS Service Limits page (http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and how to request higher limits.",
			awsjson.Account, c.region, cur, shardLimit, extra))
	}
	return nil
}

func closedShard(id, name, verb string) *awsjson.Error {
	return awsjson.NewError("InvalidArgumentException", fmt.Sprintf("Shard %s in stream %s under account %s has already been merged or split, and thus is not eligible for %s.", id, name, awsjson.Account, verb))
}

type splitShardIn struct {
	streamRef
	ShardToSplit       *string `json:"ShardToSplit"`
	NewStartingHashKey *string `json:"NewStartingHashKey"`
}

func (in *splitShardIn) check(v *validator) {
	if v.Required("newStartingHashKey", in.NewStartingHashKey != nil) {
		v.Str("newStartingHashKey", in.NewStartingHashKey, 0, 0, hashKeyRE, hashKeyPattern)
	}
	if v.Required("shardToSplit", in.ShardToSplit != nil) {
		v.shardID("shardToSplit", in.ShardToSplit)
	}
	in.validate(v)
}

func (c *call) splitShard(in *splitShardIn) ([]byte, *awsjson.Error) {
	name, info, idx, aerr := c.reshardTarget(in.streamRef, *in.ShardToSplit)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := c.shardLimit(1); aerr != nil {
		return nil, aerr
	}
	key, err := stream.ParseHashKey(*in.NewStartingHashKey)
	sh := info.Shards[idx[0]]
	if err == nil {
		err = c.h.eng.SplitShard(name, idx[0], key)
	} else {
		err = stream.ErrHashKeyOutside // 2^128 and above, which the pattern lets through
	}
	switch {
	case errors.Is(err, stream.ErrHashKeyOutside):
		// recorded
		return nil, awsjson.NewError("InvalidArgumentException", fmt.Sprintf("NewStartingHashKey %s used in SplitShard() on shard %s in stream %s under account %s is not both greater than one plus the shard's StartingHashKey %s and less than the shard's EndingHashKey %s.",
			*in.NewStartingHashKey, sh.ID, name, awsjson.Account, sh.StartKey, sh.EndKey))
	case errors.Is(err, stream.ErrShardClosed):
		return nil, closedShard(sh.ID, name, "splitting")
	case err != nil:
		return nil, c.engineError(name, err)
	}
	return empty, nil
}

type mergeShardsIn struct {
	streamRef
	ShardToMerge         *string `json:"ShardToMerge"`
	AdjacentShardToMerge *string `json:"AdjacentShardToMerge"`
}

func (in *mergeShardsIn) check(v *validator) {
	if v.Required("adjacentShardToMerge", in.AdjacentShardToMerge != nil) {
		v.shardID("adjacentShardToMerge", in.AdjacentShardToMerge)
	}
	if v.Required("shardToMerge", in.ShardToMerge != nil) {
		v.shardID("shardToMerge", in.ShardToMerge)
	}
	in.validate(v)
}

func (c *call) mergeShards(in *mergeShardsIn) ([]byte, *awsjson.Error) {
	name, info, idx, aerr := c.reshardTarget(in.streamRef, *in.ShardToMerge, *in.AdjacentShardToMerge)
	if aerr != nil {
		return nil, aerr
	}
	err := c.h.eng.MergeShards(name, idx[0], idx[1])
	switch {
	case errors.Is(err, stream.ErrNotAdjacent), err == nil && idx[0] == idx[1]:
		// recorded
		return nil, awsjson.NewError("InvalidArgumentException", fmt.Sprintf("Shards %s and %s in stream %s under account %s are not an adjacent pair of shards eligible for merging",
			info.Shards[idx[0]].ID, info.Shards[idx[1]].ID, name, awsjson.Account))
	case errors.Is(err, stream.ErrShardClosed):
		id := info.Shards[idx[0]].ID
		if !info.Shards[idx[0]].Closed {
			id = info.Shards[idx[1]].ID
		}
		return nil, closedShard(id, name, "merging")
	case err != nil:
		return nil, c.engineError(name, err)
	}
	return empty, nil
}

type updateShardCountIn struct {
	streamRef
	TargetShardCount *int32  `json:"TargetShardCount"`
	ScalingType      *string `json:"ScalingType"`
}

func (in *updateShardCountIn) check(v *validator) {
	if v.Required("scalingType", in.ScalingType != nil) {
		v.Enum("scalingType", in.ScalingType, "UNIFORM_SCALING")
	}
	v.streamName("streamName", in.StreamName)
	if v.Required("targetShardCount", in.TargetShardCount != nil) {
		v.IntRange("targetShardCount", in.TargetShardCount, 1, 0)
	}
	v.streamARN("streamARN", in.StreamARN)
}

func (c *call) updateShardCount(in *updateShardCountIn) ([]byte, *awsjson.Error) {
	name, aerr := c.target(in.StreamName, in.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
	info, err := c.h.eng.Describe(name)
	if err != nil || info.Hidden {
		return nil, notFound(name)
	}
	if info.Status != stream.StatusActive {
		return nil, c.engineError(name, &stream.NotActiveError{Name: name, Status: info.Status})
	}
	open := openShardCount(info)
	target := int(*in.TargetShardCount)
	switch {
	case target > 2*open:
		return nil, awsjson.NewError("LimitExceededException", fmt.Sprintf("UpdateShardCount cannot scale up over double your current open shard count. Current open shard count: %d Target shard count: %d", open, target))
	case 2*target < open:
		return nil, awsjson.NewError("LimitExceededException", fmt.Sprintf("UpdateShardCount cannot scale down below half your current open shard count. Current open shard count: %d Target shard count: %d", open, target))
	case target > maxShardsPerStream:
		return nil, awsjson.NewError("LimitExceededException", fmt.Sprintf("UpdateShardCount cannot scale up over %d shards in a stream. Current open shard count: %d Target shard count: %d", maxShardsPerStream, open, target))
	}
	if target > open {
		if aerr := c.shardLimit(target - open); aerr != nil {
			return nil, aerr
		}
	}
	cur, err := c.h.eng.UpdateShardCount(name, target)
	switch {
	case errors.Is(err, stream.ErrScalingRate):
		return nil, awsjson.NewError("LimitExceededException", fmt.Sprintf("UpdateShardCount cannot be called more than %d times in a rolling 24 hour period for stream %s under account %s.", stream.ScalingsPerDay, name, awsjson.Account))
	case errors.Is(err, stream.ErrNotProvisioned):
		return nil, awsjson.NewError("ValidationException", fmt.Sprintf("UpdateShardCount is not supported for stream %s under account %s because it is in ON_DEMAND mode.", name, awsjson.Account))
	case err != nil:
		return nil, c.engineError(name, err)
	}
	return awsjson.Marshal(map[string]any{"StreamName": name, "StreamARN": c.arn(name), "CurrentShardCount": cur, "TargetShardCount": target})
}

type updateStreamModeIn struct {
	StreamARN         *string            `json:"StreamARN"`
	StreamModeDetails *streamModeDetails `json:"StreamModeDetails"`
}

func (in *updateStreamModeIn) check(v *validator) {
	if v.Required("streamARN", in.StreamARN != nil) {
		v.streamARN("streamARN", in.StreamARN)
	}
	if v.Required("streamModeDetails", in.StreamModeDetails != nil) &&
		v.Required("streamModeDetails.streamMode", in.StreamModeDetails.StreamMode != nil) {
		v.Enum("streamModeDetails.streamMode", in.StreamModeDetails.StreamMode, stream.ModeProvisioned, stream.ModeOnDemand)
	}
}

func (c *call) updateStreamMode(in *updateStreamModeIn) ([]byte, *awsjson.Error) {
	name, aerr := c.target(nil, in.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
	if info, err := c.h.eng.Describe(name); err != nil || info.Hidden {
		return nil, notFound(name)
	}
	mode := *in.StreamModeDetails.StreamMode
	err := c.h.eng.UpdateStreamMode(name, mode)
	switch {
	case errors.Is(err, stream.ErrModeUnchanged):
		return nil, awsjson.NewError("InvalidArgumentException", fmt.Sprintf("Stream %s under account %s is already in %s mode.", name, awsjson.Account, mode))
	case err != nil:
		return nil, c.engineError(name, err)
	}
	return empty, nil
}

// ---- lineage on the wire ----

type childShardOut struct {
	HashKeyRange hashKeyRange `json:"HashKeyRange"`
	ParentShards []string     `json:"ParentShards"`
	ShardId      string       `json:"ShardId"`
}

// childShards lists a closed shard's children with all their parents, as GetRecords and
// SubscribeToShard report them at the shard's end.
func childShards(info stream.StreamInfo, sh stream.ShardInfo) []childShardOut {
	out := []childShardOut{}
	for _, ci := range sh.Children {
		if ci >= len(info.Shards) {
			continue
		}
		ch := info.Shards[ci]
		parents := make([]string, 0, len(ch.Parents))
		for _, p := range ch.Parents {
			parents = append(parents, shardName(p))
		}
		out = append(out, childShardOut{
			HashKeyRange: hashKeyRange{EndingHashKey: ch.EndKey.String(), StartingHashKey: ch.StartKey.String()},
			ParentShards: parents, ShardId: ch.ID,
		})
	}
	return out
}

// endingSeq is a closed shard's EndingSequenceNumber: above every number the shard gave,
// as AWS's are (the largest position), with a time one second before its children's
// creation, as in the numbers kinesalite recorded from AWS.
func endingSeq(sh stream.ShardInfo) string {
	return seqFor(sh.Created, sh.Index, 1<<63-1, sh.ClosedAt.Add(-time.Second))
}

// trimHorizon is the oldest time a stream still holds records from.
func (c *call) trimHorizon(info stream.StreamInfo) time.Time {
	return c.now.Add(-time.Duration(info.RetentionHours) * time.Hour)
}

// retained drops closed shards whose every record is past retention, which AWS no longer
// lists.
func (c *call) retained(info stream.StreamInfo, shards []stream.ShardInfo) []stream.ShardInfo {
	th := c.trimHorizon(info)
	out := shards[:0:0]
	for _, sh := range shards {
		if !sh.Closed || !sh.ClosedAt.Before(th) {
			out = append(out, sh)
		}
	}
	return out
}

// filterShards applies a ListShards ShardFilter other than AFTER_SHARD_ID. A stream's first
// shards count as open since ever, so a time before the stream finds them.
func (c *call) filterShards(info stream.StreamInfo, typ string, ts time.Time) []stream.ShardInfo {
	th := c.trimHorizon(info)
	openAt := func(sh stream.ShardInfo, t time.Time) bool {
		started := len(sh.Parents) == 0 || !sh.Created.After(t)
		return started && (!sh.Closed || !sh.ClosedAt.Before(t))
	}
	var out []stream.ShardInfo
	for _, sh := range info.Shards {
		var keep bool
		switch typ {
		case "AT_TRIM_HORIZON":
			keep = openAt(sh, th)
		case "AT_LATEST":
			keep = !sh.Closed
		case "AT_TIMESTAMP":
			keep = openAt(sh, ts)
		case "FROM_TIMESTAMP":
			if ts.Before(th) {
				ts = th
			}
			keep = !sh.Closed || !sh.ClosedAt.Before(ts)
		default: // FROM_TRIM_HORIZON
			keep = !sh.Closed || !sh.ClosedAt.Before(th)
		}
		if keep {
			out = append(out, sh)
		}
	}
	return out
}
