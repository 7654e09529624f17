package app

import (
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/localpipe/localpipe/firehose"
	"github.com/localpipe/localpipe/gateway/gatewayapi"
	"github.com/localpipe/localpipe/objectstore"
	"github.com/localpipe/localpipe/stream/kinesisapi"
)

// The console's page, script and style ship inside the binary: it works offline and needs
// no build step.
//
//go:embed ui
var consoleAssets embed.FS

// consolePrefix is where the web console lives; everything below it is the console's.
const consolePrefix = "/_localpipe/ui"

// Bounds on what the console remembers of the recent past.
const (
	consoleRecentInvocations = 50
	consoleRecentDeliveries  = 20 // per delivery stream
	consoleBodyPreview       = 4 << 10
	consolePreviewBytes      = 64 << 10
	consoleRateWindow        = 10 * time.Second
	consoleTick              = 500 * time.Millisecond
)

// console is the web console's state: what the engines do not keep (recent invocations and
// deliveries, when a buffer started filling, put-rate samples) and who listens for events.
// Everything else it reads from the engines when asked.
type console struct {
	a      *App
	router func() http.Handler // built by the first console request, not at start

	mu sync.Mutex
	// invocations are the recent invocations, newest last; only the last
	// consoleRecentInvocations count. The slice may hold up to twice that, so dropping the
	// oldest costs one copy per consoleRecentInvocations requests, not one per request.
	invocations []consoleInvocation
	deliveries  map[string][]consoleDelivery
	buffers     map[string]consoleBuffer
	samples     map[string][]rateSample
	subs        map[chan consoleEvent]struct{}
	done        chan struct{}
	closeOnce   sync.Once
}

type consoleInvocation struct {
	RequestID          string    `json:"requestId"`
	Time               time.Time `json:"time"`
	APIID              string    `json:"apiId"`
	Stage              string    `json:"stage"`
	Method             string    `json:"method"`
	Path               string    `json:"path"`
	ResourcePath       string    `json:"resourcePath"`
	Status             int       `json:"status"`
	IntegrationRequest string    `json:"integrationRequest,omitempty"`
	IntegrationStatus  int       `json:"integrationStatus,omitempty"`
	DurationMillis     float64   `json:"durationMillis"`
}

type consoleDelivery struct {
	Time    time.Time `json:"time"`
	Bucket  string    `json:"bucket"`
	Keys    []string  `json:"keys"`
	Records int       `json:"records"`
	Bytes   int64     `json:"bytes"`
	Trigger string    `json:"trigger"`
}

// consoleBuffer is a delivery stream's buffer as its Buffered metric last said, and since
// when it has held something: the interval timer starts with the first record buffered.
type consoleBuffer struct {
	bytes int64
	since time.Time
}

type rateSample struct {
	t     time.Time
	total uint64
}

// consoleEvent is one server-sent event.
type consoleEvent struct {
	name string
	data any
}

func newConsole(a *App) *console {
	c := &console{a: a, deliveries: map[string][]consoleDelivery{}, buffers: map[string]consoleBuffer{},
		samples: map[string][]rateSample{}, subs: map[chan consoleEvent]struct{}{}, done: make(chan struct{})}
	c.router = sync.OnceValue(c.routes)
	return c
}

