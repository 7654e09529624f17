package gatewayapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/localpipe/localpipe/gateway"
)

// Usage plans on the invoke path. A method that requires an API key admits a request whose
// key is enabled and may call the stage: through a usage plan that lists the stage, through
// the key's stageKeys, or, for a key of the --config file, as its stageKeys say (none: every
// stage). When a usage plan admits the key, its quota (429 QUOTA_EXCEEDED, "Limit
// Exceeded") and throttle (429 THROTTLED, "Too Many Requests"; a token bucket per key,
// rateLimit tokens a second up to burstLimit, a method's own throttle in the plan's API
// stage replacing the plan's) apply, and the request is counted for GetUsage.
//
// Counts are kept in memory and saved at a clean stop (SaveUsage): after a crash every
// key's usage and quota start from what the last clean stop saved.

var (
	errThrottled = gwError{typ: "THROTTLED", status: 429, message: "Too Many Requests", errorType: "TooManyRequestsException"}
	errQuota     = gwError{typ: "QUOTA_EXCEEDED", status: 429, message: "Limit Exceeded", errorType: "LimitExceededException"}
)

// admit applies the stage's method throttling (methodsettings.go), then, when the method
// requires an API key, decides whether the key value may call it and meters the request
// against the key's usage plan. value is the x-api-key header, or, for an API whose key
// source is AUTHORIZER, the usageIdentifierKey the authorizer returned.
func (q *call) admit(value string) (gwError, bool) {
	if e, refused := q.admitStage(); refused {
		return e, true
	}
	if !q.p.Method.APIKeyRequired || q.test != nil {
		return gwError{}, false
	}
	if value == "" {
		return errForbidden, true
	}
	apiID := q.d.API.ID
	q.s.mu.RLock()
	a := q.s.acct
	id, found := q.s.keyIDs[value]
	q.s.mu.RUnlock()
	if k, ok := q.s.apiKey(value, apiID, q.stageName); ok {
		q.key = k
	} else {
		kd := a.Keys[id]
		if !found || kd == nil || !kd.Enabled {
			return errForbidden, true
		}
		q.key = &APIKey{ID: id, Name: kd.Name, Value: kd.Value, Description: kd.Description}
		if _, p := planFor(a, id, apiID, q.stageName); p == nil && !slices.Contains(kd.StageKeys, apiID+"/"+q.stageName) {
			return errForbidden, true
		}
	}
	planID, p := planFor(a, q.key.ID, apiID, q.stageName)
	if p == nil {
		return gwError{}, false
	}
	t := p.Throttle
	for _, st := range p.APIStages {
		if st.APIID != apiID || st.Stage != q.stageName {
			continue
		}
		if mt, ok := st.Throttle[q.p.Resource.Path+"/"+q.p.Method.HTTPMethod]; ok {
			t = &mt
		} else if mt, ok := st.Throttle[q.p.Resource.Path+"/*"]; ok {
			t = &mt
		}
	}
	if e, refused := q.s.meter.admit(q.s.now(), planID, p, q.key.ID, q.p.Resource.Path+"/"+q.p.Method.HTTPMethod, t); refused {
		return e, true
	}
	return gwError{}, false
}

// meter keeps the token buckets and the usage counts of keys in usage plans.
type meter struct {
	mu      sync.Mutex
	buckets map[bucketKey]*bucket
	usage   map[usageKey]*keyUsage
}

type usageKey struct{ plan, key string }

type bucketKey struct{ plan, key, method string }

type bucket struct {
	tokens float64
	last   time.Time
}

type keyUsage struct {
	days        map[string]int64 // "2006-01-02" (UTC) → requests admitted
	periodStart time.Time        // the quota period used counts in
	used        int64
}

func newMeter() *meter {
	return &meter{buckets: map[bucketKey]*bucket{}, usage: map[usageKey]*keyUsage{}}
}

