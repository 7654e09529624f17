package kinesisapi

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

func (e *env) createOnDemand(t testing.TB, name string) {
	t.Helper()
	_, err := e.kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name),
		StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}})
	if err != nil {
		t.Fatal(err)
	}
}

// Warm throughput and the record distribution strategy are kept and described, for on-demand
// streams only; warm throughput also needs the account's minimum throughput commitment.
func TestOnDemandSettings(t *testing.T) {
	e := newEnv(t, nil)
	e.createOnDemand(t, "od")
	e.create(t, "prov", 1)
	arn := aws.String("arn:aws:kinesis:eu-central-1:000000000000:stream/od")

	_, err := e.kc.UpdateStreamWarmThroughput(ctx, &kinesis.UpdateStreamWarmThroughputInput{StreamName: aws.String("od"), WarmThroughputMiBps: aws.Int32(100)})
	wantErr(t, err, "InvalidArgumentException", "MinimumThroughputBillingCommitment")
	if _, err := e.kc.UpdateAccountSettings(ctx, &kinesis.UpdateAccountSettingsInput{
		MinimumThroughputBillingCommitment: &types.MinimumThroughputBillingCommitmentInput{Status: types.MinimumThroughputBillingCommitmentInputStatusEnabled},
	}); err != nil {
		t.Fatal(err)
	}
	_, err = e.kc.UpdateStreamWarmThroughput(ctx, &kinesis.UpdateStreamWarmThroughputInput{StreamName: aws.String("prov"), WarmThroughputMiBps: aws.Int32(100)})
	wantErr(t, err, "InvalidArgumentException", "ON_DEMAND")
	_, err = e.kc.UpdateStreamWarmThroughput(ctx, &kinesis.UpdateStreamWarmThroughputInput{StreamName: aws.String("od"), WarmThroughputMiBps: aws.Int32(10241)})
	wantErr(t, err, "LimitExceededException", "10240 MiBps")
	_, err = e.kc.UpdateStreamWarmThroughput(ctx, &kinesis.UpdateStreamWarmThroughputInput{StreamName: aws.String("od"), WarmThroughputMiBps: aws.Int32(-1)})
	wantErr(t, err, "ValidationException", "Value '-1' at 'warmThroughputMiBps' failed to satisfy constraint: Member must have value greater than or equal to 0")
	w, err := e.kc.UpdateStreamWarmThroughput(ctx, &kinesis.UpdateStreamWarmThroughputInput{StreamARN: arn, WarmThroughputMiBps: aws.Int32(200)})
	if err != nil || *w.StreamName != "od" || *w.StreamARN != *arn || *w.WarmThroughput.TargetMiBps != 200 || *w.WarmThroughput.CurrentMiBps != 200 {
		t.Fatalf("warm throughput: %v %+v", err, w)
	}

	_, err = e.kc.UpdateStreamRecordDistributionStrategy(ctx, &kinesis.UpdateStreamRecordDistributionStrategyInput{
		StreamARN: aws.String("arn:aws:kinesis:eu-central-1:000000000000:stream/prov"), RecordDistributionStrategy: types.RecordDistributionStrategyAuto})
	wantErr(t, err, "InvalidArgumentException", "ON_DEMAND")
	_, err = e.kc.UpdateStreamRecordDistributionStrategy(ctx, &kinesis.UpdateStreamRecordDistributionStrategyInput{StreamARN: arn, RecordDistributionStrategy: "EVEN"})
	wantErr(t, err, "ValidationException", "Value 'EVEN' at 'recordDistributionStrategy' failed to satisfy constraint: Member must satisfy enum value set: [AUTO, USER_PARTITION_KEY]")
	if _, err := e.kc.UpdateStreamRecordDistributionStrategy(ctx, &kinesis.UpdateStreamRecordDistributionStrategyInput{StreamARN: arn, RecordDistributionStrategy: types.RecordDistributionStrategyAuto}); err != nil {
		t.Fatal(err)
	}

	s, err := e.kc.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamARN: arn})
	if err != nil {
		t.Fatal(err)
	}
	d := s.StreamDescriptionSummary
	if d.WarmThroughput == nil || *d.WarmThroughput.TargetMiBps != 200 || d.RecordDistributionStrategy != types.RecordDistributionStrategyAuto {
		t.Fatalf("summary: %+v", d)
	}
	// A stream that set neither shows neither.
	s, err = e.kc.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("prov")})
	if err != nil || s.StreamDescriptionSummary.WarmThroughput != nil || s.StreamDescriptionSummary.RecordDistributionStrategy != "" {
		t.Fatalf("provisioned summary: %v %+v", err, s)
	}
	// CreateStream's WarmThroughputMiBps is kept too.
	if _, err := e.kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("warm"),
		StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}, WarmThroughputMiBps: aws.Int32(50)}); err != nil {
		t.Fatal(err)
	}
	s, err = e.kc.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("warm")})
	if err != nil || s.StreamDescriptionSummary.WarmThroughput == nil || *s.StreamDescriptionSummary.WarmThroughput.TargetMiBps != 50 {
		t.Fatalf("created warm: %v %+v", err, s)
	}
}

// Under AUTO, records with one partition key spread over every open shard; under
// USER_PARTITION_KEY (the default, and again after switching back) they share one shard.
func TestRecordDistributionAuto(t *testing.T) {
	e := newEnv(t, nil)
	e.createOnDemand(t, "spread")
	arn := aws.String("arn:aws:kinesis:eu-central-1:000000000000:stream/spread")
	shardsUsed := func() map[string]int {
		t.Helper()
		entries := make([]types.PutRecordsRequestEntry, 8)
		for i := range entries {
			entries[i] = types.PutRecordsRequestEntry{Data: []byte{byte(i)}, PartitionKey: aws.String("same")}
		}
		out, err := e.kc.PutRecords(ctx, &kinesis.PutRecordsInput{StreamARN: arn, Records: entries})
		if err != nil || *out.FailedRecordCount != 0 {
			t.Fatalf("put: %v %+v", err, out)
		}
		used := map[string]int{}
		for _, r := range out.Records {
			used[*r.ShardId]++
		}
		return used
	}
	if used := shardsUsed(); len(used) != 1 {
		t.Fatalf("by partition key: %v", used)
	}
	set := func(s types.RecordDistributionStrategy) {
		t.Helper()
		if _, err := e.kc.UpdateStreamRecordDistributionStrategy(ctx, &kinesis.UpdateStreamRecordDistributionStrategyInput{StreamARN: arn, RecordDistributionStrategy: s}); err != nil {
			t.Fatal(err)
		}
	}
	set(types.RecordDistributionStrategyAuto)
	used := shardsUsed()
	if len(used) != 4 {
		t.Fatalf("AUTO: %v", used)
	}
	for id, n := range used {
		if n != 2 {
			t.Errorf("AUTO put %d of 8 records in %s", n, id)
		}
	}
	set(types.RecordDistributionStrategyUserPartitionKey)
	if used := shardsUsed(); len(used) != 1 {
		t.Fatalf("back to partition keys: %v", used)
	}
}
