// Command bench measures localpipe's Kinesis path (or, with -s3, its object store; with
// -firehose, Firehose delivery; with -gateway, API Gateway in front of Kinesis) on this
// machine and prints ratios against a baseline measured in the same run, because absolute
// numbers on shared machines drift. Run it with `go run ./internal/bench` (flags: -h).
//
// It starts each server as a child process (this program re-executed), so the load generator
// and the server do not share a heap and the server's RSS can be read from /proc. With
// -binary it starts a built localpipe binary instead, for the start-up and RSS a user sees.
package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/localpipe/localpipe/internal/app"
)

func main() {
	serve := flag.String("serve", "", "internal: run a server (localpipe|bare) and print its address")
	dataDir := flag.String("data-dir", "", "internal: data dir for -serve localpipe")
	configFile := flag.String("config", "", "internal: --config file for -serve localpipe")
	records := flag.Int("records", 1_000_000, "records written to one shard for the read, start-up and RSS figures")
	dur := flag.Duration("duration", 5*time.Second, "length of each throughput run")
	conns := flag.Int("conns", 16, "concurrent connections of the load generator")
	flag.IntVar(&recordsConns, "records-conns", 4, "concurrent connections of the PutRecords runs (of 500 records each), as in the issue's external measurement: 16 connections PutRecord, 4 PutRecords")
	size := flag.Int("size", 100, "bytes of data per record")
	s3 := flag.Bool("s3", false, "measure the S3 object store instead of Kinesis")
	listKeys := flag.Int("list-keys", 100_000, "with -s3: keys in the large bucket for the listing figure")
	bigMiB := flag.Int("big-mib", 1024, "with -s3: size of the object streamed for the RSS figure")
	gateway := flag.Bool("gateway", false, "measure POST /stream through API Gateway against direct Kinesis PutRecord")
	rate := flag.Int("rate", 200, "with -gateway: requests/s of the fixed-rate latency run")
	rounds := flag.Int("rounds", 5, "with -gateway: alternating throughput rounds")
	fh := flag.Bool("firehose", false, "measure Firehose (flush latency, RSS of many buffering delivery streams) instead of Kinesis")
	fhRounds := flag.Int("fh-rounds", 200, "with -firehose: PutRecord → flush → GetObject rounds for the latency figure")
	fhStreams := flag.Int("fh-streams", 100, "with -firehose: delivery streams buffering at once for the RSS figure")
	fhBufMiB := flag.Int("fh-buf-mib", 4, "with -firehose: MiB buffered in each of those delivery streams")
	getRecords := flag.Bool("getrecords", false, "measure GetRecords (Limit 10000) against a bare server answering from memory")
	grRecords := flag.Int("gr-records", 200_000, "with -getrecords: records in the shard read")
	grConns := flag.Int("gr-conns", 4, "with -getrecords: concurrent readers")
	tputRounds := flag.Int("tput-rounds", 1, "alternating localpipe/bare rounds of the PutRecord and PutRecords throughput runs")
	client := flag.String("client", "go", "load generator of the PutRecord and PutRecords runs: go (a minimal client in the bench), sdk (the AWS SDK for Go v2 Kinesis client in a separate process), or both in the same rounds")
	flag.StringVar(&fsync, "fsync", "1s", "localpipe's --fsync in the PutRecord and PutRecords runs: always, or an interval")
	loadKind := flag.String("load", "", "internal: run a load generator (sdk) against -addr")
	addr := flag.String("addr", "", "internal: server address for -load")
	action := flag.String("action", "", "internal: PutRecord or PutRecords for -load")
	flag.StringVar(&logTo, "log", "", "the localpipe servers log as the binary does (text, --log-level info, one line per request) to this file, /dev/null say; default: no log")
	flag.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the localpipe server under the PutRecord/PutRecords load (with -gateway, -getrecords: under that load) to this file")
	flag.StringVar(&memProfile, "memprofile", "", "write an allocation profile of the localpipe server under the PutRecord/PutRecords load (with -gateway, -getrecords: under that load) to this file")
	flag.Parse()
	switch *serve {
	case "localpipe":
		serveLocalpipe(*dataDir, *configFile, cpuProfile, memProfile)
		return
	case "bare":
		bareRecordSize = *size
		serveBare()
		return
	}
	if *binary != "" {
		if err := runBinary(*binary, *records, *binaryRuns); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if *getRecords {
		if err := runGetRecords(*grRecords, *dur, *grConns, *size, *tputRounds); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if *loadKind == "sdk" {
		if err := runSDKLoad(*addr, *action, *conns, *size, *dur); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if *client != "go" && *client != "sdk" && *client != "both" {
		fmt.Fprintf(os.Stderr, "bench: -client %q: want go, sdk or both\n", *client)
		os.Exit(2)
	}
	if *gateway {
		if err := runGateway(*dur, *conns, *size, *rate, *rounds); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if *fh {
		if err := runFirehose(*fhRounds, *fhStreams, *fhBufMiB); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if *s3 {
		if err := runS3(*dur, *conns, *listKeys, *bigMiB); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*records, *dur, *conns, *size, *tputRounds, *client); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// cpuProfile and memProfile name the files the throughput run's server writes its profiles
// to; the server is a child process, so the profiles are of the server alone.
var cpuProfile, memProfile string

// withProfiles appends to a localpipe child's args the flags that make it write the profiles
// -cpuprofile and -memprofile ask for; only the child under the measured load gets them.
func withProfiles(args ...string) []string {
	if cpuProfile != "" {
		args = append(args, "-cpuprofile", cpuProfile)
	}
	if memProfile != "" {
		args = append(args, "-memprofile", memProfile)
	}
	return args
}

// recordsConns is -records-conns: the PutRecords runs' connections.
var recordsConns int

// connsFor is how many connections the throughput runs of action use.
func connsFor(action string, conns int) int {
	if action == "PutRecords" {
		return recordsConns
	}
	return conns
}

// fsync is the --fsync of the localpipe server under the throughput runs.
var fsync string

// logTo is where the localpipe servers log, as the binary would; empty for no log.
var logTo string

func serveLocalpipe(dir, configFile, cpuFile, memFile string) {
	if cpuFile != "" {
		f, err := os.Create(cpuFile)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if memFile != "" {
		defer func() {
			f, err := os.Create(memFile)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return
			}
			defer f.Close()
			pprof.Lookup("allocs").WriteTo(f, 0)
		}()
	}
	cfg := app.DefaultConfig()
	cfg.Listen, cfg.DataDir, cfg.ConfigFile = "127.0.0.1:0", dir, configFile
	if fsync != "" {
		cfg.Fsync = fsync
	}
	logger := slog.New(slog.DiscardHandler)
	if logTo != "" {
		f, err := os.OpenFile(logTo, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer f.Close()
		if logger, err = app.NewLogger(f, "info"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	a, err := app.Open(cfg, logger)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := a.Listen(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(a.Addr())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	a.Shutdown(context.Background())
}

// The bare server does what every JSON 1.1 server must (decode the body, encode an answer)
// and nothing else: the ceiling localpipe is measured against.
type putRecordIn struct {
	StreamName, PartitionKey, ExplicitHashKey, SequenceNumberForOrdering, StreamARN string
	Data                                                                            []byte
}
type putRecordsIn struct {
	StreamName, StreamARN string
	Records               []struct {
		Data                          []byte
		PartitionKey, ExplicitHashKey string
	}
}

func serveBare() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.Exit(1)
	}
	fmt.Println(ln.Addr())
	seq := "49590338271490256608559692538361571095921575989136588898"
	http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if serveBareRead(w, r) {
			return
		}
		if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".PutRecords") {
			var in putRecordsIn
			if json.NewDecoder(r.Body).Decode(&in) != nil {
				w.WriteHeader(400)
				return
			}
			type res struct{ SequenceNumber, ShardId string }
			out := struct {
				FailedRecordCount int
				Records           []res
			}{}
			for range in.Records {
				out.Records = append(out.Records, res{seq, "shardId-000000000000"})
			}
			json.NewEncoder(w).Encode(out)
			return
		}
		var in putRecordIn
		if json.NewDecoder(r.Body).Decode(&in) != nil {
			w.WriteHeader(400)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"ShardId": "shardId-000000000000", "SequenceNumber": seq})
	}))
}

type child struct {
	cmd  *exec.Cmd
	addr string
}

func startChild(args ...string) (*child, time.Duration, error) {
	t0 := time.Now()
	if args[1] == "localpipe" && logTo != "" {
		args = append(args, "-log", logTo)
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Stderr = os.Stderr
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		return nil, 0, err
	}
	line := make([]byte, 0, 64)
	buf := make([]byte, 1)
	for {
		if _, err := out.Read(buf); err != nil {
			return nil, 0, fmt.Errorf("child %v exited", args)
		}
		if buf[0] == '\n' {
			break
		}
		line = append(line, buf[0])
	}
	c := &child{cmd: cmd, addr: string(line)}
	if args[1] == "localpipe" {
		for {
			resp, err := http.Get("http://" + c.addr + "/_localpipe/health")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					break
				}
			}
		}
	}
	return c, time.Since(t0), nil
}

func (c *child) stop() {
	c.cmd.Process.Signal(syscall.SIGTERM)
	c.cmd.Wait()
}

func (c *child) rssMiB() float64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			kb, _ := strconv.Atoi(strings.Fields(l)[1])
			return float64(kb) / 1024
		}
	}
	return 0
}