func (c *console) routes() http.Handler {
	static, err := fs.Sub(consoleAssets, "ui")
	if err != nil {
		panic(err) // the embedded directory is part of the binary
	}
	r := chi.NewRouter()
	r.Route(consolePrefix, func(r chi.Router) {
		r.Get("/", func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == consolePrefix {
				// Without the slash the page's relative asset URLs would miss.
				http.Redirect(w, r, consolePrefix+"/", http.StatusMovedPermanently)
				return
			}
			serveAsset(w, static, "index.html")
		})
		r.Get("/assets/{name}", func(w http.ResponseWriter, r *http.Request) { serveAsset(w, static, chi.URLParam(r, "name")) })
		r.Get("/events", c.serveEvents)
		r.Route("/api", func(r chi.Router) {
			r.Get("/streams", c.serveStreams)
			r.Get("/streams/{name}/records", c.serveRecords)
			r.Get("/firehose", c.serveFirehose)
			r.Get("/buckets", c.serveBuckets)
			r.Get("/buckets/{bucket}/objects", c.serveObjects)
			r.Get("/buckets/{bucket}/preview", c.servePreview)
			r.Get("/buckets/{bucket}/download", c.serveDownload)
			r.Get("/apis", c.serveAPIs)
		})
	})
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		consoleError(w, http.StatusNotFound, "no such console page or API: "+r.URL.Path)
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", "GET")
		consoleError(w, http.StatusMethodNotAllowed, "use GET")
	})
	return r
}

// isConsolePath reports whether path is the console's (the edge sends it to the admin routes).
func isConsolePath(path string) bool {
	return path == consolePrefix || len(path) > len(consolePrefix) && path[:len(consolePrefix)+1] == consolePrefix+"/"
}

func (c *console) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.router().ServeHTTP(w, r) }

// close ends every event stream, so a shutdown does not wait for open consoles.
func (c *console) close() { c.closeOnce.Do(func() { close(c.done) }) }

