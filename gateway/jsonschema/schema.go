// Package jsonschema compiles JSON schemas of the draft-4 dialect API Gateway's models are
// written in, and checks request bodies against them with the problems worded as API
// Gateway's validator words them. It knows nothing of HTTP or of API Gateway beyond the
// "$ref" forms its models use (ModelName).
package jsonschema

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Validate checks a request body against the schema and returns its problems, none when
// it matches. An empty body is checked as "{}", the way templates read it.
func (s *Schema) Validate(body []byte) []string {
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	v, err := decodeBody(body)
	if err != nil {
		return []string{"Unable to parse the request body as JSON: " + err.Error()}
	}
	var problems []string
	steps := 0
	budget := checkBudget(len(body))
	s.check(v, &problems, 0, &steps, budget)
	if steps > budget {
		if msg := fmt.Sprintf("the model needs more than %d schema checks for this body", budget); !slices.Contains(problems, msg) {
			// The checks that ran out were under anyOf, oneOf or not, which hide their problems.
			problems = append(problems, msg)
		}
	}
	return problems
}

// checkBudget bounds the schema checks of one body. A model can make their number grow
// exponentially without growing the body (anyOf: [{$ref: A}, {$ref: A}] inside A), which
// would hang every request to the method; a real model applies a few schemas to each value,
// and a value takes at least a byte or two of the body.
func checkBudget(bodyLen int) int { return 100_000 + 16*bodyLen }

// decodeInstance decodes one JSON value, keeping numbers as written.
func decodeInstance(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("more than one JSON value")
	}
	return v, nil
}

// schema is a compiled JSON schema (draft 4, the dialect API Gateway models use). It covers
// what models use: type, enum, properties, required, additionalProperties, items (one schema
// or a list), minItems, maxItems, uniqueItems, minLength, maxLength, pattern, minimum,
// maximum with exclusiveMinimum/Maximum, multipleOf, minProperties, maxProperties, allOf,
// anyOf, oneOf, not and $ref to other models. Other keywords (format, dependencies,
// patternProperties, definitions) are ignored, so a body they would refuse is accepted.
//
// Problems are worded the way the json-schema-validator library words them (API Gateway's
// $context.error.validationErrorString shows such text; the exact wording is unverified).
type Schema struct {
	types          []string
	enum           []any
	properties     map[string]*Schema
	required       []string
	additional     *Schema
	noAdditional   bool
	items          *Schema
	tuple          []*Schema
	minItems       *int
	maxItems       *int
	uniqueItems    bool
	minLength      *int
	maxLength      *int
	pattern        *regexp.Regexp
	patternSrc     string
	minimum        *big.Rat
	maximum        *big.Rat
	exclMin        bool
	exclMax        bool
	multipleOf     *big.Rat
	minProps       *int
	maxProps       *int
	allOf, anyOf   []*Schema
	oneOf          []*Schema
	not            *Schema
	ref            *Schema // a $ref's target; the schema's other keywords are ignored then
	refName        string
	numberLiterals map[string]string // minimum/maximum/multipleOf as written, for messages
}

// Compiler compiles a set of models (an API's), each once, so that $ref cycles terminate.
type Compiler struct {
	models map[string]json.RawMessage
	done   map[string]*Schema
}

// NewCompiler returns a Compiler of the given models (name → schema as written).
func NewCompiler(models map[string]json.RawMessage) *Compiler {
	return &Compiler{models: models, done: map[string]*Schema{}}
}

// Model compiles the named model. A model API Gateway creates by itself ("Empty", "Error")
// that the document does not define checks nothing: nil.
func (c *Compiler) Model(name string) (*Schema, error) {
	if s, ok := c.done[name]; ok {
		return s, nil
	}
	raw, ok := c.models[name]
	if !ok {
		if name == "Empty" || name == "Error" {
			return nil, nil
		}
		return nil, fmt.Errorf("no model named %q", name)
	}
	v, err := decodeInstance(raw)
	if err != nil {
		return nil, fmt.Errorf("model %q is not JSON: %v", name, err)
	}
	s := &Schema{}
	c.done[name] = s
	if err := c.compile(s, v, 0); err != nil {
		return nil, fmt.Errorf("model %q: %v", name, err)
	}
	return s, nil
}

const maxSchemaDepth = 64

func (c *Compiler) sub(v any, depth int) (*Schema, error) {
	s := &Schema{}
	return s, c.compile(s, v, depth+1)
}

