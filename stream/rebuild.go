package stream

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// MaxRetentionHours is Kinesis's longest retention period.
const MaxRetentionHours = 8760

// RebuildReport says what Rebuild restored and what it set aside.
type RebuildReport struct {
	Streams  []RebuiltStream
	SetAside []string // directories moved to lost+found, with why
}

// Salvage is what could still be read from a damaged metadata file.
type Salvage struct {
	// Streams holds stream metadata records (the values of the kinesis/streams bucket) by
	// stream name.
	Streams map[string][]byte
	// KeepHidden reports whether the hidden log of that name belongs to a delivery stream
	// whose configuration was saved, and so is restored rather than set aside.
	KeepHidden func(name string) bool
}

// RebuiltStream is one stream Rebuild restored.
type RebuiltStream struct {
	Name           string
	Shards         int
	RetentionHours int
}

// Rebuild writes stream metadata into opts.DB, which holds none, from the shard logs under
// opts.Dir. What the logs prove: a stream's name and creation time (its directory is
// <name>-<created unix ns>), its shard count (shard-<index> directories), and so its hash
// ranges, because localpipe splits the hash key space evenly at creation and every reshard
// leaves lineage and seal files in the shards it opens and closes (reshard.go); the
// records and their sequence numbers are the logs themselves. What they cannot: tags,
// enhanced-monitoring settings, the mode (PROVISIONED is assumed), the maximum record size
// (the default is used) and the retention period, which is set to the default or, when the
// oldest record is older than that, long enough to keep it (up to MaxRetentionHours), so
// that the first retention pass after a repair deletes nothing the repair found.
// Firehose's DirectPut buffers (hidden logs) are moved to lost+found, since the delivery
// stream that owned one is configuration the logs do not hold, unless salvage says its
// delivery stream was saved. Metadata salvaged from a damaged file fills in what the logs
// cannot prove, for the streams whose identity it matches.
func Rebuild(opts Options, salvage Salvage) (RebuildReport, error) {
	var rep RebuildReport
	if opts.DB == nil || opts.Dir == "" {
		return rep, errors.New("stream: Options.DB and Options.Dir are required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	e := &Engine{opts: opts, logger: opts.Logger}
	entries, err := os.ReadDir(opts.Dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return rep, err
	}
	setAside := func(name, why string) error {
		dst, err := moveAside(filepath.Join(opts.Dir, name), e.lostFoundDir())
		if err != nil {
			return err
		}
		rep.SetAside = append(rep.SetAside, fmt.Sprintf("%s: %s", dst, why))
		return nil
	}
	newest := map[string]streamMeta{}
	var older []streamMeta
	for _, de := range entries {
		name := de.Name()
		if strings.HasSuffix(name, deletingSuffix) {
			os.RemoveAll(filepath.Join(opts.Dir, name)) // a deletion already decided
			continue
		}
		m, why := e.provenMeta(name, de.IsDir(), salvage)
		if why != "" {
			if err := setAside(name, why); err != nil {
				return rep, err
			}
			continue
		}
		if prev, ok := newest[m.Name]; ok {
			if prev.Created > m.Created {
				prev, m = m, prev
			}
			older = append(older, prev)
		}
		newest[m.Name] = m
	}
	for _, m := range older {
		if err := setAside(filepath.Base(e.streamDir(m)), "an older stream of the same name"); err != nil {
			return rep, err
		}
	}
	names := make([]string, 0, len(newest))
	for n := range newest {
		names = append(names, n)
	}
	sort.Strings(names)
	err = opts.DB.Update(func(tx *bolt.Tx) error {
		root, err := tx.CreateBucketIfNotExists(bucketRoot)
		if err != nil {
			return err
		}
		b, err := root.CreateBucketIfNotExists(bucketStreams)
		if err != nil {
			return err
		}
		for _, n := range names {
			v, err := json.Marshal(newest[n])
			if err != nil {
				return err
			}
			if err := b.Put([]byte(n), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	for _, n := range names {
		m := newest[n]
		rep.Streams = append(rep.Streams, RebuiltStream{Name: n, Shards: len(m.Shards), RetentionHours: m.RetentionHours})
	}
	return rep, nil
}

// provenMeta derives what the directory name of a stream and its shard directories prove,
// or says why they prove nothing.
func (e *Engine) provenMeta(dirName string, isDir bool, salvage Salvage) (streamMeta, string) {
	var m streamMeta
	if !isDir {
		return m, "not a stream directory"
	}
	hidden := strings.HasPrefix(dirName, "firehose:")
	name, created, ok := parseStreamDir(dirName)
	if hidden {
		i := strings.LastIndexByte(dirName, '-')
		name, created, ok = dirName[:max(i, 0)], 0, i > 0
		if ok {
			created, _ = strconv.ParseInt(dirName[i+1:], 10, 64)
		}
		if !ok || created <= 0 || salvage.KeepHidden == nil || !salvage.KeepHidden(name) {
			return m, "a Firehose DirectPut buffer, whose delivery stream's configuration is not in the data"
		}
	}
	if !ok {
		return m, "not named <stream name>-<creation time>"
	}
	shards, err := os.ReadDir(filepath.Join(e.opts.Dir, dirName))
	if err != nil {
		return m, err.Error()
	}
	n := 0
	for _, sh := range shards {
		var idx int
		if _, err := fmt.Sscanf(sh.Name(), "shard-%012d", &idx); err == nil && sh.IsDir() && idx >= 0 && idx < 1<<16 {
			n = max(n, idx+1)
		}
	}
	if n == 0 {
		return m, "holds no shard directories"
	}
	m = streamMeta{
		Name: name, Mode: ModeProvisioned, Created: created, ActiveAt: created,
		RetentionHours: DefaultRetentionHours, MaxRecordSizeKiB: DefaultMaxRecordSizeKiB, EncryptionType: "NONE",
		Hidden: hidden,
	}
	if shards, ok := provenShards(filepath.Join(e.opts.Dir, dirName), n, created); ok {
		m.Shards = shards
	} else {
		for i, r := range SplitHashRange(n) {
			m.Shards = append(m.Shards, shardMeta{Index: i, Start: r[0].String(), End: r[1].String(), Created: created})
		}
	}
	var old streamMeta
	if raw := salvage.Streams[name]; raw != nil && json.Unmarshal(raw, &old) == nil && old.Name == name && old.Created == created && len(old.Shards) == n {
		// The salvaged record describes this very stream: keep what only it knew, the
		// shard map too (a resharded stream's ranges and lineage cannot be derived from
		// its directories); retention is only ever lengthened below.
		m.Mode, m.Tags, m.ShardLevelMetrics, m.Hidden = old.Mode, old.Tags, old.ShardLevelMetrics, old.Hidden || hidden
		if validShardMap(old.Shards) {
			m.Shards = old.Shards
		}
		if old.Mode != ModeProvisioned && old.Mode != ModeOnDemand {
			m.Mode = ModeProvisioned
		}
		if old.MaxRecordSizeKiB > 0 {
			m.MaxRecordSizeKiB = old.MaxRecordSizeKiB
		}
		if old.RetentionHours > 0 {
			m.RetentionHours = min(old.RetentionHours, MaxRetentionHours)
		}
	}
	if oldest, ok := e.oldestArrival(e.streamDir(m), n); ok {
		age := e.opts.Now().Sub(oldest)
		if h := int(math.Ceil(age.Hours())) + 1; h > m.RetentionHours {
			m.RetentionHours = min(h, MaxRetentionHours)
		}
	}
	return m, ""
}

// parseStreamDir splits a stream directory's name, <name>-<creation time in unix ns>.
func parseStreamDir(dirName string) (name string, created int64, ok bool) {
	i := strings.LastIndexByte(dirName, '-')
	if i <= 0 {
		return "", 0, false
	}
	digits := dirName[i+1:]
	if digits == "" || strings.TrimLeft(digits, "0123456789") != "" || digits[0] == '0' {
		return "", 0, false
	}
	created, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || created <= 0 || !validStreamName(dirName[:i]) {
		return "", 0, false
	}
	return dirName[:i], created, true
}

// oldestArrival is the earliest arrival time of the first record of any shard's oldest
// segment; where that record cannot be read, the segment file's modification time stands in.
func (e *Engine) oldestArrival(dir string, shards int) (time.Time, bool) {
	var oldest time.Time
	for i := 0; i < shards; i++ {
		logs, _ := filepath.Glob(filepath.Join(shardDir(dir, i), "*.log"))
		sort.Strings(logs) // names are zero-padded first positions
		if len(logs) == 0 {
			continue
		}
		f, err := os.Open(logs[0])
		if err != nil {
			continue
		}
		t := time.Time{}
		if fr, _, err := readFrameAt(f, 0); err == nil {
			t = time.UnixMilli(fr.arrivalM)
		} else if st, err := f.Stat(); err == nil && st.Size() > 0 {
			t = st.ModTime()
		}
		f.Close()
		if !t.IsZero() && (oldest.IsZero() || t.Before(oldest)) {
			oldest = t
		}
	}
	return oldest, !oldest.IsZero()
}

// validStreamName applies Kinesis's rule: 1-128 of [a-zA-Z0-9_.-].
func validStreamName(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// SalvageStreams reads the stream metadata records a damaged metadata file (opened
// read-only) still yields, for Salvage.Streams. bbolt may panic on a damaged page; a panic
// ends the reading and keeps what was read, and is returned as the error.
func SalvageStreams(old *bolt.DB) (out map[string][]byte, err error) {
	out = map[string][]byte{}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("reading kinesis/streams: %v", r)
		}
	}()
	err = old.View(func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketRoot)
		if root == nil || root.Bucket(bucketStreams) == nil {
			return nil
		}
		return root.Bucket(bucketStreams).ForEach(func(k, v []byte) error {
			if v != nil {
				out[string(k)] = slices.Clone(v)
			}
			return nil
		})
	})
	return out, err
}

// validShardMap reports whether shards, salvaged from damaged metadata or rebuilt from the
// files of a reshard, can be trusted: each at its index, with an ordered range and parents
// older than itself.
func validShardMap(shards []shardMeta) bool {
	for i, sh := range shards {
		if sh.Index != i {
			return false
		}
		start, err := ParseHashKey(sh.Start)
		if err != nil {
			return false
		}
		end, err := ParseHashKey(sh.End)
		if err != nil || start.Cmp(end) > 0 {
			return false
		}
		for _, p := range sh.Parents {
			if p < 0 || p >= i {
				return false
			}
		}
	}
	return true
}
