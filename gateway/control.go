package gateway

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/localpipe/localpipe/internal/awsjson"
)

// The control plane is read-only: what is deployed comes from the --config file, so the
// answers describe that and writes are refused with a message saying where to change it.
// Shapes and member names are the apigateway 2015-07-09 model's (REST-JSON, timestamps in
// epoch seconds, list members named "item").

// controlOp is one control-plane operation localpipe answers.
type controlOp int

const (
	opUnknown controlOp = iota
	opGetRestApis
	opGetRestApi
	opGetResources
	opGetResource
	opGetMethod
	opGetIntegration
	opGetStages
	opGetStage
	opGetDeployments
	opGetDeployment
	opGetModels
	opGetModel
	opGetRequestValidators
	opGetRequestValidator
	opGetApiKeys
	opGetApiKey
	opGetUsagePlans
)

// controlRoute is a control-plane path taken apart; the identifiers are percent-decoded.
type controlRoute struct {
	op         controlOp
	apiID      string
	resourceID string
	httpMethod string
	stage      string
	keyID      string
	// item is the deployment id, model name or request validator id.
	item string
}

// controlRoots are the first path segments of API Gateway's control plane that localpipe
// claims (DESIGN.md's endpoint table).
var controlRoots = []string{"restapis", "apikeys", "usageplans"}

// ControlTarget reports whether r is for API Gateway's control plane: a path under
// /restapis, /apikeys or /usageplans that is not an invoke URL (InvokeTarget).
func ControlTarget(r *http.Request) bool {
	if r == nil || r.URL == nil {
		return false
	}
	if _, _, _, ok := InvokeTarget(r); ok {
		return false
	}
	_, ok := parseControlPath(r.URL.EscapedPath())
	return ok
}

// parseControlPath takes an escaped control-plane path apart. ok is false when the path is
// not under one of controlRoots; a path under them that names no operation localpipe
// answers has op opUnknown.
func parseControlPath(p string) (rt controlRoute, ok bool) {
	rest, found := strings.CutPrefix(p, "/")
	if !found {
		return rt, false
	}
	root, rest, _ := strings.Cut(rest, "/")
	if !slices.Contains(controlRoots, root) {
		return rt, false
	}
	// A trailing slash names the same thing, as on the invoke side.
	// "/restapis//" is not "/restapis/" though: its one segment is empty.
	if trimmed := strings.TrimSuffix(rest, "/"); trimmed != "" {
		rest = trimmed
	}
	var segs []string
	if rest != "" {
		for _, s := range strings.Split(rest, "/") {
			d, err := url.PathUnescape(s)
			if err != nil || d == "" {
				return controlRoute{op: opUnknown}, true
			}
			segs = append(segs, d)
		}
	}
	switch root {
	case "restapis":
		switch {
		case len(segs) == 0:
			rt.op = opGetRestApis
		case len(segs) == 1:
			rt.op, rt.apiID = opGetRestApi, segs[0]
		case segs[1] == "resources":
			rt.apiID = segs[0]
			switch {
			case len(segs) == 2:
				rt.op = opGetResources
			case len(segs) == 3:
				rt.op, rt.resourceID = opGetResource, segs[2]
			case len(segs) == 5 && segs[3] == "methods":
				rt.op, rt.resourceID, rt.httpMethod = opGetMethod, segs[2], segs[4]
			case len(segs) == 6 && segs[3] == "methods" && segs[5] == "integration":
				rt.op, rt.resourceID, rt.httpMethod = opGetIntegration, segs[2], segs[4]
			}
		case segs[1] == "stages":
			rt.apiID = segs[0]
			switch len(segs) {
			case 2:
				rt.op = opGetStages
			case 3:
				rt.op, rt.stage = opGetStage, segs[2]
			}
		default:
			ops, known := collections[segs[1]]
			if !known || len(segs) > 3 {
				break
			}
			rt.apiID, rt.op = segs[0], ops[0]
			if len(segs) == 3 {
				rt.op, rt.item = ops[1], segs[2]
			}
		}
	case "apikeys":
		switch len(segs) {
		case 0:
			rt.op = opGetApiKeys
		case 1:
			rt.op, rt.keyID = opGetApiKey, segs[0]
		}
	case "usageplans":
		if len(segs) == 0 {
			rt.op = opGetUsagePlans
		}
	}
	if rt.op == opUnknown {
		return controlRoute{}, true
	}
	return rt, true
}

