package firehoseapi

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/localpipe/localpipe/internal/awsjson"
)

// validator collects model-constraint failures in the order of the members in the service
// model and renders them as one ValidationException, as AWS's front end does.
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

// str checks an optional string's pattern and length, in that order. Lengths count UTF-16
// code units, as Java's String.length does.
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
	if *n > max {
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

// listLen checks a list member's length; AWS prints the list as Java's toString would, which
// for records is too long to be useful, so the value shows the count.
func (v *validator) listLen(path string, n, min, max int, shown string) {
	if n < min {
		v.fail(quote(shown), path, "have length greater than or equal to "+strconv.Itoa(min))
	}
	if n > max {
		v.fail(quote(shown), path, "have length less than or equal to "+strconv.Itoa(max))
	}
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
	msgs := v.msgs[:min(len(v.msgs), 10)]
	noun := "error"
	if len(msgs) > 1 {
		noun = "errors"
	}
	return awsjson.NewError("ValidationException",
		fmt.Sprintf("%d validation %s detected: %s", len(msgs), noun, strings.Join(msgs, "; ")))
}

// Patterns from the current Firehose service model, anchored because AWS matches the whole
// value. Each *Pattern constant is the model's text, which AWS quotes in its messages.
const (
	namePattern       = "[a-zA-Z0-9_.-]+"
	roleARNPattern    = `arn:.*:iam::\d{12}:role/[a-zA-Z_0-9+=,.@\-_/]+`
	bucketARNPattern  = `arn:.*:s3:::[\w\.\-]{1,255}`
	kinesisARNPattern = `arn:.*:kinesis:[a-zA-Z0-9\-]+:\d{12}:stream/[a-zA-Z0-9_.-]+`
	kmsARNPattern     = "arn:.*:kms:[a-zA-Z0-9\\-]+:\\d{12}:(key|alias)/[a-zA-Z_0-9+=,.@\\-_/]+"
	versionIDPattern  = "[0-9]+"
	destIDPattern     = "[a-zA-Z0-9-]+"
	paramValuePattern = `^(?!\s*$).+`
	fileExtPattern    = `^$|\.[0-9a-z!\-_.*'()]+`
	timeZonePattern   = `^$|[a-zA-Z/_]+`
	logGroupPattern   = `[\.\-_/#A-Za-z0-9]*`
	logStreamPattern  = `[^:*]*`
	prefixPattern     = ".*"
	tagKeyPattern     = `^(?!aws:)[\p{L}\p{Z}\p{N}_.:\/=+\-@%]*$`
	tagValuePattern   = `^[\p{L}\p{Z}\p{N}_.:\/=+\-@%]*$`
)

var (
	nameRE       = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)
	roleARNRE    = regexp.MustCompile(`^arn:.*:iam::\d{12}:role/[a-zA-Z_0-9+=,.@\-_/]+$`)
	bucketARNRE  = regexp.MustCompile(`^arn:.*:s3:::[\w\.\-]{1,255}$`)
	bucketNameRE = regexp.MustCompile(`^arn:.*:s3:::([\w\.\-]{1,255})$`)
	kinesisARNRE = regexp.MustCompile(`^arn:.*:kinesis:([a-zA-Z0-9\-]+):(\d{12}):stream/([a-zA-Z0-9_.-]+)$`)
	kmsARNRE     = regexp.MustCompile(`^arn:.*:kms:[a-zA-Z0-9\-]+:\d{12}:(key|alias)/[a-zA-Z_0-9+=,.@\-_/]+$`)
	versionIDRE  = regexp.MustCompile(`^[0-9]+$`)
	destIDRE     = regexp.MustCompile(`^[a-zA-Z0-9-]+$`)
	fileExtRE    = regexp.MustCompile(`^$|^\.[0-9a-z!\-_.*'()]+$`)
	timeZoneRE   = regexp.MustCompile(`^$|^[a-zA-Z/_]+$`)
	logGroupRE   = regexp.MustCompile(`^[\.\-_/#A-Za-z0-9]*$`)
	logStreamRE  = regexp.MustCompile(`^[^:*]*$`)
	// Go's regexp has no lookahead: paramValue and the tag patterns are checked by hand.
)

func (v *validator) name(path string, s *string) { v.str(path, s, 1, 64, nameRE, namePattern) }

// paramValue is ProcessorParameterValue: 1–5120 characters, not all blank.
func (v *validator) paramValue(path string, s *string) {
	if s == nil {
		return
	}
	// Java's '.' matches no line terminator, so a value holding one fails the pattern too.
	if strings.TrimSpace(*s) == "" || strings.ContainsAny(*s, "\n\r\u0085\u2028\u2029") {
		v.fail(quote(*s), path, "satisfy regular expression pattern: "+paramValuePattern)
	}
	v.str(path, s, 1, 5120, nil, "")
}

func tagChars(s string) bool {
	for _, r := range s {
		if !(unicode.IsLetter(r) || unicode.In(r, unicode.Zs, unicode.Zl, unicode.Zp) || unicode.IsNumber(r) || strings.ContainsRune("_.:/=+-@%", r)) {
			return false
		}
	}
	return true
}

func (v *validator) tagKey(path string, s *string) {
	if s == nil {
		return
	}
	if strings.HasPrefix(*s, "aws:") || !tagChars(*s) {
		v.fail(quote(*s), path, "satisfy regular expression pattern: "+tagKeyPattern)
	}
	v.str(path, s, 1, 128, nil, "")
}

func (v *validator) tagValue(path string, s *string) {
	if s == nil {
		return
	}
	if !tagChars(*s) {
		v.fail(quote(*s), path, "satisfy regular expression pattern: "+tagValuePattern)
	}
	v.str(path, s, 0, 256, nil, "")
}
