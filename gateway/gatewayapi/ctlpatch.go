package gatewayapi

import (
	"cmp"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/localpipe/localpipe/gateway"
)

// Update* operations take JSON Patch-style patchOperations: {op, path, value, from}. A path
// is a JSON Pointer into the resource ("/variables/color",
// "/requestTemplates/application~1json"), '/' inside a name written "~1" and '~' "~0".
// Each resource lists the paths it lets change (patchField); the ops are applied to a copy,
// the result checked as the Put operation checks it, and only then saved.

// patchOp is one of the patchOperations (PatchOperation in the model).
type patchOp struct {
	Op    string  `json:"op"`
	Path  string  `json:"path"`
	Value *string `json:"value"`
	From  string  `json:"from"`
}

// patchOps is the one operation that patchOperations allows.
var patchOps = []string{"add", "remove", "replace", "move", "copy", "test"}

// maxPatchOps bounds one request's operations; nothing real sends more than a few dozen.
const maxPatchOps = 1000

// parsePatchPath splits a patch path into its segments with the pointer escapes undone:
// "/requestTemplates/application~1json" is ["requestTemplates", "application/json"]. ok is
// false for a path that does not start with '/' or has an empty segment.
func parsePatchPath(p string) (segs []string, ok bool) {
	rest, found := strings.CutPrefix(p, "/")
	if !found || rest == "" {
		return nil, false
	}
	for _, s := range strings.Split(rest, "/") {
		if s == "" {
			return nil, false
		}
		segs = append(segs, gateway.UnescapePointer(s))
	}
	return segs, true
}

// patchField is one path of a resource that Update* may change, bound to the field it
// changes. Exactly one of the pointers is set.
type patchField struct {
	str     *string            // "/name": replace
	boolean *bool              // "/apiKeyRequired": replace with "true" or "false"
	integer *int               // "/timeoutInMillis": replace
	strMap  *map[string]string // "/variables/{name}": add, replace, remove
	boolMap *map[string]bool   // "/requestParameters/{name}": add, replace with "true"/"false", remove
	list    *[]string          // "/binaryMediaTypes/{item}": add, remove
}

// decodePatch reads an Update* body.
func decodePatch(c *ctlReq) ([]patchOp, *controlError) {
	var in struct {
		PatchOperations []patchOp `json:"patchOperations"`
	}
	if cerr := decodeBody(c, &in); cerr != nil {
		return nil, cerr
	}
	if len(in.PatchOperations) > maxPatchOps {
		return nil, badRequest(fmt.Sprintf("Too many patch operations: %d, at most %d", len(in.PatchOperations), maxPatchOps))
	}
	return in.PatchOperations, nil
}

func invalidPatchPath(op patchOp, fields map[string]patchField) *controlError {
	var paths []string
	for _, name := range sortedKeys(fields) {
		f := fields[name]
		if f.strMap != nil || f.boolMap != nil || f.list != nil {
			paths = append(paths, "/"+name+"/{key}")
		} else {
			paths = append(paths, "/"+name)
		}
	}
	return badRequest(fmt.Sprintf("Invalid patch path '%s' specified for op '%s'. Must be one of: [%s]", op.Path, op.Op, strings.Join(paths, ", ")))
}

