package awsjson

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Decode decodes a request body into v, a pointer to a struct whose fields carry `json` tags
// with the AWS member names. It differs from encoding/json where AWS's front end differs:
//
//   - member names match exactly (encoding/json would also fill StreamName from "streamname");
//   - unknown members and nulls are ignored, as AWS ignores them;
//   - a number with a fraction is accepted for an integer member and truncated toward minus
//     infinity, as AWS does;
//   - blobs must be canonical, padded base64;
//   - a wrong JSON type is a SerializationException whose message names the Java classes AWS's
//     messages name (the texts are kinesalite's, which were checked against AWS).
//
// Supported field types: string, bool, integers, float64 (a timestamp in epoch seconds),
// []byte (a blob), slices, map[string]T, structs (also embedded) and pointers to these.
//
// Decoding holds no copy of the body: every value is read straight from the bytes it arrived
// in, so a blob costs its decoded bytes and nothing more.
//
// An input with a generated decoder (a FastDecoder) is decoded by it when the body is as
// SDKs send it, and by the general decoder below otherwise.
func Decode(body []byte, v any) *Error {
	if f, ok := v.(FastDecoder); ok {
		if DecodeFast(body, f) {
			return nil
		}
		reflect.ValueOf(v).Elem().SetZero()
	}
	return DecodeGeneral(body, v)
}

// DecodeFast decodes body into f with its generated decoder, and reports whether that
// decoder took the whole body; if not, f holds whatever it had read, and DecodeGeneral must
// decode the body instead. Decode is the two together; the fast paths' tests use each alone.
func DecodeFast(body []byte, f FastDecoder) bool {
	return decodeFast(bytes.TrimSpace(body), f)
}

// DecodeGeneral is Decode without a generated decoder: the reference the generated ones
// agree with.
func DecodeGeneral(body []byte, v any) *Error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return serialization("")
	}
	var raw node
	if err := json.Unmarshal(body, &raw); err != nil {
		return serialization("")
	}
	switch raw.kind() {
	case kindObject:
	case kindArray:
		return serialization("Start of list found where not expected")
	default:
		return serialization("")
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		panic("awsjson.Decode: v must be a pointer to a struct")
	}
	return assign(rv.Elem(), raw)
}

// node is one JSON value as it appears in the body, a sub-slice of it (encoding/json hands
// an Unmarshaler the input's own bytes). The body was validated once as a whole, so a node
// is always one well-formed value.
type node []byte

func (n *node) UnmarshalJSON(b []byte) error {
	*n = b
	return nil
}

type nodeKind int

const (
	kindNull nodeKind = iota
	kindString
	kindBool
	kindNumber
	kindObject
	kindArray
)

func (n node) kind() nodeKind {
	switch n[0] {
	case 'n':
		return kindNull
	case '"':
		return kindString
	case 't', 'f':
		return kindBool
	case '{':
		return kindObject
	case '[':
		return kindArray
	}
	return kindNumber
}

// str is a string node's text. One without escapes, in valid UTF-8, is its own bytes;
// anything else goes through encoding/json for its unescaping and its treatment of invalid
// UTF-8.
func (n node) str() string {
	inner := n[1 : len(n)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner)
	}
	var s string
	json.Unmarshal(n, &s)
	return s
}

// object splits an object node into its members and array an array node into its elements.
// They scan the bytes themselves rather than ask encoding/json, which would validate each
// level again: the body was validated once, and a PutRecords of 500 records spent most of its
// time re-validating them.
func (n node) object() map[string]node {
	m := map[string]node{}
	i := skipSpace(n, 1)
	for i < len(n) && n[i] == '"' {
		kEnd := stringEnd(n, i)
		key := node(n[i:kEnd]).str()
		i = skipSpace(n, kEnd)
		i = skipSpace(n, i+1) // past ':'
		vEnd := valueEnd(n, i)
		m[key] = n[i:vEnd]
		i = skipSpace(n, vEnd)
		if i < len(n) && n[i] == ',' {
			i = skipSpace(n, i+1)
		}
	}
	return m
}

// member is one member of an object node: its key as it appears in the body, quotes
// included, and its value.
type member struct{ key, value node }

// members appends an object node's members to ms in body order. Unlike object it makes no
// map and no key strings, which for a struct's few members (a PutRecords entry's three, 500
// times a request) cost more than the rest of decoding it.
func (n node) members(ms []member) []member {
	i := skipSpace(n, 1)
	for i < len(n) && n[i] == '"' {
		kEnd := stringEnd(n, i)
		key := n[i:kEnd]
		i = skipSpace(n, kEnd)
		i = skipSpace(n, i+1) // past ':'
		vEnd := valueEnd(n, i)
		ms = append(ms, member{key, n[i:vEnd]})
		i = skipSpace(n, vEnd)
		if i < len(n) && n[i] == ',' {
			i = skipSpace(n, i+1)
		}
	}
	return ms
}

