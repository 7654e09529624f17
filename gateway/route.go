package gateway

import (
	"net/url"
	"strings"
)

// Match finds the method that serves a request. method is the request's HTTP verb and path
// the escaped request path below the stage ("/streams/my%20stream/record", as
// url.URL.EscapedPath gives it).
//
// The rules are API Gateway's for REST APIs:
//   - The tree is walked one path segment at a time. At each resource a literal child that
//     equals the segment wins over the variable child; "a method request against a specific
//     resource takes precedence over a method request against a generic resource at the same
//     level" (api-gateway-method-settings-method-request.md). There is no backtracking: once
//     a literal child is taken, a variable sibling is not tried for the same segment, as the
//     same page says "/{proxy+} refers to any resources under the root resource except for
//     the /parent[/*] resources".
//   - "{name}" takes one non-empty segment; "{name+}" takes the rest of the path, slashes
//     included, and at least one segment: "/parent/{proxy+}" stands for "/parent/*", so it
//     does not match "/parent".
//   - Trailing slashes are ignored: "/streams/" is "/streams".
//   - On the resource found, a method defined for the verb wins over ANY. There is no
//     implicit HEAD for GET.
//   - Path parameters are percent-decoded (url.PathUnescape: "+" stays "+"); a segment that
//     does not decode is kept as it came.
//
// When a resource is found but has no method for the verb, Match returns ok false with res
// set, so a caller can log "method not found" apart from "resource not found"; API Gateway
// answers both with 403 Missing Authentication Token (aws-semantics.md A.11).
//
// pathParams is nil when the path has no variables. Besides that map, Match allocates only
// to decode percent escapes.
func (a *API) Match(method, path string) (m *Method, res *Resource, pathParams map[string]string, ok bool) {
	m, res, pathParams, ok = a.MatchRaw(method, path)
	for k, v := range pathParams {
		pathParams[k] = UnescapePath(v)
	}
	return m, res, pathParams, ok
}

// MatchRaw is Match with the path parameters as they appear in the request path, still
// percent-encoded, which is how API Gateway hands them to templates ($input.params()).
func (a *API) MatchRaw(method, path string) (m *Method, res *Resource, pathParams map[string]string, ok bool) {
	node := a.root
	if node == nil {
		return nil, nil, nil, false
	}
	// Values are gathered on the stack and turned into a map only once the walk succeeds,
	// so a miss allocates nothing.
	var buf [6]struct{ name, value string }
	vars := buf[:0]
	rest := strings.TrimRight(path, "/")
	rest = strings.TrimPrefix(rest, "/")
	for rest != "" {
		seg, tail, _ := strings.Cut(rest, "/")
		if c := node.literals[literalKey(seg)]; c != nil {
			node, rest = c, tail
			continue
		}
		v := node.variable
		if v == nil {
			return nil, nil, nil, false
		}
		if v.greedy {
			vars = append(vars, struct{ name, value string }{v.param, rest})
			node, rest = v, ""
			break
		}
		if seg == "" {
			// "/a//b": an empty segment is no value for a path variable.
			return nil, nil, nil, false
		}
		vars = append(vars, struct{ name, value string }{v.param, seg})
		node, rest = v, tail
	}
	if len(vars) > 0 {
		pathParams = make(map[string]string, len(vars))
		for _, kv := range vars {
			pathParams[kv.name] = kv.value
		}
	}
	if m = node.Methods[method]; m == nil {
		m = node.Methods["ANY"]
	}
	if m == nil {
		return nil, node, pathParams, false
	}
	return m, node, pathParams, true
}

// literalKey returns the segment to compare with literal path parts. Only a segment with a
// percent escape is decoded, so the common case costs no allocation; literal path parts
// never contain '%', so a segment that fails to decode can match nothing.
func literalKey(seg string) string {
	if strings.IndexByte(seg, '%') < 0 {
		return seg
	}
	s, err := url.PathUnescape(seg)
	if err != nil {
		return ""
	}
	return s
}

// UnescapePath percent-decodes a path segment, keeping it as it came when it does not decode.
func UnescapePath(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}
