//go:build linux || darwin || freebsd

package app

import "syscall"

// freeBytes is the space an unprivileged process may still use on dir's filesystem.
func freeBytes(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}
