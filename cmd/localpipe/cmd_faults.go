package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"
)

func init() {
	register(&command{
		name:    "faults",
		args:    "add FAULT... | ls | rm ID... | rm --all",
		summary: "inject failures: make a service fail, slow down or throttle",
		help: `add declares faults, each a JSON object (or one JSON list) with the fields of the
config's faults: entries, e.g.
  localpipe faults add '{"service":"kinesis","operation":"PutRecord","error":"ProvisionedThroughputExceededException","count":2}'
and prints their ids. ls lists the active faults and how often each fired; rm removes
faults by id, or every one with --all. Exit status 0 on success, 1 when the server refused
(the message says why), 2 for a wrong invocation.
`,
		setup: func(fs *flag.FlagSet) func(*client, []string) int {
			all := fs.Bool("all", false, "with rm: remove every fault")
			asJSON := fs.Bool("json", false, "with ls: print the server's JSON answer")
			return func(c *client, args []string) int {
				if len(args) == 0 {
					return c.usageError("want add, ls or rm")
				}
				switch verb, rest := args[0], args[1:]; {
				case verb == "add" && len(rest) > 0:
					return c.faultsAdd(rest)
				case verb == "ls" && len(rest) == 0:
					return c.faultsList(*asJSON)
				case verb == "rm" && *all && len(rest) == 0:
					return c.faultsRemove("")
				case verb == "rm" && !*all && len(rest) > 0:
					for _, id := range rest {
						if code := c.faultsRemove(id); code != exitOK {
							return code
						}
					}
					return exitOK
				case verb == "add", verb == "rm":
					return c.usageError("%s needs arguments (rm: fault ids, or --all alone)", verb)
				case verb == "ls":
					return c.usageError("ls takes no arguments")
				}
				return c.usageError("unknown action %q: want add, ls or rm", args[0])
			}
		},
	})
}

// faultsCall sends one request to the fault API and decodes its JSON answer into out,
// printing the server's message when it refuses.
func (c *client) faultsCall(method, path string, body []byte, out any) ([]byte, int) {
	hc := &http.Client{Timeout: 30 * time.Second}
	req, _ := http.NewRequest(method, c.endpoint+"/_localpipe/faults"+path, bytes.NewReader(body))
	resp, err := hc.Do(req)
	if err != nil {
		return nil, c.fail(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, c.fail(err)
	}
	var msg struct{ Message string }
	if resp.StatusCode != http.StatusOK {
		if json.Unmarshal(raw, &msg) != nil || msg.Message == "" {
			msg.Message = strings.TrimSpace(string(raw))
		}
		fmt.Fprintf(c.stderr, "localpipe faults: %s: %s\n", resp.Status, msg.Message)
		return nil, exitFail
	}
	if err := json.Unmarshal(raw, out); err != nil {
		fmt.Fprintf(c.stderr, "localpipe faults: %s answered %s, and not as localpipe does\n", c.endpoint, resp.Status)
		return nil, exitFail
	}
	return raw, exitOK
}

func (c *client) faultsAdd(args []string) int {
	var list []json.RawMessage
	for _, a := range args {
		a = strings.TrimSpace(a)
		if strings.HasPrefix(a, "[") {
			var more []json.RawMessage
			if err := json.Unmarshal([]byte(a), &more); err != nil {
				return c.usageError("%q is not a JSON list of faults: %v", a, err)
			}
			list = append(list, more...)
			continue
		}
		if !json.Valid([]byte(a)) {
			return c.usageError("%q is not a JSON object", a)
		}
		list = append(list, json.RawMessage(a))
	}
	body, _ := json.Marshal(list)
	var out struct{ IDs []string }
	if _, code := c.faultsCall(http.MethodPost, "", body, &out); code != exitOK {
		return code
	}
	for _, id := range out.IDs {
		fmt.Fprintln(c.stdout, id)
	}
	return exitOK
}

func (c *client) faultsList(asJSON bool) int {
	var out struct {
		Faults []struct {
			ID, Service, Operation, Resource, Error, Latency, Entries string
			Probability                                               *float64
			Count                                                     *int64
			Fired                                                     int64
		}
	}
	raw, code := c.faultsCall(http.MethodGet, "", nil, &out)
	if code != exitOK {
		return code
	}
	if asJSON {
		c.stdout.Write(raw)
		return exitOK
	}
	if len(out.Faults) == 0 {
		fmt.Fprintln(c.stderr, "localpipe faults: none active")
		return exitOK
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSERVICE\tOPERATION\tRESOURCE\tEFFECT\tWHEN\tFIRED")
	or := func(s, def string) string {
		if s == "" {
			return def
		}
		return s
	}
	for _, f := range out.Faults {
		var effect []string
		for _, e := range []string{f.Error, f.Latency} {
			if e != "" {
				effect = append(effect, e)
			}
		}
		if f.Entries != "" {
			effect = append(effect, "entries "+f.Entries)
		}
		when := "always"
		switch {
		case f.Count != nil:
			when = fmt.Sprintf("first %d", *f.Count)
		case f.Probability != nil:
			when = fmt.Sprintf("p=%g", *f.Probability)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\n", f.ID, f.Service, or(f.Operation, "*"), or(f.Resource, "*"),
			strings.Join(effect, ", "), when, f.Fired)
	}
	tw.Flush()
	return exitOK
}

func (c *client) faultsRemove(id string) int {
	path := ""
	if id != "" {
		path = "/" + url.PathEscape(id)
	}
	var out struct{ Deleted int }
	_, code := c.faultsCall(http.MethodDelete, path, nil, &out)
	return code
}
