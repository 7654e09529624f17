package mapping

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// itemType identifies the kind of a lexical item.
type itemType int

const (
	itemError itemType = iota
	itemEOF
	itemText      // literal text
	itemLiteral   // #[[ … ]]# contents, printed verbatim
	itemRef       // $ or $! (val holds it) followed by an identifier item
	itemRefBrace  // ${ or $!{
	itemRefEnd    // closing } of a braced reference
	itemIdent     // identifier
	itemDot       // . between reference parts
	itemDirective // #name or #{name}; val holds the name
	itemLParen
	itemRParen
	itemLBrack
	itemRBrack
	itemLBrace
	itemRBrace
	itemComma
	itemColon
	itemRange // ..
	itemAssign
	itemOp     // operators and their word forms
	itemString // '…'
	itemIString
	itemInt
	itemFloat
	itemTrue
	itemFalse
	itemNull
	itemIn
)

type item struct {
	typ  itemType
	pos  int
	val  string
	esc  int    // backslashes in front of a reference
	flag bool   // for itemRef: quiet; for itemRParen: closes a directive's arguments
	gob  string // for itemRParen: the line break swallowed after it
}

func (i item) String() string {
	switch i.typ {
	case itemEOF:
		return "end of template"
	case itemError:
		return i.val
	case itemText:
		return "text"
	case itemDirective:
		return "#" + i.val
	}
	return fmt.Sprintf("%q", i.val)
}

type stateFn func(*lexer) stateFn

// frame records why the lexer is inside code (expression) mode, so the right closer returns
// it to the mode it came from.
type frame int

const (
	frameDirective frame = iota // (…) after a directive: the closing ) may gobble a newline
	frameParen                  // ( … ) inside an expression or method call
	frameBrack                  // [ … ]
	frameBrace                  // { … } map literal
	frameRefBrace               // ${ … }
	frameRefParen               // method arguments inside a reference
	frameRefBrack               // index inside a reference
)

// lexer turns VTL source into items. It is driven by the parser: nextItem runs state
// functions until an item is ready, so no goroutine is involved.
type lexer struct {
	input   string
	start   int
	pos     int
	items   []item
	state   stateFn
	stack   []frame
	isMacro func(string) bool
	// boundary is true when the current text run began right after a non-text token or at the
	// start of the template; only then does Velocity 1.7's SET_DIRECTIVE token swallow the
	// spaces in front of #set (probed with the reference engine).
	boundary bool
	// lastProp is true when the reference so far ends with a .property: Velocity's lexer
	// then reads a following "##" as text, not as a comment (probed).
	lastProp bool
	// rootIdent is true while the identifier just scanned is a reference's root: "$a(" is
	// the reference $a followed by text, while "$a.b(" calls a method.
	rootIdent bool
	// afterCall is true when the reference so far ends with a call or an index.
	afterCall bool
	// inString is true for the body of a double-quoted string, which ends before the
	// template does.
	inString bool
}

const eof = -1

func newLexer(input string, isMacro func(string) bool) *lexer {
	return &lexer{input: input, state: lexText, isMacro: isMacro, boundary: true}
}

func (l *lexer) nextItem() item {
	for len(l.items) == 0 {
		if l.state == nil {
			return item{typ: itemEOF, pos: len(l.input)}
		}
		l.state = l.state(l)
	}
	it := l.items[0]
	l.items = l.items[1:]
	return it
}

func (l *lexer) next() rune {
	if l.pos >= len(l.input) {
		l.pos++ // so backup works at EOF
		return eof
	}
	r, w := utf8.DecodeRuneInString(l.input[l.pos:])
	l.pos += w
	return r
}

func (l *lexer) peek() rune {
	if l.pos >= len(l.input) {
		return eof
	}
	r, _ := utf8.DecodeRuneInString(l.input[l.pos:])
	return r
}

