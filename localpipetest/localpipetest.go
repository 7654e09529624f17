// Package localpipetest starts a whole localpipe (API Gateway, Kinesis, Firehose and S3) inside
// a Go test, on a random loopback port with its own data directory, and hands back an
// aws.Config that points the AWS SDK for Go v2 at it. Start stops it again when the test ends.
package localpipetest

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/localpipe/localpipe/internal/sdkhttp"
	"log/slog"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/localpipe/localpipe/internal/app"
)

// Resources is the --config file's content: each entry the input of the AWS call that creates
// it (Kinesis CreateStream, S3 CreateBucket, Firehose CreateDeliveryStream, API Gateway
// ImportRestApi), with AWS's field names.
type Resources = app.Resources

// Option configures Start and New.
type Option func(*options) error

type options struct {
	res     Resources
	set     bool
	dataDir string
	region  string
	logger  *slog.Logger
	// throttle turns on Kinesis's rate limits (--throttle), refilled by clock.
	throttle bool
	clock    func() time.Time
}

// Config creates the resources a config file in YAML or JSON would (see the README's
// "Configuration"); it may be given more than once, and with Stream and Bucket.
func Config(text string) Option {
	return func(o *options) error {
		r, err := app.ParseResources([]byte(text))
		if err != nil {
			return fmt.Errorf("Config: %w", err)
		}
		o.add(r)
		return nil
	}
}

// ConfigFile creates the resources of a config file; OpenAPI files it names resolve against
// the file's directory, as with --config.
func ConfigFile(path string) Option {
	return func(o *options) error {
		r, err := app.LoadResources(path)
		if err != nil {
			return err
		}
		o.add(r)
		return nil
	}
}

// WithResources creates the given resources.
func WithResources(r *Resources) Option {
	return func(o *options) error { o.add(r); return nil }
}

// Stream creates a provisioned Kinesis stream with the given number of shards.
func Stream(name string, shards int) Option {
	return func(o *options) error {
		raw, _ := json.Marshal(map[string]any{"StreamName": name, "ShardCount": shards})
		o.add(&Resources{Streams: []json.RawMessage{raw}})
		return nil
	}
}

// Bucket creates an S3 bucket.
func Bucket(name string) Option {
	return func(o *options) error {
		raw, _ := json.Marshal(name)
		o.add(&Resources{Buckets: []json.RawMessage{raw}})
		return nil
	}
}

// DataDir keeps the data in dir instead of a new temporary directory, so a test can stop a
// server and start another on the same data.
func DataDir(dir string) Option {
	return func(o *options) error { o.dataDir = dir; return nil }
}

// Region is the region AWSConfig signs for (default us-east-1); it shows up in ARNs.
func Region(region string) Option {
	return func(o *options) error { o.region = region; return nil }
}

// Logger receives the server's logs (default: none).
func Logger(l *slog.Logger) Option {
	return func(o *options) error { o.logger = l; return nil }
}

// Throttle applies Kinesis's rate limits, as --throttle does, so a test can see its retry
// logic meet ProvisionedThroughputExceededException and LimitExceededException. The limits
// refill by clock; nil means the wall clock. A test that moves its own clock gets the same
// answers however fast the machine runs it.
func Throttle(clock func() time.Time) Option {
	return func(o *options) error { o.throttle, o.clock = true, clock; return nil }
}

func (o *options) add(r *Resources) {
	o.set = true
	o.res.Streams = append(o.res.Streams, r.Streams...)
	o.res.Buckets = append(o.res.Buckets, r.Buckets...)
	o.res.DeliveryStreams = append(o.res.DeliveryStreams, r.DeliveryStreams...)
	o.res.RestApis = append(o.res.RestApis, r.RestApis...)
	o.res.Faults = append(o.res.Faults, r.Faults...)
	if r.Seed != nil {
		o.res.Seed = r.Seed
	}
	if r.Dir != "" {
		o.res.Dir = r.Dir
	}
}

// Server is a running localpipe.
type Server struct {
	// Endpoint is the one URL every service answers on, e.g. http://127.0.0.1:40123.
	Endpoint string
	// AWSConfig has static credentials, the region and BaseEndpoint set: pass it to any
	// service's NewFromConfig. S3 clients made from it use path-style addressing, as the
	// SDK does for an endpoint that is an IP address.
	AWSConfig aws.Config
	// DataDir is the directory holding the server's data.
	DataDir string

	app *app.App
	tb  testing.TB
}

// Start starts a server for the test and stops it (removing its data, unless DataDir was
// given) when the test and its subtests end. It fails the test if the server cannot start,
// for example because the config is invalid.
func Start(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s, err := start(tb.TempDir(), opts)
	if err != nil {
		tb.Fatalf("localpipetest: %v", err)
	}
	s.tb = tb
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("localpipetest: stopping: %v", err)
		}
	})
	return s
}

// New starts a server outside a test (in TestMain, or an example); Close stops it. Its
// helper methods panic where Start's would fail the test.
func New(opts ...Option) (*Server, error) { return start("", opts) }

