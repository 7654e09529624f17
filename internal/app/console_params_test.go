package app

import (
	"bytes"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/localpipe/localpipe/gateway/gatewayapi"
)

// TestConsoleQueryParsers: every bad query the console's endpoints can get is refused with
// a message naming the parameter; good ones parse to what they say.
func TestConsoleQueryParsers(t *testing.T) {
	long := strings.Repeat("k", consoleMaxKeyLen+1)
	bad := []struct{ endpoint, query, want string }{
		{"records", "limit=0", "limit"},
		{"records", "limit=1001", "limit"},
		{"records", "limit=-1", "limit"},
		{"records", "limit=ten", "limit"},
		{"records", "limit=", "limit"},
		{"records", "limit=1&limit=2", "given 2 times"},
		{"records", "shard=-1", "shard"},
		{"records", "shard=x", "shard"},
		{"records", "shard=99999999999", "shard"},
		{"records", "shard=+1", "shard"},
		{"records", "from=-5", "from"},
		{"records", "from=1e3", "from"},
		{"records", "from=18446744073709551616", "from"},
		{"records", "from=", "from"},
		{"records", "prefix=a", "unknown parameter"},
		{"records", "Limit=5", "unknown parameter"},
		{"objects", "prefix=" + long, "prefix"},
		{"objects", "prefix=%ff", "prefix"},
		{"objects", "after=%c3%28", "after"},
		{"objects", "prefix=a&prefix=b", "given 2 times"},
		{"objects", "limit=0", "limit"},
		{"objects", "key=a", "unknown parameter"},
		{"key", "", "key: missing"},
		{"key", "key=", "key: missing"},
		{"key", "key=" + long, "key"},
		{"key", "key=%ff", "key"},
		{"key", "key=a&key=b", "given 2 times"},
		{"key", "key=a&prefix=b", "unknown parameter"},
	}
	for _, tc := range bad {
		q, err := url.ParseQuery(tc.query)
		if err != nil {
			t.Fatal(err)
		}
		if err := parseConsoleQuery(tc.endpoint, q); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s ?%s: %v; want an error about %q", tc.endpoint, truncate(tc.query, 40), err, tc.want)
		}
	}

	rq, err := parseRecordQuery(url.Values{"shard": {"2"}, "from": {"18446744073709551615"}, "limit": {"1000"}})
	if err != nil || rq != (recordQuery{Shard: 2, From: 1<<64 - 1, HasFrom: true, Limit: 1000}) {
		t.Errorf("records: %+v %v", rq, err)
	}
	if rq, err := parseRecordQuery(url.Values{}); err != nil || rq != (recordQuery{Limit: consoleDefaultLimit}) {
		t.Errorf("records, no query: %+v %v", rq, err)
	}
	oq, err := parseObjectQuery(url.Values{"prefix": {"2026/é/"}, "after": {"2026/é/a"}, "limit": {"7"}})
	if err != nil || oq != (objectQuery{Prefix: "2026/é/", After: "2026/é/a", Limit: 7}) {
		t.Errorf("objects: %+v %v", oq, err)
	}
}

// parseConsoleQuery runs the parser of one endpoint's query, for the table and the fuzz target.
func parseConsoleQuery(endpoint string, q url.Values) error {
	var err error
	switch endpoint {
	case "records":
		var rq recordQuery
		if rq, err = parseRecordQuery(q); err == nil && (rq.Limit < 1 || rq.Limit > consoleMaxLimit || rq.Shard < 0) {
			panic("records query out of range accepted")
		}
	case "objects":
		var oq objectQuery
		if oq, err = parseObjectQuery(q); err == nil && (oq.Limit < 1 || oq.Limit > consoleMaxLimit ||
			len(oq.Prefix) > consoleMaxKeyLen || !utf8.ValidString(oq.Prefix) || !utf8.ValidString(oq.After)) {
			panic("objects query out of range accepted")
		}
	default:
		var k string
		if k, err = parseObjectKey(q); err == nil && (k == "" || len(k) > consoleMaxKeyLen || !utf8.ValidString(k)) {
			panic("bad key accepted")
		}
	}
	return err
}

// FuzzConsoleQuery: no query string makes a console parser panic or accept what is out of
// range (parseConsoleQuery panics on that).
func FuzzConsoleQuery(f *testing.F) {
	for _, s := range []string{"", "limit=5", "shard=1&from=3&limit=10", "prefix=2026/&after=2026/a", "key=a/b.gz",
		"limit=0", "from=-1", "prefix=%ff", "key=a&key=b", "x=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		for _, e := range []string{"records", "objects", "key"} {
			parseConsoleQuery(e, q)
		}
	})
}

