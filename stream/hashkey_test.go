package stream

import (
	"math/big"
	"testing"
)

// hashKeySeeds are the edges of ParseHashKey's input: empty, signs, spaces, leading zeros,
// 2^64 either side, 2^128-1 and 2^128, and too long.
var hashKeySeeds = []string{
	"", "0", "-1", "+1", "1.5", "abc", " 1", "1 ", "0001", "18446744073709551615", "18446744073709551616",
	"340282366920938463463374607431768211455", "340282366920938463463374607431768211456",
	"0340282366920938463463374607431768211455", "9999999999999999999999999999999999999999",
	"999999999999999999999999999999999999999", "\x00",
}

// FuzzParseHashKey holds the 128-bit parser to math/big's reading of the same text: the
// same values accepted, the same refused, since the refusal is AWS's error message.
func FuzzParseHashKey(f *testing.F) {
	for _, s := range hashKeySeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseHashKey(s)
		want, ok := referenceHashKey(s)
		if (err == nil) != ok {
			t.Fatalf("ParseHashKey(%q): err %v, math/big accepts: %v", s, err, ok)
		}
		if ok && got != want {
			t.Fatalf("ParseHashKey(%q) = %s, want %s", s, got, want)
		}
	})
}

// referenceHashKey is the math/big reading ParseHashKey replaced.
func referenceHashKey(s string) (HashKey, bool) {
	if s == "" || len(s) > 39 {
		return HashKey{}, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return HashKey{}, false
		}
	}
	n, ok := new(big.Int).SetString(s, 10)
	if !ok || n.BitLen() > 128 {
		return HashKey{}, false
	}
	return fromBig(n), true
}
