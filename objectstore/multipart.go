package objectstore

import (
	"bytes"
	"cmp"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"crypto/sha1"
	"crypto/sha256"

	bolt "go.etcd.io/bbolt"
)

// Multipart upload errors, mapped to S3's codes by the wire layer.
var (
	ErrNoSuchUpload      = errors.New("no such upload")
	ErrInvalidPart       = errors.New("invalid part")        // a listed part was not uploaded, or its ETag differs
	ErrInvalidPartOrder  = errors.New("invalid part order")  // part numbers not ascending
	ErrEntityTooSmall    = errors.New("entity too small")    // a part other than the last is under MinPartSize
	ErrInvalidPartNumber = errors.New("invalid part number") // outside 1..10000
)

// MinPartSize is S3's minimum size of every part but the last. A variable so tests can
// lower it.
var MinPartSize int64 = 5 << 20

// MaxParts is S3's limit on part numbers.
const MaxParts = 10000

var (
	bucketUploads    = []byte("uploads")     // upload id → UploadInfo JSON
	bucketUploadKeys = []byte("upload-keys") // bucket \0 key \0 initiated \0 id → nil: listing order
	partsPrefix      = "parts:"              // one bbolt bucket of %05d part number → PartInfo JSON per upload
)

// UploadInfo describes a multipart upload in progress.
type UploadInfo struct {
	Bucket    string     `json:"bucket"`
	Key       string     `json:"key"`
	UploadID  string     `json:"uploadId"`
	Initiated time.Time  `json:"initiated"`
	Meta      ObjectMeta `json:"meta"` // applied to the object Complete makes
	// ChecksumAlgorithm is the algorithm every part is checksummed with ("" when the upload
	// was created without one). ChecksumType is FULL_OBJECT (the object gets that CRC over
	// all its bytes) or COMPOSITE (the checksum of the parts' checksums, suffixed -N). An
	// upload without an algorithm makes an object with a full-object CRC64NVME, S3's default.
	ChecksumAlgorithm string `json:"checksumAlgorithm,omitempty"`
	ChecksumType      string `json:"checksumType,omitempty"`
}

// Checksum types of a multipart upload, in S3's words.
const (
	ChecksumFullObject = "FULL_OBJECT"
	ChecksumComposite  = "COMPOSITE"
)

// DefaultChecksum is the algorithm S3 gives an object whose writer named none.
const DefaultChecksum = "CRC64NVME"

// PartInfo describes an uploaded part.
type PartInfo struct {
	PartNumber   int               `json:"partNumber"`
	Size         int64             `json:"size"`
	ETag         string            `json:"etag"` // quoted hex MD5 of the part
	LastModified time.Time         `json:"lastModified"`
	Checksums    map[string]string `json:"checksums,omitempty"` // algorithm → base64, as the client sent them
	Blob         string            `json:"blob"`
}

// CompletePart names a part in CompleteMultipartUpload. The ETag may be quoted or not.
type CompletePart struct {
	PartNumber int
	ETag       string
}

func uploadKey(u UploadInfo) []byte {
	return []byte(u.Bucket + "\x00" + u.Key + "\x00" + fmt.Sprintf("%020d", u.Initiated.UnixNano()) + "\x00" + u.UploadID)
}

func partKey(n int) []byte { return []byte(fmt.Sprintf("%05d", n)) }

func newUploadID() string {
	var b [24]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// CreateMultipartUpload starts an upload; the object appears only when it is completed.
func (s *Store) CreateMultipartUpload(ctx context.Context, bucket, key string, meta ObjectMeta) (UploadInfo, error) {
	return s.StartUpload(ctx, UploadInfo{Bucket: bucket, Key: key, Meta: meta})
}

// StartUpload is CreateMultipartUpload for an upload described by u: its Bucket, Key, Meta
// and checksum settings; the id and initiation time are filled in.
func (s *Store) StartUpload(ctx context.Context, u UploadInfo) (_ UploadInfo, err error) {
	bucket, key, meta := u.Bucket, u.Key, u.Meta
	if len(key) == 0 || len(key) > MaxKeyLen {
		return UploadInfo{}, ErrKeyTooLong
	}
	if err := s.admit(); err != nil {
		return UploadInfo{}, err
	}
	defer func() { err = s.spaceErr(err) }()
	meta.ContentMD5 = nil
	u.UploadID, u.Initiated, u.Meta = newUploadID(), s.now().UTC(), meta
	err = s.db.Update(func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketRoot)
		if root.Bucket(bucketBuckets).Get([]byte(bucket)) == nil {
			return ErrNoSuchBucket
		}
		ups, err := root.CreateBucketIfNotExists(bucketUploads)
		if err != nil {
			return err
		}
		keys, err := root.CreateBucketIfNotExists(bucketUploadKeys)
		if err != nil {
			return err
		}
		v, _ := json.Marshal(u)
		if err := ups.Put([]byte(u.UploadID), v); err != nil {
			return err
		}
		if err := keys.Put(uploadKey(u), nil); err != nil {
			return err
		}
		_, err = root.CreateBucket([]byte(partsPrefix + u.UploadID))
		return err
	})
	return u, err
}

