package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
)

// faultDeliveryConfig is a DirectPut delivery stream into bucket out, delivering every
// second, one record per line; faults is the config's faults: list (empty for none).
func faultDeliveryConfig(faults string) string {
	return `
buckets: [out]
deliveryStreams:
  - DeliveryStreamName: d
    ExtendedS3DestinationConfiguration:
      BucketARN: arn:aws:s3:::out
      RoleARN: arn:aws:iam::000000000000:role/r
      BufferingHints: {SizeInMBs: 1, IntervalInSeconds: 1}
      ProcessingConfiguration: {Enabled: true, Processors: [{Type: AppendDelimiterToRecord}]}
` + faults
}

// faultsFired is how often the server's active faults fired in all.
func faultsFired(t *testing.T, endpoint string) int64 {
	t.Helper()
	resp, err := http.Get(endpoint + "/_localpipe/faults")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Faults []struct{ Fired int64 } }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /_localpipe/faults: %d %v", resp.StatusCode, err)
	}
	n := int64(0)
	for _, f := range out.Faults {
		n += f.Fired
	}
	return n
}

// scrape returns the value of one series from the server's /metrics ("" when absent).
func scrape(t *testing.T, endpoint, series string) string {
	t.Helper()
	resp, err := http.Get(endpoint + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			return v
		}
	}
	return ""
}

// deliveredRecords counts each line of every object in the bucket.
func deliveredRecords(t *testing.T, endpoint, bucket string) (map[string]int, int) {
	t.Helper()
	sc := s3Client(endpoint)
	seen := map[string]int{}
	objects := listObjects(t, sc, bucket)
	for _, o := range objects {
		for _, r := range strings.Split(strings.TrimSuffix(string(getObject(t, sc, bucket, *o.Key)), "\n"), "\n") {
			seen[r]++
		}
	}
	return seen, len(objects)
}

// putBatch puts records through PutRecordBatch and adds those acknowledged to acked.
func putBatch(ctx context.Context, fc *firehose.Client, mu *sync.Mutex, acked map[string]bool, records []string) error {
	batch := make([]types.Record, len(records))
	for i, r := range records {
		batch[i] = types.Record{Data: []byte(r)}
	}
	out, err := fc.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String("d"), Records: batch})
	if err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	for i, r := range out.RequestResponses {
		if r.ErrorCode == nil {
			acked[records[i]] = true
		}
	}
	return nil
}

// checkDeliveredOnce fails the test unless every acknowledged record is in the bucket exactly
// once. A record put when the server was killed may be stored without its acknowledgement
// reaching the client, and is then delivered too, once.
func checkDeliveredOnce(t *testing.T, seen map[string]int, acked map[string]bool) {
	t.Helper()
	lost, dup := 0, 0
	for r := range acked {
		if seen[r] == 0 {
			lost++
		}
	}
	for r, n := range seen {
		if n > 1 {
			if dup++; dup < 5 {
				t.Errorf("%.40s delivered %d times", r, n)
			}
		}
	}
	if lost > 0 || dup > 0 {
		t.Fatalf("%d of %d acknowledged records lost, %d duplicated", lost, len(acked), dup)
	}
}

