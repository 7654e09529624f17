package stream

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TestRebuildFromLogs loses the metadata and rebuilds it from the shard logs: the stream
// comes back with its identity, shard count, hash ranges and every record at its position,
// with a retention period long enough that nothing it holds expires; a Firehose buffer log
// goes to lost+found.
func TestRebuildFromLogs(t *testing.T) {
	dir := t.TempDir()
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	e := openTest(t, dir, func(o *Options) { o.Now = clock.Now; o.SegmentMaxBytes = 1024 })
	if err := e.CreateStream(CreateInput{Name: "events", ShardCount: 3}); err != nil {
		t.Fatal(err)
	}
	if err := e.CreateStream(CreateInput{Name: "firehose:fh:123", ShardCount: 1, Hidden: true}); err != nil {
		t.Fatal(err)
	}
	// A retention the metadata alone knew: the rebuilt stream must still keep 72 h.
	if err := e.UpdateRetention("events", func(int) (int, error) { return 168, nil }); err != nil {
		t.Fatal(err)
	}
	putN(t, e, "firehose:fh:123", 2, "buffered")
	putN(t, e, "events", 50, "old")
	clock.Add(72 * time.Hour)
	putN(t, e, "events", 50, "new")
	before, _ := e.Describe("events")
	var records [][]Record
	for sh := range before.Shards {
		records = append(records, readAll(t, e, "events", sh))
	}
	if n := len(records[0]) + len(records[1]) + len(records[2]); n != 100 {
		t.Fatalf("%d records before", n)
	}
	closeTest(t, e)

	if err := os.Remove(filepath.Join(dir, "meta.db")); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(filepath.Join(dir, "meta.db"), 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Rebuild(Options{DB: db, Dir: filepath.Join(dir, "kinesis"), Now: clock.Now}, Salvage{})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Streams) != 1 || rep.Streams[0].Name != "events" || rep.Streams[0].Shards != 3 || len(rep.SetAside) != 1 {
		t.Fatalf("report %+v", rep)
	}
	if rep.Streams[0].RetentionHours < 73 {
		t.Fatalf("retention %dh would expire records 72h old", rep.Streams[0].RetentionHours)
	}

	e = openTest(t, dir, func(o *Options) { o.Now = clock.Now; o.SegmentMaxBytes = 1024 })
	e.EnforceRetention()
	after, err := e.Describe("events")
	if err != nil {
		t.Fatal(err)
	}
	if !after.Created.Equal(before.Created) || after.Status != StatusActive {
		t.Fatalf("rebuilt %+v, was %+v", after, before)
	}
	for i, sh := range after.Shards {
		b := before.Shards[i]
		if sh.StartKey.Cmp(b.StartKey) != 0 || sh.EndKey.Cmp(b.EndKey) != 0 || sh.ID != b.ID {
			t.Fatalf("shard %d rebuilt as %+v, was %+v", i, sh, b)
		}
		got := readAll(t, e, "events", i)
		if !slices.EqualFunc(got, records[i], func(a, b Record) bool {
			return a.Position == b.Position && string(a.Data) == string(b.Data) && a.Arrival.Equal(b.Arrival)
		}) {
			t.Fatalf("shard %d: %d records, was %d", i, len(got), len(records[i]))
		}
	}
	if _, err := e.Describe("firehose:fh:123"); err == nil {
		t.Fatal("a Firehose buffer log came back without its delivery stream")
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "lost+found", "kinesis")); len(entries) != 1 {
		t.Fatalf("lost+found/kinesis holds %v", entries)
	}
}

// TestParseStreamDir: only <valid stream name>-<positive unix ns> names a stream directory.
func TestParseStreamDir(t *testing.T) {
	if name, created, ok := parseStreamDir("my-stream.v2-1764659000000000000"); !ok || name != "my-stream.v2" || created != 1764659000000000000 {
		t.Fatalf("good name: %q %d %v", name, created, ok)
	}
	for _, bad := range []string{
		"", "-", "-123", "s-", "s", "s-0", "s-05", "s-+5", "s-12x", "s-99999999999999999999",
		"firehose:fh:1-2", "a b-1", "../x-1", strings.Repeat("s", 129) + "-1", "s-1" + deletingSuffix,
	} {
		if name, created, ok := parseStreamDir(bad); ok {
			t.Errorf("%q parsed as %q, %d", bad, name, created)
		}
	}
}

