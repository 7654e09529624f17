package mapping

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxTemplateSize is the largest template Parse accepts: AWS's documented limit for a mapping
// template is 300 KB (api-gateway-known-issues).
var MaxTemplateSize = 300 * 1024

// MaxParseDepth bounds the nesting of directives and expressions, so hostile input cannot
// exhaust the stack of the recursive-descent parser.
var MaxParseDepth = 200

// Error is a parse or render error. It names the template, line and column (1-based, in
// characters).
type Error struct {
	Name string
	Line int
	Col  int
	Msg  string
	Err  error // the cause, when a method call failed (a *BodyError, say)
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.Name, e.Line, e.Col, e.Msg)
}

func (e *Error) Unwrap() error { return e.Err }

// Template is a parsed mapping template. It is immutable and safe for concurrent use.
type Template struct {
	name   string
	src    string
	root   *listNode
	macros map[string]*macroNode
}

// Name returns the template's name as given to Parse.
func (t *Template) Name() string { return t.name }

// String prints the template in canonical form.
func (t *Template) String() string { return t.root.String() }

// Parse parses a VTL template. The name is used in error messages.
func Parse(name, src string) (t *Template, err error) {
	if len(src) > MaxTemplateSize {
		return nil, &Error{Name: name, Line: 1, Col: 1, Msg: fmt.Sprintf("template is %d bytes, more than the %d allowed", len(src), MaxTemplateSize)}
	}
	p := &parser{name: name, src: src, macros: map[string]*macroNode{}}
	p.lex = newLexer(src, func(n string) bool { return p.macros[n] != nil })
	defer func() {
		if r := recover(); r != nil {
			pe, ok := r.(*Error)
			if !ok {
				panic(r)
			}
			t, err = nil, pe
		}
	}()
	root, end := p.parseList()
	if end.typ != itemEOF {
		p.errorAt(end.pos, "unexpected #%s", end.val)
	}
	// Velocity 1.7 rejects a bare word as the argument of a macro the template defines
	// (anywhere in it); a call to an unknown macro prints as text, words and all.
	for _, c := range p.calls {
		if p.macros[c.Name] == nil {
			continue
		}
		for _, a := range c.Args {
			if l, ok := a.(*litNode); ok && l.Word {
				p.errorAt(int(l.offset), "invalid argument %s in a call of macro #%s", l.Src, c.Name)
			}
		}
	}
	return &Template{name: name, src: src, root: root, macros: p.macros}, nil
}

type parser struct {
	name   string
	src    string
	lex    *lexer
	peeked []item
	depth  int
	macros map[string]*macroNode
	calls  []*macroCallNode
}

func (p *parser) next() item {
	if n := len(p.peeked); n > 0 {
		it := p.peeked[n-1]
		p.peeked = p.peeked[:n-1]
		return it
	}
	it := p.lex.nextItem()
	if it.typ == itemError {
		p.errorAt(it.pos, "%s", it.val)
	}
	return it
}

func (p *parser) backup(it item) { p.peeked = append(p.peeked, it) }

func (p *parser) peek() item {
	it := p.next()
	p.backup(it)
	return it
}

// position converts a byte offset to a 1-based line and column.
func position(src string, pos int) (line, col int) {
	if pos > len(src) {
		pos = len(src)
	}
	before := src[:pos]
	line = 1 + strings.Count(before, "\n")
	if i := strings.LastIndexByte(before, '\n'); i >= 0 {
		before = before[i+1:]
	}
	return line, 1 + utf8.RuneCountInString(before)
}

