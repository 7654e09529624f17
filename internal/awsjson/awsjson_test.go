package awsjson

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestRegion(t *testing.T) {
	for auth, want := range map[string]string{
		"": DefaultRegion,
		"AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-3/kinesis/aws4_request, SignedHeaders=host, Signature=x": "eu-west-3",
		"AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-3/kinesis/aws4_request,SignedHeaders=host":               "eu-west-3",
		"AWS4-HMAC-SHA256 Credential=AKID/20260101//kinesis/aws4_request":                                           DefaultRegion,
		"AWS4-HMAC-SHA256 Credential=garbage":                                                                       DefaultRegion,
		"Bearer x":                                                                                                  DefaultRegion,
		"Credential=":                                                                                               DefaultRegion,
	} {
		r, _ := http.NewRequest("POST", "/", nil)
		r.Header.Set("Authorization", auth)
		if got := Region(r); got != want {
			t.Errorf("%q: %q, want %q", auth, got, want)
		}
	}
	r, _ := http.NewRequest("POST", "/?X-Amz-Credential=AKID%2F20260101%2Fsa-east-1%2Fkinesis%2Faws4_request", nil)
	if got := Region(r); got != "sa-east-1" {
		t.Errorf("presigned: %q", got)
	}
}

type embedded struct {
	Name *string `json:"StreamName"`
}

type decodeTarget struct {
	embedded
	S    *string           `json:"S"`
	N    *int64            `json:"N"`
	I    *int32            `json:"I"`
	B    []byte            `json:"B"`
	T    *float64          `json:"T"`
	Bool *bool             `json:"Bool"`
	L    []string          `json:"L"`
	M    map[string]string `json:"M"`
	St   *struct {
		X *string `json:"X"`
	} `json:"St"`
	Items []struct {
		K *string `json:"K"`
	} `json:"Items"`
}

func TestDecode(t *testing.T) {
	var v decodeTarget
	if err := Decode([]byte(` {"StreamName":"n","S":"x","N":3,"I":2.9,"B":"aGk=","T":1700000000.5,"Bool":"yes","L":["a",null],"M":{"k":"v","z":null},
		"St":{"X":"y"},"Items":[{"K":"1"},null],"Other":[1,{"deep":true}],"s":"case-insensitive twin","n":99} `), &v); err != nil {
		t.Fatal(err)
	}
	if *v.Name != "n" || *v.S != "x" || *v.N != 3 || *v.I != 2 || string(v.B) != "hi" || *v.T != 1700000000.5 || !*v.Bool ||
		len(v.L) != 2 || v.M["k"] != "v" || len(v.M) != 1 || *v.St.X != "y" || len(v.Items) != 2 || *v.Items[0].K != "1" || v.Items[1].K != nil {
		t.Fatalf("%+v", v)
	}
	// Nulls are absent; negative fractions floor; out-of-range integers saturate.
	v = decodeTarget{}
	if err := Decode([]byte(`{"S":null,"N":-1.5,"I":1e12,"B":""}`), &v); err != nil || v.S != nil || *v.N != -2 || *v.I != 1<<31-1 || v.B == nil {
		t.Fatalf("%v %+v", err, v)
	}
	// Integers saturate at their type's bound even where a float64 overflows, and an
	// integer member (a Java Integer) at 32 bits, so 64-bit arithmetic on it cannot overflow.
	for body, want := range map[string][2]int64{
		`{"N":1e400,"I":1e400}`:                                {math.MaxInt64, math.MaxInt32},
		`{"N":-1e400,"I":-1e400}`:                              {math.MinInt64, math.MinInt32},
		`{"N":9223372036854775808,"I":9223372036854775807}`:    {math.MaxInt64, math.MaxInt32},
		`{"N":-9223372036854775809,"I":-9223372036854775808}`:  {math.MinInt64, math.MinInt32},
		`{"N":123456789012345678901234567890,"I":-2147483649}`: {math.MaxInt64, math.MinInt32},
	} {
		v = decodeTarget{}
		if err := Decode([]byte(body), &v); err != nil || *v.N != want[0] || int64(*v.I) != want[1] {
			t.Errorf("%s: %v N=%d I=%d, want %v", body, err, *v.N, *v.I, want)
		}
	}
}

