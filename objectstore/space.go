package objectstore

import (
	"errors"
	"fmt"
	"strings"
	"syscall"

	bolt "go.etcd.io/bbolt"
)

// ErrNoSpace is the error of a write the data dir's disk has no room for, whether it failed
// writing or was refused beforehand because the disk is known to be full. Nothing of it is
// kept: its temp blob is removed and its metadata rolled back.
var ErrNoSpace = errors.New("objectstore: no space left on the data dir's disk")

// Space guards the disk the store writes to (internal/app's disk reserve implements it).
// Writable is asked before a write that takes space. Release is called when a delete failed
// for want of space, and reports whether it freed some, so the delete, which must work on a
// full disk or space could never be freed through the API, is worth one more try.
type Space interface {
	Writable() bool
	Release() bool
}

// admit refuses a write while the disk is known to be full.
func (s *Store) admit() error {
	if s.space != nil && !s.space.Writable() {
		return ErrNoSpace
	}
	return nil
}

// spaceErr turns a full disk's error into ErrNoSpace, keeping the cause for the log; other
// errors pass unchanged.
func (s *Store) spaceErr(err error) error {
	if err == nil || errors.Is(err, ErrNoSpace) || !isNoSpace(err) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrNoSpace, err)
}

// deleteUpdate runs a delete's metadata update. On a full disk even a delete can fail, when
// bbolt has no free page for the transaction and must grow its file; the guard then frees its
// reserve and the update runs once more, so fn must be safe to run twice.
func (s *Store) deleteUpdate(fn func(*bolt.Tx) error) error {
	err := s.db.Update(fn)
	if isNoSpace(err) && s.space != nil && s.space.Release() {
		err = s.db.Update(fn)
	}
	return s.spaceErr(err)
}

// isNoSpace reports whether err comes from a full disk. bbolt words some of its errors with
// %s rather than wrapping them, so the text is checked too.
func isNoSpace(err error) bool {
	return err != nil && (errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) ||
		strings.Contains(err.Error(), syscall.ENOSPC.Error()))
}
