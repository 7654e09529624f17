package s3api

import (
	"bytes"
	"net/http"
	"strconv"

	"github.com/localpipe/localpipe/objectstore"
)

func (q *request) getBucketVersioning() *s3Error {
	bi, err := q.bucketInfo()
	if err != nil {
		return err
	}
	var x xmlw
	x.header()
	x.root("VersioningConfiguration")
	if bi.Versioning != "" {
		x.elem("Status", bi.Versioning)
	}
	x.close("VersioningConfiguration")
	return q.ok(&x)
}

type versioningDoc struct {
	Status    *string `xml:"Status"`
	MfaDelete *string `xml:"MfaDelete"`
}

func (q *request) putBucketVersioning() *s3Error {
	if _, err := q.bucketInfo(); err != nil {
		return err
	}
	doc, serr := q.readDocument("VersioningConfiguration")
	if serr != nil {
		return serr
	}
	var d versioningDoc
	if err := decodeXML(bytes.NewReader(doc), "VersioningConfiguration", &d); err != nil {
		return errCode("MalformedXML")
	}
	if d.MfaDelete != nil && *d.MfaDelete != "Disabled" && *d.MfaDelete != "Enabled" {
		return errCode("MalformedXML")
	}
	if d.Status == nil {
		// S3 accepts a document without Status and changes nothing.
		return q.empty(http.StatusOK)
	}
	if *d.Status != objectstore.VersioningEnabled && *d.Status != objectstore.VersioningSuspended {
		return errCode("MalformedXML")
	}
	if err := q.h.store.SetVersioning(q.r.Context(), q.bucket, *d.Status); err != nil {
		return q.fail(err)
	}
	return q.empty(http.StatusOK)
}

// listObjectVersions is ListObjectVersions: versions and delete markers in key order,
// newest first within a key.
func (q *request) listObjectVersions() *s3Error {
	query := q.r.URL.Query()
	maxKeys := 1000
	if v := query.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return errMsg("InvalidArgument", "Provided max-keys not an integer or within integer range",
				[2]string{"ArgumentName", "max-keys"}, [2]string{"ArgumentValue", bounded(v)})
		}
		maxKeys = min(n, 1000)
	}
	enc, key, serr := keyEncoding(query)
	if serr != nil {
		return serr
	}
	in := objectstore.ListVersionsInput{Prefix: query.Get("prefix"), Delimiter: query.Get("delimiter"),
		KeyMarker: query.Get("key-marker"), VersionIDMarker: query.Get("version-id-marker"), MaxKeys: maxKeys}
	if in.VersionIDMarker != "" && in.KeyMarker == "" {
		return errMsg("InvalidArgument", "A version-id marker cannot be specified without a key marker.",
			[2]string{"ArgumentName", "version-id-marker"}, [2]string{"ArgumentValue", bounded(in.VersionIDMarker)})
	}
	if in.VersionIDMarker != "" {
		if _, ok := objectstore.ParseVersionID(in.VersionIDMarker); !ok {
			return errMsg("InvalidArgument", "Invalid version id specified",
				[2]string{"ArgumentName", "version-id-marker"}, [2]string{"ArgumentValue", bounded(in.VersionIDMarker)})
		}
	}
	res, err := q.h.store.ListVersions(q.r.Context(), q.bucket, in)
	if err != nil {
		return q.fail(err)
	}
	var x xmlw
	x.header()
	x.root("ListVersionsResult")
	x.elem("Name", q.bucket)
	x.elem("Prefix", key(in.Prefix))
	x.elem("KeyMarker", key(in.KeyMarker))
	x.elem("VersionIdMarker", in.VersionIDMarker)
	if res.IsTruncated {
		x.elem("NextKeyMarker", key(res.NextKeyMarker))
		if res.NextVersionID != "" {
			x.elem("NextVersionIdMarker", res.NextVersionID)
		}
	}
	x.elemInt("MaxKeys", int64(maxKeys))
	if in.Delimiter != "" {
		x.elem("Delimiter", key(in.Delimiter))
	}
	x.elemBool("IsTruncated", res.IsTruncated)
	for _, v := range res.Versions {
		tag := "Version"
		if v.DeleteMarker {
			tag = "DeleteMarker"
		}
		x.open(tag)
		x.elem("Key", key(v.Key))
		x.elem("VersionId", v.VersionID)
		x.elemBool("IsLatest", v.IsLatest)
		x.elemTime("LastModified", v.LastModified)
		if !v.DeleteMarker {
			x.elem("ETag", v.ETag)
			x.elemInt("Size", v.Size)
			x.elem("StorageClass", storageClass(v.StorageClass))
		}
		writeOwner(&x, "Owner")
		x.close(tag)
	}
	for _, cp := range res.CommonPrefixes {
		x.open("CommonPrefixes")
		x.elem("Prefix", key(cp))
		x.close("CommonPrefixes")
	}
	if enc != "" {
		x.elem("EncodingType", enc)
	}
	x.close("ListVersionsResult")
	return q.ok(&x)
}