func start(tmp string, opts []Option) (*Server, error) {
	o := options{region: "us-east-1"}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	cfg := app.DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	switch {
	case o.dataDir != "":
		cfg.DataDir = o.dataDir
	case tmp != "":
		cfg.DataDir = tmp
	default:
		cfg.Ephemeral = true
	}
	if o.set {
		res := o.res
		cfg.Resources = &res
	}
	cfg.Throttle, cfg.ThrottleClock = o.throttle, o.clock
	a, err := app.Open(cfg, o.logger)
	if err != nil {
		return nil, err
	}
	if err := a.Listen(); err != nil {
		a.Shutdown(context.Background())
		return nil, err
	}
	s := &Server{Endpoint: a.Endpoint(), DataDir: a.DataDir(), app: a}
	s.AWSConfig = aws.Config{
		Region:       o.region,
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(s.Endpoint),
		HTTPClient:   sdkhttp.New(),
	}
	return s, nil
}

// Close stops the server as SIGTERM would: in-flight requests finish, Firehose delivers
// what it buffered, and the data is fsynced. Calling it again does nothing.
func (s *Server) Close() error {
	if s.app == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := s.app.Shutdown(ctx)
	s.app = nil
	return err
}

// App is the running application, for tests inside this module.
func (s *Server) App() *app.App { return s.app }

func (s *Server) fatalf(format string, a ...any) {
	msg := "localpipetest: " + fmt.Sprintf(format, a...)
	if s.tb == nil {
		panic(msg)
	}
	s.tb.Helper()
	s.tb.Fatal(msg)
}

// Flush makes Firehose deliver what the delivery stream buffered now, instead of when its
// buffering hints say, and returns the S3 keys it wrote (none when nothing was buffered). An
// empty name flushes every delivery stream. Call it from the test's goroutine: a failure
// ends the test.
func (s *Server) Flush(name string) []string {
	if s.tb != nil {
		s.tb.Helper()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if name != "" {
		keys, err := s.app.Firehose().Flush(ctx, name)
		if err != nil {
			s.fatalf("Flush(%q): %v", name, err)
		}
		return keys
	}
	all, err := s.app.Firehose().FlushAll(ctx)
	if err != nil {
		s.fatalf("Flush: %v", err)
	}
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	sort.Strings(names)
	var keys []string
	for _, n := range names {
		keys = append(keys, all[n]...)
	}
	return keys
}

// Kinesis is a Kinesis client for the server.
func (s *Server) Kinesis() *kinesis.Client { return kinesis.NewFromConfig(s.AWSConfig) }

// Firehose is a Firehose client for the server.
func (s *Server) Firehose() *firehose.Client { return firehose.NewFromConfig(s.AWSConfig) }

// S3 is an S3 client for the server, path-style.
func (s *Server) S3() *s3.Client {
	return s3.NewFromConfig(s.AWSConfig, func(o *s3.Options) { o.UsePathStyle = true })
}

// InvokeURL is the URL that calls a deployed API Gateway REST API's resource path at a
// stage, in the form AWS-emulating tools share:
// {Endpoint}/restapis/{apiID}/{stage}/_user_request_/{path}.
func (s *Server) InvokeURL(apiID, stage, path string) string {
	return s.Endpoint + "/restapis/" + url.PathEscape(apiID) + "/" + url.PathEscape(stage) + "/_user_request_/" + strings.TrimPrefix(path, "/")
}

// Records reads every record in the stream so far, shard by shard from the oldest, through
// the Kinesis API. Call it from the test's goroutine: a failure ends the test.
func (s *Server) Records(stream string) []types.Record {
	if s.tb != nil {
		s.tb.Helper()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	kc := s.Kinesis()
	var out []types.Record
	in := &kinesis.ListShardsInput{StreamName: aws.String(stream)}
	for {
		page, err := kc.ListShards(ctx, in)
		if err != nil {
			s.fatalf("Records(%q): %v", stream, err)
		}
		for _, sh := range page.Shards {
			it, err := kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
				StreamName: aws.String(stream), ShardId: sh.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
			})
			if err != nil {
				s.fatalf("Records(%q): %v", stream, err)
			}
			iter := it.ShardIterator
			for iter != nil {
				res, err := kc.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter})
				if err != nil {
					s.fatalf("Records(%q): %v", stream, err)
				}
				out = append(out, res.Records...)
				if len(res.Records) == 0 {
					break
				}
				iter = res.NextShardIterator
			}
		}
		if page.NextToken == nil {
			return out
		}
		in = &kinesis.ListShardsInput{NextToken: page.NextToken}
	}
}

// FaultSpec declares an injected fault: see the README's "Testing failures".
type FaultSpec = app.FaultSpec

// Fault makes the running server fail, slow down or throttle the calls f matches, until
// ClearFaults, and returns its id. An invalid declaration ends the test with the reason.
func (s *Server) Fault(f FaultSpec) string {
	if s.tb != nil {
		s.tb.Helper()
	}
	ids, err := s.app.AddFaults(f)
	if err != nil {
		s.fatalf("Fault: %v", err)
	}
	return ids[0]
}

// ClearFaults removes the faults with the given ids, or every fault when none is given.
func (s *Server) ClearFaults(ids ...string) { s.app.RemoveFaults(ids...) }
