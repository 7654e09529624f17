// Package mapping renders API Gateway mapping templates: it is a Velocity Template Language
// (Apache Velocity 1.7) engine with API Gateway's $input, $context, $stageVariables and $util,
// built to produce the same bytes AWS produces for the same template and request. A template
// is parsed once with Parse and rendered per request with Execute; a parsed Template is
// immutable and safe for concurrent use.
//
// # Basics
//
//	t, err := mapping.Parse("PutRecord", src)
//	if err != nil { … }   // *mapping.Error: "PutRecord:3:12: expected ), found …"
//	var out bytes.Buffer
//	over, err := t.Execute(&out, &mapping.Input{
//		Body:    body,
//		Params:  mapping.Params{Path: map[string]string{"stream-name": "s1"}},
//		Context: map[string]any{"requestId": id, "identity": map[string]any{"sourceIp": ip}},
//	})
//	if err := mapping.ValidateJSON(out.Bytes()); err != nil { … } // line and column
//
// # AWS rules over Velocity 1.7
//
// Where AWS's recorded behaviour differs from stock Velocity 1.7 (aws-semantics.md A.1, A.5)
// this package follows AWS: a null reference renders as empty text, null compares equal to
// the empty string, an empty body reads as {}, and $input.path or $input.json of a body that
// is not JSON fails the render with a *BodyError, which the gateway answers 400 "Could not
// parse request body into json" as API Gateway does. awsDifferences in golden_test.go is the one
// list of these rules, says which the reference-engine harness applies too, and names the
// corpus templates that show the others. A map from $input.path or $util.parseJson prints as
// Java's {k=v}, a list as compact JSON: that is how Jayway JsonPath's json-smart values print,
// so it needs no rule.
//
// Everything else follows Velocity 1.7, including its whitespace rules (blanks before a #set
// at a token boundary disappear; other directives keep the indentation before them and
// swallow the line break after them), its grammar (method arguments, list and map items,
// indexes, range bounds, #foreach lists and macro arguments take only references and
// literals; there is no null literal outside method arguments, where a bare word is null too;
// "$a.b(" and "$a[" must be complete calls and indexes), Integer/Long/BigInteger/Double/
// BigDecimal arithmetic, Java number printing, call-by-name macro arguments and fail-fast iteration (a
// #foreach whose body changes the size of its list or map fails as Java's iterator does).
//
// # Known differences
//
// Checked against Velocity 1.7 itself (testdata/velocity): the corpus, the fuzz seeds and
// 1500 generated templates per run (TestVelocityOracle) and the AWS example cases
// (TestAWSExamplesOracle) render byte for byte the same, and where Velocity rejects a template
// so does this package. Known gaps:
//   - Velocity's lexer keeps state after some references. "##" glued to a reference, a lone
//     "$", "#" or "\" next to a reference or directive, text after an escaped reference with
//     a method call or index, a "." after a word right after "$a.b()", and a "[" right after
//     #end when the block ends in a property glued to another reference ("$a.b$c#end[",
//     which Velocity rejects) sometimes print differently or fail there; the common forms
//     are emulated and pinned in the corpus (quirk_*.vm). Also after an index, a word glued
//     to it and followed by a dot: Velocity prints "$list[0]x.y z" as "1x z" (FuzzVelocityOracle
//     found it), here it is "1x.y z"; and a "{" glued to a reference, which Velocity reads
//     as the start of something else ("$name{x}" prints "world{", "$a.b{x" fails), and a
//     reference with "(" glued to a property ("$map.a$x(0)" fails in Velocity, "$map.a$x(0"
//     does not). Also not emulated: the text
//     Velocity substitutes for a null arithmetic result in string + (for a null reference it
//     is the reference's source, "a" + $undef is "a$undef", which is emulated).
//   - A #foreach header other than ($name in list) is an error here; Velocity 1.7 takes some
//     (a literal for the variable, any word for "in", two arguments) in odd ways.
//   - An unclosed block comment runs to the end of the template, as in Velocity, but one with
//     another "#*" or "#**" inside sometimes fails there ("#*#**0").
//   - A "#" among the arguments of a call to an unknown macro or a method fails the
//     template here; Velocity prints "#A(#A)" and "$a.b(#A" as text.
//   - Block macro calls (#@name(…)…#end, with $bodyContent) are not supported: they print as
//     text, and "#name@(" is not rejected as Velocity rejects it.
//   - Map keys are strings: {1: 'a'} has the key "1". A list index must be an integer (Java's
//     get(Integer)); Velocity would also find no method for a Long index.
//   - toUpperCase and toLowerCase apply Java's one-to-many mappings (ß to SS, İ to i and a
//     combining dot, a word-final Σ to ς) except the Greek ones with iota subscripts; Java's
//     '.' and '$' in regular expressions follow Go (below).
//   - A #define's value is rendered when it is assigned (#set($x = $d)); Velocity keeps the
//     block and renders it where $x is used.
//   - A keySet, values or entrySet is a copy that remembers its map (loops over it fail when
//     the map is resized, as Java's views do) but does not see later changes to the map.
//   - AWS behaviour that is not recorded follows Velocity 1.7 or, where Velocity has no
//     answer, LocalStack: $input.json of a missing path is "" (a JSON empty string),
//     $input.params of an unknown name is empty, a #foreach stops quietly at 1000 items, and
//     $util functions accept numbers and booleans by converting them to text.
//
// # JSON
//
// $input.path and $util.parseJson give maps and lists; $input.json and the printing of JSON
// lists write compact JSON escaped the way json-smart does (including "\/" for a slash),
// which matches AWS's recorded output shape ([{"foo":"bar"}]); the slash escape itself is not
// recorded for AWS. Numbers follow json-smart's model: an integer is an Integer or Long, a
// BigInteger beyond that; a decimal literal is a Double, unless it is longer than 18
// characters, when it is a BigDecimal that prints as written ("1.000000000000000000") and
// stays exact in arithmetic (BigDecimal scales past 4096 digits are a render error). The JSONPath subset is documented in jsonpath.go and checked against
// Jayway JsonPath 2.0, filters included: as there, the right operand of a comparison takes
// the left one's type, a double-quoted filter literal keeps its quotes, and $["k"] is an
// error.
//
// # Java regular expressions
//
// replaceAll, replaceFirst, matches and split take java.util.regex patterns; this package
// runs them with Go's RE2. The common syntax (classes, quantifiers, groups, anchors, \d \w \s,
// (?i)) is the same. Lookahead and lookbehind, backreferences (\1), possessive quantifiers
// (a*+), atomic groups and class intersection ([a-z&&[^b]]) do not exist in RE2: a pattern
// using them is a render error rather than a silent mismatch. Java's '.' also excludes \r
// and Unicode line separators and its '$' matches before a final line break; RE2's do not.
// Replacement strings use Java syntax ($1, ${name}, \$). split returns a list rather than a
// Java array, so printing it gives [a, b] where Velocity prints an array's identity.
//
// # Limits
//
// MaxLoopIterations (AWS's 1000 per #foreach), MaxTemplateSize (AWS's 300 KB),
// MaxOutputSize (AWS's 10 MB payload), MaxMacroDepth (Velocity's 20) and MaxSteps,
// MaxRangeSize, MaxParseDepth and MaxJSONDepth, which AWS does not document, bound every
// render; tests may lower them.
package mapping