var assetTypes = map[string]string{".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}

func serveAsset(w http.ResponseWriter, static fs.FS, name string) {
	b, err := fs.ReadFile(static, name)
	ct := assetTypes[path.Ext(name)]
	if err != nil || ct == "" {
		consoleError(w, http.StatusNotFound, "no such console asset: "+name)
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(b)
}

func consoleJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		consoleError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(append(b, '\n'))
}

func consoleError(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(map[string]string{"message": msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// observeInvocation keeps an answered invoke request for the console (gatewayapi.Options.Observe).
func (c *console) observeInvocation(in gatewayapi.Invocation) {
	ci := consoleInvocation{RequestID: in.RequestID, Time: in.Time, APIID: in.APIID, Stage: in.Stage, Method: in.HTTPMethod,
		Path: in.Path, ResourcePath: in.ResourcePath, Status: in.Status, IntegrationStatus: in.IntegrationStatus,
		DurationMillis: float64(in.Duration.Microseconds()) / 1000}
	if in.IntegrationRequest != nil {
		ci.IntegrationRequest = previewText(in.IntegrationRequest, consoleBodyPreview)
	}
	c.mu.Lock()
	if len(c.invocations) == 2*consoleRecentInvocations {
		c.invocations = append(c.invocations[:0], c.invocations[len(c.invocations)-consoleRecentInvocations+1:]...)
	}
	c.invocations = append(c.invocations, ci)
	c.mu.Unlock()
	c.publish(consoleEvent{"invocation", ci})
}

// recentInvocations returns the last consoleRecentInvocations invocations, newest first.
func (c *console) recentInvocations() []consoleInvocation {
	c.mu.Lock()
	defer c.mu.Unlock()
	recent := c.invocations[max(len(c.invocations)-consoleRecentInvocations, 0):]
	inv := make([]consoleInvocation, len(recent))
	for i, v := range recent {
		inv[len(inv)-1-i] = v
	}
	return inv
}

// firehoseHooks adds the console's to Firehose's other hooks (the trace's).
func (c *console) firehoseHooks(h firehose.Hooks) firehose.Hooks {
	next := h.Delivered
	h.Delivered = func(d firehose.Delivery) {
		if next != nil {
			next(d)
		}
		c.observeDelivery(d)
	}
	return h
}

// observeDelivery keeps a delivered batch for the console.
func (c *console) observeDelivery(d firehose.Delivery) {
	cd := consoleDelivery{Time: time.Now(), Bucket: d.Bucket, Keys: d.Keys, Records: d.Records, Bytes: d.Bytes, Trigger: d.Trigger}
	c.mu.Lock()
	list := append(c.deliveries[d.DeliveryStream], cd)
	if n := len(list) - consoleRecentDeliveries; n > 0 {
		list = append(list[:0:0], list[n:]...)
	}
	c.deliveries[d.DeliveryStream] = list
	c.mu.Unlock()
	c.publish(consoleEvent{"delivery", map[string]any{"deliveryStream": d.DeliveryStream, "delivery": cd}})
}

// consoleMetrics passes Firehose's delivery events on and notes the buffer's fill.
type consoleMetrics struct {
	firehose.Metrics
	c *console
}

func (m consoleMetrics) Buffered(name string, bytes int64) {
	m.Metrics.Buffered(name, bytes)
	m.c.mu.Lock()
	b := m.c.buffers[name]
	if bytes == 0 {
		b.since = time.Time{}
	} else if b.bytes == 0 {
		b.since = time.Now()
	}
	b.bytes = bytes
	m.c.buffers[name] = b
	m.c.mu.Unlock()
}

func (m consoleMetrics) Forget(name string) {
	m.Metrics.Forget(name)
	m.c.mu.Lock()
	delete(m.c.buffers, name)
	delete(m.c.deliveries, name)
	m.c.mu.Unlock()
}

func (c *console) subscribe() chan consoleEvent {
	ch := make(chan consoleEvent, 64)
	c.mu.Lock()
	c.subs[ch] = struct{}{}
	c.mu.Unlock()
	return ch
}

func (c *console) unsubscribe(ch chan consoleEvent) {
	c.mu.Lock()
	delete(c.subs, ch)
	c.mu.Unlock()
}

// publish hands ev to every listener that has room: a console that does not keep up misses
// events (it re-reads what it shows on the next one), and never slows a request down.
func (c *console) publish(ev consoleEvent) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for ch := range c.subs {
		select {
		case ch <- ev:
		default:
		}
	}
}

// serveEvents is the console's live feed (text/event-stream): "invocation" and "delivery" as
// they happen, "streams" (every shard's tip) and "buffers" (Firehose buffer fill) when they
// change. The engines have no single change feed for puts, so tips are looked at twice a
// second while a console listens.
func (c *console) serveEvents(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		consoleError(w, http.StatusInternalServerError, "this connection cannot stream events")
		return
	}
	ch := c.subscribe()
	defer c.unsubscribe(ch)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	send := func(ev consoleEvent) bool {
		b, err := json.Marshal(ev.data)
		if err != nil {
			return false
		}
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", ev.name, b); err != nil {
			return false
		}
		flusher.Flush()
		return true
	}
	tips, buffers := c.tips(), c.bufferFill()
	if !send(consoleEvent{"hello", map[string]any{"streams": tips, "buffers": buffers}}) {
		return
	}
	tick := time.NewTicker(consoleTick)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-c.done:
			return
		case ev := <-ch:
			if !send(ev) {
				return
			}
		case <-tick.C:
			if now := c.tips(); !maps.EqualFunc(now, tips, maps.Equal) {
				tips = now
				if !send(consoleEvent{"streams", tips}) {
					return
				}
			}
			if now := c.bufferFill(); !maps.Equal(now, buffers) {
				buffers = now
				if !send(consoleEvent{"buffers", buffers}) {
					return
				}
			}
		}
	}
}

// tips is every visible stream's shards' next positions: a change means records arrived.
func (c *console) tips() map[string]map[string]uint64 {
	out := map[string]map[string]uint64{}
	for _, s := range c.a.streams.List() {
		m := map[string]uint64{}
		for _, sh := range s.Shards {
			if b, err := c.a.streams.Bounds(s.Name, sh.Index); err == nil {
				m[sh.ID] = b.Tip
			}
		}
		out[s.Name] = m
	}
	return out
}

func (c *console) bufferFill() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int64, len(c.buffers))
	for k, b := range c.buffers {
		out[k] = b.bytes
	}
	return out
}

