package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

func init() {
	register(&command{
		name:    "health",
		summary: "check that localpipe is up and ready",
		help: `Asks GET /_localpipe/health. Exit status 0 when the server answers that it is ready,
1 when it is not (or nothing answers), 2 for a wrong invocation: usable as a docker
healthcheck or to wait for the server in CI (--wait 30s).
`,
		setup: func(fs *flag.FlagSet) func(*client, []string) int {
			wait := fs.Duration("wait", 0, "keep asking until healthy or this much time has passed (e.g. 30s)")
			timeout := fs.Duration("timeout", 2*time.Second, "how long one request may take")
			quiet := fs.Bool("quiet", false, "print nothing; only the exit status tells")
			return func(c *client, args []string) int {
				if len(args) > 0 {
					return c.usageError("unexpected argument %q", args[0])
				}
				return c.health(*wait, *timeout, *quiet)
			}
		},
	})
	register(&command{
		name:    "flush",
		args:    "[DELIVERY_STREAM]",
		summary: "deliver what Firehose buffered now; print the keys written",
		help: `Asks POST /_localpipe/firehose/{name}/flush, or /_localpipe/firehose/flush for every
delivery stream, and prints each S3 key written, one per line (--json prints the answer as
it came). Exit status 0 on success (even when nothing was buffered), 1 when the delivery
stream does not exist or the flush failed, 2 for a wrong invocation.
`,
		setup: func(fs *flag.FlagSet) func(*client, []string) int {
			asJSON := fs.Bool("json", false, "print the server's JSON answer instead of the keys")
			return func(c *client, args []string) int {
				if len(args) > 1 {
					return c.usageError("at most one delivery stream name, got %d arguments", len(args))
				}
				name := ""
				if len(args) == 1 {
					name = args[0]
					if name == "" {
						return c.usageError("empty delivery stream name")
					}
				}
				return c.flush(name, *asJSON)
			}
		},
	})
	register(&command{
		name:    "reset",
		summary: "delete every resource and all data, then apply the config again",
		help: `Asks POST /_localpipe/reset: deletes every stream, delivery stream, bucket (with its
objects), REST API and API key, and every record, then creates the server's --config
resources again, empty. Use it for a clean start between test runs without restarting.
Exit status 0 when done, 1 when the reset failed (or nothing answers), 2 for a wrong
invocation.
`,
		setup: func(fs *flag.FlagSet) func(*client, []string) int {
			return func(c *client, args []string) int {
				if len(args) > 0 {
					return c.usageError("unexpected argument %q", args[0])
				}
				return c.reset()
			}
		},
	})
}

func (c *client) reset() int {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint+"/_localpipe/reset", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return c.fail(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		var out struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(body, &out) != nil || out.Message == "" {
			out.Message = strings.TrimSpace(string(body))
		}
		fmt.Fprintf(c.stderr, "localpipe reset: %s: %s\n", resp.Status, out.Message)
		return exitFail
	}
	fmt.Fprintf(c.stderr, "localpipe reset: every resource deleted at %s; the config's are created again\n", c.endpoint)
	return exitOK
}

func (c *client) health(wait, timeout time.Duration, quiet bool) int {
	hc := &http.Client{Timeout: timeout}
	deadline := time.Now().Add(wait)
	for {
		msg, ok := c.healthOnce(hc)
		if ok || !time.Now().Before(deadline) {
			if !quiet {
				if ok {
					fmt.Fprintln(c.stdout, msg)
				} else {
					fmt.Fprintf(c.stderr, "localpipe health: %s\n", msg)
				}
			}
			if ok {
				return exitOK
			}
			return exitFail
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// healthOnce asks once and says what it saw, in one line.
func (c *client) healthOnce(hc *http.Client) (string, bool) {
	resp, err := hc.Get(c.endpoint + "/_localpipe/health")
	if err != nil {
		return c.describe(err), false
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var h struct {
		Status   string            `json:"status"`
		Version  string            `json:"version"`
		Services map[string]string `json:"services"`
	}
	if err := json.Unmarshal(body, &h); err != nil {
		return fmt.Sprintf("%s answered %s, and not as localpipe does (is something else on that port?)", c.endpoint, resp.Status), false
	}
	names := make([]string, 0, len(h.Services))
	for n := range h.Services {
		names = append(names, n)
	}
	sort.Strings(names)
	var parts []string
	for _, n := range names {
		parts = append(parts, n+" "+h.Services[n])
	}
	line := fmt.Sprintf("localpipe %s at %s: %s (%s)", h.Version, c.endpoint, h.Status, strings.Join(parts, ", "))
	return line, resp.StatusCode == http.StatusOK && h.Status == "ok"
}

func (c *client) flush(name string, asJSON bool) int {
	path := "/_localpipe/firehose/flush"
	if name != "" {
		path = "/_localpipe/firehose/" + url.PathEscape(name) + "/flush"
	}
	// A flush writes objects; give it as long as Firehose's own close does.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return c.fail(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return c.fail(err)
	}
	var out struct {
		Message         string              `json:"message"`
		Keys            []string            `json:"keys"`
		DeliveryStreams map[string][]string `json:"deliveryStreams"`
	}
	if jerr := json.Unmarshal(body, &out); jerr != nil || resp.StatusCode != http.StatusOK {
		msg := out.Message
		if msg == "" {
			msg = strings.TrimSpace(string(body))
		}
		fmt.Fprintf(c.stderr, "localpipe flush: %s: %s\n", resp.Status, msg)
		return exitFail
	}
	if asJSON {
		c.stdout.Write(body)
		return exitOK
	}
	keys := out.Keys
	if name == "" {
		names := make([]string, 0, len(out.DeliveryStreams))
		for n := range out.DeliveryStreams {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			keys = append(keys, out.DeliveryStreams[n]...)
		}
	}
	for _, k := range keys {
		fmt.Fprintln(c.stdout, k)
	}
	if len(keys) == 0 {
		fmt.Fprintln(c.stderr, "localpipe flush: nothing was buffered")
	}
	return exitOK
}
