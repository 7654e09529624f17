package mapping

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Values at render time are a closed set: nil, bool, string, int64, *big.Int, float64,
// *decimal, *vlist, *vmap, *entry and the built-in objects. int64 stands for Java's Integer
// and Long (Velocity widens Integer to Long on overflow, so one Go type behaves the same);
// *big.Int is BigInteger, float64 Java's Double and *decimal BigDecimal.

// vlist is a Velocity list. JSON marks lists that came from a JSON document ($input.path,
// $util.parseJson): AWS prints those as compact JSON (json-smart's JSONArray), while lists
// made in the template print as Java's [a, b].
type vlist struct {
	Items []any
	JSON  bool
	mods  int // structural changes, for #foreach's fail-fast check (Java's modCount)
	// view is the map a keySet, values or entrySet copy was taken from: in Java they are
	// views, so a loop over one fails when the map changes size.
	view *vmap
}

// vmap is an insertion-ordered map with string keys, printed as Java's {k=v, k2=v2}.
// Keys and values sit in parallel slices; a Go map indexes them only once there are more
// than smallVMap entries, since most maps a render makes ($context and its override maps,
// small JSON objects) hold a few keys, and finding one of those by scanning is cheaper
// than allocating and filling a map.
type vmap struct {
	keys []string
	vals []any
	idx  map[string]int // key → position in keys and vals; nil while the map is small
	mods int            // structural changes, for #foreach's fail-fast check (Java's modCount)
}

const smallVMap = 8

// newVMap returns an empty vmap.
func newVMap() *vmap { return &vmap{} }

// newVMapSize returns an empty vmap with room for n entries.
func newVMapSize(n int) *vmap {
	if n == 0 {
		return &vmap{}
	}
	return &vmap{keys: make([]string, 0, n), vals: make([]any, 0, n)}
}

func (m *vmap) find(key string) int {
	if m.idx != nil {
		if i, ok := m.idx[key]; ok {
			return i
		}
		return -1
	}
	for i, k := range m.keys {
		if k == key {
			return i
		}
	}
	return -1
}

// Get returns the value for key.
func (m *vmap) Get(key string) (any, bool) {
	if i := m.find(key); i >= 0 {
		return m.vals[i], true
	}
	return nil, false
}

// at returns the value for key, nil when it is absent.
func (m *vmap) at(key string) any {
	v, _ := m.Get(key)
	return v
}

// Put sets key to v, keeping the key's first insertion position, and returns the old value.
func (m *vmap) Put(key string, v any) any {
	if i := m.find(key); i >= 0 {
		old := m.vals[i]
		m.vals[i] = v
		return old
	}
	m.keys = append(m.keys, key)
	m.vals = append(m.vals, v)
	m.mods++
	switch n := len(m.keys); {
	case m.idx != nil:
		m.idx[key] = n - 1
	case n > smallVMap:
		m.reindex()
	}
	return nil
}

func (m *vmap) reindex() {
	m.idx = make(map[string]int, len(m.keys))
	for i, k := range m.keys {
		m.idx[k] = i
	}
}

// Remove deletes key and returns its value.
func (m *vmap) Remove(key string) any {
	i := m.find(key)
	if i < 0 {
		return nil
	}
	old := m.vals[i]
	m.mods++
	// Fresh slices: a list made from the keys or values may still share the old ones.
	m.keys = append(m.keys[:i:i], m.keys[i+1:]...)
	m.vals = append(m.vals[:i:i], m.vals[i+1:]...)
	if m.idx != nil {
		m.reindex()
	}
	return old
}

// clear removes every entry.
func (m *vmap) clear() {
	m.keys, m.vals, m.idx = nil, nil, nil
	m.mods++
}

// Keys returns the keys in insertion order.
func (m *vmap) Keys() []string { return m.keys }

// Len returns the number of entries.
func (m *vmap) Len() int { return len(m.keys) }

// entry is an element of $map.entrySet().
type entry struct {
	key string
	val any
}

