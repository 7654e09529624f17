package gatewayapi

import (
	"cmp"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/localpipe/localpipe/gateway"
)

// The control plane describes the --config file's APIs (read-only: writes to them are
// refused with a message saying where to change them) and creates, edits, deploys and
// deletes APIs of its own (ctlwrite.go), kept in a Store. Shapes and member names are the apigateway 2015-07-09 model's (REST-JSON, timestamps in
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
	if isTagsPath(r.URL.EscapedPath()) || signedFor(r, "apigateway") {
		return true
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

func conflict(msg string) *controlError {
	return &controlError{http.StatusConflict, "ConflictException", msg}
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
	Warnings                  []string                 `json:"warnings,omitempty"`
	Tags                      map[string]string        `json:"tags,omitempty"`
}

func restAPIOf(d *gateway.DeploymentPlan) restAPIOut {
	a := d.API
	src := a.APIKeySource
	if src == "" {
		src = gateway.APIKeySourceHeader
	}
	return restAPIOut{
		ID: a.ID, Name: a.Name, Description: a.Description, CreatedDate: epoch(d.Created),
		Version: a.Version, BinaryMediaTypes: a.BinaryMediaTypes, APIKeySource: src,
		// An imported API is edge-optimized unless the import says otherwise.
		EndpointConfiguration: endpointConfigurationOut{Types: []string{"EDGE"}},
		RootResourceID:        a.Root().ID,
	}
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
func resourceOf(api *gateway.API, res *gateway.Resource, embed bool) resourceOut {
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

func findResource(a *gateway.API, id string) *gateway.Resource {
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
	AuthorizerID       string                       `json:"authorizerId,omitempty"`
	APIKeyRequired     bool                         `json:"apiKeyRequired"`
	OperationName      string                       `json:"operationName,omitempty"`
	RequestValidatorID string                       `json:"requestValidatorId,omitempty"`
	RequestParameters  map[string]bool              `json:"requestParameters,omitempty"`
	RequestModels      map[string]string            `json:"requestModels,omitempty"`
	MethodResponses    map[string]methodResponseOut `json:"methodResponses,omitempty"`
	MethodIntegration  *integrationOut              `json:"methodIntegration,omitempty"`
}

func methodOf(api *gateway.API, res *gateway.Resource, m *gateway.Method) methodOut {
	out := methodOut{
		HTTPMethod: m.HTTPMethod, AuthorizationType: cmp.Or(m.AuthorizationType, "NONE"), APIKeyRequired: m.APIKeyRequired,
		OperationName: m.OperationName, RequestParameters: m.RequestParameters, RequestModels: m.RequestModels,
	}
	if m.RequestValidator != "" {
		out.RequestValidatorID = derivedID(api.ID, "requestvalidator", m.RequestValidator)
	}
	if m.Authorizer != "" {
		out.AuthorizerID = derivedID(api.ID, "authorizer", m.Authorizer)
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
	Type                 gateway.IntegrationType           `json:"type"`
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
func integrationOf(res *gateway.Resource, in *gateway.Integration) integrationOut {
	out := integrationOut{
		Type: in.Type, HTTPMethod: in.HTTPMethod, URI: in.URI, ConnectionType: "INTERNET",
		Credentials: in.Credentials, RequestParameters: in.RequestParameters, RequestTemplates: in.RequestTemplates,
		PassthroughBehavior: in.PassthroughBehavior, ContentHandling: in.ContentHandling,
		TimeoutInMillis: in.TimeoutInMillis, CacheNamespace: in.CacheNamespace, CacheKeyParameters: in.CacheKeyParameters,
	}
	if out.PassthroughBehavior == "" {
		out.PassthroughBehavior = gateway.PassthroughWhenNoMatch
	}
	if out.TimeoutInMillis == 0 {
		out.TimeoutInMillis = gateway.MaxTimeoutMillis
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

func integrationResponseOf(ir gateway.IntegrationResponse, pattern string) integrationResponseOut {
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
	Description         string            `json:"description,omitempty"`
	Variables           map[string]string `json:"variables,omitempty"`
	CacheClusterEnabled bool              `json:"cacheClusterEnabled"`
	CacheClusterStatus  string            `json:"cacheClusterStatus"`
	MethodSettings      map[string]any    `json:"methodSettings"`
	TracingEnabled      bool              `json:"tracingEnabled"`
	CreatedDate         int64             `json:"createdDate"`
	LastUpdatedDate     int64             `json:"lastUpdatedDate"`
	Tags                map[string]string `json:"tags,omitempty"`
}

func stageOf(d *gateway.DeploymentPlan, st gateway.Stage) stageOut {
	return stageOut{
		DeploymentID: d.DeploymentID, StageName: st.Name, Variables: st.Variables,
		CacheClusterStatus: "NOT_AVAILABLE", MethodSettings: map[string]any{},
		CreatedDate: epoch(d.Created), LastUpdatedDate: epoch(d.Created),
	}
}

type apiKeyOut struct {
	ID              string            `json:"id"`
	Value           string            `json:"value,omitempty"`
	Name            string            `json:"name"`
	Description     string            `json:"description,omitempty"`
	CustomerID      string            `json:"customerId,omitempty"`
	Enabled         bool              `json:"enabled"`
	CreatedDate     int64             `json:"createdDate"`
	LastUpdatedDate int64             `json:"lastUpdatedDate"`
	StageKeys       []string          `json:"stageKeys"`
	Tags            map[string]string `json:"tags,omitempty"`
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
// characters of gateway.IDAlphabet, like the ids API Gateway gives them.
func derivedID(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	out := make([]byte, 6)
	for i := range out {
		out[i] = gateway.IDAlphabet[int(sum[i])%len(gateway.IDAlphabet)]
	}
	return string(out)
}

type deploymentOut struct {
	ID          string `json:"id"`
	Description string `json:"description,omitempty"`
	CreatedDate int64  `json:"createdDate"`
}

func deploymentOf(d *gateway.DeploymentPlan) deploymentOut {
	return deploymentOut{ID: d.DeploymentID, CreatedDate: epoch(d.Created)}
}

type modelOut struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Schema      string `json:"schema"`
	ContentType string `json:"contentType"`
}

func modelsOf(a *gateway.API) []modelOut {
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

func validatorsOf(a *gateway.API) []validatorOut {
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

// signedFor reports whether r carries a Signature Version 4 Authorization header whose
// credential scope names service: what an SDK sends for an API Gateway operation on any
// path (/account, /domainnames, …), while S3 requests are signed for s3.
func signedFor(r *http.Request, service string) bool {
	auth := r.Header.Get("Authorization")
	_, cred, ok := strings.Cut(auth, "Credential=")
	if !ok || !strings.HasPrefix(auth, "AWS4-HMAC-SHA256") {
		return false
	}
	cred, _, _ = strings.Cut(cred, ",")
	parts := strings.Split(strings.TrimSpace(cred), "/")
	return len(parts) == 5 && parts[3] == service
}

// sortedKeys lists a map's keys in order, so that answers and logs do not vary between runs.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