// periodStart is the start of the quota period holding t: the UTC day, the ISO week
// (from Monday) or the calendar month.
func periodStart(t time.Time, period string) time.Time {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	switch period {
	case "WEEK":
		return day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
	case "MONTH":
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return day
}

// current returns the key's usage with used counting the quota period holding now; the
// plan's quota offset is taken off the limit in the period the plan was created in. The
// caller holds m.mu.
func (m *meter) current(now time.Time, planID string, p *planDoc, keyID string) *keyUsage {
	k := usageKey{planID, keyID}
	u := m.usage[k]
	if u == nil {
		u = &keyUsage{days: map[string]int64{}}
		m.usage[k] = u
	}
	if p.Quota != nil {
		if start := periodStart(now, p.Quota.Period); !u.periodStart.Equal(start) {
			u.periodStart, u.used = start, 0
			if start.Equal(periodStart(time.Unix(p.Created, 0), p.Quota.Period)) {
				u.used = int64(p.Quota.Offset)
			}
		}
	}
	return u
}

func (m *meter) admit(now time.Time, planID string, p *planDoc, keyID, method string, t *gateway.Throttle) (gwError, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u := m.current(now, planID, p, keyID)
	if p.Quota != nil && u.used >= int64(p.Quota.Limit) {
		return errQuota, true
	}
	if t != nil {
		bk := bucketKey{planID, keyID, ""}
		if t != p.Throttle {
			bk.method = method
		}
		if !m.takeLocked(now, bk, *t) {
			return errThrottled, true
		}
	}
	u.used++
	u.days[now.UTC().Format(time.DateOnly)]++
	return gwError{}, false
}

// take takes a token from the bucket bk, which holds up to t.BurstLimit tokens and gains
// t.RateLimit a second; false when it is empty.
func (m *meter) take(now time.Time, bk bucketKey, t gateway.Throttle) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.takeLocked(now, bk, t)
}

func (m *meter) takeLocked(now time.Time, bk bucketKey, t gateway.Throttle) bool {
	b := m.buckets[bk]
	if b == nil {
		b = &bucket{tokens: float64(t.BurstLimit), last: now}
		m.buckets[bk] = b
	}
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens = min(float64(t.BurstLimit), b.tokens+dt*t.RateLimit)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// reset forgets every count and bucket.
func (m *meter) reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.buckets, m.usage = map[bucketKey]*bucket{}, map[usageKey]*keyUsage{}
}

func (m *meter) forgetPlan(planID string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.usage {
		if k.plan == planID {
			delete(m.usage, k)
		}
	}
	for k := range m.buckets {
		if k.plan == planID {
			delete(m.buckets, k)
		}
	}
}

// maxUsageDays bounds a GetUsage range, so that one request cannot ask for millions of days.
const maxUsageDays = 366

type usageOut struct {
	UsagePlanID string               `json:"usagePlanId"`
	StartDate   string               `json:"startDate"`
	EndDate     string               `json:"endDate"`
	Position    string               `json:"position,omitempty"`
	Values      map[string][][]int64 `json:"values"`
}

// parseUsageRange reads GetUsage's startDate and endDate (yyyy-MM-dd, both required).
func parseUsageRange(start, end string) (time.Time, time.Time, *controlError) {
	if start == "" || end == "" {
		return time.Time{}, time.Time{}, badRequest("Invalid request input: startDate and endDate are required, as yyyy-MM-dd")
	}
	from, err := time.Parse(time.DateOnly, start)
	if err != nil {
		return time.Time{}, time.Time{}, badRequest(fmt.Sprintf("Invalid startDate %q: give it as yyyy-MM-dd", start))
	}
	to, err := time.Parse(time.DateOnly, end)
	if err != nil {
		return time.Time{}, time.Time{}, badRequest(fmt.Sprintf("Invalid endDate %q: give it as yyyy-MM-dd", end))
	}
	if to.Before(from) {
		return time.Time{}, time.Time{}, badRequest("The end date must not be before the start date")
	}
	if to.Sub(from) > maxUsageDays*24*time.Hour {
		return time.Time{}, time.Time{}, badRequest(fmt.Sprintf("The date range must not be longer than %d days", maxUsageDays))
	}
	return from, to, nil
}

// usage describes the usage of the plan's keys (or of keyID alone) from one day to
// another: per key, per day, [requests admitted, quota remaining]. Remaining is what the
// quota had left at the end of that day, and for days of the current period what it has
// left now (UpdateUsage included); without a quota it is 0.
func (s *Server) usage(planID string, p *planDoc, keyID string, from, to time.Time) usageOut {
	out := usageOut{UsagePlanID: planID, StartDate: from.Format(time.DateOnly), EndDate: to.Format(time.DateOnly), Values: map[string][][]int64{}}
	now := s.now()
	s.meter.mu.Lock()
	defer s.meter.mu.Unlock()
	for _, kid := range p.Keys {
		if keyID != "" && kid != keyID {
			continue
		}
		u := s.meter.current(now, planID, p, kid)
		var rows [][]int64
		var cum int64
		var cumStart time.Time
		for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
			used := u.days[d.Format(time.DateOnly)]
			var remaining int64
			if p.Quota != nil {
				if start := periodStart(d, p.Quota.Period); !start.Equal(cumStart) {
					cumStart, cum = start, 0
				}
				cum += used
				remaining = int64(p.Quota.Limit) - cum
				if cumStart.Equal(u.periodStart) {
					remaining = int64(p.Quota.Limit) - u.used
				}
				remaining = max(remaining, 0)
			}
			rows = append(rows, []int64{used, remaining})
		}
		out.Values[kid] = rows
	}
	return out
}