// toString renders a value as Java's String.valueOf would, with AWS's rule for JSON lists.
func toString(v any) string {
	if s, ok := v.(string); ok {
		return s // as writeString would copy it
	}
	var b strings.Builder
	writeString(&b, v, 0)
	return b.String()
}

// maxPrintDepth stops printing structures that contain themselves (Java would overflow its
// stack); printing also stops once the text passes MaxOutputSize, which the caller reports.
const maxPrintDepth = 200

func writeString(b *strings.Builder, v any, depth int) {
	if depth > maxPrintDepth || b.Len() > MaxOutputSize {
		b.WriteString("...")
		return
	}
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		b.WriteString(v)
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case int64:
		b.WriteString(strconv.FormatInt(v, 10))
	case *big.Int:
		b.WriteString(v.String())
	case *decimal:
		b.WriteString(v.String())
	case float64:
		b.WriteString(javaDouble(v))
	case *vlist:
		if v.JSON {
			writeJSONDepth(b, v, depth)
			return
		}
		b.WriteByte('[')
		for i, x := range v.Items {
			if i > 0 {
				b.WriteString(", ")
			}
			if x == v {
				b.WriteString("(this Collection)")
				continue
			}
			writeString(b, x, depth+1)
		}
		b.WriteByte(']')
	case *vmap:
		b.WriteByte('{')
		for i, k := range v.keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(k)
			b.WriteByte('=')
			if x := v.vals[i]; x == v {
				b.WriteString("(this vmap)")
			} else {
				writeString(b, x, depth+1)
			}
		}
		b.WriteByte('}')
	case *entry:
		b.WriteString(v.key)
		b.WriteByte('=')
		writeString(b, v.val, depth+1)
	case builtin:
		b.WriteString(v.String())
	default:
		fmt.Fprint(b, v)
	}
}

// javaDouble formats f as Java's Double.toString: plain decimal with at least one fractional
// digit for 1e-3 <= |f| < 1e7, otherwise computerized scientific notation ("1.0E7").
func javaDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	abs := math.Abs(f)
	if abs >= 1e-3 && abs < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // e.g. 1.5e+07
	mant, exp, _ := strings.Cut(s, "e")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	e, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(e)
}

// writeJSON writes v as compact JSON, the way json-smart prints AWS's JSON values.
func writeJSON(b *strings.Builder, v any) { writeJSONDepth(b, v, 0) }

func writeJSONDepth(b *strings.Builder, v any, depth int) {
	if depth > maxPrintDepth || b.Len() > MaxOutputSize {
		b.WriteString("null")
		return
	}
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		writeJSONString(b, v)
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case int64:
		b.WriteString(strconv.FormatInt(v, 10))
	case *big.Int:
		b.WriteString(v.String())
	case *decimal:
		b.WriteString(v.String())
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			b.WriteString("null")
			return
		}
		b.WriteString(javaDouble(v))
	case *vlist:
		b.WriteByte('[')
		for i, x := range v.Items {
			if i > 0 {
				b.WriteByte(',')
			}
			if x == v {
				b.WriteString("null")
				continue
			}
			writeJSONDepth(b, x, depth+1)
		}
		b.WriteByte(']')
	case *vmap:
		b.WriteByte('{')
		for i, k := range v.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, k)
			b.WriteByte(':')
			if x := v.vals[i]; x == v {
				b.WriteString("null")
			} else {
				writeJSONDepth(b, x, depth+1)
			}
		}
		b.WriteByte('}')
	default:
		writeJSONString(b, toString(v))
	}
}

