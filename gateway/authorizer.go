package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Authorizer types (Authorizer.type in the API Gateway model).
const (
	AuthorizerToken   = "TOKEN"
	AuthorizerRequest = "REQUEST"
	AuthorizerCognito = "COGNITO_USER_POOLS"
)

// DefaultAuthorizerTTL is authorizerResultTtlInSeconds when a document gives none.
const DefaultAuthorizerTTL = 300

// Authorizer is a Lambda authorizer (TOKEN or REQUEST) or a Cognito user pool authorizer
// (API Gateway's Authorizer). Methods name it by Name in Method.Authorizer.
type Authorizer struct {
	Name string
	Type string // AuthorizerToken, AuthorizerRequest or AuthorizerCognito
	// URI is the function's authorizerUri, an AWS_PROXY-style Lambda URI.
	URI         string
	Credentials string `json:",omitempty"`
	// IdentitySource lists, comma-separated, the request values the authorizer needs:
	// "method.request.header.Authorization", "method.request.querystring.token",
	// "stageVariables.x", "context.x". A request without one of them is refused 401
	// without calling the function, and the values are the key of the policy cache.
	IdentitySource string
	// IdentityValidationExpression, for TOKEN authorizers, is a regular expression the
	// whole token must match, else 401 without calling the function.
	IdentityValidationExpression string `json:",omitempty"`
	// ResultTTLInSeconds keeps a policy this long (0 to 3600; 0 disables the cache); nil
	// means DefaultAuthorizerTTL.
	ResultTTLInSeconds *int     `json:",omitempty"`
	ProviderARNs       []string `json:",omitempty"`
}

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

// compiledAuthorizer is an authorizer ready for requests, with its policy cache. A
// deployment compiles its own, so a redeploy starts with an empty cache as on AWS.
type compiledAuthorizer struct {
	a        *Authorizer
	function string
	sources  []paramSource
	validate *regexp.Regexp
	ttl      time.Duration
	cognito  bool

	mu    sync.Mutex
	cache map[string]cachedPolicy
}

type cachedPolicy struct {
	out     *authorizerOutput
	expires time.Time
}

// maxCachedPolicies bounds each authorizer's cache; when it is full, expired entries go,
// and if none has expired the whole cache does.
const maxCachedPolicies = 10000

func compileAuthorizer(a *Authorizer) (*compiledAuthorizer, error) {
	ca := &compiledAuthorizer{a: a, ttl: DefaultAuthorizerTTL * time.Second, cache: map[string]cachedPolicy{}}
	if a.ResultTTLInSeconds != nil {
		n := *a.ResultTTLInSeconds
		if n < 0 || n > 3600 {
			return nil, fmt.Errorf("authorizerResultTtlInSeconds %d is outside 0 to 3600", n)
		}
		ca.ttl = time.Duration(n) * time.Second
	}
	switch a.Type {
	case AuthorizerCognito:
		ca.cognito = true
		return ca, nil
	case AuthorizerToken, AuthorizerRequest:
	default:
		return nil, fmt.Errorf("unknown authorizer type %q; API Gateway's are TOKEN, REQUEST and COGNITO_USER_POOLS", a.Type)
	}
	if a.URI == "" {
		return nil, errors.New("authorizerUri is required: the Lambda function's arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function ARN}/invocations")
	}
	fn, err := lambdaFunction(a.URI)
	if err != nil {
		return nil, fmt.Errorf("authorizerUri: %v", err)
	}
	ca.function = fn
	for part := range strings.SplitSeq(a.IdentitySource, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		ps, err := compileSource(part, true)
		if err != nil || ps.kind == srcStatic || ps.kind == srcRequestBody || (ps.kind == srcRequest && ps.loc == "path") {
			return nil, fmt.Errorf("identitySource %q: an identity source is method.request.header.NAME, method.request.querystring.NAME, method.request.multivalueheader.NAME, method.request.multivaluequerystring.NAME, stageVariables.NAME or context.NAME", part)
		}
		ca.sources = append(ca.sources, ps)
	}
	if a.Type == AuthorizerToken {
		if len(ca.sources) != 1 || ca.sources[0].kind != srcRequest || ca.sources[0].loc != "header" {
			return nil, fmt.Errorf("identitySource %q: a TOKEN authorizer reads one header, method.request.header.NAME", a.IdentitySource)
		}
		if a.IdentityValidationExpression != "" {
			re, err := compileSelectionPattern(a.IdentityValidationExpression)
			if err != nil {
				return nil, fmt.Errorf("identityValidationExpression: %v", err)
			}
			ca.validate = re
		}
	}
	if len(ca.sources) == 0 && ca.ttl > 0 {
		// API Gateway requires an identity source to cache by; without one the policy is
		// asked for on every request.
		ca.ttl = 0
	}
	return ca, nil
}

