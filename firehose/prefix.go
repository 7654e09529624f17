package firehose

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// constraintMsg starts every prefix validation message, as AWS words it (typo included):
// "Ths supplied prefix(es) do not satisfy the following constraint: ErrorOutputPrefix cannot be
// null or empty when Prefix contains expressions" is quoted from real InvalidArgumentException
// responses in hashicorp/terraform-provider-aws#13416 and serverless/serverless#6015. The other
// constraints' wording follows the rules in the developer guide (s3-prefixes) and is unverified.
const constraintMsg = "Ths supplied prefix(es) do not satisfy the following constraint: "

// maxPrefixLen is the limit on an evaluated prefix (s3-prefixes, "Semantic rules").
const maxPrefixLen = 512

// Error output types, the values of !{firehose:error-output-type}.
const (
	// errMetadataExtraction is where records whose partition-key query fails go. The name is
	// the one real error prefixes show ("…/metadata-extraction-failed/", next to the error code
	// DynamicPartitioning.MetadataExtractionFailed) in public projects that run against AWS.
	errMetadataExtraction = "metadata-extraction-failed"
	// errProcessing is the documented generic type, used for records past the partition quota.
	errProcessing = "processing-failed"
)

type partKind int

const (
	partLit partKind = iota
	partTime
	partRandom
	partErrType
	partQuery
	partLambda
)

type prefixPart struct {
	kind partKind
	lit  string   // literal text, or the key name for partQuery/partLambda
	ts   []tsItem // for partTime
}

// prefixExpr is a parsed Prefix or ErrorOutputPrefix.
type prefixExpr struct {
	parts []prefixPart
}

func (p *prefixExpr) has(k partKind) bool {
	for _, pt := range p.parts {
		if pt.kind == k {
			return true
		}
	}
	return false
}

func (p *prefixExpr) hasExpr() bool {
	for _, pt := range p.parts {
		if pt.kind != partLit {
			return true
		}
	}
	return false
}

// queryKeys are the names used in !{partitionKeyFromQuery:name}, in order.
func (p *prefixExpr) queryKeys() []string {
	var out []string
	for _, pt := range p.parts {
		if pt.kind == partQuery {
			out = append(out, pt.lit)
		}
	}
	return out
}

// parsePrefix parses literal text and !{namespace:value} expressions. field names the
// parameter in messages.
func parsePrefix(field, s string) (*prefixExpr, error) {
	p := &prefixExpr{}
	for len(s) > 0 {
		i := strings.Index(s, "!{")
		if i < 0 {
			p.parts = append(p.parts, prefixPart{kind: partLit, lit: s})
			break
		}
		if i > 0 {
			p.parts = append(p.parts, prefixPart{kind: partLit, lit: s[:i]})
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return nil, fmt.Errorf("%sThe sequence !{ in %s can only appear in !{namespace:value} expressions", constraintMsg, field)
		}
		body := s[i+2 : i+end]
		s = s[i+end+1:]
		ns, val, ok := strings.Cut(body, ":")
		if !ok || ns == "" || val == "" {
			return nil, fmt.Errorf("%sThe sequence !{ in %s can only appear in !{namespace:value} expressions, not !{%s}", constraintMsg, field, body)
		}
		switch ns {
		case "timestamp":
			items, err := compileTimestamp(val)
			if err != nil {
				return nil, fmt.Errorf("%s!{timestamp:%s} in %s is not a valid Java DateTimeFormatter pattern: %v", constraintMsg, val, field, err)
			}
			p.parts = append(p.parts, prefixPart{kind: partTime, ts: items})
		case "firehose":
			switch val {
			case "random-string":
				p.parts = append(p.parts, prefixPart{kind: partRandom})
			case "error-output-type":
				p.parts = append(p.parts, prefixPart{kind: partErrType})
			default:
				return nil, fmt.Errorf("%s!{firehose:%s} in %s is not valid: the firehose namespace has the values random-string and error-output-type", constraintMsg, val, field)
			}
		case "partitionKeyFromQuery":
			p.parts = append(p.parts, prefixPart{kind: partQuery, lit: val})
		case "partitionKeyFromLambda":
			p.parts = append(p.parts, prefixPart{kind: partLambda, lit: val})
		default:
			return nil, fmt.Errorf("%s!{%s} in %s has an unknown namespace %q: valid namespaces are firehose, timestamp, partitionKeyFromQuery and partitionKeyFromLambda", constraintMsg, body, field, ns)
		}
	}
	return p, nil
}

// CheckPrefixes applies the rules AWS applies to an S3 destination's Prefix and
// ErrorOutputPrefix at CreateDeliveryStream and UpdateDestination, and returns an error whose
// text is AWS's message (the wire layer answers it as InvalidArgumentException).
// partitioned says whether dynamic partitioning is enabled.
func CheckPrefixes(prefix, errorPrefix string, partitioned bool) error {
	return checkPrefixes(prefix, errorPrefix, partitioned, false)
}

// CheckLambdaPrefixes is CheckPrefixes for a delivery stream with a Lambda processor, whose
// function may give the partition keys (!{partitionKeyFromLambda:…}).
func CheckLambdaPrefixes(prefix, errorPrefix string, partitioned bool) error {
	return checkPrefixes(prefix, errorPrefix, partitioned, true)
}

