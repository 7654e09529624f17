package app

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

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
}

// Repair rebuilds the metadata of the data dir from the data, when the metadata is missing,
// empty or damaged (a healthy file is left alone). The old file is kept as
// meta.db.damaged-<UTC time>. Streams come back from their shard logs, buckets and objects
// from their blobs' labels; what the data cannot prove goes to lost+found (see
// stream.Rebuild and objectstore.Rebuild). Delivery streams, their checkpoints and REST APIs
// are configuration, not data: they are not restored, and --config recreates what it
// declares at the next start. A Kinesis-sourced delivery stream created then starts at the
// stream's tip as of its creation (as on AWS), so nothing is delivered twice; records that
// arrived after its last delivery and before the repair stay in the stream, undelivered.
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
		db, err := openMetadata(dir, logger)
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
	rep.Streams, err = stream.Rebuild(stream.Options{
		DB: db, Dir: filepath.Join(dir, "kinesis"), LostFound: filepath.Join(dir, "lost+found", "kinesis"), Logger: logger,
	})
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