func call(hc *http.Client, addr, action string, body []byte) ([]byte, error) {
	return jsonCall(hc, addr, "kinesis", "Kinesis_20131202."+action, body)
}

// jsonCall sends one JSON 1.1 request as an SDK would, signed for service in the credential
// scope (localpipe reads the region from it; the signature itself is not checked).
func jsonCall(hc *http.Client, addr, service, target string, body []byte) ([]byte, error) {
	req, _ := http.NewRequest("POST", "http://"+addr+"/", bytes.NewReader(body))
	req.Header.Set("X-Amz-Target", target)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/"+service+"/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return out, fmt.Errorf("%s: %d %s", target, resp.StatusCode, out)
	}
	return out, err
}

// load runs conns clients posting body for d and returns completed requests per second.
func load(addr, action string, body []byte, conns int, d time.Duration) (float64, error) {
	return parallelConns(conns, d, func(hc *http.Client, _ *bytes.Buffer) error {
		_, err := call(hc, addr, action, body)
		return err
	})
}

func run(records int, dur time.Duration, conns, size, rounds int, client string) error {
	rounds = max(rounds, 1)
	dir, err := os.MkdirTemp("", "localpipe-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	data := bytes.Repeat([]byte("x"), size)
	putRecord, _ := json.Marshal(map[string]any{"StreamName": "bench", "PartitionKey": "pk-1", "Data": data})
	var entries []map[string]any
	for i := 0; i < 500; i++ {
		entries = append(entries, map[string]any{"PartitionKey": fmt.Sprintf("pk-%d", i), "Data": data})
	}
	putRecords, _ := json.Marshal(map[string]any{"StreamName": "bench", "Records": entries})
	hc := &http.Client{}

	fmt.Printf("localpipe Kinesis benchmark: %d conns (PutRecords: %d), %s runs, %d-byte records, --fsync %s, GOMAXPROCS from %d CPUs\n\n", conns, recordsConns, dur, size, fsync, numCPU())

	bare, _, err := startChild("-serve", "bare")
	if err != nil {
		return err
	}
	lp, _, err := startChild(withProfiles("-serve", "localpipe", "-data-dir", filepath.Join(dir, "tput"), "-fsync", fsync)...)
	if err != nil {
		bare.stop()
		return err
	}
	stop := func() { lp.stop(); bare.stop() }
	if _, err := call(hc, lp.addr, "CreateStream", []byte(`{"StreamName":"bench","ShardCount":4}`)); err != nil {
		stop()
		return err
	}
	// Rounds alternate between the two servers, so that drift in what else the machine runs
	// meets both alike; each round's ratio compares runs seconds apart. With -client both the
	// two load generators take turns in the same rounds.
	var harnesses []*tput
	if client != "sdk" {
		harnesses = append(harnesses, &tput{name: "minimal Go client in the bench", load: func(addr, action string, body []byte) (float64, error) {
			return load(addr, action, body, connsFor(action, conns), dur)
		}})
	}
	if client != "go" {
		harnesses = append(harnesses, &tput{name: "AWS SDK for Go v2 in a separate process", load: func(addr, action string, _ []byte) (float64, error) {
			return loadSDK(addr, action, connsFor(action, conns), size, dur)
		}})
	}
	for range rounds {
		for _, h := range harnesses {
			if err := h.round(hc, bare, lp, dur, putRecord, putRecords); err != nil {
				stop()
				return err
			}
		}
	}
	stop()
	for _, h := range harnesses {
		h.print(rounds)
	}
	if len(harnesses) == 2 {
		// The SDK's client takes several times the minimal client's CPU per request, so on
		// a machine of few cores its throughput runs can be bound by the client as much as
		// by the server; the servers' CPU per request does not depend on who sends.
		g, s := harnesses[0], harnesses[1]
		gPR, gPRs := g.cpuRatios()
		sPR, sPRs := s.cpuRatios()
		fmt.Printf("%-34s %12s %12s   (the SDK harness's ratio over the Go harness's)\n", "harnesses agree", "throughput", "server CPU")
		fmt.Printf("%-34s %12.2f %12.2f\n", "PutRecord", medianF(s.ratioPR)/medianF(g.ratioPR), sPR/gPR)
		fmt.Printf("%-34s %12.2f %12.2f\n\n", "PutRecords", medianF(s.ratioPRs)/medianF(g.ratioPRs), sPRs/gPRs)
	}

	// One shard with `records` records: read latency at both ends, start-up, RSS.
	big := filepath.Join(dir, "big")
	lp, _, err = startChild("-serve", "localpipe", "-data-dir", big)
	if err != nil {
		return err
	}
	idle := lp.rssMiB()
	if _, err := call(hc, lp.addr, "CreateStream", []byte(`{"StreamName":"bench","ShardCount":1}`)); err != nil {
		return err
	}
	var firstSeq, lastSeq string
	t0 := time.Now()
	for written := 0; written < records; written += 500 {
		out, err := call(hc, lp.addr, "PutRecords", putRecords)
		if err != nil {
			return err
		}
		var res struct {
			Records []struct{ SequenceNumber string }
		}
		json.Unmarshal(out, &res)
		if firstSeq == "" {
			firstSeq = res.Records[0].SequenceNumber
		}
		lastSeq = res.Records[len(res.Records)-101].SequenceNumber
	}
	fill := time.Since(t0)
	after := lp.rssMiB()
	startLat, err := readLatency(hc, lp.addr, firstSeq)
	if err != nil {
		return err
	}
	endLat, err := readLatency(hc, lp.addr, lastSeq)
	if err != nil {
		return err
	}
	lp.stop()
	var startups []time.Duration
	var restarted *child
	for i := 0; i < 5; i++ {
		c, d, err := startChild("-serve", "localpipe", "-data-dir", big)
		if err != nil {
			return err
		}
		startups = append(startups, d)
		if i < 4 {
			c.stop()
		} else {
			restarted = c
		}
	}
	restartRSS := restarted.rssMiB()
	restarted.stop()
	var baseline []time.Duration
	for i := 0; i < 5; i++ {
		c, d, err := startChild("-serve", "localpipe", "-data-dir", filepath.Join(dir, fmt.Sprint("empty", i)))
		if err != nil {
			return err
		}
		baseline = append(baseline, d)
		c.stop()
	}
	fmt.Printf("wrote %d records to one shard in %s (%.0f records/s, one connection)\n", records, fill.Round(time.Millisecond), float64(records)/fill.Seconds())
	fmt.Printf("%-44s %10s\n", "GetRecords (Limit 100) median, shard start", startLat.Round(time.Microsecond))
	fmt.Printf("%-44s %10s   end/start %.2f\n", "GetRecords (Limit 100) median, shard end", endLat.Round(time.Microsecond), float64(endLat)/float64(startLat))
	fmt.Printf("%-44s %10s   (empty data dir: %s)\n", "start-up to healthy, median of 5", median(startups).Round(time.Millisecond), median(baseline).Round(time.Millisecond))
	fmt.Printf("%-44s %9.1f MiB\n", "RSS idle (empty)", idle)
	fmt.Printf("%-44s %9.1f MiB\n", fmt.Sprintf("RSS after writing %d records", records), after)
	fmt.Printf("%-44s %9.1f MiB\n", "RSS after restart on those records", restartRSS)
	return nil
}

// mallocs reads the server's cumulative heap allocations from its /metrics; NaN if absent.
func mallocs(hc *http.Client, addr string) float64 {
	resp, err := hc.Get("http://" + addr + "/metrics")
	if err != nil {
		return math.NaN()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "go_memstats_mallocs_total "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err == nil {
				return f
			}
		}
	}
	return math.NaN()
}