func FuzzParseStreamDir(f *testing.F) {
	for _, s := range []string{"events-1764659000000000000", "s--5", "a-b-c-1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, dir string) {
		name, created, ok := parseStreamDir(dir)
		if ok && (!validStreamName(name) || created <= 0 || name+"-"+strconv.FormatInt(created, 10) != dir) {
			t.Fatalf("%q parsed as %q, %d", dir, name, created)
		}
	})
}

// TestRebuildWithSalvage: metadata salvaged from a damaged file restores what the logs cannot
// prove (tags, mode, record-size limit, retention) for the stream it describes, and a hidden
// Firehose log whose delivery stream was saved comes back hidden instead of going aside.
func TestRebuildWithSalvage(t *testing.T) {
	dir := t.TempDir()
	e := openTest(t, dir, nil)
	if err := e.CreateStream(CreateInput{Name: "events", ShardCount: 2, Mode: ModeOnDemand, Tags: map[string]string{"team": "a"}, MaxRecordSizeKiB: 2048}); err != nil {
		t.Fatal(err)
	}
	if err := e.CreateStream(CreateInput{Name: "firehose:fh:123", ShardCount: 1, Hidden: true}); err != nil {
		t.Fatal(err)
	}
	putN(t, e, "firehose:fh:123", 2, "buffered")
	if err := e.UpdateRetention("events", func(int) (int, error) { return 48, nil }); err != nil {
		t.Fatal(err)
	}
	if err := e.MergeShards("events", 0, 1); err != nil {
		t.Fatal(err)
	}
	saved := map[string][]byte{}
	e.opts.DB.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRoot).Bucket(bucketStreams).ForEach(func(k, v []byte) error {
			saved[string(k)] = bytes.Clone(v)
			return nil
		})
	})
	// A record of another incarnation of a name must not be applied.
	saved["other"] = []byte(`{"name":"other","created":1,"tags":{"x":"y"}}`)
	closeTest(t, e)
	if err := os.Remove(filepath.Join(dir, "meta.db")); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(filepath.Join(dir, "meta.db"), 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Rebuild(Options{DB: db, Dir: filepath.Join(dir, "kinesis")},
		Salvage{Streams: saved, KeepHidden: func(name string) bool { return name == "firehose:fh:123" }})
	db.Close()
	if err != nil || len(rep.Streams) != 2 || len(rep.SetAside) != 0 {
		t.Fatalf("report %+v %v", rep, err)
	}
	e = openTest(t, dir, nil)
	info, err := e.Describe("events")
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode != ModeOnDemand || info.Tags["team"] != "a" || info.MaxRecordSizeKiB != 2048 || info.RetentionHours != 48 {
		t.Fatalf("salvaged fields not restored: %+v", info)
	}
	if len(info.Shards) != 3 || !info.Shards[0].Closed || !slices.Equal(info.Shards[2].Parents, []int{0, 1}) {
		t.Fatalf("salvaged shard map not restored: %+v", info.Shards)
	}
	hidden, err := e.Describe("firehose:fh:123")
	if err != nil || !hidden.Hidden {
		t.Fatalf("hidden log: %+v %v", hidden, err)
	}
	if got := readAll(t, e, "firehose:fh:123", 0); len(got) != 2 {
		t.Fatalf("%d buffered records", len(got))
	}
}

