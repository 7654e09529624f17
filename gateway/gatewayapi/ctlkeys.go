package gatewayapi

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/localpipe/localpipe/gateway"
)

// API keys, usage plans and usage plan keys through the control plane. They belong to the
// account, not to one API, so they live in one account document beside the APIs (Store's
// LoadAccount/SaveAccount), written whole on every change: a few hundred keys is a few
// tens of kilobytes, and ImportApiKeys becomes one durable write. The --config file's keys
// (AddAPIKey) are listed with them and may join usage plans, but are read-only here.

// accountDoc is the stored account document. Like an apiDoc, a published one is never
// mutated: a write works on a clone.
type accountDoc struct {
	V     int                 `json:"v"`
	Keys  map[string]*keyDoc  `json:"keys,omitempty"`  // by key id
	Plans map[string]*planDoc `json:"plans,omitempty"` // by usage plan id
}

type keyDoc struct {
	Name        string            `json:"name,omitempty"`
	Value       string            `json:"value"`
	Description string            `json:"description,omitempty"`
	CustomerID  string            `json:"customerId,omitempty"`
	Enabled     bool              `json:"enabled"`
	StageKeys   []string          `json:"stageKeys,omitempty"` // "apiId/stageName"
	Created     int64             `json:"created"`
	Updated     int64             `json:"updated"`
	Tags        map[string]string `json:"tags,omitempty"`
}

type planDoc struct {
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	ProductCode string            `json:"productCode,omitempty"`
	APIStages   []apiStage        `json:"apiStages,omitempty"`
	Throttle    *gateway.Throttle `json:"throttle,omitempty"`
	Quota       *quota            `json:"quota,omitempty"`
	Keys        []string          `json:"keys,omitempty"` // key ids, sorted
	Created     int64             `json:"created"`
	Tags        map[string]string `json:"tags,omitempty"`
}

// apiStage, throttle and quota are the model's ApiStage, ThrottleSettings and
// QuotaSettings, stored and answered alike.
type apiStage struct {
	APIID string `json:"apiId"`
	Stage string `json:"stage"`
	// Throttle overrides the plan's throttle for single methods, keyed "/resource/path/VERB".
	Throttle map[string]gateway.Throttle `json:"throttle,omitempty"`
}

type quota struct {
	Limit  int    `json:"limit"`
	Offset int    `json:"offset"`
	Period string `json:"period"`
}

func (a *accountDoc) clone() *accountDoc {
	b, err := json.Marshal(a)
	if err != nil {
		panic(fmt.Sprintf("gateway: the account document does not encode: %v", err))
	}
	out := &accountDoc{}
	if err := json.Unmarshal(b, out); err != nil {
		panic(fmt.Sprintf("gateway: the account document does not decode: %v", err))
	}
	return out.withMaps()
}

// withMaps gives a its maps where it has none, so that no reader finds them nil.
func (a *accountDoc) withMaps() *accountDoc {
	if a.Keys == nil {
		a.Keys = map[string]*keyDoc{}
	}
	if a.Plans == nil {
		a.Plans = map[string]*planDoc{}
	}
	return a
}

func decodeAccountDoc(b []byte) (*accountDoc, error) {
	a := &accountDoc{}
	if len(b) == 0 {
		return a.withMaps(), nil
	}
	if err := json.Unmarshal(b, a); err != nil {
		return nil, err
	}
	if a.V != apiDocVersion {
		return nil, fmt.Errorf("format version %d, this localpipe reads %d", a.V, apiDocVersion)
	}
	return a.withMaps(), nil
}

// account returns the published account document (never nil; do not modify it).
func (s *Server) account() *accountDoc {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.acct
}

// editAccount runs fn on a clone of the account document, saves the result and publishes
// it; nothing changes unless fn returns nil.
func (s *Server) editAccount(fn func(a *accountDoc) *controlError) *controlError {
	s.ctlMu.Lock()
	defer s.ctlMu.Unlock()
	a := s.account().clone()
	if cerr := fn(a); cerr != nil {
		return cerr
	}
	a.V = apiDocVersion
	b, err := json.Marshal(a)
	if err != nil {
		return s.internalError("encode the account's keys and usage plans", err)
	}
	if s.store != nil {
		if err := s.store.SaveAccount(b); err != nil {
			return s.internalError("save the change", err)
		}
	}
	s.setAccount(a)
	return nil
}

