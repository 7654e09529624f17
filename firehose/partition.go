package firehose

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// partitionQuery is a parsed MetadataExtractionQuery: the jq subset partition-key queries use,
// an object of named paths such as {customer_id: .customer_id, device: .type.device,
// first: .items[0], k: ."odd key"}.
type partitionQuery struct {
	entries []queryEntry
}

type queryEntry struct {
	name string
	path []pathSeg
}

type pathSeg struct {
	field   string
	index   int
	isIndex bool
}

// maxQueryLen is the ProcessorParameter value limit in the Firehose model.
const maxQueryLen = 5120

// parsePartitionQuery parses the query. Grammar:
//
//	query := '{' [entry {',' entry}] '}'
//	entry := key ':' path | ident           (ident alone means ident: .ident, as in jq)
//	key   := ident | string
//	path  := '.' [step] {('.' step) | index}
//	step  := ident | string | index
//	index := '[' (int | string) ']'
//
// with whitespace anywhere between tokens. Anything else jq would accept (pipes, functions,
// string interpolation) is refused with a message naming what localpipe supports.
func parsePartitionQuery(q string) (*partitionQuery, error) {
	if len(q) > maxQueryLen {
		return nil, fmt.Errorf("MetadataExtractionQuery is longer than %d characters", maxQueryLen)
	}
	p := &qparser{s: q}
	out := &partitionQuery{}
	p.ws()
	if !p.eat('{') {
		return nil, p.fail("a partition key query must be an object such as {customer_id: .customer_id}")
	}
	seen := map[string]bool{}
	p.ws()
	if p.eat('}') {
		return nil, p.fail("the query defines no partition keys")
	}
	for {
		p.ws()
		var name string
		var err error
		shorthand := false
		switch {
		case p.peek() == '"':
			name, err = p.str()
		case isIdentStart(p.peek()):
			name = p.ident()
			shorthand = true
		default:
			return nil, p.fail("expected a key name")
		}
		if err != nil {
			return nil, err
		}
		p.ws()
		e := queryEntry{name: name}
		if p.eat(':') {
			p.ws()
			e.path, err = p.path()
			if err != nil {
				return nil, err
			}
		} else if shorthand {
			e.path = []pathSeg{{field: name}}
		} else {
			return nil, p.fail("expected ':' after the key name")
		}
		if seen[name] {
			return nil, fmt.Errorf("partition key %q is defined twice in the query", name)
		}
		seen[name] = true
		out.entries = append(out.entries, e)
		p.ws()
		if p.eat(',') {
			continue
		}
		if p.eat('}') {
			break
		}
		if p.peek() == '|' {
			return nil, p.fail("pipes and jq functions are not supported locally; use paths such as .a.b or .a[0]")
		}
		return nil, p.fail("expected ',' or '}'")
	}
	p.ws()
	if p.i != len(p.s) {
		if p.peek() == '|' {
			return nil, p.fail("pipes and jq functions are not supported locally; use paths such as .a.b or .a[0]")
		}
		return nil, p.fail("unexpected text after the query object")
	}
	return out, nil
}

type qparser struct {
	s string
	i int
}

func (p *qparser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *qparser) eat(c byte) bool {
	if p.peek() == c && p.i < len(p.s) {
		p.i++
		return true
	}
	return false
}

func (p *qparser) ws() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *qparser) fail(msg string) error {
	return fmt.Errorf("invalid MetadataExtractionQuery at character %d: %s", p.i+1, msg)
}

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func (p *qparser) ident() string {
	start := p.i
	for p.i < len(p.s) && (isIdentStart(p.s[p.i]) || p.s[p.i] >= '0' && p.s[p.i] <= '9') {
		p.i++
	}
	return p.s[start:p.i]
}

// str reads a JSON-style string literal; jq's string interpolation \( is refused.
func (p *qparser) str() (string, error) {
	start := p.i
	p.i++ // opening quote
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case '\\':
			if p.i+1 < len(p.s) && p.s[p.i+1] == '(' {
				return "", p.fail("string interpolation is not supported")
			}
			p.i += 2
			continue
		case '"':
			p.i++
			var v string
			if err := json.Unmarshal([]byte(p.s[start:p.i]), &v); err != nil {
				p.i = start
				return "", p.fail("invalid string literal")
			}
			return v, nil
		}
		p.i++
	}
	p.i = start
	return "", p.fail("unterminated string literal")
}

func (p *qparser) path() ([]pathSeg, error) {
	if !p.eat('.') {
		return nil, p.fail("a partition key's value must be a path starting with '.', such as .customer_id")
	}
	var segs []pathSeg
	first := true
	for {
		switch c := p.peek(); {
		case c == '[':
			s, err := p.index()
			if err != nil {
				return nil, err
			}
			segs = append(segs, s)
		case first && c == '"':
			v, err := p.str()
			if err != nil {
				return nil, err
			}
			segs = append(segs, pathSeg{field: v})
		case first && isIdentStart(c):
			segs = append(segs, pathSeg{field: p.ident()})
		case c == '.':
			p.i++
			switch c := p.peek(); {
			case c == '"':
				v, err := p.str()
				if err != nil {
					return nil, err
				}
				segs = append(segs, pathSeg{field: v})
			case c == '[':
				s, err := p.index()
				if err != nil {
					return nil, err
				}
				segs = append(segs, s)
			case isIdentStart(c):
				segs = append(segs, pathSeg{field: p.ident()})
			default:
				return nil, p.fail("expected a field name after '.'")
			}
		case c == '?':
			return nil, p.fail("the ? operator is not supported locally")
		default:
			return segs, nil
		}
		first = false
	}
}

