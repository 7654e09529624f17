package gatewayapi

import (
	"encoding/json"
	"fmt"
	"maps"
	"sort"
	"time"

	"github.com/localpipe/localpipe/gateway"
)

// Store keeps the APIs the control plane creates. SaveAPI must be durable when it returns:
// a client that got its answer may kill the process and expect the change after a restart.
type Store interface {
	// LoadAPIs returns every stored API document by API id.
	LoadAPIs() (map[string][]byte, error)
	SaveAPI(id string, doc []byte) error
	DeleteAPI(id string) error
	// LoadAccount returns the stored account document (API keys, usage plans), nil if none.
	LoadAccount() ([]byte, error)
	// SaveAccount replaces the account document; nil removes it.
	SaveAccount(doc []byte) error
	// LoadUsage and SaveUsage keep the usage plans' counts across a clean stop (SaveUsage).
	LoadUsage() ([]byte, error)
	SaveUsage(doc []byte) error
}

// apiDocVersion is written into every stored document so a later format can tell it apart.
const apiDocVersion = 1

// apiDoc is one API created through the control plane, as stored: the model being edited,
// its deployments (each a frozen copy of the resources at CreateDeployment), and its stages
// pointing at deployments. An API that is edited but not redeployed keeps serving what its
// stages' deployments froze, as on AWS. A published apiDoc is never mutated: a write works
// on a clone and swaps it in only once the store has it.
type apiDoc struct {
	V           int    `json:"v"`
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Version     string `json:"version,omitempty"`
	Created     int64  `json:"created"`
	apiSettings
	ModelInfo                 map[string]modelInfo      `json:"modelInfo,omitempty"`
	EndpointTypes             []string                  `json:"endpointTypes"`
	DisableExecuteAPIEndpoint bool                      `json:"disableExecuteApiEndpoint,omitempty"`
	RootID                    string                    `json:"rootId"`
	Resources                 map[string]*resourceDoc   `json:"resources"`
	Deployments               map[string]*deploymentDoc `json:"deployments,omitempty"`
	Stages                    map[string]*stageDoc      `json:"stages,omitempty"`
	Tags                      map[string]string         `json:"tags,omitempty"`
}

// apiSettings are the API-wide settings that change how requests are served, so a
// deployment freezes them with the resources.
type apiSettings struct {
	APIKeySource      string                              `json:"apiKeySource"`
	BinaryMediaTypes  []string                            `json:"binaryMediaTypes,omitempty"`
	Models            map[string]json.RawMessage          `json:"models,omitempty"`
	RequestValidators map[string]gateway.RequestValidator `json:"requestValidators,omitempty"`
	DefaultValidator  string                              `json:"defaultValidator,omitempty"`
	GatewayResponses  map[string]gateway.GatewayResponse  `json:"gatewayResponses,omitempty"`
	Authorizers       map[string]*gateway.Authorizer      `json:"authorizers,omitempty"`
}

// resourceDoc is one resource of the tree, linked to its parent by id. Its methods'
// integration responses are keyed by status code, as PutIntegrationResponse keys them
// (the API built from it keys them by selection pattern, as the importer does).
type resourceDoc struct {
	ParentID string                     `json:"parentId,omitempty"`
	PathPart string                     `json:"pathPart,omitempty"`
	Methods  map[string]*gateway.Method `json:"methods,omitempty"`
}

// deploymentDoc is what CreateDeployment froze: the resources and the API-wide settings,
// so UpdateRestApi, like any edit, shows only once deployed.
type deploymentDoc struct {
	Description string                  `json:"description,omitempty"`
	Created     int64                   `json:"created"`
	Resources   map[string]*resourceDoc `json:"resources"`
	Settings    apiSettings             `json:"settings"`
}

type stageDoc struct {
	DeploymentID string            `json:"deploymentId"`
	Description  string            `json:"description,omitempty"`
	Variables    map[string]string `json:"variables,omitempty"`
	Created      int64             `json:"created"`
	Updated      int64             `json:"updated"`
	Tags         map[string]string `json:"tags,omitempty"`
	// MethodSettings by "*/*" or "resource/path/VERB" (methodsettings.go).
	MethodSettings map[string]*methodSetting `json:"methodSettings,omitempty"`
}

