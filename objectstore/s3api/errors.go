package s3api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/localpipe/localpipe/objectstore"
)

// codes is S3's table of error codes: HTTP status and default message. Messages are AWS's
// wording, including its inconsistent trailing periods.
var codes = map[string]struct {
	status int
	msg    string
}{
	"AccessForbidden":                         {403, "CORSResponse: This CORS request is not allowed."},
	"AccessDenied":                            {403, "Access Denied"},
	"BadDigest":                               {400, "The Content-MD5 you specified did not match what we received."},
	"BucketAlreadyOwnedByYou":                 {409, "Your previous request to create the named bucket succeeded and you already own it."},
	"BucketNotEmpty":                          {409, "The bucket you tried to delete is not empty"},
	"EntityTooLarge":                          {400, "Your proposed upload exceeds the maximum allowed size"},
	"EntityTooSmall":                          {400, "Your proposed upload is smaller than the minimum allowed object size."},
	"IncompleteBody":                          {400, "You did not provide the number of bytes specified by the Content-Length HTTP header"},
	"InternalError":                           {500, "We encountered an internal error. Please try again."},
	"InvalidArgument":                         {400, "Invalid Argument"},
	"InvalidBucketName":                       {400, "The specified bucket is not valid."},
	"InvalidDigest":                           {400, "The Content-MD5 you specified is not valid."},
	"InvalidPart":                             {400, "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."},
	"InvalidPartOrder":                        {400, "The list of parts was not in ascending order. Parts must be ordered by part number."},
	"InvalidRange":                            {416, "The requested range is not satisfiable"},
	"InvalidRequest":                          {400, "Invalid Request"},
	"KeyTooLongError":                         {400, "Your key is too long"},
	"MalformedACLError":                       {400, "The XML you provided was not well-formed or did not validate against our published schema"},
	"MalformedPolicy":                         {400, "Policies must be valid JSON and the first byte must be '{'"},
	"MissingSecurityHeader":                   {400, "Your request was missing a required header"},
	"BadRequest":                              {400, "Bad Request"},
	"IllegalLocationConstraintException":      {400, "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to."},
	"InvalidLocationConstraint":               {400, "The specified location-constraint is not valid"},
	"InvalidStorageClass":                     {400, "The storage class you specified is not valid"},
	"InvalidRedirectLocation":                 {400, "The website redirect location must have a prefix of 'http://' or 'https://' or '/'."},
	"InvalidTag":                              {400, "The tag provided was not a valid tag."},
	"NoSuchPublicAccessBlockConfiguration":    {404, "The public access block configuration was not found"},
	"OwnershipControlsNotFoundError":          {404, "The bucket ownership controls were not found"},
	"ObjectLockConfigurationNotFoundError":    {404, "Object Lock configuration does not exist for this bucket"},
	"MalformedXML":                            {400, "The XML you provided was not well-formed or did not validate against our published schema"},
	"MetadataTooLarge":                        {400, "Your metadata headers exceed the maximum allowed metadata size"},
	"MethodNotAllowed":                        {405, "The specified method is not allowed against this resource."},
	"MissingContentLength":                    {411, "You must provide the Content-Length HTTP header."},
	"NoSuchBucket":                            {404, "The specified bucket does not exist"},
	"NoSuchBucketPolicy":                      {404, "The bucket policy does not exist"},
	"NoSuchCORSConfiguration":                 {404, "The CORS configuration does not exist"},
	"NoSuchKey":                               {404, "The specified key does not exist."},
	"NoSuchLifecycleConfiguration":            {404, "The lifecycle configuration does not exist"},
	"NoSuchTagSet":                            {404, "The TagSet does not exist"},
	"NoSuchUpload":                            {404, "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."},
	"NoSuchVersion":                           {404, "The specified version does not exist."},
	"IllegalVersioningConfigurationException": {400, "The Versioning element must be specified"},
	"NoSuchWebsiteConfiguration":              {404, "The specified bucket does not have a website configuration"},
	"NotImplemented":                          {501, "A header you provided implies functionality that is not implemented"},
	"PreconditionFailed":                      {412, "At least one of the pre-conditions you specified did not hold"},
	"ServerSideEncryptionConfigurationNotFoundError": {404, "The server side encryption configuration was not found"},
	"XAmzContentSHA256Mismatch":                      {400, "The provided 'x-amz-content-sha256' header does not match what was computed."},
}

func errCode(code string, extra ...[2]string) *s3Error {
	return &s3Error{code: code, extra: extra}
}

func errMsg(code, msg string, extra ...[2]string) *s3Error {
	return &s3Error{code: code, msg: msg, extra: extra}
}

