package s3api

import (
	"cmp"
	"errors"
	"hash"
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
	q.defaultSSE(&meta)
	alg, typ, serr := uploadChecksum(q.r.Header)
	if serr != nil {
		return serr
	}
	if len(q.key) > objectstore.MaxKeyLen {
		return q.fail(objectstore.ErrKeyTooLong)
	}
	up, err := q.h.store.StartUpload(q.r.Context(), objectstore.UploadInfo{Bucket: q.bucket, Key: q.key, Meta: meta,
		ChecksumAlgorithm: alg, ChecksumType: typ})
	if err != nil {
		return q.fail(err)
	}
	if alg != "" {
		q.w.Header().Set("X-Amz-Checksum-Algorithm", alg)
		q.w.Header().Set("X-Amz-Checksum-Type", typ)
	}
	var x xmlw
	x.header()
	x.root("InitiateMultipartUploadResult")
	x.elem("Bucket", q.bucket)
	x.elem("Key", q.key)
	x.elem("UploadId", up.UploadID)
	x.close("InitiateMultipartUploadResult")
	writeSSEHeaders(q.w.Header(), meta.SSE)
	return q.ok(&x)
}

// uploadChecksum reads CreateMultipartUpload's x-amz-checksum-algorithm and
// x-amz-checksum-type. S3 offers a full-object checksum only for the CRCs (a CRC of the
// whole can be had from the parts' CRCs; a hash of the whole cannot) and a composite one only
// for CRC32, CRC32C, SHA1 and SHA256. Without a type, CRC64NVME is FULL_OBJECT and the others
// COMPOSITE.
func uploadChecksum(h http.Header) (alg, typ string, _ *s3Error) {
	a, t := h.Get("X-Amz-Checksum-Algorithm"), h.Get("X-Amz-Checksum-Type")
	if a == "" {
		if t != "" {
			return "", "", errMsg("InvalidRequest", "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.")
		}
		return "", "", nil
	}
	alg, ok := checksumAlgorithms[strings.ToLower(a)]
	if !ok {
		return "", "", errMsg("InvalidRequest", "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]")
	}
	typ = strings.ToUpper(t)
	switch typ {
	case "":
		typ = objectstore.ChecksumComposite
		if alg == "CRC64NVME" {
			typ = objectstore.ChecksumFullObject
		}
	case objectstore.ChecksumFullObject, objectstore.ChecksumComposite:
	default:
		return "", "", errMsg("InvalidRequest", "Value for x-amz-checksum-type header is invalid.")
	}
	full := alg == "CRC32" || alg == "CRC32C" || alg == "CRC64NVME"
	if (typ == objectstore.ChecksumFullObject && !full) || (typ == objectstore.ChecksumComposite && alg == "CRC64NVME") {
		return "", "", errMsg("InvalidRequest", "The "+typ+" checksum type cannot be used with the "+strings.ToLower(alg)+" checksum algorithm.")
	}
	return alg, typ, nil
}

