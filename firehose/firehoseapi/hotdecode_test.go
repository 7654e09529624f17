package firehoseapi

import (
	"strings"
	"testing"

	"github.com/localpipe/localpipe/internal/awsjson/awsjsontest"
)

// hotGood are PutRecord and PutRecordBatch bodies the generated decoders take.
var hotGood = []string{
	`{"DeliveryStreamName":"d","Record":{"Data":"aGk="}}`,
	`{"DeliveryStreamName":"d","Records":[{"Data":"aGk="},{"Data":""}]}`,
	`{"Records":[],"DeliveryStreamName":"d"}`,
	` {"Record" : { } , "Record":{"Data":"QUJD"}} `,
}

// hotBad are bodies the generated decoders leave to the general decoder, with the message it
// answers ("ok" for success).
var hotBad = []awsjsontest.HotBody{
	{`{`, ""},
	{`{"DeliveryStreamName":"d",}`, ""},
	{`{"Records":[{"Data":"QUJD"},]}`, ""},
	{`[]`, "Start of list found where not expected"},
	{`{"DeliveryStreamName":5}`, "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String"},
	{`{"Record":"x"}`, "Expected null"},
	{`{"Record":[]}`, "Start of list found where not expected"},
	{`{"Record":{"Data":true}}`, "class java.lang.Boolean can not be converted to a Blob"},
	{`{"Record":{"Data":"!!!"}}`, "'!!!' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 3"},
	{`{"Records":{}}`, "Start of structure or map found where not expected."},
	{`{"Records":[{"Data":"=+/="}]}`, "'=+/=' can not be converted to a Blob: Invalid Base64 character: '='"},
	{`{"Records":[{"Data":"+/+="}]}`, "'+/+=' can not be converted to a Blob: Invalid last non-pad Base64 character dectected"},
	{`{"Record":null,"Records":[null]}`, "ok"},
	{`{"Record":{"Data":"!!!","Data":"QUJD"}}`, "ok"},
	{`{"DeliveryStreamName":"d","Record":{"Data":"aGk=","Extra":1}}`, "ok"},
	{`{"DeliveryStreamName":"d\u0021"}`, "ok"},
}

func TestHotDecodeBadInputs(t *testing.T) {
	awsjsontest.CheckHotDecode[putRecordIn, putRecordBatchIn](t, hotBad, hotGood)
}

// FuzzHotDecodeMatches: whatever the body, the generated decoders and the general one agree
// on the decoded value or on the exact error.
func FuzzHotDecodeMatches(f *testing.F) {
	f.Add([]byte(`{"DeliveryStreamName":"d","Records":[` + strings.Repeat(`{"Data":"QUJD"},`, 9) + `{"Data":"QQ=="}]}`))
	awsjsontest.FuzzHotDecode[putRecordIn, putRecordBatchIn](f, hotBad, hotGood)
}