// lastMember finds the value of the member named name; of repeated members the last one
// counts, as object's map keeps it.
func lastMember(ms []member, name string) (node, bool) {
	for i := len(ms) - 1; i >= 0; i-- {
		k := ms[i].key
		inner := k[1 : len(k)-1]
		if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
			if string(inner) == name {
				return ms[i].value, true
			}
		} else if k.str() == name {
			return ms[i].value, true
		}
	}
	return nil, false
}

func (n node) array() []node {
	var a []node
	i := skipSpace(n, 1)
	for i < len(n) && n[i] != ']' {
		end := valueEnd(n, i)
		a = append(a, n[i:end])
		i = skipSpace(n, end)
		if i < len(n) && n[i] == ',' {
			i = skipSpace(n, i+1)
		}
	}
	return a
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd is the index after the closing quote of the string that opens at i.
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(b)
}

// valueEnd is the index after the (valid) JSON value that starts at i.
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = stringEnd(b, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
		return len(b)
	}
	j := i
	for j < len(b) && !strings.ContainsRune(",]} \t\r\n", rune(b[j])) {
		j++
	}
	return j
}

// Valid reports whether body is one JSON object, the only body a JSON 1.1 operation takes.
func Valid(body []byte) bool {
	body = bytes.TrimSpace(body)
	return len(body) > 0 && body[0] == '{' && json.Valid(body)
}

func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "String"
	case reflect.Bool:
		return "Boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32:
		return "Integer"
	case reflect.Int64, reflect.Uint64:
		// The model's "long" is a Java Long; no input member of Kinesis or Firehose has one.
		return "Long"
	case reflect.Float32, reflect.Float64:
		return "Timestamp"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "Blob"
		}
	}
	return t.Kind().String()
}

// article reproduces AWS's grammar: "a Blob" but "an String", "an Integer".
func article(name string) string {
	if name == "Blob" {
		return "a " + name
	}
	return "an " + name
}

func cannotConvert(javaClass string, t reflect.Type) *Error {
	return serialization("class " + javaClass + " can not be converted to " + article(typeName(t)))
}

const (
	// numberClass is the Java class AWS's JSON reader holds a number in.
	numberClass  = "com.amazon.coral.value.json.numbers.TruncatingBigNumber"
	msgStartMap  = "Start of structure or map found where not expected."
	msgStartList = "Start of list found where not expected"
)

func assign(v reflect.Value, raw node) *Error {
	k := raw.kind()
	if k == kindNull {
		return nil // null is the same as absent
	}
	t := v.Type()
	if t.Kind() == reflect.Pointer {
		p := reflect.New(t.Elem())
		if err := assign(p.Elem(), raw); err != nil {
			return err
		}
		v.Set(p)
		return nil
	}
	switch t.Kind() {
	case reflect.String:
		switch k {
		case kindString:
			v.SetString(raw.str())
			return nil
		case kindBool:
			return cannotConvert("java.lang.Boolean", t)
		case kindNumber:
			return cannotConvert(numberClass, t)
		}
	case reflect.Bool:
		switch k {
		case kindBool:
			v.SetBool(raw[0] == 't')
			return nil
		case kindNumber:
			// AWS accepts a fractional number for a boolean (treating it as true) but not
			// an integral one.
			if bytes.ContainsAny(raw, ".eE") {
				v.SetBool(true)
				return nil
			}
			return cannotConvert(numberClass, t)
		case kindString:
			x := raw.str()
			switch strings.ToLower(x) {
			case "true", "1", "yes":
				v.SetBool(true)
				return nil
			case "false", "0", "no":
				v.SetBool(false)
				return nil
			}
			return serialization("'" + quote(strings.ToUpper(x)) + "' can not be converted to an Boolean")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		switch k {
		case kindNumber:
			v.SetInt(clampInt(json.Number(raw), t.Bits()))
			return nil
		case kindBool:
			return cannotConvert("java.lang.Boolean", t)
		case kindString:
			return cannotConvert("java.lang.String", t)
		}
	case reflect.Float32, reflect.Float64:
		switch k {
		case kindNumber:
			f, err := strconv.ParseFloat(string(raw), 64)
			if err != nil || math.IsInf(f, 0) {
				return serialization("")
			}
			v.SetFloat(f)
			return nil
		case kindBool:
			return cannotConvert("java.lang.Boolean", t)
		case kindString:
			return cannotConvert("java.lang.String", t)
		}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			switch k {
			case kindString:
				inner := raw[1 : len(raw)-1]
				if bytes.IndexByte(inner, '\\') >= 0 {
					inner = []byte(raw.str()) // escaped base64 is legal JSON, if odd
				}
				b, err := decodeBlob(inner)
				if err != nil {
					return err
				}
				v.SetBytes(b)
				return nil
			case kindBool:
				return cannotConvert("java.lang.Boolean", reflect.TypeFor[[]byte]())
			case kindNumber:
				return cannotConvert(numberClass, reflect.TypeFor[[]byte]())
			}
			break
		}
		switch k {
		case kindArray:
			x := raw.array()
			s := reflect.MakeSlice(t, len(x), len(x))
			for i, e := range x {
				if err := assign(s.Index(i), e); err != nil {
					return err
				}
			}
			v.Set(s)
			return nil
		case kindObject:
			return serialization(msgStartMap)
		default:
			return serialization("Expected list or null")
		}
	case reflect.Map:
		switch k {
		case kindObject:
			x := raw.object()
			m := reflect.MakeMapWithSize(t, len(x))
			for key, e := range x {
				if e.kind() == kindNull {
					continue
				}
				ev := reflect.New(t.Elem()).Elem()
				if err := assign(ev, e); err != nil {
					return err
				}
				m.SetMapIndex(reflect.ValueOf(key).Convert(t.Key()), ev)
			}
			v.Set(m)
			return nil
		case kindArray:
			return serialization(msgStartList)
		default:
			return serialization("Expected map or null")
		}
	case reflect.Struct:
		switch k {
		case kindObject:
			var buf [8]member
			ms := raw.members(buf[:0])
			for _, f := range fieldsOf(t) {
				e, ok := lastMember(ms, f.name)
				if !ok {
					continue
				}
				if err := assign(v.FieldByIndex(f.index), e); err != nil {
					return err
				}
			}
			return nil
		case kindArray:
			return serialization(msgStartList)
		default:
			return serialization("Expected null")
		}
	default:
		panic("awsjson.Decode: unsupported field type " + t.String())
	}
	switch k {
	case kindObject:
		return serialization(msgStartMap)
	case kindArray:
		return serialization(msgStartList)
	}
	return serialization("")
}

