// Package objectstore is localpipe's S3 storage engine: buckets and objects on local disk.
// Object bytes live in files named by a random id (never by key), written to a temp name,
// fsynced and renamed; bbolt holds buckets and object metadata, so listing is a cursor walk.
// objectstore/s3api serves it over S3's REST API, and Firehose writes to it in-process.
package objectstore

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Errors callers map to S3's codes.
var (
	ErrNoSuchBucket   = errors.New("no such bucket")
	ErrBucketExists   = errors.New("bucket already exists")
	ErrBucketNotEmpty = errors.New("bucket not empty")
	ErrNoSuchKey      = errors.New("no such key")
	ErrInvalidBucket  = errors.New("invalid bucket name")
	ErrKeyTooLong     = errors.New("key too long")
	ErrBadDigest      = errors.New("content MD5 mismatch")
	ErrIncompleteBody = errors.New("body shorter than declared")
)

var (
	bucketRoot    = []byte("s3")
	bucketBuckets = []byte("buckets") // name → BucketInfo JSON
	bucketBlobs   = []byte("blobs")   // blob id → "bucket/key": blobs in use
	bucketGC      = []byte("gc")      // legacy: blobs to delete; Open's scan finds them now
	objectsPrefix = "objects:"        // one bbolt bucket of key → ObjectInfo JSON per S3 bucket
)

// Options configure Open.
type Options struct {
	DB  *bolt.DB // metadata; owned by the caller
	Dir string   // blob directory
	// LostFound is where blobs no object references go (as LostFound/blobs/<id>); by default
	// <parent of Dir>/lost+found/<base of Dir>, which keeps their path relative to the data dir.
	LostFound string
	Logger    *slog.Logger
	Now       func() time.Time
	Space     Space // guards the disk; nil means unguarded
}

// Store is the object store. Methods are safe for concurrent use.
type Store struct {
	db        *bolt.DB
	dir       string
	lostFound string
	logger    *slog.Logger
	now       func() time.Time
	commits   groupCommit
	space     Space
}

// BucketInfo describes a bucket.
type BucketInfo struct {
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
	Region  string    `json:"region"`
	// Versioning is "" for a bucket never versioned, else VersioningEnabled or
	// VersioningSuspended.
	Versioning string `json:"versioning,omitempty"`
}

// ObjectMeta is what a writer says about an object besides its bytes.
type ObjectMeta struct {
	ContentType        string            `json:"contentType,omitempty"`
	ContentEncoding    string            `json:"contentEncoding,omitempty"`
	ContentDisposition string            `json:"contentDisposition,omitempty"`
	ContentLanguage    string            `json:"contentLanguage,omitempty"`
	CacheControl       string            `json:"cacheControl,omitempty"`
	Expires            string            `json:"expires,omitempty"`
	UserMeta           map[string]string `json:"userMeta,omitempty"`
	Checksums          map[string]string `json:"checksums,omitempty"` // e.g. CRC32 → base64 value
	Tags               []Tag             `json:"tags,omitempty"`      // in the order given
	// ACL is the object's access control policy document as the wire layer keeps it; ""
	// means the default (the owner has full control).
	ACL string `json:"acl,omitempty"`
	// StorageClass, WebsiteRedirect and SSE are kept as the writer gave them and returned;
	// localpipe stores every object alike.
	StorageClass    string `json:"storageClass,omitempty"` // "" is STANDARD
	WebsiteRedirect string `json:"websiteRedirect,omitempty"`
	SSE             *SSE   `json:"sse,omitempty"`
	// ContentMD5, when set (16 raw bytes), must match the body or the put fails with ErrBadDigest.
	ContentMD5 []byte `json:"-"`
}

// SSE is the server-side encryption an object was written with (nil: S3's default, AES256).
type SSE struct {
	Algorithm         string `json:"alg,omitempty"` // AES256, aws:kms, aws:kms:dsse; "" with SSE-C
	KMSKeyID          string `json:"kmsKeyId,omitempty"`
	Context           string `json:"context,omitempty"`
	BucketKey         bool   `json:"bucketKey,omitempty"`
	CustomerAlgorithm string `json:"customerAlg,omitempty"` // SSE-C
	CustomerKeyMD5    string `json:"customerKeyMD5,omitempty"`
}

