package functions

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/localpipe/localpipe/internal/awswire"
)

// unhandled is the FunctionError Lambda reports for an error the runtime caught.
const unhandled = "Unhandled"

// readCapped reads at most MaxResponse+1 bytes, enough for Invoke to tell an answer over the
// limit.
func readCapped(r io.Reader) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r, MaxResponse+1))
}

type urlRunner struct {
	url    string
	client *http.Client
}

func (u *urlRunner) invoke(ctx context.Context, _ Name, payload []byte) (Result, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.url, bytes.NewReader(payload))
	if err != nil {
		return Result{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := u.client.Do(req)
	if err != nil {
		return Result{}, err
	}
	defer resp.Body.Close()
	body, err := readCapped(resp.Body)
	if err != nil {
		return Result{}, err
	}
	res := Result{Payload: body}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		res.FunctionError = unhandled
		if len(bytes.TrimSpace(body)) == 0 {
			res.Payload = errorPayload(fmt.Sprintf("%s answered %s", u.url, resp.Status), "HTTPError")
		}
	}
	return res, nil
}

type commandRunner struct {
	argv []string
	dir  string
	env  map[string]string
	log  *slog.Logger
}

func (c *commandRunner) invoke(ctx context.Context, n Name, payload []byte) (Result, error) {
	cmd := exec.CommandContext(ctx, c.argv[0], c.argv[1:]...)
	cmd.Dir = c.dir
	if len(c.env) > 0 {
		cmd.Env = os.Environ()
		for k, v := range c.env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	cmd.Stdin = bytes.NewReader(payload)
	var out capWriter
	cmd.Stdout = &out
	lines := &lineLogger{log: c.log, function: n.String()}
	cmd.Stderr = lines
	// A child the command started may hold stdout open after the command is killed; do not
	// wait for it longer than this.
	cmd.WaitDelay = time.Second
	killGroup(cmd)
	werr := cmd.Run()
	lines.flush()
	if ctx.Err() != nil {
		return Result{}, context.Cause(ctx)
	}
	var exit *exec.ExitError
	if errors.As(werr, &exit) {
		c.log.Warn("function command failed", "function", n.String(), "err", werr)
		res := Result{Payload: out.buf, FunctionError: unhandled}
		if len(bytes.TrimSpace(out.buf)) == 0 {
			res.Payload = errorPayload(fmt.Sprintf("%s: %s", c.argv[0], exit), "Runtime.ExitError")
		}
		return res, nil
	}
	if werr != nil {
		return Result{}, fmt.Errorf("run %s: %w", c.argv[0], werr)
	}
	return Result{Payload: out.buf}, nil
}

// capWriter keeps the first MaxResponse+1 bytes and swallows the rest, so a command that
// writes too much is still drained and Invoke can report the answer as too large.
type capWriter struct{ buf []byte }

func (w *capWriter) Write(p []byte) (int, error) {
	if room := MaxResponse + 1 - len(w.buf); room > 0 {
		w.buf = append(w.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// lineLogger logs a command's stderr one line at a time, as Lambda sends a function's
// output to its log group.
type lineLogger struct {
	log      *slog.Logger
	function string
	partial  []byte
}

const maxLogLine = 16 << 10

func (l *lineLogger) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			l.partial = append(l.partial, p...)
			if len(l.partial) >= maxLogLine {
				l.flush()
			}
			break
		}
		l.partial = append(l.partial, p[:i]...)
		l.flush()
		p = p[i+1:]
	}
	return n, nil
}

func (l *lineLogger) flush() {
	if len(l.partial) == 0 {
		return
	}
	l.log.Info("function stderr", "function", l.function, "line", strings.TrimRight(string(l.partial), "\r"))
	l.partial = l.partial[:0]
}

// errorPayload is the body Lambda's runtime gives for an error the function did not describe.
func errorPayload(msg, typ string) []byte {
	var b strings.Builder
	b.WriteString(`{"errorMessage":`)
	b.WriteString(quoteJSON(msg))
	b.WriteString(`,"errorType":`)
	b.WriteString(quoteJSON(typ))
	b.WriteString(`}`)
	return []byte(b.String())
}

func quoteJSON(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// endpointRunner calls a function through a Lambda Invoke API (sam local start-lambda,
// LocalStack, another emulator): the one REST call, signed with SigV4 as the AWS SDKs sign
// it. It is written out rather than made through the SDK's Lambda client, whose package
// alone adds a millisecond of initialisation (its endpoint rules compile regular
// expressions) to every start of the binary, for one operation.
type endpointRunner struct {
	url    string // the invocations URL, with the qualifier when the declaration gives one
	region string
	client *http.Client
	signer *v4.Signer
}

// Local Invoke APIs accept any signature; requests are signed with fixed keys so that
// nothing is read from the developer's AWS profile.
var endpointCreds = aws.Credentials{AccessKeyID: "localpipe", SecretAccessKey: "localpipe", Source: "localpipe"}

// newEndpointRunner calls the declared function n at endpoint. The function is called by its
// bare name, with a qualifier only when the declaration gives one, whatever ARN the caller
// used: sam local start-lambda knows functions by their template name and refuses query
// parameters such as Qualifier.
func newEndpointRunner(endpoint string, n Name, hc *http.Client) *endpointRunner {
	region := n.Region
	if region == "" {
		region = "us-east-1"
	}
	u := strings.TrimRight(endpoint, "/") + "/2015-03-31/functions/" + awswire.EscapePath(n.Function, false) + "/invocations"
	if n.Qualifier != "" {
		u += "?Qualifier=" + url.QueryEscape(n.Qualifier)
	}
	return &endpointRunner{url: u, region: region, client: hc, signer: v4.NewSigner()}
}

func (e *endpointRunner) invoke(ctx context.Context, _ Name, payload []byte) (Result, error) {
	res, err := e.call(ctx, payload)
	if err != nil && ctx.Err() != nil {
		return Result{}, context.Cause(ctx)
	}
	return res, err
}

func (e *endpointRunner) call(ctx context.Context, payload []byte) (Result, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, bytes.NewReader(payload))
	if err != nil {
		return Result{}, err
	}
	// As the SDK's Invoke sends them: a synchronous call of a blob payload.
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("X-Amz-Invocation-Type", "RequestResponse")
	sum := sha256.Sum256(payload)
	if err := e.signer.SignHTTP(ctx, endpointCreds, req, hex.EncodeToString(sum[:]), "lambda", e.region, time.Now()); err != nil {
		return Result{}, err
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return Result{}, err
	}
	defer resp.Body.Close()
	body, err := readCapped(resp.Body)
	if err != nil {
		return Result{}, err
	}
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return Result{Payload: body, FunctionError: resp.Header.Get("X-Amz-Function-Error")}, nil
	}
	code, msg, ok := awswire.JSONError(resp.Header, body)
	switch {
	case !ok:
		return Result{}, fmt.Errorf("Invoke at %s answered %s, not with an AWS error: %.200q", e.url, resp.Status, body)
	case code == "ResourceNotFoundException":
		return Result{}, fmt.Errorf("%w: the endpoint says: %.500s", ErrNotFound, msg)
	case code == "":
		code = "an error"
	}
	return Result{}, fmt.Errorf("Invoke at %s answered %s with %s: %.500s", e.url, resp.Status, code, msg)
}
