package mapping

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Input is one request as the template sees it.
type Input struct {
	// Body is the raw request payload ($input.body). AWS reads an empty body as "{}".
	Body []byte
	// Params are the method request parameters for $input.params.
	Params Params
	// Context holds the $context values, nested as AWS names them: "identity" maps to a
	// map holding "sourceIp", and so on. Values are strings, numbers, booleans, nil, nested
	// map[string]any or []any.
	Context map[string]any
	// StageVariables are $stageVariables.
	StageVariables map[string]string
	// Vars are extra top-level variables, in the same value forms as Context.
	Vars map[string]any
	// NoOverrides leaves $context.responseOverride and $context.requestOverride out of
	// $context, sparing their maps, for a caller that knows the template reads $context only
	// as $context.name with names of Context entries: such a template cannot tell.
	NoOverrides bool
}

// Params are the request's path, query string and header parameters.
type Params struct {
	Path        map[string]string
	QueryString map[string]string
	Header      map[string]string
}

// Overrides are the values a template set in $context.responseOverride and
// $context.requestOverride.
type Overrides struct {
	// Status is $context.responseOverride.status, or 0 when the template did not set it.
	Status        int
	Header        map[string]string // $context.responseOverride.header.X
	RequestHeader map[string]string // $context.requestOverride.header.X
	RequestPath   map[string]string // $context.requestOverride.path.X
	RequestQuery  map[string]string // $context.requestOverride.querystring.X
}

type overrideMaps struct {
	resp, respHeader, reqHeader, reqPath, reqQuery *vmap
}

func (o *overrideMaps) read() *Overrides {
	out := &Overrides{
		Header:        stringMap(o.respHeader),
		RequestHeader: stringMap(o.reqHeader),
		RequestPath:   stringMap(o.reqPath),
		RequestQuery:  stringMap(o.reqQuery),
	}
	if v, ok := o.resp.Get("status"); ok {
		switch v := v.(type) {
		case int64:
			if v >= 0 && v < 1000 {
				out.Status = int(v)
			}
		case string:
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 && n < 1000 {
				out.Status = n
			}
		}
	}
	return out
}

func stringMap(m *vmap) map[string]string {
	if m == nil || m.Len() == 0 {
		return nil
	}
	out := make(map[string]string, m.Len())
	for i, k := range m.keys {
		out[k] = toString(m.vals[i])
	}
	return out
}

// subMap returns m[key] if it is a map, else puts fresh there and returns it.
func subMap(m *vmap, key string, fresh *vmap) *vmap {
	if v, ok := m.Get(key); ok {
		if sm, ok := v.(*vmap); ok {
			return sm
		}
	}
	m.Put(key, fresh)
	return fresh
}

// overrideStore holds a render's override maps and their entries in one allocation: every
// render that reads $context makes them, and few set anything in them.
type overrideStore struct {
	o                                                   overrideMaps
	resp, respHeader, req, reqHeader, reqPath, reqQuery vmap
	respKeys                                            [1]string
	respVals                                            [1]any
	reqKeys                                             [3]string
	reqVals                                             [3]any
}

// newContext builds $context from the request's values and adds the writable override maps.
func newContext(in map[string]any) (*vmap, *overrideMaps, error) {
	ctx, err := mapFromGo(in, 2, func(v any) (any, error) { return fromGo(v, 1) })
	if err != nil {
		return nil, nil, fmt.Errorf("mapping: context: %w", err)
	}
	st := &overrideStore{}
	st.resp.keys, st.resp.vals = st.respKeys[:0], st.respVals[:0]
	st.req.keys, st.req.vals = st.reqKeys[:0], st.reqVals[:0]
	o := &st.o
	o.resp = subMap(ctx, "responseOverride", &st.resp)
	o.respHeader = subMap(o.resp, "header", &st.respHeader)
	req := subMap(ctx, "requestOverride", &st.req)
	o.reqHeader = subMap(req, "header", &st.reqHeader)
	o.reqPath = subMap(req, "path", &st.reqPath)
	o.reqQuery = subMap(req, "querystring", &st.reqQuery)
	return ctx, o, nil
}

