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
	fs.DurationVar(&cfg.StreamCreateDelay, "stream-create-delay", 0, "how long a new Kinesis stream stays CREATING before it is ACTIVE (AWS takes seconds)")
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
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(stderr, "localpipe:", err)
		return 2
	}
	logger, _ := app.NewLogger(stderr, cfg.LogLevel)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	a, err := app.Open(cfg, logger)
	if err != nil {
		fmt.Fprintln(stderr, "localpipe:", err)
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
	case <-ctx.Done():
		logger.Info("shutting down")
	case err := <-a.Done():
		logger.Error("server stopped", "err", err)
		code = 1
	}
	stop() // a second signal kills the process the default way
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.Shutdown(sctx); err != nil {
		logger.Error("shutdown", "err", err)
		code = 1
	}
	return code
}
