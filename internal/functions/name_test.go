package functions

import (
	"strings"
	"testing"
)

func TestParseName(t *testing.T) {
	good := []struct {
		in   string
		want Name
	}{
		{"transform", Name{Function: "transform"}},
		{"transform:live", Name{Function: "transform", Qualifier: "live"}},
		{"transform:$LATEST", Name{Function: "transform", Qualifier: "$LATEST"}},
		{"123456789012:function:f_1", Name{Account: "123456789012", Function: "f_1"}},
		{"arn:aws:lambda:us-east-1:000000000000:function:transform", Name{Partition: "aws", Region: "us-east-1", Account: "000000000000", Function: "transform"}},
		{"arn:aws-us-gov:lambda:us-gov-west-1:000000000000:function:t:7", Name{Partition: "aws-us-gov", Region: "us-gov-west-1", Account: "000000000000", Function: "t", Qualifier: "7"}},
	}
	for _, c := range good {
		got, err := ParseName(c.in)
		if err != nil {
			t.Errorf("ParseName(%q): %v", c.in, err)
			continue
		}
		if got != c.want {
			t.Errorf("ParseName(%q) = %+v, want %+v", c.in, got, c.want)
		}
		if got.String() != c.in {
			t.Errorf("ParseName(%q).String() = %q", c.in, got.String())
		}
	}
}

func TestParseNameBad(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", "empty"},
		{"a b", "1 to 64"},
		{"f:", "qualifier"},
		{"f:a:b", "want NAME"},
		{"f:al ias", "qualifier"},
		{strings.Repeat("f", 65), "1 to 64"},
		{strings.Repeat("f", 171), "170"},
		{"arn:aws:lambda:us-east-1:000000000000:function", "want arn:aws:lambda"},
		{"arn:aws:s3:us-east-1:000000000000:function:f", "want arn:aws:lambda"},
		{"arn:aws:lambda:us-east-1:000000000000:layer:f", "want arn:aws:lambda"},
		{"arn:gcp:lambda:us-east-1:000000000000:function:f", "want arn:aws:lambda"},
		{"arn:aws:lambda:useast1:000000000000:function:f", "region"},
		{"arn:aws:lambda:us-east-x:000000000000:function:f", "region"},
		{"arn:aws:lambda:us-east-1:0000:function:f", "12 digits"},
		{"arn:aws:lambda:us-east-1:000000000000:function::q", "1 to 64"},
		{"arn:aws:lambda:us-east-1:000000000000:function:f:q:r", "want arn:aws:lambda"},
		{"12345:function:f", "partial ARN"},
		{"123456789012:function:f:q:r", "partial ARN"},
	} {
		_, err := ParseName(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseName(%q) = %v, want an error saying %q", c.in, err, c.want)
		}
	}
}

// FuzzParseName holds that a name either fails to parse or prints back to itself.
func FuzzParseName(f *testing.F) {
	for _, s := range []string{"f", "f:1", "123456789012:function:f", "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST", "arn:aws:lambda::::", "f::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseName(s)
		if err != nil {
			return
		}
		if n.String() != s {
			t.Fatalf("ParseName(%q).String() = %q", s, n.String())
		}
	})
}