func readLatency(hc *http.Client, addr, seq string) (time.Duration, error) {
	var lat []time.Duration
	for i := 0; i < 200; i++ {
		out, err := call(hc, addr, "GetShardIterator", []byte(fmt.Sprintf(`{"StreamName":"bench","ShardId":"shardId-000000000000","ShardIteratorType":"AT_SEQUENCE_NUMBER","StartingSequenceNumber":%q}`, seq)))
		if err != nil {
			return 0, err
		}
		var it struct{ ShardIterator string }
		json.Unmarshal(out, &it)
		t0 := time.Now()
		out, err = call(hc, addr, "GetRecords", []byte(fmt.Sprintf(`{"ShardIterator":%q,"Limit":100}`, it.ShardIterator)))
		if err != nil {
			return 0, err
		}
		lat = append(lat, time.Since(t0))
		var res struct{ Records []struct{ Data string } }
		json.Unmarshal(out, &res)
		if len(res.Records) != 100 {
			return 0, fmt.Errorf("GetRecords returned %d records", len(res.Records))
		}
		if _, err := base64.StdEncoding.DecodeString(res.Records[0].Data); err != nil {
			return 0, err
		}
	}
	return median(lat), nil
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func numCPU() int {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return strings.Count(string(b), "processor\t:")
}