// collections are the other lists under an API: the list operation and the one-item one.
var collections = map[string][2]controlOp{
	"deployments":       {opGetDeployments, opGetDeployment},
	"models":            {opGetModels, opGetModel},
	"requestvalidators": {opGetRequestValidators, opGetRequestValidator},
}

// controlError is an API Gateway control-plane error: its x-amzn-ErrorType and message.
type controlError struct {
	status int
	typ    string
	msg    string
}

func notFound(msg string) *controlError {
	return &controlError{http.StatusNotFound, "NotFoundException", msg}
}

func badRequest(msg string) *controlError {
	return &controlError{http.StatusBadRequest, "BadRequestException", msg}
}

// ServeControl answers a control-plane request (ControlTarget). Reads describe what is
// deployed; anything else is refused, because APIs and keys come from --config.
func (s *Server) ServeControl(w http.ResponseWriter, r *http.Request) {
	reqID := awsjson.NewRequestID()
	h := w.Header()
	h["x-amzn-RequestId"] = []string{reqID}
	h.Set("Content-Type", "application/json")
	out, cerr := s.control(r)
	if cerr != nil {
		h["x-amzn-ErrorType"] = []string{cerr.typ}
		body, _ := json.Marshal(map[string]string{"message": cerr.msg})
		w.WriteHeader(cerr.status)
		w.Write(body)
		return
	}
	body, err := json.Marshal(out)
	if err != nil {
		// Every answer is built from strings, numbers and maps of them.
		s.log.Error("gateway: control plane answer does not encode", "error", err)
		h["x-amzn-ErrorType"] = []string{"InternalServerErrorException"}
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte(`{"message":"internal error encoding the answer"}`))
		return
	}
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