func (c *Compiler) compile(s *Schema, v any, depth int) error {
	if depth > maxSchemaDepth {
		return errors.New("the schema nests too deeply")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		if b, isBool := v.(bool); isBool && b {
			return nil
		}
		return fmt.Errorf("a schema must be an object, not %s", jsonText(v))
	}
	if ref, ok := obj["$ref"]; ok {
		rs, _ := ref.(string)
		name, ok := ModelName(rs)
		if !ok {
			return fmt.Errorf("$ref %q does not name a model", rs)
		}
		target, err := c.Model(name)
		if err != nil {
			return err
		}
		if target == nil {
			target = &Schema{}
		}
		s.ref, s.refName = target, name
		return nil
	}
	s.numberLiterals = map[string]string{}
	for _, k := range sortedKeys(obj) {
		val := obj[k]
		var err error
		switch k {
		case "type":
			switch t := val.(type) {
			case string:
				s.types = []string{t}
			case []any:
				for _, x := range t {
					ts, ok := x.(string)
					if !ok {
						return fmt.Errorf("type must be a string or a list of strings")
					}
					s.types = append(s.types, ts)
				}
			default:
				return fmt.Errorf("type must be a string or a list of strings")
			}
			for _, t := range s.types {
				switch t {
				case "array", "boolean", "integer", "null", "number", "object", "string":
				default:
					return fmt.Errorf("unknown type %q", t)
				}
			}
		case "enum":
			list, ok := val.([]any)
			if !ok {
				return fmt.Errorf("enum must be a list")
			}
			s.enum = list
		case "properties":
			props, ok := val.(map[string]any)
			if !ok {
				return fmt.Errorf("properties must be an object")
			}
			s.properties = map[string]*Schema{}
			for _, name := range sortedKeys(props) {
				if s.properties[name], err = c.sub(props[name], depth); err != nil {
					return fmt.Errorf("properties.%s: %v", name, err)
				}
			}
		case "required":
			list, ok := val.([]any)
			if !ok {
				return fmt.Errorf("required must be a list of names")
			}
			for _, x := range list {
				n, ok := x.(string)
				if !ok {
					return fmt.Errorf("required must be a list of names")
				}
				s.required = append(s.required, n)
			}
		case "additionalProperties":
			if b, ok := val.(bool); ok {
				s.noAdditional = !b
			} else if s.additional, err = c.sub(val, depth); err != nil {
				return fmt.Errorf("additionalProperties: %v", err)
			}
		case "items":
			if list, ok := val.([]any); ok {
				for i, x := range list {
					sub, err := c.sub(x, depth)
					if err != nil {
						return fmt.Errorf("items[%d]: %v", i, err)
					}
					s.tuple = append(s.tuple, sub)
				}
			} else if s.items, err = c.sub(val, depth); err != nil {
				return fmt.Errorf("items: %v", err)
			}
		case "minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties":
			n, ok := nonNegInt(val)
			if !ok {
				return fmt.Errorf("%s must be a non-negative integer", k)
			}
			*map[string]**int{"minItems": &s.minItems, "maxItems": &s.maxItems, "minLength": &s.minLength,
				"maxLength": &s.maxLength, "minProperties": &s.minProps, "maxProperties": &s.maxProps}[k] = &n
		case "uniqueItems":
			s.uniqueItems, _ = val.(bool)
		case "pattern":
			p, ok := val.(string)
			if !ok {
				return fmt.Errorf("pattern must be a string")
			}
			if s.pattern, err = regexp.Compile(p); err != nil {
				return fmt.Errorf("pattern %q: localpipe cannot run this regular expression: %v", p, err)
			}
			s.patternSrc = p
		case "minimum", "maximum", "multipleOf":
			num, ok := val.(json.Number)
			if !ok {
				return fmt.Errorf("%s must be a number", k)
			}
			r, ok := new(big.Rat).SetString(num.String())
			if !ok {
				return fmt.Errorf("%s must be a number", k)
			}
			if k == "multipleOf" && r.Sign() <= 0 {
				return fmt.Errorf("multipleOf must be greater than 0")
			}
			s.numberLiterals[k] = num.String()
			*map[string]**big.Rat{"minimum": &s.minimum, "maximum": &s.maximum, "multipleOf": &s.multipleOf}[k] = r
		case "exclusiveMinimum":
			s.exclMin, _ = val.(bool)
		case "exclusiveMaximum":
			s.exclMax, _ = val.(bool)
		case "allOf", "anyOf", "oneOf":
			list, ok := val.([]any)
			if !ok || len(list) == 0 {
				return fmt.Errorf("%s must be a non-empty list of schemas", k)
			}
			var subs []*Schema
			for i, x := range list {
				sub, err := c.sub(x, depth)
				if err != nil {
					return fmt.Errorf("%s[%d]: %v", k, i, err)
				}
				subs = append(subs, sub)
			}
			switch k {
			case "allOf":
				s.allOf = subs
			case "anyOf":
				s.anyOf = subs
			default:
				s.oneOf = subs
			}
		case "not":
			if s.not, err = c.sub(val, depth); err != nil {
				return fmt.Errorf("not: %v", err)
			}
		}
	}
	return nil
}

