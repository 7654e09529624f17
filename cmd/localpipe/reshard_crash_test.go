package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/localpipe/localpipe/localpipetest"
)

// TestSIGKILLDuringSplit kills the server while producers are mid-request and shards are
// being split one after another, and proves that after a restart every acknowledged record
// is readable exactly once, with the sequence number it was acknowledged with, and that the
// shard map is whole: the open shards tile the hash key space and every closed shard has
// children.
func TestSIGKILLDuringSplit(t *testing.T) {
	if testing.Short() {
		t.Skip("SIGKILL under load: a race-built server and seconds of load")
	}
	dir := t.TempDir()
	ctx := context.Background()
	s := start(t, "--data-dir", dir)
	kc := kinesisClient(s.endpoint)
	if _, err := kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("split"), ShardCount: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	acked := map[string]string{} // data → sequence number
	var nAcked, nSplits atomic.Int64
	l := newLoad()
	for w := 0; w < 6; w++ {
		l.run(func(i int) bool {
			var entries []types.PutRecordsRequestEntry
			for j := 0; j < 10; j++ {
				data := fmt.Sprintf("w%d-%d-%d", w, i, j)
				entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: aws.String(data), Data: []byte(data)})
			}
			return putNoting(kc, "split", entries, &mu, func(data, seq string) { acked[data] = seq; nAcked.Add(1) })
		})
	}
	// One splitter: the widest open shard, at its middle, again and again.
	l.run(func(int) bool {
		ls, err := kc.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("split"), ShardFilter: &types.ShardFilter{Type: types.ShardFilterTypeAtLatest}})
		if err != nil {
			return false
		}
		id, mid := widest(ls.Shards)
		if _, err := kc.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String("split"), ShardToSplit: aws.String(id), NewStartingHashKey: aws.String(mid)}); err != nil {
			return false
		}
		nSplits.Add(1)
		return true
	})
	if !waitUntil(60*time.Second, func() bool { return nAcked.Load() >= 3000 && nSplits.Load() >= 20 }) {
		t.Fatalf("%d records acknowledged and %d splits in 60 s\n%s", nAcked.Load(), nSplits.Load(), s.stderr)
	}
	s.kill()
	l.halt()

	s = start(t, "--data-dir", dir)
	kc = kinesisClient(s.endpoint)
	var all []types.Shard
	var token *string
	for {
		in := &kinesis.ListShardsInput{NextToken: token}
		if token == nil {
			in.StreamName = aws.String("split")
		}
		out, err := kc.ListShards(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, out.Shards...)
		if token = out.NextToken; token == nil {
			break
		}
	}
	checkShardMap(t, all)
	ids := make([]string, len(all))
	for i, sh := range all {
		ids[i] = *sh.ShardId
	}
	stored := checkStoredOnce(t, kc, "split", ids, acked, "records")
	t.Logf("%d splits, %d shards; %d acknowledged, %d stored (the rest were in flight at the kill)", nSplits.Load(), len(all), len(acked), stored)
	// The stream takes records again, in its open shards.
	if _, err := kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("split"), PartitionKey: aws.String("after"), Data: []byte("after")}); err != nil {
		t.Fatal(err)
	}
}

// widest returns the open shard with the widest hash key range and the middle of its range.
func widest(shards []types.Shard) (id, mid string) {
	var best *big.Int
	for _, sh := range shards {
		lo, _ := new(big.Int).SetString(*sh.HashKeyRange.StartingHashKey, 10)
		hi, _ := new(big.Int).SetString(*sh.HashKeyRange.EndingHashKey, 10)
		w := new(big.Int).Sub(hi, lo)
		if best == nil || w.Cmp(best) > 0 {
			best, id = w, *sh.ShardId
			mid = new(big.Int).Add(lo, new(big.Int).Rsh(w, 1)).String()
		}
	}
	return id, mid
}

// checkShardMap fails unless the open shards tile [0, 2^128) and every closed shard is the
// parent of some shard.
func checkShardMap(t *testing.T, shards []types.Shard) {
	t.Helper()
	parents := map[string]bool{}
	var open []types.Shard
	for _, sh := range shards {
		parents[aws.ToString(sh.ParentShardId)] = true
		parents[aws.ToString(sh.AdjacentParentShardId)] = true
		if sh.SequenceNumberRange.EndingSequenceNumber == nil {
			open = append(open, sh)
		}
	}
	for _, sh := range shards {
		if sh.SequenceNumberRange.EndingSequenceNumber != nil && !parents[*sh.ShardId] {
			t.Errorf("%s is closed but has no children", *sh.ShardId)
		}
	}
	key := func(s *string) *big.Int { n, _ := new(big.Int).SetString(*s, 10); return n }
	sort.Slice(open, func(i, j int) bool {
		return key(open[i].HashKeyRange.StartingHashKey).Cmp(key(open[j].HashKeyRange.StartingHashKey)) < 0
	})
	next := big.NewInt(0)
	for _, sh := range open {
		if key(sh.HashKeyRange.StartingHashKey).Cmp(next) != 0 {
			t.Fatalf("open shards leave a gap or overlap at %s", *sh.ShardId)
		}
		next = new(big.Int).Add(key(sh.HashKeyRange.EndingHashKey), big.NewInt(1))
	}
	if next.Cmp(new(big.Int).Lsh(big.NewInt(1), 128)) != 0 {
		t.Fatalf("open shards end at %s", next)
	}
}

// TestTailFollowsReshards: `localpipe tail` following a stream goes on into the shards a
// split opens, after the parent's records.
func TestTailFollowsReshards(t *testing.T) {
	t.Parallel()
	srv := localpipetest.Start(t, localpipetest.Stream("rs", 1))
	kc := srv.Kinesis()
	ctx := context.Background()
	tail := exec.Command(binary, "tail", "rs", "--json", "-n", "6", "--interval", "20ms", "--endpoint", srv.Endpoint)
	tailOut := &syncBuffer{}
	tail.Stdout = tailOut
	errPipe, _ := tail.StderrPipe()
	if err := tail.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(errPipe)
	for sc.Scan() && !strings.Contains(sc.Text(), "following 1 shard(s) of rs") {
	}
	go io.Copy(io.Discard, errPipe)
	put := func(data string) {
		t.Helper()
		if _, err := kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("rs"), PartitionKey: aws.String(data), Data: []byte(data)}); err != nil {
			t.Fatal(err)
		}
	}
	put("p1")
	put("p2")
	if _, err := kc.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String("rs"), ShardToSplit: aws.String("shardId-000000000000"),
		NewStartingHashKey: aws.String("170141183460469231731687303715884105728")}); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		put(fmt.Sprint("c", i))
	}
	if err := tail.Wait(); err != nil {
		t.Fatalf("tail: %v", err)
	}
	shards := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(tailOut.String()), "\n") {
		var rec tailRecord
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.Data == nil {
			t.Fatalf("tail --json line %q (%v)", line, err)
		}
		shards[rec.Shard] = append(shards[rec.Shard], *rec.Data)
	}
	if fmt.Sprint(shards["shardId-000000000000"]) != "[p1 p2]" || len(shards["shardId-000000000001"])+len(shards["shardId-000000000002"]) != 4 {
		t.Fatalf("tail saw %v", shards)
	}
}
