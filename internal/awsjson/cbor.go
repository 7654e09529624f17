package awsjson

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/fxamacker/cbor/v2"
)

// CBOR (application/x-amz-cbor-1.1) is a second encoding of the same shapes, which the AWS
// SDKs for Java, the KCL and the KPL use for Kinesis by default. Rather than teach every
// handler a second codec, a CBOR request is transcoded into the JSON its handler already
// takes, and the JSON answer is transcoded back. Two kinds of members differ between the
// encodings beyond syntax, and only the service model says where they are:
//
//   - a blob is a CBOR byte string and a base64 text in JSON;
//   - a timestamp is CBOR tag 1 holding epoch *milliseconds* (as the Java SDKs write and read
//     it, not RFC 8949's seconds) and a number of epoch seconds in JSON.
//
// Everything else maps one to one: maps to objects, arrays to arrays, text to strings, integers
// and floats to numbers, true, false and null to themselves.

// CBORKind is how a member's CBOR form differs from its JSON form.
type CBORKind uint8

const (
	CBORBlob      CBORKind = iota + 1 // byte string ↔ base64 text
	CBORTimestamp                     // tag 1 of epoch milliseconds ↔ epoch seconds
)

// CBOROperation names an operation's members whose CBOR form differs from their JSON form,
// in its input and its output. A path joins member names with "."; "[]" stands for a list's
// element and "{}" for a map's value (as numbersgen's paths do).
type CBOROperation struct {
	In, Out map[string]CBORKind
}

// CBOR transcodes one service's operations between CBOR and JSON; NewCBOR builds it from the
// service's generated table. A Service with a nil CBOR refuses CBOR requests.
type CBOR struct {
	// ops is built by the first CBOR request: most clients speak JSON, and a service's
	// shapes are a thousand-odd small objects a start need not make.
	ops func() map[string]cborOp
}

type cborOp struct{ in, out *cborNode }

// cborNode is one level of an operation's shape: what its value is, if it is special, and
// where its members, list elements or map values lead.
type cborNode struct {
	kind    CBORKind
	members map[string]*cborNode
	elem    *cborNode
}

func (n *cborNode) member(name string) *cborNode {
	if n == nil {
		return nil
	}
	return n.members[name]
}

func (n *cborNode) element() *cborNode {
	if n == nil {
		return nil
	}
	return n.elem
}

func (n *cborNode) is(k CBORKind) bool { return n != nil && n.kind == k }

// NewCBOR builds the transcoder for a service from its table (operation → special members).
func NewCBOR(table map[string]CBOROperation) *CBOR {
	return &CBOR{ops: sync.OnceValue(func() map[string]cborOp {
		ops := make(map[string]cborOp, len(table))
		for op, t := range table {
			ops[op] = cborOp{in: cborTree(t.In), out: cborTree(t.Out)}
		}
		return ops
	})}
}

func cborTree(paths map[string]CBORKind) *cborNode {
	if len(paths) == 0 {
		return nil
	}
	root := &cborNode{}
	for p, k := range paths {
		n := root
		for _, seg := range strings.Split(p, ".") {
			if seg == "[]" || seg == "{}" {
				if n.elem == nil {
					n.elem = &cborNode{}
				}
				n = n.elem
				continue
			}
			if n.members == nil {
				n.members = map[string]*cborNode{}
			}
			if n.members[seg] == nil {
				n.members[seg] = &cborNode{}
			}
			n = n.members[seg]
		}
		n.kind = k
	}
	return root
}

// The decoder takes what RFC 8949 calls well-formed and valid, and refuses what JSON could not
// carry or what a map would silently lose (duplicate keys); nesting is bounded well above the
// deepest shape of any model.
var (
	cborDec = func() cbor.DecMode {
		m, err := cbor.DecOptions{
			DupMapKey:        cbor.DupMapKeyEnforcedAPF,
			MaxNestedLevels:  cborMaxDepth,
			IndefLength:      cbor.IndefLengthAllowed,
			TagsMd:           cbor.TagsAllowed,
			IntDec:           cbor.IntDecConvertNone,
			UTF8:             cbor.UTF8RejectInvalid,
			NaN:              cbor.NaNDecodeForbidden,
			Inf:              cbor.InfDecodeForbidden,
			MapKeyByteString: cbor.MapKeyByteStringForbidden,
		}.DecMode()
		if err != nil {
			panic(err)
		}
		return m
	}()
	// Sorted keys make an answer's bytes depend on its content only, so tests can compare
	// bytes; clients do not care about the order.
	cborEnc = func() cbor.EncMode {
		m, err := cbor.EncOptions{Sort: cbor.SortBytewiseLexical}.EncMode()
		if err != nil {
			panic(err)
		}
		return m
	}()
)

const cborMaxDepth = 32

