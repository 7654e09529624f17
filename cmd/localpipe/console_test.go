package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// TestConfigMistakesExit2: a config the server cannot follow stops it at once with exit
// status 2, as a wrong flag does, and says what to change.
func TestConfigMistakesExit2(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("streams: [{StreamName: orders, Shards: 2}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fn := filepath.Join(dir, "fn.yaml")
	if err := os.WriteFile(fn, []byte("functions: [{name: t, url: 'http://127.0.0.1:9000/', command: [t.py]}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ config, want string }{
		{bad, "streams[0].Shards: unknown field; did you mean ShardCount?"},
		{fn, "functions[0]: t: give exactly one of url, command, endpoint"},
		{filepath.Join(dir, "nope.yaml"), "no such file (looked for " + filepath.Join(dir, "nope.yaml") + ")"},
	} {
		cmd := exec.Command(binary, "--ephemeral", "--listen", "127.0.0.1:0", "--config", tc.config)
		cmd.Env = append(os.Environ(), raceOptions)
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), tc.want) {
			t.Errorf("--config %s: %v, output %s; want exit status 2 and %q", tc.config, err, out, tc.want)
		}
	}
}

// TestLogRequestsFlag: the binary logs requests by default; LOCALPIPE_LOG_REQUESTS=false,
// like --log-requests=false, turns it off.
func TestLogRequestsFlag(t *testing.T) {
	for _, off := range []bool{false, true} {
		if off {
			t.Setenv("LOCALPIPE_LOG_REQUESTS", "false")
		}
		s := start(t, "--ephemeral")
		_, err := kinesisClient(s.endpoint).DescribeStreamSummary(context.Background(), &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("none")})
		if err == nil {
			t.Fatal("DescribeStreamSummary of a missing stream succeeded")
		}
		if code := s.stop(t, syscall.SIGTERM); code != 0 {
			t.Fatalf("exit %d\n%s", code, s.stderr)
		}
		logged := strings.Contains(s.stderr.String(), "msg=request service=kinesis operation=DescribeStreamSummary status=400 error=ResourceNotFoundException")
		if logged == off {
			t.Errorf("LOCALPIPE_LOG_REQUESTS off=%v: request logged=%v\n%s", off, logged, s.stderr)
		}
	}
}
