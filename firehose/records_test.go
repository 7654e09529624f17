package firehose

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"reflect"
	"testing"
)

// protoBytes appends field as a length-delimited protobuf field.
func protoBytes(b []byte, field int, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(field<<3|2))
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

func protoVarint(b []byte, field int, v uint64) []byte {
	b = binary.AppendUvarint(b, uint64(field<<3))
	return binary.AppendUvarint(b, v)
}

// kplAggregate builds a KPL aggregated record the way the KPL does: magic, AggregatedRecord,
// MD5 of the AggregatedRecord.
func kplAggregate(keys []string, records [][]byte, tags bool) []byte {
	var body []byte
	for _, k := range keys {
		body = protoBytes(body, 1, []byte(k))
	}
	body = protoBytes(body, 2, []byte("12345"))
	for i, r := range records {
		var rec []byte
		rec = protoVarint(rec, 1, uint64(i%len(keys)))
		if i%2 == 1 {
			rec = protoVarint(rec, 2, 0)
		}
		rec = protoBytes(rec, 3, r)
		if tags {
			rec = protoBytes(rec, 4, protoBytes(nil, 1, []byte("tag")))
		}
		body = protoBytes(body, 3, rec)
	}
	sum := md5.Sum(body)
	out := append(append([]byte(nil), kplMagic...), body...)
	return append(out, sum[:]...)
}

func TestDeaggregateKPL(t *testing.T) {
	want := [][]byte{[]byte("one"), []byte(""), []byte(`{"n":3}`), bytes.Repeat([]byte("x"), 300)}
	agg := kplAggregate([]string{"pk1", "pk2"}, want, true)
	got, ok := deaggregateKPL(agg)
	if !ok || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q %v", got, ok)
	}
	bad := func(name string, b []byte) {
		t.Helper()
		if recs, ok := deaggregateKPL(b); ok {
			t.Errorf("%s: de-aggregated into %q", name, recs)
		}
	}
	bad("plain record", []byte(`{"a":1}`))
	bad("magic only", kplMagic)
	flipped := append([]byte(nil), agg...)
	flipped[len(kplMagic)+3] ^= 1
	bad("md5 mismatch", flipped)
	// A well-formed MD5 over a broken protobuf.
	for name, body := range map[string][]byte{
		"truncated field":     {0x1a, 0x05, 0x08},
		"bad wire type":       {0x1f},
		"field zero":          {0x02, 0x00},
		"record without data": protoBytes(protoBytes(nil, 1, []byte("k")), 3, protoVarint(nil, 1, 0)),
		"key index past table": protoBytes(protoBytes(nil, 1, []byte("k")), 3,
			protoBytes(protoVarint(nil, 1, 7), 3, []byte("d"))),
		"overlong varint":   {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
		"records as varint": {0x18, 0x01},
	} {
		sum := md5.Sum(body)
		bad(name, append(append(append([]byte(nil), kplMagic...), body...), sum[:]...))
	}
}

func TestSplitters(t *testing.T) {
	got, ok := splitJSON([]byte(`{"a":1}{"a":2}` + "\n" + ` {"b":[1,2]} `))
	if !ok || !reflect.DeepEqual(got, [][]byte{[]byte(`{"a":1}`), []byte(`{"a":2}`), []byte(`{"b":[1,2]}`)}) {
		t.Errorf("json: %q %v", got, ok)
	}
	for _, bad := range []string{`{"a":1}{"a"`, `not json`, ``, `{"a":1} x`} {
		if got, ok := splitJSON([]byte(bad)); ok {
			t.Errorf("json %q split into %q", bad, got)
		}
	}
	if _, ok := splitJSON(bytes.Repeat([]byte(`{}`), maxSubRecords+1)); ok {
		t.Error("more than 500 JSON sub-records were split")
	}
	got, ok = splitDelimited([]byte("a####b########c####"), []byte("####"))
	if !ok || !reflect.DeepEqual(got, [][]byte{[]byte("a"), []byte("b"), []byte("c")}) {
		t.Errorf("delimited: %q %v", got, ok)
	}
	if string(subDelimiter("IyMjIw==")) != "####" || string(subDelimiter("####")) != "####" {
		t.Error("sub-record delimiter decoding")
	}
	s := newSplitter(true, &spec{SubRecordType: "JSON"})
	agg := kplAggregate([]string{"k"}, [][]byte{[]byte(`{"a":1}{"a":2}`), []byte(`{"a":3}`)}, false)
	if got := s.split(agg); len(got) != 3 || string(got[2]) != `{"a":3}` {
		t.Errorf("KPL then JSON: %q", got)
	}
	if got := newSplitter(false, &spec{}).split(agg); len(got) != 1 {
		t.Errorf("KPL from a DirectPut source was de-aggregated: %q", got)
	}
}

func FuzzDeaggregateKPL(f *testing.F) {
	f.Add(kplAggregate([]string{"a", "b"}, [][]byte{[]byte("x"), []byte("yy")}, true))
	f.Add(kplAggregate([]string{"a"}, nil, false))
	f.Add([]byte(`{"plain":true}`))
	f.Add(append(append([]byte(nil), kplMagic...), make([]byte, 16)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, ok := deaggregateKPL(b)
		if !ok {
			return
		}
		total := 0
		for _, r := range recs {
			total += len(r)
		}
		if total > len(b) {
			t.Fatalf("%d bytes of records from %d", total, len(b))
		}
		// The body with a fresh checksum must decode the same way.
		body := b[len(kplMagic) : len(b)-md5.Size]
		sum := md5.Sum(body)
		again, ok := deaggregateKPL(append(append(append([]byte(nil), kplMagic...), body...), sum[:]...))
		if !ok || len(again) != len(recs) {
			t.Fatal("re-checksummed aggregate decoded differently")
		}
	})
}

func FuzzSplitJSON(f *testing.F) {
	for _, s := range []string{`{"a":1}{"b":2}`, `{} {}`, `[1][2]`, `{"a":`, `"s""t"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		parts, ok := splitJSON(b)
		if ok && len(parts) == 0 {
			t.Fatal("ok with no parts")
		}
		splitDelimited(b, []byte("}{"))
	})
}
