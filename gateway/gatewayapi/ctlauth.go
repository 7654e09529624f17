package gatewayapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/localpipe/localpipe/gateway"
	"github.com/localpipe/localpipe/internal/awsjson"
)

// authorizerOut is the control plane's Authorizer.
type authorizerOut struct {
	ID                           string   `json:"id"`
	Name                         string   `json:"name"`
	Type                         string   `json:"type"`
	ProviderARNs                 []string `json:"providerARNs,omitempty"`
	AuthType                     string   `json:"authType,omitempty"`
	AuthorizerURI                string   `json:"authorizerUri,omitempty"`
	AuthorizerCredentials        string   `json:"authorizerCredentials,omitempty"`
	IdentitySource               string   `json:"identitySource,omitempty"`
	IdentityValidationExpression string   `json:"identityValidationExpression,omitempty"`
	AuthorizerResultTTLInSeconds *int     `json:"authorizerResultTtlInSeconds,omitempty"`
}

func authorizersOf(a *gateway.API) []authorizerOut {
	out := make([]authorizerOut, 0, len(a.Authorizers))
	for _, name := range sortedKeys(a.Authorizers) {
		z := a.Authorizers[name]
		ttl := z.ResultTTLInSeconds
		if ttl == nil {
			n := gateway.DefaultAuthorizerTTL
			ttl = &n
		}
		authType := "custom"
		if z.Type == gateway.AuthorizerCognito {
			authType = "cognito_user_pools"
		}
		out = append(out, authorizerOut{
			ID: derivedID(a.ID, "authorizer", name), Name: name, Type: z.Type, ProviderARNs: z.ProviderARNs, AuthType: authType,
			AuthorizerURI: z.URI, AuthorizerCredentials: z.Credentials, IdentitySource: z.IdentitySource,
			IdentityValidationExpression: z.IdentityValidationExpression, AuthorizerResultTTLInSeconds: ttl,
		})
	}
	return out
}

// authorizerName returns the name of the authorizer whose id is id.
func authorizerName(d *apiDoc, id string) (string, bool) {
	for name := range d.Authorizers {
		if derivedID(d.ID, "authorizer", name) == id {
			return name, true
		}
	}
	return "", false
}

func (s *Server) getAuthorizers(c *ctlReq) (int, any, *controlError) {
	api, _, _, cerr := s.described(c.p["api"])
	if cerr != nil {
		return 0, nil, cerr
	}
	out, cerr := listPage(c.q, authorizersOf(api), func(o authorizerOut) string { return o.ID })
	return http.StatusOK, out, cerr
}

func (s *Server) getAuthorizer(c *ctlReq) (int, any, *controlError) {
	api, _, _, cerr := s.described(c.p["api"])
	if cerr != nil {
		return 0, nil, cerr
	}
	for _, o := range authorizersOf(api) {
		if o.ID == c.p["id"] {
			return http.StatusOK, o, nil
		}
	}
	return 0, nil, notFound("Invalid Authorizer identifier specified")
}

// checkAuthorizer holds an authorizer to what CreateAuthorizer requires and what
// localpipe can run.
func checkAuthorizer(a *gateway.Authorizer) *controlError {
	if strings.TrimSpace(a.Name) == "" {
		return badRequest("Authorizer name must be specified")
	}
	switch a.Type {
	case gateway.AuthorizerToken, gateway.AuthorizerRequest:
		if a.URI == "" {
			return badRequest("Authorizer URI must be specified for type " + a.Type)
		}
	case gateway.AuthorizerCognito:
		if len(a.ProviderARNs) == 0 {
			return badRequest("Provider ARNs must be specified for type COGNITO_USER_POOLS")
		}
	default:
		return badRequest("Invalid authorizer type specified: " + strconv.Quote(a.Type) + ". Valid values are TOKEN, REQUEST and COGNITO_USER_POOLS")
	}
	if _, err := gateway.CompileAuthorizer(a); err != nil {
		return badRequest(err.Error())
	}
	return nil
}