func checkPrefixes(prefix, errorPrefix string, partitioned, lambda bool) error {
	p, err := parsePrefix("Prefix", prefix)
	if err != nil {
		return err
	}
	ep, err := parsePrefix("ErrorOutputPrefix", errorPrefix)
	if err != nil {
		return err
	}
	if len(prefix) > maxPrefixLen {
		return errors.New(constraintMsg + "Prefix can't be greater than 512 characters")
	}
	if len(errorPrefix) > maxPrefixLen {
		return errors.New(constraintMsg + "ErrorOutputPrefix can't be greater than 512 characters")
	}
	if ep.has(partLambda) {
		return errors.New(constraintMsg + "ErrorOutputPrefix can't contain !{partitionKeyFromLambda:…}")
	}
	if p.has(partLambda) && !(partitioned && lambda) {
		return errors.New(constraintMsg + "Prefix can contain !{partitionKeyFromLambda:…} only when dynamic partitioning is enabled with a Lambda processor (a function declared in the config's functions:)")
	}
	if p.has(partErrType) {
		return errors.New(constraintMsg + "Prefix can't contain !{firehose:error-output-type}")
	}
	if p.hasExpr() && strings.TrimSpace(errorPrefix) == "" {
		return errors.New(constraintMsg + "ErrorOutputPrefix cannot be null or empty when Prefix contains expressions")
	}
	if ep.hasExpr() && !ep.has(partErrType) {
		return errors.New(constraintMsg + "ErrorOutputPrefix must contain !{firehose:error-output-type} when it contains expressions")
	}
	if ep.has(partQuery) {
		return errors.New(constraintMsg + "ErrorOutputPrefix can't contain !{partitionKeyFromQuery:…}")
	}
	if p.has(partQuery) && !partitioned {
		return errors.New(constraintMsg + "Prefix can contain !{partitionKeyFromQuery:…} only when dynamic partitioning is enabled")
	}
	if partitioned && !p.has(partQuery) && !p.has(partLambda) {
		return errors.New(constraintMsg + "When dynamic partitioning is enabled, Prefix must contain at least one !{partitionKeyFromQuery:…} or !{partitionKeyFromLambda:…} expression")
	}
	return nil
}

// defaultTime is what Firehose appends to a Prefix that has no timestamp expression.
var defaultTime = mustCompile("yyyy/MM/dd/HH/")

func mustCompile(p string) []tsItem {
	items, err := compileTimestamp(p)
	if err != nil {
		panic(err)
	}
	return items
}

// layoutPrefix is the prefix an object of delivered records gets: Prefix, with the default
// time path appended when it has no timestamp expression. A dynamically partitioned prefix
// gets none: the developer guide's partitioned keys (customer_id=…/device=…/<suffix>) have
// no time path although their prefix has no timestamp expression.
func layoutPrefix(prefix string) (*prefixExpr, error) {
	p, err := parsePrefix("Prefix", prefix)
	if err != nil {
		return nil, err
	}
	if !p.has(partTime) && !p.has(partQuery) && !p.has(partLambda) {
		p.parts = append(p.parts, prefixPart{kind: partTime, ts: defaultTime})
	}
	return p, nil
}

// layoutErrorPrefix is the prefix failed records get: ErrorOutputPrefix as given, or, when it
// is empty, the literal Prefix followed by the error type and the default time path
// (s3-prefixes: "ErrorOutputPrefix evaluates to <specified-prefix><error-output-type>YYYY/MM/DD/HH/";
// a slash after the type keeps the type a folder, as the guide's example shows).
func layoutErrorPrefix(prefix, errorPrefix string) (*prefixExpr, error) {
	if errorPrefix != "" {
		return parsePrefix("ErrorOutputPrefix", errorPrefix)
	}
	return &prefixExpr{parts: []prefixPart{
		{kind: partLit, lit: prefix},
		{kind: partErrType},
		{kind: partLit, lit: "/"},
		{kind: partTime, ts: defaultTime},
	}}, nil
}

// prefixEnv is what an evaluation may use. Every timestamp expression sees the same instant.
type prefixEnv struct {
	t       time.Time // the oldest record's approximate arrival, in the stream's time zone
	errType string
	keys    map[string]string
	// lambdaKeys are the function's metadata.partitionKeys, for !{partitionKeyFromLambda:…}.
	lambdaKeys map[string]string
	random     func() string // called once per !{firehose:random-string}
}

// eval evaluates the prefix. It fails when a partition key the prefix names is missing or the
// result is longer than AWS allows; the records then go to the error prefix.
func (p *prefixExpr) eval(env prefixEnv) (string, error) {
	var b strings.Builder
	for _, pt := range p.parts {
		switch pt.kind {
		case partLit:
			b.WriteString(pt.lit)
		case partTime:
			b.WriteString(formatTimestamp(pt.ts, env.t))
		case partRandom:
			b.WriteString(env.random())
		case partErrType:
			b.WriteString(env.errType)
		case partQuery:
			v, ok := env.keys[pt.lit]
			if !ok {
				return b.String(), fmt.Errorf("partition key %q is not produced by the MetadataExtractionQuery", pt.lit)
			}
			b.WriteString(v)
		case partLambda:
			v, ok := env.lambdaKeys[pt.lit]
			if !ok {
				return b.String(), fmt.Errorf("partition key %q is not in the Lambda function's metadata.partitionKeys", pt.lit)
			}
			b.WriteString(v)
		}
	}
	if b.Len() > maxPrefixLen {
		return b.String(), fmt.Errorf("the evaluated prefix is %d characters, more than %d", b.Len(), maxPrefixLen)
	}
	return b.String(), nil
}