func (s *Server) control(r *http.Request) (any, *controlError) {
	rt, ok := parseControlPath(r.URL.EscapedPath())
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return nil, badRequest(fmt.Sprintf("localpipe's API Gateway control plane is read-only: %s %s is not supported. "+
			"REST APIs, stages and API keys come from the --config file (restApis:, apiKeys:); change it and restart localpipe.",
			r.Method, r.URL.Path))
	}
	if !ok || rt.op == opUnknown {
		return nil, &controlError{http.StatusNotFound, "UnknownOperationException", fmt.Sprintf(
			"localpipe's API Gateway control plane does not answer GET %s; it answers GetRestApis, GetRestApi, GetResources, "+
				"GetResource, GetMethod, GetIntegration, GetStages, GetStage, GetDeployments, GetDeployment, GetModels, GetModel, "+
				"GetRequestValidators, GetRequestValidator, GetApiKeys, GetApiKey and GetUsagePlans", r.URL.Path)}
	}
	q := r.URL.Query()
	switch rt.op {
	case opGetApiKeys:
		return s.getAPIKeys(q)
	case opGetApiKey:
		return s.getAPIKey(rt.keyID, q.Get("includeValue") == "true")
	case opGetUsagePlans:
		if _, err := pageLimit(q); err != nil {
			return nil, err
		}
		// Keys are not metered, so there are no usage plans to show.
		return map[string]any{"item": []any{}}, nil
	case opGetRestApis:
		return s.getRestAPIs(q)
	}
	d := s.deployment(rt.apiID)
	if d == nil {
		// AWS's words, with the account: "Invalid API identifier specified 123456789012:abc".
		return nil, notFound(fmt.Sprintf("Invalid API identifier specified %s:%s", s.opts.AccountID, rt.apiID))
	}
	switch rt.op {
	case opGetRestApi:
		return restAPIOf(d), nil
	case opGetResources:
		limit, err := pageLimit(q)
		if err != nil {
			return nil, err
		}
		all := d.api.Resources()
		page, next, err := paginate(all, q.Get("position"), limit, func(r *Resource) string { return r.ID })
		if err != nil {
			return nil, err
		}
		embed := embedsMethods(q)
		items := make([]resourceOut, len(page))
		for i, res := range page {
			items[i] = resourceOf(d.api, res, embed)
		}
		return listOut[resourceOut]{Position: next, Item: items}, nil
	case opGetResource:
		res := findResource(d.api, rt.resourceID)
		if res == nil {
			return nil, notFound("Invalid Resource identifier specified")
		}
		return resourceOf(d.api, res, embedsMethods(q)), nil
	case opGetMethod, opGetIntegration:
		res := findResource(d.api, rt.resourceID)
		if res == nil {
			return nil, notFound("Invalid Resource identifier specified")
		}
		m := res.Methods[strings.ToUpper(rt.httpMethod)]
		if m == nil {
			return nil, notFound("Invalid Method identifier specified")
		}
		if rt.op == opGetMethod {
			return methodOf(d.api, res, m), nil
		}
		if m.Integration == nil {
			return nil, notFound("No integration defined for method")
		}
		return integrationOf(res, m.Integration), nil
	case opGetStages:
		var items []stageOut
		if want := q.Get("deploymentId"); want == "" || want == d.deploymentID {
			for _, name := range sortedKeys(d.stages) {
				items = append(items, stageOf(d, d.stages[name]))
			}
		}
		if items == nil {
			items = []stageOut{}
		}
		return map[string]any{"item": items}, nil
	case opGetStage:
		st, ok := d.stages[rt.stage]
		if !ok {
			return nil, notFound("Invalid stage identifier specified")
		}
		return stageOf(d, st), nil
	case opGetDeployments:
		return listPage(q, []deploymentOut{deploymentOf(d)}, func(o deploymentOut) string { return o.ID })
	case opGetDeployment:
		if rt.item != d.deploymentID {
			return nil, notFound("Invalid Deployment identifier specified")
		}
		return deploymentOf(d), nil
	case opGetModels:
		return listPage(q, modelsOf(d.api), func(o modelOut) string { return o.ID })
	case opGetModel:
		for _, o := range modelsOf(d.api) {
			if o.Name == rt.item {
				return o, nil
			}
		}
		return nil, notFound("Invalid model name specified: " + rt.item)
	case opGetRequestValidators:
		return listPage(q, validatorsOf(d.api), func(o validatorOut) string { return o.ID })
	case opGetRequestValidator:
		for _, o := range validatorsOf(d.api) {
			if o.ID == rt.item {
				return o, nil
			}
		}
		return nil, notFound("Invalid Request Validator identifier specified")
	}
	return nil, &controlError{http.StatusNotFound, "UnknownOperationException", "unknown operation"}
}

// listOut is the model's paged list shape (RestApis, Resources, ApiKeys, ...).
type listOut[T any] struct {
	Position string `json:"position,omitempty"`
	Item     []T    `json:"item"`
}

// Page sizes: "The maximum number of returned results per page. The default value is 25
// and the maximum value is 500." (GetRestApisRequest.limit and its siblings)
const (
	defaultPageLimit = 25
	maxPageLimit     = 500
)

