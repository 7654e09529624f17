package gatewayapi

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/localpipe/localpipe/gateway"
)

// A stage's method settings (UpdateStage's "/{resourcePath}/{httpMethod}/{category}/{name}"
// patch paths, "/*/*/throttling/rateLimit" for every method of the stage). They are kept
// and described as API Gateway describes them; localpipe enforces the throttling ones: each
// method of the stage has a token bucket of throttlingBurstLimit tokens refilled at
// throttlingRateLimit a second, shared by every caller, and a request that finds it empty is
// answered 429 THROTTLED. A method's own entry ("stream/POST") replaces "*/*" for it.

// methodSetting is the model's MethodSetting.
type methodSetting struct {
	MetricsEnabled                         bool    `json:"metricsEnabled"`
	LoggingLevel                           string  `json:"loggingLevel"`
	DataTraceEnabled                       bool    `json:"dataTraceEnabled"`
	ThrottlingBurstLimit                   int     `json:"throttlingBurstLimit"`
	ThrottlingRateLimit                    float64 `json:"throttlingRateLimit"`
	CachingEnabled                         bool    `json:"cachingEnabled"`
	CacheTTLInSeconds                      int     `json:"cacheTtlInSeconds"`
	CacheDataEncrypted                     bool    `json:"cacheDataEncrypted"`
	RequireAuthorizationForCacheControl    bool    `json:"requireAuthorizationForCacheControl"`
	UnauthorizedCacheControlHeaderStrategy string  `json:"unauthorizedCacheControlHeaderStrategy"`
}

// newMethodSetting is an entry as API Gateway starts one: the account's default throttle
// (10,000 requests a second, burst 5,000), logging off, a 300 s cache TTL.
func newMethodSetting() *methodSetting {
	return &methodSetting{
		LoggingLevel: "OFF", ThrottlingBurstLimit: 5000, ThrottlingRateLimit: 10000, CacheTTLInSeconds: 300,
		RequireAuthorizationForCacheControl: true, UnauthorizedCacheControlHeaderStrategy: "SUCCEED_WITH_RESPONSE_HEADER",
	}
}

// methodSettingPath splits a method-setting patch path into the settings key ("*/*",
// "stream/POST", "items/{id}/GET") and the setting ("throttling/rateLimit"); setting is ""
// for a path that names the whole entry (op remove "/*/*"). ok is false for any other path.
func methodSettingPath(path string) (key, setting string, ok bool) {
	segs, ok := parsePatchPath(path)
	if !ok || len(segs) < 2 || segs[0] == "variables" {
		return "", "", false
	}
	// The resource path may come as one segment ("~1stream") or several; either way the
	// key is the resource path without its leading slash, then the method.
	var parts []string
	for _, s := range segs {
		parts = append(parts, strings.Split(strings.Trim(s, "/"), "/")...)
	}
	for i := len(parts) - 1; i >= 1; i-- {
		verb := parts[i]
		if verb != "*" && !isHTTPVerb(verb) {
			continue
		}
		key = strings.Join(parts[:i+1], "/")
		rest := parts[i+1:]
		switch len(rest) {
		case 0:
			return key, "", true
		case 2:
			return key, rest[0] + "/" + rest[1], true
		}
		return "", "", false
	}
	return "", "", false
}

func isHTTPVerb(s string) bool {
	for _, v := range httpVerbs {
		if v == s {
			return true
		}
	}
	return false
}

