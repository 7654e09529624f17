package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	binenc "encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/klauspost/compress/snappy"

	"github.com/localpipe/localpipe/firehose"
	"github.com/localpipe/localpipe/localpipetest"
)

// cliResult is one run of the built binary as a client.
type cliResult struct {
	code           int
	stdout, stderr string
}

// lp runs the localpipe binary with args against endpoint (none when empty), stdin as input.
func lp(t *testing.T, endpoint, stdin string, args ...string) cliResult {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "LOCALPIPE_LISTEN=", "LOCALPIPE_ENDPOINT="+endpoint, raceOptions)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return cliResult{code, out.String(), errb.String()}
}

func (r cliResult) want(t *testing.T, code int, stderrHas string) cliResult {
	t.Helper()
	if r.code != code || !strings.Contains(r.stderr, stderrHas) {
		t.Fatalf("exit %d (want %d), stderr %q (want it to contain %q), stdout %q", r.code, code, r.stderr, stderrHas, r.stdout)
	}
	return r
}

func TestCommandHelpAndUsageErrors(t *testing.T) {
	t.Parallel()
	for _, name := range commandList {
		r := lp(t, "", "", name, "--help")
		if r.code != 0 || !strings.HasPrefix(r.stdout, "Usage: localpipe "+name) || !strings.Contains(r.stdout, "-endpoint") || !strings.Contains(r.stdout, "Exit status") {
			t.Errorf("%s --help: exit %d\n%s%s", name, r.code, r.stdout, r.stderr)
		}
	}
	if r := lp(t, "", "", "--help"); !strings.Contains(r.stdout, "Commands (talk to a running localpipe") {
		t.Errorf("--help does not list the commands:\n%s", r.stdout)
	}
	for _, c := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"health", "extra"}, `unexpected argument "extra"`},
		{[]string{"health", "--endpoint", "localhost:4566"}, "want a URL such as http://127.0.0.1:4566"},
		{[]string{"health", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"flush", "a", "b"}, "at most one delivery stream"},
		{[]string{"tail"}, "want exactly one stream name"},
		{[]string{"tail", "s", "--from", "yesterday"}, `--from "yesterday": want latest or trim-horizon`},
		{[]string{"tail", "s", "-n", "-1"}, "must not be negative"},
		{[]string{"put"}, "want exactly one stream name"},
		{[]string{"ls", "bucket"}, `"bucket": want s3://BUCKET/KEY`},
		{[]string{"ls", "s3://a", "s3://b"}, "at most one"},
		{[]string{"cat", "s3://bucket"}, "names a bucket, not an object"},
		{[]string{"cat", "s3:///key"}, "no bucket name"},
	} {
		r := lp(t, "http://127.0.0.1:1", "", c.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, c.stderr) {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 and %q", c.args, r.code, r.stderr, c.stderr)
		}
	}
}

// deadEndpoint is a loopback URL nothing listens on.
func deadEndpoint(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

func TestHealthCommand(t *testing.T) {
	t.Parallel()
	srv := localpipetest.Start(t)
	r := lp(t, srv.Endpoint, "", "health").want(t, 0, "")
	if !strings.Contains(r.stdout, ": ok (apigateway running, firehose running, kinesis running, s3 running)") {
		t.Fatalf("stdout %q", r.stdout)
	}
	lp(t, srv.Endpoint, "", "health", "--quiet").want(t, 0, "")
	lp(t, deadEndpoint(t), "", "health").want(t, 1, "nothing is listening at")
	lp(t, deadEndpoint(t), "", "health", "--wait", "300ms", "--quiet").want(t, 1, "")

	// Something else on the port is not healthy, even when it answers 200.
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") }))
	defer other.Close()
	lp(t, other.URL, "", "health").want(t, 1, "not as localpipe does")

	// --wait covers a server that is still starting.
	dead := deadEndpoint(t)
	cmd := exec.Command(binary, "health", "--wait", "20s", "--endpoint", dead)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond)
	start(t, "--ephemeral", "--listen", strings.TrimPrefix(dead, "http://"))
	if err := cmd.Wait(); err != nil {
		t.Fatalf("health --wait: %v\n%s", err, out.String())
	}
}

