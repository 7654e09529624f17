package main

import (
	"fmt"
	"net/http"
	"time"
)

// tput is one load generator's share of the PutRecord and PutRecords throughput rounds.
type tput struct {
	name string
	// load sends action (with body, for a generator that takes the bytes) to addr for the
	// run's length and returns completed requests per second.
	load func(addr, action string, body []byte) (float64, error)

	barePR, barePRs, lpPR, lpPRs, ratioPR, ratioPRs []float64
	allocsPR, allocsPRs, nPR, nPRs                  float64
	// The servers' CPU time per request is a second measure, steadier than throughput when
	// other processes take turns on the machine.
	cpuPR, cpuPRs [2]time.Duration // bare, localpipe
	reqPR, reqPRs [2]float64
}

// round measures PutRecord, then PutRecords, on the bare server and localpipe in turn.
func (h *tput) round(hc *http.Client, bare, lp *child, dur time.Duration, putRecord, putRecords []byte) error {
	measure := func(c *child, i int, action string, body []byte, cpu *[2]time.Duration, reqs *[2]float64) (float64, error) {
		t0 := c.cpu()
		n, err := h.load(c.addr, action, body)
		cpu[i] += c.cpu() - t0
		reqs[i] += n * dur.Seconds()
		return n, err
	}
	b, err := measure(bare, 0, "PutRecord", putRecord, &h.cpuPR, &h.reqPR)
	if err != nil {
		return err
	}
	m0 := mallocs(hc, lp.addr)
	l, err := measure(lp, 1, "PutRecord", putRecord, &h.cpuPR, &h.reqPR)
	if err != nil {
		return err
	}
	m1 := mallocs(hc, lp.addr)
	h.barePR, h.lpPR, h.ratioPR = append(h.barePR, b), append(h.lpPR, l), append(h.ratioPR, l/b)
	h.allocsPR, h.nPR = h.allocsPR+m1-m0, h.nPR+l*dur.Seconds()

	b, err = measure(bare, 0, "PutRecords", putRecords, &h.cpuPRs, &h.reqPRs)
	if err != nil {
		return err
	}
	m1 = mallocs(hc, lp.addr)
	l, err = measure(lp, 1, "PutRecords", putRecords, &h.cpuPRs, &h.reqPRs)
	if err != nil {
		return err
	}
	m2 := mallocs(hc, lp.addr)
	h.barePRs, h.lpPRs, h.ratioPRs = append(h.barePRs, b), append(h.lpPRs, l), append(h.ratioPRs, l/b)
	h.allocsPRs, h.nPRs = h.allocsPRs+m2-m1, h.nPRs+l*500*dur.Seconds()
	return nil
}

func perReq(cpu [2]time.Duration, reqs [2]float64, i int) float64 {
	return float64(cpu[i].Microseconds()) / reqs[i]
}

// cpuRatios are the bare server's CPU per request over localpipe's, PutRecord and
// PutRecords: like the throughput ratios, 1 is the ceiling.
func (h *tput) cpuRatios() (pr, prs float64) {
	return perReq(h.cpuPR, h.reqPR, 0) / perReq(h.cpuPR, h.reqPR, 1), perReq(h.cpuPRs, h.reqPRs, 0) / perReq(h.cpuPRs, h.reqPRs, 1)
}

func (h *tput) print(rounds int) {
	cpuPR, cpuPRs := h.cpuRatios()
	fmt.Printf("load generator: %s\n", h.name)
	fmt.Printf("%-34s %12s %12s %7s   (%d rounds: medians; ratio: median of the rounds' ratios)\n", "", "localpipe", "bare", "ratio", rounds)
	fmt.Printf("%-34s %12.0f %12.0f %7.2f\n", "PutRecord requests/s", medianF(h.lpPR), medianF(h.barePR), medianF(h.ratioPR))
	fmt.Printf("%-34s %12.0f %12.0f %7.2f\n", "PutRecords records/s (500/request)", medianF(h.lpPRs)*500, medianF(h.barePRs)*500, medianF(h.ratioPRs))
	fmt.Printf("%-34s %12.1f %12.1f %7.2f\n", "server CPU µs per PutRecord", perReq(h.cpuPR, h.reqPR, 1), perReq(h.cpuPR, h.reqPR, 0), cpuPR)
	fmt.Printf("%-34s %12.0f %12.0f %7.2f\n", "server CPU µs per PutRecords", perReq(h.cpuPRs, h.reqPRs, 1), perReq(h.cpuPRs, h.reqPRs, 0), cpuPRs)
	// The server's own count of heap allocations (Go's runtime metrics, read from /metrics)
	// over each run; the scrapes themselves add a few hundred, nothing per request.
	fmt.Printf("%-34s %12.1f\n", "allocations per PutRecord", h.allocsPR/h.nPR)
	fmt.Printf("%-34s %12.2f\n\n", "allocations per PutRecords entry", h.allocsPRs/h.nPRs)
}
