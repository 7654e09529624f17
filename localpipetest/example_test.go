package localpipetest_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/localpipe/localpipe/localpipetest"
)

// A test starts the emulator with the resources it needs, in the config file's shapes, and
// talks to it with the SDK through AWSConfig. Records put into the stream reach the bucket
// through Firehose; Flush delivers them now instead of after the buffering interval. (New and
// Close do what Start does outside a test, so this example can run.)
func Example() {
	srv, err := localpipetest.New(localpipetest.Config(`
streams:
  - StreamName: orders
    ShardCount: 1
buckets: [archive]
deliveryStreams:
  - DeliveryStreamName: orders-to-s3
    DeliveryStreamType: KinesisStreamAsSource
    KinesisStreamSourceConfiguration:
      KinesisStreamARN: arn:aws:kinesis:us-east-1:000000000000:stream/orders
      RoleARN: arn:aws:iam::000000000000:role/firehose
    ExtendedS3DestinationConfiguration:
      BucketARN: arn:aws:s3:::archive
      RoleARN: arn:aws:iam::000000000000:role/firehose
      Prefix: orders/
`))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	ctx := context.Background()
	kc := kinesis.NewFromConfig(srv.AWSConfig)
	for _, order := range []string{`{"id":1}`, `{"id":2}`} {
		_, err := kc.PutRecord(ctx, &kinesis.PutRecordInput{
			StreamName: aws.String("orders"), PartitionKey: aws.String("customer-1"), Data: []byte(order + "\n"),
		})
		if err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println(len(srv.Records("orders")), "records in the stream")

	// Flush catches up with the stream and writes what it buffered as one object.
	keys := srv.Flush("orders-to-s3")
	obj, err := srv.S3().GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("archive"), Key: aws.String(keys[0])})
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(obj.Body)
	// The key is AWS's: orders/YYYY/MM/dd/HH/orders-to-s3-1-YYYY-MM-dd-HH-mm-ss-<uuid>.
	fmt.Println(len(keys), "object,", strings.Count(keys[0], "/"), "levels deep:")
	fmt.Print(string(body))
	// Output:
	// 2 records in the stream
	// 1 object, 5 levels deep:
	// {"id":1}
	// {"id":2}
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
