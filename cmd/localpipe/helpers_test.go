package main

// The helpers every test of this package shares: TestMain builds the binary once per package
// run, start runs it, and the clients below drive it as users do.

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/localpipe/localpipe/internal/sdkhttp"
)

var binary string

// raceOptions are the race detector's options for the binary's runs: a race fails the run at
// once, and a clean exit waits 50 ms for late reports instead of the default second, which
// every command and every graceful stop would otherwise spend.
const raceOptions = "GORACE=halt_on_error=1 atexit_sleep_ms=50"

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "localpipe-bin-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "localpipe")
	// -race so the end-to-end tests also race-check the server they drive.
	build := exec.Command("go", "build", "-race", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		panic("building localpipe: " + err.Error())
	}
	// The runs that do not set raceOptions (exec.Command with the test's environment) inherit
	// this.
	os.Setenv("GORACE", "atexit_sleep_ms=50")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var plain struct {
	once sync.Once
	path string
	err  error
}

// plainBinary builds localpipe without the race detector, for tests that measure the
// process (memory), once per package run.
func plainBinary(t *testing.T) string {
	t.Helper()
	plain.once.Do(func() {
		plain.path = filepath.Join(filepath.Dir(binary), "localpipe-plain")
		out, err := exec.Command("go", "build", "-o", plain.path, ".").CombinedOutput()
		if err != nil {
			plain.err = fmt.Errorf("building localpipe: %v\n%s", err, out)
		}
	})
	if plain.err != nil {
		t.Fatal(plain.err)
	}
	return plain.path
}

// server is a localpipe process started by a test.
type server struct {
	cmd      *exec.Cmd
	endpoint string
	stderr   *syncBuffer
	waited   chan struct{}
	exitErr  error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

var endpointRE = regexp.MustCompile(`endpoint=(http://\S+)`)

// start runs the binary on a random loopback port and waits until it reports ready.
func start(t *testing.T, args ...string) *server {
	t.Helper()
	return startBinary(t, binary, args...)
}

// startBinary is start with another build of localpipe (plainBinary).
func startBinary(t *testing.T, bin string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"--listen", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), raceOptions)
	pr, pw := io.Pipe()
	s := &server{cmd: cmd, stderr: &syncBuffer{}, waited: make(chan struct{})}
	cmd.Stderr = io.MultiWriter(pw, s.stderr)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.exitErr = cmd.Wait(); pw.Close(); close(s.waited) }()
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := endpointRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case s.endpoint = <-found:
	case <-s.waited:
		t.Fatalf("localpipe exited before ready: %v\n%s", s.exitErr, s.stderr)
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("localpipe not ready\n%s", s.stderr)
	}
	t.Cleanup(func() {
		s.cmd.Process.Kill()
		<-s.waited
		if strings.Contains(s.stderr.String(), "WARNING: DATA RACE") {
			t.Errorf("data race in server:\n%s", s.stderr)
		}
	})
	return s
}

// stop sends sig and waits for the exit, returning the exit code.
func (s *server) stop(t *testing.T, sig os.Signal) int {
	t.Helper()
	s.cmd.Process.Signal(sig)
	select {
	case <-s.waited:
	case <-time.After(30 * time.Second):
		t.Fatalf("no exit after %v\n%s", sig, s.stderr)
	}
	return s.cmd.ProcessState.ExitCode()
}

// kill ends the server with SIGKILL, as a crash would, and waits until it is gone.
func (s *server) kill() {
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.waited
}

// port is the port the server listens on.
func (s *server) port() string { return s.endpoint[strings.LastIndex(s.endpoint, ":")+1:] }

// flush asks the server to deliver what Firehose buffered, in one delivery stream (all when
// name is empty), fails the test unless it answers 200, and returns the keys written (none
// are returned for all).
func (s *server) flush(t *testing.T, name string) []string {
	t.Helper()
	path := "/_localpipe/firehose/flush"
	if name != "" {
		path = "/_localpipe/firehose/" + name + "/flush"
	}
	resp, err := http.Post(s.endpoint+path, "application/json", nil)
	if err != nil {
		t.Fatalf("flush %s: %v", name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("flush %s: %d %s", name, resp.StatusCode, b)
	}
	var out struct{ Keys []string }
	json.NewDecoder(resp.Body).Decode(&out)
	return out.Keys
}

var testCreds = credentials.NewStaticCredentialsProvider("test", "test", "")

func kinesisClient(endpoint string) *kinesis.Client {
	return kinesis.New(kinesis.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(endpoint),
		Credentials:      testCreds,
		RetryMaxAttempts: 3,
		HTTPClient:       sdkhttp.New(),
	})
}

func firehoseClient(endpoint string) *firehose.Client {
	return firehose.New(firehose.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(endpoint),
		Credentials:      testCreds,
		RetryMaxAttempts: 1,
		HTTPClient:       sdkhttp.New(),
	})
}

func s3Client(endpoint string) *s3.Client {
	return s3.New(s3.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(endpoint),
		Credentials:      testCreds,
		UsePathStyle:     true,
		RetryMaxAttempts: 1,
		HTTPClient:       sdkhttp.New(),
	})
}

