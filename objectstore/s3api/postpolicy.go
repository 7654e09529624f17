package s3api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

// A POST policy is the base64 of a JSON document
//
//	{"expiration": "2026-12-02T12:00:00.000Z",
//	 "conditions": [{"bucket": "b"}, ["starts-with", "$key", "uploads/"],
//	                ["eq", "$acl", "private"], ["content-length-range", 1, 1048576]]}
//
// that a form upload must satisfy. localpipe accepts any credentials, so it does not check the
// signature over the policy; it does check everything a policy says, because those checks are
// what an application relies on S3 for (a key prefix per user, a size cap) and what fails in
// the cloud when a form and its policy disagree.
//
// Messages are S3's as recorded against it where a recording exists (expiry, failed and extra
// conditions, malformed JSON, simple conditions, expiration values); the rest follow the same
// "Invalid Policy: …" pattern.

// postCondition is one condition of a policy, in the order the policy lists them.
type postCondition struct {
	op string // "eq", "starts-with" or "content-length-range"
	// field is the form field the condition tests, as the policy spells it, with its "$"
	// ("$key"); a name without "$" names no field, and its condition never holds.
	field string
	value string
	// min and max bound the file's size (content-length-range); bad is set when the bounds
	// are strings S3 cannot read as numbers, a condition that fails when tested.
	min, max int64
	bad      bool
	// text is the condition as S3 prints it when it fails, simple conditions as "eq" arrays.
	text string
}

// postPolicy is a decoded policy document.
type postPolicy struct {
	expiration time.Time
	conditions []postCondition
}

func policyInvalid(msg string) *s3Error {
	return errMsg("InvalidPolicyDocument", "Invalid Policy: "+msg).withStatus(400)
}

const errPolicyJSON = "Invalid JSON."

// parsePostPolicy decodes the policy form field.
func parsePostPolicy(b64 string) (*postPolicy, *s3Error) {
	doc, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return nil, policyInvalid("invalid Base64 encoding.")
	}
	var top map[string]json.RawMessage
	if err := decodeStrictJSON(doc, &top); err != nil || top == nil {
		return nil, policyInvalid(errPolicyJSON)
	}
	var unknown []string
	for k := range top {
		if k != "expiration" && k != "conditions" {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		// S3 names the member lower-cased and quoted; with several, the first in a stable order.
		sort.Strings(unknown)
		return nil, policyInvalid("Unexpected: '" + strings.ToLower(unknown[0]) + "'")
	}
	rawExp, ok := top["expiration"]
	if !ok {
		return nil, policyInvalid("Policy missing expiration.")
	}
	var p postPolicy
	var exp string
	if err := json.Unmarshal(rawExp, &exp); err != nil {
		return nil, policyInvalid("Invalid 'expiration' value: '" + bounded(string(bytes.TrimSpace(rawExp))) + "'")
	}
	if p.expiration, ok = parseExpiration(exp); !ok {
		return nil, policyInvalid("Invalid 'expiration' value: '" + bounded(exp) + "'")
	}
	rawConds, ok := top["conditions"]
	if !ok {
		return nil, policyInvalid("Policy missing conditions.")
	}
	var conds []json.RawMessage
	if err := decodeStrictJSON(rawConds, &conds); err != nil || conds == nil {
		return nil, policyInvalid("Invalid 'conditions' value: must be a List.")
	}
	for _, raw := range conds {
		c, serr := parseCondition(raw)
		if serr != nil {
			return nil, serr
		}
		p.conditions = append(p.conditions, c)
	}
	return &p, nil
}

// parseExpiration reads ISO 8601 in UTC, with or without fractional seconds, as S3 does; S3
// refuses an offset other than Z and a space for the T.
func parseExpiration(s string) (time.Time, bool) {
	if !strings.HasSuffix(s, "Z") {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

// decodeStrictJSON decodes one JSON value with nothing after it, numbers kept as written.
func decodeStrictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errTrailingJSON
	}
	return nil
}

var errTrailingJSON = errors.New("json: data after the value")

