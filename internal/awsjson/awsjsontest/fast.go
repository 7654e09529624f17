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
