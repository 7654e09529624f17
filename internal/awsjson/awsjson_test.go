package awsjson

import (
	"net/http"
	"regexp"
	"testing"
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
}

func TestDecodeBadInputs(t *testing.T) {
	type in struct {
		S *string `json:"S"`
		N *int64  `json:"N"`
		B []byte  `json:"B"`
	}
	for _, body := range []string{"", " ", "null", "[]", "{", `{"S":1}`, `{"N":"1"}`, `{"N":1.5}`, `{"B":"%%"}`, `{"B":5}`, `{} x`, `"s"`} {
		var v in
		if err := Decode([]byte(body), &v); err == nil || err.Type != "SerializationException" || err.Status != 400 {
			t.Errorf("%q: %v", body, err)
		}
	}
	var v in
	if err := Decode([]byte(`{"S":"x","N":3,"B":"aGk=","Other":[1]}`), &v); err != nil || *v.S != "x" || *v.N != 3 || string(v.B) != "hi" {
		t.Fatalf("%v %+v", err, v)
	}
}

func TestRequestID(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	if id := NewRequestID(); !re.MatchString(id) {
		t.Fatal(id)
	}
}

func FuzzRegion(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-3/kinesis/aws4_request, SignedHeaders=host")
	f.Fuzz(func(t *testing.T, auth string) {
		r, _ := http.NewRequest("POST", "/", nil)
		r.Header.Set("Authorization", auth)
		if Region(r) == "" {
			t.Fatal("empty region")
		}
	})
}
