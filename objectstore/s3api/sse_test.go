package s3api_test

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestStoredObjectAttributes: storage class (checked against the model's enum), website
// redirect and server-side encryption (SSE-S3, SSE-KMS, SSE-C, the bucket's default) are kept
// and returned; a presigned PUT stores the headers its URL carries; and a copy onto itself
// is allowed once it changes one of them.
func TestStoredObjectAttributes(t *testing.T) {
	forStyles(t, func(t *testing.T, s *server, c *s3.Client) {
		ctx := context.Background()
		b := aws.String("attrs")
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: b}); err != nil {
			t.Fatal(err)
		}
		for _, sc := range types.StorageClass("").Values() {
			key := aws.String("sc/" + string(sc))
			if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: key, Body: strings.NewReader("x"), StorageClass: sc}); err != nil {
				t.Fatalf("storage class %s: %v", sc, err)
			}
			head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: key})
			want := sc
			if sc == types.StorageClassStandard {
				want = "" // S3 names no class for STANDARD
			}
			if err != nil || head.StorageClass != want {
				t.Fatalf("head %s: %v %q", sc, err, head.StorageClass)
			}
		}
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("k"), Body: strings.NewReader("x"), StorageClass: "COLD"})
		if apiCode(err) != "InvalidStorageClass" || httpStatus(err) != 400 {
			t.Fatalf("bad storage class: %v", err)
		}
		list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: b, Prefix: aws.String("sc/GLACIER")})
		if err != nil || len(list.Contents) != 2 || list.Contents[0].StorageClass != types.ObjectStorageClassGlacier {
			t.Fatalf("listed storage class: %v %+v", err, list.Contents)
		}

		_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("page"), Body: strings.NewReader("x"), WebsiteRedirectLocation: aws.String("/other.html")})
		if err != nil {
			t.Fatal(err)
		}
		head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: aws.String("page")})
		if err != nil || aws.ToString(head.WebsiteRedirectLocation) != "/other.html" {
			t.Fatalf("redirect: %v %+v", err, head.WebsiteRedirectLocation)
		}
		_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("page"), Body: strings.NewReader("x"), WebsiteRedirectLocation: aws.String("ftp://x")})
		if apiCode(err) != "InvalidRedirectLocation" {
			t.Fatalf("bad redirect: %v", err)
		}

		// SSE-S3 by default, SSE-KMS as asked, SSE-C with the key's MD5.
		put, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("plain"), Body: strings.NewReader("x")})
		if err != nil || put.ServerSideEncryption != types.ServerSideEncryptionAes256 {
			t.Fatalf("default SSE: %v %q", err, put.ServerSideEncryption)
		}
		put, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("kms"), Body: strings.NewReader("x"),
			ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String("arn:aws:kms:us-east-1:000000000000:key/k1"), BucketKeyEnabled: aws.Bool(true)})
		if err != nil || put.ServerSideEncryption != types.ServerSideEncryptionAwsKms || aws.ToString(put.SSEKMSKeyId) != "arn:aws:kms:us-east-1:000000000000:key/k1" {
			t.Fatalf("SSE-KMS put: %v %+v", err, put)
		}
		head, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: aws.String("kms")})
		if err != nil || head.ServerSideEncryption != types.ServerSideEncryptionAwsKms || !aws.ToBool(head.BucketKeyEnabled) || aws.ToString(head.SSEKMSKeyId) == "" {
			t.Fatalf("SSE-KMS head: %v %+v", err, head)
		}
		_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("bad"), Body: strings.NewReader("x"), SSEKMSKeyId: aws.String("k")})
		if apiCode(err) != "InvalidArgument" {
			t.Fatalf("KMS key without aws:kms: %v", err)
		}
		key := []byte("0123456789abcdef0123456789abcdef")
		sum := md5.Sum(key)
		keyMD5 := base64.StdEncoding.EncodeToString(sum[:])
		put, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("ssec"), Body: strings.NewReader("x"),
			SSECustomerAlgorithm: aws.String("AES256"), SSECustomerKey: aws.String(base64.StdEncoding.EncodeToString(key))})
		if err != nil || aws.ToString(put.SSECustomerKeyMD5) != keyMD5 || put.ServerSideEncryption != "" {
			t.Fatalf("SSE-C put: %v %+v", err, put)
		}
		_, err = c.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: b, ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{
			Rules: []types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{
				SSEAlgorithm: types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String("alias/bucket-default")}}}}})
		if err != nil {
			t.Fatal(err)
		}
		put, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("defaulted"), Body: strings.NewReader("x")})
		if err != nil || put.ServerSideEncryption != types.ServerSideEncryptionAwsKms || aws.ToString(put.SSEKMSKeyId) != "alias/bucket-default" {
			t.Fatalf("bucket default SSE: %v %+v", err, put)
		}

		// A copy onto itself is refused unless it changes something S3 keeps.
		_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: b, Key: aws.String("plain"), CopySource: aws.String("attrs/plain")})
		if apiCode(err) != "InvalidRequest" {
			t.Fatalf("copy onto itself: %v", err)
		}
		_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: b, Key: aws.String("plain"), CopySource: aws.String("attrs/plain"), StorageClass: types.StorageClassStandardIa})
		if err != nil {
			t.Fatalf("copy onto itself changing the storage class: %v", err)
		}
		head, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: aws.String("plain")})
		if err != nil || head.StorageClass != types.StorageClassStandardIa {
			t.Fatalf("storage class after copy: %v %q", err, head.StorageClass)
		}

		// A presigned PUT carries its x-amz-* headers in the query; S3 stores them.
		pre, err := s3.NewPresignClient(c).PresignPutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("presigned"),
			Metadata: map[string]string{"origin": "browser"}, StorageClass: types.StorageClassOnezoneIa})
		if err != nil {
			t.Fatal(err)
		}
		u := pre.URL
		if !strings.Contains(u, "x-amz-meta-origin=") {
			// The SDK signs these as headers; move them into the query as other signers do.
			u += "&x-amz-meta-origin=browser&x-amz-storage-class=ONEZONE_IA"
		}
		// Dial the server whatever host the URL names (bucket.s3.localhost in vhost style).
		parsed, _ := url.Parse(u)
		host := parsed.Host
		parsed.Host = s.addr
		req, _ := http.NewRequest(http.MethodPut, parsed.String(), strings.NewReader("from a URL"))
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("presigned PUT: %v %v", err, resp)
		}
		resp.Body.Close()
		head, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: aws.String("presigned")})
		if err != nil || head.Metadata["origin"] != "browser" || head.StorageClass != types.StorageClassOnezoneIa {
			t.Fatalf("presigned PUT stored %v %+v %q", err, head.Metadata, head.StorageClass)
		}
	})
}