func nonNegInt(v any) (int, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	if err != nil || i < 0 || i > math.MaxInt32 {
		return 0, false
	}
	return int(i), true
}

// instanceType is the JSON type of a decoded value; a number written without a fraction or
// exponent is an integer, as Jackson (behind the validator API Gateway runs) reads it.
func instanceType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		if strings.ContainsAny(x.String(), ".eE") {
			return "number"
		}
		return "integer"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "null"
}

const maxProblems = 20

// check appends what is wrong with v to problems. steps counts the checks of the whole body
// against budget; past it, every check fails at once.
func (s *Schema) check(v any, problems *[]string, depth int, steps *int, budget int) {
	if len(*problems) >= maxProblems || depth > 4*maxSchemaDepth {
		return
	}
	if *steps++; *steps > budget {
		*problems = append(*problems, fmt.Sprintf("the model needs more than %d schema checks for this body", budget))
		return
	}
	if s.ref != nil {
		s.ref.check(v, problems, depth+1, steps, budget)
		return
	}
	add := func(format string, args ...any) { *problems = append(*problems, fmt.Sprintf(format, args...)) }
	t := instanceType(v)
	if len(s.types) > 0 {
		ok := false
		for _, want := range s.types {
			if want == t || (want == "number" && t == "integer") {
				ok = true
				break
			}
		}
		if !ok {
			add("instance type (%s) does not match any allowed primitive type (allowed: [%s])", t, quotedList(s.types))
			return
		}
	}
	if s.enum != nil {
		found := false
		for _, e := range s.enum {
			if jsonEqual(e, v) {
				found = true
				break
			}
		}
		if !found {
			add("instance value (%s) not found in enum (possible values: [%s])", instText(v), jsonList(s.enum))
		}
	}
	switch x := v.(type) {
	case string:
		n := utf8.RuneCountInString(x)
		if s.minLength != nil && n < *s.minLength {
			add("string %s is too short (length: %d, required minimum: %d)", instText(x), n, *s.minLength)
		}
		if s.maxLength != nil && n > *s.maxLength {
			add("string %s is too long (length: %d, maximum allowed: %d)", instText(x), n, *s.maxLength)
		}
		if s.pattern != nil && !s.pattern.MatchString(x) {
			add("ECMA 262 regex %s does not match input string %s", instText(s.patternSrc), instText(x))
		}
	case json.Number:
		if s.minimum == nil && s.maximum == nil && s.multipleOf == nil {
			break
		}
		r, exact := numRat(x.String())
		if !exact {
			s.checkInexact(x, add)
			break
		}
		if s.minimum != nil {
			if c := r.Cmp(s.minimum); c < 0 || (c == 0 && s.exclMin) {
				if s.exclMin {
					add("numeric instance is not strictly greater than the required minimum %s", s.numberLiterals["minimum"])
				} else {
					add("numeric instance is lower than the required minimum (minimum: %s, found: %s)", s.numberLiterals["minimum"], x)
				}
			}
		}
		if s.maximum != nil {
			if c := r.Cmp(s.maximum); c > 0 || (c == 0 && s.exclMax) {
				if s.exclMax {
					add("numeric instance is not strictly lower than the required maximum %s", s.numberLiterals["maximum"])
				} else {
					add("numeric instance is greater than the required maximum (maximum: %s, found: %s)", s.numberLiterals["maximum"], x)
				}
			}
		}
		if s.multipleOf != nil {
			q := new(big.Rat).Quo(r, s.multipleOf)
			if !q.IsInt() {
				add("remainder of division is not zero (%s / %s)", x, s.numberLiterals["multipleOf"])
			}
		}
	case []any:
		if s.minItems != nil && len(x) < *s.minItems {
			add("array is too short: must have at least %d elements but instance has %d elements", *s.minItems, len(x))
		}
		if s.maxItems != nil && len(x) > *s.maxItems {
			add("array is too long: must have at most %d elements but instance has %d elements", *s.maxItems, len(x))
		}
		if s.uniqueItems {
			// One canonical key per element, not a comparison of every pair: a body of a
			// million distinct elements would otherwise take 10¹² comparisons.
			seen := make(map[string]struct{}, len(x))
			var b strings.Builder
			for _, e := range x {
				b.Reset()
				canonKey(&b, e)
				if _, dup := seen[b.String()]; dup {
					add("array must not contain duplicate elements")
					break
				}
				seen[b.String()] = struct{}{}
			}
		}
		for i, e := range x {
			switch {
			case s.items != nil:
				s.items.check(e, problems, depth+1, steps, budget)
			case i < len(s.tuple):
				s.tuple[i].check(e, problems, depth+1, steps, budget)
			}
		}
	case map[string]any:
		var missing []string
		for _, name := range s.required {
			if _, ok := x[name]; !ok {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			add("object has missing required properties ([%s])", quotedList(missing))
		}
		if s.minProps != nil && len(x) < *s.minProps {
			add("object has too few properties (found %d, required minimum %d)", len(x), *s.minProps)
		}
		if s.maxProps != nil && len(x) > *s.maxProps {
			add("object has too many properties (found %d, maximum allowed %d)", len(x), *s.maxProps)
		}
		var extra []string
		for _, name := range sortedKeys(x) {
			if ps, ok := s.properties[name]; ok {
				ps.check(x[name], problems, depth+1, steps, budget)
				continue
			}
			if s.noAdditional {
				extra = append(extra, name)
			} else if s.additional != nil {
				s.additional.check(x[name], problems, depth+1, steps, budget)
			}
		}
		if len(extra) > 0 {
			add("object instance has properties which are not allowed by the schema: [%s]", quotedList(extra))
		}
	}
	for _, sub := range s.allOf {
		sub.check(v, problems, depth+1, steps, budget)
	}
	if s.anyOf != nil {
		ok := false
		for _, sub := range s.anyOf {
			var p []string
			sub.check(v, &p, depth+1, steps, budget)
			if len(p) == 0 {
				ok = true
				break
			}
		}
		if !ok {
			add("instance failed to match at least one required schema among %d", len(s.anyOf))
		}
	}
	if s.oneOf != nil {
		matched := 0
		for _, sub := range s.oneOf {
			var p []string
			sub.check(v, &p, depth+1, steps, budget)
			if len(p) == 0 {
				matched++
			}
		}
		if matched != 1 {
			add("instance failed to match exactly one schema (matched %d out of %d)", matched, len(s.oneOf))
		}
	}
	if s.not != nil {
		var p []string
		s.not.check(v, &p, depth+1, steps, budget)
		if len(p) == 0 {
			add("instance matched a schema which it should not have")
		}
	}
}

func quotedList(names []string) string {
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = jsonString(n)
	}
	return strings.Join(parts, ",")
}

