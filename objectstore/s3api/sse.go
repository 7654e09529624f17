package s3api

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/localpipe/localpipe/objectstore"
)

// Storage classes, website redirects and server-side encryption are kept as the writer gave
// them and returned on reads, checked as S3 checks them; the bytes are stored alike.

// storageAndRedirect reads x-amz-storage-class and x-amz-website-redirect-location.
func storageAndRedirect(h http.Header, m *objectstore.ObjectMeta) *s3Error {
	if sc := h.Get("X-Amz-Storage-Class"); sc != "" {
		if !modelEnums["StorageClass"][sc] {
			return errMsg("InvalidStorageClass", "The storage class you specified is not valid", [2]string{"StorageClassRequested", bounded(sc)})
		}
		if sc != "STANDARD" {
			m.StorageClass = sc
		}
	}
	if loc := h.Get("X-Amz-Website-Redirect-Location"); loc != "" {
		if !strings.HasPrefix(loc, "/") && !strings.HasPrefix(loc, "http://") && !strings.HasPrefix(loc, "https://") {
			return errMsg("InvalidRedirectLocation", "The website redirect location must have a prefix of 'http://' or 'https://' or '/'.")
		}
		m.WebsiteRedirect = loc
	}
	return nil
}

// requestSSE reads the server-side encryption headers of a write: SSE-S3 or SSE-KMS
// (x-amz-server-side-encryption…) or SSE-C (…-customer-…). nil when the request names none.
func requestSSE(h http.Header) (*objectstore.SSE, *s3Error) {
	alg := h.Get("X-Amz-Server-Side-Encryption")
	keyID := h.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id")
	ctx := h.Get("X-Amz-Server-Side-Encryption-Context")
	bucketKey := h.Get("X-Amz-Server-Side-Encryption-Bucket-Key-Enabled")
	cAlg := h.Get("X-Amz-Server-Side-Encryption-Customer-Algorithm")
	cKey := h.Get("X-Amz-Server-Side-Encryption-Customer-Key")
	cMD5 := h.Get("X-Amz-Server-Side-Encryption-Customer-Key-Md5")
	arg := func(msg, name, value string) *s3Error {
		return errMsg("InvalidArgument", msg, [2]string{"ArgumentName", name}, [2]string{"ArgumentValue", bounded(value)})
	}
	if cAlg != "" || cKey != "" || cMD5 != "" {
		if alg != "" {
			return nil, arg("Server Side Encryption with Customer provided key is incompatible with the encryption method specified", "x-amz-server-side-encryption", alg)
		}
		if cAlg != "AES256" {
			return nil, arg("The encryption algorithm specified is not valid", "x-amz-server-side-encryption-customer-algorithm", cAlg)
		}
		key, err := base64.StdEncoding.DecodeString(cKey)
		if err != nil || len(key) != 32 {
			return nil, arg("The secret key was invalid for the specified algorithm.", "x-amz-server-side-encryption-customer-key", "")
		}
		sum := md5.Sum(key)
		want := base64.StdEncoding.EncodeToString(sum[:])
		if cMD5 != "" && cMD5 != want {
			return nil, arg("The calculated MD5 hash of the key did not match the hash that was provided.", "x-amz-server-side-encryption-customer-key-MD5", cMD5)
		}
		return &objectstore.SSE{CustomerAlgorithm: cAlg, CustomerKeyMD5: want}, nil
	}
	if alg == "" {
		if keyID != "" {
			return nil, arg("Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms", "x-amz-server-side-encryption-aws-kms-key-id", keyID)
		}
		return nil, nil
	}
	if !modelEnums["ServerSideEncryption"][alg] || alg == "aws:fsx" || alg == "aws:backup" {
		return nil, arg("The encryption method specified is not supported", "x-amz-server-side-encryption", alg)
	}
	if alg == "AES256" && (keyID != "" || ctx != "") {
		return nil, arg("Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms", "x-amz-server-side-encryption-aws-kms-key-id", keyID)
	}
	sse := &objectstore.SSE{Algorithm: alg, Context: ctx, BucketKey: strings.EqualFold(bucketKey, "true")}
	if strings.HasPrefix(alg, "aws:kms") {
		sse.KMSKeyID = keyID
		if sse.KMSKeyID == "" {
			// S3 uses the account's AWS managed key, aws/s3.
			sse.KMSKeyID = "arn:aws:kms:us-east-1:000000000000:alias/aws/s3"
		}
	}
	return sse, nil
}

type encryptionDoc struct {
	Rules []struct {
		Default struct {
			Algorithm string `xml:"SSEAlgorithm"`
			KeyID     string `xml:"KMSMasterKeyID"`
		} `xml:"ApplyServerSideEncryptionByDefault"`
		BucketKey bool `xml:"BucketKeyEnabled"`
	} `xml:"Rule"`
}

// bucketDefaultSSE is the encryption the bucket's configuration applies to writes that name
// none; nil for S3's default, SSE-S3.
func (q *request) bucketDefaultSSE() *objectstore.SSE {
	doc, err := q.h.store.BucketConfig(q.r.Context(), q.bucket, "encryption")
	if err != nil {
		return nil
	}
	var d encryptionDoc
	if decodeXML(bytes.NewReader(doc), "ServerSideEncryptionConfiguration", &d) != nil || len(d.Rules) == 0 {
		return nil
	}
	r := d.Rules[0]
	if r.Default.Algorithm == "" || r.Default.Algorithm == "AES256" && !r.BucketKey {
		return nil
	}
	sse := &objectstore.SSE{Algorithm: r.Default.Algorithm, KMSKeyID: r.Default.KeyID, BucketKey: r.BucketKey}
	if strings.HasPrefix(sse.Algorithm, "aws:kms") && sse.KMSKeyID == "" {
		sse.KMSKeyID = "arn:aws:kms:us-east-1:000000000000:alias/aws/s3"
	}
	return sse
}

// writeSSEHeaders answers with how an object is encrypted.
func writeSSEHeaders(h http.Header, sse *objectstore.SSE) {
	switch {
	case sse == nil:
		h.Set("X-Amz-Server-Side-Encryption", "AES256")
	case sse.CustomerAlgorithm != "":
		h.Set("X-Amz-Server-Side-Encryption-Customer-Algorithm", sse.CustomerAlgorithm)
		h.Set("X-Amz-Server-Side-Encryption-Customer-Key-Md5", sse.CustomerKeyMD5)
	default:
		h.Set("X-Amz-Server-Side-Encryption", sse.Algorithm)
		if sse.KMSKeyID != "" {
			h.Set("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id", sse.KMSKeyID)
		}
		if sse.Context != "" {
			h.Set("X-Amz-Server-Side-Encryption-Context", sse.Context)
		}
		if sse.BucketKey {
			h.Set("X-Amz-Server-Side-Encryption-Bucket-Key-Enabled", "true")
		}
	}
}

// storageClass is how listings name an object's storage class.
func storageClass(sc string) string {
	if sc == "" {
		return "STANDARD"
	}
	return sc
}