// TestDecodeEscapes: values are read from the body's own bytes where they can be, and
// through JSON's unescaping where they must.
func TestDecodeEscapes(t *testing.T) {
	var v decodeTarget
	if err := Decode([]byte(`{"B":"aGk\u003d","L":["a\"b\u00e9","caf`+"\xe9"+`"]}`), &v); err != nil {
		t.Fatal(err)
	}
	if string(v.B) != "hi" || len(v.L) != 2 || v.L[0] != "a\"bé" || v.L[1] != "caf\ufffd" {
		t.Errorf("got B %q, L %q", v.B, v.L)
	}
}

func TestDecodeErrors(t *testing.T) {
	const num = "class com.amazon.coral.value.json.numbers.TruncatingBigNumber"
	long := strings.Repeat("QUJD", 100)
	for _, tc := range []struct{ body, msg string }{
		{``, ""},
		{`   `, ""},
		{`null`, ""},
		{`"s"`, ""},
		{`5`, ""},
		{`[]`, "Start of list found where not expected"},
		{`{`, ""},
		{`{"S":"x",}`, ""},
		{`{} x`, ""},
		{`{}{}`, ""},
		{`{"S":1}`, num + " can not be converted to an String"},
		{`{"S":1.5}`, num + " can not be converted to an String"},
		{`{"S":true}`, "class java.lang.Boolean can not be converted to an String"},
		{`{"S":{}}`, "Start of structure or map found where not expected."},
		{`{"S":[]}`, "Start of list found where not expected"},
		{`{"I":"1"}`, "class java.lang.String can not be converted to an Integer"},
		{`{"I":false}`, "class java.lang.Boolean can not be converted to an Integer"},
		{`{"N":"1"}`, "class java.lang.String can not be converted to an Long"},
		{`{"N":[1]}`, "Start of list found where not expected"},
		{`{"Bool":"23"}`, "'23' can not be converted to an Boolean"},
		{`{"Bool":23}`, num + " can not be converted to an Boolean"},
		{`{"B":true}`, "class java.lang.Boolean can not be converted to a Blob"},
		{`{"B":23}`, num + " can not be converted to a Blob"},
		{`{"B":[]}`, "Start of list found where not expected"},
		{`{"B":"23456"}`, "'23456' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 5"},
		{`{"B":"=+/="}`, "'=+/=' can not be converted to a Blob: Invalid Base64 character: '='"},
		{`{"B":"ab-_"}`, "'ab-_' can not be converted to a Blob: Invalid Base64 character: '-'"},
		{`{"B":"+/+="}`, "'+/+=' can not be converted to a Blob: Invalid last non-pad Base64 character dectected"},
		{`{"L":"23"}`, "Expected list or null"},
		{`{"L":23}`, "Expected list or null"},
		{`{"L":{}}`, "Start of structure or map found where not expected."},
		{`{"L":[1]}`, num + " can not be converted to an String"},
		{`{"M":"23"}`, "Expected map or null"},
		{`{"M":[]}`, "Start of list found where not expected"},
		{`{"M":{"k":1}}`, num + " can not be converted to an String"},
		{`{"St":"23"}`, "Expected null"},
		{`{"St":[]}`, "Start of list found where not expected"},
		{`{"Items":[5]}`, "Expected null"},
		{`{"T":"2020-01-01"}`, "class java.lang.String can not be converted to an Timestamp"},
		// A value is quoted only as far as its first 64 bytes: a 15 MB blob is not echoed back.
		{`{"B":"` + long + `-AAA"}`, "'" + long[:64] + "...' can not be converted to a Blob: Invalid Base64 character: '-'"},
		{`{"B":"` + long + `A"}`, "'" + long[:64] + "...' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 401"},
		{`{"B":"` + long[:60] + `ééAAAA"}`, "'" + long[:60] + "éé...' can not be converted to a Blob: Invalid Base64 character: 'é'"},
		{`{"Bool":"` + long + `"}`, "'" + long[:64] + "...' can not be converted to an Boolean"},
	} {
		var v decodeTarget
		err := Decode([]byte(tc.body), &v)
		if err == nil || err.Type != "SerializationException" || err.Status != 400 || err.Message != tc.msg {
			t.Errorf("%s: %+v, want %q", tc.body, err, tc.msg)
		}
	}
}

