package s3api

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/localpipe/localpipe/objectstore"
)

func (q *request) createUpload() *s3Error {
	meta, serr := objectMeta(q.r.Header)
	if serr != nil {
		return serr
	}
	if a := q.r.Header.Get("X-Amz-Checksum-Algorithm"); a != "" {
		alg, ok := checksumAlgorithms[strings.ToLower(a)]
		if !ok {
			return errMsg("InvalidRequest", "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]")
		}
		q.w.Header().Set("X-Amz-Checksum-Algorithm", alg)
		q.w.Header().Set("X-Amz-Checksum-Type", "COMPOSITE")
	}
	if len(q.key) > objectstore.MaxKeyLen {
		return q.fail(objectstore.ErrKeyTooLong)
	}
	up, err := q.h.store.CreateMultipartUpload(q.r.Context(), q.bucket, q.key, meta)
	if err != nil {
		return q.fail(err)
	}
	var x xmlw
	x.header()
	x.root("InitiateMultipartUploadResult")
	x.elem("Bucket", q.bucket)
	x.elem("Key", q.key)
	x.elem("UploadId", up.UploadID)
	x.close("InitiateMultipartUploadResult")
	q.w.Header().Set("X-Amz-Server-Side-Encryption", "AES256")
	return q.ok(&x)
}

// partNumber reads and checks the partNumber query parameter.
func (q *request) partNumber() (int, *s3Error) {
	s := q.r.URL.Query().Get("partNumber")
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 10000 {
		return 0, errMsg("InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive",
			[2]string{"ArgumentName", "partNumber"}, [2]string{"ArgumentValue", s})
	}
	return n, nil
}

func (q *request) uploadPart() *s3Error {
	n, serr := q.partNumber()
	if serr != nil {
		return serr
	}
	v, serr := decodeBody(q.r)
	if serr != nil {
		return serr
	}
	// Filled by the verifier at the end of the body, before the store records the part.
	sums := map[string]string{}
	v.computed = sums
	part, err := q.h.store.UploadPart(q.r.Context(), q.bucket, q.key, q.r.URL.Query().Get("uploadId"), n, v, nil, sums)
	if err != nil {
		return q.fail(err)
	}
	q.h.metrics.upload(q.bucket, part.Size)
	q.w.Header().Set("ETag", part.ETag)
	q.w.Header().Set("X-Amz-Server-Side-Encryption", "AES256")
	for alg, val := range sums {
		q.w.Header().Set("X-Amz-Checksum-"+strings.ToLower(alg), val)
	}
	return q.empty(http.StatusOK)
}

func (q *request) uploadPartCopy() *s3Error {
	n, serr := q.partNumber()
	if serr != nil {
		return serr
	}
	src, f, serr := q.openSource()
	if serr != nil {
		return serr
	}
	defer f.Close()
	start, length := int64(0), src.Size
	if rg := q.r.Header.Get("X-Amz-Copy-Source-Range"); rg != "" {
		s, e, ok, satisfiable := parseRange(rg, src.Size)
		if !ok || !satisfiable || strings.HasPrefix(rg, "bytes=-") || e != mustLast(rg) {
			return errMsg("InvalidArgument", "Range specified is not valid for source object of size: "+strconv.FormatInt(src.Size, 10),
				[2]string{"ArgumentName", "x-amz-copy-source-range"}, [2]string{"ArgumentValue", rg})
		}
		start, length = s, e-s+1
	}
	part, err := q.h.store.UploadPart(q.r.Context(), q.bucket, q.key, q.r.URL.Query().Get("uploadId"), n,
		io.NewSectionReader(f, start, length), nil, nil)
	if err != nil {
		return q.fail(err)
	}
	var x xmlw
	x.header()
	x.root("CopyPartResult")
	x.elemTime("LastModified", part.LastModified)
	x.elem("ETag", part.ETag)
	x.close("CopyPartResult")
	return q.ok(&x)
}

// mustLast is the last byte a `bytes=a-b` copy range names; copy ranges must be explicit and
// inside the source, so a range parseRange had to clip is invalid.
func mustLast(rg string) int64 {
	_, b, _ := strings.Cut(rg, "-")
	n, err := strconv.ParseInt(b, 10, 64)
	if err != nil {
		return -1
	}
	return n
}

