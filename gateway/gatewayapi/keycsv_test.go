package gatewayapi

import (
	"reflect"
	"strings"
	"testing"
)

const key20 = "apikey1234abcdefghij0123456789"

func TestParseKeyCSV(t *testing.T) {
	got, err := parseKeyCSV("Enabled,Name,key,UsageplanIds,Extra\r\n" +
		"true,First," + key20 + ",\"c7y23b,glvrsr\",x\r\n" +
		"\n" +
		"FALSE,'Second, with comma'," + key20 + "X,'',y\n" +
		",Third," + key20 + "Y,abc,\n")
	if err != nil {
		t.Fatal(err)
	}
	want := []importedKey{
		{Line: 2, Name: "First", Key: key20, Enabled: true, UsagePlanIDs: []string{"c7y23b", "glvrsr"}},
		{Line: 4, Name: "Second, with comma", Key: key20 + "X", Enabled: false},
		{Line: 5, Name: "Third", Key: key20 + "Y", Enabled: true, UsagePlanIDs: []string{"abc"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	// The documentation's own examples.
	for _, doc := range []string{
		"Key,name\napikey1234abcdefghij0123456789,MyFirstApiKey",
		"Name,key,description,Enabled,usageplanIds\nMyFirstApiKey,apikey1234abcdefghij0123456789,An imported key,TRUE,c7y23b",
	} {
		if ks, err := parseKeyCSV(doc); err != nil || len(ks) != 1 || ks[0].Name != "MyFirstApiKey" || ks[0].Key != key20 || !ks[0].Enabled {
			t.Errorf("%q: %+v, %v", doc, ks, err)
		}
	}
}

func TestParseKeyCSVBadInput(t *testing.T) {
	for _, tc := range []struct{ in, msg string }{
		{"", "empty"},
		{"\n\n", "empty"},
		{"Name\nx", "no key column"},
		{"Key\n" + key20, "no name column"},
		{"Key,Name,key\n" + key20 + ",a,b", "appears twice"},
		{"Key,Name\n" + key20, "1 fields, but the header has 2"},
		{"Key,Name\n" + key20 + ",a,b", "3 fields"},
		{"Key,Name\nshort,a", "between 20 and 128"},
		{"Key,Name\n" + strings.Repeat("k", 129) + ",a", "between 20 and 128"},
		{"Key,Name\n" + key20 + "," + strings.Repeat("n", 1025), "cannot exceed 1024"},
		{"Key,Name,Enabled\n" + key20 + ",a,yes", "Enabled must be true or false"},
		{"Key,Name\n\"" + key20 + ",a", "not closed"},
		{"Key,Name\n\"" + key20 + "\"x,a", "after a closing quote"},
		{"Key,Name\nab\"c" + key20 + ",a", "quote inside an unquoted field"},
	} {
		if ks, err := parseKeyCSV(tc.in); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%q: %+v, %v; want an error containing %q", tc.in, ks, err, tc.msg)
		}
	}
}

// FuzzParseKeyCSV checks that any input parses or fails cleanly, and that what parses
// keeps the documented limits.
func FuzzParseKeyCSV(f *testing.F) {
	for _, s := range []string{
		"Key,name\n" + key20 + ",MyFirstApiKey",
		"Enabled,Name,key,UsageplanIds\ntrue,MyFirstApiKey," + key20 + ",\"c7y23b,glvrsr\"",
		"Name,Key\r\n'a''b'," + key20 + "\r\n",
		"Key,Name\n\"" + key20,
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		ks, err := parseKeyCSV(in)
		if err != nil {
			return
		}
		for _, k := range ks {
			if len(k.Key) < 20 || len(k.Key) > 128 || len(k.Name) > 1024 || k.Line < 2 {
				t.Fatalf("%q: accepted %+v", in, k)
			}
		}
	})
}
