package s3api

import (
	"cmp"
	"errors"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/localpipe/localpipe/objectstore"
)

// objectMeta collects what S3 stores from a write's headers: the standard representation
// headers and x-amz-meta-* (names lower-cased, as S3 returns them).
func objectMeta(h http.Header) (objectstore.ObjectMeta, *s3Error) {
	m := objectstore.ObjectMeta{
		ContentType:        h.Get("Content-Type"),
		ContentEncoding:    storedEncoding(h),
		ContentDisposition: h.Get("Content-Disposition"),
		ContentLanguage:    h.Get("Content-Language"),
		CacheControl:       h.Get("Cache-Control"),
		Expires:            h.Get("Expires"),
	}
	size := 0
	for name, vals := range h {
		if k, ok := strings.CutPrefix(strings.ToLower(name), "x-amz-meta-"); ok {
			if m.UserMeta == nil {
				m.UserMeta = map[string]string{}
			}
			v := strings.Join(vals, ",")
			m.UserMeta[k] = v
			size += len(k) + len(v)
		}
	}
	if size > maxUserMeta {
		return m, errCode("MetadataTooLarge", [2]string{"Size", itoa(size)}, [2]string{"MaxSizeAllowed", itoa(maxUserMeta)})
	}
	tags, _, serr := headerTags(h)
	if serr != nil {
		return m, serr
	}
	m.Tags = tags
	acl, serr := headerACL(h)
	if serr != nil {
		return m, serr
	}
	m.ACL = acl
	if serr := storageAndRedirect(h, &m); serr != nil {
		return m, serr
	}
	if m.SSE, serr = requestSSE(h); serr != nil {
		return m, serr
	}
	return m, nil
}

// writeObjectHeaders sets the headers GetObject and HeadObject return for info.
func writeObjectHeaders(h http.Header, info objectstore.ObjectInfo) {
	ct := info.ContentType
	if ct == "" {
		ct = "binary/octet-stream" // what S3 stores when a writer names no type
	}
	h.Set("Content-Type", ct)
	h.Set("ETag", info.ETag)
	h.Set("Last-Modified", httpTime(info.LastModified))
	h.Set("Accept-Ranges", "bytes")
	writeSSEHeaders(h, info.SSE)
	if info.StorageClass != "" {
		h.Set("X-Amz-Storage-Class", info.StorageClass)
	}
	if info.WebsiteRedirect != "" {
		h.Set("X-Amz-Website-Redirect-Location", info.WebsiteRedirect)
	}
	for k, v := range map[string]string{
		"Content-Encoding": info.ContentEncoding, "Content-Disposition": info.ContentDisposition,
		"Content-Language": info.ContentLanguage, "Cache-Control": info.CacheControl, "Expires": info.Expires,
	} {
		if v != "" {
			h.Set(k, v)
		}
	}
	for k, v := range info.UserMeta {
		h["X-Amz-Meta-"+k] = []string{v}
	}
	if len(info.Tags) > 0 {
		h.Set("X-Amz-Tagging-Count", itoa(len(info.Tags)))
	}
}

// writeChecksumHeaders returns an object's stored checksums, as S3 does when the client asks
// (x-amz-checksum-mode: ENABLED) for a whole-object read.
func writeChecksumHeaders(h http.Header, info objectstore.ObjectInfo) {
	for alg, v := range info.Checksums {
		h.Set("X-Amz-Checksum-"+strings.ToLower(alg), v)
	}
	if len(info.Checksums) > 0 {
		h.Set("X-Amz-Checksum-Type", checksumType(info))
	}
}

// checksumAlgorithm names the algorithm of an object's checksum, for listings.
func checksumAlgorithm(sums map[string]string) string {
	algs := make([]string, 0, len(sums))
	for alg := range sums {
		algs = append(algs, alg)
	}
	sort.Strings(algs)
	if len(algs) == 0 {
		return ""
	}
	return algs[0]
}

// checksumType is FULL_OBJECT for a checksum over the whole body and COMPOSITE for the
// checksum-of-part-checksums a multipart upload gets (its value ends in -N).
func checksumType(info objectstore.ObjectInfo) string {
	for _, v := range info.Checksums {
		if strings.Contains(v, "-") {
			return "COMPOSITE"
		}
	}
	return "FULL_OBJECT"
}

