package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/localpipe/localpipe/internal/functions/functionstest"
)

// recordingUpper is a transformation served by the test process, so it outlives the server it
// is killed under: each record upper-cased with a newline. It counts how often it saw each
// record id.
type recordingUpper struct {
	mu   sync.Mutex
	seen map[string]int
}

func (u *recordingUpper) fn(event []byte) ([]byte, bool) {
	var ev struct {
		Records []struct {
			RecordID string `json:"recordId"`
			Data     []byte `json:"data"`
		} `json:"records"`
	}
	if err := json.Unmarshal(event, &ev); err != nil {
		return []byte(`{"errorMessage":"bad event"}`), true
	}
	type rec struct {
		RecordID string `json:"recordId"`
		Result   string `json:"result"`
		Data     []byte `json:"data"`
	}
	var out struct {
		Records []rec `json:"records"`
	}
	u.mu.Lock()
	for _, r := range ev.Records {
		u.seen[r.RecordID]++
		out.Records = append(out.Records, rec{r.RecordID, "Ok", append(bytes.ToUpper(r.Data), '\n')})
	}
	u.mu.Unlock()
	b, _ := json.Marshal(out)
	return b, false
}

// twice is how many record ids the function was called with more than once.
func (u *recordingUpper) twice() (ids, more int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, n := range u.seen {
		ids++
		if n > 1 {
			more++
		}
	}
	return ids, more
}

// TestFirehoseTransformSIGKILLEffectivelyOnce kills the server during transforming
// deliveries. First deterministically after the function has answered and before the object
// is committed (S3 refuses the write, then SIGKILL): the restarted server calls the function
// again for the same batch and writes it once. Then under load, with kills at whatever point
// deliveries have reached. At the end every record Kinesis acknowledged is in S3, transformed,
// exactly once.
func TestFirehoseTransformSIGKILLEffectivelyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("SIGKILL loop under a race-built binary")
	}
	fn := &recordingUpper{seen: map[string]int{}}
	url := functionstest.NewURL(t, fn.fn)
	dir := t.TempDir()
	conf := filepath.Join(dir, "localpipe.yaml")
	config := fmt.Sprintf(`
functions: [{name: upper, url: '%s'}]
streams: [{StreamName: xsrc, ShardCount: 2}]
buckets: [xbucket]
deliveryStreams:
  - DeliveryStreamName: xform
    DeliveryStreamType: KinesisStreamAsSource
    KinesisStreamSourceConfiguration:
      KinesisStreamARN: arn:aws:kinesis:us-east-1:000000000000:stream/xsrc
      RoleARN: arn:aws:iam::000000000000:role/r
    ExtendedS3DestinationConfiguration:
      BucketARN: arn:aws:s3:::xbucket
      RoleARN: arn:aws:iam::000000000000:role/r
      BufferingHints: {SizeInMBs: 1, IntervalInSeconds: 1}
      ProcessingConfiguration:
        Processors:
          - Type: Lambda
            Parameters:
              - {ParameterName: LambdaArn, ParameterValue: 'arn:aws:lambda:us-east-1:000000000000:function:upper'}
              - {ParameterName: BufferSizeInMBs, ParameterValue: '0.2'}
`, url)
	write := func(extra string) {
		if err := os.WriteFile(conf, []byte(config+extra), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"--data-dir", filepath.Join(dir, "data"), "--config", conf}
	var mu sync.Mutex
	acked := map[string]bool{}
	put := func(kc *kinesis.Client, prefix string, n int) bool {
		var entries []ktypes.PutRecordsRequestEntry
		for j := 0; j < n; j++ {
			data := fmt.Sprintf("%s-%d-%s", prefix, j, strings.Repeat("p", 1000))
			entries = append(entries, ktypes.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprint(prefix, j)), Data: []byte(data)})
		}
		return putNoting(kc, "xsrc", entries, &mu, func(data, _ string) { acked[data] = true })
	}

	// The function answers, S3 refuses the object, the process dies.
	write(`faults: [{service: s3, operation: PutObject, resource: xbucket, error: InternalError}]`)
	s := start(t, args...)
	if !put(kinesisClient(s.endpoint), "first", 50) {
		t.Fatalf("PutRecords failed\n%s", s.stderr)
	}
	resp, err := http.Post(s.endpoint+"/_localpipe/firehose/xform/flush", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode == 200 {
		t.Fatal("the flush succeeded although S3 refuses every object")
	}
	s.kill()
	fn.mu.Lock()
	before := map[string]int{}
	for id, n := range fn.seen {
		before[id] = n
	}
	fn.mu.Unlock()
	if len(before) != 50 {
		t.Fatalf("the function saw %d records before the kill, want all 50", len(before))
	}

	// Kills under load, deliveries going on.
	write("")
	for round, target := range []int{300, 600} {
		s := start(t, args...)
		kc := kinesisClient(s.endpoint)
		var n atomic.Int64
		l := newLoad()
		for w := 0; w < 2; w++ {
			l.run(func(i int) bool {
				if !put(kc, fmt.Sprintf("r%d-w%d-%d", round, w, i), 10) {
					return false
				}
				n.Add(10)
				return true
			})
		}
		l.run(func(int) bool {
			resp, err := http.Post(s.endpoint+"/_localpipe/firehose/xform/flush", "application/json", nil)
			if err != nil {
				return false
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return true
		})
		waitUntil(30*time.Second, func() bool { return n.Load() >= int64(target) })
		s.kill()
		l.halt()
	}

	s = start(t, args...)
	s.flush(t, "xform")
	sc := s3Client(s.endpoint)
	seen := map[string]int{}
	for _, o := range listObjects(t, sc, "xbucket") {
		for _, line := range strings.Split(strings.TrimSuffix(string(getObject(t, sc, "xbucket", *o.Key)), "\n"), "\n") {
			seen[line]++
		}
	}
	lost, dup := 0, 0
	for r := range acked {
		if seen[strings.ToUpper(r)] == 0 {
			lost++
		}
	}
	for r, n := range seen {
		if n > 1 {
			if dup++; dup < 5 {
				t.Errorf("%.30s… delivered %d times", r, n)
			}
		}
	}
	if lost > 0 || dup > 0 || len(acked) == 0 {
		t.Fatalf("%d of %d acknowledged records lost, %d duplicated", lost, len(acked), dup)
	}
	fn.mu.Lock()
	for id, n := range before {
		if fn.seen[id] <= n {
			t.Errorf("record %s was not sent to the function again after the kill", id)
		}
	}
	fn.mu.Unlock()
	ids, more := fn.twice()
	t.Logf("%d acknowledged, delivered once each in %d lines; the function saw %d ids, %d of them more than once", len(acked), len(seen), ids, more)
}