// vhostS3Client addresses buckets virtual-host style (bucket.s3.localhost:PORT) but dials the
// server's loopback address, whatever *.localhost resolves to on this machine.
func vhostS3Client(endpoint string) *s3.Client {
	u, _ := url.Parse(endpoint)
	dialer := &net.Dialer{}
	return s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String("http://s3.localhost:" + u.Port()),
		Credentials:  testCreds,
		HTTPClient: sdkhttp.Wrap(&http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, u.Host)
		}}}),
	})
}

// awsCLI is Debian's AWS CLI v2. It is called by full path because a CLI v1 from pip or
// pyenv often shadows it on PATH.
const awsCLI = "/usr/bin/aws"

// runAWS runs the AWS CLI against endpoint in region, with test credentials, no retries and
// none of the machine's configuration, and returns its standard output.
func runAWS(t *testing.T, endpoint, region string, args ...string) string {
	t.Helper()
	out, stderr, err := tryAWS(endpoint, region, args...)
	if err != nil {
		t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return out
}

// tryAWS runs the AWS CLI like runAWS, for a command that may fail: it returns the CLI's
// standard output and error and how it exited.
func tryAWS(endpoint, region string, args ...string) (stdout, stderr string, err error) {
	cmd := exec.Command(awsCLI, append([]string{"--endpoint-url", endpoint, "--no-cli-pager"}, args...)...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
		"AWS_DEFAULT_REGION="+region, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_MAX_ATTEMPTS=1")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	out, err := cmd.Output()
	return string(out), errb.String(), err
}

// cli runs the AWS CLI in us-east-1 and returns its standard output.
func cli(t *testing.T, endpoint string, args ...string) string {
	t.Helper()
	return runAWS(t, endpoint, "us-east-1", args...)
}

// readShard reads a whole shard from TRIM_HORIZON, open or closed.
func readShard(t *testing.T, kc *kinesis.Client, name, shard string) []types.Record {
	t.Helper()
	ctx := context.Background()
	it, err := kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(name), ShardId: aws.String(shard), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	var out []types.Record
	iter := it.ShardIterator
	for {
		res, err := kc.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(10000)})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, res.Records...)
		// A closed shard ends without a next iterator.
		if res.NextShardIterator == nil || len(res.Records) == 0 && *res.MillisBehindLatest == 0 {
			return out
		}
		iter = res.NextShardIterator
	}
}

// listObjects lists a whole bucket, page by page.
func listObjects(t *testing.T, sc *s3.Client, bucket string) []s3types.Object {
	t.Helper()
	var out []s3types.Object
	p := s3.NewListObjectsV2Paginator(sc, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Contents...)
	}
	return out
}

func getObject(t *testing.T, sc *s3.Client, bucket, key string) []byte {
	t.Helper()
	out, err := sc.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
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

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// load is a set of producers for the crash tests: each runs until it reports that the server
// failed it or until halt.
type load struct {
	stop chan struct{}
	wg   sync.WaitGroup
}

func newLoad() *load { return &load{stop: make(chan struct{})} }

// run calls step(0), step(1), … in a goroutine of its own while step returns true.
func (l *load) run(step func(i int) bool) {
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		for i := 0; ; i++ {
			select {
			case <-l.stop:
				return
			default:
			}
			if !step(i) {
				return
			}
		}
	}()
}

// halt stops the producers and waits until they have.
func (l *load) halt() {
	close(l.stop)
	l.wg.Wait()
}

// putNoting puts entries to stream with PutRecords and, holding mu, calls note with the data
// and sequence number of each record the answer acknowledged. It returns false when the call
// failed, as it does once the server is killed.
func putNoting(kc *kinesis.Client, stream string, entries []types.PutRecordsRequestEntry, mu *sync.Mutex, note func(data, seq string)) bool {
	out, err := kc.PutRecords(context.Background(), &kinesis.PutRecordsInput{StreamName: aws.String(stream), Records: entries})
	if err != nil {
		return false
	}
	mu.Lock()
	defer mu.Unlock()
	for j, r := range out.Records {
		if r.ErrorCode == nil {
			note(string(entries[j].Data), aws.ToString(r.SequenceNumber))
		}
	}
	return true
}

// waitUntil polls cond with a short tick until it holds or timeout passes, and reports
// whether it held.
func waitUntil(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// checkStoredOnce reads the shards of stream and fails the test unless every acknowledged
// record (data → sequence number) is stored, with the sequence number it was acknowledged
// with, and no record is stored twice. what names the acknowledged things in the message. It
// returns how many distinct records are stored.
func checkStoredOnce(t *testing.T, kc *kinesis.Client, stream string, shards []string, acked map[string]string, what string) int {
	t.Helper()
	seen := map[string]int{}
	for _, shard := range shards {
		for _, r := range readShard(t, kc, stream, shard) {
			seen[string(r.Data)]++
			if seq, ok := acked[string(r.Data)]; ok && seq != *r.SequenceNumber {
				t.Errorf("%s: acknowledged as %s, read back as %s", r.Data, seq, *r.SequenceNumber)
			}
		}
	}
	lost := 0
	for data := range acked {
		if seen[data] == 0 {
			lost++
		}
	}
	for data, n := range seen {
		if n > 1 {
			t.Errorf("%s stored %d times", data, n)
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d acknowledged %s lost", lost, len(acked), what)
	}
	return len(seen)
}
