package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/localpipe/localpipe/internal/functions"
	"github.com/localpipe/localpipe/internal/trace"
)

// Config is everything the binary's flags decide. DefaultConfig gives the documented
// defaults; Validate says what to change when a value cannot work.
type Config struct {
	Listen     string
	DataDir    string
	Ephemeral  bool
	ConfigFile string
	Fsync      string // "always" or a Go duration such as "200ms"
	LogLevel   string
	// LogRequests writes one info line per request (--log-requests).
	LogRequests       bool
	StreamCreateDelay time.Duration
	// AllowedHosts are Host names served besides loopback ones (--allowed-hosts); see
	// hostPolicy.
	AllowedHosts []string
	Limits       Limits
	// TraceSize is how many requests the cross-hop trace keeps (--trace-size); 0 turns
	// tracing off.
	TraceSize int
	// Throttle applies Kinesis's per-shard and control-plane rate limits (--throttle), so
	// clients meet ProvisionedThroughputExceeded and LimitExceeded as on AWS.
	Throttle bool
	// ThrottleClock is the clock the limits refill by; nil means time.Now. For tests, which
	// move it themselves so that no assertion depends on how fast the machine is.
	ThrottleClock func() time.Time

	// Resources, when set, is used instead of reading ConfigFile (for tests and embedding).
	Resources *Resources
}

// DefaultConfig returns the defaults the flags document.
func DefaultConfig() Config {
	return Config{
		Listen:      "127.0.0.1:4566",
		DataDir:     "./.localpipe",
		Fsync:       "1s",
		LogLevel:    "info",
		LogRequests: true,
		TraceSize:   trace.DefaultSize,
		Limits:      DefaultLimits(),
	}
}

// Validate checks the values that would otherwise fail later with a less helpful message.
func (c *Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("--listen %q: want host:port, e.g. 127.0.0.1:4566 or 0.0.0.0:4566", c.Listen)
	}
	if !c.Ephemeral && c.DataDir == "" {
		return errors.New("--data-dir is empty: give a directory, or use --ephemeral")
	}
	if _, _, err := c.fsyncPolicy(); err != nil {
		return err
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		return err
	}
	for _, h := range c.AllowedHosts {
		if name, ok := parseHost(strings.TrimPrefix(strings.TrimSpace(h), "*.")); !ok || name == "" {
			return fmt.Errorf("--allowed-hosts: %q is not a host name (give names such as localpipe or my-host.lan, comma-separated)", h)
		}
	}
	if c.Limits.MaxInflightBytes < 0 || c.Limits.MaxConns < 0 {
		return errors.New("--max-inflight-mb and --max-connections must not be negative")
	}
	if c.TraceSize < 0 {
		return fmt.Errorf("--trace-size %d: must not be negative (0 turns tracing off)", c.TraceSize)
	}
	if c.StreamCreateDelay < 0 {
		return fmt.Errorf("--stream-create-delay %s: must not be negative", c.StreamCreateDelay)
	}
	return nil
}

func (c *Config) fsyncPolicy() (always bool, interval time.Duration, err error) {
	if c.Fsync == "always" {
		return true, 0, nil
	}
	d, perr := time.ParseDuration(c.Fsync)
	if perr != nil || d <= 0 {
		return false, 0, fmt.Errorf("--fsync %q: want \"always\" or a positive interval such as 200ms or 1s", c.Fsync)
	}
	return false, d, nil
}

// Resources is the --config file: resources to create at start, each entry the input of the
// AWS call that would create it, with AWS's field names.
type Resources struct {
	Streams         []json.RawMessage `json:"streams,omitempty"`
	Buckets         []json.RawMessage `json:"buckets,omitempty"`
	DeliveryStreams []json.RawMessage `json:"deliveryStreams,omitempty"`
	RestApis        []json.RawMessage `json:"restApis,omitempty"`
	APIKeys         []json.RawMessage `json:"apiKeys,omitempty"`
	// Functions say where each function a Lambda processor or integration names runs
	// (functions.Spec).
	Functions []json.RawMessage `json:"functions,omitempty"`
	// Faults are injected failures (FaultSpec), active from the start.
	Faults []json.RawMessage `json:"faults,omitempty"`
	// Seed seeds the faults that give a probability and no seed of their own (each with
	// Seed plus its position), so a run repeats.
	Seed *uint64 `json:"seed,omitempty"`

	// Dir is the directory of the config file; relative paths in it resolve against Dir.
	Dir string `json:"-"`
}

// ConfigError is a --config file that cannot be read, or that asks for something its
// resources' create calls do not take. The binary exits 2 for it, as for a wrong flag.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// LoadResources reads a YAML or JSON config file. YAML is converted to JSON first so both
// decode into the same request types the JSON 1.1 handlers use.
func LoadResources(path string) (*Resources, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		// A relative path resolves against the working directory, which in a container or
		// under a process manager is rarely where the user thinks.
		abs, _ := filepath.Abs(path)
		if errors.Is(err, os.ErrNotExist) {
			return nil, &ConfigError{fmt.Errorf("--config %s: no such file (looked for %s)", path, abs)}
		}
		return nil, &ConfigError{fmt.Errorf("--config %s (%s): %w", path, abs, errors.Unwrap(err))}
	}
	r, err := ParseResources(raw)
	if err != nil {
		return nil, &ConfigError{fmt.Errorf("--config %s: %w", path, err)}
	}
	r.Dir = filepath.Dir(path)
	return r, nil
}

// ParseResources decodes config text. Unknown keys, top-level or nested, are errors so a typo
// such as `stream:` or `Shards:` does not silently create something else.
func ParseResources(raw []byte) (*Resources, error) {
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return nil, err
	}
	r := &Resources{}
	if strings.TrimSpace(string(js)) == "null" {
		return r, nil
	}
	dec := json.NewDecoder(strings.NewReader(string(js)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(r); err != nil {
		return nil, fmt.Errorf("want top-level keys streams, buckets, deliveryStreams, restApis, apiKeys, functions, faults, seed: %w", err)
	}
	if err := checkResources(r); err != nil {
		return nil, err
	}
	if _, err := r.functionSpecs(); err != nil {
		return nil, err
	}
	return r, nil
}

// functionSpecs decodes and checks the config's functions (checkResources has held their
// members to functions.Spec already).
func (r *Resources) functionSpecs() ([]functions.Spec, error) {
	specs := make([]functions.Spec, len(r.Functions))
	for i, raw := range r.Functions {
		if err := json.Unmarshal(raw, &specs[i]); err != nil {
			return nil, fmt.Errorf("functions[%d]: %w", i, err)
		}
	}
	// Built once here only to check: commands resolve against the config's directory when
	// the app builds the registry it uses.
	if _, err := functions.New(specs, functions.Options{}); err != nil {
		return nil, err
	}
	return specs, nil
}
