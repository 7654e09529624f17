package gatewayapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/localpipe/localpipe/internal/lazyre"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/localpipe/localpipe/gateway"
)

// The control plane's writes. Each one checks its input, applies it to a clone of the API's
// document, saves the clone and only then publishes it, so a refused or failed call
// changes nothing. Messages are API Gateway's where it is known what they are.

// maxControlBody bounds a control-plane request body; API Gateway's own limit for an
// import is 6 MB, and no other operation takes anything near it.
const maxControlBody = 6 << 20

// readBody reads the body of c, up to maxControlBody bytes.
func readBody(c *ctlReq) ([]byte, *controlError) {
	b, err := io.ReadAll(io.LimitReader(c.r.Body, maxControlBody+1))
	if err != nil {
		return nil, badRequest("Invalid request input: the body could not be read")
	}
	if len(b) > maxControlBody {
		return nil, badRequest(fmt.Sprintf("Invalid request input: the body is larger than %d bytes", maxControlBody))
	}
	return b, nil
}

// decodeBody decodes the JSON body of c into v; an empty body leaves v as it is.
func decodeBody(c *ctlReq, v any) *controlError {
	b, cerr := readBody(c)
	if cerr != nil {
		return cerr
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return badRequest("Invalid request input: " + err.Error())
	}
	return nil
}

// edit runs fn on a clone of API id's document and publishes the result. fn may return
// stages to serve from the clone (compiled) and stages to stop serving.
func (s *Server) edit(id string, fn func(d *apiDoc) (stages map[string]*gateway.DeploymentPlan, dropped []string, cerr *controlError)) *controlError {
	s.ctlMu.Lock()
	defer s.ctlMu.Unlock()
	if cerr := s.writable(id); cerr != nil {
		return cerr
	}
	d := s.doc(id).clone()
	stages, dropped, cerr := fn(d)
	if cerr != nil {
		return cerr
	}
	if err := s.publish(d, stages, dropped); err != nil {
		return s.internalError("save the change", err)
	}
	return nil
}

// editMethod is edit for a change to the one method the request's path names.
func (s *Server) editMethod(c *ctlReq, fn func(m *gateway.Method) *controlError) *controlError {
	return s.edit(c.p["api"], func(d *apiDoc) (map[string]*gateway.DeploymentPlan, []string, *controlError) {
		_, m, cerr := methodOfDoc(d, c)
		if cerr != nil {
			return nil, nil, cerr
		}
		return nil, nil, fn(m)
	})
}

// describeAfter answers a write with what a read of the same thing would now say.
func (s *Server) describeAfter(status int, c *ctlReq, read ctlFunc) (int, any, *controlError) {
	_, out, cerr := read(c)
	return status, out, cerr
}

type createRestAPIIn struct {
	Name                  string   `json:"name"`
	Description           string   `json:"description"`
	Version               string   `json:"version"`
	CloneFrom             string   `json:"cloneFrom"`
	BinaryMediaTypes      []string `json:"binaryMediaTypes"`
	APIKeySource          string   `json:"apiKeySource"`
	EndpointConfiguration *struct {
		Types []string `json:"types"`
	} `json:"endpointConfiguration"`
	DisableExecuteAPIEndpoint bool              `json:"disableExecuteApiEndpoint"`
	Tags                      map[string]string `json:"tags"`
}

// endpointTypes checks an endpoint configuration's types; none means EDGE.
func endpointTypes(types []string) ([]string, *controlError) {
	if len(types) == 0 {
		return []string{"EDGE"}, nil
	}
	if len(types) != 1 || !slices.Contains([]string{"EDGE", "REGIONAL", "PRIVATE"}, types[0]) {
		return nil, badRequest("Invalid endpoint configuration types specified: give exactly one of EDGE, REGIONAL or PRIVATE")
	}
	return types, nil
}

// newAPIID draws an API id no API has. The caller holds ctlMu.
func (s *Server) newAPIID() string {
	id := gateway.NewID()
	for s.deployment(id) != nil || s.doc(id) != nil {
		id = gateway.NewID()
	}
	return id
}