// setAccount publishes a and the index from key value to key id.
func (s *Server) setAccount(a *accountDoc) {
	byValue := make(map[string]string, len(a.Keys))
	for id, k := range a.Keys {
		byValue[k.Value] = id
	}
	s.mu.Lock()
	s.acct, s.keyIDs = a, byValue
	s.mu.Unlock()
}

// newKeyValue draws a 40-character key value, the length API Gateway generates.
func newKeyValue() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 40)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// keyValueTaken reports whether a config key or another stored key has value v.
func (s *Server) keyValueTaken(a *accountDoc, v, except string) bool {
	s.mu.RLock()
	_, config := s.keys[v]
	s.mu.RUnlock()
	if config {
		return true
	}
	for id, k := range a.Keys {
		if k.Value == v && id != except {
			return true
		}
	}
	return false
}

// configKey returns a copy of the --config file's key with id, or nil.
func (s *Server) configKey(id string) *APIKey {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if v, ok := s.ids[id]; ok {
		k := *s.keys[v]
		return &k
	}
	return nil
}

func (s *Server) readOnlyKey(id string) *controlError {
	return badRequest(fmt.Sprintf("API key %s comes from the --config file (apiKeys:), so it is read-only here: change the file and restart localpipe, "+
		"or create a key of your own with CreateApiKey.", id))
}

func apiKeyOfDoc(id string, k *keyDoc, withValue bool) apiKeyOut {
	out := apiKeyOut{
		ID: id, Name: k.Name, Description: k.Description, CustomerID: k.CustomerID, Enabled: k.Enabled,
		CreatedDate: k.Created, LastUpdatedDate: k.Updated, StageKeys: slices.Sorted(slices.Values(k.StageKeys)), Tags: k.Tags,
	}
	if out.StageKeys == nil {
		out.StageKeys = []string{}
	}
	if withValue {
		out.Value = k.Value
	}
	return out
}

// allAPIKeys describes the config's keys and the stored ones, sorted by id.
func (s *Server) allAPIKeys(withValues bool) []apiKeyOut {
	var out []apiKeyOut
	for _, k := range s.apiKeys() {
		out = append(out, apiKeyOf(k, withValues))
	}
	a := s.account()
	for id, k := range a.Keys {
		out = append(out, apiKeyOfDoc(id, k, withValues))
	}
	slices.SortFunc(out, func(x, y apiKeyOut) int { return strings.Compare(x.ID, y.ID) })
	return out
}

type stageKeyIn struct {
	RestAPIID string `json:"restApiId"`
	StageName string `json:"stageName"`
}

// checkAPIStage reports AWS's error when API id has no stage of that name.
func (s *Server) checkAPIStage(id, stage string) *controlError {
	if d := s.deployment(id); d != nil {
		if _, ok := d.Stages[stage]; ok {
			return nil
		}
		return notFound("Invalid stage identifier specified")
	}
	d := s.doc(id)
	if d == nil {
		return s.invalidAPI(id)
	}
	if d.Stages[stage] == nil {
		return notFound("Invalid stage identifier specified")
	}
	return nil
}

