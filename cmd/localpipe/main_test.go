package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

func TestVersionAndHelp(t *testing.T) {
	out, err := exec.Command(binary, "--version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "localpipe ") {
		t.Fatalf("--version: %v %q", err, out)
	}
	out, err = exec.Command(binary, "--help").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--data-dir") || !strings.Contains(string(out), "LOCALPIPE_DATA_DIR") {
		t.Fatalf("--help: %v %q", err, out)
	}
	out, err = exec.Command(binary, "--fsync", "sometimes").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--fsync") {
		t.Fatalf("bad --fsync accepted: %q", out)
	}
	cmd := exec.Command(binary, "--version=false", "--ephemeral")
	cmd.Env = append(os.Environ(), "LOCALPIPE_LOG_LEVEL=loud")
	if out, err = cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "--log-level") {
		t.Fatalf("bad LOCALPIPE_LOG_LEVEL accepted: %q", out)
	}
}

func TestHealthMetricsAndUnmatchedRoutes(t *testing.T) {
	s := start(t, "--ephemeral")
	resp, err := http.Get(s.endpoint + "/_localpipe/health")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"kinesis":"running"`) {
		t.Fatalf("health: %d %s", resp.StatusCode, body)
	}

	ctx := context.Background()
	kc := kinesisClient(s.endpoint)
	if _, err := kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("m"), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("m"), PartitionKey: aws.String("k"), Data: []byte("hello")}); err != nil {
		t.Fatal(err)
	}
	resp, err = http.Get(s.endpoint + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !regexp.MustCompile(`localpipe_kinesis_incoming_records_total\{stream_name="m"\} 1`).Match(body) ||
		!strings.Contains(string(body), `localpipe_kinesis_incoming_bytes_total{stream_name="m"} 5`) {
		t.Fatalf("metrics missing the stream's series:\n%s", body)
	}
	// The Go runtime's and the process's own series, which come from the default registry.
	for _, name := range []string{"go_goroutines ", "go_memstats_heap_alloc_bytes ", "process_resident_memory_bytes "} {
		if !strings.Contains(string(body), "\n"+name) {
			t.Fatalf("metrics missing %q:\n%s", name, body)
		}
	}

	resp, err = http.Get(s.endpoint + "/no/such/thing")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 4 && resp.StatusCode/100 != 5 || !strings.Contains(string(body), "<Error><Code>") || resp.Header.Get("x-amz-request-id") == "" {
		t.Fatalf("unmatched route: %d %s", resp.StatusCode, body)
	}
	req, _ := http.NewRequest("POST", s.endpoint+"/", strings.NewReader("{}"))
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables")
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(body), `"__type":"UnknownOperationException"`) {
		t.Fatalf("unknown target: %d %s", resp.StatusCode, body)
	}
}

func TestH2C(t *testing.T) {
	s := start(t, "--ephemeral")
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	var seen string
	hc := &http.Client{Transport: &http.Transport{Protocols: &protocols}}
	kc := kinesis.New(kinesis.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(s.endpoint),
		Credentials: testCreds,
		HTTPClient: clientFunc(func(r *http.Request) (*http.Response, error) {
			resp, err := hc.Do(r)
			if err == nil {
				seen = resp.Proto
			}
			return resp, err
		}),
	})
	if _, err := kc.ListStreams(context.Background(), &kinesis.ListStreamsInput{}); err != nil {
		t.Fatal(err)
	}
	if seen != "HTTP/2.0" {
		t.Fatalf("protocol %q, want HTTP/2.0", seen)
	}
}

type clientFunc func(*http.Request) (*http.Response, error)

func (f clientFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

func TestSecondInstanceOnSameDataDirFails(t *testing.T) {
	dir := t.TempDir()
	start(t, "--data-dir", dir)
	cmd := exec.Command(binary, "--listen", "127.0.0.1:0", "--data-dir", dir)
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("second instance did not fail at once")
	}
	if err == nil || !strings.Contains(string(out), "in use by another localpipe") {
		t.Fatalf("second instance: %v %s", err, out)
	}
}

func TestConfigFileCreatesStreams(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	os.WriteFile(cfg, []byte("streams:\n  - StreamName: a\n    ShardCount: 3\n  - StreamName: b\n    StreamModeDetails: {StreamMode: ON_DEMAND}\n"), 0o644)
	s := start(t, "--data-dir", filepath.Join(dir, "data"), "--config", cfg)
	kc := kinesisClient(s.endpoint)
	out, err := kc.DescribeStreamSummary(context.Background(), &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("a")})
	if err != nil || *out.StreamDescriptionSummary.OpenShardCount != 3 {
		t.Fatalf("a: %v %+v", err, out)
	}
	out, err = kc.DescribeStreamSummary(context.Background(), &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("b")})
	if err != nil || *out.StreamDescriptionSummary.OpenShardCount != 4 || out.StreamDescriptionSummary.StreamModeDetails.StreamMode != types.StreamModeOnDemand {
		t.Fatalf("b: %v %+v", err, out)
	}
	// Applying the config again at the next start is a no-op, not an error.
	if code := s.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("exit %d\n%s", code, s.stderr)
	}
	start(t, "--data-dir", filepath.Join(dir, "data"), "--config", cfg)

	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("streams:\n  - StreamName: 'no spaces allowed'\n"), 0o644)
	outb, err := exec.Command(binary, "--ephemeral", "--listen", "127.0.0.1:0", "--config", bad).CombinedOutput()
	if err == nil || !strings.Contains(string(outb), "ValidationException") {
		t.Fatalf("bad config: %v %s", err, outb)
	}
}

func TestRestartKeepsRecordsAndSequenceGrows(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s := start(t, "--data-dir", dir)
	kc := kinesisClient(s.endpoint)
	kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("r"), ShardCount: aws.Int32(1)})
	var last string
	for i := 0; i < 50; i++ {
		out, err := kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("r"), PartitionKey: aws.String("k"), Data: []byte(fmt.Sprint(i))})
		if err != nil {
			t.Fatal(err)
		}
		last = *out.SequenceNumber
	}
	if code := s.stop(t, syscall.SIGINT); code != 0 {
		t.Fatalf("SIGINT exit %d\n%s", code, s.stderr)
	}
	s = start(t, "--data-dir", dir)
	kc = kinesisClient(s.endpoint)
	recs := readShard(t, kc, "r", "shardId-000000000000")
	if len(recs) != 50 || string(recs[49].Data) != "49" || *recs[49].SequenceNumber != last {
		t.Fatalf("after restart: %d records", len(recs))
	}
	out, err := kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("r"), PartitionKey: aws.String("k"), Data: []byte("new")})
	if err != nil {
		t.Fatal(err)
	}
	if !seqLess(last, *out.SequenceNumber) {
		t.Fatalf("sequence %s not above %s", *out.SequenceNumber, last)
	}
}

func seqLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// TestJavaScriptSDKSubscribeToShard receives records through an enhanced fan-out subscription
// with the AWS SDK for JavaScript v3, over cleartext HTTP/2: every record put while the
// subscription is open arrives, in order.
func TestJavaScriptSDKSubscribeToShard(t *testing.T) {
	dir, _ := filepath.Abs("testdata/jsclient")
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not installed")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@aws-sdk", "client-kinesis")); err != nil {
		t.Skip("run `npm ci` in cmd/localpipe/testdata/jsclient (.ci/run does)")
	}
	s := start(t, "--ephemeral")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join(dir, "subscribe.mjs"), s.endpoint, "20")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s\n%s", err, stderr.String(), s.stderr)
	}
	var res struct {
		Handler string
		Records []string
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("output %q", out)
	}
	want := make([]string, 20)
	for i := range want {
		want[i] = fmt.Sprintf("r%d", i)
	}
	if res.Handler != "NodeHttp2Handler" || strings.Join(res.Records, ",") != strings.Join(want, ",") {
		t.Fatalf("%+v", res)
	}
}

// TestJavaScriptSDKOverH2C drives the server with the AWS SDK for JavaScript v3, whose
// Kinesis client speaks cleartext HTTP/2 by default. .ci/run installs the package.
func TestJavaScriptSDKOverH2C(t *testing.T) {
	dir, _ := filepath.Abs("testdata/jsclient")
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not installed")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@aws-sdk", "client-kinesis")); err != nil {
		t.Skip("run `npm ci` in cmd/localpipe/testdata/jsclient (.ci/run does)")
	}
	s := start(t, "--ephemeral", "--log-level", "debug")
	cmd := exec.Command("node", filepath.Join(dir, "put.mjs"), s.endpoint)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s\n%s", err, stderr.String(), s.stderr)
	}
	var res struct{ Handler, SequenceNumber, Data string }
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("output %q", out)
	}
	if res.Handler != "NodeHttp2Handler" || res.Data != "from javascript" || len(res.SequenceNumber) != 56 {
		t.Fatalf("%+v", res)
	}
}
