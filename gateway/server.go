package gateway

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Invoker calls an AWS service action in-process with the same decoding and validation an SDK
// request gets. service is the integration URI's service ("kinesis", "firehose"); body is the
// rendered integration request. The answer is what the service's JSON 1.1 endpoint would send.
type Invoker interface {
	Invoke(ctx context.Context, service, action string, body []byte, region string) (status int, contentType string, resp []byte)
}

// Stage is a deployment stage of an API with its stage variables.
type Stage struct {
	Name      string
	Variables map[string]string
}

// APIKey is an API key clients send in the x-api-key header.
type APIKey struct {
	ID    string
	Name  string
	Value string
	// Stages limits the key to these "apiId/stageName" pairs; empty means every stage.
	Stages []string
}

// Deployment is one callable API stage.
type Deployment struct {
	APIID string
	Name  string
	Stage string
}

// Options configure NewServer. Zero values mean defaults.
type Options struct {
	Invoker Invoker
	// HTTPClient calls HTTP and HTTP_PROXY back ends; nil means a client of its own.
	HTTPClient *http.Client
	Region     string
	AccountID  string
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	Now        func() time.Time
}

// Server serves invoke requests for deployed APIs. It is safe for concurrent use.
type Server struct {
	opts Options
}

// NewServer returns a Server with nothing deployed.
func NewServer(opts Options) *Server { return &Server{opts: opts} }

// Deploy makes api callable at the given stages, replacing an earlier deployment of the same id.
func (s *Server) Deploy(api *API, stages []Stage) error { return nil }

// AddAPIKey makes a key valid for the methods that require one.
func (s *Server) AddAPIKey(k APIKey) error { return nil }

// Deployments lists every callable API stage, sorted by API id and stage.
func (s *Server) Deployments() []Deployment { return nil }

// InvokeTarget reports whether r is an invoke request in one of the URL forms DESIGN.md lists
// (/_aws/execute-api/{id}/{stage}/…, /restapis/{id}/{stage}/_user_request_/…, Host
// {id}.execute-api.*), and splits it into the API id, the stage and the escaped path below it.
func InvokeTarget(r *http.Request) (apiID, stage, path string, ok bool) { return "", "", "", false }

// ServeHTTP answers an invoke request as API Gateway would.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	http.Error(w, `{"message":"API Gateway invocation is not built yet"}`, http.StatusInternalServerError)
}
