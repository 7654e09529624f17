package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/localpipe/localpipe/gateway"
	"github.com/localpipe/localpipe/gateway/gatewayapi"
	"github.com/localpipe/localpipe/internal/awsjson"
	"github.com/localpipe/localpipe/internal/functions"
	"github.com/localpipe/localpipe/stream/kinesisapi"
)

// serviceInvoker is gatewayapi.Invoker over the in-process JSON 1.1 handlers: an AWS
// integration's call gets the same decoding and validation as an SDK request, without a
// loopback HTTP hop.
type serviceInvoker struct {
	kinesis *kinesisapi.Handler
	// firehose is the Firehose handler's Invoke.
	firehose func(ctx context.Context, action string, body []byte, region string) (int, string, []byte)
	logger   *slog.Logger
}

func (v serviceInvoker) Invoke(ctx context.Context, service, action string, body []byte, region string) (int, string, []byte) {
	switch service {
	case "kinesis":
		return v.kinesis.Invoke(ctx, action, body, region)
	case "firehose":
		if v.firehose != nil {
			return v.firehose(ctx, action, body, region)
		}
	}
	// Deploy refuses integrations to other services, so this is a safety net: the client
	// sees a 500 whose message says why, and the log says it too.
	msg := fmt.Sprintf("localpipe does not emulate the AWS service %q (integration action %s); it emulates kinesis and firehose", service, action)
	v.logger.Error("gateway: AWS integration to a service localpipe does not emulate", "service", service, "action", action)
	return 500, awsjson.ContentType, awsjson.ErrorBody("InternalFailure", msg)
}

// restAPIConfig is one entry of the config file's restApis: ImportRestApi's input (the
// OpenAPI document, from a file or inline) plus the stages to deploy it at.
type restAPIConfig struct {
	Name    string          `json:"name"`
	ID      string          `json:"id"`
	OpenAPI string          `json:"openapi"`
	Body    json.RawMessage `json:"body"`
	Stages  []struct {
		StageName string            `json:"stageName"`
		Variables map[string]string `json:"variables"`
	} `json:"stages"`
}

// apiKeyConfig is one entry of the config file's apiKeys, CreateApiKey's input.
type apiKeyConfig struct {
	Name        string `json:"name"`
	Value       string `json:"value"`
	Description string `json:"description"`
	Enabled     *bool  `json:"enabled"`
	// StageKeys limits the key to some API stages; without it the key is valid for every
	// stage (as if a usage plan linked it to all of them). restApiId may also be the name
	// of an API of the config, whose id may be generated.
	StageKeys []struct {
		RestAPIID string `json:"restApiId"`
		StageName string `json:"stageName"`
	} `json:"stageKeys"`
}

// gatewayIDsBucket maps "restapi/NAME" and "apikey/NAME" to the id generated for it the
// first time, so invoke URLs stay the same across restarts.
var gatewayIDsBucket = []byte("gateway.ids")

// gatewayAPIsBucket holds the REST APIs created through the control plane, by id: each
// the gateway's own JSON document of the API, its deployments and stages.
var gatewayAPIsBucket = []byte("gateway.apis")

// boltAPIStore is gatewayapi.Store in the metadata file. bbolt syncs each Update's commit
// before it returns, so an API the control plane answered for survives a SIGKILL.
type boltAPIStore struct{ db *bolt.DB }

func (s boltAPIStore) LoadAPIs() (map[string][]byte, error) {
	out := map[string][]byte{}
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(gatewayAPIsBucket)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			out[string(k)] = bytes.Clone(v)
			return nil
		})
	})
	return out, err
}

func (s boltAPIStore) SaveAPI(id string, doc []byte) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(gatewayAPIsBucket)
		if err != nil {
			return err
		}
		return b.Put([]byte(id), doc)
	})
}

// gatewayAccountBucket holds the control plane's account document (API keys, usage plans)
// under gatewayAccountKey.
var gatewayAccountBucket, gatewayAccountKey = []byte("gateway.account"), []byte("account")

// gatewayUsageKey, in the same bucket, holds the usage plans' counts as of the last clean stop.
var gatewayUsageKey = []byte("usage")

