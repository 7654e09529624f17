package s3api

import "net/http"

// edgeStatus are the statuses of the errors the edge router raises for S3 requests.
var edgeStatus = map[string]int{
	"AccessDenied":   http.StatusForbidden,
	"SlowDown":       http.StatusServiceUnavailable,
	"RequestTimeout": http.StatusBadRequest,
}

// WriteEdgeError answers, in S3's XML error shape and with S3's request-id headers, a
// request the edge router refused before or instead of this handler: AccessDenied for a Host
// it does not serve, SlowDown (which the SDKs retry) when request bodies in flight are at
// their bound, RequestTimeout for a body that arrived too slowly.
func (h *Handler) WriteEdgeError(w http.ResponseWriter, r *http.Request, code, msg string) {
	rid, id2 := newRequestID()
	w.Header().Set("X-Amz-Request-Id", rid)
	w.Header().Set("X-Amz-Id-2", id2)
	w.Header().Set("Server", "AmazonS3")
	e := errMsg(code, msg)
	e.status = edgeStatus[code]
	h.writeError(w, r, rid, e)
}
