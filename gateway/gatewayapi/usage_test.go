package gatewayapi

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/localpipe/localpipe/gateway"
)

// TestTokenBucket drives one bucket with a clock of its own: burst tokens at first, then
// rateLimit a second, never more than burst.
func TestTokenBucket(t *testing.T) {
	m := newMeter()
	t0 := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	bk := bucketKey{plan: "p", key: "k"}
	th := gateway.Throttle{BurstLimit: 2, RateLimit: 1}
	want := func(at time.Duration, ok bool) {
		t.Helper()
		if got := m.take(t0.Add(at), bk, th); got != ok {
			t.Errorf("take at +%v: %v, want %v", at, got, ok)
		}
	}
	want(0, true)
	want(0, true)
	want(0, false)
	want(500*time.Millisecond, false)
	want(time.Second, true)
	want(time.Second, false)
	want(time.Hour, true) // refilled to the burst, not beyond
	want(time.Hour, true)
	want(time.Hour, false)
	if m.take(t0, bucketKey{plan: "p", key: "zero"}, gateway.Throttle{}) {
		t.Error("a zero throttle let a request through")
	}
}

// TestTokenBucketConcurrent: of many requests at one instant exactly burst get through.
func TestTokenBucketConcurrent(t *testing.T) {
	m := newMeter()
	now := time.Now()
	var ok atomic.Int64
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if m.take(now, bucketKey{plan: "p"}, gateway.Throttle{BurstLimit: 10, RateLimit: 0}) {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 10 {
		t.Errorf("%d requests got through, want the burst of 10", ok.Load())
	}
}

// TestQuotaPeriods: a quota counts in UTC days, ISO weeks and calendar months, and its
// offset is taken off the limit in the period the plan was created in only.
func TestQuotaPeriods(t *testing.T) {
	wed := time.Date(2026, 12, 2, 23, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		period string
		want   time.Time
	}{
		{"DAY", time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)},
		{"WEEK", time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)},
		{"MONTH", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)},
	} {
		if got := periodStart(wed, tc.period); !got.Equal(tc.want) {
			t.Errorf("%s: %v, want %v", tc.period, got, tc.want)
		}
	}
	m := newMeter()
	p := &planDoc{Quota: &quota{Limit: 3, Offset: 1, Period: "DAY"}, Created: wed.Unix()}
	admitted := func(at time.Time) int {
		n := 0
		for range 5 {
			if _, refused := m.admit(at, "p", p, "k", "/x/GET", nil); !refused {
				n++
			}
		}
		return n
	}
	if n := admitted(wed); n != 2 {
		t.Errorf("first day (offset 1 of 3): %d admitted", n)
	}
	if n := admitted(wed.Add(2 * time.Hour)); n != 3 {
		t.Errorf("the next day: %d admitted", n)
	}
}

// TestUsageSnapshot: the counts a clean stop saves come back, quota and all.
func TestUsageSnapshot(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	p := &planDoc{Quota: &quota{Limit: 2, Period: "MONTH"}, Created: now.Add(-48 * time.Hour).Unix()}
	m := newMeter()
	for range 2 {
		if _, refused := m.admit(now, "p", p, "k", "/x/GET", nil); refused {
			t.Fatal("refused within the quota")
		}
	}
	b, err := m.snapshot(now)
	if err != nil {
		t.Fatal(err)
	}
	m2 := newMeter()
	if err := m2.restore(b); err != nil {
		t.Fatal(err)
	}
	if e, refused := m2.admit(now.Add(time.Hour), "p", p, "k", "/x/GET", nil); !refused || e.typ != "QUOTA_EXCEEDED" {
		t.Errorf("after the restore: %v %v, want QUOTA_EXCEEDED", e, refused)
	}
	if got := m2.usage[usageKey{"p", "k"}].days["2026-12-02"]; got != 2 {
		t.Errorf("restored count %d, want 2", got)
	}
	for _, bad := range []string{"{", `{"v": 2, "usage": []}`, `{"v": 1, "usage": {}}`} {
		if err := newMeter().restore([]byte(bad)); err == nil {
			t.Errorf("restore(%s) accepted it", bad)
		}
	}
}
