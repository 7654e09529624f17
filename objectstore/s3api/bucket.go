package s3api

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/localpipe/localpipe/internal/awsjson"
	"github.com/localpipe/localpipe/objectstore"
)

// listBuckets is ListBuckets, with the paging (max-buckets, continuation-token) and the
// prefix and bucket-region filters S3 added in 2024.
func (q *request) listBuckets() *s3Error {
	query := q.r.URL.Query()
	max := 10000
	paged := false
	if v, ok := query["max-buckets"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 1 || n > 10000 {
			return errMsg("InvalidArgument", "Argument max-buckets must be an integer between 1 and 10000",
				[2]string{"ArgumentName", "max-buckets"}, [2]string{"ArgumentValue", bounded(v[0])})
		}
		max, paged = n, true
	}
	after := ""
	if tok := query.Get("continuation-token"); tok != "" {
		a, err := decodeToken(tok)
		if err != nil {
			return errMsg("InvalidArgument", "The continuation token provided is incorrect",
				[2]string{"ArgumentName", "continuation-token"}, [2]string{"ArgumentValue", bounded(tok)})
		}
		after, paged = a, true
	}
	prefix, region := query.Get("prefix"), query.Get("bucket-region")
	buckets, err := q.h.store.ListBuckets(q.r.Context())
	if err != nil {
		return q.fail(err)
	}
	var x xmlw
	x.header()
	x.root("ListAllMyBucketsResult")
	writeOwner(&x, "Owner")
	x.open("Buckets")
	n, next, lastName := 0, "", ""
	for _, b := range buckets {
		if !strings.HasPrefix(b.Name, prefix) || region != "" && b.Region != region || b.Name <= after {
			continue
		}
		if n == max {
			next = encodeToken(lastName)
			break
		}
		x.open("Bucket")
		x.elem("Name", b.Name)
		x.elemTime("CreationDate", b.Created)
		x.elem("BucketRegion", b.Region)
		x.elem("BucketArn", "arn:aws:s3:::"+b.Name)
		x.close("Bucket")
		lastName = b.Name
		n++
	}
	x.close("Buckets")
	if next != "" && paged {
		x.elem("ContinuationToken", next)
	}
	if prefix != "" {
		x.elem("Prefix", prefix)
	}
	x.close("ListAllMyBucketsResult")
	return q.ok(&x)
}

func writeOwner(x *xmlw, name string) {
	x.open(name)
	x.elem("ID", ownerID)
	x.elem("DisplayName", ownerName)
	x.close(name)
}

func (q *request) bucketInfo() (objectstore.BucketInfo, *s3Error) {
	bi, err := q.h.store.HeadBucket(q.r.Context(), q.bucket)
	if err != nil {
		return bi, q.fail(err)
	}
	return bi, nil
}

func (q *request) headBucket() *s3Error {
	bi, err := q.bucketInfo()
	if err != nil {
		return err
	}
	q.w.Header().Set("X-Amz-Bucket-Region", bi.Region)
	q.w.Header().Set("X-Amz-Access-Point-Alias", "false")
	return q.empty(http.StatusOK)
}

func (q *request) getBucketLocation() *s3Error {
	bi, err := q.bucketInfo()
	if err != nil {
		return err
	}
	var x xmlw
	x.header()
	// us-east-1 is the empty location constraint, for historical reasons.
	if bi.Region == "us-east-1" {
		x.b = append(x.b, `<LocationConstraint xmlns="`+s3NS+`"/>`...)
	} else {
		x.root("LocationConstraint")
		x.text(bi.Region)
		x.close("LocationConstraint")
	}
	return q.ok(&x)
}

func (q *request) getObjectTagging() *s3Error {
	info, err := q.h.store.HeadObjectVersion(q.r.Context(), q.bucket, q.key, q.versionID())
	if err != nil {
		return q.fail(err)
	}
	q.setVersionHeader(info.VersionID)
	x := xmlw{b: taggingDocument(info.Tags)}
	return q.ok(&x)
}

