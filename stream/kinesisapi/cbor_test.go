package kinesisapi

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// FuzzCBORRequest feeds arbitrary CBOR bodies to every action over HTTP, as a Java SDK would
// send them: whatever comes in, the answer is CBOR, a 200 or a 4xx error with a __type, never
// a panic or a 500.
func FuzzCBORRequest(f *testing.F) {
	ms := func(n int64) cbor.Tag { return cbor.Tag{Number: 1, Content: n} }
	for _, v := range []map[string]any{
		{},
		{"StreamName": "s", "ShardCount": 1},
		{"StreamName": "s", "PartitionKey": "k", "Data": []byte("hi\x00")},
		{"StreamName": "s", "Records": []any{map[string]any{"PartitionKey": "k", "Data": []byte{}}}},
		{"StreamName": "s", "ShardId": "shardId-000000000000", "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": ms(1_700_000_000_123)},
		{"StreamName": "s", "ShardId": "shardId-000000000000", "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": cbor.Tag{Number: 1, Content: 1.7e300}},
		{"StreamName": "s", "ShardFilter": map[string]any{"Type": "AT_TIMESTAMP", "Timestamp": ms(-1)}},
		{"StreamName": "s", "Limit": 1.5},
		{"StreamName": "s", "Limit": uint64(1) << 63},
		{"StreamName": []byte("s")},
		{"StreamName": "s", "Tags": map[string]any{"a": "b"}},
		{"ShardIterator": "AAAA", "Limit": 1},
	} {
		b, err := cbor.Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		for i := range actionNames {
			f.Add(uint8(i), b)
		}
	}
	for _, s := range []string{"", "\xa1\x61A", "\x80", "\xa1\x6aStreamName\xc1\x61s", "\xbf\x6aStreamName\x61s\xff"} {
		f.Add(uint8(0), []byte(s))
	}
	h := newFuzzEnv(f)
	f.Fuzz(func(t *testing.T, action uint8, body []byte) {
		name := actionNames[int(action)%len(actionNames)]
		r := httptest.NewRequest("POST", "/", strings.NewReader(string(body)))
		r.Header.Set("Content-Type", "application/x-amz-cbor-1.1")
		r.Header.Set("X-Amz-Target", TargetPrefix+name)
		r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=x")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 && w.Code/100 != 4 {
			t.Fatalf("%s % x: status %d % x", name, body, w.Code, w.Body.Bytes())
		}
		if ct := w.Header().Get("Content-Type"); ct != "application/x-amz-cbor-1.1" {
			t.Fatalf("%s % x: content type %q", name, body, ct)
		}
		var m map[string]any
		if (w.Code != 200 || w.Body.Len() > 0) && cbor.Unmarshal(w.Body.Bytes(), &m) != nil {
			t.Fatalf("%s % x: answer is not a CBOR map: % x", name, body, w.Body.Bytes())
		}
		if w.Code != 200 && m["__type"] == nil {
			t.Fatalf("%s % x: error without __type: %v", name, body, m)
		}
	})
}
