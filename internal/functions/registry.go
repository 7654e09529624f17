package functions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// DefaultTimeout is Lambda's default function timeout.
const DefaultTimeout = 3 * time.Second

// MaxTimeout is Lambda's longest function timeout.
const MaxTimeout = 15 * time.Minute

// MaxResponse is Lambda's limit on a synchronous invocation's response payload. A runner
// reads one byte more than this, so callers can tell an answer that is over the limit
// without holding an unbounded one in memory.
const MaxResponse = 6 << 20

var (
	// ErrNotFound is a function that no `functions:` entry declares (or that the Lambda
	// endpoint says does not exist).
	ErrNotFound = errors.New("function not found")
	// ErrTimeout is an invocation that did not answer within the function's timeout.
	ErrTimeout = errors.New("function timed out")
	// ErrResponseTooLarge is an answer longer than MaxResponse.
	ErrResponseTooLarge = errors.New("function response exceeds the 6 MB limit")
)

// Spec is one entry of the config's `functions:`. Exactly one of URL, Command and Endpoint
// is set.
type Spec struct {
	Name        string            `json:"name"`
	URL         string            `json:"url,omitempty"`
	Command     []string          `json:"command,omitempty"`
	Endpoint    string            `json:"endpoint,omitempty"`
	Timeout     string            `json:"timeout,omitempty"` // a Go duration; DefaultTimeout if empty
	Environment map[string]string `json:"environment,omitempty"`
}

// Result is a function's answer. A function that ran and failed (a non-2xx answer, a non-zero
// exit, Lambda's X-Amz-Function-Error) has FunctionError set, as Lambda's Invoke reports it,
// and Payload holds what it wrote.
type Result struct {
	Payload       []byte
	FunctionError string
}

// Options configure a Registry; the zero value means defaults.
type Options struct {
	// Dir resolves relative command paths (the config file's directory); empty means the
	// working directory.
	Dir string
	// Logger receives commands' stderr and invocation failures; nil discards.
	Logger *slog.Logger
	// HTTPClient is used by url runners and endpoint clients; nil means a client without
	// proxies from the environment, as the targets are local.
	HTTPClient *http.Client
}

// Registry is the declared functions. It is safe for concurrent use.
type Registry struct {
	byARN  map[string]*entry // full or partial ARN with qualifier, as printed by Name.String
	byName map[string]*entry // bare name with qualifier ("f" or "f:live")
	all    []*entry
}

type entry struct {
	name    Name
	timeout time.Duration
	run     runner
}

// runner calls one function once; ctx carries the timeout.
type runner interface {
	invoke(ctx context.Context, n Name, payload []byte) (Result, error)
}

// New checks specs and builds the registry. Errors name the entry (functions[i]) and say what
// to change.
func New(specs []Spec, opts Options) (*Registry, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16, IdleConnTimeout: 90 * time.Second}}
	}
	r := &Registry{byARN: map[string]*entry{}, byName: map[string]*entry{}}
	for i, s := range specs {
		e, err := newEntry(s, opts)
		if err != nil {
			return nil, fmt.Errorf("functions[%d]: %w", i, err)
		}
		key, m := e.name.String(), r.byARN
		if e.name.Account == "" {
			m = r.byName
		}
		if _, dup := m[key]; dup {
			return nil, fmt.Errorf("functions[%d]: %s is declared twice", i, key)
		}
		m[key] = e
		r.all = append(r.all, e)
	}
	return r, nil
}

