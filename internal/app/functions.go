package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/localpipe/localpipe/firehose"
	"github.com/localpipe/localpipe/internal/functions"
)

// loadFunctions reads the config file (unless the config carries its resources) and builds
// the registry of its functions on a; it returns the resources for the rest of Open.
func loadFunctions(a *App, cfg Config) (*Resources, error) {
	res := cfg.Resources
	if res == nil && cfg.ConfigFile != "" {
		var err error
		if res, err = LoadResources(cfg.ConfigFile); err != nil {
			return nil, err
		}
	}
	var specs []functions.Spec
	dir := ""
	if res != nil {
		var err error
		if specs, err = res.functionSpecs(); err != nil {
			return nil, &ConfigError{fmt.Errorf("--config %w", err)}
		}
		dir = res.Dir
	}
	reg, err := functions.New(specs, functions.Options{Dir: dir, Logger: a.logger})
	if err != nil {
		return nil, &ConfigError{fmt.Errorf("--config %w", err)}
	}
	a.functions = reg
	for _, s := range specs {
		where := s.URL
		switch {
		case len(s.Command) > 0:
			where = "command " + strings.Join(s.Command, " ")
		case s.Endpoint != "":
			where = "Lambda endpoint " + s.Endpoint
		}
		a.logger.Info("function declared", "name", s.Name, "runs", where)
	}
	return res, nil
}

// Functions is the registry of the config's functions, for the gateway's Lambda integrations
// and authorizers.
func (a *App) Functions() *functions.Registry { return a.functions }

// transformer gives Firehose the functions registry as its Transformer, mapping the
// registry's errors onto the ones Firehose tells apart.
type transformer struct{ r *functions.Registry }

func (t transformer) Transform(ctx context.Context, function string, event []byte) (firehose.TransformResult, error) {
	res, err := t.r.Invoke(ctx, function, event)
	switch {
	case err == nil:
		return firehose.TransformResult{Payload: res.Payload, FunctionError: res.FunctionError}, nil
	case errors.Is(err, functions.ErrNotFound):
		return firehose.TransformResult{}, fmt.Errorf("%w: %w", firehose.ErrFunctionNotFound, err)
	case errors.Is(err, functions.ErrTimeout):
		return firehose.TransformResult{}, fmt.Errorf("%w: %w", firehose.ErrFunctionTimeout, err)
	case errors.Is(err, functions.ErrResponseTooLarge):
		return firehose.TransformResult{}, fmt.Errorf("%w: %w", firehose.ErrResponseTooLarge, err)
	}
	return firehose.TransformResult{}, err
}
