package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// benchAPI is the seed's POST /stream (examples/seed/openapi.yaml) writing to stream bench.
const benchAPI = `openapi: 3.0.1
info: {title: bench, version: "1"}
paths:
  /stream:
    post:
      responses: {"200": {description: ok}}
      x-amazon-apigateway-integration:
        type: aws
        httpMethod: POST
        uri: arn:aws:apigateway:us-east-1:kinesis:action/PutRecord
        requestTemplates:
          application/json: '{"StreamName": "bench", "Data": "$util.base64Encode($input.body)", "PartitionKey": "$context.requestId"}'
        responses: {default: {statusCode: "200"}}
`

const benchConfig = `streams: [{StreamName: bench, ShardCount: 4}]
restApis: [{name: bench, id: benchapi01, openapi: api.yaml, stages: [{stageName: prod}]}]
`

// runGateway compares POST /stream through API Gateway into Kinesis with the same record
// sent as a direct Kinesis PutRecord, on one server in the same run: closed-loop
// throughput (rounds alternate so drift on a shared machine hits both alike), then latency
// percentiles at a fixed rate.
func runGateway(dur time.Duration, conns, size, rate, rounds int) error {
	dir, err := os.MkdirTemp("", "localpipe-bench-gw-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg := filepath.Join(dir, "localpipe.yaml")
	os.WriteFile(cfg, []byte(benchConfig), 0o644)
	os.WriteFile(filepath.Join(dir, "api.yaml"), []byte(benchAPI), 0o644)
	lp, _, err := startChild(withProfiles("-serve", "localpipe", "-data-dir", filepath.Join(dir, "data"), "-config", cfg)...)
	if err != nil {
		return err
	}
	defer lp.stop()

	payload := []byte(`{"message":"` + strings.Repeat("x", max(size-14, 0)) + `"}`)
	data := base64.StdEncoding.EncodeToString(payload)
	gwURL := "http://" + lp.addr + "/restapis/benchapi01/prod/_user_request_/stream"
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns}}
	var seq atomic.Int64
	viaGateway := func() error {
		return post(hc, gwURL, payload, "application/json", "")
	}
	direct := func() error {
		body := fmt.Appendf(nil, `{"StreamName":"bench","PartitionKey":"pk-%d","Data":%q}`, seq.Add(1), data)
		return post(hc, "http://"+lp.addr+"/", body, "application/x-amz-json-1.1", "Kinesis_20131202.PutRecord")
	}
	if err := viaGateway(); err != nil {
		return err
	}

	fmt.Printf("localpipe API Gateway benchmark: POST /stream (%d-byte JSON body) → Kinesis PutRecord, 4 shards\n", len(payload))
	fmt.Printf("%d conns, %s per round, %d alternating rounds, GOMAXPROCS from %d CPUs\n\n", conns, dur, rounds, numCPU())
	var gw, dk, ratios, gwCPU, dkCPU []float64
	// measure runs fn closed-loop for dur and returns requests/s and the server's CPU
	// time per request, which contention from other processes disturbs far less.
	measure := func(fn func() error) (float64, float64, error) {
		cpu0 := lp.cpu()
		rate, err := parallel(conns, dur, fn)
		if err != nil {
			return 0, 0, err
		}
		return rate, (lp.cpu() - cpu0).Seconds() * 1e6 / (rate * dur.Seconds()), nil
	}
	for range rounds {
		d, dc, err := measure(direct)
		if err != nil {
			return err
		}
		g, gc, err := measure(viaGateway)
		if err != nil {
			return err
		}
		dk, gw, ratios = append(dk, d), append(gw, g), append(ratios, g/d)
		dkCPU, gwCPU = append(dkCPU, dc), append(gwCPU, gc)
	}
	fmt.Printf("%-44s %12s %12s %7s\n", "", "gateway", "direct", "ratio")
	for i := range gw {
		fmt.Printf("%-44s %12.0f %12.0f %7.2f\n", fmt.Sprintf("requests/s, round %d", i+1), gw[i], dk[i], gw[i]/dk[i])
	}
	// The median of the rounds' ratios: each ratio compares runs a few seconds apart, so a
	// neighbour's load burst spoils one round, not the figure.
	fmt.Printf("%-44s %12.0f %12.0f %7.2f\n", "requests/s, median (ratio: median of rounds)", medianF(gw), medianF(dk), medianF(ratios))
	// The inverse ratio of CPU per request is the throughput ratio a CPU-bound server
	// would reach.
	fmt.Printf("%-44s %12.1f %12.1f %7.2f\n\n", "server CPU µs/request, median", medianF(gwCPU), medianF(dkCPU), medianF(dkCPU)/medianF(gwCPU))

	fmt.Printf("latency at a fixed %d requests/s for %s (from the scheduled send time):\n", rate, dur)
	fmt.Printf("%-44s %12s %12s\n", "", "p50", "p99")
	for _, c := range []struct {
		name string
		fn   func() error
	}{{"direct PutRecord", direct}, {"POST /stream via the gateway", viaGateway}} {
		p50, p99, err := fixedRate(rate, dur, c.fn)
		if err != nil {
			return err
		}
		fmt.Printf("%-44s %12s %12s\n", c.name, p50.Round(time.Microsecond), p99.Round(time.Microsecond))
	}
	return nil
}

func post(hc *http.Client, url string, body []byte, contentType, target string) error {
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=0")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return fmt.Errorf("POST %s: %d %s", url, resp.StatusCode, out)
	}
	return nil
}

// fixedRate sends rate requests per second for d, each on its own goroutine (an open
// loop, so a slow answer does not delay the next send), and returns latency percentiles
// measured from when each request was due.
func fixedRate(rate int, d time.Duration, fn func() error) (p50, p99 time.Duration, err error) {
	n := int(float64(rate) * d.Seconds())
	interval := time.Second / time.Duration(rate)
	lat := make([]time.Duration, n)
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		due := start.Add(time.Duration(i) * interval)
		time.Sleep(time.Until(due))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(); err != nil {
				firstErr.CompareAndSwap(nil, err)
			}
			lat[i] = time.Since(due)
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return 0, 0, err
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return lat[n/2], lat[n*99/100], nil
}

func medianF(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// cpu is the child's user+system CPU time so far, from /proc/PID/stat (clock ticks of
// 1/100 s, the value on Linux for every architecture Go supports).
func (c *child) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses and may contain spaces.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	var utime, stime int64
	fmt.Sscan(f[11], &utime)
	fmt.Sscan(f[12], &stime)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}
