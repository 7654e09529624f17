package kinesisapi

import (
	"fmt"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/localpipe/localpipe/internal/awsjson"
	"github.com/localpipe/localpipe/internal/awsjson/awsjsontest"
)

// putRecordsBody is a PutRecords of n records of 99 bytes, as the SDKs write it.
func putRecordsBody(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"Records":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"Data":"%s","PartitionKey":"key-%d"}`, strings.Repeat("QUJD", 33), i)
	}
	b.WriteString(`],"StreamName":"b"}`)
	return []byte(b.String())
}

var putRecordBody = []byte(`{"Data":"` + strings.Repeat("QUJD", 33) + `","PartitionKey":"key-1","StreamName":"b"}`)

// hotGood are bodies the generated decoders take.
var hotGood = []string{
	string(putRecordBody),
	string(putRecordsBody(3)),
	`{}`,
	` { "StreamName" : "s" , "PartitionKey":"k", "Data" : "" } ` + "\n",
	`{"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s","PartitionKey":"é😀","Data":"aGk=","ExplicitHashKey":"0","SequenceNumberForOrdering":"1"}`,
	`{"Records":[],"StreamName":"s"}`,
	`{"Records":[{}],"StreamName":"s"}`,
	`{"Records":[{"Data":"QUJD","ExplicitHashKey":"5","PartitionKey":"k"}]}`,
	`{"Records":[{"Data":"QQ=="}],"Records":[{"Data":"QUI="}]}`,
	`{"PartitionKey":"a","PartitionKey":"b","Data":"QQ==","Data":"QUI="}`,
	"\v{\"PartitionKey\":\"k\"}\u00a0", // Decode trims Unicode space first, for both
}

// hotBad are bodies the generated decoders leave to the general decoder, with what that
// decoder makes of them: an error message, or success ("ok").
var hotBad = []awsjsontest.HotBody{
	{``, ""},
	{`{`, ""},
	{`{"StreamName":"s",}`, ""},
	{`{"Records":[{"Data":"QUJD"},]}`, ""},
	{`{} x`, ""},
	{`{}{}`, ""},
	{`{"StreamName" "s"}`, ""},
	{`{"StreamName":"s"` + "\x00}", ""},
	{"{\"PartitionKey\":\"\t\"}", ""},
	{`null`, ""},
	{`[]`, "Start of list found where not expected"},
	{`{"PartitionKey":1}`, "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String"},
	{`{"StreamName":-1.5e3}`, "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String"},
	{`{"PartitionKey":true}`, "class java.lang.Boolean can not be converted to an String"},
	{`{"PartitionKey":{}}`, "Start of structure or map found where not expected."},
	{`{"PartitionKey":[]}`, "Start of list found where not expected"},
	{`{"Data":true}`, "class java.lang.Boolean can not be converted to a Blob"},
	{`{"Data":23}`, "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to a Blob"},
	{`{"Data":[]}`, "Start of list found where not expected"},
	{`{"Data":"!!!"}`, "'!!!' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 3"},
	{`{"Data":"=+/="}`, "'=+/=' can not be converted to a Blob: Invalid Base64 character: '='"},
	{`{"Data":"ab-_"}`, "'ab-_' can not be converted to a Blob: Invalid Base64 character: '-'"},
	{`{"Data":"+/+="}`, "'+/+=' can not be converted to a Blob: Invalid last non-pad Base64 character dectected"},
	{`{"Data":"QQ==QUJD"}`, "'QQ==QUJD' can not be converted to a Blob: Invalid Base64 character: '='"},
	{`{"Data":"QQ=A"}`, "'QQ=A' can not be converted to a Blob: Invalid Base64 character: '='"},
	{`{"Data":"QUJ\\"}`, "'QUJ\\' can not be converted to a Blob: Invalid Base64 character: '\\'"},
	{"{\"Data\":\"QU\nJD\"}", ""},
	{"{\"Data\":\"QUJD\r\n\"}", ""},
	{`{"Data":"QUJD\n"}`, "'QUJD\n' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 5"},
	{`{"Data":"QUJD","Data":"!!!"}`, "'!!!' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 3"},
	{`{"Data":"` + strings.Repeat("QUJD", 30) + `-AAA"}`, "'" + strings.Repeat("QUJD", 16) + "...' can not be converted to a Blob: Invalid Base64 character: '-'"},
	{`{"Records":5}`, "Expected list or null"},
	{`{"Records":"x"}`, "Expected list or null"},
	{`{"Records":{}}`, "Start of structure or map found where not expected."},
	{`{"Records":[5]}`, "Expected null"},
	{`{"Records":[[]]}`, "Start of list found where not expected"},
	{`{"Records":[{"PartitionKey":"k","Data":"x"}]}`, "'x' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 1"},
	{`{"Records":[{"PartitionKey":false}]}`, "class java.lang.Boolean can not be converted to an String"},
	// What the general decoder accepts but the generated ones leave to it.
	{`{"Data":"!!!","Data":"QUJD"}`, "ok"},
	{`{"PartitionKey":"a","PartitionKey":null}`, "ok"},
	{`{"StreamName":null,"Records":null}`, "ok"},
	{`{"Records":[null,{"Data":null}]}`, "ok"},
	{`{"StreamName":"s","streamname":5}`, "ok"},
	{`{"StreamName":"s","StreamId":"x","DryRun":true}`, "ok"},
	{`{"PartitionKey":"k","Extra":[1,{"x":null}]}`, "ok"},
	{`{"Data":"QUJ\u0044","Part\u0069tionKey":"\"k\""}`, "ok"},
	{"{\"PartitionKey\":\"caf\xe9\"}", "ok"},
}

// TestHotDecodeBadInputs: every unusual body gets exactly the general decoder's answer, and
// the usual ones take the generated decoders.
func TestHotDecodeBadInputs(t *testing.T) {
	awsjsontest.CheckHotDecode[putRecordIn, putRecordsIn](t, hotBad, hotGood)
}

// FuzzHotDecodeMatches: whatever the body, the generated decoders and the general one agree
// on the decoded value or on the exact error.
func FuzzHotDecodeMatches(f *testing.F) {
	awsjsontest.FuzzHotDecode[putRecordIn, putRecordsIn](f, hotBad, hotGood)
}

// BenchmarkHotDecode decodes a PutRecord and a PutRecords of 500 (100-byte records) with the
// general decoder and with the generated one.
func BenchmarkHotDecode(b *testing.B) {
	records := putRecordsBody(500)
	for _, bc := range []struct {
		name string
		run  func() *awsjson.Error
	}{
		{"PutRecord/general", func() *awsjson.Error { return awsjson.DecodeGeneral(putRecordBody, new(putRecordIn)) }},
		{"PutRecord/generated", func() *awsjson.Error { return awsjson.Decode(putRecordBody, new(putRecordIn)) }},
		{"PutRecords500/general", func() *awsjson.Error { return awsjson.DecodeGeneral(records, new(putRecordsIn)) }},
		{"PutRecords500/generated", func() *awsjson.Error { return awsjson.Decode(records, new(putRecordsIn)) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := bc.run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkHotEncode encodes the answers of a PutRecord and of a PutRecords of 500.
func BenchmarkHotEncode(b *testing.B) {
	seq := seqParts{shardCreated: 1700000000, shard: 1, position: 123456, arrival: 1700000001}
	b.Run("PutRecord", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			appendPutResult(make([]byte, 0, 128), seq, 1)
		}
	})
	b.Run("PutRecords500", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			out := make([]byte, 0, 40+500*100)
			out = append(out, `{"FailedRecordCount":0,"Records":[`...)
			for i := range 500 {
				if i > 0 {
					out = append(out, ',')
				}
				out = appendPutResult(out, seq, 1)
			}
			_ = append(out, "]}"...)
		}
	})
}

// TestHotDecodeCBOR: a CBOR request, transcoded to JSON, takes the generated decoders too
// (unless its strings need escapes in JSON), and decodes to what the general decoder makes of
// it.
func TestHotDecodeCBOR(t *testing.T) {
	for _, tc := range []struct {
		action string
		v      map[string]any
		fast   bool
	}{
		{"PutRecord", map[string]any{"StreamName": "s", "PartitionKey": "ké y", "Data": []byte("hi\x00")}, true},
		{"PutRecord", map[string]any{"StreamName": "s", "PartitionKey": "k\x01\"y", "Data": []byte("hi")}, false},
		{"PutRecords", map[string]any{"StreamName": "s", "Records": []any{map[string]any{"PartitionKey": "k", "Data": []byte{}}, map[string]any{"PartitionKey": "k2", "Data": []byte("x")}}}, true},
	} {
		b, err := cbor.Marshal(tc.v)
		if err != nil {
			t.Fatal(err)
		}
		body, err := kinesisCBOR.RequestJSON(tc.action, b)
		if err != nil {
			t.Fatal(err)
		}
		var took bool
		if tc.action == "PutRecord" {
			took = awsjsontest.DecodeMatches[putRecordIn](t, body)
		} else {
			took = awsjsontest.DecodeMatches[putRecordsIn](t, body)
		}
		if took != tc.fast {
			t.Errorf("%s %s: taken by the generated decoder %v, want %v", tc.action, body, took, tc.fast)
		}
	}
}
