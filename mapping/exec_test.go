package mapping

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestLanguage(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"undefined renders empty", "[$nope][$nope.x][$!nope][${nope}]", "[][][][]"},
		{"missing method renders empty", "[$name.nope()]", "[]"},
		{"null equals empty string", "#if($nope == '')y#end#if('' == $nope)y#end#if($nope == $null)y#end", "yyy"},
		{"empty string is true", "#set($e = '')#if($e)t#else f#end", "t"},
		{"literals are false in conditions", "#if(1)a#end#if('x')b#end#if(!1)c#end#if((true))d#end#if($n + 1)e#end", "cd"},
		{"int overflow widens", "#set($a = 2147483647 * 2)$a", "4294967294"},
		{"long overflow becomes BigInteger", "#set($a = 9223372036854775807 + 1)$a", "9223372036854775808"},
		{"BigInteger mod is never negative", "#set($a = -99999999999999999999 % 7)$a", "6"},
		{"BigInteger from JSON", "#set($a = $util.parseJson('[123456789012345678901]'))$a $a[0].longValue()", "[123456789012345678901] -5670419503621182411"},
		{"int division truncates", "#set($a = -7 / 2)$a", "-3"},
		{"division by zero is null", "#set($a = 1)#set($a = 1 / 0)$a", "1"},
		{"double printing", "#set($a = 0.1 + 0.2)$a|#set($b = 1e21)$b|#set($c = 100.0)$c", "0.30000000000000004|1.0E21|100.0"},
		{"nested foreach parent", "#foreach($a in [1,2])#foreach($b in ['x'])$foreach.parent.count$b#end#end", "1x2x"},
		{"macro recursion", "#macro(down $n)$n#if($n > 0)#set($m = $n - 1)#down($m)#end#end#down(3)", "3210"},
		{"macro literal args", "#macro(p $a)<$a>#end#p('x')#p(1)#p([1, 2])", "<x><1><[1, 2]>"},
		{"define recursion stops at depth 2", "#define($d)x$d#end$d|#define($e)x$!e#end$e|#define($f)#set($s = \"a$f\")#end$f$s", "xx$d|xx|a"},
		{"define has only toString", "#define($d)x#end[$d.length()][$d.toString()]", "[][x]"},
		{"bare word method argument is null", "[$undef.m(word)][$name.equals(word)]", "[][false]"},
		{"define sees current values", "#define($d)$v#end#set($v = 1)$d#set($v = 2)$d", "12"},
		{"stop keeps output", "a#stop b", "a"},
		{"break outside loop stops", "a#break b", "a"},
		{"json list prints as json", "#set($l = $util.parseJson('[1,\"a\",{\"b\":null}]'))$l $l[2]", `[1,"a",{"b":null}] {b=null}`},
		{"string methods utf16", "#set($s = '😀x')$s.length() $s.indexOf('x') $s.substring(2)", "3 2 x"},
		{"replaceAll groups", "$name.replaceAll('(w)(o)', '$2$1') $name.replaceFirst('[a-z]', 'W')", "owrld World"},
		{"split limit", "#set($s = 'a,b,c')$s.split(',', 2) $s.split(',').size()", "[a, b,c] 3"},
		{"hyphen property", "$map.partition-key", "pk"},
		{"set through map index", "#set($m = {})#set($m['a'] = 1)#set($m.b = 2)$m", "{a=1, b=2}"},
		{"foreach over map values", "#foreach($v in {'a': 1, 'b': 2})$v#end", "12"},
		{"velocityCount", "#foreach($i in ['a','b'])$velocityCount#end", "12"},
		{"foreach first last", "#foreach($i in [1,2,3])#if($foreach.first)[#end$i#if($foreach.last)]#end#end", "[123]"},
		{"list json flag survives subList", "#set($l = $util.parseJson('[1,2,3]'))$l.subList(0, 2)", "[1,2]"},
		{"entry methods", "#set($m = {'k': 'v'})#foreach($e in $m.entrySet())$e.getKey()=$e.getValue()#end", "k=v"},
		{"contains and equals", "#if($list.contains(1) && !$list.contains(1.0))ok#end", "ok"},
		{"null as a method argument", "#set($m = {})$m.put('k', null)$m", "{k=null}"},
		{"set to undefined keeps old", "#set($a = 'x')#set($a = $null)$a", "x"},
		{"non-integer list index is null", "[$list['1']][$list[true]]", "[][]"},
		{"input body", "$input.body", "{}"},
		{"base64Decode invalid UTF-8", "$util.base64Decode('/w==')|$util.urlDecode('%FFa')", "\uFFFD|\uFFFDa"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := render("t", tt.src, &Input{Vars: goldenVars()})
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("%s\n got: %q\nwant: %q", tt.src, got, tt.want)
			}
		})
	}
}

