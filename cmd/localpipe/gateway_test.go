package main

import (
	"compress/gzip"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestSeedExampleBinary runs the README's first command (with a free port and a temporary
// data dir): the binary logs the example API's invoke URLs, POST /stream answers 200, and
// after a flush the AWS CLI lists the delivered object and reads the record back.
func TestSeedExampleBinary(t *testing.T) {
	s := start(t, "--ephemeral", "--config", "../../examples/seed/localpipe.yaml")
	m := regexp.MustCompile(`url=(http://127\.0\.0\.1:\d+/restapis/seedapi001/prod/_user_request_/)`).FindStringSubmatch(s.stderr.String())
	if m == nil || !strings.Contains(s.stderr.String(), "url=http://seedapi001.execute-api.localhost:") {
		t.Fatalf("the invoke URLs are not logged:\n%s", s.stderr)
	}
	body := `{"message": "from the binary"}`
	resp, err := http.Post(m[1]+"stream", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(out), "SequenceNumber") {
		t.Fatalf("POST /stream: %d %s", resp.StatusCode, out)
	}
	resp, err = http.Post(s.endpoint+"/_localpipe/firehose/my-firehose-stream/flush", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("flush: %d", resp.StatusCode)
	}
	if _, err := os.Stat(awsCLI); err != nil {
		t.Skip("AWS CLI v2 not installed: the delivered object is not checked with it")
	}
	ls := cli(t, s.endpoint, "s3", "ls", "--recursive", "s3://my-delivery-bucket/")
	fields := strings.Fields(ls)
	if len(fields) < 4 {
		t.Fatalf("aws s3 ls: %q", ls)
	}
	dir := t.TempDir()
	cli(t, s.endpoint, "s3", "cp", "s3://my-delivery-bucket/"+fields[len(fields)-1], dir+"/obj.gz")
	f, err := os.Open(dir + "/obj.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("the delivered object is not gzip: %v", err)
	}
	if got, _ := io.ReadAll(zr); !strings.Contains(string(got), body) {
		t.Fatalf("the delivered object holds %q, want %q in it", got, body)
	}
}