// Tag is one of an object's tags.
type Tag struct {
	Key   string `json:"k"`
	Value string `json:"v"`
}

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	ObjectMeta
	Bucket       string    `json:"bucket"`
	Key          string    `json:"key"`
	Size         int64     `json:"size"`
	ETag         string    `json:"etag"` // quoted, as S3 sends it
	LastModified time.Time `json:"lastModified"`
	Blob         string    `json:"blob"`
	// PartSizes holds the part sizes of an object made by a multipart upload, so a read can
	// ask for one part by number as S3 allows.
	PartSizes []int64 `json:"partSizes,omitempty"`
	// PartChecksums holds, for a multipart object with a checksum, each part's checksum in
	// the object's algorithm, in part order, for GetObjectAttributes.
	PartChecksums []string `json:"partChecksums,omitempty"`
	// VersionID is "" in a bucket never versioned; Seq orders the versions of a versioned
	// bucket (see versions.go). A delete marker has no bytes.
	VersionID    string `json:"versionId,omitempty"`
	Seq          uint64 `json:"seq,omitempty"`
	DeleteMarker bool   `json:"deleteMarker,omitempty"`
}

// createRoot creates the store's bbolt buckets that do not exist yet and returns the root.
func createRoot(tx *bolt.Tx) (*bolt.Bucket, error) {
	root, err := tx.CreateBucketIfNotExists(bucketRoot)
	if err != nil {
		return nil, err
	}
	for _, b := range [][]byte{bucketBuckets, bucketBlobs, bucketGC} {
		if _, err := root.CreateBucketIfNotExists(b); err != nil {
			return nil, err
		}
	}
	return root, nil
}

