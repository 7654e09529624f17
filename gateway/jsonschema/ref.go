package jsonschema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// ModelName returns the name of the model a "$ref" points at: "#/definitions/Name" (Swagger
// 2.0), "#/components/schemas/Name" (OpenAPI 3.0) or API Gateway's own
// "https://apigateway.amazonaws.com/restapis/{id}/models/Name".
func ModelName(ref string) (string, bool) {
	for _, prefix := range []string{"#/definitions/", "#/components/schemas/"} {
		if name, ok := strings.CutPrefix(ref, prefix); ok && name != "" && !strings.Contains(name, "/") {
			return unescapePointer(name), true
		}
	}
	if rest, ok := strings.CutPrefix(ref, "https://apigateway.amazonaws.com/restapis/"); ok {
		if _, name, ok := strings.Cut(rest, "/models/"); ok && name != "" && !strings.Contains(name, "/") {
			return name, true
		}
	}
	return "", false
}

// unescapePointer undoes JSON Pointer escaping (RFC 6901): "~1" is '/', "~0" is '~'.
func unescapePointer(s string) string {
	if !strings.Contains(s, "~") {
		return s
	}
	return strings.NewReplacer("~1", "/", "~0", "~").Replace(s)
}

// jsonString is s as a JSON string, without HTML escaping.
func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// jsonText quotes a short JSON value for a message, or names its Go type when it is long.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil || len(b) > 60 {
		return fmt.Sprintf("a %T", v)
	}
	return string(b)
}