// applyMethodSetting applies one patch operation to a stage's method settings.
func applyMethodSetting(settings map[string]*methodSetting, op patchOp, key, setting string) *controlError {
	if setting == "" {
		if op.Op != "remove" {
			return badRequest(fmt.Sprintf("Invalid patch operation specified: '%s' on '%s'; a method setting's entry can only be removed", op.Op, op.Path))
		}
		delete(settings, key)
		return nil
	}
	if op.Op != "replace" {
		return badRequest(fmt.Sprintf("Invalid patch operation specified: '%s' on '%s'; method settings take op replace", op.Op, op.Path))
	}
	if op.Value == nil {
		return badRequest(fmt.Sprintf("Invalid patch operation specified: op '%s' on '%s' needs a value", op.Op, op.Path))
	}
	v := *op.Value
	ms := settings[key]
	if ms == nil {
		ms = newMethodSetting()
	}
	boolean := func(dst *bool) *controlError {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return badRequest(fmt.Sprintf("Invalid value '%s' for '%s': it must be true or false", v, op.Path))
		}
		*dst = b
		return nil
	}
	integer := func(dst *int) *controlError {
		n, err := strconv.Atoi(v)
		if err != nil || n < -1 {
			return badRequest(fmt.Sprintf("Invalid value '%s' for '%s': it must be a whole number", v, op.Path))
		}
		*dst = n
		return nil
	}
	var cerr *controlError
	switch setting {
	case "metrics/enabled":
		cerr = boolean(&ms.MetricsEnabled)
	case "logging/loglevel":
		if v != "OFF" && v != "ERROR" && v != "INFO" {
			cerr = badRequest(fmt.Sprintf("Invalid value '%s' for '%s': valid values are OFF, ERROR and INFO", v, op.Path))
		}
		ms.LoggingLevel = v
	case "logging/dataTrace":
		cerr = boolean(&ms.DataTraceEnabled)
	case "throttling/burstLimit":
		cerr = integer(&ms.ThrottlingBurstLimit)
	case "throttling/rateLimit":
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < -1 {
			cerr = badRequest(fmt.Sprintf("Invalid value '%s' for '%s': it must be a number", v, op.Path))
		}
		ms.ThrottlingRateLimit = f
	case "caching/enabled":
		cerr = boolean(&ms.CachingEnabled)
	case "caching/ttlInSeconds":
		cerr = integer(&ms.CacheTTLInSeconds)
	case "caching/dataEncrypted":
		cerr = boolean(&ms.CacheDataEncrypted)
	case "caching/requireAuthorizationForCacheControl":
		cerr = boolean(&ms.RequireAuthorizationForCacheControl)
	case "caching/unauthorizedCacheControlHeaderStrategy":
		ms.UnauthorizedCacheControlHeaderStrategy = v
	default:
		cerr = badRequest(fmt.Sprintf("Invalid method setting path '%s' specified: the setting '%s' is not one of metrics/enabled, logging/loglevel, "+
			"logging/dataTrace, throttling/burstLimit, throttling/rateLimit, caching/enabled, caching/ttlInSeconds, caching/dataEncrypted, "+
			"caching/requireAuthorizationForCacheControl, caching/unauthorizedCacheControlHeaderStrategy", op.Path, setting))
	}
	if cerr != nil {
		return cerr
	}
	settings[key] = ms
	return nil
}

// stageThrottles compiles a stage's method settings to the throttles its methods get, keyed
// as the settings are ("*/*", "stream/POST"). A negative limit means the account's default,
// which localpipe does not limit.
func stageThrottles(settings map[string]*methodSetting) map[string]gateway.Throttle {
	if len(settings) == 0 {
		return nil
	}
	out := make(map[string]gateway.Throttle, len(settings))
	for k, ms := range settings {
		if ms.ThrottlingBurstLimit < 0 || ms.ThrottlingRateLimit < 0 {
			continue
		}
		out[k] = gateway.Throttle{BurstLimit: ms.ThrottlingBurstLimit, RateLimit: ms.ThrottlingRateLimit}
	}
	return out
}

// admitStage applies the stage's method throttling to the request q matched.
func (q *call) admitStage() (gwError, bool) {
	if len(q.stage.Throttles) == 0 || q.test != nil {
		return gwError{}, false
	}
	method := strings.TrimPrefix(q.p.Resource.Path, "/") + "/" + q.p.Method.HTTPMethod
	if q.p.Resource.Path == "/" {
		method = "/" + q.p.Method.HTTPMethod
	}
	t, ok := q.stage.Throttles[method]
	if !ok {
		if t, ok = q.stage.Throttles["*/*"]; !ok {
			return gwError{}, false
		}
	}
	if q.s.meter.take(q.s.now(), bucketKey{plan: "stage " + q.d.API.ID + "/" + q.stageName, method: method}, t) {
		return gwError{}, false
	}
	return errThrottled, true
}
