package mapping

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxJSONDepth bounds nesting when parsing request bodies and $util.parseJson input.
var MaxJSONDepth = 512

// JSONError says where a document stops being valid JSON.
type JSONError struct {
	Offset int // byte offset
	Line   int // 1-based
	Col    int // 1-based, in characters
	Msg    string
}

func (e *JSONError) Error() string {
	return fmt.Sprintf("not valid JSON at line %d column %d: %s", e.Line, e.Col, e.Msg)
}

// ValidateJSON reports whether out is one valid JSON value (RFC 8259), as the AWS JSON
// protocols require of an integration request body. The error is a *JSONError naming the line
// and column where the text breaks.
func ValidateJSON(out []byte) error {
	_, err := parseJSON(string(out), false)
	return err
}

type jsonParser struct {
	s     string
	i     int
	depth int
	build bool
}

// parseJSON parses a JSON document into template values: objects become *vmap (keys in
// document order), arrays *vlist marked as JSON, and numbers by json-smart's model: int64 for
// an Integer or Long, *big.Int beyond that, *decimal for a long decimal literal, else float64.
func parseJSON(s string, build bool) (v any, err error) {
	p := &jsonParser{s: s, build: build}
	defer func() {
		if r := recover(); r != nil {
			je, ok := r.(*JSONError)
			if !ok {
				panic(r)
			}
			v, err = nil, je
		}
	}()
	p.ws()
	v = p.value()
	p.ws()
	if p.i < len(p.s) {
		p.fail("unexpected %s after the JSON value", p.found())
	}
	return v, nil
}

func (p *jsonParser) fail(format string, args ...any) {
	line, col := position(p.s, p.i)
	panic(&JSONError{Offset: p.i, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)})
}

func (p *jsonParser) found() string {
	if p.i >= len(p.s) {
		return "end of input"
	}
	r, _ := utf8.DecodeRuneInString(p.s[p.i:])
	return strconv.QuoteRune(r)
}

func (p *jsonParser) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) value() any {
	if p.i >= len(p.s) {
		p.fail("expected a JSON value, found end of input")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		return p.str()
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	case strings.HasPrefix(p.s[p.i:], "true"):
		p.i += 4
		return true
	case strings.HasPrefix(p.s[p.i:], "false"):
		p.i += 5
		return false
	case strings.HasPrefix(p.s[p.i:], "null"):
		p.i += 4
		return nil
	}
	p.fail("expected a JSON value, found %s", p.found())
	return nil
}

func (p *jsonParser) enter() {
	p.depth++
	if p.depth > MaxJSONDepth {
		p.fail("nested deeper than %d", MaxJSONDepth)
	}
}

func (p *jsonParser) object() any {
	p.enter()
	p.i++ // {
	var m *vmap
	if p.build {
		m = newVMap()
	}
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		p.depth--
		return m
	}
	for {
		p.ws()
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			p.fail("expected a string key, found %s", p.found())
		}
		k := p.str()
		p.ws()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			p.fail("expected ':' after object key, found %s", p.found())
		}
		p.i++
		p.ws()
		v := p.value()
		if p.build {
			m.Put(k.(string), v)
		}
		p.ws()
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			p.depth--
			return m
		}
		p.fail("expected ',' or '}' after object value, found %s", p.found())
	}
}

func (p *jsonParser) array() any {
	p.enter()
	p.i++ // [
	var l *vlist
	if p.build {
		l = &vlist{JSON: true}
	}
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		p.depth--
		return l
	}
	for {
		p.ws()
		v := p.value()
		if p.build {
			l.Items = append(l.Items, v)
		}
		p.ws()
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.i < len(p.s) && p.s[p.i] == ']' {
			p.i++
			p.depth--
			return l
		}
		p.fail("expected ',' or ']' after array element, found %s", p.found())
	}
}

func (p *jsonParser) str() any {
	p.i++ // opening quote
	start := p.i
	var b *strings.Builder
	for {
		if p.i >= len(p.s) {
			p.fail("unterminated string")
		}
		c := p.s[p.i]
		switch {
		case c == '"':
			var out string
			if b == nil {
				out = p.s[start:p.i]
			} else {
				out = b.String()
			}
			p.i++
			if !p.build {
				return nil
			}
			return out
		case c < 0x20:
			p.fail("control character %s in string", p.found())
		case c == '\\':
			if b == nil {
				b = &strings.Builder{}
				b.WriteString(p.s[start:p.i])
			}
			p.i++
			if p.i >= len(p.s) {
				p.fail("unterminated string")
			}
			e := p.s[p.i]
			p.i++
			switch e {
			case '"', '\\', '/':
				b.WriteByte(e)
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'u':
				r := p.hex4()
				if utf16.IsSurrogate(r) && strings.HasPrefix(p.s[p.i:], `\u`) {
					save := p.i
					p.i += 2
					r2 := p.hex4()
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						r = d
					} else {
						p.i = save
					}
				}
				b.WriteRune(r)
			default:
				p.i -= 2
				p.fail("invalid escape \\%c in string", e)
			}
		default:
			if c >= utf8.RuneSelf {
				r, w := utf8.DecodeRuneInString(p.s[p.i:])
				if r == utf8.RuneError && w == 1 {
					p.fail("invalid UTF-8 in string")
				}
				if b != nil {
					b.WriteString(p.s[p.i : p.i+w])
				}
				p.i += w
				continue
			}
			if b != nil {
				b.WriteByte(c)
			}
			p.i++
		}
	}
}

func (p *jsonParser) hex4() rune {
	if p.i+4 > len(p.s) {
		p.fail("short \\u escape")
	}
	v, err := strconv.ParseUint(p.s[p.i:p.i+4], 16, 32)
	if err != nil {
		p.fail("invalid \\u escape")
	}
	p.i += 4
	return rune(v)
}

func (p *jsonParser) number() any {
	start := p.i
	if p.s[p.i] == '-' {
		p.i++
	}
	digits := func() int {
		n := 0
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.i < len(p.s) && p.s[p.i] == '0' {
		p.i++
	} else if digits() == 0 {
		p.fail("expected a digit, found %s", p.found())
	}
	isInt := true
	if p.i < len(p.s) && p.s[p.i] == '.' {
		p.i++
		isInt = false
		if digits() == 0 {
			p.fail("expected a digit after '.', found %s", p.found())
		}
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		p.i++
		isInt = false
		if p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			p.fail("expected a digit in exponent, found %s", p.found())
		}
	}
	if !p.build {
		return nil
	}
	text := p.s[start:p.i]
	if isInt {
		if v, err := strconv.ParseInt(text, 10, 64); err == nil {
			return v
		}
		// json-smart keeps an integer beyond a long as a BigInteger.
		if v, ok := new(big.Int).SetString(text, 10); ok && v.BitLen() <= maxBigBits {
			return v
		}
	}
	// json-smart (JSONParserBase.extractFloat with its high-precision mode, which Jayway's
	// provider turns on) keeps a decimal literal longer than 18 characters, sign and exponent
	// included, as a BigDecimal, and reads a shorter one as a double.
	if !isInt && len(text) > 18 {
		if d, ok := parseDecimal(text); ok {
			return d
		}
		p.i = start
		p.fail("number %s out of range", text)
	}
	f, _ := strconv.ParseFloat(text, 64)
	return f
}
