package awsjson

import (
	"errors"
	"net/http"
	"strings"
	"syscall"
)

// Space guards the disk a service writes to (internal/app's disk reserve implements it).
// Writable is asked before a write that takes space. Release is called when a delete failed
// for want of space, and reports whether it freed some, so the delete (which must work on a
// full disk, or space could never be freed through the API) is worth one more try.
type Space interface {
	Writable() bool
	Release() bool
}

// IsNoSpace reports whether err comes from a full disk. bbolt words some of its errors with
// %s rather than wrapping them, so the text is checked too.
func IsNoSpace(err error) bool {
	return err != nil && (errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) ||
		strings.Contains(err.Error(), syscall.ENOSPC.Error()))
}

// NoSpaceError answers a write the disk has no room for, with the service's 503 type:
// Firehose models ServiceUnavailableException; Kinesis models none, and gets ServiceUnavailable,
// the code AWS's common errors give a temporary failure of the server. A 503 is retried with
// backoff by every SDK, unlike the 500 InternalFailure an unexpected error gets: the request
// was fine and will succeed once space is freed. The message names no path, only what to do.
func NoSpaceError(typ string) *Error {
	return &Error{Status: http.StatusServiceUnavailable, Type: typ,
		Message: "localpipe's data directory is out of disk space: free some (delete streams, delivery streams or objects, or make room on the disk) and retry"}
}

// Unguarded is the Space of a service given none: every write may try, and nothing is freed.
var Unguarded Space = unguarded{}

type unguarded struct{}

func (unguarded) Writable() bool { return true }
func (unguarded) Release() bool  { return false }
