package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

func init() {
	register(&command{
		name:    "trace",
		args:    "REQUEST_ID",
		summary: "show where a request went: gateway, records, S3 objects",
		help: `Asks GET /_localpipe/trace/{requestId} and prints the request's hops, one per line:
the API Gateway method and its status, each Kinesis or Firehose record the request wrote
(stream, shard and sequence number, or record id), and each S3 object Firehose has
delivered those records in so far. The request id is the x-amzn-RequestId of a Kinesis
PutRecord or PutRecords, a Firehose PutRecord or PutRecordBatch, or an API Gateway invoke
(the server keeps the last --trace-size of them). --json prints the answer as it came.
Exit status 0 when the trace is found, 1 when it is not (or nothing answers), 2 for a
wrong invocation.
`,
		setup: func(fs *flag.FlagSet) func(*client, []string) int {
			asJSON := fs.Bool("json", false, "print the server's JSON answer")
			return func(c *client, args []string) int {
				if len(args) != 1 || strings.TrimSpace(args[0]) == "" {
					return c.usageError("want exactly one request id, got %d arguments", len(args))
				}
				return c.trace(args[0], *asJSON)
			}
		},
	})
}

func (c *client) trace(id string, asJSON bool) int {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.endpoint+"/_localpipe/trace/"+url.PathEscape(id), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return c.fail(err)
	}
	defer resp.Body.Close()
	// The largest trace is a batch of 500 records, each with its hop and its object's.
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return c.fail(err)
	}
	if resp.StatusCode != http.StatusOK {
		var out struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(body, &out) != nil || out.Message == "" {
			out.Message = strings.TrimSpace(string(body))
		}
		fmt.Fprintf(c.stderr, "localpipe trace: %s: %s\n", resp.Status, truncateLine(out.Message, 500))
		return exitFail
	}
	lines, err := traceLines(body)
	if err != nil {
		fmt.Fprintf(c.stderr, "localpipe trace: %s answered, but not as localpipe does (is something else on that port?): %v\n", c.endpoint, err)
		return exitFail
	}
	if asJSON {
		c.stdout.Write(body)
		return exitOK
	}
	for _, l := range lines {
		fmt.Fprintln(c.stdout, l)
	}
	return exitOK
}

// traceHop is a hop of the server's trace answer, every service's fields together.
type traceHop struct {
	Service            string `json:"service"`
	APIID              string `json:"apiId"`
	Stage              string `json:"stage"`
	ResourcePath       string `json:"resourcePath"`
	Status             int    `json:"status"`
	StreamName         string `json:"streamName"`
	ShardID            string `json:"shardId"`
	SequenceNumber     string `json:"sequenceNumber"`
	DeliveryStreamName string `json:"deliveryStreamName"`
	RecordID           string `json:"recordId"`
	Bucket             string `json:"bucket"`
	Key                string `json:"key"`
	Operation          string `json:"operation"`
}

// traceLines renders the server's trace answer for people, one line per hop, the service
// first so that the lines line up.
func traceLines(body []byte) ([]string, error) {
	var doc struct {
		RequestID *string     `json:"requestId"`
		Hops      *[]traceHop `json:"hops"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, err
	}
	if doc.RequestID == nil || doc.Hops == nil {
		return nil, errors.New(`no "requestId" and "hops"`)
	}
	var lines []string
	for _, h := range *doc.Hops {
		var l string
		switch {
		case h.Service == "apigateway":
			path := h.ResourcePath
			if path == "" {
				path = "(no resource matched)"
			}
			l = fmt.Sprintf("API %s stage %s resource %s: %s", h.APIID, h.Stage, path, statusText(h.Status))
		case h.Service == "kinesis":
			l = fmt.Sprintf("stream %s %s sequence number %s", h.StreamName, h.ShardID, h.SequenceNumber)
		case h.Service == "s3":
			l = fmt.Sprintf("%s s3://%s/%s: %s", h.Operation, h.Bucket, h.Key, statusText(h.Status))
		case h.Key != "":
			l = fmt.Sprintf("delivery stream %s delivered it to s3://%s/%s", h.DeliveryStreamName, h.Bucket, h.Key)
		case h.RecordID != "":
			l = fmt.Sprintf("delivery stream %s record %s", h.DeliveryStreamName, h.RecordID)
		default:
			// A hop of a kind this build does not know: say what there is.
			raw, _ := json.Marshal(h)
			l = string(raw)
		}
		lines = append(lines, fmt.Sprintf("%-10s  %s", truncateLine(h.Service, 20), truncateLine(l, 2000)))
	}
	return lines, nil
}

func statusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return strconv.Itoa(code) + " " + t
	}
	return strconv.Itoa(code)
}

// truncateLine bounds what a server's answer puts on one line of the terminal, and keeps
// control characters from it out.
func truncateLine(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return '?'
		}
		return r
	}, s)
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
