package jsonschema

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"testing"
)

func compileModel(t testing.TB, models map[string]string, name string) (*Schema, error) {
	raw := map[string]json.RawMessage{}
	for k, v := range models {
		raw[k] = json.RawMessage(v)
	}
	return NewCompiler(raw).Model(name)
}

func TestSchemaValidation(t *testing.T) {
	tests := []struct {
		schema, body string
		want         string // "" valid; else a substring of the problems
	}{
		{`{"type":"object"}`, `{}`, ""},
		{`{"type":"object"}`, ``, ""}, // an empty body is {}
		{`{"type":"object"}`, `[]`, `instance type (array) does not match any allowed primitive type (allowed: ["object"])`},
		{`{"type":["string","null"]}`, `null`, ""},
		{`{"type":"number"}`, `3`, ""},
		{`{"type":"integer"}`, `3.0`, `instance type (number)`},
		{`{"type":"integer"}`, `1e3`, `instance type (number)`},
		{`{"type":"boolean"}`, `true`, ""},
		{`{"required":["a","b"]}`, `{"a":1}`, `object has missing required properties (["b"])`},
		{`{"properties":{"a":{"type":"string"}}}`, `{"a":1}`, `allowed: ["string"]`},
		{`{"properties":{"a":{"type":"string"}},"additionalProperties":false}`, `{"a":"x","b":1,"c":2}`, `not allowed by the schema: ["b","c"]`},
		{`{"additionalProperties":{"type":"integer"}}`, `{"a":1,"b":"x"}`, `allowed: ["integer"]`},
		{`{"items":{"type":"integer"}}`, `[1,2,"3"]`, `instance type (string)`},
		{`{"items":[{"type":"integer"},{"type":"string"}]}`, `[1,"a",true]`, ""},
		{`{"items":[{"type":"integer"},{"type":"string"}]}`, `[1,2]`, `instance type (integer) does not match any allowed primitive type (allowed: ["string"])`},
		{`{"minItems":2}`, `[1]`, `array is too short: must have at least 2 elements but instance has 1 elements`},
		{`{"maxItems":1}`, `[1,2]`, `array is too long: must have at most 1 elements but instance has 2 elements`},
		{`{"uniqueItems":true}`, `[1,1.0]`, `duplicate elements`},
		{`{"enum":[1,"a",{"b":[true]}]}`, `{"b":[true]}`, ""},
		{`{"enum":[1,"a"]}`, `1.0`, ""},
		{`{"enum":[1,"a"]}`, `"b"`, `instance value ("b") not found in enum (possible values: [1,"a"])`},
		{`{"minLength":2,"maxLength":3}`, `"é"`, `string "é" is too short (length: 1, required minimum: 2)`},
		{`{"maxLength":3}`, `"abcd"`, `string "abcd" is too long (length: 4, maximum allowed: 3)`},
		{`{"pattern":"^[a-z]+$"}`, `"abc"`, ""},
		{`{"pattern":"^[a-z]+$"}`, `"ab1"`, `ECMA 262 regex "^[a-z]+$" does not match input string "ab1"`},
		{`{"pattern":"b"}`, `"abc"`, ""}, // not anchored
		{`{"minimum":1.5}`, `1.5`, ""},
		{`{"minimum":1.5,"exclusiveMinimum":true}`, `1.5`, `not strictly greater than the required minimum 1.5`},
		{`{"minimum":2}`, `1`, `numeric instance is lower than the required minimum (minimum: 2, found: 1)`},
		{`{"maximum":2,"exclusiveMaximum":true}`, `2`, `not strictly lower than the required maximum 2`},
		{`{"maximum":2}`, `2.01`, `greater than the required maximum (maximum: 2, found: 2.01)`},
		{`{"multipleOf":0.1}`, `0.3`, ""},
		{`{"multipleOf":2}`, `3`, `remainder of division is not zero (3 / 2)`},
		{`{"minProperties":1}`, `{}`, `too few properties`},
		{`{"maxProperties":1}`, `{"a":1,"b":2}`, `too many properties`},
		{`{"allOf":[{"type":"integer"},{"minimum":3}]}`, `2`, `lower than the required minimum`},
		{`{"anyOf":[{"type":"integer"},{"type":"string"}]}`, `true`, `among 2`},
		{`{"oneOf":[{"type":"integer"},{"type":"number"}]}`, `1`, `matched 2 out of 2`},
		{`{"oneOf":[{"type":"integer"},{"type":"string"}]}`, `1`, ""},
		{`{"not":{"type":"string"}}`, `"s"`, `should not have`},
		{`{"format":"email","dependencies":{}}`, `"x"`, ""}, // ignored keywords
		{`{"$ref":"#/components/schemas/Tag"}`, `"c"`, `not found in enum`},
		{`{"properties":{"next":{"$ref":"#/definitions/Self"}}}`, `{"next":{"next":{}}}`, ""},
		{`{"type":"object"}`, `{"a":1} {}`, `Unable to parse`},
		{`{"type":"object"}`, `{"a":`, `Unable to parse`},
		// Numbers too long or too large to make exact cheaply are compared in decimal, and
		// not checked against multipleOf.
		{`{"maximum":10}`, `1e500`, `greater than the required maximum (maximum: 10, found: 1e500)`},
		{`{"minimum":0,"exclusiveMinimum":true}`, `-1E+500`, `not strictly greater than the required minimum 0`},
		{`{"minimum":0,"maximum":1e300}`, `1e-500`, ""},
		{`{"multipleOf":2}`, `1e-500`, ""},
		{`{"minimum":1e-600,"exclusiveMinimum":true}`, `0.001e-597`, `not strictly greater`},
		{`{"maximum":-1}`, `-0.5e-1000`, `greater than the required maximum`},
		{`{"enum":[0.5]}`, `0.5` + strings.Repeat("0", 400), ""},
		{`{"minimum":0}`, strings.Repeat("9", 1000), ""},
		{`{"maximum":0}`, strings.Repeat("9", 1000), `greater than the required maximum`},
		{`{"uniqueItems":true}`, `[{"a":1,"b":[1]},{"b":[1.0],"a":1}]`, `duplicate elements`},
		{`{"uniqueItems":true}`, `[1e500,2e500,"1e500",[1e500],{"1e500":1e500}]`, ""},
		{`{"uniqueItems":true}`, `[1e500,1E500]`, `duplicate elements`},
		{`{"uniqueItems":true}`, `[12.5e499,0.0125E+502]`, `duplicate elements`},
		{`{"uniqueItems":true}`, `[0,-0.0e9999999999999999999999]`, `duplicate elements`},
		{`{"uniqueItems":true}`, `[null,false,true,"",0,[],{}]`, ""},
	}
	for _, tc := range tests {
		s, err := compileModel(t, map[string]string{"M": tc.schema, "Tag": `{"enum":["a","b"]}`, "Self": tc.schema}, "M")
		if err != nil {
			t.Errorf("%s: %v", tc.schema, err)
			continue
		}
		problems := strings.Join(s.Validate([]byte(tc.body)), "; ")
		switch {
		case tc.want == "" && problems != "":
			t.Errorf("%s on %s: %s, want valid", tc.schema, tc.body, problems)
		case tc.want != "" && !strings.Contains(problems, tc.want):
			t.Errorf("%s on %s: %q, want it to hold %q", tc.schema, tc.body, problems, tc.want)
		}
	}
}

