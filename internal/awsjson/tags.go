package awsjson

import (
	"maps"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// Tags as Kinesis and Firehose model them: keys of 1–128 and values of 0–256 characters drawn
// from one set (Unicode letters, digits, white space and _ . : / = + - @ %), at most 50 per
// resource. The services word their refusals differently, so each keeps its own messages;
// what they share is here.

// TagChars reports whether s holds only the characters AWS allows in a tag key or value.
func TagChars(s string) bool {
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.In(r, unicode.Zs, unicode.Zl, unicode.Zp) && !unicode.IsNumber(r) &&
			!strings.ContainsRune("_.:/=+-@%", r) {
			return false
		}
	}
	return true
}

// TagMap checks a TagMap member (Kinesis's shape): 1–max entries, keys of 1–128 and values
// of 0–256 characters. AWS prints a map as Java does, {k=v, k2=v2}, and reports its entries'
// constraints once for the whole map.
func (v *Validator) TagMap(path string, tags map[string]string, max int) {
	if tags == nil {
		return
	}
	keys := sortedKeys(tags)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k + "=" + tags[k])
	}
	b.WriteByte('}')
	shown := Quote(b.String())
	if len(tags) < 1 {
		v.Fail(shown, path, "have length greater than or equal to 1")
	}
	if len(tags) > max {
		v.Fail(shown, path, "have length less than or equal to "+strconv.Itoa(max))
	}
	keysOK, valuesOK := true, true
	for _, k := range keys {
		if n := JavaLen(k); n < 1 || n > 128 {
			keysOK = false
		}
		if JavaLen(tags[k]) > 256 {
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

// TagKeyList checks a TagKeyList member: 1–max keys of 1–128 characters each, the keys'
// constraint reported once for the list.
func (v *Validator) TagKeyList(path string, keys []string, max int) {
	if keys == nil {
		return
	}
	shown := Quote("[" + strings.Join(keys, ", ") + "]")
	if len(keys) < 1 {
		v.Fail(shown, path, "have length greater than or equal to 1")
	}
	if len(keys) > max {
		v.Fail(shown, path, "have length less than or equal to "+strconv.Itoa(max))
	}
	for _, k := range keys {
		if n := JavaLen(k); n < 1 || n > 128 {
			v.Fail(shown, path, "satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]")
			break
		}
	}
}

// MergeTags adds add to tags, overwriting keys both hold, unless the result would pass limit
// tags, which tooMany answers (each service words that refusal its own way).
func MergeTags(tags, add map[string]string, limit int, tooMany func() error) error {
	n := len(tags)
	for k := range add {
		if _, ok := tags[k]; !ok {
			n++
		}
	}
	if n > limit {
		return tooMany()
	}
	maps.Copy(tags, add)
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
