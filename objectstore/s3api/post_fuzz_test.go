package s3api

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"
)

// postFormSeeds are whole form bodies with boundary zz.
var postFormSeeds = []string{
	"--zz\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nuploads/${filename}\r\n--zz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"C:\\\\a\\\\b.txt\"\r\nContent-Type: text/plain\r\n\r\nabc\r\n--zz\r\nContent-Disposition: form-data; name=\"submit\"\r\n\r\nUpload\r\n--zz--\r\n",
	"--zz\r\nContent-Disposition: form-data; name=\"KEY\"\r\n\r\nk\r\n--zz\r\nContent-Disposition: form-data; name=\"x-amz-meta-a\"\r\n\r\n1\r\n--zz\r\nContent-Disposition: form-data; name=\"X-Amz-Meta-A\"\r\n\r\n2\r\n--zz\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n\r\n--zz--",
	"preamble\r\n--zz  \r\nContent-Disposition: form-data; name=\"file\"; filename=\"\"\r\n\r\nx\r\n--zz--\r\nepilogue",
	"--zz\r\nContent-Disposition: file; name=\"file\"\r\n\r\nnot the file\r\n--zz--\r\n",
	"--zz\r\nContent-Disposition: form-data\r\n\r\nno name\r\n--zz--\r\n",
	"--zz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\ntruncated",
	"--zz\r\nContent-Disposition: form-data; name=\"key\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\na=3Db\r\n--zz\r\nContent-Disposition: form-data; name=\"file\"; filename*=UTF-8''%E2%82%AC.txt\r\n\r\nx\r\n--zz--\r\n",
	"--zz\nContent-Disposition: form-data; name=\"key\"\n\nbare LF\n--zz--\n",
	"--zz\r\nContent-Disposition: form-data; name=\"tagging\"\r\n\r\n<Tagging><TagSet><Tag><Key>a</Key><Value>1</Value></Tag></TagSet></Tagging>\r\n--zz\r\nContent-Disposition: form-data; name=\"x-ignore-t\"\r\n\r\n<Other/>\r\n--zz\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n\r\n--zz--",
	"",
}

// FuzzPostForm feeds form bodies to the multipart/form-data reader, reads every field as a
// tagging document and the file through the size guard: it must not panic, must keep the fields before the file within S3's 20 KB,
// and must refuse a bad form with one of S3's 400 errors, never a Go error.
func FuzzPostForm(f *testing.F) {
	for _, s := range postFormSeeds {
		f.Add("multipart/form-data; boundary=zz", []byte(s), int64(0), int64(-1))
	}
	f.Add("multipart/form-data", []byte("--zz\r\n"), int64(0), int64(-1))
	f.Add(`multipart/form-data; boundary="a b"`, []byte("--a b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n12345\r\n--a b--"), int64(2), int64(3))
	f.Add("text/plain", []byte("x"), int64(0), int64(-1))
	f.Fuzz(func(t *testing.T, contentType string, body []byte, min, max int64) {
		form, serr := readPostForm(contentType, strings.NewReader(string(body)))
		if serr != nil {
			switch serr.code {
			case "MalformedPOSTRequest", "InvalidArgument", "MaxPostPreDataLengthExceeded":
			default:
				t.Fatalf("unexpected error %v", serr)
			}
			if serr.statusCode() != 400 {
				t.Fatalf("status %d for %v", serr.statusCode(), serr)
			}
			return
		}
		size := 0
		for _, fl := range form.fields {
			size += len(fl.name) + len(fl.value)
		}
		if size > maxPostPreData {
			t.Fatalf("kept %d bytes of fields", size)
		}
		form.header()
		form.checkSigningFields()
		for _, fl := range form.fields {
			if _, serr := postTagging(fl.value); serr != nil && serr.statusCode() != 400 {
				t.Fatalf("tagging %q: %v", fl.value, serr)
			}
		}
		if _, err := io.Copy(io.Discard, &postFileReader{r: form.file, min: min, max: max}); err != nil {
			if _, ok := bodyError(err).(*s3Error); !ok {
				t.Fatalf("file read error %v is no S3 error", err)
			}
		}
	})
}

