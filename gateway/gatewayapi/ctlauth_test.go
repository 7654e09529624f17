package gatewayapi

import (
	"net/http"
	"strings"
	"testing"
)

const authzURI = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/f/invocations"

func TestCreateAuthorizerBadInputs(t *testing.T) {
	s := NewServer(Options{})
	if err := s.OpenControlPlane(newMemStore()); err != nil {
		t.Fatal(err)
	}
	ids := buildAPIForTest(t, s)
	path := "/restapis/" + ids.api + "/authorizers"
	for _, tt := range []struct{ body, want string }{
		{`{`, "Invalid request input"},
		{`{"type": "TOKEN", "authorizerUri": "` + authzURI + `"}`, "Authorizer name must be specified"},
		{`{"name": "a"}`, "Invalid authorizer type specified"},
		{`{"name": "a", "type": "token", "authorizerUri": "` + authzURI + `"}`, "Invalid authorizer type specified"},
		{`{"name": "a", "type": "TOKEN"}`, "Authorizer URI must be specified"},
		{`{"name": "a", "type": "COGNITO_USER_POOLS"}`, "Provider ARNs must be specified"},
		{`{"name": "a", "type": "TOKEN", "authorizerUri": "arn:aws:apigateway:us-east-1:lambda:path/f"}`, "does not name a Lambda function"},
		{`{"name": "a", "type": "TOKEN", "authorizerUri": "` + authzURI + `"}`, "a TOKEN authorizer reads one header"},
		{`{"name": "a", "type": "REQUEST", "authorizerUri": "` + authzURI + `", "identitySource": "method.request.body"}`, "an identity source is"},
		{`{"name": "a", "type": "TOKEN", "authorizerUri": "` + authzURI + `", "identitySource": "method.request.header.A", "authorizerResultTtlInSeconds": -1}`, "outside 0 to 3600"},
		{`{"name": "a", "type": "TOKEN", "authorizerUri": "` + authzURI + `", "identitySource": "method.request.header.A", "identityValidationExpression": "[" }`, "identityValidationExpression"},
	} {
		code, m := ctl(t, s, "POST", path, tt.body)
		if code != http.StatusBadRequest || !strings.Contains(m["message"].(string), tt.want) {
			t.Errorf("%s: %d %v, want 400 %q", tt.body, code, m, tt.want)
		}
	}
	ok := `{"name": "a", "type": "TOKEN", "authorizerUri": "` + authzURI + `", "identitySource": "method.request.header.A"}`
	if code, m := ctl(t, s, "POST", path, ok); code != http.StatusCreated || m["authorizerResultTtlInSeconds"] != float64(300) || m["authType"] != "custom" {
		t.Fatalf("CreateAuthorizer: %d %v", code, m)
	}
	if code, m := ctl(t, s, "POST", path, ok); code != http.StatusConflict {
		t.Errorf("the same name again: %d %v", code, m)
	}
	// A method cannot use a Cognito authorizer as CUSTOM, nor a Lambda one as COGNITO_USER_POOLS.
	_, m := ctl(t, s, "GET", path, "")
	id := m["item"].([]any)[0].(map[string]any)["id"].(string)
	method := "/restapis/" + ids.api + "/resources/" + ids.res + "/methods/PATCH"
	if code, m := ctl(t, s, "PUT", method, `{"authorizationType": "COGNITO_USER_POOLS", "authorizerId": "`+id+`"}`); code != http.StatusBadRequest {
		t.Errorf("COGNITO_USER_POOLS with a TOKEN authorizer: %d %v", code, m)
	}
	if code, m := ctl(t, s, "PUT", method, `{"authorizationType": "CUSTOM", "authorizerId": "`+id+`"}`); code != http.StatusCreated || m["authorizerId"] != id {
		t.Errorf("CUSTOM: %d %v", code, m)
	}
}
