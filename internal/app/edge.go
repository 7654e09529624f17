package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/localpipe/localpipe/gateway/gatewayapi"
	"github.com/localpipe/localpipe/internal/awsjson"
)

// Limits bound what clients can hold of the server: memory in request bodies, connections,
// and time. Zero fields take the defaults DefaultLimits gives; tests lower them.
type Limits struct {
	// MaxInflightBytes bounds the request-body bytes all requests hold at once
	// (--max-inflight-mb). Over it a request waits up to InflightWait, then gets its
	// service's throttling error.
	MaxInflightBytes int64
	InflightWait     time.Duration
	// MaxConns bounds open client connections (--max-connections); further clients wait in
	// the kernel's accept queue. Zero derives it from the open-file limit.
	MaxConns int
	// ReadHeaderTimeout bounds the time to send a request's headers; IdleTimeout closes a
	// keep-alive connection that sends no new request.
	ReadHeaderTimeout time.Duration
	IdleTimeout       time.Duration
	// A request body that, BodyWindow or more after the request began, has averaged under
	// BodyMinRate bytes per second is cut off with the service's timeout error.
	BodyWindow  time.Duration
	BodyMinRate int64
}

// DefaultLimits are the documented defaults.
func DefaultLimits() Limits {
	return Limits{
		MaxInflightBytes:  256 << 20,
		InflightWait:      2 * time.Second,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       60 * time.Second,
		BodyWindow:        30 * time.Second,
		BodyMinRate:       1 << 10,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	set := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	if l.MaxInflightBytes <= 0 {
		l.MaxInflightBytes = d.MaxInflightBytes
	}
	if l.BodyMinRate <= 0 {
		l.BodyMinRate = d.BodyMinRate
	}
	if l.MaxConns <= 0 {
		l.MaxConns = defaultMaxConns()
	}
	set(&l.InflightWait, d.InflightWait)
	set(&l.ReadHeaderTimeout, d.ReadHeaderTimeout)
	set(&l.IdleTimeout, d.IdleTimeout)
	set(&l.BodyWindow, d.BodyWindow)
	return l
}

// service is who answers a request, decided once by the edge router.
type service int

const (
	svcS3 service = iota
	svcKinesis
	svcFirehose
	svcUnknownJSON // an X-Amz-Target of a service localpipe does not run
	svcGatewayInvoke
	svcGatewayControl
	svcAdmin // health, flush, metrics
)

// bodyCharge is the most memory a request of svc holds for its body, and how much it holds
// per body byte. JSON services and API Gateway read the whole body (up to their size limit,
// plus the byte that tells them it is over) and then decode it, a base64 blob into 3/4 of its
// size, or map it into a new payload: two bytes per body byte. S3 streams object bodies to
// disk through small buffers and parses at most a few MiB of XML.
func bodyCharge(svc service, contentLength int64) (limit, perByte int64) {
	limit, perByte = 64<<10, 1
	switch svc {
	case svcKinesis, svcFirehose, svcUnknownJSON:
		limit, perByte = 16<<20+1, 2
	case svcGatewayInvoke, svcGatewayControl:
		limit, perByte = gatewayapi.MaxPayloadSize+1, 2
	case svcS3:
		limit = 4<<20 + 1
	}
	if contentLength >= 0 {
		limit = min(contentLength, limit)
	}
	return limit * perByte, perByte
}

// edge is the state the edge router keeps across requests.
type edge struct {
	limits  Limits
	hosts   hostPolicy
	gate    *byteGate
	active  atomic.Int64 // handlers running, so Shutdown can wait for them
	metrics edgeMetrics

	refusedMu sync.Mutex
	refused   map[string]bool // Hosts already warned about
}

// firstRefusal reports whether host is refused for the first time: each is worth one
// warning (a misconfigured client, or a page probing for the server), not one per request.
func (e *edge) firstRefusal(host string) bool {
	e.refusedMu.Lock()
	defer e.refusedMu.Unlock()
	if e.refused == nil {
		e.refused = map[string]bool{}
	}
	if e.refused[host] || len(e.refused) >= 100 {
		return false
	}
	e.refused[host] = true
	return true
}

type edgeMetrics struct {
	throttled    *prometheus.CounterVec
	bodyTimeouts *prometheus.CounterVec
	badHost      prometheus.Counter
	conns        prometheus.Gauge
}

func newEdge(cfg Config, reg prometheus.Registerer) *edge {
	e := &edge{limits: cfg.Limits.withDefaults(), hosts: newHostPolicy(cfg.Listen, cfg.AllowedHosts)}
	e.gate = newByteGate(e.limits.MaxInflightBytes)
	e.metrics = edgeMetrics{
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "localpipe_http_throttled_total",
			Help: "Requests refused because request bodies in flight reached --max-inflight-mb."}, []string{"service"}),
		bodyTimeouts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "localpipe_http_body_timeouts_total",
			Help: "Requests cut off because their body arrived too slowly."}, []string{"service"}),
		badHost: prometheus.NewCounter(prometheus.CounterOpts{Name: "localpipe_http_forbidden_host_total",
			Help: "Requests refused because their Host header is not allowed (DNS rebinding protection)."}),
		conns: prometheus.NewGauge(prometheus.GaugeOpts{Name: "localpipe_http_connections",
			Help: "Open client connections."}),
	}
	reg.MustRegister(e.metrics.throttled, e.metrics.bodyTimeouts, e.metrics.badHost, e.metrics.conns,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "localpipe_http_inflight_body_bytes",
			Help: "Request-body bytes held by requests in flight (bounded by --max-inflight-mb)."},
			func() float64 { return float64(e.gate.inUse()) }))
	return e
}

