package firehose_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zip"

	"github.com/localpipe/localpipe/firehose"
	"github.com/localpipe/localpipe/internal/app"
	"github.com/localpipe/localpipe/internal/functions/functionstest"
	"github.com/localpipe/localpipe/objectstore"
)

func benchApp(b *testing.B) *app.App {
	b.Helper()
	cfg := app.DefaultConfig()
	cfg.DataDir = b.TempDir()
	a, err := app.Open(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { a.Shutdown(context.Background()) })
	if err := a.Objects().CreateBucket(context.Background(), "out", "us-east-1"); err != nil {
		b.Fatal(err)
	}
	return a
}

// benchRecords are JSON log lines of about 1 KiB, as compressible as real ones.
func benchRecords(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = fmt.Appendf(nil, `{"ts":"2026-03-23T09:51:%02d.%03dZ","level":"info","user":"u%05d","path":"/api/v1/items/%d","status":%d,"ms":%d,"msg":"%s"}`+"\n",
			i%60, i%1000, i%5000, i*7919%100000, 200+i%3*100, i%250, strings.Repeat("request handled ", 50+i%20))
	}
	return out
}

// BenchmarkDelivery measures delivery throughput for each compression format, from records
// already in the durable buffer to one object committed in the store (the Flush call), against
// the format's compressor turning the same records into the same format in memory, timed in
// the same run; ratio = delivery MB/s ÷ compressor MB/s. The compressors are the ones the
// engine writes with: klauspost gzip and zip at their default level, framed snappy
// (klauspost/compress/snappy's buffered writer), and for HADOOP_SNAPPY snappy blocks of 256 KiB
// each behind its two lengths. UNCOMPRESSED has no compressor; its baseline is the store
// writing the same bytes from memory (MD5 for the ETag, the file, its fsync, the commit): the
// least a durable delivery must do, where a memory copy would measure against nothing the
// delivery could skip.
func BenchmarkDelivery(b *testing.B) {
	recs := benchRecords(benchBatch)
	var raw []byte
	for _, r := range recs {
		raw = append(raw, r...)
	}
	// The compressors keep their state from run to run, as the engine's do.
	zw, sw, hs := gzip.NewWriter(io.Discard), snappy.NewBufferedWriter(io.Discard), &hadoopSnappyInMemory{}
	for _, c := range []struct {
		format   string
		baseline func(b *testing.B, a *app.App)
	}{
		{firehose.Uncompressed, func(b *testing.B, a *app.App) {
			if _, err := a.Objects().PutObject(context.Background(), "out", "baseline", bytes.NewReader(raw),
				objectstore.ObjectMeta{ContentType: "application/octet-stream"}); err != nil {
				b.Fatal(err)
			}
		}},
		{firehose.GZIP, func(*testing.B, *app.App) {
			zw.Reset(io.Discard)
			for _, r := range recs {
				zw.Write(r)
			}
			zw.Close()
		}},
		{firehose.ZIP, func(*testing.B, *app.App) {
			zw := zip.NewWriter(io.Discard)
			f, _ := zw.Create("bench")
			for _, r := range recs {
				f.Write(r)
			}
			zw.Close()
		}},
		{firehose.Snappy, func(*testing.B, *app.App) {
			sw.Reset(io.Discard)
			for _, r := range recs {
				sw.Write(r)
			}
			sw.Close()
		}},
		{firehose.HadoopSnappy, func(*testing.B, *app.App) { hs.write(recs) }},
	} {
		b.Run(c.format, func(b *testing.B) {
			b.ReportAllocs()
			a := benchApp(b)
			ctx := context.Background()
			if _, err := a.Firehose().Create(firehose.Config{Name: "bench", Type: firehose.DirectPut, Bucket: "out",
				SizeBytes: 128 << 20, Interval: 900 * time.Second, Compression: c.format}, nil); err != nil {
				b.Fatal(err)
			}
			var engine, base time.Duration
			var key string
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				for j := 0; j < len(recs); j += 500 {
					if _, err := a.Firehose().Put(ctx, "bench", recs[j:min(j+500, len(recs))]); err != nil {
						b.Fatal(err)
					}
				}
				// Buffering (the reader taking the records into its batch) is not delivery.
				waitFor(b, func() bool { return bufferedBytes(b, a, "bench") == len(raw) })
				// Each timed part starts from a collected heap, so neither pays for the other's
				// garbage.
				runtime.GC()
				b.StartTimer()
				t0 := time.Now()
				keys, err := a.Firehose().Flush(ctx, "bench")
				if err != nil || len(keys) != 1 {
					b.Fatalf("flush: %v %v", keys, err)
				}
				engine += time.Since(t0)
				key = keys[0]
				b.StopTimer()
				runtime.GC()
				b.StartTimer()
				t0 = time.Now()
				c.baseline(b, a)
				base += time.Since(t0)
			}
			b.StopTimer()
			if got := decompress(b, c.format, object(b, a, key)); !bytes.Equal(got, raw) {
				b.Fatalf("the object holds %d bytes, want the %d bytes put", len(got), len(raw))
			}
			mb := float64(len(raw)) * float64(b.N) / 1e6
			b.ReportMetric(mb/engine.Seconds(), "delivery-MB/s")
			b.ReportMetric(mb/base.Seconds(), "compressor-MB/s")
			b.ReportMetric(base.Seconds()/engine.Seconds(), "ratio")
		})
	}
}