func (s boltAPIStore) LoadAccount() ([]byte, error) { return s.load(gatewayAccountKey) }
func (s boltAPIStore) SaveAccount(doc []byte) error { return s.save(gatewayAccountKey, doc) }
func (s boltAPIStore) LoadUsage() ([]byte, error)   { return s.load(gatewayUsageKey) }
func (s boltAPIStore) SaveUsage(doc []byte) error   { return s.save(gatewayUsageKey, doc) }

func (s boltAPIStore) load(key []byte) ([]byte, error) {
	var out []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(gatewayAccountBucket); b != nil {
			out = bytes.Clone(b.Get(key))
		}
		return nil
	})
	return out, err
}

// save puts doc under key in the account bucket; nil deletes it.
func (s boltAPIStore) save(key, doc []byte) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if doc == nil {
			if b := tx.Bucket(gatewayAccountBucket); b != nil {
				return b.Delete(key)
			}
			return nil
		}
		b, err := tx.CreateBucketIfNotExists(gatewayAccountBucket)
		if err != nil {
			return err
		}
		return b.Put(key, doc)
	})
}

func (s boltAPIStore) DeleteAPI(id string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if b := tx.Bucket(gatewayAPIsBucket); b != nil {
			return b.Delete([]byte(id))
		}
		return nil
	})
}

// applyGateway imports and deploys the config's REST APIs and registers its API keys.
func (a *App) applyGateway(res *Resources) error {
	names := map[string]int{}
	ids := map[string]int{}
	deployed := map[string]bool{} // "apiId/stage"
	nameToID := map[string]string{}
	for i, raw := range res.RestApis {
		where := fmt.Sprintf("--config restApis[%d]", i)
		api, stages, err := parseRestAPI(raw, res.Dir)
		if err != nil {
			return fmt.Errorf("%s%w", where, err)
		}
		if j, dup := names[api.Name]; dup {
			return fmt.Errorf("%s: name %q is taken by restApis[%d]", where, api.Name, j)
		}
		names[api.Name] = i
		if api.ID, err = a.stableID("restapi/"+api.Name, api.ID); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if j, dup := ids[api.ID]; dup {
			return fmt.Errorf("%s: id %q is taken by restApis[%d]", where, api.ID, j)
		}
		ids[api.ID] = i
		nameToID[api.Name] = api.ID
		for _, st := range stages {
			deployed[api.ID+"/"+st.Name] = true
		}
		if err := a.gw.Deploy(api, stages); err != nil {
			return fmt.Errorf("%s: deploy: %w", where, err)
		}
		for _, w := range api.Warnings {
			a.logger.Warn("gateway: import warning", "api", api.Name, "id", api.ID, "warning", w)
		}
		warnUndeclaredFunctions(a.logger, a.functions, api)
	}
	keyNames := map[string]bool{}
	for i, raw := range res.APIKeys {
		where := fmt.Sprintf("--config apiKeys[%d]", i)
		k, enabled, err := parseAPIKey(raw)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if keyNames[k.Name] {
			return fmt.Errorf("%s: name %q is taken by another key", where, k.Name)
		}
		keyNames[k.Name] = true
		for j, st := range k.Stages {
			apiID, stage, _ := strings.Cut(st, "/")
			if id, ok := nameToID[apiID]; ok {
				apiID = id
			}
			if k.Stages[j] = apiID + "/" + stage; !deployed[k.Stages[j]] {
				return fmt.Errorf("%s: stageKeys[%d]: no API %q with a stage %q in restApis", where, j, apiID, stage)
			}
		}
		if !enabled {
			continue
		}
		if k.ID, err = a.stableID("apikey/"+k.Name, ""); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if err := a.gw.AddAPIKey(k); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
	}
	return nil
}