func (s service) String() string {
	return [...]string{"s3", "kinesis", "firehose", "unknown", "apigateway", "apigateway", "admin"}[s]
}

// fault is a request the edge answers itself, in the service's own error shape.
type fault int

const (
	faultNone fault = iota
	faultForbiddenHost
	faultThrottled
	faultBodyTimeout
)

// guard runs serve for a request that passed the Host check, with its body charged against
// the in-flight gate and read under the minimum-rate rule.
func (a *App) guard(svc service, w http.ResponseWriter, r *http.Request, serve func(http.ResponseWriter, *http.Request)) {
	e := a.edge
	if !e.hosts.allows(r.Host) {
		e.metrics.badHost.Inc()
		level := slog.LevelDebug
		if e.firstRefusal(r.Host) {
			level = slog.LevelWarn
		}
		a.logger.Log(r.Context(), level, "refused a request for a Host this server does not answer to", "host", truncate(r.Host, 100),
			"remote", r.RemoteAddr, "hint", "add the name with --allowed-hosts")
		a.writeFault(w, r, svc, faultForbiddenHost)
		return
	}
	e.active.Add(1)
	defer e.active.Add(-1)
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		serve(w, r)
		return
	}
	// The body, the writer and the controller that sets the body's deadline live and die with
	// the request: one allocation for the three.
	g := &guarded{ctl: *http.NewResponseController(w)}
	b := &g.body
	*b = guardedBody{rc: r.Body, e: e, ctx: r.Context(), ctl: &g.ctl, start: time.Now(), http1: r.ProtoMajor == 1}
	b.limit, b.perByte = bodyCharge(svc, r.ContentLength)
	defer func() { e.gate.release(b.charged) }()
	if r.ContentLength > 0 {
		// A declared length is charged before anything is read, so a request that would not
		// fit waits here holding nothing.
		if !b.charge(b.limit) {
			e.metrics.throttled.WithLabelValues(svc.String()).Inc()
			// The body is read and dropped through a small buffer before the answer: a
			// client still sending when the connection closes on unread bytes gets a reset
			// instead of the throttling error its SDK retries. Its pace is bounded as any
			// body's.
			g.ctl.SetReadDeadline(time.Now().Add(e.limits.BodyWindow))
			io.CopyN(io.Discard, r.Body, min(r.ContentLength, b.limit/b.perByte))
			a.writeFault(w, r, svc, faultThrottled)
			return
		}
	}
	b.extendDeadline()
	r.Body = b
	gw := &g.w
	*gw = guardedWriter{ResponseWriter: w, a: a, r: r, svc: svc, body: b}
	serve(gw, r)
	if !gw.decided && b.failure() != faultNone {
		gw.WriteHeader(http.StatusInternalServerError) // replaced by the fault
	}
	if f := b.failure(); f == faultBodyTimeout {
		e.metrics.bodyTimeouts.WithLabelValues(svc.String()).Inc()
		a.logger.Info("cut off a request body arriving too slowly", "service", svc.String(),
			"bytes", b.read, "seconds", int(time.Since(b.start).Seconds()), "remote", r.RemoteAddr)
	} else if f == faultThrottled {
		e.metrics.throttled.WithLabelValues(svc.String()).Inc()
	}
}

var (
	errBodyThrottled = errors.New("request bodies in flight reached --max-inflight-mb")
	errBodyTooSlow   = errors.New("request body arrived too slowly")
)