func (q *request) putObject() *s3Error {
	meta, serr := objectMeta(q.r.Header)
	if serr != nil {
		return serr
	}
	q.defaultSSE(&meta)
	v, serr := decodeBody(q.r)
	if serr != nil {
		return serr
	}
	if serr := q.writeConditions(); serr != nil {
		return serr
	}
	v.addDefaultChecksum()
	// The verifier fills meta.Checksums when it reaches the end of the body, which is before
	// the store commits the object's metadata.
	meta.Checksums = map[string]string{}
	v.computed = meta.Checksums
	info, err := q.h.store.PutObject(q.r.Context(), q.bucket, q.key, v, meta)
	if err != nil {
		return q.fail(err)
	}
	q.h.metrics.upload(q.bucket, info.Size)
	q.setVersionHeader(info.VersionID)
	q.w.Header().Set("ETag", info.ETag)
	writeSSEHeaders(q.w.Header(), info.SSE)
	writeChecksumHeaders(q.w.Header(), info)
	return q.empty(http.StatusOK)
}

// defaultSSE applies the bucket's default encryption to a write that names none.
func (q *request) defaultSSE(m *objectstore.ObjectMeta) {
	if m.SSE == nil {
		m.SSE = q.bucketDefaultSSE()
	}
}

// writeConditions applies conditional writes (If-None-Match: * and If-Match), which S3
// supports on PutObject and CompleteMultipartUpload.
func (q *request) writeConditions() *s3Error {
	inm, im := q.r.Header.Get("If-None-Match"), q.r.Header.Get("If-Match")
	if inm == "" && im == "" {
		return nil
	}
	if inm != "" && inm != "*" {
		return errMsg("NotImplemented", "A header you provided implies functionality that is not implemented",
			[2]string{"Header", "If-None-Match"})
	}
	info, err := q.h.store.HeadObject(q.r.Context(), q.bucket, q.key)
	exists := err == nil
	if err != nil && err != objectstore.ErrNoSuchKey {
		return q.fail(err)
	}
	if inm == "*" && exists {
		return errCode("PreconditionFailed", [2]string{"Condition", "If-None-Match"})
	}
	if im != "" {
		if !exists {
			return errCode("NoSuchKey", [2]string{"Key", q.key})
		}
		if !etagMatches(im, info.ETag) {
			return errCode("PreconditionFailed", [2]string{"Condition", "If-Match"})
		}
	}
	return nil
}

// etagMatches reports whether an If-Match/If-None-Match list names etag.
func etagMatches(list, etag string) bool {
	etag = strings.Trim(etag, `"`)
	for _, e := range strings.Split(list, ",") {
		e = strings.TrimSpace(e)
		e = strings.TrimPrefix(e, "W/")
		if e == "*" || strings.Trim(e, `"`) == etag {
			return true
		}
	}
	return false
}

// readConditions evaluates a read's preconditions in S3's order: If-Match (else
// If-Unmodified-Since) can fail with 412; If-None-Match (else If-Modified-Since) with 304.
// prefix is "" for the object's own headers and "X-Amz-Copy-Source-" for a copy's source,
// where both failures are 412.
func readConditions(h http.Header, prefix string, info objectstore.ObjectInfo) (status int, cond string) {
	modified := info.LastModified.Truncate(time.Second)
	if im := h.Get(prefix + "If-Match"); im != "" {
		if !etagMatches(im, info.ETag) {
			return http.StatusPreconditionFailed, "If-Match"
		}
	} else if s := h.Get(prefix + "If-Unmodified-Since"); s != "" {
		if t, err := http.ParseTime(s); err == nil && modified.After(t) {
			return http.StatusPreconditionFailed, "If-Unmodified-Since"
		}
	}
	notModified := http.StatusNotModified
	if prefix != "" {
		notModified = http.StatusPreconditionFailed
	}
	if inm := h.Get(prefix + "If-None-Match"); inm != "" {
		if etagMatches(inm, info.ETag) {
			return notModified, "If-None-Match"
		}
	} else if s := h.Get(prefix + "If-Modified-Since"); s != "" {
		if t, err := http.ParseTime(s); err == nil && !modified.After(t) {
			return notModified, "If-Modified-Since"
		}
	}
	return 0, ""
}

