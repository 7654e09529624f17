package awsjson

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Service is the HTTP side of one JSON 1.1 service. Its ServeHTTP checks a request in the
// order AWS's front end does (method, body, content type, JSON, operation, authentication;
// the order decides which error a doubly-wrong request gets) and hands the rest to Invoke.
type Service struct {
	TargetPrefix string                   // "Kinesis_20131202."
	Known        func(action string) bool // whether the operation exists in the service model
	// Invoke runs an operation on a body known to be non-empty; it answers with a status and
	// a JSON body.
	Invoke  func(ctx context.Context, action string, body []byte, region string) (status int, resp []byte)
	MaxBody int64 // bodies above this get 413 (AWS answers that before anything else)
	// Intercept, when set, runs in place of Invoke for HTTP and in-process calls alike and
	// decides whether and how to call it (fault injection). It sees only requests that got
	// past the HTTP prelude, as a fault on AWS would.
	Intercept Interceptor
	// CBOR, when set, lets the service take application/x-amz-cbor-1.1 requests: they are
	// transcoded to JSON before the checks below and their answers back to CBOR.
	CBOR *CBOR
}

// InvokeFunc is the signature of Service.Invoke.
type InvokeFunc = func(ctx context.Context, action string, body []byte, region string) (status int, resp []byte)

// Interceptor wraps a service's Invoke: it may answer itself, delay, or call next with the
// same or a changed body and change the answer.
type Interceptor func(ctx context.Context, action string, body []byte, region string, next InvokeFunc) (status int, resp []byte)

type checkOnlyKey struct{}

// CheckOnly marks a call to be checked as the operation checks it (input, limits, the
// resource it names) and answered 200 with an empty object instead of being carried out.
// An interceptor that answers for part of a batch uses it so that a request that is itself
// invalid gets the error it would get anyway. Only the operations that look for it honour
// it (PutRecords, PutRecordBatch).
func CheckOnly(ctx context.Context) context.Context {
	return context.WithValue(ctx, checkOnlyKey{}, true)
}

// IsCheckOnly reports whether the call is only to be checked (see CheckOnly).
func IsCheckOnly(ctx context.Context) bool { return ctx.Value(checkOnlyKey{}) != nil }

func (s *Service) invoke(ctx context.Context, action string, body []byte, region string) (int, []byte) {
	if s.Intercept != nil {
		return s.Intercept(ctx, action, body, region, s.Invoke)
	}
	return s.Invoke(ctx, action, body, region)
}

// CBORContentType is the binary protocol the Java SDKs use for Kinesis by default.
const CBORContentType = "application/x-amz-cbor-1.1"

// cborMessage tells Java users of a service without CBOR (Firehose, whose model and SDKs
// speak JSON only) how to switch their SDK to JSON.
const cborMessage = "localpipe speaks the AWS JSON 1.1 protocol only, not CBOR: disable CBOR in the Java SDK " +
	"(SDK v1 and KCL 1.x: environment AWS_CBOR_DISABLE=true or -Dcom.amazonaws.sdk.disableCbor=true; " +
	"SDK v2 and KCL 2.x: AWS_CBOR_ENABLED=false or -Daws.cborEnabled=false)"

func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > s.MaxBody {
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		return
	}
	body, err := ReadBody(r, s.MaxBody)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if int64(len(body)) > s.MaxBody {
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		return
	}
	reqID := NewRequestID()
	SetHeaders(w.Header(), reqID)
	respond := func(status int, b []byte) {
		writeAnswer(w, status, b)
	}
	// Before the content type is known to be JSON, AWS answers in a terse XML.
	xml := func(status int, typ, msg string) {
		delete(w.Header(), "Content-Type")
		if msg == "" {
			respond(status, []byte("<"+typ+"/>\n"))
			return
		}
		respond(status, []byte("<"+typ+">\n  <Message>"+msg+"</Message>\n</"+typ+">\n"))
	}
	if r.Method != http.MethodPost {
		xml(http.StatusForbidden, "AccessDeniedException", "Unable to determine service/operation name to be authorized")
		return
	}
	ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	ct = strings.TrimSpace(ct)
	action, targetOK := Target(r.Header, s.TargetPrefix)
	if ct == CBORContentType {
		// Answered in CBOR, which is what a CBOR client parses errors as, so the Java SDK
		// shows the message instead of failing to read the body.
		w.Header().Set("Content-Type", CBORContentType)
		if s.CBOR == nil {
			respond(http.StatusBadRequest, cborError("SerializationException", cborMessage))
			return
		}
		respond = s.cborResponder(w, action)
		if len(body) > 0 {
			j, err := s.CBOR.RequestJSON(action, body)
			if err != nil {
				respond(http.StatusBadRequest, ErrorBody("SerializationException", ""))
				return
			}
			body = j
		}
		ct = ContentType
	}
	known := targetOK && s.Known(action)
	if len(bytes.TrimSpace(body)) == 0 {
		if known {
			respond(http.StatusBadRequest, ErrorBody("SerializationException", ""))
		} else {
			respond(http.StatusBadRequest, ErrorBody("UnknownOperationException", ""))
		}
		return
	}
	switch ct {
	case ContentType:
	case "application/json":
		// AWS answers plain JSON with a 200 wrapping a namespaced error, and goes no further.
		typ, key := "com.amazon.coral.service#UnknownOperationException", "message"
		if !Valid(body) {
			typ, key = "com.amazon.coral.service#SerializationException", "Message"
		}
		w.Header().Set("Content-Type", "application/json")
		respond(http.StatusOK, []byte(`{"Output":{"__type":"`+typ+`","`+key+`":null},"Version":"1.0"}`))
		return
	default:
		if r.Header.Get("X-Amz-Target") == "" || !strings.Contains(r.Header.Get("X-Amz-Target"), ".") {
			xml(http.StatusForbidden, "AccessDeniedException", "Unable to determine service/operation name to be authorized")
		} else {
			xml(http.StatusNotFound, "UnknownOperationException", "")
		}
		return
	}
	if !known {
		if !Valid(body) {
			respond(http.StatusBadRequest, ErrorBody("SerializationException", ""))
		} else {
			respond(http.StatusBadRequest, ErrorBody("UnknownOperationException", ""))
		}
		return
	}
	if e := checkAuth(r); e != nil {
		if !Valid(body) {
			// AWS parses the body before it looks at the signature.
			e = serialization("")
		}
		respond(e.Status, e.Body())
		return
	}
	status, out := s.invoke(r.Context(), action, body, Region(r))
	respond(status, out)
}

