package mapping

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
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

const putRecordVTL = `{
    "StreamName": "$input.params('stream-name')",
    "Data": "$util.base64Encode($input.json('$.Data'))",
    "PartitionKey": "$input.path('$.PartitionKey')"
}`

const putRecordGo = `{
    "StreamName": "{{.Stream}}",
    "Data": "{{b64 (js .Data)}}",
    "PartitionKey": "{{.PartitionKey}}"
}`

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
		var doc struct{ Records []map[string]any }
		if err := json.Unmarshal(body, &doc); err != nil {
			b.Fatal(err)
		}
		if err := tm.Execute(&out, map[string]any{"Stream": "s", "Records": doc.Records}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPutRecord(b *testing.B) {
	tm, err := Parse("b", putRecordVTL)
	if err != nil {
		b.Fatal(err)
	}
	in := &Input{Body: []byte(`{"Data": "some data", "PartitionKey": "some key"}`), Params: Params{Path: map[string]string{"stream-name": "s"}}}
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
	body := []byte(`{"Data": "some data", "PartitionKey": "some key"}`)
	var out bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		out.Reset()
		var doc map[string]any
		if err := json.Unmarshal(body, &doc); err != nil {
			b.Fatal(err)
		}
		if err := tm.Execute(&out, doc); err != nil {
			b.Fatal(err)
		}
	}
}