// parseRange reads a single `bytes=` range. ok is false when the header is absent or not a
// byte range S3 honours (S3 then sends the whole object); satisfiable is false for a range
// that starts past the end.
func parseRange(s string, size int64) (start, end int64, ok, satisfiable bool) {
	spec, found := strings.CutPrefix(s, "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, 0, false, false
	}
	a, b, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return 0, 0, false, false
	}
	if a == "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n < 0 {
			return 0, 0, false, false
		}
		if n == 0 || size == 0 {
			return 0, 0, true, false
		}
		return max(size-n, 0), size - 1, true, true
	}
	first, err := strconv.ParseInt(a, 10, 64)
	if err != nil || first < 0 {
		return 0, 0, false, false
	}
	last := size - 1
	if b != "" {
		l, err := strconv.ParseInt(b, 10, 64)
		if err != nil || l < first {
			return 0, 0, false, false
		}
		last = min(l, size-1)
	}
	if first >= size {
		return 0, 0, true, false
	}
	return first, last, true, true
}

// partsCount is the number of parts of a multipart object, from its ETag's -N suffix.
func partsCount(etag string) int {
	_, n, ok := strings.Cut(strings.Trim(etag, `"`), "-")
	if !ok {
		return 0
	}
	c, _ := strconv.Atoi(n)
	return c
}

func (q *request) getObject(head bool) *s3Error {
	ctx := q.r.Context()
	var (
		info objectstore.ObjectInfo
		f    *os.File
		err  error
	)
	if head {
		info, err = q.h.store.HeadObjectVersion(ctx, q.bucket, q.key, q.versionID())
	} else {
		info, f, err = q.h.store.GetObjectVersion(ctx, q.bucket, q.key, q.versionID())
	}
	if err != nil {
		return q.fail(err)
	}
	if f != nil {
		defer f.Close()
	}
	hdr := q.w.Header()
	q.setVersionHeader(info.VersionID)
	if status, cond := readConditions(q.r.Header, "", info); status != 0 {
		if status == http.StatusNotModified {
			hdr.Set("ETag", info.ETag)
			hdr.Set("Last-Modified", httpTime(info.LastModified))
			return q.empty(status)
		}
		return errCode("PreconditionFailed", [2]string{"Condition", cond})
	}
	query := q.r.URL.Query()
	start, end := int64(0), info.Size-1
	partial := false
	part, count := 0, 0 // the part asked for by number, and the object's part count
	if pn := query.Get("partNumber"); pn != "" {
		n, perr := strconv.Atoi(pn)
		if perr != nil || n < 1 || n > 10000 {
			return errMsg("InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive",
				[2]string{"ArgumentName", "partNumber"}, [2]string{"ArgumentValue", pn})
		}
		if q.r.Header.Get("Range") != "" {
			return errMsg("InvalidRequest", "Cannot specify both Range header and partNumber query parameter")
		}
		count = partsCount(info.ETag)
		part = n
		switch {
		case count == 0 && n == 1:
			partial = true
		case count > 0 && n <= count && len(info.PartSizes) == count:
			for _, s := range info.PartSizes[:n-1] {
				start += s
			}
			end = start + info.PartSizes[n-1] - 1
			partial = true
		default:
			return errMsg("InvalidPartNumber", "The requested partnumber is not satisfiable",
				[2]string{"PartNumberRequested", pn}, [2]string{"ActualPartCount", itoa(max(count, 1))}).withStatus(http.StatusRequestedRangeNotSatisfiable)
		}
		if count > 0 {
			hdr.Set("X-Amz-Mp-Parts-Count", itoa(count))
		}
	} else if rg := q.r.Header.Get("Range"); rg != "" {
		s, e, ok, satisfiable := parseRange(rg, info.Size)
		if ok && !satisfiable {
			return errCode("InvalidRange", [2]string{"RangeRequested", rg}, [2]string{"ActualObjectSize", strconv.FormatInt(info.Size, 10)})
		}
		if ok {
			start, end, partial = s, e, true
		}
	}
	writeObjectHeaders(hdr, info)
	for param, header := range map[string]string{
		"response-content-type": "Content-Type", "response-content-language": "Content-Language",
		"response-expires": "Expires", "response-cache-control": "Cache-Control",
		"response-content-disposition": "Content-Disposition", "response-content-encoding": "Content-Encoding",
	} {
		if v := query.Get(param); v != "" {
			hdr.Set(header, v)
		}
	}
	if strings.EqualFold(q.r.Header.Get("X-Amz-Checksum-Mode"), "ENABLED") {
		switch {
		case !partial || (part == 1 && count == 0):
			writeChecksumHeaders(hdr, info)
		case part > 0 && len(info.PartChecksums) == count:
			// One part of a multipart object comes with that part's own checksum, which is
			// what its bytes can be checked against.
			hdr.Set("X-Amz-Checksum-"+strings.ToLower(checksumAlgorithm(info.Checksums)), info.PartChecksums[part-1])
		}
	}
	length := end - start + 1
	hdr.Set("Content-Length", strconv.FormatInt(length, 10))
	status := http.StatusOK
	if partial {
		status = http.StatusPartialContent
		hdr.Set("Content-Range", "bytes "+strconv.FormatInt(start, 10)+"-"+strconv.FormatInt(end, 10)+"/"+strconv.FormatInt(info.Size, 10))
	}
	q.status = status
	q.w.WriteHeader(status)
	if head || length <= 0 {
		return nil
	}
	// A seek and a LimitedReader over the *os.File, rather than a SectionReader, let
	// net/http hand the bytes to the socket with sendfile(2).
	var n int64
	if _, err = f.Seek(start, io.SeekStart); err == nil {
		n, err = io.Copy(q.w, io.LimitReader(f, length))
	}
	q.h.metrics.download(q.bucket, n)
	if err != nil {
		// The status line is gone; all we can do is log and let the short body tell the client.
		q.h.logger.Debug("s3: GetObject body cut short", "bucket", q.bucket, "key", q.key, "sent", n, "err", err)
	}
	return nil
}