// TestSchemaValidationCost checks bodies that cost a comparison of every pair of elements or
// an exact value of every number before: a uniqueItems array of 200,000 elements (2·10¹⁰
// comparisons) and numbers of a million digits (seconds each in big.Rat) now check in
// moments.
func TestSchemaValidationCost(t *testing.T) {
	s, err := compileModel(t, map[string]string{"M": `{"uniqueItems":true,"items":{"type":"number","minimum":0,"multipleOf":1}}`}, "M")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("[")
	for i := range 200_000 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(i))
	}
	// The last two are 1, a duplicate, and a fraction multipleOf 1 refuses.
	b.WriteString("," + strings.Repeat("7", 1_000_000) + ",1" + strings.Repeat("0", 1_000_000) + "e-1000000,0.5]")
	if problems := s.Validate([]byte(b.String())); len(problems) != 2 ||
		!strings.Contains(problems[0], "duplicate elements") || !strings.Contains(problems[1], "remainder of division is not zero (0.5 / 1)") {
		t.Errorf("problems = %.300q, want the duplicate 1 and the remainder of 0.5", problems)
	}
}

// TestSchemaCheckBudget: models whose combinators multiply the checks of one value (2^80 for
// the self-reference, 2^40 for the chain) are cut short with a problem, not run forever.
func TestSchemaCheckBudget(t *testing.T) {
	const selfAndString = `{"allOf":[{"$ref":"#/definitions/A"},{"type":"string"}]}`
	chain := map[string]string{"M0": `{"type":"string"}`}
	for i := 1; i <= 40; i++ {
		prev := fmt.Sprintf(`{"$ref":"#/definitions/M%d"}`, i-1)
		chain[fmt.Sprintf("M%d", i)] = `{"anyOf":[` + prev + `,` + prev + `]}`
	}
	for _, c := range []struct {
		models map[string]string
		name   string
	}{
		{map[string]string{"A": `{"anyOf":[` + selfAndString + `,` + selfAndString + `]}`}, "A"},
		{map[string]string{"A": `{"not":{"anyOf":[` + selfAndString + `,` + selfAndString + `]}}`}, "A"},
		{chain, "M40"},
	} {
		s, err := compileModel(t, c.models, c.name)
		if err != nil {
			t.Fatal(err)
		}
		if problems := strings.Join(s.Validate([]byte(`1`)), "; "); !strings.Contains(problems, "schema checks for this body") {
			t.Errorf("%s: problems %q, want the budget's", c.models[c.name], problems)
		}
	}
}