func TestErrorBody(t *testing.T) {
	for _, tc := range []struct{ typ, msg, want string }{
		{"ResourceNotFoundException", "gone", `{"__type":"ResourceNotFoundException","message":"gone"}`},
		{"SerializationException", "bad", `{"Message":"bad","__type":"SerializationException"}`},
		{"UnknownOperationException", "", `{"__type":"UnknownOperationException"}`},
	} {
		if got := string(ErrorBody(tc.typ, tc.msg)); got != tc.want {
			t.Errorf("%s: %s", tc.typ, got)
		}
	}
}

func TestTarget(t *testing.T) {
	for target, want := range map[string]string{
		"Kinesis_20131202.PutRecord":  "PutRecord",
		"Kinesis_20131202.":           "",
		"PutRecord":                   "",
		"Firehose_20150804.PutRecord": "",
		"":                            "",
	} {
		h := http.Header{}
		h.Set("X-Amz-Target", target)
		got, ok := Target(h, "Kinesis_20131202.")
		if got != want || ok != (want != "") {
			t.Errorf("%q: %q %v", target, got, ok)
		}
	}
}

func TestRequestID(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	if id := NewRequestID(); !re.MatchString(id) {
		t.Fatal(id)
	}
	h := http.Header{}
	SetHeaders(h, "id")
	if b, err := base64.StdEncoding.DecodeString(h.Get("x-amz-id-2")); err != nil || len(b) != 72 || h.Get("x-amzn-RequestId") != "id" {
		t.Fatalf("%v %v", h, err)
	}
}

