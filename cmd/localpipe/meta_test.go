package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	bolt "go.etcd.io/bbolt"
)

// seedConfig declares a Firehose delivery stream that reads the seeded stream into its own
// bucket and delivers only when flushed.
const seedConfig = `
streams: [{StreamName: events, ShardCount: 2}]
buckets: [fh-bkt]
deliveryStreams:
  - DeliveryStreamName: fh
    DeliveryStreamType: KinesisStreamAsSource
    KinesisStreamSourceConfiguration:
      KinesisStreamARN: arn:aws:kinesis:us-east-1:000000000000:stream/events
      RoleARN: arn:aws:iam::000000000000:role/r
    ExtendedS3DestinationConfiguration:
      BucketARN: arn:aws:s3:::fh-bkt
      RoleARN: arn:aws:iam::000000000000:role/r
      Prefix: fh/
      BufferingHints: {SizeInMBs: 128, IntervalInSeconds: 900}
      ProcessingConfiguration:
        Enabled: true
        Processors: [{Type: AppendDelimiterToRecord}]
`

// seedDataDir starts localpipe on a new data dir with seedConfig, stores 40 records in the
// two-shard stream (which Firehose delivers to fh-bkt) and three objects with metadata in
// bucket bkt, stops it gracefully, and returns the dir and the config file.
func seedDataDir(t *testing.T) (dir, config string) {
	t.Helper()
	dir = t.TempDir()
	config = filepath.Join(t.TempDir(), "localpipe.yaml")
	if err := os.WriteFile(config, []byte(seedConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	s := start(t, "--data-dir", dir, "--config", config)
	ctx := context.Background()
	kc, sc := kinesisClient(s.endpoint), s3Client(s.endpoint)
	for i := 0; i < 40; i++ {
		data := fmt.Sprintf("record-%d", i)
		if _, err := kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("events"), PartitionKey: aws.String(data), Data: []byte(data)}); err != nil {
			t.Fatal(err)
		}
	}
	if keys := s.flush(t, "fh"); len(keys) == 0 {
		t.Fatal("Firehose delivered nothing")
	}
	if _, err := sc.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bkt")}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := sc.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String(fmt.Sprintf("dir/obj-%d.json", i)),
			Body: strings.NewReader(fmt.Sprintf(`{"n":%d}`, i)), ContentType: aws.String("application/json"),
			Metadata: map[string]string{"origin": "seed"}}); err != nil {
			t.Fatal(err)
		}
	}
	// What the API Gateway control plane builds lives only in meta.db.
	for path, body := range map[string]string{
		"/restapis": `{"name": "salvage-me"}`,
		"/apikeys":  `{"name": "kept", "value": "` + salvagedKey + `", "enabled": true}`,
	} {
		resp, err := http.Post(s.endpoint+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 201 {
			t.Fatalf("POST %s: %d", path, resp.StatusCode)
		}
	}
	if code := s.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("exit %d\n%s", code, s.stderr)
	}
	return dir, config
}

const salvagedKey = "a-key-value-that-repair-salvages"