func (s *Server) createRestAPI(c *ctlReq) (int, any, *controlError) {
	if c.q.Get("mode") == "import" {
		return s.importRestAPI(c)
	}
	var in createRestAPIIn
	if cerr := decodeBody(c, &in); cerr != nil {
		return 0, nil, cerr
	}
	if strings.TrimSpace(in.Name) == "" {
		return 0, nil, badRequest("Invalid REST API name specified")
	}
	if cerr := checkTags(in.Tags); cerr != nil {
		return 0, nil, cerr
	}
	var asked []string
	if in.EndpointConfiguration != nil {
		asked = in.EndpointConfiguration.Types
	}
	types, cerr := endpointTypes(asked)
	if cerr != nil {
		return 0, nil, cerr
	}
	src := in.APIKeySource
	if src == "" {
		src = gateway.APIKeySourceHeader
	}
	if src != gateway.APIKeySourceHeader && src != gateway.APIKeySourceAuthorizer {
		return 0, nil, badRequest(fmt.Sprintf("Invalid API key source specified: %s; valid values are HEADER and AUTHORIZER", src))
	}
	s.ctlMu.Lock()
	defer s.ctlMu.Unlock()
	var source *apiDoc
	if in.CloneFrom != "" {
		switch dd, doc := s.deployment(in.CloneFrom), s.doc(in.CloneFrom); {
		case dd != nil:
			source = docOfAPI(dd.API, 0, nil)
		case doc != nil:
			source = doc.clone()
		default:
			return 0, nil, s.invalidAPI(in.CloneFrom)
		}
	}
	id := s.newAPIID()
	d := &apiDoc{
		V: apiDocVersion, ID: id, Name: in.Name, Description: in.Description, Version: in.Version,
		Created: s.now().Unix(), apiSettings: apiSettings{APIKeySource: src, BinaryMediaTypes: in.BinaryMediaTypes}, EndpointTypes: types,
		DisableExecuteAPIEndpoint: in.DisableExecuteAPIEndpoint, RootID: gateway.NewID(),
		Resources: map[string]*resourceDoc{}, Tags: in.Tags,
	}
	d.Resources[d.RootID] = &resourceDoc{}
	if source != nil {
		cloneInto(d, source, in.APIKeySource != "", in.BinaryMediaTypes != nil)
	}
	if err := s.publish(d, nil, nil); err != nil {
		return 0, nil, s.internalError("save the new API", err)
	}
	return http.StatusCreated, restAPIOfDoc(d), nil
}

// writable reports why API id cannot be changed through the control plane, if it cannot.
func (s *Server) writable(id string) *controlError {
	if s.deployment(id) != nil {
		return badRequest(fmt.Sprintf("REST API %s comes from the --config file (restApis:), so it is read-only here: "+
			"change the file and restart localpipe, or build an API of your own with CreateRestApi.", id))
	}
	if s.doc(id) == nil {
		return s.invalidAPI(id)
	}
	return nil
}

func (s *Server) deleteRestAPI(c *ctlReq) (int, any, *controlError) {
	id := c.p["api"]
	s.ctlMu.Lock()
	defer s.ctlMu.Unlock()
	if s.deployment(id) != nil {
		return 0, nil, badRequest(fmt.Sprintf("REST API %s comes from the --config file (restApis:), so it is read-only here: "+
			"remove it from the file and restart localpipe.", id))
	}
	if s.doc(id) == nil {
		return 0, nil, s.invalidAPI(id)
	}
	if err := s.unpublish(id); err != nil {
		return 0, nil, s.internalError("delete the API", err)
	}
	return http.StatusAccepted, nil, nil
}

// pathPartMessage is API Gateway's answer to a path part it does not accept.
const pathPartMessage = "Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the end and an optional plus sign before the closing brace."

