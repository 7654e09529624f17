package firehose

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestPartitionQueryEval(t *testing.T) {
	rec := `{"type":{"device":"mobile","event":"click"},"customer_id":"1234567890","ts":1565382027,
		"ok":true,"items":[{"sku":"a"},{"sku":"b"}],"odd key":"v","f":1.50}`
	for _, c := range []struct {
		query string
		want  map[string]string
	}{
		{"{customer_id: .customer_id, device: .type.device}", map[string]string{"customer_id": "1234567890", "device": "mobile"}},
		{`{customer_id}`, map[string]string{"customer_id": "1234567890"}},
		{` { "k" : ."odd key" , n: .ts, b: .ok, f: .f } `, map[string]string{"k": "v", "n": "1565382027", "b": "true", "f": "1.50"}},
		{`{first: .items[0].sku, last: .items[-1].sku, q: .["type"]["event"], q2: .type."event"}`,
			map[string]string{"first": "a", "last": "b", "q": "click", "q2": "click"}},
		{"{s: .items.[1].sku}", map[string]string{"s": "b"}},
		// Keys that walk the same objects and arrays (decoded once for all of them).
		{"{a: .items[0].sku, b: .items[1].sku, c: .type.device, d: .type.event, e: .items[0].sku, f: .items[-2].sku}",
			map[string]string{"a": "a", "b": "b", "c": "mobile", "d": "click", "e": "a", "f": "a"}},
	} {
		q, err := parsePartitionQuery(c.query)
		if err != nil {
			t.Errorf("%s: %v", c.query, err)
			continue
		}
		got, err := q.eval([]byte(rec))
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s = %v %v, want %v", c.query, got, err, c.want)
		}
	}
}

func TestPartitionQueryRecordFailures(t *testing.T) {
	q, err := parsePartitionQuery("{a: .a, b: .x.y}")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ rec, want string }{
		{"not json", "Non JSON record provided"},
		{`{"a":"1","x":{"y":"2"}}{"a":"3"}`, "Non JSON record provided"},
		{`{"a":"1"`, "Non JSON record provided"},
		{`{"a":"1"}`, "partitionKeys values must not be null or empty"},
		{`{"a":"","x":{"y":"2"}}`, "partitionKeys values must not be null or empty"},
		{`{"a":"1","x":{"y":null}}`, "partitionKeys values must not be null or empty"},
		{`{"a":"1","x":[1]}`, `Cannot index array with "y"`},
		{`{"a":"1","x":"s"}`, `Cannot index string with "y"`},
		{`{"a":{"o":1},"x":{"y":"2"}}`, `partition key "a" is a JSON object`},
		{`[1,2]`, `Cannot index array with "a"`},
	} {
		if _, err := q.eval([]byte(c.rec)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.rec, err, c.want)
		}
	}
	q, _ = parsePartitionQuery("{a: .a[0]}")
	if _, err := q.eval([]byte(`{"a":{"b":1}}`)); err == nil || !strings.Contains(err.Error(), "Cannot index object with number") {
		t.Errorf("index into object: %v", err)
	}
}

func TestPartitionQueryBad(t *testing.T) {
	for _, c := range []struct{ query, want string }{
		{"", "must be an object"},
		{".a", "must be an object"},
		{"{}", "defines no partition keys"},
		{"{a: .a", "expected ',' or '}'"},
		{"{a .a}", "expected ',' or '}'"},
		{`{"a" .a}`, "expected ':'"},
		{"{a: a}", "must be a path starting with '.'"},
		{"{a: .a | tostring}", "pipes and jq functions are not supported"},
		{"{a: .a} | .a", "pipes and jq functions are not supported"},
		{"{a: .a} x", "unexpected text"},
		{"{a: .ts| strftime(\"%Y\")}", "pipes and jq functions are not supported"},
		{"{a: .a, a: .b}", "defined twice"},
		{"{a: .a.}", "expected a field name after '.'"},
		{"{a: .a[}", "expected an array index"},
		{"{a: .a[1}", "expected ']'"},
		{"{a: .a[99999999999]}", "expected an array index"},
		{`{a: ."unterminated}`, "unterminated string literal"},
		{`{"\(x)": .a}`, "string interpolation"},
		{`{"\q": .a}`, "invalid string literal"},
		{"{a: .a?}", "? operator"},
		{"{1: .a}", "expected a key name"},
		{"{a: .a,, b: .b}", "expected a key name"},
		{"{a: .a,}", "expected a key name"},
		{"{" + strings.Repeat("a", 6000) + "}", "longer than 5120"},
	} {
		_, err := parsePartitionQuery(c.query)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%.40q: %v, want %q", c.query, err, c.want)
		}
	}
}