// TestServiceOrder checks which error a request gets when several things are wrong with it:
// AWS looks at the method, the body's presence, the content type, the JSON, the operation and
// the signature, in that order.
func TestServiceOrder(t *testing.T) {
	var invoked []string
	svc := &Service{
		TargetPrefix: "Test_1.",
		Known:        func(a string) bool { return a == "Op" },
		Invoke: func(_ context.Context, action string, body []byte, region string) (int, []byte) {
			invoked = append(invoked, action+" "+region)
			return 200, []byte(`{}`)
		},
		MaxBody: 100,
	}
	srv := httptest.NewServer(svc)
	defer srv.Close()
	const auth = "AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-north-1/test/aws4_request, SignedHeaders=host, Signature=x"
	for _, tc := range []struct {
		name, method, query, target, ctype, auth, body string
		status                                         int
		want                                           string
	}{
		{"ok", "POST", "", "Test_1.Op", ContentType, auth, "{}", 200, `{}`},
		{"charset", "POST", "", "Test_1.Op", ContentType + "; charset=utf-8", auth, "{}", 200, `{}`},
		{"presigned", "POST", "?X-Amz-Algorithm=a&X-Amz-Credential=c&X-Amz-Signature=s&X-Amz-SignedHeaders=h&X-Amz-Date=d", "Test_1.Op", ContentType, "", "{}", 200, `{}`},
		{"GET", "GET", "", "Test_1.Op", ContentType, auth, "{}", 403, "<AccessDeniedException>\n  <Message>Unable to determine service/operation name to be authorized</Message>\n</AccessDeniedException>\n"},
		{"too large", "POST", "", "Test_1.Op", ContentType, auth, "{" + strings.Repeat(" ", 100) + "}", 413, ""},
		{"empty", "POST", "", "Test_1.Op", ContentType, "", "", 400, `{"__type":"SerializationException"}`},
		{"empty unknown", "POST", "", "Test_1.Nope", ContentType, "", "", 400, `{"__type":"UnknownOperationException"}`},
		{"no content type", "POST", "", "Test_1.Op", "", auth, "{}", 404, "<UnknownOperationException/>\n"},
		{"no content type or target", "POST", "", "", "", auth, "{}", 403, "<AccessDeniedException>\n"},
		{"plain json", "POST", "", "Test_1.Op", "application/json", auth, "{}", 200, `{"Output":{"__type":"com.amazon.coral.service#UnknownOperationException","message":null},"Version":"1.0"}`},
		{"plain json, bad", "POST", "", "Test_1.Op", "application/json", auth, "{", 200, `{"Output":{"__type":"com.amazon.coral.service#SerializationException","Message":null},"Version":"1.0"}`},
		{"cbor", "POST", "", "Test_1.Op", CBORContentType, auth, "\xa0", 400, "\xa2\x66__type\x76SerializationException\x67message\x78\xfelocalpipe speaks"},
		{"bad json before unknown op", "POST", "", "Test_1.Nope", ContentType, auth, "{", 400, `{"__type":"SerializationException"}`},
		{"unknown op", "POST", "", "Test_1.Nope", ContentType, auth, "{}", 400, `{"__type":"UnknownOperationException"}`},
		{"other service", "POST", "", "Other_1.Op", ContentType, auth, "{}", 400, `{"__type":"UnknownOperationException"}`},
		{"bad json before auth", "POST", "", "Test_1.Op", ContentType, "", "[", 400, `{"__type":"SerializationException"}`},
		{"unsigned", "POST", "", "Test_1.Op", ContentType, "", "{}", 400, `{"__type":"MissingAuthenticationTokenException","message":"Missing Authentication Token"}`},
		{"both", "POST", "?X-Amz-Algorithm=x", "Test_1.Op", ContentType, auth, "{}", 400, `{"__type":"InvalidSignatureException","message":"Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."}`},
		{"incomplete query", "POST", "?X-Amz-Algorithm=x", "Test_1.Op", ContentType, "", "{}", 400, `AWS query-string parameters must include 'X-Amz-Credential'. AWS query-string parameters must include 'X-Amz-Signature'. AWS query-string parameters must include 'X-Amz-SignedHeaders'. AWS query-string parameters must include 'X-Amz-Date'. Re-examine the query-string parameters.`},
		{"incomplete header", "POST", "", "Test_1.Op", ContentType, "AWS4-HMAC-SHA256 Signature=x", "{}", 400, `Authorization header requires 'Credential' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256 Signature=x`},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+"/"+tc.query, strings.NewReader(tc.body))
		if tc.target != "" {
			req.Header.Set("X-Amz-Target", tc.target)
		}
		if tc.ctype != "" {
			req.Header.Set("Content-Type", tc.ctype)
		}
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.Contains(string(b), tc.want) {
			t.Errorf("%s: %d %q, want %d %q", tc.name, resp.StatusCode, b, tc.status, tc.want)
		}
		if resp.StatusCode != 413 && resp.Header.Get("x-amzn-RequestId") == "" {
			t.Errorf("%s: no request id", tc.name)
		}
	}
	if strings.Join(invoked, ",") != "Op eu-north-1,Op eu-north-1,Op us-east-1" {
		t.Fatalf("invoked: %v", invoked)
	}
}

func FuzzRegion(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-3/kinesis/aws4_request, SignedHeaders=host")
	f.Add("AWS4-HMAC-SHA256 Credential=a/b//d/e")
	f.Add("Credential=/////")
	f.Fuzz(func(t *testing.T, auth string) {
		r, _ := http.NewRequest("POST", "/", nil)
		r.Header.Set("Authorization", auth)
		if Region(r) == "" {
			t.Fatal("empty region")
		}
		// The scope read in place agrees with splitting it.
		want := DefaultRegion
		if parts := strings.Split(auth, "/"); len(parts) == 5 && parts[2] != "" {
			want = parts[2]
		}
		if got := scopeRegion(auth); got != want {
			t.Fatalf("scopeRegion(%q) = %q, want %q", auth, got, want)
		}
	})
}

