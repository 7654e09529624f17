package awsjsontest

import (
	"reflect"
	"testing"

	"github.com/localpipe/localpipe/internal/awsjson"
)

// DecodeMatches holds a generated decoder (awsjson.FastDecoder) of the input T to the general
// decoder it stands in for: if it takes body, the general decoder decodes body to the same
// value; and awsjson.Decode, the two together, gives exactly the general decoder's value or
// error. It reports whether the generated decoder took body, so a test can make sure it is
// exercised at all.
func DecodeMatches[T any, P interface {
	*T
	awsjson.FastDecoder
}](t testing.TB, body []byte) bool {
	t.Helper()
	var fast, general, both T
	took := awsjson.DecodeFast(body, P(&fast))
	gerr := awsjson.DecodeGeneral(body, &general)
	if took && (gerr != nil || !reflect.DeepEqual(fast, general)) {
		t.Fatalf("%q: generated decoder took %+v, general decoder %+v (error %v)", body, fast, general, gerr)
	}
	err := awsjson.Decode(body, P(&both))
	if !reflect.DeepEqual(err, gerr) || !reflect.DeepEqual(both, general) {
		t.Fatalf("%q: Decode gave %+v (error %v), the general decoder %+v (error %v)", body, both, err, general, gerr)
	}
	return took
}

// HotBody is a body the generated decoders must leave to the general decoder, and the
// SerializationException message that decoder answers ("ok" for none). An array rather than
// a struct so that tables of them read as pairs.
type HotBody [2]string

// CheckHotDecode holds the generated decoders of a service's two hot inputs (a single put and
// a batch) to a table: no bad body is taken by either, every error on one is exactly its
// message, and each good body is taken by one of them, so the fast path is exercised.
func CheckHotDecode[A, B any, PA interface {
	*A
	awsjson.FastDecoder
}, PB interface {
	*B
	awsjson.FastDecoder
}](t *testing.T, bad []HotBody, good []string) {
	t.Helper()
	for _, tc := range bad {
		body, msg := []byte(tc[0]), tc[1]
		if DecodeMatches[A, PA](t, body) || DecodeMatches[B, PB](t, body) {
			t.Errorf("%q: taken by a generated decoder", body)
		}
		errs := 0
		for _, err := range []*awsjson.Error{awsjson.Decode(body, PA(new(A))), awsjson.Decode(body, PB(new(B)))} {
			if err == nil {
				continue
			}
			errs++
			if err.Type != "SerializationException" || err.Message != msg {
				t.Errorf("%q: %+v, want %q", body, err, msg)
			}
		}
		if (msg == "ok") != (errs == 0) {
			t.Errorf("%q: %d errors, want %q", body, errs, msg)
		}
	}
	for _, body := range good {
		if !DecodeMatches[A, PA](t, []byte(body)) && !DecodeMatches[B, PB](t, []byte(body)) {
			t.Errorf("%q: left to the general decoder", body)
		}
	}
}

// FuzzHotDecode seeds f with both tables and holds any body to DecodeMatches for both inputs:
// the generated decoders and the general one agree on the value or on the exact error.
func FuzzHotDecode[A, B any, PA interface {
	*A
	awsjson.FastDecoder
}, PB interface {
	*B
	awsjson.FastDecoder
}](f *testing.F, bad []HotBody, good []string) {
	for _, s := range good {
		f.Add([]byte(s))
	}
	for _, tc := range bad {
		f.Add([]byte(tc[0]))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		DecodeMatches[A, PA](t, body)
		DecodeMatches[B, PB](t, body)
	})
}