func jsonList(vals []any) string {
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = instText(v)
	}
	return strings.Join(parts, ",")
}

// instText prints a value of the request in a problem, cut short if it is long.
func instText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "?"
	}
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}

// jsonEqual compares decoded JSON values, numbers by value (1 equals 1.0).
func jsonEqual(a, b any) bool {
	switch x := a.(type) {
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return false
		}
		return numKey(x) == numKey(y)
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !jsonEqual(xv, yv) {
				return false
			}
		}
		return true
	default:
		return a == b
	}
}

// Numbers of the request are made exact (big.Rat) only when that is cheap: big.Rat's
// SetString takes seconds for a number of a million digits and milliseconds for 1e999999,
// and a body may hold many. Longer numbers, or ones with a larger exponent, are compared in
// their decimal form (decimal), and are not checked against multipleOf.
const (
	maxExactDigits   = 400
	maxExactExponent = 400
)

// numRat returns the value of a JSON number; exact is false when it is too long or its
// exponent too large to make exact cheaply.
func numRat(s string) (r *big.Rat, exact bool) {
	if len(s) > maxExactDigits {
		return nil, false
	}
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(strings.TrimPrefix(s[i+1:], "+"))
		if err != nil || e > maxExactExponent || e < -maxExactExponent {
			return nil, false
		}
	}
	r, ok := new(big.Rat).SetString(s)
	return r, ok
}