// Upload returns an upload in progress, so a part can be checked against its settings.
func (s *Store) Upload(ctx context.Context, bucket, key, uploadID string) (u UploadInfo, err error) {
	err = s.db.View(func(tx *bolt.Tx) error { u, err = getUpload(tx, bucket, key, uploadID); return err })
	return u, err
}

// getUpload returns the upload with id, checking it belongs to bucket/key.
func getUpload(tx *bolt.Tx, bucket, key, id string) (UploadInfo, error) {
	var u UploadInfo
	root := tx.Bucket(bucketRoot)
	if root.Bucket(bucketBuckets).Get([]byte(bucket)) == nil {
		return u, ErrNoSuchBucket
	}
	ups := root.Bucket(bucketUploads)
	if ups == nil {
		return u, ErrNoSuchUpload
	}
	v := ups.Get([]byte(id))
	if v == nil {
		return u, ErrNoSuchUpload
	}
	if err := json.Unmarshal(v, &u); err != nil {
		return u, err
	}
	if u.Bucket != bucket || u.Key != key {
		return u, ErrNoSuchUpload
	}
	return u, nil
}

// UploadPart stores one part, streamed to a file like an object's bytes; a part uploaded
// again under the same number replaces the earlier one. checksums, when non-nil, is read
// after body is consumed, so a verifying reader may fill it in as it reaches the end.
func (s *Store) UploadPart(ctx context.Context, bucket, key, uploadID string, partNumber int, body io.Reader, contentMD5 []byte, checksums map[string]string) (_ PartInfo, err error) {
	if partNumber < 1 || partNumber > MaxParts {
		return PartInfo{}, ErrInvalidPartNumber
	}
	if err := s.admit(); err != nil {
		return PartInfo{}, err
	}
	defer func() { err = s.spaceErr(err) }()
	if err := s.db.View(func(tx *bolt.Tx) error { _, err := getUpload(tx, bucket, key, uploadID); return err }); err != nil {
		return PartInfo{}, err
	}
	id, tmp, n, sum, err := s.writeTemp(body, contentMD5, nil)
	if err != nil {
		return PartInfo{}, err
	}
	p := PartInfo{PartNumber: partNumber, Size: n, ETag: `"` + hex.EncodeToString(sum) + `"`,
		LastModified: s.now().UTC().Truncate(time.Second), Blob: id}
	if len(checksums) > 0 {
		p.Checksums = checksums
	}
	var old string
	err = s.update(func(tx *bolt.Tx) error {
		old = ""
		if _, err := getUpload(tx, bucket, key, uploadID); err != nil {
			return err
		}
		root := tx.Bucket(bucketRoot)
		parts := root.Bucket([]byte(partsPrefix + uploadID))
		if v := parts.Get(partKey(partNumber)); v != nil {
			var prev PartInfo
			if json.Unmarshal(v, &prev) == nil {
				old = prev.Blob
				if err := root.Bucket(bucketBlobs).Delete([]byte(old)); err != nil {
					return err
				}
			}
		}
		v, _ := json.Marshal(p)
		if err := root.Bucket(bucketBlobs).Put([]byte(id), []byte("upload:"+uploadID)); err != nil {
			return err
		}
		if err := parts.Put(partKey(partNumber), v); err != nil {
			return err
		}
		// Inside the transaction, for the reason commitWith gives.
		return renameInTx(tmp, s.blobPath(id))
	})
	if err != nil {
		os.Remove(tmp)
		os.Remove(s.blobPath(id))
		return PartInfo{}, err
	}
	syncDir(s.blobDir())
	if old != "" {
		s.collect([]string{old})
	}
	return p, nil
}

