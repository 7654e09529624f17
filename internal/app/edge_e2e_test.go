package app_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/localpipe/localpipe/internal/app"
)

const edgeConfig = `
streams:
  - {StreamName: edge-stream, ShardCount: 1}
buckets: [edge-bucket]
apiKeys:
  - {name: secret, value: edge-secret-api-key-value-0001}
`

var kinesisHeaders = []string{
	"X-Amz-Target", "Kinesis_20131202.ListStreams",
	"Content-Type", "application/x-amz-json-1.1",
	"Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=00",
}

// TestHostCheckStopsDNSRebinding: on a loopback address, a request whose Host is a name other
// than the machine's own (what a page on a rebinding domain makes the browser send) gets a 403
// in its service's error shape and none of the data; loopback names, virtual-host S3 names
// and --allowed-hosts names are served.
func TestHostCheckStopsDNSRebinding(t *testing.T) {
	s := startServerConfig(t, func(c *app.Config) { c.AllowedHosts = []string{"localpipe"} }, "",
		map[string]string{"localpipe.yaml": edgeConfig})
	at := func(host, path string) string { return "http://" + host + ":" + s.port + path }

	for _, host := range []string{"evil.example", "rebind.127.0.0.1.nip.io", "localhost.evil.example"} {
		r := s.do(t, "GET", at(host, "/apikeys?includeValues=true"), "")
		if r.status != 403 || strings.Contains(r.body, "edge-secret") || !strings.Contains(r.body, `"message"`) {
			t.Errorf("%s: GET /apikeys: %d %s, want API Gateway's 403 without the keys", host, r.status, r.body)
		}
		r = s.do(t, "GET", at(host, "/edge-bucket"), "")
		if r.status != 403 || !strings.Contains(r.body, "<Code>AccessDenied</Code>") {
			t.Errorf("%s: S3 list: %d %s, want S3's 403 AccessDenied", host, r.status, r.body)
		}
		r = s.do(t, "POST", at(host, "/"), "{}", kinesisHeaders...)
		if r.status != 403 || !strings.Contains(r.body, `"__type":"AccessDeniedException"`) || strings.Contains(r.body, "edge-stream") {
			t.Errorf("%s: Kinesis ListStreams: %d %s, want a JSON 1.1 403 AccessDeniedException", host, r.status, r.body)
		}
		r = s.do(t, "GET", at(host, "/_localpipe/health"), "")
		if r.status != 403 {
			t.Errorf("%s: health: %d %s, want 403", host, r.status, r.body)
		}
		r = s.do(t, "GET", "http://edge0001.execute-api."+host+":"+s.port+"/prod/x", "")
		if r.status != 403 {
			t.Errorf("%s: invoke: %d %s, want 403", host, r.status, r.body)
		}
	}

	for _, host := range []string{"localhost", "127.0.0.1", "[::1]", "localhost.localstack.cloud", "localpipe"} {
		if r := s.do(t, "GET", at(host, "/apikeys?includeValues=true"), ""); r.status != 200 || !strings.Contains(r.body, "edge-secret") {
			t.Errorf("%s: GET /apikeys: %d %s, want 200 with the key", host, r.status, r.body)
		}
		if r := s.do(t, "POST", at(host, "/"), "{}", kinesisHeaders...); r.status != 200 || !strings.Contains(r.body, "edge-stream") {
			t.Errorf("%s: Kinesis ListStreams: %d %s", host, r.status, r.body)
		}
	}
	for _, host := range []string{"edge-bucket.s3.localhost", "edge-bucket.s3.localhost.localstack.cloud"} {
		if r := s.do(t, "PUT", at(host, "/k"), "v"); r.status != 200 {
			t.Errorf("%s: virtual-host PUT: %d %s", host, r.status, r.body)
		}
	}
	// An allowed name admits its subdomains (S3 does not take them for buckets, but the
	// request is served).
	if r := s.do(t, "GET", at("x.localpipe", "/edge-bucket/k"), ""); r.body != "v" {
		t.Errorf("object written by virtual-host PUT: %d %q", r.status, r.body)
	}
}

// rawConn dials the server for tests that need to control the bytes and the pace of a
// request, with a deadline that only keeps a broken server from hanging the test.
func rawConn(t *testing.T, s *server) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", s.a.Addr())
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	t.Cleanup(func() { c.Close() })
	return c
}

