package mapping

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Render limits. Tests lower them; the defaults follow AWS where AWS documents a limit.
var (
	// MaxLoopIterations is AWS's limit on iterations of one #foreach loop (api-gateway limits:
	// "Number of iterations in a #foreach … #end loop in mapping templates: 1000"). Like
	// Velocity's directive.foreach.maxloops, a loop that reaches it stops without an error;
	// what AWS does at the limit is not recorded.
	MaxLoopIterations = 1000
	// MaxMacroDepth is Velocity 1.7's default velocimacro.max.depth.
	MaxMacroDepth = 20
	// MaxOutputSize is AWS's 10 MB payload limit.
	MaxOutputSize = 10 << 20
	// MaxSteps bounds the total work of one render (loop iterations plus macro calls), so nested
	// loops cannot run for minutes. AWS documents no such limit.
	MaxSteps = 1_000_000
	// MaxRangeSize bounds the list a range [a..b] builds.
	MaxRangeSize = 100_000
)

// errBreak and errStop unwind #break and #stop; they never leave Execute.
var (
	errBreak = errors.New("#break")
	errStop  = errors.New("#stop")
)

// state is one render of a template. The template itself is never modified, so any number of
// renders can run at once.
type state struct {
	t      *Template
	out    *bytes.Buffer
	vars   map[string]any
	loops  []*loopState
	frames []*macroFrame
	depth  int
	steps  int
	work   int // bytes of text produced, including intermediate strings
	in     *Input
	over   *overrideMaps // set once $context is built
}

type macroFrame struct {
	args map[string]macroArg
}

// macroArg is a macro argument. Velocity 1.7 passes arguments by name: a reference argument
// is evaluated again, in the caller's scope, each time the parameter is used.
type macroArg struct {
	node   node
	frame  int // number of frames visible to the caller
	val    any
	hasVal bool
}

// defineBlock is the value of a #define: its body renders when the reference is used.
type defineBlock struct {
	body  *listNode
	depth int // renders of this block under way
}

// maxDefineDepth is Velocity 1.7's directive.define.max.depth: a block that uses itself is
// rendered this deep, and past it the reference prints as its source text (nothing when
// quiet) in place, or is null where a string is needed (probed).
const maxDefineDepth = 2

// defineString renders a block to a string, as Velocity's Block.Reference.toString does: null
// past maxDefineDepth.
func (s *state) defineString(pos offset, b *defineBlock) (any, error) {
	if b.depth >= maxDefineDepth {
		return nil, nil
	}
	b.depth++
	defer func() { b.depth-- }()
	return s.renderToString(pos, b.body)
}

func (s *state) errorf(pos offset, format string, args ...any) error {
	line, col := position(s.t.src, int(pos))
	return &Error{Name: s.t.name, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}
}

// addWork counts text the render produced, so templates that build huge intermediate strings
// ("$s$s" doubling) stop instead of running for minutes.
func (s *state) addWork(pos offset, n int) error {
	s.work += n
	if s.work > 8*MaxOutputSize {
		return s.errorf(pos, "template produces more than %d bytes of text", 8*MaxOutputSize)
	}
	return nil
}

func (s *state) write(str string) error {
	if err := s.addWork(0, len(str)); err != nil {
		return err
	}
	if s.out.Len()+len(str) > MaxOutputSize {
		return &Error{Name: s.t.name, Line: 1, Col: 1, Msg: fmt.Sprintf("output larger than %d bytes", MaxOutputSize)}
	}
	s.out.WriteString(str)
	return nil
}

func (s *state) step(pos offset) error {
	s.steps++
	if s.steps > MaxSteps {
		return s.errorf(pos, "template does more than %d steps", MaxSteps)
	}
	return nil
}

// render executes a list of nodes.
func (s *state) render(list *listNode) error {
	for _, n := range list.Nodes {
		if err := s.renderNode(n); err != nil {
			return err
		}
	}
	return nil
}

