package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/localpipe/localpipe/firehose/firehoseapi"
	"github.com/localpipe/localpipe/gateway/gatewayapi"
	"github.com/localpipe/localpipe/internal/awsjson"
	"github.com/localpipe/localpipe/objectstore/s3api"
	"github.com/localpipe/localpipe/stream/kinesisapi"
)

// FaultSpec declares one injected fault, as the config's `faults:` entries and POST
// /_localpipe/faults give it.
type FaultSpec struct {
	Service   string `json:"service"`
	Operation string `json:"operation,omitempty"`
	Resource  string `json:"resource,omitempty"`
	Error     string `json:"error,omitempty"`
	Latency   string `json:"latency,omitempty"`
	// Probability (0..1) draws from a generator seeded with Seed, so a run repeats; Count
	// fires on the first Count matching calls. Neither means every matching call.
	Probability *float64 `json:"probability,omitempty"`
	Seed        *uint64  `json:"seed,omitempty"`
	Count       *int64   `json:"count,omitempty"`
	// Entries "partial" fails some entries of a PutRecords or PutRecordBatch instead of the
	// whole call.
	Entries string `json:"entries,omitempty"`
}

// faultErrors are the error codes a fault may answer with, per service, with the status AWS
// answers them with. Kinesis and Firehose codes come from their service models plus the
// errors every JSON 1.1 service's front end can give; S3's are the retryable and common ones.
var faultErrors = map[string]map[string]int{
	"kinesis": {
		"ProvisionedThroughputExceededException": 400, "LimitExceededException": 400,
		"ResourceNotFoundException": 400, "ResourceInUseException": 400, "InvalidArgumentException": 400,
		"ExpiredIteratorException": 400, "AccessDeniedException": 400, "KMSThrottlingException": 400,
		"ValidationException": 400, "ThrottlingException": 400,
		"InternalFailure": 500, "InternalFailureException": 500, "ServiceUnavailable": 503,
	},
	"firehose": {
		"ServiceUnavailableException": 503, "LimitExceededException": 400, "ResourceNotFoundException": 400,
		"ResourceInUseException": 400, "InvalidArgumentException": 400, "InvalidKMSResourceException": 400,
		"ConcurrentModificationException": 400, "ThrottlingException": 400,
		"InternalFailure": 500, "ServiceUnavailable": 503,
	},
	// API Gateway answers an invoke with one of its gateway responses.
	"apigateway": gatewayapi.FaultResponseTypes(),
	"s3": {
		"SlowDown": 503, "InternalError": 500, "ServiceUnavailable": 503, "AccessDenied": 403,
		"NoSuchBucket": 404, "NoSuchKey": 404, "RequestTimeout": 400,
	},
}

// gatewayMethods are the methods an apigateway fault may name; ANY matches every method.
var gatewayMethods = []string{"ANY", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"}

// partialOps are the batch operations `entries: partial` applies to, per service, and
// partialCodes the error codes AWS gives a failed entry of them (PutRecordsResultEntry,
// PutRecordBatchResponseEntry), the first being a partial fault's default.
var (
	partialOps   = map[string]string{"kinesis": "PutRecords", "firehose": "PutRecordBatch"}
	partialCodes = map[string][]string{
		"kinesis":  {"ProvisionedThroughputExceededException", "InternalFailure"},
		"firehose": {"ServiceUnavailableException", "InternalFailure"},
	}
)

func faultOperations(service string) []string {
	switch service {
	case "kinesis":
		return kinesisapi.Operations()
	case "firehose":
		return firehoseapi.Operations()
	case "s3":
		return s3api.Operations()
	}
	return nil
}

func sortedKeys[V any](m map[string]V) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return strings.Join(keys, ", ")
}

// ParseFaults decodes and checks a JSON list of fault declarations (the body of POST
// /_localpipe/faults), naming the entry and the valid values in any error.
func ParseFaults(raw []byte) ([]FaultSpec, error) {
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("want a JSON list of faults: %w", err)
	}
	specs := make([]FaultSpec, len(list))
	for i, item := range list {
		s, err := parseFault(item)
		if err != nil {
			return nil, fmt.Errorf("faults[%d]: %w", i, err)
		}
		specs[i] = s
	}
	return specs, nil
}

// parseFault decodes and checks one declaration.
func parseFault(raw []byte) (FaultSpec, error) {
	var s FaultSpec
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return s, fmt.Errorf("want an object with service, operation, resource, error, latency, probability, seed, count, entries: %w", err)
	}
	if dec.More() {
		return s, errors.New("trailing data after the fault")
	}
	_, err := compileFault(s)
	return s, err
}

