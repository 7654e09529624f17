package awsjson

import (
	"fmt"
	"strconv"
	"strings"
)

// Validator collects an operation's model-constraint failures and renders them as one
// ValidationException. AWS's front end checks every JSON 1.1 service's input against its
// model the same way, with the same wording, so the services share one implementation; each
// embeds it and adds checks for its own shapes. Failures are reported in the order they are
// recorded, which callers keep to the order of the members in the service model, as AWS does.
type Validator struct{ msgs []string }

// Fail records that the value shown at path breaks a constraint AWS words as
// "Member must <constraint>".
func (v *Validator) Fail(value, path, constraint string) {
	v.Add(value, path, "Member must "+constraint)
}

// Add records a failure whose constraint text is not of the "Member must" form, such as a
// map's "Map keys must satisfy constraint: [...]".
func (v *Validator) Add(value, path, constraint string) {
	v.msgs = append(v.msgs, fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: %s", value, path, constraint))
}

// Quote shows a value in a failure the way AWS does, in single quotes.
func Quote(s string) string { return "'" + s + "'" }

// Required records a missing required member and reports whether it is present, so a caller
// checks the member's other constraints only when it is.
func (v *Validator) Required(path string, present bool) bool {
	if !present {
		v.Fail("null", path, "not be null")
	}
	return present
}

// Pattern is a member's pattern constraint: a *regexp.Regexp, or a *lazyre.Regexp that is
// compiled when first used rather than while the program starts.
type Pattern interface{ MatchString(string) bool }

// Str checks an optional string member's pattern and length, in that order, as AWS reports
// them. Lengths count UTF-16 code units, as Java's String.length does. A nil pattern or a max
// of 0 means the model sets no such constraint.
func (v *Validator) Str(path string, s *string, min, max int, pattern Pattern, patternText string) {
	if s == nil {
		return
	}
	if pattern != nil && !pattern.MatchString(*s) {
		v.Fail(Quote(*s), path, "satisfy regular expression pattern: "+patternText)
	}
	n := JavaLen(*s)
	if n < min {
		v.Fail(Quote(*s), path, "have length greater than or equal to "+strconv.Itoa(min))
	}
	if max > 0 && n > max {
		v.Fail(Quote(*s), path, "have length less than or equal to "+strconv.Itoa(max))
	}
}

// JavaLen is the length of s in UTF-16 code units, which is what AWS's length constraints
// count.
func JavaLen(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}

// IntRange checks an optional integer member's range. A max of 0 means the model sets no
// upper bound (Kinesis's ShardCount has none). Integer members are int32, as the model's
// "integer" is a Java Integer: Decode saturates a larger number at the type's bound, so no
// value that passes here overflows the arithmetic that follows.
func (v *Validator) IntRange(path string, n *int32, min, max int64) {
	if n == nil {
		return
	}
	x := int64(*n)
	if x < min {
		v.Fail(Quote(strconv.FormatInt(x, 10)), path, "have value greater than or equal to "+strconv.FormatInt(min, 10))
	}
	if max > 0 && x > max {
		v.Fail(Quote(strconv.FormatInt(x, 10)), path, "have value less than or equal to "+strconv.FormatInt(max, 10))
	}
}

// Enum checks an optional string member against the model's values, listed in the model's
// order, which AWS's message keeps.
func (v *Validator) Enum(path string, s *string, values ...string) {
	if s == nil {
		return
	}
	for _, x := range values {
		if *s == x {
			return
		}
	}
	v.Fail(Quote(*s), path, "satisfy enum value set: ["+strings.Join(values, ", ")+"]")
}

// Blob checks a blob member's length; AWS prints a blob as the Java ByteBuffer holding it.
func (v *Validator) Blob(path string, b []byte, max int) {
	if len(b) > max {
		v.Fail(Quote(fmt.Sprintf("java.nio.HeapByteBuffer[pos=0 lim=%d cap=%d]", len(b), len(b))), path,
			"have length less than or equal to "+strconv.Itoa(max))
	}
}

// Err returns the ValidationException for the failures recorded, or nil if there are none.
func (v *Validator) Err() *Error {
	if len(v.msgs) == 0 {
		return nil
	}
	// AWS stops collecting at ten failures, and counts only those.
	msgs := v.msgs[:min(len(v.msgs), 10)]
	noun := "error"
	if len(msgs) > 1 {
		noun = "errors"
	}
	return NewError("ValidationException",
		fmt.Sprintf("%d validation %s detected: %s", len(msgs), noun, strings.Join(msgs, "; ")))
}
