package s3api_test

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/localpipe/localpipe/objectstore"
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
	h := objectstore.NewChecksum("CRC64NVME")
	h.Write([]byte("123456789"))
	if got := h.Sum(nil); !bytes.Equal(got, []byte{0xae, 0x8b, 0x14, 0x86, 0x0a, 0x79, 0x98, 0x88}) {
		t.Fatalf("objectstore's CRC64NVME check value %x", got)
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

func b64sum(h hash.Hash, b []byte) string {
	h.Write(b)
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// pickSum is the SDK's field for alg's checksum in a completed part, a part listing or a
// whole object.
func pickSum(alg types.ChecksumAlgorithm, crc32, crc32c, crc64, sha1, sha256 *string) string {
	return aws.ToString(map[types.ChecksumAlgorithm]*string{types.ChecksumAlgorithmCrc32: crc32, types.ChecksumAlgorithmCrc32c: crc32c,
		types.ChecksumAlgorithmCrc64nvme: crc64, types.ChecksumAlgorithmSha1: sha1, types.ChecksumAlgorithmSha256: sha256}[alg])
}

func setSum(alg types.ChecksumAlgorithm, v string, p *types.CompletedPart) {
	switch alg {
	case types.ChecksumAlgorithmCrc32:
		p.ChecksumCRC32 = &v
	case types.ChecksumAlgorithmCrc32c:
		p.ChecksumCRC32C = &v
	case types.ChecksumAlgorithmCrc64nvme:
		p.ChecksumCRC64NVME = &v
	case types.ChecksumAlgorithmSha1:
		p.ChecksumSHA1 = &v
	case types.ChecksumAlgorithmSha256:
		p.ChecksumSHA256 = &v
	}
}

func wholeSum(alg types.ChecksumAlgorithm, b []byte) string {
	var h hash.Hash
	switch alg {
	case types.ChecksumAlgorithmCrc32:
		h = crc32.NewIEEE()
	case types.ChecksumAlgorithmCrc32c:
		h = crc32.New(crc32.MakeTable(crc32.Castagnoli))
	case types.ChecksumAlgorithmCrc64nvme:
		h = crc64.New(crc64NVME)
	case types.ChecksumAlgorithmSha1:
		h = sha1.New()
	case types.ChecksumAlgorithmSha256:
		h = sha256.New()
	}
	return b64sum(h, b)
}

// TestMultipartChecksumTypes runs multipart uploads of each checksum type through the SDK:
// FULL_OBJECT (a CRC over the whole object, checked against the client's value on Complete),
// COMPOSITE (the checksum of the part checksums, -N), S3's default for an upload without an
// algorithm (a full-object CRC64NVME), and the errors for combinations S3 refuses.
func TestMultipartChecksumTypes(t *testing.T) {
	old := objectstore.MinPartSize
	objectstore.MinPartSize = 1 << 10
	t.Cleanup(func() { objectstore.MinPartSize = old })
	forStyles(t, func(t *testing.T, s *server, c *s3.Client) {
		ctx := context.Background()
		bucket := aws.String("mpsums")
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket}); err != nil {
			t.Fatal(err)
		}
		parts := [][]byte{bytes.Repeat([]byte("first "), 400), bytes.Repeat([]byte("second "), 300), []byte("tail")}
		object := bytes.Join(parts, nil)

		// upload creates an upload and sends the parts, each with alg's checksum when alg is
		// set, and returns the completed parts with their checksums.
		upload := func(t *testing.T, cl *s3.Client, key string, alg types.ChecksumAlgorithm, typ types.ChecksumType) (*string, []types.CompletedPart) {
			t.Helper()
			cr, err := cl.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bucket, Key: aws.String(key),
				ChecksumAlgorithm: alg, ChecksumType: typ})
			if err != nil {
				t.Fatal(err)
			}
			if cr.ChecksumAlgorithm != alg || (alg != "" && cr.ChecksumType == "") {
				t.Errorf("create: algorithm %q type %q", cr.ChecksumAlgorithm, cr.ChecksumType)
			}
			var done []types.CompletedPart
			for i, p := range parts {
				up, err := cl.UploadPart(ctx, &s3.UploadPartInput{Bucket: bucket, Key: aws.String(key), UploadId: cr.UploadId,
					PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p), ChecksumAlgorithm: alg})
				if err != nil {
					t.Fatal(err)
				}
				cp := types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: up.ETag}
				if alg != "" {
					got := pickSum(alg, up.ChecksumCRC32, up.ChecksumCRC32C, up.ChecksumCRC64NVME, up.ChecksumSHA1, up.ChecksumSHA256)
					if got != wholeSum(alg, p) {
						t.Errorf("part %d %s: %q", i+1, alg, got)
					}
					setSum(alg, got, &cp)
				}
				done = append(done, cp)
			}
			return cr.UploadId, done
		}

		for _, alg := range []types.ChecksumAlgorithm{types.ChecksumAlgorithmCrc32, types.ChecksumAlgorithmCrc32c, types.ChecksumAlgorithmCrc64nvme} {
			t.Run("full object "+string(alg), func(t *testing.T) {
				key := "full-" + string(alg)
				id, done := upload(t, c, key, alg, types.ChecksumTypeFullObject)
				want := wholeSum(alg, object)
				lp, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: bucket, Key: aws.String(key), UploadId: id})
				if err != nil || lp.ChecksumAlgorithm != alg || lp.ChecksumType != types.ChecksumTypeFullObject || len(lp.Parts) != 3 {
					t.Fatalf("list parts: %+v %v", lp, err)
				}
				if p := lp.Parts[1]; pickSum(alg, p.ChecksumCRC32, p.ChecksumCRC32C, p.ChecksumCRC64NVME, p.ChecksumSHA1, p.ChecksumSHA256) != wholeSum(alg, parts[1]) {
					t.Errorf("listed part 2: %+v", p)
				}
				in := &s3.CompleteMultipartUploadInput{Bucket: bucket, Key: aws.String(key), UploadId: id,
					MultipartUpload: &types.CompletedMultipartUpload{Parts: done}, ChecksumType: types.ChecksumTypeFullObject}
				// A wrong full-object value fails the Complete; the upload stays.
				bad := wholeSum(alg, []byte("other"))
				in.ChecksumCRC32, in.ChecksumCRC32C, in.ChecksumCRC64NVME = nil, nil, nil
				switch alg {
				case types.ChecksumAlgorithmCrc32:
					in.ChecksumCRC32 = &bad
				case types.ChecksumAlgorithmCrc32c:
					in.ChecksumCRC32C = &bad
				case types.ChecksumAlgorithmCrc64nvme:
					in.ChecksumCRC64NVME = &bad
				}
				if _, err := c.CompleteMultipartUpload(ctx, in); apiCode(err) != "BadDigest" {
					t.Errorf("wrong full-object checksum: %v", err)
				}
				if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: aws.String(key)}); httpStatus(err) != 404 {
					t.Errorf("object made by a refused complete: %v", err)
				}
				in.ChecksumType = types.ChecksumTypeComposite
				switch alg {
				case types.ChecksumAlgorithmCrc32:
					in.ChecksumCRC32 = &want
				case types.ChecksumAlgorithmCrc32c:
					in.ChecksumCRC32C = &want
				case types.ChecksumAlgorithmCrc64nvme:
					in.ChecksumCRC64NVME = &want
				}
				if _, err := c.CompleteMultipartUpload(ctx, in); apiCode(err) != "InvalidRequest" {
					t.Errorf("complete naming another checksum type: %v", err)
				}
				in.ChecksumType = types.ChecksumTypeFullObject
				in.MpuObjectSize = aws.Int64(int64(len(object) + 1))
				if _, err := c.CompleteMultipartUpload(ctx, in); apiCode(err) != "InvalidRequest" {
					t.Errorf("complete with a wrong x-amz-mp-object-size: %v", err)
				}
				in.MpuObjectSize = aws.Int64(int64(len(object)))
				comp, err := c.CompleteMultipartUpload(ctx, in)
				if err != nil {
					t.Fatal(err)
				}
				if got := pickSum(alg, comp.ChecksumCRC32, comp.ChecksumCRC32C, comp.ChecksumCRC64NVME, nil, nil); got != want || comp.ChecksumType != types.ChecksumTypeFullObject {
					t.Errorf("complete: %s %q type %q, want %q", alg, got, comp.ChecksumType, want)
				}
				// The SDK checks a full-object checksum against the body as it reads.
				out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
				if got := read(t, out, err); !bytes.Equal(got, object) || out.ChecksumType != types.ChecksumTypeFullObject ||
					pickSum(alg, out.ChecksumCRC32, out.ChecksumCRC32C, out.ChecksumCRC64NVME, nil, nil) != want {
					t.Errorf("get: %d bytes, type %q", len(got), out.ChecksumType)
				}
			})
		}

		for _, alg := range []types.ChecksumAlgorithm{types.ChecksumAlgorithmCrc32, types.ChecksumAlgorithmSha1, types.ChecksumAlgorithmSha256} {
			t.Run("composite "+string(alg), func(t *testing.T) {
				key := "composite-" + string(alg)
				id, done := upload(t, c, key, alg, "")
				lu, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: bucket, Prefix: aws.String(key)})
				if err != nil || len(lu.Uploads) != 1 || lu.Uploads[0].ChecksumAlgorithm != alg || lu.Uploads[0].ChecksumType != types.ChecksumTypeComposite {
					t.Fatalf("list uploads: %+v %v", lu, err)
				}
				// A composite Complete must list every part's checksum.
				bare := []types.CompletedPart{{PartNumber: done[0].PartNumber, ETag: done[0].ETag}, done[1], done[2]}
				_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: bucket, Key: aws.String(key), UploadId: id,
					MultipartUpload: &types.CompletedMultipartUpload{Parts: bare}})
				if apiCode(err) != "InvalidRequest" {
					t.Errorf("complete without a part's checksum: %v", err)
				}
				wrong := done[1]
				setSum(alg, wholeSum(alg, []byte("not the part")), &wrong)
				_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: bucket, Key: aws.String(key), UploadId: id,
					MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{done[0], wrong, done[2]}}})
				if apiCode(err) != "InvalidPart" {
					t.Errorf("complete with a wrong part checksum: %v", err)
				}
				comp, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: bucket, Key: aws.String(key), UploadId: id,
					MultipartUpload: &types.CompletedMultipartUpload{Parts: done}})
				if err != nil {
					t.Fatal(err)
				}
				var raw []byte
				for _, p := range parts {
					b, _ := base64.StdEncoding.DecodeString(wholeSum(alg, p))
					raw = append(raw, b...)
				}
				want := wholeSum(alg, raw) + "-3"
				if got := pickSum(alg, comp.ChecksumCRC32, comp.ChecksumCRC32C, nil, comp.ChecksumSHA1, comp.ChecksumSHA256); got != want || comp.ChecksumType != types.ChecksumTypeComposite {
					t.Errorf("complete: %q type %q, want %q", got, comp.ChecksumType, want)
				}
				head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
				if err != nil || head.ChecksumType != types.ChecksumTypeComposite ||
					pickSum(alg, head.ChecksumCRC32, head.ChecksumCRC32C, nil, head.ChecksumSHA1, head.ChecksumSHA256) != want {
					t.Errorf("head: %+v %v", head, err)
				}
			})
		}

		t.Run("no algorithm", func(t *testing.T) {
			wr := whenRequired(c)
			id, done := upload(t, wr, "default", "", "")
			lp, err := wr.ListParts(ctx, &s3.ListPartsInput{Bucket: bucket, Key: aws.String("default"), UploadId: id})
			if err != nil || lp.ChecksumAlgorithm != "" || aws.ToString(lp.Parts[0].ChecksumCRC64NVME) != crc64b64(parts[0]) {
				t.Fatalf("list parts: %+v %v", lp, err)
			}
			comp, err := wr.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: bucket, Key: aws.String("default"), UploadId: id,
				MultipartUpload: &types.CompletedMultipartUpload{Parts: done}})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(comp.ChecksumCRC64NVME) != crc64b64(object) || comp.ChecksumType != types.ChecksumTypeFullObject {
				t.Errorf("complete: %q %q", aws.ToString(comp.ChecksumCRC64NVME), comp.ChecksumType)
			}
			out, err := wr.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("default"), ChecksumMode: types.ChecksumModeEnabled})
			if got := read(t, out, err); !bytes.Equal(got, object) || aws.ToString(out.ChecksumCRC64NVME) != crc64b64(object) {
				t.Errorf("get: %d bytes %q", len(got), aws.ToString(out.ChecksumCRC64NVME))
			}
		})

		t.Run("refused", func(t *testing.T) {
			for _, tc := range []struct {
				alg types.ChecksumAlgorithm
				typ types.ChecksumType
			}{
				{types.ChecksumAlgorithmSha1, types.ChecksumTypeFullObject},
				{types.ChecksumAlgorithmSha256, types.ChecksumTypeFullObject},
				{types.ChecksumAlgorithmCrc64nvme, types.ChecksumTypeComposite},
				{"", types.ChecksumTypeFullObject},
				{types.ChecksumAlgorithmCrc32, "PARTIAL"},
				{"MD4", ""},
			} {
				_, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bucket, Key: aws.String("refused"),
					ChecksumAlgorithm: tc.alg, ChecksumType: tc.typ})
				if apiCode(err) != "InvalidRequest" || httpStatus(err) != 400 {
					t.Errorf("%s %s: %v", tc.alg, tc.typ, err)
				}
			}
			// A part must carry the upload's algorithm, if any.
			cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bucket, Key: aws.String("mismatch"),
				ChecksumAlgorithm: types.ChecksumAlgorithmSha256})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.UploadPart(ctx, &s3.UploadPartInput{Bucket: bucket, Key: aws.String("mismatch"), UploadId: cr.UploadId,
				PartNumber: aws.Int32(1), Body: bytes.NewReader(parts[0]), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32})
			if apiCode(err) != "InvalidRequest" || !strings.Contains(err.Error(), "expected checksum Type: sha256, actual checksum Type: crc32") {
				t.Errorf("part with another algorithm: %v", err)
			}
		})
	})
}

