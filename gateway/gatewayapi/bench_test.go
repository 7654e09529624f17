package gatewayapi

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/localpipe/localpipe/gateway"
)

// constInvoker answers every call at once, so the benchmarks measure the gateway alone.
type constInvoker struct{}

var putRecordReply = []byte(`{"SequenceNumber":"49559409944537880850133345460169886593573102115167928386","ShardId":"shardId-000000000004"}`)

func (constInvoker) Invoke(_ context.Context, _, _ string, _ []byte, _ string) (int, string, []byte) {
	return 200, "application/x-amz-json-1.1", putRecordReply
}

const benchBody = `{"message":"hello from the benchmark","n":42,"tags":["a","b"]}`

// benchGateway is the seed's method: POST /stream, API key, body validator, the tutorial's
// template and a default-only integration response with a CORS header.
func benchGateway(b *testing.B) http.Handler {
	doc := docJSON(M{"/stream": M{"post": op(M{"type": "aws", "httpMethod": "POST",
		"uri":               "arn:aws:apigateway:us-east-1:kinesis:action/PutRecord",
		"requestParameters": M{"integration.request.header.Content-Type": "'application/x-amz-json-1.1'"},
		"requestTemplates":  M{"application/json": "{\n  \"StreamName\": \"my-data-stream\",\n  \"Data\": \"$util.base64Encode($input.body)\",\n  \"PartitionKey\": \"$context.requestId\"\n}"},
		"responses":         M{"default": M{"statusCode": "200", "responseParameters": M{"method.response.header.Access-Control-Allow-Origin": "'*'"}}},
	}, M{"security": []any{M{"api_key": []any{}}}, "x-amazon-apigateway-request-validator": "body",
		"requestBody": M{"content": M{"application/json": M{"schema": M{"$ref": "#/components/schemas/Event"}}}}})}},
		M{"components": M{
			"securitySchemes": M{"api_key": M{"type": "apiKey", "name": "x-api-key", "in": "header"}},
			"schemas":         M{"Event": M{"type": "object", "required": []any{"message"}, "properties": M{"message": M{"type": "string"}}}},
		}, "x-amazon-apigateway-request-validators": M{"body": M{"validateRequestBody": true}}})
	api, err := gateway.ImportOpenAPI([]byte(doc))
	if err != nil {
		b.Fatal(err)
	}
	api.ID = "benchapi"
	s := NewServer(Options{Invoker: constInvoker{}, Registerer: prometheus.NewRegistry()})
	if err := s.Deploy(api, []gateway.Stage{{Name: "prod"}}); err != nil {
		b.Fatal(err)
	}
	if err := s.AddAPIKey(APIKey{Value: goodKey}); err != nil {
		b.Fatal(err)
	}
	return s
}

// bareHandler is the baseline: what any handler in front of the same Invoker must do (read
// the body, call, write the answer) and nothing API Gateway adds.
func bareHandler() http.Handler {
	inv := constInvoker{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		status, ct, resp := inv.Invoke(r.Context(), "kinesis", "PutRecord", body, "us-east-1")
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(status)
		_, _ = w.Write(resp)
	})
}

// putRecordRequest returns a request to reuse and the function that runs it once.
func putRecordRequest(b *testing.B, h http.Handler) func() {
	body := strings.NewReader(benchBody)
	r := httptest.NewRequest("POST", "http://localhost:4566/_aws/execute-api/benchapi/prod/stream", body)
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-Api-Key", goodKey)
	r.RemoteAddr = "127.0.0.1:50000"
	return func() {
		body.Reset(benchBody)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

func runPutRecord(b *testing.B, h http.Handler) {
	b.ReportAllocs()
	one := putRecordRequest(b, h)
	for b.Loop() {
		one()
	}
}

func BenchmarkServeHTTPPutRecord(b *testing.B) { runPutRecord(b, benchGateway(b)) }

func BenchmarkBareHandlerPutRecord(b *testing.B) { runPutRecord(b, bareHandler()) }

// BenchmarkPutRecordRatio runs the gateway and the bare handler in turns, so both see the
// same machine load, and reports gateway time over bare time ("x-bare"), the figure to quote.
// Its ns/op and allocs/op are for one of each.
func BenchmarkPutRecordRatio(b *testing.B) {
	b.ReportAllocs()
	gw := putRecordRequest(b, benchGateway(b))
	bare := putRecordRequest(b, bareHandler())
	var tg, tb time.Duration
	n := 0
	for b.Loop() {
		t0 := time.Now()
		gw()
		t1 := time.Now()
		bare()
		tb += time.Since(t1)
		tg += t1.Sub(t0)
		n++
	}
	b.ReportMetric(float64(tg)/float64(tb), "x-bare")
	b.ReportMetric(float64(tg.Nanoseconds())/float64(n), "gateway-ns/op")
	b.ReportMetric(float64(tb.Nanoseconds())/float64(n), "bare-ns/op")
}

// BenchmarkServeHTTPLambdaProxy is an AWS_PROXY method behind a TOKEN authorizer whose policy
// is cached, with a function that answers at once: the cost of building the proxy event,
// checking the cached policy and mapping the proxy response.
func BenchmarkServeHTTPLambdaProxy(b *testing.B) {
	doc := docJSON(M{"/items/{id}": M{"post": op(M{"type": "aws_proxy", "httpMethod": "POST",
		"uri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/f/invocations"}, M{"security": []any{M{"tok": []any{}}}})}},
		M{"components": M{"securitySchemes": M{"tok": M{"type": "apiKey", "name": "Authorization", "in": "header",
			"x-amazon-apigateway-authorizer": M{"type": "token", "authorizerUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/auth/invocations"}}}}})
	api, err := gateway.ImportOpenAPI([]byte(doc))
	if err != nil {
		b.Fatal(err)
	}
	api.ID = "benchapi"
	allow := []byte(`{"principalId":"p","policyDocument":{"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"*"}]},"context":{"k":"v"}}`)
	answer := []byte(`{"statusCode":200,"headers":{"Content-Type":"application/json"},"body":"{\"ok\":true}"}`)
	s := NewServer(Options{Registerer: prometheus.NewRegistry(), Functions: func(_ context.Context, fn string, _ []byte) (FunctionResult, error) {
		if fn == "auth" {
			return FunctionResult{Payload: allow}, nil
		}
		return FunctionResult{Payload: answer}, nil
	}})
	if err := s.Deploy(api, []gateway.Stage{{Name: "prod"}}); err != nil {
		b.Fatal(err)
	}
	body := strings.NewReader(benchBody)
	r := httptest.NewRequest("POST", "http://localhost:4566/_aws/execute-api/benchapi/prod/items/42?x=1", body)
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "token")
	r.RemoteAddr = "127.0.0.1:50000"
	b.ReportAllocs()
	for b.Loop() {
		body.Reset(benchBody)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
