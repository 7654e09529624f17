package kinesisapi

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// TestResourcesByARN: tags and resource policies on a stream and on a consumer, by ARN;
// stream encryption started and stopped and described; the account's settings.
func TestResourcesByARN(t *testing.T) {
	e := newEnv(t, nil)
	e.create(t, "res", 1)
	streamARN := aws.String("arn:aws:kinesis:eu-central-1:000000000000:stream/res")
	reg, err := e.kc.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: streamARN, ConsumerName: aws.String("c")})
	if err != nil {
		t.Fatal(err)
	}
	for _, arn := range []*string{streamARN, reg.Consumer.ConsumerARN} {
		if _, err := e.kc.TagResource(ctx, &kinesis.TagResourceInput{ResourceARN: arn, Tags: map[string]string{"team": "data", "env": "dev"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.kc.UntagResource(ctx, &kinesis.UntagResourceInput{ResourceARN: arn, TagKeys: []string{"env"}}); err != nil {
			t.Fatal(err)
		}
		tags, err := e.kc.ListTagsForResource(ctx, &kinesis.ListTagsForResourceInput{ResourceARN: arn})
		if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "team" {
			t.Fatalf("tags of %s: %v %+v", *arn, err, tags)
		}
		got, err := e.kc.GetResourcePolicy(ctx, &kinesis.GetResourcePolicyInput{ResourceARN: arn})
		if err != nil || aws.ToString(got.Policy) != "{}" {
			t.Fatalf("policy before put: %v %+v", err, got)
		}
		policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kinesis:*","Resource":"` + *arn + `"}]}`
		if _, err := e.kc.PutResourcePolicy(ctx, &kinesis.PutResourcePolicyInput{ResourceARN: arn, Policy: aws.String(policy)}); err != nil {
			t.Fatal(err)
		}
		got, err = e.kc.GetResourcePolicy(ctx, &kinesis.GetResourcePolicyInput{ResourceARN: arn})
		if err != nil || aws.ToString(got.Policy) != policy {
			t.Fatalf("policy: %v %+v", err, got)
		}
		if _, err := e.kc.DeleteResourcePolicy(ctx, &kinesis.DeleteResourcePolicyInput{ResourceARN: arn}); err != nil {
			t.Fatal(err)
		}
	}
	// The stream's own tags are the ones ListTagsForStream shows.
	lt, err := e.kc.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{StreamName: aws.String("res")})
	if err != nil || len(lt.Tags) != 1 {
		t.Fatalf("ListTagsForStream: %v %+v", err, lt)
	}
	_, err = e.kc.PutResourcePolicy(ctx, &kinesis.PutResourcePolicyInput{ResourceARN: streamARN, Policy: aws.String("not json")})
	wantErr(t, err, "InvalidArgumentException", "")
	_, err = e.kc.TagResource(ctx, &kinesis.TagResourceInput{ResourceARN: aws.String("arn:aws:kinesis:eu-central-1:000000000000:stream/nope"), Tags: map[string]string{"a": "b"}})
	wantErr(t, err, "ResourceNotFoundException", "")

	if _, err := e.kc.StartStreamEncryption(ctx, &kinesis.StartStreamEncryptionInput{StreamName: aws.String("res"),
		EncryptionType: types.EncryptionTypeKms, KeyId: aws.String("alias/aws/kinesis")}); err != nil {
		t.Fatal(err)
	}
	d, err := e.kc.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("res")})
	if err != nil || d.StreamDescriptionSummary.EncryptionType != types.EncryptionTypeKms || aws.ToString(d.StreamDescriptionSummary.KeyId) != "alias/aws/kinesis" {
		t.Fatalf("encrypted stream: %v %+v", err, d.StreamDescriptionSummary)
	}
	if _, err := e.kc.StopStreamEncryption(ctx, &kinesis.StopStreamEncryptionInput{StreamName: aws.String("res"),
		EncryptionType: types.EncryptionTypeKms, KeyId: aws.String("alias/aws/kinesis")}); err != nil {
		t.Fatal(err)
	}
	ds, err := e.kc.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("res")})
	if err != nil || ds.StreamDescription.EncryptionType != types.EncryptionTypeNone || ds.StreamDescription.KeyId != nil {
		t.Fatalf("stream after stopping encryption: %v %+v", err, ds.StreamDescription)
	}

	as, err := e.kc.DescribeAccountSettings(ctx, &kinesis.DescribeAccountSettingsInput{})
	if err != nil || as.MinimumThroughputBillingCommitment.Status != types.MinimumThroughputBillingCommitmentOutputStatusDisabled {
		t.Fatalf("account settings: %v %+v", err, as)
	}
	up, err := e.kc.UpdateAccountSettings(ctx, &kinesis.UpdateAccountSettingsInput{MinimumThroughputBillingCommitment: &types.MinimumThroughputBillingCommitmentInput{
		Status: types.MinimumThroughputBillingCommitmentInputStatusEnabled}})
	if err != nil || up.MinimumThroughputBillingCommitment.Status != types.MinimumThroughputBillingCommitmentOutputStatusEnabled || up.MinimumThroughputBillingCommitment.StartedAt == nil {
		t.Fatalf("update account settings: %v %+v", err, up)
	}
}