// parseRestAPI decodes one restApis entry and imports its document. The API's ID is the
// configured one, or "" for the caller to choose. An error starts with what follows
// "restApis[i]" in a message: ": ..." or " (file): ...".
func parseRestAPI(raw []byte, dir string) (*gateway.API, []gateway.Stage, error) {
	var c restAPIConfig
	if err := strictDecode(raw, &c); err != nil {
		return nil, nil, fmt.Errorf(": want {name, id, openapi: FILE | body: {...}, stages: [{stageName, variables}]}: %w", err)
	}
	if c.ID != "" && !gateway.IsRestAPIID(c.ID) {
		return nil, nil, fmt.Errorf(": id %q: an API Gateway id is 10 lower-case letters or digits, e.g. %q", c.ID, gateway.NewID())
	}
	if len(c.Stages) == 0 {
		return nil, nil, errors.New(": no stages: an API is callable only once deployed to a stage; add stages: [{stageName: prod}]")
	}
	var stages []gateway.Stage
	seen := map[string]bool{}
	for j, s := range c.Stages {
		if err := checkStage(s.StageName, s.Variables); err != nil {
			return nil, nil, fmt.Errorf(".stages[%d]: %w", j, err)
		}
		if seen[s.StageName] {
			return nil, nil, fmt.Errorf(".stages[%d]: stage %q is listed twice", j, s.StageName)
		}
		seen[s.StageName] = true
		stages = append(stages, gateway.Stage{Name: s.StageName, Variables: s.Variables})
	}
	doc, src, err := c.document(dir)
	if err != nil {
		return nil, nil, fmt.Errorf(": %w", err)
	}
	api, err := gateway.ImportOpenAPI(doc)
	if err != nil {
		return nil, nil, fmt.Errorf(" (%s): invalid OpenAPI document:\n%w", src, indent(err))
	}
	if c.Name != "" {
		api.Name = c.Name
	}
	if api.Name == "" {
		return nil, nil, fmt.Errorf(": give the API a name (or an info.title in %s)", src)
	}
	api.ID = c.ID
	return api, stages, nil
}

// parseAPIKey decodes one apiKeys entry; enabled is false for a key the config disables.
func parseAPIKey(raw []byte) (k gatewayapi.APIKey, enabled bool, err error) {
	var c apiKeyConfig
	if err := strictDecode(raw, &c); err != nil {
		return k, false, fmt.Errorf("want {name, value, stageKeys: [{restApiId, stageName}]}: %w", err)
	}
	if c.Name == "" {
		return k, false, errors.New("an API key needs a name")
	}
	// CreateApiKey requires a given value to be at least 20 characters.
	if len(c.Value) < 20 || len(c.Value) > 128 {
		return k, false, fmt.Errorf("key %q: value must be 20 to 128 characters, as API Gateway requires", c.Name)
	}
	k = gatewayapi.APIKey{Name: c.Name, Value: c.Value, Description: c.Description}
	for j, sk := range c.StageKeys {
		if sk.RestAPIID == "" || sk.StageName == "" {
			return k, false, fmt.Errorf("key %q: stageKeys[%d] needs restApiId and stageName", c.Name, j)
		}
		k.Stages = append(k.Stages, sk.RestAPIID+"/"+sk.StageName)
	}
	return k, c.Enabled == nil || *c.Enabled, nil
}

// document returns the OpenAPI text and where it came from, for messages.
func (c *restAPIConfig) document(dir string) ([]byte, string, error) {
	hasBody := len(c.Body) > 0 && string(c.Body) != "null"
	switch {
	case c.OpenAPI != "" && hasBody:
		return nil, "", errors.New("give either openapi: FILE or body, not both")
	case c.OpenAPI != "":
		path := c.OpenAPI
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		doc, err := os.ReadFile(path)
		if err != nil {
			return nil, "", fmt.Errorf("openapi: %w", err)
		}
		return doc, path, nil
	case hasBody:
		// body is the document itself (a YAML/JSON object), or its text as a string.
		var s string
		if json.Unmarshal(c.Body, &s) == nil {
			return []byte(s), "body", nil
		}
		return c.Body, "body", nil
	}
	return nil, "", errors.New("give the OpenAPI document: openapi: FILE (relative to the config file) or an inline body")
}

func checkStage(name string, vars map[string]string) error {
	if !gateway.ValidStageName(name) {
		return fmt.Errorf("stageName %q: 1 to 128 letters, digits, hyphens and underscores", name)
	}
	if len(vars) > gateway.MaxStageVariables {
		return fmt.Errorf("%d stage variables: API Gateway allows %d", len(vars), gateway.MaxStageVariables)
	}
	for k, v := range vars {
		nameOK, valueOK := gateway.ValidStageVariable(k, v)
		if !nameOK {
			return fmt.Errorf("stage variable %q: names are 1 to 64 letters, digits and underscores", k)
		}
		if !valueOK {
			return fmt.Errorf("stage variable %s=%q: values are 1 to 512 characters of A-Za-z0-9-._~:/?#&=,", k, v)
		}
	}
	return nil
}

