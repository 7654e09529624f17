// Command bench measures localpipe's Kinesis path (or, with -s3, its object store; with
// -firehose, Firehose delivery; with -gateway, API Gateway in front of Kinesis) on this
// machine and prints ratios against a baseline measured in the same run, because absolute
// numbers on shared machines drift. Run it with `go run ./internal/bench` (flags: -h).
//
// It starts each server as a child process (this program re-executed), so the load generator
// and the server do not share a heap and the server's RSS can be read from /proc.
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
	"sync"
	"sync/atomic"
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
	flag.StringVar(&logTo, "log", "", "the localpipe servers log as the binary does (text, --log-level info, one line per request) to this file, /dev/null say; default: no log")
	flag.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the localpipe server under the PutRecord/PutRecords load to this file")
	flag.StringVar(&memProfile, "memprofile", "", "write an allocation profile of the localpipe server under the PutRecord/PutRecords load to this file")
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
	if *getRecords {
		if err := runGetRecords(*grRecords, *dur, *grConns, *size, *tputRounds); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
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
	if err := run(*records, *dur, *conns, *size, *tputRounds); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// cpuProfile and memProfile name the files the throughput run's server writes its profiles
// to; the server is a child process, so the profiles are of the server alone.
var cpuProfile, memProfile string

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
	var n atomic.Int64
	var firstErr atomic.Value
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			for time.Now().Before(deadline) {
				if _, err := call(hc, addr, action, body); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return 0, err
	}
	return float64(n.Load()) / d.Seconds(), nil
}

func run(records int, dur time.Duration, conns, size, rounds int) error {
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

	fmt.Printf("localpipe Kinesis benchmark: %d conns, %s runs, %d-byte records, GOMAXPROCS from %d CPUs\n\n", conns, dur, size, numCPU())

	bare, _, err := startChild("-serve", "bare")
	if err != nil {
		return err
	}
	args := []string{"-serve", "localpipe", "-data-dir", filepath.Join(dir, "tput")}
	if cpuProfile != "" {
		args = append(args, "-cpuprofile", cpuProfile)
	}
	if memProfile != "" {
		args = append(args, "-memprofile", memProfile)
	}
	lp, _, err := startChild(args...)
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
	// meets both alike; each round's ratio compares runs seconds apart.
	var barePR, barePRs, lpPR, lpPRs, ratioPR, ratioPRs []float64
	var allocsPR, allocsPRs, nPR, nPRs float64
	// The servers' CPU time per request is a second measure, steadier than throughput when
	// other processes take turns on the machine.
	var cpuPR, cpuPRs [2]time.Duration // bare, localpipe
	var reqPR, reqPRs [2]float64
	measure := func(c *child, i int, action string, body []byte, cpu *[2]time.Duration, reqs *[2]float64) (float64, error) {
		t0 := c.cpu()
		n, err := load(c.addr, action, body, conns, dur)
		cpu[i] += c.cpu() - t0
		reqs[i] += n * dur.Seconds()
		return n, err
	}
	for range rounds {
		b, err := measure(bare, 0, "PutRecord", putRecord, &cpuPR, &reqPR)
		if err != nil {
			stop()
			return err
		}
		m0 := mallocs(hc, lp.addr)
		l, err := measure(lp, 1, "PutRecord", putRecord, &cpuPR, &reqPR)
		if err != nil {
			stop()
			return err
		}
		m1 := mallocs(hc, lp.addr)
		barePR, lpPR, ratioPR = append(barePR, b), append(lpPR, l), append(ratioPR, l/b)
		allocsPR, nPR = allocsPR+m1-m0, nPR+l*dur.Seconds()

		b, err = measure(bare, 0, "PutRecords", putRecords, &cpuPRs, &reqPRs)
		if err != nil {
			stop()
			return err
		}
		m1 = mallocs(hc, lp.addr)
		l, err = measure(lp, 1, "PutRecords", putRecords, &cpuPRs, &reqPRs)
		if err != nil {
			stop()
			return err
		}
		m2 := mallocs(hc, lp.addr)
		barePRs, lpPRs, ratioPRs = append(barePRs, b), append(lpPRs, l), append(ratioPRs, l/b)
		allocsPRs, nPRs = allocsPRs+m2-m1, nPRs+l*500*dur.Seconds()
	}
	stop()
	perReq := func(cpu [2]time.Duration, reqs [2]float64, i int) float64 {
		return float64(cpu[i].Microseconds()) / reqs[i]
	}
	fmt.Printf("%-34s %12s %12s %7s   (%d rounds: medians; ratio: median of the rounds' ratios)\n", "", "localpipe", "bare", "ratio", rounds)
	fmt.Printf("%-34s %12.0f %12.0f %7.2f\n", "PutRecord requests/s", medianF(lpPR), medianF(barePR), medianF(ratioPR))
	fmt.Printf("%-34s %12.0f %12.0f %7.2f\n", "PutRecords records/s (500/request)", medianF(lpPRs)*500, medianF(barePRs)*500, medianF(ratioPRs))
	// CPU ratios are bare/localpipe, so that like the throughput ratios 1 is the ceiling.
	fmt.Printf("%-34s %12.1f %12.1f %7.2f\n", "server CPU µs per PutRecord", perReq(cpuPR, reqPR, 1), perReq(cpuPR, reqPR, 0),
		perReq(cpuPR, reqPR, 0)/perReq(cpuPR, reqPR, 1))
	fmt.Printf("%-34s %12.0f %12.0f %7.2f\n", "server CPU µs per PutRecords", perReq(cpuPRs, reqPRs, 1), perReq(cpuPRs, reqPRs, 0),
		perReq(cpuPRs, reqPRs, 0)/perReq(cpuPRs, reqPRs, 1))
	// The server's own count of heap allocations (Go's runtime metrics, read from /metrics)
	// over each run; the scrapes themselves add a few hundred, nothing per request.
	fmt.Printf("%-34s %12.1f\n", "allocations per PutRecord", allocsPR/nPR)
	fmt.Printf("%-34s %12.2f\n\n", "allocations per PutRecords entry", allocsPRs/nPRs)

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