// TestCopyObjectChecksum: CopyObject computes the checksum x-amz-checksum-algorithm asks for
// over the copy; without it the copy keeps the source's algorithm, as a full-object value.
func TestCopyObjectChecksum(t *testing.T) {
	forStyles(t, func(t *testing.T, s *server, c *s3.Client) {
		ctx := context.Background()
		bucket := aws.String("copysums")
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket}); err != nil {
			t.Fatal(err)
		}
		body := bytes.Repeat([]byte("copy me "), 2000)
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("src"), Body: bytes.NewReader(body),
			ChecksumAlgorithm: types.ChecksumAlgorithmSha1}); err != nil {
			t.Fatal(err)
		}
		src := aws.String("copysums/src")
		for _, alg := range []types.ChecksumAlgorithm{types.ChecksumAlgorithmCrc32, types.ChecksumAlgorithmCrc32c,
			types.ChecksumAlgorithmCrc64nvme, types.ChecksumAlgorithmSha256} {
			key := aws.String("to-" + string(alg))
			out, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: bucket, Key: key, CopySource: src, ChecksumAlgorithm: alg})
			if err != nil {
				t.Fatal(err)
			}
			r := out.CopyObjectResult
			want := wholeSum(alg, body)
			if got := pickSum(alg, r.ChecksumCRC32, r.ChecksumCRC32C, r.ChecksumCRC64NVME, r.ChecksumSHA1, r.ChecksumSHA256); got != want ||
				r.ChecksumType != types.ChecksumTypeFullObject || r.ChecksumSHA1 != nil {
				t.Errorf("copy %s: %+v", alg, r)
			}
			head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: key, ChecksumMode: types.ChecksumModeEnabled})
			if err != nil || pickSum(alg, head.ChecksumCRC32, head.ChecksumCRC32C, head.ChecksumCRC64NVME, head.ChecksumSHA1, head.ChecksumSHA256) != want {
				t.Errorf("head %s: %+v %v", alg, head, err)
			}
		}
		out, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: bucket, Key: aws.String("same"), CopySource: src})
		if err != nil || aws.ToString(out.CopyObjectResult.ChecksumSHA1) != wholeSum(types.ChecksumAlgorithmSha1, body) {
			t.Errorf("copy keeping the algorithm: %+v %v", out, err)
		}
		// Copying an object onto itself with a new algorithm changes its checksum.
		out, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: bucket, Key: aws.String("src"), CopySource: src,
			ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c})
		if err != nil || aws.ToString(out.CopyObjectResult.ChecksumCRC32C) != wholeSum(types.ChecksumAlgorithmCrc32c, body) {
			t.Errorf("copy in place: %+v %v", out, err)
		}
		if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: bucket, Key: aws.String("src"), CopySource: src}); apiCode(err) != "InvalidRequest" {
			t.Errorf("copy in place changing nothing: %v", err)
		}
		// UploadPartCopy checksums the copied range in the upload's algorithm.
		cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bucket, Key: aws.String("parts"),
			ChecksumAlgorithm: types.ChecksumAlgorithmCrc32})
		if err != nil {
			t.Fatal(err)
		}
		pc, err := c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: bucket, Key: aws.String("parts"), UploadId: cr.UploadId,
			PartNumber: aws.Int32(1), CopySource: src, CopySourceRange: aws.String("bytes=0-99")})
		if err != nil || aws.ToString(pc.CopyPartResult.ChecksumCRC32) != wholeSum(types.ChecksumAlgorithmCrc32, body[:100]) {
			t.Errorf("upload part copy: %+v %v", pc, err)
		}
		resp, msg := s.do(t, "PUT", "/copysums/bad", nil, map[string]string{"x-amz-copy-source": "copysums/src", "x-amz-checksum-algorithm": "MD4"})
		if resp.StatusCode != 400 || !strings.Contains(msg, "<Code>InvalidRequest</Code>") {
			t.Errorf("unknown algorithm: %d %s", resp.StatusCode, msg)
		}
	})
}

