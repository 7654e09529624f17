package gatewayapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/localpipe/localpipe/gateway"
	"github.com/localpipe/localpipe/internal/awsjson"
)

// ctlReq is one control-plane request as an operation sees it: the path parameters
// percent-decoded, the query parsed.
type ctlReq struct {
	r *http.Request
	q url.Values
	p map[string]string
}

// ctlFunc is one control-plane operation: the HTTP status of success and the answer (nil
// for none), or an error.
type ctlFunc func(c *ctlReq) (int, any, *controlError)

const (
	pathAPI         = "/restapis/{api}"
	pathResource    = pathAPI + "/resources/{res}"
	pathMethod      = pathResource + "/methods/{verb}"
	pathIntegration = pathMethod + "/integration"
)

// controlRouter is the control plane's route table, the paths of the apigateway model.
func (s *Server) controlRouter() http.Handler {
	r := chi.NewRouter()
	r.NotFound(s.unknownOperation)
	r.MethodNotAllowed(s.unknownOperation)
	h := s.ctlHandler

	r.Get("/restapis", h(s.getRestAPIs))
	r.Post("/restapis", h(s.createRestAPI))
	r.Get(pathAPI, h(s.getRestAPI))
	r.Delete(pathAPI, h(s.deleteRestAPI))
	r.Patch(pathAPI, h(s.updateRestAPI))
	r.Put(pathAPI, h(s.putRestAPI))

	r.Get(pathAPI+"/resources", h(s.getResources))
	r.Get(pathResource, h(s.getResource))
	r.Post(pathResource, h(s.createResource))
	r.Delete(pathResource, h(s.deleteResource))
	r.Patch(pathResource, h(s.updateResource))

	r.Get(pathMethod, h(s.getMethod))
	r.Put(pathMethod, h(s.putMethod))
	r.Post(pathMethod, h(s.testInvokeMethod))
	r.Delete(pathMethod, h(s.deleteMethod))
	r.Patch(pathMethod, h(s.updateMethod))
	r.Get(pathMethod+"/responses/{code}", h(s.getMethodResponse))
	r.Put(pathMethod+"/responses/{code}", h(s.putMethodResponse))
	r.Delete(pathMethod+"/responses/{code}", h(s.deleteMethodResponse))
	r.Patch(pathMethod+"/responses/{code}", h(s.updateMethodResponse))

	r.Get(pathIntegration, h(s.getIntegration))
	r.Put(pathIntegration, h(s.putIntegration))
	r.Delete(pathIntegration, h(s.deleteIntegration))
	r.Patch(pathIntegration, h(s.updateIntegration))
	r.Get(pathIntegration+"/responses/{code}", h(s.getIntegrationResponse))
	r.Put(pathIntegration+"/responses/{code}", h(s.putIntegrationResponse))
	r.Delete(pathIntegration+"/responses/{code}", h(s.deleteIntegrationResponse))
	r.Patch(pathIntegration+"/responses/{code}", h(s.updateIntegrationResponse))

	r.Get(pathAPI+"/deployments", h(s.getDeployments))
	r.Post(pathAPI+"/deployments", h(s.createDeployment))
	r.Get(pathAPI+"/deployments/{dep}", h(s.getDeployment))
	r.Delete(pathAPI+"/deployments/{dep}", h(s.deleteDeployment))
	r.Patch(pathAPI+"/deployments/{dep}", h(s.updateDeployment))
	r.Get(pathAPI+"/stages", h(s.getStages))
	r.Post(pathAPI+"/stages", h(s.createStage))
	r.Get(pathAPI+"/stages/{stage}", h(s.getStage))
	r.Delete(pathAPI+"/stages/{stage}", h(s.deleteStage))
	r.Patch(pathAPI+"/stages/{stage}", h(s.updateStage))
	r.Get(pathAPI+"/stages/{stage}/exports/{type}", h(s.getExport))

	r.Get(pathAPI+"/gatewayresponses", h(s.getGatewayResponses))
	r.Get(pathAPI+"/gatewayresponses/{type}", h(s.getGatewayResponse))
	r.Put(pathAPI+"/gatewayresponses/{type}", h(s.putGatewayResponse))
	r.Patch(pathAPI+"/gatewayresponses/{type}", h(s.updateGatewayResponse))
	r.Delete(pathAPI+"/gatewayresponses/{type}", h(s.deleteGatewayResponse))

	r.Get(pathAPI+"/models", h(s.getModels))
	r.Get(pathAPI+"/models/{name}", h(s.getModel))
	r.Post(pathAPI+"/models", h(s.createModel))
	r.Patch(pathAPI+"/models/{name}", h(s.updateModel))
	r.Delete(pathAPI+"/models/{name}", h(s.deleteModel))
	r.Get(pathAPI+"/requestvalidators", h(s.getRequestValidators))
	r.Get(pathAPI+"/requestvalidators/{id}", h(s.getRequestValidator))
	r.Post(pathAPI+"/requestvalidators", h(s.createRequestValidator))
	r.Patch(pathAPI+"/requestvalidators/{id}", h(s.updateRequestValidator))
	r.Delete(pathAPI+"/requestvalidators/{id}", h(s.deleteRequestValidator))
	r.Get(pathAPI+"/authorizers", h(s.getAuthorizers))
	r.Get(pathAPI+"/authorizers/{id}", h(s.getAuthorizer))
	r.Post(pathAPI+"/authorizers", h(s.createAuthorizer))
	r.Patch(pathAPI+"/authorizers/{id}", h(s.updateAuthorizer))
	r.Delete(pathAPI+"/authorizers/{id}", h(s.deleteAuthorizer))
	r.Post(pathAPI+"/authorizers/{id}", h(s.testInvokeAuthorizer))

	r.Get("/apikeys", h(s.getAPIKeys))
	r.Post("/apikeys", h(s.createAPIKey))
	r.Get("/apikeys/{key}", h(s.getAPIKey))
	r.Patch("/apikeys/{key}", h(s.updateAPIKey))
	r.Delete("/apikeys/{key}", h(s.deleteAPIKey))

	r.Get("/usageplans", h(s.getUsagePlans))
	r.Post("/usageplans", h(s.createUsagePlan))
	r.Get("/usageplans/{plan}", h(s.getUsagePlan))
	r.Patch("/usageplans/{plan}", h(s.updateUsagePlan))
	r.Delete("/usageplans/{plan}", h(s.deleteUsagePlan))
	r.Get("/usageplans/{plan}/keys", h(s.getUsagePlanKeys))
	r.Post("/usageplans/{plan}/keys", h(s.createUsagePlanKey))
	r.Get("/usageplans/{plan}/keys/{key}", h(s.getUsagePlanKey))
	r.Delete("/usageplans/{plan}/keys/{key}", h(s.deleteUsagePlanKey))
	r.Get("/usageplans/{plan}/usage", h(s.getUsage))
	r.Patch("/usageplans/{plan}/keys/{key}/usage", h(s.updateUsage))

	r.Get("/tags/{arn}", h(s.getTags))
	r.Put("/tags/{arn}", h(s.tagResource))
	r.Delete("/tags/{arn}", h(s.untagResource))
	return r
}

