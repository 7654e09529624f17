package s3api

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/localpipe/localpipe/objectstore"
)

// S3 answers browsers from the bucket's CORS rules: a preflight (OPTIONS with Origin and
// Access-Control-Request-Method) gets 200 and the Access-Control-Allow-* headers of the first
// rule that allows the origin, the method and every requested header, or 403; an actual
// request from an allowed origin gets Access-Control-Allow-Origin and the rule's exposed
// headers, so the page can read the answer.

type corsRule struct {
	Origins       []string `xml:"AllowedOrigin"`
	Methods       []string `xml:"AllowedMethod"`
	Headers       []string `xml:"AllowedHeader"`
	ExposeHeaders []string `xml:"ExposeHeader"`
	MaxAgeSeconds *int     `xml:"MaxAgeSeconds"`
}

type corsConfig struct {
	Rules []corsRule `xml:"CORSRule"`
}

// wildcardMatch matches s against a pattern with at most one "*", as S3's AllowedOrigin and
// AllowedHeader do; fold makes it case-insensitive (header names).
func wildcardMatch(pattern, s string, fold bool) bool {
	if fold {
		pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	}
	before, after, star := strings.Cut(pattern, "*")
	if !star {
		return pattern == s
	}
	return len(s) >= len(before)+len(after) && strings.HasPrefix(s, before) && strings.HasSuffix(s, after)
}

// match reports whether the rule allows origin, method and every one of headers.
func (r *corsRule) match(origin, method string, headers []string) bool {
	ok := false
	for _, o := range r.Origins {
		ok = ok || wildcardMatch(o, origin, false)
	}
	if !ok {
		return false
	}
	ok = false
	for _, m := range r.Methods {
		ok = ok || m == method
	}
	if !ok {
		return false
	}
	for _, h := range headers {
		allowed := false
		for _, p := range r.Headers {
			allowed = allowed || wildcardMatch(p, h, true)
		}
		if !allowed {
			return false
		}
	}
	return true
}

// bucketCORS reads and parses the bucket's CORS rules; nil when it has none.
func (q *request) bucketCORS() (*corsConfig, error) {
	doc, err := q.h.store.BucketConfig(q.r.Context(), q.bucket, "cors")
	if err != nil {
		return nil, err
	}
	var c corsConfig
	if err := decodeXML(bytes.NewReader(doc), "CORSConfiguration", &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// writeCORSHeaders sets the headers the matching rule grants.
func writeCORSHeaders(h http.Header, rule *corsRule, origin string, preflight bool, reqHeaders []string) {
	allowAll := false
	for _, o := range rule.Origins {
		allowAll = allowAll || o == "*"
	}
	if allowAll {
		h.Set("Access-Control-Allow-Origin", "*")
	} else {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	h.Set("Access-Control-Allow-Methods", strings.Join(rule.Methods, ", "))
	if len(rule.ExposeHeaders) > 0 {
		h.Set("Access-Control-Expose-Headers", strings.Join(rule.ExposeHeaders, ", "))
	}
	if rule.MaxAgeSeconds != nil {
		h.Set("Access-Control-Max-Age", strconv.Itoa(*rule.MaxAgeSeconds))
	}
	if preflight && len(reqHeaders) > 0 {
		h.Set("Access-Control-Allow-Headers", strings.Join(reqHeaders, ", "))
	}
	h.Add("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method")
}

// requestedHeaders splits Access-Control-Request-Headers into lower-case names.
func requestedHeaders(v string) []string {
	var out []string
	for _, h := range strings.Split(v, ",") {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
			out = append(out, h)
		}
	}
	return out
}

// preflight answers OPTIONS on a bucket or an object.
func (q *request) preflight() *s3Error {
	origin := q.r.Header.Get("Origin")
	method := q.r.Header.Get("Access-Control-Request-Method")
	if origin == "" {
		return errMsg("BadRequest", "Insufficient information. Origin request header needed.")
	}
	if method == "" {
		return errMsg("BadRequest", "Invalid Access-Control-Request-Method: null")
	}
	forbidden := errMsg("AccessForbidden", "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
		[2]string{"Method", method}, [2]string{"ResourceType", map[bool]string{true: "BUCKET", false: "OBJECT"}[q.key == ""]})
	switch method {
	case "GET", "PUT", "POST", "DELETE", "HEAD":
	default:
		return errMsg("BadRequest", "Invalid Access-Control-Request-Method: "+bounded(method))
	}
	cfg, err := q.bucketCORS()
	switch {
	case errors.Is(err, objectstore.ErrNoSuchBucket):
		return errMsg("AccessForbidden", "CORSResponse: Bucket not found", [2]string{"Method", method}, [2]string{"ResourceType", "BUCKET"})
	case errors.Is(err, objectstore.ErrNoSuchConfig):
		return errMsg("AccessForbidden", "CORSResponse: CORS is not enabled for this bucket.", [2]string{"Method", method}, [2]string{"ResourceType", "BUCKET"})
	case err != nil:
		return q.fail(err)
	}
	headers := requestedHeaders(q.r.Header.Get("Access-Control-Request-Headers"))
	for i := range cfg.Rules {
		if cfg.Rules[i].match(origin, method, headers) {
			writeCORSHeaders(q.w.Header(), &cfg.Rules[i], origin, true, headers)
			return q.empty(http.StatusOK)
		}
	}
	return forbidden
}

// corsActual adds CORS headers to a browser's actual request (one with Origin) when a rule of
// the bucket allows it. It must run before the operation writes its header.
func (q *request) corsActual() {
	origin := q.r.Header.Get("Origin")
	if origin == "" || q.bucket == "" || q.r.Method == http.MethodOptions {
		return
	}
	cfg, err := q.bucketCORS()
	if err != nil {
		return
	}
	for i := range cfg.Rules {
		if cfg.Rules[i].match(origin, q.r.Method, nil) {
			writeCORSHeaders(q.w.Header(), &cfg.Rules[i], origin, false, nil)
			return
		}
	}
}
