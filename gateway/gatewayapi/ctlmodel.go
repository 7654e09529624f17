package gatewayapi

import (
	"net/url"
	"strings"
)

// modelOperation is one operation of the apigateway model (ctlmodel_gen.go): an unrouted
// request that matches one is answered 501 NotImplementedException naming it, so a tool
// that calls an operation localpipe lacks says which one rather than failing obscurely.
type modelOperation struct {
	Name, Method, URI string
}

// matchModelOperation finds the model operation a request's method and (escaped) path
// name. A template's {param} matches one segment, {param+} the rest; "?mode=import" in a
// template must be in the query. Of several matches the one with the most literal
// segments wins.
func matchModelOperation(method, escapedPath string, q url.Values) (modelOperation, bool) {
	segs := strings.Split(strings.Trim(escapedPath, "/"), "/")
	var best modelOperation
	bestScore := -1
	for _, op := range modelOperations {
		if op.Method != method {
			continue
		}
		tmpl, query, _ := strings.Cut(op.URI, "?")
		if k, v, ok := strings.Cut(query, "="); ok && q.Get(k) != v {
			continue
		}
		score, ok := matchTemplate(strings.Split(strings.Trim(tmpl, "/"), "/"), segs)
		if query != "" {
			score++
		}
		if ok && score > bestScore {
			best, bestScore = op, score
		}
	}
	return best, bestScore >= 0
}

func matchTemplate(tmpl, segs []string) (literals int, ok bool) {
	for i, t := range tmpl {
		if strings.HasSuffix(t, "+}") {
			return literals, i < len(segs)
		}
		if i >= len(segs) || segs[i] == "" {
			return 0, false
		}
		if strings.HasPrefix(t, "{") {
			continue
		}
		if t != segs[i] {
			return 0, false
		}
		literals++
	}
	return literals, len(tmpl) == len(segs)
}