// authorize runs the method's authorizer; ok false means a gateway response has been sent.
func (q *call) authorize() bool {
	out, latency, refusal := q.askAuthorizer(q.p.auth, true)
	if refusal != nil {
		q.fail(refusal.e, refusal.reason)
		return false
	}
	auth := make(map[string]any, len(out.context)+2)
	for k, v := range out.context {
		auth[k] = v
	}
	auth["principalId"] = out.principalID
	auth["integrationLatency"] = latency.Milliseconds()
	q.authorizer, q.usageKey = auth, out.usageIdentifierKey
	return true
}

// refusal is why an authorizer did not let a request through, and the gateway response.
type refusal struct {
	e      gwError
	reason string
}

// askAuthorizer gets ca's policy for the request, from its cache or its function, and (when
// decide is set) evaluates it for the method being called.
func (q *call) askAuthorizer(ca *compiledAuthorizer, decide bool) (*authorizerOutput, time.Duration, *refusal) {
	if ca.cognito {
		return nil, 0, &refusal{errInternal, fmt.Sprintf("the Cognito user pool authorizer %q is not available locally: localpipe runs Lambda authorizers only", ca.a.Name)}
	}
	values := make([]string, 0, len(ca.sources))
	for _, src := range ca.sources {
		vals, ok := q.requestSource(src)
		if !ok || len(vals) == 0 || vals[len(vals)-1] == "" {
			return nil, 0, &refusal{errUnauthorized, fmt.Sprintf("the authorizer %q's identity source is missing from the request", ca.a.Name)}
		}
		values = append(values, strings.Join(vals, ","))
	}
	if ca.validate != nil && !ca.validate.MatchString(values[0]) {
		return nil, 0, &refusal{errUnauthorized, fmt.Sprintf("the token does not match the authorizer %q's identityValidationExpression", ca.a.Name)}
	}
	key := strings.Join(values, "\x00")
	out, latency, ok := ca.cached(key, q.s.now())
	if !ok {
		var payload []byte
		if ca.a.Type == AuthorizerToken {
			payload = marshalEvent(tokenEvent{Type: AuthorizerToken, MethodArn: q.methodArn(), AuthorizationToken: values[0]})
		} else {
			payload = marshalEvent(requestAuthEvent{Type: AuthorizerRequest, MethodArn: q.methodArn(), proxyRequest: q.proxyRequestFields()})
		}
		res, took, f := q.callFunction(ca.function, payload, MaxTimeoutMillis)
		latency = took
		switch {
		case f != nil:
			return nil, latency, &refusal{errAuthorizerConfig, "authorizer " + ca.a.Name + ": " + f.reason}
		case res.FunctionError != "":
			msg := functionErrorMessage(res.Payload)
			if msg == "Unauthorized" {
				return nil, latency, &refusal{errUnauthorized, "the authorizer " + ca.a.Name + " answered Unauthorized"}
			}
			return nil, latency, &refusal{errAuthorizerConfig, "authorizer " + ca.a.Name + ": Execution failed due to configuration error: Authorizer error: " + msg}
		}
		var err error
		if out, err = parseAuthorizerOutput(res.Payload); err != nil {
			return nil, latency, &refusal{errAuthorizerConfig, "authorizer " + ca.a.Name + ": Execution failed due to configuration error: Could not parse policy: " + err.Error()}
		}
		ca.store(key, out, q.s.now())
	}
	if !decide {
		return out, latency, nil
	}
	switch out.decide(q.methodArn()) {
	case policyDeny:
		return out, latency, &refusal{errExplicitDeny, fmt.Sprintf("the authorizer %s's policy for principal %q denies %s explicitly", ca.a.Name, out.principalID, q.methodArn())}
	case policyNoMatch:
		return out, latency, &refusal{errNotAllowed, fmt.Sprintf("the authorizer %s's policy for principal %q does not allow %s", ca.a.Name, out.principalID, q.methodArn())}
	}
	return out, latency, nil
}

