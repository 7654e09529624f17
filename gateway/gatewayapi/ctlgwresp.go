package gatewayapi

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/localpipe/localpipe/gateway"
)

// Gateway responses through the control plane: Put/Get/Update/DeleteGatewayResponse and
// GetGatewayResponses. A type the API does not customise is described as API Gateway
// describes it, defaultResponse true with the type's default status.

// gatewayResponseStatus is each type's default status code, from API Gateway's table of
// gateway response types; the DEFAULT_* types have none of their own.
var gatewayResponseStatus = map[string]string{
	"ACCESS_DENIED": "403", "API_CONFIGURATION_ERROR": "500", "AUTHORIZER_CONFIGURATION_ERROR": "500",
	"AUTHORIZER_FAILURE": "500", "BAD_REQUEST_PARAMETERS": "400", "BAD_REQUEST_BODY": "400", "EXPIRED_TOKEN": "403",
	"INTEGRATION_FAILURE": "504", "INTEGRATION_TIMEOUT": "504", "INVALID_API_KEY": "403", "INVALID_SIGNATURE": "403",
	"MISSING_AUTHENTICATION_TOKEN": "403", "QUOTA_EXCEEDED": "429", "REQUEST_TOO_LARGE": "413",
	"RESOURCE_NOT_FOUND": "404", "THROTTLED": "429", "UNAUTHORIZED": "401", "UNSUPPORTED_MEDIA_TYPE": "415",
	"WAF_FILTERED": "403",
}

type gatewayResponseOut struct {
	ResponseType       string            `json:"responseType"`
	StatusCode         string            `json:"statusCode,omitempty"`
	ResponseParameters map[string]string `json:"responseParameters"`
	ResponseTemplates  map[string]string `json:"responseTemplates"`
	DefaultResponse    bool              `json:"defaultResponse"`
}

func gatewayResponseOf(api *gateway.API, typ string) gatewayResponseOut {
	if g, ok := api.GatewayResponses[typ]; ok {
		out := gatewayResponseOut{ResponseType: typ, StatusCode: g.StatusCode, ResponseParameters: g.ResponseParameters, ResponseTemplates: g.ResponseTemplates}
		if out.ResponseParameters == nil {
			out.ResponseParameters = map[string]string{}
		}
		if out.ResponseTemplates == nil {
			out.ResponseTemplates = map[string]string{}
		}
		return out
	}
	return gatewayResponseOut{
		ResponseType: typ, StatusCode: gatewayResponseStatus[typ], ResponseParameters: map[string]string{},
		ResponseTemplates: map[string]string{"application/json": `{"message":$context.error.messageString}`}, DefaultResponse: true,
	}
}

func checkGatewayResponseType(typ string) *controlError {
	if !slices.Contains(gateway.GatewayResponseTypes, typ) {
		return badRequest(fmt.Sprintf("Invalid gateway response type specified: %s", typ))
	}
	return nil
}

// checkGatewayResponse checks a gateway response as PutGatewayResponse does.
func checkGatewayResponse(typ string, g gateway.GatewayResponse) *controlError {
	if g.StatusCode != "" {
		if cerr := checkStatusCode(g.StatusCode); cerr != nil {
			return cerr
		}
	}
	if _, errs := gateway.CompileGatewayResponse("gateway response "+typ, g); len(errs) > 0 {
		return badRequest("Invalid gateway response specified: " + errs[0].Error())
	}
	return nil
}

func (s *Server) getGatewayResponses(c *ctlReq) (int, any, *controlError) {
	api, _, _, cerr := s.described(c.p["api"])
	if cerr != nil {
		return 0, nil, cerr
	}
	all := make([]gatewayResponseOut, 0, len(gateway.GatewayResponseTypes))
	for _, typ := range slices.Sorted(slices.Values(gateway.GatewayResponseTypes)) {
		all = append(all, gatewayResponseOf(api, typ))
	}
	out, cerr := listPage(c.q, all, func(o gatewayResponseOut) string { return o.ResponseType })
	return http.StatusOK, out, cerr
}

func (s *Server) getGatewayResponse(c *ctlReq) (int, any, *controlError) {
	api, _, _, cerr := s.described(c.p["api"])
	if cerr != nil {
		return 0, nil, cerr
	}
	if cerr := checkGatewayResponseType(c.p["type"]); cerr != nil {
		return 0, nil, cerr
	}
	return http.StatusOK, gatewayResponseOf(api, c.p["type"]), nil
}

func (s *Server) putGatewayResponse(c *ctlReq) (int, any, *controlError) {
	var in struct {
		StatusCode         string            `json:"statusCode"`
		ResponseParameters map[string]string `json:"responseParameters"`
		ResponseTemplates  map[string]string `json:"responseTemplates"`
	}
	if cerr := decodeBody(c, &in); cerr != nil {
		return 0, nil, cerr
	}
	typ := c.p["type"]
	if cerr := checkGatewayResponseType(typ); cerr != nil {
		return 0, nil, cerr
	}
	g := gateway.GatewayResponse{StatusCode: in.StatusCode, ResponseParameters: in.ResponseParameters, ResponseTemplates: in.ResponseTemplates}
	if cerr := checkGatewayResponse(typ, g); cerr != nil {
		return 0, nil, cerr
	}
	cerr := s.edit(c.p["api"], func(d *apiDoc) (map[string]*gateway.DeploymentPlan, []string, *controlError) {
		if d.GatewayResponses == nil {
			d.GatewayResponses = map[string]gateway.GatewayResponse{}
		}
		d.GatewayResponses[typ] = g
		return nil, nil, nil
	})
	if cerr != nil {
		return 0, nil, cerr
	}
	return s.describeAfter(http.StatusCreated, c, s.getGatewayResponse)
}

func (s *Server) updateGatewayResponse(c *ctlReq) (int, any, *controlError) {
	typ := c.p["type"]
	if cerr := checkGatewayResponseType(typ); cerr != nil {
		return 0, nil, cerr
	}
	return s.patchDoc(c, http.StatusOK, s.getGatewayResponse, func(d *apiDoc, ops []patchOp) (map[string]*gateway.DeploymentPlan, []string, *controlError) {
		g := d.GatewayResponses[typ]
		if cerr := applyPatch(ops, map[string]patchField{
			"statusCode": {str: &g.StatusCode}, "responseParameters": {strMap: &g.ResponseParameters},
			"responseTemplates": {strMap: &g.ResponseTemplates},
		}); cerr != nil {
			return nil, nil, cerr
		}
		if cerr := checkGatewayResponse(typ, g); cerr != nil {
			return nil, nil, cerr
		}
		if d.GatewayResponses == nil {
			d.GatewayResponses = map[string]gateway.GatewayResponse{}
		}
		d.GatewayResponses[typ] = g
		return nil, nil, nil
	})
}

func (s *Server) deleteGatewayResponse(c *ctlReq) (int, any, *controlError) {
	typ := c.p["type"]
	if cerr := checkGatewayResponseType(typ); cerr != nil {
		return 0, nil, cerr
	}
	cerr := s.edit(c.p["api"], func(d *apiDoc) (map[string]*gateway.DeploymentPlan, []string, *controlError) {
		if _, ok := d.GatewayResponses[typ]; !ok {
			return nil, nil, notFound("Invalid Gateway Response identifier specified")
		}
		delete(d.GatewayResponses, typ)
		return nil, nil, nil
	})
	if cerr != nil {
		return 0, nil, cerr
	}
	return http.StatusAccepted, nil, nil
}
