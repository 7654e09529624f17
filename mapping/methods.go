package mapping

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"
	"unicode"
	"unicode/utf16"
)

// builtin is an object with its own property and method table: $input, $util, $foreach.
type builtin interface {
	String() string
	property(name string) any
	call(name string, args []any) (any, bool, error)
}

// loopState is $foreach inside a #foreach.
type loopState struct {
	index   int
	hasNext bool
	parent  *loopState
}

func (l *loopState) String() string { return "foreach" }

func (l *loopState) property(name string) any {
	switch name {
	case "index":
		return int64(l.index)
	case "count":
		return int64(l.index + 1)
	case "hasNext":
		return l.hasNext
	case "first":
		return l.index == 0
	case "last":
		return !l.hasNext
	case "parent":
		if l.parent == nil {
			return nil
		}
		return l.parent
	}
	return nil
}

func (l *loopState) call(name string, args []any) (any, bool, error) {
	if len(args) != 0 {
		return nil, false, nil
	}
	switch name {
	case "getIndex":
		name = "index"
	case "getCount":
		name = "count"
	case "getHasNext":
		name = "hasNext"
	case "isFirst", "getFirst":
		name = "first"
	case "isLast", "getLast":
		name = "last"
	case "getParent":
		name = "parent"
	}
	v := l.property(name)
	return v, v != nil, nil
}

// errIndex mirrors Java's IndexOutOfBoundsException: Velocity turns it into a render error.
var errIndex = errors.New("index out of range")

// javaUpperSpecial holds the unconditional one-to-many upper-case mappings of Unicode's
// SpecialCasing.txt outside Greek, which Java's toUpperCase applies and Go's ToUpper (one rune
// to one rune) does not: "straße" is "STRASSE" in Java (probed).
var javaUpperSpecial = strings.NewReplacer(
	"ß", "SS", "ŉ", "ʼN", "ǰ", "J̌", "և", "ԵՒ", "ẖ", "H̱", "ẗ", "T̈", "ẘ", "W̊", "ẙ", "Y̊", "ẚ", "Aʾ",
	"ﬀ", "FF", "ﬁ", "FI", "ﬂ", "FL", "ﬃ", "FFI", "ﬄ", "FFL", "ﬅ", "ST", "ﬆ", "ST",
	"ﬓ", "ՄՆ", "ﬔ", "ՄԵ", "ﬕ", "ՄԻ", "ﬖ", "ՎՆ", "ﬗ", "ՄԽ")

