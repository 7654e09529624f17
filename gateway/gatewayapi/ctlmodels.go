package gatewayapi

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strings"

	"github.com/localpipe/localpipe/gateway"
	"github.com/localpipe/localpipe/gateway/jsonschema"
)

// Models and request validators through the control plane. A model's schema is checked
// at CreateModel as the deployment would compile it; a request validator's id is derived
// from its name (derivedID), as for imported APIs, so a method refers to a validator by
// name in the model and by id on the wire.

// modelInfo is what a model has beside its schema; it does not change how requests are
// served, so deployments do not freeze it.
type modelInfo struct {
	ContentType string `json:"contentType"`
	Description string `json:"description,omitempty"`
}

// describeModels overlays what the control plane knows of its models on modelsOf's answer.
func describeModels(api *gateway.API, doc *apiDoc) []modelOut {
	out := modelsOf(api)
	if doc == nil {
		return out
	}
	for i := range out {
		if info, ok := doc.ModelInfo[out[i].Name]; ok {
			out[i].ContentType, out[i].Description = info.ContentType, info.Description
		}
	}
	return out
}

// checkModels compiles every model, as CreateDeployment would.
func checkModels(models map[string]json.RawMessage) *controlError {
	c := jsonschema.NewCompiler(models)
	for _, name := range sortedKeys(models) {
		if _, err := c.Model(name); err != nil {
			return badRequest("Invalid model schema specified: " + err.Error())
		}
	}
	return nil
}

// modelUsers lists the methods whose requestModels name model, as "/path VERB".
func modelUsers(d *apiDoc, model string) []string {
	var out []string
	for _, id := range sortedKeys(d.Resources) {
		for _, verb := range sortedKeys(d.Resources[id].Methods) {
			for _, name := range d.Resources[id].Methods[verb].RequestModels {
				if name == model {
					out = append(out, pathOf(d.Resources, id)+" "+verb)
				}
			}
		}
	}
	return out
}

func (s *Server) createModel(c *ctlReq) (int, any, *controlError) {
	var in struct {
		Name        string `json:"name"`
		Description string `json:"description"`
		Schema      string `json:"schema"`
		ContentType string `json:"contentType"`
	}
	if cerr := decodeBody(c, &in); cerr != nil {
		return 0, nil, cerr
	}
	if !gateway.ModelNameRe.MatchString(in.Name) { // the importer's rule too
		return 0, nil, badRequest("Model name must be alphanumeric")
	}
	if in.ContentType == "" {
		return 0, nil, badRequest("Content type must be specified")
	}
	schema := strings.TrimSpace(in.Schema)
	if schema == "" {
		schema = "{}"
	}
	if !json.Valid([]byte(schema)) {
		return 0, nil, badRequest("Invalid model schema specified: the schema is not JSON")
	}
	cerr := s.edit(c.p["api"], func(d *apiDoc) (map[string]*gateway.DeploymentPlan, []string, *controlError) {
		if _, dup := d.Models[in.Name]; dup {
			return nil, nil, conflict("Model name already exists for this REST API")
		}
		d.Models = mergeMaps(maps.Clone(d.Models), map[string]json.RawMessage{in.Name: json.RawMessage(schema)})
		d.ModelInfo = mergeMaps(d.ModelInfo, map[string]modelInfo{in.Name: {ContentType: in.ContentType, Description: in.Description}})
		return nil, nil, checkModels(d.Models)
	})
	if cerr != nil {
		return 0, nil, cerr
	}
	c.p["name"] = in.Name
	return s.describeAfter(http.StatusCreated, c, s.getModel)
}

func (s *Server) updateModel(c *ctlReq) (int, any, *controlError) {
	name := c.p["name"]
	return s.patchDoc(c, http.StatusOK, s.getModel, func(d *apiDoc, ops []patchOp) (map[string]*gateway.DeploymentPlan, []string, *controlError) {
		raw, ok := d.Models[name]
		if !ok {
			return nil, nil, notFound("Invalid model name specified: " + name)
		}
		schema, info := string(raw), d.ModelInfo[name]
		if cerr := applyPatch(ops, map[string]patchField{"schema": {str: &schema}, "description": {str: &info.Description}}); cerr != nil {
			return nil, nil, cerr
		}
		if !json.Valid([]byte(schema)) {
			return nil, nil, badRequest("Invalid model schema specified: the schema is not JSON")
		}
		d.Models[name] = json.RawMessage(schema)
		d.ModelInfo = mergeMaps(d.ModelInfo, map[string]modelInfo{name: info})
		return nil, nil, checkModels(d.Models)
	})
}