// dataFiles lists every file under dir but the metadata and the lock, with its size.
func dataFiles(t *testing.T, dir string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if rel == "LOCK" || strings.HasPrefix(rel, "meta.db") {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out[rel] = info.Size()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// refusedStart runs the server, which must exit by itself (within a minute), and returns how.
func refusedStart(t *testing.T, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, append([]string{"--listen", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), raceOptions)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("the server started instead of refusing:\n%s", errb.String())
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return cliResult{code, out.String(), errb.String()}
}

// wantRefusal checks that a start failed with a plain error that names repair, not a panic.
func wantRefusal(t *testing.T, r cliResult, dir string, problem string) {
	t.Helper()
	if r.code != 1 || strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, "panic:") && !strings.Contains(r.stderr, "is damaged") {
		t.Fatalf("exit %d, want 1 and no Go panic; stderr:\n%s", r.code, r.stderr)
	}
	for _, want := range []string{problem, "localpipe repair --data-dir " + dir} {
		if !strings.Contains(r.stderr, want) {
			t.Fatalf("stderr does not say %q:\n%s", want, r.stderr)
		}
	}
}

// TestMissingOrEmptyMetadataRefusesStart: with meta.db deleted or truncated to nothing, the
// server refuses to start, says why and what to run, and leaves every shard log and blob
// where it was (today's main deleted them all as unowned).
func TestMissingOrEmptyMetadataRefusesStart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the race-built binary several times")
	}
	for _, tc := range []struct {
		name, problem string
		damage        func(path string) error
	}{
		{"deleted", "is missing", os.Remove},
		{"truncated", "is empty", func(path string) error { return os.Truncate(path, 0) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, _ := seedDataDir(t)
			before := dataFiles(t, dir)
			if err := tc.damage(filepath.Join(dir, "meta.db")); err != nil {
				t.Fatal(err)
			}
			r := refusedStart(t, "--data-dir", dir)
			t.Log(r.stderr)
			wantRefusal(t, r, dir, tc.problem)
			if after := dataFiles(t, dir); !maps.Equal(before, after) {
				t.Fatalf("data files changed:\nbefore %v\nafter  %v", before, after)
			}
		})
	}
}

// pagesByType lists the pages of a bbolt file in use, by type (meta, freelist, branch, leaf).
func pagesByType(t *testing.T, path string) map[string][]int {
	t.Helper()
	db, err := bolt.Open(path, 0o644, &bolt.Options{ReadOnly: true, PreLoadFreelist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := map[string][]int{}
	db.View(func(tx *bolt.Tx) error {
		for id := 0; ; id++ {
			p, err := tx.Page(id)
			if err != nil {
				t.Fatal(err)
			}
			if p == nil {
				return nil
			}
			out[p.Type] = append(out[p.Type], id)
			id += p.OverflowCount
		}
	})
	return out
}

// bucketRootPage returns the page that holds the root of a top-level bucket of the bbolt file.
func bucketRootPage(t *testing.T, path, name string) int {
	t.Helper()
	db, err := bolt.Open(path, 0o644, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var root int
	db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket([]byte(name)); b != nil {
			root = int(b.Root())
		}
		return nil
	})
	if root == 0 {
		t.Fatalf("bucket %s has no page of its own", name)
	}
	return root
}

// scribble overwrites page id of the bbolt file at path, whose pages are pageSize long.
func scribble(t *testing.T, path string, pageSize, id int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	junk := make([]byte, pageSize)
	for i := range junk {
		junk[i] = byte(i*7 + 13)
	}
	if _, err := f.WriteAt(junk, int64(id*pageSize)); err != nil {
		t.Fatal(err)
	}
}

// TestDamagedMetadataRefusesStart overwrites each page of meta.db that is in use (both meta
// pages at once, the freelist, every branch and leaf) in turn: each start must fail with a
// plain error that points at `localpipe repair`, never a Go panic (today: bbolt's "Page
// expected to be…" and "invalid freelist page" assertions, exit 2 with a stack, sometimes
// only after ready), and leave the data files alone.
func TestDamagedMetadataRefusesStart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the race-built binary once per page")
	}
	dir, _ := seedDataDir(t)
	path := filepath.Join(dir, "meta.db")
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	before := dataFiles(t, dir)
	pages := pagesByType(t, path)
	cases := map[string][]int{"meta pages 0 and 1": {0, 1}}
	for _, typ := range []string{"freelist", "branch", "leaf"} {
		for _, id := range pages[typ] {
			cases[fmt.Sprintf("%s page %d", typ, id)] = []int{id}
		}
	}
	if len(pages["leaf"]) == 0 || len(pages["freelist"]) == 0 {
		t.Fatalf("no leaf or freelist page to damage: %v", pages)
	}
	for name, ids := range cases {
		t.Run(name, func(t *testing.T) {
			if err := os.WriteFile(path, good, 0o644); err != nil {
				t.Fatal(err)
			}
			for _, id := range ids {
				scribble(t, path, os.Getpagesize(), id)
			}
			wantRefusal(t, refusedStart(t, "--data-dir", dir), dir, "is damaged")
			if after := dataFiles(t, dir); !maps.Equal(before, after) {
				t.Fatalf("data files changed:\nbefore %v\nafter  %v", before, after)
			}
		})
	}
}