// ServeControl answers a control-plane request (ControlTarget).
func (s *Server) ServeControl(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h["x-amzn-RequestId"] = []string{awsjson.NewRequestID()}
	h.Set("Content-Type", "application/json")
	// Route on the escaped path so that an id holding "%2F" stays one segment; ctlHandler
	// decodes the parameters. A trailing slash names the same thing, as on the invoke side,
	// but an empty segment ("/restapis//stages") names nothing.
	p := r.URL.EscapedPath()
	if len(p) > 1 {
		p = strings.TrimSuffix(p, "/")
	}
	if slices.Contains(strings.Split(p[min(1, len(p)):], "/"), "") {
		s.unknownOperation(w, r)
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.URL.RawPath = p, ""
	if r2.Method == http.MethodHead {
		// The server drops the body of a HEAD answer itself.
		r2.Method = http.MethodGet
	}
	s.control().ServeHTTP(w, r2)
}

func (s *Server) ctlHandler(op ctlFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c := &ctlReq{r: r, q: r.URL.Query(), p: map[string]string{}}
		rc := chi.RouteContext(r.Context())
		for i, k := range rc.URLParams.Keys {
			v, err := url.PathUnescape(rc.URLParams.Values[i])
			if err != nil {
				s.unknownOperation(w, r)
				return
			}
			c.p[k] = v
		}
		status, out, cerr := op(c)
		if cerr != nil {
			writeControlError(w, cerr)
			return
		}
		if out == nil {
			w.WriteHeader(status)
			return
		}
		if raw, ok := out.(rawAnswer); ok {
			w.Header().Set("Content-Type", raw.contentType)
			w.Header().Set("Content-Disposition", raw.disposition)
			w.WriteHeader(status)
			w.Write(raw.body)
			return
		}
		body, err := json.Marshal(out)
		if err != nil {
			// Every answer is built from strings, numbers and maps of them.
			s.log.Error("gateway: control plane answer does not encode", "error", err)
			writeControlError(w, &controlError{http.StatusInternalServerError, "InternalServerErrorException", "internal error encoding the answer"})
			return
		}
		w.WriteHeader(status)
		w.Write(body)
	}
}