func (e *s3Error) withStatus(status int) *s3Error {
	e.status = status
	return e
}

func (q *request) deleteObject() *s3Error {
	if len(q.key) > objectstore.MaxKeyLen {
		return q.fail(objectstore.ErrKeyTooLong)
	}
	res, err := q.h.store.DeleteObjectVersion(q.r.Context(), q.bucket, q.key, q.versionID())
	if err != nil {
		return q.fail(err)
	}
	q.setVersionHeader(res.VersionID)
	if res.DeleteMarker {
		q.w.Header().Set("X-Amz-Delete-Marker", "true")
	}
	return q.empty(http.StatusNoContent)
}

// copySource parses x-amz-copy-source: `bucket/key` or `/bucket/key`, URL-encoded, with an
// optional ?versionId.
func copySource(h http.Header) (bucket, key, version string, err *s3Error) {
	raw := h.Get("X-Amz-Copy-Source")
	raw, version, hasVersion := strings.Cut(raw, "?versionId=")
	if hasVersion {
		if _, ok := objectstore.ParseVersionID(version); !ok {
			return "", "", "", errMsg("InvalidArgument", "Invalid version id specified",
				[2]string{"ArgumentName", "x-amz-copy-source"}, [2]string{"ArgumentValue", bounded(h.Get("X-Amz-Copy-Source"))})
		}
	}
	s, uerr := url.PathUnescape(raw)
	if uerr != nil {
		return "", "", "", errMsg("InvalidArgument", "Invalid copy source encoding",
			[2]string{"ArgumentName", "x-amz-copy-source"}, [2]string{"ArgumentValue", raw})
	}
	s = strings.TrimPrefix(s, "/")
	bucket, key, ok := strings.Cut(s, "/")
	if !ok || bucket == "" || key == "" {
		return "", "", "", errMsg("InvalidArgument", "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
			[2]string{"ArgumentName", "x-amz-copy-source"}, [2]string{"ArgumentValue", raw})
	}
	return bucket, key, version, nil
}

