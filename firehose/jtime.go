package firehose

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// tsItem is one element of a compiled Java DateTimeFormatter pattern: literal text, or a
// pattern letter repeated count times.
type tsItem struct {
	lit    string
	letter byte
	count  int
}

// javaLetters are the letters Java's DateTimeFormatter knows but localpipe does not format
// (week-based fields, zones, nano-of-day, …). They are refused as unsupported rather than as
// unknown, so the message tells the user the pattern is valid Java but not available here.
const javaLetters = "GQqYwWecFAnNVzOXxZp"

// compileTimestamp parses a Java DateTimeFormatter pattern (the value of !{timestamp:…}), with
// Java's rules for letter counts, 'quoted' literals, a doubled single quote for a quote and [optional] sections,
// and the messages Java gives for the mistakes people make.
func compileTimestamp(p string) ([]tsItem, error) {
	var items []tsItem
	depth := 0
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c == '\'':
			j := i + 1
			var lit strings.Builder
			for {
				if j >= len(p) {
					return nil, fmt.Errorf("Pattern ends with an incomplete string literal: %s", p)
				}
				if p[j] == '\'' {
					if j+1 < len(p) && p[j+1] == '\'' {
						lit.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				lit.WriteByte(p[j])
				j++
			}
			if j == i+1 { // '' is a quote
				lit.WriteByte('\'')
			}
			items = append(items, tsItem{lit: lit.String()})
			i = j + 1
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			n := 1
			for i+n < len(p) && p[i+n] == c {
				n++
			}
			if err := checkLetter(c, n); err != nil {
				return nil, err
			}
			items = append(items, tsItem{letter: c, count: n})
			i += n
		case c == '[':
			depth++
			i++
		case c == ']':
			if depth == 0 {
				return nil, fmt.Errorf("Pattern invalid as it contains ] without previous [")
			}
			depth--
			i++
		case c == '#' || c == '{' || c == '}':
			return nil, fmt.Errorf("Pattern includes reserved character: '%c'", c)
		default:
			items = append(items, tsItem{lit: string(c)})
			i++
		}
	}
	return items, nil
}

func checkLetter(c byte, n int) error {
	max := 0
	switch c {
	case 'y', 'u':
		max = 19
	case 'M', 'L', 'E':
		max = 5
	case 'd', 'H', 'h', 'k', 'K', 'm', 's':
		max = 2
	case 'D':
		max = 3
	case 'a':
		max = 1
	case 'S':
		max = 9
	default:
		if strings.IndexByte(javaLetters, c) >= 0 {
			return fmt.Errorf("pattern letter '%c' is valid Java but not supported by localpipe (supported: y u M L d D E a H h k K m s S)", c)
		}
		return fmt.Errorf("Unknown pattern letter: %c", c)
	}
	if n > max {
		return fmt.Errorf("Too many pattern letters: %c", c)
	}
	return nil
}

// formatTimestamp formats t (already in the wanted zone) with a compiled pattern, in Java's
// English locale.
func formatTimestamp(items []tsItem, t time.Time) string {
	var b strings.Builder
	for _, it := range items {
		if it.letter == 0 {
			b.WriteString(it.lit)
			continue
		}
		n := it.count
		switch it.letter {
		case 'y', 'u':
			y := t.Year()
			if n == 2 {
				pad(&b, ((y%100)+100)%100, 2)
			} else {
				pad(&b, y, n)
			}
		case 'M', 'L':
			switch {
			case n <= 2:
				pad(&b, int(t.Month()), n)
			case n == 3:
				b.WriteString(t.Month().String()[:3])
			case n == 4:
				b.WriteString(t.Month().String())
			default:
				b.WriteString(t.Month().String()[:1])
			}
		case 'd':
			pad(&b, t.Day(), n)
		case 'D':
			pad(&b, t.YearDay(), n)
		case 'E':
			switch {
			case n <= 3:
				b.WriteString(t.Weekday().String()[:3])
			case n == 4:
				b.WriteString(t.Weekday().String())
			default:
				b.WriteString(t.Weekday().String()[:1])
			}
		case 'a':
			if t.Hour() < 12 {
				b.WriteString("AM")
			} else {
				b.WriteString("PM")
			}
		case 'H':
			pad(&b, t.Hour(), n)
		case 'h':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			pad(&b, h, n)
		case 'k':
			h := t.Hour()
			if h == 0 {
				h = 24
			}
			pad(&b, h, n)
		case 'K':
			pad(&b, t.Hour()%12, n)
		case 'm':
			pad(&b, t.Minute(), n)
		case 's':
			pad(&b, t.Second(), n)
		case 'S':
			frac := fmt.Sprintf("%09d", t.Nanosecond())
			b.WriteString(frac[:n])
		}
	}
	return b.String()
}

func pad(b *strings.Builder, v, width int) {
	s := strconv.Itoa(v)
	for i := len(s); i < width; i++ {
		b.WriteByte('0')
	}
	b.WriteString(s)
}
