// Package gateway is the engine of localpipe's API Gateway for REST APIs: the API model
// (resources, methods, integrations, models, request validators, authorizers and gateway
// responses); ImportOpenAPI, which builds an API from an OpenAPI 3.0 or Swagger 2.0 document
// with the x-amazon-apigateway-* extensions; CompileDeployment, which compiles an API into
// the immutable DeploymentPlan a stage serves; the invoke path's matcher (API.Match), which
// follows API Gateway's precedence rules; and API Gateway's rules for ids and stages. It
// knows nothing of HTTP: gateway/gatewayapi serves the plans and answers the control plane.
//
// An API is not safe for concurrent mutation. Once built, any number of goroutines may call
// Match and read it at the same time; once deployed it must not change.
package gateway

import (
	"encoding/json"
	"fmt"
	"github.com/localpipe/localpipe/internal/lazyre"
	"regexp"
	"sort"
	"strings"

	"github.com/localpipe/localpipe/gateway/jsonschema"
)

// API is one REST API (API Gateway's RestApi).
type API struct {
	ID          string
	Name        string
	Description string
	Version     string

	// APIKeySource is where API keys are read from: APIKeySourceHeader (the X-API-Key
	// header, the default) or APIKeySourceAuthorizer.
	APIKeySource string

	// BinaryMediaTypes lists the media types (wildcards such as "image/*" allowed) whose
	// payloads are treated as binary rather than UTF-8 text.
	BinaryMediaTypes []string

	// GatewayResponses customise the responses API Gateway itself produces, by response
	// type (GatewayResponseType values such as "DEFAULT_4XX", "MISSING_AUTHENTICATION_TOKEN").
	GatewayResponses map[string]GatewayResponse

	// RequestValidators by name, and the one applied to methods that name none.
	RequestValidators map[string]RequestValidator
	DefaultValidator  string

	// Models maps a model name to its JSON schema (draft 4, as API Gateway uses), kept as
	// written. A "$ref" inside a schema names another model; ModelName resolves it.
	Models map[string]json.RawMessage

	// Authorizers by name; methods name theirs in Method.Authorizer.
	Authorizers map[string]*Authorizer `json:",omitempty"`

	// Warnings lists what the import left out because API Gateway has no use for it
	// either (a cookie parameter, a "default" OpenAPI response), like RestApi.warnings.
	Warnings []string

	root *Resource
}

// API key sources ([AGW-KEY]; RestApi.apiKeySource).
const (
	APIKeySourceHeader     = "HEADER"
	APIKeySourceAuthorizer = "AUTHORIZER"
)

// NewAPI returns an empty API with a fresh id and a root resource "/", as CreateRestApi does.
func NewAPI(name string) *API {
	return &API{
		ID:           NewID(),
		Name:         name,
		APIKeySource: APIKeySourceHeader,
		root:         &Resource{ID: NewID(), Path: "/"},
	}
}

// Root returns the root resource "/".
func (a *API) Root() *Resource { return a.root }

// SetRoot makes r the root resource "/", for an API rebuilt from a stored model whose ids
// must stay the ones clients were given.
func (a *API) SetRoot(r *Resource) { a.root = r }

// Resources returns every resource, parents before children and siblings ordered by path
// part, the order GetResources lists them in a stable form.
func (a *API) Resources() []*Resource {
	var out []*Resource
	var walk func(r *Resource)
	walk = func(r *Resource) {
		out = append(out, r)
		for _, c := range r.Children() {
			walk(c)
		}
	}
	walk(a.root)
	return out
}

// Resource returns the resource with the given template path ("/streams/{stream-name}"),
// or nil.
func (a *API) Resource(path string) *Resource {
	r := a.root
	rest := strings.Trim(path, "/")
	for rest != "" {
		var part string
		part, rest, _ = strings.Cut(rest, "/")
		r = r.child(part)
		if r == nil {
			return nil
		}
	}
	return r
}