func (s *Server) createAPIKey(c *ctlReq) (int, any, *controlError) {
	if c.q.Get("mode") == "import" {
		return s.importAPIKeys(c)
	}
	var in struct {
		Name        string            `json:"name"`
		Description string            `json:"description"`
		Enabled     bool              `json:"enabled"`
		Value       string            `json:"value"`
		CustomerID  string            `json:"customerId"`
		StageKeys   []stageKeyIn      `json:"stageKeys"`
		Tags        map[string]string `json:"tags"`
	}
	if cerr := decodeBody(c, &in); cerr != nil {
		return 0, nil, cerr
	}
	if in.Value != "" && (len(in.Value) < 20 || len(in.Value) > 128) {
		return 0, nil, badRequest("API Key value should be at least 20 characters and at most 128 characters")
	}
	if cerr := checkTags(in.Tags); cerr != nil {
		return 0, nil, cerr
	}
	var stageKeys []string
	for _, sk := range in.StageKeys {
		if cerr := s.checkAPIStage(sk.RestAPIID, sk.StageName); cerr != nil {
			return 0, nil, cerr
		}
		stageKeys = append(stageKeys, sk.RestAPIID+"/"+sk.StageName)
	}
	var id string
	cerr := s.editAccount(func(a *accountDoc) *controlError {
		value := in.Value
		if value == "" {
			value = newKeyValue()
		}
		if s.keyValueTaken(a, value, "") {
			return conflict("API Key already exists")
		}
		id = s.newKeyID(a)
		now := s.now().Unix()
		a.Keys[id] = &keyDoc{
			Name: in.Name, Value: value, Description: in.Description, CustomerID: in.CustomerID, Enabled: in.Enabled,
			StageKeys: stageKeys, Created: now, Updated: now, Tags: in.Tags,
		}
		return nil
	})
	if cerr != nil {
		return 0, nil, cerr
	}
	return http.StatusCreated, apiKeyOfDoc(id, s.account().Keys[id], true), nil
}

// newKeyID draws an id no key and no usage plan has. The caller holds ctlMu.
func (s *Server) newKeyID(a *accountDoc) string {
	for {
		id := gateway.NewID()
		if a.Keys[id] == nil && a.Plans[id] == nil && s.configKey(id) == nil {
			return id
		}
	}
}

func (s *Server) getAPIKeys(c *ctlReq) (int, any, *controlError) {
	all := s.allAPIKeys(c.q.Get("includeValues") == "true")
	// nameQuery matches names that start with it.
	name, customer := c.q.Get("name"), c.q.Get("customerId")
	all = slices.DeleteFunc(all, func(k apiKeyOut) bool {
		return !strings.HasPrefix(k.Name, name) || (customer != "" && k.CustomerID != customer)
	})
	out, cerr := listPage(c.q, all, func(k apiKeyOut) string { return k.ID })
	return http.StatusOK, out, cerr
}

func (s *Server) getAPIKey(c *ctlReq) (int, any, *controlError) {
	for _, k := range s.allAPIKeys(c.q.Get("includeValue") == "true") {
		if k.ID == c.p["key"] {
			return http.StatusOK, k, nil
		}
	}
	return 0, nil, notFound("Invalid API Key identifier specified")
}

func (s *Server) updateAPIKey(c *ctlReq) (int, any, *controlError) {
	id := c.p["key"]
	if s.configKey(id) != nil {
		return 0, nil, s.readOnlyKey(id)
	}
	ops, cerr := decodePatch(c)
	if cerr != nil {
		return 0, nil, cerr
	}
	cerr = s.editAccount(func(a *accountDoc) *controlError {
		k := a.Keys[id]
		if k == nil {
			return notFound("Invalid API Key identifier specified")
		}
		// "/stages" adds or removes a stage key, "restApiId/stageName", given as the value.
		var fieldOps []patchOp
		for _, op := range ops {
			if op.Path != "/stages" {
				fieldOps = append(fieldOps, op)
				continue
			}
			if op.Value == nil || (op.Op != "add" && op.Op != "remove") {
				return badRequest(fmt.Sprintf("Invalid patch operation specified: '%s' on '/stages' takes op add or remove and a value restApiId/stageName", op.Op))
			}
			apiID, stage, ok := strings.Cut(*op.Value, "/")
			if !ok {
				return badRequest(fmt.Sprintf("Invalid stage key specified: '%s'; give it as restApiId/stageName", *op.Value))
			}
			if op.Op == "remove" {
				k.StageKeys = slices.DeleteFunc(k.StageKeys, func(s string) bool { return s == *op.Value })
				continue
			}
			if cerr := s.checkAPIStage(apiID, stage); cerr != nil {
				return cerr
			}
			if !slices.Contains(k.StageKeys, *op.Value) {
				k.StageKeys = append(k.StageKeys, *op.Value)
			}
		}
		ops = fieldOps
		if cerr := applyPatch(ops, map[string]patchField{
			"name": {str: &k.Name}, "description": {str: &k.Description}, "customerId": {str: &k.CustomerID},
			"enabled": {boolean: &k.Enabled},
		}); cerr != nil {
			return cerr
		}
		k.Updated = s.now().Unix()
		return nil
	})
	if cerr != nil {
		return 0, nil, cerr
	}
	return s.getAPIKey(c)
}