func (s *Server) createResource(c *ctlReq) (int, any, *controlError) {
	var in struct {
		PathPart string `json:"pathPart"`
	}
	if cerr := decodeBody(c, &in); cerr != nil {
		return 0, nil, cerr
	}
	var id string
	cerr := s.edit(c.p["api"], func(d *apiDoc) (map[string]*gateway.DeploymentPlan, []string, *controlError) {
		if cerr := checkPlacement(d, "", c.p["res"], in.PathPart); cerr != nil {
			return nil, nil, cerr
		}
		id = gateway.NewResourceID()
		for d.Resources[id] != nil {
			id = gateway.NewResourceID()
		}
		d.Resources[id] = &resourceDoc{ParentID: c.p["res"], PathPart: in.PathPart}
		return nil, nil, nil
	})
	if cerr != nil {
		return 0, nil, cerr
	}
	c.p["res"] = id
	return s.describeAfter(http.StatusCreated, c, s.getResource)
}

// checkPlacement checks that resource id ("" for a new one) may sit under parentID with
// pathPart, as CreateResource and UpdateResource check it.
func checkPlacement(d *apiDoc, id, parentID, pathPart string) *controlError {
	parent := d.Resources[parentID]
	if parent == nil {
		return notFound("Invalid Resource identifier specified")
	}
	_, _, variable, err := gateway.ParsePathPart(pathPart)
	if err != nil {
		return badRequest(pathPartMessage)
	}
	if strings.HasSuffix(parent.PathPart, "+}") {
		return badRequest(fmt.Sprintf("Cannot create a child of %s: a resource with a greedy path variable cannot have children", pathOf(d.Resources, parentID)))
	}
	for sid, sib := range d.Resources {
		if sib.ParentID != parentID || sid == id {
			continue
		}
		if sib.PathPart == pathPart {
			return conflict("Another resource with the same parent already has this name: " + pathPart)
		}
		if variable && strings.HasPrefix(sib.PathPart, "{") {
			return badRequest(fmt.Sprintf("A sibling (%s) of this resource already has a variable path part -- only one is allowed", sib.PathPart))
		}
	}
	return nil
}

// updateResource is UpdateResource: /pathPart and /parentId may be replaced. A resource
// cannot move under itself or one of its descendants, and the root does not move.
func (s *Server) updateResource(c *ctlReq) (int, any, *controlError) {
	return s.patchDoc(c, http.StatusOK, s.getResource, func(d *apiDoc, ops []patchOp) (map[string]*gateway.DeploymentPlan, []string, *controlError) {
		id := c.p["res"]
		r := d.Resources[id]
		if r == nil {
			return nil, nil, notFound("Invalid Resource identifier specified")
		}
		if id == d.RootID {
			return nil, nil, badRequest("The root resource cannot be changed")
		}
		if cerr := applyPatch(ops, map[string]patchField{"pathPart": {str: &r.PathPart}, "parentId": {str: &r.ParentID}}); cerr != nil {
			return nil, nil, cerr
		}
		for a := r.ParentID; a != ""; a = d.Resources[a].ParentID {
			if a == id {
				return nil, nil, badRequest("Cannot move a resource under itself or one of its descendants")
			}
			if d.Resources[a] == nil {
				break
			}
		}
		if cerr := checkPlacement(d, id, r.ParentID, r.PathPart); cerr != nil {
			return nil, nil, cerr
		}
		if strings.HasSuffix(r.PathPart, "+}") {
			for _, child := range d.Resources {
				if child.ParentID == id {
					return nil, nil, badRequest("A resource with children cannot have a greedy path variable")
				}
			}
		}
		return nil, nil, nil
	})
}

func (s *Server) deleteResource(c *ctlReq) (int, any, *controlError) {
	cerr := s.edit(c.p["api"], func(d *apiDoc) (map[string]*gateway.DeploymentPlan, []string, *controlError) {
		id := c.p["res"]
		if d.Resources[id] == nil {
			return nil, nil, notFound("Invalid Resource identifier specified")
		}
		if id == d.RootID {
			return nil, nil, badRequest("Cannot delete the root resource")
		}
		// Children go with their parent; repeat until no resource's parent is missing.
		delete(d.Resources, id)
		for removed := true; removed; {
			removed = false
			for cid, r := range d.Resources {
				if cid != d.RootID && d.Resources[r.ParentID] == nil {
					delete(d.Resources, cid)
					removed = true
				}
			}
		}
		return nil, nil, nil
	})
	if cerr != nil {
		return 0, nil, cerr
	}
	return http.StatusAccepted, nil, nil
}

