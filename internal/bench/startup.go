package main

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The server the rest of the bench starts is this program re-executed, which links the
// bench's own code and skips cmd/localpipe's flags, soft memory limit and logger: its start-up
// and RSS are close to the binary's but not the binary's. -binary measures the binary itself.
var (
	binary     = flag.String("binary", "", "measure start-up to healthy and idle RSS of this localpipe binary (go build -o /tmp/lp ./cmd/localpipe), on an empty data dir and on one with -records records")
	binaryRuns = flag.Int("binary-runs", 9, "with -binary: starts on each data dir (medians are printed)")
	binaryDir  = flag.String("binary-dir", "", "with -binary: data dir holding the records; filled if it has no stream yet, kept afterwards (default: a temporary dir)")
)

// runBinary prints the binary's start-up and RSS figures: start-up is from exec to the first
// 200 from /_localpipe/health, so it includes what a user waits for (loading the executable,
// package init, Open, Listen); RSS is VmRSS when healthy and after a second of idleness.
// Beside them, the same figures of a bare Go HTTP server built here the same way (static or
// not) and started the same way: what any Go server costs on this machine, since page
// faults, which dominate a start, cost several times more on some virtual machines than on
// others.
func runBinary(bin string, records, runs int) error {
	tmp, err := os.MkdirTemp("", "localpipe-bench-bin-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	full := *binaryDir
	if full == "" {
		full = filepath.Join(tmp, "full")
	}
	fmt.Printf("localpipe binary start-up: %s, %d starts per data dir, GOMAXPROCS from %d CPUs\n\n", bin, runs, numCPU())
	bare, err := buildBareServer(bin, tmp)
	if err != nil {
		return err
	}
	if err := fillBinary(bin, full, records); err != nil {
		return err
	}
	type figures struct{ startup, cpu, rssHealthy, rssIdle, anon, file []float64 }
	measure := func(bin string, dir func(i int) string) (figures, error) {
		var f figures
		for i := range runs {
			c, d, err := startBinary(bin, dir(i))
			if err != nil {
				return f, err
			}
			cpu, healthy := c.cpuSoFar(), c.rssMiB()
			f.cpu = append(f.cpu, float64(cpu.Microseconds())/1000)
			time.Sleep(time.Second)
			idle := c.rssMiB()
			f.anon, f.file = append(f.anon, c.statusMiB("RssAnon")), append(f.file, c.statusMiB("RssFile"))
			c.stop()
			f.startup = append(f.startup, float64(d.Microseconds())/1000)
			f.rssHealthy, f.rssIdle = append(f.rssHealthy, healthy), append(f.rssIdle, idle)
		}
		return f, nil
	}
	empty, err := measure(bin, func(i int) string { return filepath.Join(tmp, fmt.Sprint("empty", i)) })
	if err != nil {
		return err
	}
	withRecords, err := measure(bin, func(int) string { return full })
	if err != nil {
		return err
	}
	base, err := measure(bare, func(i int) string { return tmp })
	if err != nil {
		return err
	}
	ms := func(label string, pick func(figures) []float64, agg func([]float64) float64) {
		e, w, b := agg(pick(empty)), agg(pick(withRecords)), agg(pick(base))
		fmt.Printf("%-36s %9.1f ms %11.1f ms %9.1f ms %7.2f\n", label, e, w, b, w/b)
	}
	mib := func(label string, pick func(figures) []float64) {
		e, w, b := medianF(pick(empty)), medianF(pick(withRecords)), medianF(pick(base))
		fmt.Printf("%-36s %8.1f MiB %10.1f MiB %8.1f MiB %7.2f\n", label, e, w, b, w/b)
	}
	fmt.Printf("%-36s %12s %14s %12s %7s\n", "", "empty", fmt.Sprintf("%d records", records), "bare Go", "ratio")
	ms("start-up to healthy, median", func(f figures) []float64 { return f.startup }, medianF)
	ms("start-up to healthy, fastest", func(f figures) []float64 { return f.startup }, minF)
	ms("CPU time to healthy, median", func(f figures) []float64 { return f.cpu }, medianF)
	mib("RSS when healthy, median", func(f figures) []float64 { return f.rssHealthy })
	mib("RSS after 1 s idle, median", func(f figures) []float64 { return f.rssIdle })
	// The file-backed part is the executable's pages, shared and clean: the kernel maps 64 KiB
	// around each page touched, so it follows the binary's size more than what the server does.
	mib("  of which anonymous (RssAnon)", func(f figures) []float64 { return f.anon })
	mib("  of which file-backed (RssFile)", func(f figures) []float64 { return f.file })
	fmt.Printf("\n(ratio: the binary with %d records over the bare Go server)\n", records)
	return nil
}

// bareServerSource is the bare Go server runBinary compares with: net/http answering the
// health check, started with the flags localpipe is started with.
const bareServerSource = `package main

import (
	"flag"
	"net/http"
)

func main() {
	listen := flag.String("listen", "", "")
	flag.String("data-dir", "", "")
	flag.String("log-level", "", "")
	flag.Parse()
	http.HandleFunc("/_localpipe/health", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("{}")) })
	panic(http.ListenAndServe(*listen, nil))
}
`

// buildBareServer builds bareServerSource in dir with the go command, without cgo when bin
// was built without it (it has no program interpreter), and returns the executable's path.
func buildBareServer(bin, dir string) (string, error) {
	src := filepath.Join(dir, "bare")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(src, "main.go"), []byte(bareServerSource), 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte("module bare\n"), 0o644); err != nil {
		return "", err
	}
	f, err := elf.Open(bin)
	if err != nil {
		return "", err
	}
	static := true
	for _, p := range f.Progs {
		static = static && p.Type != elf.PT_INTERP
	}
	f.Close()
	out := filepath.Join(dir, "bare-server")
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, ".")
	cmd.Dir, cmd.Env = src, os.Environ()
	if static {
		cmd.Env = append(cmd.Env, "CGO_ENABLED=0")
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the bare Go server: %v: %s", err, b)
	}
	return out, nil
}