// FuzzDecode: any body either decodes or is a 400 SerializationException; never a panic.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{}`, `{"S":"x","N":1,"B":"aGk=","L":["a"],"M":{"a":"b"},"St":{"X":"y"},"Items":[{"K":"k"}]}`,
		`{"N":1e400}`, `{"N":-0.0}`, `{"B":"===="}`, `{"T":1e308}`, `[`, `{"Items":[null,{}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var v decodeTarget
		if err := Decode(body, &v); err != nil && (err.Status != 400 || err.Type != "SerializationException") {
			t.Fatalf("%q: %+v", body, err)
		}
	})
}

func TestAppendJavaDouble(t *testing.T) {
	for f, want := range map[float64]string{
		1684013726:     "1.684013726E9",
		1684013726.123: "1.684013726123E9",
		1684013726.1:   "1.6840137261E9",
		2e9:            "2.0E9",
		0:              "0.0",
		1.5:            "1.5",
		1234567:        "1234567.0",
		12345678:       "1.2345678E7",
		0.0001:         "1.0E-4",
	} {
		if got := string(AppendJavaDouble(nil, f)); got != want {
			t.Errorf("%v: %s, want %s", f, got, want)
		}
	}
	if got := string(AppendTimestamp(nil, time.UnixMilli(1684013726007))); got != "1.684013726007E9" {
		t.Errorf("timestamp: %s", got)
	}
}

func TestAppendString(t *testing.T) {
	for s, want := range map[string]string{
		"plain":        `"plain"`,
		`q"b\`:         `"q\"b\\"`,
		"<&>":          `"<&>"`,
		"é😀\u2028":     "\"é😀\u2028\"",
		"\n\t\x01\x1f": `"\n\t\u0001\u001f"`,
		"bad\xffutf8":  "\"bad\ufffdutf8\"",
	} {
		got := string(AppendString(nil, s))
		if got != want {
			t.Errorf("%q: %s, want %s", s, got, want)
		}
		var back string
		if err := json.Unmarshal([]byte(got), &back); err != nil {
			t.Errorf("%q: not JSON: %v", s, err)
		}
	}
}

func TestCBORError(t *testing.T) {
	// {"__type": "A", "message": "b"} as a CBOR map.
	if got := cborError("A", "b"); string(got) != "\xa2\x66__type\x61A\x67message\x61b" {
		t.Fatalf("%x", got)
	}
	long := strings.Repeat("x", 300)
	if got := cborError("A", long); string(got[len(got)-303:len(got)-300]) != "\x79\x01\x2c" {
		t.Fatalf("%x", got[:20])
	}
}

// FuzzNodeSplit holds the scanner that splits objects and arrays to what encoding/json makes
// of the same valid input: the same members with the same bytes, the same elements.
func FuzzNodeSplit(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, `{"a":1,"b":"x\"y","c":[1,{"d":"}"}],"e":null}`, ` { "a" : [ 1 , 2 ] , "b" : { } } `,
		`[1,"a",{"b":[]},true,false,null,-1.5e3,"\\"]`, `{"a":"\u00e9","a":2}`, `{"k\"ey":{"x":"]"}}`,
		`{"\u0061":1,"a":2}`, `{"a":1,"\u0061":2}`, `{"\ud800":1,"\ufffd":2}`, "{\"\xff\":1}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		b = bytes.TrimSpace(b)
		if !json.Valid(b) || len(b) == 0 {
			return
		}
		switch b[0] {
		case '{':
			var want map[string]json.RawMessage
			if json.Unmarshal(b, &want) != nil {
				return
			}
			got := node(b).object()
			if len(got) != len(want) {
				t.Fatalf("%s: %d members, want %d", b, len(got), len(want))
			}
			for k, v := range want {
				if string(got[k]) != string(v) {
					t.Fatalf("%s: member %q is %s, want %s", b, k, got[k], v)
				}
				// The struct path's lookup, which makes no map, finds the same value.
				if m, ok := lastMember(node(b).members(nil), k); !ok || string(m) != string(v) {
					t.Fatalf("%s: lastMember %q is %s (%v), want %s", b, k, m, ok, v)
				}
			}
			if _, ok := lastMember(node(b).members(nil), "absent\x00"); ok {
				t.Fatalf("%s: lastMember found an absent key", b)
			}
		case '[':
			var want []json.RawMessage
			if json.Unmarshal(b, &want) != nil {
				return
			}
			got := node(b).array()
			if len(got) != len(want) {
				t.Fatalf("%s: %d elements, want %d", b, len(got), len(want))
			}
			for i := range want {
				if string(got[i]) != string(want[i]) {
					t.Fatalf("%s: element %d is %s, want %s", b, i, got[i], want[i])
				}
			}
		}
	})
}