func (s *Server) deleteAPIKey(c *ctlReq) (int, any, *controlError) {
	id := c.p["key"]
	if s.configKey(id) != nil {
		return 0, nil, s.readOnlyKey(id)
	}
	cerr := s.editAccount(func(a *accountDoc) *controlError {
		if a.Keys[id] == nil {
			return notFound("Invalid API Key identifier specified")
		}
		delete(a.Keys, id)
		for _, p := range a.Plans {
			p.Keys = slices.DeleteFunc(p.Keys, func(k string) bool { return k == id })
		}
		return nil
	})
	if cerr != nil {
		return 0, nil, cerr
	}
	return http.StatusAccepted, nil, nil
}

// importAPIKeys is ImportApiKeys: POST /apikeys?mode=import&format=csv. A key whose value
// is already stored is overwritten, as the documentation says; one naming a usage plan
// that does not exist is a warning, or with failonwarnings=true refuses the whole file.
func (s *Server) importAPIKeys(c *ctlReq) (int, any, *controlError) {
	if f := c.q.Get("format"); f != "csv" {
		return 0, nil, badRequest(fmt.Sprintf("Invalid format specified: %q; the only format is csv", f))
	}
	failOnWarnings := false
	if v := c.q.Get("failonwarnings"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return 0, nil, badRequest(fmt.Sprintf("Invalid failonwarnings %q: it must be true or false", v))
		}
		failOnWarnings = b
	}
	body, cerr := readBody(c)
	if cerr != nil {
		return 0, nil, cerr
	}
	rows, err := parseKeyCSV(string(body))
	if err != nil {
		return 0, nil, badRequest("Invalid API key file: " + err.Error())
	}
	ids, warnings := []string{}, []string{}
	cerr = s.editAccount(func(a *accountDoc) *controlError {
		now := s.now().Unix()
		byValue := make(map[string]string, len(a.Keys))
		for kid, k := range a.Keys {
			byValue[k.Value] = kid
		}
		for _, r := range rows {
			id := byValue[r.Key]
			if id == "" {
				if s.keyValueTaken(a, r.Key, "") {
					warnings = append(warnings, fmt.Sprintf("line %d: the key value belongs to a key of the --config file; the row is skipped", r.Line))
					continue
				}
				id = s.newKeyID(a)
				a.Keys[id] = &keyDoc{Created: now}
				byValue[r.Key] = id
			}
			k := a.Keys[id]
			k.Name, k.Value, k.Description, k.Enabled, k.Updated = r.Name, r.Key, r.Description, r.Enabled, now
			for _, pid := range r.UsagePlanIDs {
				p := a.Plans[pid]
				if p == nil {
					warnings = append(warnings, fmt.Sprintf("line %d: Invalid Usage Plan ID specified: %s", r.Line, pid))
					continue
				}
				if !slices.Contains(p.Keys, id) {
					p.Keys = append(p.Keys, id)
					slices.Sort(p.Keys)
				}
			}
			ids = append(ids, id)
		}
		if failOnWarnings && len(warnings) > 0 {
			return badRequest("The API key file has warnings and failonwarnings is true: " + strings.Join(warnings, "; "))
		}
		return nil
	})
	if cerr != nil {
		return 0, nil, cerr
	}
	return http.StatusCreated, map[string]any{"ids": ids, "warnings": warnings}, nil
}

// Usage plans.