func (s *Server) createAuthorizer(c *ctlReq) (int, any, *controlError) {
	var in struct {
		Name                         string   `json:"name"`
		Type                         string   `json:"type"`
		ProviderARNs                 []string `json:"providerARNs"`
		AuthType                     string   `json:"authType"`
		AuthorizerURI                string   `json:"authorizerUri"`
		AuthorizerCredentials        string   `json:"authorizerCredentials"`
		IdentitySource               string   `json:"identitySource"`
		IdentityValidationExpression string   `json:"identityValidationExpression"`
		AuthorizerResultTTLInSeconds *int     `json:"authorizerResultTtlInSeconds"`
	}
	if cerr := decodeBody(c, &in); cerr != nil {
		return 0, nil, cerr
	}
	a := &gateway.Authorizer{
		Name: in.Name, Type: in.Type, URI: in.AuthorizerURI, Credentials: in.AuthorizerCredentials, IdentitySource: in.IdentitySource,
		IdentityValidationExpression: in.IdentityValidationExpression, ResultTTLInSeconds: in.AuthorizerResultTTLInSeconds, ProviderARNs: in.ProviderARNs,
	}
	if cerr := checkAuthorizer(a); cerr != nil {
		return 0, nil, cerr
	}
	cerr := s.edit(c.p["api"], func(d *apiDoc) (map[string]*gateway.DeploymentPlan, []string, *controlError) {
		if _, dup := d.Authorizers[a.Name]; dup {
			return nil, nil, conflict("Authorizer with the same name already exists")
		}
		d.Authorizers = mergeMaps(d.Authorizers, map[string]*gateway.Authorizer{a.Name: a})
		return nil, nil, nil
	})
	if cerr != nil {
		return 0, nil, cerr
	}
	c.p["id"] = derivedID(c.p["api"], "authorizer", a.Name)
	return s.describeAfter(http.StatusCreated, c, s.getAuthorizer)
}

// updateAuthorizer edits an authorizer in place; its name, which its id derives from, stays.
func (s *Server) updateAuthorizer(c *ctlReq) (int, any, *controlError) {
	return s.patchDoc(c, http.StatusOK, s.getAuthorizer, func(d *apiDoc, ops []patchOp) (map[string]*gateway.DeploymentPlan, []string, *controlError) {
		name, ok := authorizerName(d, c.p["id"])
		if !ok {
			return nil, nil, notFound("Invalid Authorizer identifier specified")
		}
		a := *d.Authorizers[name]
		ttl := gateway.DefaultAuthorizerTTL
		if a.ResultTTLInSeconds != nil {
			ttl = *a.ResultTTLInSeconds
		}
		if cerr := applyPatch(ops, map[string]patchField{
			"type": {str: &a.Type}, "authorizerUri": {str: &a.URI}, "authorizerCredentials": {str: &a.Credentials},
			"identitySource": {str: &a.IdentitySource}, "identityValidationExpression": {str: &a.IdentityValidationExpression},
			"authorizerResultTtlInSeconds": {integer: &ttl}, "providerARNs": {list: &a.ProviderARNs},
		}); cerr != nil {
			return nil, nil, cerr
		}
		a.ResultTTLInSeconds = &ttl
		if cerr := checkAuthorizer(&a); cerr != nil {
			return nil, nil, cerr
		}
		d.Authorizers[name] = &a
		return nil, nil, nil
	})
}

func (s *Server) deleteAuthorizer(c *ctlReq) (int, any, *controlError) {
	cerr := s.edit(c.p["api"], func(d *apiDoc) (map[string]*gateway.DeploymentPlan, []string, *controlError) {
		name, ok := authorizerName(d, c.p["id"])
		if !ok {
			return nil, nil, notFound("Invalid Authorizer identifier specified")
		}
		for id, r := range d.Resources {
			for _, m := range r.Methods {
				if m.Authorizer == name {
					return nil, nil, conflict("Cannot delete authorizer '" + name + "', is referenced in method: " + m.HTTPMethod + ":" + pathOf(d.Resources, id))
				}
			}
		}
		delete(d.Authorizers, name)
		return nil, nil, nil
	})
	if cerr != nil {
		return 0, nil, cerr
	}
	return http.StatusAccepted, nil, nil
}

