package functions

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestEndpointRequest: the endpoint runner's Invoke is the request the AWS SDKs send: the
// REST path with the name escaped as one label, a synchronous invocation of the payload as
// is, signed with SigV4 for lambda in the declaration's region.
func TestEndpointRequest(t *testing.T) {
	type seen struct {
		method, rawPath, query, body string
		header                       http.Header
	}
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, string(b), r.Header.Clone()}
		w.Header().Set("X-Amz-Function-Error", "Handled")
		io.WriteString(w, `{"errorMessage":"no"}`)
	}))
	t.Cleanup(srv.Close)
	n, err := ParseName("arn:aws:lambda:eu-west-1:000000000000:function:my-fn_1:live")
	if err != nil {
		t.Fatal(err)
	}
	res, err := newEndpointRunner(srv.URL+"/", n, srv.Client()).invoke(context.Background(), n, []byte(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Payload) != `{"errorMessage":"no"}` || res.FunctionError != "Handled" {
		t.Errorf("result %q, FunctionError %q", res.Payload, res.FunctionError)
	}
	s := <-got
	if s.method != "POST" || s.rawPath != "/2015-03-31/functions/my-fn_1/invocations" || s.query != "Qualifier=live" || s.body != `{"a":1}` {
		t.Errorf("request %s %s?%s %q", s.method, s.rawPath, s.query, s.body)
	}
	for k, want := range map[string]string{"Content-Type": "application/octet-stream", "X-Amz-Invocation-Type": "RequestResponse"} {
		if s.header.Get(k) != want {
			t.Errorf("%s: %q, want %q", k, s.header.Get(k), want)
		}
	}
	if a := s.header.Get("Authorization"); !strings.HasPrefix(a, "AWS4-HMAC-SHA256 Credential=localpipe/") || !strings.Contains(a, "/eu-west-1/lambda/aws4_request") || s.header.Get("X-Amz-Date") == "" {
		t.Errorf("not signed for lambda in eu-west-1: %q", a)
	}
}

// TestEndpointErrors: an error answer is ErrNotFound for ResourceNotFoundException, however
// the code is given, and otherwise an error naming the code and message.
func TestEndpointErrors(t *testing.T) {
	for _, c := range []struct {
		status        int
		errorType     string
		body          string
		notFound      bool
		wantInMessage string
	}{
		{404, "ResourceNotFoundException", `{"Type":"User","message":"Function not found: f"}`, true, "Function not found: f"},
		{404, "ResourceNotFoundException:http://internal.amazon.com/", `{"Message":"gone"}`, true, "gone"},
		{404, "", `{"__type":"com.amazonaws.lambda#ResourceNotFoundException","message":"x"}`, true, "x"},
		{404, "", `{"code":"ResourceNotFoundException"}`, true, "the endpoint says"},
		{429, "TooManyRequestsException", `{"message":"Rate exceeded"}`, false, "TooManyRequestsException: Rate exceeded"},
		{500, "", `not json`, false, `not with an AWS error: "not json"`},
		{500, "", strings.Repeat("x", 1000), false, `"` + strings.Repeat("x", 200) + `"`}, // cut short
		{502, "", ``, false, "502"},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if c.errorType != "" {
				w.Header().Set("X-Amzn-ErrorType", c.errorType)
			}
			w.WriteHeader(c.status)
			io.WriteString(w, c.body)
		}))
		n := Name{Function: "f"}
		_, err := newEndpointRunner(srv.URL, n, srv.Client()).invoke(context.Background(), n, nil)
		srv.Close()
		if err == nil || errors.Is(err, ErrNotFound) != c.notFound || !strings.Contains(err.Error(), c.wantInMessage) {
			t.Errorf("%d %s %s: %v (not found: %v), want %q in it", c.status, c.errorType, c.body, err, c.notFound, c.wantInMessage)
		}
	}
}
