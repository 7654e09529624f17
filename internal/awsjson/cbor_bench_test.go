package awsjson

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

var benchCBOR = NewCBOR(map[string]CBOROperation{
	"GetRecords": {Out: map[string]CBORKind{"Records.[].Data": CBORBlob, "Records.[].ApproximateArrivalTimestamp": CBORTimestamp}},
	"PutRecords": {In: map[string]CBORKind{"Records.[].Data": CBORBlob}},
})

// BenchmarkCBORGetRecordsAnswer transcodes a GetRecords answer of 1,000 records of 1 KiB.
func BenchmarkCBORGetRecordsAnswer(b *testing.B) {
	data := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("x", 1024)))
	var sb strings.Builder
	sb.WriteString(`{"MillisBehindLatest":0,"NextShardIterator":"AAAA","Records":[`)
	for i := range 1000 {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"ApproximateArrivalTimestamp":1.684013726123E9,"Data":"%s","PartitionKey":"k%d","SequenceNumber":"4968076551774685971772879870619337491690765602330666%04d"}`, data, i, i)
	}
	sb.WriteString("]}")
	body := []byte(sb.String())
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := benchCBOR.ResponseCBOR("GetRecords", 200, body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCBORPutRecordsRequest transcodes a PutRecords request of 500 records of 1 KiB.
func BenchmarkCBORPutRecordsRequest(b *testing.B) {
	recs := make([]any, 500)
	for i := range recs {
		recs[i] = map[string]any{"Data": []byte(strings.Repeat("x", 1024)), "PartitionKey": fmt.Sprint("k", i)}
	}
	body, err := cbor.Marshal(map[string]any{"StreamName": "s", "Records": recs})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := benchCBOR.RequestJSON("PutRecords", body); err != nil {
			b.Fatal(err)
		}
	}
}