func (l *lexer) backup() {
	if l.pos > len(l.input) {
		l.pos = len(l.input)
		return
	}
	_, w := utf8.DecodeLastRuneInString(l.input[:l.pos])
	l.pos -= w
}

func (l *lexer) emit(t itemType) {
	l.items = append(l.items, item{typ: t, pos: l.start, val: l.input[l.start:l.pos]})
	l.start = l.pos
}

func (l *lexer) emitVal(t itemType, val string) {
	l.items = append(l.items, item{typ: t, pos: l.start, val: val})
	l.start = l.pos
}

// errorf emits an error item and ends the scan. It returns a non-nil state so that helpers
// whose nil result means "plain text, go on" cannot mistake an error for text.
func (l *lexer) errorf(format string, args ...any) stateFn {
	l.items = append(l.items, item{typ: itemError, pos: l.start, val: fmt.Sprintf(format, args...)})
	return lexEnd
}

func lexEnd(*lexer) stateFn { return nil }

func (l *lexer) push(f frame) { l.stack = append(l.stack, f) }

func (l *lexer) pop() (frame, bool) {
	if len(l.stack) == 0 {
		return 0, false
	}
	f := l.stack[len(l.stack)-1]
	l.stack = l.stack[:len(l.stack)-1]
	return f, true
}

// flushText emits the text between start and upto (if any).
func (l *lexer) flushText(upto int) {
	if upto > l.start {
		l.items = append(l.items, item{typ: itemText, pos: l.start, val: l.input[l.start:upto]})
	}
	l.start = upto
}

func isIdentStart(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_'
}

// isIdentChar follows Velocity 1.7, whose identifiers may contain '-' (so
// $elem.partition-key names the property "partition-key").
func isIdentChar(r rune) bool {
	return isIdentStart(r) || r >= '0' && r <= '9' || r == '-'
}

