package functions

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/localpipe/localpipe/internal/functions/functionstest"
)

func echoUpper(event []byte) ([]byte, bool) {
	if bytes.Contains(event, []byte("fail")) {
		return []byte(`{"errorMessage":"asked to fail","errorType":"Error"}`), true
	}
	return bytes.ToUpper(event), false
}

func newRegistry(t *testing.T, specs []Spec, opts Options) *Registry {
	t.Helper()
	r, err := New(specs, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r
}

// TestRunners calls one function served each way and checks an answer and a function error.
func TestRunners(t *testing.T) {
	lambda := functionstest.NewLambda(t, map[string]functionstest.Func{"upper": echoUpper})
	url := functionstest.NewURL(t, echoUpper)
	var logs syncBuffer
	r := newRegistry(t, []Spec{
		{Name: "arn:aws:lambda:us-east-1:000000000000:function:upper", Endpoint: lambda.URL},
		{Name: "url-upper", URL: url},
		{Name: "cmd-upper", Command: []string{"./upper.sh"}, Environment: map[string]string{"STAGE": "local"}},
	}, Options{Dir: "testdata", Logger: slog.New(slog.NewTextHandler(&logs, nil))})

	for _, c := range []struct {
		function, want string
	}{
		{"arn:aws:lambda:us-east-1:000000000000:function:upper", "HELLO"},
		{"upper", "HELLO"}, // a bare name finds the one ARN declaring it
		{"url-upper", "HELLO"},
		{"arn:aws:lambda:eu-west-1:111111111111:function:url-upper", "HELLO"}, // a bare declaration matches any ARN
		{"cmd-upper", "HELLO|local"},
	} {
		res, err := r.Invoke(context.Background(), c.function, []byte("hello"))
		if err != nil {
			t.Fatalf("Invoke %s: %v", c.function, err)
		}
		if string(res.Payload) != c.want || res.FunctionError != "" {
			t.Errorf("Invoke %s = %q (error %q), want %q", c.function, res.Payload, res.FunctionError, c.want)
		}
		res, err = r.Invoke(context.Background(), c.function, []byte("fail"))
		if err != nil {
			t.Fatalf("Invoke %s (fail): %v", c.function, err)
		}
		if res.FunctionError != "Unhandled" {
			t.Errorf("Invoke %s (fail): FunctionError %q, want Unhandled (payload %q)", c.function, res.FunctionError, res.Payload)
		}
	}
	// A qualifier the declaration does not give is not sent: sam local start-lambda refuses
	// query parameters. One the declaration gives is.
	if _, err := r.Invoke(context.Background(), "arn:aws:lambda:us-east-1:000000000000:function:upper:7", []byte("q")); err != nil || lambda.LastQuery() != "" {
		t.Errorf("Invoke upper:7: %v, query %q, want none", err, lambda.LastQuery())
	}
	live := newRegistry(t, []Spec{{Name: "upper:live", Endpoint: lambda.URL}}, Options{})
	if _, err := live.Invoke(context.Background(), "upper:live", []byte("q")); err != nil || lambda.LastQuery() != "Qualifier=live" {
		t.Errorf("Invoke upper:live: %v, query %q, want Qualifier=live", err, lambda.LastQuery())
	}
	if lambda.Calls("upper") != 6 {
		t.Errorf("the Lambda endpoint ran upper %d times, want 6", lambda.Calls("upper"))
	}
	if !strings.Contains(logs.String(), "got 5 bytes") || !strings.Contains(logs.String(), "failing on purpose") {
		t.Errorf("the command's stderr is not in the log:\n%s", logs.String())
	}
}

func TestInvokeErrors(t *testing.T) {
	lambda := functionstest.NewLambda(t, map[string]functionstest.Func{})
	big := functionstest.NewURL(t, func([]byte) ([]byte, bool) { return bytes.Repeat([]byte("x"), MaxResponse+1), false })
	r := newRegistry(t, []Spec{
		{Name: "gone", Endpoint: lambda.URL},
		{Name: "slow", Command: []string{"./upper.sh"}, Timeout: "200ms"},
		{Name: "big", URL: big},
		{Name: "refused", URL: "http://127.0.0.1:1/"},
		{Name: "missing-program", Command: []string{"./no-such-program"}},
	}, Options{Dir: "testdata"})
	for _, c := range []struct {
		function string
		payload  string
		want     error
	}{
		{"undeclared", "x", ErrNotFound},
		{"not a name", "x", ErrNotFound},
		{"gone", "x", ErrNotFound},
		{"slow", "sleep", ErrTimeout},
		{"big", "x", ErrResponseTooLarge},
		{"refused", "x", nil},
		{"missing-program", "x", nil},
	} {
		_, err := r.Invoke(context.Background(), c.function, []byte(c.payload))
		if err == nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("Invoke %s: %v, want %v", c.function, err, c.want)
		}
	}
}

func TestLookupOrder(t *testing.T) {
	const arn = "arn:aws:lambda:us-east-1:000000000000:function:f"
	r := newRegistry(t, []Spec{
		{Name: arn, URL: "http://127.0.0.1:1/arn"},
		{Name: arn + ":live", URL: "http://127.0.0.1:1/arn-live"},
		{Name: "f", URL: "http://127.0.0.1:1/bare"},
		{Name: "f:beta", URL: "http://127.0.0.1:1/bare-beta"},
		{Name: "g", URL: "http://127.0.0.1:1/g"},
	}, Options{})
	for _, c := range []struct{ in, want string }{
		{arn, arn},
		{arn + ":live", arn + ":live"},
		{arn + ":beta", "f:beta"},
		{arn + ":7", arn},
		{"000000000000:function:f:7", "f"},
		{"arn:aws:lambda:eu-west-1:000000000000:function:f", "f"},
		{"f", "f"},
		{"f:beta", "f:beta"},
		{"000000000000:function:g:3", "g"},
	} {
		n, ok := r.Lookup(c.in)
		if !ok || n.String() != c.want {
			t.Errorf("Lookup(%q) = %v %v, want %s", c.in, n, ok, c.want)
		}
	}
	if n, ok := r.Lookup("h"); ok {
		t.Errorf("Lookup(h) = %v, want not found", n)
	}
}

func TestNewBadSpecs(t *testing.T) {
	for _, c := range []struct {
		spec Spec
		want string
	}{
		{Spec{Name: "", URL: "http://x/"}, "name"},
		{Spec{Name: "f"}, "exactly one of url, command, endpoint"},
		{Spec{Name: "f", URL: "http://x/", Endpoint: "http://y/"}, "exactly one"},
		{Spec{Name: "f", URL: "ftp://x/"}, "http://"},
		{Spec{Name: "f", Endpoint: "127.0.0.1:3001"}, "http://"},
		{Spec{Name: "f", Command: []string{""}}, "program"},
		{Spec{Name: "f", URL: "http://x/", Timeout: "3"}, "Go duration"},
		{Spec{Name: "f", URL: "http://x/", Timeout: "-1s"}, "positive"},
		{Spec{Name: "f", URL: "http://x/", Timeout: "16m"}, "at most 15m0s"},
		{Spec{Name: "f", URL: "http://x/", Environment: map[string]string{"A": "b"}}, "only to a command"},
	} {
		_, err := New([]Spec{c.spec}, Options{})
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "functions[0]") {
			t.Errorf("New(%+v) = %v, want an error saying %q", c.spec, err, c.want)
		}
	}
	_, err := New([]Spec{{Name: "f", URL: "http://x/"}, {Name: "f", URL: "http://y/"}}, Options{})
	if err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("a name declared twice: %v", err)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
