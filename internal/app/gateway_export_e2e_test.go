package app_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// describeAPI reads an API through the control plane, field by field, in a form two APIs
// can be compared in: resources by path with their methods, integrations and responses (ids
// dropped, a method's request validator by name), models, validators by name, gateway
// responses, and the API's own settings.
func describeAPI(t *testing.T, s *server, id string) map[string]any {
	t.Helper()
	get := func(path string) map[string]any {
		t.Helper()
		r := s.do(t, "GET", s.a.Endpoint()+"/restapis/"+id+path, "")
		if r.status != 200 {
			t.Fatalf("GET /restapis/%s%s: %d %s", id, path, r.status, r.body)
		}
		var out map[string]any
		if err := json.Unmarshal([]byte(r.body), &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	validators := map[string]any{}
	validatorName := map[string]string{}
	for _, v := range get("/requestvalidators?limit=500")["item"].([]any) {
		v := v.(map[string]any)
		validatorName[v["id"].(string)] = v["name"].(string)
		delete(v, "id")
		validators[v["name"].(string)] = v
	}
	var strip func(v any) any
	strip = func(v any) any {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				switch k {
				case "id", "parentId", "cacheNamespace": // the resource's id unless set
					delete(v, k)
				case "requestValidatorId":
					v[k] = validatorName[e.(string)]
				default:
					v[k] = strip(e)
				}
			}
		case []any:
			for i, e := range v {
				v[i] = strip(e)
			}
		}
		return v
	}
	resources := map[string]any{}
	for _, r := range get("/resources?embed=methods&limit=500")["item"].([]any) {
		resources[r.(map[string]any)["path"].(string)] = strip(r)
	}
	models := map[string]any{}
	for _, m := range get("/models?limit=500")["item"].([]any) {
		m := m.(map[string]any)
		delete(m, "id")
		models[m["name"].(string)] = m
	}
	api := get("")
	for _, k := range []string{"id", "name", "createdDate", "rootResourceId", "warnings", "endpointConfiguration"} {
		delete(api, k)
	}
	return map[string]any{
		"api": api, "resources": resources, "models": models, "validators": validators,
		"gatewayResponses": get("/gatewayresponses?limit=500")["item"],
	}
}

// withAccept sets the Accept header of one SDK call, which GetExport's input carries.
func withAccept(accept string) func(*apigateway.Options) {
	return func(o *apigateway.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Build.Add(middleware.BuildMiddlewareFunc("accept", func(ctx context.Context, in middleware.BuildInput, next middleware.BuildHandler) (middleware.BuildOutput, middleware.Metadata, error) {
				if req, ok := in.Request.(*smithyhttp.Request); ok {
					req.Header.Set("Accept", accept)
				}
				return next.HandleBuild(ctx, in)
			}), middleware.After)
		})
	}
}

