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

// BenchmarkRequestLog is what the request log adds to a Kinesis PutRecord served by the
// edge in-process (no network), the log written by the text handler the binary uses.
func BenchmarkRequestLog(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := "off"
		if on {
			name = "on"
		}
		b.Run(name, func(b *testing.B) {
			cfg := app.DefaultConfig()
			cfg.Ephemeral, cfg.LogRequests = true, on
			cfg.Resources = &app.Resources{Streams: []json.RawMessage{json.RawMessage(`{"StreamName":"bench","ShardCount":1}`)}}
			a, err := app.Open(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { a.Shutdown(context.Background()) })
			h := a.Handler()
			body := `{"StreamName":"bench","PartitionKey":"k","Data":"aGVsbG8="}`
			b.ReportAllocs()
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
		})
	}
}
