//go:build unix

package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// lockDir takes an exclusive, non-blocking lock on dir/LOCK so a second localpipe on the same
// data dir fails at once instead of waiting on bbolt's lock or corrupting shard logs. The
// kernel drops the lock when the process dies, so a killed server never leaves it stale.
func lockDir(dir string) (func(), error) {
	path := filepath.Join(dir, "LOCK")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			msg := fmt.Sprintf("data dir %s is in use by another localpipe", dir)
			if h := strings.TrimSpace(string(holder)); h != "" {
				msg += " (" + h + ")"
			}
			return nil, errors.New(msg + "; stop it, or start this one with another --data-dir or --ephemeral")
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	f.Truncate(0)
	fmt.Fprintf(f, "pid %d\n", os.Getpid())
	return func() { f.Close() }, nil
}
