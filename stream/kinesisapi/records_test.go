package kinesisapi

import (
	"strings"
	"testing"
)

func TestAppendShardName(t *testing.T) {
	for _, i := range []int{0, 1, 9, 10, 4095, 999_999_999_999, 1_000_000_000_000, 1 << 40} {
		if got, want := string(appendShardName([]byte("x"), i)), "x"+shardName(i); got != want {
			t.Errorf("appendShardName(%d) = %q, want %q", i, got, want)
		}
	}
}

// TestPlainlyValid holds the shortcut that skips a PutRecords entry's model checks to
// entries those checks pass, at the edges of each bound.
func TestPlainlyValid(t *testing.T) {
	str := func(s string) *string { return &s }
	hk := "1"
	var cases []putRecordsEntry
	for _, key := range []*string{nil, str(""), str("k"), str(strings.Repeat("k", 256)), str(strings.Repeat("k", 257)),
		str(strings.Repeat("é", 128)), str(strings.Repeat("é", 129)), str(strings.Repeat("😀", 64)), str(strings.Repeat("😀", 65)), str("\xff")} {
		for _, data := range [][]byte{nil, {}, make([]byte, maxDataModel), make([]byte, maxDataModel+1)} {
			cases = append(cases, putRecordsEntry{PartitionKey: key, Data: data}, putRecordsEntry{PartitionKey: key, Data: data, ExplicitHashKey: &hk})
		}
	}
	shortcuts := 0
	for i := range cases {
		e := &cases[i]
		if !plainlyValid(e) {
			continue
		}
		shortcuts++
		var v validator
		v.putRecordsEntry(1, e)
		if err := v.Err(); err != nil {
			t.Errorf("entry %d (key %d bytes, data %d bytes) skipped its checks, which say %s", i, len(*e.PartitionKey), len(e.Data), err.Message)
		}
	}
	if shortcuts == 0 {
		t.Fatal("no entry took the shortcut")
	}
}
