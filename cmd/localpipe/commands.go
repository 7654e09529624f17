package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// Exit codes of the client subcommands. 1 is "the server said no, or could not be reached",
// which is also what a failing docker healthcheck must return.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// command is a client subcommand: it talks to a running localpipe over HTTP.
type command struct {
	name    string
	args    string // positional arguments, for the usage line
	summary string
	help    string // paragraphs after the usage line
	setup   func(fs *flag.FlagSet) func(c *client, args []string) int
}

var commands = map[string]*command{}

func register(c *command) { commands[c.name] = c }

// commandList is the order --help lists the subcommands in.
var commandList = []string{"health", "flush", "reset", "tail", "put", "ls", "cat", "faults", "trace"}

const defaultEndpoint = "http://127.0.0.1:4566"

// defaultEndpointFor picks --endpoint's default: LOCALPIPE_ENDPOINT, else the address the
// server itself is told to listen on (so `localpipe health` inside the container follows
// LOCALPIPE_LISTEN), else the standard port on loopback.
func defaultEndpointFor(getenv func(string) string) string {
	if e := getenv("LOCALPIPE_ENDPOINT"); e != "" {
		return e
	}
	if l := getenv("LOCALPIPE_LISTEN"); l != "" {
		if host, port, err := net.SplitHostPort(l); err == nil && port != "0" {
			switch host {
			case "", "0.0.0.0":
				host = "127.0.0.1"
			case "::":
				host = "::1"
			}
			return "http://" + net.JoinHostPort(host, port)
		}
	}
	return defaultEndpoint
}

// client is what every subcommand gets: where the server is and where to write.
type client struct {
	endpoint string
	stdout   io.Writer
	stderr   io.Writer
	name     string
}

func (c *command) run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("localpipe "+c.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", defaultEndpointFor(os.Getenv), "URL of the running localpipe (env LOCALPIPE_ENDPOINT)")
	body := c.setup(fs)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: localpipe %s [flags] %s\n\n%s\n\n%s\nFlags:\n", c.name, c.args, c.summary, c.help)
		fs.PrintDefaults()
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.Usage()
			return exitOK
		}
		return exitUsage
	}
	u, err := url.Parse(*endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		fmt.Fprintf(stderr, "localpipe %s: --endpoint %q: want a URL such as %s\n", c.name, *endpoint, defaultEndpoint)
		return exitUsage
	}
	return body(&client{endpoint: strings.TrimRight(*endpoint, "/"), stdout: stdout, stderr: stderr, name: c.name}, pos)
}

// parseInterleaved lets flags follow positional arguments (`localpipe tail s -n 3`), which
// the flag package alone stops at. Everything after "--" is positional.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// usageError reports a wrong invocation the way the flag package does, and returns exitUsage.
func (c *client) usageError(format string, a ...any) int {
	fmt.Fprintf(c.stderr, "localpipe %s: %s (see localpipe %s --help)\n", c.name, fmt.Sprintf(format, a...), c.name)
	return exitUsage
}

// fail prints err in the most useful form: AWS's error code and message, or a hint when
// nothing is listening.
func (c *client) fail(err error) int {
	fmt.Fprintf(c.stderr, "localpipe %s: %s\n", c.name, c.describe(err))
	return exitFail
}

func (c *client) describe(err error) string {
	var api *apiError
	if errors.As(err, &api) {
		return api.Error()
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Sprintf("nothing is listening at %s: start localpipe, or point --endpoint (LOCALPIPE_ENDPOINT) at it", c.endpoint)
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return fmt.Sprintf("cannot resolve the host of %s: %v", c.endpoint, dns)
	}
	return err.Error()
}

// interruptible is a context that ends at SIGINT or SIGTERM, for commands that follow.
func interruptible() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// commandsUsage is the subcommand part of the binary's --help.
func commandsUsage() string {
	var b strings.Builder
	b.WriteString("Commands (talk to a running localpipe; localpipe COMMAND --help for each):\n")
	for _, n := range commandList {
		c := commands[n]
		fmt.Fprintf(&b, "  %-7s %-24s %s\n", c.name, c.args, c.summary)
	}
	b.WriteString("\nOn the data dir, with the server stopped:\n")
	fmt.Fprintf(&b, "  %-7s %-24s %s\n", "repair", "[--data-dir DIR]", "rebuild a missing or damaged meta.db from the data")
	return b.String()
}