// apiKeyValue is the API key the request presents: the x-api-key header's, or with the API
// key source AUTHORIZER the usageIdentifierKey of the method's Lambda authorizer.
func (q *call) apiKeyValue() string {
	if q.d.api.APIKeySource == APIKeySourceAuthorizer {
		return q.usageKey
	}
	return q.r.Header.Get("X-Api-Key")
}

// cached returns an unexpired policy for key.
func (ca *compiledAuthorizer) cached(key string, now time.Time) (*authorizerOutput, time.Duration, bool) {
	if ca.ttl <= 0 {
		return nil, 0, false
	}
	ca.mu.Lock()
	defer ca.mu.Unlock()
	c, ok := ca.cache[key]
	if !ok || !now.Before(c.expires) {
		return nil, 0, false
	}
	return c.out, 0, true
}

func (ca *compiledAuthorizer) store(key string, out *authorizerOutput, now time.Time) {
	if ca.ttl <= 0 {
		return
	}
	ca.mu.Lock()
	defer ca.mu.Unlock()
	if len(ca.cache) >= maxCachedPolicies {
		for k, c := range ca.cache {
			if !now.Before(c.expires) {
				delete(ca.cache, k)
			}
		}
		if len(ca.cache) >= maxCachedPolicies {
			clear(ca.cache)
		}
	}
	ca.cache[key] = cachedPolicy{out: out, expires: now.Add(ca.ttl)}
}

