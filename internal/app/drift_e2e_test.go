package app_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/localpipe/localpipe/internal/app"
)

// TestConfigDriftWarns: a config changed between two starts on the same data dir keeps the
// existing resources as they are and says, per changed member, what differs and how to
// apply it; an unchanged config says nothing. A changed ShardCount is applied with
// UpdateShardCount where AWS's limits allow, and otherwise warned of with AWS's reason.
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
	for _, want := range [][]string{
		{"streams[0]: the stream orders exists with a different StreamModeDetails.StreamMode", "config=ON_DEMAND", "existing=PROVISIONED", "localpipe reset"},
		{"streams[3]: the stream jumps exists with a different ShardCount", "config=3", "existing=1", "reason=\"UpdateShardCount: LimitExceededException: UpdateShardCount cannot scale up over double"},
		{"deliveryStreams[0]: the delivery stream to-s3 exists with a different ExtendedS3DestinationConfiguration.CompressionFormat", "config=GZIP", "existing=UNCOMPRESSED"},
		{"ExtendedS3DestinationConfiguration.BufferingHints.IntervalInSeconds", "config=60", "existing=300"},
	} {
		logLine(t, logs, append([]string{"level=WARN"}, want...)...)
	}
	if n := strings.Count(logs, "level=WARN"); n != 4 {
		t.Errorf("%d warnings, want 4:\n%s", n, logs)
	}
	logLine(t, logs, "level=INFO", "streams[2]: the stream grows had a different ShardCount; UpdateShardCount applies the config's", "config=2", "existing=1")
	s = startServerConfig(t, onDisk, "", map[string]string{"localpipe.yaml": after})
	if logs := stopForLogs(t, s); strings.Contains(logs, "stream grows") {
		t.Errorf("the applied ShardCount did not last:\n%s", logs)
	}
}
