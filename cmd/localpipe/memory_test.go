package main

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// peakRSS is the process's peak resident set (VmHWM) in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM %q: %v", rest, err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc/PID/status")
	return 0
}

// TestMemoryBoundedUnderConcurrentLargeRequests: 100 concurrent 15 MB Kinesis PutRecord
// requests (the JSON limit is 16 MiB) keep the server's peak memory under --max-inflight-mb
// plus a fixed margin; the requests over the bound are answered with Kinesis's
// LimitExceededException, which the SDKs retry, and none fails otherwise.
func TestMemoryBoundedUnderConcurrentLargeRequests(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a second binary and moves 1.5 GB through it")
	}
	const (
		boundMB = 256
		// The margin covers the runtime, the engines' own buffers and the garbage collector's
		// headroom over live memory (GOGC).
		marginMB = 128
	)
	s := startBinary(t, plainBinary(t), "--ephemeral", "--max-inflight-mb", strconv.Itoa(boundMB))
	data := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("x"), 15_000_000*3/4))
	body := []byte(`{"StreamName":"mem","PartitionKey":"k","Data":"` + data + `"}`)
	var mu sync.Mutex
	answers := map[string]int{}
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", s.endpoint, bytes.NewReader(body))
			req.Header.Set("X-Amz-Target", "Kinesis_20131202.PutRecord")
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=00")
			resp, err := http.DefaultClient.Do(req)
			answer := ""
			if err != nil {
				answer = err.Error()
			} else {
				var b bytes.Buffer
				b.ReadFrom(resp.Body)
				resp.Body.Close()
				answer = strconv.Itoa(resp.StatusCode) + " " + b.String()[:min(b.Len(), 60)]
			}
			mu.Lock()
			answers[answer]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	hwm := peakRSS(t, s.cmd.Process.Pid)
	t.Logf("peak RSS %d MiB with --max-inflight-mb %d; answers %v", hwm>>20, boundMB, answers)
	for a, n := range answers {
		// The Data member is over Kinesis's 1 MiB limit, so a request that got through is a
		// ValidationException; the others were throttled.
		if !strings.Contains(a, "ValidationException") && !strings.Contains(a, "LimitExceededException") {
			t.Errorf("%d requests answered %s", n, a)
		}
	}
	if hwm > (boundMB+marginMB)<<20 {
		t.Errorf("peak RSS %d MiB, over --max-inflight-mb %d + %d MiB margin", hwm>>20, boundMB, marginMB)
	}
}
