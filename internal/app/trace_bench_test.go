package app_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
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
// "http" is the same put over loopback HTTP from a keep-alive client in the process, as an
// SDK sends it, with the default request log on: what a client sees of the trace's cost.
// cpu-ns/op is the process's CPU time per put (the server's background work and the garbage
// collector's included), which a busy machine disturbs less than ns/op.
func BenchmarkTrace(b *testing.B) {
	for _, c := range []struct {
		name         string
		size         int
		logged, http bool
	}{
		{"off", 0, false, false},
		{"on", app.DefaultConfig().TraceSize, false, false},
		{"logged/off", 0, true, false},
		{"logged/on", app.DefaultConfig().TraceSize, true, false},
		{"http/off", 0, true, true},
		{"http/on", app.DefaultConfig().TraceSize, true, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			cfg := app.DefaultConfig()
			cfg.Ephemeral, cfg.LogRequests, cfg.TraceSize, cfg.Listen = true, c.logged, c.size, "127.0.0.1:0"
			cfg.Resources = &app.Resources{Streams: []json.RawMessage{json.RawMessage(`{"StreamName":"bench","ShardCount":1}`)}}
			a, err := app.Open(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { a.Shutdown(context.Background()) })
			h := a.Handler()
			if c.http {
				if err := a.Listen(); err != nil {
					b.Fatal(err)
				}
				h = loopback{a.Endpoint()}
			}
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

// loopback sends a request to a listening server and copies its answer back: an
// http.Handler over the network, so one benchmark loop serves both ways.
type loopback struct{ endpoint string }

func (l loopback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req, err := http.NewRequest(r.Method, l.endpoint+r.URL.Path, r.Body)
	if err != nil {
		panic(err)
	}
	req.Header = r.Header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.WriteHeader(599)
		io.WriteString(w, err.Error())
		return
	}
	defer resp.Body.Close()
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}
