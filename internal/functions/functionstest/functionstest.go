// Package functionstest serves test functions the three ways internal/functions calls them:
// as a Lambda Invoke API, as a plain URL, and (through the Spec it returns) as a command.
// Tests in every package that calls functions use it, so there is one fake of each protocol.
package functionstest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Func is a test function: it gets the event and answers a payload, or a payload with a
// FunctionError ("Unhandled") when fail is true.
type Func func(event []byte) (payload []byte, fail bool)

// Lambda is a Lambda Invoke API (POST /2015-03-31/functions/{name}/invocations) serving the
// functions it was given by bare name; an unknown name gets Lambda's ResourceNotFoundException.
type Lambda struct {
	URL string

	mu        sync.Mutex
	calls     map[string]int
	lastQuery string
}

// NewLambda starts the server; it stops when the test ends.
func NewLambda(t testing.TB, funcs map[string]Func) *Lambda {
	t.Helper()
	l := &Lambda{calls: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := strings.CutPrefix(r.URL.Path, "/2015-03-31/functions/")
		name, ok2 := strings.CutSuffix(name, "/invocations")
		if r.Method != http.MethodPost || !ok || !ok2 {
			w.Header().Set("X-Amzn-ErrorType", "UnknownOperationException")
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"message":"unknown operation"}`)
			return
		}
		f := funcs[name]
		if f == nil {
			w.Header().Set("X-Amzn-ErrorType", "ResourceNotFoundException")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			msg, _ := json.Marshal("Function not found: " + name)
			_, _ = io.WriteString(w, `{"Type":"User","message":`+string(msg)+`}`)
			return
		}
		event, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		l.mu.Lock()
		l.calls[name]++
		l.lastQuery = r.URL.RawQuery
		l.mu.Unlock()
		payload, fail := f(event)
		if fail {
			w.Header().Set("X-Amz-Function-Error", "Unhandled")
		}
		w.Header().Set("X-Amz-Executed-Version", "$LATEST")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(payload)
	}))
	t.Cleanup(srv.Close)
	l.URL = srv.URL
	return l
}

// Calls is how many times the named function ran.
func (l *Lambda) Calls(name string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.calls[name]
}

// LastQuery is the query string of the last invocation (Qualifier=…).
func (l *Lambda) LastQuery() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastQuery
}

// NewURL serves f as a plain URL function: the event is the POST body; a failure answers 500.
// It returns the URL; the server stops when the test ends.
func NewURL(t testing.TB, f Func) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		event, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		payload, fail := f(event)
		if fail {
			w.WriteHeader(http.StatusInternalServerError)
		}
		_, _ = w.Write(payload)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/fn"
}
