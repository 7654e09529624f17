// Package s3api serves the objectstore engine over S3's REST/XML API, so the AWS SDKs, the AWS
// CLI and anything else that speaks S3 use it unchanged. It resolves path-style and
// virtual-host-style addresses, decodes aws-chunked bodies and verifies every digest a client
// sends, and answers with S3's XML documents and errors.
package s3api

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/localpipe/localpipe/internal/awsjson"
	"github.com/localpipe/localpipe/objectstore"
)

// Options configure a Handler.
type Options struct {
	Logger     *slog.Logger
	Registerer prometheus.Registerer // nil: metrics are not registered
	// Region is the region a bucket is created in when the request names none (no
	// LocationConstraint and no SigV4 scope).
	Region string
	// Fault, when set, is asked before an emulated operation runs (fault injection): a
	// non-empty code is answered as that S3 error with status instead of running it.
	Fault func(ctx context.Context, operation, bucket string) (code, message string, status int)
}

// Handler is the S3 REST endpoint.
type Handler struct {
	store   *objectstore.Store
	logger  *slog.Logger
	region  string
	metrics *metrics
	// completed remembers recent CompleteMultipartUpload answers, for retries.
	completed completedUploads
	fault     func(ctx context.Context, operation, bucket string) (code, message string, status int)
}

// New returns a Handler serving store.
func New(store *objectstore.Store, opts Options) *Handler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	return &Handler{store: store, logger: opts.Logger, region: opts.Region, metrics: newMetrics(opts.Registerer), fault: opts.Fault}
}

// Owner is the canonical user every bucket and object belongs to: localpipe has one account.
const (
	ownerID   = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a"
	ownerName = "localpipe"
)

// maxHeaderBytes is S3's limit on a request's header section; user metadata has its own,
// smaller limit (maxUserMeta).
const (
	maxHeaderBytes = 8 << 10
	maxUserMeta    = 2 << 10
)

// vhostSuffixes are the host names under which the first labels name a bucket
// (`bucket.s3.localhost:4566`), longest first so `.s3.localhost` wins over `.localhost`.
var vhostSuffixes = []string{
	".s3.localhost.localstack.cloud",
	".s3.localhost",
	".localhost",
	".s3.amazonaws.com",
}

// address splits a request into bucket and key, from the Host header (virtual-host style) or
// the path (path style). The key is the path's decoded text as sent, so `a//b`, `../x` and a
// leading `/` survive; it never becomes a file name.
func address(r *http.Request) (bucket, key string) {
	if b := hostBucket(r.Host); b != "" {
		return b, strings.TrimPrefix(r.URL.Path, "/")
	}
	bucket, key, _ = strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	return bucket, key
}

// VirtualHost reports whether r addresses a bucket by its Host header. The edge router asks
// before it claims a path such as /metrics for itself: in virtual-host style that path is an
// object key.
func VirtualHost(r *http.Request) bool { return hostBucket(r.Host) != "" }

// hostBucket is the bucket a virtual-host-style Host names, or "". API Gateway's
// `{apiId}.execute-api.localhost` shares the .localhost suffix and is not a bucket.
func hostBucket(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if strings.Contains(host, ".execute-api.") {
		return ""
	}
	for _, suffix := range vhostSuffixes {
		if b, ok := strings.CutSuffix(host, suffix); ok && b != "" && b != "s3" {
			return b
		}
	}
	// bucket.s3.REGION.amazonaws.com, for users who map AWS host names to localpipe.
	if rest, ok := strings.CutSuffix(host, ".amazonaws.com"); ok {
		if i := strings.LastIndex(rest, ".s3."); i > 0 {
			return rest[:i]
		}
	}
	return ""
}

// newRequestID returns an id in the form S3 uses: 16 upper-case hex digits.
func newRequestID() (id, id2 string) {
	var b [8 + 48]byte
	rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:8])), base64.StdEncoding.EncodeToString(b[8:])
}