func (s *Server) deleteModel(c *ctlReq) (int, any, *controlError) {
	name := c.p["name"]
	cerr := s.edit(c.p["api"], func(d *apiDoc) (map[string]*gateway.DeploymentPlan, []string, *controlError) {
		if _, ok := d.Models[name]; !ok {
			return nil, nil, notFound("Invalid model name specified: " + name)
		}
		if users := modelUsers(d, name); len(users) > 0 {
			return nil, nil, conflict(fmt.Sprintf("Cannot delete model '%s', is referenced in method request: %s", name, strings.Join(users, ", ")))
		}
		delete(d.Models, name)
		delete(d.ModelInfo, name)
		return nil, nil, checkModels(d.Models)
	})
	if cerr != nil {
		return 0, nil, cerr
	}
	return http.StatusAccepted, nil, nil
}

// validatorName returns the name of the validator whose id is id.
func validatorName(d *apiDoc, id string) (string, bool) {
	for name := range d.RequestValidators {
		if derivedID(d.ID, "requestvalidator", name) == id {
			return name, true
		}
	}
	return "", false
}

func (s *Server) createRequestValidator(c *ctlReq) (int, any, *controlError) {
	var in struct {
		Name                      string `json:"name"`
		ValidateRequestBody       bool   `json:"validateRequestBody"`
		ValidateRequestParameters bool   `json:"validateRequestParameters"`
	}
	if cerr := decodeBody(c, &in); cerr != nil {
		return 0, nil, cerr
	}
	if strings.TrimSpace(in.Name) == "" {
		return 0, nil, badRequest("Request validator name must be specified")
	}
	cerr := s.edit(c.p["api"], func(d *apiDoc) (map[string]*gateway.DeploymentPlan, []string, *controlError) {
		if _, dup := d.RequestValidators[in.Name]; dup {
			return nil, nil, conflict("Validator with the same name already exists")
		}
		d.RequestValidators = mergeMaps(d.RequestValidators, map[string]gateway.RequestValidator{in.Name: {
			ValidateRequestBody: in.ValidateRequestBody, ValidateRequestParameters: in.ValidateRequestParameters}})
		return nil, nil, nil
	})
	if cerr != nil {
		return 0, nil, cerr
	}
	c.p["id"] = derivedID(c.p["api"], "requestvalidator", in.Name)
	return s.describeAfter(http.StatusCreated, c, s.getRequestValidator)
}

func (s *Server) updateRequestValidator(c *ctlReq) (int, any, *controlError) {
	return s.patchDoc(c, http.StatusOK, s.getRequestValidator, func(d *apiDoc, ops []patchOp) (map[string]*gateway.DeploymentPlan, []string, *controlError) {
		name, ok := validatorName(d, c.p["id"])
		if !ok {
			return nil, nil, notFound("Invalid Request Validator identifier specified")
		}
		v := d.RequestValidators[name]
		if cerr := applyPatch(ops, map[string]patchField{
			"validateRequestBody": {boolean: &v.ValidateRequestBody}, "validateRequestParameters": {boolean: &v.ValidateRequestParameters},
		}); cerr != nil {
			return nil, nil, cerr
		}
		d.RequestValidators[name] = v
		return nil, nil, nil
	})
}

func (s *Server) deleteRequestValidator(c *ctlReq) (int, any, *controlError) {
	cerr := s.edit(c.p["api"], func(d *apiDoc) (map[string]*gateway.DeploymentPlan, []string, *controlError) {
		name, ok := validatorName(d, c.p["id"])
		if !ok {
			return nil, nil, notFound("Invalid Request Validator identifier specified")
		}
		for _, r := range d.Resources {
			for _, m := range r.Methods {
				if m.RequestValidator == name {
					return nil, nil, conflict("Cannot delete request validator: it is used by a method")
				}
			}
		}
		delete(d.RequestValidators, name)
		if d.DefaultValidator == name {
			d.DefaultValidator = ""
		}
		return nil, nil, nil
	})
	if cerr != nil {
		return 0, nil, cerr
	}
	return http.StatusAccepted, nil, nil
}
