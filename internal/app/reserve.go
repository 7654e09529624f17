package app

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
)

// reserveSize is the space the disk reserve holds back. A delete's metadata commit needs a
// few bbolt pages; 4 MiB is room for many, and little to hold on a disk that is not full.
const reserveSize = 4 << 20

// reserveFile is the reserve's name in the data dir.
const reserveFile = "disk-reserve"

// diskReserve keeps a file of reserveSize bytes in the data dir so that a full disk can still
// commit deletes, without which space could not be freed through the API: at 0 bytes free
// bbolt cannot even grow its file to record a delete. A write that finds the disk full just
// fails (503, retryable) and leaves the reserve alone; a delete that does is retried after
// the reserve is deleted. From then on writes are refused, so that they cannot take the room
// deletes need, until the disk has twice the reserve free again (deletes freed it, or the
// user did): then the reserve is re-created and writes are let through. It implements
// objectstore.Space and awsjson.Space.
type diskReserve struct {
	path   string
	dir    string
	logger *slog.Logger
	held   atomic.Bool
	mu     sync.Mutex // serializes creating and deleting the file
}

// openReserve creates the reserve, or finds it from an earlier run. A disk too full to hold
// it is not an error: the data dir opens with writes refused until space is freed.
func openReserve(dir string, logger *slog.Logger) *diskReserve {
	r := &diskReserve{path: filepath.Join(dir, reserveFile), dir: dir, logger: logger}
	if fi, err := os.Stat(r.path); err == nil && fi.Size() == reserveSize {
		r.held.Store(true)
		return r
	}
	if err := r.create(); err != nil {
		logger.Warn("disk full: cannot set aside the disk reserve; writes are refused until space is freed", "dir", dir, "err", err)
	}
	return r
}

// create writes the reserve to a temp name and renames it into place, so a crash leaves
// either a whole reserve or a temp file that the next create replaces. The blocks are
// allocated (fallocate), or where the filesystem cannot, zeros written: a file truncated to
// size would be a hole that reserves nothing.
func (r *diskReserve) create() error {
	tmp := r.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	// No fsync: the filesystem counts the blocks as used from the allocation on, which is all
	// the reserve is for, and one lost in a power cut is simply made again.
	if err = allocate(f, reserveSize); err != nil && !errors.Is(err, syscall.ENOSPC) {
		_, err = io.CopyN(f, zeroReader{}, reserveSize)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, r.path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	r.held.Store(true)
	return nil
}

// Writable reports whether a write that takes space may go ahead: while the reserve is held,
// yes; once it is spent, only when the disk has room for it again and for as much besides,
// in which case it is re-created first.
func (r *diskReserve) Writable() bool {
	if r.held.Load() {
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.held.Load() {
		return true
	}
	if free, err := diskFree(r.dir); err != nil || free < 2*reserveSize {
		return false
	}
	if err := r.create(); err != nil {
		return false
	}
	r.logger.Info("disk space is back: the disk reserve is set aside again and writes are accepted", "dir", r.dir)
	return true
}

// Release is called when a delete failed for want of space. It deletes the reserve, if it is
// held, and reports whether it did, so the delete is worth a retry.
func (r *diskReserve) Release() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.held.Load() {
		return false
	}
	if err := os.Remove(r.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		r.logger.Error("disk full: cannot free the disk reserve", "path", r.path, "err", err)
		return false
	}
	r.held.Store(false)
	r.logger.Warn("disk full: freed the disk reserve so that deletes can commit; writes are refused (503) until space is freed",
		"dir", r.dir, "reserveBytes", reserveSize)
	return true
}

// diskFree is freeBytes; tests replace it to play a full disk.
var diskFree = freeBytes

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
