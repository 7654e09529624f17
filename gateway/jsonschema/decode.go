package jsonschema

import (
	"encoding/json"
	"unicode/utf8"
)

// decodeBody decodes a request body into the values the checks read (map[string]any,
// []any, json.Number, string, bool, nil), as decodeInstance does. It reads well-formed
// bodies in one pass over the bytes, without encoding/json's reader, buffer copy and
// reflection, which were most of a small body's validation; anything it does not read
// plainly (malformed JSON, deep nesting) goes to decodeInstance, so errors and their
// wording are encoding/json's. FuzzDecodeBody holds the two to the same values.
func decodeBody(body []byte) (any, error) {
	d := fastDecoder{b: body}
	d.space()
	v, ok := d.value(0)
	if ok {
		d.space()
		if d.i == len(d.b) {
			return v, nil
		}
	}
	return decodeInstance(body)
}

// fastDecoder is decodeBody's cursor; its methods report ok false to give up.
type fastDecoder struct {
	b []byte
	i int
}

// maxFastDepth is well inside encoding/json's own nesting limit, so a body the fast path
// reads is never one encoding/json would refuse for its depth.
const maxFastDepth = 512

func (d *fastDecoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *fastDecoder) value(depth int) (any, bool) {
	if d.i >= len(d.b) || depth > maxFastDepth {
		return nil, false
	}
	switch c := d.b[d.i]; {
	case c == '{':
		return d.object(depth)
	case c == '[':
		return d.array(depth)
	case c == '"':
		return d.str() // boxed here, not for object keys
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	}
	return nil, false
}

func (d *fastDecoder) literal(word string) bool {
	if len(d.b)-d.i < len(word) || string(d.b[d.i:d.i+len(word)]) != word {
		return false
	}
	d.i += len(word)
	return true
}

func (d *fastDecoder) object(depth int) (any, bool) {
	d.i++ // {
	m := map[string]any{}
	d.space()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		return m, true
	}
	for {
		d.space()
		if d.i >= len(d.b) || d.b[d.i] != '"' {
			return nil, false
		}
		k, ok := d.str()
		if !ok {
			return nil, false
		}
		d.space()
		if d.i >= len(d.b) || d.b[d.i] != ':' {
			return nil, false
		}
		d.i++
		d.space()
		v, ok := d.value(depth + 1)
		if !ok {
			return nil, false
		}
		m[k] = v // a repeated key keeps its last value, as with encoding/json
		d.space()
		if d.i >= len(d.b) {
			return nil, false
		}
		switch d.b[d.i] {
		case ',':
			d.i++
		case '}':
			d.i++
			return m, true
		default:
			return nil, false
		}
	}
}

func (d *fastDecoder) array(depth int) (any, bool) {
	d.i++                     // [
	list := make([]any, 0, 4) // most lists in a request body are short
	d.space()
	if d.i < len(d.b) && d.b[d.i] == ']' {
		d.i++
		return list, true
	}
	for {
		d.space()
		v, ok := d.value(depth + 1)
		if !ok {
			return nil, false
		}
		list = append(list, v)
		d.space()
		if d.i >= len(d.b) {
			return nil, false
		}
		switch d.b[d.i] {
		case ',':
			d.i++
		case ']':
			d.i++
			return list, true
		default:
			return nil, false
		}
	}
}

// str reads a string. One with escapes or bytes that are not UTF-8 is unquoted by
// encoding/json, whose rules for those (lone surrogates, U+FFFD) it must match.
func (d *fastDecoder) str() (string, bool) {
	start := d.i
	d.i++ // "
	plain := true
	for ; d.i < len(d.b); d.i++ {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			lit := d.b[start:d.i]
			if plain && utf8.Valid(lit) {
				return string(lit[1 : len(lit)-1]), true
			}
			var s string
			if json.Unmarshal(lit, &s) != nil {
				return "", false
			}
			return s, true
		case c == '\\':
			plain = false
			d.i++ // the escaped byte cannot end the string
		case c < 0x20:
			return "", false
		}
	}
	return "", false
}

// number reads a number in JSON's grammar and keeps it as written.
func (d *fastDecoder) number() (any, bool) {
	start := d.i
	if d.b[d.i] == '-' {
		d.i++
	}
	switch {
	case d.i < len(d.b) && d.b[d.i] == '0':
		d.i++
	case d.digits() == 0:
		return nil, false
	}
	if d.i < len(d.b) && d.b[d.i] == '.' {
		d.i++
		if d.digits() == 0 {
			return nil, false
		}
	}
	if d.i < len(d.b) && (d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		d.i++
		if d.i < len(d.b) && (d.b[d.i] == '+' || d.b[d.i] == '-') {
			d.i++
		}
		if d.digits() == 0 {
			return nil, false
		}
	}
	return json.Number(d.b[start:d.i]), true
}

func (d *fastDecoder) digits() int {
	n := 0
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		d.i++
		n++
	}
	return n
}
