package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
)

const signalConfig = `
buckets: [sig-bucket]
deliveryStreams:
  - DeliveryStreamName: sig
    ExtendedS3DestinationConfiguration:
      BucketARN: arn:aws:s3:::sig-bucket
      RoleARN: arn:aws:iam::000000000000:role/r
      BufferingHints: {SizeInMBs: 128, IntervalInSeconds: 900}
`

// slowClient opens a connection to s and starts an S3 PUT whose body never comes, the way a
// client on a bad network holds a request open; it returns a reader of what the server sends.
func slowClient(t *testing.T, s *server) *bufio.Reader {
	t.Helper()
	u, _ := url.Parse(s.endpoint)
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(60 * time.Second))
	// The server says 100 Continue once the handler reads the body, so the request is
	// known to be in flight before the test signals.
	fmt.Fprintf(c, "PUT /sig-bucket/slow HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000\r\nExpect: 100-continue\r\n\r\n")
	br := bufio.NewReader(c)
	line, err := br.ReadString('\n')
	if !strings.HasPrefix(line, "HTTP/1.1 100 ") {
		t.Fatalf("slow client: got %q, %v; want 100 Continue", line, err)
	}
	br.ReadString('\n')
	io.WriteString(c, "first bytes")
	return br
}

// signalTwice sends SIGTERM, waits until the server says it is shutting down, then sends
// SIGTERM and SIGINT again, as GNU timeout and process managers do, and returns the exit code.
func signalTwice(t *testing.T, s *server) int {
	t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	if !waitUntil(30*time.Second, func() bool { return strings.Contains(s.stderr.String(), "shutting down") }) {
		t.Fatalf("no shutdown after SIGTERM\n%s", s.stderr)
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	s.cmd.Process.Signal(syscall.SIGINT)
	return s.stop(t, syscall.SIGTERM)
}

// TestSecondSignalDuringShutdownStillCleansUp: signals that arrive while a graceful stop is
// under way (one held up by a client sending its body at a trickle) are ignored, so the stop
// still ends within --shutdown-timeout with exit 0, Firehose delivers what it buffered, and
// an --ephemeral data dir is removed.
func TestSecondSignalDuringShutdownStillCleansUp(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "localpipe.yaml")
	if err := os.WriteFile(conf, []byte(signalConfig), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("firehose buffer delivered", func(t *testing.T) {
		args := []string{"--data-dir", filepath.Join(dir, "data"), "--config", conf, "--shutdown-timeout", "4s"}
		s := start(t, args...)
		_, err := firehoseClient(s.endpoint).PutRecord(context.Background(), &firehose.PutRecordInput{
			DeliveryStreamName: aws.String("sig"), Record: &fhtypes.Record{Data: []byte("buffered-at-shutdown\n")}})
		if err != nil {
			t.Fatal(err)
		}
		slow := slowClient(t, s)
		if code := signalTwice(t, s); code != 0 {
			t.Fatalf("exit code %d after repeated signals, want 0\n%s", code, s.stderr)
		}
		if !strings.Contains(s.stderr.String(), "signal ignored") {
			t.Errorf("the later signals were not reported as ignored\n%s", s.stderr)
		}
		if _, err := io.ReadAll(slow); err != nil {
			t.Errorf("slow client's connection: %v, want it closed by the server", err)
		}

		s = start(t, args...)
		sc := s3Client(s.endpoint)
		found := false
		for _, o := range listObjects(t, sc, "sig-bucket") {
			found = found || strings.Contains(string(getObject(t, sc, "sig-bucket", *o.Key)), "buffered-at-shutdown")
		}
		if !found {
			t.Error("the record Firehose buffered was not delivered at shutdown")
		}
	})

	t.Run("ephemeral dir removed", func(t *testing.T) {
		s := start(t, "--ephemeral", "--config", conf, "--shutdown-timeout", "4s")
		var m []string
		if !waitUntil(10*time.Second, func() bool {
			m = regexp.MustCompile(`data_dir=(\S+)`).FindStringSubmatch(s.stderr.String())
			return m != nil
		}) {
			t.Fatalf("no data_dir in the ready line\n%s", s.stderr)
		}
		slowClient(t, s)
		if code := signalTwice(t, s); code != 0 {
			t.Fatalf("exit code %d after repeated signals, want 0\n%s", code, s.stderr)
		}
		if _, err := os.Stat(m[1]); !os.IsNotExist(err) {
			t.Errorf("ephemeral data dir %s still there after exit (%v)", m[1], err)
		}
	})
}
