// Package gatewayapi is the wire layer of localpipe's API Gateway: a Server deploys the
// gateway package's APIs at stages and answers invoke requests as API Gateway does, calling
// Kinesis and Firehose through an Invoker, HTTP back ends directly, Lambda functions (AWS and
// AWS_PROXY integrations, TOKEN and REQUEST authorizers) through a FunctionInvoker, or
// answering MOCKs. The Server also answers API Gateway's control plane: it describes those
// APIs, and creates, edits, deploys and deletes APIs of its own, kept in a Store
// (OpenControlPlane), enforces API keys and usage plans, exports APIs and runs
// TestInvokeMethod.
package gatewayapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/localpipe/localpipe/gateway"
)

// Invoker calls an AWS service action in-process with the same decoding and validation an SDK
// request gets. service is the integration URI's service ("kinesis", "firehose"); body is the
// rendered integration request. The answer is what the service's JSON 1.1 endpoint would send.
type Invoker interface {
	Invoke(ctx context.Context, service, action string, body []byte, region string) (status int, contentType string, resp []byte)
}

// APIKey is an API key clients send in the x-api-key header.
type APIKey struct {
	ID          string
	Name        string
	Value       string
	Description string
	// Stages limits the key to these "apiId/stageName" pairs; empty means every stage.
	Stages []string

	created time.Time // when AddAPIKey took it, the control plane's createdDate
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
	// Fault, when set, may fail or delay invoke requests (fault injection); see FaultFunc.
	Fault FaultFunc
	// Functions calls the functions of Lambda integrations and authorizers; nil answers
	// them 500, with the reason in the log.
	Functions FunctionInvoker
	// Observe, when set, is told about every invoke request once it is answered (the web
	// console's recent invocations). It runs on the request's goroutine: keep it quick.
	Observe func(Invocation)
}

// Defaults for zero Options fields.
const (
	DefaultRegion    = "us-east-1"
	DefaultAccountID = "000000000000"
)

// MaxPayloadSize is API Gateway's request payload limit, 10 MB, not adjustable
// (aws-semantics.md A.11); a larger request is answered 413 REQUEST_TOO_LARGE.
var MaxPayloadSize int64 = 10 << 20

// Server serves invoke requests for deployed APIs. It is safe for concurrent use.
type Server struct {
	opts    Options
	log     *slog.Logger
	now     func() time.Time
	client  *http.Client
	metrics *metrics

	// ctlMu serialises control-plane writes; readers take mu only.
	ctlMu sync.Mutex
	// control is the control plane's router, built by the first control-plane request:
	// its hundred-odd routes are memory and page faults a start need not pay for.
	control func() http.Handler

	mu     sync.RWMutex
	apis   map[string]*gateway.DeploymentPlan            // by API id: the --config file's APIs
	store  Store                                         // where control-plane APIs are saved; nil keeps them in memory
	docs   map[string]*apiDoc                            // control-plane APIs by id
	staged map[string]map[string]*gateway.DeploymentPlan // control-plane APIs' stages: API id → stage → deployment
	keys   map[string]*APIKey                            // by value
	ids    map[string]string                             // key id → value
	acct   *accountDoc                                   // control-plane API keys and usage plans
	keyIDs map[string]string                             // acct's key values → key ids
	meter  *meter                                        // usage plans' throttles and counts; never replaced
}