func TestJavaDouble(t *testing.T) {
	for f, want := range map[float64]string{
		0: "0.0", 1: "1.0", -1.5: "-1.5", 1e7: "1.0E7", 9999999: "9999999.0", 0.001: "0.001",
		0.0001: "1.0E-4", 1.23456789e-5: "1.23456789E-5", 1e100: "1.0E100", 123456.789: "123456.789",
	} {
		if got := javaDouble(f); got != want {
			t.Errorf("javaDouble(%v) = %q, want %q", f, got, want)
		}
	}
}

func TestEscapeJavaScript(t *testing.T) {
	for in, want := range map[string]string{
		`it's`:            `it\'s`,
		`"q"`:             `\"q\"`,
		`a\b`:             `a\\b`,
		"</script>":       `<\/script>`,
		"\b\f\n\r\t":      `\b\f\n\r\t`,
		"\x00\x1f\x7f":    `\u0000\u001F` + "\x7f",
		"é€":              `\u00E9\u20AC`,
		"😀":               `\uD83D\uDE00`,
		"plain ASCII ~!@": "plain ASCII ~!@",
	} {
		if got := escapeJavaScript(in); got != want {
			t.Errorf("escapeJavaScript(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestJSONPath(t *testing.T) {
	body := `{"store":{"book":[{"cat":"ref","author":"Rees","price":8.95},{"cat":"fiction","author":"Waugh","price":12.99},{"cat":"fiction","author":"Melville","isbn":"0-553","price":8.99}],"bicycle":{"color":"red","price":19.95}},"a-b":1,"n":null}`
	tests := []struct{ path, want string }{
		{"$.store.bicycle.color", `"red"`},
		{"$['store']['bicycle']['price']", `19.95`},
		{"$.store.book[0].author", `"Rees"`},
		{"$.store.book[-1].author", `""`}, // Jayway 2.0: nothing at a negative index
		{"$.store.book[-1:].author", `["Melville"]`},
		{"$.store.book[*].author", `["Rees","Waugh","Melville"]`},
		{"$..author", `["Rees","Waugh","Melville"]`},
		{"$.store.*.color", `["red"]`},
		{"$.store.book[0:2].price", `[8.95,12.99]`},
		{"$.store.book[-1:].cat", `["fiction"]`},
		{"$.store.book[0,2].price", `[8.95,8.99]`},
		{"$.store.book[?(@.isbn)].author", `["Melville"]`},
		{"$.store.book[?(@.price < 10)].author", `["Rees","Melville"]`},
		{"$.store.book[?(@.cat == 'fiction' && @.price > 10)].author", `["Waugh"]`},
		{"$.store.book[?(@.cat != 'fiction' || @.price == 8.99)].author", `["Rees","Melville"]`},
		{"$['a-b']", `1`},
		{"$.n", `null`},
		{"$.missing", `""`},
		{"$.store.book[9]", `""`},
		{"$.missing[*]", `[]`},
		{"store.bicycle.color", `"red"`},
	}
	for _, tt := range tests {
		got, err := render("t", "$input.json('"+strings.ReplaceAll(tt.path, "'", "''")+"')", &Input{Body: []byte(body)})
		if err != nil {
			t.Errorf("%s: %v", tt.path, err)
			continue
		}
		if got != tt.want {
			t.Errorf("$input.json(%s) = %s, want %s", tt.path, got, tt.want)
		}
	}
}

// TestInputNonJSONBody: $input.body reads any body, but $input.path and $input.json of a body
// that is not JSON fail the render with API Gateway's "Could not parse request body into
// json" (the gateway answers it 400), bare tokens and single-quoted JSON included, which
// json-smart's permissive parser would take (awsDifferences in golden_test.go).
func TestInputNonJSONBody(t *testing.T) {
	for _, body := range []string{"some raw data", "a=b&c=d", "eyJ0b3AiOjF9", "{'a': 1}", "[1,]", `{"a":1} x`} {
		in := &Input{Body: []byte(body)}
		if got, err := render("t", "[$input.body]", in); err != nil || got != "["+body+"]" {
			t.Errorf("%q: $input.body = %q, %v", body, got, err)
		}
		for _, src := range []string{"$input.path('$')", "$input.json('$')", "$input.path('$.a')", "$input.json('$.a')"} {
			_, err := render("t", src, in)
			var be *BodyError
			if !errors.As(err, &be) || !strings.HasPrefix(be.Error(), "Could not parse request body into json: ") {
				t.Errorf("%q %s: %v, want a *BodyError", body, src, err)
			}
		}
	}
}

func TestValidateJSON(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"a": 1}`, ""},
		{" [1, 2.5e3, \"\\u00e9\", true, null]\n", ""},
		{"{\n  \"a\": 1,\n  \"b\": \n}", "not valid JSON at line 4 column 1: expected a JSON value, found '}'"},
		{"{\n  \"StreamName\": \"s\",\n  \"Data\": \"x\" \"PartitionKey\": 1}", "line 3 column 15: expected ',' or '}' after object value"},
		{`{"a": it\'s}`, "line 1 column 7: expected a JSON value"},
		{`{"a": "it\'s"}`, `line 1 column 10: invalid escape \'`},
		{"", "line 1 column 1: expected a JSON value, found end of input"},
		{`{"a":1} {}`, "line 1 column 9: unexpected '{' after the JSON value"},
		{`[1,]`, "line 1 column 4"},
		{`01`, "line 1 column 2"},
	}
	for _, tt := range tests {
		err := ValidateJSON([]byte(tt.in))
		if tt.want == "" {
			if err != nil {
				t.Errorf("ValidateJSON(%q) = %v", tt.in, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ValidateJSON(%q) = %v, want %q", tt.in, err, tt.want)
		}
	}
}

func TestLimits(t *testing.T) {
	lowLimits(t)
	MaxLoopIterations = 5
	got, err := render("t", "#foreach($i in [1..10])$i#if($foreach.hasNext),#end#end", nil)
	if err != nil || got != "1,2,3,4,5," {
		t.Errorf("loop limit: %q, %v", got, err)
	}
	MaxOutputSize = 10
	if _, err := render("t", "#foreach($i in [1..5])abc#end", nil); err == nil || !strings.Contains(err.Error(), "output larger than 10") {
		t.Errorf("output limit: %v", err)
	}
	MaxOutputSize = 1 << 16
	MaxSteps = 50
	if _, err := render("t", "#foreach($i in [1..5])#foreach($j in [1..5])#foreach($k in [1..5])#end#end#end", nil); err == nil || !strings.Contains(err.Error(), "steps") {
		t.Errorf("step limit: %v", err)
	}
	MaxSteps = 1 << 20
	if _, err := render("t", "#set($s = 'xxxxxxxxxx')#foreach($i in [1..5])#foreach($j in [1..5])#set($s = \"$s$s\")#end#end", nil); err == nil {
		t.Errorf("doubling string was not stopped")
	}
	MaxTemplateSize = 10
	defer func() { MaxTemplateSize = 300 * 1024 }()
	if _, err := Parse("t", strings.Repeat("x", 11)); err == nil {
		t.Error("template size limit not applied")
	}
}

// TestConcurrentExecute renders one parsed template from many goroutines (run with -race).
func TestConcurrentExecute(t *testing.T) {
	tm, err := Parse("t", `#set($r = $input.path('$'))#foreach($x in $r.items)$x.id#set($r.seen = $x)#end|$input.params('p')|$context.requestId`)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				in := &Input{
					Body:    []byte(fmt.Sprintf(`{"items":[{"id":%d},{"id":%d}]}`, g, i)),
					Params:  Params{Path: map[string]string{"p": fmt.Sprint(g)}},
					Context: map[string]any{"requestId": fmt.Sprint(i)},
				}
				var b bytes.Buffer
				if _, err := tm.Execute(&b, in); err != nil {
					t.Error(err)
					return
				}
				if want := fmt.Sprintf("%d%d|%d|%d", g, i, g, i); b.String() != want {
					t.Errorf("got %q, want %q", b.String(), want)
					return
				}
			}
		}()
	}
	wg.Wait()
}
