package gatewayapi

import "strings"

// validate runs the method's request validator: required parameters, then the body against
// its model. bad is true when the request is refused with the returned gateway response.
func (q *call) validate() (gwError, bool) {
	p := q.p
	missing := p.MissingParameters(func(loc, name string) bool {
		switch loc {
		case "path":
			_, ok := q.pathParams[name]
			return ok
		case "querystring":
			_, ok := q.r.URL.Query()[name]
			return ok
		default:
			return len(q.r.Header.Values(name)) > 0
		}
	})
	if len(missing) > 0 {
		return gwError{typ: "BAD_REQUEST_PARAMETERS", status: 400, errorType: "BadRequestException",
			message: "Missing required request parameters: [" + strings.Join(missing, ", ") + "]"}, true
	}
	if p.BodyModels != nil {
		// Only a method with models pays for working out the media type.
		if model, problems := p.CheckBody(q.requestMediaType(), q.body); len(problems) > 0 {
			q.s.log.Info("gateway: the request body does not match its model", "requestId", q.requestID,
				"method", p.Where, "model", model, "problems", problems)
			return gwError{typ: "BAD_REQUEST_BODY", status: 400, errorType: "BadRequestException",
				message: "Invalid request body", validation: "[" + strings.Join(problems, ", ") + "]"}, true
		}
	}
	return gwError{}, false
}