// mapFromGo converts a Go map into a vmap ordered by key, with room for extra more entries.
func mapFromGo[V any](v map[string]V, extra int, conv func(V) (any, error)) (*vmap, error) {
	m := newVMapSize(len(v) + extra)
	for k := range v {
		m.keys = append(m.keys, k)
	}
	sort.Strings(m.keys)
	for _, k := range m.keys {
		c, err := conv(v[k])
		if err != nil {
			return nil, err
		}
		m.vals = append(m.vals, c)
	}
	m.mods = len(m.keys)
	if len(m.keys) > smallVMap {
		m.reindex()
	}
	return m, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// fromGo converts plain Go data (as decoded by encoding/json, or built by hand) into template
// values. Maps are ordered by key, since Go maps have no order.
func fromGo(v any, depth int) (any, error) {
	if depth > MaxJSONDepth {
		return nil, errors.New("nested too deeply")
	}
	switch v := v.(type) {
	case nil, bool, string, int64, float64, *decimal, *vlist, *vmap:
		return v, nil
	case int:
		return int64(v), nil
	case int32:
		return int64(v), nil
	case uint32:
		return int64(v), nil
	case float32:
		return float64(v), nil
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i, nil
		}
		f, err := v.Float64()
		if err != nil {
			return nil, err
		}
		return f, nil
	case []string:
		l := &vlist{Items: make([]any, len(v))}
		for i, s := range v {
			l.Items[i] = s
		}
		return l, nil
	case []any:
		l := &vlist{Items: make([]any, len(v))}
		for i, x := range v {
			c, err := fromGo(x, depth+1)
			if err != nil {
				return nil, err
			}
			l.Items[i] = c
		}
		return l, nil
	case map[string]string:
		return mapFromGo(v, 0, func(s string) (any, error) { return s, nil })
	case map[string]any:
		return mapFromGo(v, 0, func(x any) (any, error) { return fromGo(x, depth+1) })
	}
	return nil, fmt.Errorf("unsupported value of type %T", v)
}

// inputObj is $input. The body is parsed at most once per render.
type inputObj struct {
	in       *Input
	bodyText *string
	parsed   bool
	doc      any
	docErr   error
}

func (o *inputObj) String() string { return "$input" }

// body returns the payload as AWS sees it: an empty body reads as "{}" (A.1, recorded), and
// the bytes are a Java string, so invalid UTF-8 has become U+FFFD.
func (o *inputObj) body() string {
	if len(o.in.Body) == 0 {
		return "{}"
	}
	if o.bodyText == nil {
		t := javaUTF8(o.in.Body)
		o.bodyText = &t
	}
	return *o.bodyText
}

// javaUTF8 decodes bytes the way new String(bytes, UTF_8) does, replacing each malformed
// byte with U+FFFD.
func javaUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	for len(b) > 0 {
		r, w := utf8.DecodeRune(b)
		if r == utf8.RuneError && w == 1 {
			// Java replaces the longest valid prefix of a broken sequence with one U+FFFD
			// (Unicode's "maximal subpart" practice, probed with the JDK's decoder); Go's
			// decoder would give one per byte.
			w = maximalSubpart(b)
		}
		sb.WriteRune(r)
		b = b[w:]
	}
	return sb.String()
}

// maximalSubpart is the length of the start of b that begins a UTF-8 sequence but does not
// complete it (at least 1).
func maximalSubpart(b []byte) int {
	c := b[0]
	var n int
	lo, hi := byte(0x80), byte(0xBF)
	switch {
	case c >= 0xC2 && c <= 0xDF:
		n = 2
	case c >= 0xE0 && c <= 0xEF:
		n = 3
		// Java's decoder also reads an encoded surrogate (ED A0-BF xx) as one broken
		// sequence, so ED takes any continuation byte here.
		if c == 0xE0 {
			lo = 0xA0
		}
	case c >= 0xF0 && c <= 0xF4:
		n = 4
		if c == 0xF0 {
			lo = 0x90
		} else if c == 0xF4 {
			hi = 0x8F
		}
	default:
		return 1
	}
	i := 1
	for ; i < n && i < len(b); i++ {
		if b[i] < lo || b[i] > hi {
			break
		}
		lo, hi = 0x80, 0xBF
	}
	return i
}

