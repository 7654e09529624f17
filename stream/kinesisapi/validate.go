package kinesisapi

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

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

// str checks an optional string member's length (in characters) and pattern.
func (v *validator) str(path string, s *string, min, max int, pattern *regexp.Regexp, patternText string) {
	if s == nil {
		return
	}
	n := utf8.RuneCountInString(*s)
	if n < min {
		v.fail(quote(*s), path, "have length greater than or equal to "+strconv.Itoa(min))
	}
	if max > 0 && n > max {
		v.fail(quote(*s), path, "have length less than or equal to "+strconv.Itoa(max))
	}
	if pattern != nil && !pattern.MatchString(*s) {
		v.fail(quote(*s), path, "satisfy regular expression pattern: "+patternText)
	}
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
	// AWS reports at most ten failures.
	msgs := v.msgs
	if len(msgs) > 10 {
		msgs = msgs[:10]
	}
	noun := "error"
	if len(v.msgs) > 1 {
		noun = "errors"
	}
	return awsjson.NewError("ValidationException",
		fmt.Sprintf("%d validation %s detected: %s", len(v.msgs), noun, strings.Join(msgs, "; ")))
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
