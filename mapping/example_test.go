package mapping_test

import (
	"bytes"
	"fmt"

	"github.com/localpipe/localpipe/mapping"
)

// The Kinesis PutRecord template from AWS's API Gateway tutorial.
func ExampleTemplate_Execute() {
	t, err := mapping.Parse("PutRecord", `{
    "StreamName": "$input.params('stream-name')",
    "Data": "$util.base64Encode($input.json('$.Data'))",
    "PartitionKey": "$input.path('$.PartitionKey')"
}`)
	if err != nil {
		fmt.Println(err)
		return
	}
	var out bytes.Buffer
	_, err = t.Execute(&out, &mapping.Input{
		Body:    []byte(`{"Data": "some data", "PartitionKey": "some key"}`),
		Params:  mapping.Params{Path: map[string]string{"stream-name": "myStream"}},
		Context: map[string]any{"requestId": "r-1", "identity": map[string]any{"sourceIp": "192.0.2.1"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(out.String())
	fmt.Println(mapping.ValidateJSON(out.Bytes()))
	// Output:
	// {
	//     "StreamName": "myStream",
	//     "Data": "InNvbWUgZGF0YSI=",
	//     "PartitionKey": "some key"
	// }
	// <nil>
}

func ExampleValidateJSON() {
	err := mapping.ValidateJSON([]byte("{\n  \"StreamName\": \"s\",\n  \"Data\": \"x\" \"PartitionKey\": \"k\"\n}"))
	fmt.Println(err)
	// Output:
	// not valid JSON at line 3 column 15: expected ',' or '}' after object value, found '"'
}

func ExampleParse_error() {
	_, err := mapping.Parse("PutRecords", "{\n  #foreach($r in $input.path('$.records'))\n  $r.data\n}")
	fmt.Println(err)
	// Output:
	// PutRecords:2:3: #foreach without #end
}
