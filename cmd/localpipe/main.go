// Command localpipe runs the local AWS ingestion pipeline emulator: API Gateway, Kinesis Data
// Streams, Firehose and S3 behind one HTTP endpoint, with its data in one directory.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/localpipe/localpipe/internal/app"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `localpipe — AWS API Gateway → Kinesis → Firehose → S3 on your machine.

Usage:
  localpipe [flags]            run the server
  localpipe COMMAND [flags]    talk to a running server (below)

Every flag can also be set by an environment variable, named after the flag:
--data-dir is LOCALPIPE_DATA_DIR. A flag on the command line wins over the variable.

Flags:
`

// envFlags gives each flag the value of its LOCALPIPE_* twin, unless the flag was given.
func envFlags(fs *flag.FlagSet) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		env := "LOCALPIPE_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok && !given[f.Name] && err == nil {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %v", env, v, e)
			}
		}
	})
	return err
}

// memoryHeadroom is the memory the runtime, the engines' buffers and garbage not yet
// collected may use beside request bodies before the garbage collector is asked to work harder.
const memoryHeadroom = 64 << 20

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "repair" {
		return runRepair(args[1:], stdout, stderr)
	}
	if len(args) > 0 && commands[args[0]] != nil {
		return commands[args[0]].run(args[1:], stdout, stderr)
	}
	cfg := app.DefaultConfig()
	fs := flag.NewFlagSet("localpipe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Listen, "listen", cfg.Listen, "address to serve every service on (host:port)")
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "directory holding all data and metadata")
	fs.BoolVar(&cfg.Ephemeral, "ephemeral", false, "use a temporary data dir, removed at exit")
	fs.StringVar(&cfg.ConfigFile, "config", "", "YAML or JSON file of streams, buckets, delivery streams and REST APIs to create at start")
	fs.StringVar(&cfg.Fsync, "fsync", cfg.Fsync, `when appended records are fsynced: "always" (before acknowledging) or an interval such as 200ms`)
	fs.StringVar(&cfg.LogLevel, "log-level", cfg.LogLevel, "debug, info, warn or error")
	fs.BoolVar(&cfg.LogRequests, "log-requests", cfg.LogRequests, "log one line per request at info: service, operation, status, AWS error code, request id, duration")
	fs.IntVar(&cfg.TraceSize, "trace-size", cfg.TraceSize, "requests the cross-hop trace keeps (GET /_localpipe/trace/{requestId}, localpipe trace): the most recent puts and API Gateway invokes; 0 turns tracing off")
	fs.BoolVar(&cfg.Throttle, "throttle", false, "apply Kinesis's rate limits: per shard 1 MiB/s and 1,000 records/s of writes, 5 GetRecords calls/s and 2 MiB/s of reads (ProvisionedThroughputExceededException), and the control-plane calls' documented rates (LimitExceededException)")
	fs.DurationVar(&cfg.StreamCreateDelay, "stream-create-delay", 0, "how long a new Kinesis stream stays CREATING before it is ACTIVE (AWS takes seconds)")
	allowedHosts := fs.String("allowed-hosts", "", "comma-separated Host names to answer besides localhost, *.localhost and loopback IPs (each admits its subdomains); on a non-loopback --listen, setting it stops any Host being accepted")
	inflightMB := fs.Int64("max-inflight-mb", cfg.Limits.MaxInflightBytes>>20, "MiB of memory request bodies may hold at once across all requests (a JSON body counts twice: itself and what is decoded from it); over it requests wait briefly, then get the service's throttling error")
	fs.IntVar(&cfg.Limits.MaxConns, "max-connections", 0, "open client connections at most; more wait to be accepted (0: derived from the open-file limit)")
	grace := fs.Duration("shutdown-timeout", 30*time.Second, "how long SIGTERM/SIGINT waits for requests and Firehose's last delivery; further signals in this time are ignored")
	version := fs.Bool("version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), "\n"+commandsUsage())
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.Usage()
			return 0
		}
		return 2
	}
	if err := envFlags(fs); err != nil {
		fmt.Fprintln(stderr, "localpipe:", err)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "localpipe: unexpected argument %q (see --help)\n", fs.Arg(0))
		return 2
	}
	if *version {
		fmt.Fprintln(stdout, "localpipe", app.VersionString())
		return 0
	}
	if *allowedHosts != "" {
		for _, h := range strings.Split(*allowedHosts, ",") {
			if h = strings.TrimSpace(h); h != "" {
				cfg.AllowedHosts = append(cfg.AllowedHosts, h)
			}
		}
	}
	if *inflightMB <= 0 || *inflightMB > 1<<20 {
		fmt.Fprintf(stderr, "localpipe: --max-inflight-mb %d: want a positive number of MiB, e.g. 256\n", *inflightMB)
		return 2
	}
	cfg.Limits.MaxInflightBytes = *inflightMB << 20
	if os.Getenv("GOMEMLIMIT") == "" {
		// Request bodies are bounded by --max-inflight-mb, but the garbage collector lets
		// the heap grow to twice what is live before it runs: a soft limit of the bound
		// plus room for the engines makes it collect sooner when bodies fill the bound.
		debug.SetMemoryLimit(cfg.Limits.MaxInflightBytes + memoryHeadroom)
	}
	if *grace <= 0 {
		fmt.Fprintf(stderr, "localpipe: --shutdown-timeout %s: want a positive duration, e.g. 30s\n", *grace)
		return 2
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(stderr, "localpipe:", err)
		return 2
	}
	logger, _ := app.NewLogger(stderr, cfg.LogLevel)

	// Signals are read from a channel rather than a context so that later ones can be told
	// apart: process managers and GNU timeout often signal twice, and a second signal must
	// not cut short the cleanup the first started.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	start := time.Now()
	a, err := app.Open(cfg, logger)
	if err != nil {
		fmt.Fprintln(stderr, "localpipe:", err)
		if ce := (*app.ConfigError)(nil); errors.As(err, &ce) {
			return 2
		}
		return 1
	}
	if err := a.Listen(); err != nil {
		a.Shutdown(context.Background())
		fmt.Fprintln(stderr, "localpipe:", err)
		return 1
	}
	logger.Info("localpipe ready", "endpoint", a.Endpoint(), "data_dir", a.DataDir(),
		"startup_ms", strconv.FormatFloat(float64(time.Since(start).Microseconds())/1000, 'f', 1, 64),
		"version", app.VersionString())
	fmt.Fprint(stderr, banner(a))

	code := 0
	select {
	case sig := <-sigs:
		logger.Info("shutting down", "signal", sig.String(), "grace", grace.String())
	case err := <-a.Done():
		logger.Error("server stopped", "err", err)
		code = 1
	}
	sctx, cancel := context.WithTimeout(context.Background(), *grace)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- a.Shutdown(sctx) }()
	for {
		select {
		case err := <-done:
			if err != nil {
				logger.Error("shutdown", "err", err)
				code = 1
			}
			return code
		case sig := <-sigs:
			if sctx.Err() == nil {
				logger.Warn("already shutting down; signal ignored until the grace period ends", "signal", sig.String(),
					"--shutdown-timeout", grace.String())
				continue
			}
			// The grace period is over and the operator insists: leave now, but an ephemeral
			// data dir is still removed, since nobody can use it after this process.
			logger.Error("forced exit: shutdown did not finish within --shutdown-timeout", "signal", sig.String())
			if cfg.Ephemeral {
				os.RemoveAll(a.DataDir())
			}
			return 1
		}
	}
}
