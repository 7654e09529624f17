package awsjson

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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

func TestErrorOrInternal(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	aws := NewError("ResourceInUseException", "busy")
	if got := ErrorOrInternal(fmt.Errorf("update: %w", aws), logger, "svc: internal error", "stream", "s"); got != aws {
		t.Errorf("wrapped AWS error: %v", got)
	}
	if logs.Len() != 0 {
		t.Errorf("an AWS error was logged: %s", logs.String())
	}
	got := ErrorOrInternal(errors.New("disk on fire"), logger, "svc: internal error", "stream", "s")
	if got.Status != 500 || got.Type != "InternalFailure" || got.Message != "" {
		t.Errorf("other error: %+v", got)
	}
	if l := logs.String(); !strings.Contains(l, `msg="svc: internal error" stream=s err="disk on fire"`) {
		t.Errorf("log line: %s", l)
	}
}

func TestServiceCall(t *testing.T) {
	var regions []string
	s := &Service{Invoke: func(_ context.Context, action string, body []byte, region string) (int, []byte) {
		regions = append(regions, region)
		return 200, []byte(action + string(body))
	}}
	for _, region := range []string{"", "eu-west-1"} {
		status, ct, resp := s.Call(context.Background(), "Op", []byte("{}"), region)
		if status != 200 || ct != ContentType || string(resp) != "Op{}" {
			t.Errorf("%q: %d %q %s", region, status, ct, resp)
		}
	}
	if len(regions) != 2 || regions[0] != DefaultRegion || regions[1] != "eu-west-1" {
		t.Errorf("regions: %q", regions)
	}
}
