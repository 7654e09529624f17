package awsjson

import (
	"regexp"
	"strconv"
	"testing"
)

func TestValidator(t *testing.T) {
	var v Validator
	if v.Err() != nil {
		t.Fatal("no failures, yet an error")
	}
	s := func(x string) *string { return &x }
	n := func(x int32) *int32 { return &x }
	v.Required("a", false)
	v.Str("b", s("x😀"), 4, 0, regexp.MustCompile(`^[a-z]+$`), "[a-z]+")
	v.IntRange("c", n(1<<30), 1, 0) // max 0: no upper bound
	v.IntRange("d", n(9), 1, 8)
	v.Enum("e", s("Z"), "A", "B")
	v.Blob("f", make([]byte, 3), 2)
	v.Add("'{}'", "g", "Map keys must satisfy constraint: [x]")
	want := "3 validation errors detected: " +
		"Value null at 'a' failed to satisfy constraint: Member must not be null; " +
		"Value 'x😀' at 'b' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-z]+; " +
		"Value 'x😀' at 'b' failed to satisfy constraint: Member must have length greater than or equal to 4"
	v2 := Validator{msgs: v.msgs[:3]}
	if e := v2.Err(); e == nil || e.Type != "ValidationException" || e.Message != want {
		t.Errorf("got %v\nwant %s", e, want)
	}
	got := v.Err().Message
	for _, part := range []string{
		"7 validation errors detected: ",
		"Value '9' at 'd' failed to satisfy constraint: Member must have value less than or equal to 8",
		"Value 'Z' at 'e' failed to satisfy constraint: Member must satisfy enum value set: [A, B]",
		"Value 'java.nio.HeapByteBuffer[pos=0 lim=3 cap=3]' at 'f' failed to satisfy constraint: Member must have length less than or equal to 2",
		"Value '{}' at 'g' failed to satisfy constraint: Map keys must satisfy constraint: [x]",
	} {
		if !regexp.MustCompile(regexp.QuoteMeta(part)).MatchString(got) {
			t.Errorf("missing %q in %s", part, got)
		}
	}
	// AWS counts and shows ten failures at most.
	var many Validator
	for i := range 12 {
		many.Required(strconv.Itoa(i), false)
	}
	if m := many.Err().Message; m[:30] != "10 validation errors detected:" || regexp.MustCompile(`'1[01]'`).MatchString(m) {
		t.Errorf("twelve failures: %s", m)
	}
	var one Validator
	one.Required("x", false)
	if m := one.Err().Message; m != "1 validation error detected: Value null at 'x' failed to satisfy constraint: Member must not be null" {
		t.Errorf("one failure: %s", m)
	}
}
