//go:build linux || darwin

package objectstore

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

func setLabel(f *os.File, v []byte) error {
	return unix.Fsetxattr(int(f.Fd()), labelAttr, v, 0)
}

func getLabel(path string) ([]byte, error) {
	buf := make([]byte, 4096)
	for {
		n, err := unix.Getxattr(path, labelAttr, buf)
		switch {
		case errors.Is(err, unix.ERANGE) && len(buf) < 1<<20:
			buf = make([]byte, 4*len(buf))
			continue
		case err != nil:
			// No attribute, or none possible here: either way the blob cannot be placed.
			return nil, errors.Join(errNoLabel, err)
		}
		return buf[:n], nil
	}
}