// clone returns a deep copy. Everything in a doc is plain data, so a JSON round trip is
// an exact copy.
func (d *apiDoc) clone() *apiDoc {
	b, err := json.Marshal(d)
	if err != nil {
		panic(fmt.Sprintf("gateway: an API document does not encode: %v", err))
	}
	var out apiDoc
	if err := json.Unmarshal(b, &out); err != nil {
		panic(fmt.Sprintf("gateway: an API document does not decode: %v", err))
	}
	return &out
}

func cloneResources(in map[string]*resourceDoc) map[string]*resourceDoc {
	b, err := json.Marshal(in)
	if err != nil {
		panic(fmt.Sprintf("gateway: resources do not encode: %v", err))
	}
	var out map[string]*resourceDoc
	if err := json.Unmarshal(b, &out); err != nil {
		panic(fmt.Sprintf("gateway: resources do not decode: %v", err))
	}
	return out
}

func decodeAPIDoc(b []byte) (*apiDoc, error) {
	var d apiDoc
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, err
	}
	if d.V != apiDocVersion {
		return nil, fmt.Errorf("format version %d, this localpipe reads %d", d.V, apiDocVersion)
	}
	if d.Resources[d.RootID] == nil {
		return nil, fmt.Errorf("API %s has no root resource %q", d.ID, d.RootID)
	}
	return &d, nil
}

// pathOf returns the template path of resource id.
func pathOf(res map[string]*resourceDoc, id string) string {
	var parts []string
	for r := res[id]; r != nil && r.ParentID != ""; r = res[r.ParentID] {
		parts = append(parts, r.PathPart)
	}
	p := ""
	for i := len(parts) - 1; i >= 0; i-- {
		p += "/" + parts[i]
	}
	if p == "" {
		return "/"
	}
	return p
}

// buildAPI makes the API a set of the doc's resources describes (the current model, or a
// deployment's frozen copy). The result is the doc's own copy, free to compile and serve.
func buildAPI(d *apiDoc, resources map[string]*resourceDoc) (*gateway.API, error) {
	res := cloneResources(resources)
	api := &gateway.API{
		ID: d.ID, Name: d.Name, Description: d.Description, Version: d.Version,
		APIKeySource: d.APIKeySource, BinaryMediaTypes: d.BinaryMediaTypes, Models: d.Models,
		RequestValidators: d.RequestValidators, DefaultValidator: d.DefaultValidator, GatewayResponses: d.GatewayResponses,
		Authorizers: d.Authorizers,
	}
	rootDoc := res[d.RootID]
	if rootDoc == nil {
		return nil, fmt.Errorf("gateway: API %s has no root resource %q", d.ID, d.RootID)
	}
	api.SetRoot(&gateway.Resource{ID: d.RootID, Path: "/", Methods: byPattern(rootDoc.Methods)})
	children := map[string][]string{}
	for id, r := range res {
		if id != d.RootID {
			children[r.ParentID] = append(children[r.ParentID], id)
		}
	}
	var add func(parent *gateway.Resource) error
	add = func(parent *gateway.Resource) error {
		ids := children[parent.ID]
		sort.Slice(ids, func(i, j int) bool { return res[ids[i]].PathPart < res[ids[j]].PathPart })
		for _, id := range ids {
			c, err := api.AddResourceWithID(parent, res[id].PathPart, id)
			if err != nil {
				return fmt.Errorf("gateway: API %s: resource %s: %w", d.ID, id, err)
			}
			c.Methods = byPattern(res[id].Methods)
			if err := add(c); err != nil {
				return err
			}
		}
		return nil
	}
	if err := add(api.Root()); err != nil {
		return nil, err
	}
	return api, nil
}

// byPattern rekeys each method's integration responses from status code to selection
// pattern ("default" for the one without a pattern), the form compile and describe use.
func byPattern(methods map[string]*gateway.Method) map[string]*gateway.Method {
	for _, m := range methods {
		if m.Integration == nil || len(m.Integration.Responses) == 0 {
			continue
		}
		out := make(map[string]gateway.IntegrationResponse, len(m.Integration.Responses))
		for _, code := range sortedKeys(m.Integration.Responses) {
			ir := m.Integration.Responses[code]
			key := ir.SelectionPattern
			if key == "" {
				key = "default"
			}
			out[key] = ir
		}
		m.Integration.Responses = out
	}
	return methods
}

