package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// runCLI runs the AWS CLI in eu-west-1 and returns its JSON output.
func runCLI(t *testing.T, endpoint string, args ...string) map[string]any {
	t.Helper()
	out := runAWS(t, endpoint, "eu-west-1", append([]string{"--output", "json"}, args...)...)
	m := map[string]any{}
	if len(strings.TrimSpace(out)) > 0 {
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatalf("aws %s: not JSON: %s", strings.Join(args, " "), out)
		}
	}
	return m
}

func TestAWSCLI(t *testing.T) {
	if _, err := os.Stat(awsCLI); err != nil {
		t.Skip("AWS CLI v2 not installed (.ci/run installs Debian's awscli)")
	}
	s := start(t, "--ephemeral")
	runCLI(t, s.endpoint, "kinesis", "create-stream", "--stream-name", "cli", "--shard-count", "2")
	runCLI(t, s.endpoint, "kinesis", "wait", "stream-exists", "--stream-name", "cli")
	put := runCLI(t, s.endpoint, "kinesis", "put-record", "--stream-name", "cli", "--partition-key", "some key",
		"--data", "aGVsbG8gY2xp", "--cli-binary-format", "base64")
	// "some key" hashes into the upper half of the key space: shard 1 of 2.
	if put["ShardId"] != "shardId-000000000001" || len(put["SequenceNumber"].(string)) != 56 {
		t.Fatalf("put-record: %v", put)
	}
	shards := runCLI(t, s.endpoint, "kinesis", "list-shards", "--stream-name", "cli")["Shards"].([]any)
	if len(shards) != 2 || shards[1].(map[string]any)["HashKeyRange"].(map[string]any)["StartingHashKey"] != "170141183460469231731687303715884105728" {
		t.Fatalf("list-shards: %v", shards)
	}
	it := runCLI(t, s.endpoint, "kinesis", "get-shard-iterator", "--stream-name", "cli", "--shard-id", "shardId-000000000001",
		"--shard-iterator-type", "TRIM_HORIZON")["ShardIterator"].(string)
	recs := runCLI(t, s.endpoint, "kinesis", "get-records", "--shard-iterator", it)
	rs := recs["Records"].([]any)
	if len(rs) != 1 || rs[0].(map[string]any)["Data"] != "aGVsbG8gY2xp" || rs[0].(map[string]any)["SequenceNumber"] != put["SequenceNumber"] {
		t.Fatalf("get-records: %v", recs)
	}
	desc := runCLI(t, s.endpoint, "kinesis", "describe-stream-summary", "--stream-name", "cli")
	if arn := desc["StreamDescriptionSummary"].(map[string]any)["StreamARN"]; arn != "arn:aws:kinesis:eu-west-1:000000000000:stream/cli" {
		t.Fatalf("ARN %v", arn)
	}
}