func parsePatchBool(op patchOp) (bool, *controlError) {
	switch *op.Value {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, badRequest(fmt.Sprintf("Invalid value '%s' for '%s': it must be true or false", *op.Value, op.Path))
}

// applyPatch applies ops, in order, to the fields they name.
func applyPatch(ops []patchOp, fields map[string]patchField) *controlError {
	for _, op := range ops {
		if !slices.Contains(patchOps, op.Op) {
			return badRequest(fmt.Sprintf("Invalid patch operation specified: '%s'. Must be one of: [%s]", op.Op, strings.Join(patchOps, ", ")))
		}
		segs, ok := parsePatchPath(op.Path)
		if !ok {
			return invalidPatchPath(op, fields)
		}
		f, known := fields[segs[0]]
		if !known {
			return invalidPatchPath(op, fields)
		}
		keyed := f.strMap != nil || f.boolMap != nil || f.list != nil
		if keyed != (len(segs) == 2) || len(segs) > 2 {
			return invalidPatchPath(op, fields)
		}
		switch {
		case op.Op == "move" || op.Op == "copy" || op.Op == "test":
			return badRequest(fmt.Sprintf("Invalid patch operation specified: localpipe does not support op '%s' on '%s'; use add, replace or remove", op.Op, op.Path))
		case !keyed && op.Op != "replace":
			return badRequest(fmt.Sprintf("Invalid patch operation specified: '%s' supports only op 'replace', not '%s'", op.Path, op.Op))
		case f.list != nil && op.Op == "replace":
			return badRequest(fmt.Sprintf("Invalid patch operation specified: '%s' supports only ops 'add' and 'remove', not 'replace'", op.Path))
		case op.Op != "remove" && op.Value == nil && f.list == nil:
			return badRequest(fmt.Sprintf("Invalid patch operation specified: op '%s' on '%s' needs a value", op.Op, op.Path))
		}
		switch {
		case f.str != nil:
			*f.str = *op.Value
		case f.boolean != nil:
			b, cerr := parsePatchBool(op)
			if cerr != nil {
				return cerr
			}
			*f.boolean = b
		case f.integer != nil:
			n, err := strconv.Atoi(*op.Value)
			if err != nil {
				return badRequest(fmt.Sprintf("Invalid value '%s' for '%s': it must be a whole number", *op.Value, op.Path))
			}
			*f.integer = n
		case f.strMap != nil:
			if op.Op == "remove" {
				delete(*f.strMap, segs[1])
				continue
			}
			if *f.strMap == nil {
				*f.strMap = map[string]string{}
			}
			(*f.strMap)[segs[1]] = *op.Value
		case f.boolMap != nil:
			if op.Op == "remove" {
				delete(*f.boolMap, segs[1])
				continue
			}
			b, cerr := parsePatchBool(op)
			if cerr != nil {
				return cerr
			}
			if *f.boolMap == nil {
				*f.boolMap = map[string]bool{}
			}
			(*f.boolMap)[segs[1]] = b
		case f.list != nil:
			if op.Op == "remove" {
				*f.list = slices.DeleteFunc(*f.list, func(s string) bool { return s == segs[1] })
			} else if !slices.Contains(*f.list, segs[1]) {
				*f.list = append(*f.list, segs[1])
			}
		}
	}
	return nil
}

// patchDoc runs an Update* call: it decodes patchOperations, lets fn apply them to a clone of
// the API's document (nothing changes unless fn returns nil, see edit), and answers with
// what read describes afterwards.
func (s *Server) patchDoc(c *ctlReq, status int, read ctlFunc,
	fn func(d *apiDoc, ops []patchOp) (map[string]*gateway.DeploymentPlan, []string, *controlError)) (int, any, *controlError) {
	ops, cerr := decodePatch(c)
	if cerr != nil {
		return 0, nil, cerr
	}
	cerr = s.edit(c.p["api"], func(d *apiDoc) (map[string]*gateway.DeploymentPlan, []string, *controlError) { return fn(d, ops) })
	if cerr != nil {
		return 0, nil, cerr
	}
	return s.describeAfter(status, c, read)
}

func (s *Server) updateRestAPI(c *ctlReq) (int, any, *controlError) {
	return s.patchDoc(c, http.StatusOK, s.getRestAPI, func(d *apiDoc, ops []patchOp) (map[string]*gateway.DeploymentPlan, []string, *controlError) {
		if cerr := applyPatch(ops, map[string]patchField{
			"name": {str: &d.Name}, "description": {str: &d.Description}, "version": {str: &d.Version},
			"apiKeySource": {str: &d.APIKeySource}, "binaryMediaTypes": {list: &d.BinaryMediaTypes},
			"disableExecuteApiEndpoint": {boolean: &d.DisableExecuteAPIEndpoint},
		}); cerr != nil {
			return nil, nil, cerr
		}
		if strings.TrimSpace(d.Name) == "" {
			return nil, nil, badRequest("Invalid REST API name specified")
		}
		if d.APIKeySource != gateway.APIKeySourceHeader && d.APIKeySource != gateway.APIKeySourceAuthorizer {
			return nil, nil, badRequest(fmt.Sprintf("Invalid API key source specified: %s; valid values are HEADER and AUTHORIZER", d.APIKeySource))
		}
		return nil, nil, nil
	})
}

func (s *Server) updateStage(c *ctlReq) (int, any, *controlError) {
	name := c.p["stage"]
	return s.patchDoc(c, http.StatusOK, s.getStage, func(d *apiDoc, ops []patchOp) (map[string]*gateway.DeploymentPlan, []string, *controlError) {
		st := d.Stages[name]
		if st == nil {
			return nil, nil, notFound("Invalid stage identifier specified")
		}
		// Method settings have paths of their own ("/*/*/throttling/rateLimit"); the rest
		// are the stage's fields.
		var fieldOps []patchOp
		for _, op := range ops {
			key, setting, ok := methodSettingPath(op.Path)
			if !ok {
				fieldOps = append(fieldOps, op)
				continue
			}
			if st.MethodSettings == nil {
				st.MethodSettings = map[string]*methodSetting{}
			}
			if cerr := applyMethodSetting(st.MethodSettings, op, key, setting); cerr != nil {
				return nil, nil, cerr
			}
		}
		ops = fieldOps
		if cerr := applyPatch(ops, map[string]patchField{
			"description": {str: &st.Description}, "deploymentId": {str: &st.DeploymentID}, "variables": {strMap: &st.Variables},
		}); cerr != nil {
			return nil, nil, cerr
		}
		if d.Deployments[st.DeploymentID] == nil {
			return nil, nil, badRequest("Invalid Deployment identifier specified")
		}
		if cerr := checkStageInput(name, st.Variables); cerr != nil {
			return nil, nil, cerr
		}
		st.Updated = s.now().Unix()
		dd, err := compileStage(d, name)
		if err != nil {
			return nil, nil, badRequest(err.Error())
		}
		return map[string]*gateway.DeploymentPlan{name: dd}, nil, nil
	})
}

func (s *Server) updateDeployment(c *ctlReq) (int, any, *controlError) {
	return s.patchDoc(c, http.StatusOK, s.getDeployment, func(d *apiDoc, ops []patchOp) (map[string]*gateway.DeploymentPlan, []string, *controlError) {
		dep := d.Deployments[c.p["dep"]]
		if dep == nil {
			return nil, nil, notFound("Invalid Deployment identifier specified")
		}
		return nil, nil, applyPatch(ops, map[string]patchField{"description": {str: &dep.Description}})
	})
}

func (s *Server) updateMethod(c *ctlReq) (int, any, *controlError) {
	return s.patchDoc(c, http.StatusOK, s.getMethod, func(d *apiDoc, ops []patchOp) (map[string]*gateway.DeploymentPlan, []string, *controlError) {
		_, m, cerr := methodOfDoc(d, c)
		if cerr != nil {
			return nil, nil, cerr
		}
		validator := ""
		if m.RequestValidator != "" {
			validator = derivedID(d.ID, "requestvalidator", m.RequestValidator)
		}
		auth := cmp.Or(m.AuthorizationType, "NONE")
		authorizerID := ""
		if m.Authorizer != "" {
			authorizerID = derivedID(d.ID, "authorizer", m.Authorizer)
		}
		if cerr := applyPatch(ops, map[string]patchField{
			"authorizationType": {str: &auth}, "authorizerId": {str: &authorizerID}, "apiKeyRequired": {boolean: &m.APIKeyRequired},
			"operationName": {str: &m.OperationName}, "requestValidatorId": {str: &validator},
			"requestParameters": {boolMap: &m.RequestParameters}, "requestModels": {strMap: &m.RequestModels},
		}); cerr != nil {
			return nil, nil, cerr
		}
		if cerr := setMethodAuth(d, m, auth, authorizerID); cerr != nil {
			return nil, nil, cerr
		}
		if cerr := setMethodRefs(d, m, validator); cerr != nil {
			return nil, nil, cerr
		}
		return nil, nil, checkMethodParams(m.RequestParameters)
	})
}

func (s *Server) updateMethodResponse(c *ctlReq) (int, any, *controlError) {
	code := c.p["code"]
	// UpdateMethodResponse answers 201, as the model says.
	return s.patchDoc(c, http.StatusCreated, s.getMethodResponse, func(d *apiDoc, ops []patchOp) (map[string]*gateway.DeploymentPlan, []string, *controlError) {
		_, m, cerr := methodOfDoc(d, c)
		if cerr != nil {
			return nil, nil, cerr
		}
		mr, ok := m.MethodResponses[code]
		if !ok {
			return nil, nil, notFound("Invalid Response status code specified")
		}
		if cerr := applyPatch(ops, map[string]patchField{
			"responseParameters": {boolMap: &mr.ResponseParameters}, "responseModels": {strMap: &mr.ResponseModels},
		}); cerr != nil {
			return nil, nil, cerr
		}
		m.MethodResponses[code] = mr
		return nil, nil, checkMethodResponseParams(mr.ResponseParameters)
	})
}

func (s *Server) updateIntegration(c *ctlReq) (int, any, *controlError) {
	return s.patchDoc(c, http.StatusOK, s.getIntegration, func(d *apiDoc, ops []patchOp) (map[string]*gateway.DeploymentPlan, []string, *controlError) {
		_, m, cerr := methodOfDoc(d, c)
		if cerr != nil {
			return nil, nil, cerr
		}
		in := m.Integration
		if in == nil {
			return nil, nil, notFound("No integration defined for method")
		}
		typ, timeout := string(in.Type), cmp.Or(in.TimeoutInMillis, gateway.DefaultTimeoutMillis)
		if cerr := applyPatch(ops, map[string]patchField{
			"type": {str: &typ}, "uri": {str: &in.URI}, "httpMethod": {str: &in.HTTPMethod}, "credentials": {str: &in.Credentials},
			"passthroughBehavior": {str: &in.PassthroughBehavior}, "contentHandling": {str: &in.ContentHandling},
			"timeoutInMillis": {integer: &timeout}, "cacheNamespace": {str: &in.CacheNamespace},
			"cacheKeyParameters": {list: &in.CacheKeyParameters}, "requestTemplates": {strMap: &in.RequestTemplates},
			"requestParameters": {strMap: &in.RequestParameters},
		}); cerr != nil {
			return nil, nil, cerr
		}
		in.Type = gateway.IntegrationType(typ)
		if timeout < gateway.MinTimeoutMillis || timeout > gateway.MaxTimeoutMillis {
			return nil, nil, badRequest(fmt.Sprintf("Timeout should be between %d ms and %d ms", gateway.MinTimeoutMillis, gateway.MaxTimeoutMillis))
		}
		in.TimeoutInMillis = timeout
		return nil, nil, checkIntegration(in)
	})
}

func (s *Server) updateIntegrationResponse(c *ctlReq) (int, any, *controlError) {
	code := c.p["code"]
	return s.patchDoc(c, http.StatusOK, s.getIntegrationResponse, func(d *apiDoc, ops []patchOp) (map[string]*gateway.DeploymentPlan, []string, *controlError) {
		_, m, cerr := methodOfDoc(d, c)
		if cerr != nil {
			return nil, nil, cerr
		}
		if m.Integration == nil {
			return nil, nil, notFound("No integration defined for method")
		}
		ir, ok := m.Integration.Responses[code]
		if !ok {
			return nil, nil, notFound("Invalid Response status code specified")
		}
		ir.ResponseTemplates, ir.ResponseParameters = maps.Clone(ir.ResponseTemplates), maps.Clone(ir.ResponseParameters)
		if cerr := applyPatch(ops, map[string]patchField{
			"selectionPattern": {str: &ir.SelectionPattern}, "contentHandling": {str: &ir.ContentHandling},
			"responseTemplates": {strMap: &ir.ResponseTemplates}, "responseParameters": {strMap: &ir.ResponseParameters},
		}); cerr != nil {
			return nil, nil, cerr
		}
		m.Integration.Responses[code] = ir
		return nil, nil, checkIntegrationResponse(ir)
	})
}
