package awsjson

import (
	"strings"
	"testing"
)

func TestOp(t *testing.T) {
	type in struct {
		Name *string `json:"Name"`
	}
	check := func(x *in) *Error {
		var v Validator
		if v.Required("name", x.Name != nil) {
			v.Str("name", x.Name, 1, 3, nil, "")
		}
		return v.Err()
	}
	ran := 0
	op := Op(check, func(c string, x *in) ([]byte, *Error) {
		ran++
		return []byte(c + *x.Name), nil
	})
	for _, tc := range []struct {
		body, want string
		ran        int
	}{
		{`{"Name":"ab"}`, "c:ab", 1},
		{`{"Name":1}`, `{"Message":"class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String","__type":"SerializationException"}`, 0},
		{`{"Name":"abcd"}`, `{"__type":"ValidationException","message":"1 validation error detected: Value 'abcd' at 'name' failed to satisfy constraint: Member must have length less than or equal to 3"}`, 0},
		{`{}`, `{"__type":"ValidationException","message":"1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null"}`, 0},
	} {
		ran = 0
		out, err := op("c:", []byte(tc.body))
		got := string(out)
		if err != nil {
			got = string(err.Body())
		}
		if !strings.HasPrefix(got, tc.want) || ran != tc.ran {
			t.Errorf("%s: %s (ran %d), want %s (ran %d)", tc.body, got, ran, tc.want, tc.ran)
		}
	}
	// Without a check, any decodable body runs.
	if out, err := Op(nil, func(c string, x *in) ([]byte, *Error) { return []byte("ok"), nil })("", []byte(`{}`)); err != nil || string(out) != "ok" {
		t.Errorf("nil check: %s %v", out, err)
	}
}

func TestTagChars(t *testing.T) {
	for s, want := range map[string]bool{
		"": true, "env": true, "a b_c.d:e/f=g+h-i@j%k": true, "Grüße 東京 ٣": true, "tab\there": false,
		"a*b": false, "a,b": false, "a#b": false, "emoji😀": false, "a\u2028b": true,
	} {
		if got := TagChars(s); got != want {
			t.Errorf("TagChars(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestTagMapAndKeyList(t *testing.T) {
	long := strings.Repeat("k", 129)
	for _, tc := range []struct {
		name string
		run  func(v *Validator)
		want string // "" for no error
	}{
		{"ok", func(v *Validator) { v.TagMap("tags", map[string]string{"a": "1"}, 50) }, ""},
		{"nil", func(v *Validator) { v.TagMap("tags", nil, 50) }, ""},
		{"empty", func(v *Validator) { v.TagMap("tags", map[string]string{}, 50) },
			"1 validation error detected: Value '{}' at 'tags' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"too many", func(v *Validator) { v.TagMap("tags", map[string]string{"a": "", "b": ""}, 1) },
			"1 validation error detected: Value '{a=, b=}' at 'tags' failed to satisfy constraint: Member must have length less than or equal to 1"},
		{"key and value", func(v *Validator) {
			v.TagMap("tags", map[string]string{"": strings.Repeat("v", 257)}, 50)
		}, "2 validation errors detected: Value '{=" + strings.Repeat("v", 257) + "}' at 'tags' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]; Value '{=" + strings.Repeat("v", 257) + "}' at 'tags' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 256, Member must have length greater than or equal to 0]"},
		{"keys ok", func(v *Validator) { v.TagKeyList("tagKeys", []string{"a", "b"}, 50) }, ""},
		{"keys empty", func(v *Validator) { v.TagKeyList("tagKeys", []string{}, 50) },
			"1 validation error detected: Value '[]' at 'tagKeys' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"key too long", func(v *Validator) { v.TagKeyList("tagKeys", []string{"a", long, ""}, 2) },
			"2 validation errors detected: Value '[a, " + long + ", ]' at 'tagKeys' failed to satisfy constraint: Member must have length less than or equal to 2; Value '[a, " + long + ", ]' at 'tagKeys' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]"},
	} {
		var v Validator
		tc.run(&v)
		got := ""
		if err := v.Err(); err != nil {
			got = err.Message
		}
		if got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
}

func TestMergeTags(t *testing.T) {
	tags := map[string]string{"a": "1", "b": "2"}
	tooMany := func() error { return NewError("LimitExceededException", "too many") }
	if err := MergeTags(tags, map[string]string{"b": "3", "c": "4"}, 3, tooMany); err != nil || len(tags) != 3 || tags["b"] != "3" {
		t.Fatalf("merge: %v %v", err, tags)
	}
	if err := MergeTags(tags, map[string]string{"d": ""}, 3, tooMany); err == nil || len(tags) != 3 {
		t.Fatalf("over the limit: %v %v", err, tags)
	}
}
