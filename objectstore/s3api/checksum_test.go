package s3api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"hash/crc64"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// crc64NVME is CRC-64/NVME as the SDKs compute it; TestCRC64NVMECheckValue pins the table to
// the algorithm's published check value.
var crc64NVME = crc64.MakeTable(0x9a6c9329ac4bc9b5)

func crc64b64(b []byte) string {
	h := crc64.New(crc64NVME)
	h.Write(b)
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// whenRequired is c as a client configured to send checksums only where an operation
// requires one, so a PutObject carries none.
func whenRequired(c *s3.Client) *s3.Client {
	o := c.Options()
	o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
	return s3.New(o)
}

func TestCRC64NVMECheckValue(t *testing.T) {
	if got := crc64.Checksum([]byte("123456789"), crc64NVME); got != 0xae8b14860a799888 {
		t.Fatalf("CRC-64/NVME check value %#x", got)
	}
}

// TestDefaultChecksum: an object written without a checksum gets a full-object CRC64NVME, as
// S3 stores now, returned on the PUT and on reads that ask with x-amz-checksum-mode.
func TestDefaultChecksum(t *testing.T) {
	forStyles(t, func(t *testing.T, s *server, c *s3.Client) {
		ctx := context.Background()
		bucket := aws.String("defsum")
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket}); err != nil {
			t.Fatal(err)
		}
		body := bytes.Repeat([]byte("default checksum "), 3000)
		want := crc64b64(body)

		// A raw PUT with no checksum header at all.
		resp, msg := s.do(t, "PUT", "/defsum/raw", bytes.NewReader(body), nil)
		if resp.StatusCode != 200 || resp.Header.Get("x-amz-checksum-crc64nvme") != want || resp.Header.Get("x-amz-checksum-type") != "FULL_OBJECT" {
			t.Errorf("raw put: %d %s %v", resp.StatusCode, msg, resp.Header)
		}
		resp, _ = s.do(t, "GET", "/defsum/raw", nil, map[string]string{"x-amz-checksum-mode": "ENABLED"})
		if resp.Header.Get("x-amz-checksum-crc64nvme") != want || resp.Header.Get("x-amz-checksum-type") != "FULL_OBJECT" {
			t.Errorf("raw get: %v", resp.Header)
		}
		if resp, _ = s.do(t, "GET", "/defsum/raw", nil, nil); resp.Header.Get("x-amz-checksum-crc64nvme") != "" {
			t.Errorf("checksum without x-amz-checksum-mode: %v", resp.Header)
		}

		// The SDK told to send checksums only when required sends none on PutObject.
		wr := whenRequired(c)
		put, err := wr.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("sdk"), Body: bytes.NewReader(body)})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(put.ChecksumCRC64NVME) != want || put.ChecksumType != types.ChecksumTypeFullObject || put.ChecksumCRC32 != nil {
			t.Errorf("put: crc64nvme %q type %q crc32 %v", aws.ToString(put.ChecksumCRC64NVME), put.ChecksumType, put.ChecksumCRC32)
		}
		// The SDK validates the body against the returned CRC64NVME as it reads.
		out, err := wr.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("sdk"), ChecksumMode: types.ChecksumModeEnabled})
		if got := read(t, out, err); !bytes.Equal(got, body) || aws.ToString(out.ChecksumCRC64NVME) != want || out.ChecksumType != types.ChecksumTypeFullObject {
			t.Errorf("get: %d bytes, crc64nvme %q type %q", len(got), aws.ToString(out.ChecksumCRC64NVME), out.ChecksumType)
		}
		head, err := wr.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: aws.String("sdk"), ChecksumMode: types.ChecksumModeEnabled})
		if err != nil || aws.ToString(head.ChecksumCRC64NVME) != want {
			t.Errorf("head: %v %v", head, err)
		}

		// A client's own checksum is the one stored; no CRC64NVME is added beside it.
		put, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("crc32"), Body: bytes.NewReader(body),
			ChecksumAlgorithm: types.ChecksumAlgorithmCrc32})
		if err != nil || put.ChecksumCRC32 == nil || put.ChecksumCRC64NVME != nil {
			t.Errorf("default sdk put: %+v %v", put, err)
		}
		lo, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range lo.Contents {
			want := types.ChecksumAlgorithmCrc64nvme
			if strings.HasSuffix(aws.ToString(o.Key), "crc32") {
				want = types.ChecksumAlgorithmCrc32
			}
			if len(o.ChecksumAlgorithm) != 1 || o.ChecksumAlgorithm[0] != want {
				t.Errorf("list %s: algorithm %v", aws.ToString(o.Key), o.ChecksumAlgorithm)
			}
		}
	})
}
