package s3api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/localpipe/localpipe/objectstore/s3api"
)

// formFile is the file part of a test form; noName sends it without a filename parameter.
type formFile struct {
	filename string
	noName   bool
	body     string
}

// buildForm encodes fields in order, then the file, then after fields (which S3 ignores).
func buildForm(t *testing.T, fields [][2]string, file *formFile, after ...[2]string) (contentType string, body []byte) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, f := range fields {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	if file != nil {
		h := textproto.MIMEHeader{}
		if file.noName {
			h.Set("Content-Disposition", `form-data; name="file"`)
		} else {
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, file.filename))
		}
		h.Set("Content-Type", "image/png") // S3 ignores the part's type; the Content-Type field sets it
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, file.body)
	}
	for _, f := range after {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return mw.FormDataContentType(), b.Bytes()
}

// postPolicy64 is a policy document with the given conditions (JSON), base64.
func postPolicy64(expiration time.Time, conditions string) string {
	doc := `{"expiration": "` + expiration.UTC().Format("2006-01-02T15:04:05.000Z") + `", "conditions": ` + conditions + `}`
	return base64.StdEncoding.EncodeToString([]byte(doc))
}

// sigv4Fields are the signing fields botocore sends; localpipe checks their presence only.
func sigv4Fields(policy string) [][2]string {
	return [][2]string{
		{"x-amz-algorithm", "AWS4-HMAC-SHA256"},
		{"x-amz-credential", "AKID/20261202/us-east-1/s3/aws4_request"},
		{"x-amz-date", "20261202T000000Z"},
		{"policy", policy},
		{"x-amz-signature", "0123456789abcdef"},
	}
}

// signedConds are the conditions that cover sigv4Fields.
const signedConds = `{"x-amz-algorithm": "AWS4-HMAC-SHA256"}, {"x-amz-credential": "AKID/20261202/us-east-1/s3/aws4_request"}, {"x-amz-date": "20261202T000000Z"}`

func signedForm(conds string, fields ...[2]string) [][2]string {
	policy := postPolicy64(time.Now().Add(time.Hour), "["+signedConds+", "+conds+"]")
	return append(fields, sigv4Fields(policy)...)
}

// s3ErrorDoc is the XML error body.
type s3ErrorDoc struct {
	Code, Message, ArgumentName, Condition       string
	ProposedSize, MaxSizeAllowed, MinSizeAllowed string
	MaxPostPreDataLengthBytes                    string
}