// decimal is a JSON number as ±0.digits × 10^exp, digits without leading or trailing zeros
// (empty for zero), so that equal numbers have equal decimals whatever their size.
type decimal struct {
	neg    bool
	digits string
	exp    int64
}

// maxDecExp bounds exponents; a JSON number's exponent can be any length of digits.
const maxDecExp = 1 << 60

func parseDecimal(s string) decimal {
	var d decimal
	if strings.HasPrefix(s, "-") {
		d.neg, s = true, s[1:]
	}
	mant, expText, hasExp := strings.Cut(strings.ToLower(s), "e")
	intPart, frac, _ := strings.Cut(mant, ".")
	all := intPart + frac
	lead := len(all) - len(strings.TrimLeft(all, "0"))
	d.digits = strings.TrimRight(all[lead:], "0")
	if d.digits == "" {
		return decimal{}
	}
	d.exp = int64(len(intPart)) - int64(lead)
	if hasExp {
		e, err := strconv.ParseInt(strings.TrimPrefix(expText, "+"), 10, 64)
		if err != nil || e > maxDecExp || e < -maxDecExp {
			// More than 18 digits of exponent: the magnitude is beyond every limit.
			e = maxDecExp
			if strings.HasPrefix(expText, "-") {
				e = -maxDecExp
			}
		}
		d.exp += e
	}
	return d
}

func (d decimal) sign() int {
	switch {
	case d.digits == "":
		return 0
	case d.neg:
		return -1
	}
	return 1
}

// cmp compares two decimals: -1, 0 or +1.
func (d decimal) cmp(o decimal) int {
	if ds, os := d.sign(), o.sign(); ds != os || ds == 0 {
		return cmp.Compare(ds, os)
	}
	c := cmp.Compare(d.exp, o.exp)
	if c == 0 {
		c = strings.Compare(d.digits, o.digits) // same length of integer part: digit by digit
	}
	if d.neg {
		return -c
	}
	return c
}

// numKey is a number's text such that two numbers have the same key exactly when they are
// equal.
func numKey(n json.Number) string {
	d := parseDecimal(n.String())
	if d.digits == "" {
		return "0"
	}
	sign := "+"
	if d.neg {
		sign = "-"
	}
	return sign + d.digits + "e" + strconv.FormatInt(d.exp, 10)
}

// checkInexact applies minimum and maximum to a number numRat cannot make exact, comparing
// decimals.
func (s *Schema) checkInexact(x json.Number, add func(string, ...any)) {
	d := parseDecimal(x.String())
	if s.minimum != nil {
		if c := d.cmp(parseDecimal(s.numberLiterals["minimum"])); c < 0 || (c == 0 && s.exclMin) {
			if s.exclMin {
				add("numeric instance is not strictly greater than the required minimum %s", s.numberLiterals["minimum"])
			} else {
				add("numeric instance is lower than the required minimum (minimum: %s, found: %s)", s.numberLiterals["minimum"], x)
			}
		}
	}
	if s.maximum != nil {
		if c := d.cmp(parseDecimal(s.numberLiterals["maximum"])); c > 0 || (c == 0 && s.exclMax) {
			if s.exclMax {
				add("numeric instance is not strictly lower than the required maximum %s", s.numberLiterals["maximum"])
			} else {
				add("numeric instance is greater than the required maximum (maximum: %s, found: %s)", s.numberLiterals["maximum"], x)
			}
		}
	}
}

// canonKey writes a key of v such that two values have the same key exactly when jsonEqual
// holds between them.
func canonKey(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteByte('n')
	case bool:
		if x {
			b.WriteByte('t')
		} else {
			b.WriteByte('f')
		}
	case string:
		b.WriteString(strconv.Quote(x))
	case json.Number:
		b.WriteString(numKey(x))
		b.WriteByte(';')
	case []any:
		b.WriteByte('[')
		for _, e := range x {
			canonKey(b, e)
			b.WriteByte(',')
		}
		b.WriteByte(']')
	case map[string]any:
		b.WriteByte('{')
		for _, k := range sortedKeys(x) {
			b.WriteString(strconv.Quote(k))
			b.WriteByte(':')
			canonKey(b, x[k])
			b.WriteByte(',')
		}
		b.WriteByte('}')
	}
}