// bufferedBytes is what the localpipe_firehose_buffer_bytes gauge says a delivery stream holds.
func bufferedBytes(b *testing.B, a *app.App, name string) int {
	mfs, err := a.Registry().Gather()
	if err != nil {
		b.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "localpipe_firehose_buffer_bytes" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetValue() == name {
					return int(m.GetGauge().GetValue())
				}
			}
		}
	}
	return 0
}

// hadoopSnappyInMemory writes Hadoop's block format the cheapest way: records gathered into
// one reused 256 KiB block, each block encoded into one reused buffer.
type hadoopSnappyInMemory struct{ block, dst []byte }

func (h *hadoopSnappyInMemory) write(recs [][]byte) {
	if h.block == nil {
		h.block = make([]byte, 0, 256<<10)
	}
	var hdr [8]byte
	emit := func() {
		h.dst = snappy.Encode(h.dst[:cap(h.dst)], h.block)
		binary.BigEndian.PutUint32(hdr[:4], uint32(len(h.block)))
		binary.BigEndian.PutUint32(hdr[4:], uint32(len(h.dst)))
		io.Discard.Write(hdr[:])
		io.Discard.Write(h.dst)
		h.block = h.block[:0]
	}
	for _, r := range recs {
		for len(r) > 0 {
			take := min(cap(h.block)-len(h.block), len(r))
			h.block = append(h.block, r[:take]...)
			r = r[take:]
			if len(h.block) == cap(h.block) {
				emit()
			}
		}
	}
	if len(h.block) > 0 {
		emit()
	}
}

// BenchmarkPutToObject is the latency from PutRecord to the object being in the store, with a
// flush call in between.
func BenchmarkPutToObject(b *testing.B) {
	b.ReportAllocs()
	a := benchApp(b)
	ctx := context.Background()
	a.Firehose().Create(firehose.Config{Name: "lat", Type: firehose.DirectPut, Bucket: "out",
		SizeBytes: 5 << 20, Interval: 300 * time.Second, Compression: firehose.GZIP}, nil)
	rec := benchRecords(1)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := a.Firehose().Put(ctx, "lat", rec); err != nil {
			b.Fatal(err)
		}
		if keys, err := a.Firehose().Flush(ctx, "lat"); err != nil || len(keys) != 1 {
			b.Fatalf("flush: %v %v", keys, err)
		}
	}
}