// The container's healthcheck runs `localpipe health` with only the image's environment:
// the endpoint follows LOCALPIPE_LISTEN.
func TestHealthFollowsListenEnv(t *testing.T) {
	s := start(t, "--ephemeral")
	port := s.port()
	cmd := exec.Command(binary, "health")
	cmd.Env = append(os.Environ(), "LOCALPIPE_ENDPOINT=", "LOCALPIPE_LISTEN=0.0.0.0:"+port)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("health with LOCALPIPE_LISTEN=0.0.0.0:%s: %v\n%s", port, err, out)
	}
}

// TestPutWrongResultCount: a server whose PutRecords answer has more (or fewer) results than
// records sent fails the put with a message, rather than crashing the client on an index.
func TestPutWrongResultCount(t *testing.T) {
	for _, records := range []string{
		`[{"SequenceNumber":"1","ShardId":"shardId-000000000000"},{"ErrorCode":"InternalFailure","ErrorMessage":"x"}]`,
		`[]`,
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			io.WriteString(w, `{"FailedRecordCount":0,"Records":`+records+`}`)
		}))
		lp(t, srv.URL, "one\n", "put", "events").want(t, exitFail, "PutRecords answered for")
		srv.Close()
	}
}

func TestDefaultEndpoint(t *testing.T) {
	for _, c := range []struct{ endpoint, listen, want string }{
		{"", "", "http://127.0.0.1:4566"},
		{"http://h:1", "0.0.0.0:9", "http://h:1"},
		{"", "0.0.0.0:4566", "http://127.0.0.1:4566"},
		{"", ":4567", "http://127.0.0.1:4567"},
		{"", "[::]:4566", "http://[::1]:4566"},
		{"", "10.0.0.2:80", "http://10.0.0.2:80"},
		{"", "127.0.0.1:0", "http://127.0.0.1:4566"},
		{"", "garbage", "http://127.0.0.1:4566"},
	} {
		env := map[string]string{"LOCALPIPE_ENDPOINT": c.endpoint, "LOCALPIPE_LISTEN": c.listen}
		if got := defaultEndpointFor(func(k string) string { return env[k] }); got != c.want {
			t.Errorf("ENDPOINT=%q LISTEN=%q: %s, want %s", c.endpoint, c.listen, got, c.want)
		}
	}
}

func TestParseInterleaved(t *testing.T) {
	for _, c := range []struct {
		args []string
		pos  string
		n    int
	}{
		{[]string{"s", "-n", "3"}, "s", 3},
		{[]string{"-n", "3", "s"}, "s", 3},
		{[]string{"a", "-n", "2", "b"}, "a b", 2},
		{[]string{"-n", "1", "--", "-n", "x"}, "-n x", 1},
		{[]string{}, "", 0},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		n := fs.Int("n", 0, "")
		pos, err := parseInterleaved(fs, c.args)
		if err != nil || strings.Join(pos, " ") != c.pos || *n != c.n {
			t.Errorf("%q: %q n=%d err=%v", c.args, pos, *n, err)
		}
	}
}

