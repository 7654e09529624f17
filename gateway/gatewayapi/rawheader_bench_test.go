package gatewayapi

import (
	"strconv"
	"testing"
)

// BenchmarkHeadLogKeepAlive is what the raw-header scanner costs a keep-alive connection per
// PutRecord head: it runs on every request that reaches the listener, gateway or not.
func BenchmarkHeadLogKeepAlive(b *testing.B) {
	body := `{"StreamName":"bench","PartitionKey":"pk-1","Data":"eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eA=="}`
	req := []byte("POST / HTTP/1.1\r\nHost: 127.0.0.1:4566\r\nUser-Agent: Go-http-client/1.1\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\nAuthorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=0\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: Kinesis_20131202.PutRecord\r\nAccept-Encoding: gzip\r\n\r\n" + body)
	var h headLog
	b.SetBytes(int64(len(req)))
	b.ReportAllocs()
	for b.Loop() {
		h.write(req)
	}
}
