package kinesisapi

import (
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/localpipe/localpipe/internal/awsjson"
)

// validator checks Kinesis's shapes against its service model.
type validator struct{ awsjson.Validator }

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
	v.Str(path, s, 1, 128, streamNameRE, streamNamePattern)
}

func (v *validator) streamARN(path string, s *string) {
	v.Str(path, s, 1, 2048, streamARNRE, streamARNPattern)
}

func (v *validator) shardID(path string, s *string) {
	v.Str(path, s, 1, 128, streamNameRE, streamNamePattern)
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
	shown := awsjson.Quote(b.String())
	if len(tags) < 1 {
		v.Fail(shown, path, "have length greater than or equal to 1")
	}
	if len(tags) > 200 {
		v.Fail(shown, path, "have length less than or equal to 200")
	}
	keysOK, valuesOK := true, true
	for _, k := range keys {
		if n := awsjson.JavaLen(k); n < 1 || n > 128 {
			keysOK = false
		}
		if awsjson.JavaLen(tags[k]) > 256 {
			valuesOK = false
		}
	}
	if !keysOK {
		v.Add(shown, path, "Map keys must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]")
	}
	if !valuesOK {
		v.Add(shown, path, "Map value must satisfy constraint: [Member must have length less than or equal to 256, Member must have length greater than or equal to 0]")
	}
}

// tagKeys checks a TagKeyList member: 1–50 keys of 1–128 characters each.
func (v *validator) tagKeys(path string, keys []string) {
	if keys == nil {
		return
	}
	shown := awsjson.Quote("[" + strings.Join(keys, ", ") + "]")
	if len(keys) < 1 {
		v.Fail(shown, path, "have length greater than or equal to 1")
	}
	if len(keys) > 50 {
		v.Fail(shown, path, "have length less than or equal to 50")
	}
	for _, k := range keys {
		if n := awsjson.JavaLen(k); n < 1 || n > 128 {
			v.Fail(shown, path, "satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]")
			break
		}
	}
}

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