// methodArn is the ARN of the method being called, as an authorizer's policy names it:
// arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{VERB}/{path}.
func (q *call) methodArn() string {
	return "arn:aws:execute-api:" + q.s.opts.Region + ":" + q.s.opts.AccountID + ":" + q.d.api.ID + "/" +
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

// authorizerOutput is a Lambda authorizer's answer, checked.
type authorizerOutput struct {
	principalID        string
	statements         []policyStatement
	context            map[string]string // values as text, as API Gateway passes them on
	usageIdentifierKey string
	policy             json.RawMessage // the policyDocument as the function wrote it
}

type policyStatement struct {
	allow     bool
	actions   []string
	resources []string
}

type policyDecision int

const (
	policyNoMatch policyDecision = iota
	policyAllow
	policyDeny
)

// decide evaluates the policy for the execute-api:Invoke action on arn as IAM does: an
// explicit Deny wins, else an Allow allows, else the request is not allowed.
func (o *authorizerOutput) decide(arn string) policyDecision {
	d := policyNoMatch
	for _, st := range o.statements {
		if !st.matches(arn) {
			continue
		}
		if !st.allow {
			return policyDeny
		}
		d = policyAllow
	}
	return d
}

func (st policyStatement) matches(arn string) bool {
	action := false
	for _, a := range st.actions {
		if wildcardMatch(strings.ToLower(a), "execute-api:invoke") {
			action = true
			break
		}
	}
	if !action {
		return false
	}
	for _, r := range st.resources {
		if wildcardMatch(r, arn) {
			return true
		}
	}
	return false
}

// wildcardMatch matches s against an IAM pattern: '*' is any run of characters, '?' any one.
func wildcardMatch(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// parseAuthorizerOutput checks a Lambda authorizer's answer: an object with principalId (a
// string), policyDocument {Version, Statement: one statement or a list, each with Effect
// Allow or Deny, Action and Resource as a string or a list of strings}, and optionally
// context (string, number or boolean values) and usageIdentifierKey.
func parseAuthorizerOutput(payload []byte) (*authorizerOutput, error) {
	p := bytes.TrimSpace(payload)
	if len(p) == 0 || p[0] != '{' {
		return nil, errors.New("the answer is not a JSON object")
	}
	var doc struct {
		PrincipalID        any                        `json:"principalId"`
		PolicyDocument     map[string]json.RawMessage `json:"policyDocument"`
		Context            map[string]any             `json:"context"`
		UsageIdentifierKey *string                    `json:"usageIdentifierKey"`
	}
	dec := json.NewDecoder(bytes.NewReader(p))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("the answer does not have the authorizer output's shape: %v", err)
	}
	out := &authorizerOutput{}
	switch v := doc.PrincipalID.(type) {
	case string:
		out.principalID = v
	case json.Number:
		out.principalID = v.String()
	case nil:
		return nil, errors.New("principalId is missing")
	default:
		return nil, errors.New("principalId must be a string")
	}
	if doc.PolicyDocument == nil {
		return nil, errors.New("policyDocument is missing")
	}
	out.policy, _ = json.Marshal(doc.PolicyDocument)
	raw, ok := doc.PolicyDocument["Statement"]
	if !ok {
		return nil, errors.New("policyDocument.Statement is missing")
	}
	var stmts []map[string]json.RawMessage
	if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
		var one map[string]json.RawMessage
		if err := json.Unmarshal(raw, &one); err != nil {
			return nil, fmt.Errorf("policyDocument.Statement: %v", err)
		}
		stmts = append(stmts, one)
	} else if err := json.Unmarshal(raw, &stmts); err != nil {
		return nil, errors.New("policyDocument.Statement must be a statement or a list of statements")
	}
	for i, s := range stmts {
		var st policyStatement
		var effect string
		if err := json.Unmarshal(s["Effect"], &effect); err != nil || (effect != "Allow" && effect != "Deny") {
			return nil, fmt.Errorf("policyDocument.Statement[%d].Effect must be Allow or Deny", i)
		}
		st.allow = effect == "Allow"
		var err error
		if st.actions, err = stringOrList(s["Action"]); err != nil {
			return nil, fmt.Errorf("policyDocument.Statement[%d].Action %v", i, err)
		}
		if st.resources, err = stringOrList(s["Resource"]); err != nil {
			return nil, fmt.Errorf("policyDocument.Statement[%d].Resource %v", i, err)
		}
		out.statements = append(out.statements, st)
	}
	if len(doc.Context) > 0 {
		out.context = make(map[string]string, len(doc.Context))
		for k, v := range doc.Context {
			switch v := v.(type) {
			case string:
				out.context[k] = v
			case json.Number:
				out.context[k] = v.String()
			case bool:
				out.context[k] = strconv.FormatBool(v)
			case nil:
			default:
				return nil, fmt.Errorf("context %q: a context value must be a string, a number or a boolean, not an object or a list", k)
			}
		}
	}
	if doc.UsageIdentifierKey != nil {
		out.usageIdentifierKey = *doc.UsageIdentifierKey
	}
	return out, nil
}

func stringOrList(raw json.RawMessage) ([]string, error) {
	if raw == nil {
		return nil, errors.New("is missing")
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil || len(list) == 0 {
		return nil, errors.New("must be a string or a list of strings")
	}
	return list, nil
}
