package kinesisapi

import (
	"github.com/localpipe/localpipe/internal/lazyre"
	"slices"
	"strings"

	"github.com/localpipe/localpipe/internal/awsjson"
)

// validator checks Kinesis's shapes against its service model.
type validator struct{ awsjson.Validator }

// Patterns from the Kinesis service model, anchored because AWS matches the whole value.
var (
	streamNameRE = lazyre.New(`^[a-zA-Z0-9_.-]+$`)
	streamARNRE  = lazyre.New(`^arn:aws.*:kinesis:.*:\d{12}:stream/\S+$`)
	hashKeyRE    = lazyre.New(`^(0|([1-9]\d{0,38}))$`)
	seqNumberRE  = lazyre.New(`^(0|([1-9]\d{0,128}))$`)
)

const (
	streamNamePattern = "[a-zA-Z0-9_.-]+"
	streamARNPattern  = `arn:aws.*:kinesis:.*:\d{12}:stream/\S+`
	hashKeyPattern    = `0|([1-9]\d{0,38})`
	seqNumberPattern  = `0|([1-9]\d{0,128})`
)

func (v *validator) streamName(path string, s *string) {
	if s != nil && plainStreamName(*s) {
		return // what every put names; the pattern's machine costs more than the put's other checks
	}
	v.Str(path, s, 1, 128, streamNameRE, streamNamePattern)
}

// plainStreamName reports whether s is a valid stream name by streamNameRE and the length
// limits, read byte by byte; false sends the name through the full check and its messages.
func plainStreamName(s string) bool {
	if len(s) < 1 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

func (v *validator) streamARN(path string, s *string) {
	v.Str(path, s, 1, 2048, streamARNRE, streamARNPattern)
}

func (v *validator) shardID(path string, s *string) {
	v.Str(path, s, 1, 128, streamNameRE, streamNamePattern)
}

// Kinesis's TagMap holds up to 200 entries (50 stay the limit per stream) and its
// TagKeyList up to 50 keys.
const (
	tagMapMax  = 200
	tagKeysMax = 50
)

// shardLevelMetrics checks a MetricsNameList member: 1–7 names from the MetricsName enum. The
// CLI does not check enum values, so a typo reaches the server, which refuses it.
func (v *validator) shardLevelMetrics(path string, names []string) {
	if names == nil {
		return
	}
	shown := awsjson.Quote("[" + strings.Join(names, ", ") + "]")
	if len(names) < 1 {
		v.Fail(shown, path, "have length greater than or equal to 1")
	}
	if len(names) > 7 {
		v.Fail(shown, path, "have length less than or equal to 7")
	}
	values := []string{"IncomingBytes", "IncomingRecords", "OutgoingBytes", "OutgoingRecords",
		"WriteProvisionedThroughputExceeded", "ReadProvisionedThroughputExceeded",
		"IteratorAgeMilliseconds", "ALL"}
	for _, n := range names {
		if !slices.Contains(values, n) {
			v.Fail(shown, path, "satisfy constraint: [Member must satisfy enum value set: ["+strings.Join(values, ", ")+"]]")
			break
		}
	}
}
