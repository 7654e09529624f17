//go:build unix

package app

import "syscall"

// defaultMaxConns leaves most file descriptors to connections but not all: a connection
// uploading to S3 holds a temp file as well as its socket, and the engines keep segment
// files and the metadata database open.
func defaultMaxConns() int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 1024
	}
	return int(min(max((int64(min(uint64(lim.Cur), 1<<20))-128)/3, 16), 4096))
}
