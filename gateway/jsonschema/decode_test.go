package jsonschema

import (
	"reflect"
	"strings"
	"testing"
)

// sameAsDecodeInstance fails t unless decodeBody gives what decodeInstance gives for body:
// the same value, or an error with the same text.
func sameAsDecodeInstance(t *testing.T, body []byte) {
	t.Helper()
	want, wantErr := decodeInstance(body)
	got, err := decodeBody(body)
	if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
		t.Fatalf("%q: error %v, want %v", body, err, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: %#v, want %#v", body, got, want)
	}
}

// TestDecodeBody covers the bodies the fast path reads and those it hands to encoding/json,
// bad ones first among them: each must come out as encoding/json decodes it.
func TestDecodeBody(t *testing.T) {
	for _, body := range []string{
		// Bad: the fast path declines and encoding/json words the error.
		`{`, `}`, `[1,]`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `{"a":1}}`, `[1 2]`, `01`, `-`, `1.`, `1e`, `1e+`, `.5`, `+1`,
		`tru`, `truex`, `nul`, `"abc`, "\"a\x01b\"", `"\x"`, `"\u12"`, `"a\`, `{"a":1} {"b":2}`, `1 2`, `[1]x`,
		`NaN`, `Infinity`, "\xef\xbb\xbf{}", "{\"a\":\xff}", `{"a":[1,{"b":}]}`, strings.Repeat("[", 20000),
		// Good: read by the fast path, or by encoding/json where it declines.
		`{}`, `[]`, ` { "a" : [ 1 , -2.5e+3 , "x" , true , false , null ] } `, "\t\r\n0\n", `-0`, `0.0e-0`,
		`123456789012345678901234567890`, `1E400`, `{"a":1,"a":{"b":2}}`, `{"":""}`, `"plain"`, `"é ☃ 😀"`,
		`"esc \" \\ \/ \b \f \n \r \t \u00e9 \ud83d\ude00"`, `"lone \ud800 surrogate"`, "\"bad utf8 \xff\xfe\"", `{"k\n":"v"}`,
		strings.Repeat("[", 600) + strings.Repeat("]", 600), strings.Repeat(`{"a":`, 100) + "1" + strings.Repeat("}", 100),
	} {
		sameAsDecodeInstance(t, []byte(body))
	}
}

// FuzzDecodeBody holds decodeBody to decodeInstance on any input.
func FuzzDecodeBody(f *testing.F) {
	for _, s := range []string{`{"message":"hello","n":42,"tags":["a","b"]}`, `[1,-0.5e3,true,null,"\u00e9"]`,
		`{"a":{"b":[{}]}}`, `01`, `"\ud800"`, "\"\xff\"", ` 1 `, `1 2`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) { sameAsDecodeInstance(t, body) })
}
