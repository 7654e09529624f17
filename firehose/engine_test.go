package firehose_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"

	"github.com/localpipe/localpipe/firehose"
	"github.com/localpipe/localpipe/internal/app"
	"github.com/localpipe/localpipe/objectstore"
	"github.com/localpipe/localpipe/stream"
)

// openApp runs the real engines (stream logs, object store, Firehose) in-process on dir.
func openApp(t *testing.T, dir string) *app.App {
	t.Helper()
	cfg := app.DefaultConfig()
	cfg.DataDir = dir
	a, err := app.Open(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Shutdown(context.Background()) })
	return a
}

func config(name string, mod func(*firehose.Config)) firehose.Config {
	c := firehose.Config{Name: name, Type: firehose.DirectPut, Bucket: "out", SizeBytes: 5 << 20,
		Interval: 300 * time.Second, Compression: firehose.Uncompressed}
	if mod != nil {
		mod(&c)
	}
	return c
}

func object(t testing.TB, a *app.App, key string) []byte {
	t.Helper()
	_, f, err := a.Objects().GetObject(context.Background(), "out", key)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	return b
}

func listKeys(t *testing.T, a *app.App) []string {
	t.Helper()
	res, err := a.Objects().List(context.Background(), "out", objectstore.ListInput{MaxKeys: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range res.Objects {
		keys = append(keys, o.Key)
	}
	return keys
}

func decompress(t testing.TB, format string, b []byte) []byte {
	t.Helper()
	switch format {
	case firehose.GZIP:
		r, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		out, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return out
	case firehose.ZIP:
		zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil || len(zr.File) != 1 {
			t.Fatalf("zip: %v", err)
		}
		f, _ := zr.File[0].Open()
		out, _ := io.ReadAll(f)
		return out
	case firehose.Snappy:
		out, err := io.ReadAll(snappy.NewReader(bytes.NewReader(b)))
		if err != nil {
			t.Fatal(err)
		}
		return out
	case firehose.ZSTD:
		r, err := zstd.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		out, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return out
	case firehose.HadoopSnappy:
		var out []byte
		for len(b) > 0 {
			raw := binary.BigEndian.Uint32(b)
			clen := binary.BigEndian.Uint32(b[4:])
			block, err := snappy.Decode(nil, b[8:8+clen])
			if err != nil || len(block) != int(raw) {
				t.Fatalf("hadoop snappy block: %v", err)
			}
			out = append(out, block...)
			b = b[8+clen:]
		}
		return out
	}
	return b
}

var keyRE = regexp.MustCompile(`^(.*)(\d{4}/\d\d/\d\d/\d\d/)([\w.-]+)-(\d+)-(\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d)-([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})(\.\w+)?$`)

func TestDirectPutEveryCompression(t *testing.T) {
	a := openApp(t, t.TempDir())
	ctx := context.Background()
	a.Objects().CreateBucket(ctx, "out", "us-east-1")
	for _, format := range []string{firehose.Uncompressed, firehose.GZIP, firehose.ZIP, firehose.Snappy, firehose.HadoopSnappy} {
		name := "ds-" + strings.ToLower(strings.ReplaceAll(format, "_", "-"))
		if _, err := a.Firehose().Create(config(name, func(c *firehose.Config) { c.Compression = format; c.Prefix = name + "/" }), nil); err != nil {
			t.Fatal(err)
		}
		var want []byte
		for i := 0; i < 50; i++ {
			rec := []byte(fmt.Sprintf(`{"n":%d,"pad":"%s"}`, i, strings.Repeat("x", i*100)))
			want = append(want, rec...)
			if _, err := a.Firehose().Put(ctx, name, [][]byte{rec}); err != nil {
				t.Fatal(err)
			}
		}
		keys, err := a.Firehose().Flush(ctx, name)
		if err != nil || len(keys) != 1 {
			t.Fatalf("%s: flush %v %v", format, keys, err)
		}
		m := keyRE.FindStringSubmatch(keys[0])
		wantExt := map[string]string{firehose.GZIP: ".gz", firehose.ZIP: ".zip", firehose.Snappy: ".snappy", firehose.HadoopSnappy: ".hsnappy"}[format]
		if m == nil || m[1] != name+"/" || m[3] != name || m[4] != "1" || m[7] != wantExt {
			t.Fatalf("%s: key %q", format, keys[0])
		}
		if got := decompress(t, format, object(t, a, keys[0])); !bytes.Equal(got, want) {
			t.Errorf("%s: object holds %d bytes, want %d", format, len(got), len(want))
		}
		// Nothing left: a second flush writes nothing.
		if keys, _ := a.Firehose().Flush(ctx, name); len(keys) != 0 {
			t.Errorf("%s: second flush wrote %v", format, keys)
		}
	}
}

func TestBufferingHints(t *testing.T) {
	a := openApp(t, t.TempDir())
	ctx := context.Background()
	a.Objects().CreateBucket(ctx, "out", "us-east-1")
	// Size: 1000-byte records against a 3000-byte buffer make objects of 3 records; records
	// are never split.
	a.Firehose().Create(config("by-size", func(c *firehose.Config) { c.SizeBytes = 3000; c.Prefix = "size/" }), nil)
	rec := bytes.Repeat([]byte("s"), 1000)
	for i := 0; i < 9; i++ {
		a.Firehose().Put(ctx, "by-size", [][]byte{rec})
	}
	waitFor(t, func() bool { return countPrefix(listKeys(t, a), "size/") == 3 })
	for _, k := range listKeys(t, a) {
		if strings.HasPrefix(k, "size/") && len(object(t, a, k)) != 3000 {
			t.Errorf("%s holds %d bytes", k, len(object(t, a, k)))
		}
	}
	// Interval: a short interval delivers without a flush.
	delim := "\n"
	a.Firehose().Create(config("by-time", func(c *firehose.Config) {
		c.Interval = 200 * time.Millisecond
		c.Prefix = "time/"
		c.Delimiter = &delim
	}), nil)
	a.Firehose().Put(ctx, "by-time", [][]byte{[]byte("a"), []byte("b")})
	waitFor(t, func() bool { return countPrefix(listKeys(t, a), "time/") == 1 })
	for _, k := range listKeys(t, a) {
		if strings.HasPrefix(k, "time/") && string(object(t, a, k)) != "a\nb\n" {
			t.Errorf("delimited object %q", object(t, a, k))
		}
	}
}

func countPrefix(keys []string, p string) int {
	n := 0
	for _, k := range keys {
		if strings.HasPrefix(k, p) {
			n++
		}
	}
	return n
}

func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestKinesisSource reads every shard of a stream from the delivery stream's creation on;
// records put before it are not delivered, as with AWS.
func TestKinesisSource(t *testing.T) {
	a := openApp(t, t.TempDir())
	ctx := context.Background()
	a.Objects().CreateBucket(ctx, "out", "us-east-1")
	if err := a.Streams().CreateStream(stream.CreateInput{Name: "src", ShardCount: 3, Mode: stream.ModeProvisioned}); err != nil {
		t.Fatal(err)
	}
	put := func(prefix string, n int) {
		var entries []stream.PutEntry
		for i := 0; i < n; i++ {
			entries = append(entries, stream.PutEntry{PartitionKey: fmt.Sprint(i), Data: []byte(fmt.Sprintf("%s-%d;", prefix, i))})
		}
		if _, err := a.Streams().Put(ctx, "src", entries); err != nil {
			t.Fatal(err)
		}
	}
	put("before", 30)
	time.Sleep(5 * time.Millisecond) // arrival times have millisecond precision
	for _, name := range []string{"reader-a", "reader-b"} {
		if _, err := a.Firehose().Create(config(name, func(c *firehose.Config) {
			c.Type, c.KinesisStream, c.Prefix = firehose.KinesisStreamAsSource, "src", name+"/"
		}), nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Firehose().Put(ctx, "reader-a", [][]byte{[]byte("x")}); err != firehose.ErrNotPut {
		t.Errorf("put to a Kinesis-sourced stream: %v", err)
	}
	put("after", 60)
	for _, name := range []string{"reader-a", "reader-b"} {
		keys, err := a.Firehose().Flush(ctx, name)
		if err != nil || len(keys) == 0 || len(keys) > 3 {
			t.Fatalf("%s: %v %v", name, keys, err)
		}
		var all string
		for _, k := range keys {
			all += string(object(t, a, k))
		}
		if strings.Contains(all, "before") || strings.Count(all, "after-") != 60 {
			t.Errorf("%s delivered %q", name, all)
		}
	}
}

// TestRestartKeepsBufferAndCheckpoint: records accepted but not yet delivered survive a
// restart; delivered ones are not delivered again.
func TestRestartKeepsBufferAndCheckpoint(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	a := openApp(t, dir)
	a.Objects().CreateBucket(ctx, "out", "us-east-1")
	a.Firehose().Create(config("restart", nil), nil)
	a.Firehose().Put(ctx, "restart", [][]byte{[]byte("one;")})
	first, _ := a.Firehose().Flush(ctx, "restart")
	a.Firehose().Put(ctx, "restart", [][]byte{[]byte("two;"), []byte("three;")})
	if err := a.Shutdown(ctx); err != nil { // delivers the buffer
		t.Fatal(err)
	}
	a = openApp(t, dir)
	keys := listKeys(t, a)
	if len(keys) != 2 || len(first) != 1 {
		t.Fatalf("keys after restart: %v", keys)
	}
	var all string
	for _, k := range keys {
		all += string(object(t, a, k))
	}
	if strings.Count(all, "one;") != 1 || strings.Count(all, "two;three;") != 1 {
		t.Errorf("objects hold %q", all)
	}
	if in, err := a.Firehose().Describe("restart"); err != nil || in.Version != 1 || in.Status != "ACTIVE" {
		t.Errorf("describe after restart: %+v %v", in, err)
	}
}

// TestDeliveryRetriesWhenBucketIsMissing: a failed write keeps the records, and once the
// bucket exists they are delivered exactly once.
func TestDeliveryRetriesWhenBucketIsMissing(t *testing.T) {
	a := openApp(t, t.TempDir())
	ctx := context.Background()
	a.Firehose().Create(config("retry", nil), nil)
	a.Firehose().Put(ctx, "retry", [][]byte{[]byte("kept")})
	if _, err := a.Firehose().Flush(ctx, "retry"); err == nil {
		t.Fatal("flush into a missing bucket succeeded")
	}
	a.Objects().CreateBucket(ctx, "out", "us-east-1")
	keys, err := a.Firehose().Flush(ctx, "retry")
	if err != nil || len(keys) != 1 || string(object(t, a, keys[0])) != "kept" {
		t.Fatalf("after the bucket appeared: %v %v", keys, err)
	}
	if keys := listKeys(t, a); len(keys) != 1 {
		t.Errorf("objects: %v", keys)
	}
	if err := a.Firehose().Delete("retry"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Firehose().Describe("retry"); err != firehose.ErrNotFound {
		t.Errorf("after delete: %v", err)
	}
}