type usagePlanOut struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	APIStages   []apiStage        `json:"apiStages"`
	Throttle    *gateway.Throttle `json:"throttle,omitempty"`
	Quota       *quota            `json:"quota,omitempty"`
	ProductCode string            `json:"productCode,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
}

func usagePlanOf(id string, p *planDoc) usagePlanOut {
	out := usagePlanOut{
		ID: id, Name: p.Name, Description: p.Description, APIStages: p.APIStages, Throttle: p.Throttle, Quota: p.Quota,
		ProductCode: p.ProductCode, Tags: p.Tags,
	}
	if out.APIStages == nil {
		out.APIStages = []apiStage{}
	}
	return out
}

var quotaPeriods = []string{"DAY", "WEEK", "MONTH"}

// checkPlan checks a usage plan as CreateUsagePlan does, and that no key of it would be
// in two plans of one API stage.
func (s *Server) checkPlan(a *accountDoc, id string, p *planDoc) *controlError {
	if strings.TrimSpace(p.Name) == "" {
		return badRequest("Invalid usage plan name specified")
	}
	if cerr := checkThrottle("", p.Throttle); cerr != nil {
		return cerr
	}
	if q := p.Quota; q != nil {
		if !slices.Contains(quotaPeriods, q.Period) {
			return badRequest(fmt.Sprintf("Invalid quota period specified: %q; valid values are DAY, WEEK and MONTH", q.Period))
		}
		if q.Limit < 0 || q.Offset < 0 || q.Offset > q.Limit {
			return badRequest("Invalid quota specified: limit must not be negative, and offset must be between 0 and the limit")
		}
	}
	seen := map[string]bool{}
	for _, st := range p.APIStages {
		if cerr := s.checkAPIStage(st.APIID, st.Stage); cerr != nil {
			return cerr
		}
		name := st.APIID + ":" + st.Stage
		if seen[name] {
			return conflict("API Stage " + name + " appears twice in the usage plan")
		}
		seen[name] = true
		for key, t := range st.Throttle {
			if cerr := checkMethodThrottleKey(key); cerr != nil {
				return cerr
			}
			if cerr := checkThrottle(key, &t); cerr != nil {
				return cerr
			}
		}
	}
	for _, kid := range p.Keys {
		for oid, o := range a.Plans {
			if oid == id || !slices.Contains(o.Keys, kid) {
				continue
			}
			for _, st := range p.APIStages {
				if slices.ContainsFunc(o.APIStages, func(x apiStage) bool { return x.APIID == st.APIID && x.Stage == st.Stage }) {
					return conflict(fmt.Sprintf("Usage Plan %s cannot be added because API Key %s cannot reference multiple Usage Plans with the same API Stage: %s:%s",
						id, kid, st.APIID, st.Stage))
				}
			}
		}
	}
	return nil
}

func checkThrottle(where string, t *gateway.Throttle) *controlError {
	if t == nil {
		return nil
	}
	if t.BurstLimit < 0 || t.RateLimit < 0 || math.IsNaN(t.RateLimit) || math.IsInf(t.RateLimit, 0) {
		return badRequest(strings.TrimSpace("Invalid throttle settings " + where + ": burstLimit and rateLimit must not be negative"))
	}
	return nil
}

// checkMethodThrottleKey checks a per-method throttle key: "/resource/path/VERB".
func checkMethodThrottleKey(key string) *controlError {
	i := strings.LastIndexByte(key, '/')
	if !strings.HasPrefix(key, "/") || i <= 0 || !(slices.Contains(httpVerbs, key[i+1:]) || key[i+1:] == "*") {
		return badRequest(fmt.Sprintf("Invalid method throttle key %q: it must be a resource path and an HTTP method, as in /stream/POST", key))
	}
	return nil
}

func (s *Server) createUsagePlan(c *ctlReq) (int, any, *controlError) {
	var in struct {
		Name        string            `json:"name"`
		Description string            `json:"description"`
		APIStages   []apiStage        `json:"apiStages"`
		Throttle    *gateway.Throttle `json:"throttle"`
		Quota       *quota            `json:"quota"`
		Tags        map[string]string `json:"tags"`
	}
	if cerr := decodeBody(c, &in); cerr != nil {
		return 0, nil, cerr
	}
	if cerr := checkTags(in.Tags); cerr != nil {
		return 0, nil, cerr
	}
	var id string
	cerr := s.editAccount(func(a *accountDoc) *controlError {
		id = s.newKeyID(a)
		p := &planDoc{Name: in.Name, Description: in.Description, APIStages: in.APIStages, Throttle: in.Throttle, Quota: in.Quota,
			Created: s.now().Unix(), Tags: in.Tags}
		if cerr := s.checkPlan(a, id, p); cerr != nil {
			return cerr
		}
		a.Plans[id] = p
		return nil
	})
	if cerr != nil {
		return 0, nil, cerr
	}
	return http.StatusCreated, usagePlanOf(id, s.account().Plans[id]), nil
}

func (s *Server) getUsagePlans(c *ctlReq) (int, any, *controlError) {
	a := s.account()
	key := c.q.Get("keyId")
	all := []usagePlanOut{}
	for _, id := range sortedKeys(a.Plans) {
		if p := a.Plans[id]; key == "" || slices.Contains(p.Keys, key) {
			all = append(all, usagePlanOf(id, p))
		}
	}
	out, cerr := listPage(c.q, all, func(o usagePlanOut) string { return o.ID })
	return http.StatusOK, out, cerr
}

func invalidPlan() *controlError { return notFound("Invalid Usage Plan ID specified") }

func (s *Server) getUsagePlan(c *ctlReq) (int, any, *controlError) {
	p := s.account().Plans[c.p["plan"]]
	if p == nil {
		return 0, nil, invalidPlan()
	}
	return http.StatusOK, usagePlanOf(c.p["plan"], p), nil
}

func (s *Server) deleteUsagePlan(c *ctlReq) (int, any, *controlError) {
	id := c.p["plan"]
	cerr := s.editAccount(func(a *accountDoc) *controlError {
		if a.Plans[id] == nil {
			return invalidPlan()
		}
		delete(a.Plans, id)
		return nil
	})
	if cerr != nil {
		return 0, nil, cerr
	}
	s.meter.forgetPlan(id)
	return http.StatusAccepted, nil, nil
}

// updateUsagePlan applies UpdateUsagePlan's patch paths: /name, /description,
// /productCode, /throttle/{burstLimit,rateLimit}, /quota/{limit,offset,period},
// /apiStages (add or remove "apiId:stage") and
// /apiStages/{apiId:stage}/throttle/{resourcePath}/{VERB}/{burstLimit,rateLimit}.
func (s *Server) updateUsagePlan(c *ctlReq) (int, any, *controlError) {
	id := c.p["plan"]
	ops, cerr := decodePatch(c)
	if cerr != nil {
		return 0, nil, cerr
	}
	cerr = s.editAccount(func(a *accountDoc) *controlError {
		p := a.Plans[id]
		if p == nil {
			return invalidPlan()
		}
		for _, op := range ops {
			if cerr := patchPlan(p, op); cerr != nil {
				return cerr
			}
		}
		return s.checkPlan(a, id, p)
	})
	if cerr != nil {
		return 0, nil, cerr
	}
	return s.getUsagePlan(c)
}

func invalidPlanPath(op patchOp) *controlError {
	return badRequest(fmt.Sprintf("Invalid patch path '%s' specified for op '%s'. Must be one of: [/name, /description, /productCode, "+
		"/throttle/burstLimit, /throttle/rateLimit, /quota/limit, /quota/offset, /quota/period, /apiStages, "+
		"/apiStages/{apiId:stage}/throttle/{resourcePath}/{httpMethod}/burstLimit, /apiStages/{apiId:stage}/throttle/{resourcePath}/{httpMethod}/rateLimit]", op.Path, op.Op))
}

func patchPlan(p *planDoc, op patchOp) *controlError {
	segs, ok := parsePatchPath(op.Path)
	if !ok {
		return invalidPlanPath(op)
	}
	if !slices.Contains([]string{"add", "remove", "replace"}, op.Op) {
		return badRequest(fmt.Sprintf("Invalid patch operation specified: '%s' on '%s'; use add, replace or remove", op.Op, op.Path))
	}
	value := ""
	if op.Value != nil {
		value = *op.Value
	} else if op.Op != "remove" {
		return badRequest(fmt.Sprintf("Invalid patch operation specified: op '%s' on '%s' needs a value", op.Op, op.Path))
	}
	number := func() (float64, *controlError) {
		f, err := strconv.ParseFloat(value, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, badRequest(fmt.Sprintf("Invalid value '%s' for '%s': it must be a number", value, op.Path))
		}
		return f, nil
	}
	setThrottle := func(t *gateway.Throttle, field string) *controlError {
		f, cerr := number()
		if cerr != nil {
			return cerr
		}
		switch field {
		case "burstLimit":
			t.BurstLimit = int(f)
		case "rateLimit":
			t.RateLimit = f
		default:
			return invalidPlanPath(op)
		}
		return nil
	}
	switch {
	case len(segs) == 1 && slices.Contains([]string{"name", "description", "productCode"}, segs[0]):
		if op.Op != "replace" {
			return invalidPlanPath(op)
		}
		*map[string]*string{"name": &p.Name, "description": &p.Description, "productCode": &p.ProductCode}[segs[0]] = value
	case segs[0] == "throttle" && len(segs) == 1 && op.Op == "remove":
		p.Throttle = nil
	case segs[0] == "throttle" && len(segs) == 2 && op.Op != "remove":
		if p.Throttle == nil {
			p.Throttle = &gateway.Throttle{}
		}
		return setThrottle(p.Throttle, segs[1])
	case segs[0] == "quota" && len(segs) == 1 && op.Op == "remove":
		p.Quota = nil
	case segs[0] == "quota" && len(segs) == 2 && op.Op != "remove":
		if p.Quota == nil {
			p.Quota = &quota{Period: "DAY"}
		}
		switch segs[1] {
		case "period":
			p.Quota.Period = value
		case "limit", "offset":
			f, cerr := number()
			if cerr != nil {
				return cerr
			}
			*map[string]*int{"limit": &p.Quota.Limit, "offset": &p.Quota.Offset}[segs[1]] = int(f)
		default:
			return invalidPlanPath(op)
		}
	case segs[0] == "apiStages" && len(segs) == 1 && op.Op != "replace":
		apiID, stage, ok := strings.Cut(value, ":")
		if !ok || apiID == "" || stage == "" {
			return badRequest(fmt.Sprintf("Invalid API Stage specified: '%s'; give it as apiId:stageName", value))
		}
		i := slices.IndexFunc(p.APIStages, func(x apiStage) bool { return x.APIID == apiID && x.Stage == stage })
		switch {
		case op.Op == "add" && i < 0:
			p.APIStages = append(p.APIStages, apiStage{APIID: apiID, Stage: stage})
		case op.Op == "remove" && i < 0:
			return notFound(fmt.Sprintf("Invalid API Stage specified: %s is not in the usage plan", value))
		case op.Op == "remove":
			p.APIStages = slices.Delete(p.APIStages, i, i+1)
		}
	case segs[0] == "apiStages" && len(segs) >= 4 && segs[2] == "throttle":
		apiID, stage, _ := strings.Cut(segs[1], ":")
		i := slices.IndexFunc(p.APIStages, func(x apiStage) bool { return x.APIID == apiID && x.Stage == stage })
		if i < 0 {
			return notFound(fmt.Sprintf("Invalid API Stage specified: %s is not in the usage plan", segs[1]))
		}
		st := &p.APIStages[i]
		if op.Op == "remove" {
			key := "/" + strings.TrimPrefix(strings.Join(segs[3:], "/"), "/")
			if _, ok := st.Throttle[key]; !ok {
				return notFound(fmt.Sprintf("Invalid method throttle specified: %s", key))
			}
			delete(st.Throttle, key)
			return nil
		}
		if len(segs) < 5 {
			return invalidPlanPath(op)
		}
		key := "/" + strings.TrimPrefix(strings.Join(segs[3:len(segs)-1], "/"), "/")
		if cerr := checkMethodThrottleKey(key); cerr != nil {
			return cerr
		}
		if st.Throttle == nil {
			st.Throttle = map[string]gateway.Throttle{}
		}
		t := st.Throttle[key]
		if cerr := setThrottle(&t, segs[len(segs)-1]); cerr != nil {
			return cerr
		}
		st.Throttle[key] = t
	default:
		return invalidPlanPath(op)
	}
	return nil
}

// Usage plan keys.

type usagePlanKeyOut struct {
	ID    string `json:"id"`
	Type  string `json:"type"`
	Value string `json:"value"`
	Name  string `json:"name,omitempty"`
}

// planKeyOf describes key id as a usage plan key; ok is false when no key has that id.
func (s *Server) planKeyOf(a *accountDoc, id string) (usagePlanKeyOut, bool) {
	if k := a.Keys[id]; k != nil {
		return usagePlanKeyOut{ID: id, Type: "API_KEY", Value: k.Value, Name: k.Name}, true
	}
	if k := s.configKey(id); k != nil {
		return usagePlanKeyOut{ID: id, Type: "API_KEY", Value: k.Value, Name: k.Name}, true
	}
	return usagePlanKeyOut{}, false
}

func (s *Server) createUsagePlanKey(c *ctlReq) (int, any, *controlError) {
	var in struct {
		KeyID   string `json:"keyId"`
		KeyType string `json:"keyType"`
	}
	if cerr := decodeBody(c, &in); cerr != nil {
		return 0, nil, cerr
	}
	if in.KeyType != "API_KEY" {
		return 0, nil, badRequest(fmt.Sprintf("Invalid key type specified: %q; the valid key type is API_KEY", in.KeyType))
	}
	plan := c.p["plan"]
	cerr := s.editAccount(func(a *accountDoc) *controlError {
		p := a.Plans[plan]
		if p == nil {
			return invalidPlan()
		}
		if _, ok := s.planKeyOf(a, in.KeyID); !ok {
			return notFound("Invalid API Key identifier specified")
		}
		if slices.Contains(p.Keys, in.KeyID) {
			return conflict("Usage Plan Key already exists: " + in.KeyID)
		}
		p.Keys = append(p.Keys, in.KeyID)
		slices.Sort(p.Keys)
		return s.checkPlan(a, plan, p)
	})
	if cerr != nil {
		return 0, nil, cerr
	}
	out, _ := s.planKeyOf(s.account(), in.KeyID)
	return http.StatusCreated, out, nil
}

func (s *Server) getUsagePlanKeys(c *ctlReq) (int, any, *controlError) {
	a := s.account()
	p := a.Plans[c.p["plan"]]
	if p == nil {
		return 0, nil, invalidPlan()
	}
	all := []usagePlanKeyOut{}
	for _, id := range p.Keys {
		if k, ok := s.planKeyOf(a, id); ok && strings.HasPrefix(k.Name, c.q.Get("name")) {
			all = append(all, k)
		}
	}
	out, cerr := listPage(c.q, all, func(k usagePlanKeyOut) string { return k.ID })
	return http.StatusOK, out, cerr
}

func (s *Server) getUsagePlanKey(c *ctlReq) (int, any, *controlError) {
	a := s.account()
	p := a.Plans[c.p["plan"]]
	if p == nil {
		return 0, nil, invalidPlan()
	}
	k, ok := s.planKeyOf(a, c.p["key"])
	if !ok || !slices.Contains(p.Keys, c.p["key"]) {
		return 0, nil, notFound("Invalid Usage Plan Key specified")
	}
	return http.StatusOK, k, nil
}

func (s *Server) deleteUsagePlanKey(c *ctlReq) (int, any, *controlError) {
	plan, key := c.p["plan"], c.p["key"]
	cerr := s.editAccount(func(a *accountDoc) *controlError {
		p := a.Plans[plan]
		if p == nil {
			return invalidPlan()
		}
		if !slices.Contains(p.Keys, key) {
			return notFound("Invalid Usage Plan Key specified")
		}
		p.Keys = slices.DeleteFunc(p.Keys, func(k string) bool { return k == key })
		return nil
	})
	if cerr != nil {
		return 0, nil, cerr
	}
	return http.StatusAccepted, nil, nil
}

// planFor returns the usage plan that lets key id call stage of apiID, and its id.
func planFor(a *accountDoc, keyID, apiID, stage string) (string, *planDoc) {
	for _, pid := range sortedKeys(a.Plans) {
		p := a.Plans[pid]
		if slices.Contains(p.Keys, keyID) && slices.ContainsFunc(p.APIStages, func(x apiStage) bool { return x.APIID == apiID && x.Stage == stage }) {
			return pid, p
		}
	}
	return "", nil
}
