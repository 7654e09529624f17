//go:build !unix

package app_test

// cpuTime is 0 where the process's CPU time is not at hand; benchmarks then report none.
func cpuTime() int64 { return 0 }
