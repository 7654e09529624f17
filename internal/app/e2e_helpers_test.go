package app_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"github.com/localpipe/localpipe/internal/sdkhttp"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/klauspost/compress/zstd"

	"github.com/localpipe/localpipe/internal/app"
)

// logBuffer collects the server's log lines for tests that check what it explained.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// server is a localpipe started in-process on a free loopback port.
type server struct {
	a    *app.App
	logs *logBuffer
	port string
	kin  *kinesis.Client
	s3   *s3.Client
}

// startServer writes files (name → content) to a temp dir, starts localpipe with
// --config dir/localpipe.yaml (or configFile, if given) on an ephemeral data dir, and stops
// it when the test ends.
func startServer(t *testing.T, configFile string, files map[string]string) *server {
	t.Helper()
	return startServerConfig(t, nil, configFile, files)
}

// startServerConfig is startServer with the configuration adjusted by configure (when not
// nil) before the server opens: limits, allowed hosts.
func startServerConfig(t *testing.T, configure func(*app.Config), configFile string, files map[string]string) *server {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if configFile == "" {
		configFile = filepath.Join(dir, "localpipe.yaml")
	}
	logs := &logBuffer{}
	cfg := app.DefaultConfig()
	cfg.Listen, cfg.Ephemeral, cfg.ConfigFile = "127.0.0.1:0", true, configFile
	if configure != nil {
		configure(&cfg)
	}
	a, err := app.Open(cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Listen(); err != nil {
		a.Shutdown(context.Background())
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := a.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	})
	_, port, _ := net.SplitHostPort(a.Addr())
	creds := credentials.NewStaticCredentialsProvider("test", "test", "")
	return &server{
		a: a, logs: logs, port: port,
		kin: kinesis.New(kinesis.Options{Region: "us-east-1", BaseEndpoint: aws.String(a.Endpoint()), Credentials: creds, HTTPClient: sdkhttp.New()}),
		s3:  s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(a.Endpoint()), Credentials: creds, UsePathStyle: true, HTTPClient: sdkhttp.New()}),
	}
}

type response struct {
	status int
	header http.Header
	body   string
}

// do sends one request. url may name the host {id}.execute-api.localhost…: the connection
// still goes to the server's loopback address, with that Host header, so the test does not
// depend on how the machine resolves *.localhost.
func (s *server) do(t *testing.T, method, url, body string, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body == "" {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if req.Header.Get("Content-Type") == "" && body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Host = req.URL.Host
	req.URL.Host = s.a.Addr()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, string(b)}
}

// url is the invoke URL of path at an API stage, in the /restapis/…/_user_request_ form.
func (s *server) url(apiID, stage, path string) string {
	return "http://127.0.0.1:" + s.port + "/restapis/" + apiID + "/" + stage + "/_user_request_" + path
}

// records reads every record of a stream from the start of each shard.
func (s *server) records(t *testing.T, stream string) []ktypes.Record {
	t.Helper()
	ctx := context.Background()
	shards, err := s.kin.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(stream)})
	if err != nil {
		t.Fatal(err)
	}
	var out []ktypes.Record
	for _, sh := range shards.Shards {
		it, err := s.kin.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
			StreamName: aws.String(stream), ShardId: sh.ShardId, ShardIteratorType: ktypes.ShardIteratorTypeTrimHorizon,
		})
		if err != nil {
			t.Fatal(err)
		}
		res, err := s.kin.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, res.Records...)
	}
	return out
}

// flushResponse is the server's answer to a flush of one delivery stream: 404 when there
// is none of that name.
func (s *server) flushResponse(t *testing.T, deliveryStream string) response {
	t.Helper()
	return s.do(t, "POST", s.a.Endpoint()+"/_localpipe/firehose/"+deliveryStream+"/flush", "")
}

// flush asks Firehose to deliver what it buffered now.
func (s *server) flush(t *testing.T, deliveryStream string) {
	t.Helper()
	if r := s.flushResponse(t, deliveryStream); r.status != 200 {
		t.Fatalf("flush %s: %d %s", deliveryStream, r.status, r.body)
	}
}

// hasDeliveryStream flushes the delivery stream name and reports whether there is one.
func (s *server) hasDeliveryStream(t *testing.T, name string) bool {
	return s.flushResponse(t, name).status == 200
}

// objects returns the bucket's objects by key, gunzipped when they are gzip data and
// decompressed when they are Zstandard frames.
func (s *server) objects(t *testing.T, bucket string) map[string]string {
	t.Helper()
	ctx := context.Background()
	list, err := s.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, o := range list.Contents {
		get, err := s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: o.Key})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(get.Body)
		get.Body.Close()
		if len(b) > 2 && b[0] == 0x1f && b[1] == 0x8b {
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("%s: not gzip: %v", *o.Key, err)
			}
			if b, err = io.ReadAll(zr); err != nil {
				t.Fatalf("%s: %v", *o.Key, err)
			}
		}
		if len(b) > 4 && bytes.Equal(b[:4], []byte{0x28, 0xb5, 0x2f, 0xfd}) {
			zr, err := zstd.NewReader(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("%s: not zstd: %v", *o.Key, err)
			}
			b, err = io.ReadAll(zr)
			zr.Close()
			if err != nil {
				t.Fatalf("%s: %v", *o.Key, err)
			}
		}
		out[*o.Key] = string(b)
	}
	return out
}
