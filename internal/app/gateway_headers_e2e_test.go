package app_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
)

// TestGatewayHeaderNamesAsSent: the server the app starts hands templates header names as
// the client wrote them, Host included (a GitHub webhook's X-GitHub-Event), which needs
// gateway.RawHeaderListener and gateway.ConnContext wired in Listen.
func TestGatewayHeaderNamesAsSent(t *testing.T) {
	s := startServer(t, "", map[string]string{
		"localpipe.yaml": "restApis:\n  - {name: hooks, id: hooksapi01, openapi: api.yaml, stages: [{stageName: prod}]}\n",
		"api.yaml": `openapi: 3.0.1
info: {title: hooks, version: "1"}
paths:
  /hook:
    post:
      responses: {"200": {description: ok}}
      x-amazon-apigateway-integration:
        type: mock
        requestTemplates: {application/json: '{"statusCode": 200}'}
        responses:
          default:
            statusCode: "200"
            responseTemplates: {application/json: "$input.params().header.get('X-GitHub-Event')|$input.params().header.Host|$input.params().header.keySet()"}
`,
	})
	conn, err := net.Dial("tcp", s.a.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "POST /restapis/hooksapi01/prod/_user_request_/hook HTTP/1.1\r\nHost: hooks.localhost\r\n"+
		"X-GitHub-Event: push\r\ncontent-type: application/json\r\nContent-Length: 2\r\n\r\n{}"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if want := "push|hooks.localhost|[Content-Length, Host, X-GitHub-Event, content-type]"; resp.StatusCode != 200 || string(b) != want {
		t.Errorf("%d %s\nwant %s", resp.StatusCode, b, want)
	}
}
