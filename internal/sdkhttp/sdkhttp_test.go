package sdkhttp

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// sdkBody behaves as the SDK's request body: once closed, Read and WriteTo both give io.EOF.
// Its WriteTo also waits for the close, which puts net/http's trailing read after the answer,
// as a fast server and a slow client goroutine do now and then.
type sdkBody struct {
	r      *bytes.Reader
	mu     sync.Mutex
	closed chan struct{}
	once   sync.Once
}

func (b *sdkBody) Read(p []byte) (int, error) {
	select {
	case <-b.closed:
		return 0, io.EOF
	default:
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.r.Len() == 0 {
		<-b.closed
		return 0, io.EOF
	}
	return b.r.Read(p)
}

func (b *sdkBody) WriteTo(w io.Writer) (int64, error) {
	<-b.closed
	return 0, io.EOF
}

func (b *sdkBody) Close() error {
	b.once.Do(func() { close(b.closed) })
	return nil
}

// TestAnswerOutlivesClosedBody sends a request whose body the caller closes as soon as the
// answer's head arrives, as the SDK does, and reads a large answer after that.
func TestAnswerOutlivesClosedBody(t *testing.T) {
	answer := bytes.Repeat([]byte("x"), 8<<20)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Write(answer)
	}))
	defer srv.Close()
	for _, tc := range []struct {
		name string
		c    Doer
		must bool
	}{{"wrapped", Wrap(&http.Client{Transport: &http.Transport{}}), true}, {"bare", &http.Client{Transport: &http.Transport{}}, false}} {
		t.Run(tc.name, func(t *testing.T) {
			payload := bytes.Repeat([]byte("p"), 64<<10)
			body := &sdkBody{r: bytes.NewReader(payload), closed: make(chan struct{})}
			req, err := http.NewRequest("POST", srv.URL, body)
			if err != nil {
				t.Fatal(err)
			}
			req.ContentLength = int64(len(payload))
			resp, err := tc.c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body.Close()
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			switch {
			case tc.must && (err != nil || len(got) != len(answer)):
				t.Fatalf("read %d of %d bytes: %v", len(got), len(answer), err)
			case !tc.must && err != nil:
				t.Logf("without the wrapper the answer was cut short, as expected: %v", err)
			}
		})
	}
}
