package gatewayapi

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/localpipe/localpipe/gateway"
)

// InvokeTarget reports whether r is an invoke request in one of the URL forms DESIGN.md lists
// (/_aws/execute-api/{id}/{stage}/…, /restapis/{id}/{stage}/_user_request_/…, Host
// {id}.execute-api.*), and splits it into the API id, the stage and the escaped path below it.
//
// path always starts with "/" ("/" when the URL stops at the stage). ok is also true when the
// URL is addressed to the gateway but names no stage ("/_aws/execute-api/{id}", or the host
// form with path "/"): stage is then "" and ServeHTTP answers 403 Missing Authentication
// Token, as API Gateway does, instead of the request falling through to another service.
// /restapis/… without _user_request_ is the control plane, so ok is false for it.
func InvokeTarget(r *http.Request) (apiID, stage, path string, ok bool) {
	if r == nil || r.URL == nil {
		return "", "", "", false
	}
	p := r.URL.EscapedPath()
	if rest, found := strings.CutPrefix(p, "/_aws/execute-api/"); found {
		id, rest, _ := strings.Cut(rest, "/")
		if !gateway.ValidID(id) {
			return "", "", "", false
		}
		stage, path := splitStage(rest)
		return id, stage, path, true
	}
	if rest, found := strings.CutPrefix(p, "/restapis/"); found {
		id, rest, _ := strings.Cut(rest, "/")
		st, rest, _ := strings.Cut(rest, "/")
		marker, rest, hasRest := strings.Cut(rest, "/")
		if marker != "_user_request_" || !gateway.ValidID(id) || st == "" {
			return "", "", "", false
		}
		path := "/"
		if hasRest {
			path = "/" + rest
		}
		return id, unescapeStage(st), path, true
	}
	if id, found := hostAPIID(r.Host); found {
		stage, path := splitStage(strings.TrimPrefix(p, "/"))
		return id, stage, path, true
	}
	return "", "", "", false
}

// splitStage takes "{stage}/{path}" apart; path keeps its escapes and a leading "/".
func splitStage(rest string) (stage, path string) {
	st, tail, found := strings.Cut(rest, "/")
	if !found {
		return unescapeStage(st), "/"
	}
	return unescapeStage(st), "/" + tail
}

// unescapeStage decodes a stage segment; one that does not decode is kept as sent, which
// names no stage (stage names hold only letters, digits, '-' and '_').
func unescapeStage(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// hostAPIID finds the API id in a host of the form {id}.execute-api.{anything}[:port], or
// {id}-vpce-{vpce id}.execute-api.… as private APIs are addressed. DNS names are
// case-insensitive, so the id is lower-cased, the case API Gateway ids have.
func hostAPIID(host string) (string, bool) {
	if host == "" {
		return "", false
	}
	if h, _, found := strings.Cut(host, ":"); found && !strings.HasPrefix(host, "[") {
		host = h
	}
	host = strings.ToLower(host)
	label, rest, found := strings.Cut(host, ".")
	if !found || !strings.HasPrefix(rest, "execute-api.") || len(rest) == len("execute-api.") {
		return "", false
	}
	if i := strings.Index(label, "-vpce-"); i > 0 {
		label = label[:i]
	}
	if !gateway.ValidID(label) {
		return "", false
	}
	return label, true
}
