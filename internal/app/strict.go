package app

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/localpipe/localpipe/firehose/firehoseapi"
	"github.com/localpipe/localpipe/internal/functions"
	"github.com/localpipe/localpipe/stream/kinesisapi"
)

// bucketConfig is one entry of the config file's buckets (when not a bare name): S3
// CreateBucket's input.
type bucketConfig struct {
	Bucket                    string
	CreateBucketConfiguration struct{ LocationConstraint string }
}

// checkResources holds every entry to the type it is decoded into. The wire layers ignore
// members they do not know, as AWS does, so `Shards: 2` on a stream would otherwise create
// an on-demand stream without a word; here it fails with the member's path and a guess at
// what was meant. Names match exactly: the wire is case-sensitive, so a miscased member is
// as lost as a misspelled one.
func checkResources(r *Resources) error {
	for _, sec := range []struct {
		name    string
		entries []json.RawMessage
		shape   any
	}{
		{"streams", r.Streams, kinesisapi.RequestShape("CreateStream")},
		{"buckets", r.Buckets, &bucketConfig{}},
		{"deliveryStreams", r.DeliveryStreams, firehoseapi.RequestShape("CreateDeliveryStream")},
		{"restApis", r.RestApis, &restAPIConfig{}},
		{"apiKeys", r.APIKeys, &apiKeyConfig{}},
		{"functions", r.Functions, &functions.Spec{}},
	} {
		for i, raw := range sec.entries {
			var v any
			dec := json.NewDecoder(strings.NewReader(string(raw)))
			dec.UseNumber()
			if err := dec.Decode(&v); err != nil {
				return fmt.Errorf("%s[%d]: %w", sec.name, i, err)
			}
			if _, bare := v.(string); bare && sec.name == "buckets" {
				continue // `buckets: [my-bucket]`
			}
			if err := checkFields(fmt.Sprintf("%s[%d]", sec.name, i), v, reflect.TypeOf(sec.shape)); err != nil {
				return err
			}
		}
	}
	return nil
}

var rawMessageType = reflect.TypeFor[json.RawMessage]()

// checkFields reports the first member of v (a value decoded from JSON with UseNumber) that
// t has no field for, or whose JSON type cannot fill the field's.
func checkFields(path string, v any, t reflect.Type) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if v == nil || t == rawMessageType || t.Kind() == reflect.Interface {
		return nil
	}
	mismatch := func(want string) error {
		return fmt.Errorf("%s: want %s, got %s", path, want, jsonKind(v))
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return mismatch("an object")
		}
		fields := jsonFields(t)
		if len(fields) == 0 {
			return nil // a member localpipe only detects (another destination type)
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ft, ok := fields[k]
			if !ok {
				return fmt.Errorf("%s.%s: unknown field%s", path, k, suggest(k, t))
			}
			if err := checkFields(path+"."+k, m[k], ft); err != nil {
				return err
			}
		}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			if _, ok := v.(string); !ok {
				return mismatch("a base64 string")
			}
			return nil
		}
		l, ok := v.([]any)
		if !ok {
			return mismatch("a list")
		}
		for i, e := range l {
			if err := checkFields(fmt.Sprintf("%s[%d]", path, i), e, t.Elem()); err != nil {
				return err
			}
		}
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return mismatch("an object")
		}
		for k, e := range m {
			if err := checkFields(path+"."+k, e, t.Elem()); err != nil {
				return err
			}
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			return mismatch("a string")
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return mismatch("true or false")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := v.(json.Number)
		if !ok {
			return mismatch("a number")
		}
		if _, err := n.Int64(); err != nil {
			return fmt.Errorf("%s: want a whole number, got %s", path, n)
		}
	case reflect.Float32, reflect.Float64:
		if _, ok := v.(json.Number); !ok {
			return mismatch("a number")
		}
	}
	return nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	}
	return "null"
}

// jsonFields maps the member names encoding/json would fill in t to their types, embedded
// structs' members included.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			for k, ft := range jsonFields(f.Type) {
				out[k] = ft
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

// suggest guesses the member meant by the unknown name k: one of t's own, else one nested
// deeper (Compression: GZIP on a delivery stream belongs in its destination).
func suggest(k string, t reflect.Type) string {
	var own []string
	for name := range jsonFields(t) {
		if resembles(k, name) {
			own = append(own, name)
		}
	}
	if len(own) == 0 {
		own = nested(k, t, "", 3)
	}
	if len(own) == 0 {
		return ""
	}
	sort.Strings(own)
	if len(own) > 3 {
		own = own[:3]
	}
	return "; did you mean " + strings.Join(own, " or ") + "?"
}

func nested(k string, t reflect.Type, prefix string, depth int) []string {
	if depth == 0 {
		return nil
	}
	var out []string
	for name, ft := range jsonFields(t) {
		for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		if ft.Kind() != reflect.Struct || prefix == "" && strings.EqualFold(name, k) {
			continue
		}
		for sub := range jsonFields(ft) {
			if resembles(k, sub) {
				out = append(out, prefix+name+"."+sub)
			}
		}
		out = append(out, nested(k, ft, prefix+name+".", depth-1)...)
	}
	return out
}

// resembles says whether a user who wrote k plausibly meant name: the same but for case, a
// shared start of four letters or more (Shards, ShardCount), the end of it (Mode,
// StreamMode), or one or two letters off.
func resembles(k, name string) bool {
	a, b := strings.ToLower(k), strings.ToLower(name)
	if a == b || len(a) >= 4 && strings.HasSuffix(b, a) {
		return true
	}
	p := 0
	for p < len(a) && p < len(b) && a[p] == b[p] {
		p++
	}
	if p >= 4 && p >= min(len(a), len(b))-1 {
		return true
	}
	return editDistance(a, b) <= 2
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 3 // long names are not typos of short ones; and the cost stays bounded
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
