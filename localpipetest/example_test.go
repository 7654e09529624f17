package localpipetest_test

import (
	"context"
	"fmt"
	"log"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/localpipe/localpipe/localpipetest"
)

// A test starts the emulator with the resources it needs and talks to it with the SDK.
// New and Close do the same outside a test; Start calls Close when the test ends.
func Example() {
	srv, err := localpipetest.New(localpipetest.Config(`
streams:
  - StreamName: orders
    ShardCount: 1
buckets: [archive]
`))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	ctx := context.Background()
	kc := kinesis.NewFromConfig(srv.AWSConfig)
	put, err := kc.PutRecord(ctx, &kinesis.PutRecordInput{
		StreamName: aws.String("orders"), PartitionKey: aws.String("customer-1"), Data: []byte(`{"id":1}`),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(aws.ToString(put.ShardId))
	for _, r := range srv.Records("orders") {
		fmt.Println(string(r.Data))
	}
	// Output:
	// shardId-000000000000
	// {"id":1}
}

func ExampleStart() {
	// In a test function:
	test := func(t *testing.T) {
		srv := localpipetest.Start(t, localpipetest.ConfigFile("../examples/seed/localpipe.yaml"))
		kc := kinesis.NewFromConfig(srv.AWSConfig) // or srv.Kinesis(), srv.S3(), srv.Firehose()
		_, err := kc.PutRecord(context.Background(), &kinesis.PutRecordInput{
			StreamName: aws.String("my-data-stream"), PartitionKey: aws.String("k"), Data: []byte("hello"),
		})
		if err != nil {
			t.Fatal(err)
		}
		// keys := srv.Flush("my-firehose-stream") delivers to S3 now and returns the keys.
	}
	_ = test
}