func writeControlError(w http.ResponseWriter, cerr *controlError) {
	w.Header()["x-amzn-ErrorType"] = []string{cerr.typ}
	body, _ := json.Marshal(map[string]string{"message": cerr.msg})
	w.WriteHeader(cerr.status)
	w.Write(body)
}

// internalError is the answer to a failure that is localpipe's, not the caller's: the
// store refusing a write, say. The log has the details.
func (s *Server) internalError(what string, err error) *controlError {
	s.log.Error("gateway: control plane: "+what, "error", err)
	return &controlError{http.StatusInternalServerError, "InternalServerErrorException", "localpipe could not " + what + ": " + err.Error()}
}

func (s *Server) unknownOperation(w http.ResponseWriter, r *http.Request) {
	if op, ok := matchModelOperation(r.Method, r.URL.EscapedPath(), r.URL.Query()); ok {
		msg := fmt.Sprintf("localpipe's API Gateway control plane does not implement %s (%s %s).", op.Name, op.Method, op.URI)
		if op.Name == "GetSdk" {
			msg += " It does not generate client SDKs: export the API with GetExport (oas30 or swagger) and generate one from that."
		}
		writeControlError(w, &controlError{http.StatusNotImplemented, "NotImplementedException", msg})
		return
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		writeControlError(w, &controlError{http.StatusNotFound, "UnknownOperationException", fmt.Sprintf(
			"localpipe's API Gateway control plane does not answer GET %s; see the operations it answers in the README", r.URL.Path)})
		return
	}
	writeControlError(w, badRequest(fmt.Sprintf(
		"localpipe's API Gateway control plane does not implement %s %s yet. It imports, creates, updates and deletes REST APIs, "+
			"methods, method responses, integrations, integration responses, gateway responses, models, request validators, authorizers, "+
			"deployments, stages, API keys, usage plans and usage plan keys, "+
			"creates and deletes resources, imports API keys, reads and resets usage, and tags.", r.Method, r.URL.Path)))
}

// invalidAPI is AWS's answer for an unknown API, with the account: "Invalid API identifier
// specified 123456789012:abc".
func (s *Server) invalidAPI(id string) *controlError {
	return notFound(fmt.Sprintf("Invalid API identifier specified %s:%s", s.opts.AccountID, id))
}

// described returns the API that reads of API id describe: the config's deployed API, or
// the current model of a control-plane API (doc is then set).
func (s *Server) described(id string) (api *gateway.API, d *gateway.DeploymentPlan, doc *apiDoc, cerr *controlError) {
	if d = s.deployment(id); d != nil {
		return d.API, d, nil, nil
	}
	if doc = s.doc(id); doc == nil {
		return nil, nil, nil, s.invalidAPI(id)
	}
	api, err := buildAPI(doc, doc.Resources)
	if err != nil {
		return nil, nil, nil, s.internalError("rebuild the API's model", err)
	}
	return api, nil, doc, nil
}

// describedMethod finds the resource and method the path names.
func (s *Server) describedMethod(c *ctlReq) (*gateway.API, *gateway.Resource, *gateway.Method, *controlError) {
	api, _, _, cerr := s.described(c.p["api"])
	if cerr != nil {
		return nil, nil, nil, cerr
	}
	res := findResource(api, c.p["res"])
	if res == nil {
		return nil, nil, nil, notFound("Invalid Resource identifier specified")
	}
	m := res.Methods[strings.ToUpper(c.p["verb"])]
	if m == nil {
		return nil, nil, nil, notFound("Invalid Method identifier specified")
	}
	return api, res, m, nil
}

func restAPIOfDoc(d *apiDoc) restAPIOut {
	return restAPIOut{
		ID: d.ID, Name: d.Name, Description: d.Description, CreatedDate: d.Created, Version: d.Version,
		BinaryMediaTypes: d.BinaryMediaTypes, APIKeySource: d.APIKeySource,
		EndpointConfiguration: endpointConfigurationOut{Types: d.EndpointTypes}, DisableExecuteAPIEndpoint: d.DisableExecuteAPIEndpoint,
		RootResourceID: d.RootID, Tags: d.Tags,
	}
}

