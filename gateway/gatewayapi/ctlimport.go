package gatewayapi

import (
	"cmp"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/localpipe/localpipe/gateway"
)

// ImportRestApi, PutRestApi and CreateRestApi's cloneFrom: APIs made from an OpenAPI
// document, or from another API.

// cloneInto gives d, a new API, the resources, methods and settings of source under new
// resource ids (CreateRestApi's cloneFrom); deployments and stages are not cloned. The
// settings d was given explicitly (keySource, mediaTypes) are kept.
func cloneInto(d, source *apiDoc, keySource, mediaTypes bool) {
	settings := source.apiSettings
	if keySource {
		settings.APIKeySource = d.APIKeySource
	}
	if mediaTypes {
		settings.BinaryMediaTypes = d.BinaryMediaTypes
	}
	d.apiSettings = settings
	ids := map[string]string{source.RootID: d.RootID}
	for old := range source.Resources {
		if old != source.RootID {
			id := gateway.NewResourceID()
			for d.Resources[id] != nil || slices.Contains(slices.Collect(maps.Values(ids)), id) {
				id = gateway.NewResourceID()
			}
			ids[old] = id
		}
	}
	d.Resources = map[string]*resourceDoc{}
	for old, r := range source.Resources {
		c := *r
		if c.ParentID != "" {
			c.ParentID = ids[c.ParentID]
		}
		d.Resources[ids[old]] = &c
	}
}

// importRestAPI is ImportRestApi: the body is an OpenAPI 3.0 or Swagger 2.0 document, in
// JSON or YAML, imported as the --config file's restApis are.
func (s *Server) importRestAPI(c *ctlReq) (int, any, *controlError) {
	// The CLI's --parameters arrive as query parameters of their own.
	var asked []string
	if t := c.q.Get("endpointConfigurationTypes"); t != "" {
		asked = []string{t}
	}
	types, cerr := endpointTypes(asked)
	if cerr != nil {
		return 0, nil, cerr
	}
	api, cerr := importDocument(c)
	if cerr != nil {
		return 0, nil, cerr
	}
	if api.Name == "" {
		return 0, nil, badRequest("Invalid REST API name specified: give the document an info.title")
	}
	s.ctlMu.Lock()
	defer s.ctlMu.Unlock()
	api.ID = s.newAPIID()
	d := docOfAPI(api, s.now().Unix(), types)
	if _, err := buildAPI(d, d.Resources); err != nil {
		return 0, nil, s.internalError("rebuild the imported API", err)
	}
	if err := s.publish(d, nil, nil); err != nil {
		return 0, nil, s.internalError("save the new API", err)
	}
	out := restAPIOfDoc(d)
	out.Warnings = api.Warnings
	return http.StatusCreated, out, nil
}

// importDocument imports the body of an ImportRestApi or PutRestApi call.
func importDocument(c *ctlReq) (*gateway.API, *controlError) {
	body, cerr := readBody(c)
	if cerr != nil {
		return nil, cerr
	}
	api, err := gateway.ImportOpenAPI(body)
	if err != nil {
		return nil, badRequest("Errors found during import:\n\t" + strings.ReplaceAll(err.Error(), "\n", "\n\t"))
	}
	if c.q.Get("failonwarnings") == "true" && len(api.Warnings) > 0 {
		return nil, badRequest("Warnings found during import:\n\t" + strings.Join(api.Warnings, "\n\t"))
	}
	return api, nil
}

