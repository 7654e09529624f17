package app

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/localpipe/localpipe/firehose"
	"github.com/localpipe/localpipe/objectstore"
	"github.com/localpipe/localpipe/stream"
)

// RepairReport is what Repair did.
type RepairReport struct {
	// Healthy is set when the metadata opened and checked clean, so nothing was done.
	Healthy bool
	// Problem is what was wrong with the metadata; KeptAs is where the old file went.
	Problem, KeptAs string
	Streams         stream.RebuildReport
	Objects         objectstore.RebuildReport
	// Firehose is the delivery stream configuration and checkpoints salvaged from a damaged
	// file; Unsalvaged says why reading it stopped, if it did.
	Firehose   firehose.SalvageReport
	Unsalvaged []string
	// GatewayAPIs is how many REST APIs of the control plane were salvaged;
	// GatewayAccount is set when its API keys and usage plans were.
	GatewayAPIs    int
	GatewayAccount bool
}

// salvage reads what the damaged file (rep.KeptAs) still yields: stream records to fill in
// what the logs cannot prove, delivery stream configuration and checkpoints (written into
// db at once), and the gateway's stable ids. Any of it may be missing; none of it is needed.
func salvage(rep *RepairReport, db *bolt.DB, logger *slog.Logger) (saved stream.Salvage, err error) {
	var old *bolt.DB
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("%v", r)
			}
		}()
		old, err = bolt.Open(rep.KeptAs, 0o444, &bolt.Options{ReadOnly: true, Timeout: 2 * time.Second})
	}()
	if err != nil {
		rep.Unsalvaged = append(rep.Unsalvaged, fmt.Sprintf("the damaged file does not open: %v", err))
		return saved, nil
	}
	defer closeQuietly(old)
	if saved.Streams, err = stream.SalvageStreams(old); err != nil {
		rep.Unsalvaged = append(rep.Unsalvaged, err.Error())
	}
	if rep.Firehose, err = firehose.Salvage(old, db); err != nil {
		return saved, err
	}
	if rep.Firehose.Unreadable != nil {
		rep.Unsalvaged = append(rep.Unsalvaged, rep.Firehose.Unreadable.Error())
	}
	keep := map[string]bool{}
	for _, l := range rep.Firehose.Logs {
		keep[l] = true
	}
	saved.KeepHidden = func(name string) bool { return keep[name] }
	// The gateway's buckets are copied whole: its stable ids, and what the control plane
	// built (APIs, keys, usage plans), which exists nowhere else. Each is read on its own, so
	// a damaged one does not cost the others.
	for _, name := range [][]byte{gatewayIDsBucket, gatewayAPIsBucket, gatewayAccountBucket} {
		kv, rerr := readBucket(old, name)
		if rerr != nil {
			rep.Unsalvaged = append(rep.Unsalvaged, rerr.Error())
			continue
		}
		if len(kv) == 0 {
			continue
		}
		err = db.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists(name)
			if err != nil {
				return err
			}
			for k, v := range kv {
				if err := b.Put([]byte(k), v); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return saved, err
		}
		switch {
		case bytes.Equal(name, gatewayAPIsBucket):
			rep.GatewayAPIs = len(kv)
		case bytes.Equal(name, gatewayAccountBucket):
			rep.GatewayAccount = true
		}
	}
	return saved, nil
}

// readBucket reads every key and value of a top-level bucket of old, recovering from the
// panic a damaged page can cause.
func readBucket(old *bolt.DB, name []byte) (out map[string][]byte, err error) {
	out = map[string][]byte{}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("reading %s: %v", name, r)
		}
	}()
	err = old.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(name)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			if v != nil {
				out[string(k)] = bytes.Clone(v)
			}
			return nil
		})
	})
	return out, err
}

// Repair rebuilds the metadata of the data dir from the data, when the metadata is missing,
// empty or damaged (a healthy file is left alone). The old file is kept as
// meta.db.damaged-<UTC time>. Streams come back from their shard logs, buckets and objects
// from their blobs' labels; what the data cannot prove goes to lost+found (see
// stream.Rebuild and objectstore.Rebuild). From a damaged file, whatever still reads is
// salvaged: stream tags and settings, delivery streams with their checkpoints (so they
// resume where they stopped), the gateway's ids, and the REST APIs, API keys and usage
// plans its control plane created. What is lost with the file is
// configuration, not data: --config recreates what it declares at the next start. A
// Kinesis-sourced delivery stream created anew starts at the stream's tip as of its
// creation (as on AWS), so nothing is delivered twice; records that arrived after its last
// delivery and before the repair stay in the stream, undelivered.
//
// The new file is built under another name and renamed into place last, so a repair that
// dies half-way leaves no meta.db and can simply be run again.
func Repair(dataDir string, logger *slog.Logger) (*RepairReport, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	dir, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, err
	}
	if st, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("data dir %s is not a directory", dir)
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	defer unlock()

	rep := &RepairReport{}
	path := filepath.Join(dir, metaFile)
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		rep.Problem = "is missing"
	case err != nil:
		return nil, err
	case st.Size() == 0:
		rep.Problem = "is empty"
	default:
		db, _, err := openMetadata(dir, logger) // never new: the file exists
		var me *MetadataError
		switch {
		case err == nil:
			db.Close()
			rep.Healthy = true
			return rep, nil
		case errors.As(err, &me):
			rep.Problem = me.Problem
		default:
			return nil, err
		}
	}
	if rep.Problem != "is missing" {
		rep.KeptAs = path + ".damaged-" + time.Now().UTC().Format("20060102T150405Z")
		if err := os.Rename(path, rep.KeptAs); err != nil {
			return nil, err
		}
	}

	building := path + ".rebuilding"
	os.Remove(building) // left by a repair that died
	db, err := bolt.Open(building, 0o644, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, err
	}
	var saved stream.Salvage
	if rep.KeptAs != "" {
		saved, err = salvage(rep, db, logger)
		if err != nil {
			db.Close()
			return rep, err
		}
	}
	rep.Streams, err = stream.Rebuild(stream.Options{
		DB: db, Dir: filepath.Join(dir, "kinesis"), LostFound: filepath.Join(dir, "lost+found", "kinesis"), Logger: logger,
	}, saved)
	if err == nil {
		rep.Objects, err = objectstore.Rebuild(objectstore.Options{
			DB: db, Dir: filepath.Join(dir, "s3"), LostFound: filepath.Join(dir, "lost+found", "s3"), Logger: logger,
		})
	}
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return rep, err
	}
	if err := os.Rename(building, path); err != nil {
		return rep, err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return rep, nil
}
