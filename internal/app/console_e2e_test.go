package app_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/klauspost/compress/snappy"
)

// consoleGet asks the console's JSON API and decodes a 200 answer into v.
func consoleGet(t *testing.T, s *server, path string, v any) {
	t.Helper()
	r := s.do(t, "GET", s.a.Endpoint()+"/_localpipe/ui/api/"+path, "")
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET %s: %d %s", path, r.status, r.body)
	}
	if err := json.Unmarshal([]byte(r.body), v); err != nil {
		t.Fatalf("GET %s: %v\n%s", path, err, r.body)
	}
}

// TestConsolePageOffline: the console is one page and its own script and style, served from
// the binary, naming nothing on another host (it works offline, and no CDN sees the data).
func TestConsolePageOffline(t *testing.T) {
	s := startServer(t, seedConfig, nil)
	base := s.a.Endpoint() + "/_localpipe/ui"
	page := s.do(t, "GET", base+"/", "")
	if page.status != 200 || !strings.HasPrefix(page.header.Get("Content-Type"), "text/html") ||
		!strings.Contains(page.body, `src="assets/console.js"`) || !strings.Contains(page.body, `href="assets/console.css"`) {
		t.Fatalf("GET /_localpipe/ui/: %d %v\n%s", page.status, page.header, page.body)
	}
	for _, tc := range []struct{ path, ctype string }{{"/", "text/html"}, {"/assets/console.js", "text/javascript"}, {"/assets/console.css", "text/css"}} {
		r := s.do(t, "GET", base+tc.path, "")
		if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), tc.ctype) {
			t.Errorf("GET %s: %d %s", tc.path, r.status, r.header.Get("Content-Type"))
		}
		if strings.Contains(r.body, "http://") || strings.Contains(r.body, "https://") || strings.Contains(r.body, "//cdn") {
			t.Errorf("%s names another host; the console must work offline", tc.path)
		}
	}
	// A missing trailing slash would resolve assets/… against /_localpipe/.
	req, _ := http.NewRequest("GET", base, nil)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/_localpipe/ui/" {
		t.Errorf("GET /_localpipe/ui: %d Location %q; want a redirect to /_localpipe/ui/", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/assets/nope.js", 404},
		{"GET", "/assets/../../metrics", 404},
		{"GET", "/api/nope", 404},
		{"POST", "/api/streams", 405},
		{"GET", "/api/streams/nope/records", 404},
		{"GET", "/api/buckets/nope/objects", 404},
		{"GET", "/api/buckets/my-delivery-bucket/preview?key=nope", 404},
	} {
		if r := s.do(t, tc.method, base+tc.path, ""); r.status != tc.status || !strings.Contains(r.body, `"message"`) {
			t.Errorf("%s %s: %d %s; want %d and a JSON message", tc.method, tc.path, r.status, r.body, tc.status)
		}
	}
}