// putRate is records per second into a stream over the last consoleRateWindow, from the
// samples of its total taken whenever the console asks.
func (c *console) putRate(name string, created time.Time, total uint64, now time.Time) float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := name + "\x00" + strconv.FormatInt(created.UnixNano(), 10) // a re-created stream starts over
	s := c.samples[key]
	for len(s) > 0 && now.Sub(s[0].t) > consoleRateWindow {
		s = s[1:]
	}
	if len(s) == 0 || now.Sub(s[len(s)-1].t) >= time.Second {
		s = append(s, rateSample{now, total})
	}
	c.samples[key] = s
	first := s[0]
	if d := now.Sub(first.t).Seconds(); d >= 1 && total >= first.total {
		return float64(total-first.total) / d
	}
	return 0
}

type consoleShard struct {
	ID        string `json:"id"`
	Index     int    `json:"index"`
	StartHash string `json:"startingHashKey"`
	EndHash   string `json:"endingHashKey"`
	// State is "open", or "closed" for a parent of a split or merge (its records stay
	// readable until retention ends).
	State string `json:"state"`
	First uint64 `json:"first"`
	Tip   uint64 `json:"tip"`
}

type consoleStream struct {
	Name           string         `json:"name"`
	Status         string         `json:"status"`
	Mode           string         `json:"mode"`
	RetentionHours int            `json:"retentionHours"`
	Records        uint64         `json:"records"` // retained
	PutRate        float64        `json:"putRate"` // records per second
	Shards         []consoleShard `json:"shards"`
}

func (c *console) serveStreams(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	out := []consoleStream{}
	for _, s := range c.a.streams.List() {
		cs := consoleStream{Name: s.Name, Status: s.Status, Mode: s.Mode, RetentionHours: s.RetentionHours, Shards: []consoleShard{}}
		var total uint64
		for _, sh := range s.Shards {
			b, err := c.a.streams.Bounds(s.Name, sh.Index)
			if err != nil {
				continue
			}
			total += b.Tip
			cs.Records += b.Tip - b.First
			state := "open"
			if sh.Closed {
				state = "closed"
			}
			cs.Shards = append(cs.Shards, consoleShard{ID: sh.ID, Index: sh.Index, StartHash: sh.StartKey.String(),
				EndHash: sh.EndKey.String(), State: state, First: b.First, Tip: b.Tip})
		}
		cs.PutRate = c.putRate(s.Name, s.Created, total, now)
		out = append(out, cs)
	}
	consoleJSON(w, map[string]any{"streams": out})
}

type consoleRecord struct {
	Position       uint64    `json:"position"`
	SequenceNumber string    `json:"sequenceNumber"`
	Arrival        time.Time `json:"arrival"`
	PartitionKey   string    `json:"partitionKey"`
	// Encoding says how Data shows the record: "json" and "text" are the bytes as UTF-8,
	// "base64" is for bytes that are not text.
	Encoding string `json:"encoding"`
	Data     string `json:"data"`
	Size     int    `json:"size"`
}

