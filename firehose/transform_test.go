package firehose

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"
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

// upperTransformer answers every record Ok upper-cased, except "bad…" (ProcessingFailed), and
// counts its invocations.
type upperTransformer struct {
	mu    sync.Mutex
	calls int
}

func (u *upperTransformer) Transform(_ context.Context, _ string, payload []byte) (TransformResult, error) {
	var ev event
	if err := json.Unmarshal(payload, &ev); err != nil {
		return TransformResult{}, err
	}
	u.mu.Lock()
	u.calls++
	u.mu.Unlock()
	var out struct {
		Records []answerRecord `json:"records"`
	}
	for _, r := range ev.Records {
		d, _ := base64.StdEncoding.DecodeString(r.Data)
		a := answerRecord{RecordID: r.RecordID, Result: resultOk}
		if bytes.HasPrefix(d, []byte("bad")) {
			a.Result = resultFailed
		} else {
			up := base64.StdEncoding.EncodeToString(bytes.ToUpper(d))
			a.Data = &up
		}
		out.Records = append(out.Records, a)
	}
	b, err := json.Marshal(out)
	return TransformResult{Payload: b}, err
}

func (u *upperTransformer) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.calls
}

// TestTransformRedoWritesSameObjects: a transforming batch interrupted after its objects were
// written and before its checkpoint is transformed again at the next start (the function is
// called again) and writes the same objects, delimited, under the same keys; records that
// arrived meanwhile go to a later object.
func TestTransformRedoWritesSameObjects(t *testing.T) {
	tr := &upperTransformer{}
	env := openTest(t)
	env.tr = tr
	env.e.Close(context.Background())
	env.reopen(t)
	delim := "\n"
	env.e.Create(baseConfig("ds", func(c *Config) {
		c.Delimiter = &delim
		c.Lambda = &Lambda{ARN: "arn:aws:lambda:us-east-1:000000000000:function:up", Retries: 3, BufferBytes: 10}
	}), nil)
	for i := 0; i < 6; i++ {
		put(t, env.e, "ds", fmt.Sprintf("rec-%d", i))
	}
	put(t, env.e, "ds", "bad one")
	var pending, check []byte
	env.sink.onPut = func() {
		env.db.View(func(tx *bolt.Tx) error {
			root := tx.Bucket(rootBucket)
			pending = append([]byte(nil), root.Bucket(batchBucket).Get(stateKey("ds", 0))...)
			check = append([]byte(nil), root.Bucket(checkBucket).Get(stateKey("ds", 0))...)
			return nil
		})
	}
	keys, err := env.e.Flush(context.Background(), "ds")
	if err != nil || len(keys) != 2 || len(pending) == 0 {
		t.Fatalf("%v %v pending=%q", keys, err, pending)
	}
	// A buffer of 10 bytes: invocations of two 5-byte records, and one for "bad one".
	if tr.count() != 4 {
		t.Errorf("%d invocations, want 4", tr.count())
	}
	env.sink.onPut = nil
	env.e.Close(context.Background())
	before := map[string][]byte{}
	for _, k := range env.sink.keys() {
		before[k] = env.sink.get(t, k).body
	}
	if got := string(env.sink.get(t, keys[0]).body); got != "REC-0\nREC-1\nREC-2\nREC-3\nREC-4\nREC-5\n" {
		t.Errorf("delivered %q", got)
	}
	if !strings.Contains(keys[1], "processing-failed/") || !strings.Contains(string(env.sink.get(t, keys[1]).body), `"errorCode":"Lambda.ProcessingFailedStatus"`) {
		t.Errorf("error object %s: %s", keys[1], env.sink.get(t, keys[1]).body)
	}
	env.db.Update(func(tx *bolt.Tx) error {
		root := tx.Bucket(rootBucket)
		root.Bucket(batchBucket).Put(stateKey("ds", 0), pending)
		if len(check) == 0 {
			return root.Bucket(checkBucket).Delete(stateKey("ds", 0))
		}
		return root.Bucket(checkBucket).Put(stateKey("ds", 0), check)
	})
	put(t, env.e, "ds", "late")
	env.reopen(t)
	more, err := env.e.Flush(context.Background(), "ds")
	if err != nil || len(more) != 1 || string(env.sink.get(t, more[0]).body) != "LATE\n" {
		t.Fatalf("after redo: %v %v", more, err)
	}
	if tr.count() != 4+4+1 {
		t.Errorf("%d invocations, want the batch's 4 again and one for the late record", tr.count())
	}
	for k, b := range before {
		o := env.sink.get(t, k)
		if o.writes != 2 || !bytes.Equal(o.body, b) {
			t.Errorf("%s: %d writes, same bytes %v", k, o.writes, bytes.Equal(o.body, b))
		}
	}
}
