package firehoseapi

import (
	"github.com/localpipe/localpipe/internal/lazyre"
	"strconv"
	"strings"

	"github.com/localpipe/localpipe/internal/awsjson"
)

// validator checks Firehose's shapes against its service model.
type validator struct{ awsjson.Validator }

// listLen checks a list member's length; AWS prints the list as Java's toString would, which
// for records is too long to be useful, so the value shows the count.
func (v *validator) listLen(path string, n, min, max int, shown string) {
	if n < min {
		v.Fail(awsjson.Quote(shown), path, "have length greater than or equal to "+strconv.Itoa(min))
	}
	if n > max {
		v.Fail(awsjson.Quote(shown), path, "have length less than or equal to "+strconv.Itoa(max))
	}
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
	tagKeyPattern     = `^(?!aws:)[\p{L}\p{Z}\p{N}_.:\/=+\-@%]*$`
	tagValuePattern   = `^[\p{L}\p{Z}\p{N}_.:\/=+\-@%]*$`
)

var (
	nameRE       = lazyre.New(`^[a-zA-Z0-9_.-]+$`)
	roleARNRE    = lazyre.New(`^arn:.*:iam::\d{12}:role/[a-zA-Z_0-9+=,.@\-_/]+$`)
	bucketARNRE  = lazyre.New(`^arn:.*:s3:::[\w\.\-]{1,255}$`)
	bucketNameRE = lazyre.New(`^arn:.*:s3:::([\w\.\-]{1,255})$`)
	kinesisARNRE = lazyre.New(`^arn:.*:kinesis:([a-zA-Z0-9\-]+):(\d{12}):stream/([a-zA-Z0-9_.-]+)$`)
	kmsARNRE     = lazyre.New(`^arn:.*:kms:[a-zA-Z0-9\-]+:\d{12}:(key|alias)/[a-zA-Z_0-9+=,.@\-_/]+$`)
	versionIDRE  = lazyre.New(`^[0-9]+$`)
	destIDRE     = lazyre.New(`^[a-zA-Z0-9-]+$`)
	fileExtRE    = lazyre.New(`^$|^\.[0-9a-z!\-_.*'()]+$`)
	timeZoneRE   = lazyre.New(`^$|^[a-zA-Z/_]+$`)
	logGroupRE   = lazyre.New(`^[\.\-_/#A-Za-z0-9]*$`)
	logStreamRE  = lazyre.New(`^[^:*]*$`)
	// Go's regexp has no lookahead: paramValue and the tag patterns are checked by hand.
)

func (v *validator) name(path string, s *string) { v.Str(path, s, 1, 64, nameRE, namePattern) }

// paramValue is ProcessorParameterValue: 1–5120 characters, not all blank.
func (v *validator) paramValue(path string, s *string) {
	if s == nil {
		return
	}
	// Java's '.' matches no line terminator, so a value holding one fails the pattern too.
	if strings.TrimSpace(*s) == "" || strings.ContainsAny(*s, "\n\r\u0085\u2028\u2029") {
		v.Fail(awsjson.Quote(*s), path, "satisfy regular expression pattern: "+paramValuePattern)
	}
	v.Str(path, s, 1, 5120, nil, "")
}

func (v *validator) tagKey(path string, s *string) {
	if s == nil {
		return
	}
	if strings.HasPrefix(*s, "aws:") || !awsjson.TagChars(*s) {
		v.Fail(awsjson.Quote(*s), path, "satisfy regular expression pattern: "+tagKeyPattern)
	}
	v.Str(path, s, 1, 128, nil, "")
}

func (v *validator) tagValue(path string, s *string) {
	if s == nil {
		return
	}
	if !awsjson.TagChars(*s) {
		v.Fail(awsjson.Quote(*s), path, "satisfy regular expression pattern: "+tagValuePattern)
	}
	v.Str(path, s, 0, 256, nil, "")
}