// stableID returns want if given (and records it), else the id stored for key, else a
// fresh one that is stored for next time.
func (a *App) stableID(key, want string) (string, error) {
	id := want
	err := a.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(gatewayIDsBucket)
		if err != nil {
			return err
		}
		if id == "" {
			if old := b.Get([]byte(key)); old != nil {
				id = string(old)
				return nil
			}
			id = gateway.NewID()
		}
		return b.Put([]byte(key), []byte(id))
	})
	if err != nil {
		return "", fmt.Errorf("storing the generated id: %w", err)
	}
	return id, nil
}

func strictDecode(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// indent puts each of the import's problems on its own indented line.
func indent(err error) error {
	return errors.New("  " + strings.ReplaceAll(err.Error(), "\n", "\n  "))
}

// InvokeURLs lists, for every deployed API stage, its invoke URL in the path form and in
// the host form ({id}.execute-api.localhost resolves to 127.0.0.1 on most systems). Empty
// before Listen.
func (a *App) InvokeURLs() []string {
	var out []string
	a.eachInvokeURL(func(_ gatewayapi.Deployment, url string) { out = append(out, url) })
	return out
}

func (a *App) logInvokeURLs() {
	a.eachInvokeURL(func(d gatewayapi.Deployment, url string) {
		a.logger.Info("API Gateway invoke URL", "api", d.Name, "id", d.APIID, "stage", d.Stage, "url", url)
	})
}

func (a *App) eachInvokeURL(fn func(gatewayapi.Deployment, string)) {
	if a.ln == nil || a.gw == nil {
		return
	}
	host, port, _ := net.SplitHostPort(a.Addr())
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	for _, d := range a.gw.Deployments() {
		fn(d, fmt.Sprintf("http://%s/restapis/%s/%s/_user_request_/", net.JoinHostPort(host, port), d.APIID, d.Stage))
		fn(d, fmt.Sprintf("http://%s.execute-api.localhost:%s/%s/", d.APIID, port, d.Stage))
	}
}

// warnUndeclaredFunctions says at start which Lambda integrations and authorizers of api
// call a function no functions: entry declares: their requests will be answered 500.
func warnUndeclaredFunctions(log *slog.Logger, reg *functions.Registry, api *gateway.API) {
	for fn, where := range api.Functions() {
		if reg != nil {
			if _, ok := reg.Lookup(fn); ok {
				continue
			}
		}
		log.Warn("gateway: the config's functions: declares no function of this name, so these methods will answer 500",
			"api", api.Name, "id", api.ID, "function", fn, "calledBy", strings.Join(where, ", "))
	}
}

// gatewayFunctions is gatewayapi.FunctionInvoker over the config's functions. A function that
// outlives its own timeout is, as on Lambda, a function error ("Task timed out"), which the
// gateway answers 502; only the integration's timeout is a 504.
func gatewayFunctions(reg *functions.Registry) gatewayapi.FunctionInvoker {
	return func(ctx context.Context, function string, payload []byte) (gatewayapi.FunctionResult, error) {
		if reg == nil {
			return gatewayapi.FunctionResult{}, fmt.Errorf("%w: %s (the config declares no functions)", gatewayapi.ErrFunctionNotFound, function)
		}
		res, err := reg.Invoke(ctx, function, payload)
		switch {
		case err == nil:
			return gatewayapi.FunctionResult{Payload: res.Payload, FunctionError: res.FunctionError}, nil
		case errors.Is(err, functions.ErrNotFound):
			return gatewayapi.FunctionResult{}, fmt.Errorf("%w: %w", gatewayapi.ErrFunctionNotFound, err)
		case errors.Is(err, functions.ErrTimeout) && ctx.Err() == nil:
			msg, _ := json.Marshal("Task timed out: " + err.Error())
			return gatewayapi.FunctionResult{Payload: []byte(`{"errorMessage":` + string(msg) + `,"errorType":"Sandbox.Timedout"}`), FunctionError: "Unhandled"}, nil
		case errors.Is(err, functions.ErrResponseTooLarge):
			msg, _ := json.Marshal(err.Error())
			return gatewayapi.FunctionResult{Payload: []byte(`{"errorMessage":` + string(msg) + `,"errorType":"Function.ResponseSizeTooLarge"}`), FunctionError: "Unhandled"}, nil
		}
		return gatewayapi.FunctionResult{}, err
	}
}