// putRestAPI is PutRestApi: the document replaces the API's resources and settings
// (mode=overwrite), or is added to them, its methods replacing those of the same path and
// verb (mode=merge, the default). The API keeps its id, root resource, name, deployments
// and stages; what the stages serve changes at the next deployment.
func (s *Server) putRestAPI(c *ctlReq) (int, any, *controlError) {
	mode := cmp.Or(c.q.Get("mode"), "merge")
	if mode != "merge" && mode != "overwrite" {
		return 0, nil, badRequest(fmt.Sprintf("Invalid mode specified: %s; valid values are merge and overwrite", mode))
	}
	if cerr := s.writable(c.p["api"]); cerr != nil {
		return 0, nil, cerr
	}
	api, cerr := importDocument(c)
	if cerr != nil {
		return 0, nil, cerr
	}
	cerr = s.edit(c.p["api"], func(d *apiDoc) (map[string]*gateway.DeploymentPlan, []string, *controlError) {
		api.ID = d.ID
		imp := docOfAPI(api, d.Created, d.EndpointTypes)
		if mode == "overwrite" {
			d.Resources = map[string]*resourceDoc{d.RootID: {}}
			d.apiSettings = imp.apiSettings
		} else {
			d.BinaryMediaTypes = append(d.BinaryMediaTypes, slices.DeleteFunc(imp.BinaryMediaTypes, func(t string) bool { return slices.Contains(d.BinaryMediaTypes, t) })...)
			d.Models = mergeMaps(d.Models, imp.Models)
			d.RequestValidators = mergeMaps(d.RequestValidators, imp.RequestValidators)
			d.GatewayResponses = mergeMaps(d.GatewayResponses, imp.GatewayResponses)
			if imp.DefaultValidator != "" {
				d.DefaultValidator = imp.DefaultValidator
			}
		}
		byPath := map[string]string{}
		for id := range d.Resources {
			byPath[pathOf(d.Resources, id)] = id
		}
		// Parents before children: a path sorts after its parent's.
		ids := sortedKeys(imp.Resources)
		sort.SliceStable(ids, func(i, j int) bool {
			return strings.Count(pathOf(imp.Resources, ids[i]), "/") < strings.Count(pathOf(imp.Resources, ids[j]), "/")
		})
		for _, rid := range ids {
			r, path := imp.Resources[rid], pathOf(imp.Resources, rid)
			target, ok := byPath[path]
			if !ok {
				parent := byPath[pathOf(imp.Resources, r.ParentID)]
				target = gateway.NewResourceID()
				for d.Resources[target] != nil {
					target = gateway.NewResourceID()
				}
				d.Resources[target] = &resourceDoc{ParentID: parent, PathPart: r.PathPart}
				byPath[path] = target
			}
			for verb, m := range r.Methods {
				if d.Resources[target].Methods == nil {
					d.Resources[target].Methods = map[string]*gateway.Method{}
				}
				d.Resources[target].Methods[verb] = m
			}
		}
		if _, err := buildAPI(d, d.Resources); err != nil {
			return nil, nil, badRequest("The merged API is not valid: " + err.Error())
		}
		return nil, nil, nil
	})
	if cerr != nil {
		return 0, nil, cerr
	}
	_, out, cerr := s.getRestAPI(c)
	if cerr != nil {
		return 0, nil, cerr
	}
	o := out.(restAPIOut)
	o.Warnings = api.Warnings
	return http.StatusOK, o, nil
}

func mergeMaps[V any](dst, src map[string]V) map[string]V {
	if len(src) == 0 {
		return dst
	}
	if dst == nil {
		dst = map[string]V{}
	}
	maps.Copy(dst, src)
	return dst
}

// docOfAPI is the control plane's document of an imported API. Integration responses are
// keyed by status code, as PutIntegrationResponse keys them; of two selection patterns
// mapping to one status code, the later in pattern order stays.
func docOfAPI(api *gateway.API, created int64, types []string) *apiDoc {
	d := &apiDoc{
		V: apiDocVersion, ID: api.ID, Name: api.Name, Description: api.Description, Version: api.Version, Created: created,
		apiSettings: apiSettings{
			APIKeySource: cmp.Or(api.APIKeySource, gateway.APIKeySourceHeader), BinaryMediaTypes: api.BinaryMediaTypes,
			Models: api.Models, RequestValidators: api.RequestValidators, DefaultValidator: api.DefaultValidator,
			GatewayResponses: api.GatewayResponses, Authorizers: api.Authorizers,
		},
		EndpointTypes: types, RootID: api.Root().ID, Resources: map[string]*resourceDoc{},
	}
	for _, r := range api.Resources() {
		rd := &resourceDoc{ParentID: r.ParentID, PathPart: r.PathPart}
		for verb, m := range r.Methods {
			mc := *m
			if m.Integration != nil && len(m.Integration.Responses) > 0 {
				in := *m.Integration
				in.Responses = map[string]gateway.IntegrationResponse{}
				for _, pattern := range sortedKeys(m.Integration.Responses) {
					ir := m.Integration.Responses[pattern]
					if pattern != "default" && ir.SelectionPattern == "" {
						ir.SelectionPattern = pattern
					}
					in.Responses[ir.StatusCode] = ir
				}
				mc.Integration = &in
			}
			if rd.Methods == nil {
				rd.Methods = map[string]*gateway.Method{}
			}
			rd.Methods[verb] = &mc
		}
		d.Resources[r.ID] = rd
	}
	// Detach the document from the importer's maps.
	return d.clone()
}