// clampInt reads a JSON number as an integer of the given width (32 for the model's
// "integer", a Java Integer; 64 for "long"): fractions are floored and values out of range,
// even beyond a float64's (1e400), saturate, so validation then reports them against the
// member's bounds and nothing after it sees a value the member's type cannot hold.
func clampInt(n json.Number, bits int) int64 {
	lo, hi := int64(math.MinInt64)>>(64-bits), int64(math.MaxInt64)>>(64-bits)
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return min(max(i, lo), hi)
	}
	// ParseFloat answers ±Inf with an error for an exponent too large, which is the
	// saturated value wanted here.
	f, _ := strconv.ParseFloat(string(n), 64)
	if math.IsNaN(f) {
		return 0
	}
	f = math.Floor(f)
	switch {
	case f <= float64(lo):
		return lo
	case f >= float64(hi):
		return hi
	}
	return int64(f)
}

// decodeBlob decodes standard, padded base64 and words its complaints as AWS does, quoting
// at most the start of the value: a request may carry megabytes of it.
func decodeBlob(s []byte) ([]byte, *Error) {
	if len(s)%4 != 0 {
		return nil, serialization("'" + quote(string(s[:min(len(s), maxQuoted+1)])) + "' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: " + strconv.Itoa(len(s)))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' ||
			c == '=' && (i+1 == len(s) || s[i+1] == '=')
		if !ok {
			r, _ := utf8.DecodeRune(s[i:])
			return nil, serialization("'" + quote(string(s[:min(len(s), maxQuoted+1)])) + "' can not be converted to a Blob: Invalid Base64 character: '" + string(r) + "'")
		}
	}
	b := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
	n, err := base64.StdEncoding.Strict().Decode(b, s)
	if err != nil {
		return nil, serialization("'" + quote(string(s[:min(len(s), maxQuoted+1)])) + "' can not be converted to a Blob: Invalid last non-pad Base64 character dectected")
	}
	return b[:n], nil
}

// maxQuoted is how much of a client's value an error message quotes.
const maxQuoted = 64

// quote bounds a client's value for an error message: the first maxQuoted bytes (not
// splitting a character) and "...".
func quote(s string) string {
	if len(s) <= maxQuoted {
		return s
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

type field struct {
	name  string
	index []int
}

var fieldCache sync.Map // reflect.Type → []field

// fieldsOf lists a struct's JSON members, including those of embedded structs.
func fieldsOf(t reflect.Type) []field {
	if f, ok := fieldCache.Load(t); ok {
		return f.([]field)
	}
	var fs []field
	for _, sf := range reflect.VisibleFields(t) {
		if !sf.IsExported() || sf.Anonymous {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		fs = append(fs, field{name, sf.Index})
	}
	fieldCache.Store(t, fs)
	return fs
}
