package s3api

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"hash"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/localpipe/localpipe/objectstore"
)

// PostObject is the browser form upload (a presigned POST): a multipart/form-data POST to the
// bucket whose fields carry what a PutObject carries in headers, a policy the fields must
// satisfy (postpolicy.go), and, last, the file. The file is streamed into the store as it
// arrives; only the fields before it are held in memory, and S3 bounds those at 20 KB.

// maxPostPreData is S3's bound on the form's fields before the file.
const maxPostPreData = 20480

// postField is one form field before the file, its name as sent.
type postField struct{ name, value string }

// postForm is a form read up to the start of its file part.
type postForm struct {
	fields []postField
	file   io.Reader
	// filename is the file part's file name with any directory removed; hasFilename is
	// false when the part has no filename parameter, and then S3 leaves ${filename} as is.
	filename    string
	hasFilename bool
}

// value is the field's value, fields named alike (in any case) joined with commas as S3
// joins them.
func (f *postForm) value(lower string) (string, bool) {
	var vals []string
	for _, fl := range f.fields {
		if strings.EqualFold(fl.name, lower) {
			vals = append(vals, fl.value)
		}
	}
	return strings.Join(vals, ","), vals != nil
}

func malformedPost() *s3Error {
	return errMsg("MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data.").withStatus(400)
}

func preDataTooLarge() *s3Error {
	return errMsg("MaxPostPreDataLengthExceeded", "Your POST request fields preceeding the upload file was too large.",
		[2]string{"MaxPostPreDataLengthBytes", itoa(maxPostPreData)}).withStatus(400)
}

// preDataLimit stops a body whose parts before the file run far past S3's bound, so that a
// client cannot make the parser hold megabytes of part headers, which the field count below
// does not see. The multipart reader reads ahead, hence the slack.
type preDataLimit struct {
	r      io.Reader
	n      int64
	lifted bool
}

var errPreData = errors.New("s3 post: form fields before the file too large")