func (s *Server) getRestAPIs(c *ctlReq) (int, any, *controlError) {
	limit, err := pageLimit(c.q)
	if err != nil {
		return 0, nil, err
	}
	s.mu.RLock()
	all := make([]restAPIOut, 0, len(s.apis)+len(s.docs))
	for _, d := range s.apis {
		all = append(all, restAPIOf(d))
	}
	for id, d := range s.docs {
		if _, ok := s.apis[id]; !ok {
			all = append(all, restAPIOfDoc(d))
		}
	}
	s.mu.RUnlock()
	sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	page, next, err := paginate(all, c.q.Get("position"), limit, func(o restAPIOut) string { return o.ID })
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, listOut[restAPIOut]{Position: next, Item: page}, nil
}

func (s *Server) getRestAPI(c *ctlReq) (int, any, *controlError) {
	if d := s.deployment(c.p["api"]); d != nil {
		return http.StatusOK, restAPIOf(d), nil
	}
	if doc := s.doc(c.p["api"]); doc != nil {
		return http.StatusOK, restAPIOfDoc(doc), nil
	}
	return 0, nil, s.invalidAPI(c.p["api"])
}

func (s *Server) getResources(c *ctlReq) (int, any, *controlError) {
	api, _, _, cerr := s.described(c.p["api"])
	if cerr != nil {
		return 0, nil, cerr
	}
	limit, cerr := pageLimit(c.q)
	if cerr != nil {
		return 0, nil, cerr
	}
	page, next, cerr := paginate(api.Resources(), c.q.Get("position"), limit, func(r *gateway.Resource) string { return r.ID })
	if cerr != nil {
		return 0, nil, cerr
	}
	embed := embedsMethods(c.q)
	items := make([]resourceOut, len(page))
	for i, res := range page {
		items[i] = resourceOf(api, res, embed)
	}
	return http.StatusOK, listOut[resourceOut]{Position: next, Item: items}, nil
}

func (s *Server) getResource(c *ctlReq) (int, any, *controlError) {
	api, _, _, cerr := s.described(c.p["api"])
	if cerr != nil {
		return 0, nil, cerr
	}
	res := findResource(api, c.p["res"])
	if res == nil {
		return 0, nil, notFound("Invalid Resource identifier specified")
	}
	return http.StatusOK, resourceOf(api, res, embedsMethods(c.q)), nil
}

func (s *Server) getMethod(c *ctlReq) (int, any, *controlError) {
	api, res, m, cerr := s.describedMethod(c)
	if cerr != nil {
		return 0, nil, cerr
	}
	return http.StatusOK, methodOf(api, res, m), nil
}

func (s *Server) getMethodResponse(c *ctlReq) (int, any, *controlError) {
	_, _, m, cerr := s.describedMethod(c)
	if cerr != nil {
		return 0, nil, cerr
	}
	mr, ok := m.MethodResponses[c.p["code"]]
	if !ok {
		return 0, nil, notFound("Invalid Response status code specified")
	}
	return http.StatusOK, methodResponseOut{StatusCode: c.p["code"], ResponseParameters: mr.ResponseParameters, ResponseModels: mr.ResponseModels}, nil
}

func (s *Server) getIntegration(c *ctlReq) (int, any, *controlError) {
	_, res, m, cerr := s.describedMethod(c)
	if cerr != nil {
		return 0, nil, cerr
	}
	if m.Integration == nil {
		return 0, nil, notFound("No integration defined for method")
	}
	return http.StatusOK, integrationOf(res, m.Integration), nil
}

func (s *Server) getIntegrationResponse(c *ctlReq) (int, any, *controlError) {
	_, res, m, cerr := s.describedMethod(c)
	if cerr != nil {
		return 0, nil, cerr
	}
	if m.Integration == nil {
		return 0, nil, notFound("No integration defined for method")
	}
	ir, ok := integrationOf(res, m.Integration).IntegrationResponses[c.p["code"]]
	if !ok {
		return 0, nil, notFound("Invalid Response status code specified")
	}
	return http.StatusOK, ir, nil
}

func stageOfDoc(name string, st *stageDoc) stageOut {
	settings := map[string]any{}
	for k, ms := range st.MethodSettings {
		settings[k] = ms
	}
	return stageOut{
		DeploymentID: st.DeploymentID, StageName: name, Description: st.Description, Variables: st.Variables,
		CacheClusterStatus: "NOT_AVAILABLE", MethodSettings: settings,
		CreatedDate: st.Created, LastUpdatedDate: st.Updated, Tags: st.Tags,
	}
}