// Call runs an operation in-process (API Gateway's AWS integrations, the --config bootstrap)
// through the same Invoke as an HTTP request, so both get the same decoding, validation and
// errors; it is each service's exported Invoke. An empty region means DefaultRegion.
func (s *Service) Call(ctx context.Context, action string, body []byte, region string) (status int, contentType string, resp []byte) {
	if region == "" {
		region = DefaultRegion
	}
	status, resp = s.invoke(ctx, action, body, region)
	return status, ContentType, resp
}

// cborResponder answers with the JSON answer transcoded to CBOR.
func (s *Service) cborResponder(w http.ResponseWriter, action string) func(int, []byte) {
	return func(status int, b []byte) {
		out, err := s.CBOR.ResponseCBOR(action, status, b)
		if err != nil {
			// Every answer is JSON that the handler built; one that does not transcode is a
			// bug, answered as AWS answers its own.
			status, out = http.StatusInternalServerError, cborError("InternalFailure", "")
		}
		writeAnswer(w, status, out)
	}
}

// writeAnswer sends a whole answer with its Content-Length, as AWS does, rather than letting
// net/http chunk any answer larger than its write buffer (GetRecords answers run to megabytes).
func writeAnswer(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

// checkAuth checks that the request is signed in form; localpipe verifies no signatures, so
// any credentials work, but an unsigned request fails as it would on AWS.
func checkAuth(r *http.Request) *Error {
	auth := r.Header.Get("Authorization")
	var query url.Values // parsed only if there is a query: SDK requests have none
	if r.URL.RawQuery != "" {
		query = r.URL.Query()
	}
	_, presigned := query["X-Amz-Algorithm"]
	switch {
	case auth != "" && presigned:
		return NewError("InvalidSignatureException", "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.")
	case auth == "" && !presigned:
		return NewError("MissingAuthenticationTokenException", "Missing Authentication Token")
	case auth != "":
		// AWS also demands an X-Amz-Date or Date header; localpipe does not, so hand-written
		// clients and benchmarks need not compute one.
		// The parameters follow the algorithm, separated by commas and spaces; a parameter
		// named twice counts as its last. Read in place: every SDK request comes this way.
		names := [...]string{"Credential", "Signature", "SignedHeaders"}
		var have [len(names)]bool
		for rest, first := auth, true; rest != ""; {
			f := rest
			if i := strings.IndexAny(rest, ", "); i >= 0 {
				f, rest = rest[:i], rest[i+1:]
			} else {
				rest = ""
			}
			if f == "" {
				continue
			}
			if first {
				first = false
				continue
			}
			k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
			for i, name := range names {
				if k == name {
					have[i] = v != ""
				}
			}
		}
		msg := ""
		for i, p := range names {
			if !have[i] {
				msg += "Authorization header requires '" + p + "' parameter. "
			}
		}
		if msg != "" {
			return NewError("IncompleteSignatureException", msg+"Authorization="+auth)
		}
	default:
		msg := ""
		for _, p := range []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders", "X-Amz-Date"} {
			if query.Get(p) == "" {
				msg += "AWS query-string parameters must include '" + p + "'. "
			}
		}
		if msg != "" {
			return NewError("IncompleteSignatureException", msg+"Re-examine the query-string parameters.")
		}
	}
	return nil
}

// cborError encodes {"__type": typ, "message": msg} in CBOR, the error shape of the JSON
// protocols in the encoding a CBOR client parses errors in.
func cborError(typ, msg string) []byte {
	b, _ := cborEnc.Marshal(map[string]string{"__type": typ, "message": msg})
	return b
}

// ReadBody reads a request body of at most limit bytes (one more tells the caller it was
// over). A declared length is read into one buffer of that size: io.ReadAll would grow its
// buffer by doubling, holding up to twice the body while a large request arrives, and
// allocate several times for a small one.
func ReadBody(r *http.Request, limit int64) ([]byte, error) {
	if n := r.ContentLength; n >= 0 && n <= limit {
		body := make([]byte, n)
		if _, err := io.ReadFull(r.Body, body); err != nil {
			return nil, err
		}
		return body, nil
	}
	return io.ReadAll(io.LimitReader(r.Body, limit+1))
}