// TestTornMetaPageIsSurvived: one torn meta page (a power loss in mid-commit) is what bbolt
// survives by using the other one; start-up must not call that damage.
func TestTornMetaPageIsSurvived(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the race-built binary twice")
	}
	for _, id := range []int{0, 1} {
		t.Run(fmt.Sprint("page ", id), func(t *testing.T) {
			dir, _ := seedDataDir(t)
			scribble(t, filepath.Join(dir, "meta.db"), os.Getpagesize(), id)
			s := start(t, "--data-dir", dir)
			// Falling back to the older meta page rolls back the last commit, here the last
			// put; its blob must then be kept in lost+found.
			listed := len(listObjects(t, s3Client(s.endpoint), "bkt"))
			aside, _ := os.ReadDir(filepath.Join(dir, "lost+found", "s3", "blobs"))
			if listed < 2 || listed+len(aside) != 3 {
				t.Fatalf("%d objects listed and %d blobs in lost+found, want 3 in all", listed, len(aside))
			}
			if code := s.stop(t, syscall.SIGTERM); code != 0 {
				t.Fatalf("exit %d\n%s", code, s.stderr)
			}
			// The torn page was rewritten, so the next start checks clean as well.
			start(t, "--data-dir", dir)
		})
	}
}

// TestRepairThenStart loses meta.db, runs `localpipe repair`, and starts again: the stream's
// records (at their sequence numbers) and the objects (with their metadata) are readable
// through the SDK, new records get later sequence numbers, and the delivery stream --config
// recreates delivers the new records only, so nothing reaches S3 twice.
func TestRepairThenStart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the race-built binary several times")
	}
	t.Run("deleted", func(t *testing.T) {
		testRepairThenStart(t, "is missing", func(path string) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		})
	})
	t.Run("damaged", func(t *testing.T) {
		// The S3 metadata is broken; the delivery stream's configuration and checkpoints
		// can be salvaged, so it resumes where it stopped.
		testRepairThenStart(t, "is damaged", func(path string) {
			scribble(t, path, os.Getpagesize(), bucketRootPage(t, path, "s3"))
		})
	})
}