// TestGetObjectAttributes asks for each attribute of a plain object, a multipart object a
// page of parts at a time, and an older version, and checks the refusals.
func TestGetObjectAttributes(t *testing.T) {
	old := objectstore.MinPartSize
	objectstore.MinPartSize = 1 << 10
	t.Cleanup(func() { objectstore.MinPartSize = old })
	all := []types.ObjectAttributes{types.ObjectAttributesEtag, types.ObjectAttributesChecksum, types.ObjectAttributesObjectParts,
		types.ObjectAttributesStorageClass, types.ObjectAttributesObjectSize}
	forStyles(t, func(t *testing.T, s *server, c *s3.Client) {
		ctx := context.Background()
		bucket := aws.String("attrs")
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket}); err != nil {
			t.Fatal(err)
		}
		wr := whenRequired(c)
		body := []byte("attribute body")
		put, err := wr.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("plain"), Body: bytes.NewReader(body)})
		if err != nil {
			t.Fatal(err)
		}
		at, err := c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: bucket, Key: aws.String("plain"), ObjectAttributes: all})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(at.ETag) != strings.Trim(aws.ToString(put.ETag), `"`) || aws.ToInt64(at.ObjectSize) != int64(len(body)) ||
			at.StorageClass != types.StorageClassStandard || at.ObjectParts != nil || at.LastModified == nil ||
			at.Checksum == nil || aws.ToString(at.Checksum.ChecksumCRC64NVME) != crc64b64(body) || at.Checksum.ChecksumType != types.ChecksumTypeFullObject {
			t.Errorf("plain: %+v %+v", at, at.Checksum)
		}
		at, err = c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: bucket, Key: aws.String("plain"),
			ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesObjectSize}})
		if err != nil || at.ETag != nil || at.Checksum != nil || at.StorageClass != "" || aws.ToInt64(at.ObjectSize) != int64(len(body)) {
			t.Errorf("size only: %+v %v", at, err)
		}

		// A composite multipart object, read a page of parts at a time.
		parts := [][]byte{bytes.Repeat([]byte("1"), 1500), bytes.Repeat([]byte("2"), 1200), []byte("3")}
		alg := types.ChecksumAlgorithmCrc32c
		cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bucket, Key: aws.String("multi"), ChecksumAlgorithm: alg})
		if err != nil {
			t.Fatal(err)
		}
		var done []types.CompletedPart
		for i, p := range parts {
			up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: bucket, Key: aws.String("multi"), UploadId: cr.UploadId,
				PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p), ChecksumAlgorithm: alg})
			if err != nil {
				t.Fatal(err)
			}
			done = append(done, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: up.ETag, ChecksumCRC32C: up.ChecksumCRC32C})
		}
		comp, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: bucket, Key: aws.String("multi"), UploadId: cr.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: done}})
		if err != nil {
			t.Fatal(err)
		}
		at, err = c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: bucket, Key: aws.String("multi"), ObjectAttributes: all, MaxParts: aws.Int32(2)})
		if err != nil {
			t.Fatal(err)
		}
		op := at.ObjectParts
		composite, _, _ := strings.Cut(aws.ToString(comp.ChecksumCRC32C), "-")
		if op == nil || aws.ToInt32(op.TotalPartsCount) != 3 || !aws.ToBool(op.IsTruncated) || aws.ToString(op.NextPartNumberMarker) != "2" ||
			aws.ToInt32(op.MaxParts) != 2 || len(op.Parts) != 2 || aws.ToInt64(op.Parts[1].Size) != 1200 ||
			aws.ToString(op.Parts[1].ChecksumCRC32C) != aws.ToString(done[1].ChecksumCRC32C) {
			t.Fatalf("parts page 1: %+v", op)
		}
		if aws.ToString(at.Checksum.ChecksumCRC32C) != composite || at.Checksum.ChecksumType != types.ChecksumTypeComposite ||
			aws.ToInt64(at.ObjectSize) != 2701 || aws.ToString(at.ETag) != strings.Trim(aws.ToString(comp.ETag), `"`) {
			t.Errorf("multipart: %+v %+v", at, at.Checksum)
		}
		// A part read by number comes with its own checksum, which the SDK checks.
		pn, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("multi"), PartNumber: aws.Int32(2), ChecksumMode: types.ChecksumModeEnabled})
		if got := read(t, pn, err); !bytes.Equal(got, parts[1]) || aws.ToString(pn.ChecksumCRC32C) != aws.ToString(done[1].ChecksumCRC32C) {
			t.Errorf("part 2: %d bytes, crc32c %q", len(got), aws.ToString(pn.ChecksumCRC32C))
		}
		at, err = c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: bucket, Key: aws.String("multi"),
			ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesObjectParts}, MaxParts: aws.Int32(2), PartNumberMarker: op.NextPartNumberMarker})
		if err != nil || len(at.ObjectParts.Parts) != 1 || aws.ToInt32(at.ObjectParts.Parts[0].PartNumber) != 3 || aws.ToBool(at.ObjectParts.IsTruncated) {
			t.Errorf("parts page 2: %+v %v", at, err)
		}

		// An older version by versionId.
		if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: bucket,
			VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
			t.Fatal(err)
		}
		v1, err := wr.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("versioned"), Body: strings.NewReader("one")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := wr.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("versioned"), Body: strings.NewReader("second")}); err != nil {
			t.Fatal(err)
		}
		at, err = c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: bucket, Key: aws.String("versioned"), VersionId: v1.VersionId, ObjectAttributes: all})
		if err != nil || aws.ToInt64(at.ObjectSize) != 3 || aws.ToString(at.VersionId) != aws.ToString(v1.VersionId) {
			t.Errorf("version 1: %+v %v", at, err)
		}
		if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: aws.String("versioned")}); err != nil {
			t.Fatal(err)
		}
		_, err = c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: bucket, Key: aws.String("versioned"), ObjectAttributes: all})
		if httpStatus(err) != 404 {
			t.Errorf("behind a delete marker: %v", err)
		}

		_, err = c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: bucket, Key: aws.String("missing"), ObjectAttributes: all})
		if apiCode(err) != "NoSuchKey" {
			t.Errorf("missing: %v", err)
		}
		for _, tc := range []struct {
			headers map[string]string
			code    string
		}{
			{map[string]string{"x-amz-object-attributes": "ETag,Bogus"}, "InvalidArgument"},
			{map[string]string{"x-amz-object-attributes": ""}, "InvalidRequest"},
			{map[string]string{"x-amz-object-attributes": "ETag", "x-amz-max-parts": "-1"}, "InvalidArgument"},
			{map[string]string{"x-amz-object-attributes": "ETag", "x-amz-part-number-marker": "x"}, "InvalidArgument"},
			{nil, "InvalidRequest"},
		} {
			resp, msg := s.do(t, "GET", "/attrs/plain?attributes", nil, tc.headers)
			if resp.StatusCode != 400 || !strings.Contains(msg, "<Code>"+tc.code+"</Code>") {
				t.Errorf("%v: %d %s", tc.headers, resp.StatusCode, msg)
			}
		}
	})
}