// javaBase64Decode is java.util.Base64.getDecoder().decode(String), which AWS's
// $util.base64Decode runs: the standard alphabet, padding optional but, when present, only
// in its place ("YQ" and "YQ==" decode, "YQ=" does not), unused low bits ignored, and any
// other character (a line break, a space, the URL-safe '-' and '_', non-ASCII) an error.
func javaBase64Decode(s string) ([]byte, error) {
	out := make([]byte, 0, len(s)*3/4)
	bits, shift := 0, 18
	i := 0
	for i < len(s) {
		c := s[i]
		i++
		var v int
		switch {
		case c >= 'A' && c <= 'Z':
			v = int(c - 'A')
		case c >= 'a' && c <= 'z':
			v = int(c-'a') + 26
		case c >= '0' && c <= '9':
			v = int(c-'0') + 52
		case c == '+':
			v = 62
		case c == '/':
			v = 63
		case c == '=':
			if shift == 6 && (i == len(s) || s[i] != '=') || shift == 18 {
				return nil, errors.New("java.lang.IllegalArgumentException: Input byte array has wrong 4-byte ending unit")
			}
			if shift == 6 {
				i++ // the second '='
			}
			goto end
		default:
			if c >= utf8.RuneSelf {
				c = '?' // Java encodes the string as ISO-8859-1 first
			}
			return nil, fmt.Errorf("java.lang.IllegalArgumentException: Illegal base64 character %x", c)
		}
		bits |= v << shift
		shift -= 6
		if shift < 0 {
			out = append(out, byte(bits>>16), byte(bits>>8), byte(bits))
			bits, shift = 0, 18
		}
	}
end:
	switch shift {
	case 6:
		out = append(out, byte(bits>>16))
	case 0:
		out = append(out, byte(bits>>16), byte(bits>>8))
	case 12:
		return nil, errors.New("java.lang.IllegalArgumentException: Last unit does not have enough valid bits")
	}
	if i < len(s) {
		return nil, fmt.Errorf("java.lang.IllegalArgumentException: Input byte array has incorrect ending byte at %d", i)
	}
	return out, nil
}

func (o *inputObj) document() (any, error) {
	if !o.parsed {
		o.parsed = true
		o.doc, o.docErr = parseJSON(o.body(), true)
	}
	return o.doc, o.docErr
}

func (o *inputObj) property(name string) any {
	if name == "body" {
		return o.body()
	}
	return nil
}

func (o *inputObj) call(name string, args []any) (any, bool, error) {
	switch {
	case name == "getBody" && len(args) == 0:
		return o.body(), true, nil
	case name == "params" && len(args) == 0:
		m := newVMap()
		p := o.in.Params
		for _, part := range []struct {
			key string
			m   map[string]string
		}{{"path", p.Path}, {"querystring", p.QueryString}, {"header", p.Header}} {
			sm := newVMap()
			for _, k := range sortedKeys(part.m) {
				sm.Put(k, part.m[k])
			}
			m.Put(part.key, sm)
		}
		return m, true, nil
	case name == "params" && len(args) == 1:
		key, ok := args[0].(string)
		if !ok {
			return nil, false, nil
		}
		p := o.in.Params
		if v, ok := p.Path[key]; ok {
			return v, true, nil
		}
		if v, ok := p.QueryString[key]; ok {
			return v, true, nil
		}
		if v, ok := p.Header[key]; ok {
			return v, true, nil
		}
		// HTTP header names are case-insensitive; AWS's exact behaviour here is unrecorded.
		for _, k := range sortedKeys(p.Header) {
			if strings.EqualFold(k, key) {
				return p.Header[k], true, nil
			}
		}
		// Not found: empty string, as LocalStack does (unverified for AWS).
		return "", true, nil
	case (name == "path" || name == "json") && len(args) == 1:
		expr, ok := args[0].(string)
		if !ok {
			return nil, false, nil
		}
		jp, err := parsePath(expr)
		if err != nil {
			return nil, true, err
		}
		doc, derr := o.document()
		if derr != nil {
			// API Gateway fails the request (awsDifferences in golden_test.go).
			return nil, true, &BodyError{JSON: derr.(*JSONError)}
		}
		v, found, err := jp.eval(doc)
		if err != nil {
			return nil, true, err
		}
		if name == "path" {
			if !found {
				return nil, true, nil
			}
			return v, true, nil
		}
		if !found {
			// LocalStack's choice for a missing path (unverified for AWS).
			return `""`, true, nil
		}
		var b strings.Builder
		writeJSON(&b, v)
		return b.String(), true, nil
	}
	return nil, false, nil
}

