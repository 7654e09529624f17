package awsjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
)

// Operation is one operation of a JSON 1.1 service: given the service's per-request state C
// and the request body, it answers with a JSON body or an AWS error.
type Operation[C any] func(c C, body []byte) ([]byte, *Error)

// Run runs the operation named action from a service's table, as both the HTTP side
// (Service.Invoke) and in-process callers (API Gateway's AWS integrations, the --config
// bootstrap) do, so every path answers alike: an unknown operation and an empty body fail as
// on AWS, and a panic is logged (as "<service>: panic serving request") and answered as
// InternalFailure instead of taking the server down. newCall makes the per-request state; it
// is called only once the request has got past those checks.
func Run[C any](ops map[string]Operation[C], action string, body []byte, logger *slog.Logger, service string, newCall func() C) (status int, resp []byte) {
	defer func() {
		if p := recover(); p != nil {
			logger.Error(service+": panic serving request", "action", action, "panic", p, "stack", string(debug.Stack()))
			status, resp = http.StatusInternalServerError, ErrorBody("InternalFailure", "")
		}
	}()
	fn, ok := ops[action]
	if !ok {
		return http.StatusBadRequest, ErrorBody("UnknownOperationException", "")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return http.StatusBadRequest, ErrorBody("SerializationException", "")
	}
	out, aerr := fn(newCall(), body)
	if aerr != nil {
		return aerr.Status, aerr.Body()
	}
	return http.StatusOK, out
}

// Marshal encodes an operation's output. The output shapes are localpipe's own, so a failure
// is a bug; it is answered as AWS answers its own, with a bare InternalFailure.
func Marshal(v any) ([]byte, *Error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, &Error{Status: http.StatusInternalServerError, Type: "InternalFailure"}
	}
	return b, nil
}

// ErrorOrInternal is the last case of a service's engine-error mapping: an error that wraps an
// AWS error (one an operation returned through an engine callback) is that error; anything
// else is a fault of localpipe's, logged with msg, args and the error, and answered as AWS
// answers its own faults, with an InternalFailure that carries no message.
func ErrorOrInternal(err error, logger *slog.Logger, msg string, args ...any) *Error {
	var ae *Error
	if errors.As(err, &ae) {
		return ae
	}
	logger.Error(msg, append(args, "err", err)...)
	return &Error{Status: http.StatusInternalServerError, Type: "InternalFailure"}
}

// OperationNames lists a service's operations, sorted (for messages that name the valid ones).
func OperationNames[C any](ops map[string]Operation[C]) []string {
	names := make([]string, 0, len(ops))
	for a := range ops {
		names = append(names, a)
	}
	slices.Sort(names)
	return names
}