// Open opens the store and finishes or undoes whatever a crash interrupted: a temp blob whose
// metadata committed is renamed into place, a temp blob whose metadata did not is deleted
// (the put was never acknowledged), and a finished blob no object or upload part references
// is moved to Options.LostFound. Such a blob is usually one a crash kept an overwrite or
// delete from removing, or a put that died between its rename and its commit; but it is also
// what every blob looks like when the metadata itself was lost or replaced, so the store
// never deletes it on the metadata's word. The scan is one directory read and one bbolt
// lookup per file.
func Open(opts Options) (*Store, error) {
	if opts.DB == nil || opts.Dir == "" {
		return nil, errors.New("objectstore: Options.DB and Options.Dir are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.LostFound == "" {
		opts.LostFound = filepath.Join(filepath.Dir(opts.Dir), "lost+found", filepath.Base(opts.Dir))
	}
	s := &Store{db: opts.DB, dir: opts.Dir, lostFound: opts.LostFound, logger: opts.Logger, now: opts.Now, space: opts.Space}
	_, statErr := os.Stat(s.blobDir())
	if err := os.MkdirAll(s.blobDir(), 0o755); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(s.blobDir())
	if err != nil {
		return nil, err
	}
	// Temp blobs to rename into place, to delete; retired blobs to delete; blobs to set aside.
	var finish, dropTmp, retired, unowned []string
	classify := func(root *bolt.Bucket) {
		inUse, gc := root.Bucket(bucketBlobs), root.Bucket(bucketGC)
		for _, de := range entries {
			if de.IsDir() {
				continue
			}
			id, tmp := strings.CutSuffix(de.Name(), ".tmp")
			switch {
			case inUse.Get([]byte(id)) != nil:
				if tmp {
					finish = append(finish, id)
				}
			case tmp:
				dropTmp = append(dropTmp, de.Name())
			case gc.Get([]byte(id)) != nil:
				retired = append(retired, id)
			default:
				unowned = append(unowned, id)
			}
		}
	}
	// Most starts find every bucket in place and no retired blobs listed: they only read,
	// and pay no commit's fsyncs.
	settled := false
	err = s.db.View(func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketRoot)
		if root == nil || root.Bucket(bucketBuckets) == nil || root.Bucket(bucketBlobs) == nil {
			return nil
		}
		gc := root.Bucket(bucketGC)
		if gc == nil {
			return nil
		}
		if k, _ := gc.Cursor().First(); k != nil {
			return nil
		}
		settled = true
		classify(root)
		return nil
	})
	if err == nil && !settled {
		err = s.db.Update(func(tx *bolt.Tx) error {
			root, err := createRoot(tx)
			if err != nil {
				return err
			}
			classify(root)
			// Data directories from before the scan listed the blobs they retired here; the
			// metadata says outright that those are garbage, so they alone are deleted.
			if err := root.DeleteBucket(bucketGC); err != nil {
				return err
			}
			_, err = root.CreateBucket(bucketGC)
			return err
		})
	}
	if err != nil {
		return nil, err
	}
	for _, id := range finish {
		if err := os.Rename(filepath.Join(s.blobDir(), id+".tmp"), s.blobPath(id)); err != nil {
			return nil, err
		}
	}
	for _, name := range dropTmp {
		s.logger.Info("objectstore: removing the temp blob of an interrupted put", "blob", name)
		if err := os.Remove(filepath.Join(s.blobDir(), name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	s.collect(retired)
	for _, id := range unowned {
		dst, err := s.setAside(id)
		if err != nil {
			return nil, err
		}
		s.logger.Warn("objectstore: moved a blob no object references to lost+found; `localpipe repair` can restore objects from such blobs",
			"blob", id, "to", dst)
	}
	if statErr != nil || len(finish)+len(dropTmp)+len(retired)+len(unowned) > 0 {
		syncDir(s.blobDir())
	}
	return s, nil
}

// setAside moves a blob to <LostFound>/blobs under its own name (or name-<unix ns> should that
// be taken) and returns where it went.
func (s *Store) setAside(id string) (string, error) {
	dir := filepath.Join(s.lostFound, "blobs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	dst := filepath.Join(dir, id)
	if _, err := os.Lstat(dst); err == nil {
		dst += "-" + strconv.FormatInt(time.Now().UnixNano(), 10)
	}
	if err := os.Rename(s.blobPath(id), dst); err != nil {
		return "", err
	}
	syncDir(dir)
	return dst, nil
}

func (s *Store) blobDir() string           { return filepath.Join(s.dir, "blobs") }
func (s *Store) blobPath(id string) string { return filepath.Join(s.blobDir(), id) }

// Close releases nothing today; the DB belongs to the caller. It exists so the app's
// shutdown sequence treats every engine alike.
func (s *Store) Close() error { return nil }

// collect deletes the files of blobs a committed transaction retired. Nothing is recorded:
// should the process die first, the files are unreferenced and Open moves them to
// lost+found (a window of microseconds after a commit, so the cost is rare clutter).
func (s *Store) collect(ids []string) {
	for _, id := range ids {
		if err := os.Remove(s.blobPath(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.logger.Warn("objectstore: cannot delete unused blob", "blob", id, "err", err)
		}
	}
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// copyBufs are the buffers bodies are copied to disk through: larger than io.Copy's 32 KiB,
// so a big upload costs fewer write calls, and pooled, so memory stays flat however many
// uploads come and go.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// copyBody writes src to the blob file f and to h (the ETag's MD5).
func copyBody(f *os.File, h hash.Hash, src io.Reader) (int64, error) {
	buf := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(buf)
	return io.CopyBuffer(&blobWriter{f: f, h: h}, src, *buf)
}

// writebackEvery is how many bytes of a blob are written before the disk is asked to start
// writing them back.
const writebackEvery = 1 << 20

// blobWriter writes a blob to its file and its MD5. Every writebackEvery bytes it starts the
// writeback of what it wrote since (without waiting for it): the disk then writes while the
// body is still arriving, so the fsync that commits a large blob waits for its last stretch
// only, and the kernel never throttles the writer for the dirty pages of a whole blob.
type blobWriter struct {
	f       *os.File
	h       hash.Hash
	off     int64 // bytes written
	started int64 // bytes whose writeback has been started
}

func (w *blobWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.h.Write(p[:n])
	w.off += int64(n)
	if w.off-w.started >= writebackEvery {
		startWriteback(w.f, w.started, w.off-w.started)
		w.started = w.off
	}
	return n, err
}

func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ValidBucketName applies S3's naming rules for new buckets.
func ValidBucketName(name string) bool {
	if len(name) < 3 || len(name) > 63 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	first, last := name[0], name[len(name)-1]
	if first == '.' || first == '-' || last == '.' || last == '-' || strings.Contains(name, "..") {
		return false
	}
	// Prefixes and suffixes AWS reserves for its own kinds of names (access point aliases,
	// Multi-Region Access Points, directory and table buckets, documentation examples).
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, p) {
			return false
		}
	}
	for _, sfx := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(name, sfx) {
			return false
		}
	}
	// Not an IP address.
	parts := strings.Split(name, ".")
	if len(parts) == 4 {
		numeric := true
		for _, p := range parts {
			for i := 0; i < len(p); i++ {
				if p[i] < '0' || p[i] > '9' {
					numeric = false
				}
			}
		}
		if numeric {
			return false
		}
	}
	return true
}

// CreateBucket creates a bucket; ErrBucketExists if it is there already.
func (s *Store) CreateBucket(ctx context.Context, name, region string) (err error) {
	if !ValidBucketName(name) {
		return ErrInvalidBucket
	}
	if err := s.admit(); err != nil {
		return err
	}
	defer func() { err = s.spaceErr(err) }()
	return s.db.Update(func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketRoot)
		if root.Bucket(bucketBuckets).Get([]byte(name)) != nil {
			return ErrBucketExists
		}
		v, _ := json.Marshal(BucketInfo{Name: name, Created: s.now().UTC().Truncate(time.Millisecond), Region: region})
		if err := root.Bucket(bucketBuckets).Put([]byte(name), v); err != nil {
			return err
		}
		_, err := root.CreateBucketIfNotExists([]byte(objectsPrefix + name))
		return err
	})
}

