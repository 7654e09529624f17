package app

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/localpipe/localpipe/internal/awsjson"
)

func TestParseFaultsRejectsBadDeclarations(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string // substrings of the error
	}{
		{"not a list", `{"service":"kinesis","error":"InternalFailure"}`, []string{"want a JSON list"}},
		{"not JSON", `[`, []string{"want a JSON list"}},
		{"unknown field", `[{"service":"kinesis","error":"InternalFailure","errror":"x"}]`, []string{"faults[0]", "errror"}},
		{"unknown service", `[{"service":"sqs","error":"InternalFailure"}]`, []string{`service "sqs"`, "firehose, kinesis, s3"}},
		{"no service", `[{"error":"InternalFailure"}]`, []string{`service ""`}},
		{"apigateway operation without a method", `[{"service":"apigateway","operation":"/stream","error":"THROTTLED"}]`,
			[]string{"METHOD /resource/path", "ANY, DELETE"}},
		{"apigateway operation without a path", `[{"service":"apigateway","operation":"POST stream","error":"THROTTLED"}]`,
			[]string{"METHOD /resource/path"}},
		{"apigateway code", `[{"service":"apigateway","error":"ThrottlingException"}]`,
			[]string{"API_CONFIGURATION_ERROR", "INTEGRATION_TIMEOUT", "THROTTLED"}},
		{"unknown operation", `[{"service":"kinesis","operation":"PutRecordz","error":"InternalFailure"}]`,
			[]string{`"PutRecordz"`, "PutRecord, PutRecords"}},
		{"operation of another service", `[{"service":"s3","operation":"PutRecord","error":"SlowDown"}]`,
			[]string{`"PutRecord" is not a s3 operation`, "PutObject"}},
		{"unknown error code", `[{"service":"kinesis","error":"SlowDown"}]`,
			[]string{`error "SlowDown" is not a kinesis error code`, "ProvisionedThroughputExceededException"}},
		{"s3 code", `[{"service":"s3","error":"Throttled"}]`, []string{"SlowDown", "InternalError"}},
		{"no effect", `[{"service":"kinesis"}]`, []string{"no effect"}},
		{"bad latency", `[{"service":"kinesis","latency":"soon"}]`, []string{`latency "soon"`}},
		{"negative latency", `[{"service":"kinesis","latency":"-1s"}]`, []string{"positive duration"}},
		{"probability above 1", `[{"service":"kinesis","error":"InternalFailure","probability":1.5}]`, []string{"from 0 to 1"}},
		{"probability and count", `[{"service":"kinesis","error":"InternalFailure","probability":0.5,"count":2}]`, []string{"not both"}},
		{"zero count", `[{"service":"kinesis","error":"InternalFailure","count":0}]`, []string{"1 or more"}},
		{"seed alone", `[{"service":"kinesis","error":"InternalFailure","seed":3}]`, []string{"seed needs probability"}},
		{"partial on PutRecord", `[{"service":"kinesis","operation":"PutRecord","entries":"partial"}]`, []string{"PutRecords"}},
		{"partial on s3", `[{"service":"s3","operation":"PutObject","entries":"partial"}]`, []string{"partial applies to"}},
		{"partial without an operation", `[{"service":"kinesis","entries":"partial"}]`, []string{"not kinesis (every operation)", "give service and operation"}},
		{"partial on firehose PutRecord", `[{"service":"firehose","operation":"PutRecord","entries":"partial"}]`, []string{"not firehose PutRecord:"}},
		{"partial with a whole-call code", `[{"service":"kinesis","operation":"PutRecords","entries":"partial","error":"ResourceNotFoundException"}]`,
			[]string{`error "ResourceNotFoundException"`, "ProvisionedThroughputExceededException, InternalFailure"}},
		{"partial firehose with a Kinesis code", `[{"service":"firehose","operation":"PutRecordBatch","entries":"partial","error":"ThrottlingException"}]`,
			[]string{"ServiceUnavailableException, InternalFailure"}},
		{"entries all", `[{"service":"kinesis","operation":"PutRecords","entries":"all"}]`, []string{`entries "all"`}},
		{"second entry bad", `[{"service":"s3","error":"SlowDown"},{"service":"s3","error":"Nope"}]`, []string{"faults[1]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseFaults([]byte(tc.in))
			if err == nil {
				t.Fatalf("accepted %s", tc.in)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestParseFaultsAcceptsEachForm(t *testing.T) {
	specs, err := ParseFaults([]byte(`[
		{"service":"kinesis","operation":"PutRecord","error":"ProvisionedThroughputExceededException","count":2},
		{"service":"kinesis","operation":"PutRecords","entries":"partial","resource":"events"},
		{"service":"firehose","operation":"PutRecordBatch","entries":"partial","error":"InternalFailure"},
		{"service":"s3","operation":"PutObject","error":"SlowDown","latency":"10ms","probability":0.5,"seed":7}
	]`))
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) != 4 || *specs[0].Count != 2 || specs[3].Latency != "10ms" {
		t.Fatalf("%+v", specs)
	}
}

func FuzzParseFaults(f *testing.F) {
	for _, s := range []string{
		`[{"service":"kinesis","operation":"PutRecord","error":"ProvisionedThroughputExceededException","count":2}]`,
		`[{"service":"s3","error":"SlowDown","probability":0.3,"seed":1}]`,
		`[{"service":"kinesis","operation":"PutRecords","entries":"partial"}]`,
		`[{"service":"firehose","operation":"PutRecordBatch","entries":"partial","error":"ResourceNotFoundException"}]`,
		`[{"service":"firehose","latency":"1ms"}]`,
		`[{"service":"apigateway","operation":"ANY /things/{id}","resource":"abc","error":"THROTTLED"}]`,
		`[{"service":"kinesis","probability":NaN}]`,
		`[{}]`, `[]`, `null`, `[1]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		specs, err := ParseFaults(raw)
		if err != nil {
			return
		}
		// What the parser accepts the registry activates.
		if _, err := newFaultRegistry(nil).add(specs); err != nil {
			t.Fatalf("parsed but not added: %v", err)
		}
	})
}

// fires records which of n matching calls a fresh registry with specs lets through.
func fires(t *testing.T, specs string, n int) string {
	t.Helper()
	parsed, err := ParseFaults([]byte(specs))
	if err != nil {
		t.Fatal(err)
	}
	f := newFaultRegistry(nil)
	if _, err := f.add(parsed); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for range n {
		if f.match("kinesis", "PutRecord", is("s")) != nil {
			b.WriteByte('x')
		} else {
			b.WriteByte('.')
		}
	}
	return b.String()
}

func TestFaultProbabilityIsReproducibleWithASeed(t *testing.T) {
	const spec = `[{"service":"kinesis","error":"InternalFailure","probability":0.3,"seed":42}]`
	first, again := fires(t, spec, 200), fires(t, spec, 200)
	if first != again {
		t.Fatalf("same seed, different runs:\n%s\n%s", first, again)
	}
	if n := strings.Count(first, "x"); n < 30 || n > 90 {
		t.Errorf("%d of 200 calls failed at probability 0.3: %s", n, first)
	}
	other := fires(t, `[{"service":"kinesis","error":"InternalFailure","probability":0.3,"seed":43}]`, 200)
	if other == first {
		t.Error("another seed drew the same calls")
	}
}

func TestFaultCountAndMatching(t *testing.T) {
	if got := fires(t, `[{"service":"kinesis","error":"InternalFailure","count":2}]`, 5); got != "xx..." {
		t.Errorf("count 2: %s", got)
	}
	if got := fires(t, `[{"service":"kinesis","operation":"PutRecords","error":"InternalFailure"}]`, 3); got != "..." {
		t.Errorf("another operation: %s", got)
	}
	if got := fires(t, `[{"service":"kinesis","resource":"other","error":"InternalFailure"}]`, 3); got != "..." {
		t.Errorf("another stream: %s", got)
	}
	if got := fires(t, `[{"service":"s3","error":"SlowDown"}]`, 3); got != "..." {
		t.Errorf("another service: %s", got)
	}
	if got := fires(t, `[{"service":"kinesis","resource":"s","latency":"1ms"}]`, 3); got != "xxx" {
		t.Errorf("every call: %s", got)
	}
}

// TestJSONNames: the search that spares a call to another stream decoding its body never
// decides differently from decoding it.
func TestJSONNames(t *testing.T) {
	for _, c := range []struct {
		body, want string
		names      bool
	}{
		{`{"StreamName":"bench","Data":"eA=="}`, "bench", true},
		{`{"StreamName":"bench","Data":"eA=="}`, "other", false},
		{`{"StreamName":"bench2"}`, "bench", false},                   // occurs, as a prefix of another name
		{`{"StreamName":"a","PartitionKey":"bench"}`, "bench", false}, // occurs, in another member
		{`{"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/bench"}`, "bench", true},
		{`{"DeliveryStreamName":"bench"}`, "bench", true},
		{`{"StreamName":"\u0062ench"}`, "bench", true}, // escaped: only decoding finds it
		{`{"StreamName":"\u0062ench"}`, "other", false},
		{`not json`, "bench", false},
	} {
		names := jsonNames([]byte(c.body))
		if got := names(c.want); got != c.names {
			t.Errorf("%s names %s: %v, want %v", c.body, c.want, got, c.names)
		}
		if again := names(c.want); again != c.names {
			t.Errorf("%s names %s: %v the second time", c.body, c.want, again)
		}
	}
}

// FuzzJSONNames holds the search in the body to what decoding it decides.
func FuzzJSONNames(f *testing.F) {
	for _, s := range [][2]string{
		{`{"StreamName":"bench"}`, "bench"}, {`{"StreamName":"bench2"}`, "bench"},
		{`{"StreamName":"\u0062ench"}`, "bench"}, {`{"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c"}`, "s"},
		{"{\"StreamName\":\"\xff\"}", "\ufffd"}, {`{"DeliveryStreamName":"d","StreamName":"s"}`, "d"}, {`[`, "x"},
	} {
		f.Add([]byte(s[0]), s[1])
	}
	f.Fuzz(func(t *testing.T, body []byte, want string) {
		if got, decoded := jsonNames(body)(want), jsonResource(body) == want; got != decoded {
			t.Fatalf("%q names %q: %v, decoding says %v", body, want, got, decoded)
		}
	})
}

func TestFaultLatencyWaitsBeforeRunning(t *testing.T) {
	f := newFaultRegistry(nil)
	var slept []time.Duration
	f.sleep = func(ctx context.Context, d time.Duration) error { slept = append(slept, d); return nil }
	if _, err := f.add([]FaultSpec{{Service: "kinesis", Latency: "250ms"}}); err != nil {
		t.Fatal(err)
	}
	ran := false
	status, _ := f.interceptor("kinesis")(context.Background(), "PutRecord", []byte(`{}`), "", func(context.Context, string, []byte, string) (int, []byte) {
		ran = true
		return 200, []byte(`{}`)
	})
	if status != 200 || !ran || len(slept) != 1 || slept[0] != 250*time.Millisecond {
		t.Fatalf("status %d ran %v slept %v", status, ran, slept)
	}
}

func TestJSONResource(t *testing.T) {
	for in, want := range map[string]string{
		`{"StreamName":"a"}`: "a",
		`{"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/b"}`:                "b",
		`{"ConsumerARN":"arn:aws:kinesis:us-east-1:000000000000:stream/c/consumer/x:1"}`: "c",
		`{"DeliveryStreamName":"d"}`: "d",
		`not json`:                   "",
	} {
		if got := jsonResource([]byte(in)); got != want {
			t.Errorf("%s: %q, want %q", in, got, want)
		}
	}
}

// BenchmarkFaultInterceptor isolates the registry's cost per call from HTTP's noise: a bare
// Invoke, the hook with no faults, and the hook with a fault on another operation or on
// another stream (which makes it read the stream name from the body).
func BenchmarkFaultInterceptor(b *testing.B) {
	body := []byte(`{"StreamName":"bench","PartitionKey":"k","Data":"aGVsbG8gd29ybGQ="}`)
	next := func(context.Context, string, []byte, string) (int, []byte) { return 200, nil }
	ctx := context.Background()
	for _, bc := range []struct {
		name   string
		faults []FaultSpec
	}{
		{"none", nil},
		{"otherOperation", []FaultSpec{{Service: "kinesis", Operation: "PutRecords", Error: "InternalFailure"}}},
		{"otherStream", []FaultSpec{{Service: "kinesis", Operation: "PutRecord", Resource: "other", Error: "InternalFailure"}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			f := newFaultRegistry(nil)
			if _, err := f.add(bc.faults); err != nil {
				b.Fatal(err)
			}
			hook := f.interceptor("kinesis")
			b.ReportAllocs()
			for range b.N {
				hook(ctx, "PutRecord", body, "", next)
			}
		})
	}
	b.Run("bare", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			next(ctx, "PutRecord", body, "")
		}
	})
}

// FuzzPartialBatch runs a partial fault (count 1) over the real Kinesis and Firehose handlers
// with any body. Whatever the whole request's check answers when it refuses is the answer,
// and the fault is not spent; a request it accepts gets one result per entry in order, the
// first, third, … failed and the others stored, and the failed count to match.
func FuzzPartialBatch(f *testing.F) {
	cfg := DefaultConfig()
	cfg.Ephemeral, cfg.Listen, cfg.LogRequests = true, "127.0.0.1:0", false
	cfg.Resources = &Resources{
		Streams:         []json.RawMessage{json.RawMessage(`{"StreamName":"s","ShardCount":2}`)},
		Buckets:         []json.RawMessage{json.RawMessage(`{"Bucket":"out"}`)},
		DeliveryStreams: []json.RawMessage{json.RawMessage(`{"DeliveryStreamName":"d","ExtendedS3DestinationConfiguration":{"BucketARN":"arn:aws:s3:::out","RoleARN":"arn:aws:iam::000000000000:role/r"}}`)},
	}
	a, err := Open(cfg, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { a.Shutdown(context.Background()) })
	for _, s := range []string{
		`{"StreamName":"s","Records":[{"PartitionKey":"a","Data":"eA=="},{"PartitionKey":"b","Data":"eQ=="},{"PartitionKey":"c","Data":"eg=="}]}`,
		`{"StreamName":"s","Records":[{"PartitionKey":"a","Data":"eA=="}]}`,
		`{"StreamName":"s","Records":[{"Data":"eA=="},{"PartitionKey":"b","Data":"eQ=="}]}`,
		`{"StreamName":"nope","Records":[{"PartitionKey":"a","Data":"eA=="}]}`,
		`{"StreamName":"s","Records":[]}`, `{"StreamName":"s","Records":{}}`, `{"StreamName":"s"}`,
		`{"DeliveryStreamName":"d","Records":[{"Data":"eA=="},{"Data":"eQ=="}]}`,
		`{"DeliveryStreamName":"d","Records":[{"Data":"!!"}]}`, `{"DeliveryStreamName":"nope","Records":[{"Data":"eA=="}]}`,
		`{`, `null`, `[]`, ``, `{"StreamName":"s","Records":[{"PartitionKey":"a","Data":"eA=="}],"Records":[]}`,
	} {
		f.Add([]byte(s))
	}
	services := []struct {
		name, action, list, count string
		invoke                    func(context.Context, string, []byte, string) (int, string, []byte)
	}{
		{"kinesis", "PutRecords", "Records", "FailedRecordCount", a.kinesis.Invoke},
		{"firehose", "PutRecordBatch", "RequestResponses", "FailedPutCount", a.firehoseAPI.Invoke},
	}
	one := int64(1)
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, svc := range services {
			f := newFaultRegistry(nil)
			if _, err := f.add([]FaultSpec{{Service: svc.name, Operation: svc.action, Entries: "partial", Count: &one}}); err != nil {
				t.Fatal(err)
			}
			// The app declares no fault, so its own interceptor lets every call through.
			next := func(ctx context.Context, action string, body []byte, region string) (int, []byte) {
				status, _, resp := svc.invoke(ctx, action, body, region)
				return status, resp
			}
			checked, checkResp := next(awsjson.CheckOnly(context.Background()), svc.action, body, "")
			status, resp := f.interceptor(svc.name)(context.Background(), svc.action, body, "", next)
			if fired := f.list()[0].Fired; fired != map[bool]int64{true: 1, false: 0}[checked == http.StatusOK] {
				t.Fatalf("%q (checked %d): the fault fired %d times", body, checked, fired)
			}
			if checked != http.StatusOK {
				if status != checked || string(resp) != string(checkResp) {
					t.Fatalf("%s refused %q with %d %s, the partial fault answered %d %s", svc.action, body, checked, checkResp, status, resp)
				}
				continue
			}
			var req struct{ Records []json.RawMessage }
			var out map[string]json.RawMessage
			var entries []struct{ ErrorCode, SequenceNumber, RecordId *string }
			var failed int
			if json.Unmarshal(body, &req) != nil || status != http.StatusOK || json.Unmarshal(resp, &out) != nil ||
				json.Unmarshal(out[svc.list], &entries) != nil || json.Unmarshal(out[svc.count], &failed) != nil {
				t.Fatalf("%s accepted %q, the partial fault answered %d %s", svc.action, body, status, resp)
			}
			if len(entries) != len(req.Records) || failed != (len(req.Records)+1)/2 {
				t.Fatalf("%q: %d results, %d failed, for %d records", body, len(entries), failed, len(req.Records))
			}
			for i, e := range entries {
				if (e.ErrorCode != nil) != (i%2 == 0) || (e.ErrorCode == nil) != (e.SequenceNumber != nil || e.RecordId != nil) {
					t.Fatalf("%q: entry %d is %s", body, i, resp)
				}
			}
		}
	})
}