func pageLimit(q url.Values) (int, *controlError) {
	v := q.Get("limit")
	if v == "" {
		return defaultPageLimit, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxPageLimit {
		return 0, badRequest(fmt.Sprintf("Invalid limit %q: it must be a whole number from 1 to %d", v, maxPageLimit))
	}
	return n, nil
}

// paginate returns up to limit items starting at the one whose id is position (the token
// a previous page returned), and the token of the page after, "" at the end.
func paginate[T any](all []T, position string, limit int, id func(T) string) ([]T, string, *controlError) {
	start := 0
	if position != "" {
		start = slices.IndexFunc(all, func(t T) bool { return id(t) == position })
		if start < 0 {
			return nil, "", badRequest(fmt.Sprintf("Invalid position %q: pass the position a previous page returned", position))
		}
	}
	end := min(start+limit, len(all))
	next := ""
	if end < len(all) {
		next = id(all[end])
	}
	return all[start:end], next, nil
}

func embedsMethods(q url.Values) bool {
	for _, v := range q["embed"] {
		for e := range strings.SplitSeq(v, ",") {
			if strings.TrimSpace(e) == "methods" {
				return true
			}
		}
	}
	return false
}

func epoch(t time.Time) int64 { return t.Unix() }

type endpointConfigurationOut struct {
	Types []string `json:"types"`
}

type restAPIOut struct {
	ID                        string                   `json:"id"`
	Name                      string                   `json:"name"`
	Description               string                   `json:"description,omitempty"`
	CreatedDate               int64                    `json:"createdDate"`
	Version                   string                   `json:"version,omitempty"`
	BinaryMediaTypes          []string                 `json:"binaryMediaTypes,omitempty"`
	APIKeySource              string                   `json:"apiKeySource"`
	EndpointConfiguration     endpointConfigurationOut `json:"endpointConfiguration"`
	DisableExecuteAPIEndpoint bool                     `json:"disableExecuteApiEndpoint"`
	RootResourceID            string                   `json:"rootResourceId"`
}

func restAPIOf(d *deployment) restAPIOut {
	a := d.api
	src := a.APIKeySource
	if src == "" {
		src = APIKeySourceHeader
	}
	return restAPIOut{
		ID: a.ID, Name: a.Name, Description: a.Description, CreatedDate: epoch(d.created),
		Version: a.Version, BinaryMediaTypes: a.BinaryMediaTypes, APIKeySource: src,
		// An imported API is edge-optimized unless the import says otherwise.
		EndpointConfiguration: endpointConfigurationOut{Types: []string{"EDGE"}},
		RootResourceID:        a.root.ID,
	}
}

func (s *Server) getRestAPIs(q url.Values) (any, *controlError) {
	limit, err := pageLimit(q)
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	all := make([]*deployment, 0, len(s.apis))
	for _, d := range s.apis {
		all = append(all, d)
	}
	s.mu.RUnlock()
	sort.Slice(all, func(i, j int) bool { return all[i].api.ID < all[j].api.ID })
	page, next, err := paginate(all, q.Get("position"), limit, func(d *deployment) string { return d.api.ID })
	if err != nil {
		return nil, err
	}
	items := make([]restAPIOut, len(page))
	for i, d := range page {
		items[i] = restAPIOf(d)
	}
	return listOut[restAPIOut]{Position: next, Item: items}, nil
}

type resourceOut struct {
	ID              string         `json:"id"`
	ParentID        string         `json:"parentId,omitempty"`
	PathPart        string         `json:"pathPart,omitempty"`
	Path            string         `json:"path"`
	ResourceMethods map[string]any `json:"resourceMethods,omitempty"`
}

// resourceOf describes res. Without embed=methods API Gateway lists each method's verb
// with an empty object ("resourceMethods": {"GET": {}}).
func resourceOf(api *API, res *Resource, embed bool) resourceOut {
	out := resourceOut{ID: res.ID, ParentID: res.ParentID, PathPart: res.PathPart, Path: res.Path}
	if len(res.Methods) > 0 {
		out.ResourceMethods = make(map[string]any, len(res.Methods))
		for verb, m := range res.Methods {
			if embed {
				out.ResourceMethods[verb] = methodOf(api, res, m)
			} else {
				out.ResourceMethods[verb] = struct{}{}
			}
		}
	}
	return out
}

func findResource(a *API, id string) *Resource {
	for _, r := range a.Resources() {
		if r.ID == id {
			return r
		}
	}
	return nil
}

type methodResponseOut struct {
	StatusCode         string            `json:"statusCode"`
	ResponseParameters map[string]bool   `json:"responseParameters,omitempty"`
	ResponseModels     map[string]string `json:"responseModels,omitempty"`
}

type methodOut struct {
	HTTPMethod         string                       `json:"httpMethod"`
	AuthorizationType  string                       `json:"authorizationType"`
	APIKeyRequired     bool                         `json:"apiKeyRequired"`
	OperationName      string                       `json:"operationName,omitempty"`
	RequestValidatorID string                       `json:"requestValidatorId,omitempty"`
	RequestParameters  map[string]bool              `json:"requestParameters,omitempty"`
	RequestModels      map[string]string            `json:"requestModels,omitempty"`
	MethodResponses    map[string]methodResponseOut `json:"methodResponses,omitempty"`
	MethodIntegration  *integrationOut              `json:"methodIntegration,omitempty"`
}

func methodOf(api *API, res *Resource, m *Method) methodOut {
	out := methodOut{
		HTTPMethod: m.HTTPMethod, AuthorizationType: "NONE", APIKeyRequired: m.APIKeyRequired,
		OperationName: m.OperationName, RequestParameters: m.RequestParameters, RequestModels: m.RequestModels,
	}
	if m.RequestValidator != "" {
		out.RequestValidatorID = derivedID(api.ID, "requestvalidator", m.RequestValidator)
	}
	if len(m.MethodResponses) > 0 {
		out.MethodResponses = make(map[string]methodResponseOut, len(m.MethodResponses))
		for code, mr := range m.MethodResponses {
			out.MethodResponses[code] = methodResponseOut{StatusCode: code, ResponseParameters: mr.ResponseParameters, ResponseModels: mr.ResponseModels}
		}
	}
	if m.Integration != nil {
		in := integrationOf(res, m.Integration)
		out.MethodIntegration = &in
	}
	return out
}

type integrationResponseOut struct {
	StatusCode         string            `json:"statusCode"`
	SelectionPattern   string            `json:"selectionPattern,omitempty"`
	ResponseParameters map[string]string `json:"responseParameters,omitempty"`
	ResponseTemplates  map[string]string `json:"responseTemplates,omitempty"`
	ContentHandling    string            `json:"contentHandling,omitempty"`
}

type tlsConfigOut struct {
	InsecureSkipVerification bool `json:"insecureSkipVerification"`
}

type integrationOut struct {
	Type                 IntegrationType                   `json:"type"`
	HTTPMethod           string                            `json:"httpMethod,omitempty"`
	URI                  string                            `json:"uri,omitempty"`
	ConnectionType       string                            `json:"connectionType"`
	Credentials          string                            `json:"credentials,omitempty"`
	RequestParameters    map[string]string                 `json:"requestParameters,omitempty"`
	RequestTemplates     map[string]string                 `json:"requestTemplates,omitempty"`
	PassthroughBehavior  string                            `json:"passthroughBehavior"`
	ContentHandling      string                            `json:"contentHandling,omitempty"`
	TimeoutInMillis      int                               `json:"timeoutInMillis"`
	CacheNamespace       string                            `json:"cacheNamespace"`
	CacheKeyParameters   []string                          `json:"cacheKeyParameters"`
	IntegrationResponses map[string]integrationResponseOut `json:"integrationResponses,omitempty"`
	TLSConfig            *tlsConfigOut                     `json:"tlsConfig,omitempty"`
}

// integrationOf describes in. The model keys integration responses by status code where
// the import keys them by selection pattern; each becomes its status code's entry, a
// pattern's winning over the default's for the same code, as PutIntegrationResponse for
// that code would have left it.
func integrationOf(res *Resource, in *Integration) integrationOut {
	out := integrationOut{
		Type: in.Type, HTTPMethod: in.HTTPMethod, URI: in.URI, ConnectionType: "INTERNET",
		Credentials: in.Credentials, RequestParameters: in.RequestParameters, RequestTemplates: in.RequestTemplates,
		PassthroughBehavior: in.PassthroughBehavior, ContentHandling: in.ContentHandling,
		TimeoutInMillis: in.TimeoutInMillis, CacheNamespace: in.CacheNamespace, CacheKeyParameters: in.CacheKeyParameters,
	}
	if out.PassthroughBehavior == "" {
		out.PassthroughBehavior = PassthroughWhenNoMatch
	}
	if out.TimeoutInMillis == 0 {
		out.TimeoutInMillis = MaxTimeoutMillis
	}
	if out.CacheNamespace == "" {
		// API Gateway fills the cache namespace with the resource's id.
		out.CacheNamespace = res.ID
	}
	if out.CacheKeyParameters == nil {
		out.CacheKeyParameters = []string{}
	}
	if in.InsecureSkipVerification {
		out.TLSConfig = &tlsConfigOut{InsecureSkipVerification: true}
	}
	if len(in.Responses) > 0 {
		out.IntegrationResponses = make(map[string]integrationResponseOut, len(in.Responses))
		if def, ok := in.Responses["default"]; ok {
			out.IntegrationResponses[def.StatusCode] = integrationResponseOf(def, "")
		}
		for _, pattern := range sortedKeys(in.Responses) {
			if pattern == "default" {
				continue
			}
			ir := in.Responses[pattern]
			out.IntegrationResponses[ir.StatusCode] = integrationResponseOf(ir, pattern)
		}
	}
	return out
}

func integrationResponseOf(ir IntegrationResponse, pattern string) integrationResponseOut {
	if ir.SelectionPattern != "" {
		pattern = ir.SelectionPattern
	}
	return integrationResponseOut{
		StatusCode: ir.StatusCode, SelectionPattern: pattern, ResponseParameters: ir.ResponseParameters,
		ResponseTemplates: ir.ResponseTemplates, ContentHandling: ir.ContentHandling,
	}
}

type stageOut struct {
	DeploymentID        string            `json:"deploymentId"`
	StageName           string            `json:"stageName"`
	Variables           map[string]string `json:"variables,omitempty"`
	CacheClusterEnabled bool              `json:"cacheClusterEnabled"`
	CacheClusterStatus  string            `json:"cacheClusterStatus"`
	MethodSettings      map[string]any    `json:"methodSettings"`
	TracingEnabled      bool              `json:"tracingEnabled"`
	CreatedDate         int64             `json:"createdDate"`
	LastUpdatedDate     int64             `json:"lastUpdatedDate"`
}

func stageOf(d *deployment, st Stage) stageOut {
	return stageOut{
		DeploymentID: d.deploymentID, StageName: st.Name, Variables: st.Variables,
		CacheClusterStatus: "NOT_AVAILABLE", MethodSettings: map[string]any{},
		CreatedDate: epoch(d.created), LastUpdatedDate: epoch(d.created),
	}
}

type apiKeyOut struct {
	ID              string   `json:"id"`
	Value           string   `json:"value,omitempty"`
	Name            string   `json:"name"`
	Description     string   `json:"description,omitempty"`
	Enabled         bool     `json:"enabled"`
	CreatedDate     int64    `json:"createdDate"`
	LastUpdatedDate int64    `json:"lastUpdatedDate"`
	StageKeys       []string `json:"stageKeys"`
}

func apiKeyOf(k *APIKey, withValue bool) apiKeyOut {
	out := apiKeyOut{
		ID: k.ID, Name: k.Name, Description: k.Description, Enabled: true,
		CreatedDate: epoch(k.created), LastUpdatedDate: epoch(k.created), StageKeys: slices.Sorted(slices.Values(k.Stages)),
	}
	if out.StageKeys == nil {
		out.StageKeys = []string{}
	}
	if withValue {
		out.Value = k.Value
	}
	return out
}

// apiKeys returns copies of the registered keys, sorted by id.
func (s *Server) apiKeys() []*APIKey {
	s.mu.RLock()
	out := make([]*APIKey, 0, len(s.keys))
	for _, k := range s.keys {
		c := *k
		out = append(out, &c)
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (s *Server) getAPIKeys(q url.Values) (any, *controlError) {
	limit, err := pageLimit(q)
	if err != nil {
		return nil, err
	}
	all := s.apiKeys()
	// nameQuery matches names that start with it; no key has a customer id.
	name, customer := q.Get("name"), q.Get("customerId")
	all = slices.DeleteFunc(all, func(k *APIKey) bool { return !strings.HasPrefix(k.Name, name) || customer != "" })
	page, next, err := paginate(all, q.Get("position"), limit, func(k *APIKey) string { return k.ID })
	if err != nil {
		return nil, err
	}
	withValues := q.Get("includeValues") == "true"
	items := make([]apiKeyOut, len(page))
	for i, k := range page {
		items[i] = apiKeyOf(k, withValues)
	}
	return listOut[apiKeyOut]{Position: next, Item: items}, nil
}

func (s *Server) getAPIKey(id string, withValue bool) (any, *controlError) {
	for _, k := range s.apiKeys() {
		if k.ID == id {
			return apiKeyOf(k, withValue), nil
		}
	}
	return nil, notFound("Invalid API Key identifier specified")
}

// listPage answers one page of a list operation.
func listPage[T any](q url.Values, all []T, id func(T) string) (any, *controlError) {
	limit, err := pageLimit(q)
	if err != nil {
		return nil, err
	}
	page, next, err := paginate(all, q.Get("position"), limit, id)
	if err != nil {
		return nil, err
	}
	return listOut[T]{Position: next, Item: page}, nil
}

// derivedID makes the id of something the import names but gives no id (a model, a
// request validator) from its API and name, so it is the same on every start: 6
// characters of idAlphabet, like the ids API Gateway gives them.
func derivedID(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	out := make([]byte, 6)
	for i := range out {
		out[i] = idAlphabet[int(sum[i])%len(idAlphabet)]
	}
	return string(out)
}

type deploymentOut struct {
	ID          string `json:"id"`
	CreatedDate int64  `json:"createdDate"`
}

func deploymentOf(d *deployment) deploymentOut {
	return deploymentOut{ID: d.deploymentID, CreatedDate: epoch(d.created)}
}

type modelOut struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Schema      string `json:"schema"`
	ContentType string `json:"contentType"`
}

func modelsOf(a *API) []modelOut {
	out := make([]modelOut, 0, len(a.Models))
	for _, name := range sortedKeys(a.Models) {
		out = append(out, modelOut{ID: derivedID(a.ID, "model", name), Name: name, Schema: string(a.Models[name]), ContentType: "application/json"})
	}
	return out
}

type validatorOut struct {
	ID                        string `json:"id"`
	Name                      string `json:"name"`
	ValidateRequestBody       bool   `json:"validateRequestBody"`
	ValidateRequestParameters bool   `json:"validateRequestParameters"`
}

func validatorsOf(a *API) []validatorOut {
	out := make([]validatorOut, 0, len(a.RequestValidators))
	for _, name := range sortedKeys(a.RequestValidators) {
		v := a.RequestValidators[name]
		out = append(out, validatorOut{
			ID: derivedID(a.ID, "requestvalidator", name), Name: name,
			ValidateRequestBody: v.ValidateRequestBody, ValidateRequestParameters: v.ValidateRequestParameters,
		})
	}
	return out
}