// fillBinary writes records 100-byte records to stream bench (one shard) in dir, unless the
// stream is there already.
func fillBinary(bin, dir string, records int) error {
	c, _, err := startBinary(bin, dir)
	if err != nil {
		return err
	}
	defer c.stop()
	hc := &http.Client{}
	if _, err := call(hc, c.addr, "DescribeStreamSummary", []byte(`{"StreamName":"bench"}`)); err == nil {
		fmt.Printf("using the records already in %s\n\n", dir)
		return nil
	}
	if _, err := call(hc, c.addr, "CreateStream", []byte(`{"StreamName":"bench","ShardCount":1}`)); err != nil {
		return err
	}
	for {
		out, err := call(hc, c.addr, "DescribeStreamSummary", []byte(`{"StreamName":"bench"}`))
		if err != nil {
			return err
		}
		if bytes.Contains(out, []byte(`"ACTIVE"`)) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	type entry struct {
		PartitionKey string
		Data         []byte
	}
	entries := make([]entry, 500)
	for i := range entries {
		entries[i] = entry{fmt.Sprintf("pk-%d", i), bytes.Repeat([]byte("x"), 100)}
	}
	body, _ := json.Marshal(map[string]any{"StreamName": "bench", "Records": entries})
	for written := 0; written < records; written += len(entries) {
		if _, err := call(hc, c.addr, "PutRecords", body); err != nil {
			return err
		}
	}
	fmt.Printf("wrote %d records to %s\n\n", records, dir)
	return nil
}

// startBinary runs bin on dir at a free loopback port and returns once /_localpipe/health
// answers 200, with the time that took.
func startBinary(bin, dir string) (*child, time.Duration, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, 0, err
	}
	addr := ln.Addr().String()
	ln.Close()
	// The banner and warnings go to a file, so a server that fails to start can say why
	// without the output of every healthy start filling the terminal.
	logf, err := os.CreateTemp("", "localpipe-bench-stderr-")
	if err != nil {
		return nil, 0, err
	}
	defer os.Remove(logf.Name())
	defer logf.Close()
	cmd := exec.Command(bin, "--data-dir", dir, "--listen", addr, "--log-level", "warn")
	cmd.Stderr = logf
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, 0, err
	}
	for time.Since(t0) < 30*time.Second {
		resp, err := hc.Get("http://" + addr + "/_localpipe/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return &child{cmd: cmd, addr: addr}, time.Since(t0), nil
			}
		}
		// Polling takes CPU from the server on a small machine, so it pauses between
		// attempts; 100 µs is well below the figures measured.
		time.Sleep(100 * time.Microsecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	out, _ := os.ReadFile(logf.Name())
	return nil, 0, fmt.Errorf("%s on %s not healthy within 30 s: %s", bin, dir, out)
}

// cpuSoFar is the CPU time all of the child's threads have used, from each thread's
// /proc/PID/task/TID/schedstat (nanoseconds), so that it is exact where wall time to healthy
// swings with what else the machine runs.
func (c *child) cpuSoFar() time.Duration {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", c.cmd.Process.Pid))
	var ns int64
	for _, t := range tasks {
		b, _ := os.ReadFile(t)
		if f := strings.Fields(string(b)); len(f) > 0 {
			n, _ := strconv.ParseInt(f[0], 10, 64)
			ns += n
		}
	}
	return time.Duration(ns)
}

// statusMiB reads a size field of /proc/PID/status (VmRSS, RssAnon, RssFile) in MiB.
func (c *child) statusMiB(field string) float64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			kb, _ := strconv.Atoi(strings.Fields(v)[0])
			return float64(kb) / 1024
		}
	}
	return 0
}

func minF(v []float64) float64 {
	m := v[0]
	for _, x := range v[1:] {
		m = min(m, x)
	}
	return m
}