// setMethodRefs points m at the validator whose id is validatorID ("" for none) and checks
// that the models its requestModels name exist.
func setMethodRefs(d *apiDoc, m *gateway.Method, validatorID string) *controlError {
	m.RequestValidator = ""
	if validatorID != "" {
		name, ok := validatorName(d, validatorID)
		if !ok {
			return badRequest("Invalid Request Validator identifier specified")
		}
		m.RequestValidator = name
	}
	for _, ct := range sortedKeys(m.RequestModels) {
		name := m.RequestModels[ct]
		if _, ok := d.Models[name]; !ok && name != "Empty" && name != "Error" {
			return badRequest("Invalid model identifier specified: " + name)
		}
	}
	return nil
}

// httpVerbs are the methods PutMethod accepts.
var httpVerbs = []string{"GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS", "HEAD", "ANY"}

// methodOfDoc finds the method the path names in d's model.
func methodOfDoc(d *apiDoc, c *ctlReq) (*resourceDoc, *gateway.Method, *controlError) {
	r := d.Resources[c.p["res"]]
	if r == nil {
		return nil, nil, notFound("Invalid Resource identifier specified")
	}
	m := r.Methods[strings.ToUpper(c.p["verb"])]
	if m == nil {
		return r, nil, notFound("Invalid Method identifier specified")
	}
	return r, m, nil
}

var methodParamRe = lazyre.New(`^method\.request\.(path|querystring|header|multivaluequerystring|multivalueheader)\.[^.\s]+$`)

func (s *Server) putMethod(c *ctlReq) (int, any, *controlError) {
	var in struct {
		AuthorizationType  string            `json:"authorizationType"`
		AuthorizerID       string            `json:"authorizerId"`
		APIKeyRequired     bool              `json:"apiKeyRequired"`
		OperationName      string            `json:"operationName"`
		RequestParameters  map[string]bool   `json:"requestParameters"`
		RequestModels      map[string]string `json:"requestModels"`
		RequestValidatorID string            `json:"requestValidatorId"`
	}
	if cerr := decodeBody(c, &in); cerr != nil {
		return 0, nil, cerr
	}
	verb := c.p["verb"]
	if !slices.Contains(httpVerbs, verb) {
		return 0, nil, badRequest("Invalid HttpMethod specified. Valid options are GET,PUT,POST,DELETE,PATCH,OPTIONS,HEAD,ANY")
	}
	if in.AuthorizationType == "" {
		return 0, nil, badRequest(`Invalid authorization type specified: "". Valid values are NONE, AWS_IAM, CUSTOM and COGNITO_USER_POOLS`)
	}
	if cerr := checkMethodParams(in.RequestParameters); cerr != nil {
		return 0, nil, cerr
	}
	cerr := s.edit(c.p["api"], func(d *apiDoc) (map[string]*gateway.DeploymentPlan, []string, *controlError) {
		r := d.Resources[c.p["res"]]
		if r == nil {
			return nil, nil, notFound("Invalid Resource identifier specified")
		}
		if r.Methods[verb] != nil {
			return nil, nil, conflict("Method already exists for this resource")
		}
		if r.Methods == nil {
			r.Methods = map[string]*gateway.Method{}
		}
		m := &gateway.Method{
			HTTPMethod: verb, OperationName: in.OperationName, APIKeyRequired: in.APIKeyRequired,
			RequestParameters: in.RequestParameters, RequestModels: in.RequestModels,
		}
		if cerr := setMethodRefs(d, m, in.RequestValidatorID); cerr != nil {
			return nil, nil, cerr
		}
		if cerr := setMethodAuth(d, m, in.AuthorizationType, in.AuthorizerID); cerr != nil {
			return nil, nil, cerr
		}
		r.Methods[verb] = m
		return nil, nil, nil
	})
	if cerr != nil {
		return 0, nil, cerr
	}
	return s.describeAfter(http.StatusCreated, c, s.getMethod)
}