func TestSchemaCompileErrors(t *testing.T) {
	for _, src := range []string{
		`[]`, `"x"`, `{"type":"str"}`, `{"type":3}`, `{"type":["string",1]}`, `{"enum":{}}`, `{"properties":[]}`,
		`{"properties":{"a":3}}`, `{"required":"a"}`, `{"required":[1]}`, `{"items":[3]}`, `{"minLength":-1}`,
		`{"maxItems":1.5}`, `{"pattern":3}`, `{"pattern":"(?=x)"}`, `{"minimum":"1"}`, `{"multipleOf":0}`,
		`{"allOf":[]}`, `{"anyOf":{}}`, `{"not":1}`, `{"$ref":"#/components/schemas/Nope"}`, `{"$ref":"elsewhere.json"}`,
		`{"additionalProperties":"no"}`, `not json`, strings.Repeat(`{"not":`, 100) + `{}` + strings.Repeat(`}`, 100),
	} {
		if _, err := compileModel(t, map[string]string{"M": src}, "M"); err == nil {
			t.Errorf("%s compiled", src)
		}
	}
	if _, err := compileModel(t, nil, "Missing"); err == nil {
		t.Error("a missing model compiled")
	}
	if s, err := compileModel(t, nil, "Empty"); err != nil || s != nil {
		t.Errorf("Empty: %v %v", s, err)
	}
	// A cycle of $refs compiles and terminates.
	s, err := compileModel(t, map[string]string{"A": `{"$ref":"#/definitions/B"}`, "B": `{"$ref":"#/definitions/A"}`}, "A")
	if err != nil {
		t.Fatal(err)
	}
	s.Validate([]byte(`{}`))
}

func FuzzValidateBody(f *testing.F) {
	f.Add(`{"type":"object","required":["a"],"properties":{"a":{"type":"string","pattern":"^x"}}}`, `{"a":"xy"}`)
	f.Add(`{"items":{"enum":[1,2]},"uniqueItems":true,"maxItems":3}`, `[1,2,2]`)
	f.Add(`{"oneOf":[{"minimum":1},{"multipleOf":0.5}],"not":{"type":"null"}}`, `1.5`)
	f.Add(`{"$ref":"#/components/schemas/M"}`, `{}`)
	f.Add(`{"additionalProperties":false,"minProperties":1}`, `{"a":[{"b":null}]}`)
	f.Fuzz(func(t *testing.T, schemaSrc, body string) {
		s, err := compileModel(t, map[string]string{"M": schemaSrc}, "M")
		if err != nil || s == nil {
			return
		}
		s.Validate([]byte(body))
	})
}

// TestDecimalMatchesRat checks the decimal comparison used for long numbers against big.Rat
// on numbers short enough for both.
func TestDecimalMatchesRat(t *testing.T) {
	nums := []string{"0", "-0", "0.0", "0e5", "1", "-1", "10", "1e1", "100e-1", "0.1", "1E-1", "0.01e1",
		"123.456", "123.4560", "1234.56e-1", "-123.456", "-1234.56E-1", "9", "99", "0.99", "1e+2", "-0.5", "5e-1", "-5e-2"}
	for _, a := range nums {
		for _, b := range nums {
			ra, _ := new(big.Rat).SetString(a)
			rb, _ := new(big.Rat).SetString(b)
			if got, want := parseDecimal(a).cmp(parseDecimal(b)), ra.Cmp(rb); got != want {
				t.Errorf("cmp(%s, %s) = %d, want %d", a, b, got, want)
			}
			if got, want := numKey(json.Number(a)) == numKey(json.Number(b)), ra.Cmp(rb) == 0; got != want {
				t.Errorf("numKey(%s) == numKey(%s) is %v", a, b, got)
			}
		}
	}
}