func TestPutAndTail(t *testing.T) {
	t.Parallel()
	srv := localpipetest.Start(t, localpipetest.Stream("events", 2))

	// tail from LATEST, started before the records exist.
	tail := exec.Command(binary, "tail", "events", "--json", "-n", "3", "--interval", "20ms", "--endpoint", srv.Endpoint)
	tailOut := &syncBuffer{}
	tail.Stdout = tailOut
	errPipe, _ := tail.StderrPipe()
	if err := tail.Start(); err != nil {
		t.Fatal(err)
	}
	following := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(errPipe)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "following 2 shard(s) of events from LATEST") {
				following <- sc.Text()
			}
		}
	}()
	select {
	case <-following:
	case <-time.After(20 * time.Second):
		tail.Process.Kill()
		t.Fatal("tail never started following")
	}

	r := lp(t, srv.Endpoint, "one\ntwo\n\nthree\r\n", "put", "events").want(t, 0, "3 record(s) put into events")
	if r.stdout != "" {
		t.Fatalf("put printed %q without --verbose", r.stdout)
	}
	if err := tail.Wait(); err != nil {
		t.Fatalf("tail: %v", err)
	}
	var got []string
	shards := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(tailOut.String()), "\n") {
		var rec tailRecord
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.Data == nil || len(rec.SequenceNumber) != 56 || len(rec.PartitionKey) != 32 || rec.Arrival.IsZero() {
			t.Fatalf("tail --json line %q (%v)", line, err)
		}
		got = append(got, *rec.Data)
		shards[rec.Shard] = true
	}
	sort.Strings(got)
	if strings.Join(got, ",") != "one,three,two" {
		t.Fatalf("tail saw %q", got)
	}

	// A fixed partition key puts everything on one shard; --verbose says where.
	r = lp(t, srv.Endpoint, "four\nfünf \x01\n", "put", "--partition-key", "some key", "--verbose", "events").want(t, 0, "2 record(s)")
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[0], "shardId-000000000001 ") {
		t.Fatalf("put --verbose: %q", r.stdout)
	}
	r = lp(t, srv.Endpoint, "", "tail", "events", "--from", "trim-horizon", "-n", "5").want(t, 0, "from TRIM_HORIZON")
	if !strings.Contains(r.stdout, ` "some key" four`+"\n") || !strings.Contains(r.stdout, ` "some key" "fünf \x01"`+"\n") {
		t.Fatalf("tail text output:\n%s", r.stdout)
	}
	if n := strings.Count(r.stdout, "\n"); n != 5 {
		t.Fatalf("tail -n 5 printed %d lines", n)
	}

	lp(t, srv.Endpoint, "", "tail", "nope").want(t, 1, "ResourceNotFoundException: Stream nope under account 000000000000 not found.")
	lp(t, srv.Endpoint, "x\n", "put", "nope").want(t, 1, "ResourceNotFoundException")
	lp(t, srv.Endpoint, strings.Repeat("x", 1<<20+1)+"\n", "put", "events").want(t, 1, "ValidationException")
	lp(t, deadEndpoint(t), "", "tail", "events").want(t, 1, "nothing is listening at")
}

func hadoopSnappy(blocks ...[]byte) []byte {
	var b bytes.Buffer
	for _, blk := range blocks {
		binenc.Write(&b, binenc.BigEndian, uint32(len(blk)))
		// Two chunks per block, as Hadoop writes when a block exceeds its buffer.
		half := len(blk) / 2
		for _, part := range [][]byte{blk[:half], blk[half:]} {
			enc := snappy.Encode(nil, part)
			binenc.Write(&b, binenc.BigEndian, uint32(len(enc)))
			b.Write(enc)
		}
	}
	return b.Bytes()
}

