// Package awsjson holds what every AWS JSON 1.1 service in localpipe shares: the HTTP prelude
// (target, method, content type, authentication checks in AWS's order), request ids, the
// {"__type","message"} error shape, the region a request was signed for, and strict decoding
// that turns malformed bodies into AWS's SerializationException with AWS's wording.
package awsjson

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
)

// ContentType is the JSON 1.1 media type requests and responses use.
const ContentType = "application/x-amz-json-1.1"

// DefaultRegion is used when a request carries no SigV4 credential scope.
const DefaultRegion = "us-east-1"

// Account is the account id in every ARN localpipe produces.
const Account = "000000000000"

// Error is an AWS JSON 1.1 error: its __type, message and HTTP status.
type Error struct {
	Status  int
	Type    string
	Message string
}

func (e *Error) Error() string { return e.Type + ": " + e.Message }

// Body encodes the error as AWS does.
func (e *Error) Body() []byte { return ErrorBody(e.Type, e.Message) }

// NewError builds a 400 error of the given type.
func NewError(typ, msg string) *Error {
	return &Error{Status: http.StatusBadRequest, Type: typ, Message: msg}
}

// serialization is the error for a body that does not fit the operation's shapes.
func serialization(msg string) *Error { return NewError("SerializationException", msg) }

// NewRequestID returns a random UUID (version 4), the form x-amzn-RequestId takes in every
// JSON 1.1 service and API Gateway ($context.requestId), which is why gateway uses it too.
func NewRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	return formatUUID(b)
}

func formatUUID(b [16]byte) string {
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}

// SetHeaders sets the headers AWS puts on every JSON 1.1 response: the content type, the
// request id, and x-amz-id-2, which AWS fills with 72 random bytes in base64.
func SetHeaders(h http.Header, requestID string) {
	var b [72]byte
	rand.Read(b[:])
	// One array holds the three values (every answer sets them); each slice is capped so an
	// append to one does not write over the next.
	v := &[3]string{ContentType, requestID, base64.StdEncoding.EncodeToString(b[:])}
	h["Content-Type"], h["X-Amzn-Requestid"], h["X-Amz-Id-2"] = v[0:1:1], v[1:2:2], v[2:3:3]
}

// ErrorBody encodes an error the way AWS does: __type without a namespace, and a message.
// AWS's front end writes a SerializationException's text under "Message" (capital M) while
// every other error uses "message"; the SDKs read either.
func ErrorBody(typ, msg string) []byte {
	m := map[string]string{"__type": typ}
	if msg != "" {
		if typ == "SerializationException" {
			m["Message"] = msg
		} else {
			m["message"] = msg
		}
	}
	b, _ := json.Marshal(m)
	return b
}

// WriteError writes a JSON 1.1 error response.
func WriteError(w http.ResponseWriter, r *http.Request, status int, typ, msg string) {
	SetHeaders(w.Header(), NewRequestID())
	w.WriteHeader(status)
	w.Write(ErrorBody(typ, msg))
}

// Region returns the region in the request's SigV4 credential scope
// (Credential=AKID/DATE/REGION/SERVICE/aws4_request, in the Authorization header or, for a
// presigned request, the X-Amz-Credential query parameter), or DefaultRegion.
func Region(r *http.Request) string {
	cred := ""
	auth := r.Header.Get("Authorization")
	if i := strings.Index(auth, "Credential="); i >= 0 {
		cred = auth[i+len("Credential="):]
		if j := strings.IndexAny(cred, ", "); j >= 0 {
			cred = cred[:j]
		}
	} else if r.URL != nil && r.URL.RawQuery != "" {
		cred = r.URL.Query().Get("X-Amz-Credential")
	}
	return scopeRegion(cred)
}

// scopeRegion is the REGION of a credential scope AKID/DATE/REGION/SERVICE/aws4_request (five
// fields), or DefaultRegion. Every request asks, so it is read in place.
func scopeRegion(cred string) string {
	if strings.Count(cred, "/") != 4 {
		return DefaultRegion
	}
	_, rest, _ := strings.Cut(cred, "/")
	_, rest, _ = strings.Cut(rest, "/")
	if region, _, _ := strings.Cut(rest, "/"); region != "" {
		return region
	}
	return DefaultRegion
}

// Target splits an X-Amz-Target header ("Kinesis_20131202.PutRecord") into the operation,
// reporting whether it carries the service's prefix ("Kinesis_20131202.").
func Target(h http.Header, prefix string) (action string, ok bool) {
	t := h.Get("X-Amz-Target")
	if !strings.HasPrefix(t, prefix) || len(t) == len(prefix) {
		return "", false
	}
	return t[len(prefix):], true
}