// writeJSONString escapes like json-smart's default style (checked with json-smart 2.2): the
// short escapes, "\/" for a slash, and \uXXXX (upper-case hex) for control characters,
// U+007F-U+009F and U+2000-U+20FF.
func writeJSONString(b *strings.Builder, s string) {
	const hex = "0123456789ABCDEF"
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '/':
			b.WriteString(`\/`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20 || r >= 0x7f && r <= 0x9f || r >= 0x2000 && r <= 0x20ff:
			b.WriteString(`\u`)
			b.WriteByte(hex[r>>12&0xf])
			b.WriteByte(hex[r>>8&0xf])
			b.WriteByte(hex[r>>4&0xf])
			b.WriteByte(hex[r&0xf])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// truthy follows Velocity 1.7: only null and false are false (an empty string is true).
func truthy(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	}
	return true
}

func isNumber(v any) bool {
	switch v.(type) {
	case int64, float64, *big.Int, *decimal:
		return true
	}
	return false
}

func toFloat(v any) float64 {
	switch v := v.(type) {
	case int64:
		return float64(v)
	case *big.Int:
		f, _ := new(big.Float).SetInt(v).Float64()
		return f
	case float64:
		return v
	case *decimal:
		return v.float()
	}
	return 0
}

// toBig returns an integer value as a big.Int, and false for a double.
func toBig(v any) (*big.Int, bool) {
	switch v := v.(type) {
	case int64:
		return big.NewInt(v), true
	case *big.Int:
		return v, true
	}
	return nil, false
}

// valuesEqual implements ==. Numbers compare by value; values of different kinds compare by
// their string forms, as Velocity 1.7's ASTEQNode does. AWS's recorded rule: null (an
// undefined reference or a missing $input.path value) equals both null and the empty string.
func valuesEqual(a, b any) bool {
	if a == nil || b == nil {
		if a == nil && b == nil {
			return true
		}
		other := a
		if a == nil {
			other = b
		}
		s, ok := other.(string)
		return ok && s == ""
	}
	if isNumber(a) && isNumber(b) {
		return compareNumbers(a, b) == 0
	}
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok {
			return x == y
		}
	case bool:
		if y, ok := b.(bool); ok {
			return x == y
		}
	case *vlist:
		if y, ok := b.(*vlist); ok {
			return listsEqual(x, y)
		}
	case *vmap:
		if y, ok := b.(*vmap); ok {
			return mapsEqual(x, y)
		}
	}
	return toString(a) == toString(b)
}

func listsEqual(a, b *vlist) bool { return listsEqualDepth(a, b, 0) }

func listsEqualDepth(a, b *vlist, depth int) bool {
	if a == b {
		return true
	}
	if len(a.Items) != len(b.Items) {
		return false
	}
	if depth > maxPrintDepth {
		return false
	}
	for i := range a.Items {
		if !javaEqualsDepth(a.Items[i], b.Items[i], depth+1) {
			return false
		}
	}
	return true
}

func mapsEqual(a, b *vmap) bool { return mapsEqualDepth(a, b, 0) }

func mapsEqualDepth(a, b *vmap, depth int) bool {
	if a == b {
		return true
	}
	if a.Len() != b.Len() {
		return false
	}
	if depth > maxPrintDepth {
		return false
	}
	for i, k := range a.keys {
		v := a.vals[i]
		w, ok := b.Get(k)
		if !ok || !javaEqualsDepth(v, w, depth+1) {
			return false
		}
	}
	return true
}

// javaEquals is Java's Object.equals: unlike ==, an Integer never equals a Double.
func javaEquals(a, b any) bool { return javaEqualsDepth(a, b, 0) }

func javaEqualsDepth(a, b any, depth int) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case int64:
		y, ok := b.(int64)
		return ok && x == y
	case *big.Int:
		y, ok := b.(*big.Int)
		return ok && x.Cmp(y) == 0
	case float64:
		y, ok := b.(float64)
		return ok && x == y
	case *decimal:
		// BigDecimal.equals also compares scales: 1.0 is not 1.00.
		y, ok := b.(*decimal)
		return ok && x.scale == y.scale && x.u.Cmp(y.u) == 0
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case *vlist:
		y, ok := b.(*vlist)
		return ok && listsEqualDepth(x, y, depth)
	case *vmap:
		y, ok := b.(*vmap)
		return ok && mapsEqualDepth(x, y, depth)
	}
	return a == b
}