// partChecksum fits a part's body verifier to its upload: a part of an upload created with
// an algorithm must use that one (S3 computes it when the client sent none), and a part of
// an upload without one gets S3's default unless the client chose another.
func partChecksum(u objectstore.UploadInfo, v *verifier) *s3Error {
	want := u.ChecksumAlgorithm
	if want == "" {
		if len(v.sums) == 0 {
			v.sums[objectstore.DefaultChecksum] = objectstore.NewChecksum(objectstore.DefaultChecksum)
		}
		return nil
	}
	for alg := range v.sums {
		if alg != want {
			return errMsg("InvalidRequest", "Checksum Type mismatch occurred, expected checksum Type: "+strings.ToLower(want)+", actual checksum Type: "+strings.ToLower(alg))
		}
	}
	if v.sums[want] == nil {
		v.sums[want] = objectstore.NewChecksum(want)
	}
	return nil
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
	up, err := q.h.store.Upload(q.r.Context(), q.bucket, q.key, q.r.URL.Query().Get("uploadId"))
	if err != nil {
		return q.fail(err)
	}
	if serr := partChecksum(up, v); serr != nil {
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
	up, err := q.h.store.Upload(q.r.Context(), q.bucket, q.key, q.r.URL.Query().Get("uploadId"))
	if err != nil {
		return q.fail(err)
	}
	start, length := int64(0), src.Size
	if rg := q.r.Header.Get("X-Amz-Copy-Source-Range"); rg != "" {
		s, e, ok, satisfiable := parseRange(rg, src.Size)
		if !ok || !satisfiable || strings.HasPrefix(rg, "bytes=-") || e != mustLast(rg) {
			return errMsg("InvalidArgument", "Range specified is not valid for source object of size: "+strconv.FormatInt(src.Size, 10),
				[2]string{"ArgumentName", "x-amz-copy-source-range"}, [2]string{"ArgumentValue", rg})
		}
		start, length = s, e-s+1
	}
	v := &verifier{r: io.NewSectionReader(f, start, length), want: length, sums: map[string]hash.Hash{}}
	partChecksum(up, v)
	sums := map[string]string{}
	v.computed = sums
	part, err := q.h.store.UploadPart(q.r.Context(), q.bucket, q.key, q.r.URL.Query().Get("uploadId"), n, v, nil, sums)
	if err != nil {
		return q.fail(err)
	}
	var x xmlw
	x.header()
	x.root("CopyPartResult")
	x.elemTime("LastModified", part.LastModified)
	x.elem("ETag", part.ETag)
	writeChecksumElems(&x, sums)
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
	// x-amz-checksum-* on a Complete are the object's checksum, not the XML body's.
	whole := map[string]string{}
	r := q.r.Clone(q.r.Context())
	for suffix, alg := range checksumAlgorithms {
		name := "X-Amz-Checksum-" + suffix
		if val := r.Header.Get(name); val != "" {
			whole[alg] = val
		}
		r.Header.Del(name)
	}
	if len(whole) > 1 {
		return errMsg("InvalidRequest", "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
	}
	wantType := strings.ToUpper(r.Header.Get("X-Amz-Checksum-Type"))
	r.Header.Del("X-Amz-Checksum-Type")
	if wantType != "" && wantType != objectstore.ChecksumFullObject && wantType != objectstore.ChecksumComposite {
		return errMsg("InvalidRequest", "Value for x-amz-checksum-type header is invalid.")
	}
	size := int64(-1)
	if ms := r.Header.Get("X-Amz-Mp-Object-Size"); ms != "" {
		n, err := strconv.ParseInt(ms, 10, 64)
		if err != nil || n < 0 {
			return errMsg("InvalidRequest", "Value for x-amz-mp-object-size header is invalid.")
		}
		size = n
	}
	v, serr := decodeBody(r)
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
	listed := make([]map[string]string, len(body.Parts)) // the part checksums the client lists
	for i, p := range body.Parts {
		if p.PartNumber == nil || p.ETag == "" {
			return errCode("MalformedXML")
		}
		parts[i] = objectstore.CompletePart{PartNumber: *p.PartNumber, ETag: p.ETag}
		listed[i] = map[string]string{}
		for alg, val := range map[string]string{"CRC32": p.ChecksumCRC32, "CRC32C": p.ChecksumCRC32C,
			"CRC64NVME": p.ChecksumCRC64NVME, "SHA1": p.ChecksumSHA1, "SHA256": p.ChecksumSHA256} {
			if val != "" {
				listed[i][alg] = val
			}
		}
	}
	if serr := q.writeConditions(); serr != nil {
		return serr
	}
	check := func(u objectstore.UploadInfo, stored []objectstore.PartInfo, info objectstore.ObjectInfo) error {
		if size >= 0 && size != info.Size {
			return errMsg("InvalidRequest", "The provided 'x-amz-mp-object-size' header value "+strconv.FormatInt(size, 10)+
				" does not match what was computed: "+strconv.FormatInt(info.Size, 10))
		}
		return checkComplete(u, listed, stored, info, whole, wantType)
	}
	uploadID := q.r.URL.Query().Get("uploadId")
	info, err := q.h.store.CompleteUpload(q.r.Context(), q.bucket, q.key, uploadID, parts, check)
	if errors.Is(err, objectstore.ErrNoSuchUpload) {
		if done, ok := q.h.completed.get(uploadID, q.bucket, q.key); ok {
			info, err = done, nil
		}
	}
	if err != nil {
		return q.fail(err)
	}
	q.h.completed.add(uploadID, info)
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
	writeChecksumElems(&x, info.Checksums)
	if len(info.Checksums) > 0 {
		x.elem("ChecksumType", checksumType(info))
	}
	x.close("CompleteMultipartUploadResult")
	q.setVersionHeader(info.VersionID)
	writeSSEHeaders(q.w.Header(), info.SSE)
	return q.ok(&x)
}

// checkComplete holds a Complete to what the client says: the checksum type it names must
// be the upload's; a part checksum it lists must be the part's; a composite upload must list
// every part's checksum, as S3 requires; and a whole-object checksum it sends must be the one
// computed (a composite value with or without its -N).
func checkComplete(u objectstore.UploadInfo, listed []map[string]string, stored []objectstore.PartInfo,
	info objectstore.ObjectInfo, whole map[string]string, wantType string) error {
	typ := cmp.Or(u.ChecksumType, objectstore.ChecksumFullObject)
	if wantType != "" && wantType != typ {
		return errMsg("InvalidRequest", "The upload was created using the "+typ+" checksum mode. The complete request must use the same checksum mode.")
	}
	for i, sums := range listed {
		for alg, val := range sums {
			if u.ChecksumAlgorithm != "" && alg != u.ChecksumAlgorithm {
				return errMsg("InvalidRequest", "Checksum Type mismatch occurred, expected checksum Type: "+strings.ToLower(u.ChecksumAlgorithm)+", actual checksum Type: "+strings.ToLower(alg))
			}
			if have, ok := stored[i].Checksums[alg]; ok && have != val {
				return errCode("InvalidPart")
			}
		}
		if typ == objectstore.ChecksumComposite && listed[i][u.ChecksumAlgorithm] == "" {
			return errMsg("InvalidRequest", "The upload was created using a "+strings.ToLower(u.ChecksumAlgorithm)+" checksum. The complete request must include the checksum for each part. It was missing for part "+itoa(stored[i].PartNumber)+" in the request.")
		}
	}
	for alg, val := range whole {
		have, ok := info.Checksums[alg]
		if !ok {
			return errMsg("InvalidRequest", "Checksum Type mismatch occurred, expected checksum Type: "+strings.ToLower(checksumAlgorithm(info.Checksums))+", actual checksum Type: "+strings.ToLower(alg))
		}
		if base, _, _ := strings.Cut(have, "-"); val != have && val != base {
			return errMsg("BadDigest", "The "+alg+" you specified did not match the calculated checksum.")
		}
	}
	return nil
}

// writeChecksumElems writes Checksum<ALG> elements in a stable order.
func writeChecksumElems(x *xmlw, sums map[string]string) {
	for _, alg := range []string{"CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"} {
		if v, ok := sums[alg]; ok {
			x.elem("Checksum"+alg, v)
		}
	}
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
		writeChecksumElems(&x, p.Checksums)
		x.elemInt("Size", p.Size)
		x.close("Part")
	}
	writeOwner(&x, "Initiator")
	writeOwner(&x, "Owner")
	x.elem("StorageClass", "STANDARD")
	writeUploadChecksum(&x, res.Upload)
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
	encoding, enc, serr := keyEncoding(query)
	if serr != nil {
		return serr
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
		writeUploadChecksum(&x, u)
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

// writeUploadChecksum names an upload's checksum algorithm and type, for the listings.
func writeUploadChecksum(x *xmlw, u objectstore.UploadInfo) {
	if u.ChecksumAlgorithm != "" {
		x.elem("ChecksumAlgorithm", u.ChecksumAlgorithm)
		x.elem("ChecksumType", u.ChecksumType)
	}
}