func (p *qparser) index() (pathSeg, error) {
	p.i++ // [
	p.ws()
	var seg pathSeg
	if p.peek() == '"' {
		v, err := p.str()
		if err != nil {
			return seg, err
		}
		seg = pathSeg{field: v}
	} else {
		start := p.i
		if p.peek() == '-' {
			p.i++
		}
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
		}
		n, err := strconv.Atoi(p.s[start:p.i])
		if err != nil || p.i-start > 9 {
			p.i = start
			return seg, p.fail("expected an array index or a quoted key inside [ ]")
		}
		seg = pathSeg{index: n, isIndex: true}
	}
	p.ws()
	if !p.eat(']') {
		return seg, p.fail("expected ']'")
	}
	return seg, nil
}

// CheckPartitionQuery validates a MetadataExtractionQuery and that it defines every key the
// prefix names in !{partitionKeyFromQuery:…}, for the wire layer to answer as
// InvalidArgumentException before a delivery stream is created or updated.
func CheckPartitionQuery(query, prefix string) error {
	q, err := parsePartitionQuery(query)
	if err != nil {
		return err
	}
	p, err := parsePrefix("Prefix", prefix)
	if err != nil {
		return err
	}
	for _, k := range p.queryKeys() {
		if !q.defines(k) {
			return fmt.Errorf("Prefix uses !{partitionKeyFromQuery:%s} but the MetadataExtractionQuery does not define %q", k, k)
		}
	}
	return nil
}

func (q *partitionQuery) defines(name string) bool {
	for _, e := range q.entries {
		if e.name == name {
			return true
		}
	}
	return false
}

// Messages of records the query fails on. "Non JSON record provided" is the text users report
// from AWS for records that are not one JSON value; the null-key text is the one reported
// with DynamicPartitioning.MetadataExtractionFailed for keys that evaluate to null or "".
var (
	errNonJSON = errors.New("Non JSON record provided")
	errNullKey = errors.New("partitionKeys values must not be null or empty")
)

// eval runs the query on one record and returns every key's value as a string (numbers keep
// their JSON text, booleans are true/false). A record that is not exactly one JSON value, a
// key that is null or empty, or an object or array as a key's value fails. Only the objects and
// arrays on the queried paths are decoded, one level at a time, so a large record costs one
// validating scan plus the levels the query walks.
func (q *partitionQuery) eval(record []byte) (map[string]string, error) {
	root := json.RawMessage(bytes.TrimSpace(record))
	var top map[string]json.RawMessage // the top-level object, decoded once for every key
	if len(root) > 0 && root[0] == '{' {
		// Unmarshal validates the whole record as it decodes the top level.
		if err := json.Unmarshal(root, &top); err != nil {
			return nil, errNonJSON
		}
	} else if !json.Valid(root) {
		return nil, errNonJSON
	}
	// Each object or array on a path is decoded once for every key that walks through it, so
	// a query of hundreds of keys under one large object costs one decoding of it, not
	// hundreds. The values decoded are slices of their own, so their first byte names them.
	var objs map[*byte]map[string]json.RawMessage
	var arrs map[*byte][]json.RawMessage
	out := make(map[string]string, len(q.entries))
	for _, e := range q.entries {
		v := root
		for i, s := range e.path {
			if len(v) == 0 || v[0] == 'n' { // null, or missing: null.x and null[0] are null
				v = nil
				break
			}
			switch v[0] {
			case '{':
				if s.isIndex {
					return nil, errors.New("Cannot index object with number")
				}
				var m map[string]json.RawMessage
				if i == 0 && top != nil {
					m = top
				} else if m = objs[&v[0]]; m == nil {
					if err := json.Unmarshal(v, &m); err != nil {
						return nil, errNonJSON
					}
					if objs == nil {
						objs = map[*byte]map[string]json.RawMessage{}
					}
					objs[&v[0]] = m
				}
				if i == 0 {
					top = m
				}
				v = m[s.field]
			case '[':
				if !s.isIndex {
					return nil, fmt.Errorf("Cannot index array with %q", s.field)
				}
				a, ok := arrs[&v[0]]
				if !ok {
					if err := json.Unmarshal(v, &a); err != nil {
						return nil, errNonJSON
					}
					if arrs == nil {
						arrs = map[*byte][]json.RawMessage{}
					}
					arrs[&v[0]] = a
				}
				j := s.index
				if j < 0 {
					j += len(a)
				}
				if j < 0 || j >= len(a) {
					v = nil
				} else {
					v = a[j]
				}
			default:
				if s.isIndex {
					return nil, fmt.Errorf("Cannot index %s with number", rawType(v))
				}
				return nil, fmt.Errorf("Cannot index %s with %q", rawType(v), s.field)
			}
		}
		switch t := rawType(v); t {
		case "string":
			var x string
			if err := json.Unmarshal(v, &x); err != nil {
				return nil, errNonJSON
			}
			if x == "" {
				return nil, errNullKey
			}
			out[e.name] = x
		case "number", "boolean":
			out[e.name] = string(v)
		case "null":
			return nil, errNullKey
		default:
			return nil, fmt.Errorf("partition key %q is a JSON %s; partition keys must be strings, numbers or booleans", e.name, t)
		}
	}
	return out, nil
}

// rawType is jq's name for the type of a JSON value.
func rawType(v json.RawMessage) string {
	if len(v) == 0 {
		return "null"
	}
	switch v[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}
