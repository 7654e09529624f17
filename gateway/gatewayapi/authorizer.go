package gatewayapi

import (
	"fmt"
	"strings"
	"time"

	"github.com/localpipe/localpipe/gateway"
)

// The gateway responses of authorization (AWS's default status codes, messages and error
// types). An authorizer that fails or answers something unusable is a 500 whose message is
// null, API Gateway's AuthorizerConfigurationException.
var (
	errUnauthorized = gwError{typ: "UNAUTHORIZED", status: 401, message: "Unauthorized", errorType: "UnauthorizedException"}
	errExplicitDeny = gwError{typ: "ACCESS_DENIED", status: 403,
		message: "User is not authorized to access this resource with an explicit deny", errorType: "AccessDeniedException"}
	errNotAllowed = gwError{typ: "ACCESS_DENIED", status: 403,
		message: "User is not authorized to access this resource", errorType: "AccessDeniedException"}
	errAuthorizerConfig = gwError{typ: "AUTHORIZER_CONFIGURATION_ERROR", status: 500, nullMessage: true,
		errorType: "AuthorizerConfigurationException"}
)

// authorize runs the method's authorizer; ok false means a gateway response has been sent.
func (q *call) authorize() bool {
	out, latency, refusal := q.askAuthorizer(q.p.Auth, true)
	if refusal != nil {
		q.fail(refusal.e, refusal.reason)
		return false
	}
	auth := make(map[string]any, len(out.Context)+2)
	for k, v := range out.Context {
		auth[k] = v
	}
	auth["principalId"] = out.PrincipalID
	auth["integrationLatency"] = latency.Milliseconds()
	q.authorizer, q.usageKey = auth, out.UsageIdentifierKey
	return true
}

// refusal is why an authorizer did not let a request through, and the gateway response.
type refusal struct {
	e      gwError
	reason string
}

// askAuthorizer gets ca's policy for the request, from its cache or its function, and (when
// decide is set) evaluates it for the method being called.
func (q *call) askAuthorizer(ca *gateway.CompiledAuthorizer, decide bool) (*gateway.AuthorizerOutput, time.Duration, *refusal) {
	if ca.Cognito {
		return nil, 0, &refusal{errInternal, fmt.Sprintf("the Cognito user pool authorizer %q is not available locally: localpipe runs Lambda authorizers only", ca.Authorizer.Name)}
	}
	values := make([]string, 0, len(ca.Sources))
	for _, src := range ca.Sources {
		vals, ok := q.requestSource(src)
		if !ok || len(vals) == 0 || vals[len(vals)-1] == "" {
			return nil, 0, &refusal{errUnauthorized, fmt.Sprintf("the authorizer %q's identity source is missing from the request", ca.Authorizer.Name)}
		}
		values = append(values, strings.Join(vals, ","))
	}
	if ca.Validate != nil && !ca.Validate.MatchString(values[0]) {
		return nil, 0, &refusal{errUnauthorized, fmt.Sprintf("the token does not match the authorizer %q's identityValidationExpression", ca.Authorizer.Name)}
	}
	key := strings.Join(values, "\x00")
	out, latency, ok := ca.Cached(key, q.s.now())
	if !ok {
		var payload []byte
		if ca.Authorizer.Type == gateway.AuthorizerToken {
			payload = marshalEvent(tokenEvent{Type: gateway.AuthorizerToken, MethodArn: q.methodArn(), AuthorizationToken: values[0]})
		} else {
			payload = marshalEvent(requestAuthEvent{Type: gateway.AuthorizerRequest, MethodArn: q.methodArn(), proxyRequest: q.proxyRequestFields()})
		}
		res, took, f := q.callFunction(ca.Function, payload, gateway.MaxTimeoutMillis)
		latency = took
		switch {
		case f != nil:
			return nil, latency, &refusal{errAuthorizerConfig, "authorizer " + ca.Authorizer.Name + ": " + f.reason}
		case res.FunctionError != "":
			msg := functionErrorMessage(res.Payload)
			if msg == "Unauthorized" {
				return nil, latency, &refusal{errUnauthorized, "the authorizer " + ca.Authorizer.Name + " answered Unauthorized"}
			}
			return nil, latency, &refusal{errAuthorizerConfig, "authorizer " + ca.Authorizer.Name + ": Execution failed due to configuration error: Authorizer error: " + msg}
		}
		var err error
		if out, err = gateway.ParseAuthorizerOutput(res.Payload); err != nil {
			return nil, latency, &refusal{errAuthorizerConfig, "authorizer " + ca.Authorizer.Name + ": Execution failed due to configuration error: Could not parse policy: " + err.Error()}
		}
		ca.Store(key, out, q.s.now())
	}
	if !decide {
		return out, latency, nil
	}
	switch out.Decide(q.methodArn()) {
	case gateway.PolicyDeny:
		return out, latency, &refusal{errExplicitDeny, fmt.Sprintf("the authorizer %s's policy for principal %q denies %s explicitly", ca.Authorizer.Name, out.PrincipalID, q.methodArn())}
	case gateway.PolicyNoMatch:
		return out, latency, &refusal{errNotAllowed, fmt.Sprintf("the authorizer %s's policy for principal %q does not allow %s", ca.Authorizer.Name, out.PrincipalID, q.methodArn())}
	}
	return out, latency, nil
}

// apiKeyValue is the API key the request presents: the x-api-key header's, or with the API
// key source AUTHORIZER the usageIdentifierKey of the method's Lambda authorizer.
func (q *call) apiKeyValue() string {
	if q.d.API.APIKeySource == gateway.APIKeySourceAuthorizer {
		return q.usageKey
	}
	return q.r.Header.Get("X-Api-Key")
}

// methodArn is the ARN of the method being called, as an authorizer's policy names it:
// arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{VERB}/{path}.
func (q *call) methodArn() string {
	return "arn:aws:execute-api:" + q.s.opts.Region + ":" + q.s.opts.AccountID + ":" + q.d.API.ID + "/" +
		q.stageName + "/" + q.r.Method + q.path
}

type tokenEvent struct {
	Type               string `json:"type"`
	MethodArn          string `json:"methodArn"`
	AuthorizationToken string `json:"authorizationToken"`
}

type requestAuthEvent struct {
	Type      string `json:"type"`
	MethodArn string `json:"methodArn"`
	proxyRequest
}
