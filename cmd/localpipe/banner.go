package main

import (
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/localpipe/localpipe/internal/app"
)

// banner is what a person starting the server wants to see once: where it listens, where
// the data is, and what exists to be called. The slog line before it is for machines.
func banner(a *app.App) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nlocalpipe %s on %s (data in %s)\n", app.VersionString(), reachable(a.Addr()), a.DataDir())
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
	for _, u := range a.InvokeURLs() {
		fmt.Fprintf(&b, "  invoke URL       %s\n", u)
		n++
	}
	if n == 0 {
		b.WriteString("  nothing created yet: use the AWS CLI or SDKs, or --config FILE\n")
	}
	url, _, _ := strings.Cut(reachable(a.Addr()), " ")
	fmt.Fprintf(&b, "  web console      %s/_localpipe/ui/\n", url)
	b.WriteString("\n")
	return b.String()
}

// reachable is the URL to give people for a listen address: a wildcard address (0.0.0.0 in a
// container) is not one to connect to, so it says localhost.
func reachable(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		return "http://localhost:" + port + " (all interfaces)"
	}
	return "http://" + net.JoinHostPort(host, port)
}
