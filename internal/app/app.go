// Package app assembles localpipe: it opens the data dir and the engines, builds the wire
// handlers and the one HTTP listener that routes between them, applies the --config file, and
// shuts everything down in reverse order. Only this package and cmd/ import every service.
package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	bolt "go.etcd.io/bbolt"

	"github.com/localpipe/localpipe/firehose"
	"github.com/localpipe/localpipe/firehose/firehoseapi"
	"github.com/localpipe/localpipe/gateway/gatewayapi"
	"github.com/localpipe/localpipe/internal/awsjson"
	"github.com/localpipe/localpipe/internal/functions"
	"github.com/localpipe/localpipe/internal/trace"
	"github.com/localpipe/localpipe/objectstore"
	"github.com/localpipe/localpipe/objectstore/s3api"
	"github.com/localpipe/localpipe/stream"
	"github.com/localpipe/localpipe/stream/kinesisapi"
)

// Version is set at build time with -ldflags "-X github.com/localpipe/localpipe/internal/app.Version=…".
var Version = ""

// VersionString reports Version, or the module version the binary was built from.
func VersionString() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// App is a running localpipe: engines, handlers and the listener.
type App struct {
	cfg      Config
	logger   *slog.Logger
	dataDir  string
	unlock   func()
	db       *bolt.DB
	registry *prometheus.Registry
	reserve  *diskReserve

	streams *stream.Engine
	kinesis *kinesisapi.Handler
	// channels are the Kinesis channels, delivered by fh.
	channels *channelStore
	objects  *objectstore.Store
	s3       *s3api.Handler
	fh       *firehose.Engine
	gw       *gatewayapi.Server
	faults   *faultRegistry
	// functions are the config's functions, for Firehose's Lambda processors and the
	// gateway's Lambda integrations; empty without a config.
	functions *functions.Registry
	// trace is the cross-hop trace index; nil when tracing is off.
	trace *trace.Index
	// configFaults are the config's faults, declared again by a reset.
	configFaults []FaultSpec

	firehoseAPI *firehoseapi.Handler
	console     *console

	// res is the --config file as applied at start; Reset applies it again.
	res     *Resources
	resetMu sync.Mutex

	// metaLoaded is set once the engines have loaded the metadata without trouble, so a
	// clean shutdown may be recorded in it.
	metaLoaded bool

	ln      net.Listener
	srv     *http.Server
	edge    *edge
	ready   atomic.Bool
	serveCh chan error
}

