package kinesisapi

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/localpipe/localpipe/internal/awsjson"
)

// validator collects model-constraint failures in the order AWS reports them (the order of
// the members in the service model) and renders them as one ValidationException.
type validator struct{ msgs []string }

func (v *validator) fail(value, path, constraint string) {
	v.msgs = append(v.msgs, fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: Member must %s", value, path, constraint))
}

func quote(s string) string { return "'" + s + "'" }

func (v *validator) required(path string, present bool) bool {
	if !present {
		v.fail("null", path, "not be null")
	}
	return present
}

// str checks an optional string member's pattern and length, in that order, as AWS reports
// them. Lengths count UTF-16 code units, as Java's String.length does.
func (v *validator) str(path string, s *string, min, max int, pattern *regexp.Regexp, patternText string) {
	if s == nil {
		return
	}
	if pattern != nil && !pattern.MatchString(*s) {
		v.fail(quote(*s), path, "satisfy regular expression pattern: "+patternText)
	}
	n := javaLen(*s)
	if n < min {
		v.fail(quote(*s), path, "have length greater than or equal to "+strconv.Itoa(min))
	}
	if max > 0 && n > max {
		v.fail(quote(*s), path, "have length less than or equal to "+strconv.Itoa(max))
	}
}

// javaLen is the length of s in UTF-16 code units.
func javaLen(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}

func (v *validator) intRange(path string, n *int64, min, max int64) {
	if n == nil {
		return
	}
	if *n < min {
		v.fail(quote(strconv.FormatInt(*n, 10)), path, "have value greater than or equal to "+strconv.FormatInt(min, 10))
	}
	if max > 0 && *n > max {
		v.fail(quote(strconv.FormatInt(*n, 10)), path, "have value less than or equal to "+strconv.FormatInt(max, 10))
	}
}

func (v *validator) enum(path string, s *string, values ...string) {
	if s == nil {
		return
	}
	for _, x := range values {
		if *s == x {
			return
		}
	}
	v.fail(quote(*s), path, "satisfy enum value set: ["+strings.Join(values, ", ")+"]")
}

// blob checks a Data member; AWS prints a blob as the Java ByteBuffer holding it.
func (v *validator) blob(path string, b []byte, max int) {
	if len(b) > max {
		v.fail(quote(fmt.Sprintf("java.nio.HeapByteBuffer[pos=0 lim=%d cap=%d]", len(b), len(b))), path,
			"have length less than or equal to "+strconv.Itoa(max))
	}
}

func (v *validator) err() *awsjson.Error {
	if len(v.msgs) == 0 {
		return nil
	}
	// AWS stops collecting at ten failures, and counts only those.
	msgs := v.msgs[:min(len(v.msgs), 10)]
	noun := "error"
	if len(msgs) > 1 {
		noun = "errors"
	}
	return awsjson.NewError("ValidationException",
		fmt.Sprintf("%d validation %s detected: %s", len(msgs), noun, strings.Join(msgs, "; ")))
}

// Patterns from the Kinesis service model, anchored because AWS matches the whole value.
var (
	streamNameRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)
	streamARNRE  = regexp.MustCompile(`^arn:aws.*:kinesis:.*:\d{12}:stream/\S+$`)
	hashKeyRE    = regexp.MustCompile(`^(0|([1-9]\d{0,38}))$`)
	seqNumberRE  = regexp.MustCompile(`^(0|([1-9]\d{0,128}))$`)
)

const (
	streamNamePattern = "[a-zA-Z0-9_.-]+"
	streamARNPattern  = `arn:aws.*:kinesis:.*:\d{12}:stream/\S+`
	hashKeyPattern    = `0|([1-9]\d{0,38})`
	seqNumberPattern  = `0|([1-9]\d{0,128})`
)

func (v *validator) streamName(path string, s *string) {
	v.str(path, s, 1, 128, streamNameRE, streamNamePattern)
}

func (v *validator) streamARN(path string, s *string) {
	v.str(path, s, 1, 2048, streamARNRE, streamARNPattern)
}

func (v *validator) shardID(path string, s *string) {
	v.str(path, s, 1, 128, streamNameRE, streamNamePattern)
}

// tagMap checks a TagMap member: 1–200 entries, keys of 1–128 and values of 0–256 characters.
// AWS prints a map as Java does, {k=v, k2=v2}, and reports its entries' constraints once for
// the whole map.
func (v *validator) tagMap(path string, tags map[string]string) {
	if tags == nil {
		return
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k + "=" + tags[k])
	}
	b.WriteByte('}')
	shown := quote(b.String())
	if len(tags) < 1 {
		v.fail(shown, path, "have length greater than or equal to 1")
	}
	if len(tags) > 200 {
		v.fail(shown, path, "have length less than or equal to 200")
	}
	keysOK, valuesOK := true, true
	for _, k := range keys {
		if n := javaLen(k); n < 1 || n > 128 {
			keysOK = false
		}
		if javaLen(tags[k]) > 256 {
			valuesOK = false
		}
	}
	if !keysOK {
		v.msgs = append(v.msgs, fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]", shown, path))
	}
	if !valuesOK {
		v.msgs = append(v.msgs, fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 256, Member must have length greater than or equal to 0]", shown, path))
	}
}

// tagKeys checks a TagKeyList member: 1–50 keys of 1–128 characters each.
func (v *validator) tagKeys(path string, keys []string) {
	if keys == nil {
		return
	}
	shown := quote("[" + strings.Join(keys, ", ") + "]")
	if len(keys) < 1 {
		v.fail(shown, path, "have length greater than or equal to 1")
	}
	if len(keys) > 50 {
		v.fail(shown, path, "have length less than or equal to 50")
	}
	for _, k := range keys {
		if n := javaLen(k); n < 1 || n > 128 {
			v.fail(shown, path, "satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]")
			break
		}
	}
}