// request is one S3 call in flight.
type request struct {
	h      *Handler
	w      http.ResponseWriter
	r      *http.Request
	rid    string
	bucket string
	key    string
	op     string
	status int
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rid, id2 := newRequestID()
	w.Header().Set("X-Amz-Request-Id", rid)
	w.Header().Set("X-Amz-Id-2", id2)
	w.Header().Set("Server", "AmazonS3")
	q := &request{h: h, w: w, r: r, rid: rid}
	q.bucket, q.key = address(r)
	hoistPresignedHeaders(r)
	// Before anything is written, so that a page may read errors too.
	q.corsActual()
	var err *s3Error
	if headerBytes(r) > maxHeaderBytes {
		err = errMsg("RequestHeaderSectionTooLarge", "Your request header section exceeds the maximum allowed size.",
			[2]string{"MaxSizeAllowed", itoa(maxHeaderBytes)})
		err.status = http.StatusBadRequest
	} else if err = presignExpired(r, start); err == nil {
		err = q.dispatch()
	}
	if err != nil {
		q.status = err.statusCode()
		h.writeError(w, r, rid, err)
	}
	if n := awsjson.NoteFrom(r.Context()); n != nil {
		n.Operation = q.op
		if q.bucket != "" {
			// "bucket/key": a bucket name has no slash, so the trace can split it again.
			n.Resource = q.bucket + "/" + q.key
		}
	}
	h.metrics.observe(q, time.Since(start))
}

// signingParams are a presigned URL's own query parameters; every other x-amz-* parameter
// is a header the signer moved into the query (x-amz-meta-*, x-amz-storage-class, …).
var signingParams = map[string]bool{"x-amz-algorithm": true, "x-amz-credential": true, "x-amz-date": true,
	"x-amz-expires": true, "x-amz-signedheaders": true, "x-amz-signature": true, "x-amz-security-token": true}

// hoistPresignedHeaders puts the headers a presigned URL carries in its query back into the
// request's headers, so that a presigned PUT stores its x-amz-meta-* as S3 does. A header
// the client also sent wins.
func hoistPresignedHeaders(r *http.Request) {
	query := r.URL.Query()
	if query.Get("X-Amz-Algorithm") == "" {
		return
	}
	for k, vs := range query {
		lk := strings.ToLower(k)
		if !strings.HasPrefix(lk, "x-amz-") || signingParams[lk] || len(vs) == 0 {
			continue
		}
		if _, ok := r.Header[http.CanonicalHeaderKey(lk)]; !ok {
			r.Header.Set(lk, vs[0])
		}
	}
}

// presignExpired refuses a SigV4 presigned URL used after X-Amz-Date + X-Amz-Expires, as S3
// does. localpipe checks no signatures (it accepts any credentials), but expiry needs no
// secret, and code that hands out short-lived URLs should see them lapse locally too.
func presignExpired(r *http.Request, now time.Time) *s3Error {
	query := r.URL.Query()
	if query.Get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" {
		return nil
	}
	signed, err := time.Parse("20060102T150405Z", query.Get("X-Amz-Date"))
	if err != nil {
		return nil
	}
	secs, err := strconv.ParseInt(query.Get("X-Amz-Expires"), 10, 64)
	if err != nil || secs < 0 {
		return nil
	}
	if secs > 604800 {
		// `aws s3 presign --expires-in` signs any value; S3 refuses more than SigV4's week.
		e := errMsg("AuthorizationQueryParametersError", "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds")
		e.status = http.StatusBadRequest
		return e
	}
	expires := signed.Add(time.Duration(secs) * time.Second)
	if !now.After(expires) {
		return nil
	}
	return errMsg("AccessDenied", "Request has expired",
		[2]string{"X-Amz-Expires", query.Get("X-Amz-Expires")},
		[2]string{"Expires", expires.UTC().Format("2006-01-02T15:04:05Z")},
		[2]string{"ServerTime", now.UTC().Format("2006-01-02T15:04:05Z")})
}

