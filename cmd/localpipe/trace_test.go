package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestTraceCommand: `localpipe trace` follows a POST to the seed's API, against the real
// binary, through the gateway and Kinesis to the S3 object Firehose wrote, one line per hop;
// --json gives the server's answer; an unknown id fails with the server's reason.
func TestTraceCommand(t *testing.T) {
	t.Parallel()
	s := start(t, "--ephemeral", "--config", "../../examples/seed/localpipe.yaml")
	resp, err := http.Post(s.endpoint+"/restapis/seedapi001/prod/_user_request_/stream", "application/json",
		strings.NewReader(`{"message":"trace me"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	id := resp.Header.Get("X-Amzn-Requestid")
	if resp.StatusCode != 200 || id == "" {
		t.Fatalf("POST /stream: %s, request id %q: %s", resp.Status, id, body)
	}
	var put struct{ SequenceNumber, ShardId string }
	if err := json.Unmarshal(body, &put); err != nil {
		t.Fatal(err)
	}
	keys := s.flush(t, "my-firehose-stream")
	if len(keys) != 1 {
		t.Fatalf("flush wrote %q", keys)
	}

	r := lp(t, s.endpoint, "", "trace", id).want(t, 0, "")
	want := []string{
		"apigateway  API seedapi001 stage prod resource /stream: 200 OK",
		"kinesis     stream my-data-stream " + put.ShardId + " sequence number " + put.SequenceNumber,
		"firehose    delivery stream my-firehose-stream delivered it to s3://my-delivery-bucket/" + keys[0],
	}
	if got := strings.TrimSuffix(r.stdout, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("trace printed\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}

	r = lp(t, s.endpoint, "", "trace", "--json", id).want(t, 0, "")
	var doc struct {
		RequestID string           `json:"requestId"`
		Hops      []map[string]any `json:"hops"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || doc.RequestID != id || len(doc.Hops) != 3 || doc.Hops[2]["key"] != keys[0] {
		t.Errorf("trace --json printed %s (%v)", r.stdout, err)
	}

	lp(t, s.endpoint, "", "trace", "00000000-0000-4000-8000-000000000000").want(t, 1, "404 Not Found: no trace of request 00000000-0000-4000-8000-000000000000")
	lp(t, s.endpoint, "", "trace").want(t, 2, "want exactly one request id")
	lp(t, deadEndpoint(t), "", "trace", id).want(t, 1, "nothing is listening at")
}

// TestTraceLinesBadAnswers: an answer that is not a trace is an error, not an empty trace or
// a panic; hops of kinds the CLI does not know are printed as they came.
func TestTraceLinesBadAnswers(t *testing.T) {
	for _, c := range []struct{ name, body string }{
		{"empty", ""},
		{"HTML", "<html>hello</html>"},
		{"not an object", `["requestId"]`},
		{"no hops", `{"requestId":"x"}`},
		{"no id", `{"hops":[]}`},
		{"hops not a list", `{"requestId":"x","hops":{}}`},
		{"status not a number", `{"requestId":"x","hops":[{"service":"apigateway","status":"200"}]}`},
		{"truncated", `{"requestId":"x","hops":[{"service":"kinesis"`},
	} {
		if lines, err := traceLines([]byte(c.body)); err == nil {
			t.Errorf("%s: %q gave %q, want an error", c.name, c.body, lines)
		}
	}
	lines, err := traceLines([]byte(`{"requestId":"x","hops":[{"service":"lambda","functionName":"f"},{"service":"x\u001b[2J"}]}`))
	if err != nil || len(lines) != 2 || !strings.HasPrefix(lines[0], "lambda      {") || strings.ContainsRune(lines[1], 0x1b) {
		t.Errorf("unknown hops: %q, %v", lines, err)
	}
	lines, err = traceLines([]byte(`{"requestId":"x","hops":[{"service":"s3","operation":"PutObject","bucket":"b","key":"d/k","status":200}]}`))
	if want := "s3          PutObject s3://b/d/k: 200 OK"; err != nil || len(lines) != 1 || lines[0] != want {
		t.Errorf("an S3 hop: %q, %v; want %q", lines, err, want)
	}
}

// FuzzTraceLines: whatever a server answers, rendering it returns lines or an error.
func FuzzTraceLines(f *testing.F) {
	f.Add([]byte(`{"requestId":"r","hops":[{"service":"apigateway","apiId":"a","stage":"s","resourcePath":"/p","status":200},` +
		`{"service":"kinesis","streamName":"s","shardId":"shardId-000000000000","sequenceNumber":"1"},` +
		`{"service":"firehose","deliveryStreamName":"d","recordId":"r"},{"service":"firehose","deliveryStreamName":"d","bucket":"b","key":"k"},` +
		`{"service":"s3","operation":"PutObject","bucket":"b","key":"k","status":200}]}`))
	f.Add([]byte(`{"requestId":"r","hops":[]}`))
	f.Add([]byte(`{"message":"no trace"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		lines, _ := traceLines(body)
		for _, l := range lines {
			if strings.ContainsAny(l, "\n\r\x1b") {
				t.Errorf("%q: line %q breaks the terminal", body, l)
			}
		}
	})
}