// EnsureBucket creates a bucket unless it exists (for the config file, applied every start).
func (s *Store) EnsureBucket(ctx context.Context, name, region string) error {
	if err := s.CreateBucket(ctx, name, region); err != nil && !errors.Is(err, ErrBucketExists) {
		return err
	}
	return nil
}

// HeadBucket returns a bucket's info.
func (s *Store) HeadBucket(ctx context.Context, name string) (BucketInfo, error) {
	var bi BucketInfo
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketRoot).Bucket(bucketBuckets).Get([]byte(name))
		if v == nil {
			return ErrNoSuchBucket
		}
		return json.Unmarshal(v, &bi)
	})
	return bi, err
}

// ListBuckets returns every bucket, sorted by name.
func (s *Store) ListBuckets(ctx context.Context) ([]BucketInfo, error) {
	var out []BucketInfo
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRoot).Bucket(bucketBuckets).ForEach(func(k, v []byte) error {
			var bi BucketInfo
			if err := json.Unmarshal(v, &bi); err != nil {
				return err
			}
			out = append(out, bi)
			return nil
		})
	})
	return out, err
}

// DeleteBucket deletes a bucket without objects. Uploads still in progress do not keep it
// alive; they are aborted with it.
func (s *Store) DeleteBucket(ctx context.Context, name string) error {
	var gc []string
	err := s.deleteUpdate(func(tx *bolt.Tx) error {
		gc = nil
		root := tx.Bucket(bucketRoot)
		if root.Bucket(bucketBuckets).Get([]byte(name)) == nil {
			return ErrNoSuchBucket
		}
		if k, _ := root.Bucket([]byte(objectsPrefix + name)).Cursor().First(); k != nil {
			return ErrBucketNotEmpty
		}
		if vers := root.Bucket([]byte(versionsPrefix + name)); vers != nil {
			if k, _ := vers.Cursor().First(); k != nil {
				return ErrBucketNotEmpty // delete markers and old versions keep a bucket
			}
			if err := root.DeleteBucket([]byte(versionsPrefix + name)); err != nil {
				return err
			}
		}
		if keys := root.Bucket(bucketUploadKeys); keys != nil {
			var ups []UploadInfo
			c := keys.Cursor()
			for k, _ := c.Seek([]byte(name + "\x00")); k != nil && bytes.HasPrefix(k, []byte(name+"\x00")); k, _ = c.Next() {
				id := k[bytes.LastIndexByte(k, 0)+1:]
				var u UploadInfo
				if json.Unmarshal(root.Bucket(bucketUploads).Get(id), &u) == nil {
					ups = append(ups, u)
				}
			}
			for _, u := range ups {
				blobs, err := dropUpload(tx, u)
				if err != nil {
					return err
				}
				gc = append(gc, blobs...)
			}
		}
		if err := root.DeleteBucket([]byte(objectsPrefix + name)); err != nil {
			return err
		}
		if err := dropBucketConfig(tx, name); err != nil {
			return err
		}
		return root.Bucket(bucketBuckets).Delete([]byte(name))
	})
	if err == nil {
		s.collect(gc)
	}
	return err
}