func (s *Server) deleteMethod(c *ctlReq) (int, any, *controlError) {
	cerr := s.edit(c.p["api"], func(d *apiDoc) (map[string]*gateway.DeploymentPlan, []string, *controlError) {
		r, _, cerr := methodOfDoc(d, c)
		if cerr != nil {
			return nil, nil, cerr
		}
		delete(r.Methods, strings.ToUpper(c.p["verb"]))
		return nil, nil, nil
	})
	if cerr != nil {
		return 0, nil, cerr
	}
	return http.StatusNoContent, nil, nil
}

func checkStatusCode(code string) *controlError {
	if !gateway.StatusCodeRe.MatchString(code) {
		return badRequest("Invalid response status code specified")
	}
	return nil
}

func (s *Server) putMethodResponse(c *ctlReq) (int, any, *controlError) {
	var in struct {
		ResponseParameters map[string]bool   `json:"responseParameters"`
		ResponseModels     map[string]string `json:"responseModels"`
	}
	if cerr := decodeBody(c, &in); cerr != nil {
		return 0, nil, cerr
	}
	code := c.p["code"]
	if cerr := checkStatusCode(code); cerr != nil {
		return 0, nil, cerr
	}
	if cerr := checkMethodResponseParams(in.ResponseParameters); cerr != nil {
		return 0, nil, cerr
	}
	cerr := s.editMethod(c, func(m *gateway.Method) *controlError {
		if _, dup := m.MethodResponses[code]; dup {
			return conflict("Response already exists for this resource")
		}
		if m.MethodResponses == nil {
			m.MethodResponses = map[string]gateway.MethodResponse{}
		}
		m.MethodResponses[code] = gateway.MethodResponse{StatusCode: code, ResponseParameters: in.ResponseParameters, ResponseModels: in.ResponseModels}
		return nil
	})
	if cerr != nil {
		return 0, nil, cerr
	}
	return s.describeAfter(http.StatusCreated, c, s.getMethodResponse)
}

func (s *Server) deleteMethodResponse(c *ctlReq) (int, any, *controlError) {
	cerr := s.editMethod(c, func(m *gateway.Method) *controlError {
		if _, ok := m.MethodResponses[c.p["code"]]; !ok {
			return notFound("Invalid Response status code specified")
		}
		delete(m.MethodResponses, c.p["code"])
		return nil
	})
	if cerr != nil {
		return 0, nil, cerr
	}
	return http.StatusNoContent, nil, nil
}

// putIntegrationIn is PutIntegrationRequest's body.
type putIntegrationIn struct {
	Type                  string            `json:"type"`
	IntegrationHTTPMethod string            `json:"httpMethod"` // the model's locationName
	URI                   string            `json:"uri"`
	ConnectionType        string            `json:"connectionType"`
	Credentials           string            `json:"credentials"`
	RequestParameters     map[string]string `json:"requestParameters"`
	RequestTemplates      map[string]string `json:"requestTemplates"`
	PassthroughBehavior   string            `json:"passthroughBehavior"`
	CacheNamespace        string            `json:"cacheNamespace"`
	CacheKeyParameters    []string          `json:"cacheKeyParameters"`
	ContentHandling       string            `json:"contentHandling"`
	TimeoutInMillis       *int              `json:"timeoutInMillis"`
	TLSConfig             *struct {
		InsecureSkipVerification bool `json:"insecureSkipVerification"`
	} `json:"tlsConfig"`
}

// integrationOfInput makes the integration a PutIntegration body describes and checks it
// (checkIntegration).
func integrationOfInput(in putIntegrationIn) (*gateway.Integration, *controlError) {
	out := &gateway.Integration{
		Type: gateway.IntegrationType(in.Type), URI: in.URI, HTTPMethod: in.IntegrationHTTPMethod, Credentials: in.Credentials,
		RequestParameters: in.RequestParameters, RequestTemplates: in.RequestTemplates,
		PassthroughBehavior: in.PassthroughBehavior, ContentHandling: in.ContentHandling,
		CacheNamespace: in.CacheNamespace, CacheKeyParameters: in.CacheKeyParameters,
	}
	if in.TimeoutInMillis != nil {
		if *in.TimeoutInMillis < gateway.MinTimeoutMillis || *in.TimeoutInMillis > gateway.MaxTimeoutMillis {
			return nil, badRequest(fmt.Sprintf("Timeout should be between %d ms and %d ms", gateway.MinTimeoutMillis, gateway.MaxTimeoutMillis))
		}
		out.TimeoutInMillis = *in.TimeoutInMillis
	}
	if in.TLSConfig != nil {
		out.InsecureSkipVerification = in.TLSConfig.InsecureSkipVerification
	}
	if cerr := checkIntegration(out); cerr != nil {
		return nil, cerr
	}
	return out, nil
}

