//go:build !linux

package app

import (
	"errors"
	"os"
)

// allocate has no portable form; create writes zeros instead.
func allocate(*os.File, int64) error { return errors.ErrUnsupported }
