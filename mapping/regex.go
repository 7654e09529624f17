package mapping

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// Compiled patterns are cached: templates call replaceAll in loops with the same pattern.
var (
	regexCache   sync.Map // string -> *regexp.Regexp
	regexCacheN  int
	regexCacheMu sync.Mutex
)

const regexCacheMax = 512

// javaRegexp compiles a java.util.regex pattern with Go's RE2. The package doc lists the
// differences; constructs RE2 lacks (lookaround, backreferences, possessive quantifiers) are
// reported as errors rather than silently matching something else.
func javaRegexp(pat string, whole bool) (*regexp.Regexp, error) {
	key := pat
	if whole {
		key = "\x00" + pat
	}
	if re, ok := regexCache.Load(key); ok {
		return re.(*regexp.Regexp), nil
	}
	src := pat
	if whole {
		src = `^(?:` + pat + `)\z`
	}
	re, err := regexp.Compile(src)
	if err != nil {
		return nil, fmt.Errorf("regular expression %q: %v (Java-only constructs such as lookaround and backreferences are not supported)", pat, err)
	}
	regexCacheMu.Lock()
	if regexCacheN < regexCacheMax {
		regexCacheN++
		regexCache.Store(key, re)
	}
	regexCacheMu.Unlock()
	return re, nil
}

// javaReplacement converts a Java replacement string ($1, ${name}, \$) to Go's Expand syntax.
func javaReplacement(r string) (string, error) {
	if !strings.ContainsAny(r, `$\`) {
		return r, nil
	}
	var b strings.Builder
	for i := 0; i < len(r); i++ {
		c := r[i]
		switch c {
		case '\\':
			i++
			if i >= len(r) {
				return "", fmt.Errorf("character to be escaped is missing in replacement %q", r)
			}
			if r[i] == '$' {
				b.WriteString("$$")
			} else {
				b.WriteByte(r[i])
			}
		case '$':
			i++
			if i >= len(r) {
				return "", fmt.Errorf("illegal group reference in replacement %q", r)
			}
			if r[i] == '{' {
				j := strings.IndexByte(r[i:], '}')
				if j < 0 {
					return "", fmt.Errorf("named capturing group is missing trailing '}' in %q", r)
				}
				b.WriteString("${" + r[i+1:i+j] + "}")
				i += j
				continue
			}
			if r[i] < '0' || r[i] > '9' {
				return "", fmt.Errorf("illegal group reference in replacement %q", r)
			}
			j := i
			for j < len(r) && r[j] >= '0' && r[j] <= '9' {
				j++
			}
			b.WriteString("${" + r[i:j] + "}")
			i = j - 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// javaSplit is String.split(regex, limit), including Java's removal of trailing empty strings
// when limit is 0 and of a leading empty string produced by a zero-width match.
func javaSplit(s, pat string, limit int) (any, bool, error) {
	re, err := javaRegexp(pat, false)
	if err != nil {
		return nil, true, err
	}
	var parts []any
	index := 0
	matched := false
	for _, m := range re.FindAllStringIndex(s, -1) {
		if limit > 0 && len(parts) >= limit-1 {
			break
		}
		if index == 0 && m[0] == 0 && m[1] == 0 {
			continue
		}
		matched = true
		parts = append(parts, s[index:m[0]])
		index = m[1]
	}
	if !matched {
		return &vlist{Items: []any{s}}, true, nil
	}
	parts = append(parts, s[index:])
	if limit == 0 {
		for len(parts) > 0 && parts[len(parts)-1] == "" {
			parts = parts[:len(parts)-1]
		}
	}
	return &vlist{Items: parts}, true, nil
}