func (s *state) renderNode(n node) error {
	switch n := n.(type) {
	case *textNode:
		return s.write(n.Text)
	case *refNode:
		return s.renderRef(n)
	case *setNode:
		return s.set(n)
	case *ifNode:
		for i, c := range n.Conds {
			ok, err := s.cond(c)
			if err != nil {
				return err
			}
			if ok {
				return s.render(n.Bodies[i])
			}
		}
		if n.Else != nil {
			return s.render(n.Else)
		}
		return nil
	case *foreachNode:
		return s.foreach(n)
	case *breakNode:
		return errBreak
	case *stopNode:
		return errStop
	case *macroNode:
		return nil
	case *macroCallNode:
		return s.callMacro(n)
	case *defineNode:
		s.vars[n.Name] = &defineBlock{body: n.Body}
		return nil
	}
	return s.errorf(n.at(), "cannot render %T", n)
}

// renderRef writes a reference's value. AWS renders a null value (an undefined reference, a
// missing $input.path value, a failed method) as empty text, where stock Velocity 1.7 prints
// the reference's source; aws-semantics.md A.1 records this ("body": , for a missing path, and
// EncodedBodyAccess= for a null argument).
func (s *state) renderRef(n *refNode) error {
	v, err := s.evalRef(n)
	if err != nil {
		return err
	}
	if n.Escape > 0 {
		// Velocity 1.7: 2k backslashes print k and the value; 2k+1 print k and the source
		// text of the reference (and one more backslash when it is undefined).
		bs := make([]byte, n.Escape/2)
		for i := range bs {
			bs[i] = '\\'
		}
		if err := s.write(string(bs)); err != nil {
			return err
		}
		if n.Escape%2 == 1 {
			lit := n.Src[n.Escape:]
			if v == nil {
				lit = "\\" + lit
			}
			return s.write(lit)
		}
	}
	if v == nil {
		return nil
	}
	if b, ok := v.(*defineBlock); ok {
		// Rendered in place, so a #stop inside the block stops the whole template, as in
		// Velocity.
		if b.depth >= maxDefineDepth {
			if n.Quiet {
				return nil
			}
			return s.write(n.Src[n.Escape:])
		}
		b.depth++
		s.depth++
		defer func() { b.depth--; s.depth-- }()
		if s.depth > MaxMacroDepth*5 {
			return s.errorf(n.offset, "#define blocks nest deeper than %d", MaxMacroDepth*5)
		}
		return s.render(b.body)
	}
	str, err := s.stringOf(n.offset, v)
	if err != nil {
		return err
	}
	if len(str) > MaxOutputSize {
		return s.errorf(n.offset, "output larger than %d bytes", MaxOutputSize)
	}
	return s.write(str)
}

// stringOf renders a value, running #define blocks.
func (s *state) stringOf(pos offset, v any) (string, error) {
	if b, ok := v.(*defineBlock); ok {
		str, err := s.defineString(pos, b)
		return toString(str), err
	}
	return toString(v), nil
}

func (s *state) renderToString(pos offset, body *listNode) (string, error) {
	s.depth++
	defer func() { s.depth-- }()
	if s.depth > MaxMacroDepth*5 {
		return "", s.errorf(pos, "nesting deeper than %d", MaxMacroDepth*5)
	}
	saved := s.out
	var buf bytes.Buffer
	buf.Grow(64)
	s.out = &buf
	// Output limits count the whole render, not just this piece.
	err := s.render(body)
	s.out = saved
	if err == errBreak || err == errStop {
		err = nil
	}
	if err != nil {
		return "", err
	}
	if saved.Len()+buf.Len() > MaxOutputSize {
		return "", s.errorf(pos, "output larger than %d bytes", MaxOutputSize)
	}
	return buf.String(), nil
}

// set runs #set. Velocity 1.7 (directive.set.null.allowed=false) leaves the target alone when
// the value is null.
func (s *state) set(n *setNode) error {
	v, err := s.eval(n.Value)
	if err != nil {
		return err
	}
	if v == nil {
		return nil
	}
	t := n.Target
	if len(t.Parts) == 0 {
		s.assign(t.Name, v, len(s.frames))
		return nil
	}
	head := &refNode{offset: t.offset, Name: t.Name, Parts: t.Parts[:len(t.Parts)-1], Src: t.Src}
	obj, err := s.evalRef(head)
	if err != nil {
		return err
	}
	last := t.Parts[len(t.Parts)-1]
	switch o := obj.(type) {
	case *vmap:
		key := last.Name
		if last.IsIdx {
			k, err := s.eval(last.Index)
			if err != nil {
				return err
			}
			key = toString(k)
		}
		o.Put(key, v)
	case *vlist:
		if last.IsIdx {
			k, err := s.eval(last.Index)
			if err != nil {
				return err
			}
			i, ok := k.(int64)
			if !ok || i < 0 || i >= int64(len(o.Items)) {
				return s.errorf(n.offset, "index %s out of range for a list of %d", toString(k), len(o.Items))
			}
			o.Items[i] = v
		}
	}
	// Setting a property on anything else has no setter to call; Velocity logs and goes on.
	return nil
}