// faultRule is a checked declaration with its state: the generator and the calls left.
type faultRule struct {
	id      string
	spec    FaultSpec
	status  int
	latency time.Duration
	partial bool

	mu    sync.Mutex
	rng   *rand.Rand
	left  int64 // calls left when spec.Count is set
	fired atomic.Int64
}

func compileFault(s FaultSpec) (*faultRule, error) {
	codes, ok := faultErrors[s.Service]
	if !ok {
		return nil, fmt.Errorf("service %q: want one of apigateway, firehose, kinesis, s3", s.Service)
	}
	r := &faultRule{spec: s}
	if s.Service == "apigateway" && s.Operation != "" {
		method, path, _ := strings.Cut(s.Operation, " ")
		if !slices.Contains(gatewayMethods, method) || !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " ?") {
			return nil, fmt.Errorf("operation %q: for apigateway, want METHOD /resource/path as the API declares it, e.g. \"POST /streams/{name}/record\" (METHOD one of %s)",
				s.Operation, strings.Join(gatewayMethods, ", "))
		}
	} else if s.Operation != "" {
		if ops := faultOperations(s.Service); !slices.Contains(ops, s.Operation) {
			return nil, fmt.Errorf("operation %q is not a %s operation localpipe serves: want one of %s", s.Operation, s.Service, strings.Join(ops, ", "))
		}
	}
	if s.Error == "" && s.Latency == "" && s.Entries == "" {
		return nil, errors.New("no effect: give error, latency, or both")
	}
	if s.Error != "" {
		if r.status, ok = codes[s.Error]; !ok {
			return nil, fmt.Errorf("error %q is not a %s error code: want one of %s", s.Error, s.Service, sortedKeys(codes))
		}
	}
	if s.Latency != "" {
		d, err := time.ParseDuration(s.Latency)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("latency %q: want a positive duration such as 200ms or 2s", s.Latency)
		}
		r.latency = d
	}
	switch s.Entries {
	case "":
	case "partial":
		op, ok := partialOps[s.Service]
		if !ok || s.Operation != op {
			given := strings.TrimSpace(s.Service + " " + s.Operation)
			if s.Operation == "" {
				given += " (every operation)"
			}
			return nil, fmt.Errorf("entries: partial applies to kinesis PutRecords and firehose PutRecordBatch only, not %s: give service and operation", given)
		}
		if codes := partialCodes[s.Service]; s.Error != "" && !slices.Contains(codes, s.Error) {
			return nil, fmt.Errorf("error %q: a failed entry of %s has one of %s", s.Error, op, strings.Join(codes, ", "))
		}
		r.partial = true
	default:
		return nil, fmt.Errorf("entries %q: want partial (or leave it out to fail the whole call)", s.Entries)
	}
	if s.Probability != nil && s.Count != nil {
		return nil, errors.New("give probability or count, not both")
	}
	if p := s.Probability; p != nil && !(*p >= 0 && *p <= 1) {
		return nil, fmt.Errorf("probability %v: want a number from 0 to 1", *p)
	}
	if s.Seed != nil && s.Probability == nil {
		return nil, errors.New("seed needs probability")
	}
	if s.Count != nil {
		if *s.Count < 1 {
			return nil, fmt.Errorf("count %d: want 1 or more", *s.Count)
		}
		r.left = *s.Count
	}
	if s.Probability != nil {
		var seed uint64
		if s.Seed != nil {
			seed = *s.Seed
		}
		r.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	}
	return r, nil
}

// fire decides whether the rule fires for one matching call, and counts it if so.
func (r *faultRule) fire() bool {
	if r.spec.Count == nil && r.rng == nil {
		r.fired.Add(1)
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.spec.Count != nil:
		if r.left == 0 {
			return false
		}
		r.left--
	case r.rng.Float64() >= *r.spec.Probability:
		return false
	}
	r.fired.Add(1)
	return true
}

// faultRegistry holds the active faults. The services consult it on every call, so with no
// faults declared a call costs one atomic load; the list is replaced, never edited in place.
type faultRegistry struct {
	mu     sync.Mutex // serialises writers
	nextID int
	rules  atomic.Pointer[[]*faultRule] // nil when there are none
	// sleep waits out a latency fault; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error
	fired *prometheus.CounterVec
}