// javaLower is Java's toLowerCase: Go's ToLower plus its two context rules that change
// text in every locale: İ becomes i and a combining dot, and a capital sigma that ends a word
// becomes the final form ς (probed).
func javaLower(s string) string {
	if !strings.ContainsAny(s, "İΣ") {
		return strings.ToLower(s)
	}
	rs := []rune(s)
	var b strings.Builder
	for i, r := range rs {
		switch {
		case r == 'İ':
			b.WriteString("i\u0307")
		case r == 'Σ' && finalSigma(rs, i):
			b.WriteRune('ς')
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// finalSigma is Unicode's Final_Sigma condition: a cased letter before rs[i] and none after
// it, skipping case-ignorable characters both ways.
func finalSigma(rs []rune, i int) bool {
	j := i - 1
	for j >= 0 && caseIgnorable(rs[j]) {
		j--
	}
	if j < 0 || !cased(rs[j]) {
		return false
	}
	k := i + 1
	for k < len(rs) && caseIgnorable(rs[k]) {
		k++
	}
	return k == len(rs) || !cased(rs[k])
}

func cased(r rune) bool { return unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r) }

func caseIgnorable(r rune) bool {
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk) ||
		strings.ContainsRune(".:'\u00B7\u2018\u2019\u2024\uFE13\uFE52\uFE55\uFF07\uFF0E\uFF1A", r)
}

// stringNullArg are the String methods with a String or CharSequence parameter, which a
// null argument reaches (a primitive parameter cannot take it: Velocity finds no method).
var stringNullArg = map[string]bool{
	"concat": true, "replace": true, "replaceAll": true, "replaceFirst": true, "contains": true,
	"indexOf": true, "lastIndexOf": true, "startsWith": true, "endsWith": true, "split": true,
	"matches": true, "compareTo": true, "compareToIgnoreCase": true, "equals": true,
	"equalsIgnoreCase": true, "contentEquals": true,
}

// callMethod calls a Java method on a value. found is false when Java would have no method of
// that name for those argument types, which Velocity treats as a null result.
func callMethod(recv any, name string, args []any) (v any, found bool, err error) {
	switch r := recv.(type) {
	case string:
		for _, a := range args {
			if a == nil && stringNullArg[name] {
				// Java's String methods throw NullPointerException for a null String or
				// CharSequence argument; Velocity fails the render (probed).
				if name == "equals" || name == "equalsIgnoreCase" {
					return false, true, nil
				}
				return nil, true, errors.New("java.lang.NullPointerException")
			}
		}
		return stringMethod(r, name, args)
	case *vlist:
		return listMethod(r, name, args)
	case *vmap:
		return mapMethod(r, name, args)
	case int64, float64, *big.Int, *decimal:
		return numberMethod(r, name, args)
	case bool:
		switch {
		case name == "booleanValue" && len(args) == 0:
			return r, true, nil
		}
	case *entry:
		if len(args) == 0 {
			switch name {
			case "getKey":
				return r.key, true, nil
			case "getValue":
				return r.val, true, nil
			}
		}
	case builtin:
		return r.call(name, args)
	}
	switch {
	case name == "toString" && len(args) == 0:
		return toString(recv), true, nil
	case name == "equals" && len(args) == 1:
		return javaEquals(recv, args[0]), true, nil
	}
	return nil, false, nil
}

func intArg(v any) (int, bool) {
	i, ok := v.(int64)
	if !ok || i < math.MinInt32 || i > math.MaxInt32 {
		return 0, false
	}
	return int(i), true
}

// u16 converts to UTF-16 code units: Java's string indexes count those.
func u16(s string) []uint16 { return utf16.Encode([]rune(s)) }

func fromU16(u []uint16) string { return string(utf16.Decode(u)) }

func indexU16(s, sub []uint16, from int) int {
	if from < 0 {
		from = 0
	}
	for i := from; i+len(sub) <= len(s); i++ {
		if equalU16(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

func lastIndexU16(s, sub []uint16, from int) int {
	if from > len(s)-len(sub) {
		from = len(s) - len(sub)
	}
	for i := from; i >= 0; i-- {
		if equalU16(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

func equalU16(a, b []uint16) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func stringMethod(s, name string, args []any) (any, bool, error) {
	str := func(i int) (string, bool) {
		if i >= len(args) {
			return "", false
		}
		v, ok := args[i].(string)
		return v, ok
	}
	switch len(args) {
	case 0:
		switch name {
		case "length":
			return int64(len(u16(s))), true, nil
		case "toLowerCase":
			return javaLower(s), true, nil
		case "toUpperCase":
			return javaUpperSpecial.Replace(strings.ToUpper(s)), true, nil
		case "trim":
			// Java's trim strips every character up to U+0020.
			return strings.TrimFunc(s, func(r rune) bool { return r <= ' ' }), true, nil
		case "isEmpty":
			return s == "", true, nil
		case "toString", "intern":
			return s, true, nil
		case "hashCode":
			var h int32
			for _, c := range u16(s) {
				h = 31*h + int32(c)
			}
			return int64(h), true, nil
		}
	case 1:
		switch name {
		case "charAt":
			i, ok := intArg(args[0])
			if !ok {
				return nil, false, nil
			}
			u := u16(s)
			if i < 0 || i >= len(u) {
				return nil, true, fmt.Errorf("%w: charAt(%d) on a string of length %d", errIndex, i, len(u))
			}
			return fromU16(u[i : i+1]), true, nil
		case "substring":
			i, ok := intArg(args[0])
			if !ok {
				return nil, false, nil
			}
			u := u16(s)
			if i < 0 || i > len(u) {
				return nil, true, fmt.Errorf("%w: substring(%d) on a string of length %d", errIndex, i, len(u))
			}
			return fromU16(u[i:]), true, nil
		case "indexOf", "lastIndexOf", "contains", "startsWith", "endsWith", "concat", "equalsIgnoreCase", "matches", "split", "compareTo":
			a, ok := str(0)
			if !ok {
				if name == "equalsIgnoreCase" {
					return false, true, nil
				}
				return nil, false, nil
			}
			switch name {
			case "indexOf":
				return int64(indexU16(u16(s), u16(a), 0)), true, nil
			case "lastIndexOf":
				u := u16(s)
				return int64(lastIndexU16(u, u16(a), len(u))), true, nil
			case "contains":
				return strings.Contains(s, a), true, nil
			case "startsWith":
				return strings.HasPrefix(s, a), true, nil
			case "endsWith":
				return strings.HasSuffix(s, a), true, nil
			case "concat":
				return s + a, true, nil
			case "equalsIgnoreCase":
				return strings.EqualFold(s, a), true, nil
			case "compareTo":
				x, y := u16(s), u16(a)
				for i := 0; i < len(x) && i < len(y); i++ {
					if x[i] != y[i] {
						return int64(x[i]) - int64(y[i]), true, nil
					}
				}
				return int64(len(x) - len(y)), true, nil
			case "matches":
				re, err := javaRegexp(a, true)
				if err != nil {
					return nil, true, err
				}
				return re.MatchString(s), true, nil
			case "split":
				return javaSplit(s, a, 0)
			}
		case "equals":
			a, ok := args[0].(string)
			return ok && a == s, true, nil
		}
	case 2:
		switch name {
		case "substring":
			i, ok1 := intArg(args[0])
			j, ok2 := intArg(args[1])
			if !ok1 || !ok2 {
				return nil, false, nil
			}
			u := u16(s)
			if i < 0 || j > len(u) || i > j {
				return nil, true, fmt.Errorf("%w: substring(%d, %d) on a string of length %d", errIndex, i, j, len(u))
			}
			return fromU16(u[i:j]), true, nil
		case "indexOf", "lastIndexOf", "startsWith":
			a, ok := str(0)
			from, ok2 := intArg(args[1])
			if !ok || !ok2 {
				return nil, false, nil
			}
			u := u16(s)
			switch name {
			case "indexOf":
				return int64(indexU16(u, u16(a), from)), true, nil
			case "lastIndexOf":
				return int64(lastIndexU16(u, u16(a), from)), true, nil
			}
			if from < 0 || from > len(u) {
				return false, true, nil
			}
			return strings.HasPrefix(fromU16(u[from:]), a), true, nil
		case "replace", "replaceAll", "replaceFirst":
			a, ok1 := str(0)
			b, ok2 := str(1)
			if !ok1 || !ok2 {
				return nil, false, nil
			}
			if name == "replace" {
				n := strings.Count(s, a)
				if len(s)+n*(len(b)-len(a)) > MaxOutputSize {
					return nil, true, fmt.Errorf("result longer than %d bytes", MaxOutputSize)
				}
				return strings.ReplaceAll(s, a, b), true, nil
			}
			re, err := javaRegexp(a, false)
			if err != nil {
				return nil, true, err
			}
			if len(b) > 0 && len(s)+(len(s)+1)*len(b) > MaxOutputSize {
				if n := len(re.FindAllStringIndex(s, -1)); len(s)+n*len(b) > MaxOutputSize {
					return nil, true, fmt.Errorf("result longer than %d bytes", MaxOutputSize)
				}
			}
			repl, err := javaReplacement(b)
			if err != nil {
				return nil, true, err
			}
			if name == "replaceAll" {
				return re.ReplaceAllString(s, repl), true, nil
			}
			loc := re.FindStringSubmatchIndex(s)
			if loc == nil {
				return s, true, nil
			}
			var out []byte
			out = append(out, s[:loc[0]]...)
			out = re.ExpandString(out, repl, s, loc)
			out = append(out, s[loc[1]:]...)
			return string(out), true, nil
		case "split":
			a, ok1 := str(0)
			n, ok2 := intArg(args[1])
			if !ok1 || !ok2 {
				return nil, false, nil
			}
			return javaSplit(s, a, n)
		}
	}
	return nil, false, nil
}

func listMethod(l *vlist, name string, args []any) (any, bool, error) {
	switch len(args) {
	case 0:
		switch name {
		case "size":
			return int64(len(l.Items)), true, nil
		case "isEmpty":
			return len(l.Items) == 0, true, nil
		case "clear":
			l.Items = l.Items[:0]
			l.mods++
			return nil, true, nil
		case "toString":
			return toString(l), true, nil
		case "count":
			// Not a Java method, but AWS's reference documents $input.path('$.pets').count().
			return int64(len(l.Items)), true, nil
		}
	case 1:
		switch name {
		case "get", "remove":
			if name == "remove" {
				if _, isInt := args[0].(int64); !isInt {
					for i, x := range l.Items {
						if javaEquals(x, args[0]) {
							l.Items = append(l.Items[:i:i], l.Items[i+1:]...)
							l.mods++
							return true, true, nil
						}
					}
					return false, true, nil
				}
			}
			i, ok := intArg(args[0])
			if !ok {
				return nil, false, nil
			}
			if i < 0 || i >= len(l.Items) {
				return nil, true, fmt.Errorf("%w: index %d, size %d", errIndex, i, len(l.Items))
			}
			v := l.Items[i]
			if name == "remove" {
				l.Items = append(l.Items[:i:i], l.Items[i+1:]...)
				l.mods++
			}
			return v, true, nil
		case "contains":
			for _, x := range l.Items {
				if javaEquals(x, args[0]) {
					return true, true, nil
				}
			}
			return false, true, nil
		case "indexOf", "lastIndexOf":
			at := int64(-1)
			for i, x := range l.Items {
				if javaEquals(x, args[0]) {
					at = int64(i)
					if name == "indexOf" {
						break
					}
				}
			}
			return at, true, nil
		case "add":
			if len(l.Items) >= MaxRangeSize {
				return nil, true, fmt.Errorf("list longer than %d", MaxRangeSize)
			}
			l.Items = append(l.Items, args[0])
			l.mods++
			return true, true, nil
		case "addAll":
			o, ok := args[0].(*vlist)
			if !ok {
				return nil, false, nil
			}
			if len(l.Items)+len(o.Items) > MaxRangeSize {
				return nil, true, fmt.Errorf("list longer than %d", MaxRangeSize)
			}
			l.Items = append(l.Items, o.Items...)
			l.mods++
			return len(o.Items) > 0, true, nil
		case "equals":
			return javaEquals(l, args[0]), true, nil
		}
	case 2:
		switch name {
		case "set", "add":
			i, ok := intArg(args[0])
			if !ok {
				return nil, false, nil
			}
			limit := len(l.Items)
			if name == "add" {
				limit++
			}
			if i < 0 || i >= limit {
				return nil, true, fmt.Errorf("%w: index %d, size %d", errIndex, i, len(l.Items))
			}
			if name == "set" {
				old := l.Items[i]
				l.Items[i] = args[1]
				return old, true, nil
			}
			l.Items = append(l.Items, nil)
			l.mods++
			copy(l.Items[i+1:], l.Items[i:])
			l.Items[i] = args[1]
			return nil, true, nil
		case "subList":
			i, ok1 := intArg(args[0])
			j, ok2 := intArg(args[1])
			if !ok1 || !ok2 {
				return nil, false, nil
			}
			if i < 0 || j > len(l.Items) || i > j {
				return nil, true, fmt.Errorf("%w: subList(%d, %d), size %d", errIndex, i, j, len(l.Items))
			}
			return &vlist{Items: append([]any(nil), l.Items[i:j]...), JSON: l.JSON}, true, nil
		}
	}
	return nil, false, nil
}

func mapKey(v any) (string, bool) {
	switch v.(type) {
	case nil, *vlist, *vmap:
		return "", false
	}
	return toString(v), true
}

func mapMethod(m *vmap, name string, args []any) (any, bool, error) {
	switch len(args) {
	case 0:
		switch name {
		case "size":
			return int64(m.Len()), true, nil
		case "isEmpty":
			return m.Len() == 0, true, nil
		case "keySet":
			l := &vlist{Items: make([]any, 0, m.Len()), view: m}
			for _, k := range m.keys {
				l.Items = append(l.Items, k)
			}
			return l, true, nil
		case "values":
			l := &vlist{Items: make([]any, 0, m.Len()), view: m}
			l.Items = append(l.Items, m.vals...)
			return l, true, nil
		case "entrySet":
			l := &vlist{Items: make([]any, 0, m.Len()), view: m}
			for i, k := range m.keys {
				l.Items = append(l.Items, &entry{key: k, val: m.vals[i]})
			}
			return l, true, nil
		case "clear":
			m.clear()
			return nil, true, nil
		case "toString":
			return toString(m), true, nil
		}
	case 1:
		switch name {
		case "get", "containsKey", "remove":
			k, ok := mapKey(args[0])
			if !ok {
				if name == "containsKey" {
					return false, true, nil
				}
				return nil, true, nil
			}
			switch name {
			case "get":
				v, _ := m.Get(k)
				return v, true, nil
			case "containsKey":
				_, has := m.Get(k)
				return has, true, nil
			}
			return m.Remove(k), true, nil
		case "containsValue":
			for _, v := range m.vals {
				if javaEquals(v, args[0]) {
					return true, true, nil
				}
			}
			return false, true, nil
		case "putAll":
			o, ok := args[0].(*vmap)
			if !ok {
				return nil, false, nil
			}
			for i, k := range o.keys {
				m.Put(k, o.vals[i])
			}
			return nil, true, nil
		case "equals":
			return javaEquals(m, args[0]), true, nil
		}
	case 2:
		if name == "put" {
			k, ok := mapKey(args[0])
			if !ok {
				return nil, false, nil
			}
			if m.Len() >= MaxRangeSize {
				return nil, true, fmt.Errorf("map larger than %d", MaxRangeSize)
			}
			return m.Put(k, args[1]), true, nil
		}
	}
	return nil, false, nil
}

func numberMethod(n any, name string, args []any) (any, bool, error) {
	if len(args) == 1 {
		switch name {
		case "equals":
			return javaEquals(n, args[0]), true, nil
		case "compareTo":
			if !isNumber(args[0]) {
				return nil, false, nil
			}
			if _, ok := n.(*decimal); ok {
				if _, ok := args[0].(*decimal); !ok {
					// BigDecimal.compareTo takes only a BigDecimal (probed).
					return nil, true, errors.New("java.lang.ClassCastException: not a java.math.BigDecimal")
				}
			}
			return int64(compareNumbers(n, args[0])), true, nil
		}
		return nil, false, nil
	}
	if len(args) != 0 {
		return nil, false, nil
	}
	switch name {
	case "toString":
		return toString(n), true, nil
	case "intValue":
		switch x := n.(type) {
		case int64:
			return int64(int32(x)), true, nil
		case *big.Int:
			return int64(int32(lowBits(x))), true, nil
		case float64:
			return int64(javaD2I(x, math.MinInt32, math.MaxInt32)), true, nil
		case *decimal:
			return int64(int32(lowBits(x.integer()))), true, nil
		}
	case "longValue":
		switch x := n.(type) {
		case int64:
			return x, true, nil
		case *big.Int:
			return lowBits(x), true, nil
		case float64:
			return javaD2I(x, math.MinInt64, math.MaxInt64), true, nil
		case *decimal:
			return lowBits(x.integer()), true, nil
		}
	case "doubleValue", "floatValue":
		return toFloat(n), true, nil
	case "scale":
		if d, ok := n.(*decimal); ok {
			return d.scale, true, nil
		}
	}
	return nil, false, nil
}

// lowBits is the low 64 bits of x in two's complement, as BigInteger.longValue gives.
func lowBits(x *big.Int) int64 {
	m := new(big.Int).Mod(x, new(big.Int).Lsh(big.NewInt(1), 64))
	return int64(m.Uint64())
}

// javaD2I converts like Java's (int)/(long) cast: truncation, saturation, NaN to 0.
func javaD2I(f float64, lo, hi int64) int64 {
	switch {
	case math.IsNaN(f):
		return 0
	case f <= float64(lo):
		return lo
	case f >= float64(hi):
		return hi
	}
	return int64(f)
}
