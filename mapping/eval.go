package mapping

import (
	"fmt"
	"math"
	"strings"
)

// eval evaluates an expression.
func (s *state) eval(n node) (any, error) {
	switch n := n.(type) {
	case *litNode:
		return n.Val, nil
	case *istringNode:
		if n.Body == nil {
			return n.Src, nil
		}
		return s.renderToString(n.offset, n.Body)
	case *refNode:
		v, err := s.evalRef(n)
		if b, ok := v.(*defineBlock); ok && err == nil {
			// Velocity would keep the block and render it where it is used; it is
			// rendered here, when assigned ("Known differences" in doc.go).
			return s.defineString(n.offset, b)
		}
		return v, err
	case *parenNode:
		return s.eval(n.X)
	case *notNode:
		v, err := s.cond(n.X)
		return !v, err
	case *listLitNode:
		l := &vlist{Items: make([]any, 0, len(n.Items))}
		for _, it := range n.Items {
			v, err := s.eval(it)
			if err != nil {
				return nil, err
			}
			l.Items = append(l.Items, v)
		}
		return l, nil
	case *rangeNode:
		return s.evalRange(n)
	case *mapLitNode:
		m := newVMap()
		for i := range n.Keys {
			k, err := s.eval(n.Keys[i])
			if err != nil {
				return nil, err
			}
			v, err := s.eval(n.Vals[i])
			if err != nil {
				return nil, err
			}
			m.Put(toString(k), v)
		}
		return m, nil
	case *binaryNode:
		return s.evalBinary(n)
	}
	return nil, s.errorf(n.at(), "cannot evaluate %T", n)
}

func (s *state) evalRange(n *rangeNode) (any, error) {
	from, err := s.eval(n.From)
	if err != nil {
		return nil, err
	}
	to, err := s.eval(n.To)
	if err != nil {
		return nil, err
	}
	a, ok1 := rangeBound(from)
	b, ok2 := rangeBound(to)
	if !ok1 || !ok2 {
		// Velocity 1.7 logs and yields null when a bound is not a number.
		return nil, nil
	}
	size := b - a
	if size < 0 {
		size = -size
	}
	if size+1 > int64(MaxRangeSize) || size < 0 {
		return nil, s.errorf(n.offset, "range [%d..%d] has more than %d elements", a, b, MaxRangeSize)
	}
	l := &vlist{Items: make([]any, 0, size+1)}
	step := int64(1)
	if b < a {
		step = -1
	}
	for i := a; ; i += step {
		l.Items = append(l.Items, i)
		if i == b {
			break
		}
	}
	return l, nil
}

func rangeBound(v any) (int64, bool) {
	switch v := v.(type) {
	case int64:
		return v, true
	case float64:
		if math.IsNaN(v) || math.Abs(v) > 1<<53 {
			return 0, false
		}
		return int64(v), true
	case *decimal:
		return int64(int32(lowBits(v.integer()))), true
	case string:
		// Velocity 1.7 accepts numeric strings in a range.
		var i int64
		if _, err := fmt.Sscan(v, &i); err == nil && toString(i) == strings.TrimSpace(v) {
			return i, true
		}
	}
	return 0, false
}

// cond evaluates a condition the way Velocity 1.7 does, by the kind of node rather than by
// value: a reference is true unless null or false, comparisons and logic give their result,
// and every other node (a number, string, list or map literal, arithmetic) is false (probed:
// #if(1) and #if('x') take the #else branch).
func (s *state) cond(n node) (bool, error) {
	switch n := n.(type) {
	case *refNode:
		v, err := s.evalRef(n)
		return truthy(v), err
	case *litNode:
		b, ok := n.Val.(bool)
		return ok && b, nil
	case *parenNode:
		return s.cond(n.X)
	case *notNode:
		v, err := s.cond(n.X)
		return !v, err
	case *binaryNode:
		switch n.Op {
		case "&&", "||", "==", "!=", "<", ">", "<=", ">=":
			v, err := s.evalBinary(n)
			b, _ := v.(bool)
			return b, err
		}
	}
	return false, nil
}

