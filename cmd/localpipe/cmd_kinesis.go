package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

func init() {
	register(&command{
		name:    "tail",
		args:    "STREAM",
		summary: "print a Kinesis stream's records as they arrive",
		help: `Reads every shard of STREAM, from the newest record on (--from latest) or from the oldest
kept (--from trim-horizon), and follows until interrupted or until --count records are
printed. --no-follow prints the records there are now, from the oldest kept unless --from
says otherwise, and exits (after --count records at most). Text output is one line per record: shard id, sequence number, partition key and the
data (quoted Go-style when it is not printable UTF-8 on one line). --json prints one JSON
object per line: shard, sequenceNumber, partitionKey, approximateArrivalTimestamp, and data
(the bytes as text) or dataBase64 (when they are not UTF-8).
Exit status 0 when interrupted or done, 1 when the stream cannot be read, 2 for a wrong
invocation.
`,
		setup: func(fs *flag.FlagSet) func(*client, []string) int {
			from := fs.String("from", "latest", "where to start: latest or trim-horizon")
			asJSON := fs.Bool("json", false, "print JSON lines instead of text")
			var count int
			fs.IntVar(&count, "count", 0, "stop after this many records (0: no limit)")
			fs.IntVar(&count, "n", 0, "short for --count")
			interval := fs.Duration("interval", 200*time.Millisecond, "how long to wait before asking a shard again when it had nothing new")
			noFollow := fs.Bool("no-follow", false, "print the records there are now (from trim-horizon unless --from is given) and exit")
			return func(c *client, args []string) int {
				if *noFollow {
					fromGiven := false
					fs.Visit(func(f *flag.Flag) { fromGiven = fromGiven || f.Name == "from" })
					if !fromGiven {
						*from = "trim-horizon"
					}
				}
				if len(args) != 1 || args[0] == "" {
					return c.usageError("want exactly one stream name")
				}
				typ, ok := iteratorType(*from)
				if !ok {
					return c.usageError("--from %q: want latest or trim-horizon", *from)
				}
				if count < 0 {
					return c.usageError("--count %d: must not be negative", count)
				}
				if *interval <= 0 {
					return c.usageError("--interval %s: must be positive", *interval)
				}
				ctx, stop := interruptible()
				defer stop()
				return c.tail(ctx, args[0], typ, *asJSON, count, *interval, !*noFollow)
			}
		},
	})
	register(&command{
		name:    "put",
		args:    "STREAM",
		summary: "put records into a Kinesis stream, one per line of stdin",
		help: `Reads standard input and puts each line (without its line break) as one record into
STREAM, in PutRecords batches of up to 500 records. Blank lines are skipped. Each record's
partition key is --partition-key, or a random one per record. Records the stream refuses for
throughput are retried. Prints how many records were put, to stderr; --verbose prints each
record's shard and sequence number to stdout.
Exit status 0 when every record was put, 1 otherwise, 2 for a wrong invocation.
`,
		setup: func(fs *flag.FlagSet) func(*client, []string) int {
			var key string
			fs.StringVar(&key, "partition-key", "", "partition key of every record (default: a random key per record)")
			fs.StringVar(&key, "k", "", "short for --partition-key")
			verbose := fs.Bool("verbose", false, "print each record's shard id and sequence number")
			return func(c *client, args []string) int {
				if len(args) != 1 || args[0] == "" {
					return c.usageError("want exactly one stream name")
				}
				return c.put(context.Background(), args[0], key, *verbose, os.Stdin)
			}
		},
	})
}

func iteratorType(s string) (string, bool) {
	switch t := strings.ToUpper(strings.ReplaceAll(s, "-", "_")); t {
	case "LATEST", "TRIM_HORIZON":
		return t, true
	}
	return "", false
}

// tailRecord is one line of `tail --json`.
type tailRecord struct {
	Shard          string    `json:"shard"`
	SequenceNumber string    `json:"sequenceNumber"`
	PartitionKey   string    `json:"partitionKey"`
	Arrival        time.Time `json:"approximateArrivalTimestamp"`
	Data           *string   `json:"data,omitempty"`
	DataBase64     []byte    `json:"dataBase64,omitempty"`
}

