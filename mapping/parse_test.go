package mapping

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, src string
		want      string // "name:line:col: message" prefix
	}{
		{"unclosed if", "a\n  #if($x) b", "t:2:3: #if without #end"},
		{"unclosed foreach", "#foreach($i in $l) b", "t:1:1: #foreach without #end"},
		{"end alone", "a #end b", "t:1:3: unexpected #end"},
		{"else alone", "x\n#else", "t:2:1: unexpected #else"},
		{"set without =", "#set($x 1)", "t:1:9: expected =, found \"1\""},
		{"set to literal", "#set(1 = 2)", "t:1:6: #set needs a reference"},
		{"set to method", "#set($a.b() = 2)", "t:1:6: cannot assign to a method call"},
		{"double equals", "#if($x = = 1)a#end", "t:1:8: expected ), found \"=\""},
		{"unterminated string", "#set($x = \"abc)", "t:1:11: unterminated string"},
		{"unclosed comment", "a\nb #* c#", "t:2:3: unclosed comment"},
		{"empty unclosed comment", "a\nb #*", "t:2:3: unclosed comment"},
		{"unclosed literal", "#[[ a", "t:1:1: unclosed literal"},
		{"hash at end", "a #", "t:1:3: # at end"},
		{"bad foreach", "#foreach($i of $l)#end", "t:1:13: expected in"},
		{"foreach var with property", "#foreach($i.x in $l)#end", "t:1:10: #foreach variable must be a plain name"},
		{"missing paren", "#if $x #end", "t:1:4: expected ( after #if"},
		{"bad operator", "#if($a & $b)#end", "t:1:8: unexpected &"},
		{"unclosed map", "#set($m = {'a': 1)", "t:1:18: unexpected )"},
		{"unclosed list", "#set($m = [1, 2)", "t:1:16: unexpected )"},
		{"map without colon", "#set($m = {'a' 1})", "t:1:16: expected :"},
		{"elseif after else", "#if($a)#else#elseif($b)#end", "t:1:13: expected #end after #else"},
		{"macro name directive", "#macro(if)#end", "t:1:8: macro name \"if\" is a directive"},
		{"macro bad param", "#macro(m x)#end", "t:1:10: expected $parameter"},
		{"define without ref", "#define(x)#end", "t:1:9: #define needs a reference"},
		{"unexpected dot", "#set($a = .5)", "t:1:11: unexpected ."},
		{"empty expression", "#if()#end", "t:1:5: expected a value"},
		{"minus after number", "#set($a = 1 -1)", "t:1:13: expected ), found \"-1\""},
		{"bad braced ref", "${a.b(}", "t:1:7: unexpected }"},
		{"deep nesting", strings.Repeat("#if(true)", 300), "nesting deeper than"},
		{"deep parens", "#set($a = " + strings.Repeat("(", 500) + ")", "nesting deeper than"},
		{"unicode column", "é\n  éé #end", "t:2:6: unexpected #end"},
		{"string in string error", `#set($a = "x #if(")`, "t:1:"},
		// Velocity 1.7 takes only plain values (no operators, parentheses or null) in these
		// places; each of these is a ParseErrorException there (checked with the oracle).
		{"null literal", "#set($a = null)", "t:1:11: null is not a value"},
		{"null in condition", "#if($a == null)#end", "t:1:11: null is not a value"},
		{"null in list", "#set($a = [null])", "t:1:12: null is not a value"},
		{"operator in method arg", "$s.concat(1 + 2)", "t:1:13: expected , or ), found \"+\""},
		{"parens in method arg", "$s.concat((1))", "t:1:11: expected a reference or a literal"},
		{"not in method arg", "$s.concat(!$b)", "t:1:11: expected a reference or a literal"},
		{"operator in index", "$l[1 + 0]", "t:1:6: expected ], found \"+\""},
		{"float index", "$l[1.5]", "t:1:4: unexpected \"1.5\" in an index"},
		{"list index", "$l[[1]]", "t:1:4: unexpected \"[\" in an index"},
		{"operator in list", "#set($a = [1 + 2])", "t:1:14: expected , or ] in list"},
		{"operator in map key", "#set($a = {1 + 1: 2})", "t:1:14: expected :"},
		{"expression range bound", "#set($a = [1..$n + 1])", "t:1:18: expected ], found \"+\""},
		{"string range bound", "#set($a = [1..'3'])", "t:1:15: a range bound must be an integer or a reference"},
		{"float range bound", "#set($a = [1.5..3])", "t:1:12: a range bound"},
		{"foreach over expression", "#foreach($i in $n + 1)#end", "t:1:19: expected ), found \"+\""},
		{"foreach over parens", "#foreach($i in ($l))#end", "t:1:16: expected a reference or a literal"},
		{"operator in macro arg", "#m(1 - 2)", "t:1:6: expected a reference or a literal"},
		{"word arg of a defined macro", "#macro(m $p)#end#m(word)", "t:1:20: invalid argument word in a call of macro #m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t", tt.src)
			if err == nil {
				t.Fatalf("Parse(%q) succeeded", tt.src)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not *Error: %v", err, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse(%q) error\n got: %v\nwant: %s", tt.src, err, tt.want)
			}
		})
	}
}

func TestRenderErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{"a\n  $list.get(9)", "t:2:3: $list.get(9): calling get: index out of range"},
		{"$list[5]", "t:1:1: $list[5]: index 5 out of range"},
		{"$name.substring(9)", "t:1:1: $name.substring(9): calling substring"},
		{"$util.base64Decode('%%%')", "Illegal base64 character"},
		{"$util.urlDecode('%zz')", "urlDecode"},
		{"$util.parseJson('{')", "not valid JSON at line 1 column 2"},
		{"$name.replaceAll('(?=a)', 'b')", "not supported"},
		{"$input.path('$[')", "JSONPath"},
		{"#macro(r)#r()#end#r()", "nests deeper than"},
		{"$name.concat($undef)", "calling concat: java.lang.NullPointerException"},
		{"#macro(r $a)#r($a)#end#r(1)", "nests deeper than"},
		{"#set($a = [1..200000])", "has more than"},
	}
	for _, tt := range tests {
		tm, err := Parse("t", tt.src)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.src, err)
			continue
		}
		_, err = tm.Execute(&bytes.Buffer{}, &Input{Vars: goldenVars()})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Execute(%q) error\n got: %v\nwant: %s", tt.src, err, tt.want)
		}
	}
}

// TestRoundTrip checks that String prints source that parses to the same tree and renders
// the same output.
func TestRoundTrip(t *testing.T) {
	srcs := []string{
		"plain text",
		"a $b c ${d}e $!f $!{g} \\$h",
		"$a.b.c $a.b(1, 'x', \"y$z\") $a[0] $a['k'].m()",
		"#set($x = 1 + 2 * (3 - 4) / 5 % 6)",
		"#if($a && $b || !$c)x#elseif($a == 1)y#else z#end",
		"#if($a eq 1 and $b ne 2 or not $c)x#end",
		"#foreach($i in [1..3])$i#if($foreach.hasNext),#end#end",
		"#foreach($i in [1, 'two', 3.5, true, false])$i#end",
		"#set($m = {'a': 1, 'b': [1, 2]})$m",
		"#macro(m $a $b)[$a $b]#end#m(1 'x')#m($x, $y)",
		"#define($d)body $x#end$d",
		"#[[ $raw #if ]]# after",
		"#if($a)\n  x\n#end\n",
		"  #set($a = 1)\n$a",
		"#foreach($a in $b)#break#end#stop",
		"it's \"quoted\" #set($s = 'a''b')$s",
	}
	for _, src := range srcs {
		t1, err := Parse("t", src)
		if err != nil {
			t.Fatalf("Parse(%q): %v", src, err)
		}
		printed := t1.String()
		t2, err := Parse("t", printed)
		if err != nil {
			t.Fatalf("Parse(String(%q)) = Parse(%q): %v", src, printed, err)
		}
		if again := t2.String(); again != printed {
			t.Errorf("round trip of %q:\n first: %q\nsecond: %q", src, printed, again)
		}
		in := func() *Input { return &Input{Vars: goldenVars()} }
		o1, err1 := render("t", src, in())
		o2, err2 := render("t", printed, in())
		if o1 != o2 || (err1 == nil) != (err2 == nil) {
			t.Errorf("%q renders %q (%v) but its canonical form %q renders %q (%v)", src, o1, err1, printed, o2, err2)
		}
	}
}

var hostileUnits = []string{"$a.b(", "$a[", "$a.b('", "#foo(", "#if(", "${a", "\\$a.b(", "#[[", "#*", "#**#a"}

// TestParseHostile parses hostile templates of the maximum size: each must end in a result
// or an *Error. How long they take is measured by BenchmarkParseHostile, not asserted here
// (house rule: no timed asserts); a quadratic scan would show there as a 16-fold step.
func TestParseHostile(t *testing.T) {
	for _, unit := range hostileUnits {
		_, err := Parse("big", strings.Repeat(unit, MaxTemplateSize/len(unit)))
		if _, ok := err.(*Error); err != nil && !ok {
			t.Errorf("%q: error of type %T", unit, err)
		}
	}
}

// BenchmarkParseHostile parses each hostile unit repeated to a quarter of and to the whole
// template limit; linear parsing costs 4 times as much for the second.
func BenchmarkParseHostile(b *testing.B) {
	for _, unit := range hostileUnits {
		for _, div := range []int{4, 1} {
			src := strings.Repeat(unit, MaxTemplateSize/div/len(unit))
			b.Run(fmt.Sprintf("%q/%dKB", unit, len(src)>>10), func(b *testing.B) {
				for b.Loop() {
					Parse("big", src)
				}
			})
		}
	}
}
