package firehose

import (
	"strings"
	"testing"
)

// TestParseAnswerBad: every answer a function can give that Firehose cannot apply fails the
// invocation with the code Firehose logs for it.
func TestParseAnswerBad(t *testing.T) {
	ids := []string{"a", "b"}
	for _, tc := range []struct{ answer, code, msg string }{
		{``, codeJSON, "error parsing"},
		{`null`, codeMissingID, `"a"`},
		{`[]`, codeJSON, "error parsing"},
		{`{"records": {}}`, codeJSON, "error parsing"},
		{`{"records": []}`, codeMissingID, "were not returned"},
		{`{"records": [{"recordId":"a","result":"Ok","data":"eA=="}]}`, codeMissingID, `"b"`},
		{`{"records": [{"recordId":"a","result":"Ok","data":"eA=="},{"recordId":"b","result":"Ok","data":"eA=="},{"recordId":"c","result":"Ok","data":"eA=="}]}`, codeMissingID, `"c"`},
		{`{"records": [{"recordId":"a","result":"Ok","data":"eA=="},{"recordId":"a","result":"Dropped"}]}`, codeDuplicateID, `"a"`},
		{`{"records": [{"recordId":"a","result":"OK","data":"eA=="},{"recordId":"b","result":"Dropped"}]}`, codeJSON, `result "OK"`},
		{`{"records": [{"recordId":"a","result":"Ok"},{"recordId":"b","result":"Dropped"}]}`, codeJSON, "no data"},
		{`{"records": [{"recordId":"a","result":"Ok","data":"not base64!"},{"recordId":"b","result":"Dropped"}]}`, codeJSON, "not base64"},
		{`{"records": [{"recordId":"a","result":"Dropped"},{"recordId":"b","result":"Dropped"}]} {}`, codeJSON, "data after"},
		{`{"records": [{"recordId":1,"result":"Dropped"}]}`, codeJSON, "error parsing"},
		{`{"records": [{"recordId":"a","result":"Ok","data":"eA==","metadata":{"partitionKeys":{"k":1}}},{"recordId":"b","result":"Dropped"}]}`, codeJSON, "error parsing"},
	} {
		_, terr := parseAnswer([]byte(tc.answer), ids)
		if terr == nil || terr.code != tc.code || !strings.Contains(terr.msg, tc.msg) {
			t.Errorf("parseAnswer(%s) = %v, want %s with %q", tc.answer, terr, tc.code, tc.msg)
		}
	}
	got, terr := parseAnswer([]byte(`{"records":[{"recordId":"b","result":"ProcessingFailed"},{"recordId":"a","result":"Ok","data":"eA==","metadata":{"partitionKeys":{"k":"v"}}}]}`), ids)
	if terr != nil || got[0].RecordID != "a" || got[0].Metadata.PartitionKeys["k"] != "v" || got[1].Result != resultFailed {
		t.Errorf("parseAnswer in another order: %+v, %v", got, terr)
	}
}

// FuzzParseAnswer holds that any answer is either refused or gives one answer per record
// sent, in order.
func FuzzParseAnswer(f *testing.F) {
	f.Add(`{"records":[{"recordId":"a","result":"Ok","data":"eA=="},{"recordId":"b","result":"Dropped"}]}`)
	f.Add(`{"records":[{"recordId":"b","result":"ProcessingFailed"},{"recordId":"a","result":"Ok","data":"","metadata":{"partitionKeys":{}}}]}`)
	f.Add(`{"records":null}`)
	f.Fuzz(func(t *testing.T, s string) {
		ids := []string{"a", "b"}
		got, terr := parseAnswer([]byte(s), ids)
		if terr != nil {
			return
		}
		if len(got) != len(ids) {
			t.Fatalf("%d answers for %d records", len(got), len(ids))
		}
		for i, a := range got {
			if a.RecordID != ids[i] {
				t.Fatalf("answer %d is for %q", i, a.RecordID)
			}
		}
	})
}
