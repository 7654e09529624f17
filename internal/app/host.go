package app

import (
	"net"
	"strings"
)

// hostPolicy decides which Host headers the edge answers. A web page can make a browser send
// requests to 127.0.0.1:4566 under a name its own DNS server first resolved elsewhere (DNS
// rebinding); the browser then treats localpipe as that page's origin and lets it read the
// answers. The Host header still carries the page's name, so refusing names that are not
// the machine's own closes the hole.
type hostPolicy struct {
	// all is set when any Host is accepted: a non-loopback listen address without
	// --allowed-hosts, where clients reach the server by names localpipe cannot know.
	all bool
	// extra are the --allowed-hosts names; each also admits its subdomains, which is what
	// virtual-host S3 (bucket.s3.NAME) and API Gateway ({id}.execute-api.NAME) need.
	extra []string
}

func newHostPolicy(listen string, allowed []string) hostPolicy {
	var p hostPolicy
	for _, a := range allowed {
		if name, ok := parseHost(strings.TrimPrefix(strings.TrimSpace(a), "*.")); ok && name != "" {
			p.extra = append(p.extra, name)
		}
	}
	host, _, _ := net.SplitHostPort(listen)
	ip := net.ParseIP(host)
	onLoopback := strings.EqualFold(host, "localhost") || ip != nil && ip.IsLoopback()
	p.all = len(p.extra) == 0 && !onLoopback
	return p
}

// allows reports whether a request with this Host header may be served.
func (p hostPolicy) allows(hostHeader string) bool {
	if p.all {
		return true
	}
	name, ok := parseHost(hostHeader)
	if !ok {
		return false
	}
	// No Host at all comes from HTTP/1.0 tools, never from a browser.
	if name == "" || loopbackName(name) {
		return true
	}
	for _, e := range p.extra {
		if name == e || strings.HasSuffix(name, "."+e) {
			return true
		}
	}
	return false
}

// loopbackName reports whether a (lower-case, port-less) host name can only mean this
// machine: localhost and its subdomains (RFC 6761 reserves them for loopback), the
// localhost.localstack.cloud names the README promises, which resolve to 127.0.0.1, and
// loopback or unspecified IP literals.
func loopbackName(name string) bool {
	switch {
	case name == "localhost", strings.HasSuffix(name, ".localhost"),
		name == "localhost.localstack.cloud", strings.HasSuffix(name, ".localhost.localstack.cloud"):
		return true
	}
	ip := net.ParseIP(strings.TrimSuffix(strings.TrimPrefix(name, "["), "]"))
	return ip != nil && (ip.IsLoopback() || ip.IsUnspecified())
}

// parseHost reads a Host header (RFC 9110 §7.2: uri-host [":" port]) into a lower-case name
// without port or trailing dot; an IPv6 literal keeps its brackets. It reports false for
// anything that is not a plausible host, so a malformed header is refused rather than guessed
// at. An empty header gives "", true.
func parseHost(h string) (string, bool) {
	if h == "" {
		return "", true
	}
	name := h
	if strings.HasPrefix(h, "[") {
		end := strings.IndexByte(h, ']')
		if end < 0 {
			return "", false
		}
		name, rest := h[:end+1], h[end+1:]
		if p, ok := strings.CutPrefix(rest, ":"); rest != "" && (!ok || !validPort(p)) {
			return "", false
		}
		if net.ParseIP(name[1:end]) == nil || !strings.Contains(name, ":") {
			return "", false
		}
		return strings.ToLower(name), true
	}
	if i := strings.LastIndexByte(h, ':'); i >= 0 {
		if !validPort(h[i+1:]) {
			return "", false
		}
		name = h[:i]
	}
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	if name == "" || len(name) > 253 {
		return "", false
	}
	// Every request passes here, so the labels are walked in place rather than split out.
	for rest := name; ; {
		label, after, more := strings.Cut(rest, ".")
		if label == "" || len(label) > 63 {
			return "", false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return "", false
			}
		}
		if !more {
			return name, true
		}
		rest = after
	}
}

// validPort accepts RFC 3986's port (*DIGIT, so empty too) up to 65535.
func validPort(p string) bool {
	if len(p) > 5 {
		return false
	}
	n := 0
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
		n = n*10 + int(p[i]-'0')
	}
	return n <= 65535
}