func headerBytes(r *http.Request) int {
	n := len(r.Method) + len(r.RequestURI) + len(r.Host)
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

// dispatch runs the operation the request asks for (see route.go), NotImplemented for an
// operation of the model localpipe does not emulate, and MethodNotAllowed for a method the
// model defines nothing for on this kind of resource.
func (q *request) dispatch() *s3Error {
	r := q.r
	query := r.URL.Query()
	t, resource := targetObject, "OBJECT"
	switch {
	case q.bucket == "":
		t, resource = targetService, "SERVICE"
	case q.key == "":
		t, resource = targetBucket, "BUCKET"
	}
	path := r.URL.Path
	if VirtualHost(r) {
		path = "" // a virtual-host request's path is a key, never one of S3's fixed paths
	}
	op, complete := resolve(r, t, query, path)
	if op == nil {
		if r.Method == http.MethodHead && t == targetService {
			// Not in the model, but health checks send it and always got ListBuckets' headers.
			q.op = "ListBuckets"
			return q.listBuckets()
		}
		return errCode("MethodNotAllowed", [2]string{"Method", r.Method}, [2]string{"ResourceType", resource})
	}
	q.op = op.name
	run := operationHandlers[op.name]
	if run == nil {
		q.h.logger.Info("s3: operation not emulated", "operation", op.name, "method", r.Method, "path", r.URL.Path)
		return errMsg("NotImplemented", "localpipe does not implement the S3 operation "+op.name+".",
			[2]string{"Operation", op.name})
	}
	if !complete {
		name, header := op.missingMember(r, query)
		if header {
			return errMsg("InvalidRequest", "Missing required header for this request: "+name)
		}
		return errMsg("InvalidArgument", "Missing required query parameter for this request: "+name,
			[2]string{"ArgumentName", name})
	}
	if q.h.fault != nil {
		if code, msg, status := q.h.fault(r.Context(), op.name, q.bucket); code != "" {
			e := errMsg(code, msg)
			e.status = status
			return e
		}
	}
	return run(q)
}

// Operations lists the S3 operations localpipe emulates, sorted.
func Operations() []string {
	ops := make([]string, 0, len(operationHandlers))
	for op := range operationHandlers {
		ops = append(ops, op)
	}
	slices.Sort(ops)
	return ops
}

// operationHandlers are the operations localpipe emulates, by model name.
var operationHandlers = map[string]func(*request) *s3Error{
	"ListBuckets":             (*request).listBuckets,
	"HeadBucket":              (*request).headBucket,
	"CreateBucket":            (*request).createBucket,
	"DeleteBucket":            (*request).deleteBucket,
	"GetBucketLocation":       (*request).getBucketLocation,
	"GetBucketVersioning":     (*request).getBucketVersioning,
	"GetBucketAcl":            (*request).getBucketACL,
	"PutBucketAcl":            (*request).putBucketACL,
	"ListObjects":             func(q *request) *s3Error { return q.listObjects(1) },
	"ListObjectsV2":           listObjectsV2,
	"DeleteObjects":           (*request).deleteObjects,
	"ListMultipartUploads":    (*request).listUploads,
	"PutObject":               (*request).putObject,
	"CopyObject":              (*request).copyObject,
	"GetObject":               func(q *request) *s3Error { return q.getObject(false) },
	"HeadObject":              func(q *request) *s3Error { return q.getObject(true) },
	"DeleteObject":            (*request).deleteObject,
	"GetObjectAcl":            (*request).getObjectACL,
	"PutObjectAcl":            (*request).putObjectACL,
	"GetObjectTagging":        (*request).getObjectTagging,
	"PutObjectTagging":        (*request).putObjectTagging,
	"DeleteObjectTagging":     (*request).deleteObjectTagging,
	"CreateMultipartUpload":   (*request).createUpload,
	"UploadPart":              (*request).uploadPart,
	"UploadPartCopy":          (*request).uploadPartCopy,
	"CompleteMultipartUpload": (*request).completeUpload,
	"AbortMultipartUpload":    (*request).abortUpload,
	"ListParts":               (*request).listParts,
	"PreflightRequest":        (*request).preflight,
	"PutBucketVersioning":     (*request).putBucketVersioning,
	"ListObjectVersions":      (*request).listObjectVersions,
	"GetObjectAttributes":     (*request).getObjectAttributes,
	"PostObject":              (*request).postObject,
}

// listObjectsV2 is the ?list-type sub-resource, which S3 knows only as 2.
func listObjectsV2(q *request) *s3Error {
	if lt := q.r.URL.Query().Get("list-type"); lt != "2" {
		return errMsg("InvalidArgument", "Invalid List Type specified in Request",
			[2]string{"ArgumentName", "list-type"}, [2]string{"ArgumentValue", lt})
	}
	return q.listObjects(2)
}

// versionID is the versionId query parameter ("" when absent: the current version).
func (q *request) versionID() string { return q.r.URL.Query().Get("versionId") }

// setVersionHeader answers with the version a call read or made, in a versioned bucket.
func (q *request) setVersionHeader(id string) {
	if id != "" {
		q.w.Header().Set("X-Amz-Version-Id", id)
	}
}

// ok writes a success response with an XML body.
func (q *request) ok(x *xmlw) *s3Error {
	q.status = http.StatusOK
	q.w.Header().Set("Content-Type", "application/xml")
	q.w.Header().Set("Content-Length", itoa(len(x.b)))
	q.w.WriteHeader(http.StatusOK)
	if q.r.Method != http.MethodHead {
		q.w.Write(x.b)
	}
	return nil
}

// empty writes a success response without a body.
func (q *request) empty(status int) *s3Error {
	q.status = status
	if status != http.StatusNoContent && status != http.StatusNotModified {
		q.w.Header().Set("Content-Length", "0")
	}
	q.w.WriteHeader(status)
	return nil
}

func (q *request) fail(err error) *s3Error {
	return q.h.toS3(q.r, q.bucket, q.key, err)
}
