// Package awsjsontest holds what the JSON 1.1 services' tests share for holding numeric
// members to their service model: the generated tables' element type, the values that probe a
// member's range, and the failure AWS's front end reports for each.
package awsjsontest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ModelNumber is a numeric or timestamp member of an operation's input, as
// internal/awsjson/numbersgen lists it. Path names members as the JSON does, with [] for a
// list's element and {} for a map's value; Min and Max are the model's bounds, absent where
// HasMin or HasMax is false.
type ModelNumber struct {
	Op, Path, Type string
	HasMin, HasMax bool
	Min, Max       float64
}

// ValidationPath is the member's path as AWS's ValidationException names it: each member
// name with its first letter lowered, a list element as its 1-based index then "member".
func (m ModelNumber) ValidationPath() string {
	parts := strings.Split(m.Path, ".")
	for i, p := range parts {
		switch p {
		case "[]":
			parts[i] = "1.member"
		case "{}":
			parts[i] = "k"
		default:
			r, n := utf8.DecodeRuneInString(p)
			parts[i] = string(unicode.ToLower(r)) + p[n:]
		}
	}
	return strings.Join(parts, ".")
}

// Case is one value for a member and the model failure AWS reports for it: the text of one
// entry of the ValidationException's list, or "" when the value is within the model's range
// (the service may still refuse it, but never with a 500).
type Case struct {
	Value string // the JSON number
	Want  string
}

// probes are values that break naive arithmetic: beyond 32 and 64 bits, exponents that
// overflow a float64, fractions, negative zero.
var probes = []string{
	"0", "-1", "1.5", "-0.5", "-0", "1e-30",
	"2147483647", "2147483648", "-2147483648", "-2147483649",
	"9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
	"1e30", "-1e30", "1e308", "-1e308", "1e400", "-1e400", "123456789012345678901234567890",
}

// Cases lists the values that probe the member: one below and one above each bound of the
// model, then the fixed probes. An integer member is a Java Integer on AWS (a long a Long):
// a fraction is floored and a value beyond the type saturates, so the failure quotes the
// value AWS holds, not the one sent.
func (m ModelNumber) Cases() []Case {
	var vals []string
	if m.HasMin {
		vals = append(vals, strconv.FormatFloat(m.Min-1, 'f', -1, 64))
	}
	if m.HasMax {
		vals = append(vals, strconv.FormatFloat(m.Max+1, 'f', -1, 64))
	}
	vals = append(vals, probes...)
	var out []Case
	for _, v := range vals {
		c := Case{Value: v}
		switch m.Type {
		case "integer", "long":
			bits := 32
			if m.Type == "long" {
				bits = 64
			}
			n := javaInt(v, bits)
			path := m.ValidationPath()
			switch {
			case m.HasMin && float64(n) < m.Min:
				c.Want = fmt.Sprintf("Value '%d' at '%s' failed to satisfy constraint: Member must have value greater than or equal to %s", n, path, strconv.FormatFloat(m.Min, 'f', -1, 64))
			case m.HasMax && float64(n) > m.Max:
				c.Want = fmt.Sprintf("Value '%d' at '%s' failed to satisfy constraint: Member must have value less than or equal to %s", n, path, strconv.FormatFloat(m.Max, 'f', -1, 64))
			}
		}
		out = append(out, c)
	}
	return out
}

// javaInt is the value a JSON number takes in an integer member of the given width:
// floored, then saturated.
func javaInt(s string, bits int) int64 {
	lo, hi := int64(math.MinInt64)>>(64-bits), int64(math.MaxInt64)>>(64-bits)
	f, _, err := big.ParseFloat(s, 10, 200, big.ToNegativeInf)
	if err != nil {
		panic("awsjsontest: bad probe " + s)
	}
	i, _ := f.Int(nil)
	if f.Sign() < 0 && !f.IsInt() {
		i.Sub(i, big.NewInt(1))
	}
	switch {
	case i.Cmp(big.NewInt(lo)) < 0:
		return lo
	case i.Cmp(big.NewInt(hi)) > 0:
		return hi
	}
	return i.Int64()
}

// With returns base, a JSON object, with the member at path set to the JSON number value;
// missing structures on the way are created, and a list element is the list's first (made
// from an empty object if the list is absent).
func With(base, path, value string) ([]byte, error) {
	var root map[string]any
	dec := json.NewDecoder(strings.NewReader(base))
	dec.UseNumber()
	if err := dec.Decode(&root); err != nil {
		return nil, err
	}
	parts := strings.Split(path, ".")
	var cur any = root
	for i, p := range parts {
		last := i == len(parts)-1
		var child any
		switch p {
		case "[]", "{}":
			return nil, fmt.Errorf("awsjsontest: %s: lists and maps of numbers are not supported", path)
		default:
			obj, ok := cur.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("awsjsontest: %s: %s is not an object", path, p)
			}
			if last {
				obj[p] = json.Number(value)
				break
			}
			if obj[p] == nil {
				obj[p] = map[string]any{}
			}
			child = obj[p]
		}
		cur = child
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(root); err != nil {
		return nil, err
	}
	return bytes.TrimSpace(b.Bytes()), nil
}