func TestPostObjectForms(t *testing.T) {
	s := newServer(t)
	c := s.client(false)
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("form")}); err != nil {
		t.Fatal(err)
	}
	past := postPolicy64(time.Now().Add(-time.Minute), `[{"bucket": "form"}, {"key": "k"}]`)
	big := strings.Repeat("v", 21000)
	cases := []struct {
		name        string
		contentType string // overrides the form's
		raw         string // a raw body instead of a form
		fields      [][2]string
		file        *formFile
		after       [][2]string
		bucket      string
		status      int
		code, msg   string
		check       func(t *testing.T, e s3ErrorDoc)
	}{
		{name: "not multipart", contentType: "application/x-www-form-urlencoded", raw: "key=k", status: 412, code: "PreconditionFailed",
			check: func(t *testing.T, e s3ErrorDoc) {
				if e.Condition != "Bucket POST must be of the enclosure-type multipart/form-data" {
					t.Errorf("condition %q", e.Condition)
				}
			}},
		{name: "no boundary", contentType: "multipart/form-data", raw: "--x\r\n", status: 400, code: "MalformedPOSTRequest"},
		{name: "garbage body", contentType: "multipart/form-data; boundary=zz", raw: "--zz\r\nno headers end", status: 400, code: "MalformedPOSTRequest"},
		{name: "part without name", contentType: "multipart/form-data; boundary=zz", raw: "--zz\r\nContent-Disposition: form-data\r\n\r\nv\r\n--zz--\r\n", status: 400, code: "MalformedPOSTRequest"},
		{name: "no file", fields: [][2]string{{"key", "k"}}, status: 400, code: "InvalidArgument", msg: "POST requires exactly one file upload per request."},
		{name: "no key", file: &formFile{filename: "a"}, status: 400, code: "InvalidArgument",
			msg: "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields."},
		{name: "key after the file is ignored", file: &formFile{filename: "a"}, after: [][2]string{{"key", "k"}}, status: 400, code: "InvalidArgument"},
		{name: "empty key from empty filename", fields: [][2]string{{"key", "${filename}"}}, file: &formFile{}, status: 400, code: "InvalidArgument"},
		{name: "no such bucket", bucket: "nope", fields: [][2]string{{"key", "k"}}, file: &formFile{filename: "a"}, status: 404, code: "NoSuchBucket"},
		{name: "policy without signature", fields: [][2]string{{"key", "k"}, {"policy", past}, {"x-amz-algorithm", "AWS4-HMAC-SHA256"}, {"x-amz-credential", "c"}, {"x-amz-date", "d"}},
			file: &formFile{filename: "a"}, status: 400, code: "InvalidArgument",
			msg: "Bucket POST must contain a field named 'X-Amz-Signature'.  If it is specified, please check the order of the fields."},
		{name: "policy without algorithm", fields: [][2]string{{"key", "k"}, {"policy", past}, {"x-amz-signature", "s"}},
			file: &formFile{filename: "a"}, status: 400, code: "InvalidArgument", check: argName("X-Amz-Algorithm")},
		{name: "sigv2 without signature", fields: [][2]string{{"key", "k"}, {"AWSAccessKeyId", "AKID"}, {"policy", past}},
			file: &formFile{filename: "a"}, status: 400, code: "InvalidArgument", check: argName("Signature")},
		{name: "signature without policy", fields: [][2]string{{"key", "k"}, {"x-amz-signature", "s"}},
			file: &formFile{filename: "a"}, status: 400, code: "InvalidArgument", check: argName("Policy")},
		{name: "expired", fields: append([][2]string{{"key", "k"}}, sigv4Fields(past)...), file: &formFile{filename: "a"},
			status: 403, code: "AccessDenied", msg: "Invalid according to Policy: Policy expired."},
		{name: "policy not base64", fields: append([][2]string{{"key", "k"}}, sigv4Fields("%%%")...), file: &formFile{filename: "a"},
			status: 400, code: "InvalidPolicyDocument", msg: "Invalid Policy: invalid Base64 encoding."},
		{name: "policy not JSON", fields: append([][2]string{{"key", "k"}}, sigv4Fields(b64(`{"expiration": "2030-01-01T00:00:00Z", "conditions": [],}`))...),
			file: &formFile{filename: "a"}, status: 400, code: "InvalidPolicyDocument", msg: "Invalid Policy: Invalid JSON."},
		{name: "policy without expiration", fields: append([][2]string{{"key", "k"}}, sigv4Fields(b64(`{"conditions": []}`))...),
			file: &formFile{filename: "a"}, status: 400, code: "InvalidPolicyDocument", msg: "Invalid Policy: Policy missing expiration."},
		{name: "policy without conditions", fields: append([][2]string{{"key", "k"}}, sigv4Fields(b64(`{"expiration": "2030-01-01T00:00:00Z"}`))...),
			file: &formFile{filename: "a"}, status: 400, code: "InvalidPolicyDocument", msg: "Invalid Policy: Policy missing conditions."},
		{name: "expiration with offset", fields: append([][2]string{{"key", "k"}}, sigv4Fields(b64(`{"expiration": "2030-01-01T00:00:00+02:00", "conditions": []}`))...),
			file: &formFile{filename: "a"}, status: 400, code: "InvalidPolicyDocument", msg: "Invalid Policy: Invalid 'expiration' value: '2030-01-01T00:00:00+02:00'"},
		{name: "upper-case member", fields: append([][2]string{{"key", "k"}}, sigv4Fields(b64(`{"expiration": "2030-01-01T00:00:00Z", "CONDITIONS": []}`))...),
			file: &formFile{filename: "a"}, status: 400, code: "InvalidPolicyDocument", msg: "Invalid Policy: Unexpected: 'conditions'"},
		{name: "two-property simple condition", fields: signedForm(`{"bucket": "form", "key": "k"}`, [2]string{"key", "k"}),
			file: &formFile{filename: "a"}, status: 400, code: "InvalidPolicyDocument",
			msg: "Invalid Policy: Invalid Simple-Condition: Simple-Conditions must have exactly one property specified."},
		{name: "number in simple condition", fields: signedForm(`{"Content-Length": 6199034}`, [2]string{"key", "k"}),
			file: &formFile{filename: "a"}, status: 400, code: "InvalidPolicyDocument", msg: "Invalid Policy: Invalid Simple-Condition: value must be a string."},
		{name: "unknown operation", fields: signedForm(`["ends-with", "$key", "k"]`, [2]string{"key", "k"}),
			file: &formFile{filename: "a"}, status: 400, code: "InvalidPolicyDocument", msg: "Invalid Policy: Invalid Condition: unknown operation 'ends-with'."},
		{name: "empty condition", fields: signedForm(`[]`, [2]string{"key", "k"}),
			file: &formFile{filename: "a"}, status: 400, code: "InvalidPolicyDocument", msg: "Invalid Policy: Invalid Condition: missing operation identifier."},
		{name: "range missing a bound", fields: signedForm(`["content-length-range", 0]`, [2]string{"key", "k"}),
			file: &formFile{filename: "a"}, status: 400, code: "InvalidPolicyDocument", msg: "Invalid Policy: Invalid content-length-range: wrong number of arguments."},
		{name: "fractional range", fields: signedForm(`["content-length-range", 0, 512.0]`, [2]string{"key", "k"}),
			file: &formFile{filename: "a"}, status: 400, code: "InvalidPolicyDocument", msg: "Invalid Policy: Invalid JSON."},
		{name: "condition is a string", fields: signedForm(`"key"`, [2]string{"key", "k"}),
			file: &formFile{filename: "a"}, status: 400, code: "InvalidPolicyDocument", msg: "Invalid Policy: Invalid condition test: must be a List or Object."},
		{name: "key condition fails", fields: signedForm(`{"bucket": "form"}, {"key": "user/\"x\""}`, [2]string{"key", "k"}),
			file: &formFile{filename: "a"}, status: 403, code: "AccessDenied",
			msg: `Invalid according to Policy: Policy Condition failed: ["eq", "$key", "user/\"x\""]`},
		{name: "starts-with fails", fields: signedForm(`{"bucket": "form"}, ["starts-with", "$key", "uploads/"]`, [2]string{"key", "other/k"}),
			file: &formFile{filename: "a"}, status: 403, code: "AccessDenied",
			msg: `Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "uploads/"]`},
		{name: "bucket condition names another bucket", fields: signedForm(`{"bucket": "other"}, {"key": "k"}`, [2]string{"key", "k"}),
			file: &formFile{filename: "a"}, status: 403, code: "AccessDenied",
			msg: `Invalid according to Policy: Policy Condition failed: ["eq", "$bucket", "other"]`},
		{name: "condition on an absent field", fields: signedForm(`{"key": "k"}, ["starts-with", "$Content-Type", ""]`, [2]string{"key", "k"}),
			file: &formFile{filename: "a"}, status: 403, code: "AccessDenied",
			msg: `Invalid according to Policy: Policy Condition failed: ["starts-with", "$Content-Type", ""]`},
		{name: "condition without $", fields: signedForm(`["eq", "key", "k"]`, [2]string{"key", "k"}),
			file: &formFile{filename: "a"}, status: 403, code: "AccessDenied",
			msg: `Invalid according to Policy: Policy Condition failed: ["eq", "key", "k"]`},
		{name: "range bounds that are not numbers", fields: signedForm(`{"key": "k"}, ["content-length-range", "test", "10"]`, [2]string{"key", "k"}),
			file: &formFile{filename: "a"}, status: 403, code: "AccessDenied",
			msg: `Invalid according to Policy: Policy Condition failed: ["content-length-range", "test", "10"]`},
		{name: "extra field", fields: signedForm(`{"key": "k"}`, [2]string{"key", "k"}, [2]string{"X-Custom", "1"}),
			file: &formFile{filename: "a"}, status: 403, code: "AccessDenied", msg: "Invalid according to Policy: Extra input fields: X-Custom"},
		{name: "uncovered checksum field", fields: signedForm(`{"key": "k"}`, [2]string{"key", "k"}, [2]string{"x-amz-checksum-crc32", "NSRBwg=="}),
			file: &formFile{filename: "a", body: "abc"}, status: 403, code: "AccessDenied", msg: "Invalid according to Policy: Extra input fields: x-amz-checksum-crc32"},
		{name: "too large", fields: signedForm(`{"key": "k"}, ["content-length-range", 5, 10]`, [2]string{"key", "k"}),
			file: &formFile{filename: "a", body: "123456789012"}, status: 400, code: "EntityTooLarge", msg: "Your proposed upload exceeds the maximum allowed size",
			check: func(t *testing.T, e s3ErrorDoc) {
				if e.ProposedSize != "12" || e.MaxSizeAllowed != "10" {
					t.Errorf("sizes %+v", e)
				}
			}},
		{name: "too small", fields: signedForm(`{"key": "k"}, ["content-length-range", "5", "10"]`, [2]string{"key", "k"}),
			file: &formFile{filename: "a", body: "1"}, status: 400, code: "EntityTooSmall", msg: "Your proposed upload is smaller than the minimum allowed size",
			check: func(t *testing.T, e s3ErrorDoc) {
				if e.ProposedSize != "1" || e.MinSizeAllowed != "5" {
					t.Errorf("sizes %+v", e)
				}
			}},
		{name: "bad checksum", fields: signedForm(`{"key": "k"}, {"x-amz-checksum-crc32": "AAAAAA=="}`, [2]string{"key", "k"}, [2]string{"x-amz-checksum-crc32", "AAAAAA=="}),
			file: &formFile{filename: "a", body: "abc"}, status: 400, code: "BadDigest"},
		{name: "bad Content-MD5", fields: [][2]string{{"key", "k"}, {"Content-MD5", md5b64("other")}},
			file: &formFile{filename: "a", body: "abc"}, status: 400, code: "BadDigest"},
		{name: "malformed tagging", fields: [][2]string{{"key", "k"}, {"tagging", "not-xml"}},
			file: &formFile{filename: "a"}, status: 400, code: "MalformedXML"},
		{name: "fields before the file too large", fields: [][2]string{{"key", "k"}, {"x-ignore-a", big}},
			file: &formFile{filename: "a"}, status: 400, code: "MaxPostPreDataLengthExceeded",
			check: func(t *testing.T, e s3ErrorDoc) {
				if e.MaxPostPreDataLengthBytes != "20480" {
					t.Errorf("limit %q", e.MaxPostPreDataLengthBytes)
				}
			}},
		{name: "truncated file", contentType: "multipart/form-data; boundary=zz",
			raw:    "--zz\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nk\r\n--zz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nabc",
			status: 400, code: "IncompleteBody"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ct, body := tc.contentType, []byte(tc.raw)
			if tc.raw == "" {
				ct, body = buildForm(t, tc.fields, tc.file, tc.after...)
			}
			bucket := tc.bucket
			if bucket == "" {
				bucket = "form"
			}
			resp, text := s.do(t, "POST", "/"+bucket, bytes.NewReader(body), map[string]string{"Content-Type": ct})
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, text)
			}
			var e s3ErrorDoc
			if err := xml.Unmarshal([]byte(text), &e); err != nil {
				t.Fatalf("error body %q: %v", text, err)
			}
			if e.Code != tc.code || tc.msg != "" && e.Message != tc.msg {
				t.Errorf("got %s %q, want %s %q", e.Code, e.Message, tc.code, tc.msg)
			}
			if tc.check != nil {
				tc.check(t, e)
			}
			if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("form"), Key: aws.String("k")}); httpStatus(err) != 404 {
				t.Errorf("a refused upload left an object: %v", err)
			}
		})
	}
}