// TestConsoleAPI: what the console shows comes from the engines: a stream's shards and its
// records decoded as each is (JSON, text, base64) with the sequence numbers clients saw, the
// gateway's recent invocations with the rendered integration request, a delivery's keys,
// and the delivered object decompressed.
func TestConsoleAPI(t *testing.T) {
	s := startServer(t, seedConfig, nil)
	ctx := context.Background()
	inv := s.do(t, "POST", seedInvokeURL(s), `{"console": 1}`)
	if inv.status != 200 {
		t.Fatalf("invoke: %d %s", inv.status, inv.body)
	}
	requestID := inv.header.Get("X-Amzn-Requestid")
	var put []*kinesis.PutRecordOutput
	for _, data := range [][]byte{{0, 1, 2, 0xff}, []byte("plain text")} {
		out, err := s.kin.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("my-data-stream"), PartitionKey: aws.String("k"), Data: data})
		if err != nil {
			t.Fatal(err)
		}
		put = append(put, out)
	}

	var streams struct {
		Streams []struct {
			Name    string
			Records int
			Shards  []struct{ ID, StartingHashKey, EndingHashKey, State string }
		}
	}
	consoleGet(t, s, "streams", &streams)
	if len(streams.Streams) != 1 || streams.Streams[0].Name != "my-data-stream" || streams.Streams[0].Records != 3 ||
		len(streams.Streams[0].Shards) != 1 {
		t.Fatalf("streams: %+v", streams)
	}
	if sh := streams.Streams[0].Shards[0]; sh.ID != "shardId-000000000000" || sh.StartingHashKey != "0" ||
		sh.EndingHashKey != "340282366920938463463374607431768211455" || sh.State != "open" {
		t.Errorf("shard: %+v", sh)
	}

	type record struct {
		Position                                     uint64
		SequenceNumber, PartitionKey, Encoding, Data string
	}
	var recs struct {
		Records []record
		Next    uint64
	}
	consoleGet(t, s, "streams/my-data-stream/records", &recs)
	want := []record{
		{0, "", requestID, "json", `{"console": 1}`},
		{1, aws.ToString(put[0].SequenceNumber), "k", "base64", "AAEC/w=="},
		{2, aws.ToString(put[1].SequenceNumber), "k", "text", "plain text"},
	}
	if len(recs.Records) != len(want) || recs.Next != 3 {
		t.Fatalf("records: %+v", recs)
	}
	for i, w := range want {
		got := recs.Records[i]
		if w.SequenceNumber == "" {
			w.SequenceNumber = got.SequenceNumber
		}
		if got != w {
			t.Errorf("record %d: %+v, want %+v", i, got, w)
		}
	}
	consoleGet(t, s, "streams/my-data-stream/records?from=1&limit=1", &recs)
	if len(recs.Records) != 1 || recs.Records[0].Position != 1 || recs.Next != 2 {
		t.Errorf("from=1&limit=1: %+v", recs)
	}
	consoleGet(t, s, "streams/my-data-stream/records?limit=1", &recs)
	if len(recs.Records) != 1 || recs.Records[0].Position != 2 {
		t.Errorf("limit=1 (the last record): %+v", recs)
	}

	var apis struct {
		APIs []struct {
			ID     string
			Stages []struct {
				Stage      string
				InvokeURLs []string
				Methods    []struct{ HTTPMethod, ResourcePath, IntegrationType, IntegrationURI string }
			}
		}
		Invocations []struct {
			RequestID, Method, Path, ResourcePath, IntegrationRequest string
			Status, IntegrationStatus                                 int
		}
	}
	consoleGet(t, s, "apis", &apis)
	if len(apis.APIs) != 1 || apis.APIs[0].ID != "seedapi001" || len(apis.APIs[0].Stages) != 1 ||
		apis.APIs[0].Stages[0].Stage != "prod" || len(apis.APIs[0].Stages[0].InvokeURLs) != 2 {
		t.Fatalf("apis: %+v", apis)
	}
	methods := apis.APIs[0].Stages[0].Methods
	found := false
	for _, m := range methods {
		found = found || m.HTTPMethod == "POST" && m.ResourcePath == "/stream" && m.IntegrationType == "AWS" && strings.HasSuffix(m.IntegrationURI, "kinesis:action/PutRecord")
	}
	if !found {
		t.Errorf("methods: %+v; want POST /stream → Kinesis PutRecord", methods)
	}
	if len(apis.Invocations) != 1 {
		t.Fatalf("invocations: %+v", apis.Invocations)
	}
	if v := apis.Invocations[0]; v.RequestID != requestID || v.Method != "POST" || v.Path != "/stream" || v.ResourcePath != "/stream" ||
		v.Status != 200 || v.IntegrationStatus != 200 || !strings.Contains(v.IntegrationRequest, `"StreamName": "my-data-stream"`) {
		t.Errorf("invocation: %+v", v)
	}

	s.flush(t, "my-firehose-stream")
	var fh struct {
		DeliveryStreams []struct {
			Name             string
			SizeHintBytes    int64
			IntervalSeconds  float64
			BufferedBytes    int64
			RecentDeliveries []struct {
				Bucket, Trigger string
				Keys            []string
				Records         int
			}
		}
	}
	consoleGet(t, s, "firehose", &fh)
	if len(fh.DeliveryStreams) != 1 || fh.DeliveryStreams[0].SizeHintBytes != 5<<20 || fh.DeliveryStreams[0].IntervalSeconds != 300 {
		t.Fatalf("firehose: %+v", fh)
	}
	d := fh.DeliveryStreams[0].RecentDeliveries
	if len(d) != 1 || d[0].Bucket != "my-delivery-bucket" || d[0].Trigger != "flush" || d[0].Records != 3 || len(d[0].Keys) != 1 {
		t.Fatalf("recent deliveries: %+v", d)
	}
	key := d[0].Keys[0]

	// Browse down to the object by prefix, one level at a time.
	prefix := ""
	for strings.Contains(key[len(prefix):], "/") {
		var list struct {
			Prefixes []string
			Objects  []struct{ Key string }
		}
		consoleGet(t, s, "buckets/my-delivery-bucket/objects?prefix="+url.QueryEscape(prefix), &list)
		next := prefix + key[len(prefix):len(prefix)+strings.Index(key[len(prefix):], "/")+1]
		if len(list.Prefixes) != 1 || list.Prefixes[0] != next || len(list.Objects) != 0 {
			t.Fatalf("prefix %q: %+v; want only %q", prefix, list, next)
		}
		prefix = next
	}
	var preview struct{ Compression, Encoding, Data string }
	consoleGet(t, s, "buckets/my-delivery-bucket/preview?key="+url.QueryEscape(key), &preview)
	if preview.Compression != "gzip" || preview.Encoding != "base64" {
		// The object holds the binary record, so it is shown as base64.
		t.Errorf("preview: %+v", preview)
	}
	dl := s.do(t, "GET", s.a.Endpoint()+"/_localpipe/ui/api/buckets/my-delivery-bucket/download?key="+url.QueryEscape(key), "")
	if dl.status != 200 || !strings.HasPrefix(dl.body, "\x1f\x8b") || !strings.HasPrefix(dl.header.Get("Content-Disposition"), "attachment") {
		t.Errorf("download: %d %v", dl.status, dl.header)
	}
}

