package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func sumB64(h hash.Hash, b []byte) string {
	h.Write(b)
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// TestS3ChecksumsEndToEnd drives the binary's S3 checksums with the SDK and with the AWS CLI:
// the default CRC64NVME of an object written without a checksum, multipart uploads of type
// FULL_OBJECT and COMPOSITE, checksums in ListParts and ListMultipartUploads, CopyObject with
// a new algorithm, GetObjectAttributes, and aws-chunked trailers ended by a bare LF.
func TestS3ChecksumsEndToEnd(t *testing.T) {
	if _, err := os.Stat(awsCLI); err != nil {
		t.Skip("AWS CLI v2 not installed (.ci/run installs Debian's awscli)")
	}
	s := start(t, "--ephemeral")
	ctx := context.Background()
	sc := s3Client(s.endpoint)
	o := sc.Options()
	o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
	bare := s3.New(o) // sends no checksum where none is required
	crc64NVME := crc64.MakeTable(0x9a6c9329ac4bc9b5)
	dir := t.TempDir()
	body := bytes.Repeat([]byte("end to end checksum "), 400)
	file := filepath.Join(dir, "body.bin")
	if err := os.WriteFile(file, body, 0o644); err != nil {
		t.Fatal(err)
	}
	cli(t, s.endpoint, "s3api", "create-bucket", "--bucket", "sums")

	// Default CRC64NVME: the CLI's put-object sends only Content-MD5; the SDK told to send
	// checksums when required sends nothing.
	cli(t, s.endpoint, "s3api", "put-object", "--bucket", "sums", "--key", "cli-plain", "--body", file)
	put, err := bare.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("sums"), Key: aws.String("sdk-plain"), Body: bytes.NewReader(body)})
	if err != nil {
		t.Fatal(err)
	}
	want := sumB64(crc64.New(crc64NVME), body)
	if aws.ToString(put.ChecksumCRC64NVME) != want || put.ChecksumType != types.ChecksumTypeFullObject {
		t.Errorf("sdk put: %q %q", aws.ToString(put.ChecksumCRC64NVME), put.ChecksumType)
	}
	for _, key := range []string{"cli-plain", "sdk-plain"} {
		out, err := sc.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("sums"), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		_, err = got.ReadFrom(out.Body) // the SDK checks the CRC64NVME as it reads
		out.Body.Close()
		if err != nil || !bytes.Equal(got.Bytes(), body) || aws.ToString(out.ChecksumCRC64NVME) != want {
			t.Errorf("%s: get %v, crc64nvme %q", key, err, aws.ToString(out.ChecksumCRC64NVME))
		}
	}

	// GetObjectAttributes through the CLI and the SDK.
	var attrs struct {
		ETag        string
		ObjectSize  int64
		Checksum    map[string]string
		ObjectParts *struct {
			TotalPartsCount int
			Parts           []map[string]any
		}
	}
	out := cli(t, s.endpoint, "s3api", "get-object-attributes", "--bucket", "sums", "--key", "cli-plain",
		"--object-attributes", "ETag", "Checksum", "ObjectSize", "StorageClass", "ObjectParts")
	if err := json.Unmarshal([]byte(out), &attrs); err != nil || attrs.ObjectSize != int64(len(body)) || strings.Contains(attrs.ETag, `"`) || attrs.ObjectParts != nil {
		t.Errorf("cli get-object-attributes: %v\n%s", err, out)
	}
	ga, err := sc.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: aws.String("sums"), Key: aws.String("cli-plain"),
		ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesChecksum, types.ObjectAttributesObjectSize}})
	if err != nil || ga.Checksum == nil || aws.ToString(ga.Checksum.ChecksumCRC64NVME) != want || ga.Checksum.ChecksumType != types.ChecksumTypeFullObject {
		t.Errorf("sdk get-object-attributes: %+v %v", ga, err)
	}

	// A COMPOSITE SHA256 upload through the CLI, its checksums listed by list-parts and
	// list-multipart-uploads, and its parts by get-object-attributes.
	big := bytes.Repeat([]byte("part bytes "), (5<<20)/11+1)
	parts := [][]byte{big, []byte("last part")}
	var upload struct{ UploadId string }
	json.Unmarshal([]byte(cli(t, s.endpoint, "s3api", "create-multipart-upload", "--bucket", "sums", "--key", "composite", "--checksum-algorithm", "SHA256")), &upload)
	type part struct {
		PartNumber     int
		ETag           string
		ChecksumSHA256 string
	}
	var done []part
	for i, p := range parts {
		name := filepath.Join(dir, fmt.Sprintf("part%d", i+1))
		os.WriteFile(name, p, 0o644)
		var up part
		json.Unmarshal([]byte(cli(t, s.endpoint, "s3api", "upload-part", "--bucket", "sums", "--key", "composite", "--upload-id", upload.UploadId,
			"--part-number", fmt.Sprint(i+1), "--body", name, "--checksum-algorithm", "SHA256")), &up)
		if up.ChecksumSHA256 != sumB64(sha256.New(), p) {
			t.Errorf("upload-part %d: %+v", i+1, up)
		}
		up.PartNumber = i + 1
		done = append(done, up)
	}
	lp := cli(t, s.endpoint, "s3api", "list-parts", "--bucket", "sums", "--key", "composite", "--upload-id", upload.UploadId)
	if !strings.Contains(lp, `"ChecksumAlgorithm": "SHA256"`) || !strings.Contains(lp, done[1].ChecksumSHA256) {
		t.Errorf("list-parts: %s", lp)
	}
	lu, err := sc.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("sums")})
	if err != nil || len(lu.Uploads) != 1 || lu.Uploads[0].ChecksumAlgorithm != types.ChecksumAlgorithmSha256 || lu.Uploads[0].ChecksumType != types.ChecksumTypeComposite {
		t.Errorf("sdk list-multipart-uploads: %+v %v", lu, err)
	}
	mpu, _ := json.Marshal(map[string]any{"Parts": done})
	os.WriteFile(filepath.Join(dir, "mpu.json"), mpu, 0o644)
	comp := cli(t, s.endpoint, "s3api", "complete-multipart-upload", "--bucket", "sums", "--key", "composite", "--upload-id", upload.UploadId,
		"--multipart-upload", "file://"+filepath.Join(dir, "mpu.json"))
	if !strings.Contains(comp, `-2"`) || !strings.Contains(comp, `"ChecksumSHA256"`) {
		t.Errorf("complete-multipart-upload: %s", comp)
	}
	attrs.ObjectParts = nil
	out = cli(t, s.endpoint, "s3api", "get-object-attributes", "--bucket", "sums", "--key", "composite",
		"--object-attributes", "Checksum", "ObjectParts", "--max-parts", "1")
	if err := json.Unmarshal([]byte(out), &attrs); err != nil || attrs.ObjectParts == nil || attrs.ObjectParts.TotalPartsCount != 2 ||
		len(attrs.ObjectParts.Parts) != 1 || attrs.ObjectParts.Parts[0]["ChecksumSHA256"] != done[0].ChecksumSHA256 || attrs.Checksum["ChecksumSHA256"] == "" {
		t.Errorf("get-object-attributes of the composite object: %v\n%s", err, out)
	}

	// A FULL_OBJECT CRC32 upload through the SDK, its CRC checked on Complete.
	cr, err := sc.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("sums"), Key: aws.String("full"),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32, ChecksumType: types.ChecksumTypeFullObject})
	if err != nil {
		t.Fatal(err)
	}
	var cparts []types.CompletedPart
	for i, p := range parts {
		up, err := sc.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("sums"), Key: aws.String("full"), UploadId: cr.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32})
		if err != nil {
			t.Fatal(err)
		}
		cparts = append(cparts, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: up.ETag, ChecksumCRC32: up.ChecksumCRC32})
	}
	whole := sumB64(crc32.NewIEEE(), bytes.Join(parts, nil))
	_, err = sc.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("sums"), Key: aws.String("full"), UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: cparts}, ChecksumCRC32: aws.String(sumB64(crc32.NewIEEE(), []byte("no"))), ChecksumType: types.ChecksumTypeFullObject})
	if !strings.Contains(fmt.Sprint(err), "BadDigest") {
		t.Errorf("complete with a wrong full-object crc32: %v", err)
	}
	fc, err := sc.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("sums"), Key: aws.String("full"), UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: cparts}, ChecksumCRC32: aws.String(whole), ChecksumType: types.ChecksumTypeFullObject})
	if err != nil || aws.ToString(fc.ChecksumCRC32) != whole || fc.ChecksumType != types.ChecksumTypeFullObject {
		t.Errorf("complete full object: %+v %v", fc, err)
	}

	// CopyObject with a new algorithm, through the CLI, read back with the SDK.
	cli(t, s.endpoint, "s3api", "copy-object", "--bucket", "sums", "--key", "copied", "--copy-source", "sums/cli-plain", "--checksum-algorithm", "CRC32")
	head, err := sc.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("sums"), Key: aws.String("copied"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil || aws.ToString(head.ChecksumCRC32) != sumB64(crc32.NewIEEE(), body) || head.ChecksumCRC64NVME != nil {
		t.Errorf("copy with crc32: %+v %v", head, err)
	}

	// Trailer lines ended by a bare LF, which neither the SDK nor the CLI writes.
	data := "bare LF trailer body"
	crc := sumB64(crc32.NewIEEE(), []byte(data))
	req, err := http.NewRequest("PUT", s.endpoint+"/sums/lf", strings.NewReader(fmt.Sprintf("%x\r\n%s\r\n0\r\nx-amz-checksum-crc32:%s\n\n", len(data), data, crc)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
	req.Header.Set("x-amz-decoded-content-length", fmt.Sprint(len(data)))
	req.Header.Set("x-amz-trailer", "x-amz-checksum-crc32")
	req.Header.Set("Content-Encoding", "aws-chunked")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("x-amz-checksum-crc32") != crc {
		t.Errorf("bare LF trailer: %d %v", resp.StatusCode, resp.Header)
	}
	if got := getObject(t, sc, "sums", "lf"); string(got) != data {
		t.Errorf("bare LF trailer object: %q", got)
	}
}