// TestFirehoseRetriesThroughS3SlowDown: Firehose meets an S3 SlowDown on three put attempts
// in a row and retries on its own, with backoff; meanwhile DescribeDeliveryStream shows the
// delivery error and DeliveryToS3.Success is 0; once the fault has run out every record is
// in S3 exactly once, those put during the retries too, and the error is gone.
func TestFirehoseRetriesThroughS3SlowDown(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out Firehose's backoff (about 8 s)")
	}
	t.Parallel()
	dir := t.TempDir()
	conf := filepath.Join(dir, "localpipe.yaml")
	if err := os.WriteFile(conf, []byte(faultDeliveryConfig(`
faults: [{service: s3, operation: PutObject, resource: out, error: SlowDown, count: 3}]
`)), 0o644); err != nil {
		t.Fatal(err)
	}
	s := start(t, "--data-dir", filepath.Join(dir, "data"), "--config", conf)
	ctx := context.Background()
	fc := firehoseClient(s.endpoint)
	var mu sync.Mutex
	acked := map[string]bool{}
	for b := 0; b < 4; b++ {
		var recs []string
		for i := 0; i < 50; i++ {
			recs = append(recs, fmt.Sprintf("before-%d-%d", b, i))
		}
		if err := putBatch(ctx, fc, &mu, acked, recs); err != nil {
			t.Fatalf("%v\n%s", err, s.stderr)
		}
	}
	if !waitUntil(30*time.Second, func() bool { return faultsFired(t, s.endpoint) >= 2 }) {
		t.Fatalf("Firehose did not retry through the fault:\n%s", s.stderr)
	}
	desc, err := fc.DescribeDeliveryStream(ctx, &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("d")})
	if err != nil {
		t.Fatal(err)
	}
	if f := desc.DeliveryStreamDescription.FailureDescription; f == nil || !strings.HasPrefix(aws.ToString(f.Details), "S3.SlowDown: ") {
		t.Errorf("while retrying, FailureDescription %+v, want S3.SlowDown", f)
	}
	if m := scrape(t, s.endpoint, `localpipe_firehose_delivery_to_s3_success{delivery_stream_name="d"}`); m != "0" {
		t.Errorf("DeliveryToS3.Success %q while retrying, want 0", m)
	}
	var recs []string
	for i := 0; i < 50; i++ {
		recs = append(recs, fmt.Sprintf("during-%d", i))
	}
	if err := putBatch(ctx, fc, &mu, acked, recs); err != nil {
		t.Fatalf("%v\n%s", err, s.stderr)
	}
	var seen map[string]int
	if !waitUntil(60*time.Second, func() bool { seen, _ = deliveredRecords(t, s.endpoint, "out"); return len(seen) >= len(acked) }) {
		t.Fatalf("%d of %d records delivered after the fault ran out:\n%s", len(seen), len(acked), s.stderr)
	}
	checkDeliveredOnce(t, seen, acked)
	if len(seen) != len(acked) {
		t.Errorf("%d records delivered, want the %d put", len(seen), len(acked))
	}
	if n := faultsFired(t, s.endpoint); n != 3 {
		t.Errorf("the fault fired %d times, want 3", n)
	}
	desc, err = fc.DescribeDeliveryStream(ctx, &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("d")})
	if err != nil {
		t.Fatal(err)
	}
	if f := desc.DeliveryStreamDescription.FailureDescription; f != nil {
		t.Errorf("after the delivery, FailureDescription %+v, want none", f)
	}
	if m := scrape(t, s.endpoint, `localpipe_firehose_delivery_to_s3_success{delivery_stream_name="d"}`); m != "1" {
		t.Errorf("DeliveryToS3.Success %q after the delivery, want 1", m)
	}
}

// TestFirehoseS3FaultSIGKILLExactlyOnce kills the server with SIGKILL twice while Firehose
// retries deliveries that an S3 SlowDown fault (declared in the config, never running out)
// keeps failing and producers keep putting; then restarts it without the fault. Every record
// PutRecordBatch acknowledged lands in S3 exactly once.
func TestFirehoseS3FaultSIGKILLExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("SIGKILL loop with a race-built binary")
	}
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	faulty, clean := filepath.Join(dir, "faulty.yaml"), filepath.Join(dir, "clean.yaml")
	if err := os.WriteFile(faulty, []byte(faultDeliveryConfig(`
faults: [{service: s3, operation: PutObject, resource: out, error: SlowDown}]
`)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(clean, []byte(faultDeliveryConfig("")), 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	var mu sync.Mutex
	acked := map[string]bool{}
	for round := 0; round < 2; round++ {
		s := start(t, "--data-dir", data, "--config", faulty)
		fc := firehoseClient(s.endpoint)
		l := newLoad()
		for w := 0; w < 2; w++ {
			l.run(func(i int) bool {
				var recs []string
				for j := 0; j < 20; j++ {
					recs = append(recs, fmt.Sprintf("r%d-w%d-%d-%d", round, w, i, j))
				}
				return putBatch(ctx, fc, &mu, acked, recs) == nil
			})
		}
		// Two failed attempts: the kill lands while Firehose waits to retry, or in a retry.
		if !waitUntil(30*time.Second, func() bool { return faultsFired(t, s.endpoint) >= 2 }) {
			t.Fatalf("round %d: Firehose did not meet the fault:\n%s", round, s.stderr)
		}
		if _, n := deliveredRecords(t, s.endpoint, "out"); n != 0 {
			t.Fatalf("round %d: %d objects written through a fault that never runs out", round, n)
		}
		s.kill()
		l.halt()
	}
	mu.Lock()
	defer mu.Unlock()
	if len(acked) == 0 {
		t.Fatal("nothing acknowledged")
	}
	s := start(t, "--data-dir", data, "--config", clean)
	var seen map[string]int
	var objects int
	// No flush: the batch the kill interrupted is redone at start, and the rest of the
	// buffer goes at the next interval.
	if !waitUntil(60*time.Second, func() bool { seen, objects = deliveredRecords(t, s.endpoint, "out"); return len(seen) >= len(acked) }) {
		t.Fatalf("%d of %d acknowledged records delivered after the restart without the fault:\n%s", len(seen), len(acked), s.stderr)
	}
	checkDeliveredOnce(t, seen, acked)
	t.Logf("%d acknowledged records delivered once in %d objects after 2 kills during S3 fault retries", len(acked), objects)
}