func newEntry(s Spec, opts Options) (*entry, error) {
	n, err := ParseName(s.Name)
	if err != nil {
		return nil, fmt.Errorf("name: %w", err)
	}
	e := &entry{name: n, timeout: DefaultTimeout}
	if s.Timeout != "" {
		d, err := time.ParseDuration(s.Timeout)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("%s: timeout %q: want a positive Go duration such as 3s or 500ms", n, s.Timeout)
		}
		if d > MaxTimeout {
			return nil, fmt.Errorf("%s: timeout %s: Lambda allows at most %s", n, s.Timeout, MaxTimeout)
		}
		e.timeout = d
	}
	set := 0
	for _, b := range []bool{s.URL != "", len(s.Command) > 0, s.Endpoint != ""} {
		if b {
			set++
		}
	}
	if set != 1 {
		return nil, fmt.Errorf("%s: give exactly one of url, command, endpoint", n)
	}
	if len(s.Environment) > 0 && len(s.Command) == 0 {
		return nil, fmt.Errorf("%s: environment applies only to a command", n)
	}
	switch {
	case s.URL != "":
		if err := checkHTTPURL(s.URL); err != nil {
			return nil, fmt.Errorf("%s: url: %w", n, err)
		}
		e.run = &urlRunner{url: s.URL, client: opts.HTTPClient}
	case len(s.Command) > 0:
		if s.Command[0] == "" {
			return nil, fmt.Errorf("%s: command: the program (the first element) is empty", n)
		}
		argv := append([]string(nil), s.Command...)
		// A bare program name is looked up in PATH; a path with a separator in it is the
		// user's script next to the config file.
		// The child starts in Dir, so the path is made absolute here.
		if strings.ContainsRune(argv[0], '/') && !filepath.IsAbs(argv[0]) {
			abs, err := filepath.Abs(filepath.Join(opts.Dir, argv[0]))
			if err != nil {
				return nil, fmt.Errorf("%s: command: %w", n, err)
			}
			argv[0] = abs
		}
		e.run = &commandRunner{argv: argv, dir: opts.Dir, env: s.Environment, log: opts.Logger}
	default:
		if err := checkHTTPURL(s.Endpoint); err != nil {
			return nil, fmt.Errorf("%s: endpoint: %w", n, err)
		}
		e.run = newEndpointRunner(s.Endpoint, n, opts.HTTPClient)
	}
	return e, nil
}

// Len is the number of declared functions.
func (r *Registry) Len() int {
	if r == nil {
		return 0
	}
	return len(r.all)
}

// Lookup finds the declaration that function (as a caller names it) resolves to; see the
// package comment for the order.
func (r *Registry) Lookup(function string) (Name, bool) {
	e, _, err := r.lookup(function)
	if err != nil {
		return Name{}, false
	}
	return e.name, true
}

func (r *Registry) lookup(function string) (*entry, Name, error) {
	n, err := ParseName(function)
	if err != nil {
		return nil, n, fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	if r != nil {
		if n.Account != "" {
			if e := r.byARN[n.String()]; e != nil {
				return e, n, nil
			}
		}
		bare := Name{Function: n.Function, Qualifier: n.Qualifier}
		if e := r.byName[bare.String()]; e != nil {
			return e, n, nil
		}
		if n.Account != "" && n.Qualifier != "" {
			unq := n
			unq.Qualifier = ""
			if e := r.byARN[unq.String()]; e != nil {
				return e, n, nil
			}
		}
		if e := r.byName[n.Function]; e != nil {
			return e, n, nil
		}
		// A caller that gives a bare name means whichever ARN declares it, as Lambda
		// resolves a bare name in the caller's own account.
		if n.Account == "" {
			var found *entry
			for _, e := range r.all {
				if e.name.Account != "" && e.name.Function == n.Function && (e.name.Qualifier == n.Qualifier || e.name.Qualifier == "") {
					if found != nil {
						return nil, n, fmt.Errorf("%w: %s matches more than one declared ARN; give the ARN", ErrNotFound, function)
					}
					found = e
				}
			}
			if found != nil {
				return found, n, nil
			}
		}
	}
	return nil, n, fmt.Errorf("%w: %s is not declared in the config's functions:", ErrNotFound, function)
}

// Invoke calls function once with payload and waits for its answer, at most the function's
// timeout. It returns ErrNotFound for a function nobody declared, ErrTimeout when the
// function did not answer in time, ErrResponseTooLarge, or a transport error; a function
// that ran and failed is not an error but a Result with FunctionError set.
func (r *Registry) Invoke(ctx context.Context, function string, payload []byte) (Result, error) {
	e, n, err := r.lookup(function)
	if err != nil {
		return Result{}, err
	}
	ctx, cancel := context.WithTimeoutCause(ctx, e.timeout, ErrTimeout)
	defer cancel()
	res, err := e.run.invoke(ctx, n, payload)
	if err != nil {
		if errors.Is(context.Cause(ctx), ErrTimeout) && !errors.Is(err, ErrTimeout) {
			err = fmt.Errorf("%w after %s: %w", ErrTimeout, e.timeout, err)
		}
		return Result{}, fmt.Errorf("invoke %s: %w", e.name, err)
	}
	if len(res.Payload) > MaxResponse {
		return Result{}, fmt.Errorf("invoke %s: %w (%d bytes or more)", e.name, ErrResponseTooLarge, len(res.Payload))
	}
	return res, nil
}

func checkHTTPURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q: want an http:// or https:// URL such as http://127.0.0.1:9000/", s)
	}
	return nil
}
