package mapping

import (
	"strings"
)

// node is an element of a parsed template. The set of nodes is closed (the unexported method
// seals it); String prints canonical VTL source that parses back to the same tree.
type node interface {
	String() string
	at() offset
	vtlNode()
}

// offset is a byte offset in the template source.
type offset int

func (p offset) at() offset { return p }

// listNode is a sequence of nodes.
type listNode struct {
	offset
	Nodes []node
}

// textNode is literal text. Literal marks #[[…]]# blocks.
type textNode struct {
	offset
	Text    string
	Literal bool
}

// part is one step of a reference after its root: .name, .name(args) or [index].
type part struct {
	Name  string
	Args  []node // for method calls; nil for a property
	Call  bool
	Index node // for $a[i]
	IsIdx bool
}

// refNode is a reference such as $a, $!{a.b(1)}, \$a.
type refNode struct {
	offset
	Name   string
	Parts  []part
	Quiet  bool
	Braced bool
	Escape int // backslashes written in front of the reference
	Src    string
}

// setNode is #set($ref = expr).
type setNode struct {
	offset
	Target *refNode
	Value  node
}

// ifNode is #if/#elseif/#else/#end.
type ifNode struct {
	offset
	Conds  []node
	Bodies []*listNode
	Else   *listNode
}

// foreachNode is #foreach($var in expr) … #end.
type foreachNode struct {
	offset
	Var  string
	Iter node
	Body *listNode
}

// breakNode is #break, stopNode is #stop.
type breakNode struct{ offset }
type stopNode struct{ offset }

// macroNode is a #macro definition; it renders nothing where it stands.
type macroNode struct {
	offset
	Name   string
	Params []string
	Body   *listNode
}

// macroCallNode is #name(args).
type macroCallNode struct {
	offset
	Name string
	Args []node
	// Paren records whether the call was written with parentheses.
	Paren bool
	// Src is the call's source, printed when no such macro exists, with Gobbled, the line
	// break after it that a call to an existing macro swallows.
	Src     string
	Gobbled string
}

// defineNode is #define($name) … #end.
type defineNode struct {
	offset
	Name string
	Body *listNode
}

// Expression nodes.

// litNode is a literal number, boolean, null or single-quoted string. Word marks a bare
// word in macro arguments, which Velocity accepts and which only matters when the call is
// printed as text.
type litNode struct {
	offset
	Val  any
	Src  string
	Word bool
}

// istringNode is a double-quoted string, interpolated at render time.
type istringNode struct {
	offset
	Src  string
	Body *listNode // nil when the string holds nothing to interpolate
}

// listLitNode is [a, b].
type listLitNode struct {
	offset
	Items []node
}

// rangeNode is [a..b].
type rangeNode struct {
	offset
	From, To node
}

// mapLitNode is {k: v}.
type mapLitNode struct {
	offset
	Keys, Vals []node
}

// binaryNode is l op r; Op is the symbolic form (word forms are normalised).
type binaryNode struct {
	offset
	Op   string
	L, R node
}

// notNode is !x.
type notNode struct {
	offset
	X node
}

// parenNode keeps explicit parentheses so String round-trips.
type parenNode struct {
	offset
	X node
}

func (*listNode) vtlNode()      {}
func (*textNode) vtlNode()      {}
func (*refNode) vtlNode()       {}
func (*setNode) vtlNode()       {}
func (*ifNode) vtlNode()        {}
func (*foreachNode) vtlNode()   {}
func (*breakNode) vtlNode()     {}
func (*stopNode) vtlNode()      {}
func (*macroNode) vtlNode()     {}
func (*macroCallNode) vtlNode() {}
func (*defineNode) vtlNode()    {}
func (*litNode) vtlNode()       {}
func (*istringNode) vtlNode()   {}
func (*listLitNode) vtlNode()   {}
func (*rangeNode) vtlNode()     {}
func (*mapLitNode) vtlNode()    {}
func (*binaryNode) vtlNode()    {}
func (*notNode) vtlNode()       {}
func (*parenNode) vtlNode()     {}

func (n *listNode) String() string {
	var b strings.Builder
	for i, c := range n.Nodes {
		s := c.String()
		if t, ok := c.(*textNode); ok && !t.Literal && !strings.Contains(t.Text, "]]#") {
			// Text that a directive would swallow when the source is parsed again is printed
			// as a literal block: a blank line start after a directive (or at the start of a
			// block body), and blanks right before #set.
			setNext := false
			if i+1 < len(n.Nodes) {
				_, setNext = n.Nodes[i+1].(*setNode)
			}
			if startsWithBlankLine(t.Text) && (i == 0 || gobbles(n.Nodes[i-1])) ||
				setNext && strings.Trim(t.Text, " \t") == "" {
				s = "#[[" + t.Text + "]]#"
			}
		}
		b.WriteString(s)
	}
	return b.String()
}