// guarded is what the edge wraps a request with a body in.
type guarded struct {
	body guardedBody
	w    guardedWriter
	ctl  http.ResponseController
}

// guardedBody is a request body that charges the in-flight gate as it is read (when its
// length was not declared) and cuts off a body arriving below the minimum rate. The read
// deadline is what wakes a Read that would otherwise wait forever for a silent client.
type guardedBody struct {
	rc      io.ReadCloser
	e       *edge
	ctx     context.Context
	ctl     *http.ResponseController
	start   time.Time
	limit   int64 // the most this body is charged
	perByte int64 // charged per body byte read
	http1   bool
	// deadline is the read deadline last set: dueBy moves only once a body has outgrown what
	// BodyWindow at BodyMinRate allows (30 KiB by default), so most bodies set it once.
	deadline time.Time
	mu       sync.Mutex
	charged  int64
	read     int64
	fail     fault
}

func (b *guardedBody) charge(n int64) bool {
	got := b.e.gate.tryAcquire(n)
	if got == 0 {
		// Only a request that must wait pays for a timer.
		ctx, cancel := context.WithTimeout(b.ctx, b.e.limits.InflightWait)
		got = b.e.gate.acquire(ctx, n)
		cancel()
	}
	b.mu.Lock()
	b.charged += got
	b.mu.Unlock()
	return got == n
}

func (b *guardedBody) failure() fault {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.fail
}

func (b *guardedBody) setFailure(f fault) {
	b.mu.Lock()
	if b.fail == faultNone {
		b.fail = f
	}
	b.mu.Unlock()
}

// dueBy is when the body becomes too slow if nothing more arrives: the window's end, or the
// moment its average falls under the minimum rate, whichever is later.
func (b *guardedBody) dueBy() time.Time {
	lim := b.e.limits
	d := max(lim.BodyWindow, time.Duration(float64(b.read)/float64(lim.BodyMinRate)*float64(time.Second)))
	return b.start.Add(d)
}

func (b *guardedBody) extendDeadline() {
	due := b.dueBy()
	if due.Equal(b.deadline) {
		return
	}
	b.deadline = due
	// HTTP/1 and HTTP/2 both support it; should a connection not, the rate is still checked
	// after every read.
	b.ctl.SetReadDeadline(due)
}

func (b *guardedBody) Read(p []byte) (int, error) {
	if f := b.failure(); f != faultNone {
		return 0, b.errFor(f)
	}
	b.mu.Lock()
	want := min(int64(len(p))*b.perByte, b.limit-b.charged)
	b.mu.Unlock()
	if want > 0 {
		if !b.charge(want) {
			b.setFailure(faultThrottled)
			return 0, errBodyThrottled
		}
	}
	n, err := b.rc.Read(p)
	b.read += int64(n)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) || !time.Now().Before(b.dueBy()) && err != io.EOF {
		b.setFailure(faultBodyTimeout)
		return n, errBodyTooSlow
	}
	switch {
	case err == io.EOF:
		// The whole body is in and the rule about bodies ends: a long answer (a flush,
		// SubscribeToShard) must not meet the deadline. On HTTP/1 net/http has just cleared
		// it, as the body's end starts its background read of the connection; other
		// protocols are cleared here.
		if !b.http1 {
			b.ctl.SetReadDeadline(time.Time{})
		}
	case n > 0:
		b.extendDeadline()
	}
	return n, err
}

func (b *guardedBody) errFor(f fault) error {
	if f == faultThrottled {
		return errBodyThrottled
	}
	return errBodyTooSlow
}

func (b *guardedBody) Close() error { return b.rc.Close() }

// guardedWriter lets the edge answer instead of the handler when the body failed under the
// handler (throttled or too slow): whatever the handler made of the failed read, the client
// gets the service's own error for it.
type guardedWriter struct {
	http.ResponseWriter
	a        *App
	r        *http.Request
	svc      service
	body     *guardedBody
	decided  bool
	replaced bool
}