func (c *console) serveRecords(w http.ResponseWriter, r *http.Request) {
	q, err := parseRecordQuery(r.URL.Query())
	if err != nil {
		consoleError(w, http.StatusBadRequest, err.Error())
		return
	}
	name := chi.URLParam(r, "name")
	info, err := c.a.streams.Describe(name)
	if err != nil || info.Hidden {
		consoleError(w, http.StatusNotFound, "no stream "+strconv.Quote(name))
		return
	}
	if q.Shard >= len(info.Shards) {
		consoleError(w, http.StatusNotFound, fmt.Sprintf("stream %s has no shard %d", name, q.Shard))
		return
	}
	sh := info.Shards[q.Shard]
	b, err := c.a.streams.Bounds(name, sh.Index)
	if err != nil {
		consoleError(w, http.StatusNotFound, err.Error())
		return
	}
	from := b.First
	if q.HasFrom {
		from = max(q.From, b.First)
	} else if b.Tip-b.First > uint64(q.Limit) {
		from = b.Tip - uint64(q.Limit)
	}
	res, err := c.a.streams.Read(name, sh.Index, from, q.Limit, 1<<20)
	if err != nil {
		consoleError(w, http.StatusNotFound, err.Error())
		return
	}
	out := make([]consoleRecord, 0, len(res.Records))
	for _, rec := range res.Records {
		enc, data := decodeRecord(rec.Data)
		out = append(out, consoleRecord{Position: rec.Position, Arrival: rec.Arrival, PartitionKey: rec.PartitionKey,
			SequenceNumber: kinesisapi.SequenceNumber(sh.Created, sh.Index, rec.Position, rec.Arrival),
			Encoding:       enc, Data: data, Size: len(rec.Data)})
	}
	consoleJSON(w, map[string]any{"stream": name, "shardId": sh.ID, "records": out, "next": res.Next, "tip": res.Tip})
}

// decodeRecord shows a record's bytes as JSON or text where they are, base64 otherwise.
func decodeRecord(b []byte) (encoding, data string) {
	switch {
	case json.Valid(b):
		return "json", string(b)
	case utf8.Valid(b) && printable(b):
		return "text", string(b)
	}
	return "base64", base64.StdEncoding.EncodeToString(b)
}

// printable reports whether text has no control characters but tab, newline and CR.
func printable(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
			return false
		}
	}
	return true
}

// previewText is b as text when it is, cut to n bytes; base64 of its first n bytes when not.
func previewText(b []byte, n int) string {
	cut := b
	if len(cut) > n {
		cut = cut[:n]
		for len(cut) > 0 && !utf8.Valid(cut) && len(b)-len(cut) < 4 {
			cut = cut[:len(cut)-1]
		}
	}
	if utf8.Valid(cut) && printable(cut) {
		if len(cut) < len(b) {
			return string(cut) + "…"
		}
		return string(cut)
	}
	return "base64:" + base64.StdEncoding.EncodeToString(cut)
}

type consoleDeliveryStream struct {
	Name            string            `json:"name"`
	Status          string            `json:"status"`
	Type            string            `json:"type"`
	Source          string            `json:"source,omitempty"`
	Bucket          string            `json:"bucket"`
	Prefix          string            `json:"prefix"`
	Compression     string            `json:"compression"`
	SizeHintBytes   int64             `json:"sizeHintBytes"`
	IntervalSeconds float64           `json:"intervalSeconds"`
	BufferedBytes   int64             `json:"bufferedBytes"`
	NextDeliveryIn  *float64          `json:"nextDeliveryInSeconds"` // null while the buffer is empty
	Recent          []consoleDelivery `json:"recentDeliveries"`
}

func (c *console) serveFirehose(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	out := []consoleDeliveryStream{}
	for _, in := range c.a.fh.List() {
		if in.Channel != nil {
			continue
		}
		d := consoleDeliveryStream{Name: in.Name, Status: in.Status, Type: in.Type, Source: in.KinesisStream, Bucket: in.Bucket,
			Prefix: in.Prefix, Compression: in.Compression, SizeHintBytes: in.SizeBytes, IntervalSeconds: in.Interval.Seconds()}
		c.mu.Lock()
		b := c.buffers[in.Name]
		d.Recent = append([]consoleDelivery{}, c.deliveries[in.Name]...)
		c.mu.Unlock()
		d.BufferedBytes = b.bytes
		if b.bytes > 0 && !b.since.IsZero() {
			left := max(0, b.since.Add(in.Interval).Sub(now).Seconds())
			d.NextDeliveryIn = &left
		}
		// Newest first, as people read a list of what just happened.
		sort.SliceStable(d.Recent, func(i, j int) bool { return d.Recent[i].Time.After(d.Recent[j].Time) })
		out = append(out, d)
	}
	consoleJSON(w, map[string]any{"deliveryStreams": out})
}

