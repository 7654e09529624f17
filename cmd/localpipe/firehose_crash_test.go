package main

import (
	"bytes"
	"context"
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
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestFirehoseSIGKILLExactlyOnce kills the server with SIGKILL several times while producers
// put records and flushes run (size-triggered at 1 MiB, interval-triggered every second, and
// admin flushes back to back), restarting it each time; at the end every record a Firehose
// PutRecord or PutRecordBatch acknowledged (DirectPut), and every record Kinesis PutRecords
// acknowledged (read by a KinesisStreamAsSource delivery stream, while its source's shards
// are split), is in S3 exactly once; so is every record a Kinesis channel reads from an
// on-demand stream, delivered by the same machinery when the admin flushes run.
func TestFirehoseSIGKILLExactlyOnce(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	conf := filepath.Join(dir, "localpipe.yaml")
	os.WriteFile(conf, []byte(`
streams: [{StreamName: crash-src, ShardCount: 2}, {StreamName: crash-od, StreamModeDetails: {StreamMode: ON_DEMAND}}]
buckets: [crash-bucket]
deliveryStreams:
  - DeliveryStreamName: crash-k
    DeliveryStreamType: KinesisStreamAsSource
    KinesisStreamSourceConfiguration:
      KinesisStreamARN: arn:aws:kinesis:us-east-1:000000000000:stream/crash-src
      RoleARN: arn:aws:iam::000000000000:role/r
    ExtendedS3DestinationConfiguration:
      BucketARN: arn:aws:s3:::crash-bucket
      RoleARN: arn:aws:iam::000000000000:role/r
      Prefix: kinesis/
      BufferingHints: {SizeInMBs: 1, IntervalInSeconds: 1}
      ProcessingConfiguration:
        Enabled: true
        Processors: [{Type: AppendDelimiterToRecord}]
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
	killsInFlush := 0
	var splits atomic.Int64
	for round, target := range []int{400, 900, 1500} {
		s := start(t, args...)
		fc := firehoseClient(s.endpoint)
		var nAcked atomic.Int64
		var inFlush atomic.Bool
		l := newLoad()
		kc := kinesisClient(s.endpoint)
		if round == 0 {
			_, err := kc.CreateChannel(ctx, &kinesis.CreateChannelInput{
				ChannelName: aws.String("crash-ch"), ServiceExecutionRoleARN: aws.String("arn:aws:iam::000000000000:role/r"),
				StreamConfigurationList: []ktypes.ChannelStreamConfiguration{{StreamARN: aws.String("arn:aws:kinesis:us-east-1:000000000000:stream/crash-od"),
					RecordConfiguration: &ktypes.RecordConfiguration{RecordFormatType: ktypes.RecordFormatTypeJson}}},
				S3DestinationConfiguration: &ktypes.S3DestinationConfiguration{StorageConfiguration: &ktypes.S3StorageConfiguration{
					BucketARN: aws.String("arn:aws:s3:::crash-bucket"), CompressionType: ktypes.S3CompressionTypeGzip, ExpectedBucketOwner: aws.String("000000000000")}},
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		l.run(func(i int) bool { // records that reach S3 through the channel, as JSON objects
			var entries []ktypes.PutRecordsRequestEntry
			for j := 0; j < 10; j++ {
				data := fmt.Sprintf(`{"c":"%d-%d-%d"}`, round, i, j)
				entries = append(entries, ktypes.PutRecordsRequestEntry{PartitionKey: aws.String(data), Data: []byte(data)})
			}
			return putNoting(kc, "crash-od", entries, &mu, func(data, _ string) { acked[data] = true })
		})
		l.run(func(i int) bool { // records that reach crash-k through Kinesis
			var entries []ktypes.PutRecordsRequestEntry
			for j := 0; j < 20; j++ {
				data := fmt.Sprintf("k%d-%d-%d-%s", round, i, j, pad)
				entries = append(entries, ktypes.PutRecordsRequestEntry{PartitionKey: aws.String(data[:12]), Data: []byte(data)})
			}
			return putNoting(kc, "crash-src", entries, &mu, func(data, _ string) { acked[data] = true })
		})
		for w := 0; w < 4; w++ {
			l.run(func(i int) bool {
				if w%2 == 0 {
					data := fmt.Sprintf("r%d-w%d-%d-%s", round, w, i, pad)
					if _, err := fc.PutRecord(ctx, &firehose.PutRecordInput{DeliveryStreamName: aws.String("crash"), Record: &types.Record{Data: []byte(data)}}); err != nil {
						return false // the server is gone
					}
					mu.Lock()
					acked[data] = true
					mu.Unlock()
					nAcked.Add(1)
					return true
				}
				var batch []types.Record
				for j := 0; j < 25; j++ {
					batch = append(batch, types.Record{Data: []byte(fmt.Sprintf("r%d-w%d-%d-%d-%s", round, w, i, j, pad))})
				}
				out, err := fc.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String("crash"), Records: batch})
				if err != nil {
					return false
				}
				mu.Lock()
				for j, r := range out.RequestResponses {
					if r.ErrorCode == nil {
						acked[string(batch[j].Data)] = true
						nAcked.Add(1)
					}
				}
				mu.Unlock()
				return true
			})
		}
		l.run(func(i int) bool { // splits of the source, paced, so kills land around reshards too
			if i >= 6 {
				return false
			}
			time.Sleep(100 * time.Millisecond)
			ls, err := kc.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("crash-src"), ShardFilter: &ktypes.ShardFilter{Type: ktypes.ShardFilterTypeAtLatest}})
			if err != nil {
				return false
			}
			id, mid := widest(ls.Shards)
			if _, err := kc.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String("crash-src"), ShardToSplit: aws.String(id), NewStartingHashKey: aws.String(mid)}); err != nil {
				return false
			}
			splits.Add(1)
			return true
		})
		l.run(func(int) bool { // admin flushes, so the kill lands in one now and then
			inFlush.Store(true)
			resp, err := http.Post(s.endpoint+"/_localpipe/firehose/flush", "application/json", nil)
			if err != nil {
				return false // the server is gone, in the middle of this flush
			}
			inFlush.Store(false)
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return true
		})
		waitUntil(20*time.Second, func() bool { return nAcked.Load() >= int64(target) })
		s.kill()
		l.halt()
		if inFlush.Load() {
			killsInFlush++
		}
		if nAcked.Load() == 0 {
			t.Fatalf("round %d: nothing acknowledged before the kill\n%s", round, s.stderr)
		}
	}

	s := start(t, args...)
	s.flush(t, "")
	sc := s3Client(s.endpoint)
	seen := map[string]int{}
	objects := listObjects(t, sc, "crash-bucket")
	for _, o := range objects {
		body := getObject(t, sc, "crash-bucket", *o.Key)
		if strings.HasPrefix(*o.Key, "kinesis-channel/") { // the channel's records, back to back
			d := json.NewDecoder(bytes.NewReader(gunzip(t, body)))
			for {
				var r json.RawMessage
				if err := d.Decode(&r); err == io.EOF {
					break
				} else if err != nil {
					t.Fatalf("%s: %v", *o.Key, err)
				}
				seen[string(r)]++
			}
			continue
		}
		if !strings.HasPrefix(*o.Key, "kinesis/") {
			body = gunzip(t, body)
		}
		for _, r := range strings.Split(strings.TrimSuffix(string(body), "\n"), "\n") {
			seen[r]++
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
	viaKinesis, viaChannel := 0, 0
	for r := range acked {
		if strings.HasPrefix(r, "k") {
			viaKinesis++
		}
		if strings.HasPrefix(r, `{"c"`) {
			viaChannel++
		}
	}
	if viaKinesis == 0 || viaChannel == 0 {
		t.Fatalf("%d records went through Kinesis to Firehose, %d through the channel", viaKinesis, viaChannel)
	}
	if splits.Load() == 0 {
		t.Fatal("the source was never split")
	}
	t.Logf("%d acknowledged (%d through Kinesis, over %d splits of its source; %d through a channel), %d delivered in %d objects over 3 kills, %d of them during an admin flush (the rest were in flight)",
		len(acked), viaKinesis, splits.Load(), viaChannel, len(seen), len(objects), killsInFlush)
}

// TestFirehoseHalfFullBufferSurvivesSIGKILL kills the server while a delivery stream holds a
// buffer that neither size nor interval has closed; after the restart the records are still
// buffered and a flush delivers each of them once.
func TestFirehoseHalfFullBufferSurvivesSIGKILL(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s := start(t, "--data-dir", dir)
	sc := s3Client(s.endpoint)
	if _, err := sc.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("half")}); err != nil {
		t.Fatal(err)
	}
	fc := firehoseClient(s.endpoint)
	if _, err := fc.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("half"),
		ExtendedS3DestinationConfiguration: &types.ExtendedS3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::half"),
			RoleARN: aws.String("arn:aws:iam::000000000000:role/r"), BufferingHints: &types.BufferingHints{SizeInMBs: aws.Int32(128), IntervalInSeconds: aws.Int32(900)}}}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"a", "b", "c"} {
		if _, err := fc.PutRecord(ctx, &firehose.PutRecordInput{DeliveryStreamName: aws.String("half"), Record: &types.Record{Data: []byte(r)}}); err != nil {
			t.Fatal(err)
		}
	}
	s.kill()
	s = start(t, "--data-dir", dir)
	sc = s3Client(s.endpoint)
	if out, _ := sc.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("half")}); len(out.Contents) != 0 {
		t.Fatalf("%d objects before any flush", len(out.Contents))
	}
	if keys := s.flush(t, "half"); len(keys) != 1 || string(getObject(t, sc, "half", keys[0])) != "abc" {
		t.Fatalf("after the restart: keys %v", keys)
	}
}
