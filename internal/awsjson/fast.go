package awsjson

import (
	"bytes"
	"encoding/base64"
	"strings"
	"unicode/utf8"
)

// FastDecoder is an input with a generated decoder (internal/awsjson/jsongen) for the
// bodies SDKs send: the model's members with plain values. Decode tries it first and, if it
// gives up, decodes the body again the general way, so what a request decodes to and every
// error it gets are the general decoder's; the fast path only saves time.
type FastDecoder interface {
	DecodeAWSJSON(r *Reader)
}

// Reader is the scanner generated decoders read a body with. It accepts a strict subset of
// JSON: objects, arrays, and strings without escapes in valid UTF-8. Anything else, from a
// null or a number to an escape, an unknown member or a syntax error, makes it give up (Fail)
// rather than decide what the general decoder would: every method then does nothing more,
// and the loops of the generated code end.
type Reader struct {
	b      []byte
	i      int
	failed bool
	// arena holds the decoded blobs of the body: one allocation for a PutRecords' 500
	// records instead of one each. text and strs do the same for strings: text holds their
	// bytes (a strings.Builder only ever appends, so every string cut from it stays as it
	// was), strs the strings the input's *string members point to.
	arena []byte
	text  strings.Builder
	strs  []string
}

// decodeFast runs f's generated decoder over body (already trimmed) and reports whether it
// decoded the whole body.
func decodeFast(body []byte, f FastDecoder) bool {
	r := Reader{b: body}
	f.DecodeAWSJSON(&r)
	r.space()
	return !r.failed && r.i == len(r.b)
}

// Fail gives up on the body.
func (r *Reader) Fail() {
	r.failed = true
	r.i = len(r.b)
}

func (r *Reader) space() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// open consumes c, after any space.
func (r *Reader) open(c byte) bool {
	r.space()
	if r.i < len(r.b) && r.b[r.i] == c {
		r.i++
		return true
	}
	r.Fail()
	return false
}

// first reports whether a value follows an opening bracket, consuming close if not.
func (r *Reader) first(close byte) bool {
	r.space()
	if r.i < len(r.b) && r.b[r.i] == close {
		r.i++
		return false
	}
	return !r.failed
}

// Object opens an object and reports whether it has a member: the generated loop is
// for more := r.Object(); more; more = r.More('}') { switch string(r.Key()) { … } }.
func (r *Reader) Object() bool { return r.open('{') && r.first('}') }

// Array opens an array and reports whether it has an element.
func (r *Reader) Array() bool { return r.open('[') && r.first(']') }

// More consumes the comma before another member or element and reports true, or the
// closing bracket and reports false.
func (r *Reader) More(close byte) bool {
	r.space()
	if r.i < len(r.b) {
		switch r.b[r.i] {
		case ',':
			r.i++
			return true
		case close:
			r.i++
			return false
		}
	}
	r.Fail()
	return false
}

// Key reads a member's name and the colon after it.
func (r *Reader) Key() []byte {
	k, _ := r.str()
	if !r.open(':') {
		return nil
	}
	return k
}

// str reads a string without escapes or control characters, and reports whether it is all
// ASCII.
func (r *Reader) str() (s []byte, ascii bool) {
	if !r.open('"') {
		return nil, false
	}
	start := r.i
	var high byte
	for ; r.i < len(r.b); r.i++ {
		c := r.b[r.i]
		if c == '"' {
			s = r.b[start:r.i]
			r.i++
			return s, high < utf8.RuneSelf
		}
		if c < 0x20 || c == '\\' {
			break
		}
		high |= c
	}
	r.Fail()
	return nil, false
}

// String reads a string member's value.
func (r *Reader) String() *string {
	b, ascii := r.str()
	if r.failed || !ascii && !utf8.Valid(b) {
		r.Fail()
		return nil
	}
	if c := r.text.Cap(); c-r.text.Len() < len(b) {
		// Chunks double, from 64 bytes to 4 KiB, and the strings still to come are in the
		// rest of the body.
		r.text = strings.Builder{}
		r.text.Grow(min(len(b)+len(r.b)-r.i, max(len(b), min(2*c, 4096), 64)))
	}
	start := r.text.Len()
	r.text.Write(b)
	if len(r.strs) == cap(r.strs) {
		r.strs = make([]string, 0, min(2*cap(r.strs)+4, 256))
	}
	r.strs = append(r.strs, r.text.String()[start:])
	return &r.strs[len(r.strs)-1]
}

// Blob reads a blob member's value, decoded into the body's arena.
func (r *Reader) Blob() []byte {
	if !r.open('"') {
		return nil
	}
	end := bytes.IndexByte(r.b[r.i:], '"')
	s := r.b[r.i : r.i+max(end, 0)]
	// Strict decoding refuses what decodeBlob does (escapes and control characters
	// included), but for line breaks, which base64 decoders skip.
	if end < 0 || bytes.IndexByte(s, '\n') >= 0 || bytes.IndexByte(s, '\r') >= 0 {
		r.Fail()
		return nil
	}
	r.i += end + 1
	if len(s) == 0 {
		return []byte{} // present, if empty: not nil
	}
	n := base64.StdEncoding.DecodedLen(len(s))
	if cap(r.arena)-len(r.arena) < n {
		// The blobs still to come are in the rest of the body, and shorter decoded.
		r.arena = make([]byte, 0, n+(len(r.b)-r.i)/4*3)
	}
	dst := r.arena[len(r.arena) : len(r.arena)+n : len(r.arena)+n]
	m, err := base64.StdEncoding.Strict().Decode(dst, s)
	if err != nil {
		r.Fail()
		return nil
	}
	r.arena = r.arena[:len(r.arena)+m]
	return dst[:m:m]
}