// NewServer returns a Server with nothing deployed.
func NewServer(opts Options) *Server {
	s := &Server{
		opts: opts, apis: map[string]*gateway.DeploymentPlan{}, keys: map[string]*APIKey{}, ids: map[string]string{},
		docs: map[string]*apiDoc{}, staged: map[string]map[string]*gateway.DeploymentPlan{},
		acct: (&accountDoc{}).withMaps(), keyIDs: map[string]string{}, meter: newMeter(),
	}
	if s.opts.Region == "" {
		s.opts.Region = DefaultRegion
	}
	if s.opts.AccountID == "" {
		s.opts.AccountID = DefaultAccountID
	}
	s.log = opts.Logger
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.now = opts.Now
	if s.now == nil {
		s.now = time.Now
	}
	s.client = opts.HTTPClient
	if s.client == nil {
		// API Gateway returns a back end's redirect to the caller rather than following it.
		s.client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	s.metrics = newMetrics(opts.Registerer)
	s.control = sync.OnceValue(s.controlRouter)
	return s
}

// Deploy makes api callable at the given stages, replacing an earlier deployment of the same id.
//
// Everything a request will need is checked and compiled here, so a problem is an error now,
// naming the path and method, rather than a failed request later: a method without an
// integration (API Gateway will not deploy one either), a template that does not parse, an
// AWS integration that is not a Kinesis or Firehose action, a model a validator cannot use.
// The API must not be changed after it is deployed.
func (s *Server) Deploy(api *gateway.API, stages []gateway.Stage) error {
	d, err := gateway.CompileDeployment(api, stages)
	if err != nil {
		return err
	}
	// The control plane shows one deployment per Deploy, as if CreateDeployment had run.
	d.Created, d.DeploymentID = s.now(), gateway.NewResourceID()
	s.mu.Lock()
	s.apis[api.ID] = d
	s.mu.Unlock()
	return nil
}

// AddAPIKey makes a key valid for the methods that require one.
//
// The value must be 20 to 128 characters, as CreateApiKey requires; an empty ID gets a
// generated one. Adding a key with the ID of an existing key replaces it.
func (s *Server) AddAPIKey(k APIKey) error {
	if n := len(k.Value); n < 20 || n > 128 {
		return fmt.Errorf("API key %q: the value must be between 20 and 128 characters, as API Gateway requires (it has %d)", k.Name, n)
	}
	for _, st := range k.Stages {
		id, stage, ok := strings.Cut(st, "/")
		if !ok || id == "" || stage == "" {
			return fmt.Errorf("API key %q: stage %q is not of the form apiId/stageName", k.Name, st)
		}
	}
	if k.ID == "" {
		k.ID = gateway.NewID()
	}
	k.Stages = slices.Clone(k.Stages)
	k.created = s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if other, ok := s.keys[k.Value]; ok && other.ID != k.ID {
		return fmt.Errorf("API key %q: another key (%s) has the same value", k.Name, other.ID)
	}
	if old, ok := s.ids[k.ID]; ok {
		delete(s.keys, old)
	}
	s.keys[k.Value] = &k
	s.ids[k.ID] = k.Value
	return nil
}

// Deployments lists every callable API stage, sorted by API id and stage.
func (s *Server) Deployments() []Deployment {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Deployment
	for id, d := range s.apis {
		for name := range d.Stages {
			out = append(out, Deployment{APIID: id, Name: d.API.Name, Stage: name})
		}
	}
	for id, stages := range s.staged {
		if _, ok := s.apis[id]; ok {
			continue // the config's API of the same id is the one served
		}
		for name, d := range stages {
			out = append(out, Deployment{APIID: id, Name: d.API.Name, Stage: name})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].APIID != out[j].APIID {
			return out[i].APIID < out[j].APIID
		}
		return out[i].Stage < out[j].Stage
	})
	return out
}

func (s *Server) deployment(id string) *gateway.DeploymentPlan {
	s.mu.RLock()
	d := s.apis[id]
	s.mu.RUnlock()
	return d
}

// deploymentAt returns what serves stage of API id: the config's API, or the deployment
// the control plane's stage points at.
func (s *Server) deploymentAt(id, stage string) *gateway.DeploymentPlan {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if d := s.apis[id]; d != nil {
		return d
	}
	return s.staged[id][stage]
}

// hasAPI reports whether id names an API deployed at some stage.
func (s *Server) hasAPI(id string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.apis[id] != nil || len(s.staged[id]) > 0
}

// apiKey returns the key with the given value if it may call stage of apiID.
func (s *Server) apiKey(value, apiID, stage string) (*APIKey, bool) {
	s.mu.RLock()
	k := s.keys[value]
	s.mu.RUnlock()
	if k == nil {
		return nil, false
	}
	if len(k.Stages) == 0 || slices.Contains(k.Stages, apiID+"/"+stage) {
		return k, true
	}
	return nil, false
}

// Reset forgets every API, stage and API key, the control plane's saved APIs included, so
// the server is as NewServer left it (with its store still open).
func (s *Server) Reset() error {
	s.ctlMu.Lock()
	defer s.ctlMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	if s.store != nil {
		for id := range s.docs {
			errs = append(errs, s.store.DeleteAPI(id))
		}
		errs = append(errs, s.store.SaveAccount(nil), s.store.SaveUsage(nil))
	}
	s.acct, s.keyIDs = (&accountDoc{}).withMaps(), map[string]string{}
	s.meter.reset()
	s.apis, s.keys, s.ids = map[string]*gateway.DeploymentPlan{}, map[string]*APIKey{}, map[string]string{}
	s.docs, s.staged = map[string]*apiDoc{}, map[string]map[string]*gateway.DeploymentPlan{}
	return errors.Join(errs...)
}
