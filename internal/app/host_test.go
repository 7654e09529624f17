package app

import (
	"strings"
	"testing"
)

func TestParseHostRejectsMalformed(t *testing.T) {
	for _, h := range []string{
		"[::1", "[::1]x", "[::1]:99999", "[127.0.0.1]", "[fe80::1%eth0]", "[]",
		"::1", "localhost:port", "localhost:-1", "localhost:123456", "a b", "a..b", ".a", ":80", ":",
		"a/b", "a@b", "a\x00b", "é.localhost", strings.Repeat("a", 64) + ".localhost",
		strings.Repeat("a.", 127) + "localhost", "evil.com\r\nX: y", "local%68ost",
	} {
		if name, ok := parseHost(h); ok {
			t.Errorf("parseHost(%q) = %q, want rejected", h, name)
		}
	}
}

func TestParseHost(t *testing.T) {
	for h, want := range map[string]string{
		"":                    "",
		"localhost":           "localhost",
		"LocalHost:4566":      "localhost",
		"localhost.:4566":     "localhost",
		"localhost:":          "localhost",
		"[::1]:4566":          "[::1]",
		"[::1]:":              "[::1]",
		"[::1]":               "[::1]",
		"127.0.0.1:4566":      "127.0.0.1",
		"my_host.lan":         "my_host.lan",
		"b.s3.localhost:4566": "b.s3.localhost",
	} {
		if got, ok := parseHost(h); !ok || got != want {
			t.Errorf("parseHost(%q) = %q, %v; want %q", h, got, ok, want)
		}
	}
}

func TestHostPolicy(t *testing.T) {
	loopback := []string{
		"", "localhost", "localhost:4566", "LOCALHOST:4566", "127.0.0.1:4566", "127.1.2.3", "[::1]:4566",
		"0.0.0.0:4566", "b.s3.localhost:4566", "abc123.execute-api.localhost:4566",
		"localhost.localstack.cloud:4566", "b.s3.localhost.localstack.cloud:4566",
		"abc123.execute-api.localhost.localstack.cloud",
	}
	foreign := []string{
		"evil.example", "evil.example:4566", "localhost.evil.example", "127.0.0.1.nip.io:4566",
		"localstack.cloud", "evil-localhost", "[2001:db8::1]:4566", "10.0.0.1:4566", "[::1", "localpipe",
	}
	for _, tc := range []struct {
		listen   string
		allowed  []string
		accepted []string
		refused  []string
	}{
		{"127.0.0.1:4566", nil, loopback, foreign},
		{"localhost:4566", nil, loopback, foreign},
		{"[::1]:0", nil, loopback, foreign},
		{"127.0.0.1:4566", []string{"localpipe", "*.dev.lan"},
			append(loopback, "localpipe:4566", "b.s3.localpipe", "x.dev.lan"), foreign[:len(foreign)-1]},
		{"0.0.0.0:4566", nil, append(loopback, foreign...), nil},
		{":4566", nil, append(loopback, foreign...), nil},
		{"0.0.0.0:4566", []string{"localpipe"}, append(loopback, "localpipe:4566"), foreign[:len(foreign)-1]},
	} {
		p := newHostPolicy(tc.listen, tc.allowed)
		for _, h := range tc.accepted {
			if !p.allows(h) {
				t.Errorf("listen %s, allowed %v: Host %q refused, want accepted", tc.listen, tc.allowed, h)
			}
		}
		for _, h := range tc.refused {
			if p.allows(h) {
				t.Errorf("listen %s, allowed %v: Host %q accepted, want refused", tc.listen, tc.allowed, h)
			}
		}
	}
}

// FuzzParseHost: whatever a client sends, parsing does not panic, and what it accepts is a
// normal form that parses to itself.
func FuzzParseHost(f *testing.F) {
	for _, s := range []string{"localhost:4566", "[::1]:4566", "b.s3.localhost", "127.0.0.1", "[::1", "a..b", "x:99999", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		name, ok := parseHost(h)
		if !ok {
			return
		}
		again, ok2 := parseHost(name)
		if !ok2 || again != name {
			t.Fatalf("parseHost(%q) = %q, which parses to %q, %v", h, name, again, ok2)
		}
		if name != strings.ToLower(name) || strings.ContainsAny(name, " /\\\x00\r\n@%") {
			t.Fatalf("parseHost(%q) = %q, not a normal host name", h, name)
		}
	})
}