// readResponse reads one response from c.
func readResponse(t *testing.T, br *bufio.Reader) (int, string) {
	t.Helper()
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("reading response: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(b)
}

// TestSlowBodyIsCutOff: a client that sends its headers and then a trickle of body is cut
// off once its body has averaged under the minimum rate for the window, with S3's 400
// RequestTimeout or the JSON services' RequestTimeoutException, and its connection closed;
// it no longer holds a connection (and, for S3, a temp file) forever.
func TestSlowBodyIsCutOff(t *testing.T) {
	s := startServerConfig(t, func(c *app.Config) {
		c.Limits.BodyWindow, c.Limits.BodyMinRate = 200*time.Millisecond, 1024
	}, "", map[string]string{"localpipe.yaml": edgeConfig})
	for _, tc := range []struct {
		name, head, want string
		status           int
	}{
		{"s3 put", "PUT /edge-bucket/slow HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100000\r\n\r\n",
			"<Code>RequestTimeout</Code>", 400},
		{"kinesis put", "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100000\r\nX-Amz-Target: Kinesis_20131202.PutRecord\r\n" +
			"Content-Type: application/x-amz-json-1.1\r\nAuthorization: " + kinesisHeaders[5] + "\r\n\r\n",
			`"__type":"RequestTimeoutException"`, 408},
		{"chunked", "POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nX-Amz-Target: Firehose_20150804.PutRecord\r\n" +
			"Content-Type: application/x-amz-json-1.1\r\n\r\n",
			`"__type":"RequestTimeoutException"`, 408},
	} {
		c := rawConn(t, s)
		if _, err := io.WriteString(c, tc.head); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(tc.head, "chunked") {
			io.WriteString(c, "a\r\n{\"Record\":\r\n")
		} else {
			io.WriteString(c, `{"Data":"`)
		}
		br := bufio.NewReader(c)
		status, body := readResponse(t, br)
		if status != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d %s, want %d with %s", tc.name, status, body, tc.status, tc.want)
		}
		if _, err := br.ReadByte(); err != io.EOF {
			t.Errorf("%s: connection still open after the timeout (%v)", tc.name, err)
		}
	}
	if m := metric(t, s, "localpipe_http_body_timeouts_total"); m < 3 {
		t.Errorf("localpipe_http_body_timeouts_total = %v, want 3", m)
	}
	// A body that keeps up is not cut off, however long it takes in all.
	c := rawConn(t, s)
	body := strings.Repeat("x", 5000)
	fmt.Fprintf(c, "PUT /edge-bucket/steady HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n", len(body))
	for i := 0; i < len(body); i += 500 {
		io.WriteString(c, body[i:i+500])
		time.Sleep(20 * time.Millisecond) // 25 KB/s, far over the minimum rate
	}
	if status, resp := readResponse(t, bufio.NewReader(c)); status != 200 {
		t.Errorf("steady body: %d %s", status, resp)
	}
}

// TestIdleKeepAliveConnectionsClose: a keep-alive connection that sends no further request
// is closed after the idle timeout instead of being held forever.
func TestIdleKeepAliveConnectionsClose(t *testing.T) {
	s := startServerConfig(t, func(c *app.Config) { c.Limits.IdleTimeout = 100 * time.Millisecond }, "",
		map[string]string{"localpipe.yaml": edgeConfig})
	c := rawConn(t, s)
	io.WriteString(c, "GET /_localpipe/health HTTP/1.1\r\nHost: localhost\r\n\r\n")
	br := bufio.NewReader(c)
	if status, body := readResponse(t, br); status != 200 {
		t.Fatalf("health: %d %s", status, body)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("idle connection: read %v, want EOF (closed by the server)", err)
	}
}

// TestConnectionCap: past --max-connections a new client waits to be accepted until another
// leaves, instead of taking a file descriptor the engines need.
func TestConnectionCap(t *testing.T) {
	s := startServerConfig(t, func(c *app.Config) { c.Limits.MaxConns = 2 }, "",
		map[string]string{"localpipe.yaml": edgeConfig})
	health := "GET /_localpipe/health HTTP/1.1\r\nHost: localhost\r\n\r\n"
	var held []net.Conn
	for range 2 {
		c := rawConn(t, s)
		io.WriteString(c, health)
		if status, _ := readResponse(t, bufio.NewReader(c)); status != 200 {
			t.Fatalf("health: %d", status)
		}
		held = append(held, c) // idle keep-alive, still open
	}
	third := rawConn(t, s)
	io.WriteString(third, health)
	br := bufio.NewReader(third)
	// Only a negative check can show the wait: a server without the cap answers at once,
	// one with it never answers before a slot frees, so a slow machine cannot fail this.
	third.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := br.Peek(1); err == nil {
		t.Fatal("a third connection was served while two were open with --max-connections 2")
	}
	third.SetReadDeadline(time.Now().Add(30 * time.Second))
	held[0].Close()
	if status, _ := readResponse(t, br); status != 200 {
		t.Errorf("third connection after one closed: %d", status)
	}
	if m := metric(t, s, "localpipe_http_connections"); m > 2 {
		t.Errorf("localpipe_http_connections = %v, want at most 2", m)
	}
}

// metric reads one unlabelled metric's value (labelled series are summed) from the server's
// registry.
func metric(t *testing.T, s *server, name string) float64 {
	t.Helper()
	mfs, err := s.a.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return sum
}