// setMethodAuth gives m the authorization PutMethod or UpdateMethod asked for: NONE,
// AWS_IAM (recorded, not enforced), or CUSTOM and COGNITO_USER_POOLS with an authorizer of
// the API of the matching type.
func setMethodAuth(d *apiDoc, m *gateway.Method, authType, authorizerID string) *controlError {
	switch authType {
	case "NONE", "":
		m.AuthorizationType, m.Authorizer = "", ""
		return nil
	case "AWS_IAM":
		m.AuthorizationType, m.Authorizer = authType, ""
		return nil
	case "CUSTOM", gateway.AuthorizerCognito:
	default:
		return badRequest("Invalid authorization type specified: " + strconv.Quote(authType) + ". Valid values are NONE, AWS_IAM, CUSTOM and COGNITO_USER_POOLS")
	}
	name, ok := authorizerName(d, authorizerID)
	if ok {
		cognito := d.Authorizers[name].Type == gateway.AuthorizerCognito
		ok = cognito == (authType == gateway.AuthorizerCognito)
	}
	if !ok {
		return badRequest("Invalid authorizer ID specified. Setting the authorization type to " + authType + " requires a valid authorizer.")
	}
	m.AuthorizationType, m.Authorizer = authType, name
	return nil
}

// testStage is the stage name API Gateway gives test invocations, as methodArn shows it.
const testStage = "ESTestInvoke-stage"

// testInvokeAuthorizer runs an authorizer of the current model against a made-up request
// (TestInvokeAuthorizer): the function is called (no cache), and the answer says what a
// client would get and the policy it returned.
func (s *Server) testInvokeAuthorizer(c *ctlReq) (int, any, *controlError) {
	var in struct {
		Headers             map[string]string   `json:"headers"`
		MultiValueHeaders   map[string][]string `json:"multiValueHeaders"`
		PathWithQueryString string              `json:"pathWithQueryString"`
		Body                string              `json:"body"`
		StageVariables      map[string]string   `json:"stageVariables"`
	}
	if cerr := decodeBody(c, &in); cerr != nil {
		return 0, nil, cerr
	}
	api, _, _, cerr := s.described(c.p["api"])
	if cerr != nil {
		return 0, nil, cerr
	}
	var a *gateway.Authorizer
	for name, z := range api.Authorizers {
		if derivedID(api.ID, "authorizer", name) == c.p["id"] {
			a = z
		}
	}
	if a == nil {
		return 0, nil, notFound("Invalid Authorizer identifier specified")
	}
	ca, err := gateway.CompileAuthorizer(a)
	if err != nil {
		return 0, nil, badRequest(err.Error())
	}
	ca.TTL = 0
	target := in.PathWithQueryString
	if !strings.HasPrefix(target, "/") {
		target = "/" + target
	}
	r, err := http.NewRequestWithContext(c.r.Context(), http.MethodGet, "http://"+api.ID+".execute-api.localhost"+target, strings.NewReader(in.Body))
	if err != nil {
		return 0, nil, badRequest("Invalid pathWithQueryString: " + err.Error())
	}
	for k, vs := range in.MultiValueHeaders {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	for k, v := range in.Headers {
		r.Header.Set(k, v)
	}
	r.RemoteAddr = "test-invoke-source-ip"
	q := &call{
		s: s, r: r, start: s.now(), requestID: awsjson.NewRequestID(), extendedID: newExtendedID(),
		d: &gateway.DeploymentPlan{API: api}, stage: gateway.Stage{Name: testStage, Variables: in.StageVariables}, stageName: testStage,
		path: r.URL.EscapedPath(), p: &gateway.MethodPlan{Where: "TestInvokeAuthorizer " + a.Name, Resource: api.Root(), Auth: ca},
		paramsReady: true,
	}
	var log strings.Builder
	log.WriteString(q.start.UTC().Format("Mon Jan 02 15:04:05 UTC 2006") + " : Starting authorizer: " + c.p["id"] + " for request: " + q.requestID + "\n")
	out, latency, ref := q.askAuthorizer(ca, false)
	res := map[string]any{"latency": latency.Milliseconds()}
	if ref != nil {
		log.WriteString(ref.reason + "\n")
		res["clientStatus"] = ref.e.status
		res["log"] = log.String()
		return http.StatusOK, res, nil
	}
	ctx, _ := json.Marshal(out.Context)
	log.WriteString("Authorizer result: principalId " + strconv.Quote(out.PrincipalID) + ", policy " + string(out.Policy) + ", context " + string(ctx) + "\n")
	res["clientStatus"] = http.StatusOK
	res["principalId"] = out.PrincipalID
	res["policy"] = string(out.Policy)
	res["log"] = log.String()
	return http.StatusOK, res, nil
}