func TestLsAndCat(t *testing.T) {
	t.Parallel()
	srv := localpipetest.Start(t, localpipetest.Bucket("logs"), localpipetest.Bucket("empty"))
	ctx := context.Background()
	text := "line one\nline two\n"

	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(text))
	zw.Close()
	var zb bytes.Buffer
	za := zip.NewWriter(&zb)
	for _, part := range []string{"line one\n", "line two\n"} {
		f, _ := za.Create("part")
		f.Write([]byte(part))
	}
	za.Close()
	var sn bytes.Buffer
	sw := snappy.NewBufferedWriter(&sn)
	sw.Write([]byte(text))
	sw.Close()

	objects := map[string][]byte{
		"2026/12/01/plain.json": []byte(text),
		"2026/12/01/a.gz":       gz.Bytes(),
		"2026/12/01/a.zip":      zb.Bytes(),
		"2026/12/02/a.snappy":   sn.Bytes(),
		"2026/12/02/a.hsnappy":  hadoopSnappy([]byte("line one\n"), []byte("line two\n")),
		"bad.gz":                []byte("not gzip"),
		"bad.hsnappy":           {0, 0, 0, 9, 0, 0, 0, 3, 1, 2, 3},
	}
	for k, v := range objects {
		in := &s3.PutObjectInput{Bucket: aws.String("logs"), Key: aws.String(k), Body: bytes.NewReader(v)}
		if strings.HasSuffix(k, ".gz") {
			// Firehose stores GZIP objects with Content-Encoding: gzip; cat must not decode twice.
			in.ContentEncoding = aws.String("gzip")
		}
		if _, err := srv.S3().PutObject(ctx, in); err != nil {
			t.Fatal(err)
		}
	}

	r := lp(t, srv.Endpoint, "", "ls").want(t, 0, "")
	if !strings.Contains(r.stdout, "Z  s3://empty\n") || !strings.Contains(r.stdout, "Z  s3://logs\n") {
		t.Fatalf("ls:\n%s", r.stdout)
	}
	r = lp(t, srv.Endpoint, "", "ls", "s3://logs/2026/12/").want(t, 0, "")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 5 || !strings.HasSuffix(lines[0], fmt.Sprintf(" %10d 2026/12/01/a.gz", gz.Len())) || !strings.HasSuffix(lines[4], " 2026/12/02/a.snappy") {
		t.Fatalf("ls s3://logs/2026/12/:\n%s", r.stdout)
	}
	if _, err := time.Parse(time.RFC3339, strings.Fields(lines[0])[0]); err != nil {
		t.Fatalf("ls time: %v", err)
	}
	if r := lp(t, srv.Endpoint, "", "ls", "s3://logs").want(t, 0, ""); strings.Count(r.stdout, "\n") != 7 {
		t.Fatalf("ls s3://logs:\n%s", r.stdout)
	}
	if r := lp(t, srv.Endpoint, "", "ls", "s3://empty/").want(t, 0, ""); r.stdout != "" {
		t.Fatalf("ls of an empty bucket: %q", r.stdout)
	}
	lp(t, srv.Endpoint, "", "ls", "s3://nope").want(t, 1, "NoSuchBucket")

	for _, k := range []string{"2026/12/01/plain.json", "2026/12/01/a.gz", "2026/12/01/a.zip", "2026/12/02/a.snappy", "2026/12/02/a.hsnappy"} {
		if r := lp(t, srv.Endpoint, "", "cat", "s3://logs/"+k).want(t, 0, ""); r.stdout != text {
			t.Errorf("cat %s: %q", k, r.stdout)
		}
	}
	if r := lp(t, srv.Endpoint, "", "cat", "--raw", "s3://logs/2026/12/01/a.gz").want(t, 0, ""); r.stdout != gz.String() {
		t.Errorf("cat --raw gave %d bytes, want the %d stored", len(r.stdout), gz.Len())
	}
	lp(t, srv.Endpoint, "", "cat", "s3://logs/bad.gz").want(t, 1, "s3://logs/bad.gz: not GZIP")
	lp(t, srv.Endpoint, "", "cat", "s3://logs/bad.hsnappy").want(t, 1, "HADOOP_SNAPPY")
	lp(t, srv.Endpoint, "", "cat", "s3://logs/missing").want(t, 1, "NoSuchKey")
	lp(t, srv.Endpoint, "", "cat", "s3://nope/x").want(t, 1, "NoSuchBucket")
}

