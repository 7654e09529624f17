package s3api

import (
	"net/http"
	"net/url"
)

// S3 tells its operations apart by method, by what the path addresses (the service, a
// bucket, an object), by sub-resource query keys and, for a few, by a header (CopyObject is a
// PUT with x-amz-copy-source). The table of operations is generated from the S3 model
// (operations_gen.go, by internal/opgen), so routing covers every operation the model defines,
// and a request for one operation can never fall through to another: a PUT of an object
// sub-resource we do not implement answers NotImplemented instead of overwriting the object.

//go:generate go test ./internal/opgen -run TestGenerated -update

type target uint8

const (
	targetService target = iota // GET /
	targetBucket                // /{Bucket}
	targetObject                // /{Bucket}/{Key+}
	targetPath                  // a fixed path outside any bucket (/WriteGetObjectResponse)
)

type queryParam struct{ key, value string }

// operation is one row of the routing table.
type operation struct {
	name            string
	method          string
	target          target
	path            string       // targetPath only
	query           []queryParam // literal sub-resource keys; value "" means any
	xid             string       // the x-id SDKs append; only breaks ties
	requiredQuery   []string
	requiredHeaders []string // lower case
	// form marks the browser form upload. It answers every bucket POST that no operation
	// with a sub-resource claims, whatever its media type, so that a form sent with the wrong
	// enctype gets S3's 412 rather than 405.
	form bool
}

// extraOperations are S3 requests the model does not describe as operations but browsers
// and SDK helpers send: a presigned POST is a form upload to the bucket itself.
var extraOperations = []operation{
	{name: "PostObject", method: "POST", target: targetBucket, form: true},
	// A browser's CORS preflight, answered from the bucket's CORS rules.
	{name: "PreflightRequest", method: "OPTIONS", target: targetBucket},
	{name: "PreflightRequest", method: "OPTIONS", target: targetObject},
}

// routes indexes the table by method and target, in table order.
var routes = func() map[string][][]*operation {
	m := map[string][][]*operation{}
	for _, list := range [][]operation{modelOperations, extraOperations} {
		for i := range list {
			op := &list[i]
			if m[op.method] == nil {
				m[op.method] = make([][]*operation, targetPath+1)
			}
			m[op.method][op.target] = append(m[op.method][op.target], op)
		}
	}
	return m
}()

// match scores how well r fits op: ok is false unless every literal sub-resource key is
// present; score counts the literals and required members present, and complete says none
// is missing.
func (op *operation) match(r *http.Request, query url.Values) (ok bool, score int, complete bool) {
	for _, p := range op.query {
		if _, has := query[p.key]; !has {
			return false, 0, false
		}
		score++
	}
	complete = true
	for _, k := range op.requiredQuery {
		if _, has := query[k]; has {
			score++
		} else {
			complete = false
		}
	}
	for _, h := range op.requiredHeaders {
		if r.Header.Get(h) != "" {
			score++
		} else {
			complete = false
		}
	}
	return true, score, complete
}

// resolve picks the operation r asks for, or nil when no operation of the model has this
// method on this kind of resource. Among the operations whose sub-resource keys are all
// present it prefers, in order: the most literals and required members present (so
// ?uploadId makes a GET ListParts, and a copy source makes a PUT a copy), then one with
// nothing missing, then the one x-id names (ListBuckets and ListDirectoryBuckets differ in
// nothing else), then table order.
//
// path is the request's path when it is path-style ("" for virtual-host style), so that S3's
// fixed paths such as /WriteGetObjectResponse win over a bucket of that name.
func resolve(r *http.Request, t target, query url.Values, path string) (best *operation, complete bool) {
	byTarget := routes[r.Method]
	if byTarget == nil {
		return nil, false
	}
	if t == targetBucket && path != "" {
		for _, op := range byTarget[targetPath] {
			if path == op.path {
				_, _, c := op.match(r, query)
				return op, c
			}
		}
	}
	xid := query.Get("x-id")
	bestScore, bestXID := -1, false
	for _, op := range byTarget[t] {
		ok, score, c := op.match(r, query)
		if !ok {
			continue
		}
		x := xid != "" && xid == op.name
		better := score > bestScore ||
			score == bestScore && (c && !complete || c == complete && x && !bestXID)
		if better {
			best, bestScore, complete, bestXID = op, score, c, x
		}
	}
	return best, complete
}

// missingMember names the first required query parameter or header r lacks for op.
func (op *operation) missingMember(r *http.Request, query url.Values) (name string, header bool) {
	for _, k := range op.requiredQuery {
		if _, has := query[k]; !has {
			return k, false
		}
	}
	for _, h := range op.requiredHeaders {
		if r.Header.Get(h) == "" {
			return h, true
		}
	}
	return "", false
}