// createBucket applies S3's location rules: a request signed for a region other than
// us-east-1 must name that region as its LocationConstraint, a constraint must be a region
// S3 knows (and never us-east-1 itself, which is the empty constraint), and creating a bucket
// you already own is BucketAlreadyOwnedByYou, except in us-east-1, which answers 200 for
// historical reasons. An unsigned request names no region and is let through.
func (q *request) createBucket() *s3Error {
	signed := q.r.Header.Get("Authorization") != "" || q.r.URL.Query().Get("X-Amz-Credential") != ""
	endpoint := q.h.region
	if signed {
		endpoint = awsjson.Region(q.r)
	}
	constraint := ""
	if q.r.ContentLength != 0 {
		v, err := decodeBody(q.r)
		if err != nil {
			return err
		}
		var body createBucketRequest
		if err := decodeXML(v, "CreateBucketConfiguration", &body); err != nil {
			if errors.Is(err, errMalformedXML) {
				return errCode("MalformedXML")
			}
			return q.fail(err)
		}
		constraint = body.LocationConstraint
	}
	if !objectstore.ValidBucketName(q.bucket) {
		return errCode("InvalidBucketName", [2]string{"BucketName", q.bucket})
	}
	region := endpoint
	switch {
	case constraint == "" && signed && endpoint != "us-east-1":
		return errMsg("IllegalLocationConstraintException", "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.")
	case constraint == "":
	case !modelEnums["BucketLocationConstraint"][constraint]:
		return errMsg("InvalidLocationConstraint", "The specified location-constraint is not valid",
			[2]string{"LocationConstraint", bounded(constraint)})
	case signed && endpoint != "us-east-1" && endpoint != constraint && !(constraint == "EU" && endpoint == "eu-west-1"):
		return errMsg("IllegalLocationConstraintException",
			"The "+constraint+" location constraint is incompatible for the region specific endpoint this request was sent to.")
	case constraint == "EU":
		region = "eu-west-1"
	default:
		region = constraint
	}
	err := q.h.store.CreateBucket(q.r.Context(), q.bucket, region)
	if errors.Is(err, objectstore.ErrBucketExists) && region == "us-east-1" {
		if bi, herr := q.h.store.HeadBucket(q.r.Context(), q.bucket); herr == nil && bi.Region == "us-east-1" {
			err = nil
		}
	}
	if err != nil {
		return q.fail(err)
	}
	q.w.Header().Set("Location", "/"+q.bucket)
	return q.empty(http.StatusOK)
}

func (q *request) deleteBucket() *s3Error {
	if err := q.h.store.DeleteBucket(q.r.Context(), q.bucket); err != nil {
		return q.fail(err)
	}
	return q.empty(http.StatusNoContent)
}

// listObjects serves ListObjectsV2 (version 2) and ListObjects (version 1).
func (q *request) listObjects(version int) *s3Error {
	query := q.r.URL.Query()
	in := objectstore.ListInput{Prefix: query.Get("prefix"), Delimiter: query.Get("delimiter"), MaxKeys: 1000}
	if s, ok := query["max-keys"]; ok {
		n, err := strconv.Atoi(s[0])
		if err != nil {
			return errMsg("InvalidArgument", "Provided max-keys not an integer or within integer range",
				[2]string{"ArgumentName", "max-keys"}, [2]string{"ArgumentValue", s[0]})
		}
		if n < 0 {
			return errMsg("InvalidArgument", "Argument maxKeys must be an integer between 0 and 2147483647",
				[2]string{"ArgumentName", "maxKeys"}, [2]string{"ArgumentValue", s[0]})
		}
		in.MaxKeys = min(n, 1000)
	}
	encoding, enc, serr := keyEncoding(query)
	if serr != nil {
		return serr
	}
	token, hasToken := query["continuation-token"]
	if version == 2 {
		in.StartAfter = query.Get("start-after")
		if hasToken {
			after, err := decodeToken(token[0])
			if err != nil {
				return errMsg("InvalidArgument", "The continuation token provided is incorrect",
					[2]string{"ArgumentName", "continuation-token"})
			}
			in.StartAfter = after
		}
	} else {
		in.StartAfter = query.Get("marker")
	}
	res, err := q.h.store.List(q.r.Context(), q.bucket, in)
	if err != nil {
		return q.fail(err)
	}
	fetchOwner := version == 1 || query.Get("fetch-owner") == "true"

	var x xmlw
	x.header()
	x.root("ListBucketResult")
	x.elem("Name", q.bucket)
	x.elem("Prefix", enc(in.Prefix))
	if version == 1 {
		x.elem("Marker", enc(query.Get("marker")))
		if res.IsTruncated && in.Delimiter != "" {
			x.elem("NextMarker", enc(res.Last))
		}
	} else {
		if hasToken {
			x.elem("ContinuationToken", token[0])
		}
		if res.IsTruncated {
			x.elem("NextContinuationToken", encodeToken(res.Last))
		}
		x.elemInt("KeyCount", int64(len(res.Objects)+len(res.CommonPrefixes)))
		if s := query.Get("start-after"); s != "" {
			x.elem("StartAfter", enc(s))
		}
	}
	x.elemInt("MaxKeys", int64(in.MaxKeys))
	if in.Delimiter != "" {
		x.elem("Delimiter", enc(in.Delimiter))
	}
	if encoding != "" {
		x.elem("EncodingType", encoding)
	}
	x.elemBool("IsTruncated", res.IsTruncated)
	for _, o := range res.Objects {
		x.open("Contents")
		x.elem("Key", enc(o.Key))
		x.elemTime("LastModified", o.LastModified)
		x.elem("ETag", o.ETag)
		if alg := checksumAlgorithm(o.Checksums); alg != "" {
			x.elem("ChecksumAlgorithm", alg)
			x.elem("ChecksumType", checksumType(o))
		}
		x.elemInt("Size", o.Size)
		if fetchOwner {
			writeOwner(&x, "Owner")
		}
		x.elem("StorageClass", storageClass(o.StorageClass))
		x.close("Contents")
	}
	for _, p := range res.CommonPrefixes {
		x.open("CommonPrefixes")
		x.elem("Prefix", enc(p))
		x.close("CommonPrefixes")
	}
	x.close("ListBucketResult")
	return q.ok(&x)
}

