package mapping

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// The JSONPath subset of $input.path and $input.json. AWS's reference links Goessner's
// JSONPath and Jayway's Java implementation; results are checked against Jayway JsonPath 2.0
// (TestJSONPathJayway):
//
//	$  .name  ['name']  ['a','b']  [n]  [n,m]  [*]  .*  ..name  ..*  [start:end]  [-n:]
//	[?(@.k == 'v')]  with == != < <= > >=, =~ /regex/i, && ||, !, parentheses and
//	existence tests [?(@.k)]
//
// As in Jayway, a path made only of names and single indexes is definite and yields one value
// (or nothing); any other path yields a list of everything it matched. ['a','b'] yields an
// object with the keys found, a negative index finds nothing (slices may count from the end),
// and a slice step is an error.

type segKind int

const (
	segNames segKind = iota
	segIndexes
	segWildcard
	segSlice
	segFilter
)

type pathSeg struct {
	kind      segKind
	recursive bool // preceded by ..
	names     []string
	indexes   []int
	slice     [3]*int
	filter    filterNode
}

type jsonPath struct {
	segs     []pathSeg
	definite bool
}

// pathError is a JSONPath syntax error.
type pathError struct {
	Path string
	Pos  int
	Msg  string
}

func (e *pathError) Error() string {
	return fmt.Sprintf("JSONPath %q at offset %d: %s", e.Path, e.Pos, e.Msg)
}

type pathParser struct {
	s     string
	i     int
	depth int
}

func (p *pathParser) fail(format string, args ...any) {
	panic(&pathError{Path: p.s, Pos: p.i, Msg: fmt.Sprintf(format, args...)})
}

// parsePath compiles a JSONPath expression.
func parsePath(s string) (jp *jsonPath, err error) {
	defer func() {
		if r := recover(); r != nil {
			pe, ok := r.(*pathError)
			if !ok {
				panic(r)
			}
			jp, err = nil, pe
		}
	}()
	// Java's String.trim, as Jayway trims: every character up to U+0020 goes, Unicode
	// spaces stay (found by FuzzVelocityOracle).
	src := strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
	if src == "" {
		panic(&pathError{Path: s, Msg: "path can not be null or empty"})
	}
	// Jayway reads a path without a root as relative to $.
	if !strings.HasPrefix(src, "$") {
		if strings.HasPrefix(src, "[") || strings.HasPrefix(src, ".") {
			src = "$" + src
		} else {
			src = "$." + src
		}
	}
	p := &pathParser{s: src, i: 1}
	jp = &jsonPath{definite: true}
	jp.segs = p.segments(false)
	for _, sg := range jp.segs {
		if sg.recursive || sg.kind == segWildcard || sg.kind == segSlice || sg.kind == segFilter ||
			len(sg.indexes) > 1 {
			jp.definite = false
		}
	}
	return jp, nil
}

// segments parses steps until the end of input (or, inside a filter, until a character that
// cannot continue a path).
func (p *pathParser) segments(inFilter bool) []pathSeg {
	var segs []pathSeg
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case strings.HasPrefix(p.s[p.i:], ".."):
			p.i += 2
			if p.i < len(p.s) && p.s[p.i] == '[' {
				sg := p.bracket()
				sg.recursive = true
				segs = append(segs, sg)
				continue
			}
			sg := p.dotName(inFilter)
			sg.recursive = true
			segs = append(segs, sg)
		case c == '.':
			p.i++
			segs = append(segs, p.dotName(inFilter))
		case c == '[':
			segs = append(segs, p.bracket())
		default:
			if inFilter {
				return segs
			}
			p.fail("unexpected %q", c)
		}
	}
	return segs
}

func (p *pathParser) dotName(inFilter bool) pathSeg {
	if p.i < len(p.s) && p.s[p.i] == '*' {
		p.i++
		return pathSeg{kind: segWildcard}
	}
	start := p.i
	// Outside filters a name runs to the next step, so "length()" is just a name that is
	// not there, as in Jayway 2.0 (which has no functions).
	stop := ".["
	if inFilter {
		stop = ".[ )=!<>&|~"
	}
	for p.i < len(p.s) && !strings.ContainsRune(stop, rune(p.s[p.i])) {
		p.i++
	}
	if p.i == start {
		p.fail("expected a property name")
	}
	return pathSeg{kind: segNames, names: []string{p.s[start:p.i]}}
}

func (p *pathParser) skipSpace() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *pathParser) quoted() string {
	q := p.s[p.i]
	p.i++
	var b strings.Builder
	for {
		if p.i >= len(p.s) {
			p.fail("unterminated string")
		}
		c := p.s[p.i]
		if c == '\\' && p.i+1 < len(p.s) {
			b.WriteByte(p.s[p.i+1])
			p.i += 2
			continue
		}
		p.i++
		if c == q {
			return b.String()
		}
		b.WriteByte(c)
	}
}