// MaxKeyLen is S3's limit on a key's UTF-8 length.
const MaxKeyLen = 1024

// PutObject stores body under key, replacing any object there. The bytes stream to a temp
// file (memory use does not grow with the object), are fsynced and then made visible by one
// bbolt commit; a crash leaves the old object or the new one, never a mix.
func (s *Store) PutObject(ctx context.Context, bucket, key string, body io.Reader, meta ObjectMeta) (ObjectInfo, error) {
	return s.PutObjectThen(ctx, bucket, key, body, meta, nil)
}

// PutObjectThen is PutObject with then, if not nil, run in the bbolt transaction that makes
// the object visible: the object and what then writes are committed together or not at all.
// then may run more than once (see groupCommit).
func (s *Store) PutObjectThen(ctx context.Context, bucket, key string, body io.Reader, meta ObjectMeta, then func(*bolt.Tx) error) (_ ObjectInfo, err error) {
	if len(key) == 0 || len(key) > MaxKeyLen {
		return ObjectInfo{}, ErrKeyTooLong
	}
	if err := s.admit(); err != nil {
		return ObjectInfo{}, err
	}
	defer func() { err = s.spaceErr(err) }()
	bi, err := s.HeadBucket(ctx, bucket)
	if err != nil {
		return ObjectInfo{}, err
	}
	id := newID()
	tmp := filepath.Join(s.blobDir(), id+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return ObjectInfo{}, err
	}
	h := md5.New()
	n, err := copyBody(f, h, body)
	sum := h.Sum(nil)
	info := ObjectInfo{
		ObjectMeta: meta, Bucket: bucket, Key: key, Size: n,
		ETag:         `"` + hex.EncodeToString(sum) + `"`,
		LastModified: s.now().UTC().Truncate(time.Second), Blob: id,
	}
	info.ContentMD5 = nil
	info.UserMeta = maps.Clone(meta.UserMeta)
	if err == nil {
		s.label(f, info, bi.Region)
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && meta.ContentMD5 != nil && !bytes.Equal(meta.ContentMD5, sum) {
		err = ErrBadDigest
	}
	if err != nil {
		os.Remove(tmp)
		return ObjectInfo{}, err
	}
	err = s.commitWith(&info, tmp, then)
	return info, err
}

// commit makes a finished temp blob the object's content.
func (s *Store) commit(info *ObjectInfo, tmp string) error { return s.commitWith(info, tmp, nil) }

// commitWith is commit with more work (fn) done in the same bbolt transaction. The temp blob
// is renamed into place inside the transaction, before it commits: a reader can only find
// the new metadata once the file has its final name, and no later overwrite or delete can
// retire the blob (and delete its file) before the rename, which would leave the renamed
// file orphaned. A crash between the rename and the commit leaves a file nothing
// references, which Open moves to lost+found.
func (s *Store) commitWith(info *ObjectInfo, tmp string, fn func(*bolt.Tx) error) error {
	final := s.blobPath(info.Blob)
	var retired []string
	err := s.update(func(tx *bolt.Tx) error {
		retired = nil
		if fn != nil {
			if err := fn(tx); err != nil {
				return err
			}
		}
		var err error
		if retired, err = placeLocked(tx, info); err != nil {
			return err
		}
		return renameInTx(tmp, final)
	})
	if err != nil {
		os.Remove(tmp)
		os.Remove(final)
		return err
	}
	// The rename is durable before the put is acknowledged; should the directory entry be
	// lost anyway, Open finds the committed temp blob and renames it again.
	syncDir(s.blobDir())
	s.collect(retired)
	return nil
}

// HeadObject returns an object's metadata.
func (s *Store) HeadObject(ctx context.Context, bucket, key string) (ObjectInfo, error) {
	return s.HeadObjectVersion(ctx, bucket, key, "")
}

// GetObject returns an object's metadata and its bytes, open for reading. The caller closes
// the file; an overwrite or delete meanwhile does not disturb it.
func (s *Store) GetObject(ctx context.Context, bucket, key string) (ObjectInfo, *os.File, error) {
	return s.GetObjectVersion(ctx, bucket, key, "")
}

// GetObjectVersion is GetObject for one version ("" for the current one).
func (s *Store) GetObjectVersion(ctx context.Context, bucket, key, versionID string) (ObjectInfo, *os.File, error) {
	for attempt := 0; ; attempt++ {
		info, err := s.HeadObjectVersion(ctx, bucket, key, versionID)
		if err != nil {
			return info, nil, err
		}
		f, err := os.Open(s.blobPath(info.Blob))
		if err == nil {
			return info, f, nil
		}
		// An overwrite may have deleted the blob between the lookup and the open.
		if !errors.Is(err, os.ErrNotExist) || attempt == 3 {
			return info, nil, fmt.Errorf("objectstore: blob of %s/%s: %w", bucket, key, err)
		}
	}
}

// DeleteObject deletes an object (in a versioned bucket: adds a delete marker); deleting a
// missing key is not an error, as in S3.
func (s *Store) DeleteObject(ctx context.Context, bucket, key string) error {
	_, err := s.DeleteObjectVersion(ctx, bucket, key, "")
	return err
}

// ListInput selects a page of a bucket's keys, in UTF-8 byte order as S3 lists them.
type ListInput struct {
	Prefix     string
	Delimiter  string
	StartAfter string // exclusive
	MaxKeys    int
}

// ListResult is one page.
type ListResult struct {
	Objects        []ObjectInfo
	CommonPrefixes []string
	IsTruncated    bool
	// Last is the last key or common prefix in the page: where the next page starts after.
	Last string
}

// List returns one page of keys. It seeks the bbolt cursor to the first candidate and skips
// over whole common prefixes, so a page costs the same however large the bucket is.
func (s *Store) List(ctx context.Context, bucket string, in ListInput) (ListResult, error) {
	var res ListResult
	if in.MaxKeys < 0 {
		in.MaxKeys = 0
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		objs := tx.Bucket(bucketRoot).Bucket([]byte(objectsPrefix + bucket))
		if objs == nil {
			return ErrNoSuchBucket
		}
		var err error
		res, err = s.listLocked(objs, in)
		return err
	})
	return res, err
}

