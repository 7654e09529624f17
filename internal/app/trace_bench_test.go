package app_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/localpipe/localpipe/internal/app"
)

// BenchmarkTrace is what the cross-hop trace adds to a Kinesis PutRecord served by the edge
// in-process (no network), with the request log off to see the trace alone, and on (as by
// default; the log written by the text handler the binary uses) where the trace rides on the
// log's note and saves a copy of the request. "on" keeps the
// default --trace-size, so once the ring is full every put also evicts the oldest trace.
// cpu-ns/op is the process's CPU time per put (the server's background work and the garbage
// collector's included), which a busy machine disturbs less than ns/op.
func BenchmarkTrace(b *testing.B) {
	for _, c := range []struct {
		name   string
		size   int
		logged bool
	}{
		{"off", 0, false},
		{"on", app.DefaultConfig().TraceSize, false},
		{"logged/off", 0, true},
		{"logged/on", app.DefaultConfig().TraceSize, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			cfg := app.DefaultConfig()
			cfg.Ephemeral, cfg.LogRequests, cfg.TraceSize = true, c.logged, c.size
			cfg.Resources = &app.Resources{Streams: []json.RawMessage{json.RawMessage(`{"StreamName":"bench","ShardCount":1}`)}}
			a, err := app.Open(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { a.Shutdown(context.Background()) })
			h := a.Handler()
			body := `{"StreamName":"bench","PartitionKey":"k","Data":"aGVsbG8="}`
			b.ReportAllocs()
			cpu := cpuTime()
			for b.Loop() {
				req := httptest.NewRequest("POST", "/", strings.NewReader(body))
				req.Host = "localhost"
				for i := 0; i+1 < len(kinesisHeaders); i += 2 {
					req.Header.Set(kinesisHeaders[i], kinesisHeaders[i+1])
				}
				req.Header.Set("X-Amz-Target", "Kinesis_20131202.PutRecord")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatalf("%d %s", rec.Code, rec.Body)
				}
			}
			if cpu > 0 {
				b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
			}
		})
	}
}
