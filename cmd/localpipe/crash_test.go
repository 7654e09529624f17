package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// TestSIGKILLDuringConcurrentPuts kills the server while producers are mid-request and proves
// that every record it acknowledged is readable after a restart, exactly once.
func TestSIGKILLDuringConcurrentPuts(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s := start(t, "--data-dir", dir) // default --fsync interval: acknowledged means in the file
	kc := kinesisClient(s.endpoint)
	if _, err := kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("crash"), ShardCount: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	acked := map[string]string{} // data → sequence number
	var nAcked atomic.Int64
	l := newLoad()
	for w := 0; w < 8; w++ {
		l.run(func(i int) bool {
			if w%2 == 0 {
				data := fmt.Sprintf("w%d-%d", w, i)
				out, err := kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("crash"), PartitionKey: aws.String(data), Data: []byte(data)})
				if err != nil {
					return false // the server is gone
				}
				mu.Lock()
				acked[data] = *out.SequenceNumber
				mu.Unlock()
				nAcked.Add(1)
				return true
			}
			var entries []types.PutRecordsRequestEntry
			for j := 0; j < 20; j++ {
				data := fmt.Sprintf("w%d-%d-%d", w, i, j)
				entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: aws.String(data), Data: []byte(data)})
			}
			return putNoting(kc, "crash", entries, &mu, func(data, seq string) { acked[data] = seq; nAcked.Add(1) })
		})
	}
	waitUntil(20*time.Second, func() bool { return nAcked.Load() >= 3000 })
	s.kill()
	l.halt()
	if nAcked.Load() == 0 {
		t.Fatal("nothing was acknowledged before the kill")
	}

	s = start(t, "--data-dir", dir)
	stored := checkStoredOnce(t, kinesisClient(s.endpoint), "crash", []string{"shardId-000000000000", "shardId-000000000001"}, acked, "records")
	t.Logf("%d acknowledged, %d stored (the rest were in flight at the kill)", len(acked), stored)
}

// TestSIGTERMDuringPutsIsGraceful stops the server with SIGTERM under load: it must exit 0,
// and every request it answered must be durable.
func TestSIGTERMDuringPutsIsGraceful(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s := start(t, "--data-dir", dir)
	kc := kinesisClient(s.endpoint)
	kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("term"), ShardCount: aws.Int32(1)})
	var mu sync.Mutex
	acked := map[string]bool{}
	l := newLoad()
	for w := 0; w < 4; w++ {
		l.run(func(i int) bool {
			data := fmt.Sprintf("w%d-%d", w, i)
			if _, err := kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("term"), PartitionKey: aws.String("k"), Data: []byte(data)}); err != nil {
				return false
			}
			mu.Lock()
			acked[data] = true
			mu.Unlock()
			return true
		})
	}
	n := 0
	if !waitUntil(30*time.Second, func() bool { mu.Lock(); n = len(acked); mu.Unlock(); return n > 300 }) {
		t.Fatalf("only %d puts acknowledged in 30 s\n%s", n, s.stderr)
	}
	if code := s.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("exit code %d after SIGTERM\n%s", code, s.stderr)
	}
	l.halt()
	s = start(t, "--data-dir", dir)
	got := map[string]bool{}
	for _, r := range readShard(t, kinesisClient(s.endpoint), "term", "shardId-000000000000") {
		got[string(r.Data)] = true
	}
	for d := range acked {
		if !got[d] {
			t.Fatalf("acknowledged %s lost over a graceful stop", d)
		}
	}
}
