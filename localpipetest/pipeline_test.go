package localpipetest_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	ftypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/localpipe/localpipe/localpipetest"
)

func getObject(t *testing.T, srv *localpipetest.Server, bucket, key string) []byte {
	t.Helper()
	out, err := srv.S3().GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFirehoseDirectPut(t *testing.T) {
	srv := localpipetest.Start(t, localpipetest.Bucket("out"), localpipetest.Config(`
deliveryStreams:
  - DeliveryStreamName: direct
    DeliveryStreamType: DirectPut
    ExtendedS3DestinationConfiguration:
      BucketARN: arn:aws:s3:::out
      RoleARN: arn:aws:iam::000000000000:role/firehose
      Prefix: direct/
`))
	if keys := srv.Flush("direct"); len(keys) != 0 {
		t.Fatalf("flush of an empty buffer wrote %q", keys)
	}
	_, err := srv.Firehose().PutRecordBatch(context.Background(), &firehose.PutRecordBatchInput{
		DeliveryStreamName: aws.String("direct"),
		Records:            []ftypes.Record{{Data: []byte("a\n")}, {Data: []byte("b\n")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	keys := srv.Flush("")
	if len(keys) != 1 || !strings.HasPrefix(keys[0], "direct/") {
		t.Fatalf("Flush: %q", keys)
	}
	if b := getObject(t, srv, "out", keys[0]); string(b) != "a\nb\n" {
		t.Fatalf("object %q", b)
	}
}

// The seed pipeline end to end through the harness: the seed's API Gateway request reaches
// the stream, and Firehose delivers it gzipped to the bucket.
func TestSeedPipeline(t *testing.T) {
	srv := localpipetest.Start(t, localpipetest.ConfigFile("../examples/seed/localpipe.yaml"))
	url := srv.InvokeURL("seedapi001", "prod", "/stream")
	resp, err := http.Post(url, "application/json", strings.NewReader(`{"message":"through the gateway"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var put struct{ SequenceNumber, ShardId string }
	if resp.StatusCode != 200 || json.Unmarshal(body, &put) != nil || put.ShardId != "shardId-000000000000" {
		t.Fatalf("POST %s: %s %s", url, resp.Status, body)
	}
	recs := srv.Records("my-data-stream")
	if len(recs) != 1 || string(recs[0].Data) != `{"message":"through the gateway"}` || aws.ToString(recs[0].SequenceNumber) != put.SequenceNumber {
		t.Fatalf("stream holds %v", recs)
	}
	keys := srv.Flush("my-firehose-stream")
	if len(keys) != 1 || !strings.HasSuffix(keys[0], ".gz") {
		t.Fatalf("Flush: %q", keys)
	}
	zr, err := gzip.NewReader(bytes.NewReader(getObject(t, srv, "my-delivery-bucket", keys[0])))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(zr); string(b) != `{"message":"through the gateway"}` {
		t.Fatalf("delivered %q", b)
	}
}