// AddResource creates a child of parent with the given path part, enforcing the rules
// CreateResource enforces: a literal part is made of a-zA-Z0-9._-: characters; a variable
// part is "{name}" or, greedy, "{name+}"; a parent has at most one variable child; a greedy
// resource has no children; and sibling path parts are unique.
func (a *API) AddResource(parent *Resource, pathPart string) (*Resource, error) {
	return a.AddResourceWithID(parent, pathPart, NewResourceID())
}

// AddResourceWithID is AddResource with the new resource's id chosen by the caller, so an API
// rebuilt from the control plane's stored model keeps the ids clients were given.
func (a *API) AddResourceWithID(parent *Resource, pathPart, id string) (*Resource, error) {
	name, greedy, variable, err := ParsePathPart(pathPart)
	if err != nil {
		return nil, err
	}
	if parent.greedy {
		// "A proxy resource cannot have any child resource" (api-gateway-method-settings-method-request.md).
		return nil, fmt.Errorf("cannot create a child of %s: a resource with a greedy path variable cannot have children", parent.Path)
	}
	if parent.child(pathPart) != nil {
		// CreateResource's ConflictException.
		return nil, fmt.Errorf("another resource with the same parent already has this name: %s", pathPart)
	}
	if variable && parent.variable != nil {
		// API Gateway's own words (BadRequestException, quoted in
		// amazon-archives/aws-apigateway-importer#202 and serverless#3075).
		return nil, fmt.Errorf("a sibling (%s) of this resource already has a variable path part -- only one is allowed", parent.variable.PathPart)
	}
	r := &Resource{
		ID:       id,
		ParentID: parent.ID,
		PathPart: pathPart,
		Path:     joinPath(parent.Path, pathPart),
		parent:   parent,
		param:    name,
		greedy:   greedy,
	}
	if variable {
		parent.variable = r
	} else {
		if parent.literals == nil {
			parent.literals = make(map[string]*Resource)
		}
		parent.literals[pathPart] = r
	}
	return r, nil
}

func joinPath(parent, part string) string {
	if parent == "/" {
		return "/" + part
	}
	return parent + "/" + part
}

// literalPart and variableName are the characters API Gateway accepts in a path part: "only
// allow a-zA-Z0-9._- and curly braces at the beginning and the end" (its BadRequestException,
// claudiajs/claudia#11), plus ':' which it has accepted since (aws/aws-cdk#22477).
var (
	literalPart  = lazyre.New(`^[a-zA-Z0-9._:-]+$`)
	variableName = lazyre.New(`^[a-zA-Z0-9._-]+$`)
)

// ParsePathPart checks one path part and returns, for "{name}" or "{name+}", the variable's
// name and whether it is greedy.
func ParsePathPart(part string) (name string, greedy, variable bool, err error) {
	if part == "" {
		return "", false, false, fmt.Errorf("empty path part")
	}
	if strings.HasPrefix(part, "{") && strings.HasSuffix(part, "}") {
		name = part[1 : len(part)-1]
		if strings.HasSuffix(name, "+") {
			name, greedy = name[:len(name)-1], true
		}
		if !variableName.MatchString(name) {
			return "", false, false, fmt.Errorf("path part %q: a path variable's name may hold only a-zA-Z0-9._-", part)
		}
		return name, greedy, true, nil
	}
	if !literalPart.MatchString(part) {
		return "", false, false, fmt.Errorf("path part %q may hold only a-zA-Z0-9._-: characters, or be {name} or {name+}", part)
	}
	return "", false, false, nil
}

// Resource is one node of the resource tree: a path part and the methods defined on it.
type Resource struct {
	ID       string
	ParentID string // "" for the root
	PathPart string // "" for the root; "{name}" or "{name+}" for a path variable
	Path     string // the full template path, "/" for the root

	// Methods by HTTP verb in upper case, "ANY" included.
	Methods map[string]*Method

	parent   *Resource
	literals map[string]*Resource // literal children by path part
	variable *Resource            // the one {name} or {name+} child, if any
	param    string               // this resource's variable name, without braces or '+'
	greedy   bool
}

// Parent returns the parent resource, nil for the root.
func (r *Resource) Parent() *Resource { return r.parent }

