package firehose

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// partRecord is a JSON record of partition c that is n bytes long.
func partRecord(c string, n int) string {
	r := fmt.Sprintf(`{"c":%q,"p":""}`, c)
	return r[:len(r)-2] + strings.Repeat("x", n-len(r)) + `"}`
}

func waitKeys(t *testing.T, s *memSink, n int) []string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(s.keys()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d objects, want %d", len(s.keys()), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return s.keys()
}

// TestPartitionedSizeTrigger: with dynamic partitioning the size trigger counts the largest
// partition's bytes, not the batch total, as AWS applies SizeInMBs to each partition; a batch
// of many partitions is still cut at maxOpenObjects times the size.
func TestPartitionedSizeTrigger(t *testing.T) {
	env := openTest(t)
	nl := "\n"
	cfg := func(name string) Config {
		return baseConfig(name, func(c *Config) {
			c.Prefix = "c=!{partitionKeyFromQuery:c}/"
			c.ErrorPrefix = "errors/!{firehose:error-output-type}/"
			c.PartitionQuery = "{c: .c}"
			c.Delimiter = &nl
			c.SizeBytes = 1000
		})
	}
	if _, err := env.e.Create(cfg("ds"), nil); err != nil {
		t.Fatal(err)
	}
	// Records of 200 bytes with their delimiter. Six of them, three per partition, pass the
	// size in all but in neither partition; two more in A fill A and deliver the batch.
	for _, c := range []string{"A", "B", "A", "B", "A", "B"} {
		put(t, env.e, "ds", partRecord(c, 199))
	}
	put(t, env.e, "ds", partRecord("A", 199), partRecord("A", 199))
	keys := waitKeys(t, env.sink, 2)
	lines := map[string]int{}
	for _, k := range keys {
		lines[k[:4]] = strings.Count(string(env.sink.get(t, k).body), "\n")
	}
	if len(keys) != 2 || lines["c=A/"] != 5 || lines["c=B/"] != 3 {
		t.Fatalf("objects %v, records per partition %v", keys, lines)
	}
	if k, err := env.e.Flush(context.Background(), "ds"); err != nil || len(k) != 0 {
		t.Fatalf("flush after the size trigger: %v %v", k, err)
	}

	// Twenty partitions of 900 bytes each: no partition fills, and the batch is cut once it
	// holds 16 times the size (after 18 records); the rest waits for the flush.
	env.e.Create(cfg("many"), nil)
	for i := range 20 {
		put(t, env.e, "many", partRecord(fmt.Sprintf("m%02d", i), 899))
	}
	keys = waitKeys(t, env.sink, 2+18)
	if len(keys) != 20 {
		t.Fatalf("%d objects after the cap, want 20", len(keys))
	}
	if k, err := env.e.Flush(context.Background(), "many"); err != nil || len(k) != 2 {
		t.Fatalf("flush: %v %v", k, err)
	}
}
