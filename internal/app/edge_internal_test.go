package app

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// deadlineRecorder records the read deadlines the edge sets through http.ResponseController.
type deadlineRecorder struct {
	*httptest.ResponseRecorder
	set []time.Time
}

func (d *deadlineRecorder) SetReadDeadline(t time.Time) error {
	d.set = append(d.set, t)
	return nil
}

// TestBodyDeadlineFollowsDueBy: the read deadline is always the instant the body would
// become too slow, and is set only when that instant moves: once for a body within what
// BodyWindow at BodyMinRate covers, and cleared at the body's end where net/http does not
// clear it itself (HTTP/2).
func TestBodyDeadlineFollowsDueBy(t *testing.T) {
	cfg := DefaultConfig()
	a := &App{cfg: cfg, logger: slog.New(slog.DiscardHandler), edge: newEdge(cfg, prometheus.NewRegistry())}
	lim := a.edge.limits
	covered := int(lim.BodyWindow.Seconds() * float64(lim.BodyMinRate))
	for _, c := range []struct {
		name  string
		size  int
		proto int
	}{
		{"small HTTP/1.1", 100, 1},
		{"small HTTP/2", 100, 2},
		{"at the window HTTP/1.1", covered, 1},
		{"large HTTP/1.1", 4 * covered, 1},
		{"large HTTP/2", 4 * covered, 2},
	} {
		req := httptest.NewRequest("POST", "/", bytes.NewReader(make([]byte, c.size)))
		req.Host = "localhost"
		req.ProtoMajor = c.proto
		w := &deadlineRecorder{ResponseRecorder: httptest.NewRecorder()}
		var start time.Time
		var read int
		a.guard(svcKinesis, w, req, func(w http.ResponseWriter, r *http.Request) {
			start = r.Body.(*guardedBody).start
			buf := make([]byte, 4096)
			for {
				n, err := r.Body.Read(buf)
				read += n
				if err != nil {
					break
				}
			}
		})
		if read != c.size {
			t.Fatalf("%s: read %d bytes, want %d", c.name, read, c.size)
		}
		set := w.set
		if c.proto != 1 {
			if len(set) < 2 || !set[len(set)-1].IsZero() {
				t.Errorf("%s: deadlines %v, want the last one cleared", c.name, set)
				continue
			}
			set = set[:len(set)-1]
		}
		final := start.Add(max(lim.BodyWindow, time.Duration(float64(c.size)/float64(lim.BodyMinRate)*float64(time.Second))))
		switch {
		case len(set) == 0 || !set[0].Equal(start.Add(lim.BodyWindow)):
			t.Errorf("%s: deadlines %v, want the first at the window's end", c.name, set)
		case c.size <= covered && len(set) != 1:
			t.Errorf("%s: %d deadlines set, want 1", c.name, len(set))
		case !set[len(set)-1].Equal(final):
			t.Errorf("%s: last deadline %v, want %v", c.name, set[len(set)-1], final)
		}
		for i := 1; i < len(set); i++ {
			if !set[i].After(set[i-1]) {
				t.Errorf("%s: deadline %d (%v) does not move on from %v", c.name, i, set[i], set[i-1])
			}
		}
	}
}