// Children returns the child resources ordered by path part (literal parts sort before
// the variable one, since '{' sorts after every allowed literal character).
func (r *Resource) Children() []*Resource {
	out := make([]*Resource, 0, len(r.literals)+1)
	for _, c := range r.literals {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PathPart < out[j].PathPart })
	if r.variable != nil {
		out = append(out, r.variable)
	}
	return out
}

// IsVariable reports whether the resource's path part is a path variable; Param is then
// its name and Greedy whether it is "{name+}".
func (r *Resource) IsVariable() bool { return r.param != "" }

// Param returns the name of the resource's path variable, without braces or '+'.
func (r *Resource) Param() string { return r.param }

// Greedy reports whether the resource is a proxy resource "{name+}".
func (r *Resource) Greedy() bool { return r.greedy }

// PathParams returns the names of the path variables on the way from the root to r.
func (r *Resource) PathParams() []string {
	var out []string
	for n := r; n != nil; n = n.parent {
		if n.param != "" {
			out = append(out, n.param)
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

func (r *Resource) child(part string) *Resource {
	if r.variable != nil && r.variable.PathPart == part {
		return r.variable
	}
	return r.literals[part]
}

// Method is one HTTP verb on a resource (API Gateway's Method).
type Method struct {
	// HTTPMethod is the verb in upper case: GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS,
	// or ANY for all of them.
	HTTPMethod    string
	OperationName string

	// AuthorizationType is what PutMethod was given: NONE, AWS_IAM, CUSTOM or
	// COGNITO_USER_POOLS ("" means NONE). localpipe checks no signatures, so AWS_IAM is
	// recorded, not enforced.
	AuthorizationType string `json:",omitempty"`
	// Authorizer names the API's authorizer (API.Authorizers) that guards the method.
	Authorizer string `json:",omitempty"`

	// APIKeyRequired is set when the operation's security names an apiKey scheme read
	// from the x-api-key header.
	APIKeyRequired bool

	// RequestParameters declares method request parameters, "method.request.querystring.x",
	// "method.request.header.x" or "method.request.path.x", mapped to whether each is
	// required.
	RequestParameters map[string]bool

	// RequestValidator names the validator in API.RequestValidators that applies, the
	// API's default when the method names none; "" for none.
	RequestValidator string

	// RequestModels maps a content type to the name of the model its body must match.
	RequestModels map[string]string

	// MethodResponses by status code.
	MethodResponses map[string]MethodResponse

	// Integration is nil when the document defines none: API Gateway imports such a
	// method but will not deploy it.
	Integration *Integration
}

// MethodResponse declares a status code the method may answer with.
type MethodResponse struct {
	StatusCode string
	// ResponseParameters declares headers, "method.response.header.X", mapped to whether
	// each is required.
	ResponseParameters map[string]bool
	// ResponseModels maps a content type to a model name.
	ResponseModels map[string]string
}

// IntegrationType is an integration's type, upper case as the API Gateway API spells it.
type IntegrationType string

// Integration types (Integration.type in the API Gateway model).
const (
	IntegrationAWS       IntegrationType = "AWS"
	IntegrationAWSProxy  IntegrationType = "AWS_PROXY"
	IntegrationHTTP      IntegrationType = "HTTP"
	IntegrationHTTPProxy IntegrationType = "HTTP_PROXY"
	IntegrationMock      IntegrationType = "MOCK"
)

// Passthrough behaviours (Integration.passthroughBehavior; see aws-semantics.md A.6).
const (
	PassthroughWhenNoMatch     = "WHEN_NO_MATCH"
	PassthroughWhenNoTemplates = "WHEN_NO_TEMPLATES"
	PassthroughNever           = "NEVER"
)

// Content handling strategies (ContentHandlingStrategy).
const (
	ConvertToBinary = "CONVERT_TO_BINARY"
	ConvertToText   = "CONVERT_TO_TEXT"
)

// Integration timeouts in milliseconds: "Custom timeout between 50 and 29,000 milliseconds.
// The default value is 29,000" (Integration.timeoutInMillis).
const (
	MinTimeoutMillis     = 50
	MaxTimeoutMillis     = 29000
	DefaultTimeoutMillis = 29000
)

// Integration says how a method reaches its back end (API Gateway's Integration).
type Integration struct {
	Type IntegrationType
	// URI is the back end: for AWS and AWS_PROXY an ARN such as
	// "arn:aws:apigateway:us-east-1:kinesis:action/PutRecord" (ParseAWSURI splits it), for
	// HTTP and HTTP_PROXY an http(s) URL; empty for MOCK.
	URI string
	// HTTPMethod is the verb used towards the back end (POST for Kinesis and Firehose).
	HTTPMethod  string
	Credentials string

	// RequestParameters maps an integration request parameter
	// ("integration.request.header.Content-Type") to its source: a method request parameter
	// ("method.request.path.stream-name"), a static value in single quotes
	// ("'application/x-amz-json-1.1'"), "context.X" or "stageVariables.X".
	RequestParameters map[string]string

	// RequestTemplates maps a content type to a VTL mapping template.
	RequestTemplates map[string]string

	// PassthroughBehavior is one of the Passthrough* constants, WHEN_NO_MATCH by default.
	PassthroughBehavior string
	// ContentHandling is ConvertToBinary, ConvertToText or "" (pass the payload as it is).
	ContentHandling string

	// TimeoutInMillis is between MinTimeoutMillis and MaxTimeoutMillis.
	TimeoutInMillis int

	CacheNamespace     string
	CacheKeyParameters []string

	// InsecureSkipVerification is tlsConfig.insecureSkipVerification for HTTP back ends.
	InsecureSkipVerification bool

	// Responses are the integration responses by selection pattern as the document keys
	// them: a regular expression such as `4\d{2}`, or "default".
	Responses map[string]IntegrationResponse
}

// DefaultResponse returns the integration response keyed "default", the one chosen when no
// other selection pattern matches.
func (i *Integration) DefaultResponse() (IntegrationResponse, bool) {
	r, ok := i.Responses["default"]
	return r, ok
}

// IntegrationResponse maps a back-end response to a method response.
type IntegrationResponse struct {
	StatusCode string
	// SelectionPattern is the regular expression matched against the back end's status
	// code (or a Lambda error message); "" for the default response.
	SelectionPattern string
	// ResponseParameters maps "method.response.header.X" to its source: an
	// "integration.response.header.Y", "integration.response.body[.path]", a static
	// value in single quotes, "context.X" or "stageVariables.X".
	ResponseParameters map[string]string
	// ResponseTemplates maps a content type to a VTL mapping template.
	ResponseTemplates map[string]string
	ContentHandling   string

	pattern *regexp.Regexp // SelectionPattern anchored at both ends; nil for default
}

// Matches reports whether s (the back end's status code, e.g. "400") is selected by the
// response's pattern. The pattern must match the whole of s (Java's String.matches, which
// API Gateway is understood to use: aws-semantics.md A.7, unverified). The default
// response matches nothing here: it is what is left when no pattern matches.
func (r IntegrationResponse) Matches(s string) bool {
	return r.pattern != nil && r.pattern.MatchString(s)
}

// compileSelectionPattern anchors p so that it must match the whole input.
func compileSelectionPattern(p string) (*regexp.Regexp, error) {
	return regexp.Compile(`^(?:` + p + `)$`)
}

// GatewayResponse customises a response API Gateway produces itself.
type GatewayResponse struct {
	// StatusCode overrides the type's default status; "" keeps the default.
	StatusCode string
	// ResponseParameters maps "gatewayresponse.header.X" to "method.request.header.Y",
	// a static value in single quotes, "context.X" or "stageVariables.X".
	ResponseParameters map[string]string
	ResponseTemplates  map[string]string
}

// GatewayResponseTypes lists the response types a GatewayResponse may customise
// (GatewayResponseType in the API Gateway model, [AGW-GWR]).
var GatewayResponseTypes = []string{
	"DEFAULT_4XX", "DEFAULT_5XX", "RESOURCE_NOT_FOUND", "UNAUTHORIZED", "INVALID_API_KEY",
	"ACCESS_DENIED", "AUTHORIZER_FAILURE", "AUTHORIZER_CONFIGURATION_ERROR", "INVALID_SIGNATURE",
	"EXPIRED_TOKEN", "MISSING_AUTHENTICATION_TOKEN", "INTEGRATION_FAILURE", "INTEGRATION_TIMEOUT",
	"API_CONFIGURATION_ERROR", "UNSUPPORTED_MEDIA_TYPE", "BAD_REQUEST_PARAMETERS",
	"BAD_REQUEST_BODY", "REQUEST_TOO_LARGE", "THROTTLED", "QUOTA_EXCEEDED", "WAF_FILTERED",
}

// RequestValidator says what API Gateway checks before calling the integration.
type RequestValidator struct {
	ValidateRequestBody       bool
	ValidateRequestParameters bool
}

// AWSURI is an AWS integration's URI taken apart:
// arn:aws:apigateway:{region}:{subdomain.service|service}:{path|action}/{service_api}.
type AWSURI struct {
	Region    string
	Subdomain string // "" unless the service part is "subdomain.service"
	Service   string // "kinesis", "firehose", "lambda", ...
	Kind      string // "action" or "path"
	Target    string // "PutRecord" for action/PutRecord; the path after "path/" otherwise
}

// ParseAWSURI takes apart an AWS or AWS_PROXY integration URI (PutIntegrationRequest.uri).
func ParseAWSURI(uri string) (AWSURI, error) {
	var u AWSURI
	parts := strings.SplitN(uri, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || !strings.HasPrefix(parts[1], "aws") || parts[2] != "apigateway" {
		return u, fmt.Errorf("uri %q is not of the form arn:aws:apigateway:{region}:{service}:{action|path}/{target}", uri)
	}
	u.Region = parts[3]
	service := parts[4]
	if sub, svc, ok := strings.Cut(service, "."); ok {
		u.Subdomain, service = sub, svc
	}
	u.Service = service
	kind, target, ok := strings.Cut(parts[5], "/")
	if u.Region == "" || u.Service == "" || !ok || (kind != "action" && kind != "path") || target == "" {
		return AWSURI{}, fmt.Errorf("uri %q is not of the form arn:aws:apigateway:{region}:{service}:{action|path}/{target}", uri)
	}
	u.Kind, u.Target = kind, target
	return u, nil
}

// ModelName returns the name of the model a "$ref" points at: "#/definitions/Name" (Swagger
// 2.0), "#/components/schemas/Name" (OpenAPI 3.0) or API Gateway's own
// "https://apigateway.amazonaws.com/restapis/{id}/models/Name".
func ModelName(ref string) (string, bool) { return jsonschema.ModelName(ref) }

// UnescapePointer undoes JSON Pointer escaping (RFC 6901): "~1" is '/', "~0" is '~'.
func UnescapePointer(s string) string {
	if !strings.Contains(s, "~") {
		return s
	}
	return strings.NewReplacer("~1", "/", "~0", "~").Replace(s)
}

// Functions lists the functions the API's Lambda integrations and authorizers call, each
// with the places that call it ("POST /items", "authorizer tok"), so a start can say which
// are not declared. An ARN that depends on a stage variable is left out.
func (a *API) Functions() map[string][]string {
	out := map[string][]string{}
	add := func(uri, where string) {
		if fn, err := LambdaFunction(uri); err == nil && !strings.Contains(fn, "${") {
			out[fn] = append(out[fn], where)
		}
	}
	for _, name := range sortedKeys(a.Authorizers) {
		if z := a.Authorizers[name]; z.Type != AuthorizerCognito {
			add(z.URI, "authorizer "+name)
		}
	}
	for _, res := range a.Resources() {
		for _, verb := range sortedKeys(res.Methods) {
			if in := res.Methods[verb].Integration; in != nil && (in.Type == IntegrationAWS || in.Type == IntegrationAWSProxy) {
				add(in.URI, verb+" "+res.Path)
			}
		}
	}
	return out
}