func (c *client) tail(ctx context.Context, name string, typ string, asJSON bool, count int, interval time.Duration, follow bool) int {
	kc := c.kinesis()
	var shards []string
	// ListShards takes the stream name or a NextToken, never both.
	in := listShardsInput{StreamName: name}
	for {
		page, err := kc.listShards(ctx, in)
		if err != nil {
			return c.fail(err)
		}
		for _, s := range page.Shards {
			shards = append(shards, s.ShardID)
		}
		if page.NextToken == "" {
			break
		}
		in = listShardsInput{NextToken: page.NextToken}
	}
	iters := make([]string, len(shards))
	for i, s := range shards {
		it, err := kc.getShardIterator(ctx, name, s, typ)
		if err != nil {
			return c.fail(err)
		}
		iters[i] = it
	}
	if follow {
		// Tests (and people) can tell from this line that records put from now on will show.
		fmt.Fprintf(c.stderr, "localpipe tail: following %d shard(s) of %s from %s\n", len(shards), name, typ)
	} else {
		fmt.Fprintf(c.stderr, "localpipe tail: reading %d shard(s) of %s from %s to the latest record\n", len(shards), name, typ)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu      sync.Mutex
		printed int
		failed  error
		wg      sync.WaitGroup
	)
	emit := func(shard string, r kinesisRecord) bool {
		mu.Lock()
		defer mu.Unlock()
		if count > 0 && printed >= count {
			return false
		}
		c.printRecord(shard, r, asJSON)
		printed++
		if count > 0 && printed >= count {
			cancel()
			return false
		}
		return true
	}
	// Shards a reshard opens while tail follows are read too, from their start, once every
	// parent has been read to its end (GetRecords then names them in ChildShards).
	followed, ended := map[string]bool{}, map[string]bool{}
	for _, s := range shards {
		followed[s] = true
	}
	var read func(shard, it string)
	children := func(parent string, cs []childShard) {
		mu.Lock()
		defer mu.Unlock()
		ended[parent] = true
	next:
		for _, ch := range cs {
			id := ch.ShardID
			if followed[id] {
				continue
			}
			for _, p := range ch.ParentShards {
				if followed[p] && !ended[p] {
					continue next // the other parent's reader starts it
				}
			}
			it, err := kc.getShardIterator(ctx, name, id, "TRIM_HORIZON")
			if err != nil {
				if ctx.Err() == nil {
					failed = err
					cancel()
				}
				return
			}
			followed[id] = true
			read(id, it)
		}
	}
	read = func(shard, it string) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it != "" && ctx.Err() == nil {
				out, err := kc.getRecords(ctx, it)
				if err != nil {
					if errorCode(err) == "ProvisionedThroughputExceededException" {
						sleep(ctx, time.Second)
						continue
					}
					if ctx.Err() == nil {
						mu.Lock()
						failed = err
						mu.Unlock()
						cancel()
					}
					return
				}
				for _, r := range out.Records {
					if !emit(shard, r) {
						return
					}
				}
				// A nil next iterator means the shard is closed (resharded) and read to its end.
				it = out.NextShardIterator
				if it == "" {
					if follow {
						children(shard, out.ChildShards)
					}
					return
				}
				if len(out.Records) > 0 {
					continue
				}
				if !follow {
					// AWS may answer empty while records lie further on; it says so.
					if out.MillisBehindLatest == 0 {
						return
					}
					continue
				}
				sleep(ctx, interval)
			}
		}()
	}
	for i, s := range shards {
		read(s, iters[i])
	}
	wg.Wait()
	if failed != nil {
		return c.fail(failed)
	}
	return exitOK
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func (c *client) printRecord(shard string, r kinesisRecord, asJSON bool) {
	if asJSON {
		tr := tailRecord{Shard: shard, SequenceNumber: r.SequenceNumber,
			PartitionKey: r.PartitionKey, Arrival: r.arrival()}
		if utf8.Valid(r.Data) {
			s := string(r.Data)
			tr.Data = &s
		} else {
			tr.DataBase64 = r.Data
		}
		line, _ := json.Marshal(tr)
		c.stdout.Write(append(line, '\n'))
		return
	}
	fmt.Fprintf(c.stdout, "%s %s %s %s\n", shard, r.SequenceNumber, strconv.Quote(r.PartitionKey), textData(r.Data))
}

