package app_test

import (
	"strings"
	"testing"

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
