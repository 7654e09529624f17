package awsjson

import (
	"net/http"
	"strings"
)

// Browser apps call Kinesis and Firehose directly (with Cognito credentials, say), so their
// endpoints answer cross-origin: every answer may be read by any origin, and a preflight is
// granted whatever method and headers it asks for, as AWS's endpoints do. AWS does not
// document the max age; a day is a browser's usual ceiling anyway.
const (
	corsExpose = "x-amzn-RequestId,x-amz-id-2"
	corsMaxAge = "86400"
)

// CORS adds the cross-origin headers to an answer and answers a preflight itself, reporting
// whether it did (the caller then writes nothing more).
func CORS(w http.ResponseWriter, r *http.Request) bool {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", corsExpose)
	if !IsPreflight(r) {
		return false
	}
	h.Set("Access-Control-Allow-Methods", r.Header.Get("Access-Control-Request-Method"))
	if hs := r.Header.Get("Access-Control-Request-Headers"); hs != "" {
		h.Set("Access-Control-Allow-Headers", hs)
	}
	h.Set("Access-Control-Max-Age", corsMaxAge)
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
	return true
}

// IsPreflight reports whether r is a browser's CORS preflight.
func IsPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
}

// IsTargetPreflight reports whether r is the preflight of a JSON 1.1 call: a preflight does
// not carry the X-Amz-Target it asks about, only its name among the headers to be sent, so
// this is how an endpoint shared with S3 knows the call is for one of these services.
func IsTargetPreflight(r *http.Request) bool {
	if !IsPreflight(r) {
		return false
	}
	for _, h := range strings.Split(r.Header.Get("Access-Control-Request-Headers"), ",") {
		if strings.EqualFold(strings.TrimSpace(h), "X-Amz-Target") {
			return true
		}
	}
	return false
}
