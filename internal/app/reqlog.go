package app

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/localpipe/localpipe/gateway/gatewayapi"
	"github.com/localpipe/localpipe/internal/awsjson"
)

// errorPrefix is how much of an error answer the request log keeps to find its code in:
// every error shape localpipe writes names the code within its first few hundred bytes.
const errorPrefix = 512

// logWriter notes what the request log reports of an answer: its status, and the first
// bytes of an error body. A successful body is passed through untouched.
type logWriter struct {
	http.ResponseWriter
	status int
	errBuf []byte
}

func (w *logWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *logWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.status >= 400 && len(w.errBuf) < errorPrefix {
		w.errBuf = append(w.errBuf, p[:min(len(p), errorPrefix-len(w.errBuf))]...)
	}
	return w.ResponseWriter.Write(p)
}

// ReadFrom keeps the sendfile path for S3 GETs, which copy a file into the writer.
func (w *logWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok && w.status < 400 {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{w}, r)
}

func (w *logWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *logWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logged serves r through serve and writes the request's log line.
func (a *App) logged(svc service, w http.ResponseWriter, r *http.Request, serve func(http.ResponseWriter, *http.Request)) {
	start := time.Now()
	// The note and the writer live as long as the request: one allocation for both.
	l := &struct {
		note awsjson.Note
		lw   logWriter
	}{lw: logWriter{ResponseWriter: w}}
	note, lw := &l.note, &l.lw
	r = r.WithContext(awsjson.WithNote(r.Context(), note))
	serve(lw, r)

	level := slog.LevelInfo
	if svc == svcAdmin && (r.URL.Path == "/_localpipe/health" || r.URL.Path == "/metrics" || isConsolePath(r.URL.Path)) {
		level = slog.LevelDebug // polled by healthchecks, scrapers and the web console
	}
	if !a.logger.Enabled(r.Context(), level) {
		return
	}
	status := lw.status
	if status == 0 {
		status = http.StatusOK
	}
	h := w.Header()
	attrs := make([]slog.Attr, 0, 12)
	attrs = append(attrs, slog.String("service", svc.String()))
	switch svc {
	case svcKinesis, svcFirehose, svcUnknownJSON:
		op := r.Header.Get("X-Amz-Target")
		if _, after, ok := strings.Cut(op, "."); ok {
			op = after
		}
		attrs = append(attrs, slog.String("operation", truncate(op, 100)))
	case svcGatewayInvoke:
		apiID, stage, path, _ := gatewayapi.InvokeTarget(r)
		attrs = append(attrs, slog.String("apiId", truncate(apiID, 100)), slog.String("stage", truncate(stage, 100)),
			slog.String("method", r.Method), slog.String("path", truncate(path, 200)))
		if note.Resource != "" {
			attrs = append(attrs, slog.String("resourcePath", note.Resource))
		}
	case svcS3:
		if note.Operation != "" { // else the edge refused it before S3 resolved an operation
			attrs = append(attrs, slog.String("operation", note.Operation))
			break
		}
		fallthrough
	default:
		attrs = append(attrs, slog.String("method", r.Method), slog.String("path", truncate(r.URL.Path, 200)))
	}
	attrs = append(attrs, slog.Int("status", status))
	if status >= 400 { // a success has no code to look for, through every header
		if code := errorCode(h, lw.errBuf); code != "" {
			attrs = append(attrs, slog.String("error", code))
		}
	}
	if note.Reason != "" {
		attrs = append(attrs, slog.String("reason", note.Reason))
	}
	if id := header(h, "X-Amzn-Requestid"); id != "" {
		attrs = append(attrs, slog.String("requestId", id))
	} else if id := header(h, "X-Amz-Request-Id"); id != "" {
		attrs = append(attrs, slog.String("requestId", id))
	}
	attrs = append(attrs, slog.Duration("duration", time.Since(start)))
	a.logger.LogAttrs(context.Background(), level, "request", attrs...)
}

// errorCode finds the AWS error code of an answer: API Gateway's x-amzn-ErrorType header,
// JSON 1.1's __type (without its namespace), S3's <Code>, or the element name of the terse
// XML the JSON services answer in before they know the content type.
func errorCode(h http.Header, body []byte) string {
	if t := header(h, "X-Amzn-Errortype"); t != "" {
		t, _, _ = strings.Cut(t, ":")
		return t
	}
	body = bytes.TrimSpace(body)
	switch {
	case len(body) == 0:
	case body[0]&0xe0 == 0xa0: // a CBOR map: Kinesis's errors to CBOR clients
		return awsjson.CBORErrorType(body)
	case body[0] == '{':
		const key = `"__type":"`
		if i := bytes.Index(body, []byte(key)); i >= 0 {
			v := body[i+len(key):]
			if j := bytes.IndexByte(v, '"'); j >= 0 {
				v = v[:j]
				if k := bytes.LastIndexByte(v, '#'); k >= 0 {
					v = v[k+1:]
				}
				return string(v)
			}
		}
	case body[0] == '<':
		if i := bytes.Index(body, []byte("<Code>")); i >= 0 {
			v := body[i+len("<Code>"):]
			if j := bytes.IndexByte(v, '<'); j >= 0 {
				return string(v[:j])
			}
		}
		// S3's <Error> without its <Code> in reach names no code.
		if name, _, ok := bytes.Cut(body[1:], []byte(">")); ok && !bytes.ContainsAny(name, "?! ") && string(name) != "Error" {
			return string(bytes.TrimSuffix(name, []byte("/")))
		}
	}
	return ""
}

// header is h's value for name however the name is spelled: API Gateway answers with header
// names as AWS spells them (x-amzn-RequestId), not in Go's canonical form.
func header(h http.Header, name string) string {
	if v := h.Get(name); v != "" {
		return v
	}
	for k, v := range h {
		if len(v) > 0 && strings.EqualFold(k, name) {
			return v[0]
		}
	}
	return ""
}