// TestGatewayExportRoundTrip exports the config's API (every feature the importer reads)
// with GetExport as oas30 and swagger, JSON and YAML, with and without API Gateway's
// extensions, imports each export with ImportRestApi, and compares the new API with the
// original field by field: with extensions=apigateway they are the same API; with
// integrations only they differ in nothing but validators, gateway responses, binary media
// types; without extensions the methods have no integrations.
func TestGatewayExportRoundTrip(t *testing.T) {
	s := startE2E(t)
	ag := apigatewayClient(s)
	ctx := context.Background()
	want := describeAPI(t, s, e2eAPI)
	if len(want["resources"].(map[string]any)) < 10 || len(want["models"].(map[string]any)) == 0 || len(want["validators"].(map[string]any)) == 0 {
		t.Fatalf("the config's API is not rich enough to test with: %v", want)
	}
	plain, err := ag.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("plain")})
	if err != nil {
		t.Fatal(err)
	}
	defaults := describeAPI(t, s, aws.ToString(plain.Id))["gatewayResponses"]
	for _, tc := range []struct {
		typ, accept, extensions string
	}{
		{"oas30", "application/json", "apigateway"},
		{"oas30", "application/yaml", "apigateway"},
		{"swagger", "application/json", "apigateway"},
		{"swagger", "application/yaml", "integrations,validators"},
		{"oas30", "", "integrations"},
		{"swagger", "", ""},
	} {
		name := tc.typ + " " + tc.accept + " extensions=" + tc.extensions
		in := &apigateway.GetExportInput{RestApiId: aws.String(e2eAPI), StageName: aws.String("prod"), ExportType: aws.String(tc.typ)}
		if tc.extensions != "" {
			in.Parameters = map[string]string{"extensions": tc.extensions}
		}
		var opts []func(*apigateway.Options)
		if tc.accept != "" {
			opts = append(opts, withAccept(tc.accept))
		}
		out, err := ag.GetExport(ctx, in, opts...)
		if err != nil {
			t.Fatalf("%s: GetExport: %v", name, err)
		}
		wantCT := "application/json"
		if tc.accept == "application/yaml" {
			wantCT = "application/yaml"
		}
		if aws.ToString(out.ContentType) != wantCT || !strings.Contains(aws.ToString(out.ContentDisposition), "attachment") {
			t.Errorf("%s: Content-Type %q, Content-Disposition %q", name, aws.ToString(out.ContentType), aws.ToString(out.ContentDisposition))
		}
		if tc.accept == "application/yaml" && json.Valid(out.Body) {
			t.Errorf("%s: the body is JSON, not YAML", name)
		}
		imported, err := ag.ImportRestApi(ctx, &apigateway.ImportRestApiInput{Body: out.Body, FailOnWarnings: true})
		if err != nil {
			t.Fatalf("%s: ImportRestApi of the export: %v\n%s", name, err, out.Body)
		}
		got := describeAPI(t, s, aws.ToString(imported.Id))
		expect := expectedAfterExport(t, want, defaults, tc.extensions)
		for _, part := range []string{"api", "resources", "models", "validators", "gatewayResponses"} {
			if !reflect.DeepEqual(got[part], expect[part]) {
				g, _ := json.MarshalIndent(got[part], "", " ")
				w, _ := json.MarshalIndent(expect[part], "", " ")
				t.Errorf("%s: %s differ after the round trip:\ngot  %s\nwant %s", name, part, g, w)
			}
		}
	}
}

// TestGatewayExportErrors: GetExport's refusals.
func TestGatewayExportErrors(t *testing.T) {
	s := startE2E(t)
	ag := apigatewayClient(s)
	ctx := context.Background()
	for _, tc := range []struct {
		api, stage, typ, ext string
		code, msg            string
	}{
		{e2eAPI, "prod", "raml", "", "BadRequestException", "Invalid export type specified"},
		{e2eAPI, "prod", "oas30", "integrations,nope", "BadRequestException", "Invalid extension specified"},
		{e2eAPI, "nope", "oas30", "", "NotFoundException", "Invalid stage identifier specified"},
		{"nosuchapi0", "prod", "oas30", "", "NotFoundException", "Invalid API identifier specified"},
	} {
		in := &apigateway.GetExportInput{RestApiId: aws.String(tc.api), StageName: aws.String(tc.stage), ExportType: aws.String(tc.typ)}
		if tc.ext != "" {
			in.Parameters = map[string]string{"extensions": tc.ext}
		}
		_, err := ag.GetExport(ctx, in)
		wantAPIError(t, "GetExport "+tc.api+" "+tc.stage+" "+tc.typ+" "+tc.ext, err, tc.code, tc.msg)
	}
}

// expectedAfterExport is what an API imported from an export with the given extensions
// holds of the original described by want.
// defaults are the gateway responses of an API that customises none.
func expectedAfterExport(t *testing.T, want map[string]any, defaults any, extensions string) map[string]any {
	t.Helper()
	var out map[string]any
	b, _ := json.Marshal(want)
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(extensions, "apigateway") {
		return out
	}
	api := out["api"].(map[string]any)
	delete(api, "binaryMediaTypes")
	api["apiKeySource"] = "HEADER"
	out["gatewayResponses"] = defaults
	validators := strings.Contains(extensions, "validators")
	integrations := strings.Contains(extensions, "integrations")
	if !validators {
		out["validators"] = map[string]any{}
	}
	for _, r := range out["resources"].(map[string]any) {
		methods, _ := r.(map[string]any)["resourceMethods"].(map[string]any)
		for _, m := range methods {
			m := m.(map[string]any)
			if !validators {
				delete(m, "requestValidatorId")
			}
			if !integrations {
				delete(m, "methodIntegration")
			}
		}
	}
	return out
}