// newFaultRegistry makes an empty registry; reg (nil for none) gets its counter of fired
// faults.
func newFaultRegistry(reg prometheus.Registerer) *faultRegistry {
	f := &faultRegistry{sleep: sleepCtx, fired: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "localpipe_faults_fired_total",
		Help: "Calls an injected fault (/_localpipe/faults, the config's faults:) failed, slowed or partly failed.",
	}, []string{"service", "operation"})}
	if reg != nil {
		reg.MustRegister(f.fired)
	}
	return f
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// add activates checked declarations and returns their ids.
func (f *faultRegistry) add(specs []FaultSpec) ([]string, error) {
	rules := make([]*faultRule, len(specs))
	for i, s := range specs {
		r, err := compileFault(s)
		if err != nil {
			return nil, fmt.Errorf("faults[%d]: %w", i, err)
		}
		rules[i] = r
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var all []*faultRule
	if old := f.rules.Load(); old != nil {
		all = slices.Clone(*old)
	}
	ids := make([]string, len(rules))
	for i, r := range rules {
		f.nextID++
		r.id = "f" + strconv.Itoa(f.nextID)
		ids[i] = r.id
		all = append(all, r)
	}
	if len(all) > 0 { // none stays nil: the one atomic load the services' calls cost
		f.rules.Store(&all)
	}
	return ids, nil
}

// remove deactivates the fault id, or every fault when id is empty; it reports how many went.
func (f *faultRegistry) remove(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	old := f.rules.Load()
	if old == nil {
		return 0
	}
	var keep []*faultRule
	if id != "" {
		keep = slices.DeleteFunc(slices.Clone(*old), func(r *faultRule) bool { return r.id == id })
	}
	n := len(*old) - len(keep)
	if len(keep) == 0 {
		f.rules.Store(nil)
	} else {
		f.rules.Store(&keep)
	}
	return n
}

// faultStatus is one active fault as GET /_localpipe/faults shows it.
type faultStatus struct {
	ID string `json:"id"`
	FaultSpec
	Fired int64 `json:"fired"`
}

func (f *faultRegistry) list() []faultStatus {
	out := []faultStatus{}
	if rules := f.rules.Load(); rules != nil {
		for _, r := range *rules {
			out = append(out, faultStatus{ID: r.id, FaultSpec: r.spec, Fired: r.fired.Load()})
		}
	}
	return out
}

// match finds the first fault that fires for a call; names reports whether the call names
// the resource a fault gives, and is asked only if such a fault gets that far.
func (f *faultRegistry) match(service, op string, names func(resource string) bool) *faultRule {
	rules := f.rules.Load()
	if rules == nil {
		return nil
	}
	for _, r := range *rules {
		if r.spec.Service != service || !r.matchesOperation(op) {
			continue
		}
		if r.spec.Resource != "" && !names(r.spec.Resource) {
			continue
		}
		if r.fire() {
			f.fired.WithLabelValues(service, op).Inc()
			return r
		}
	}
	return nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// is is the names function of a call whose resource is known.
func is(resource string) func(string) bool {
	return func(want string) bool { return want == resource }
}

// jsonNames is the names function of a JSON 1.1 call. Decoding the body for the stream it
// names is what a declared fault on one stream costs the calls to every other stream, so the
// body is searched first: an ASCII name (every stream and delivery stream name is) that does
// not occur in it is not the one it names, unless JSON escapes spell it. Decoding replaces
// only invalid UTF-8, never with ASCII, so it cannot make such a name appear. The decoded
// name is kept for the call's other faults.
func jsonNames(body []byte) func(string) bool {
	res, done := "", false
	return func(want string) bool {
		if isASCII(want) && !bytes.Contains(body, []byte(want)) && bytes.IndexByte(body, '\\') < 0 {
			return false
		}
		if !done {
			res, done = jsonResource(body), true
		}
		return res == want
	}
}

func (r *faultRule) matchesOperation(op string) bool {
	switch want := r.spec.Operation; {
	case want == "" || want == op:
		return true
	case r.spec.Service == "apigateway":
		// "ANY /p" matches every method on /p.
		path, ok := strings.CutPrefix(want, "ANY ")
		_, opPath, _ := strings.Cut(op, " ")
		return ok && path == opPath
	}
	return false
}

// gatewayFault is the gateway's hook into the registry: the operation is "METHOD /path".
func (f *faultRegistry) gatewayFault(ctx context.Context, apiID, method, resourcePath string) string {
	if f.rules.Load() == nil || ctx.Value(bootstrapKey{}) != nil {
		return ""
	}
	r := f.match("apigateway", method+" "+resourcePath, is(apiID))
	if r == nil {
		return ""
	}
	if r.latency > 0 {
		if err := f.sleep(ctx, r.latency); err != nil {
			return "INTEGRATION_TIMEOUT"
		}
	}
	return r.spec.Error
}

// jsonResource is the stream or delivery stream a JSON 1.1 request names, by name or ARN.
func jsonResource(body []byte) string {
	var req struct{ StreamName, StreamARN, DeliveryStreamName, ConsumerARN string }
	json.Unmarshal(body, &req)
	switch {
	case req.StreamName != "":
		return req.StreamName
	case req.DeliveryStreamName != "":
		return req.DeliveryStreamName
	}
	arn := req.StreamARN
	if arn == "" {
		arn = req.ConsumerARN
	}
	// arn:aws:kinesis:REGION:ACCOUNT:stream/NAME[/consumer/…]
	if _, rest, ok := strings.Cut(arn, ":stream/"); ok {
		name, _, _ := strings.Cut(rest, "/")
		return name
	}
	return ""
}

// bootstrapKey marks the context of the calls that create the config's resources. The
// config's faults are declared before the engines open, so that what Firehose delivers as
// soon as it opens (a batch decided before a crash) meets them; the config's own creation
// calls must not.
type bootstrapKey struct{}

// interceptor is the JSON 1.1 services' hook into the registry.
func (f *faultRegistry) interceptor(service string) awsjson.Interceptor {
	return func(ctx context.Context, action string, body []byte, region string, next awsjson.InvokeFunc) (int, []byte) {
		rules := f.rules.Load()
		if rules == nil || ctx.Value(bootstrapKey{}) != nil {
			return next(ctx, action, body, region)
		}
		if action == partialOps[service] && slices.ContainsFunc(*rules, func(r *faultRule) bool { return r.partial && r.spec.Service == service }) {
			// A partial fault answers only a batch the operation would take: one that is
			// itself invalid gets the error it gets anyway, and spends no count or draw.
			if status, resp := next(awsjson.CheckOnly(ctx), action, body, region); status != http.StatusOK {
				return status, resp
			}
		}
		r := f.match(service, action, jsonNames(body))
		if r == nil {
			return next(ctx, action, body, region)
		}
		if r.latency > 0 {
			if err := f.sleep(ctx, r.latency); err != nil {
				// The caller is gone; nothing runs, so nothing is stored.
				return http.StatusInternalServerError, awsjson.ErrorBody("InternalFailure", "")
			}
		}
		if r.partial {
			return r.partialBatch(ctx, service, action, body, region, next)
		}
		if r.spec.Error == "" {
			return next(ctx, action, body, region)
		}
		return r.status, awsjson.ErrorBody(r.spec.Error, r.message(service, jsonResource(body)))
	}
}

// message is what a fault's error says: AWS's wording for the common throttles, and which
// fault it was, so a user reading a log can tell an injected failure from a real one.
func (r *faultRule) message(service, resource string) string {
	msg := ""
	switch r.spec.Error {
	case "ProvisionedThroughputExceededException":
		msg = "Rate exceeded for stream " + resource + " under account " + awsjson.Account + "."
	case "SlowDown":
		msg = "Please reduce your request rate."
	case "ServiceUnavailableException":
		msg = "Slow down."
	case "InternalFailure", "InternalFailureException", "InternalError":
		msg = "We encountered an internal error. Please try again."
	case "ServiceUnavailable":
		msg = "Service Unavailable"
	}
	return strings.TrimSpace(msg + " (localpipe fault " + r.id + ")")
}

// partialBatch fails the entries at even positions (the first, third, …) of a PutRecords or
// PutRecordBatch and sends the rest on, then answers as AWS does for a partly failed batch:
// per-entry ErrorCode and ErrorMessage in request order, and the failed count. A failed
// entry is never stored. The interceptor has checked the whole request as the operation
// checks it (input, limits, the stream it names), so a request that is itself invalid got
// the error it would get without the fault, never a partial result.
func (r *faultRule) partialBatch(ctx context.Context, service, action string, body []byte, region string, next awsjson.InvokeFunc) (int, []byte) {
	respList, countKey := "Records", "FailedRecordCount"
	if service == "firehose" {
		respList, countKey = "RequestResponses", "FailedPutCount"
	}
	var req map[string]json.RawMessage
	var records []json.RawMessage
	if json.Unmarshal(body, &req) != nil || json.Unmarshal(req["Records"], &records) != nil || len(records) == 0 {
		return next(ctx, action, body, region) // not reached: the check refused it
	}
	var kept []json.RawMessage
	for i, rec := range records {
		if i%2 == 1 {
			kept = append(kept, rec)
		}
	}
	code := r.spec.Error
	if code == "" {
		code = partialCodes[service][0]
	}
	failed, _ := json.Marshal(map[string]string{"ErrorCode": code, "ErrorMessage": r.message(service, jsonResource(body))})
	out := map[string]json.RawMessage{}
	var okEntries []json.RawMessage
	if len(kept) > 0 {
		req["Records"], _ = json.Marshal(kept)
		sub, _ := json.Marshal(req)
		status, resp := next(ctx, action, sub, region)
		if status != http.StatusOK || json.Unmarshal(resp, &out) != nil || json.Unmarshal(out[respList], &okEntries) != nil {
			return status, resp
		}
	} else if service == "firehose" {
		out["Encrypted"] = json.RawMessage("false")
	}
	var prior int
	json.Unmarshal(out[countKey], &prior)
	merged := make([]json.RawMessage, len(records))
	for i := range records {
		if i%2 == 1 && i/2 < len(okEntries) {
			merged[i] = okEntries[i/2]
		} else {
			merged[i] = failed
		}
	}
	out[respList], _ = json.Marshal(merged)
	out[countKey] = json.RawMessage(strconv.Itoa(prior + (len(records)+1)/2))
	b, _ := json.Marshal(out)
	return http.StatusOK, b
}

// s3Fault is the S3 handler's hook into the registry.
func (f *faultRegistry) s3Fault(ctx context.Context, op, bucket string) (code, msg string, status int) {
	if f.rules.Load() == nil || ctx.Value(bootstrapKey{}) != nil {
		return "", "", 0
	}
	r := f.match("s3", op, is(bucket))
	if r == nil {
		return "", "", 0
	}
	if r.latency > 0 {
		if err := f.sleep(ctx, r.latency); err != nil {
			return "InternalError", "We encountered an internal error. Please try again.", http.StatusInternalServerError
		}
	}
	if r.spec.Error == "" {
		return "", "", 0
	}
	return r.spec.Error, r.message("s3", bucket), r.status
}

// serveFaults answers the run-time fault API: POST /_localpipe/faults (a JSON list of
// declarations; answers their ids), GET (the active faults and how often each fired), DELETE
// (all) and DELETE /_localpipe/faults/{id}.
func (a *App) serveFaults(w http.ResponseWriter, r *http.Request) {
	id, one := strings.CutPrefix(r.URL.Path, "/_localpipe/faults/")
	reply := func(status int, v any) {
		body, _ := json.Marshal(v)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(append(body, '\n'))
	}
	switch {
	case one && r.Method == http.MethodDelete:
		if a.faults.remove(id) == 0 {
			reply(http.StatusNotFound, map[string]string{"message": "no active fault " + id})
			return
		}
		reply(http.StatusOK, map[string]int{"deleted": 1})
	case one:
		w.Header().Set("Allow", "DELETE")
		reply(http.StatusMethodNotAllowed, map[string]string{"message": "use DELETE"})
	case r.Method == http.MethodGet:
		reply(http.StatusOK, map[string]any{"faults": a.faults.list()})
	case r.Method == http.MethodDelete:
		reply(http.StatusOK, map[string]int{"deleted": a.faults.remove("")})
	case r.Method == http.MethodPost:
		raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			reply(http.StatusBadRequest, map[string]string{"message": err.Error()})
			return
		}
		specs, err := ParseFaults(raw)
		if err != nil {
			reply(http.StatusBadRequest, map[string]string{"message": err.Error()})
			return
		}
		ids, err := a.faults.add(specs)
		if err != nil {
			reply(http.StatusBadRequest, map[string]string{"message": err.Error()})
			return
		}
		reply(http.StatusOK, map[string]any{"ids": ids})
	default:
		w.Header().Set("Allow", "GET, POST, DELETE")
		reply(http.StatusMethodNotAllowed, map[string]string{"message": "use GET, POST or DELETE"})
	}
}

// AddFaults declares faults in-process, as POST /_localpipe/faults does, and returns their
// ids.
func (a *App) AddFaults(specs ...FaultSpec) ([]string, error) { return a.faults.add(specs) }

// RemoveFaults removes the faults with the given ids, or every fault when none is given, and
// reports how many it removed.
func (a *App) RemoveFaults(ids ...string) int {
	if len(ids) == 0 {
		return a.faults.remove("")
	}
	n := 0
	for _, id := range ids {
		if id != "" {
			n += a.faults.remove(id)
		}
	}
	return n
}