func (c *console) serveBuckets(w http.ResponseWriter, r *http.Request) {
	list, err := c.a.objects.ListBuckets(r.Context())
	if err != nil {
		consoleError(w, http.StatusInternalServerError, err.Error())
		return
	}
	type bucket struct {
		Name    string    `json:"name"`
		Created time.Time `json:"created"`
	}
	out := make([]bucket, 0, len(list))
	for _, b := range list {
		out = append(out, bucket{Name: b.Name, Created: b.Created})
	}
	consoleJSON(w, map[string]any{"buckets": out})
}

func (c *console) serveObjects(w http.ResponseWriter, r *http.Request) {
	q, err := parseObjectQuery(r.URL.Query())
	if err != nil {
		consoleError(w, http.StatusBadRequest, err.Error())
		return
	}
	bucket := chi.URLParam(r, "bucket")
	res, err := c.a.objects.List(r.Context(), bucket, objectstore.ListInput{Prefix: q.Prefix, Delimiter: "/", StartAfter: q.After, MaxKeys: q.Limit})
	if err != nil {
		c.objectError(w, bucket, "", err)
		return
	}
	type object struct {
		Key          string    `json:"key"`
		Size         int64     `json:"size"`
		LastModified time.Time `json:"lastModified"`
		ContentType  string    `json:"contentType,omitempty"`
	}
	objs := make([]object, 0, len(res.Objects))
	for _, o := range res.Objects {
		objs = append(objs, object{Key: o.Key, Size: o.Size, LastModified: o.LastModified, ContentType: o.ContentType})
	}
	out := map[string]any{"bucket": bucket, "prefix": q.Prefix, "objects": objs, "prefixes": append([]string{}, res.CommonPrefixes...),
		"truncated": res.IsTruncated}
	if res.IsTruncated {
		out["next"] = res.Last
	}
	consoleJSON(w, out)
}

func (c *console) objectError(w http.ResponseWriter, bucket, key string, err error) {
	switch {
	case errors.Is(err, objectstore.ErrNoSuchBucket), errors.Is(err, objectstore.ErrInvalidBucket):
		consoleError(w, http.StatusNotFound, "no bucket "+strconv.Quote(bucket))
	case errors.Is(err, objectstore.ErrNoSuchKey):
		consoleError(w, http.StatusNotFound, fmt.Sprintf("no object %q in bucket %s", key, bucket))
	default:
		var dm *objectstore.DeleteMarkerError
		if errors.As(err, &dm) {
			consoleError(w, http.StatusNotFound, fmt.Sprintf("object %q in bucket %s is deleted", key, bucket))
			return
		}
		c.a.logger.Error("console: reading the object store failed", "bucket", bucket, "key", key, "err", err)
		consoleError(w, http.StatusInternalServerError, "reading the object store failed; the localpipe log says why")
	}
}

// openObject opens the object a preview or download names (the bucket in the path, the key
// in the query), or answers why it cannot.
func (c *console) openObject(w http.ResponseWriter, r *http.Request) (bucket, key string, info objectstore.ObjectInfo, f *os.File, ok bool) {
	key, err := parseObjectKey(r.URL.Query())
	if err != nil {
		consoleError(w, http.StatusBadRequest, err.Error())
		return "", "", info, nil, false
	}
	bucket = chi.URLParam(r, "bucket")
	info, f, err = c.a.objects.GetObject(r.Context(), bucket, key)
	if err != nil {
		c.objectError(w, bucket, key, err)
		return "", "", info, nil, false
	}
	return bucket, key, info, f, true
}