func testRepairThenStart(t *testing.T, problem string, damage func(path string)) {
	dir, config := seedDataDir(t)
	damage(filepath.Join(dir, "meta.db"))
	r := lp(t, "", "", "repair", "--data-dir", dir).want(t, 0, "")
	for _, want := range []string{problem, "events (2 shards", "objects in 2 buckets: bkt fh-bkt"} {
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("repair output does not say %q:\n%s", want, r.stdout)
		}
	}
	if problem == "is damaged" {
		if kept, _ := filepath.Glob(filepath.Join(dir, "meta.db.damaged-*")); len(kept) != 1 {
			t.Fatalf("damaged file not kept aside: %v", kept)
		}
		if !strings.Contains(r.stdout, "1 delivery streams [fh] with 2 checkpoints") {
			t.Fatalf("delivery stream not salvaged:\n%s", r.stdout)
		}
		if !strings.Contains(r.stdout, "1 REST APIs of the API Gateway control plane, and its API keys and usage plans") {
			t.Fatalf("the control plane's API and key not salvaged:\n%s", r.stdout)
		}
	}
	if r := lp(t, "", "", "repair", "--data-dir", dir).want(t, 0, ""); !strings.Contains(r.stdout, "healthy") {
		t.Fatalf("second repair: %s", r.stdout)
	}

	s := start(t, "--data-dir", dir, "--config", config)
	lp(t, "", "", "repair", "--data-dir", dir).want(t, 1, "in use by another localpipe")
	if problem == "is damaged" {
		for path, want := range map[string]string{"/restapis": `"name":"salvage-me"`, "/apikeys?includeValues=true": salvagedKey} {
			resp, err := http.Get(s.endpoint + path)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(b), want) {
				t.Errorf("GET %s after repair: %s, want %s in it", path, b, want)
			}
		}
	}
	ctx := context.Background()
	kc, sc := kinesisClient(s.endpoint), s3Client(s.endpoint)
	shards := []string{"shardId-000000000000", "shardId-000000000001"}
	last := map[string]string{}
	seen := map[string]bool{}
	for _, sh := range shards {
		for _, rec := range readShard(t, kc, "events", sh) {
			seen[string(rec.Data)] = true
			last[sh] = *rec.SequenceNumber
		}
	}
	for i := 0; i < 40; i++ {
		if !seen[fmt.Sprintf("record-%d", i)] {
			t.Fatalf("record-%d not readable after repair (read %d)", i, len(seen))
		}
	}
	for i := 0; i < 3; i++ {
		key := fmt.Sprintf("dir/obj-%d.json", i)
		head, err := sc.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		if *head.ContentType != "application/json" || head.Metadata["origin"] != "seed" {
			t.Fatalf("%s: content type %s, metadata %v", key, *head.ContentType, head.Metadata)
		}
		if got := string(getObject(t, sc, "bkt", key)); got != fmt.Sprintf(`{"n":%d}`, i) {
			t.Fatalf("%s = %q", key, got)
		}
	}

	for i := 0; i < 5; i++ {
		data := fmt.Sprintf("after-%d", i)
		out, err := kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("events"), PartitionKey: aws.String(data), Data: []byte(data)})
		if err != nil {
			t.Fatal(err)
		}
		if prev := last[*out.ShardId]; prev != "" && !seqLess(prev, *out.SequenceNumber) {
			t.Fatalf("sequence number %s after repair does not follow %s", *out.SequenceNumber, prev)
		}
	}
	s.flush(t, "fh")
	delivered := map[string]int{}
	for _, o := range listObjects(t, sc, "fh-bkt") {
		for _, line := range strings.Fields(string(getObject(t, sc, "fh-bkt", *o.Key))) {
			delivered[line]++
		}
	}
	for rec, n := range delivered {
		if n > 1 {
			t.Errorf("%s delivered %d times", rec, n)
		}
	}
	if len(delivered) != 45 {
		t.Errorf("%d distinct records delivered, want the 40 from before the repair and the 5 after", len(delivered))
	}
}

// TestUnownedDataGoesToLostFound: with healthy metadata, a stream directory and a blob that
// it does not know are moved to lost+found under their paths in the data dir (today's main
// deleted both), and the server starts.
func TestUnownedDataGoesToLostFound(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the race-built binary twice")
	}
	dir, _ := seedDataDir(t)
	stray := map[string]string{
		"kinesis/ghost-1700000000000000000/shard-000000000000/00000000000000000000.log": "frames",
		"s3/blobs/0123456789abcdef0123456789abcdef":                                     "bytes",
	}
	for rel, content := range stray {
		path := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := start(t, "--data-dir", dir)
	for rel, content := range stray {
		if _, err := os.Stat(filepath.Join(dir, rel)); err == nil {
			t.Errorf("%s left in place", rel)
		}
		if got, err := os.ReadFile(filepath.Join(dir, "lost+found", rel)); err != nil || string(got) != content {
			t.Errorf("lost+found/%s: %q %v", rel, got, err)
		}
	}
	if !strings.Contains(s.stderr.String(), "lost+found") {
		t.Errorf("the move was not logged:\n%s", s.stderr)
	}
	if got := len(listObjects(t, s3Client(s.endpoint), "bkt")); got != 3 {
		t.Errorf("%d objects, want 3", got)
	}
}