func (p *pathParser) int() int {
	start := p.i
	if p.i < len(p.s) && p.s[p.i] == '-' {
		p.i++
	}
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
	}
	n, err := strconv.Atoi(p.s[start:p.i])
	if err != nil || n > 1<<31 || n < -(1<<31) {
		p.i = start
		p.fail("expected an integer")
	}
	return n
}

func (p *pathParser) expect(c byte) {
	p.skipSpace()
	if p.i >= len(p.s) || p.s[p.i] != c {
		p.fail("expected %q", c)
	}
	p.i++
}

// bracket parses [ … ].
func (p *pathParser) bracket() pathSeg {
	p.i++ // [
	p.skipSpace()
	if p.i >= len(p.s) {
		p.fail("unclosed [")
	}
	var sg pathSeg
	switch c := p.s[p.i]; {
	case c == '*':
		p.i++
		sg.kind = segWildcard
	case c == '\'':
		// Jayway 2.0 takes only single quotes here: $["a"] is an error there.
		sg.kind = segNames
		for {
			p.skipSpace()
			if p.i >= len(p.s) || p.s[p.i] != '\'' {
				p.fail("expected a single-quoted name")
			}
			sg.names = append(sg.names, p.quoted())
			p.skipSpace()
			if p.i < len(p.s) && p.s[p.i] == ',' {
				p.i++
				continue
			}
			break
		}
	case c == '?':
		p.i++
		p.expect('(')
		sg.kind = segFilter
		sg.filter = p.filterOr()
		p.expect(')')
	case c == ':' || c == '-' || c >= '0' && c <= '9':
		var first *int
		if c != ':' {
			n := p.int()
			first = &n
		}
		p.skipSpace()
		if p.i < len(p.s) && p.s[p.i] == ':' {
			sg.kind = segSlice
			sg.slice[0] = first
			for k := 1; k < 2 && p.i < len(p.s) && p.s[p.i] == ':'; k++ {
				p.i++
				p.skipSpace()
				if p.i < len(p.s) && (p.s[p.i] == '-' || p.s[p.i] >= '0' && p.s[p.i] <= '9') {
					n := p.int()
					sg.slice[k] = &n
				}
				p.skipSpace()
			}
			break
		}
		sg.kind = segIndexes
		sg.indexes = append(sg.indexes, *first)
		for p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			p.skipSpace()
			sg.indexes = append(sg.indexes, p.int())
			p.skipSpace()
		}
	default:
		p.fail("unexpected %q in brackets", c)
	}
	p.expect(']')
	return sg
}

// Filters.

type filterNode interface{}

type filterBin struct {
	op   string
	l, r filterNode
}

type filterPath struct {
	segs []pathSeg
	root bool // $ rather than @
}

type filterLit struct{ v any }

// filterRegex is @.x =~ /pattern/flags; like Jayway it must match the whole value.
type filterRegex struct {
	x  filterNode
	re *regexp.Regexp
}

func (p *pathParser) enterFilter() {
	p.depth++
	if p.depth > 50 {
		p.fail("filter nested too deeply")
	}
}

func (p *pathParser) filterOr() filterNode {
	p.enterFilter()
	defer func() { p.depth-- }()
	l := p.filterAnd()
	for {
		p.skipSpace()
		if !strings.HasPrefix(p.s[p.i:], "||") {
			return l
		}
		p.i += 2
		l = &filterBin{op: "||", l: l, r: p.filterAnd()}
	}
}

func (p *pathParser) filterAnd() filterNode {
	l := p.filterCmp()
	for {
		p.skipSpace()
		if !strings.HasPrefix(p.s[p.i:], "&&") {
			return l
		}
		p.i += 2
		l = &filterBin{op: "&&", l: l, r: p.filterCmp()}
	}
}

func (p *pathParser) filterCmp() filterNode {
	l := p.filterOperand()
	p.skipSpace()
	if strings.HasPrefix(p.s[p.i:], "=~") {
		p.i += 2
		p.skipSpace()
		if p.i >= len(p.s) || p.s[p.i] != '/' {
			p.fail("expected /regex/ after =~")
		}
		end := strings.LastIndexByte(p.s[p.i+1:], '/')
		if end < 0 {
			p.fail("unterminated /regex/")
		}
		pat := p.s[p.i+1 : p.i+1+end]
		p.i += end + 2
		if p.i < len(p.s) && p.s[p.i] == 'i' {
			pat = "(?i)" + pat
			p.i++
		}
		re, err := javaRegexp(pat, true)
		if err != nil {
			p.fail("%v", err)
		}
		return &filterRegex{x: l, re: re}
	}
	for _, op := range []string{"==", "!=", "<=", ">=", "<", ">"} {
		if strings.HasPrefix(p.s[p.i:], op) {
			p.i += len(op)
			return &filterBin{op: op, l: l, r: p.filterOperand()}
		}
	}
	return l
}

