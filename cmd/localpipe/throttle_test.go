package main

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/smithy-go"
)

// refusedDescribeLimits calls DescribeLimits (AWS allows 1 a second per account) up to 50
// times without retries and reports whether any was refused with AWS's LimitExceeded. Only
// 50 calls each slower than a second could miss a throttle that is on.
func refusedDescribeLimits(t *testing.T, endpoint string) bool {
	t.Helper()
	kc := kinesis.New(kinesisClient(endpoint).Options(), func(o *kinesis.Options) { o.RetryMaxAttempts = 1 })
	for range 50 {
		_, err := kc.DescribeLimits(context.Background(), &kinesis.DescribeLimitsInput{})
		if err == nil {
			continue
		}
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "LimitExceededException" || ae.ErrorMessage() != "Rate exceeded for account 000000000000." {
			t.Fatalf("DescribeLimits: %v", err)
		}
		return true
	}
	return false
}

// TestThrottleFlagAndEnv: --throttle, and LOCALPIPE_THROTTLE=true in its place, turn the
// limits on; without either nothing is refused.
func TestThrottleFlagAndEnv(t *testing.T) {
	if !refusedDescribeLimits(t, start(t, "--ephemeral", "--throttle").endpoint) {
		t.Error("--throttle: 50 DescribeLimits calls at once, none refused")
	}
	if refusedDescribeLimits(t, start(t, "--ephemeral").endpoint) {
		t.Error("without --throttle a DescribeLimits call was refused")
	}
	t.Setenv("LOCALPIPE_THROTTLE", "true")
	if !refusedDescribeLimits(t, start(t, "--ephemeral").endpoint) {
		t.Error("LOCALPIPE_THROTTLE=true: 50 DescribeLimits calls at once, none refused")
	}
}
