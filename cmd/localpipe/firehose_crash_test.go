package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func firehoseClient(endpoint string) *firehose.Client {
	return firehose.New(firehose.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(endpoint),
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		RetryMaxAttempts: 1,
	})
}

// TestFirehoseSIGKILLExactlyOnce kills the server with SIGKILL several times while producers
// put records and flushes run (size-triggered at 1 MiB, interval-triggered every second, and
// admin flushes back to back), restarting it each time; at the end every record a
// PutRecord or PutRecordBatch acknowledged is in S3 exactly once, and nothing else is.
func TestFirehoseSIGKILLExactlyOnce(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	conf := filepath.Join(dir, "localpipe.yaml")
	os.WriteFile(conf, []byte(`
buckets: [crash-bucket]
deliveryStreams:
  - DeliveryStreamName: crash
    ExtendedS3DestinationConfiguration:
      BucketARN: arn:aws:s3:::crash-bucket
      RoleARN: arn:aws:iam::000000000000:role/r
      BufferingHints: {SizeInMBs: 1, IntervalInSeconds: 1}
      CompressionFormat: GZIP
      ProcessingConfiguration:
        Enabled: true
        Processors: [{Type: AppendDelimiterToRecord}]
`), 0o644)
	args := []string{"--data-dir", filepath.Join(dir, "data"), "--config", conf}
	var mu sync.Mutex
	acked := map[string]bool{}
	pad := strings.Repeat("p", 2000) // records big enough that size triggers fire too
	for round, target := range []int{400, 900, 1500} {
		s := start(t, args...)
		fc := firehoseClient(s.endpoint)
		var nAcked atomic.Int64
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					if w%2 == 0 {
						data := fmt.Sprintf("r%d-w%d-%d-%s", round, w, i, pad)
						if _, err := fc.PutRecord(ctx, &firehose.PutRecordInput{DeliveryStreamName: aws.String("crash"), Record: &types.Record{Data: []byte(data)}}); err != nil {
							return // the server is gone
						}
						mu.Lock()
						acked[data] = true
						mu.Unlock()
						nAcked.Add(1)
						continue
					}
					var batch []types.Record
					for j := 0; j < 25; j++ {
						batch = append(batch, types.Record{Data: []byte(fmt.Sprintf("r%d-w%d-%d-%d-%s", round, w, i, j, pad))})
					}
					out, err := fc.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String("crash"), Records: batch})
					if err != nil {
						return
					}
					mu.Lock()
					for j, r := range out.RequestResponses {
						if r.ErrorCode == nil {
							acked[string(batch[j].Data)] = true
							nAcked.Add(1)
						}
					}
					mu.Unlock()
				}
			}()
		}
		wg.Add(1)
		go func() { // admin flushes, so the kill lands in one now and then
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := http.Post(s.endpoint+"/_localpipe/firehose/crash/flush", "application/json", nil)
				if err != nil {
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
		deadline := time.Now().Add(20 * time.Second)
		for nAcked.Load() < int64(target) && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		s.cmd.Process.Signal(syscall.SIGKILL)
		<-s.waited
		close(stop)
		wg.Wait()
		if nAcked.Load() == 0 {
			t.Fatalf("round %d: nothing acknowledged before the kill\n%s", round, s.stderr)
		}
	}

	s := start(t, args...)
	resp, err := http.Post(s.endpoint+"/_localpipe/firehose/crash/flush", "application/json", nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("final flush: %v %v", err, resp.StatusCode)
	}
	resp.Body.Close()
	sc := s3Client(s.endpoint)
	seen := map[string]int{}
	objects := 0
	p := s3.NewListObjectsV2Paginator(sc, &s3.ListObjectsV2Input{Bucket: aws.String("crash-bucket")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			objects++
			body := gunzip(t, getObject(t, sc, "crash-bucket", *o.Key))
			for _, r := range strings.Split(strings.TrimSuffix(string(body), "\n"), "\n") {
				seen[r]++
			}
		}
	}
	lost, dup := 0, 0
	for r := range acked {
		if seen[r] == 0 {
			lost++
		}
	}
	for r, n := range seen {
		if n > 1 {
			dup++
			if dup < 5 {
				t.Errorf("%.30s… delivered %d times", r, n)
			}
		}
	}
	if lost > 0 || dup > 0 {
		t.Fatalf("%d of %d acknowledged records lost, %d duplicated", lost, len(acked), dup)
	}
	t.Logf("%d acknowledged, %d delivered in %d objects over 3 kills (the rest were in flight)", len(acked), len(seen), objects)
}

func getObject(t *testing.T, sc *s3.Client, bucket, key string) []byte {
	t.Helper()
	out, err := sc.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