// gobbles reports whether a node's source form swallows a following blank line.
func gobbles(n node) bool {
	switch n.(type) {
	case *setNode, *ifNode, *foreachNode, *macroNode, *macroCallNode, *defineNode, *breakNode, *stopNode:
		return true
	}
	return false
}

func startsWithBlankLine(s string) bool {
	t := strings.TrimLeft(s, " \t")
	return strings.HasPrefix(t, "\n") || strings.HasPrefix(t, "\r")
}

func (n *textNode) String() string {
	if n.Literal || strings.ContainsAny(n.Text, "$#\\") {
		if !strings.Contains(n.Text, "]]#") {
			return "#[[" + n.Text + "]]#"
		}
	}
	return n.Text
}

func (n *refNode) String() string {
	if n.Escape%2 == 1 {
		// An escaped reference prints its own source, so keep it exactly.
		return n.Src
	}
	var b strings.Builder
	b.WriteString(strings.Repeat("\\", n.Escape))
	b.WriteByte('$')
	if n.Quiet {
		b.WriteByte('!')
	}
	// Always brace, so text that follows cannot extend the reference.
	b.WriteByte('{')
	b.WriteString(n.Name)
	for _, p := range n.Parts {
		switch {
		case p.IsIdx:
			b.WriteString("[" + p.Index.String() + "]")
		case p.Call:
			b.WriteString("." + p.Name + "(" + joinNodes(p.Args) + ")")
		default:
			b.WriteString("." + p.Name)
		}
	}
	b.WriteByte('}')
	return b.String()
}

func joinNodes(ns []node) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = n.String()
	}
	return strings.Join(s, ", ")
}

func (n *setNode) String() string {
	return "#set(" + n.Target.String() + " = " + n.Value.String() + ")"
}

func (n *ifNode) String() string {
	var b strings.Builder
	for i, c := range n.Conds {
		if i == 0 {
			b.WriteString("#if(")
		} else {
			b.WriteString("#elseif(")
		}
		b.WriteString(c.String() + ")" + n.Bodies[i].String())
	}
	if n.Else != nil {
		b.WriteString("#{else}" + n.Else.String())
	}
	b.WriteString("#{end}")
	return b.String()
}

func (n *foreachNode) String() string {
	return "#foreach($" + n.Var + " in " + n.Iter.String() + ")" + n.Body.String() + "#{end}"
}

func (n *breakNode) String() string { return "#{break}" }
func (n *stopNode) String() string  { return "#{stop}" }

func (n *macroNode) String() string {
	var b strings.Builder
	b.WriteString("#macro(" + n.Name)
	for _, p := range n.Params {
		b.WriteString(" $" + p)
	}
	b.WriteString(")" + n.Body.String() + "#{end}")
	return b.String()
}

func (n *macroCallNode) String() string {
	if !n.Paren {
		return "#{" + n.Name + "}"
	}
	s := make([]string, len(n.Args))
	for i, a := range n.Args {
		s[i] = a.String()
	}
	return "#" + n.Name + "(" + strings.Join(s, " ") + ")"
}

func (n *defineNode) String() string {
	return "#define($" + n.Name + ")" + n.Body.String() + "#{end}"
}

func (n *litNode) String() string {
	if n.Word {
		return n.Src
	}
	if s, ok := n.Val.(string); ok {
		return "'" + strings.ReplaceAll(s, "'", "''") + "'"
	}
	if n.Val == nil {
		return "null"
	}
	if n.Src != "" {
		return n.Src
	}
	return toString(n.Val)
}

func (n *istringNode) String() string { return `"` + strings.ReplaceAll(n.Src, `"`, `""`) + `"` }

func (n *listLitNode) String() string { return "[" + joinNodes(n.Items) + "]" }

func (n *rangeNode) String() string { return "[" + n.From.String() + ".." + n.To.String() + "]" }

func (n *mapLitNode) String() string {
	s := make([]string, len(n.Keys))
	for i := range n.Keys {
		s[i] = n.Keys[i].String() + ": " + n.Vals[i].String()
	}
	return "{" + strings.Join(s, ", ") + "}"
}

func (n *binaryNode) String() string {
	return n.L.String() + " " + n.Op + " " + n.R.String()
}

func (n *notNode) String() string { return "!" + n.X.String() }

func (n *parenNode) String() string { return "(" + n.X.String() + ")" }
