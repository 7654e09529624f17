package gateway

import "crypto/rand"

// IDAlphabet is what API Gateway draws its identifiers from: rest API ids ("wd4zclrobb") and
// resource ids ("6sxz2j", "svzr2028x8") are lower-case letters and digits.
const IDAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// NewID returns a 10-character identifier of lower-case letters and digits, the shape of an
// API Gateway rest API id and of a root resource id.
func NewID() string { return newID(10) }

// NewResourceID returns the 6-character id API Gateway gives a non-root resource.
func NewResourceID() string { return newID(6) }

// newID draws n characters uniformly from IDAlphabet. Bytes at or above the largest multiple
// of 36 are thrown away so that no character is more likely than another.
func newID(n int) string {
	const limit = 256 - 256%len(IDAlphabet)
	out := make([]byte, 0, n)
	var buf [32]byte
	for len(out) < n {
		// crypto/rand.Read never returns an error (Go 1.24+); it panics instead.
		_, _ = rand.Read(buf[:])
		for _, b := range buf {
			if int(b) >= limit {
				continue
			}
			out = append(out, IDAlphabet[int(b)%len(IDAlphabet)])
			if len(out) == n {
				break
			}
		}
	}
	return string(out)
}

// ValidID accepts what can be an API id: API Gateway's are 10 lower-case letters and digits,
// and a config may choose its own, so any run of letters, digits, '-' and '_' goes.
func ValidID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}