// checkIntegration checks an integration as API Gateway does at PutIntegration and
// UpdateIntegration (not at deployment): the type, the back end's URI and method, and that
// every mapping template and parameter mapping parses.
func checkIntegration(in *gateway.Integration) *controlError {
	switch in.Type {
	case gateway.IntegrationAWS, gateway.IntegrationAWSProxy, gateway.IntegrationHTTP, gateway.IntegrationHTTPProxy, gateway.IntegrationMock:
	case "":
		return badRequest("Enumeration value for IntegrationType must be non-empty")
	default:
		return badRequest(fmt.Sprintf("Invalid integration type specified: %s; valid values are HTTP, HTTP_PROXY, AWS, AWS_PROXY and MOCK", in.Type))
	}
	if in.Type != gateway.IntegrationMock {
		if in.HTTPMethod == "" {
			return badRequest("Enumeration value for HttpMethod must be non-empty")
		}
		if !slices.Contains(httpVerbs, in.HTTPMethod) {
			return badRequest("Invalid HttpMethod specified. Valid options are GET,PUT,POST,DELETE,PATCH,OPTIONS,HEAD,ANY")
		}
	}
	switch in.Type {
	case gateway.IntegrationAWS, gateway.IntegrationAWSProxy:
		if _, err := gateway.ParseAWSURI(in.URI); err != nil {
			if strings.HasPrefix(in.URI, "arn:") {
				return badRequest("AWS ARN for integration must contain path or action")
			}
			return badRequest("Invalid ARN specified in the request")
		}
	case gateway.IntegrationHTTP, gateway.IntegrationHTTPProxy:
		u, err := url.Parse(in.URI)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return badRequest("Invalid HTTP endpoint specified for URI")
		}
	}
	switch in.PassthroughBehavior {
	case "", gateway.PassthroughWhenNoMatch, gateway.PassthroughWhenNoTemplates, gateway.PassthroughNever:
	default:
		return badRequest(fmt.Sprintf("Invalid passthrough behavior specified: %s; valid values are WHEN_NO_MATCH, WHEN_NO_TEMPLATES and NEVER", in.PassthroughBehavior))
	}
	if cerr := checkContentHandling(in.ContentHandling); cerr != nil {
		return cerr
	}
	if in.TimeoutInMillis != 0 && (in.TimeoutInMillis < gateway.MinTimeoutMillis || in.TimeoutInMillis > gateway.MaxTimeoutMillis) {
		return badRequest(fmt.Sprintf("Timeout should be between %d ms and %d ms", gateway.MinTimeoutMillis, gateway.MaxTimeoutMillis))
	}
	if _, errs := gateway.CompileTemplates("requestTemplates", in.RequestTemplates); len(errs) > 0 {
		return badRequest("Invalid mapping template specified: " + errs[0].Error())
	}
	for _, dst := range sortedKeys(in.RequestParameters) {
		if _, err := gateway.CompileRequestParam(dst, in.RequestParameters[dst]); err != nil {
			return badRequest(fmt.Sprintf("Invalid mapping expression specified: %s: %v", dst, err))
		}
	}
	return nil
}

func checkContentHandling(ch string) *controlError {
	switch ch {
	case "", gateway.ConvertToBinary, gateway.ConvertToText:
		return nil
	}
	return badRequest(fmt.Sprintf("Invalid content handling specified: %s; valid values are CONVERT_TO_BINARY and CONVERT_TO_TEXT", ch))
}

