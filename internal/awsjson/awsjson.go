// Package awsjson holds what every AWS JSON 1.1 service in localpipe shares: request ids,
// the {"__type","message"} error shape, the region a request was signed for, and strict
// decoding that turns malformed bodies into AWS's SerializationException.
package awsjson

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
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

// Errorf builds a 400 error of the given type.
func NewError(typ, msg string) *Error {
	return &Error{Status: http.StatusBadRequest, Type: typ, Message: msg}
}

// NewRequestID returns a random UUID (version 4), the form x-amzn-RequestId takes.
func NewRequestID() string {
	var b [16]byte
	rand.Read(b[:])
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

// SetHeaders sets the headers AWS puts on every JSON 1.1 response.
func SetHeaders(h http.Header, requestID string) {
	h.Set("Content-Type", ContentType)
	h.Set("x-amzn-RequestId", requestID)
	h.Set("x-amz-id-2", requestID)
}

// ErrorBody encodes an error the way AWS does: __type without a namespace, and a message.
func ErrorBody(typ, msg string) []byte {
	m := map[string]string{"__type": typ}
	if msg != "" {
		m["message"] = msg
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
// (Credential=AKID/DATE/REGION/SERVICE/aws4_request), or DefaultRegion.
func Region(r *http.Request) string {
	auth := r.Header.Get("Authorization")
	if i := strings.Index(auth, "Credential="); i >= 0 {
		cred := auth[i+len("Credential="):]
		if j := strings.IndexAny(cred, ", "); j >= 0 {
			cred = cred[:j]
		}
		if parts := strings.Split(cred, "/"); len(parts) == 5 && parts[2] != "" {
			return parts[2]
		}
	}
	return DefaultRegion
}

// Decode decodes a request body into v. Unknown members are ignored as AWS ignores them;
// anything that is not a JSON object of the right member types is a SerializationException.
func Decode(body []byte, v any) *Error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return &Error{Status: 400, Type: "SerializationException", Message: "Start of structure or map found where not expected."}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		var be base64.CorruptInputError
		switch {
		case errors.As(err, &te):
			return &Error{Status: 400, Type: "SerializationException", Message: typeMessage(te)}
		case errors.As(err, &be):
			return &Error{Status: 400, Type: "SerializationException", Message: "Base64 encoded value is not valid."}
		}
		return &Error{Status: 400, Type: "SerializationException", Message: "Malformed JSON: " + err.Error()}
	}
	if dec.More() {
		return &Error{Status: 400, Type: "SerializationException", Message: "Malformed JSON: data after the top-level object"}
	}
	return nil
}

// typeMessage phrases a member-type mismatch the way the Java-based AWS front ends do.
func typeMessage(te *json.UnmarshalTypeError) string {
	switch te.Type.Kind() {
	case reflect.String:
		return strings.ToUpper(te.Value) + "_VALUE can not be converted to a String"
	case reflect.Int, reflect.Int32, reflect.Int64:
		return strings.ToUpper(te.Value) + "_VALUE can not be converted to an Integer"
	case reflect.Bool:
		return strings.ToUpper(te.Value) + "_VALUE can not be converted to a Boolean"
	case reflect.Slice:
		if te.Type.Elem().Kind() == reflect.Uint8 {
			return strings.ToUpper(te.Value) + "_VALUE can not be converted to a Blob"
		}
		return "Unexpected value type in payload: " + te.Value + " where a list was expected"
	case reflect.Float64:
		return strings.ToUpper(te.Value) + "_VALUE can not be converted to a Timestamp"
	}
	return "Unexpected value type in payload: " + te.Value
}