// servePreview shows the start of an object, decompressed when it is gzip, zip (the first
// entry), snappy (framed) or Hadoop snappy, as Firehose writes them.
func (c *console) servePreview(w http.ResponseWriter, r *http.Request) {
	bucket, key, info, f, ok := c.openObject(w, r)
	if !ok {
		return
	}
	defer f.Close()
	format, body, err := decompressed(f, info.Size, key, info.ContentEncoding)
	out := map[string]any{"bucket": bucket, "key": key, "size": info.Size, "contentType": info.ContentType, "compression": format}
	if err != nil {
		out["error"] = "cannot decompress: " + err.Error()
		body = io.NewSectionReader(f, 0, info.Size)
		out["compression"] = "none"
	}
	b, err := io.ReadAll(io.LimitReader(body, consolePreviewBytes+1))
	if err != nil && len(b) == 0 {
		out["error"] = "reading: " + err.Error()
	}
	out["truncated"] = len(b) > consolePreviewBytes
	if len(b) > consolePreviewBytes {
		b = b[:consolePreviewBytes]
	}
	out["encoding"], out["data"] = decodeRecord(b)
	if out["encoding"] == "json" {
		out["encoding"] = "text" // many JSON documents are shown as the text they are
	}
	consoleJSON(w, out)
}

func (c *console) serveDownload(w http.ResponseWriter, r *http.Request) {
	_, key, info, f, ok := c.openObject(w, r)
	if !ok {
		return
	}
	defer f.Close()
	name := key[strings.LastIndexByte(key, '/')+1:]
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(name))
	w.Header().Set("Content-Length", strconv.FormatInt(info.Size, 10))
	io.Copy(w, io.NewSectionReader(f, 0, info.Size))
}

type consoleMethod struct {
	HTTPMethod      string `json:"httpMethod"`
	ResourcePath    string `json:"resourcePath"`
	IntegrationType string `json:"integrationType,omitempty"`
	IntegrationURI  string `json:"integrationUri,omitempty"`
	APIKeyRequired  bool   `json:"apiKeyRequired,omitempty"`
}

type consoleStage struct {
	Stage      string          `json:"stage"`
	InvokeURLs []string        `json:"invokeUrls"`
	Methods    []consoleMethod `json:"methods"`
}

type consoleAPI struct {
	ID     string         `json:"id"`
	Name   string         `json:"name"`
	Stages []consoleStage `json:"stages"`
}

func (c *console) serveAPIs(w http.ResponseWriter, r *http.Request) {
	urls := map[string][]string{}
	if c.a.ln != nil {
		c.a.eachInvokeURL(func(d gatewayapi.Deployment, u string) {
			urls[d.APIID+"/"+d.Stage] = append(urls[d.APIID+"/"+d.Stage], u)
		})
	}
	var apis []consoleAPI
	for _, d := range c.a.gw.Deployments() {
		if len(apis) == 0 || apis[len(apis)-1].ID != d.APIID {
			apis = append(apis, consoleAPI{ID: d.APIID, Name: d.Name})
		}
		st := consoleStage{Stage: d.Stage, InvokeURLs: urls[d.APIID+"/"+d.Stage], Methods: []consoleMethod{}}
		if api := c.a.gw.StageAPI(d.APIID, d.Stage); api != nil {
			for _, res := range api.Resources() {
				verbs := make([]string, 0, len(res.Methods))
				for v := range res.Methods {
					verbs = append(verbs, v)
				}
				sort.Strings(verbs)
				for _, v := range verbs {
					m := res.Methods[v]
					cm := consoleMethod{HTTPMethod: v, ResourcePath: res.Path, APIKeyRequired: m.APIKeyRequired}
					if m.Integration != nil {
						cm.IntegrationType, cm.IntegrationURI = string(m.Integration.Type), m.Integration.URI
					}
					st.Methods = append(st.Methods, cm)
				}
			}
		}
		apis[len(apis)-1].Stages = append(apis[len(apis)-1].Stages, st)
	}
	inv := c.recentInvocations()
	if apis == nil {
		apis = []consoleAPI{}
	}
	consoleJSON(w, map[string]any{"apis": apis, "invocations": inv})
}
