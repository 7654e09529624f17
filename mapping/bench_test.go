package mapping

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"text/template"
)

const putRecordsVTL = `{
    "StreamName": "$input.params('stream-name')",
    "Records": [
       #foreach($elem in $input.path('$.records'))
          {
            "Data": "$util.base64Encode($elem.data)",
            "PartitionKey": "$elem.partition-key"
          }#if($foreach.hasNext),#end
        #end
    ]
}`

// The same output with text/template, for comparison.
const putRecordsGo = `{
    "StreamName": "{{.Stream}}",
    "Records": [
       {{range $i, $e := .Records}}{{if $i}},{{end}}
          {
            "Data": "{{b64 $e.data}}",
            "PartitionKey": "{{index $e "partition-key"}}"
          }{{end}}
    ]
}`

// putRecordVTL is a 10-line PutRecord template: the tutorial's three fields plus the two
// optional ones.
const putRecordVTL = `#set($body = $input.path('$'))
{
    "StreamName": "$input.params('stream-name')",
    "Data": "$util.base64Encode($input.json('$.Data'))",
    "PartitionKey": "$body.PartitionKey"#if($body.ExplicitHashKey),
    "ExplicitHashKey": "$body.ExplicitHashKey"#end
#if($body.SequenceNumberForOrdering)
    ,"SequenceNumberForOrdering": "$body.SequenceNumberForOrdering"
#end
}`

const putRecordGo = `{
    "StreamName": "{{.Stream}}",
    "Data": "{{b64 (js .Body.Data)}}",
    "PartitionKey": "{{.Body.PartitionKey}}"{{if .Body.ExplicitHashKey}},
    "ExplicitHashKey": "{{.Body.ExplicitHashKey}}"{{end}}
{{- if .Body.SequenceNumberForOrdering}}
    ,"SequenceNumberForOrdering": "{{.Body.SequenceNumberForOrdering}}"
{{- end}}
}`

const putRecordBody = `{"Data": "some data", "PartitionKey": "some key", "ExplicitHashKey": "42"}`

func recordsBody(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"records":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"data":"record number %d with some payload","partition-key":"key-%d"}`, i, i%7)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

var goFuncs = template.FuncMap{
	"b64": func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) },
	"js":  func(v any) string { b, _ := json.Marshal(v); return string(b) },
}

func BenchmarkPutRecords500(b *testing.B) {
	tm, err := Parse("b", putRecordsVTL)
	if err != nil {
		b.Fatal(err)
	}
	in := &Input{Body: recordsBody(500), Params: Params{Path: map[string]string{"stream-name": "s"}}}
	var out bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		out.Reset()
		if _, err := tm.Execute(&out, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPutRecords500TextTemplate includes decoding the body, as the VTL render does.
func BenchmarkPutRecords500TextTemplate(b *testing.B) {
	tm := template.Must(template.New("b").Funcs(goFuncs).Parse(putRecordsGo))
	body := recordsBody(500)
	var out bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		out.Reset()
		if err := renderPutRecordsGo(tm, &out, body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPutRecord(b *testing.B) {
	tm, err := Parse("b", putRecordVTL)
	if err != nil {
		b.Fatal(err)
	}
	in := &Input{Body: []byte(putRecordBody), Params: Params{Path: map[string]string{"stream-name": "s"}}}
	var out bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		out.Reset()
		if _, err := tm.Execute(&out, in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPutRecordTextTemplate(b *testing.B) {
	tm := template.Must(template.New("b").Funcs(goFuncs).Parse(putRecordGo))
	body := []byte(putRecordBody)
	var out bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		out.Reset()
		if err := renderPutRecordGo(tm, &out, body); err != nil {
			b.Fatal(err)
		}
	}
}

func renderPutRecordGo(tm *template.Template, out *bytes.Buffer, body []byte) error {
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		return err
	}
	return tm.Execute(out, map[string]any{"Stream": "s", "Body": doc})
}

func renderPutRecordsGo(tm *template.Template, out *bytes.Buffer, body []byte) error {
	var doc struct{ Records []map[string]any }
	if err := json.Unmarshal(body, &doc); err != nil {
		return err
	}
	return tm.Execute(out, map[string]any{"Stream": "s", "Records": doc.Records})
}

// TestBenchmarkBaselines checks that the text/template baselines produce the same JSON as
// the VTL templates they are measured against (text/template lays out blanks differently).
func TestBenchmarkBaselines(t *testing.T) {
	for _, c := range []struct {
		vtl, gotmpl string
		body        []byte
		goRender    func(*template.Template, *bytes.Buffer, []byte) error
	}{
		{putRecordVTL, putRecordGo, []byte(putRecordBody), renderPutRecordGo},
		{putRecordsVTL, putRecordsGo, recordsBody(5), renderPutRecordsGo},
	} {
		vtl, err := render("b", c.vtl, &Input{Body: c.body, Params: Params{Path: map[string]string{"stream-name": "s"}}})
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := c.goRender(template.Must(template.New("b").Funcs(goFuncs).Parse(c.gotmpl)), &out, c.body); err != nil {
			t.Fatal(err)
		}
		var a, b any
		if err := json.Unmarshal([]byte(vtl), &a); err != nil {
			t.Fatalf("VTL output is not JSON: %v\n%s", err, vtl)
		}
		if err := json.Unmarshal(out.Bytes(), &b); err != nil {
			t.Fatalf("text/template output is not JSON: %v\n%s", err, out.String())
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("outputs differ\nVTL: %s\ngo:  %s", vtl, out.String())
		}
	}
}