// textData is the record as it would print on one line: verbatim when that is safe, quoted
// otherwise, so one record is always one line.
func textData(b []byte) string {
	s := strings.TrimSuffix(string(b), "\n")
	if !utf8.ValidString(s) {
		return strconv.Quote(s)
	}
	for _, r := range s {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return strconv.Quote(s)
		}
	}
	return s
}

// Kinesis's PutRecords limits.
const (
	putMaxRecords = 500
	putMaxBytes   = 5 << 20
)

func (c *client) put(ctx context.Context, name, key string, verbose bool, in io.Reader) int {
	kc := c.kinesis()
	var (
		batch []putRecordsEntry
		size  int
		total int
	)
	send := func() error {
		if len(batch) == 0 {
			return nil
		}
		n, err := c.putBatch(ctx, kc, name, batch, verbose)
		total += n
		batch, size = batch[:0], 0
		return err
	}
	r := bufio.NewReaderSize(in, 64<<10)
	for {
		line, rerr := r.ReadBytes('\n')
		line = []byte(strings.TrimSuffix(strings.TrimSuffix(string(line), "\n"), "\r"))
		if len(line) > 0 {
			pk := key
			if pk == "" {
				pk = randomKey()
			}
			if len(batch) == putMaxRecords || size+len(line)+len(pk) > putMaxBytes {
				if err := send(); err != nil {
					fmt.Fprintf(c.stderr, "localpipe put: %d record(s) put into %s before the error\n", total, name)
					return c.fail(err)
				}
			}
			batch = append(batch, putRecordsEntry{Data: line, PartitionKey: pk})
			size += len(line) + len(pk)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			fmt.Fprintf(c.stderr, "localpipe put: reading stdin: %v\n", rerr)
			return exitFail
		}
	}
	if err := send(); err != nil {
		fmt.Fprintf(c.stderr, "localpipe put: %d record(s) put into %s before the error\n", total, name)
		return c.fail(err)
	}
	fmt.Fprintf(c.stderr, "localpipe put: %d record(s) put into %s\n", total, name)
	return exitOK
}

// putBatch sends one PutRecords call and retries the entries that failed for throughput, as
// AWS asks callers to. It returns how many records were put.
func (c *client) putBatch(ctx context.Context, kc kinesisAPI, name string, batch []putRecordsEntry, verbose bool) (int, error) {
	put := 0
	pending := batch
	for attempt := 0; ; attempt++ {
		out, err := kc.putRecords(ctx, name, pending)
		if err != nil {
			return put, err
		}
		if len(out.Records) != len(pending) {
			// Results pair with entries by position; without one each, none can be trusted.
			return put, fmt.Errorf("PutRecords answered for %d record(s) of %d", len(out.Records), len(pending))
		}
		var retry []putRecordsEntry
		var lastErr string
		for i, res := range out.Records {
			if res.ErrorCode == nil {
				put++
				if verbose {
					fmt.Fprintf(c.stdout, "%s %s\n", res.ShardID, res.SequenceNumber)
				}
				continue
			}
			retry = append(retry, pending[i])
			lastErr = *res.ErrorCode + ": " + deref(res.ErrorMessage)
		}
		if len(retry) == 0 {
			return put, nil
		}
		if attempt == 5 {
			return put, fmt.Errorf("%d record(s) not put after %d attempts; last error %s", len(retry), attempt+1, lastErr)
		}
		pending = retry
		sleep(ctx, time.Duration(50<<attempt)*time.Millisecond)
	}
}

func randomKey() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
