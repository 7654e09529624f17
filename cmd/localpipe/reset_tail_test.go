package main

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/localpipe/localpipe/localpipetest"
)

// TestTailNoFollow: --no-follow prints what the stream holds, from the oldest record unless
// --from says otherwise, and exits; -n caps it, and asking for more than there is still ends.
func TestTailNoFollow(t *testing.T) {
	t.Parallel()
	srv := localpipetest.Start(t, localpipetest.Stream("nf", 2))

	r := lp(t, srv.Endpoint, "", "tail", "nf", "--no-follow").want(t, 0, "reading 2 shard(s) of nf from TRIM_HORIZON to the latest record")
	if r.stdout != "" {
		t.Fatalf("tail --no-follow of an empty stream printed %q", r.stdout)
	}
	lp(t, srv.Endpoint, "a\nb\nc\nd\n", "put", "nf").want(t, 0, "4 record(s) put into nf")

	data := func(out string) string {
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if f := strings.Fields(line); len(f) == 4 {
				got = append(got, f[3])
			}
		}
		sort.Strings(got)
		return strings.Join(got, ",")
	}
	r = lp(t, srv.Endpoint, "", "tail", "nf", "--no-follow").want(t, 0, "from TRIM_HORIZON")
	if got := data(r.stdout); got != "a,b,c,d" {
		t.Fatalf("tail --no-follow printed %q:\n%s", got, r.stdout)
	}
	r = lp(t, srv.Endpoint, "", "tail", "nf", "--no-follow", "-n", "2").want(t, 0, "")
	if n := strings.Count(r.stdout, "\n"); n != 2 {
		t.Fatalf("tail --no-follow -n 2 printed %d lines:\n%s", n, r.stdout)
	}
	r = lp(t, srv.Endpoint, "", "tail", "-n", "10", "nf", "--no-follow", "--json").want(t, 0, "")
	if n := strings.Count(r.stdout, `"data":`); n != 4 {
		t.Fatalf("tail --no-follow -n 10 --json printed %d records:\n%s", n, r.stdout)
	}
	r = lp(t, srv.Endpoint, "", "tail", "nf", "--no-follow", "--from", "latest").want(t, 0, "from LATEST")
	if r.stdout != "" {
		t.Fatalf("tail --no-follow --from latest printed %q", r.stdout)
	}
	lp(t, srv.Endpoint, "", "tail", "nope", "--no-follow").want(t, 1, "ResourceNotFoundException")
}

// TestResetCommand: `localpipe reset` leaves the config's resources, empty, and nothing else.
func TestResetCommand(t *testing.T) {
	t.Parallel()
	srv := localpipetest.Start(t, localpipetest.Stream("kept", 1))
	ctx := context.Background()
	kc := srv.Kinesis()
	if _, err := kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("made-by-hand"), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	lp(t, srv.Endpoint, "a\nb\n", "put", "kept").want(t, 0, "2 record(s) put into kept")

	lp(t, srv.Endpoint, "", "reset").want(t, 0, "every resource deleted")
	list, err := kc.ListStreams(ctx, &kinesis.ListStreamsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(list.StreamNames, ",") != "kept" {
		t.Fatalf("streams after reset: %q", list.StreamNames)
	}
	if r := lp(t, srv.Endpoint, "", "tail", "kept", "--no-follow").want(t, 0, ""); r.stdout != "" {
		t.Fatalf("kept still holds records after reset:\n%s", r.stdout)
	}
	lp(t, srv.Endpoint, "", "reset", "extra").want(t, 2, "unexpected argument")
	lp(t, deadEndpoint(t), "", "reset").want(t, 1, "nothing is listening at")
}