// compileStage compiles the deployment stage name of d points at, for serving.
func compileStage(d *apiDoc, name string) (*gateway.DeploymentPlan, error) {
	st := d.Stages[name]
	if st == nil {
		return nil, fmt.Errorf("gateway: API %s has no stage %q", d.ID, name)
	}
	dep := d.Deployments[st.DeploymentID]
	if dep == nil {
		return nil, fmt.Errorf("gateway: API %s stage %s: no deployment %q", d.ID, name, st.DeploymentID)
	}
	frozen := *d
	frozen.apiSettings = dep.Settings
	api, err := buildAPI(&frozen, dep.Resources)
	if err != nil {
		return nil, err
	}
	dd, err := gateway.CompileDeployment(api, []gateway.Stage{{Name: name, Variables: maps.Clone(st.Variables), Throttles: stageThrottles(st.MethodSettings)}})
	if err != nil {
		return nil, err
	}
	dd.Created, dd.DeploymentID = time.Unix(dep.Created, 0), st.DeploymentID
	return dd, nil
}

// OpenControlPlane loads what the control plane created earlier from st and serves its
// deployed stages; from then on every control-plane write is saved to st before it is
// answered. An API whose stored document does not decode, or a stage that no longer
// compiles, is logged and left out rather than stopping localpipe from starting.
func (s *Server) OpenControlPlane(st Store) error {
	raw, err := st.LoadAPIs()
	if err != nil {
		return fmt.Errorf("gateway: loading the control plane's APIs: %w", err)
	}
	s.ctlMu.Lock()
	defer s.ctlMu.Unlock()
	docs := map[string]*apiDoc{}
	staged := map[string]map[string]*gateway.DeploymentPlan{}
	for id, b := range raw {
		d, err := decodeAPIDoc(b)
		if err != nil {
			s.log.Error("gateway: a stored REST API does not decode; it is left out", "id", id, "error", err)
			continue
		}
		docs[id] = d
		for name := range d.Stages {
			dd, err := compileStage(d, name)
			if err != nil {
				s.log.Error("gateway: a stored stage does not compile; it is not served", "id", id, "stage", name, "error", err)
				continue
			}
			if staged[id] == nil {
				staged[id] = map[string]*gateway.DeploymentPlan{}
			}
			staged[id][name] = dd
		}
	}
	rawAcct, err := st.LoadAccount()
	if err != nil {
		return fmt.Errorf("gateway: loading the control plane's API keys and usage plans: %w", err)
	}
	acct, err := decodeAccountDoc(rawAcct)
	if err != nil {
		// Keys are credentials: starting without them would silently let nobody in, or
		// everybody, depending on the methods; refuse instead.
		return fmt.Errorf("gateway: the stored API keys and usage plans do not decode: %w", err)
	}
	s.setAccount(acct)
	if raw, err := st.LoadUsage(); err != nil {
		s.log.Error("gateway: the usage plans' saved counts do not load; usage starts afresh", "error", err)
	} else if err := s.meter.restore(raw); err != nil {
		s.log.Error("gateway: the usage plans' saved counts do not decode; usage starts afresh", "error", err)
	}
	s.mu.Lock()
	s.store, s.docs, s.staged = st, docs, staged
	s.mu.Unlock()
	return nil
}

// doc returns the published document of a control-plane API, or nil.
func (s *Server) doc(id string) *apiDoc {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.docs[id]
}

// publish saves d and makes it, and the given stages compiled from it, current. dropped
// names stages that no longer exist. The caller holds ctlMu.
func (s *Server) publish(d *apiDoc, stages map[string]*gateway.DeploymentPlan, dropped []string) error {
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	if s.store != nil {
		if err := s.store.SaveAPI(d.ID, b); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.docs[d.ID] = d
	if s.staged[d.ID] == nil {
		s.staged[d.ID] = map[string]*gateway.DeploymentPlan{}
	}
	maps.Copy(s.staged[d.ID], stages)
	for _, name := range dropped {
		delete(s.staged[d.ID], name)
	}
	return nil
}

// unpublish removes API id everywhere. The caller holds ctlMu.
func (s *Server) unpublish(id string) error {
	if s.store != nil {
		if err := s.store.DeleteAPI(id); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.docs, id)
	delete(s.staged, id)
	return nil
}