func argName(name string) func(t *testing.T, e s3ErrorDoc) {
	return func(t *testing.T, e s3ErrorDoc) {
		t.Helper()
		if e.ArgumentName != name {
			t.Errorf("ArgumentName %q, want %q", e.ArgumentName, name)
		}
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// TestPostObjectStores checks what a form upload stores and how it answers, in path and
// virtual-host style.
func TestPostObjectStores(t *testing.T) {
	forStyles(t, func(t *testing.T, s *server, c *s3.Client) {
		ctx := context.Background()
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("upl")}); err != nil {
			t.Fatal(err)
		}
		vhost := !c.Options().UsePathStyle
		post := func(t *testing.T, fields [][2]string, file *formFile) (*http.Response, string) {
			t.Helper()
			ct, body := buildForm(t, fields, file)
			h := map[string]string{"Content-Type": ct}
			path := "/upl"
			if vhost {
				h["Host"], path = "upl.s3.localhost", "/"
			}
			return s.do(t, "POST", path, bytes.NewReader(body), h)
		}
		base := "http://" + s.addr + "/upl/"
		if vhost {
			base = "http://upl.s3.localhost/"
		}

		t.Run("metadata, case-insensitive names, ${filename}", func(t *testing.T) {
			conds := `{"bucket": "upl"}, ["starts-with", "$key", "user/"], {"acl": "public-read"}, ["starts-with", "$Content-Type", "image/"],
				{"Cache-Control": "max-age=60"}, ["starts-with", "$x-amz-meta-owner", ""], {"tagging": "<Tagging><TagSet><Tag><Key>a</Key><Value>1</Value></Tag></TagSet></Tagging>"},
				{"x-amz-checksum-crc32": "NSRBwg=="}, {"success_action_status": "201"}`
			fields := signedForm(conds, [2]string{"KEY", "user/${filename}"}, [2]string{"acl", "public-read"},
				[2]string{"content-type", "image/png,image/gif"}, [2]string{"Cache-Control", "max-age=60"},
				[2]string{"X-Amz-Meta-Owner", "eric"}, [2]string{"x-ignore-me", "anything"},
				[2]string{"tagging", "<Tagging><TagSet><Tag><Key>a</Key><Value>1</Value></Tag></TagSet></Tagging>"},
				[2]string{"x-amz-checksum-crc32", "NSRBwg=="}, [2]string{"success_action_status", "201"})
			for i := range fields {
				if fields[i][0] == "policy" {
					fields[i][0] = "Policy"
				}
			}
			resp, text := post(t, fields, &formFile{filename: `C:\Users\eric\a b.png`, body: "abc"})
			if resp.StatusCode != 201 {
				t.Fatalf("status %d: %s", resp.StatusCode, text)
			}
			var pr struct {
				XMLName                     xml.Name `xml:"PostResponse"`
				Location, Bucket, Key, ETag string
			}
			if err := xml.Unmarshal([]byte(text), &pr); err != nil {
				t.Fatal(err)
			}
			want := md5ETag([]byte("abc"))
			if pr.Bucket != "upl" || pr.Key != "user/a b.png" || pr.ETag != want || pr.Location != base+"user%2Fa%20b.png" {
				t.Errorf("PostResponse %+v", pr)
			}
			if resp.Header.Get("ETag") != want || resp.Header.Get("Location") != pr.Location {
				t.Errorf("headers %v", resp.Header)
			}
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("upl"), Key: aws.String("user/a b.png"), ChecksumMode: "ENABLED"})
			if got := string(read(t, out, err)); got != "abc" {
				t.Fatalf("body %q", got)
			}
			if aws.ToString(out.ContentType) != "image/png,image/gif" || aws.ToString(out.CacheControl) != "max-age=60" ||
				out.Metadata["owner"] != "eric" || aws.ToInt32(out.TagCount) != 1 || aws.ToString(out.ChecksumCRC32) != "NSRBwg==" {
				t.Errorf("stored %+v", out)
			}
			acl, err := c.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String("upl"), Key: aws.String("user/a b.png")})
			if err != nil || len(acl.Grants) != 2 {
				t.Errorf("acl %+v %v", acl, err)
			}
		})

		t.Run("default 204, 200, redirects", func(t *testing.T) {
			resp, text := post(t, [][2]string{{"key", "anon"}}, &formFile{filename: "f", body: "x"})
			if resp.StatusCode != 204 || text != "" || resp.Header.Get("ETag") != md5ETag([]byte("x")) || resp.Header.Get("Location") != base+"anon" {
				t.Errorf("default: %d %q %v", resp.StatusCode, text, resp.Header)
			}
			resp, _ = post(t, [][2]string{{"key", "anon"}, {"success_action_status", "200"}}, &formFile{filename: "f"})
			if resp.StatusCode != 200 {
				t.Errorf("200: %d", resp.StatusCode)
			}
			resp, _ = post(t, [][2]string{{"key", "anon"}, {"success_action_status", "404"}}, &formFile{filename: "f"})
			if resp.StatusCode != 204 {
				t.Errorf("invalid status: %d", resp.StatusCode)
			}
			// s.do follows redirects, as a browser does: the request it ended with shows where the
			// 303 pointed (a GET after a POST is a 303's).
			redirected := func(resp *http.Response) string {
				if resp.Request.Method != "GET" {
					return "not redirected by a 303"
				}
				return resp.Request.URL.String()
			}
			resp, _ = post(t, [][2]string{{"key", "dir/a b"}, {"success_action_redirect", s.url + "/upl?x=1"}, {"success_action_status", "201"}}, &formFile{filename: "f", body: "x"})
			wantLoc := s.url + "/upl?x=1&bucket=upl&key=dir%2Fa+b&etag=" + url.QueryEscape(md5ETag([]byte("x")))
			if got := redirected(resp); got != wantLoc {
				t.Errorf("redirect to %q, want %q", got, wantLoc)
			}
			resp, _ = post(t, [][2]string{{"key", "k"}, {"redirect", s.url + "/upl"}}, &formFile{filename: "f"})
			if got := redirected(resp); !strings.HasPrefix(got, s.url+"/upl?bucket=upl&key=k&etag=%22") {
				t.Errorf("old redirect field: %q", got)
			}
			resp, _ = post(t, [][2]string{{"key", "k"}, {"success_action_redirect", "/relative"}}, &formFile{filename: "f"})
			if resp.StatusCode != 204 {
				t.Errorf("relative redirect: %d", resp.StatusCode)
			}
		})

		t.Run("a page's form post gets the bucket's CORS headers", func(t *testing.T) {
			if _, err := c.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: aws.String("upl"), CORSConfiguration: &types.CORSConfiguration{CORSRules: []types.CORSRule{
				{AllowedOrigins: []string{"http://app.test"}, AllowedMethods: []string{"POST"}, ExposeHeaders: []string{"ETag", "Location"}},
			}}}); err != nil {
				t.Fatal(err)
			}
			defer c.DeleteBucketCors(ctx, &s3.DeleteBucketCorsInput{Bucket: aws.String("upl")})
			for _, tc := range []struct {
				fields [][2]string
				status int
			}{
				{[][2]string{{"key", "cors"}}, 204},
				{append(signedForm(`{"key": "cors"}`, [2]string{"key", "cors"}), [2]string{"x-extra", "1"}), 403}, // a page may read the error too
			} {
				ct, body := buildForm(t, tc.fields, &formFile{filename: "f"})
				h := map[string]string{"Content-Type": ct, "Origin": "http://app.test"}
				path := "/upl"
				if vhost {
					h["Host"], path = "upl.s3.localhost", "/"
				}
				resp, text := s.do(t, "POST", path, bytes.NewReader(body), h)
				if resp.StatusCode != tc.status || resp.Header.Get("Access-Control-Allow-Origin") != "http://app.test" ||
					!strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "Location") {
					t.Errorf("%d %v %s", resp.StatusCode, resp.Header, text)
				}
			}
		})

		t.Run("a versioned bucket answers with the version made", func(t *testing.T) {
			if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("upl"),
				VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
				t.Fatal(err)
			}
			resp, text := post(t, [][2]string{{"key", "versioned"}}, &formFile{filename: "f", body: "v1"})
			id := resp.Header.Get("X-Amz-Version-Id")
			if resp.StatusCode != 204 || id == "" {
				t.Fatalf("%d %v %s", resp.StatusCode, resp.Header, text)
			}
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("upl"), Key: aws.String("versioned"), VersionId: aws.String(id)})
			if got := string(read(t, out, err)); got != "v1" {
				t.Errorf("version %s holds %q", id, got)
			}
		})

		t.Run("tagging with another root element stores no tags", func(t *testing.T) {
			resp, text := post(t, [][2]string{{"key", "untagged"}, {"tagging", "<InvalidXmlTagging></InvalidXmlTagging>"}}, &formFile{filename: "f"})
			if resp.StatusCode != 204 {
				t.Fatalf("%d %s", resp.StatusCode, text)
			}
			tags, err := c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("upl"), Key: aws.String("untagged")})
			if err != nil || len(tags.TagSet) != 0 {
				t.Errorf("tags %+v %v", tags, err)
			}
		})

		t.Run("file without filename keeps ${filename}", func(t *testing.T) {
			resp, text := post(t, [][2]string{{"key", "lit-${filename}"}}, &formFile{noName: true, body: "x"})
			if resp.StatusCode != 204 {
				t.Fatalf("%d %s", resp.StatusCode, text)
			}
			out, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("upl"), Key: aws.String("lit-${filename}")})
			if err != nil || aws.ToString(out.ContentType) != "binary/octet-stream" {
				t.Errorf("head %+v %v", out, err)
			}
		})
	})
}