func (p *pathParser) filterOperand() filterNode {
	p.skipSpace()
	if p.i >= len(p.s) {
		p.fail("unexpected end of filter")
	}
	switch c := p.s[p.i]; {
	case c == '(':
		p.i++
		f := p.filterOr()
		p.expect(')')
		return f
	case c == '!':
		p.i++
		return &filterBin{op: "!", l: p.filterOperand()}
	case c == '@' || c == '$':
		p.i++
		return &filterPath{segs: p.segments(true), root: c == '$'}
	case c == '\'':
		return &filterLit{v: p.quoted()}
	case c == '"':
		// Jayway 2.0 keeps a double-quoted literal's quotes as part of the text, so
		// [?(@.k == "v")] matches only the value "v" with its quotes (TestJSONPathJayway).
		end := strings.IndexByte(p.s[p.i+1:], '"')
		if end < 0 {
			p.fail("unterminated string")
		}
		lit := p.s[p.i : p.i+end+2]
		p.i += end + 2
		return &filterLit{v: lit}
	case c == '-' || c >= '0' && c <= '9':
		start := p.i
		p.i++
		for p.i < len(p.s) && strings.ContainsRune("0123456789.eE+-", rune(p.s[p.i])) {
			p.i++
		}
		text := p.s[start:p.i]
		if n, err := strconv.ParseInt(text, 10, 64); err == nil {
			return &filterLit{v: n}
		}
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			p.fail("bad number %q", text)
		}
		return &filterLit{v: f}
	}
	for _, w := range []string{"true", "false", "null"} {
		if strings.HasPrefix(p.s[p.i:], w) {
			p.i += len(w)
			switch w {
			case "true":
				return &filterLit{v: true}
			case "false":
				return &filterLit{v: false}
			}
			return &filterLit{v: nil}
		}
	}
	p.fail("unexpected %q in filter", p.s[p.i])
	return nil
}

// Evaluation.

// maxPathResults bounds the matches of one path (recursive descent over a large body).
const maxPathResults = 100_000

// eval applies the path to a document. For a definite path it returns the value and whether
// it was found; otherwise a JSON list of the matches. A filter that compares a number with
// text that is not a number fails, as in Jayway.
func (jp *jsonPath) eval(root any) (v any, found bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			pe, ok := r.(*pathError)
			if !ok {
				panic(r)
			}
			v, found, err = nil, false, pe
		}
	}()
	v, found = jp.run(root)
	return v, found, nil
}

func (jp *jsonPath) run(root any) (any, bool) {
	nodes := []any{root}
	for _, sg := range jp.segs {
		nodes = applySeg(sg, nodes, root)
	}
	if jp.definite {
		if len(nodes) == 0 {
			return nil, false
		}
		return nodes[0], true
	}
	return &vlist{Items: nodes, JSON: true}, true
}

func applySeg(sg pathSeg, nodes []any, root any) []any {
	var out []any
	for _, n := range nodes {
		if sg.recursive {
			walk(n, func(v any) {
				if len(out) < maxPathResults {
					out = append(out, matchSeg(sg, v, root)...)
				}
			})
		} else {
			out = append(out, matchSeg(sg, n, root)...)
		}
		if len(out) >= maxPathResults {
			return out[:maxPathResults]
		}
	}
	return out
}

// walk visits v and everything below it, parents first. The depth bound guards against
// structures a template made cyclic.
func walk(v any, f func(any)) { walkDepth(v, f, 0) }

func walkDepth(v any, f func(any), depth int) {
	if depth > maxPrintDepth {
		return
	}
	f(v)
	switch c := v.(type) {
	case *vmap:
		for _, x := range c.vals {
			walkDepth(x, f, depth+1)
		}
	case *vlist:
		for _, x := range c.Items {
			walkDepth(x, f, depth+1)
		}
	}
}

