package gatewayapi

import (
	"fmt"
	"maps"
	"net/http"

	"github.com/localpipe/localpipe/gateway"
)

// Deployments and stages: CreateDeployment freezes the model, and a stage serves the
// deployment it points at.

// checkStageInput checks a stage name and its variables as CreateStage does.
func checkStageInput(name string, vars map[string]string) *controlError {
	if !gateway.ValidStageName(name) {
		return badRequest("Stage name only allows a-zA-Z0-9_-")
	}
	if len(vars) > gateway.MaxStageVariables {
		return badRequest(fmt.Sprintf("A stage can have at most %d stage variables", gateway.MaxStageVariables))
	}
	for _, k := range sortedKeys(vars) {
		v := vars[k]
		nameOK, valueOK := gateway.ValidStageVariable(k, v)
		if !nameOK {
			return badRequest(fmt.Sprintf("Stage variable name %q is invalid: only alphanumeric characters and underscores are allowed, up to 64", k))
		}
		if !valueOK {
			return badRequest(fmt.Sprintf("Stage variable value %q is invalid: it must match [A-Za-z0-9-._~:/?#&=,]+ and be at most 512 characters", v))
		}
	}
	return nil
}

// deployable checks that the model compiles, as CreateDeployment does, and answers
// API Gateway's messages for the commonest reasons it does not.
func deployable(d *apiDoc) *controlError {
	api, err := buildAPI(d, d.Resources)
	if err != nil {
		return badRequest(err.Error())
	}
	methods := 0
	for _, r := range api.Resources() {
		for _, m := range r.Methods {
			methods++
			if m.Integration == nil {
				return badRequest("No integration defined for method")
			}
		}
	}
	if methods == 0 {
		return badRequest("The REST API doesn't contain any methods")
	}
	if _, err := gateway.CompileDeployment(api, nil); err != nil {
		return badRequest(err.Error())
	}
	return nil
}

func (s *Server) createDeployment(c *ctlReq) (int, any, *controlError) {
	var in struct {
		StageName        string            `json:"stageName"`
		StageDescription string            `json:"stageDescription"`
		Description      string            `json:"description"`
		Variables        map[string]string `json:"variables"`
	}
	if cerr := decodeBody(c, &in); cerr != nil {
		return 0, nil, cerr
	}
	if in.StageName != "" {
		if cerr := checkStageInput(in.StageName, in.Variables); cerr != nil {
			return 0, nil, cerr
		}
	}
	var out deploymentOut
	cerr := s.edit(c.p["api"], func(d *apiDoc) (map[string]*gateway.DeploymentPlan, []string, *controlError) {
		if cerr := deployable(d); cerr != nil {
			return nil, nil, cerr
		}
		id := gateway.NewResourceID()
		for d.Deployments[id] != nil {
			id = gateway.NewResourceID()
		}
		now := s.now().Unix()
		if d.Deployments == nil {
			d.Deployments = map[string]*deploymentDoc{}
		}
		// d is a clone nothing else holds, so its settings can be shared with the deployment.
		d.Deployments[id] = &deploymentDoc{Description: in.Description, Created: now, Resources: cloneResources(d.Resources), Settings: d.apiSettings}
		out = deploymentOut{ID: id, Description: in.Description, CreatedDate: now}
		if in.StageName == "" {
			return nil, nil, nil
		}
		if d.Stages == nil {
			d.Stages = map[string]*stageDoc{}
		}
		st := d.Stages[in.StageName]
		if st == nil {
			st = &stageDoc{Created: now, Description: in.StageDescription}
			d.Stages[in.StageName] = st
		}
		st.DeploymentID, st.Updated = id, now
		if in.Variables != nil {
			st.Variables = maps.Clone(in.Variables)
		}
		dd, err := compileStage(d, in.StageName)
		if err != nil {
			return nil, nil, badRequest(err.Error())
		}
		return map[string]*gateway.DeploymentPlan{in.StageName: dd}, nil, nil
	})
	if cerr != nil {
		return 0, nil, cerr
	}
	if in.StageName != "" {
		s.log.Info("gateway: deployed", "api", c.p["api"], "stage", in.StageName, "deployment", out.ID)
	}
	return http.StatusCreated, out, nil
}

func (s *Server) deleteDeployment(c *ctlReq) (int, any, *controlError) {
	cerr := s.edit(c.p["api"], func(d *apiDoc) (map[string]*gateway.DeploymentPlan, []string, *controlError) {
		id := c.p["dep"]
		if d.Deployments[id] == nil {
			return nil, nil, notFound("Invalid Deployment identifier specified")
		}
		for _, st := range d.Stages {
			if st.DeploymentID == id {
				return nil, nil, badRequest("Active stages pointing to this deployment must be moved or deleted")
			}
		}
		delete(d.Deployments, id)
		return nil, nil, nil
	})
	if cerr != nil {
		return 0, nil, cerr
	}
	return http.StatusAccepted, nil, nil
}

func (s *Server) createStage(c *ctlReq) (int, any, *controlError) {
	var in struct {
		StageName    string            `json:"stageName"`
		DeploymentID string            `json:"deploymentId"`
		Description  string            `json:"description"`
		Variables    map[string]string `json:"variables"`
		Tags         map[string]string `json:"tags"`
	}
	if cerr := decodeBody(c, &in); cerr != nil {
		return 0, nil, cerr
	}
	if cerr := checkStageInput(in.StageName, in.Variables); cerr != nil {
		return 0, nil, cerr
	}
	if cerr := checkTags(in.Tags); cerr != nil {
		return 0, nil, cerr
	}
	cerr := s.edit(c.p["api"], func(d *apiDoc) (map[string]*gateway.DeploymentPlan, []string, *controlError) {
		if d.Deployments[in.DeploymentID] == nil {
			return nil, nil, notFound("Invalid Deployment identifier specified")
		}
		if d.Stages[in.StageName] != nil {
			return nil, nil, conflict("Stage already exists")
		}
		if d.Stages == nil {
			d.Stages = map[string]*stageDoc{}
		}
		now := s.now().Unix()
		d.Stages[in.StageName] = &stageDoc{
			DeploymentID: in.DeploymentID, Description: in.Description, Variables: maps.Clone(in.Variables), Created: now, Updated: now,
			Tags: in.Tags,
		}
		dd, err := compileStage(d, in.StageName)
		if err != nil {
			return nil, nil, badRequest(err.Error())
		}
		return map[string]*gateway.DeploymentPlan{in.StageName: dd}, nil, nil
	})
	if cerr != nil {
		return 0, nil, cerr
	}
	c.p["stage"] = in.StageName
	return s.describeAfter(http.StatusCreated, c, s.getStage)
}

func (s *Server) deleteStage(c *ctlReq) (int, any, *controlError) {
	cerr := s.edit(c.p["api"], func(d *apiDoc) (map[string]*gateway.DeploymentPlan, []string, *controlError) {
		name := c.p["stage"]
		if d.Stages[name] == nil {
			return nil, nil, notFound("Invalid stage identifier specified")
		}
		delete(d.Stages, name)
		return nil, []string{name}, nil
	})
	if cerr != nil {
		return 0, nil, cerr
	}
	return http.StatusAccepted, nil, nil
}
