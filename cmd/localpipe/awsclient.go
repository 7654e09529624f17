package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/localpipe/localpipe/internal/awswire"
)

// The CLI helpers (tail, put, ls, cat) speak the wire protocols themselves instead of using the
// SDK's Kinesis and S3 clients: those clients' package initialisation costs the server binary,
// which links the helpers, about 0.7 MiB of idle RSS and 2 ms of start-up. What the SDK did for
// us and users can notice is kept here: SigV4 signing, the standard retryer's three attempts
// with short backoff, and errors reported as the SDK reported them (code and message).

// awsClient calls one AWS service of the running localpipe.
type awsClient struct {
	service  string // signing name and error prefix: "kinesis" or "s3"
	title    string // the SDK's name for the service in errors: "Kinesis", "S3"
	endpoint string
	region   string
	creds    aws.Credentials
	signer   *v4.Signer
	hc       *http.Client
	// apiError turns a non-2xx answer into the error the service's SDK would report.
	apiError func(status int, h http.Header, body []byte) error
}

// cliRegion is the region requests are signed for, chosen as the SDK's default config does.
func cliRegion() string {
	if r := os.Getenv("AWS_REGION"); r != "" {
		return r
	}
	if r := os.Getenv("AWS_DEFAULT_REGION"); r != "" {
		return r
	}
	return "us-east-1"
}

// cliHTTP is shared by every client of one run, so connections are reused across services.
// Compression is off: the transport would otherwise ask for gzip and decode it, and cat must
// see an object stored with Content-Encoding: gzip as stored (the S3 SDK asks for identity).
var cliHTTP = &http.Client{Transport: func() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DisableCompression = true
	return t
}()}

func (c *client) awsClient(service, title string, apiError func(int, http.Header, []byte) error) *awsClient {
	return &awsClient{
		service: service, title: title, endpoint: c.endpoint, region: cliRegion(),
		// localpipe checks no signature, so any static credentials do.
		creds: aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test", Source: "localpipe"},
		signer: v4.NewSigner(func(o *v4.SignerOptions) {
			// S3 signs the path as sent; other services escape it once more.
			o.DisableURIPathEscaping = service == "s3"
		}),
		hc:       cliHTTP,
		apiError: apiError,
	}
}

// awsRequest is one call, kept whole so that a retry can send it again.
type awsRequest struct {
	op     string // operation name, for errors
	method string
	path   string // escaped
	query  url.Values
	header http.Header
	body   []byte
}

// apiError is an error answer of the service: what describe prints is Code: Message, as it
// did for the SDK's errors.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

// errorCode is the service's error code in err, or "".
func errorCode(err error) string {
	var api *apiError
	if errors.As(err, &api) {
		return api.Code
	}
	return ""
}

// opError names the operation that failed, in the SDK's words, for errors that are not the
// service's own (a malformed answer, say).
type opError struct {
	service, op string
	err         error
}

func (e *opError) Error() string {
	return fmt.Sprintf("operation error %s: %s, %v", e.service, e.op, e.err)
}
func (e *opError) Unwrap() error { return e.err }

// malformedError is an answer the command cannot use. It is never retried: the server would
// answer the same.
type malformedError struct{ err error }

func (e *malformedError) Error() string { return "malformed answer: " + e.err.Error() }
func (e *malformedError) Unwrap() error { return e.err }

// statusError is an error answer that is not the service's (a proxy's page, say): only its
// status says anything, and decides a retry as it does for the SDK.
type statusError struct {
	Status int
	msg    string
}

func (e *statusError) Error() string { return e.msg }

// The standard retryer's limits, as the SDK config the helpers used had them.
const (
	maxAttempts  = 3
	maxBackoff   = 200 * time.Millisecond
	maxErrorBody = 1 << 20
)

// do sends r until an attempt succeeds or may not be retried, and hands a 2xx answer to ok.
// ok reads (and closes) the body, or keeps it open to stream it; an error it returns for a
// broken connection is retried like a failed send.
func (a *awsClient) do(ctx context.Context, r awsRequest, ok func(*http.Response) error) error {
	for attempt := 1; ; attempt++ {
		err := a.attempt(ctx, r, ok)
		if err == nil {
			return nil
		}
		if attempt == maxAttempts || ctx.Err() != nil || !retryable(err) {
			return &opError{a.title, r.op, err}
		}
		// The SDK's jitter once the exponential delay passes the cap: uniform up to it.
		sleep(ctx, time.Duration(rand.Int64N(int64(maxBackoff))))
	}
}

