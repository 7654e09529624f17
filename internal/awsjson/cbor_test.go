package awsjson

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// testCBOR is a table shaped like Kinesis's: blobs and timestamps at the top, in lists, in
// nested structures and in map values.
var testCBOR = NewCBOR(map[string]CBOROperation{
	"Op": {
		In: map[string]CBORKind{"Data": CBORBlob, "At": CBORTimestamp, "Records.[].Data": CBORBlob,
			"Filter.Timestamp": CBORTimestamp, "ByName.{}": CBORBlob},
		Out: map[string]CBORKind{"Records.[].Data": CBORBlob, "Records.[].At": CBORTimestamp},
	},
})

func mustCBOR(t testing.TB, v any) []byte {
	t.Helper()
	b, err := cbor.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ms(n any) cbor.Tag { return cbor.Tag{Number: 1, Content: n} }

func TestCBORRequestJSON(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   any
		want string
	}{
		{"empty", map[string]any{}, `{}`},
		{"strings and numbers", map[string]any{"S": "a\"<é", "I": 7, "N": -3, "F": 1.5, "B": true, "Z": nil},
			`{"B":true,"F":1.5,"I":7,"N":-3,"S":"a\"<é","Z":null}`},
		{"blob", map[string]any{"Data": []byte("hi\x00")}, `{"Data":"aGkA"}`},
		{"blob in a list", map[string]any{"Records": []any{map[string]any{"Data": []byte{0xff}}}}, `{"Records":[{"Data":"/w=="}]}`},
		{"blob in a map", map[string]any{"ByName": map[string]any{"x": []byte("a")}}, `{"ByName":{"x":"YQ=="}}`},
		{"timestamp, integer millis", map[string]any{"At": ms(1684013726123)}, `{"At":1684013726.123}`},
		{"timestamp, whole second", map[string]any{"At": ms(1684013726000)}, `{"At":1684013726.000}`},
		{"timestamp, float millis", map[string]any{"At": ms(1684013726123.0)}, `{"At":1684013726.123}`},
		{"timestamp, fractional millis", map[string]any{"At": ms(1.5)}, `{"At":0.0015}`},
		{"timestamp, negative", map[string]any{"At": ms(-1500)}, `{"At":-1.500}`},
		{"nested timestamp", map[string]any{"Filter": map[string]any{"Timestamp": ms(2000)}}, `{"Filter":{"Timestamp":2.000}}`},
		{"untagged millis at a timestamp", map[string]any{"At": 2500}, `{"At":2.500}`},
		{"tag 1 elsewhere", map[string]any{"Other": ms(1000)}, `{"Other":1.000}`},
		{"half float", cbor.RawMessage("\xa1\x61F\xf9\x3e\x00"), `{"F":1.5}`},
		{"indefinite length", cbor.RawMessage("\xbf\x61A\x9f\x01\x02\xff\xff"), `{"A":[1,2]}`},
		{"uint64", map[string]any{"U": uint64(math.MaxUint64)}, `{"U":18446744073709551615}`},
		{"top-level list", []any{1}, `[1]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, ok := tc.in.(cbor.RawMessage)
			if !ok {
				in = mustCBOR(t, tc.in)
			}
			got, err := testCBOR.RequestJSON("Op", in)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
			if !json.Valid(got) {
				t.Fatalf("invalid JSON %s", got)
			}
		})
	}
}

// TestCBORBadInput lists CBOR bodies that have no JSON form or are not CBOR at all; each is
// refused (the Service answers SerializationException), never passed on half-read.
func TestCBORBadInput(t *testing.T) {
	for name, body := range map[string]string{
		"truncated map":        "\xa1\x61A",
		"truncated text":       "\x65abc",
		"trailing bytes":       "\xa0\x00",
		"reserved info":        "\x1c",
		"break outside":        "\xff",
		"int map key":          "\xa1\x01\x02",
		"bytes map key":        "\xa1\x41a\x01",
		"duplicate key":        "\xa2\x61a\x01\x61a\x02",
		"invalid UTF-8":        "\xa1\x61a\x62\xc3\x28",
		"NaN":                  "\xa1\x61a\xf9\x7e\x00",
		"infinity":             "\xa1\x61a\xfb\x7f\xf0\x00\x00\x00\x00\x00\x00",
		"undefined":            "\xa1\x61a\xf7",
		"simple value":         "\xa1\x61a\xf0",
		"negative overflow":    "\xa1\x61a\x3b\xff\xff\xff\xff\xff\xff\xff\xff",
		"tag 0":                "\xa1\x61a\xc0\x60",
		"bignum":               "\xa1\x61a\xc2\x41\x01",
		"tag 1 of text":        "\xa1\x61a\xc1\x61x",
		"tag 1 of NaN":         "\xa1\x61a\xc1\xf9\x7e\x00",
		"self-described":       "\xd9\xd9\xf7\xa0",
		"too deep":             strings.Repeat("\x81", 40) + "\x01",
		"huge declared length": "\x5b\xff\xff\xff\xff\xff\xff\xff\xff",
		"JSON":                 `{"A":1}`,
	} {
		if got, err := testCBOR.RequestJSON("Op", []byte(body)); err == nil {
			t.Errorf("%s: accepted as %s", name, got)
		}
	}
}

func TestCBORResponse(t *testing.T) {
	got, err := testCBOR.ResponseCBOR("Op", 200, []byte(`{"Records":[{"Data":"aGkA","At":1684013726.123,"N":3,"F":0.5}],"Big":18446744073709551615,"Neg":-2,"S":"x","B":false,"Z":null}`))
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := cbor.Unmarshal(got, &v); err != nil {
		t.Fatal(err)
	}
	rec := v["Records"].([]any)[0].(map[any]any)
	if d, ok := rec["Data"].([]byte); !ok || string(d) != "hi\x00" {
		t.Errorf("Data %#v", rec["Data"])
	}
	// Tag 1 must hold milliseconds, so the raw bytes are checked rather than a decoded time.
	if !bytes.Contains(got, []byte("\xc1\x1b\x00\x00\x01\x88\x17\x0a\x39\xab")) {
		t.Errorf("no tag 1 of 1684013726123 in % x", got)
	}
	if rec["N"] != uint64(3) || rec["F"] != 0.5 || v["Big"] != uint64(math.MaxUint64) || v["Neg"] != int64(-2) ||
		v["S"] != "x" || v["B"] != false || v["Z"] != nil {
		t.Errorf("got %#v", v)
	}
	// An error keeps its members, whatever the operation's output shape says.
	got, err = testCBOR.ResponseCBOR("Op", 400, ErrorBody("ResourceNotFoundException", "Stream s not found"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "\xa2\x66__type\x78\x19ResourceNotFoundException\x67message\x72Stream s not found" {
		t.Errorf("error % x", got)
	}
}

// TestCBORRoundTrip sends an answer-shaped document through both directions: what the
// handler writes comes back to the JSON it was.
func TestCBORRoundTrip(t *testing.T) {
	c := NewCBOR(map[string]CBOROperation{"Op": {
		In:  map[string]CBORKind{"Records.[].Data": CBORBlob, "Records.[].At": CBORTimestamp},
		Out: map[string]CBORKind{"Records.[].Data": CBORBlob, "Records.[].At": CBORTimestamp},
	}})
	in := `{"Records":[{"At":1684013726.123,"Data":"aGkA","N":3}]}`
	b, err := c.ResponseCBOR("Op", 200, []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.RequestJSON("Op", b)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != in {
		t.Fatalf("got %s, want %s", out, in)
	}
}

// TestServiceCBOR runs the Service's prelude with CBOR: the answer and errors in CBOR, a
// malformed body a SerializationException.
func TestServiceCBOR(t *testing.T) {
	var seen []byte
	s := &Service{
		TargetPrefix: "Test_1.",
		Known:        func(a string) bool { return a == "Op" },
		MaxBody:      1 << 20,
		CBOR:         testCBOR,
		Invoke: func(_ context.Context, action string, body []byte, _ string) (int, []byte) {
			seen = body
			if bytes.Contains(body, []byte("fail")) {
				return 400, ErrorBody("ValidationException", "bad")
			}
			return 200, []byte(`{"Records":[{"Data":"aGkA"}]}`)
		},
	}
	post := func(target, body string, signed bool) (int, string, map[string]any) {
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		r.Header.Set("Content-Type", CBORContentType)
		r.Header.Set("X-Amz-Target", target)
		if signed {
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=x")
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		var m map[string]any
		if err := cbor.Unmarshal(w.Body.Bytes(), &m); err != nil {
			t.Fatalf("%s %q: answer % x is not CBOR: %v", target, body, w.Body.Bytes(), err)
		}
		if ct := w.Header().Get("Content-Type"); ct != CBORContentType {
			t.Fatalf("content type %q", ct)
		}
		return w.Code, "", m
	}
	code, _, m := post("Test_1.Op", string(mustCBOR(t, map[string]any{"Data": []byte("x")})), true)
	if code != 200 || string(seen) != `{"Data":"eA=="}` {
		t.Fatalf("%d %v, handler saw %s", code, m, seen)
	}
	if d := m["Records"].([]any)[0].(map[any]any)["Data"]; !bytes.Equal(d.([]byte), []byte("hi\x00")) {
		t.Fatalf("Data %v", d)
	}
	for _, tc := range []struct {
		target, body string
		signed       bool
		typ          string
	}{
		{"Test_1.Op", string(mustCBOR(t, map[string]any{"S": "fail"})), true, "ValidationException"},
		{"Test_1.Op", "\xa1\x61A", true, "SerializationException"},
		{"Test_1.Op", "", true, "SerializationException"},
		{"Test_1.Nope", "\xa0", true, "UnknownOperationException"},
		{"Test_1.Op", "\xa0", false, "MissingAuthenticationTokenException"},
	} {
		code, _, m := post(tc.target, tc.body, tc.signed)
		if code != http.StatusBadRequest || m["__type"] != tc.typ {
			t.Errorf("%s % x: %d %v, want %s", tc.target, tc.body, code, m, tc.typ)
		}
	}
}

// FuzzCBORRequest feeds arbitrary bodies to the request transcoder: it never panics, and what
// it accepts is valid JSON that survives the way back to CBOR.
func FuzzCBORRequest(f *testing.F) {
	for _, s := range []string{"\xa0", "\xa1\x64Data\x42hi", "\xa1\x62At\xc1\x1b\x00\x00\x01\x88\x17\x0a\x39\xab",
		"\xa1\x67Records\x81\xa1\x64Data\x40", "\xbf\x61A\x9f\x01\xf9\x3e\x00\xff\xff", "\xa2\x61a\x01\x61a\x02",
		"\xa1\x61a\xc1\xfb\x41\xd8\x7e\x8a\x53\x87\x33\x33", strings.Repeat("\x81", 40) + "\x01", "\x5b\xff\xff\xff\xff\xff\xff\xff\xff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		out, err := testCBOR.RequestJSON("Op", body)
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("% x gave invalid JSON %s", body, out)
		}
		if _, err := testCBOR.ResponseCBOR("Op", 400, out); err != nil {
			t.Fatalf("% x: JSON %s does not go back to CBOR: %v", body, out, err)
		}
	})
}
