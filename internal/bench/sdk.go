package main

import (
	"bytes"
	"context"
	"fmt"
	"github.com/localpipe/localpipe/internal/sdkhttp"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// loadSDK runs the SDK load generator (-load sdk) as a child process against addr for d and
// returns the completed requests per second it reports. A process of its own, like the
// servers, so that the generator's heap and garbage collection are not the bench's, and it
// opens its connections afresh in every run.
func loadSDK(addr, action string, conns, size int, d time.Duration) (float64, error) {
	cmd := exec.Command(os.Args[0], "-load", "sdk", "-addr", addr, "-action", action,
		"-conns", strconv.Itoa(conns), "-size", strconv.Itoa(size), "-duration", d.String())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("sdk load %s: %v: %s", action, err, strings.TrimSpace(stderr.String()))
	}
	return strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
}

// runSDKLoad is the child's side of loadSDK: conns goroutines share one Kinesis client, as an
// application's producers would, each sending action with 100-byte records (500 per
// PutRecords) for d; it prints the completed requests per second. The client is the SDK's
// as applications configure it but for the endpoint, static credentials (so every request
// is SigV4-signed with the SDK's headers) and retries off (a failed request fails the run
// instead of being counted twice); its transport keeps one idle connection per goroutine,
// where the SDK's default of 10 would close and reopen connections throughout the run.
// sdkhttp.Wrap keeps the SDK from failing requests the server already answered (see
// internal/sdkhttp), so any error fails the run.
func runSDKLoad(addr, action string, conns, size int, d time.Duration) error {
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns, t.MaxIdleConnsPerHost = conns, conns
	})
	kc := kinesis.New(kinesis.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String("http://" + addr),
		Credentials:  credentials.NewStaticCredentialsProvider("bench", "bench", ""),
		Retryer:      aws.NopRetryer{},
		HTTPClient:   sdkhttp.Wrap(hc),
	})
	data := bytes.Repeat([]byte("x"), size)
	var send func(context.Context) error
	switch action {
	case "PutRecord":
		in := &kinesis.PutRecordInput{StreamName: aws.String("bench"), PartitionKey: aws.String("pk-1"), Data: data}
		send = func(ctx context.Context) error {
			_, err := kc.PutRecord(ctx, in)
			return err
		}
	case "PutRecords":
		in := &kinesis.PutRecordsInput{StreamName: aws.String("bench")}
		for i := range 500 {
			in.Records = append(in.Records, types.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprintf("pk-%d", i)), Data: data})
		}
		send = func(ctx context.Context) error {
			out, err := kc.PutRecords(ctx, in)
			if err == nil && aws.ToInt32(out.FailedRecordCount) != 0 {
				err = fmt.Errorf("PutRecords: %d records failed", aws.ToInt32(out.FailedRecordCount))
			}
			return err
		}
	default:
		return fmt.Errorf("-action %q: want PutRecord or PutRecords", action)
	}
	ctx := context.Background()
	// The SDK client is shared, as applications share one; the connection each goroutine is
	// handed by parallelConns goes unused.
	rate, err := parallelConns(conns, d, func(*http.Client, *bytes.Buffer) error { return send(ctx) })
	if err != nil {
		return err
	}
	fmt.Println(rate)
	return nil
}