func (a *awsClient) attempt(ctx context.Context, r awsRequest, ok func(*http.Response) error) error {
	u := a.endpoint + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, bytes.NewReader(r.body))
	if err != nil {
		return err
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	sum := sha256.Sum256(r.body)
	hash := hex.EncodeToString(sum[:])
	if a.service == "s3" {
		req.Header.Set("X-Amz-Content-Sha256", hash)
	}
	if err := a.signer.SignHTTP(ctx, a.creds, req, hash, a.service, a.region, time.Now()); err != nil {
		return err
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return ok(resp)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if err != nil {
		return err
	}
	return a.apiError(resp.StatusCode, resp.Header, body)
}

// retryableCodes are the error codes the SDK's standard retryer retries: its transient and
// throttling codes.
var retryableCodes = map[string]bool{
	"RequestTimeout": true, "RequestTimeoutException": true,
	"Throttling": true, "ThrottlingException": true, "ThrottledException": true,
	"RequestThrottledException": true, "TooManyRequestsException": true,
	"ProvisionedThroughputExceededException": true, "TransactionInProgressException": true,
	"RequestLimitExceeded": true, "BandwidthLimitExceeded": true, "LimitExceededException": true,
	"RequestThrottled": true, "SlowDown": true, "PriorRequestNotComplete": true,
	"EC2ThrottledException": true,
}

// retryable follows the standard retryer: server errors (500, 502, 503, 504, and 429),
// throttling and timeout codes, and connections that failed or broke.
func retryable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var bad *malformedError
	if errors.As(err, &bad) {
		return false
	}
	var api *apiError
	if errors.As(err, &api) {
		return retryableStatus(api.Status) || retryableCodes[api.Code]
	}
	var st *statusError
	if errors.As(err, &st) {
		return retryableStatus(st.Status)
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return !dns.IsNotFound && dns.Temporary()
	}
	if s := err.Error(); strings.Contains(s, "connection reset") || strings.Contains(s, "use of closed network connection") ||
		strings.Contains(s, "connection refused") {
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var timeout interface{ Timeout() bool }
	return errors.As(err, &timeout) && timeout.Timeout() || errors.Is(err, io.ErrUnexpectedEOF)
}

func retryableStatus(s int) bool {
	switch s {
	case 500, 502, 503, 504, 429:
		return true
	}
	return false
}

// jsonError reads an AWS JSON protocol error answer as the SDK does (awswire.JSONError),
// with "UnknownError" for a code or message none gives. A body that is not JSON is not an
// AWS answer.
func jsonError(status int, h http.Header, body []byte) error {
	code, msg, ok := awswire.JSONError(h, body)
	if !ok {
		return &statusError{status, fmt.Sprintf("HTTP %d with an answer that is not an AWS JSON error: %s", status, snippet(body))}
	}
	if code == "" {
		code = "UnknownError"
	}
	if msg == "" {
		msg = "UnknownError"
	}
	return &apiError{Status: status, Code: code, Message: msg}
}

// xmlError reads an S3 error answer as the SDK does: <Error><Code/><Message/></Error>, and
// when the body names neither (a HEAD, a proxy's page), the HTTP status text.
func xmlError(status int, _ http.Header, body []byte) error {
	var e struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	// Any root element will do. When the body is not XML the status speaks, as it does for
	// the SDK when the body is empty (the SDK fails on a malformed one; the status says more).
	if err := xml.Unmarshal(body, &e); err != nil {
		e.Code, e.Message = "", ""
	}
	if e.Code == "" && e.Message == "" {
		text := http.StatusText(status)
		e.Code, e.Message = strings.ReplaceAll(text, " ", ""), text
	}
	if e.Code == "" {
		e.Code = "UnknownError"
	}
	if e.Message == "" {
		e.Message = "UnknownError"
	}
	return &apiError{Status: status, Code: e.Code, Message: e.Message}
}

// snippet is the start of a body quoted for an error message.
func snippet(b []byte) string {
	const n = 80
	if len(b) > n {
		return fmt.Sprintf("%q…", b[:n])
	}
	return fmt.Sprintf("%q", b)
}

// maxAnswer bounds the answer bodies the helpers read whole (listings, GetRecords, whose
// answers AWS caps at 10 MB of data), so a wrong endpoint cannot make them hold gigabytes.
const maxAnswer = 64 << 20

// parseAnswer returns the ok function of do that reads a 2xx answer whole, closes it and
// parses it into *out; an answer parse refuses, or one over maxAnswer, is malformed.
func parseAnswer[T any](out *T, parse func([]byte) (T, error)) func(*http.Response) error {
	return func(resp *http.Response) error {
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
		if err != nil {
			return err
		}
		if len(b) > maxAnswer {
			return &malformedError{fmt.Errorf("answer larger than %d bytes", maxAnswer)}
		}
		if *out, err = parse(b); err != nil {
			return &malformedError{err}
		}
		return nil
	}
}
