//go:build unix

package functions

import (
	"os/exec"
	"syscall"
)

// killGroup makes the timeout kill the command's children too (a shell script's sleep, a
// `go run`'s binary), which would otherwise outlive it and hold its stdout open.
func killGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