// TestConsolePreviewDecompresses: a preview undoes the compressions Firehose writes.
func TestConsolePreviewDecompresses(t *testing.T) {
	s := startServer(t, seedConfig, nil)
	text := `{"hello":"preview"}` + "\n"
	var gz, zp, sn, hs bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(text))
	zw.Close()
	za := zip.NewWriter(&zp)
	f, _ := za.Create("entry")
	f.Write([]byte(text))
	za.Close()
	sw := snappy.NewBufferedWriter(&sn)
	sw.Write([]byte(text))
	sw.Close()
	chunk := snappy.Encode(nil, []byte(text))
	binary.Write(&hs, binary.BigEndian, uint32(len(text)))
	binary.Write(&hs, binary.BigEndian, uint32(len(chunk)))
	hs.Write(chunk)
	for _, tc := range []struct {
		key, compression string
		body             []byte
	}{
		{"a.gz", "gzip", gz.Bytes()},
		{"a.zip", "zip", zp.Bytes()},
		{"a.snappy", "snappy", sn.Bytes()},
		{"a.hsnappy", "hadoop-snappy", hs.Bytes()},
		{"a.txt", "none", []byte(text)},
	} {
		if _, err := s.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("my-delivery-bucket"), Key: aws.String(tc.key),
			Body: bytes.NewReader(tc.body)}); err != nil {
			t.Fatal(err)
		}
		var p struct{ Compression, Encoding, Data, Error string }
		consoleGet(t, s, "buckets/my-delivery-bucket/preview?key="+tc.key, &p)
		if p.Compression != tc.compression || p.Data != text || p.Error != "" {
			t.Errorf("%s: %+v; want %s of %q", tc.key, p, tc.compression, text)
		}
	}
	// What does not decompress is shown as it is, with the reason.
	s.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("my-delivery-bucket"), Key: aws.String("bad.gz"),
		Body: bytes.NewReader([]byte("\x1f\x8bnot gzip"))})
	var p struct{ Compression, Error string }
	consoleGet(t, s, "buckets/my-delivery-bucket/preview?key=bad.gz", &p)
	if p.Compression != "none" || !strings.Contains(p.Error, "cannot decompress") {
		t.Errorf("bad.gz: %+v", p)
	}
}

