package main

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestSeedExampleBinary runs the README's first command (with a free port and a temporary
// data dir): the binary logs the example API's invoke URLs, POST /stream answers 200, and
// after a flush the AWS CLI lists the delivered object and reads the record back.
func TestSeedExampleBinary(t *testing.T) {
	s := start(t, "--ephemeral", "--config", "../../examples/seed/localpipe.yaml")
	// The log reaches s.stderr just after the line start waits for, so poll briefly.
	urlRE := regexp.MustCompile(`url=(http://127\.0\.0\.1:\d+/restapis/seedapi001/prod/_user_request_/)`)
	var m []string
	hostForm := func() bool {
		return strings.Contains(s.stderr.String(), "url=http://seedapi001.execute-api.localhost:")
	}
	waitUntil(5*time.Second, func() bool { m = urlRE.FindStringSubmatch(s.stderr.String()); return m != nil && hostForm() })
	if m == nil || !hostForm() {
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
	s.flush(t, "my-firehose-stream")
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

// TestSIGKILLDuringGatewayPuts kills the server while clients POST through API Gateway and
// proves that every request answered 200 left its record in the stream, exactly once, with
// the sequence number the answer gave. The restart applies the same config over the data
// dir, and the API answers again at the same URL.
func TestSIGKILLDuringGatewayPuts(t *testing.T) {
	dir := t.TempDir()
	args := []string{"--data-dir", dir, "--config", "../../examples/seed/localpipe.yaml"}
	s := start(t, args...)
	url := s.endpoint + "/restapis/seedapi001/prod/_user_request_/stream"
	var mu sync.Mutex
	acked := map[string]string{} // body → sequence number
	var nAcked atomic.Int64
	l := newLoad()
	for w := range 6 {
		hc := &http.Client{}
		l.run(func(i int) bool {
			body := fmt.Sprintf(`{"w": %d, "i": %d}`, w, i)
			resp, err := hc.Post(url, "application/json", strings.NewReader(body))
			if err != nil {
				return false // the server is gone
			}
			var out struct{ SequenceNumber string }
			err = json.NewDecoder(resp.Body).Decode(&out)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 {
				return false // cut off mid-answer: not acknowledged
			}
			mu.Lock()
			acked[body] = out.SequenceNumber
			mu.Unlock()
			nAcked.Add(1)
			return true
		})
	}
	waitUntil(20*time.Second, func() bool { return nAcked.Load() >= 1000 })
	s.kill()
	l.halt()
	if nAcked.Load() == 0 {
		t.Fatal("nothing was acknowledged before the kill")
	}

	s = start(t, args...)
	stored := checkStoredOnce(t, kinesisClient(s.endpoint), "my-data-stream", []string{"shardId-000000000000"}, acked, "requests")
	resp, err := http.Post(s.endpoint+"/restapis/seedapi001/prod/_user_request_/stream", "application/json", strings.NewReader(`{"after": "restart"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST /stream after the restart: %d", resp.StatusCode)
	}
	t.Logf("%d acknowledged, %d stored (the rest were in flight at the kill)", len(acked), stored)
}