// TestInflightBoundThrottles: while request bodies in flight fill --max-inflight-mb, a
// request with a body waits briefly and then gets its service's throttling error, which the
// SDKs retry (a chunked body, charged as it is read, too); requests without a body are
// served; once the bytes are released requests succeed again.
func TestInflightBoundThrottles(t *testing.T) {
	s := startServerConfig(t, func(c *app.Config) {
		c.Limits.MaxInflightBytes, c.Limits.InflightWait = 1<<20, 50*time.Millisecond
	}, "", map[string]string{"localpipe.yaml": edgeConfig + `
deliveryStreams:
  - DeliveryStreamName: edge-direct
    ExtendedS3DestinationConfiguration:
      BucketARN: arn:aws:s3:::edge-bucket
      RoleARN: arn:aws:iam::000000000000:role/r
`})
	// An S3 upload of 1 MiB takes the whole bound once its handler runs, which the
	// 100 Continue shows.
	held := rawConn(t, s)
	io.WriteString(held, "PUT /edge-bucket/big HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1048576\r\nExpect: 100-continue\r\n\r\n")
	heldR := bufio.NewReader(held)
	if line, err := heldR.ReadString('\n'); !strings.HasPrefix(line, "HTTP/1.1 100 ") {
		t.Fatalf("held upload: %q %v, want 100 Continue", line, err)
	}
	heldR.ReadString('\n')

	sign := []string{"Content-Type", "application/x-amz-json-1.1", "Authorization", kinesisHeaders[5]}
	put := `{"StreamName":"edge-stream","PartitionKey":"k","Data":"aGk="}`
	r := s.do(t, "POST", s.a.Endpoint(), put, append(sign, "X-Amz-Target", "Kinesis_20131202.PutRecord")...)
	if r.status != 400 || !strings.Contains(r.body, `"__type":"LimitExceededException"`) {
		t.Errorf("Kinesis PutRecord: %d %s, want 400 LimitExceededException", r.status, r.body)
	}
	r = s.do(t, "POST", s.a.Endpoint(), `{"DeliveryStreamName":"edge-direct","Record":{"Data":"aGk="}}`,
		append(sign, "X-Amz-Target", "Firehose_20150804.PutRecord")...)
	if r.status != 503 || !strings.Contains(r.body, `"__type":"ServiceUnavailableException"`) {
		t.Errorf("Firehose PutRecord: %d %s, want 503 ServiceUnavailableException", r.status, r.body)
	}
	if r = s.do(t, "PUT", s.a.Endpoint()+"/edge-bucket/small", "v"); r.status != 503 || !strings.Contains(r.body, "<Code>SlowDown</Code>") {
		t.Errorf("S3 PUT: %d %s, want 503 SlowDown", r.status, r.body)
	}
	if r = s.do(t, "POST", s.a.Endpoint()+"/restapis/edgeapi001/prod/_user_request_/x", "{}"); r.status != 429 {
		t.Errorf("API Gateway invoke: %d %s, want 429", r.status, r.body)
	}
	if r = s.do(t, "GET", s.a.Endpoint()+"/_localpipe/health", ""); r.status != 200 {
		t.Errorf("health (no body): %d %s, want 200", r.status, r.body)
	}
	c := rawConn(t, s)
	io.WriteString(c, "POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nX-Amz-Target: Firehose_20150804.PutRecord\r\n"+
		"Content-Type: application/x-amz-json-1.1\r\nAuthorization: "+kinesisHeaders[5]+"\r\n\r\n10\r\n{\"Record\":{\"Data\r\n")
	if status, body := readResponse(t, bufio.NewReader(c)); status != 503 || !strings.Contains(body, "ServiceUnavailableException") {
		t.Errorf("chunked Firehose PutRecord: %d %s, want 503 ServiceUnavailableException", status, body)
	}
	if m := metric(t, s, "localpipe_http_throttled_total"); m < 5 {
		t.Errorf("localpipe_http_throttled_total = %v, want 5", m)
	}

	held.Write(bytes.Repeat([]byte("x"), 1<<20))
	if status, body := readResponse(t, heldR); status != 200 {
		t.Fatalf("held upload: %d %s", status, body)
	}
	r = s.do(t, "POST", s.a.Endpoint(), put, append(sign, "X-Amz-Target", "Kinesis_20131202.PutRecord")...)
	if r.status != 200 {
		t.Errorf("Kinesis PutRecord after the bytes were released: %d %s", r.status, r.body)
	}
	if m := metric(t, s, "localpipe_http_inflight_body_bytes"); m != 0 {
		t.Errorf("localpipe_http_inflight_body_bytes = %v after every request ended, want 0", m)
	}
}

// TestBodyRuleEndsWithTheBody: the minimum-rate rule covers the body only; a request whose
// body is in and whose answer takes longer than the window (a slow integration back end here,
// SubscribeToShard or a flush elsewhere) is answered, not cancelled.
func TestBodyRuleEndsWithTheBody(t *testing.T) {
	s := startE2E(t, func(c *app.Config) { c.Limits.BodyWindow = 50 * time.Millisecond })
	r := s.do(t, "POST", s.url(e2eAPI, "test", "/proxy/slow"), `{"a":1}`, "x-api-key", keyAll)
	if r.status != 200 || !strings.Contains(r.body, `"path":"/up/slow"`) {
		t.Errorf("slow back end after the body: %d %s, want the back end's answer", r.status, r.body)
	}
}