func (l *preDataLimit) Read(p []byte) (int, error) {
	if !l.lifted && l.n > maxPostPreData+64<<10 {
		return 0, errPreData
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	return n, err
}

// readPostForm reads the form's fields up to its file part. Fields after the file are never
// read: S3 ignores them.
func readPostForm(contentType string, body io.Reader) (*postForm, *s3Error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || !strings.EqualFold(mt, "multipart/form-data") || params["boundary"] == "" {
		return nil, malformedPost()
	}
	limit := &preDataLimit{r: body}
	mr := multipart.NewReader(limit, params["boundary"])
	form := &postForm{}
	size := 0
	for {
		part, err := mr.NextRawPart()
		if err == io.EOF {
			return nil, errMsg("InvalidArgument", "POST requires exactly one file upload per request.",
				[2]string{"ArgumentName", "file"}, [2]string{"ArgumentValue", "0"})
		}
		if errors.Is(err, errPreData) {
			return nil, preDataTooLarge()
		}
		if err != nil {
			return nil, malformedPost()
		}
		disp, dparams, err := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
		name := dparams["name"]
		if err != nil || name == "" {
			return nil, malformedPost()
		}
		// Only a form-data part named file is the file; S3 counts any other part, whatever
		// its filename, as a field.
		if strings.EqualFold(disp, "form-data") && strings.EqualFold(name, "file") {
			form.filename, form.hasFilename = dparams["filename"]
			if i := strings.LastIndexAny(form.filename, `/\`); i >= 0 {
				form.filename = form.filename[i+1:]
			}
			limit.lifted = true
			form.file = part
			return form, nil
		}
		v, err := io.ReadAll(io.LimitReader(part, int64(maxPostPreData-size-len(name)+1)))
		if errors.Is(err, errPreData) {
			return nil, preDataTooLarge()
		}
		if err != nil {
			return nil, malformedPost()
		}
		size += len(name) + len(v)
		if size > maxPostPreData {
			return nil, preDataTooLarge()
		}
		form.fields = append(form.fields, postField{name, string(v)})
	}
}

// postHeaders are the form fields that stand for PutObject's standard headers.
var postHeaders = map[string]string{
	"content-type": "Content-Type", "cache-control": "Cache-Control", "content-disposition": "Content-Disposition",
	"content-encoding": "Content-Encoding", "content-language": "Content-Language", "expires": "Expires",
	"content-md5": "Content-Md5", "acl": "X-Amz-Acl",
}

// postAuthFields are the signing fields; they say who signed, not what to store.
var postAuthFields = map[string]bool{
	"x-amz-algorithm": true, "x-amz-credential": true, "x-amz-date": true, "x-amz-signature": true,
	"x-amz-security-token": true,
}

// header turns the form's fields into the request headers a PutObject would carry, so the
// object gets its metadata, ACL, checksums and whatever else PutObject reads from headers by
// the same code.
func (f *postForm) header() http.Header {
	h := http.Header{}
	for _, fl := range f.fields {
		lower := strings.ToLower(fl.name)
		if name, ok := postHeaders[lower]; ok {
			h.Add(name, fl.value)
		} else if strings.HasPrefix(lower, "x-amz-") && !postAuthFields[lower] && lower != "x-amz-tagging" {
			h.Add(lower, fl.value)
		}
	}
	for k, vs := range h {
		if len(vs) > 1 {
			h[k] = []string{strings.Join(vs, ",")}
		}
	}
	return h
}

// missingField is S3's answer to a form without a field it needs (or with it after the file).
func missingField(name string) *s3Error {
	return errMsg("InvalidArgument", "Bucket POST must contain a field named '"+name+"'.  If it is specified, please check the order of the fields.",
		[2]string{"ArgumentName", name}, [2]string{"ArgumentValue", ""})
}

// checkSigningFields requires the fields a signed form carries, SigV4's or SigV2's. A form
// with neither a policy nor a signature is anonymous; localpipe enforces no ACLs, so it is let
// through as a publicly writable bucket would.
func (f *postForm) checkSigningFields() (policy string, signed bool, serr *s3Error) {
	policy, hasPolicy := f.value("policy")
	_, v4sig := f.value("x-amz-signature")
	_, v2sig := f.value("signature")
	_, v2key := f.value("awsaccesskeyid")
	_, v4alg := f.value("x-amz-algorithm")
	if !hasPolicy {
		if v4sig || v2sig {
			return "", false, missingField("Policy")
		}
		return "", false, nil
	}
	required := []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Signature"}
	if !v4alg && (v2key || v2sig) {
		required = []string{"AWSAccessKeyId", "Signature"}
	}
	for _, name := range required {
		if _, ok := f.value(strings.ToLower(name)); !ok {
			return "", false, missingField(name)
		}
	}
	return policy, true, nil
}

// postObject serves PostObject. The checks run in the order S3's recorded answers imply: the
// media type, the bucket, the form up to the file, the required fields, the policy; only
// then is the file read, so a refused form stores nothing and reads no more than its fields.
func (q *request) postObject() *s3Error {
	if mt, _, _ := mime.ParseMediaType(q.r.Header.Get("Content-Type")); !strings.EqualFold(mt, "multipart/form-data") {
		return errCode("PreconditionFailed", [2]string{"Condition", "Bucket POST must be of the enclosure-type multipart/form-data"})
	}
	if _, serr := q.bucketInfo(); serr != nil {
		return serr
	}
	form, serr := readPostForm(q.r.Header.Get("Content-Type"), q.r.Body)
	if serr != nil {
		return serr
	}
	// ${filename} is expanded in every field before the policy sees them.
	if form.hasFilename {
		for i := range form.fields {
			form.fields[i].value = strings.ReplaceAll(form.fields[i].value, "${filename}", form.filename)
		}
	}
	key, ok := form.value("key")
	if !ok || key == "" {
		return missingField("key")
	}
	q.key = key
	policyB64, signed, serr := form.checkSigningFields()
	if serr != nil {
		return serr
	}
	min, max := int64(0), int64(-1)
	if signed {
		p, serr := parsePostPolicy(policyB64)
		if serr != nil {
			return serr
		}
		if min, max, serr = p.check(form, q.bucket, time.Now()); serr != nil {
			return serr
		}
	}
	h := form.header()
	meta, serr := objectMeta(h)
	if serr != nil {
		return serr
	}
	q.defaultSSE(&meta)
	if doc, ok := form.value("tagging"); ok {
		if meta.Tags, serr = postTagging(doc); serr != nil {
			return serr
		}
	}
	body := &postFileReader{r: form.file, min: min, max: max}
	v, serr := postVerifier(body, h)
	if serr != nil {
		return serr
	}
	v.addDefaultChecksum()
	meta.Checksums = map[string]string{}
	v.computed = meta.Checksums
	info, err := q.h.store.PutObject(q.r.Context(), q.bucket, key, v, meta)
	if err != nil {
		if body.tooLarge {
			// S3 names the size it was offered; read the rest of the file to know it.
			n, _ := io.Copy(io.Discard, io.LimitReader(form.file, maxObjectSize))
			return errMsg("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size",
				[2]string{"ProposedSize", strconv.FormatInt(body.n+n, 10)}, [2]string{"MaxSizeAllowed", strconv.FormatInt(body.limit(), 10)})
		}
		return q.fail(err)
	}
	q.h.metrics.upload(q.bucket, info.Size)
	return q.postAnswer(form, key, info)
}

// postTagging reads the tagging field, an XML Tagging document. S3 refuses one that is not
// well-formed XML but stores no tags, without complaint, from a well-formed document with
// another root element.
func postTagging(doc string) ([]objectstore.Tag, *s3Error) {
	tags, serr := parseTagging([]byte(doc), maxObjectTags)
	if serr == nil || serr.code != "MalformedXML" {
		return tags, serr
	}
	dec := xml.NewDecoder(strings.NewReader(doc))
	root := ""
	for {
		tok, err := dec.Token()
		if err == io.EOF && root != "" && root != "Tagging" {
			return nil, nil
		}
		if err != nil {
			return nil, serr
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
}

// postVerifier checks the file against the Content-MD5 and x-amz-checksum-* fields, as
// PutObject checks its body against the same headers.
func postVerifier(body io.Reader, h http.Header) (*verifier, *s3Error) {
	v := &verifier{r: body, want: -1}
	if m := h.Get("Content-Md5"); m != "" {
		b, err := base64.StdEncoding.DecodeString(m)
		if err != nil || len(b) != md5.Size {
			return nil, errCode("InvalidDigest")
		}
		v.wantMD5, v.md5 = b, md5.New()
	}
	given, algs, _, serr := checksumHeaders(h)
	if serr != nil {
		return nil, serr
	}
	v.given = given
	v.sums = map[string]hash.Hash{}
	for _, alg := range algs {
		v.sums[alg] = objectstore.NewChecksum(alg)
	}
	return v, nil
}

// postFileReader is the file part, held to the policy's content-length-range and S3's
// single-request limit. A file outside them fails its read, so the store commits nothing.
type postFileReader struct {
	r        io.Reader
	n        int64
	min, max int64 // max -1: only S3's limit
	tooLarge bool
}

func (f *postFileReader) limit() int64 {
	if f.max >= 0 && f.max < maxObjectSize {
		return f.max
	}
	return maxObjectSize
}

func (f *postFileReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	f.n += int64(n)
	if f.n > f.limit() {
		f.tooLarge = true
		return 0, errCode("EntityTooLarge")
	}
	if err == io.EOF && f.n < f.min {
		return n, errMsg("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size",
			[2]string{"ProposedSize", strconv.FormatInt(f.n, 10)}, [2]string{"MinSizeAllowed", strconv.FormatInt(f.min, 10)})
	}
	if err != nil && err != io.EOF && !errors.Is(err, io.ErrUnexpectedEOF) {
		var se *s3Error
		if !errors.As(err, &se) {
			return n, malformedPost()
		}
	}
	return n, err
}

// postAnswer answers a stored upload: a 303 to success_action_redirect (or the older
// redirect) when it is an absolute URL, else the success_action_status asked for: 200 or 204
// empty, 201 with a PostResponse document; any other value is 204.
func (q *request) postAnswer(form *postForm, key string, info objectstore.ObjectInfo) *s3Error {
	hdr := q.w.Header()
	q.setVersionHeader(info.VersionID)
	hdr.Set("ETag", info.ETag)
	hdr.Set("X-Amz-Server-Side-Encryption", "AES256")
	writeChecksumHeaders(hdr, info)
	location := q.objectURL(key)
	redirect, ok := form.value("success_action_redirect")
	if !ok {
		redirect, _ = form.value("redirect")
	}
	if u, err := url.Parse(redirect); redirect != "" && err == nil && u.IsAbs() && u.Host != "" {
		sep := "?"
		if strings.Contains(redirect, "?") {
			sep = "&"
			if strings.HasSuffix(redirect, "?") || strings.HasSuffix(redirect, "&") {
				sep = ""
			}
		}
		hdr.Set("Location", redirect+sep+"bucket="+url.QueryEscape(q.bucket)+"&key="+url.QueryEscape(key)+"&etag="+url.QueryEscape(info.ETag))
		return q.empty(http.StatusSeeOther)
	}
	hdr.Set("Location", location)
	status, _ := form.value("success_action_status")
	switch status {
	case "200":
		return q.empty(http.StatusOK)
	case "201":
		var x xmlw
		x.header()
		x.open("PostResponse")
		x.elem("Location", location)
		x.elem("Bucket", q.bucket)
		x.elem("Key", key)
		x.elem("ETag", info.ETag)
		x.close("PostResponse")
		q.status = http.StatusCreated
		hdr.Set("Content-Type", "application/xml")
		hdr.Set("Content-Length", itoa(len(x.b)))
		q.w.WriteHeader(http.StatusCreated)
		q.w.Write(x.b)
		return nil
	}
	return q.empty(http.StatusNoContent)
}

// objectURL is the URL of a key in the request's bucket, addressed as the request addressed
// the bucket, with the key escaped as S3 escapes it in Location (a / too).
func (q *request) objectURL(key string) string {
	scheme := "http"
	if q.r.TLS != nil {
		scheme = "https"
	}
	base := scheme + "://" + q.r.Host
	if !VirtualHost(q.r) {
		base += "/" + url.PathEscape(q.bucket)
	}
	return base + "/" + url.PathEscape(key)
}