func (q *request) completeUpload() *s3Error {
	v, serr := decodeBody(q.r)
	if serr != nil {
		return serr
	}
	var body completeRequest
	if err := decodeXML(v, "CompleteMultipartUpload", &body); err != nil {
		if errors.Is(err, errMalformedXML) {
			return errCode("MalformedXML")
		}
		return q.fail(err)
	}
	if len(body.Parts) == 0 {
		return errMsg("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
	}
	parts := make([]objectstore.CompletePart, len(body.Parts))
	for i, p := range body.Parts {
		if p.PartNumber == nil || p.ETag == "" {
			return errCode("MalformedXML")
		}
		parts[i] = objectstore.CompletePart{PartNumber: *p.PartNumber, ETag: p.ETag}
	}
	if serr := q.writeConditions(); serr != nil {
		return serr
	}
	info, err := q.h.store.CompleteMultipartUpload(q.r.Context(), q.bucket, q.key, q.r.URL.Query().Get("uploadId"), parts)
	if err != nil {
		return q.fail(err)
	}
	scheme := "http"
	if q.r.TLS != nil {
		scheme = "https"
	}
	var x xmlw
	x.header()
	x.root("CompleteMultipartUploadResult")
	x.elem("Location", scheme+"://"+q.r.Host+"/"+q.bucket+"/"+q.key)
	x.elem("Bucket", q.bucket)
	x.elem("Key", q.key)
	x.elem("ETag", info.ETag)
	for alg, val := range info.Checksums {
		x.elem("Checksum"+alg, val)
		x.elem("ChecksumType", checksumType(info))
	}
	x.close("CompleteMultipartUploadResult")
	q.setVersionHeader(info.VersionID)
	q.w.Header().Set("X-Amz-Server-Side-Encryption", "AES256")
	return q.ok(&x)
}

func (q *request) abortUpload() *s3Error {
	if err := q.h.store.AbortMultipartUpload(q.r.Context(), q.bucket, q.key, q.r.URL.Query().Get("uploadId")); err != nil {
		return q.fail(err)
	}
	return q.empty(http.StatusNoContent)
}

// intParam reads an optional non-negative integer query parameter.
func intParam(q *request, name string, def int) (int, *s3Error) {
	s, ok := q.r.URL.Query()[name]
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(s[0])
	if err != nil || n < 0 {
		return 0, errMsg("InvalidArgument", "Provided "+name+" not an integer or within integer range",
			[2]string{"ArgumentName", name}, [2]string{"ArgumentValue", s[0]})
	}
	return n, nil
}

func (q *request) listParts() *s3Error {
	marker, serr := intParam(q, "part-number-marker", 0)
	if serr != nil {
		return serr
	}
	maxParts, serr := intParam(q, "max-parts", 1000)
	if serr != nil {
		return serr
	}
	maxParts = min(maxParts, 1000)
	uploadID := q.r.URL.Query().Get("uploadId")
	res, err := q.h.store.ListParts(q.r.Context(), q.bucket, q.key, uploadID,
		objectstore.ListPartsInput{PartNumberMarker: marker, MaxParts: max(maxParts, 1)})
	if err != nil {
		return q.fail(err)
	}
	if maxParts == 0 {
		res.Parts, res.IsTruncated = nil, len(res.Parts) > 0
	}
	var x xmlw
	x.header()
	x.root("ListPartsResult")
	x.elem("Bucket", q.bucket)
	x.elem("Key", q.key)
	x.elem("UploadId", uploadID)
	x.elemInt("PartNumberMarker", int64(marker))
	if res.IsTruncated {
		x.elemInt("NextPartNumberMarker", int64(res.NextPartNumberMarker))
	}
	x.elemInt("MaxParts", int64(maxParts))
	x.elemBool("IsTruncated", res.IsTruncated)
	for _, p := range res.Parts {
		x.open("Part")
		x.elemInt("PartNumber", int64(p.PartNumber))
		x.elemTime("LastModified", p.LastModified)
		x.elem("ETag", p.ETag)
		for alg, val := range p.Checksums {
			x.elem("Checksum"+alg, val)
		}
		x.elemInt("Size", p.Size)
		x.close("Part")
	}
	writeOwner(&x, "Initiator")
	writeOwner(&x, "Owner")
	x.elem("StorageClass", "STANDARD")
	x.close("ListPartsResult")
	return q.ok(&x)
}

func (q *request) listUploads() *s3Error {
	query := q.r.URL.Query()
	maxUploads, serr := intParam(q, "max-uploads", 1000)
	if serr != nil {
		return serr
	}
	maxUploads = min(maxUploads, 1000)
	in := objectstore.ListUploadsInput{
		Prefix: query.Get("prefix"), Delimiter: query.Get("delimiter"),
		KeyMarker: query.Get("key-marker"), UploadIDMarker: query.Get("upload-id-marker"),
		MaxUploads: max(maxUploads, 1),
	}
	res, err := q.h.store.ListMultipartUploads(q.r.Context(), q.bucket, in)
	if err != nil {
		return q.fail(err)
	}
	if maxUploads == 0 {
		res.Uploads, res.CommonPrefixes, res.IsTruncated = nil, nil, len(res.Uploads)+len(res.CommonPrefixes) > 0
	}
	encoding := query.Get("encoding-type")
	if encoding != "" && encoding != "url" {
		return errMsg("InvalidArgument", "Invalid Encoding Method specified in Request",
			[2]string{"ArgumentName", "encoding-type"}, [2]string{"ArgumentValue", encoding})
	}
	enc := func(s string) string {
		if encoding == "url" {
			return urlEncodeKey(s)
		}
		return s
	}
	var x xmlw
	x.header()
	x.root("ListMultipartUploadsResult")
	x.elem("Bucket", q.bucket)
	x.elem("KeyMarker", enc(in.KeyMarker))
	x.elem("UploadIdMarker", in.UploadIDMarker)
	if res.IsTruncated {
		x.elem("NextKeyMarker", enc(res.NextKeyMarker))
		x.elem("NextUploadIdMarker", res.NextUploadIDMarker)
	}
	if in.Prefix != "" {
		x.elem("Prefix", enc(in.Prefix))
	}
	if in.Delimiter != "" {
		x.elem("Delimiter", enc(in.Delimiter))
	}
	x.elemInt("MaxUploads", int64(maxUploads))
	if encoding != "" {
		x.elem("EncodingType", encoding)
	}
	x.elemBool("IsTruncated", res.IsTruncated)
	for _, u := range res.Uploads {
		x.open("Upload")
		x.elem("Key", enc(u.Key))
		x.elem("UploadId", u.UploadID)
		writeOwner(&x, "Initiator")
		writeOwner(&x, "Owner")
		x.elem("StorageClass", "STANDARD")
		x.elemTime("Initiated", u.Initiated)
		x.close("Upload")
	}
	for _, p := range res.CommonPrefixes {
		x.open("CommonPrefixes")
		x.elem("Prefix", enc(p))
		x.close("CommonPrefixes")
	}
	x.close("ListMultipartUploadsResult")
	return q.ok(&x)
}
