package firehose_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/localpipe/localpipe/firehose"
	"github.com/localpipe/localpipe/stream"
)

// TestChannelDelivery runs a channel's delivery on the real engines: it starts at the
// stream's tip (records put just before, in the same millisecond, are not delivered), names
// its object from the key template with the unique suffix, compresses with ZSTD, and sends
// the records that are not JSON to the dead-letter bucket and prefix, each with its error.
func TestChannelDelivery(t *testing.T) {
	a := openApp(t, t.TempDir())
	ctx := context.Background()
	for _, b := range []string{"out", "dlq"} {
		if err := a.Objects().CreateBucket(ctx, b, "us-east-1"); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Streams().CreateStream(stream.CreateInput{Name: "src", ShardCount: 1, Mode: stream.ModeOnDemand}); err != nil {
		t.Fatal(err)
	}
	put := func(records ...string) {
		var entries []stream.PutEntry
		for _, r := range records {
			entries = append(entries, stream.PutEntry{PartitionKey: "k", Data: []byte(r)})
		}
		if _, err := a.Streams().Put(ctx, "src", entries); err != nil {
			t.Fatal(err)
		}
	}
	put(`{"before":1}`)
	_, err := a.Firehose().Create(firehose.Config{Name: "channel:ch", Type: firehose.KinesisStreamAsSource, KinesisStream: "src",
		Bucket: "out", SizeBytes: 128 << 20, Interval: 300 * time.Second, Compression: firehose.ZSTD, StartAtTip: true,
		Channel: &firehose.Channel{Name: "ch", ID: "id-1", RecordFormat: firehose.FormatJSON,
			KeyTemplate: "c/!{stream-name}/!{channel-name}-!{yy}!{extension}", ErrorBucket: "dlq", ErrorPrefix: "bad/"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	put(`{"a":1}`, `nope`, `[2]`)
	keys, err := a.Firehose().Flush(ctx, "channel:ch")
	if err != nil || len(keys) != 2 {
		t.Fatalf("flush: %v %v", keys, err)
	}
	yy := time.Now().UTC().Format("06")
	m := regexp.MustCompile(`^c/src/ch-` + yy + `(-[0-9a-f]{16})\.zst$`).FindStringSubmatch(keys[0])
	if m == nil {
		t.Fatalf("object key %q", keys[0])
	}
	if got := string(decompress(t, firehose.ZSTD, object(t, a, keys[0]))); got != `{"a":1}[2]` {
		t.Errorf("object %q", got)
	}
	if !regexp.MustCompile(`^bad/ch-id-1-\d{4}-\d\d-\d\d-\d\d-\d\d` + m[1] + `\.json$`).MatchString(keys[1]) {
		t.Errorf("dead-letter key %q does not share the object's suffix (%q)", keys[1], keys[0])
	}
	_, f, err := a.Objects().GetObject(ctx, "dlq", keys[1])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var line struct {
		ErrorCode, ErrorMessage, RawData string
		AttemptsMade                     int
	}
	if err := json.NewDecoder(f).Decode(&line); err != nil || line.ErrorCode != "Channel.InvalidRecordFormat" ||
		!strings.Contains(line.ErrorMessage, "not valid JSON") || line.RawData != "bm9wZQ==" || line.AttemptsMade != 1 {
		t.Errorf("dead letter: %+v %v", line, err)
	}
}