// Continuation tokens are opaque to clients; ours carry the key to continue after.
func encodeToken(after string) string {
	return base64.StdEncoding.EncodeToString([]byte("1:" + after))
}

func decodeToken(tok string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(tok)
	if err != nil {
		return "", err
	}
	after, ok := strings.CutPrefix(string(b), "1:")
	if !ok {
		return "", errors.New("bad token")
	}
	return after, nil
}

// maxDeleteKeys is S3's limit on DeleteObjects.
const maxDeleteKeys = 1000

func (q *request) deleteObjects() *s3Error {
	if _, err := q.bucketInfo(); err != nil {
		return err
	}
	v, serr := decodeBody(q.r)
	if serr != nil {
		return serr
	}
	if v.wantMD5 == nil && len(v.sums) == 0 {
		return errMsg("InvalidRequest", "Missing required header for this request: Content-MD5 OR x-amz-checksum-*")
	}
	var body deleteRequest
	if err := decodeXML(v, "Delete", &body); err != nil {
		if errors.Is(err, errMalformedXML) {
			return errCode("MalformedXML")
		}
		return q.fail(err)
	}
	if len(body.Objects) == 0 || len(body.Objects) > maxDeleteKeys {
		return errCode("MalformedXML")
	}
	for _, o := range body.Objects {
		if o.Key == nil {
			return errCode("MalformedXML")
		}
	}
	var x xmlw
	x.header()
	x.root("DeleteResult")
	for _, o := range body.Objects {
		key := *o.Key
		var (
			res objectstore.DeleteResult
			err error
		)
		if key == "" || len(key) > objectstore.MaxKeyLen {
			err = objectstore.ErrKeyTooLong
		} else {
			res, err = q.h.store.DeleteObjectVersion(q.r.Context(), q.bucket, key, o.VersionID)
		}
		if err != nil {
			e := q.h.toS3(q.r, q.bucket, key, err)
			if errors.Is(err, objectstore.ErrInvalidVersionID) {
				e = errMsg("NoSuchVersion", "The specified version does not exist.")
			}
			x.open("Error")
			x.elem("Key", key)
			if o.VersionID != "" {
				x.elem("VersionId", o.VersionID)
			}
			x.elem("Code", e.code)
			x.elem("Message", e.message())
			x.close("Error")
			continue
		}
		if !body.Quiet {
			x.open("Deleted")
			x.elem("Key", key)
			if o.VersionID != "" {
				x.elem("VersionId", o.VersionID)
			}
			if res.DeleteMarker {
				x.elemBool("DeleteMarker", true)
				x.elem("DeleteMarkerVersionId", res.VersionID)
			}
			x.close("Deleted")
		}
	}
	x.close("DeleteResult")
	return q.ok(&x)
}
