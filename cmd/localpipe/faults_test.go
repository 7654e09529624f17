package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/localpipe/localpipe/localpipetest"
)

func TestFaultsCommand(t *testing.T) {
	t.Parallel()
	srv := localpipetest.Start(t, localpipetest.Stream("s", 1))
	lp(t, srv.Endpoint, "", "faults").want(t, 2, "want add, ls or rm")
	lp(t, srv.Endpoint, "", "faults", "add", `{"service":"kinesis","error":"Nope"}`).want(t, 1, "ProvisionedThroughputExceededException")
	ids := lp(t, srv.Endpoint, "", "faults", "add",
		`{"service":"kinesis","operation":"PutRecord","error":"ProvisionedThroughputExceededException","count":1}`,
		`[{"service":"s3","error":"SlowDown","probability":0.5,"seed":1}]`).want(t, 0, "")
	list := strings.Fields(ids.stdout)
	if len(list) != 2 {
		t.Fatalf("add printed %q, want two ids", ids.stdout)
	}
	kc := kinesis.NewFromConfig(srv.AWSConfig, func(o *kinesis.Options) { o.RetryMaxAttempts = 1 })
	_, err := kc.PutRecord(context.Background(), &kinesis.PutRecordInput{StreamName: aws.String("s"), PartitionKey: aws.String("k"), Data: []byte("x")})
	var pte *ktypes.ProvisionedThroughputExceededException
	if !errors.As(err, &pte) {
		t.Fatalf("PutRecord after faults add: %v", err)
	}
	ls := lp(t, srv.Endpoint, "", "faults", "ls").want(t, 0, "")
	for _, want := range []string{list[0] + "  ", "PutRecord", "first 1", "SlowDown", "p=0.5"} {
		if !strings.Contains(ls.stdout, want) {
			t.Errorf("ls does not show %q:\n%s", want, ls.stdout)
		}
	}
	lp(t, srv.Endpoint, "", "faults", "rm", list[0]).want(t, 0, "")
	lp(t, srv.Endpoint, "", "faults", "rm", list[0]).want(t, 1, "no active fault "+list[0])
	lp(t, srv.Endpoint, "", "faults", "rm", "--all").want(t, 0, "")
	lp(t, srv.Endpoint, "", "faults", "ls").want(t, 0, "none active")
}