// listLocked is List inside a transaction, over a bucket's current objects.
func (s *Store) listLocked(objs *bolt.Bucket, in ListInput) (ListResult, error) {
	var res ListResult
	err := func() error {
		c := objs.Cursor()
		start := in.Prefix
		if in.StartAfter > start {
			start = in.StartAfter
		}
		k, v := c.Seek([]byte(start))
		if k != nil && string(k) == in.StartAfter {
			k, v = c.Next()
		}
		count := 0
		for ; k != nil; k, v = c.Next() {
			key := string(k)
			if !strings.HasPrefix(key, in.Prefix) {
				break
			}
			if cp, ok := commonPrefix(key, in.Prefix, in.Delimiter); ok {
				if cp <= in.StartAfter {
					// StartAfter falls inside this prefix: S3 skips the whole prefix.
					k, v = c.Seek(successor(cp))
					k, v = stepBack(c, k, v)
					continue
				}
				if count == in.MaxKeys {
					res.IsTruncated = true
					break
				}
				res.CommonPrefixes = append(res.CommonPrefixes, cp)
				res.Last = cp
				count++
				k, v = c.Seek(successor(cp))
				k, v = stepBack(c, k, v)
				continue
			}
			if count == in.MaxKeys {
				res.IsTruncated = true
				break
			}
			var info ObjectInfo
			if err := json.Unmarshal(v, &info); err != nil {
				return err
			}
			res.Objects = append(res.Objects, info)
			res.Last = key
			count++
		}
		return nil
	}()
	return res, err
}

// commonPrefix is the common prefix a listing rolls key into: the key up to and including the
// first delimiter after the listing's prefix.
func commonPrefix(key, prefix, delimiter string) (string, bool) {
	if delimiter == "" {
		return "", false
	}
	i := strings.Index(key[len(prefix):], delimiter)
	if i < 0 {
		return "", false
	}
	return key[:len(prefix)+i+len(delimiter)], true
}

// successor is the smallest string greater than every string with prefix p.
func successor(p string) []byte {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return b[:i+1]
		}
	}
	return append(b, 0xff)
}

// stepBack moves the cursor one back so the loop's c.Next lands on k again.
func stepBack(c *bolt.Cursor, k, v []byte) ([]byte, []byte) {
	if k == nil {
		c.Last()
		return c.Next()
	}
	return c.Prev()
}