func (s *Server) getUsage(c *ctlReq) (int, any, *controlError) {
	p := s.account().Plans[c.p["plan"]]
	if p == nil {
		return 0, nil, invalidPlan()
	}
	from, to, cerr := parseUsageRange(c.q.Get("startDate"), c.q.Get("endDate"))
	if cerr != nil {
		return 0, nil, cerr
	}
	if _, cerr := pageLimit(c.q); cerr != nil {
		return 0, nil, cerr
	}
	key := c.q.Get("keyId")
	if key != "" && !slices.Contains(p.Keys, key) {
		return 0, nil, notFound("Invalid Usage Plan Key specified")
	}
	return http.StatusOK, s.usage(c.p["plan"], p, key, from, to), nil
}

// updateUsage is UpdateUsage: "replace /remaining" sets what the key's quota has left in
// the current period.
func (s *Server) updateUsage(c *ctlReq) (int, any, *controlError) {
	planID, keyID := c.p["plan"], c.p["key"]
	ops, cerr := decodePatch(c)
	if cerr != nil {
		return 0, nil, cerr
	}
	p := s.account().Plans[planID]
	if p == nil {
		return 0, nil, invalidPlan()
	}
	if !slices.Contains(p.Keys, keyID) {
		return 0, nil, notFound("Invalid Usage Plan Key specified")
	}
	if p.Quota == nil {
		return 0, nil, badRequest("Usage plan " + planID + " has no quota, so there is no remaining quota to change")
	}
	remaining := int64(-1)
	for _, op := range ops {
		if op.Op != "replace" || op.Path != "/remaining" || op.Value == nil {
			return 0, nil, badRequest(fmt.Sprintf("Invalid patch path '%s' specified for op '%s'. Must be one of: [/remaining] with op replace and a value", op.Path, op.Op))
		}
		n, err := strconv.ParseInt(*op.Value, 10, 64)
		if err != nil || n < 0 {
			return 0, nil, badRequest(fmt.Sprintf("Invalid value '%s' for '/remaining': it must be a whole number, not negative", *op.Value))
		}
		remaining = n
	}
	now := s.now()
	if remaining >= 0 {
		s.meter.mu.Lock()
		u := s.meter.current(now, planID, p, keyID)
		u.used = int64(p.Quota.Limit) - remaining
		s.meter.mu.Unlock()
		// A change the caller was answered for is durable, like every control-plane write.
		if err := s.SaveUsage(); err != nil {
			return 0, nil, s.internalError("save the usage", err)
		}
	}
	day := periodStart(now, "DAY")
	return http.StatusOK, s.usage(planID, p, keyID, day, day), nil
}

// usageDoc is the saved form of the meter's counts. Token buckets are not saved: a
// restart gives every key its burst again.
type usageDoc struct {
	V     int            `json:"v"`
	Usage []usageDocItem `json:"usage"`
}

type usageDocItem struct {
	Plan        string           `json:"plan"`
	Key         string           `json:"key"`
	Days        map[string]int64 `json:"days"`
	PeriodStart int64            `json:"periodStart"`
	Used        int64            `json:"used"`
}

// maxUsageAge is how long a day's count is kept.
const maxUsageAge = 400 * 24 * time.Hour

func (m *meter) snapshot(now time.Time) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	doc := usageDoc{V: apiDocVersion, Usage: []usageDocItem{}}
	oldest := now.Add(-maxUsageAge).UTC().Format(time.DateOnly)
	for k, u := range m.usage {
		days := map[string]int64{}
		for d, n := range u.days {
			if d >= oldest {
				days[d] = n
			}
		}
		doc.Usage = append(doc.Usage, usageDocItem{Plan: k.plan, Key: k.key, Days: days, PeriodStart: u.periodStart.Unix(), Used: u.used})
	}
	return json.Marshal(doc)
}

func (m *meter) restore(raw []byte) error {
	if len(raw) == 0 {
		return nil
	}
	var doc usageDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		return err
	}
	if doc.V != apiDocVersion {
		return fmt.Errorf("format version %d, this localpipe reads %d", doc.V, apiDocVersion)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, it := range doc.Usage {
		if it.Days == nil {
			it.Days = map[string]int64{}
		}
		m.usage[usageKey{it.Plan, it.Key}] = &keyUsage{days: it.Days, periodStart: time.Unix(it.PeriodStart, 0).UTC(), used: it.Used}
	}
	return nil
}

// SaveUsage saves the usage plans' counts to the store, so that a clean restart keeps every
// key's usage and what its quota has left. Without a store it does nothing.
func (s *Server) SaveUsage() error {
	s.mu.RLock()
	st := s.store
	s.mu.RUnlock()
	if st == nil {
		return nil
	}
	b, err := s.meter.snapshot(s.now())
	if err != nil {
		return err
	}
	return st.SaveUsage(b)
}