func isWordStart(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' }

// gobbleNewline swallows spaces and tabs followed by a line break, as Velocity 1.7 does after a
// directive, and returns what it swallowed.
func (l *lexer) gobbleNewline() string {
	p := l.pos
	for p < len(l.input) && (l.input[p] == ' ' || l.input[p] == '\t') {
		p++
	}
	switch {
	case strings.HasPrefix(l.input[p:], "\r\n"):
		p += 2
	case p < len(l.input) && (l.input[p] == '\n' || l.input[p] == '\r'):
		p++
	default:
		return ""
	}
	g := l.input[l.pos:p]
	l.pos = p
	l.start = p
	return g
}

// lexText scans literal text until a reference, directive, comment or escape.
func lexText(l *lexer) stateFn {
	for {
		i := strings.IndexAny(l.input[l.pos:], "$#\\")
		if i < 0 {
			l.pos = len(l.input)
			l.flushText(l.pos)
			l.items = append(l.items, item{typ: itemEOF, pos: l.pos})
			return nil
		}
		l.pos += i
		switch l.input[l.pos] {
		case '$':
			if next := l.lexDollar(l.pos, 0); next != nil {
				return next
			}
		case '#':
			if next := l.lexHash(); next != nil {
				return next
			}
		case '\\':
			if next := l.lexBackslash(); next != nil {
				return next
			}
		}
	}
}

// refStart reports whether a reference begins at p and returns its prefix length ($, $!, ${,
// $!{) and whether it is braced and quiet.
func (l *lexer) refStart(p int) (n int, braced, quiet bool) {
	s := l.input[p:]
	n = 1
	if strings.HasPrefix(s[n:], "!") {
		quiet = true
		n++
	}
	if strings.HasPrefix(s[n:], "{") {
		braced = true
		n++
	}
	r, _ := utf8.DecodeRuneInString(s[n:])
	if n < len(s) && isIdentStart(r) {
		return n, braced, quiet
	}
	return 0, false, false
}

// lexDollar starts a reference at p if one begins there, with esc backslashes in front of it
// that belong to the reference. It returns nil (and steps over the $) when the $ is plain text.
func (l *lexer) lexDollar(p, esc int) stateFn {
	n, braced, quiet := l.refStart(p)
	if n == 0 {
		// Velocity 1.7 drops a "$" written right before a directive or a block comment
		// (probed: "a$#if(true)b#end" renders "ab"; "$## c" keeps the "$"), and backslashes
		// right after a lone "$" are text.
		rest := l.input[p+1:]
		if strings.HasPrefix(rest, "#*") || l.startsDirective(p+1) {
			l.flushText(p)
			l.pos = p + 1
			l.start = l.pos
			return nil
		}
		if strings.HasPrefix(rest, "\\") {
			l.pos = p + 1
			for l.pos < len(l.input) && l.input[l.pos] == '\\' {
				l.pos++
			}
			l.boundary = false
			return nil
		}
		// A "$" or "$!" that starts no reference (probed): at the end of the template it
		// is an error; "$!" before "{" or "$" is text, before a directive it is dropped, and
		// anywhere else it renders as "$".
		if len(rest) == 0 && !l.inString {
			l.flushText(p)
			return l.errorf("$ at end of template")
		}
		if strings.HasPrefix(rest, "!") {
			switch {
			case len(rest) == 1 && !l.inString:
				l.flushText(p)
				return l.errorf("$! at end of template")
			case len(rest) == 1 || rest[1] == '{' || rest[1] == '$':
				l.pos = p + 2
			case l.startsDirective(p + 2):
				l.flushText(p)
				l.pos = p + 2
				l.start = l.pos
			default:
				l.flushText(p + 1)
				l.pos = p + 2
				l.start = l.pos
			}
			l.boundary = false
			return nil
		}
		l.pos = p + 1
		l.boundary = false
		return nil
	}
	l.flushText(p - esc)
	l.pos = p + n
	t := itemRef
	if braced {
		t = itemRefBrace
	}
	l.items = append(l.items, item{typ: t, pos: p - esc, val: l.input[p:l.pos], esc: esc, flag: quiet})
	l.start = l.pos
	if braced {
		l.push(frameRefBrace)
	}
	l.rootIdent = true
	return lexRefIdent
}

// lexRefIdent scans the identifier after $, or after a dot in a reference.
func lexRefIdent(l *lexer) stateFn {
	l.lastProp = !l.rootIdent
	for isIdentChar(l.peek()) {
		l.next()
	}
	l.emit(itemIdent)
	return lexRefTail
}

// lexRefTail decides whether the reference goes on (.name, (args), [index]) or ends.
func lexRefTail(l *lexer) stateFn {
	s := l.input[l.pos:]
	afterCall := l.afterCall
	l.afterCall = false
	switch {
	case strings.HasPrefix(s, "."):
		r, _ := utf8.DecodeRuneInString(s[1:])
		// A property or method name starts with a letter: Velocity 1.7 prints "$a._b" as
		// the value of $a and "._b", though "$_b" is a reference (probed; found by
		// FuzzVelocityOracle).
		if len(s) > 1 && isWordStart(r) {
			l.pos++
			l.emit(itemDot)
			l.rootIdent = false
			return lexRefIdent
		}
	// Velocity 1.7 commits to a method call at "$a.b(" and to an index at "$a[", and
	// rejects the template when what follows is not one (probed: "$a.b(x" and "$a[" fail).
	// Only a "(" that ends the template is text.
	case strings.HasPrefix(s, "(") && !l.rootIdent && (len(s) > 1 || l.inString):
		l.lastProp = false
		l.pos++
		l.emit(itemLParen)
		l.push(frameRefParen)
		return lexCode
	case strings.HasPrefix(s, "["):
		l.lastProp = false
		l.pos++
		l.emit(itemLBrack)
		l.push(frameRefBrack)
		return lexCode
	}
	if afterCall && len(l.stack) == 0 && len(s) > 0 && isIdentStart(rune(s[0])) {
		// Velocity 1.7's lexer is still in its reference state after "$a.b()" or "$a[0]":
		// a word right after it is a token of its own, so the blanks between the word and
		// a #set are swallowed as at a line's start (probed: "$s.length()ab  #set(…)x"
		// renders "5abx"). A "." after that word is not emulated ("Known differences" in doc.go).
		q := l.pos
		for q < len(l.input) && isIdentChar(rune(l.input[q])) {
			q++
		}
		l.start = l.pos
		l.flushText(q)
		l.pos = q
		l.boundary = true
		return lexText
	}
	if l.lastProp && len(l.stack) == 0 {
		// Velocity's lexer, still in its reference state after "$a.b", skips block
		// comments but reads "##" as a lone "#" (dropped before a directive, else text)
		// followed by whatever comes next (probed: "$a.b## c" prints "## c", and
		// "$a.b##end" ends a block).
		for strings.HasPrefix(l.input[l.pos:], "#*") {
			end := commentEnd(l.input[l.pos+2:])
			if end < 0 {
				if !commentRunsToEnd(l.input[l.pos+2:]) {
					return l.errorf("unclosed comment #*")
				}
				end = len(l.input) - l.pos - 4
			}
			l.pos += 2 + end + 2
			l.start = l.pos
		}
		if strings.HasPrefix(l.input[l.pos:], "##") {
			l.pos++
			if l.startsDirective(l.pos) {
				l.start = l.pos
			}
			l.boundary = false
			return lexText
		}
	}
	return l.endRef()
}

// startsDirective reports whether a known directive or macro call starts at p.
func (l *lexer) startsDirective(p int) bool {
	if p >= len(l.input) || l.input[p] != '#' {
		return false
	}
	name, _ := directiveName(l.input[p:])
	return name != "" && (directives[name] || l.isMacro != nil && l.isMacro(name))
}

// endRef returns to whatever mode the reference started in.
func (l *lexer) endRef() stateFn {
	if n := len(l.stack); n > 0 && l.stack[n-1] == frameRefBrace {
		if l.peek() == '}' {
			l.pos++
			l.emit(itemRefEnd)
			l.pop()
			return l.resume()
		}
		return l.errorf("expected } to close ${")
	}
	return l.resume()
}

// resume continues in code mode if inside brackets, else in text mode.
func (l *lexer) resume() stateFn {
	if len(l.stack) > 0 {
		return lexCode
	}
	l.boundary = true
	return lexText
}

var directives = map[string]bool{
	"set": true, "if": true, "elseif": true, "else": true, "end": true, "foreach": true,
	"break": true, "stop": true, "macro": true, "define": true,
}

// hasArgs lists the directives whose name is followed by parenthesised arguments.
var hasArgs = map[string]bool{"set": true, "if": true, "elseif": true, "foreach": true, "macro": true, "define": true}

// lexHash handles a # in text: comments, literal blocks, directives and macro calls. It returns
// nil when the # is plain text.
func (l *lexer) lexHash() stateFn {
	p := l.pos
	s := l.input[p:]
	switch {
	case strings.HasPrefix(s, "##"):
		l.flushText(p)
		end := strings.IndexAny(s, "\n\r")
		if end < 0 {
			l.pos = len(l.input)
		} else {
			l.pos = p + end
			if strings.HasPrefix(l.input[l.pos:], "\r\n") {
				l.pos += 2
			} else {
				l.pos++
			}
		}
		l.start = l.pos
		l.boundary = true
		return lexText
	case strings.HasPrefix(s, "#*"):
		l.flushText(p)
		end := commentEnd(s[2:])
		if end < 0 {
			if !commentRunsToEnd(s[2:]) {
				return l.errorf("unclosed comment #*")
			}
			end = len(s) - 4
		}
		l.pos = p + 2 + end + 2
		l.start = l.pos
		l.boundary = true
		return lexText
	case strings.HasPrefix(s, "#[["):
		l.flushText(p)
		end := strings.Index(s[3:], "]]#")
		if end < 0 {
			return l.errorf("unclosed literal #[[")
		}
		l.items = append(l.items, item{typ: itemLiteral, pos: p, val: s[3 : 3+end]})
		l.pos = p + 3 + end + 3
		l.start = l.pos
		l.boundary = true
		return lexText
	}
	name, n := directiveName(s)
	if len(s) == 1 {
		// Velocity's lexer fails on a # that ends the template.
		l.flushText(p)
		return l.errorf("# at end of template")
	}
	// "#word(" is a macro call even when no such macro is defined yet: Velocity 1.7 resolves
	// macros at render time (a call may come before the #macro) and prints calls to
	// unknown macros as their source text.
	// Blanks and line breaks may come before the "(" (probed: "#A (" and "#A\n(" are
	// unclosed calls; found by FuzzVelocityOracle).
	call := name != "" && !strings.HasPrefix(s, "#{") && strings.HasPrefix(strings.TrimLeft(s[n:], " \t\r\n"), "(")
	if name == "" || !directives[name] && !call && (l.isMacro == nil || !l.isMacro(name)) {
		// A # that starts nothing is text, and so are backslashes right after it: Velocity
		// renders "#\$a" as "#\" and the value of $a (probed).
		l.pos = p + 1
		for l.pos < len(l.input) && l.input[l.pos] == '\\' {
			l.pos++
		}
		l.boundary = false
		if name != "" {
			// "#word" is a token of its own in Velocity, so blanks after it may be
			// swallowed by a following #set (probed: "a#b  #set(…)" renders "a#b").
			l.pos = p + n
			l.flushText(l.pos)
			l.boundary = true
		}
		return nil
	}
	textStart := p
	if name == "set" && l.boundary && strings.Trim(l.input[l.start:p], " \t") == "" {
		textStart = l.start
	}
	if name == "end" || name == "else" || name == "break" || name == "stop" {
		l.flushText(textStart)
		l.pos = p + n
		l.emitVal(itemDirective, name)
		l.gobbleNewline()
		l.boundary = true
		return lexText
	}
	l.flushText(textStart)
	l.start = p
	l.pos = p + n
	l.emitVal(itemDirective, name)
	// Velocity allows blanks between a directive and its (, line breaks too except after
	// #set (probed; found by FuzzVelocityOracle).
	blanks := " \t\r\n"
	if name == "set" {
		blanks = " \t"
	}
	q := l.pos
	for q < len(l.input) && strings.IndexByte(blanks, l.input[q]) >= 0 {
		q++
	}
	if q < len(l.input) && l.input[q] == '(' {
		l.pos = q + 1
		l.start = q
		l.emit(itemLParen)
		l.push(frameDirective)
		return lexCode
	}
	if hasArgs[name] {
		return l.errorf("expected ( after #%s", name)
	}
	// A macro called without arguments.
	l.boundary = true
	return lexText
}

// directiveName returns the name of the directive at the start of s ("#if", "#{if}") and the
// length of the whole token.
func directiveName(s string) (string, int) {
	if strings.HasPrefix(s, "#{") {
		i := 2
		for i < len(s) && isDirectiveChar(s[i]) {
			i++
		}
		if i > 2 && i < len(s) && s[i] == '}' && isDirectiveStart(s[2]) {
			return s[2:i], i + 1
		}
		return "", 0
	}
	i := 1
	for i < len(s) && isDirectiveChar(s[i]) {
		i++
	}
	if i == 1 || !isDirectiveStart(s[1]) {
		return "", 0
	}
	name := s[1:i]
	// "#elseif" and "#else" share a prefix; "#end" may be glued to text ("#endx" is not #end)
	// but Velocity reads "#else" followed by letters as #else only via the braced form.
	return name, i
}

// Directive and macro names are letters, digits and '_', not starting with a digit; unlike
// references they take no '-' (probed: "#A-(" is text, "#_m()" calls macro _m; found by
// FuzzVelocityOracle).
func isDirectiveStart(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }

func isDirectiveChar(c byte) bool { return isDirectiveStart(c) || c >= '0' && c <= '9' }

// lexBackslash handles escapes: \$ref, \#directive and runs of backslashes before them.
func (l *lexer) lexBackslash() stateFn {
	p := l.pos
	q := p
	for q < len(l.input) && l.input[q] == '\\' {
		q++
	}
	n := q - p
	if q < len(l.input) && l.input[q] == '$' {
		if m, _, _ := l.refStart(q); m > 0 {
			l.pos = q
			return l.lexDollar(q, n)
		}
	}
	if q < len(l.input) && l.input[q] == '#' {
		name, _ := directiveName(l.input[q:])
		if name != "" && (directives[name] || l.isMacro != nil && l.isMacro(name)) {
			// \#if prints #if; \\#if prints \ and then the directive runs.
			l.flushText(p)
			keep := n / 2
			if n%2 == 0 && name == "set" {
				// Velocity 1.7 prints all the backslashes before an unescaped #set (probed).
				keep = n
			}
			l.items = append(l.items, item{typ: itemText, pos: p, val: strings.Repeat("\\", keep)})
			if n%2 == 1 {
				_, m := directiveName(l.input[q:])
				l.items = append(l.items, item{typ: itemText, pos: q, val: l.input[q : q+m]})
				l.pos = q + m
				l.start = l.pos
				// An escaped directive is a token of its own: blanks after it may be
				// swallowed by a following #set (probed).
				l.boundary = true
				return lexText
			}
			l.pos = q
			l.start = q
			l.boundary = false
			return nil
		}
	}
	l.pos = q
	l.boundary = false
	return nil
}

// lexCode scans expression tokens inside directive arguments, method arguments, indexes and
// braced references.
func lexCode(l *lexer) stateFn {
	for {
		r := l.peek()
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			l.next()
			l.start = l.pos
			continue
		}
		break
	}
	s := l.input[l.pos:]
	if s == "" {
		return l.errorf("unexpected end of template in expression")
	}
	r := l.next()
	switch {
	case r == '$':
		l.backup()
		if n, _, _ := l.refStart(l.pos); n > 0 {
			return l.lexDollar(l.pos, 0)
		}
		return l.errorf("unexpected $ in expression")
	case r == '(':
		l.emit(itemLParen)
		l.push(frameParen)
	case r == ')':
		f, ok := l.pop()
		if !ok || f != frameParen && f != frameDirective && f != frameRefParen {
			return l.errorf("unexpected )")
		}
		l.items = append(l.items, item{typ: itemRParen, pos: l.start, val: ")", flag: f == frameDirective})
		l.start = l.pos
		if f == frameDirective {
			l.items[len(l.items)-1].gob = l.gobbleNewline()
			l.boundary = true
			return lexText
		}
		if f == frameRefParen {
			l.rootIdent, l.lastProp, l.afterCall = false, false, true
			return lexRefTail
		}
	case r == '[':
		l.emit(itemLBrack)
		l.push(frameBrack)
	case r == ']':
		f, ok := l.pop()
		if !ok || f != frameBrack && f != frameRefBrack {
			return l.errorf("unexpected ]")
		}
		l.emit(itemRBrack)
		if f == frameRefBrack {
			l.rootIdent, l.lastProp, l.afterCall = false, false, true
			return lexRefTail
		}
	case r == '{':
		l.emit(itemLBrace)
		l.push(frameBrace)
	case r == '}':
		f, ok := l.pop()
		if !ok || f != frameBrace {
			return l.errorf("unexpected }")
		}
		l.emit(itemRBrace)
	case r == ',':
		l.emit(itemComma)
	case r == ':':
		l.emit(itemColon)
	case r == '.':
		if l.peek() == '.' {
			l.next()
			l.emit(itemRange)
		} else {
			return l.errorf("unexpected .")
		}
	case r == '\'' || r == '"':
		return lexString(l, r)
	case r >= '0' && r <= '9' || r == '-' && isDigit(l.peek()):
		// As in Velocity's lexer, a '-' before a digit always starts a negative literal, so
		// "1 -1" is an error there and here.
		return lexNumber(l)
	case strings.ContainsRune("+-*/%", r):
		l.emit(itemOp)
	case r == '=' || r == '!' || r == '<' || r == '>':
		if l.peek() == '=' {
			l.next()
			l.emit(itemOp)
		} else if r == '=' {
			l.emit(itemAssign)
		} else {
			l.emit(itemOp)
		}
	case r == '&' || r == '|':
		if l.peek() != r {
			return l.errorf("unexpected %c", r)
		}
		l.next()
		l.emit(itemOp)
	case isIdentStart(r):
		for isIdentChar(l.peek()) {
			l.next()
		}
		switch w := l.input[l.start:l.pos]; w {
		case "true":
			l.emit(itemTrue)
		case "false":
			l.emit(itemFalse)
		case "null":
			l.emit(itemNull)
		case "in":
			l.emit(itemIn)
		case "eq", "ne", "lt", "gt", "le", "ge", "and", "or", "not":
			l.emit(itemOp)
		default:
			l.emit(itemIdent)
		}
	default:
		return l.errorf("unexpected %q in expression", r)
	}
	return lexCode
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

func lexNumber(l *lexer) stateFn {
	for isDigit(l.peek()) {
		l.next()
	}
	t := itemInt
	if l.peek() == '.' && l.pos+1 < len(l.input) && isDigit(rune(l.input[l.pos+1])) {
		l.next()
		for isDigit(l.peek()) {
			l.next()
		}
		t = itemFloat
	}
	if r := l.peek(); r == 'e' || r == 'E' {
		save := l.pos
		l.next()
		if r := l.peek(); r == '+' || r == '-' {
			l.next()
		}
		if isDigit(l.peek()) {
			for isDigit(l.peek()) {
				l.next()
			}
			t = itemFloat
		} else {
			l.pos = save
		}
	}
	l.emit(t)
	return lexCode
}

// lexString scans a string literal. Velocity 1.7 keeps backslashes in string literals as they
// are (which is why AWS's documented replaceAll("\\'","'") works); a doubled quote stands
// for one quote.
func lexString(l *lexer, quote rune) stateFn {
	q := byte(quote)
	var b strings.Builder
	for {
		if l.pos >= len(l.input) {
			return l.errorf("unterminated string")
		}
		c := l.input[l.pos]
		l.pos++
		if c == q {
			if l.pos >= len(l.input) || l.input[l.pos] != q {
				break
			}
			l.pos++
		}
		b.WriteByte(c)
	}
	t := itemString
	if quote == '"' {
		t = itemIString
	}
	l.emitVal(t, b.String())
	return lexCode
}

// commentRunsToEnd reports whether Velocity 1.7 takes an unclosed "#*" comment whose text is
// rest as a comment to the end of the template: it does unless the comment is empty or the
// template ends inside or right after a token its lexer still matches there ("#", "$",
// "$!", "#*", "#[["; probed, found by FuzzVelocityOracle).
func commentRunsToEnd(rest string) bool {
	if rest == "" {
		return false
	}
	for _, end := range []string{"#", "$", "$!", "#*", "#[["} {
		if strings.HasSuffix("#*"+rest, end) {
			return false
		}
	}
	return true
}

// commentEnd returns where the "*#" that closes a block comment with text rest starts, or -1.
// Velocity's lexer reads "#*" inside a comment as one token, so its "*" closes nothing:
// "#* ##*# x" is a comment to the end (probed; found by FuzzVelocityOracle).
func commentEnd(rest string) int {
	for i := 0; i+1 < len(rest); i++ {
		switch {
		case rest[i] == '*' && rest[i+1] == '#':
			return i
		case rest[i] == '#' && rest[i+1] == '*':
			i++
		}
	}
	return -1
}
