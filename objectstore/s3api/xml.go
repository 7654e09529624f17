package s3api

import (
	"encoding/xml"
	"errors"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

const s3NS = "http://s3.amazonaws.com/doc/2006-03-01/"

// xmlw builds S3's response documents. It writes what S3 writes — `&quot;` around ETags, no
// indentation — which encoding/xml's escaping (`&#34;`) does not.
type xmlw struct{ b []byte }

func (x *xmlw) header() { x.b = append(x.b, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"...) }

// root opens the document element with S3's namespace.
func (x *xmlw) root(name string) {
	x.b = append(x.b, '<')
	x.b = append(x.b, name...)
	x.b = append(x.b, ` xmlns="`+s3NS+`">`...)
}

func (x *xmlw) open(name string) {
	x.b = append(x.b, '<')
	x.b = append(x.b, name...)
	x.b = append(x.b, '>')
}

func (x *xmlw) close(name string) {
	x.b = append(x.b, "</"...)
	x.b = append(x.b, name...)
	x.b = append(x.b, '>')
}

func (x *xmlw) elem(name, text string) {
	x.open(name)
	x.text(text)
	x.close(name)
}

func (x *xmlw) elemInt(name string, n int64) { x.elem(name, strconv.FormatInt(n, 10)) }

func (x *xmlw) elemBool(name string, b bool) { x.elem(name, strconv.FormatBool(b)) }

func (x *xmlw) elemTime(name string, t time.Time) { x.elem(name, isoTime(t)) }

// text escapes character data. Characters XML 1.0 cannot carry (most control characters) are
// written as numeric references, as S3 does for keys that contain them.
func (x *xmlw) text(s string) { x.escape(s, true) }

// message writes an error message as S3 does: quotes as they are (minio-go's suite, run
// against S3, matches "Policy Condition failed: [\"eq\", …" in the raw body), though ETags
// and keys elsewhere get &quot;.
func (x *xmlw) message(name, s string) {
	x.open(name)
	x.escape(s, false)
	x.close(name)
}

func (x *xmlw) escape(s string, quotes bool) {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '<':
				x.b = append(x.b, "&lt;"...)
			case c == '>':
				x.b = append(x.b, "&gt;"...)
			case c == '&':
				x.b = append(x.b, "&amp;"...)
			case c == '"' && quotes:
				x.b = append(x.b, "&quot;"...)
			case c == '\'' && quotes:
				x.b = append(x.b, "&apos;"...)
			case c == '\r':
				x.b = append(x.b, "&#13;"...)
			case c < 0x20 && c != '\n' && c != '\t':
				x.b = append(x.b, "&#"...)
				x.b = strconv.AppendInt(x.b, int64(c), 10)
				x.b = append(x.b, ';')
			default:
				x.b = append(x.b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			x.b = append(x.b, "\uFFFD"...)
		} else {
			x.b = append(x.b, s[i:i+n]...)
		}
		i += n
	}
}

// isoTime is S3's timestamp format in XML bodies.
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// httpTime is the format of Last-Modified and other date headers.
func httpTime(t time.Time) string { return t.UTC().Format(http1123) }

const http1123 = "Mon, 02 Jan 2006 15:04:05 GMT"

func itoa(n int) string { return strconv.Itoa(n) }

// keyEncoding reads a listing's encoding-type, which S3 knows only as "url", and returns how
// keys are written in the answer.
func keyEncoding(query url.Values) (encoding string, enc func(string) string, err *s3Error) {
	encoding = query.Get("encoding-type")
	switch encoding {
	case "":
		return "", func(s string) string { return s }, nil
	case "url":
		return encoding, urlEncodeKey, nil
	}
	return "", nil, errMsg("InvalidArgument", "Invalid Encoding Method specified in Request",
		[2]string{"ArgumentName", "encoding-type"}, [2]string{"ArgumentValue", bounded(encoding)})
}

// urlEncodeKey is S3's encoding-type=url: form encoding (space as +), slashes left as they are.
func urlEncodeKey(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "%2F", "/") }

// maxXMLBody bounds the request documents S3 accepts (DeleteObjects of 1000 keys of 1024
// bytes, CompleteMultipartUpload of 10000 parts, each fit well within it).
const maxXMLBody = 4 << 20

var errMalformedXML = errors.New("malformed XML")

// decodeXML reads one request document into v. S3 accepts the documented namespace or none;
// anything that is not well-formed, has a different root, or trails other content is
// MalformedXML.
func decodeXML(r io.Reader, root string, v any) error {
	data, err := io.ReadAll(io.LimitReader(r, maxXMLBody+1))
	if err != nil {
		return err
	}
	if len(data) > maxXMLBody {
		return errMalformedXML
	}
	dec := xml.NewDecoder(strings.NewReader(string(data)))
	dec.Strict = true
	for {
		tok, err := dec.Token()
		if err != nil {
			return errMalformedXML
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			switch t := tok.(type) {
			case xml.ProcInst, xml.Comment:
				continue
			case xml.CharData:
				if strings.TrimSpace(string(t)) == "" {
					continue
				}
			}
			return errMalformedXML
		}
		if se.Name.Local != root || (se.Name.Space != "" && se.Name.Space != s3NS) {
			return errMalformedXML
		}
		if err := dec.DecodeElement(v, &se); err != nil {
			return errMalformedXML
		}
		break
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return errMalformedXML
		}
		switch t := tok.(type) {
		case xml.Comment, xml.ProcInst:
		case xml.CharData:
			if strings.TrimSpace(string(t)) != "" {
				return errMalformedXML
			}
		default:
			return errMalformedXML
		}
	}
}

// deleteRequest is the body of DeleteObjects.
type deleteRequest struct {
	Quiet   bool `xml:"Quiet"`
	Objects []struct {
		Key       *string `xml:"Key"`
		VersionID string  `xml:"VersionId"`
	} `xml:"Object"`
}

// completeRequest is the body of CompleteMultipartUpload.
type completeRequest struct {
	Parts []struct {
		PartNumber        *int   `xml:"PartNumber"`
		ETag              string `xml:"ETag"`
		ChecksumCRC32     string `xml:"ChecksumCRC32"`
		ChecksumCRC32C    string `xml:"ChecksumCRC32C"`
		ChecksumCRC64NVME string `xml:"ChecksumCRC64NVME"`
		ChecksumSHA1      string `xml:"ChecksumSHA1"`
		ChecksumSHA256    string `xml:"ChecksumSHA256"`
	} `xml:"Part"`
}

// createBucketRequest is the optional body of CreateBucket.
type createBucketRequest struct {
	LocationConstraint string `xml:"LocationConstraint"`
}
