package kinesisapi

import (
	"strings"
	"testing"
)

var streamNameSeeds = []string{"", "a", "bench", "my-stream_1.0", strings.Repeat("a", 128), strings.Repeat("a", 129),
	"a b", "a/b", "é", "a\x00", "a\n", ":", "arn:aws:kinesis:us-east-1:000000000000:stream/x", "\xff"}

// TestPlainStreamName: the byte-by-byte reading of a stream name accepts exactly what the
// model's pattern and length limits accept.
func TestPlainStreamName(t *testing.T) {
	for _, s := range streamNameSeeds {
		checkPlainStreamName(t, s)
	}
}

func FuzzPlainStreamName(f *testing.F) {
	for _, s := range streamNameSeeds {
		f.Add(s)
	}
	f.Fuzz(checkPlainStreamName)
}

func checkPlainStreamName(t *testing.T, s string) {
	var v validator
	v.Str("streamName", &s, 1, 128, streamNameRE, streamNamePattern)
	if got, want := plainStreamName(s), v.Err() == nil; got != want {
		t.Errorf("%q: plain %v, full check passes %v", s, got, want)
	}
}