// TestRebuildKeepsReshardedMap: without meta.db, repair rebuilds a resharded stream's map
// (ranges, lineage, closed shards and their ends) from the files each reshard leaves in the
// shard directories, and the closed shards stay sealed.
func TestRebuildKeepsReshardedMap(t *testing.T) {
	dir := t.TempDir()
	e := openTest(t, dir, nil)
	if err := e.CreateStream(CreateInput{Name: "events", ShardCount: 2}); err != nil {
		t.Fatal(err)
	}
	putN(t, e, "events", 10, "a")
	if _, err := e.UpdateShardCount("events", 3); err != nil {
		t.Fatal(err)
	}
	putN(t, e, "events", 10, "b")
	open := openShardsOf(describe(t, e, "events"))
	sortByStart(open)
	if err := e.MergeShards("events", open[0].Index, open[1].Index); err != nil {
		t.Fatal(err)
	}
	before := describe(t, e, "events")
	closeTest(t, e)

	if err := os.Remove(filepath.Join(dir, "meta.db")); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(filepath.Join(dir, "meta.db"), 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Rebuild(Options{DB: db, Dir: filepath.Join(dir, "kinesis")}, Salvage{})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	e = openTest(t, dir, nil)
	after := describe(t, e, "events")
	if fmt.Sprint(after.Shards) != fmt.Sprint(before.Shards) {
		t.Fatalf("shard map\n%v\nrebuilt as\n%v", before.Shards, after.Shards)
	}
	if _, _, err := e.shards(t, "events")[0].append([]string{"k"}, [][]byte{nil}); !errors.Is(err, errSealed) {
		t.Fatalf("append to a closed shard after repair: %v", err)
	}
	n := 0
	for sh := range after.Shards {
		n += len(readAll(t, e, "events", sh))
	}
	if n != 20 {
		t.Fatalf("%d records after repair", n)
	}
}

// lineageFiles serves shardsFromRecords from a map of "index/name" to contents.
func lineageFiles(files map[string]string) func(int, string) ([]byte, error) {
	return func(i int, name string) ([]byte, error) {
		if b, ok := files[fmt.Sprintf("%d/%s", i, name)]; ok {
			return []byte(b), nil
		}
		return nil, os.ErrNotExist
	}
}

func TestShardsFromRecordsBadInputs(t *testing.T) {
	const child = `{"start":"0","end":"10","parents":[0],"created":5}`
	for _, tc := range []struct {
		name  string
		files map[string]string
	}{
		{"lineage not JSON", map[string]string{"1/lineage.json": `{`}},
		{"seal not JSON", map[string]string{"0/sealed.json": `[`}},
		{"seal without a time", map[string]string{"0/sealed.json": `{"tip":3}`}},
		{"range not a number", map[string]string{"1/lineage.json": `{"start":"x","end":"10","parents":[0]}`}},
		{"range beyond 2^128", map[string]string{"1/lineage.json": `{"start":"0","end":"340282366920938463463374607431768211456","parents":[0]}`}},
		{"range reversed", map[string]string{"1/lineage.json": `{"start":"10","end":"0","parents":[0]}`}},
		{"parent younger", map[string]string{"1/lineage.json": `{"start":"0","end":"10","parents":[1]}`}},
		{"parent negative", map[string]string{"1/lineage.json": `{"start":"0","end":"10","parents":[-1]}`}},
		{"first shard after a child", map[string]string{"0/lineage.json": child}},
		{"no first shard", map[string]string{"0/lineage.json": child, "1/lineage.json": child}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if out, ok := shardsFromRecords(3, 1, lineageFiles(tc.files)); ok {
				t.Fatalf("accepted: %+v", out)
			}
		})
	}
	out, ok := shardsFromRecords(3, 1, lineageFiles(map[string]string{"0/sealed.json": `{"tip":3,"closedAt":9}`, "1/lineage.json": child, "2/lineage.json": child}))
	if !ok || out[0].ClosedAt != 9 || out[0].Tip != 3 || out[0].End != MaxHashKey.String() || out[1].Created != 5 {
		t.Fatalf("valid records: %+v %v", out, ok)
	}
}

// FuzzShardsFromRecords: whatever the files hold, rebuilding never panics, and a map it
// accepts is valid.
func FuzzShardsFromRecords(f *testing.F) {
	f.Add(`{"start":"0","end":"10","parents":[0],"created":5}`, `{"tip":3,"closedAt":9}`)
	f.Add(`{"start":"10","end":"0","parents":[7]}`, `{}`)
	f.Add(`null`, `null`)
	f.Fuzz(func(t *testing.T, lineage, seal string) {
		files := map[string]string{"0/sealed.json": seal, "1/lineage.json": lineage, "2/lineage.json": lineage, "2/sealed.json": seal}
		if out, ok := shardsFromRecords(3, 1, lineageFiles(files)); ok && !validShardMap(out) {
			t.Fatalf("accepted an invalid map: %+v", out)
		}
	})
}
