package kinesisapi

import (
	"errors"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
)

// streamARNInputs holds, for every operation whose input has both StreamName and StreamARN,
// an input that is valid but for those two members, for a stream of two shards.
func streamARNInputs() map[string]any {
	key := aws.String("arn:aws:kms:us-east-1:000000000000:key/k")
	return map[string]any{
		"AddTagsToStream":               &kinesis.AddTagsToStreamInput{Tags: map[string]string{"a": "1"}},
		"DecreaseStreamRetentionPeriod": &kinesis.DecreaseStreamRetentionPeriodInput{RetentionPeriodHours: aws.Int32(24)},
		"DeleteStream":                  &kinesis.DeleteStreamInput{},
		"DescribeStream":                &kinesis.DescribeStreamInput{},
		"DescribeStreamSummary":         &kinesis.DescribeStreamSummaryInput{},
		"DisableEnhancedMonitoring":     &kinesis.DisableEnhancedMonitoringInput{ShardLevelMetrics: []types.MetricsName{types.MetricsNameAll}},
		"EnableEnhancedMonitoring":      &kinesis.EnableEnhancedMonitoringInput{ShardLevelMetrics: []types.MetricsName{types.MetricsNameAll}},
		"GetShardIterator": &kinesis.GetShardIteratorInput{ShardId: aws.String("shardId-000000000000"),
			ShardIteratorType: types.ShardIteratorTypeTrimHorizon},
		"IncreaseStreamRetentionPeriod": &kinesis.IncreaseStreamRetentionPeriodInput{RetentionPeriodHours: aws.Int32(48)},
		"ListShards":                    &kinesis.ListShardsInput{},
		"ListTagsForStream":             &kinesis.ListTagsForStreamInput{},
		"MergeShards": &kinesis.MergeShardsInput{ShardToMerge: aws.String("shardId-000000000000"),
			AdjacentShardToMerge: aws.String("shardId-000000000001")},
		"PutRecord": &kinesis.PutRecordInput{Data: []byte("x"), PartitionKey: aws.String("k")},
		"PutRecords": &kinesis.PutRecordsInput{Records: []types.PutRecordsRequestEntry{
			{Data: []byte("x"), PartitionKey: aws.String("k")}}},
		"RemoveTagsFromStream": &kinesis.RemoveTagsFromStreamInput{TagKeys: []string{"a"}},
		"SplitShard": &kinesis.SplitShardInput{ShardToSplit: aws.String("shardId-000000000000"),
			NewStartingHashKey: aws.String("1000")},
		"StartStreamEncryption":      &kinesis.StartStreamEncryptionInput{EncryptionType: types.EncryptionTypeKms, KeyId: key},
		"StopStreamEncryption":       &kinesis.StopStreamEncryptionInput{EncryptionType: types.EncryptionTypeKms, KeyId: key},
		"UpdateShardCount":           &kinesis.UpdateShardCountInput{TargetShardCount: aws.Int32(4), ScalingType: types.ScalingTypeUniformScaling},
		"UpdateStreamWarmThroughput": &kinesis.UpdateStreamWarmThroughputInput{WarmThroughputMiBps: aws.Int32(10)},
	}
}

// TestStreamNameAndARNEverywhere calls, with the AWS SDK, every operation of the SDK's model
// whose input has both StreamName and StreamARN: names that agree work as the ARN alone does,
// and names that disagree are refused before anything happens.
func TestStreamNameAndARNEverywhere(t *testing.T) {
	e := newEnv(t, nil)
	inputs := streamARNInputs()
	client := reflect.ValueOf(e.kc)
	var ops []string
	for i := 0; i < client.NumMethod(); i++ {
		m := client.Type().Method(i)
		if m.Type.NumIn() < 3 || m.Type.In(2).Kind() != reflect.Pointer || m.Type.In(2).Elem().Kind() != reflect.Struct {
			continue
		}
		in := m.Type.In(2).Elem()
		_, byName := in.FieldByName("StreamName")
		_, byARN := in.FieldByName("StreamARN")
		if !byName || !byARN {
			continue
		}
		if _, ok := inputs[m.Name]; !ok {
			t.Errorf("%s takes StreamName and StreamARN but has no input here", m.Name)
			continue
		}
		ops = append(ops, m.Name)
	}
	if len(ops) != len(inputs) {
		t.Fatalf("the model has %d such operations, the table %d", len(ops), len(inputs))
	}
	call := func(op, name, arn string) error {
		in := reflect.New(reflect.TypeOf(inputs[op]).Elem())
		in.Elem().Set(reflect.ValueOf(inputs[op]).Elem())
		if name != "" {
			in.Elem().FieldByName("StreamName").Set(reflect.ValueOf(aws.String(name)))
		}
		if arn != "" {
			in.Elem().FieldByName("StreamARN").Set(reflect.ValueOf(aws.String(arn)))
		}
		out := client.MethodByName(op).Call([]reflect.Value{reflect.ValueOf(ctx), in})
		err, _ := out[1].Interface().(error)
		return err
	}
	arnOf := func(name string) string { return "arn:aws:kinesis:eu-central-1:000000000000:stream/" + name }
	// Warm throughput is for on-demand streams of an account that committed to it.
	if _, err := e.kc.UpdateAccountSettings(ctx, &kinesis.UpdateAccountSettingsInput{
		MinimumThroughputBillingCommitment: &types.MinimumThroughputBillingCommitmentInput{Status: types.MinimumThroughputBillingCommitmentInputStatusEnabled},
	}); err != nil {
		t.Fatal(err)
	}
	for i, op := range ops {
		name := "s" + string(rune('a'+i))
		for _, n := range []string{name, name + "-other"} {
			if op == "UpdateStreamWarmThroughput" {
				e.createOnDemand(t, n)
			} else {
				e.create(t, n, 2)
			}
		}
		err := call(op, name+"-other", arnOf(name))
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidArgumentException" || ae.ErrorMessage() != "StreamName and StreamARN refer to different streams" {
			t.Errorf("%s with names that disagree: %v", op, err)
		}
		if err := call(op, name, arnOf(name)); err != nil {
			t.Errorf("%s with names that agree: %v", op, err)
		}
		if op == "DeleteStream" {
			continue
		}
		if err := call(op, "", arnOf(name+"-other")); err != nil {
			t.Errorf("%s by ARN alone: %v", op, err)
		}
	}
}
