//go:build !unix

package app

// lockDir is a no-op where flock is unavailable; bbolt's own file lock still prevents two
// processes from sharing the metadata.
func lockDir(dir string) (func(), error) { return func() {}, nil }