func TestCheckPartitionQuery(t *testing.T) {
	if err := CheckPartitionQuery("{a: .a}", "x=!{partitionKeyFromQuery:a}/"); err != nil {
		t.Error(err)
	}
	if err := CheckPartitionQuery("{a: .a}", "x=!{partitionKeyFromQuery:b}/"); err == nil || !strings.Contains(err.Error(), `does not define "b"`) {
		t.Errorf("undefined key: %v", err)
	}
	if err := CheckPartitionQuery("{a: .a | x}", "x/"); err == nil {
		t.Error("bad query accepted")
	}
}

func FuzzPartitionQuery(f *testing.F) {
	for _, s := range []string{"{a: .a}", `{"k": ."odd key", n: .x[0].y, m: .["q"]}`, "{a}", "{a: .a | f}", `{"\(": .}`, "{a: .[-1]}", "{", "{a: .a.", "{a: ."} {
		f.Add(s, `{"a":"1","x":[{"y":2}],"q":true,"odd key":"v"}`)
	}
	f.Add("{a: .a}", "not json")
	f.Add("{a: .a, b: .b.c, d: .d[1]}", ` {"a":1e3,"b":{"c":"\u00e9"},"d":[null,false],"a":"dup"} `)
	f.Add("{a: .a}", `{"a":"1"} {"a":2}`)
	f.Fuzz(func(t *testing.T, query, record string) {
		q, err := parsePartitionQuery(query)
		if err != nil {
			return
		}
		keys, err := q.eval([]byte(record))
		if err == nil && len(keys) != len(q.entries) {
			t.Fatalf("%d keys for %d entries", len(keys), len(q.entries))
		}
		ref, rerr := evalReference(q, []byte(record))
		if (err == nil) != (rerr == nil) || err == nil && !reflect.DeepEqual(keys, ref) {
			t.Fatalf("eval = %v %v, reference = %v %v", keys, err, ref, rerr)
		}
	})
}

// evalReference is the query evaluated the obvious way, on the fully decoded record, for the
// fuzz target to compare eval's level-by-level decoding against.
func evalReference(q *partitionQuery, record []byte) (map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader(record))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, errNonJSON
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errNonJSON
	}
	out := map[string]string{}
	for _, e := range q.entries {
		v := doc
		for _, s := range e.path {
			switch cur := v.(type) {
			case nil:
			case map[string]any:
				if s.isIndex {
					return nil, errors.New("index object")
				}
				v = cur[s.field]
			case []any:
				if !s.isIndex {
					return nil, errors.New("field of array")
				}
				i := s.index
				if i < 0 {
					i += len(cur)
				}
				v = nil
				if i >= 0 && i < len(cur) {
					v = cur[i]
				}
			default:
				return nil, errors.New("index scalar")
			}
		}
		switch x := v.(type) {
		case string:
			if x == "" {
				return nil, errNullKey
			}
			out[e.name] = x
		case json.Number:
			out[e.name] = x.String()
		case bool:
			out[e.name] = strconv.FormatBool(x)
		case nil:
			return nil, errNullKey
		default:
			return nil, errors.New("not a scalar")
		}
	}
	return out, nil
}

// BenchmarkPartitionQueryManyKeys evaluates a query of 300 keys that all walk one object of a
// 1 MB record: the object is decoded once, not once per key (which took ~50 times as long).
func BenchmarkPartitionQueryManyKeys(b *testing.B) {
	var q strings.Builder
	q.WriteString("{")
	for i := range 300 {
		if i > 0 {
			q.WriteString(",")
		}
		q.WriteString("k" + strconv.Itoa(i) + ":.x.y")
	}
	q.WriteString("}")
	pq, err := parsePartitionQuery(q.String())
	if err != nil {
		b.Fatal(err)
	}
	rec := []byte(`{"x":{"y":"v","pad":"` + strings.Repeat("a", 1<<20) + `"}}`)
	b.SetBytes(int64(len(rec)))
	for b.Loop() {
		if _, err := pq.eval(rec); err != nil {
			b.Fatal(err)
		}
	}
}