// postPolicySeeds are decoded policy documents.
var postPolicySeeds = []string{
	`{"expiration": "2030-01-01T00:00:00.000Z", "conditions": [{"bucket": "b"}, ["starts-with", "$key", "user/"], {"acl": "public-read"}, ["content-length-range", 1, 10485760], ["eq", "$x-amz-meta-tag", "a\"b<c>"]]}`,
	`{"expiration": "2030-01-01T00:00:00Z", "conditions": [["StArTs-WiTh", "$CoNtEnT-TyPe", "image/"], ["content-length-range", "5", "10"], ["content-length-range", "test", "10"]]}`,
	`{"expiration": "2000-01-01T00:00:00Z", "conditions": []}`,
	`{"expiration": "2030-01-01T00:00:00+02:00", "conditions": []}`,
	`{"expiration": 5, "conditions": {}}`,
	`{"Version": "2012-10-17", "Statement": []}`,
	`{"expiration": "2030-01-01T00:00:00Z", "conditions": [{}, {"a": "1", "b": "2"}, {"n": 1}, {"z": null}, [], [1], ["eq"], ["nope", 1, 2], 7]}`,
	`{"expiration": "2030-01-01T00:00:00Z", "conditions": [["content-length-range", 0, 512.0], ["content-length-range", -1, 0], ["content-length-range", 0, 99999999999999999999]]}`,
	`{"expiration": "2030-01-01T00:00:00Z", "conditions": [],}`,
	`{"expiration": "2030-01-01T00:00:00Z", "conditions": []} trailing`,
	`[]`,
	``,
}

// FuzzPostPolicy feeds policy documents to the policy parser and checks parsed ones against a
// form: no panic, a refused policy is S3's 400 InvalidPolicyDocument, a failed check S3's 403
// AccessDenied, and every condition prints as the JSON array S3 quotes.
func FuzzPostPolicy(f *testing.F) {
	for _, s := range postPolicySeeds {
		f.Add(s, "user/a.txt", "image/png")
	}
	f.Fuzz(func(t *testing.T, doc, key, contentType string) {
		p, serr := parsePostPolicy(base64.StdEncoding.EncodeToString([]byte(doc)))
		if serr != nil {
			if serr.code != "InvalidPolicyDocument" || serr.statusCode() != 400 || !strings.HasPrefix(serr.message(), "Invalid Policy: ") {
				t.Fatalf("refused with %v (%d)", serr, serr.statusCode())
			}
			return
		}
		for _, c := range p.conditions {
			var items []any
			if err := json.Unmarshal([]byte(c.text), &items); err != nil || len(items) != 3 {
				t.Fatalf("condition prints as %q", c.text)
			}
		}
		form := &postForm{fields: []postField{{"key", key}, {"Content-Type", contentType}, {"x-ignore-x", "1"}, {"policy", "p"}}}
		min, max, serr := p.check(form, "b", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		if serr != nil {
			if serr.code != "AccessDenied" || serr.statusCode() != 403 || !strings.HasPrefix(serr.message(), "Invalid according to Policy: ") {
				t.Fatalf("check failed with %v", serr)
			}
			return
		}
		if min < 0 || max < -1 {
			t.Fatalf("bounds %d..%d", min, max)
		}
	})
}

// TestParsePostPolicyBase64 covers the policy field's own encoding, which the fuzz target
// always gets right.
func TestParsePostPolicyBase64(t *testing.T) {
	for _, in := range []string{"%%%", "eyJ", "e30=e30="} {
		if _, serr := parsePostPolicy(in); serr == nil || serr.message() != "Invalid Policy: invalid Base64 encoding." {
			t.Errorf("%q: %v", in, serr)
		}
	}
	if _, serr := parsePostPolicy(" " + base64.StdEncoding.EncodeToString([]byte(`{"expiration": "2030-01-01T00:00:00Z", "conditions": []}`)) + "\r\n"); serr != nil {
		t.Errorf("surrounding space: %v", serr)
	}
}

// TestPostFormPreDataBound checks that the fields before the file are bounded however they
// are spent: in values, in many small fields, or in part headers no field counts.
func TestPostFormPreDataBound(t *testing.T) {
	part := func(header, value string) string {
		return "--zz\r\nContent-Disposition: form-data; name=\"x-ignore-f\"\r\n" + header + "\r\n" + value + "\r\n"
	}
	file := "--zz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\n" + strings.Repeat("x", 200<<10) + "\r\n--zz--\r\n"
	for name, body := range map[string]string{
		"one large value":    part("", strings.Repeat("v", 20481)),
		"many small fields":  strings.Repeat(part("", "0123456789"), 1200),
		"large part headers": part("X-Pad: "+strings.Repeat("h", 100<<10)+"\r\n", "v"),
		"many part headers":  part(strings.Repeat("X-Pad: h\r\n", 20000), "v"),
	} {
		_, serr := readPostForm("multipart/form-data; boundary=zz", strings.NewReader(body+file))
		if serr == nil || serr.code != "MaxPostPreDataLengthExceeded" {
			t.Errorf("%s: %v", name, serr)
		}
	}
	// The file itself is not bounded by it.
	form, serr := readPostForm("multipart/form-data; boundary=zz", strings.NewReader(part("", "v")+file))
	if serr != nil {
		t.Fatal(serr)
	}
	if n, err := io.Copy(io.Discard, form.file); err != nil || n != 200<<10 {
		t.Errorf("file: %d bytes, %v", n, err)
	}
}