// toS3 is the one place engine errors become wire errors. Anything unmapped is an
// InternalError and a log line, never a Go error string sent to the client.
func (h *Handler) toS3(r *http.Request, bucket, key string, err error) *s3Error {
	var (
		se *s3Error
		dm *objectstore.DeleteMarkerError
	)
	switch {
	case errors.As(err, &se):
		return se
	case errors.Is(err, objectstore.ErrNoSuchBucket):
		return errCode("NoSuchBucket", [2]string{"BucketName", bucket})
	case errors.Is(err, objectstore.ErrNoSuchKey):
		return errCode("NoSuchKey", [2]string{"Key", key})
	case errors.Is(err, objectstore.ErrBucketExists):
		return errCode("BucketAlreadyOwnedByYou", [2]string{"BucketName", bucket})
	case errors.Is(err, objectstore.ErrBucketNotEmpty):
		return errCode("BucketNotEmpty", [2]string{"BucketName", bucket})
	case errors.Is(err, objectstore.ErrInvalidBucket):
		return errCode("InvalidBucketName", [2]string{"BucketName", bucket})
	case errors.Is(err, objectstore.ErrKeyTooLong):
		return errCode("KeyTooLongError", [2]string{"Size", itoa(len(key))}, [2]string{"MaxSizeAllowed", "1024"})
	case errors.Is(err, objectstore.ErrBadDigest):
		return errCode("BadDigest")
	case errors.Is(err, objectstore.ErrNoSuchUpload):
		return errCode("NoSuchUpload", [2]string{"UploadId", r.URL.Query().Get("uploadId")})
	case errors.Is(err, objectstore.ErrInvalidPart):
		return errCode("InvalidPart")
	case errors.Is(err, objectstore.ErrInvalidPartOrder):
		return errCode("InvalidPartOrder")
	case errors.Is(err, objectstore.ErrEntityTooSmall):
		return errCode("EntityTooSmall")
	case errors.Is(err, objectstore.ErrInvalidPartNumber):
		return errMsg("InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive",
			[2]string{"ArgumentName", "partNumber"}, [2]string{"ArgumentValue", r.URL.Query().Get("partNumber")})
	case errors.Is(err, objectstore.ErrInvalidVersionID):
		return errMsg("InvalidArgument", "Invalid version id specified",
			[2]string{"ArgumentName", "versionId"}, [2]string{"ArgumentValue", bounded(r.URL.Query().Get("versionId"))})
	case errors.Is(err, objectstore.ErrNoSuchVersion):
		return errCode("NoSuchVersion", [2]string{"Key", key}, [2]string{"VersionId", bounded(r.URL.Query().Get("versionId"))})
	case errors.As(err, &dm):
		hdr := [][2]string{{"X-Amz-Delete-Marker", "true"}, {"X-Amz-Version-Id", dm.VersionID}}
		if dm.Current {
			e := errCode("NoSuchKey", [2]string{"Key", key})
			e.header = hdr
			return e
		}
		// Reading a delete marker by its id is a method the marker does not allow.
		e := errCode("MethodNotAllowed", [2]string{"Method", r.Method}, [2]string{"ResourceType", "DeleteMarker"})
		e.header = append(hdr, [2]string{"Last-Modified", httpTime(dm.LastModified)})
		return e
	case errors.Is(err, objectstore.ErrNoSpace):
		// S3's retryable answer: every SDK backs off and retries a 503 SlowDown, and a
		// write succeeds again once space is freed. The disk and its path stay unnamed.
		h.logger.Warn("s3: write refused, the data dir's disk is full", "method", r.Method, "path", r.URL.Path, "err", err)
		// Not in the codes table: the in-flight bound answers SlowDown too, and one entry
		// added from each side would collide.
		return &s3Error{code: "SlowDown", msg: "Please reduce your request rate.", status: http.StatusServiceUnavailable}
	case errors.Is(err, context.Canceled):
		return errMsg("RequestTimeout", "Your socket connection to the server was not read from or written to within the timeout period.")
	}
	if be := bodyError(err); be != err {
		return be.(*s3Error)
	}
	h.logger.Error("s3: internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	return errCode("InternalError")
}

func (e *s3Error) statusCode() int {
	if e.status != 0 {
		return e.status
	}
	if c, ok := codes[e.code]; ok {
		return c.status
	}
	if e.code == "RequestTimeout" {
		return 400
	}
	return 500
}

func (e *s3Error) message() string {
	if e.msg != "" {
		return e.msg
	}
	return codes[e.code].msg
}

// writeError writes an S3 XML error. HEAD responses carry no body, as S3 sends none.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, rid string, e *s3Error) {
	status := e.statusCode()
	if status >= 500 {
		h.logger.Warn("s3 request failed", "method", r.Method, "path", r.URL.Path, "code", e.code)
	} else if h.logger.Enabled(r.Context(), slog.LevelDebug) {
		h.logger.Debug("s3 request failed", "method", r.Method, "path", r.URL.Path, "code", e.code, "message", e.message())
	}
	for _, kv := range e.header {
		w.Header().Set(kv[0], kv[1])
	}
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return
	}
	var x xmlw
	x.header()
	x.open("Error")
	x.elem("Code", e.code)
	x.message("Message", e.message())
	for _, kv := range e.extra {
		x.elem(kv[0], kv[1])
	}
	if !hasExtra(e, "BucketName") && !hasExtra(e, "Key") {
		x.elem("Resource", r.URL.Path)
	}
	x.elem("RequestId", rid)
	x.elem("HostId", w.Header().Get("X-Amz-Id-2"))
	x.close("Error")
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", itoa(len(x.b)))
	w.WriteHeader(status)
	w.Write(x.b)
}

func hasExtra(e *s3Error, name string) bool {
	for _, kv := range e.extra {
		if kv[0] == name {
			return true
		}
	}
	return false
}
