package app_test

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/localpipe/localpipe/localpipetest"
)

// BenchmarkPutRecordFaults measures what the fault registry costs a PutRecord over HTTP:
// none declared (one atomic load) against one declared fault that does not match. Compare
// the two with benchstat; "none" also compares with the commit before faults existed.
func BenchmarkPutRecordFaults(b *testing.B) {
	for _, bc := range []struct{ name, faults string }{
		{"none", ""},
		{"nonmatching", `[{"service":"kinesis","operation":"PutRecord","resource":"other","error":"InternalFailure"}]`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			srv := localpipetest.Start(b, localpipetest.Stream("bench", 1))
			if bc.faults != "" {
				addFaults(b, srv, bc.faults)
			}
			body := []byte(`{"StreamName":"bench","PartitionKey":"k","Data":"aGVsbG8gd29ybGQ="}`)
			put := func() {
				req, err := http.NewRequest("POST", srv.Endpoint, bytes.NewReader(body))
				if err != nil {
					b.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/x-amz-json-1.1")
				req.Header.Set("X-Amz-Target", "Kinesis_20131202.PutRecord")
				req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=00")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("PutRecord: %d", resp.StatusCode)
				}
			}
			put() // the connection is open before the clock starts
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				put()
			}
		})
	}
}
