// Package sdkhttp is the HTTP client localpipe gives the AWS SDK for Go v2 where it is the
// SDK's caller (the bench, tests), so that a request is never
// failed after its answer arrived. The SDK closes a request's body as soon as Do returns, and
// its closed body answers net/http's check for bytes past Content-Length with io.EOF as an
// error; when the server answers before that check runs (a fast server on loopback), the
// transport closes the connection under the caller reading the answer ("use of closed network
// connection").
package sdkhttp

import (
	"io"
	"net/http"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// Doer is the interface of the SDKs' Options.HTTPClient.
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// New wraps the SDK's default HTTP client.
func New() Doer { return Wrap(awshttp.NewBuildableClient()) }

// Wrap returns a client that sends each request body through its Read method only, so the
// transport's trailing read of a body the SDK has closed ends at EOF instead of failing.
func Wrap(c Doer) Doer { return readOnly{c} }

type readOnly struct{ c Doer }

func (d readOnly) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		req.Body = readCloser{req.Body}
	}
	return d.c.Do(req)
}

// readCloser hides the body's WriteTo: the SDK's closed body's WriteTo returns io.EOF, which
// io.Copy passes on as an error, while its Read returns io.EOF, which io.Copy takes as the end.
type readCloser struct{ io.ReadCloser }