func compareNumbers(a, b any) int {
	if x, ok := a.(int64); ok {
		if y, ok := b.(int64); ok {
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		}
	}
	if x, ok := toBig(a); ok {
		if y, ok := toBig(b); ok {
			return x.Cmp(y)
		}
	}
	if decimalBase(a, b) {
		if x, ok := toDecimal(a); ok {
			if y, ok := toDecimal(b); ok {
				return x.cmp(y)
			}
		}
	}
	x, y := toFloat(a), toFloat(b)
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// arith applies + - * / % to numbers as Velocity 1.7's MathUtils does: integers stay
// integers (Java division truncates), anything with a decimal is double arithmetic (probed:
// 0.1 * 3 is 0.30000000000000004). An integer result that overflows a long becomes a
// BigInteger, and arithmetic with a BigInteger stays BigInteger; division or remainder by zero
// yields null, as Velocity logs the error and returns null. A BigDecimal operand, or a
// BigInteger with a double, is BigDecimal arithmetic (decimalArith).
func arith(op string, a, b any) any {
	if decimalBase(a, b) {
		return decimalArith(op, a, b)
	}
	x, xi := a.(int64)
	y, yi := b.(int64)
	if xi && yi {
		switch op {
		case "+":
			if r := x + y; (r > x) == (y > 0) {
				return r
			}
		case "-":
			if r := x - y; (r < x) == (y > 0) {
				return r
			}
		case "*":
			if x == 0 || y == 0 {
				return int64(0)
			}
			// Velocity 1.7's overflow test, which misses Long.MIN_VALUE * -1 (Java wraps it
			// to itself) but not -1 * Long.MIN_VALUE (probed).
			if r := x * y; r/y == x {
				return r
			}
		case "/":
			if y == 0 {
				return nil
			}
			if x == math.MinInt64 && y == -1 {
				// Java's long division wraps here.
				return x
			}
			return x / y
		case "%":
			if y == 0 {
				return nil
			}
			if y == -1 {
				return int64(0)
			}
			return x % y
		}
	}
	if x, ok := toBig(a); ok {
		if y, ok := toBig(b); ok {
			return bigArith(op, x, y)
		}
	}
	return floatArith(op, toFloat(a), toFloat(b))
}

// bigArith is BigInteger arithmetic. Two longs whose result overflowed get a BigInteger;
// a result from BigInteger operands stays BigInteger, as Velocity's is, even when it is small.
func bigArith(op string, x, y *big.Int) any {
	r := new(big.Int)
	switch op {
	case "+":
		r.Add(x, y)
	case "-":
		r.Sub(x, y)
	case "*":
		r.Mul(x, y)
	case "/", "%":
		if y.Sign() == 0 {
			return nil
		}
		if op == "/" {
			r.Quo(x, y) // truncated, as Java's
			break
		}
		// Velocity takes BigInteger.mod, which is never negative and throws for a
		// modulus that is not positive (probed).
		if y.Sign() < 0 {
			return errBigMod
		}
		r.Mod(x, y)
	}
	if r.BitLen() > maxBigBits {
		return floatArith(op, toFloat(x), toFloat(y))
	}
	return r
}

// errBigMod is the result of a BigInteger remainder by a negative number; the caller reports
// it as Java's ArithmeticException.
var errBigMod = errors.New("BigInteger: modulus not positive")

// maxBigBits bounds BigInteger results, so repeated squaring cannot eat memory; past it the
// arithmetic is double (Infinity), where Java would carry on.
const maxBigBits = 4096

func floatArith(op string, x, y float64) any {
	switch op {
	case "+":
		return x + y
	case "-":
		return x - y
	case "*":
		return x * y
	case "/":
		if y == 0 {
			return nil
		}
		return x / y
	case "%":
		if y == 0 {
			return nil
		}
		return math.Mod(x, y)
	}
	return nil
}
