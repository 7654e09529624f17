package awsjson

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// AppendString appends s as a JSON string the way AWS's Java front end writes it: only
// quotes, backslashes and control characters are escaped; <, >, & and other non-ASCII text
// stay as they are (encoding/json would escape them).
func AppendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, s[start:i]...)
				dst = append(dst, "\ufffd"...)
				i += size
				start = i
				continue
			}
			i += size
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// AppendTimestamp appends t as AWS writes a timestamp in JSON: epoch seconds with
// millisecond precision, formatted as Java's Double.toString formats the number
// (1.684013726123E9, or 1.684013726E9 on a whole second).
func AppendTimestamp(dst []byte, t time.Time) []byte {
	return AppendJavaDouble(dst, float64(t.UnixMilli())/1000)
}

// Timestamp is a time that marshals the way AppendTimestamp writes it.
type Timestamp time.Time

func (t Timestamp) MarshalJSON() ([]byte, error) { return AppendTimestamp(nil, time.Time(t)), nil }

// AppendJavaDouble appends f as Java's Double.toString writes it: plain decimal notation for
// magnitudes in [10^-3, 10^7), computerized scientific notation otherwise, always with at
// least one digit after the point, using the shortest digits that identify f.
func AppendJavaDouble(dst []byte, f float64) []byte {
	if a := max(f, -f); a == 0 || a >= 1e-3 && a < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return append(dst, s...)
	}
	s := strconv.FormatFloat(f, 'E', -1, 64) // 1.684013726123E+09
	mant, exp, _ := strings.Cut(s, "E")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	e, _ := strconv.Atoi(exp)
	dst = append(dst, mant...)
	dst = append(dst, 'E')
	return strconv.AppendInt(dst, int64(e), 10)
}