// TestConsoleBadQueries: the console's query parameters are checked, with a 400 that says
// what is wrong (the table of every bad input is TestConsoleQueryParsers).
func TestConsoleBadQueries(t *testing.T) {
	s := startServer(t, seedConfig, nil)
	for _, path := range []string{
		"streams/my-data-stream/records?limit=0",
		"streams/my-data-stream/records?shard=-1",
		"streams/my-data-stream/records?from=x",
		"streams/my-data-stream/records?limt=5",
		"buckets/my-delivery-bucket/objects?prefix=a&prefix=b",
		"buckets/my-delivery-bucket/objects?limit=1001",
		"buckets/my-delivery-bucket/preview",
		"buckets/my-delivery-bucket/download?key=%ff",
	} {
		r := s.do(t, "GET", s.a.Endpoint()+"/_localpipe/ui/api/"+path, "")
		if r.status != 400 || !strings.Contains(r.body, `"message"`) {
			t.Errorf("GET %s: %d %s; want 400 with a message", path, r.status, r.body)
		}
	}
	if r := s.do(t, "GET", s.a.Endpoint()+"/_localpipe/ui/api/streams/my-data-stream/records?shard=1", ""); r.status != 404 {
		t.Errorf("shard=1 of a one-shard stream: %d %s", r.status, r.body)
	}
}

// sseEvent is one server-sent event.
type sseEvent struct{ name, data string }

// readEvents reads the console's event stream until match says stop, returning the events
// seen; the test's own deadline ends a stream that never sends the one wanted.
func readEvents(t *testing.T, br *bufio.Reader, match func(sseEvent) bool) []sseEvent {
	t.Helper()
	var seen []sseEvent
	var ev sseEvent
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("event stream ended (%v) after %+v", err, seen)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(line, "event: "):
			ev.name = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			ev.data = line[len("data: "):]
		case line == "":
			seen = append(seen, ev)
			if match(ev) {
				return seen
			}
			ev = sseEvent{}
		}
	}
}

// TestConsoleEvents: a console listening on /_localpipe/ui/events hears of a put record
// (the stream's tip moves), of an invocation and of a delivery.
func TestConsoleEvents(t *testing.T) {
	s := startServer(t, seedConfig, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", s.a.Endpoint()+"/_localpipe/ui/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %v", resp.StatusCode, resp.Header)
	}
	br := bufio.NewReader(resp.Body)
	hello := readEvents(t, br, func(e sseEvent) bool { return true })
	if hello[0].name != "hello" || !strings.Contains(hello[0].data, `"my-data-stream":{"shardId-000000000000":0}`) {
		t.Fatalf("first event: %+v", hello[0])
	}

	if _, err := s.kin.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("my-data-stream"), PartitionKey: aws.String("k"),
		Data: []byte("evented")}); err != nil {
		t.Fatal(err)
	}
	readEvents(t, br, func(e sseEvent) bool {
		return e.name == "streams" && strings.Contains(e.data, `"my-data-stream":{"shardId-000000000000":1}`)
	})

	inv := s.do(t, "POST", seedInvokeURL(s), `{"n": 2}`)
	readEvents(t, br, func(e sseEvent) bool {
		return e.name == "invocation" && strings.Contains(e.data, `"requestId":"`+inv.header.Get("X-Amzn-Requestid")+`"`)
	})
	s.flush(t, "my-firehose-stream")
	readEvents(t, br, func(e sseEvent) bool {
		return e.name == "delivery" && strings.Contains(e.data, `"deliveryStream":"my-firehose-stream"`) && strings.Contains(e.data, `"records":2`)
	})
}

// TestConsoleEventsEndAtShutdown: an open console does not hold a shutdown up: its event
// stream ends as the server starts shutting down, instead of being cut off when the wait
// for requests in flight runs out.
func TestConsoleEventsEndAtShutdown(t *testing.T) {
	s := startServer(t, seedConfig, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", s.a.Endpoint()+"/_localpipe/ui/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	readEvents(t, br, func(e sseEvent) bool { return e.name == "hello" })
	if err := s.a.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(br); err != nil {
		t.Errorf("the event stream did not end cleanly: %v", err)
	}
	if logs := s.logs.String(); strings.Contains(logs, "did not finish in time") {
		t.Errorf("the shutdown waited for the console:\n%s", logs)
	}
}