func (w *guardedWriter) WriteHeader(status int) {
	if w.decided {
		if !w.replaced {
			w.ResponseWriter.WriteHeader(status)
		}
		return
	}
	w.decided = true
	if f := w.body.failure(); f != faultNone {
		w.replaced = true
		clear(w.ResponseWriter.Header())
		w.a.writeFault(w.ResponseWriter, w.r, w.svc, f)
		return
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *guardedWriter) Write(p []byte) (int, error) {
	if !w.decided {
		w.WriteHeader(http.StatusOK)
	}
	if w.replaced {
		return len(p), nil
	}
	return w.ResponseWriter.Write(p)
}

func (w *guardedWriter) Flush() {
	if !w.decided {
		w.WriteHeader(http.StatusOK)
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok && !w.replaced {
		f.Flush()
	}
}

func (w *guardedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// writeFault answers a request the edge refuses, in the error shape its service's clients
// parse, with the code their SDKs retry where retrying helps.
func (a *App) writeFault(w http.ResponseWriter, r *http.Request, svc service, f fault) {
	if f == faultBodyTimeout || f == faultThrottled {
		// The rest of the body is not worth reading; the connection cannot be reused.
		w.Header().Set("Connection", "close")
	}
	var msg string
	switch f {
	case faultForbiddenHost:
		msg = fmt.Sprintf("localpipe does not answer to Host %q: on a loopback address it accepts only loopback names "+
			"(localhost, *.localhost, 127.0.0.1, [::1]), to keep web pages from reaching it by DNS rebinding; "+
			"start it with --allowed-hosts to add names", truncate(r.Host, 100))
	case faultThrottled:
		msg = fmt.Sprintf("Rate exceeded: request bodies in flight reached %d MiB (--max-inflight-mb); retry shortly",
			a.edge.limits.MaxInflightBytes>>20)
	case faultBodyTimeout:
		msg = "Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed."
	}
	switch svc {
	case svcS3:
		code := map[fault]string{faultForbiddenHost: "AccessDenied", faultThrottled: "SlowDown", faultBodyTimeout: "RequestTimeout"}[f]
		if f == faultThrottled {
			msg = "Please reduce your request rate."
		}
		a.s3.WriteEdgeError(w, r, code, msg)
	case svcKinesis, svcFirehose, svcUnknownJSON:
		status, typ := http.StatusForbidden, "AccessDeniedException"
		switch {
		case f == faultThrottled && svc == svcFirehose:
			status, typ = http.StatusServiceUnavailable, "ServiceUnavailableException"
		case f == faultThrottled:
			status, typ = http.StatusBadRequest, "LimitExceededException"
		case f == faultBodyTimeout:
			status, typ = http.StatusRequestTimeout, "RequestTimeoutException"
		}
		awsjson.WriteError(w, r, status, typ, msg)
	default:
		status, typ := http.StatusForbidden, "ForbiddenException"
		switch f {
		case faultThrottled:
			status, typ, msg = http.StatusTooManyRequests, "TooManyRequestsException", "Too Many Requests"
		case faultBodyTimeout:
			status, typ = http.StatusRequestTimeout, "RequestTimeoutException"
		}
		body, _ := json.Marshal(map[string]string{"message": msg})
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-Errortype", typ)
		w.Header().Set("X-Amzn-Requestid", awsjson.NewRequestID())
		w.WriteHeader(status)
		w.Write(append(body, '\n'))
	}
}

// truncate bounds a client's value quoted back in an answer or a log line.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// limitListener caps open connections: Accept waits for one to close before taking another,
// so a crowd of slow or idle clients cannot use up the process's file descriptors, which the
// engines need too.
type limitListener struct {
	net.Listener
	slots chan struct{}
	done  chan struct{}
	once  sync.Once
	conns prometheus.Gauge
}

func newLimitListener(ln net.Listener, n int, conns prometheus.Gauge) *limitListener {
	return &limitListener{Listener: ln, slots: make(chan struct{}, n), done: make(chan struct{}), conns: conns}
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	l.conns.Inc()
	return &limitConn{Conn: c, l: l}, nil
}

func (l *limitListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

type limitConn struct {
	net.Conn
	l    *limitListener
	once sync.Once
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.l.conns.Dec()
		<-c.l.slots
	})
	return err
}

// ReadFrom keeps the kernel's sendfile path for responses copied from files (S3 GETs).
func (c *limitConn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(c.Conn, r)
}

// stopHTTP stops serving within ctx. Idle connections close at once and requests in flight
// may finish during the first half of the time left; then the remaining connections (a
// client sending its body at a trickle, say) are closed, so the engines' own shutdown, and
// Firehose's last delivery above all, keeps the other half.
func (a *App) stopHTTP(ctx context.Context) {
	drain := ctx
	if deadline, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		drain, cancel = context.WithDeadline(ctx, time.Now().Add(time.Until(deadline)/2))
		defer cancel()
	}
	if err := a.srv.Shutdown(drain); err != nil {
		a.logger.Warn("closing connections whose requests did not finish in time", "err", err)
		a.srv.Close()
	}
	// Close does not wait for handlers; one still reading a body sees the connection close
	// at once, so this wait is short, and the engines must not close under a handler.
	for a.edge.active.Load() > 0 && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
}
