package gatewayapi

import (
	"time"

	"github.com/localpipe/localpipe/gateway"
)

// Invocation is what one invoke request did, as Options.Observe receives it: enough for a
// person to see which method answered, what the integration was sent and what it said.
type Invocation struct {
	RequestID    string
	Time         time.Time
	APIID        string
	Stage        string
	HTTPMethod   string
	Path         string // the escaped path below the stage, as requested
	ResourcePath string // the matched resource's template path; "" when none matched
	Status       int
	// IntegrationRequest is the rendered integration request body (after the template),
	// nil when the request did not get that far; IntegrationStatus is the integration's own
	// status code, 0 when it was not called.
	IntegrationRequest []byte
	IntegrationStatus  int
	Duration           time.Duration
}

// observe hands the finished request to Options.Observe. The body is the call's own
// buffer, not shared with anything that writes to it later.
func (q *call) observe() {
	f := q.s.opts.Observe
	if f == nil {
		return
	}
	in := Invocation{RequestID: q.requestID, Time: q.start, APIID: q.apiID, Stage: q.stageName, HTTPMethod: q.r.Method,
		Path: q.path, Status: q.status, IntegrationRequest: q.rendered, IntegrationStatus: q.integrationStatus,
		Duration: q.s.now().Sub(q.start)}
	if q.p != nil && q.p.Resource != nil {
		in.ResourcePath = q.p.Resource.Path
	}
	f(in)
}

// StageAPI returns the API served at apiID's stage, nil if there is none. The API is
// deployed and so is not changed any more; callers only read it.
func (s *Server) StageAPI(apiID, stage string) *gateway.API {
	d := s.deploymentAt(apiID, stage)
	if d == nil {
		return nil
	}
	if _, ok := d.Stages[stage]; !ok {
		return nil
	}
	return d.API
}