func matchSeg(sg pathSeg, n any, root any) []any {
	switch sg.kind {
	case segNames:
		m, ok := n.(*vmap)
		if !ok {
			return nil
		}
		if len(sg.names) > 1 {
			// Jayway answers ['a','b'] with an object holding the keys it found.
			sub := newVMap()
			for _, name := range sg.names {
				if v, ok := m.Get(name); ok {
					sub.Put(name, v)
				}
			}
			return []any{sub}
		}
		if v, ok := m.Get(sg.names[0]); ok {
			return []any{v}
		}
		return nil
	case segIndexes:
		l, ok := n.(*vlist)
		if !ok {
			return nil
		}
		var out []any
		for _, i := range sg.indexes {
			// Jayway 2.0 finds nothing at a negative index (slices may count from the end).
			if i >= 0 && i < len(l.Items) {
				out = append(out, l.Items[i])
			}
		}
		return out
	case segWildcard:
		switch c := n.(type) {
		case *vmap:
			out := make([]any, 0, c.Len())
			out = append(out, c.vals...)
			return out
		case *vlist:
			return append([]any(nil), c.Items...)
		}
	case segSlice:
		l, ok := n.(*vlist)
		if !ok {
			return nil
		}
		size := len(l.Items)
		norm := func(p *int, def int) int {
			if p == nil {
				return def
			}
			i := *p
			if i < 0 {
				i += size
			}
			return min(max(i, 0), size)
		}
		step := 1
		if sg.slice[2] != nil && *sg.slice[2] > 0 {
			step = *sg.slice[2]
		}
		var out []any
		for i := norm(sg.slice[0], 0); i < norm(sg.slice[1], size); i += step {
			out = append(out, l.Items[i])
		}
		return out
	case segFilter:
		var cands []any
		switch c := n.(type) {
		case *vlist:
			cands = c.Items
		case *vmap:
			cands = []any{c}
		}
		var out []any
		for _, x := range cands {
			if filterTrue(filterEval(sg.filter, x, root)) {
				out = append(out, x)
			}
		}
		return out
	}
	return nil
}

// missing marks a filter path that matched nothing, so existence tests can tell it from null.
type missingT struct{}

var missing = missingT{}

func filterEval(f filterNode, cur, root any) any {
	switch f := f.(type) {
	case *filterLit:
		return f.v
	case *filterPath:
		start := cur
		if f.root {
			start = root
		}
		nodes := []any{start}
		for _, sg := range f.segs {
			nodes = applySeg(sg, nodes, root)
		}
		if len(nodes) == 0 {
			return missing
		}
		return nodes[0]
	case *filterRegex:
		str, ok := filterEval(f.x, cur, root).(string)
		return ok && f.re.MatchString(str)
	case *filterBin:
		switch f.op {
		case "!":
			v := filterEval(f.l, cur, root)
			return v == missing || !truthy(v)
		case "&&":
			return filterTrue(filterEval(f.l, cur, root)) && filterTrue(filterEval(f.r, cur, root))
		case "||":
			return filterTrue(filterEval(f.l, cur, root)) || filterTrue(filterEval(f.r, cur, root))
		}
		l, r := filterEval(f.l, cur, root), filterEval(f.r, cur, root)
		if l == missing || r == missing {
			return f.op == "!=" && (l == missing) != (r == missing)
		}
		r = jaywayConvert(l, r, f)
		switch f.op {
		case "==":
			return jsonEqual(l, r)
		case "!=":
			return !jsonEqual(l, r)
		}
		var c int
		switch {
		case isNumber(l) && isNumber(r):
			c = compareNumbers(l, r)
		default:
			ls, ok1 := l.(string)
			rs, ok2 := r.(string)
			if !ok1 || !ok2 {
				return false
			}
			c = strings.Compare(ls, rs)
		}
		switch f.op {
		case "<":
			return c < 0
		case "<=":
			return c <= 0
		case ">":
			return c > 0
		}
		return c >= 0
	}
	return false
}

// jaywayConvert gives the right operand of a comparison the left one's type, as Jayway 2.0
// does (probed with TestJSONPathJayway): text compared with a number is read as a decimal
// number (an error when it is not one), a number compared with text is its text, and text
// compared with a boolean is read as one.
func jaywayConvert(l, r any, f *filterBin) any {
	rs, rIsStr := r.(string)
	switch {
	case isNumber(l) && rIsStr:
		if !javaDecimal().MatchString(rs) {
			panic(&pathError{Msg: fmt.Sprintf("cannot compare a number with %q", rs)})
		}
		v, _ := strconv.ParseFloat(rs, 64)
		return v
	case isString(l) && isNumber(r):
		return toString(r)
	case isBool(l) && rIsStr:
		return strings.EqualFold(rs, "true")
	}
	return r
}

func isString(v any) bool { _, ok := v.(string); return ok }
func isBool(v any) bool   { _, ok := v.(bool); return ok }

// javaDecimal is the syntax of new BigDecimal(String), compiled when first needed rather
// than while the program starts.
var javaDecimal = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$`)
})

// filterTrue: a bare path in a filter tests that the path exists and is not null (Jayway).
func filterTrue(v any) bool {
	if v == missing || v == nil {
		return false
	}
	if b, ok := v.(bool); ok {
		return b
	}
	return true
}

func jsonEqual(a, b any) bool {
	if isNumber(a) && isNumber(b) {
		return compareNumbers(a, b) == 0
	}
	return javaEquals(a, b)
}
