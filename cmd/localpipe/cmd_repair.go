package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/localpipe/localpipe/internal/app"
)

const repairHelp = `Usage: localpipe repair [--data-dir DIR]

Rebuild a data dir's metadata (meta.db) from the data, when it is missing, empty or damaged
and localpipe refuses to start because of it. Run it with the server stopped.

The old meta.db, if any, is kept as meta.db.damaged-<time>. Kinesis streams come back from
their shard logs: name, creation time, shards, hash ranges and every record at its sequence
number (tags and the mode are not in the logs; retention is 24 hours or long enough to keep
the oldest record). Buckets and objects come back from the labels their files carry: key,
ETag, content type and user metadata. What cannot be placed (files without a label, upload
parts, older versions of a key, Firehose DirectPut buffers) is moved to
DIR/lost+found/, never deleted.

From a damaged meta.db, whatever still reads is salvaged: stream tags and settings, delivery
streams with their checkpoints (they resume where they stopped). Other configuration (REST
APIs, anything in a missing file): recreate it, or let --config do it at the next start. A
Kinesis-sourced delivery stream created anew starts at the stream's tip, as on AWS, so no
record is delivered twice.

A healthy meta.db is left alone. Exit status: 0 repaired or healthy, 1 repair failed,
2 usage error.

Flags:
`

// runRepair is `localpipe repair`. Unlike the other commands it works on the data dir, not
// through a running server, which must not be running.
func runRepair(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("localpipe repair", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := app.DefaultConfig().DataDir
	if v := os.Getenv("LOCALPIPE_DATA_DIR"); v != "" {
		dataDir = v
	}
	fs.StringVar(&dataDir, "data-dir", dataDir, "the data dir to repair (env LOCALPIPE_DATA_DIR)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), repairHelp)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.Usage()
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "localpipe repair: unexpected argument %q (see localpipe repair --help)\n", fs.Arg(0))
		return exitUsage
	}
	rep, err := app.Repair(dataDir, nil)
	if rep != nil {
		printRepair(stdout, dataDir, rep)
	}
	if err != nil {
		fmt.Fprintln(stderr, "localpipe repair:", err)
		return exitFail
	}
	return exitOK
}

func printRepair(w io.Writer, dataDir string, rep *app.RepairReport) {
	if rep.Healthy {
		fmt.Fprintf(w, "The metadata of %s is healthy; nothing to repair.\n", dataDir)
		return
	}
	fmt.Fprintf(w, "The metadata of %s %s.\n", dataDir, rep.Problem)
	if rep.KeptAs != "" {
		fmt.Fprintf(w, "Kept the old file as %s.\n", rep.KeptAs)
	}
	fmt.Fprintf(w, "Restored %d Kinesis streams:\n", len(rep.Streams.Streams))
	for _, s := range rep.Streams.Streams {
		fmt.Fprintf(w, "  %s (%d shards, retention %dh)\n", s.Name, s.Shards, s.RetentionHours)
	}
	fmt.Fprintf(w, "Restored %d objects in %d buckets:", rep.Objects.Objects, len(rep.Objects.Buckets))
	for _, b := range rep.Objects.Buckets {
		fmt.Fprintf(w, " %s", b)
	}
	fmt.Fprintln(w)
	if rep.KeptAs != "" {
		fmt.Fprintf(w, "Salvaged from the damaged file: %d delivery streams %v with %d checkpoints.\n",
			len(rep.Firehose.DeliveryStreams), rep.Firehose.DeliveryStreams, rep.Firehose.Checkpoints)
		if rep.GatewayAPIs > 0 || rep.GatewayAccount {
			fmt.Fprintf(w, "Salvaged from the damaged file: %d REST APIs of the API Gateway control plane", rep.GatewayAPIs)
			if rep.GatewayAccount {
				fmt.Fprint(w, ", and its API keys and usage plans")
			}
			fmt.Fprintln(w, ".")
		}
		for _, u := range rep.Unsalvaged {
			fmt.Fprintf(w, "  could not read all of it: %s\n", u)
		}
	}
	aside := append(rep.Streams.SetAside, rep.Objects.SetAside...)
	if len(aside) > 0 {
		fmt.Fprintf(w, "Moved %d things no metadata could be rebuilt for to lost+found:\n", len(aside))
		for _, a := range aside {
			fmt.Fprintf(w, "  %s\n", a)
		}
	}
	fmt.Fprintln(w, "Configuration the data does not hold (delivery streams, stream tags and REST APIs not salvaged):")
	fmt.Fprintln(w, "recreate it, or let --config do it at the next start.")
}