func TestFlushCommand(t *testing.T) {
	t.Parallel()
	srv := localpipetest.Start(t, localpipetest.Stream("src", 1), localpipetest.Bucket("out"))
	// Created on the engine: the Firehose API is another piece's; flush only needs a stream.
	_, err := srv.App().Firehose().Create(firehose.Config{
		Name: "to-s3", Type: firehose.KinesisStreamAsSource, KinesisStream: "src", Bucket: "out",
		Prefix: "fh/", SizeBytes: 128 << 20, Interval: time.Hour, Compression: firehose.GZIP,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	lp(t, srv.Endpoint, "", "flush", "to-s3").want(t, 0, "nothing was buffered")

	// Records put after creation, delivered by the flush instead of in an hour.
	lp(t, srv.Endpoint, "a\nb\n", "put", "src").want(t, 0, "2 record(s)")
	var keys []string
	deadline := time.Now().Add(20 * time.Second)
	for len(keys) == 0 && time.Now().Before(deadline) {
		if r := lp(t, srv.Endpoint, "", "flush", "to-s3").want(t, 0, ""); r.stdout != "" {
			keys = strings.Fields(r.stdout)
		}
	}
	if len(keys) != 1 || !strings.HasPrefix(keys[0], "fh/") || !strings.HasSuffix(keys[0], ".gz") {
		t.Fatalf("flush printed %q", keys)
	}
	if r := lp(t, srv.Endpoint, "", "ls", "s3://out/fh/").want(t, 0, ""); !strings.HasSuffix(strings.TrimSpace(r.stdout), " "+keys[0]) {
		t.Fatalf("ls after flush:\n%s", r.stdout)
	}
	if r := lp(t, srv.Endpoint, "", "cat", "s3://out/"+keys[0]).want(t, 0, ""); r.stdout != "ab" {
		t.Fatalf("cat of the delivered object: %q", r.stdout)
	}

	// Flushing everything: one more record, the key printed, --json as the server sent it.
	lp(t, srv.Endpoint, "c\n", "put", "src").want(t, 0, "1 record(s)")
	var all []string
	for len(all) == 0 && time.Now().Before(deadline) {
		r := lp(t, srv.Endpoint, "", "flush", "--json").want(t, 0, "")
		var out struct{ DeliveryStreams map[string][]string }
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
			t.Fatalf("flush --json: %q", r.stdout)
		}
		all = out.DeliveryStreams["to-s3"]
	}
	if len(all) != 1 || all[0] == keys[0] {
		t.Fatalf("flush all: %q", all)
	}
	lp(t, srv.Endpoint, "", "flush", "nope").want(t, 1, "404 Not Found: delivery stream nope not found")
	lp(t, deadEndpoint(t), "", "flush").want(t, 1, "nothing is listening at")
}

func TestBannerListsTheSeed(t *testing.T) {
	t.Parallel()
	s := start(t, "--ephemeral", "--config", "../../examples/seed/localpipe.yaml")
	port := s.port()
	want := []string{
		"localpipe dev on " + s.endpoint + " (data in ",
		"  kinesis stream   my-data-stream (1 shard)\n",
		"  firehose         my-firehose-stream (from my-data-stream) → s3://my-delivery-bucket/\n",
		"  s3 bucket        s3://my-delivery-bucket\n",
		"  invoke URL       " + s.endpoint + "/restapis/seedapi001/prod/_user_request_/\n",
		"  invoke URL       http://seedapi001.execute-api.localhost:" + port + "/prod/\n",
		"  web console      " + s.endpoint + "/_localpipe/ui/\n",
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		out := s.stderr.String()
		missing := ""
		for _, w := range want {
			if !strings.Contains(out, w) {
				missing = w
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("banner lacks %q:\n%s", missing, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestTailStopsOnInterrupt(t *testing.T) {
	t.Parallel()
	srv := localpipetest.Start(t, localpipetest.Stream("quiet", 1))
	tail := exec.Command(binary, "tail", "quiet", "--endpoint", srv.Endpoint)
	errPipe, _ := tail.StderrPipe()
	if err := tail.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(errPipe)
	for sc.Scan() && !strings.Contains(sc.Text(), "following 1 shard(s)") {
	}
	tail.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { io.Copy(io.Discard, errPipe); done <- tail.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("tail after SIGINT: %v", err)
		}
	case <-time.After(20 * time.Second):
		tail.Process.Kill()
		t.Fatal("tail did not stop on SIGINT")
	}
}