func (s *Server) getStages(c *ctlReq) (int, any, *controlError) {
	_, d, doc, cerr := s.described(c.p["api"])
	if cerr != nil {
		return 0, nil, cerr
	}
	items := []stageOut{}
	want := c.q.Get("deploymentId")
	if d != nil {
		if want == "" || want == d.DeploymentID {
			for _, name := range sortedKeys(d.Stages) {
				items = append(items, stageOf(d, d.Stages[name]))
			}
		}
	} else {
		for _, name := range sortedKeys(doc.Stages) {
			if st := doc.Stages[name]; want == "" || want == st.DeploymentID {
				items = append(items, stageOfDoc(name, st))
			}
		}
	}
	return http.StatusOK, map[string]any{"item": items}, nil
}

func (s *Server) getStage(c *ctlReq) (int, any, *controlError) {
	_, d, doc, cerr := s.described(c.p["api"])
	if cerr != nil {
		return 0, nil, cerr
	}
	name := c.p["stage"]
	if d != nil {
		if st, ok := d.Stages[name]; ok {
			return http.StatusOK, stageOf(d, st), nil
		}
	} else if st := doc.Stages[name]; st != nil {
		return http.StatusOK, stageOfDoc(name, st), nil
	}
	return 0, nil, notFound("Invalid stage identifier specified")
}

func deploymentsOfDoc(doc *apiDoc) []deploymentOut {
	out := make([]deploymentOut, 0, len(doc.Deployments))
	for _, id := range sortedKeys(doc.Deployments) {
		dep := doc.Deployments[id]
		out = append(out, deploymentOut{ID: id, Description: dep.Description, CreatedDate: dep.Created})
	}
	return out
}

// deploymentsOf lists an API's deployments: the one a config API has, or those of an API
// built through the control plane.
func (s *Server) deploymentsOf(api string) ([]deploymentOut, *controlError) {
	_, d, doc, cerr := s.described(api)
	if cerr != nil {
		return nil, cerr
	}
	if d != nil {
		return []deploymentOut{deploymentOf(d)}, nil
	}
	return deploymentsOfDoc(doc), nil
}

func (s *Server) getDeployments(c *ctlReq) (int, any, *controlError) {
	all, cerr := s.deploymentsOf(c.p["api"])
	if cerr != nil {
		return 0, nil, cerr
	}
	out, cerr := listPage(c.q, all, func(o deploymentOut) string { return o.ID })
	return http.StatusOK, out, cerr
}

func (s *Server) getDeployment(c *ctlReq) (int, any, *controlError) {
	all, cerr := s.deploymentsOf(c.p["api"])
	if cerr != nil {
		return 0, nil, cerr
	}
	for _, o := range all {
		if o.ID == c.p["dep"] {
			return http.StatusOK, o, nil
		}
	}
	return 0, nil, notFound("Invalid Deployment identifier specified")
}

func (s *Server) getModels(c *ctlReq) (int, any, *controlError) {
	api, _, doc, cerr := s.described(c.p["api"])
	if cerr != nil {
		return 0, nil, cerr
	}
	out, cerr := listPage(c.q, describeModels(api, doc), func(o modelOut) string { return o.ID })
	return http.StatusOK, out, cerr
}

func (s *Server) getModel(c *ctlReq) (int, any, *controlError) {
	api, _, doc, cerr := s.described(c.p["api"])
	if cerr != nil {
		return 0, nil, cerr
	}
	for _, o := range describeModels(api, doc) {
		if o.Name == c.p["name"] {
			return http.StatusOK, o, nil
		}
	}
	return 0, nil, notFound("Invalid model name specified: " + c.p["name"])
}

func (s *Server) getRequestValidators(c *ctlReq) (int, any, *controlError) {
	api, _, _, cerr := s.described(c.p["api"])
	if cerr != nil {
		return 0, nil, cerr
	}
	out, cerr := listPage(c.q, validatorsOf(api), func(o validatorOut) string { return o.ID })
	return http.StatusOK, out, cerr
}

func (s *Server) getRequestValidator(c *ctlReq) (int, any, *controlError) {
	api, _, _, cerr := s.described(c.p["api"])
	if cerr != nil {
		return 0, nil, cerr
	}
	for _, o := range validatorsOf(api) {
		if o.ID == c.p["id"] {
			return http.StatusOK, o, nil
		}
	}
	return 0, nil, notFound("Invalid Request Validator identifier specified")
}