// assign sets a variable as seen from the given number of macro frames: a macro parameter
// passed as a plain reference writes through to the caller's variable, as in Velocity 1.7.
func (s *state) assign(name string, v any, frames int) {
	for i := frames - 1; i >= 0; i-- {
		f := s.frames[i]
		a, ok := f.args[name]
		if !ok {
			continue
		}
		if r, isRef := a.node.(*refNode); isRef && !a.hasVal && len(r.Parts) == 0 {
			s.assign(r.Name, v, a.frame)
			return
		}
		f.args[name] = macroArg{val: v, hasVal: true}
		return
	}
	s.vars[name] = v
}

func (s *state) foreach(n *foreachNode) error {
	iter, err := s.eval(n.Iter)
	if err != nil {
		return err
	}
	// The loop reads the list or map live, as Velocity's Java iterator does, and fails the
	// same way when the body changes its size: Java's fail-fast iterators throw
	// ConcurrentModificationException at the next element (ArrayList: while the position is
	// not the new size; LinkedHashMap, whose values a map loop visits: unless the changed
	// entry was the last one when it was reached).
	var l *vlist
	var m *vmap
	switch it := iter.(type) {
	case *vlist:
		l = it
	case *vmap:
		m = it
	default:
		// null and values that are not collections are skipped, as Velocity logs and skips.
		return nil
	}
	mods := func() int {
		if l != nil && l.view != nil {
			return l.view.mods
		}
		if l != nil {
			return l.mods
		}
		return m.mods
	}
	want := mods()
	old, had := s.vars[n.Var]
	defer func() {
		if had {
			s.vars[n.Var] = old
		} else {
			delete(s.vars, n.Var)
		}
	}()
	ls := &loopState{}
	if len(s.loops) > 0 {
		ls.parent = s.loops[len(s.loops)-1]
	}
	s.loops = append(s.loops, ls)
	defer func() { s.loops = s.loops[:len(s.loops)-1] }()
	more := l != nil && len(l.Items) > 0 || m != nil && len(m.keys) > 0
	for i := 0; more; i++ {
		if i >= MaxLoopIterations {
			break
		}
		if err := s.step(n.offset); err != nil {
			return err
		}
		if mods() != want {
			return s.errorf(n.offset, "#foreach: its list or map changed while the loop ran (java.util.ConcurrentModificationException)")
		}
		var v any
		if l != nil {
			v = l.Items[i]
			more = i+1 != len(l.Items)
			if l.view != nil {
				more = i+1 < len(l.Items)
			}
		} else {
			v = m.vals[i]
			more = i+1 < len(m.keys)
		}
		ls.index = i
		// Velocity's maxloops stops the loop without touching $foreach.hasNext, which
		// stays true at the last allowed iteration when items remain (probed).
		ls.hasNext = more
		if v == nil {
			delete(s.vars, n.Var)
		} else {
			s.vars[n.Var] = v
		}
		err := s.render(n.Body)
		if err == errBreak {
			break
		}
		if err != nil {
			return err
		}
		if l != nil && l.view == nil {
			more = i+1 != len(l.Items)
		}
	}
	return nil
}