func parseCondition(raw json.RawMessage) (postCondition, *s3Error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return postCondition{}, policyInvalid(errPolicyJSON)
	}
	switch raw[0] {
	case '{':
		var m map[string]json.RawMessage
		if err := decodeStrictJSON(raw, &m); err != nil {
			return postCondition{}, policyInvalid(errPolicyJSON)
		}
		if len(m) != 1 {
			return postCondition{}, policyInvalid("Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.")
		}
		for name, v := range m {
			if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
				return postCondition{}, policyInvalid(errPolicyJSON)
			}
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return postCondition{}, policyInvalid("Invalid Simple-Condition: value must be a string.")
			}
			c := postCondition{op: "eq", field: "$" + name, value: s}
			c.text = conditionText("eq", c.field, s)
			return c, nil
		}
	case '[':
		var items []json.RawMessage
		if err := decodeStrictJSON(raw, &items); err != nil {
			return postCondition{}, policyInvalid(errPolicyJSON)
		}
		var op string
		if len(items) == 0 || json.Unmarshal(items[0], &op) != nil {
			return postCondition{}, policyInvalid("Invalid Condition: missing operation identifier.")
		}
		lop := strings.ToLower(op)
		switch lop {
		case "eq", "starts-with":
			if len(items) != 3 {
				return postCondition{}, policyInvalid("Invalid " + bounded(op) + ": wrong number of arguments.")
			}
			var field, value string
			if json.Unmarshal(items[1], &field) != nil || json.Unmarshal(items[2], &value) != nil {
				return postCondition{}, policyInvalid(errPolicyJSON)
			}
			return postCondition{op: lop, field: field, value: value, text: conditionText(op, field, value)}, nil
		case "content-length-range":
			if len(items) != 3 {
				return postCondition{}, policyInvalid("Invalid " + bounded(op) + ": wrong number of arguments.")
			}
			c := postCondition{op: lop}
			var ok [2]bool
			var texts [2]string
			for i, it := range items[1:] {
				n, isNum, txt, serr := rangeBound(it)
				if serr != nil {
					return postCondition{}, serr
				}
				texts[i] = txt
				ok[i] = isNum
				if i == 0 {
					c.min = n
				} else {
					c.max = n
				}
			}
			c.bad = !ok[0] || !ok[1]
			c.text = "[" + jsonString(op) + ", " + texts[0] + ", " + texts[1] + "]"
			return c, nil
		default:
			return postCondition{}, policyInvalid("Invalid Condition: unknown operation '" + bounded(op) + "'.")
		}
	}
	return postCondition{}, policyInvalid("Invalid condition test: must be a List or Object.")
}

// rangeBound reads one bound of content-length-range: an integer, or a string holding one
// (S3 takes "5" as 5). A fraction is not JSON to S3; a string that is no number leaves the
// condition standing, to fail when tested.
func rangeBound(raw json.RawMessage) (n int64, ok bool, text string, serr *s3Error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err == nil && n >= 0, jsonString(s), nil
	}
	var num json.Number
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&num) != nil {
		return 0, false, "", policyInvalid(errPolicyJSON)
	}
	n, err := strconv.ParseInt(num.String(), 10, 64)
	if err != nil {
		return 0, false, "", policyInvalid(errPolicyJSON)
	}
	if n < 0 {
		return 0, false, "", policyInvalid("Invalid content-length-range: bounds must not be negative.")
	}
	return n, true, num.String(), nil
}

// conditionText prints a condition the way S3 quotes it: a JSON array with ", " between items.
func conditionText(op, field, value string) string {
	return "[" + jsonString(op) + ", " + jsonString(field) + ", " + jsonString(value) + "]"
}

// jsonString is s as a JSON string, without the HTML escaping encoding/json adds by default.
func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// postExempt are the form fields no condition has to cover (S3's list for SigV4 and SigV2,
// plus the x-ignore- prefix).
func postExempt(lower string) bool {
	switch lower {
	case "x-amz-signature", "file", "policy", "awsaccesskeyid", "signature":
		return true
	}
	return strings.HasPrefix(lower, "x-ignore-")
}

func policyDenied(msg string) *s3Error {
	return errMsg("AccessDenied", "Invalid according to Policy: "+msg)
}

// check applies the policy to a form whose fields have their ${filename} expanded: the
// expiration, then each condition in order, then the rule that every field is covered by a
// condition. bucket is the bucket the request addresses, which the bucket condition tests.
// It returns the size bounds the file must keep to (max -1: none).
func (p *postPolicy) check(form *postForm, bucket string, now time.Time) (min, max int64, serr *s3Error) {
	if now.After(p.expiration) {
		return 0, 0, policyDenied("Policy expired.")
	}
	min, max = 0, -1
	covered := map[string]bool{}
	for _, c := range p.conditions {
		if c.op == "content-length-range" {
			if c.bad {
				return 0, 0, policyDenied("Policy Condition failed: " + c.text)
			}
			min, max = c.min, c.max
			continue
		}
		name, isField := strings.CutPrefix(c.field, "$")
		if !isField {
			return 0, 0, policyDenied("Policy Condition failed: " + c.text)
		}
		name = strings.ToLower(name)
		covered[name] = true
		got, present := form.value(name)
		if name == "bucket" {
			got, present = bucket, true
		}
		if !present || !conditionHolds(c, name, got) {
			return 0, 0, policyDenied("Policy Condition failed: " + c.text)
		}
	}
	var extra []string
	for _, f := range form.fields {
		lower := strings.ToLower(f.name)
		if !postExempt(lower) && !covered[lower] {
			extra = append(extra, f.name)
			covered[lower] = true // each name once
		}
	}
	if len(extra) > 0 {
		return 0, 0, policyDenied("Extra input fields: " + bounded(strings.Join(extra, ", ")))
	}
	return min, max, nil
}

// conditionHolds tests one eq or starts-with condition. Values compare case-sensitively; a
// Content-Type with commas is a list whose every item must start with the prefix.
func conditionHolds(c postCondition, name, got string) bool {
	if c.op == "eq" {
		return got == c.value
	}
	if name == "content-type" && strings.Contains(got, ",") {
		for _, item := range strings.Split(got, ",") {
			if !strings.HasPrefix(strings.TrimSpace(item), c.value) {
				return false
			}
		}
		return true
	}
	return strings.HasPrefix(got, c.value)
}