func (s *state) evalBinary(n *binaryNode) (any, error) {
	switch n.Op {
	case "&&":
		l, err := s.cond(n.L)
		if err != nil || !l {
			return false, err
		}
		r, err := s.cond(n.R)
		return r, err
	case "||":
		l, err := s.cond(n.L)
		if err != nil || l {
			return l, err
		}
		r, err := s.cond(n.R)
		return r, err
	}
	l, err := s.eval(n.L)
	if err != nil {
		return nil, err
	}
	r, err := s.eval(n.R)
	if err != nil {
		return nil, err
	}
	switch n.Op {
	case "==":
		return valuesEqual(l, r), nil
	case "!=":
		return !valuesEqual(l, r), nil
	case "<", ">", "<=", ">=":
		// Velocity 1.7 compares numbers only; anything else logs an error and is false.
		if !isNumber(l) || !isNumber(r) {
			return false, nil
		}
		if math.IsNaN(toFloat(l)) || math.IsNaN(toFloat(r)) {
			return false, nil
		}
		c := compareNumbers(l, r)
		switch n.Op {
		case "<":
			return c < 0, nil
		case ">":
			return c > 0, nil
		case "<=":
			return c <= 0, nil
		}
		return c >= 0, nil
	case "+":
		if isNumber(l) && isNumber(r) {
			return s.arith(n, l, r)
		}
		_, ls := l.(string)
		_, rs := r.(string)
		if (ls || rs) && (l == nil || r == nil) {
			// Velocity 1.7 concatenates a string with a null operand's source text
			// ("a" + $undef is "a$undef").
			if l == nil {
				l = literal(n.L)
			} else {
				r = literal(n.R)
			}
		}
		if ls || rs {
			a, err := s.stringOf(n.offset, l)
			if err != nil {
				return nil, err
			}
			b, err := s.stringOf(n.offset, r)
			if err != nil {
				return nil, err
			}
			if len(a)+len(b) > MaxOutputSize {
				return nil, s.errorf(n.offset, "string longer than %d bytes", MaxOutputSize)
			}
			if err := s.addWork(n.offset, len(a)+len(b)); err != nil {
				return nil, err
			}
			return a + b, nil
		}
		// Null operands without a string, and operands that are neither numbers nor
		// strings, give null.
		return nil, nil
	case "-", "*", "/", "%":
		if !isNumber(l) || !isNumber(r) {
			return nil, nil
		}
		return s.arith(n, l, r)
	}
	return nil, s.errorf(n.offset, "unknown operator %s", n.Op)
}

// literal is the source text Velocity substitutes for a null operand of string +.
func literal(n node) string {
	if r, ok := n.(*refNode); ok {
		return r.Src
	}
	return n.String()
}

// evalRef evaluates a reference to its value; nil means null or undefined.
func (s *state) evalRef(n *refNode) (any, error) {
	cur, err := s.lookup(n.Name)
	if err != nil {
		return nil, err
	}
	for _, p := range n.Parts {
		if b, ok := cur.(*defineBlock); ok {
			// A block has no properties or methods but toString (Velocity's
			// Block.Reference): anything else is null.
			if !p.Call || p.Name != "toString" || len(p.Args) != 0 {
				return nil, nil
			}
			str, err := s.defineString(n.offset, b)
			if err != nil {
				return nil, err
			}
			cur = str
			continue
		}
		if cur == nil {
			return nil, nil
		}
		switch {
		case p.IsIdx:
			idx, err := s.eval(p.Index)
			if err != nil {
				return nil, err
			}
			cur, err = s.index(n, cur, idx)
			if err != nil {
				return nil, err
			}
		case p.Call:
			args := make([]any, len(p.Args))
			for i, a := range p.Args {
				v, err := s.eval(a)
				if err != nil {
					return nil, err
				}
				args[i] = v
			}
			v, found, err := callMethod(cur, p.Name, args)
			if err != nil {
				e := s.errorf(n.offset, "%s: calling %s: %v", n.Src, p.Name, err)
				e.(*Error).Err = err
				return nil, e
			}
			if str, ok := v.(string); ok {
				if len(str) > MaxOutputSize {
					return nil, s.errorf(n.offset, "%s: string longer than %d bytes", n.Src, MaxOutputSize)
				}
				if err := s.addWork(n.offset, len(str)); err != nil {
					return nil, err
				}
			}
			if !found {
				// Velocity finds no method with that name and argument types and the
				// reference is null.
				return nil, nil
			}
			cur = v
		default:
			cur = property(cur, p.Name)
		}
	}
	return cur, nil
}

// index implements $a[i]: lists by position (negative counts from the end, as Velocity 1.7
// allows), maps by key.
func (s *state) index(n *refNode, cur, idx any) (any, error) {
	switch c := cur.(type) {
	case *vlist:
		i, ok := idx.(int64)
		if !ok {
			// Velocity 1.7 finds no get method for the argument type: the value is null.
			return nil, nil
		}
		if i < 0 {
			i += int64(len(c.Items))
		}
		if i < 0 || i >= int64(len(c.Items)) {
			return nil, s.errorf(n.offset, "%s: index %s out of range for a list of %d", n.Src, toString(idx), len(c.Items))
		}
		return c.Items[i], nil
	case *vmap:
		if idx == nil {
			return nil, nil
		}
		v, _ := c.Get(toString(idx))
		return v, nil
	case builtin:
		return c.property(toString(idx)), nil
	}
	// Velocity 1.7 finds no get method and the value is null.
	return nil, nil
}

// property implements $a.name the way Velocity's introspection resolves it for the types we
// have: map lookup for maps, isEmpty for "empty", and the built-ins' own tables.
func property(cur any, name string) any {
	switch c := cur.(type) {
	case *vmap:
		v, _ := c.Get(name)
		return v
	case *vlist:
		if name == "empty" {
			return len(c.Items) == 0
		}
	case string:
		if name == "empty" {
			return c == ""
		}
	case *entry:
		switch name {
		case "key":
			return c.key
		case "value":
			return c.val
		}
	case builtin:
		return c.property(name)
	}
	return nil
}

func (s *state) arith(n *binaryNode, l, r any) (any, error) {
	v := arith(n.Op, l, r)
	if err, ok := v.(error); ok {
		return nil, s.errorf(n.offset, "%s %s %s: %v", toString(l), n.Op, toString(r), err)
	}
	return v, nil
}