// errCBOR is any CBOR body that does not transcode; the caller answers SerializationException.
var errCBOR = errors.New("awsjson: CBOR body does not fit JSON")

// RequestJSON transcodes a CBOR request body of an operation into JSON. An operation the table
// does not know is transcoded without special members, so the handler answers it as it
// answers the same JSON.
func (c *CBOR) RequestJSON(action string, body []byte) ([]byte, error) {
	// Refused whole before any of it is transcoded: a truncated body is never half-read.
	if err := cborDec.Wellformed(body); err != nil {
		return nil, errCBOR
	}
	return appendCBORAsJSON(nil, body, c.ops()[action].in, 0)
}

func appendCBORAsJSON(dst []byte, item cbor.RawMessage, n *cborNode, depth int) ([]byte, error) {
	if depth > cborMaxDepth || len(item) == 0 {
		return nil, errCBOR
	}
	switch item[0] >> 5 {
	case 0: // unsigned integer
		var u uint64
		if err := cborDec.Unmarshal(item, &u); err != nil {
			return nil, errCBOR
		}
		if n.is(CBORTimestamp) {
			return appendMillisAsSeconds(dst, float64(u)), nil
		}
		return strconv.AppendUint(dst, u, 10), nil
	case 1: // negative integer
		var i int64
		if err := cborDec.Unmarshal(item, &i); err != nil {
			return nil, errCBOR
		}
		if n.is(CBORTimestamp) {
			return appendMillisAsSeconds(dst, float64(i)), nil
		}
		return strconv.AppendInt(dst, i, 10), nil
	case 2: // byte string
		var b []byte
		if err := cborDec.Unmarshal(item, &b); err != nil {
			return nil, errCBOR
		}
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, b)
		return append(dst, '"'), nil
	case 3: // text string
		var s string
		if err := cborDec.Unmarshal(item, &s); err != nil {
			return nil, errCBOR
		}
		return AppendString(dst, s), nil
	case 4: // array
		var a []cborItem
		if err := cborDec.Unmarshal(item, &a); err != nil {
			return nil, errCBOR
		}
		dst = append(dst, '[')
		for i, e := range a {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendCBORAsJSON(dst, cbor.RawMessage(e), n.element(), depth+1); err != nil {
				return nil, err
			}
		}
		return append(dst, ']'), nil
	case 5: // map
		var m map[string]cborItem
		if err := cborDec.Unmarshal(item, &m); err != nil {
			return nil, errCBOR
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendString(dst, k)
			dst = append(dst, ':')
			next := n.member(k)
			if n != nil && n.elem != nil {
				next = n.elem // a map's values
			}
			var err error
			if dst, err = appendCBORAsJSON(dst, cbor.RawMessage(m[k]), next, depth+1); err != nil {
				return nil, err
			}
		}
		return append(dst, '}'), nil
	case 6: // tag: only tag 1, a timestamp, has a JSON form
		var t cbor.RawTag
		if err := cborDec.Unmarshal(item, &t); err != nil || t.Number != 1 || len(t.Content) == 0 {
			return nil, errCBOR
		}
		ms, ok := cborNumber(t.Content)
		if !ok {
			return nil, errCBOR
		}
		return appendMillisAsSeconds(dst, ms), nil
	default: // simple values and floats
		switch item[0] {
		case 0xf4:
			return append(dst, "false"...), nil
		case 0xf5:
			return append(dst, "true"...), nil
		case 0xf6:
			return append(dst, "null"...), nil
		}
		f, ok := cborNumber(item)
		if !ok {
			return nil, errCBOR
		}
		if n.is(CBORTimestamp) {
			return appendMillisAsSeconds(dst, f), nil
		}
		return strconv.AppendFloat(dst, f, 'g', -1, 64), nil
	}
}

// cborItem is one data item of a body being transcoded, a sub-slice of the body: unlike
// cbor.RawMessage it is not copied out at every level of nesting.
type cborItem []byte

func (c *cborItem) UnmarshalCBOR(b []byte) error {
	*c = b
	return nil
}

// cborNumber reads an integer or a finite float.
func cborNumber(item cbor.RawMessage) (float64, bool) {
	switch item[0] >> 5 {
	case 0:
		var u uint64
		err := cborDec.Unmarshal(item, &u)
		return float64(u), err == nil
	case 1:
		var i int64
		err := cborDec.Unmarshal(item, &i)
		return float64(i), err == nil
	case 7:
		if b := item[0]; b != 0xf9 && b != 0xfa && b != 0xfb {
			return 0, false
		}
		var f float64
		err := cborDec.Unmarshal(item, &f)
		return f, err == nil
	}
	return 0, false
}

