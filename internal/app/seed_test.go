package app_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const seedConfig = "../../examples/seed/localpipe.yaml"

// seedInvokeURL is the example API's POST /stream on a server started with the seed config.
func seedInvokeURL(s *server) string { return s.url("seedapi001", "prod", "/stream") }

// checkSeedDelivery finds body in my-data-stream and, after a flush, in a gzipped object
// of my-delivery-bucket.
func checkSeedDelivery(t *testing.T, s *server, body string) {
	t.Helper()
	found := false
	for _, r := range s.records(t, "my-data-stream") {
		found = found || string(r.Data) == body
	}
	if !found {
		t.Fatalf("%q is not in my-data-stream", body)
	}
	if !s.hasDeliveryStream(t, "my-firehose-stream") {
		t.Log("examples/seed/localpipe.yaml has no delivery stream yet: S3 delivery not checked")
		return
	}
	s.flush(t, "my-firehose-stream")
	for key, content := range s.objects(t, "my-delivery-bucket") {
		if strings.Contains(content, body) {
			t.Logf("delivered to s3://my-delivery-bucket/%s", key)
			return
		}
	}
	t.Fatalf("%q was not delivered to my-delivery-bucket", body)
}

// TestSeedPipeline: the example reproduces the seed's pipeline: POST /stream through API
// Gateway, Kinesis, Firehose, a gzipped object in S3. The browser's CORS preflight works too.
func TestSeedPipeline(t *testing.T) {
	s := startServer(t, seedConfig, nil)
	urls := s.a.InvokeURLs()
	if len(urls) != 2 || !strings.Contains(urls[0], "/restapis/seedapi001/prod/_user_request_/") ||
		!strings.Contains(urls[1], "seedapi001.execute-api.localhost:"+s.port+"/prod/") {
		t.Errorf("InvokeURLs: %q", urls)
	}
	if logs := s.logs.String(); !strings.Contains(logs, "http://seedapi001.execute-api.localhost:"+s.port+"/prod/") {
		t.Errorf("the invoke URL is not logged:\n%s", logs)
	}
	r := s.do(t, "OPTIONS", seedInvokeURL(s), "", "Origin", "http://localhost:3000", "Access-Control-Request-Method", "POST",
		"Access-Control-Request-Headers", "content-type")
	if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(r.header.Get("Access-Control-Allow-Methods"), "POST") ||
		!strings.Contains(r.header.Get("Access-Control-Allow-Headers"), "Content-Type") {
		t.Errorf("CORS preflight: %d %v", r.status, r.header)
	}
	body := `{"message": "Hello from the seed pipeline"}`
	r = s.do(t, "POST", seedInvokeURL(s), body, "Origin", "http://localhost:3000")
	if r.status != 200 || !strings.Contains(r.body, "SequenceNumber") || r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("POST /stream: %d %v %s", r.status, r.header, r.body)
	}
	checkSeedDelivery(t, s, body)
}

// TestSeedJavaClient compiles the seed's Java client with the machine's javac and runs it
// against the example API.
func TestSeedJavaClient(t *testing.T) {
	javac, err := exec.LookPath("javac")
	if err != nil {
		t.Skip("SKIPPING the seed's Java client: javac is not installed (apt-get install default-jdk-headless)")
	}
	java, err := exec.LookPath("java")
	if err != nil {
		t.Skip("SKIPPING the seed's Java client: java is not installed")
	}
	classes := t.TempDir()
	src, _ := filepath.Abs("../../examples/seed/java/KinesisDataStreamExample.java")
	if out, err := exec.Command(javac, "-d", classes, src).CombinedOutput(); err != nil {
		t.Fatalf("javac: %v\n%s", err, out)
	}
	s := startServer(t, seedConfig, nil)
	run := func(args []string, env ...string) string {
		cmd := exec.Command(java, append([]string{"-cp", classes, "KinesisDataStreamExample"}, args...)...)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("java: %v\n%s", err, out)
		}
		return string(out)
	}
	// The URL as an argument, and in API_URL.
	if out := run([]string{seedInvokeURL(s)}); !strings.Contains(out, "Response Code: 200") {
		t.Fatalf("java with the URL as argument printed:\n%s", out)
	}
	if out := run(nil, "API_URL="+seedInvokeURL(s)); !strings.Contains(out, "Response Code: 200") {
		t.Fatalf("java with API_URL printed:\n%s", out)
	}
	var n int
	for _, r := range s.records(t, "my-data-stream") {
		if string(r.Data) == `{ "message": "Hello, Kinesis!" }` {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d records from the Java client, want 2", n)
	}
	checkSeedDelivery(t, s, `{ "message": "Hello, Kinesis!" }`)
}
