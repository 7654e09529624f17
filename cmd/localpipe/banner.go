package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/localpipe/localpipe/internal/app"
)

// banner is what a person starting the server wants to see once: where it listens, where
// the data is, and what exists to be called. The slog line before it is for machines.
func banner(a *app.App) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nlocalpipe %s on %s (data in %s)\n", app.VersionString(), a.Endpoint(), a.DataDir())
	n := 0
	for _, s := range a.Streams().List() {
		shards := fmt.Sprintf("%d shards", len(s.Shards))
		if len(s.Shards) == 1 {
			shards = "1 shard"
		}
		fmt.Fprintf(&b, "  kinesis stream   %s (%s)\n", s.Name, shards)
		n++
	}
	for _, d := range a.Firehose().List() {
		from := "direct put"
		if d.KinesisStream != "" {
			from = "from " + d.KinesisStream
		}
		fmt.Fprintf(&b, "  firehose         %s (%s) → s3://%s/%s\n", d.Name, from, d.Bucket, d.Prefix)
		n++
	}
	if buckets, err := a.Objects().ListBuckets(context.Background()); err == nil {
		for _, bk := range buckets {
			fmt.Fprintf(&b, "  s3 bucket        s3://%s\n", bk.Name)
			n++
		}
	}
	if n == 0 {
		b.WriteString("  nothing created yet: use the AWS CLI or SDKs, or --config FILE\n")
	}
	b.WriteString("\n")
	return b.String()
}
