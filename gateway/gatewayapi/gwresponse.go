package gatewayapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/localpipe/localpipe/gateway"
	"github.com/localpipe/localpipe/mapping"
)

// gwError is a response API Gateway produces itself (a gateway response, [AGW-GWR]).
type gwError struct {
	typ        string // GatewayResponseType
	status     int    // the type's default status
	message    string // $context.error.message
	errorType  string // x-amzn-ErrorType
	validation string // $context.error.validationErrorString
	// nullMessage makes $context.error.message null, as API Gateway's authorizer
	// configuration errors have it ({"message": null}).
	nullMessage bool
}

// The gateway responses localpipe produces, with AWS's default status codes and messages
// (aws-semantics.md A.11). The 413 and 504 messages and the error types of 413, 415 and 504
// are not recorded in our sources (unverified). A back end that cannot be reached is a 500,
// "Execution failed due to configuration error" in API Gateway's execution log (AWS
// knowledge center, api-gateway-500-error-vpc), so it is errInternal.
var (
	errMissingToken = gwError{typ: "MISSING_AUTHENTICATION_TOKEN", status: 403,
		message: "Missing Authentication Token", errorType: "MissingAuthenticationTokenException"}
	errForbidden = gwError{typ: "INVALID_API_KEY", status: 403, message: "Forbidden", errorType: "ForbiddenException"}
	errTooLarge  = gwError{typ: "REQUEST_TOO_LARGE", status: 413, message: "Request Too Long",
		errorType: "RequestEntityTooLargeException"}
	errUnsupportedMediaType = gwError{typ: "UNSUPPORTED_MEDIA_TYPE", status: 415,
		message: "Unsupported Media Type", errorType: "BadRequestException"}
	errTimeout = gwError{typ: "INTEGRATION_TIMEOUT", status: 504, message: "Endpoint request timed out",
		errorType: "InternalServerErrorException"}
	errInternal = gwError{typ: "API_CONFIGURATION_ERROR", status: 500, message: "Internal server error",
		errorType: "InternalServerErrorException"}
)

// defaultGatewayTemplate is the body template every gateway response has until the API
// customises it.
var defaultGatewayTemplate = &gateway.CompiledTemplate{Template: mustParse("gateway response", `{"message":$context.error.messageString}`)}

func mustParse(name, src string) *mapping.Template {
	t, err := mapping.Parse(name, src)
	if err != nil {
		panic(err)
	}
	return t
}

// gatewayError sends a gateway response: the API's customisation of the type, else of
// DEFAULT_4XX or DEFAULT_5XX, else API Gateway's default. A type's own customisation may
// change its status code; a DEFAULT_* customisation changes headers and body only.
func (q *call) gatewayError(e gwError) {
	status := e.status
	var custom *gateway.CompiledGatewayResponse
	if q.d != nil {
		if g, ok := q.d.GatewayResponses[e.typ]; ok {
			custom = g
			if g.Status != 0 {
				status = g.Status
			}
		} else if status >= 500 {
			custom = q.d.GatewayResponses["DEFAULT_5XX"]
		} else {
			custom = q.d.GatewayResponses["DEFAULT_4XX"]
		}
	}
	ctx := q.context()
	var msg any = e.message
	msgString := jsonString(e.message)
	if e.nullMessage {
		msg, msgString = nil, "null"
	}
	ctx["error"] = map[string]any{
		"message":               msg,
		"messageString":         msgString,
		"responseType":          e.typ,
		"validationErrorString": e.validation,
	}
	h := http.Header{}
	h["x-amzn-ErrorType"] = []string{e.errorType}
	t := defaultGatewayTemplate
	if custom != nil {
		for _, pm := range custom.Params {
			if vals, ok := q.requestSource(pm.Src); ok {
				h.Set(pm.Dst, vals[len(vals)-1])
			}
		}
		if key, ct, found := chooseTemplate(custom.Templates, custom.Order, q.r.Header.Get("Accept")); found {
			t = ct
			if h.Get("Content-Type") == "" {
				h.Set("Content-Type", key)
			}
		}
	}
	var body []byte
	if t != nil {
		var out bytes.Buffer
		over, err := t.Execute(&out, &mapping.Input{Body: q.body, Params: q.paramsFor(t), Context: q.contextFor(t), StageVariables: q.stage.Variables})
		if err != nil {
			q.s.log.Warn("gateway: rendering a gateway response template failed", "requestId", q.requestID,
				"responseType", e.typ, "template", t.Name(), "err", err)
			out.Reset()
			out.WriteString(`{"message":` + msgString + `}`)
		} else if over != nil {
			if over.Status != 0 {
				status = over.Status
			}
			for k, v := range over.Header {
				h.Set(k, v)
			}
		}
		body = out.Bytes()
	}
	q.respond(status, h, body)
}

// jsonString quotes s as a JSON string, without the HTML escaping encoding/json adds.
func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// chooseTemplate picks a response template by the request's Accept header as API Gateway
// does (aws-semantics.md A.6): the first listed media type that has a template, with no
// Accept application/json, and failing that the first template. The first is the first in
// key order: a document's order is lost when it is decoded into a map, and API Gateway's own
// order is not documented. found is false when there are no templates at all.
func chooseTemplate(templates map[string]*gateway.CompiledTemplate, order []string, accept string) (key string, t *gateway.CompiledTemplate, found bool) {
	if len(order) == 0 {
		return "", nil, false
	}
	if accept == "" {
		accept = "application/json"
	}
	for part := range strings.SplitSeq(accept, ",") {
		mt := mediaType(part, "")
		if t, ok := templates[mt]; ok {
			return mt, t, true
		}
	}
	return order[0], templates[order[0]], true
}

// respond writes the method response with the headers API Gateway always adds.
func (q *call) respond(status int, header http.Header, body []byte) {
	h := q.w.Header()
	for k, v := range header {
		h[k] = v
	}
	if len(h["Content-Type"]) == 0 {
		// "API Gateway includes a Content-Type header for all integration responses. By
		// default, the content type is application/json." (A.7)
		h.Set("Content-Type", "application/json")
	}
	// One allocation for the three values every answer carries.
	vals := []string{q.requestID, q.extendedID, strconv.Itoa(len(body))}
	h["x-amzn-RequestId"] = vals[0:1:1]
	h["x-amz-apigw-id"] = vals[1:2:2]
	h["Content-Length"] = vals[2:3:3]
	if status < 100 || status > 999 {
		status = http.StatusInternalServerError
	}
	q.status = status
	q.w.WriteHeader(status)
	if q.r.Method != http.MethodHead {
		_, _ = q.w.Write(body)
	}
}