// TestPresignPostSDK uploads through the form the AWS SDK for Go v2's PresignPostObject makes,
// and checks that its policy's conditions hold: the key it names and a size range.
func TestPresignPostSDK(t *testing.T) {
	forStyles(t, func(t *testing.T, s *server, c *s3.Client) {
		ctx := context.Background()
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("sdk")}); err != nil {
			t.Fatal(err)
		}
		pc := s3.NewPresignClient(c)
		presign := func(t *testing.T, key string) *s3.PresignedPostRequest {
			t.Helper()
			p, err := pc.PresignPostObject(ctx, &s3.PutObjectInput{Bucket: aws.String("sdk"), Key: aws.String(key)}, func(o *s3.PresignPostOptions) {
				o.Expires = 5 * time.Minute
				o.Conditions = []any{[]any{"content-length-range", 1, 16}}
			})
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		// The client dials the server whatever host the URL names, as the SDK client does.
		dialer := &net.Dialer{}
		hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, s.addr)
		}}}
		send := func(t *testing.T, p *s3.PresignedPostRequest, edit func(map[string]string), body string) (int, string) {
			t.Helper()
			values := map[string]string{}
			for k, v := range p.Values {
				values[k] = v
			}
			if edit != nil {
				edit(values)
			}
			var fields [][2]string
			for k, v := range values {
				fields = append(fields, [2]string{k, v})
			}
			ct, b := buildForm(t, fields, &formFile{filename: "f.txt", body: body})
			resp, err := hc.Post(p.URL, ct, bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			text, _ := io.ReadAll(resp.Body)
			var e s3ErrorDoc
			if resp.StatusCode >= 300 {
				if err := xml.Unmarshal(text, &e); err != nil {
					t.Fatalf("%d %q: %v", resp.StatusCode, text, err)
				}
				return resp.StatusCode, e.Code + ": " + e.Message
			}
			return resp.StatusCode, string(text)
		}

		p := presign(t, "from/sdk.txt")
		if status, text := send(t, p, nil, "hello"); status != 204 {
			t.Fatalf("upload: %d %s", status, text)
		}
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("sdk"), Key: aws.String("from/sdk.txt")})
		if got := string(read(t, out, err)); got != "hello" {
			t.Fatalf("stored %q", got)
		}
		if status, text := send(t, p, nil, strings.Repeat("x", 17)); status != 400 || !strings.HasPrefix(text, "EntityTooLarge:") {
			t.Errorf("oversize: %d %s", status, text)
		}
		if status, text := send(t, p, func(v map[string]string) { v["key"] = "elsewhere" }, "x"); status != 403 ||
			!strings.Contains(text, `Policy Condition failed: ["eq", "$key", "from/sdk.txt"]`) {
			t.Errorf("other key: %d %s", status, text)
		}
		if status, text := send(t, p, func(v map[string]string) { v["x-amz-meta-extra"] = "1" }, "x"); status != 403 ||
			!strings.Contains(text, "Extra input fields: x-amz-meta-extra") {
			t.Errorf("extra field: %d %s", status, text)
		}
	})
}

