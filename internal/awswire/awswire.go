// Package awswire is what localpipe's own AWS clients (the CLI helpers in cmd/localpipe, the
// functions' Lambda endpoint runner) need of the wire format beside SigV4, done as the AWS
// SDKs do it: escaping a request path, and reading a JSON error answer.
package awswire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// EscapePath escapes every byte of s but the unreserved ones (and "/" when keepSlash), as
// the SDKs escape a path label: a Lambda function name is one label; an S3 key keeps its "/"
// between segments and has anything else (+, ?, %, spaces, UTF-8) sent as %XX, so the server
// reads back the key that was given.
func EscapePath(s string, keepSlash bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~", c) >= 0 || keepSlash && c == '/' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// JSONError reads an error answer of the AWS JSON and REST-JSON protocols as the SDKs do: the
// code from the X-Amzn-ErrorType header, else the body's __type, else its code, without what
// follows a colon or what precedes a '#'; the message from the body's message (matched in any
// case, so Message too). ok is false when the body is neither empty nor such a JSON object:
// the answer is not an AWS one.
func JSONError(h http.Header, body []byte) (code, message string, ok bool) {
	var info struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
		Code    any    `json:"code"`
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, &info); err != nil {
			return "", "", false
		}
	}
	code = h.Get("X-Amzn-ErrorType")
	if code == "" {
		code = info.Type
	}
	if s, isString := info.Code.(string); code == "" && isString {
		code = s
	}
	if i := strings.IndexByte(code, ':'); i >= 0 {
		code = code[:i]
	}
	if i := strings.IndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	return code, info.Message, true
}
