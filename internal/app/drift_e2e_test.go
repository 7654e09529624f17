package app_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/localpipe/localpipe/internal/app"
)

// TestConfigDriftWarns: a config changed between two starts on the same data dir changes the
// existing resources the way AWS lets a user (UpdateStreamMode, UpdateShardCount,
// UpdateDestination), saying so per member; what AWS refuses is kept and warned of, with AWS's
// reason and how to apply it; an unchanged config says nothing.
func TestConfigDriftWarns(t *testing.T) {
	dir := t.TempDir()
	onDisk := func(c *app.Config) { c.Ephemeral, c.DataDir = false, filepath.Join(dir, "data") }
	const before = `
streams:
  - {StreamName: orders, ShardCount: 2}
  - {StreamName: same, ShardCount: 1}
  - {StreamName: grows, ShardCount: 1}
  - {StreamName: jumps, ShardCount: 1}
buckets: [drift-bucket]
deliveryStreams:
  - DeliveryStreamName: to-s3
    DeliveryStreamType: DirectPut
    ExtendedS3DestinationConfiguration:
      BucketARN: arn:aws:s3:::drift-bucket
      RoleARN: arn:aws:iam::000000000000:role/r
      CompressionFormat: UNCOMPRESSED
      BufferingHints: {SizeInMBs: 5, IntervalInSeconds: 300}
`
	after := strings.NewReplacer("grows, ShardCount: 1", "grows, ShardCount: 2", "jumps, ShardCount: 1", "jumps, ShardCount: 3", "ShardCount: 2", "StreamModeDetails: {StreamMode: ON_DEMAND}",
		"UNCOMPRESSED", "GZIP", "IntervalInSeconds: 300", "IntervalInSeconds: 60").Replace(before)

	s := startServerConfig(t, onDisk, "", map[string]string{"localpipe.yaml": before})
	if logs := stopForLogs(t, s); strings.Contains(logs, "level=WARN") {
		t.Fatalf("warnings at the first start:\n%s", logs)
	}
	s = startServerConfig(t, onDisk, "", map[string]string{"localpipe.yaml": before})
	if logs := stopForLogs(t, s); strings.Contains(logs, "level=WARN") {
		t.Fatalf("warnings at a start with the same config:\n%s", logs)
	}
	s = startServerConfig(t, onDisk, "", map[string]string{"localpipe.yaml": after})
	logs := stopForLogs(t, s)
	logLine(t, logs, "level=WARN", "streams[3]: the stream jumps exists with a different ShardCount", "config=3", "existing=1",
		"reason=\"UpdateShardCount: LimitExceededException: UpdateShardCount cannot scale up over double", "localpipe reset")
	if n := strings.Count(logs, "level=WARN"); n != 1 {
		t.Errorf("%d warnings, want 1:\n%s", n, logs)
	}
	for _, want := range [][]string{
		{"streams[0]: the stream orders had a different StreamModeDetails.StreamMode; UpdateStreamMode applies the config's", "config=ON_DEMAND", "existing=PROVISIONED"},
		{"streams[2]: the stream grows had a different ShardCount; UpdateShardCount applies the config's", "config=2", "existing=1"},
		{"deliveryStreams[0]: the delivery stream to-s3 had a different ExtendedS3DestinationConfiguration.CompressionFormat; UpdateDestination applies the config's", "config=GZIP", "existing=UNCOMPRESSED"},
		{"ExtendedS3DestinationConfiguration.BufferingHints.IntervalInSeconds; UpdateDestination", "config=60", "existing=300"},
	} {
		logLine(t, logs, append([]string{"level=INFO"}, want...)...)
	}
	s = startServerConfig(t, onDisk, "", map[string]string{"localpipe.yaml": after})
	if logs := stopForLogs(t, s); strings.Contains(logs, "stream grows") || strings.Contains(logs, "stream orders") || strings.Contains(logs, "to-s3 had") {
		t.Errorf("the applied changes did not last:\n%s", logs)
	}
}
