package app

import (
	"net/http"
	"testing"
)

func TestErrorCode(t *testing.T) {
	for _, tc := range []struct {
		name, header, body, want string
	}{
		{"gateway header", "MissingAuthenticationTokenException", `{"message":"Missing Authentication Token"}`, "MissingAuthenticationTokenException"},
		{"gateway header with detail", "ValidationException:http://internal.amazon.com/coral/", "", "ValidationException"},
		{"json 1.1", "", `{"__type":"ResourceNotFoundException","message":"x"}`, "ResourceNotFoundException"},
		{"json 1.1 serialization", "", `{"Message":"bad","__type":"SerializationException"}`, "SerializationException"},
		{"namespaced", "", `{"__type":"com.amazon.coral.service#UnknownOperationException"}`, "UnknownOperationException"},
		{"s3", "", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code><Message>m</Message></Error>", "NoSuchKey"},
		{"terse xml", "", "<AccessDeniedException>\n  <Message>m</Message>\n</AccessDeniedException>\n", "AccessDeniedException"},
		{"terse empty xml", "", "<UnknownOperationException/>\n", "UnknownOperationException"},
		{"cut short", "", `{"__type":"Resource`, ""},
		{"cut short xml", "", `<Error><Code>NoSu`, ""},
		{"xml declaration only", "", `<?xml version="1.0"?>`, ""},
		{"plain text", "", "Internal Server Error", ""},
		{"empty", "", "", ""},
		{"no type", "", `{"message":"x"}`, ""},
		{"cbor", "", "\xa2\x66__type\x78\x19ResourceNotFoundException\x67message\x61x", "ResourceNotFoundException"},
		{"cbor, short type", "", "\xa1\x66__type\x61A", "A"},
		{"cbor cut short", "", "\xa2\x66__type\x78\x19Resource", ""},
		{"cbor without type", "", "\xa1\x67message\x61x", ""},
	} {
		h := http.Header{}
		if tc.header != "" {
			h["x-amzn-ErrorType"] = []string{tc.header}
		}
		if got := errorCode(h, []byte(tc.body)); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func FuzzErrorCode(f *testing.F) {
	f.Add(`{"__type":"a#b"}`)
	f.Add("<Error><Code>X</Code></Error>")
	f.Add("<A/>")
	f.Add("<")
	f.Add("\xa1\x66__type\x78\x01A")
	f.Fuzz(func(t *testing.T, body string) {
		errorCode(http.Header{}, []byte(body))
	})
}