func (p *parser) errorAt(pos int, format string, args ...any) {
	line, col := position(p.src, pos)
	panic(&Error{Name: p.name, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) expect(t itemType, what string) item {
	it := p.next()
	if it.typ != t {
		p.errorAt(it.pos, "expected %s, found %s", what, it)
	}
	return it
}

func (p *parser) enter(pos int) {
	p.depth++
	if p.depth > MaxParseDepth {
		p.errorAt(pos, "nesting deeper than %d", MaxParseDepth)
	}
}

func (p *parser) leave() { p.depth-- }

// parseList parses template content up to #end, #else, #elseif or the end of input, and
// returns the item that stopped it.
//
//	list := { text | literal | reference | directive }
func (p *parser) parseList() (*listNode, item) {
	first := p.peek()
	list := &listNode{offset: offset(first.pos)}
	// Comments split text into pieces; joining them keeps the tree canonical. The pieces of
	// the last text node are joined once it is complete (appending one by one is quadratic
	// on a template of many comments).
	var pending *textNode
	var pieces []string
	join := func() {
		if pending != nil && len(pieces) > 1 {
			pending.Text = strings.Join(pieces, "")
		}
		pending, pieces = nil, pieces[:0]
	}
	defer join()
	for {
		it := p.next()
		if it.typ != itemText {
			join()
		}
		switch it.typ {
		case itemEOF:
			return list, it
		case itemText:
			if pending != nil {
				pieces = append(pieces, it.val)
				continue
			}
			pending = &textNode{offset: offset(it.pos), Text: it.val}
			pieces = append(pieces, it.val)
			list.Nodes = append(list.Nodes, pending)
		case itemLiteral:
			list.Nodes = append(list.Nodes, &textNode{offset: offset(it.pos), Text: it.val, Literal: true})
		case itemRef, itemRefBrace:
			list.Nodes = append(list.Nodes, p.parseRef(it))
		case itemDirective:
			switch it.val {
			case "end", "else", "elseif":
				return list, it
			}
			if n := p.parseDirective(it); n != nil {
				list.Nodes = append(list.Nodes, n)
			}
		default:
			p.errorAt(it.pos, "unexpected %s", it)
		}
	}
}

// parseRef parses a reference; start is its $ item.
//
//	ref := ("$" | "$!") ident part* | ("${" | "$!{") ident part* "}"
//	part := "." ident | "." ident "(" [expr {"," expr}] ")" | "[" expr "]"
func (p *parser) parseRef(start item) *refNode {
	p.enter(start.pos)
	defer p.leave()
	id := p.expect(itemIdent, "identifier")
	ref := &refNode{offset: offset(start.pos), Name: id.val, Quiet: start.flag, Braced: start.typ == itemRefBrace, Escape: start.esc}
	end := id.pos + len(id.val)
	for {
		it := p.next()
		switch it.typ {
		case itemDot:
			name := p.expect(itemIdent, "identifier")
			end = name.pos + len(name.val)
			if nx := p.next(); nx.typ == itemLParen {
				args, close := p.parseArgs(itemRParen, ")")
				if len(args) == 0 && close.pos != nx.pos+1 {
					// Velocity 1.7's grammar has no blanks in an empty argument list.
					p.errorAt(close.pos, "unexpected ) after blanks in an empty argument list")
				}
				ref.Parts = append(ref.Parts, part{Name: name.val, Args: args, Call: true})
				end = close.pos + 1
			} else {
				p.backup(nx)
				ref.Parts = append(ref.Parts, part{Name: name.val})
			}
			continue
		case itemLBrack:
			idx := p.parseParam(paramIndex)
			close := p.expect(itemRBrack, "]")
			ref.Parts = append(ref.Parts, part{Index: idx, IsIdx: true})
			end = close.pos + 1
			continue
		case itemRefEnd:
			end = it.pos + 1
		default:
			p.backup(it)
		}
		break
	}
	ref.Src = p.src[start.pos:end]
	return ref
}

// parseArgs parses comma-separated expressions up to the closing item.
func (p *parser) parseArgs(close itemType, what string) ([]node, item) {
	var args []node
	if it := p.next(); it.typ == close {
		return nil, it
	} else {
		p.backup(it)
	}
	for {
		args = append(args, p.parseParam(paramArg))
		it := p.next()
		if it.typ == close {
			return args, it
		}
		if it.typ != itemComma {
			p.errorAt(it.pos, "expected , or %s, found %s", what, it)
		}
	}
}

func (p *parser) parseDirective(it item) node {
	p.enter(it.pos)
	defer p.leave()
	pos := offset(it.pos)
	switch it.val {
	case "set":
		p.expect(itemLParen, "(")
		r := p.next()
		if r.typ != itemRef && r.typ != itemRefBrace {
			p.errorAt(r.pos, "#set needs a reference on the left, found %s", r)
		}
		target := p.parseRef(r)
		if n := len(target.Parts); n > 0 && target.Parts[n-1].Call {
			p.errorAt(r.pos, "cannot assign to a method call")
		}
		p.expect(itemAssign, "=")
		val := p.parseExpr()
		p.expect(itemRParen, ")")
		return &setNode{offset: pos, Target: target, Value: val}
	case "if":
		n := &ifNode{offset: pos}
		cond := p.parseCond()
		for {
			body, end := p.parseList()
			n.Conds = append(n.Conds, cond)
			n.Bodies = append(n.Bodies, body)
			switch {
			case end.typ == itemEOF:
				p.errorAt(it.pos, "#if without #end")
			case end.val == "elseif":
				cond = p.parseCond()
				continue
			case end.val == "else":
				els, end2 := p.parseList()
				if end2.typ == itemEOF || end2.val != "end" {
					p.errorAt(end2.pos, "expected #end after #else, found %s", end2)
				}
				n.Else = els
			}
			return n
		}
	case "foreach":
		p.expect(itemLParen, "(")
		r := p.next()
		if r.typ != itemRef && r.typ != itemRefBrace {
			p.errorAt(r.pos, "#foreach needs a variable, found %s", r)
		}
		v := p.parseRef(r)
		if len(v.Parts) > 0 {
			p.errorAt(r.pos, "#foreach variable must be a plain name")
		}
		p.expect(itemIn, "in")
		iter := p.parseParam(paramItem)
		p.expect(itemRParen, ")")
		body, _ := p.parseBlockEnd(it)
		return &foreachNode{offset: pos, Var: v.Name, Iter: iter, Body: body}
	case "break":
		return &breakNode{offset: pos}
	case "stop":
		return &stopNode{offset: pos}
	case "macro":
		p.expect(itemLParen, "(")
		name := p.expect(itemIdent, "macro name")
		if directives[name.val] {
			p.errorAt(name.pos, "macro name %q is a directive", name.val)
		}
		m := &macroNode{offset: pos, Name: name.val}
		for {
			a := p.next()
			if a.typ == itemComma {
				continue
			}
			if a.typ == itemRParen {
				break
			}
			if a.typ != itemRef {
				p.errorAt(a.pos, "expected $parameter or ), found %s", a)
			}
			id := p.expect(itemIdent, "parameter name")
			m.Params = append(m.Params, id.val)
		}
		// Registered before the body is parsed, so the macro can call itself.
		p.macros[m.Name] = m
		m.Body, _ = p.parseBlockEnd(it)
		return m
	case "define":
		p.expect(itemLParen, "(")
		r := p.next()
		if r.typ != itemRef && r.typ != itemRefBrace {
			p.errorAt(r.pos, "#define needs a reference, found %s", r)
		}
		v := p.parseRef(r)
		if len(v.Parts) > 0 {
			p.errorAt(r.pos, "#define name must be a plain reference")
		}
		p.expect(itemRParen, ")")
		body, _ := p.parseBlockEnd(it)
		return &defineNode{offset: pos, Name: v.Name, Body: body}
	}
	// A macro call.
	call := &macroCallNode{offset: pos, Name: it.val}
	end := it.pos + 1 + len(it.val)
	if nx := p.next(); nx.typ == itemLParen {
		call.Paren = true
		for {
			a := p.next()
			if a.typ == itemRParen {
				end = a.pos + 1
				call.Gobbled = a.gob
				break
			}
			if a.typ == itemComma {
				continue
			}
			if a.typ == itemIdent || a.typ == itemNull {
				call.Args = append(call.Args, &litNode{offset: offset(a.pos), Val: a.val, Src: a.val, Word: true})
				continue
			}
			p.backup(a)
			call.Args = append(call.Args, p.parseParam(paramItem))
		}
	} else {
		p.backup(nx)
	}
	call.Src = p.src[it.pos:end]
	p.calls = append(p.calls, call)
	return call
}

func (p *parser) parseBlockEnd(start item) (*listNode, item) {
	body, end := p.parseList()
	if end.typ == itemEOF {
		p.errorAt(start.pos, "#%s without #end", start.val)
	}
	if end.val != "end" {
		p.errorAt(end.pos, "unexpected #%s in #%s", end.val, start.val)
	}
	return body, end
}

// parseCond parses "(" expr ")".
func (p *parser) parseCond() node {
	p.expect(itemLParen, "(")
	e := p.parseExpr()
	p.expect(itemRParen, ")")
	return e
}

// Expressions, lowest precedence first:
//
//	expr  := and { ("||" | "or") and }
//	and   := eq { ("&&" | "and") eq }
//	eq    := rel { ("==" | "!=" | "eq" | "ne") rel }
//	rel   := add { ("<" | ">" | "<=" | ">=" | "lt" | "gt" | "le" | "ge") add }
//	add   := mul { ("+" | "-") mul }
//	mul   := unary { ("*" | "/" | "%") unary }
//	unary := ("!" | "not") unary | primary
var wordOps = map[string]string{"eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">=", "and": "&&", "or": "||", "not": "!"}

var precedence = [][]string{{"||"}, {"&&"}, {"==", "!="}, {"<", ">", "<=", ">="}, {"+", "-"}, {"*", "/", "%"}}

func (p *parser) parseExpr() node {
	return p.parseBinary(0)
}

func (p *parser) parseBinary(level int) node {
	if level == len(precedence) {
		return p.parseUnary()
	}
	l := p.parseBinary(level + 1)
	for {
		it := p.next()
		if it.typ != itemOp {
			p.backup(it)
			return l
		}
		op := it.val
		if w, ok := wordOps[op]; ok {
			op = w
		}
		found := false
		for _, o := range precedence[level] {
			if o == op {
				found = true
			}
		}
		if !found {
			p.backup(it)
			return l
		}
		r := p.parseBinary(level + 1)
		l = &binaryNode{offset: offset(it.pos), Op: op, L: l, R: r}
	}
}

func (p *parser) parseUnary() node {
	it := p.next()
	p.enter(it.pos)
	defer p.leave()
	if it.typ == itemOp && (it.val == "!" || it.val == "not") {
		return &notNode{offset: offset(it.pos), X: p.parseUnary()}
	}
	p.backup(it)
	return p.parsePrimary()
}

// parsePrimary parses a literal, reference, parenthesised expression, list, range or map.
func (p *parser) parsePrimary() node {
	it := p.next()
	pos := offset(it.pos)
	switch it.typ {
	case itemRef, itemRefBrace:
		return p.parseRef(it)
	case itemString:
		return &litNode{offset: pos, Val: it.val}
	case itemIString:
		return p.parseIString(it)
	case itemInt:
		v, err := strconv.ParseInt(it.val, 10, 64)
		if err != nil {
			// Velocity 1.7 reads an integer literal beyond a long as a BigInteger.
			b, ok := new(big.Int).SetString(it.val, 10)
			if !ok || b.BitLen() > maxBigBits {
				p.errorAt(it.pos, "integer literal %s is too large", it.val)
			}
			return &litNode{offset: pos, Val: b, Src: it.val}
		}
		return &litNode{offset: pos, Val: v, Src: it.val}
	case itemFloat:
		f, err := strconv.ParseFloat(it.val, 64)
		if err != nil {
			p.errorAt(it.pos, "bad number %s", it.val)
		}
		return &litNode{offset: pos, Val: f, Src: it.val}
	case itemTrue:
		return &litNode{offset: pos, Val: true}
	case itemFalse:
		return &litNode{offset: pos, Val: false}
	case itemNull:
		// Velocity 1.7 has no null literal outside method arguments (parseParam): "#set($a =
		// null)" is a parse error there, so AWS rejects the template too. An undefined
		// reference such as $null is the 1.7 way.
		p.errorAt(it.pos, "null is not a value in Velocity 1.7 (an undefined reference such as $null is)")
	case itemLParen:
		x := p.parseExpr()
		p.expect(itemRParen, ")")
		return &parenNode{offset: pos, X: x}
	case itemLBrack:
		if nx := p.next(); nx.typ == itemRBrack {
			return &listLitNode{offset: pos}
		} else {
			p.backup(nx)
		}
		first := p.parseParam(paramItem)
		if nx := p.next(); nx.typ == itemRange {
			p.rangeBound(first)
			to := p.parseParam(paramItem)
			p.rangeBound(to)
			p.expect(itemRBrack, "]")
			return &rangeNode{offset: pos, From: first, To: to}
		} else {
			p.backup(nx)
		}
		items := []node{first}
		for {
			nx := p.next()
			if nx.typ == itemRBrack {
				return &listLitNode{offset: pos, Items: items}
			}
			if nx.typ != itemComma {
				p.errorAt(nx.pos, "expected , or ] in list, found %s", nx)
			}
			items = append(items, p.parseParam(paramItem))
		}
	case itemLBrace:
		m := &mapLitNode{offset: pos}
		if nx := p.next(); nx.typ == itemRBrace {
			return m
		} else {
			p.backup(nx)
		}
		for {
			k := p.parseParam(paramItem)
			p.expect(itemColon, ":")
			v := p.parseParam(paramItem)
			m.Keys = append(m.Keys, k)
			m.Vals = append(m.Vals, v)
			nx := p.next()
			if nx.typ == itemRBrace {
				return m
			}
			if nx.typ != itemComma {
				p.errorAt(nx.pos, "expected , or } in map, found %s", nx)
			}
		}
	}
	p.errorAt(it.pos, "expected a value, found %s", it)
	return nil
}

// parseIString parses the body of a double-quoted string as a template, so "$a and #if…"
// interpolate as Velocity does. Positions inside are offset to the string's place in the
// source.
func (p *parser) parseIString(it item) node {
	n := &istringNode{offset: offset(it.pos), Src: it.val}
	if !strings.ContainsAny(it.val, "$#\\") {
		return n
	}
	// The body is lexed in place of the literal, after the same prefix, so positions and line
	// numbers in errors stay right (a doubled quote shifts columns by one).
	padded := p.src[:it.pos+1] + it.val
	sub := &parser{name: p.name, src: padded, macros: p.macros, depth: p.depth}
	sub.lex = newLexer(padded, func(s string) bool { return p.macros[s] != nil })
	sub.lex.pos, sub.lex.start = it.pos+1, it.pos+1
	sub.lex.boundary = false
	sub.lex.inString = true
	body, end := sub.parseList()
	if end.typ != itemEOF {
		sub.errorAt(end.pos, "unexpected #%s in string", end.val)
	}
	n.Body = body
	return n
}

// paramKind says where a plain value stands. Velocity 1.7's grammar takes no expressions in
// method arguments, list and map items, range bounds, indexes, the #foreach list or macro
// arguments, only a reference or a literal (its Parameter production): "$s.concat(1 + 2)",
// "[(1)]" and "#foreach($i in $n + 1)" are parse errors there, so AWS rejects such a template
// and so does Parse (the oracle test checks this against Velocity).
type paramKind int

const (
	paramArg   paramKind = iota // method argument; null is accepted there (Velocity passes null)
	paramItem                   // list or map item, #foreach list, macro argument
	paramIndex                  // $a[…]: a reference, an integer, a string or a boolean
)

func (p *parser) parseParam(kind paramKind) node {
	it := p.next()
	switch it.typ {
	case itemRef, itemRefBrace, itemString, itemIString, itemInt, itemTrue, itemFalse:
	case itemFloat, itemLBrack, itemLBrace:
		if kind == paramIndex {
			p.errorAt(it.pos, "unexpected %s in an index", it)
		}
	case itemNull, itemIdent:
		// In a method argument Velocity 1.7 reads null, and any bare word, as null
		// (probed: "$s.concat(y)" calls concat(null)).
		if kind == paramArg {
			return &litNode{offset: offset(it.pos), Val: nil, Src: it.val, Word: it.typ == itemIdent}
		}
		if it.typ == itemIdent {
			p.errorAt(it.pos, "expected a reference or a literal, found %s", it)
		}
		p.errorAt(it.pos, "null is not a value in Velocity 1.7 (an undefined reference such as $null is)")
	default:
		p.errorAt(it.pos, "expected a reference or a literal, found %s", it)
	}
	p.backup(it)
	return p.parsePrimary()
}

// rangeBound checks a bound of [a..b]: Velocity 1.7 takes an integer literal or a reference.
func (p *parser) rangeBound(n node) {
	switch n := n.(type) {
	case *refNode:
		return
	case *litNode:
		if _, ok := n.Val.(int64); ok {
			return
		}
		if _, ok := n.Val.(*big.Int); ok {
			return // an integer literal too large for a long
		}
	}
	p.errorAt(int(n.at()), "a range bound must be an integer or a reference")
}