// openSource opens a copy's source object and applies the x-amz-copy-source-if-* conditions.
func (q *request) openSource() (objectstore.ObjectInfo, *os.File, *s3Error) {
	sb, sk, sv, serr := copySource(q.r.Header)
	if serr != nil {
		return objectstore.ObjectInfo{}, nil, serr
	}
	info, f, err := q.h.store.GetObjectVersion(q.r.Context(), sb, sk, sv)
	if err != nil {
		var dm *objectstore.DeleteMarkerError
		if errors.As(err, &dm) && !dm.Current {
			// A delete marker cannot be a copy's source; S3 says so with 400.
			return info, nil, errMsg("InvalidRequest", "The source of a copy request may not specifically refer to a delete marker by version id.")
		}
		if errors.Is(err, objectstore.ErrNoSuchVersion) {
			return info, nil, errCode("NoSuchVersion", [2]string{"Key", sk}, [2]string{"VersionId", bounded(sv)})
		}
		return info, nil, q.h.toS3(q.r, sb, sk, err)
	}
	if info.VersionID != "" {
		q.w.Header().Set("X-Amz-Copy-Source-Version-Id", info.VersionID)
	}
	if status, cond := readConditions(q.r.Header, "X-Amz-Copy-Source-", info); status != 0 {
		f.Close()
		return info, nil, errCode("PreconditionFailed", [2]string{"Condition", "x-amz-copy-source-" + strings.ToLower(cond)})
	}
	return info, f, nil
}

func (q *request) copyObject() *s3Error {
	directive := q.r.Header.Get("X-Amz-Metadata-Directive")
	if directive != "" && directive != "COPY" && directive != "REPLACE" {
		return errMsg("InvalidArgument", "Unknown metadata directive.",
			[2]string{"ArgumentName", "x-amz-metadata-directive"}, [2]string{"ArgumentValue", directive})
	}
	tagging := q.r.Header.Get("X-Amz-Tagging-Directive")
	if tagging != "" && tagging != "COPY" && tagging != "REPLACE" {
		return errMsg("InvalidArgument", "Unknown tagging directive.",
			[2]string{"ArgumentName", "x-amz-tagging-directive"}, [2]string{"ArgumentValue", tagging})
	}
	given, serr := objectMeta(q.r.Header)
	if serr != nil {
		return serr
	}
	alg := ""
	if a := q.r.Header.Get("X-Amz-Checksum-Algorithm"); a != "" {
		var ok bool
		if alg, ok = checksumAlgorithms[strings.ToLower(a)]; !ok {
			return errMsg("InvalidRequest", "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]")
		}
	}
	src, f, serr := q.openSource()
	if serr != nil {
		return serr
	}
	defer f.Close()
	sb, sk, _, _ := copySource(q.r.Header)
	h := q.r.Header
	// Copying an object onto itself is how S3 users change its storage class, encryption,
	// redirect, metadata or checksum algorithm.
	changes := directive == "REPLACE" || h.Get("X-Amz-Storage-Class") != "" || given.SSE != nil || given.WebsiteRedirect != "" || alg != ""
	if sb == q.bucket && sk == q.key && !changes {
		return errMsg("InvalidRequest", "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
	}
	meta := src.ObjectMeta
	if directive == "REPLACE" {
		meta = given
	}
	// The copy's checksum is computed over the bytes copied, in the algorithm asked for, else
	// the source's, else S3's default; it is a full-object checksum even when the source's
	// was composite.
	alg = cmp.Or(alg, checksumAlgorithm(src.Checksums), objectstore.DefaultChecksum)
	meta.Checksums = map[string]string{}
	body := &verifier{r: io.NewSectionReader(f, 0, src.Size), want: src.Size,
		sums: map[string]hash.Hash{alg: objectstore.NewChecksum(alg)}, computed: meta.Checksums}
	// Tags follow their own directive, and the ACL is never copied: the copy gets the one
	// the request names, or the default.
	meta.Tags = src.Tags
	if tagging == "REPLACE" {
		meta.Tags = given.Tags
	}
	meta.ACL = given.ACL
	// Nor are storage class, encryption and redirect: the copy gets what the request names.
	meta.StorageClass, meta.WebsiteRedirect, meta.SSE = given.StorageClass, given.WebsiteRedirect, given.SSE
	q.defaultSSE(&meta)
	info, err := q.h.store.PutObject(q.r.Context(), q.bucket, q.key, body, meta)
	if err != nil {
		return q.fail(err)
	}
	var x xmlw
	x.header()
	x.root("CopyObjectResult")
	x.elemTime("LastModified", info.LastModified)
	x.elem("ETag", info.ETag)
	if len(info.Checksums) > 0 {
		x.elem("ChecksumType", checksumType(info))
	}
	writeChecksumElems(&x, info.Checksums)
	x.close("CopyObjectResult")
	q.setVersionHeader(info.VersionID)
	writeSSEHeaders(q.w.Header(), info.SSE)
	return q.ok(&x)
}