// BodyError is why a render failed that read, through $input.path or $input.json, a body
// that is not JSON. API Gateway answers such a request 400 with Error's text as the message
// (widely reported; the rest of its text is Jackson's description, ours is JSONError's).
type BodyError struct {
	JSON *JSONError
}

func (e *BodyError) Error() string {
	return "Could not parse request body into json: Could not parse payload into json: " + e.JSON.Error()
}

// utilObj is $util.
type utilObj struct{}

func (utilObj) String() string { return "$util" }

func (utilObj) property(string) any { return nil }

func (utilObj) call(name string, args []any) (any, bool, error) {
	if len(args) != 1 {
		return nil, false, nil
	}
	if args[0] == nil {
		// A null argument gives a null result, which prints as nothing: AWS renders
		// EncodedBodyAccess= for $util.urlEncode of a missing property (A.1, recorded).
		switch name {
		case "escapeJavaScript", "parseJson", "urlEncode", "urlDecode", "base64Encode", "base64Decode":
			return nil, true, nil
		}
		return nil, false, nil
	}
	var s string
	switch a := args[0].(type) {
	case string:
		s = a
	case *vlist, *vmap:
		s = toString(a)
	default:
		// Numbers and booleans are converted to text rather than failing the method lookup
		// as stock Velocity would; AWS's method signatures are not documented.
		s = toString(a)
	}
	switch name {
	case "escapeJavaScript":
		return escapeJavaScript(s), true, nil
	case "parseJson":
		v, err := parseJSON(s, true)
		if err != nil {
			return nil, true, err
		}
		return v, true, nil
	case "urlEncode":
		return urlEncode(s), true, nil
	case "urlDecode":
		v, err := urlDecode(s)
		return v, true, err
	case "base64Encode":
		return base64.StdEncoding.EncodeToString([]byte(s)), true, nil
	case "base64Decode":
		b, err := javaBase64Decode(s)
		if err != nil {
			return nil, true, err
		}
		return javaUTF8(b), true, nil
	}
	return nil, false, nil
}

// escapeJavaScript is Apache Commons Lang 2.6 StringEscapeUtils.escapeJavaScript, which AWS's
// $util.escapeJavaScript matches (it turns ' into \'): quotes, backslash and slash are escaped,
// \b \t \n \f \r use short forms, other control characters and everything above 0x7E use
// \uXXXX with upper-case hex, one escape per UTF-16 unit.
func escapeJavaScript(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	u4 := func(c uint16) {
		b.WriteString(`\u`)
		b.WriteByte(hex[c>>12])
		b.WriteByte(hex[c>>8&0xf])
		b.WriteByte(hex[c>>4&0xf])
		b.WriteByte(hex[c&0xf])
	}
	for _, r := range s {
		switch {
		case r >= 0x10000:
			r1, r2 := utf16.EncodeRune(r)
			u4(uint16(r1))
			u4(uint16(r2))
		case r > 0x7f:
			u4(uint16(r))
		case r < 0x20:
			switch r {
			case '\b':
				b.WriteString(`\b`)
			case '\n':
				b.WriteString(`\n`)
			case '\t':
				b.WriteString(`\t`)
			case '\f':
				b.WriteString(`\f`)
			case '\r':
				b.WriteString(`\r`)
			default:
				u4(uint16(r))
			}
		case r == '\'':
			b.WriteString(`\'`)
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '/':
			b.WriteString(`\/`)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// urlEncode is Java's URLEncoder.encode(s, "UTF-8"): letters, digits and . - * _ stay, space
// becomes +, everything else is %XX of its UTF-8 bytes.
func urlEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '*' || c == '_':
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		}
	}
	return b.String()
}

// urlDecode is Java's URLDecoder.decode(s, "UTF-8"), which rejects malformed % escapes.
func urlDecode(s string) (string, error) {
	if !strings.ContainsAny(s, "%+") {
		return s, nil
	}
	v, err := url.QueryUnescape(s)
	if err != nil {
		return "", fmt.Errorf("urlDecode: %v", err)
	}
	return javaUTF8([]byte(v)), nil
}