// TestDecompressedBadInput: objects that claim a compression they do not hold are errors
// (or end early), never a panic or a huge allocation.
func TestDecompressedBadInput(t *testing.T) {
	for _, tc := range []struct {
		name, key string
		body      []byte
	}{
		{"gzip header only", "a.gz", []byte{0x1f, 0x8b}},
		{"gzip bad", "a.gz", []byte("\x1f\x8b\x08\x00garbage")},
		{"zip header only", "a.zip", []byte("PK\x03\x04")},
		{"snappy magic only then junk", "a.snappy", []byte("\xff\x06\x00\x00sNaPpY\x01\x02")},
		{"hadoop short length", "a.hsnappy", []byte{0, 0}},
		{"hadoop chunk too big", "a.hsnappy", []byte{0, 0, 0, 10, 0xff, 0xff, 0xff, 0xff}},
		{"hadoop chunk cut", "a.hsnappy", []byte{0, 0, 0, 10, 0, 0, 0, 5, 1}},
		{"hadoop chunk not snappy", "a.hsnappy", []byte{0, 0, 0, 10, 0, 0, 0, 2, 0xff, 0xff}},
		{"hadoop chunk longer than its block", "a.hsnappy", append([]byte{0, 0, 0, 1, 0, 0, 0, 5}, []byte{3, 8, 'a', 'b', 'c'}...)},
	} {
		_, r, err := decompressed(bytes.NewReader(tc.body), int64(len(tc.body)), tc.key, "")
		if err == nil {
			_, err = io.ReadAll(io.LimitReader(r, consolePreviewBytes+1))
		}
		if err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

// FuzzDecompressed: any object bytes preview without a panic, within the preview bound.
func FuzzDecompressed(f *testing.F) {
	f.Add([]byte("plain"), "a.txt")
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}, "a.gz")
	f.Add([]byte("PK\x03\x04"), "a.zip")
	f.Add([]byte("\xff\x06\x00\x00sNaPpY"), "a.snappy")
	f.Add([]byte{0, 0, 0, 3, 0, 0, 0, 5, 3, 8, 'a', 'b', 'c'}, "a.hsnappy")
	f.Fuzz(func(t *testing.T, body []byte, key string) {
		_, r, err := decompressed(bytes.NewReader(body), int64(len(body)), key, "")
		if err != nil {
			return
		}
		b, _ := io.ReadAll(io.LimitReader(r, consolePreviewBytes+1))
		if len(b) > consolePreviewBytes+1 {
			t.Fatalf("read %d bytes past the limit", len(b))
		}
	})
}

// TestConsolePutRate: the rate is records per second over the samples of the last window,
// and a re-created stream (another creation time) starts over.
func TestConsolePutRate(t *testing.T) {
	c := newConsole(&App{})
	t0 := time.Unix(1000, 0)
	created := time.Unix(1, 0)
	for _, tc := range []struct {
		at    time.Duration
		total uint64
		want  float64
	}{
		{0, 0, 0},
		{500 * time.Millisecond, 10, 0}, // under a second of samples: no rate yet
		{2 * time.Second, 20, 10},
		{4 * time.Second, 60, 15},
		{14 * time.Second, 160, 10}, // the samples older than the window are dropped
	} {
		if got := c.putRate("s", created, tc.total, t0.Add(tc.at)); got != tc.want {
			t.Errorf("at %v with %d records: %v/s, want %v", tc.at, tc.total, got, tc.want)
		}
	}
	if got := c.putRate("s", created.Add(time.Second), 5, t0.Add(15*time.Second)); got != 0 {
		t.Errorf("re-created stream: %v/s, want 0", got)
	}
}

// TestConsoleRecentInvocations: the console keeps the newest consoleRecentInvocations
// invocations, newest first, however many came before.
func TestConsoleRecentInvocations(t *testing.T) {
	c := newConsole(nil)
	for _, n := range []int{1, consoleRecentInvocations - 1, 1, 1, consoleRecentInvocations, 3, 2 * consoleRecentInvocations, 1} {
		before := len(c.recentInvocations())
		total := 0
		if before > 0 {
			fmt.Sscan(c.recentInvocations()[0].RequestID, &total)
		}
		for i := range n {
			c.observeInvocation(gatewayapi.Invocation{RequestID: strconv.Itoa(total + i + 1)})
		}
		total += n
		got := c.recentInvocations()
		if want := min(total, consoleRecentInvocations); len(got) != want {
			t.Fatalf("after %d invocations: %d kept, want %d", total, len(got), want)
		}
		for i, v := range got {
			if v.RequestID != strconv.Itoa(total-i) {
				t.Fatalf("after %d invocations: [%d] is %s, want %d", total, i, v.RequestID, total-i)
			}
		}
	}
}
