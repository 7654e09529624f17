package awsjson

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	ops := map[string]Operation[string]{
		"Echo":  func(c string, body []byte) ([]byte, *Error) { return []byte(c + string(body)), nil },
		"Fail":  func(string, []byte) ([]byte, *Error) { return nil, NewError("InvalidArgumentException", "no") },
		"Panic": func(string, []byte) ([]byte, *Error) { panic("boom") },
	}
	calls := 0
	newCall := func() string { calls++; return "c:" }
	for _, tc := range []struct {
		action, body string
		status       int
		resp         string
		calls        int
	}{
		{"Nope", "{}", 400, `{"__type":"UnknownOperationException"}`, 0},
		{"Echo", " \n", 400, `{"__type":"SerializationException"}`, 0},
		{"Echo", "{}", 200, "c:{}", 1},
		{"Fail", "{}", 400, `{"__type":"InvalidArgumentException","message":"no"}`, 1},
		{"Panic", "{}", 500, `{"__type":"InternalFailure"}`, 1},
	} {
		calls = 0
		status, resp := Run(ops, tc.action, []byte(tc.body), logger, "svc", newCall)
		if status != tc.status || string(resp) != tc.resp || calls != tc.calls {
			t.Errorf("%s %q: %d %s (%d calls), want %d %s (%d)", tc.action, tc.body, status, resp, calls, tc.status, tc.resp, tc.calls)
		}
	}
	if !strings.Contains(logs.String(), "svc: panic serving request") || !strings.Contains(logs.String(), "boom") {
		t.Errorf("panic not logged: %s", logs.String())
	}
}

func TestMarshal(t *testing.T) {
	if b, err := Marshal(map[string]int{"A": 1}); err != nil || string(b) != `{"A":1}` {
		t.Errorf("%s %v", b, err)
	}
	if _, err := Marshal(func() {}); err == nil || err.Status != 500 || err.Type != "InternalFailure" || err.Message != "" {
		t.Errorf("unencodable: %v", err)
	}
}
