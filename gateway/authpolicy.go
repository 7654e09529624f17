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

// CompiledAuthorizer is an authorizer ready for requests, with its policy cache. A
// deployment compiles its own, so a redeploy starts with an empty cache as on AWS.
type CompiledAuthorizer struct {
	Authorizer *Authorizer
	Function   string
	Sources    []ParamSource
	Validate   *regexp.Regexp
	TTL        time.Duration
	Cognito    bool

	mu    sync.Mutex
	cache map[string]cachedPolicy
}

type cachedPolicy struct {
	out     *AuthorizerOutput
	expires time.Time
}

// maxCachedPolicies bounds each authorizer's cache; when it is full, expired entries go,
// and if none has expired the whole cache does.
const maxCachedPolicies = 10000

// CompileAuthorizer checks a and readies it for requests, with an empty policy cache.
func CompileAuthorizer(a *Authorizer) (*CompiledAuthorizer, error) {
	ca := &CompiledAuthorizer{Authorizer: a, TTL: DefaultAuthorizerTTL * time.Second, cache: map[string]cachedPolicy{}}
	if a.ResultTTLInSeconds != nil {
		n := *a.ResultTTLInSeconds
		if n < 0 || n > 3600 {
			return nil, fmt.Errorf("authorizerResultTtlInSeconds %d is outside 0 to 3600", n)
		}
		ca.TTL = time.Duration(n) * time.Second
	}
	switch a.Type {
	case AuthorizerCognito:
		ca.Cognito = true
		return ca, nil
	case AuthorizerToken, AuthorizerRequest:
	default:
		return nil, fmt.Errorf("unknown authorizer type %q; API Gateway's are TOKEN, REQUEST and COGNITO_USER_POOLS", a.Type)
	}
	if a.URI == "" {
		return nil, errors.New("authorizerUri is required: the Lambda function's arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function ARN}/invocations")
	}
	fn, err := LambdaFunction(a.URI)
	if err != nil {
		return nil, fmt.Errorf("authorizerUri: %v", err)
	}
	ca.Function = fn
	for part := range strings.SplitSeq(a.IdentitySource, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		ps, err := compileSource(part, true)
		if err != nil || ps.Kind == SrcStatic || ps.Kind == SrcRequestBody || (ps.Kind == SrcRequest && ps.Loc == "path") {
			return nil, fmt.Errorf("identitySource %q: an identity source is method.request.header.NAME, method.request.querystring.NAME, method.request.multivalueheader.NAME, method.request.multivaluequerystring.NAME, stageVariables.NAME or context.NAME", part)
		}
		ca.Sources = append(ca.Sources, ps)
	}
	if a.Type == AuthorizerToken {
		if len(ca.Sources) != 1 || ca.Sources[0].Kind != SrcRequest || ca.Sources[0].Loc != "header" {
			return nil, fmt.Errorf("identitySource %q: a TOKEN authorizer reads one header, method.request.header.NAME", a.IdentitySource)
		}
		if a.IdentityValidationExpression != "" {
			re, err := compileSelectionPattern(a.IdentityValidationExpression)
			if err != nil {
				return nil, fmt.Errorf("identityValidationExpression: %v", err)
			}
			ca.Validate = re
		}
	}
	if len(ca.Sources) == 0 && ca.TTL > 0 {
		// API Gateway requires an identity source to cache by; without one the policy is
		// asked for on every request.
		ca.TTL = 0
	}
	return ca, nil
}

// Cached returns an unexpired policy for key.
func (ca *CompiledAuthorizer) Cached(key string, now time.Time) (*AuthorizerOutput, time.Duration, bool) {
	if ca.TTL <= 0 {
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

// Store caches out for key until the authorizer's TTL has passed.
func (ca *CompiledAuthorizer) Store(key string, out *AuthorizerOutput, now time.Time) {
	if ca.TTL <= 0 {
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
	ca.cache[key] = cachedPolicy{out: out, expires: now.Add(ca.TTL)}
}

// AuthorizerOutput is a Lambda authorizer's answer, checked.
type AuthorizerOutput struct {
	PrincipalID        string
	statements         []policyStatement
	Context            map[string]string // values as text, as API Gateway passes them on
	UsageIdentifierKey string
	Policy             json.RawMessage // the policyDocument as the function wrote it
}

type policyStatement struct {
	allow     bool
	actions   []string
	resources []string
}

// PolicyDecision is what a policy says of a method ARN.
type PolicyDecision int

const (
	PolicyNoMatch PolicyDecision = iota
	PolicyAllow
	PolicyDeny
)

// Decide evaluates the policy for the execute-api:Invoke action on arn as IAM does: an
// explicit Deny wins, else an Allow allows, else the request is not allowed.
func (o *AuthorizerOutput) Decide(arn string) PolicyDecision {
	d := PolicyNoMatch
	for _, st := range o.statements {
		if !st.matches(arn) {
			continue
		}
		if !st.allow {
			return PolicyDeny
		}
		d = PolicyAllow
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

// ParseAuthorizerOutput checks a Lambda authorizer's answer: an object with principalId (a
// string), policyDocument {Version, Statement: one statement or a list, each with Effect
// Allow or Deny, Action and Resource as a string or a list of strings}, and optionally
// context (string, number or boolean values) and usageIdentifierKey.
func ParseAuthorizerOutput(payload []byte) (*AuthorizerOutput, error) {
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
	out := &AuthorizerOutput{}
	switch v := doc.PrincipalID.(type) {
	case string:
		out.PrincipalID = v
	case json.Number:
		out.PrincipalID = v.String()
	case nil:
		return nil, errors.New("principalId is missing")
	default:
		return nil, errors.New("principalId must be a string")
	}
	if doc.PolicyDocument == nil {
		return nil, errors.New("policyDocument is missing")
	}
	out.Policy, _ = json.Marshal(doc.PolicyDocument)
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
		out.Context = make(map[string]string, len(doc.Context))
		for k, v := range doc.Context {
			switch v := v.(type) {
			case string:
				out.Context[k] = v
			case json.Number:
				out.Context[k] = v.String()
			case bool:
				out.Context[k] = strconv.FormatBool(v)
			case nil:
			default:
				return nil, fmt.Errorf("context %q: a context value must be a string, a number or a boolean, not an object or a list", k)
			}
		}
	}
	if doc.UsageIdentifierKey != nil {
		out.UsageIdentifierKey = *doc.UsageIdentifierKey
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