// BenchmarkBuffering100Streams measures the live heap 100 DirectPut delivery streams hold
// while each buffers about 1 MB. Firehose's buffers are ranges of the durable log, so what
// remains is the source logs' own state (a heap profile at this point shows it in
// stream.(*shardLog).commit's frame buffer).
func BenchmarkBuffering100Streams(b *testing.B) {
	b.ReportAllocs()
	ctx := context.Background()
	recs := benchRecords(1000)
	buffered := 0
	for _, r := range recs {
		buffered += len(r)
	}
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		a := benchApp(b)
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		b.StartTimer()
		for s := 0; s < 100; s++ {
			name := fmt.Sprintf("s%03d", s)
			if _, err := a.Firehose().Create(firehose.Config{Name: name, Type: firehose.DirectPut, Bucket: "out",
				SizeBytes: 128 << 20, Interval: 900 * time.Second, Compression: firehose.GZIP}, nil); err != nil {
				b.Fatal(err)
			}
			for j := 0; j < len(recs); j += 500 {
				if _, err := a.Firehose().Put(ctx, name, recs[j:j+500]); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.StopTimer()
		time.Sleep(200 * time.Millisecond) // let every reader take its records into its buffer
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		perStream := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / 100
		b.ReportMetric(perStream, "heap-B/stream")
		b.ReportMetric(perStream/float64(buffered), "heap/buffered")
		a.Shutdown(ctx)
		b.StartTimer()
	}
}

// benchBatch records of ~1 KiB make a 32 MiB object: a quarter of the largest buffer AWS
// allows, so the fixed cost of each flush (three fsyncs, measured by BenchmarkPutToObject) does
// not hide the throughput.
const benchBatch = 32 << 10

// BenchmarkDeliveryPartitioned is BenchmarkDelivery/GZIP with dynamic partitioning over 16
// partitions: one pass to group the records, one per partition object.
func BenchmarkDeliveryPartitioned(b *testing.B) {
	b.ReportAllocs()
	a := benchApp(b)
	ctx := context.Background()
	if _, err := a.Firehose().Create(firehose.Config{Name: "bench", Type: firehose.DirectPut, Bucket: "out",
		SizeBytes: 128 << 20, Interval: 900 * time.Second, Compression: firehose.GZIP,
		Prefix: "status=!{partitionKeyFromQuery:s}/", ErrorPrefix: "errors/!{firehose:error-output-type}/",
		PartitionQuery: "{s: .user}"}, nil); err != nil {
		b.Fatal(err)
	}
	recs := make([][]byte, benchBatch/4)
	for i := range recs {
		recs[i] = fmt.Appendf(nil, `{"user":"u%02d","n":%d,"pad":"%s"}`+"\n", i%16, i, strings.Repeat("request handled ", 55+i%20))
	}
	total := 0
	for _, r := range recs {
		total += len(r)
	}
	var engine time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		for j := 0; j < len(recs); j += 500 {
			if _, err := a.Firehose().Put(ctx, "bench", recs[j:min(j+500, len(recs))]); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		t0 := time.Now()
		keys, err := a.Firehose().Flush(ctx, "bench")
		if err != nil || len(keys) != 16 {
			b.Fatalf("flush: %d keys %v", len(keys), err)
		}
		engine += time.Since(t0)
	}
	b.ReportMetric(float64(total)*float64(b.N)/1e6/engine.Seconds(), "delivery-MB/s")
}

// BenchmarkDeliveryTransformed is an uncompressed delivery through a Lambda processor whose
// function (a url function in this process) answers every record Ok unchanged, beside the
// same delivery without one: what the event's base64 and JSON, the HTTP round trips of 1 MB
// invocations and the answers held in memory cost.
func BenchmarkDeliveryTransformed(b *testing.B) {
	b.ReportAllocs()
	identity := functionstest.NewURL(b, func(event []byte) ([]byte, bool) {
		var ev struct {
			Records []struct {
				RecordID string `json:"recordId"`
				Data     string `json:"data"`
			} `json:"records"`
		}
		if err := json.Unmarshal(event, &ev); err != nil {
			return nil, true
		}
		type rec struct{ RecordID, Result, Data string }
		out := struct{ Records []rec }{}
		for _, r := range ev.Records {
			out.Records = append(out.Records, rec{r.RecordID, "Ok", r.Data})
		}
		p, _ := json.Marshal(out)
		// encoding/json writes the field names capitalised; the answer's members are recordId,
		// result, data.
		p = []byte(strings.NewReplacer(`"Records"`, `"records"`, `"RecordID"`, `"recordId"`, `"Result"`, `"result"`, `"Data"`, `"data"`).Replace(string(p)))
		return p, false
	})
	cfg := app.DefaultConfig()
	cfg.DataDir = b.TempDir()
	cfg.Resources = &app.Resources{Functions: []json.RawMessage{json.RawMessage(`{"name":"identity","url":"` + identity + `"}`)}}
	a, err := app.Open(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { a.Shutdown(context.Background()) })
	ctx := context.Background()
	if err := a.Objects().CreateBucket(ctx, "out", "us-east-1"); err != nil {
		b.Fatal(err)
	}
	for _, c := range []firehose.Config{
		{Name: "plain", Type: firehose.DirectPut, Bucket: "out", SizeBytes: 128 << 20, Interval: 900 * time.Second, Compression: firehose.Uncompressed},
		{Name: "xform", Type: firehose.DirectPut, Bucket: "out", SizeBytes: 128 << 20, Interval: 900 * time.Second, Compression: firehose.Uncompressed,
			Lambda: &firehose.Lambda{ARN: "arn:aws:lambda:us-east-1:000000000000:function:identity", Retries: 0, BufferBytes: firehose.DefaultLambdaBuffer}},
	} {
		if _, err := a.Firehose().Create(c, nil); err != nil {
			b.Fatal(err)
		}
	}
	recs := benchRecords(benchBatch / 4)
	total := 0
	for _, r := range recs {
		total += len(r)
	}
	took := map[string]time.Duration{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, name := range []string{"plain", "xform"} {
			b.StopTimer()
			for j := 0; j < len(recs); j += 500 {
				if _, err := a.Firehose().Put(ctx, name, recs[j:min(j+500, len(recs))]); err != nil {
					b.Fatal(err)
				}
			}
			b.StartTimer()
			t0 := time.Now()
			if keys, err := a.Firehose().Flush(ctx, name); err != nil || len(keys) != 1 || !strings.HasPrefix(keys[0], name) && !strings.Contains(keys[0], "/"+name+"-") {
				b.Fatalf("flush %s: %v %v", name, keys, err)
			}
			took[name] += time.Since(t0)
		}
	}
	mb := float64(total) * float64(b.N) / 1e6
	b.ReportMetric(mb/took["xform"].Seconds(), "transformed-MB/s")
	b.ReportMetric(mb/took["plain"].Seconds(), "plain-MB/s")
}
