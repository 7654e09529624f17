package gatewayapi

import (
	"context"
	"slices"
)

// faultResponses are the gateway responses an injected fault may answer an invoke with, by
// type, with API Gateway's default statuses and messages (aws-semantics.md A.11); an API's
// customisation of the type applies, as for a real one.
var faultResponses = map[string]gwError{
	"THROTTLED": {typ: "THROTTLED", status: 429, message: "Too Many Requests", errorType: "TooManyRequestsException"},
	"QUOTA_EXCEEDED": {typ: "QUOTA_EXCEEDED", status: 429, message: "Limit Exceeded",
		errorType: "LimitExceededException"},
	"INTEGRATION_TIMEOUT":     errTimeout,
	"API_CONFIGURATION_ERROR": errInternal,
}

// FaultResponseTypes lists the gateway response types an injected fault may answer with,
// sorted, with each one's default status.
func FaultResponseTypes() map[string]int {
	out := make(map[string]int, len(faultResponses))
	for t, e := range faultResponses {
		out[t] = e.status
	}
	return out
}

// FaultFunc is asked, once an invoke request has passed API keys and validation and before
// its integration runs, whether to fail it: it may wait (latency) and returns a gateway
// response type from FaultResponseTypes, or "" to go on. resourcePath is the method's
// resource as declared ("/streams/{name}").
type FaultFunc func(ctx context.Context, apiID, httpMethod, resourcePath string) (responseType string)

// injectFault runs the fault hook and answers for it; it reports whether it did.
func (q *call) injectFault() bool {
	if q.s.opts.Fault == nil {
		return false
	}
	path, _ := q.contextVar("resourcePath")
	p, _ := path.(string)
	typ := q.s.opts.Fault(q.r.Context(), q.d.API.ID, q.r.Method, p)
	if typ == "" {
		return false
	}
	e, ok := faultResponses[typ]
	if !ok {
		keys := make([]string, 0, len(faultResponses))
		for k := range faultResponses {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		q.s.log.Error("gateway: unknown fault response type", "type", typ, "known", keys)
		e = errInternal
	}
	q.gatewayError(e)
	return true
}
