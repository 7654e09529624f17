package kinesisapi

import (
	"fmt"

	"github.com/localpipe/localpipe/internal/awsjson"
	"github.com/localpipe/localpipe/stream"
)

// The on-demand settings of newer Kinesis: warm throughput and the record distribution
// strategy. localpipe keeps and describes both; it has no capacity to warm, while AUTO does
// change where records go (the engine spreads them over the open shards). AWS documents the
// rules below but not its words for them, so the texts are guesses.

// maxWarmThroughputMiBps is AWS's default ceiling: 10 GiB/s for an on-demand stream.
const maxWarmThroughputMiBps = 10 << 10

type warmThroughputIn struct {
	streamRef
	WarmThroughputMiBps *int32 `json:"WarmThroughputMiBps"`
}

func (in *warmThroughputIn) check(v *validator) {
	if v.Required("warmThroughputMiBps", in.WarmThroughputMiBps != nil) {
		v.IntRange("warmThroughputMiBps", in.WarmThroughputMiBps, 0, 0)
	}
	v.streamARN("streamARN", in.StreamARN)
	v.streamName("streamName", in.StreamName)
}

// onDemandOnly refuses a setting on a provisioned stream, as AWS does.
func (c *call) onDemandOnly(name, setting string) *awsjson.Error {
	info, err := c.h.eng.Describe(name)
	if err != nil {
		return c.engineError(name, err)
	}
	if info.Mode != stream.ModeOnDemand {
		return awsjson.NewError("InvalidArgumentException", fmt.Sprintf("%s is supported only for streams in ON_DEMAND capacity mode; stream %s under account %s is %s.", setting, name, awsjson.Account, info.Mode))
	}
	return nil
}

func (c *call) updateWarmThroughput(name string, in *warmThroughputIn) ([]byte, *awsjson.Error) {
	if aerr := c.onDemandOnly(name, "Warm throughput"); aerr != nil {
		return nil, aerr
	}
	if !c.h.account.enabled() {
		return nil, awsjson.NewError("InvalidArgumentException", fmt.Sprintf("Warm throughput requires the account %s to have MinimumThroughputBillingCommitment enabled; see UpdateAccountSettings.", awsjson.Account))
	}
	mibps := int(*in.WarmThroughputMiBps)
	if mibps > maxWarmThroughputMiBps {
		return nil, awsjson.NewError("LimitExceededException", fmt.Sprintf("Requested warm throughput (%d MiBps) for stream %s exceeds the limit of %d MiBps.", mibps, name, maxWarmThroughputMiBps))
	}
	if err := c.h.eng.UpdateWarmThroughput(name, mibps); err != nil {
		return nil, c.engineError(name, err)
	}
	return awsjson.Marshal(map[string]any{
		"StreamARN": c.arn(name), "StreamName": name, "WarmThroughput": warmThroughput(mibps),
	})
}

// warmThroughput is the WarmThroughputObject of a stream that asked for mibps: reached at
// once, since localpipe has nothing to scale.
func warmThroughput(mibps int) map[string]int {
	return map[string]int{"TargetMiBps": mibps, "CurrentMiBps": mibps}
}

type distributionIn struct {
	arnRef
	RecordDistributionStrategy *string `json:"RecordDistributionStrategy"`
}

func (in *distributionIn) check(v *validator) {
	if v.Required("recordDistributionStrategy", in.RecordDistributionStrategy != nil) {
		v.Enum("recordDistributionStrategy", in.RecordDistributionStrategy, "AUTO", "USER_PARTITION_KEY")
	}
	if v.Required("streamARN", in.StreamARN != nil) {
		v.streamARN("streamARN", in.StreamARN)
	}
}

func (c *call) updateDistribution(name string, in *distributionIn) ([]byte, *awsjson.Error) {
	if aerr := c.onDemandOnly(name, "The record distribution strategy"); aerr != nil {
		return nil, aerr
	}
	if err := c.h.eng.UpdateRecordDistribution(name, *in.RecordDistributionStrategy); err != nil {
		return nil, c.engineError(name, err)
	}
	return empty, nil
}

// withOnDemandSettings adds the settings above to a stream's summary once they are set.
func withOnDemandSettings(desc map[string]any, info stream.StreamInfo) {
	if info.WarmThroughputMiBps > 0 {
		desc["WarmThroughput"] = warmThroughput(info.WarmThroughputMiBps)
	}
	if info.RecordDistributionStrategy != "" {
		desc["RecordDistributionStrategy"] = info.RecordDistributionStrategy
	}
}
