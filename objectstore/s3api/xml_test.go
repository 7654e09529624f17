package s3api

import (
	"encoding/xml"
	"errors"
	"strings"
	"testing"
)

func TestDecodeXML(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		keys      int
		bad       bool
	}{
		{name: "plain", doc: `<Delete><Object><Key>a</Key></Object><Object><Key>b</Key></Object></Delete>`, keys: 2},
		{name: "namespace and prolog", doc: `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet><Object><Key>a&amp;b</Key></Object></Delete>` + "\n", keys: 1},
		{name: "comment", doc: `<!-- c --><Delete><Object><Key>a</Key></Object></Delete>`, keys: 1},
		{name: "empty", doc: ``, bad: true},
		{name: "not xml", doc: `{"Delete": []}`, bad: true},
		{name: "wrong root", doc: `<Remove><Object><Key>a</Key></Object></Remove>`, bad: true},
		{name: "wrong namespace", doc: `<Delete xmlns="urn:other"><Object><Key>a</Key></Object></Delete>`, bad: true},
		{name: "unclosed", doc: `<Delete><Object><Key>a</Key></Object>`, bad: true},
		{name: "mismatched tags", doc: `<Delete><Object><Key>a</Object></Key></Delete>`, bad: true},
		{name: "trailing element", doc: `<Delete></Delete><Delete></Delete>`, bad: true},
		{name: "trailing text", doc: `<Delete></Delete>junk`, bad: true},
		{name: "bad entity", doc: `<Delete><Object><Key>&nope;</Key></Object></Delete>`, bad: true},
		{name: "bad bool", doc: `<Delete><Quiet>maybe</Quiet></Delete>`, bad: true},
		{name: "text before root", doc: `junk<Delete></Delete>`, bad: true},
		{name: "too large", doc: `<Delete>` + strings.Repeat(" ", maxXMLBody) + `</Delete>`, bad: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var d deleteRequest
			err := decodeXML(strings.NewReader(tc.doc), "Delete", &d)
			if tc.bad {
				if !errors.Is(err, errMalformedXML) {
					t.Fatalf("err %v, want MalformedXML", err)
				}
				return
			}
			if err != nil || len(d.Objects) != tc.keys {
				t.Fatalf("%+v %v", d, err)
			}
		})
	}
	var c completeRequest
	err := decodeXML(strings.NewReader(`<CompleteMultipartUpload><Part><PartNumber>x</PartNumber></Part></CompleteMultipartUpload>`), "CompleteMultipartUpload", &c)
	if !errors.Is(err, errMalformedXML) {
		t.Errorf("non-numeric part number: %v", err)
	}
}

func FuzzDecodeXML(f *testing.F) {
	f.Add(`<Delete><Object><Key>a</Key></Object></Delete>`)
	f.Add(`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"x"</ETag></Part></CompleteMultipartUpload>`)
	f.Add(`<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>`)
	f.Add(`<Delete><Object><Key>&#0;</Key></Object></Delete>`)
	f.Fuzz(func(t *testing.T, doc string) {
		var d deleteRequest
		decodeXML(strings.NewReader(doc), "Delete", &d)
		var c completeRequest
		decodeXML(strings.NewReader(doc), "CompleteMultipartUpload", &c)
		var b createBucketRequest
		decodeXML(strings.NewReader(doc), "CreateBucketConfiguration", &b)
	})
}

// TestXMLWriterRoundTrip checks that whatever a key holds, the listing document stays well
// formed and a standard parser reads back the key (control characters aside, which XML 1.0
// cannot carry and S3 too sends as references).
func FuzzXMLText(f *testing.F) {
	for _, k := range []string{"a", "<&>\"'", "tab\tnew\nline\rcr", "\x00\x01\x1f", "unicodé 日本", "\xff\xfe"} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		var x xmlw
		x.root("R")
		x.elem("Key", key)
		x.close("R")
		var out struct {
			Key string `xml:"Key"`
		}
		dec := xml.NewDecoder(strings.NewReader(string(x.b)))
		if err := dec.Decode(&out); err != nil {
			// encoding/xml rejects references to characters XML 1.0 forbids; S3's clients
			// meet the same bytes from S3.
			if strings.ContainsFunc(key, func(r rune) bool { return r < 0x20 && r != '\t' && r != '\n' && r != '\r' }) {
				return
			}
			t.Fatalf("%q: %v\n%s", key, err, x.b)
		}
		if !strings.ContainsRune(key, 0xFFFD) && strings.ToValidUTF8(key, "\uFFFD") == key && out.Key != strings.ReplaceAll(key, "\r", "\r") {
			t.Fatalf("%q read back as %q", key, out.Key)
		}
	})
}