// appendMillisAsSeconds writes epoch milliseconds as the epoch seconds JSON carries; a whole
// number of milliseconds is exact in the decimal it becomes.
func appendMillisAsSeconds(dst []byte, ms float64) []byte {
	if ms == math.Trunc(ms) && math.Abs(ms) < 1<<53 {
		i := int64(ms)
		neg := i < 0
		if neg {
			i = -i
			dst = append(dst, '-')
		}
		dst = strconv.AppendInt(dst, i/1000, 10)
		frac := strconv.FormatInt(1000+i%1000, 10)[1:]
		return append(append(dst, '.'), frac...)
	}
	return strconv.AppendFloat(dst, ms/1000, 'g', -1, 64)
}

// ResponseCBOR transcodes a JSON answer of an operation into CBOR: a success with the
// operation's output shape, an error ({"__type", "message"}) as it is.
func (c *CBOR) ResponseCBOR(action string, status int, body []byte) ([]byte, error) {
	if len(body) == 0 {
		return body, nil
	}
	var n *cborNode
	if status/100 == 2 {
		n = c.ops()[action].out
	}
	return encodeCBOR(n, body)
}

// WriteError writes an error answer to a CBOR request of an operation that does not go
// through a Service (an event stream's, before the stream starts).
func (c *CBOR) WriteError(w http.ResponseWriter, action string, e *Error) {
	SetHeaders(w.Header(), NewRequestID())
	w.Header().Set("Content-Type", CBORContentType)
	b, err := c.ResponseCBOR(action, e.Status, e.Body())
	if err != nil {
		b = cborError(e.Type, e.Message)
	}
	w.WriteHeader(e.Status)
	w.Write(b)
}

// EventCBOR transcodes the JSON payload of an event (member event of the operation's output
// event stream member stream) into CBOR.
func (c *CBOR) EventCBOR(action, stream, event string, payload []byte) ([]byte, error) {
	return encodeCBOR(c.ops()[action].out.member(stream).member(event), payload)
}

// encodeCBOR transcodes one JSON document into CBOR under n. It walks the document with
// decode.go's nodes, which slice the body instead of building encoding/json's generic values:
// a GetRecords answer of 1,000 records transcoded twice as fast.
func encodeCBOR(n *cborNode, body []byte) ([]byte, error) {
	body = bytes.TrimSpace(body)
	if !json.Valid(body) {
		return nil, errCBOR
	}
	v, err := jsonToCBORValue(node(body), n)
	if err != nil {
		return nil, err
	}
	return cborEnc.Marshal(v)
}

func jsonToCBORValue(j node, n *cborNode) (any, error) {
	switch j.kind() {
	case kindObject:
		m := j.object()
		out := make(map[string]any, len(m))
		for k, e := range m {
			next := n.member(k)
			if n != nil && n.elem != nil {
				next = n.elem
			}
			v, err := jsonToCBORValue(e, next)
			if err != nil {
				return nil, err
			}
			out[k] = v
		}
		return out, nil
	case kindArray:
		a := j.array()
		out := make([]any, len(a))
		for i, e := range a {
			v, err := jsonToCBORValue(e, n.element())
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case kindString:
		if n.is(CBORBlob) {
			if inner := j[1 : len(j)-1]; bytes.IndexByte(inner, '\\') < 0 {
				b := make([]byte, base64.StdEncoding.DecodedLen(len(inner)))
				k, err := base64.StdEncoding.Decode(b, inner)
				return b[:k], err
			}
			return base64.StdEncoding.DecodeString(j.str())
		}
		return j.str(), nil
	case kindBool:
		return j[0] == 't', nil
	case kindNull:
		return nil, nil
	}
	num := string(j)
	if n.is(CBORTimestamp) {
		f, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return nil, err
		}
		ms := math.Round(f * 1000)
		if math.Abs(ms) < 1<<63 {
			return cbor.Tag{Number: 1, Content: int64(ms)}, nil
		}
		return cbor.Tag{Number: 1, Content: ms}, nil
	}
	if i, err := strconv.ParseInt(num, 10, 64); err == nil {
		return i, nil
	}
	if u, err := strconv.ParseUint(num, 10, 64); err == nil {
		return u, nil
	}
	return strconv.ParseFloat(num, 64)
}

// CBORErrorType returns the __type of a CBOR error answer, or "". It reads the bytes rather
// than decoding them because the request log holds only the start of a body.
func CBORErrorType(body []byte) string {
	i := bytes.Index(body, []byte("\x66__type"))
	if i < 0 {
		return ""
	}
	v := body[i+len("\x66__type"):]
	var n, off int
	switch {
	case len(v) > 0 && v[0] >= 0x60 && v[0] < 0x78:
		n, off = int(v[0]-0x60), 1
	case len(v) > 1 && v[0] == 0x78:
		n, off = int(v[1]), 2
	default:
		return ""
	}
	if len(v) < off+n {
		return ""
	}
	return string(v[off : off+n])
}
