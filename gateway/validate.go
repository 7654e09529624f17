package gateway

import "strings"

// MissingParameters returns the names of the required request parameters a request lacks,
// in the order the method declares them, when the method's request validator checks
// parameters. has reports whether the request carries name at loc: "path", "querystring" or
// "header" (a multi-value location is checked as its single-value one, since both read the
// same request values).
func (p *MethodPlan) MissingParameters(has func(loc, name string) bool) []string {
	if !p.ValidateParams {
		return nil
	}
	var missing []string
	for _, key := range p.Required {
		rest := strings.TrimPrefix(key, "method.request.")
		loc, name, _ := strings.Cut(rest, ".")
		switch loc {
		case "multivaluequerystring":
			loc = "querystring"
		case "multivalueheader":
			loc = "header"
		}
		switch loc {
		case "path", "querystring", "header":
			if !has(loc, name) {
				missing = append(missing, name)
			}
		}
	}
	return missing
}

// CheckBody checks a request body against the model the method's request validator names
// for its media type (lower case, without parameters). problems is empty when the body
// conforms, or when there is no model to check it against; model names the model for logs.
func (p *MethodPlan) CheckBody(mediaType string, body []byte) (model string, problems []string) {
	s, ok := p.BodyModels[mediaType]
	if !ok {
		return "", nil
	}
	return p.BodyModelNames[mediaType], s.Validate(body)
}