// Open builds every engine and handler and applies the config file; it does not listen yet.
func Open(cfg Config, logger *slog.Logger) (_ *App, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	a := &App{cfg: cfg, logger: logger, registry: prometheus.NewRegistry()}
	a.faults = newFaultRegistry(a.registry)
	a.console = newConsole(a)
	onPut := a.openTrace()
	defer func() {
		if err != nil {
			a.closeEngines()
		}
	}()

	if cfg.Ephemeral {
		a.dataDir, err = os.MkdirTemp("", "localpipe-")
	} else {
		a.dataDir, err = filepath.Abs(cfg.DataDir)
		if err == nil {
			err = os.MkdirAll(a.dataDir, 0o755)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	if a.unlock, err = lockDir(a.dataDir); err != nil {
		return nil, err
	}
	var freshMeta bool
	if a.db, freshMeta, err = openMetadata(a.dataDir, logger); err != nil {
		return nil, err
	}
	// Damage the consistency check cannot see may still make bbolt panic while the engines
	// load their metadata; say so instead of crashing with a stack. Later panics are bugs.
	loaded := false
	defer func() {
		if r := recover(); r != nil {
			if loaded {
				panic(r)
			}
			logger.Debug("panic while loading metadata", "panic", r, "stack", string(debug.Stack()))
			err = &MetadataError{Path: filepath.Join(a.dataDir, metaFile), Problem: fmt.Sprintf("is damaged (%v)", r), DataDir: a.dataDir}
		}
	}()
	a.reserve = openReserve(a.dataDir, logger)
	// The config is read before the engines open: Firehose may redo a transforming delivery
	// as soon as it opens, and needs the functions for it.
	if a.res, err = loadFunctions(a, cfg); err != nil {
		return nil, err
	}
	if err := a.declareConfigFaults(a.res); err != nil {
		return nil, err
	}
	always, interval, _ := cfg.fsyncPolicy()
	a.streams, err = stream.Open(stream.Options{
		Dir: filepath.Join(a.dataDir, "kinesis"), DB: a.db, LostFound: filepath.Join(a.dataDir, "lost+found", "kinesis"),
		Fsync:       stream.FsyncPolicy{Always: always, Interval: interval},
		CreateDelay: cfg.StreamCreateDelay, Logger: logger,
	})
	if err != nil {
		return nil, fmt.Errorf("kinesis: %w", err)
	}
	var limits *kinesisapi.Throttle
	if cfg.Throttle {
		limits = kinesisapi.NewThrottle(cfg.ThrottleClock)
	}
	a.channels = newChannelStore(a)
	a.kinesis = kinesisapi.New(a.streams, kinesisapi.Options{Logger: logger, Registerer: a.registry, Space: a.reserve,
		Intercept: a.faults.interceptor("kinesis"), OnPut: onPut, Throttle: limits,
		Channels: a.channels, ChannelDelay: cfg.StreamCreateDelay})
	a.objects, err = objectstore.Open(objectstore.Options{DB: a.db, Dir: filepath.Join(a.dataDir, "s3"),
		LostFound: filepath.Join(a.dataDir, "lost+found", "s3"), Logger: logger, Space: a.reserve})
	if err != nil {
		return nil, fmt.Errorf("s3: %w", err)
	}
	a.s3 = s3api.New(a.objects, s3api.Options{Logger: logger, Registerer: a.registry, Fault: a.faults.s3Fault})
	if err := a.openFirehose(); err != nil {
		return nil, fmt.Errorf("firehose: %w", err)
	}
	if err := a.channels.open(); err != nil {
		return nil, fmt.Errorf("kinesis channels: %w", err)
	}
	loaded, a.metaLoaded = true, true

	a.gw = gatewayapi.NewServer(gatewayapi.Options{
		Invoker: serviceInvoker{kinesis: a.kinesis, firehose: a.firehoseAPI.Invoke, logger: logger},
		Region:  awsjson.DefaultRegion, AccountID: awsjson.Account, Logger: logger, Registerer: a.registry,
		Fault: a.faults.gatewayFault, Functions: gatewayFunctions(a.functions),
		Observe: a.console.observeInvocation,
	})
	if err := a.gw.OpenControlPlane(boltAPIStore{a.db}); err != nil {
		return nil, err
	}
	// The engines have made their buckets; the config's resources are made with syncs.
	if freshMeta {
		if err := finishMetadata(a.db, a.dataDir); err != nil {
			return nil, err
		}
	}

	if a.res != nil {
		if err := a.apply(a.res); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// declareConfigFaults declares the config's faults, before the engines open (see
// bootstrapKey), and keeps them for a reset to declare again.
func (a *App) declareConfigFaults(res *Resources) error {
	if res == nil {
		return nil
	}
	var faults []FaultSpec
	for i, raw := range res.Faults {
		s, err := parseFault(raw)
		if err != nil {
			return fmt.Errorf("--config faults[%d]: %w", i, err)
		}
		if res.Seed != nil && s.Probability != nil && s.Seed == nil {
			seed := *res.Seed + uint64(i)
			s.Seed = &seed
		}
		faults = append(faults, s)
	}
	if _, err := a.faults.add(faults); err != nil {
		return fmt.Errorf("--config %w", err)
	}
	a.configFaults = faults
	return nil
}

// apply creates the config file's resources through the same handlers API calls use, so
// they are validated the same way. Resources that already exist are left as they are, with
// a warning for each member the config changed.
func (a *App) apply(res *Resources) error {
	// The config's own calls meet neither faults nor --throttle's limits.
	ctx := kinesisapi.Unlimited(context.WithValue(context.Background(), bootstrapKey{}, true))
	for i, raw := range res.Streams {
		status, _, body := a.kinesis.Invoke(ctx, "CreateStream", raw, "")
		if err := configError(status, body, "ResourceInUseException"); err != nil {
			return fmt.Errorf("--config streams[%d]: %w", i, err)
		}
		if status/100 != 2 {
			a.warnStreamDrift(ctx, fmt.Sprintf("streams[%d]", i), raw)
		}
	}
	for i, raw := range res.Buckets {
		var b bucketConfig
		// A bare name is accepted too: `buckets: [my-bucket]`.
		if err := json.Unmarshal(raw, &b.Bucket); err != nil {
			if err := json.Unmarshal(raw, &b); err != nil {
				return fmt.Errorf("--config buckets[%d]: %w", i, err)
			}
		}
		region := b.CreateBucketConfiguration.LocationConstraint
		if region == "" {
			region = awsjson.DefaultRegion
		}
		if !objectstore.ValidBucketName(b.Bucket) {
			return fmt.Errorf("--config buckets[%d]: InvalidBucketName: %q is not a valid S3 bucket name (3-63 characters: lower-case letters, digits, dots and hyphens)", i, b.Bucket)
		}
		if err := a.objects.EnsureBucket(ctx, b.Bucket, region); err != nil {
			return fmt.Errorf("--config buckets[%d]: %w", i, err)
		}
	}
	for i, raw := range res.DeliveryStreams {
		status, _, body := a.firehoseAPI.Invoke(ctx, "CreateDeliveryStream", raw, "")
		if err := configError(status, body, "ResourceInUseException"); err != nil {
			return fmt.Errorf("--config deliveryStreams[%d]: %w", i, err)
		}
		if status/100 != 2 {
			a.warnDeliveryStreamDrift(ctx, fmt.Sprintf("deliveryStreams[%d]", i), raw)
		}
	}
	return a.applyGateway(res)
}

// configError turns a JSON 1.1 error response into an error, ignoring the one error type
// that means "already there".
func configError(status int, body []byte, exists string) error {
	if status/100 == 2 {
		return nil
	}
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	json.Unmarshal(body, &e)
	if e.Type == exists {
		return nil
	}
	return fmt.Errorf("%s: %s", e.Type, e.Message)
}

// Listen binds the configured address (port 0 picks a free one) and starts serving. The
// health endpoint reports ready from this point on.
func (a *App) Listen() error {
	ln, err := net.Listen("tcp", a.cfg.Listen)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", a.cfg.Listen, err)
	}
	h := a.Handler()
	// The gateway gives templates header names as clients spelled them; its listener is the
	// outer one so that ConnContext finds its connections.
	a.ln = gatewayapi.RawHeaderListener(newLimitListener(ln, a.edge.limits.MaxConns, a.edge.metrics.conns))
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	// Cleartext HTTP/2 with prior knowledge: the JavaScript SDK v3 Kinesis client speaks it.
	protocols.SetUnencryptedHTTP2(true)
	a.srv = &http.Server{
		Handler:           h,
		Protocols:         &protocols,
		ReadHeaderTimeout: a.edge.limits.ReadHeaderTimeout,
		IdleTimeout:       a.edge.limits.IdleTimeout,
		ConnContext:       gatewayapi.ConnContext,
		ErrorLog:          slog.NewLogLogger(a.logger.Handler(), slog.LevelDebug),
	}
	a.srv.RegisterOnShutdown(a.console.close)
	a.serveCh = make(chan error, 1)
	a.ready.Store(true)
	go func() { a.serveCh <- a.srv.Serve(a.ln) }()
	a.logInvokeURLs()
	return nil
}

// Addr is the address the server listens on.
func (a *App) Addr() string { return a.ln.Addr().String() }

// Endpoint is the URL clients use.
func (a *App) Endpoint() string { return "http://" + a.Addr() }

// DataDir is the absolute data directory in use.
func (a *App) DataDir() string { return a.dataDir }

// Registry is the Prometheus registry /metrics serves.
func (a *App) Registry() *prometheus.Registry { return a.registry }

// Streams is the Kinesis engine, for in-process use by tests and other services.
func (a *App) Streams() *stream.Engine { return a.streams }

// Objects is the S3 engine, for in-process use by tests and other services.
func (a *App) Objects() *objectstore.Store { return a.objects }

// Firehose is the Firehose engine, for in-process use by tests and other services.
func (a *App) Firehose() *firehose.Engine { return a.fh }

// Done is closed with the server's error if it stops serving on its own.
func (a *App) Done() <-chan error { return a.serveCh }

// Shutdown stops accepting connections, lets in-flight requests finish (until ctx ends), then
// fsyncs and closes the engines in reverse dependency order and releases the data dir.
func (a *App) Shutdown(ctx context.Context) error {
	var errs []error
	a.ready.Store(false)
	if a.srv != nil {
		a.stopHTTP(ctx)
	}
	errs = append(errs, a.closeEngines())
	return errors.Join(errs...)
}

func (a *App) closeEngines() error {
	var errs []error
	if a.gw != nil && a.db != nil {
		// The usage plans' counts live in memory; a clean stop saves them.
		errs = append(errs, a.gw.SaveUsage())
	}
	if a.channels != nil {
		a.channels.close()
	}
	if a.fh != nil {
		// Firehose delivers what it buffered before the engines it reads and writes close.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		errs = append(errs, a.fh.Close(ctx))
		cancel()
		a.fh = nil
	}
	if a.streams != nil {
		errs = append(errs, a.streams.Close())
		a.streams = nil
	}
	if a.objects != nil {
		errs = append(errs, a.objects.Close())
		a.objects = nil
	}
	if a.db != nil {
		if a.metaLoaded {
			errs = append(errs, markClean(a.db))
		}
		errs = append(errs, a.db.Close())
		a.db = nil
	}
	if a.unlock != nil {
		a.unlock()
		a.unlock = nil
	}
	if a.cfg.Ephemeral && a.dataDir != "" {
		errs = append(errs, os.RemoveAll(a.dataDir))
	}
	return errors.Join(errs...)
}

// Handler is the edge router: one listener, dispatched as DESIGN.md's table says, each
// request first checked at the edge (guard: Host, body bytes in flight, body rate).
func (a *App) Handler() http.Handler {
	if a.edge == nil {
		a.edge = newEdge(a.cfg, a.registry)
	}
	// The go_* and process_* metrics come from the default registry, where client_golang's
	// init has already put a Go and a process collector: a second pair of our own would cost
	// every start their set-up (100 KB of allocations, runtime-metric pattern matching).
	metrics := promhttp.HandlerFor(prometheus.Gatherers{a.registry, prometheus.DefaultGatherer}, promhttp.HandlerOpts{Registry: a.registry})
	var h http.HandlerFunc
	h = func(w http.ResponseWriter, r *http.Request) {
		svc := a.route(r)
		// Nothing is noted for a log no level would write (--log-level warn, a discarding
		// logger): the request goes straight on.
		if a.cfg.LogRequests && awsjson.NoteFrom(r.Context()) == nil && a.logger.Enabled(r.Context(), slog.LevelInfo) {
			// The log line covers the edge's own refusals too: logged serves the request
			// through h again, carrying the note the wire layers fill in.
			a.logged(svc, w, r, h)
			return
		}
		a.guard(svc, w, r, func(w http.ResponseWriter, r *http.Request) {
			switch svc {
			case svcGatewayInvoke:
				a.traced(svc, w, r, a.gw.ServeHTTP)
			case svcKinesis:
				a.traced(svc, w, r, a.kinesis.ServeHTTP)
			case svcFirehose:
				a.traced(svc, w, r, a.firehoseAPI.ServeHTTP)
			case svcUnknownJSON:
				awsjson.WriteError(w, r, http.StatusBadRequest, "UnknownOperationException",
					fmt.Sprintf("localpipe does not implement the service behind X-Amz-Target %q", r.Header.Get("X-Amz-Target")))
			case svcGatewayControl:
				a.gw.ServeControl(w, r)
			case svcAdmin:
				switch r.URL.Path {
				case "/_localpipe/health":
					a.serveHealth(w, r)
				case "/metrics":
					metrics.ServeHTTP(w, r)
				case "/_localpipe/faults":
					a.serveFaults(w, r)
				case "/_localpipe/reset":
					a.serveReset(w, r)
				default:
					if isConsolePath(r.URL.Path) {
						a.console.ServeHTTP(w, r)
						return
					}
					if strings.HasPrefix(r.URL.Path, "/_localpipe/faults/") {
						a.serveFaults(w, r)
						return
					}
					if strings.HasPrefix(r.URL.Path, "/_localpipe/trace/") {
						a.serveTrace(w, r)
						return
					}
					a.serveFlush(w, r)
				}
			default:
				a.tracedS3(w, r)
			}
		})
	}
	return h
}

// route decides which service answers r.
func (a *App) route(r *http.Request) service {
	// An invoke URL is API Gateway's whatever its headers: a client may send X-Amz-Target
	// to an API (one that passes it on to Kinesis, say), and must not bypass the API's
	// API keys, validators and mappings by doing so.
	if _, _, _, ok := gatewayapi.InvokeTarget(r); ok {
		return svcGatewayInvoke
	}
	if awsjson.IsTargetPreflight(r) {
		// Kinesis and Firehose answer a preflight alike; it does not say which it is for.
		return svcKinesis
	}
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		switch {
		case strings.HasPrefix(target, "Kinesis_20131202."):
			return svcKinesis
		case strings.HasPrefix(target, firehoseapi.TargetPrefix):
			return svcFirehose
		}
		return svcUnknownJSON
	}
	// /restapis, /apikeys and /usageplans are API Gateway's control plane even though
	// "restapis" and the others are valid bucket names: path-style S3 requests for buckets
	// so named cannot be told apart, and API Gateway's claim wins (LocalStack does the
	// same). A virtual-hosted S3 request names its bucket in the host and stays S3's.
	if s3api.VirtualHost(r) { // bucket.s3.localhost/metrics is an object, not Prometheus
		return svcS3
	}
	switch {
	case gatewayapi.ControlTarget(r):
		return svcGatewayControl
	case r.URL.Path == "/_localpipe/health", r.URL.Path == "/_localpipe/reset",
		r.URL.Path == "/metrics" && r.Method == http.MethodGet,
		r.URL.Path == "/_localpipe/faults" || strings.HasPrefix(r.URL.Path, "/_localpipe/faults/"),
		strings.HasPrefix(r.URL.Path, "/_localpipe/trace/"), isConsolePath(r.URL.Path),
		strings.HasPrefix(r.URL.Path, "/_localpipe/firehose/") && strings.HasSuffix(r.URL.Path, "/flush") || r.URL.Path == "/_localpipe/firehose/flush":
		return svcAdmin
	}
	return svcS3
}

// serveFlush answers POST /_localpipe/firehose/{name}/flush (one delivery stream) and POST
// /_localpipe/firehose/flush (all) with the keys written, as JSON.
func (a *App) serveFlush(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		w.WriteHeader(http.StatusMethodNotAllowed)
		w.Write([]byte(`{"message":"use POST"}` + "\n"))
		return
	}
	name := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/_localpipe/firehose/"), "/flush")
	var out any
	var err error
	if r.URL.Path == "/_localpipe/firehose/flush" {
		var all map[string][]string
		all, err = a.fh.FlushAll(r.Context())
		out = map[string]any{"deliveryStreams": all}
	} else {
		var keys []string
		keys, err = a.fh.Flush(r.Context(), name)
		if keys == nil {
			keys = []string{}
		}
		out = map[string]any{"deliveryStream": name, "keys": keys}
	}
	status := http.StatusOK
	switch {
	case errors.Is(err, firehose.ErrNotFound):
		status, out = http.StatusNotFound, map[string]string{"message": "delivery stream " + name + " not found"}
	case errors.Is(err, objectstore.ErrNoSpace) || awsjson.IsNoSpace(err):
		status, out = http.StatusServiceUnavailable, map[string]string{"message": awsjson.NoSpaceError("").Message}
	case err != nil:
		// The error names files in the data dir; the answer names none, the log has it.
		a.logger.Error("admin: flush failed", "deliveryStream", name, "err", err)
		status, out = http.StatusInternalServerError, map[string]string{"message": "the flush failed; the localpipe log says why"}
	}
	body, _ := json.Marshal(out)
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}

func (a *App) serveHealth(w http.ResponseWriter, r *http.Request) {
	state := "running"
	status := http.StatusOK
	if !a.ready.Load() {
		state, status = "starting", http.StatusServiceUnavailable
	}
	body, _ := json.Marshal(map[string]any{
		"status":   map[bool]string{true: "ok", false: "unavailable"}[status == http.StatusOK],
		"version":  VersionString(),
		"services": map[string]string{"kinesis": state, "s3": state, "firehose": state, "apigateway": state},
	})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}