// writeTemp streams body into a new fsynced temp blob and returns its id, path, size and MD5.
// describe, if set, gives the object the blob will be, for its label (see label.go).
func (s *Store) writeTemp(body io.Reader, contentMD5 []byte, describe func(id string, n int64) (ObjectInfo, string)) (id, tmp string, n int64, sum []byte, err error) {
	id = newID()
	tmp = filepath.Join(s.blobDir(), id+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", "", 0, nil, err
	}
	h := md5.New()
	n, err = copyBody(f, h, body)
	if err == nil && describe != nil {
		info, region := describe(id, n)
		s.label(f, info, region)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	sum = h.Sum(nil)
	if err == nil && contentMD5 != nil && !bytes.Equal(contentMD5, sum) {
		err = ErrBadDigest
	}
	if err != nil {
		os.Remove(tmp)
		return "", "", 0, nil, err
	}
	return id, tmp, n, sum, nil
}

// CompleteMultipartUpload joins the listed parts into one object. The bytes are copied into a
// new blob, so the object is a single file like any other (ranges and reads work unchanged)
// and one bbolt commit swaps it in and retires the upload: a crash leaves the old object or
// the new one. Parts not listed are discarded with the upload.
func (s *Store) CompleteMultipartUpload(ctx context.Context, bucket, key, uploadID string, list []CompletePart) (ObjectInfo, error) {
	return s.CompleteUpload(ctx, bucket, key, uploadID, list, nil)
}

// CompleteUpload is CompleteMultipartUpload with a check: check, when not nil, sees the
// upload, the listed parts and the object about to be committed (its checksums computed),
// and an error it returns fails the call with nothing committed and the upload kept.
func (s *Store) CompleteUpload(ctx context.Context, bucket, key, uploadID string, list []CompletePart,
	check func(u UploadInfo, parts []PartInfo, info ObjectInfo) error) (_ ObjectInfo, err error) {
	if err := s.admit(); err != nil {
		return ObjectInfo{}, err
	}
	defer func() { err = s.spaceErr(err) }()
	var (
		u     UploadInfo
		parts []PartInfo
	)
	err = s.db.View(func(tx *bolt.Tx) error {
		var err error
		if u, err = getUpload(tx, bucket, key, uploadID); err != nil {
			return err
		}
		pb := tx.Bucket(bucketRoot).Bucket([]byte(partsPrefix + uploadID))
		for i, cp := range list {
			if cp.PartNumber < 1 || cp.PartNumber > MaxParts {
				return ErrInvalidPart
			}
			if i > 0 && cp.PartNumber <= list[i-1].PartNumber {
				return ErrInvalidPartOrder
			}
		}
		for _, cp := range list {
			v := pb.Get(partKey(cp.PartNumber))
			if v == nil {
				return ErrInvalidPart
			}
			var p PartInfo
			if err := json.Unmarshal(v, &p); err != nil {
				return err
			}
			if strings.Trim(cp.ETag, `"`) != strings.Trim(p.ETag, `"`) {
				return ErrInvalidPart
			}
			parts = append(parts, p)
		}
		return nil
	})
	if err != nil {
		return ObjectInfo{}, err
	}
	if len(parts) == 0 {
		return ObjectInfo{}, ErrInvalidPart
	}
	for _, p := range parts[:len(parts)-1] {
		if p.Size < MinPartSize {
			return ObjectInfo{}, ErrEntityTooSmall
		}
	}
	var md5s []byte
	sizes := make([]int64, len(parts))
	readers := make([]io.Reader, 0, len(parts))
	for i, p := range parts {
		f, err := os.Open(s.blobPath(p.Blob))
		if err != nil {
			return ObjectInfo{}, fmt.Errorf("objectstore: part %d of upload %s: %w", p.PartNumber, uploadID, err)
		}
		defer f.Close()
		readers = append(readers, f)
		sum, _ := hex.DecodeString(strings.Trim(p.ETag, `"`))
		md5s = append(md5s, sum...)
		sizes[i] = p.Size
	}
	// A full-object checksum is computed over the bytes as they are joined, the one pass
	// over the object Complete makes anyway.
	var (
		whole    hash.Hash
		wholeAlg string
	)
	if u.ChecksumAlgorithm == "" || u.ChecksumType == ChecksumFullObject {
		wholeAlg = cmp.Or(u.ChecksumAlgorithm, DefaultChecksum)
		whole = NewChecksum(wholeAlg)
	}
	body := io.MultiReader(readers...)
	if whole != nil {
		body = io.TeeReader(body, whole)
	}
	bi, _ := s.HeadBucket(ctx, bucket) // only for the label: a missing bucket fails the commit
	etag := md5.Sum(md5s)
	var info ObjectInfo
	// describe runs once the bytes are copied, so the checksums are complete and the blob's
	// label carries them.
	_, tmp, _, _, err := s.writeTemp(body, nil, func(id string, n int64) (ObjectInfo, string) {
		info = ObjectInfo{
			ObjectMeta: u.Meta, Bucket: bucket, Key: key, Size: n,
			ETag:         fmt.Sprintf(`"%x-%d"`, etag, len(parts)),
			LastModified: s.now().UTC().Truncate(time.Second), Blob: id, PartSizes: sizes,
		}
		if whole != nil {
			info.Checksums = map[string]string{wholeAlg: base64.StdEncoding.EncodeToString(whole.Sum(nil))}
		} else {
			info.Checksums = compositeChecksum(u.ChecksumAlgorithm, parts)
		}
		if alg := checksumAlgorithmOf(info.Checksums); alg != "" {
			for _, p := range parts {
				v, ok := p.Checksums[alg]
				if !ok {
					info.PartChecksums = nil
					break
				}
				info.PartChecksums = append(info.PartChecksums, v)
			}
		}
		return info, bi.Region
	})
	if err != nil {
		return ObjectInfo{}, err
	}
	if check != nil {
		if err := check(u, parts, info); err != nil {
			os.Remove(tmp)
			return ObjectInfo{}, err
		}
	}
	var gc []string
	err = s.commitWith(&info, tmp, func(tx *bolt.Tx) error {
		if _, err := getUpload(tx, bucket, key, uploadID); err != nil {
			return err // completed or aborted meanwhile
		}
		var err error
		gc, err = dropUpload(tx, u)
		return err
	})
	if err != nil {
		return ObjectInfo{}, err
	}
	s.collect(gc)
	return info, nil
}

// compositeChecksum is S3's COMPOSITE checksum of a multipart object, when every part has a
// checksum in alg: alg over the parts' raw checksums, in base64, followed by -N.
func compositeChecksum(alg string, parts []PartInfo) map[string]string {
	h := NewChecksum(alg)
	if h == nil {
		return nil
	}
	for _, p := range parts {
		v, ok := p.Checksums[alg]
		raw, err := base64.StdEncoding.DecodeString(v)
		if !ok || err != nil {
			return nil
		}
		h.Write(raw)
	}
	return map[string]string{alg: base64.StdEncoding.EncodeToString(h.Sum(nil)) + "-" + strconv.Itoa(len(parts))}
}

// checksumAlgorithmOf is the algorithm of an object's one checksum, or "".
func checksumAlgorithmOf(sums map[string]string) string {
	for alg := range sums {
		if len(sums) == 1 {
			return alg
		}
	}
	return ""
}

// NewChecksum returns a hash of the algorithm S3 names alg (CRC32, CRC32C, CRC64NVME, SHA1,
// SHA256), or nil for any other name.
func NewChecksum(alg string) hash.Hash {
	switch alg {
	case "CRC32":
		return crc32.NewIEEE()
	case "CRC32C":
		return crc32.New(crc32.MakeTable(crc32.Castagnoli))
	case "CRC64NVME":
		return crc64.New(crc64NVME())
	case "SHA1":
		return sha1.New()
	case "SHA256":
		return sha256.New()
	}
	return nil
}

// crc64NVME is the table of CRC-64/NVME (polynomial 0xad93d23594c93659, reflected; hash/crc64
// takes the reversed polynomial). It is built on first use: MakeTable also builds
// hash/crc64's own 32 KB of tables, which a start need not pay for.
var crc64NVME = sync.OnceValue(func() *crc64.Table { return crc64.MakeTable(0x9a6c9329ac4bc9b5) })

// dropUpload deletes an upload's records and returns its part blobs, which the caller
// deletes after the transaction commits.
func dropUpload(tx *bolt.Tx, u UploadInfo) ([]string, error) {
	root := tx.Bucket(bucketRoot)
	var blobs []string
	if pb := root.Bucket([]byte(partsPrefix + u.UploadID)); pb != nil {
		pb.ForEach(func(_, v []byte) error {
			var p PartInfo
			if json.Unmarshal(v, &p) == nil {
				blobs = append(blobs, p.Blob)
			}
			return nil
		})
		if err := root.DeleteBucket([]byte(partsPrefix + u.UploadID)); err != nil {
			return nil, err
		}
	}
	for _, b := range blobs {
		if err := root.Bucket(bucketBlobs).Delete([]byte(b)); err != nil {
			return nil, err
		}
	}
	root.Bucket(bucketUploadKeys).Delete(uploadKey(u))
	return blobs, root.Bucket(bucketUploads).Delete([]byte(u.UploadID))
}

// AbortMultipartUpload discards an upload and its parts.
func (s *Store) AbortMultipartUpload(ctx context.Context, bucket, key, uploadID string) error {
	var gc []string
	err := s.deleteUpdate(func(tx *bolt.Tx) error {
		u, err := getUpload(tx, bucket, key, uploadID)
		if err != nil {
			return err
		}
		gc, err = dropUpload(tx, u)
		return err
	})
	if err == nil {
		s.collect(gc)
	}
	return err
}

// ListPartsInput selects a page of parts.
type ListPartsInput struct {
	PartNumberMarker int // list parts after this number
	MaxParts         int // 0 means 1000
}

// ListPartsResult is one page of parts.
type ListPartsResult struct {
	Upload               UploadInfo
	Parts                []PartInfo
	IsTruncated          bool
	NextPartNumberMarker int
}

// ListParts lists an upload's parts in part-number order.
func (s *Store) ListParts(ctx context.Context, bucket, key, uploadID string, in ListPartsInput) (ListPartsResult, error) {
	var res ListPartsResult
	if in.MaxParts <= 0 {
		in.MaxParts = 1000
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		if res.Upload, err = getUpload(tx, bucket, key, uploadID); err != nil {
			return err
		}
		c := tx.Bucket(bucketRoot).Bucket([]byte(partsPrefix + uploadID)).Cursor()
		for k, v := c.Seek(partKey(in.PartNumberMarker + 1)); k != nil; k, v = c.Next() {
			if len(res.Parts) == in.MaxParts {
				res.IsTruncated = true
				break
			}
			var p PartInfo
			if err := json.Unmarshal(v, &p); err != nil {
				return err
			}
			res.Parts = append(res.Parts, p)
			res.NextPartNumberMarker = p.PartNumber
		}
		return nil
	})
	return res, err
}

