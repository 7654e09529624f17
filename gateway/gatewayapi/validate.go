package gatewayapi

import "strings"

// validate runs the method's request validator: required parameters, then the body against
// its model. bad is true when the request is refused with the returned gateway response.
func (q *call) validate() (gwError, bool) {
	p := q.p
	if p.ValidateParams && len(p.Required) > 0 {
		var missing []string
		for _, key := range p.Required {
			rest := strings.TrimPrefix(key, "method.request.")
			loc, name, _ := strings.Cut(rest, ".")
			present := true
			switch loc {
			case "path":
				_, present = q.pathParams[name]
			case "querystring", "multivaluequerystring":
				_, present = q.r.URL.Query()[name]
			case "header", "multivalueheader":
				present = len(q.r.Header.Values(name)) > 0
			}
			if !present {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			return gwError{typ: "BAD_REQUEST_PARAMETERS", status: 400, errorType: "BadRequestException",
				message: "Missing required request parameters: [" + strings.Join(missing, ", ") + "]"}, true
		}
	}
	if p.BodyModels != nil {
		mt := q.requestMediaType()
		if s, ok := p.BodyModels[mt]; ok {
			if problems := s.Validate(q.body); len(problems) > 0 {
				q.s.log.Info("gateway: the request body does not match its model", "requestId", q.requestID,
					"method", p.Where, "model", p.BodyModelNames[mt], "problems", problems)
				return gwError{typ: "BAD_REQUEST_BODY", status: 400, errorType: "BadRequestException",
					message: "Invalid request body", validation: "[" + strings.Join(problems, ", ") + "]"}, true
			}
		}
	}
	return gwError{}, false
}
