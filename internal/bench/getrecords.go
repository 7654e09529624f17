package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// grLimit is the Limit of every GetRecords call the read benchmark makes: the largest
// AWS allows, so the figure is about moving records, not about per-call overhead.
const grLimit = 10000

// bareRecordSize is the data size of the records in the bare server's GetRecords answer;
// the parent passes its -size to the bare child.
var bareRecordSize = 100

// bareGetRecords is what the bare server answers to GetRecords: records shaped as
// localpipe's, built once, so answering costs only decoding the request and writing bytes
// from memory, the ceiling for a read.
var bareGetRecords = sync.OnceValue(func() []byte {
	data := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("x"), bareRecordSize))
	seq := "49590338271490256608559692538361571095921575989136588898"
	var b bytes.Buffer
	b.WriteString(`{"MillisBehindLatest":0,"NextShardIterator":"` + strings.Repeat("A", 64) + `","Records":[`)
	for i := range grLimit {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"ApproximateArrivalTimestamp":1.764676800123E9,"Data":"%s","PartitionKey":"pk-%d","SequenceNumber":"%s"}`, data, i%500, seq)
	}
	b.WriteString("]}")
	return b.Bytes()
})

// serveBareRead answers the read benchmark's calls in the bare server; false for other calls.
func serveBareRead(w http.ResponseWriter, r *http.Request) bool {
	var in struct {
		StreamName, ShardId, ShardIteratorType, StartingSequenceNumber, ShardIterator string
		Limit                                                                         int
	}
	var out []byte
	switch t := r.Header.Get("X-Amz-Target"); {
	case strings.HasSuffix(t, ".GetShardIterator"):
		out = []byte(`{"ShardIterator":"` + strings.Repeat("A", 64) + `"}`)
	case strings.HasSuffix(t, ".GetRecords"):
		out = bareGetRecords()
	default:
		return false
	}
	if json.NewDecoder(r.Body).Decode(&in) != nil {
		w.WriteHeader(400)
		return true
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.Write(out)
	return true
}

// runGetRecords measures GetRecords of Limit 10000 from one shard of `records` records:
// each request is a GetShardIterator at a rotating position followed by the GetRecords, as
// a reader starting at a checkpoint does, against the bare server answering the same calls
// from memory. Rounds alternate between the two, as in run.
func runGetRecords(records int, dur time.Duration, conns, size, rounds int) error {
	rounds = max(rounds, 1)
	records = max(records, 2*grLimit)
	dir, err := os.MkdirTemp("", "localpipe-bench-gr-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bare, _, err := startChild("-serve", "bare", "-size", strconv.Itoa(size))
	if err != nil {
		return err
	}
	defer bare.stop()
	lp, _, err := startChild(withProfiles("-serve", "localpipe", "-data-dir", filepath.Join(dir, "data"))...)
	if err != nil {
		return err
	}
	defer lp.stop()
	hc := &http.Client{}
	if _, err := call(hc, lp.addr, "CreateStream", []byte(`{"StreamName":"bench","ShardCount":1}`)); err != nil {
		return err
	}
	data := bytes.Repeat([]byte("x"), size)
	var entries []map[string]any
	for i := 0; i < 500; i++ {
		entries = append(entries, map[string]any{"PartitionKey": fmt.Sprintf("pk-%d", i), "Data": data})
	}
	putRecords, _ := json.Marshal(map[string]any{"StreamName": "bench", "Records": entries})
	// The first sequence number of every batch of 500, as starting points: a read from any
	// of the first starts has Limit records after it.
	var starts []string
	for written := 0; written < records; written += 500 {
		out, err := call(hc, lp.addr, "PutRecords", putRecords)
		if err != nil {
			return err
		}
		var res struct {
			Records []struct{ SequenceNumber string }
		}
		if err := json.Unmarshal(out, &res); err != nil || len(res.Records) == 0 {
			return fmt.Errorf("PutRecords: %v %.200s", err, out)
		}
		starts = append(starts, res.Records[0].SequenceNumber)
	}
	starts = starts[:len(starts)-grLimit/500]

	// One checked read from each server, so both answer what the figures assume.
	for _, c := range []*child{lp, bare} {
		var buf bytes.Buffer
		if err := readOnce(hc, c.addr, starts[0], &buf); err != nil {
			return err
		}
		var res struct{ Records []struct{ Data string } }
		if err := json.Unmarshal(buf.Bytes(), &res); err != nil {
			return err
		}
		if len(res.Records) != grLimit {
			return fmt.Errorf("GetRecords from %s returned %d records", c.addr, len(res.Records))
		}
		if d, err := base64.StdEncoding.DecodeString(res.Records[0].Data); err != nil || len(d) != size {
			return fmt.Errorf("GetRecords from %s: record of %d bytes (%v)", c.addr, len(d), err)
		}
	}

	fmt.Printf("localpipe GetRecords benchmark: one shard of %d %d-byte records, GetShardIterator (AT_SEQUENCE_NUMBER, rotating) + GetRecords Limit %d\n", len(starts)*500+grLimit, size, grLimit)
	fmt.Printf("%d conns, %s runs, %d alternating rounds, GOMAXPROCS from %d CPUs\n\n", conns, dur, rounds, numCPU())
	var lpRate, bareRate, ratios []float64
	var cpu, genCPU [2]time.Duration // bare, localpipe
	var calls [2]float64
	var allocs float64
	var next atomic.Int64
	measure := func(c *child, i int) (float64, error) {
		t0, g0 := c.cpu(), selfCPU()
		n, err := parallelConns(conns, dur, func(hc *http.Client, buf *bytes.Buffer) error {
			return readOnce(hc, c.addr, starts[int(next.Add(7919))%len(starts)], buf)
		})
		cpu[i] += c.cpu() - t0
		genCPU[i] += selfCPU() - g0
		calls[i] += n * dur.Seconds()
		return n, err
	}
	for range rounds {
		b, err := measure(bare, 0)
		if err != nil {
			return err
		}
		m0 := mallocs(hc, lp.addr)
		l, err := measure(lp, 1)
		if err != nil {
			return err
		}
		allocs += mallocs(hc, lp.addr) - m0
		bareRate, lpRate, ratios = append(bareRate, b), append(lpRate, l), append(ratios, l/b)
	}
	perCall := func(i int) float64 { return float64(cpu[i].Microseconds()) / calls[i] }
	genPerCall := func(i int) float64 { return float64(genCPU[i].Microseconds()) / calls[i] }
	fmt.Printf("%-44s %12s %12s %7s   (%d rounds: medians; ratio: median of the rounds' ratios)\n", "", "localpipe", "bare", "ratio", rounds)
	fmt.Printf("%-44s %12.0f %12.0f %7.2f\n", "GetRecords records/s", medianF(lpRate)*grLimit, medianF(bareRate)*grLimit, medianF(ratios))
	fmt.Printf("%-44s %12.0f %12.0f %7.2f\n", "server CPU µs per call (iterator + records)", perCall(1), perCall(0), perCall(0)/perCall(1))
	// The load generator shares the machine's cores with the server; what it spends per call
	// bounds the ratio a server of no cost at all would reach.
	fmt.Printf("%-44s %12.0f %12.0f\n", "load generator CPU µs per call", genPerCall(1), genPerCall(0))
	fmt.Printf("%-44s %12.1f\n", "allocations per call (iterator + records)", allocs/calls[1])
	return nil
}

// readOnce gets an iterator at seq and reads grLimit records from it into buf.
func readOnce(hc *http.Client, addr, seq string, buf *bytes.Buffer) error {
	out, err := call(hc, addr, "GetShardIterator", []byte(`{"StreamName":"bench","ShardId":"shardId-000000000000","ShardIteratorType":"AT_SEQUENCE_NUMBER","StartingSequenceNumber":"`+seq+`"}`))
	if err != nil {
		return err
	}
	var it struct{ ShardIterator string }
	if err := json.Unmarshal(out, &it); err != nil {
		return err
	}
	req, _ := http.NewRequest("POST", "http://"+addr+"/", strings.NewReader(`{"ShardIterator":"`+it.ShardIterator+`","Limit":`+strconv.Itoa(grLimit)+`}`))
	req.Header.Set("X-Amz-Target", "Kinesis_20131202.GetRecords")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	// The answer is read into a buffer the connection reuses, so the load generator, which
	// shares the machine's cores with the server, spends little on it.
	buf.Reset()
	_, err = buf.ReadFrom(resp.Body)
	if resp.StatusCode != 200 {
		return fmt.Errorf("GetRecords: %d %.300s", resp.StatusCode, buf.Bytes())
	}
	return err
}

// parallelConns runs conns clients, each with its own connection and answer buffer,
// calling fn for d, and returns completed calls per second.
func parallelConns(conns int, d time.Duration, fn func(*http.Client, *bytes.Buffer) error) (float64, error) {
	return parallelEach(conns, d, func() func() error {
		hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
		var buf bytes.Buffer
		return func() error { return fn(hc, &buf) }
	})
}

// parallelEach runs conns goroutines for d, each calling the function newCaller made for it
// until d has passed or a call fails, and returns completed calls per second.
func parallelEach(conns int, d time.Duration, newCaller func() func() error) (float64, error) {
	var n atomic.Int64
	var firstErr atomic.Value
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			call := newCaller()
			for time.Now().Before(deadline) {
				if err := call(); err != nil {
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

// selfCPU is this process's user and system CPU time so far, without its children's.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