// ListUploadsInput selects a page of a bucket's uploads in progress.
type ListUploadsInput struct {
	Prefix, Delimiter         string
	KeyMarker, UploadIDMarker string
	MaxUploads                int // 0 means 1000
}

// ListUploadsResult is one page of uploads.
type ListUploadsResult struct {
	Uploads                           []UploadInfo
	CommonPrefixes                    []string
	IsTruncated                       bool
	NextKeyMarker, NextUploadIDMarker string
}

// ListMultipartUploads lists uploads by key, then by initiation time, as S3 does. With only a
// KeyMarker, uploads of keys after it are listed; with an UploadIDMarker too, uploads of the
// marker key that come after that upload are included.
func (s *Store) ListMultipartUploads(ctx context.Context, bucket string, in ListUploadsInput) (ListUploadsResult, error) {
	var res ListUploadsResult
	if in.MaxUploads <= 0 {
		in.MaxUploads = 1000
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketRoot)
		if root.Bucket(bucketBuckets).Get([]byte(bucket)) == nil {
			return ErrNoSuchBucket
		}
		keys := root.Bucket(bucketUploadKeys)
		if keys == nil {
			return nil
		}
		ups := root.Bucket(bucketUploads)
		base := bucket + "\x00"
		c := keys.Cursor()
		seek := base + in.Prefix
		if in.KeyMarker != "" && base+in.KeyMarker >= seek {
			seek = base + in.KeyMarker + "\x00"
		}
		pastMarker := in.UploadIDMarker == ""
		count := 0
		lastPrefix := ""
		for k, _ := c.Seek([]byte(seek)); k != nil; k, _ = c.Next() {
			rest, ok := strings.CutPrefix(string(k), base)
			if !ok {
				break
			}
			parts := strings.Split(rest, "\x00")
			if len(parts) != 3 {
				continue
			}
			objKey, id := parts[0], parts[2]
			if !strings.HasPrefix(objKey, in.Prefix) {
				break
			}
			if in.KeyMarker != "" && objKey == in.KeyMarker {
				if !pastMarker {
					pastMarker = id == in.UploadIDMarker
					continue
				}
				if in.UploadIDMarker == "" {
					continue
				}
			} else if in.KeyMarker != "" && objKey < in.KeyMarker {
				continue
			}
			if cp, ok := commonPrefix(objKey, in.Prefix, in.Delimiter); ok {
				if cp == lastPrefix {
					continue
				}
				if count == in.MaxUploads {
					res.IsTruncated = true
					break
				}
				res.CommonPrefixes = append(res.CommonPrefixes, cp)
				lastPrefix = cp
				res.NextKeyMarker, res.NextUploadIDMarker = cp, ""
				count++
				continue
			}
			if count == in.MaxUploads {
				res.IsTruncated = true
				break
			}
			var u UploadInfo
			if err := json.Unmarshal(ups.Get([]byte(id)), &u); err != nil {
				return err
			}
			res.Uploads = append(res.Uploads, u)
			res.NextKeyMarker, res.NextUploadIDMarker = u.Key, u.UploadID
			count++
		}
		return nil
	})
	return res, err
}
