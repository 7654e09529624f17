package app

import (
	"strings"
	"testing"
)

func TestParseResourcesBadInputs(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"typo in a top-level key", "stream:\n  - StreamName: a\n", "unknown field"},
		{"not a map", "- a\n- b\n", "cannot unmarshal"},
		{"streams not a list", "streams: a\n", "cannot unmarshal"},
		{"broken yaml", "streams: [\n", "yaml"},
		{"tab indentation", "streams:\n\t- a\n", "yaml"},
	} {
		if _, err := ParseResources([]byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
	for _, ok := range []string{"", "{}", "streams: []\n", `{"streams":[{"StreamName":"a"}]}`} {
		if _, err := ParseResources([]byte(ok)); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	r, _ := ParseResources([]byte("streams:\n  - StreamName: a\n    ShardCount: 2\n"))
	if len(r.Streams) != 1 || string(r.Streams[0]) != `{"ShardCount":2,"StreamName":"a"}` {
		t.Fatalf("%s", r.Streams)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, mod := range []func(*Config){
		func(c *Config) { c.Listen = "4566" },
		func(c *Config) { c.Fsync = "never" },
		func(c *Config) { c.Fsync = "-1s" },
		func(c *Config) { c.LogLevel = "chatty" },
		func(c *Config) { c.DataDir = "" },
		func(c *Config) { c.StreamCreateDelay = -1 },
	} {
		c := DefaultConfig()
		mod(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("accepted %+v", c)
		}
	}
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func FuzzParseResources(f *testing.F) {
	f.Add("streams:\n  - StreamName: a\n")
	f.Add(`{"buckets":[{"Bucket":"b"}]}`)
	f.Add("&a [*a, *a]")
	f.Fuzz(func(t *testing.T, s string) {
		ParseResources([]byte(s))
	})
}