// zeros reads as an endless run of zero bytes, without holding them.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestPostObjectStreams posts a 32 MiB file and checks that the upload allocated a small
// fraction of that: the file part goes to the store as it arrives, never whole into memory.
func TestPostObjectStreams(t *testing.T) {
	s := newServer(t)
	ctx := context.Background()
	if err := s.store.CreateBucket(ctx, "big", "us-east-1"); err != nil {
		t.Fatal(err)
	}
	h := s3api.New(s.store, s3api.Options{})
	const size = 32 << 20
	head := "--zz\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nlarge\r\n" +
		"--zz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"large.bin\"\r\n\r\n"
	body := io.MultiReader(strings.NewReader(head), io.LimitReader(zeros{}, size), strings.NewReader("\r\n--zz--\r\n"))
	req := httptest.NewRequest("POST", "/big", body)
	req.Header.Set("Content-Type", "multipart/form-data; boundary=zz")
	rec := httptest.NewRecorder()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	h.ServeHTTP(rec, req)
	runtime.ReadMemStats(&after)
	if rec.Code != 204 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	if alloc > size/8 {
		t.Errorf("a %d-byte upload allocated %d bytes", size, alloc)
	}
	t.Logf("a %d-byte upload allocated %d bytes", size, alloc)
	info, err := s.store.HeadObject(ctx, "big", "large")
	if err != nil || info.Size != size {
		t.Errorf("stored %+v, %v", info, err)
	}
}