// checkIntegrationResponse checks an integration response as PutIntegrationResponse does.
func checkIntegrationResponse(ir gateway.IntegrationResponse) *controlError {
	if cerr := checkContentHandling(ir.ContentHandling); cerr != nil {
		return cerr
	}
	if _, errs := gateway.CompileResponse("integration response "+ir.StatusCode, ir); len(errs) > 0 {
		return badRequest("Invalid integration response specified: " + errs[0].Error())
	}
	return nil
}

// checkMethodParams checks a method's request parameters' names.
func checkMethodParams(params map[string]bool) *controlError {
	for _, k := range sortedKeys(params) {
		if !methodParamRe.MatchString(k) {
			return badRequest("Invalid mapping expression specified: " + k)
		}
	}
	return nil
}

// checkMethodResponseParams checks a method response's header names.
func checkMethodResponseParams(params map[string]bool) *controlError {
	for _, k := range sortedKeys(params) {
		if name, ok := strings.CutPrefix(k, "method.response.header."); !ok || name == "" {
			return badRequest("Invalid mapping expression specified: " + k)
		}
	}
	return nil
}

func (s *Server) putIntegration(c *ctlReq) (int, any, *controlError) {
	var in putIntegrationIn
	if cerr := decodeBody(c, &in); cerr != nil {
		return 0, nil, cerr
	}
	integ, cerr := integrationOfInput(in)
	if cerr != nil {
		return 0, nil, cerr
	}
	cerr = s.editMethod(c, func(m *gateway.Method) *controlError {
		// A new integration replaces the old one whole, its integration responses too.
		m.Integration = integ
		return nil
	})
	if cerr != nil {
		return 0, nil, cerr
	}
	return s.describeAfter(http.StatusCreated, c, s.getIntegration)
}

func (s *Server) deleteIntegration(c *ctlReq) (int, any, *controlError) {
	cerr := s.editMethod(c, func(m *gateway.Method) *controlError {
		if m.Integration == nil {
			return notFound("No integration defined for method")
		}
		m.Integration = nil
		return nil
	})
	if cerr != nil {
		return 0, nil, cerr
	}
	return http.StatusNoContent, nil, nil
}

func (s *Server) putIntegrationResponse(c *ctlReq) (int, any, *controlError) {
	var in struct {
		SelectionPattern   string            `json:"selectionPattern"`
		ResponseParameters map[string]string `json:"responseParameters"`
		ResponseTemplates  map[string]string `json:"responseTemplates"`
		ContentHandling    string            `json:"contentHandling"`
	}
	if cerr := decodeBody(c, &in); cerr != nil {
		return 0, nil, cerr
	}
	code := c.p["code"]
	if cerr := checkStatusCode(code); cerr != nil {
		return 0, nil, cerr
	}
	ir := gateway.IntegrationResponse{
		StatusCode: code, SelectionPattern: in.SelectionPattern, ResponseParameters: in.ResponseParameters,
		ResponseTemplates: in.ResponseTemplates, ContentHandling: in.ContentHandling,
	}
	if cerr := checkIntegrationResponse(ir); cerr != nil {
		return 0, nil, cerr
	}
	cerr := s.editMethod(c, func(m *gateway.Method) *controlError {
		if m.Integration == nil {
			return notFound("No integration defined for method")
		}
		if m.Integration.Responses == nil {
			m.Integration.Responses = map[string]gateway.IntegrationResponse{}
		}
		m.Integration.Responses[code] = ir
		return nil
	})
	if cerr != nil {
		return 0, nil, cerr
	}
	return s.describeAfter(http.StatusCreated, c, s.getIntegrationResponse)
}

func (s *Server) deleteIntegrationResponse(c *ctlReq) (int, any, *controlError) {
	cerr := s.editMethod(c, func(m *gateway.Method) *controlError {
		if m.Integration == nil {
			return notFound("No integration defined for method")
		}
		if _, ok := m.Integration.Responses[c.p["code"]]; !ok {
			return notFound("Invalid Response status code specified")
		}
		delete(m.Integration.Responses, c.p["code"])
		return nil
	})
	if cerr != nil {
		return 0, nil, cerr
	}
	return http.StatusNoContent, nil, nil
}