func (s *state) callMacro(n *macroCallNode) error {
	m := s.t.macros[n.Name]
	if m == nil {
		// Velocity prints a call to an unknown macro as it was written.
		return s.write(n.Src + n.Gobbled)
	}
	if err := s.step(n.offset); err != nil {
		return err
	}
	if len(s.frames) >= MaxMacroDepth {
		return s.errorf(n.offset, "macro #%s nests deeper than %d", n.Name, MaxMacroDepth)
	}
	f := &macroFrame{args: make(map[string]macroArg, len(m.Params))}
	for i, p := range m.Params {
		if i >= len(n.Args) {
			// Velocity 1.7 runs the macro with the missing parameters undefined (probed);
			// extra arguments are ignored.
			break
		}
		a := macroArg{node: n.Args[i], frame: len(s.frames)}
		if _, isRef := n.Args[i].(*refNode); !isRef {
			// Literals and expressions are evaluated once, at the call.
			v, err := s.eval(n.Args[i])
			if err != nil {
				return err
			}
			a.val, a.hasVal = v, true
		}
		f.args[p] = a
	}
	s.frames = append(s.frames, f)
	err := s.render(m.Body)
	s.frames = s.frames[:len(s.frames)-1]
	if err == errBreak {
		err = nil
	}
	return err
}

// lookup resolves the root name of a reference.
func (s *state) lookup(name string) (any, error) {
	return s.lookupIn(name, len(s.frames))
}

func (s *state) lookupIn(name string, frames int) (any, error) {
	for i := frames - 1; i >= 0; i-- {
		a, ok := s.frames[i].args[name]
		if !ok {
			continue
		}
		if a.hasVal {
			return a.val, nil
		}
		saved := s.frames
		s.frames = s.frames[:a.frame]
		v, err := s.eval(a.node)
		s.frames = saved
		return v, err
	}
	if len(s.loops) > 0 {
		switch name {
		case "foreach":
			return s.loops[len(s.loops)-1], nil
		case "velocityCount":
			return int64(s.loops[len(s.loops)-1].index + 1), nil
		case "velocityHasNext":
			// Velocity 1.7's deprecated directive.foreach.iterator.name.
			return s.loops[len(s.loops)-1].hasNext, nil
		}
	}
	if v, ok := s.vars[name]; ok {
		return v, nil
	}
	switch name {
	case "context":
		if s.in.NoOverrides {
			ctx, err := mapFromGo(s.in.Context, 0, func(v any) (any, error) { return fromGo(v, 1) })
			if err != nil {
				return nil, fmt.Errorf("mapping: context: %w", err)
			}
			s.vars["context"] = ctx
			return ctx, nil
		}
		ctx, over, err := newContext(s.in.Context)
		if err != nil {
			return nil, err
		}
		s.vars["context"], s.over = ctx, over
		return ctx, nil
	case "stageVariables":
		sv := newVMap()
		for _, k := range sortedKeys(s.in.StageVariables) {
			sv.Put(k, s.in.StageVariables[k])
		}
		s.vars["stageVariables"] = sv
		return sv, nil
	}
	return nil, nil
}

// Execute renders the template for one request and writes the output to w. Nothing is
// written when rendering fails. The returned Overrides hold what the template set in
// $context.responseOverride and $context.requestOverride.
func (t *Template) Execute(w io.Writer, in *Input) (*Overrides, error) {
	out, over, err := t.Render(in)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(out); err != nil {
		return nil, err
	}
	return over, nil
}

// Render is Execute returning the output, for a caller that keeps it: the bytes are the
// render's own, not copied again.
func (t *Template) Render(in *Input) ([]byte, *Overrides, error) {
	if in == nil {
		in = &Input{}
	}
	var buf bytes.Buffer
	// Room for the source's text and, as request templates mostly embed the body (often
	// base64-encoded), for some of it: growing the buffer costs a copy and an allocation.
	buf.Grow(len(t.src) + 64 + min(2*len(in.Body), 4096))
	s := &state{t: t, out: &buf, in: in, vars: make(map[string]any, 8)}
	// $context and $stageVariables are built when first used (see lookupIn): most
	// templates read neither, and building them is most of a small render's cost.
	s.vars["input"] = &inputObj{in: in}
	s.vars["util"] = utilObj{}
	for k, v := range in.Vars {
		cv, err := fromGo(v, 0)
		if err != nil {
			return nil, nil, fmt.Errorf("mapping: variable %s: %w", k, err)
		}
		s.vars[k] = cv
	}
	err := s.render(t.root)
	if err == errStop || err == errBreak {
		err = nil
	}
	if err != nil {
		return nil, nil, err
	}
	if s.over == nil {
		return buf.Bytes(), &Overrides{}, nil
	}
	return buf.Bytes(), s.over.read(), nil
}
