package firehoseapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/localpipe/localpipe/internal/sdkhttp"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/localpipe/localpipe/internal/app"
)

var ctx = context.Background()

// env is a real localpipe server in-process, with SDK clients pointed at it.
type env struct {
	a   *app.App
	fh  *firehose.Client
	kc  *kinesis.Client
	s3  *s3.Client
	dir string
}

func creds() aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider("test", "test", "")
}

func newEnv(t *testing.T) *env { return openEnv(t, t.TempDir(), nil) }

func openEnv(t *testing.T, dir string, mod func(*app.Config)) *env {
	t.Helper()
	cfg := app.DefaultConfig()
	cfg.Listen, cfg.DataDir = "127.0.0.1:0", dir
	if mod != nil {
		mod(&cfg)
	}
	a, err := app.Open(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Listen(); err != nil {
		t.Fatal(err)
	}
	e := &env{a: a, dir: dir}
	t.Cleanup(func() { e.close() })
	ep := aws.String(a.Endpoint())
	e.fh = firehose.New(firehose.Options{Region: "us-east-1", BaseEndpoint: ep, Credentials: creds(), RetryMaxAttempts: 1, HTTPClient: sdkhttp.New()})
	e.kc = kinesis.New(kinesis.Options{Region: "us-east-1", BaseEndpoint: ep, Credentials: creds(), RetryMaxAttempts: 1, HTTPClient: sdkhttp.New()})
	e.s3 = s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: ep, Credentials: creds(), UsePathStyle: true, RetryMaxAttempts: 1, HTTPClient: sdkhttp.New()})
	return e
}

func (e *env) close() {
	if e.a != nil {
		e.a.Shutdown(context.Background())
		e.a = nil
	}
}

func (e *env) bucket(t *testing.T, name string) {
	t.Helper()
	if _, err := e.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
}

func (e *env) stream(t *testing.T, name string, shards int32) {
	t.Helper()
	if _, err := e.kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(shards)}); err != nil {
		t.Fatal(err)
	}
}

const role = "arn:aws:iam::000000000000:role/firehose"

func s3dest(bucket string) *types.ExtendedS3DestinationConfiguration {
	return &types.ExtendedS3DestinationConfiguration{RoleARN: aws.String(role), BucketARN: aws.String("arn:aws:s3:::" + bucket)}
}

func processing(procs ...types.Processor) *types.ProcessingConfiguration {
	return &types.ProcessingConfiguration{Enabled: aws.Bool(true), Processors: procs}
}

func kinesisSource(stream string) *types.KinesisStreamSourceConfiguration {
	return &types.KinesisStreamSourceConfiguration{KinesisStreamARN: aws.String("arn:aws:kinesis:us-east-1:000000000000:stream/" + stream), RoleARN: aws.String(role)}
}

func (e *env) create(t *testing.T, in *firehose.CreateDeliveryStreamInput) {
	t.Helper()
	if _, err := e.fh.CreateDeliveryStream(ctx, in); err != nil {
		t.Fatal(err)
	}
}

func (e *env) put(t *testing.T, name string, records ...string) {
	t.Helper()
	var rs []types.Record
	for _, r := range records {
		rs = append(rs, types.Record{Data: []byte(r)})
	}
	out, err := e.fh.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String(name), Records: rs})
	if err != nil {
		t.Fatal(err)
	}
	if *out.FailedPutCount != 0 {
		t.Fatalf("FailedPutCount %d", *out.FailedPutCount)
	}
}

// flush calls the admin flush endpoint and returns the keys it reports.
func (e *env) flush(t *testing.T, name string) []string {
	t.Helper()
	resp, err := http.Post(e.a.Endpoint()+"/_localpipe/firehose/"+name+"/flush", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("flush %s: %d %s", name, resp.StatusCode, body)
	}
	var out struct{ Keys []string }
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	return out.Keys
}

// metrics returns what the server's /metrics endpoint shows now.
func (e *env) metrics(t *testing.T) string {
	t.Helper()
	resp, err := http.Get(e.a.Endpoint() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func (e *env) keys(t *testing.T, bucket, prefix string) []string {
	t.Helper()
	out, err := e.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, *o.Key)
	}
	return keys
}

func (e *env) get(t *testing.T, bucket, key string) []byte {
	t.Helper()
	out, err := e.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
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

// waitKeys polls until the bucket holds at least n objects under prefix.
func (e *env) waitKeys(t *testing.T, bucket, prefix string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		keys := e.keys(t, bucket, prefix)
		if len(keys) >= n {
			return keys
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d objects under %s/%s, want %d", len(keys), bucket, prefix, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wantErr checks an SDK error's AWS code and, if msg is not empty, that its message contains msg.
func wantErr(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if err == nil {
		t.Fatalf("no error, want %s", code)
	}
	if !asAPIError(err, &ae) {
		t.Fatalf("error %v, want %s", err, code)
	}
	if ae.ErrorCode() != code || !strings.Contains(ae.ErrorMessage(), msg) {
		t.Fatalf("got %s: %s\nwant %s: …%s…", ae.ErrorCode(), ae.ErrorMessage(), code, msg)
	}
}

func asAPIError(err error, ae *smithy.APIError) bool {
	for err != nil {
		if x, ok := err.(smithy.APIError); ok {
			*ae = x
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

// raw posts a JSON 1.1 request by hand, for bodies the SDK would not send.
func (e *env) raw(t *testing.T, action, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", e.a.Endpoint(), bytes.NewReader([]byte(body)))
	req.Header.Set("X-Amz-Target", "Firehose_20150804."+action)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/firehose/aws4_request, SignedHeaders=host, Signature=abc")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	json.Unmarshal(b, &m)
	if m == nil {
		m = map[string]any{"_raw": string(b)}
	}
	return resp.StatusCode, m
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

func recs(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%04d|", prefix, i)
	}
	return out
}
