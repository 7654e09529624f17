package objectstore

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Versioning. A bucket that was never versioned keeps one object per key in its objects
// bucket, as before. The first PutBucketVersioning gives it a versions bucket too, which from
// then on holds every version and delete marker of every key, keyed
//
//	key \x00 16 hex digits of ^seq
//
// so a key's versions sort newest first and a cursor walks a listing in S3's order. seq comes
// from the versions bucket's sequence, and a version id is the base64url of seq (masked) and
// 16 random bytes: the id finds its entry in one lookup, and an id that was never issued is told from
// a malformed one. The objects bucket keeps holding each key's current version (absent when
// that is a delete marker), so reads and listings of current objects cost what they did.
// Objects that existed when versioning was first turned on become their keys' "null"
// versions; while versioning is suspended, writes and deletes replace the null version.

const versionsPrefix = "versions:"

// Versioning states a bucket can be in.
const (
	VersioningEnabled   = "Enabled"
	VersioningSuspended = "Suspended"
)

// Errors of versioned access.
var (
	ErrNoSuchVersion    = errors.New("no such version")
	ErrInvalidVersionID = errors.New("invalid version id")
)

// DeleteMarkerError is a read that found a delete marker: the key's current version
// (Current) or the version asked for by id.
type DeleteMarkerError struct {
	VersionID    string
	LastModified time.Time
	Current      bool
}

func (e *DeleteMarkerError) Error() string { return "delete marker " + e.VersionID }

// NullVersion is the id of the version a key has when it was written without versioning.
const NullVersion = "null"

func versionKey(key string, seq uint64) []byte {
	return []byte(fmt.Sprintf("%s\x00%016x", key, ^seq))
}

// splitVersionKey is versionKey's inverse.
func splitVersionKey(k []byte) (key string, ok bool) {
	if len(k) < 17 || k[len(k)-17] != 0 {
		return "", false
	}
	return string(k[:len(k)-17]), true
}

// newVersionID hides seq under the id's random part, so ids look as opaque as S3's.
func newVersionID(seq uint64) string {
	var b [24]byte
	rand.Read(b[8:])
	binary.BigEndian.PutUint64(b[:8], seq^binary.BigEndian.Uint64(b[8:16]))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ParseVersionID returns the sequence number an id was issued with; ok is false when the id
// cannot be one of ours (S3 answers InvalidArgument for those). "null" parses with seq 0.
func ParseVersionID(id string) (seq uint64, ok bool) {
	if id == NullVersion {
		return 0, true
	}
	b, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil || len(b) != 24 {
		return 0, false
	}
	return binary.BigEndian.Uint64(b[:8]) ^ binary.BigEndian.Uint64(b[8:16]), true
}

// bucketState reads a bucket's info inside tx.
func bucketState(tx *bolt.Tx, bucket string) (BucketInfo, error) {
	var bi BucketInfo
	v := tx.Bucket(bucketRoot).Bucket(bucketBuckets).Get([]byte(bucket))
	if v == nil {
		return bi, ErrNoSuchBucket
	}
	return bi, json.Unmarshal(v, &bi)
}

// SetVersioning turns versioning on (Enabled) or off (Suspended). The first call moves the
// bucket's objects into its versions as null versions, in the same transaction.
func (s *Store) SetVersioning(ctx context.Context, bucket, status string) error {
	if status != VersioningEnabled && status != VersioningSuspended {
		return fmt.Errorf("objectstore: versioning status %q", status)
	}
	return s.update(func(tx *bolt.Tx) error {
		bi, err := bucketState(tx, bucket)
		if err != nil {
			return err
		}
		root := tx.Bucket(bucketRoot)
		if root.Bucket([]byte(versionsPrefix+bucket)) == nil {
			vers, err := root.CreateBucket([]byte(versionsPrefix + bucket))
			if err != nil {
				return err
			}
			objs := root.Bucket([]byte(objectsPrefix + bucket))
			type kv struct{ k, v []byte }
			var moved []kv
			err = objs.ForEach(func(k, v []byte) error {
				var info ObjectInfo
				if err := json.Unmarshal(v, &info); err != nil {
					return err
				}
				seq, _ := vers.NextSequence()
				info.VersionID, info.Seq = NullVersion, seq
				nv, _ := json.Marshal(info)
				moved = append(moved, kv{append([]byte(nil), k...), nv})
				return vers.Put(versionKey(info.Key, seq), nv)
			})
			if err != nil {
				return err
			}
			for _, m := range moved {
				if err := objs.Put(m.k, m.v); err != nil {
					return err
				}
			}
		}
		bi.Versioning = status
		v, _ := json.Marshal(bi)
		return root.Bucket(bucketBuckets).Put([]byte(bucket), v)
	})
}

// findVersion looks up one version of key by id inside tx: its versions-bucket key and info.
func findVersion(vers *bolt.Bucket, key, id string) ([]byte, ObjectInfo, error) {
	var info ObjectInfo
	seq, ok := ParseVersionID(id)
	if !ok {
		return nil, info, ErrInvalidVersionID
	}
	if id == NullVersion {
		c := vers.Cursor()
		prefix := []byte(key + "\x00")
		for k, v := c.Seek(prefix); k != nil; k, v = c.Next() {
			if kk, ok := splitVersionKey(k); !ok || kk != key {
				break
			}
			if err := json.Unmarshal(v, &info); err != nil {
				return nil, info, err
			}
			if info.VersionID == NullVersion {
				return k, info, nil
			}
		}
		return nil, info, ErrNoSuchVersion
	}
	vk := versionKey(key, seq)
	v := vers.Get(vk)
	if v == nil {
		return nil, info, ErrNoSuchVersion
	}
	if err := json.Unmarshal(v, &info); err != nil {
		return nil, info, err
	}
	if info.VersionID != id {
		return nil, info, ErrNoSuchVersion
	}
	return vk, info, nil
}

// newest is key's newest version or delete marker, if it has any.
func newest(vers *bolt.Bucket, key string) (ObjectInfo, bool, error) {
	var info ObjectInfo
	k, v := vers.Cursor().Seek([]byte(key + "\x00"))
	if kk, ok := splitVersionKey(k); k == nil || !ok || kk != key {
		return info, false, nil
	}
	return info, true, json.Unmarshal(v, &info)
}

// placeLocked makes info its key's current version inside tx, assigning its version id as
// the bucket's versioning state says, and returns the blobs the write retired: the old
// object of a bucket never versioned, or the null version a suspended bucket replaces.
func placeLocked(tx *bolt.Tx, info *ObjectInfo) (retired []string, err error) {
	root := tx.Bucket(bucketRoot)
	objs := root.Bucket([]byte(objectsPrefix + info.Bucket))
	if objs == nil {
		return nil, ErrNoSuchBucket
	}
	vers := root.Bucket([]byte(versionsPrefix + info.Bucket))
	if vers == nil {
		info.VersionID, info.Seq = "", 0
		if v := objs.Get([]byte(info.Key)); v != nil {
			var prev ObjectInfo
			if json.Unmarshal(v, &prev) == nil {
				retired = append(retired, prev.Blob)
			}
		}
	} else {
		bi, err := bucketState(tx, info.Bucket)
		if err != nil {
			return nil, err
		}
		if retired, err = putVersionLocked(tx, vers, bi, info); err != nil {
			return nil, err
		}
	}
	for _, b := range retired {
		if err := root.Bucket(bucketBlobs).Delete([]byte(b)); err != nil {
			return nil, err
		}
	}
	if !info.DeleteMarker {
		if err := root.Bucket(bucketBlobs).Put([]byte(info.Blob), []byte(info.Bucket+"/"+info.Key)); err != nil {
			return nil, err
		}
		v, err := json.Marshal(info)
		if err != nil {
			return nil, err
		}
		return retired, objs.Put([]byte(info.Key), v)
	}
	return retired, objs.Delete([]byte(info.Key))
}

// putVersionLocked adds info (an object or a delete marker) as its key's newest version.
func putVersionLocked(tx *bolt.Tx, vers *bolt.Bucket, bi BucketInfo, info *ObjectInfo) (retired []string, err error) {
	seq, err := vers.NextSequence()
	if err != nil {
		return nil, err
	}
	info.Seq = seq
	if bi.Versioning == VersioningEnabled {
		info.VersionID = newVersionID(seq)
	} else {
		info.VersionID = NullVersion
		if vk, prev, err := findVersion(vers, info.Key, NullVersion); err == nil {
			if err := vers.Delete(vk); err != nil {
				return nil, err
			}
			if !prev.DeleteMarker {
				retired = append(retired, prev.Blob)
			}
		} else if !errors.Is(err, ErrNoSuchVersion) {
			return nil, err
		}
	}
	v, err := json.Marshal(info)
	if err != nil {
		return nil, err
	}
	return retired, vers.Put(versionKey(info.Key, seq), v)
}

// DeleteResult says what a delete did in a versioned bucket.
type DeleteResult struct {
	VersionID    string // the version removed, or the delete marker made
	DeleteMarker bool   // a delete marker was made, or the version removed was one
}

// DeleteObjectVersion deletes key. Without a version id it deletes the object of a bucket
// never versioned, or adds a delete marker to a versioned one; with one it removes that
// version for good (deleting a version that does not exist is not an error, as in S3), and
// the next newest becomes current.
func (s *Store) DeleteObjectVersion(ctx context.Context, bucket, key, versionID string) (DeleteResult, error) {
	var (
		res     DeleteResult
		retired []string
	)
	if versionID != "" {
		if _, ok := ParseVersionID(versionID); !ok {
			return res, ErrInvalidVersionID
		}
	}
	err := s.deleteUpdate(func(tx *bolt.Tx) error {
		res, retired = DeleteResult{}, nil
		root := tx.Bucket(bucketRoot)
		objs := root.Bucket([]byte(objectsPrefix + bucket))
		if objs == nil {
			return ErrNoSuchBucket
		}
		vers := root.Bucket([]byte(versionsPrefix + bucket))
		switch {
		case vers == nil && versionID != "" && versionID != NullVersion:
			return ErrInvalidVersionID
		case vers == nil:
			v := objs.Get([]byte(key))
			if v == nil {
				return nil
			}
			var prev ObjectInfo
			if json.Unmarshal(v, &prev) == nil {
				retired = append(retired, prev.Blob)
				if err := root.Bucket(bucketBlobs).Delete([]byte(prev.Blob)); err != nil {
					return err
				}
			}
			return objs.Delete([]byte(key))
		case versionID == "":
			marker := ObjectInfo{Bucket: bucket, Key: key, DeleteMarker: true, LastModified: s.now().UTC().Truncate(time.Millisecond)}
			var err error
			if retired, err = placeLocked(tx, &marker); err != nil {
				return err
			}
			res = DeleteResult{VersionID: marker.VersionID, DeleteMarker: true}
			return nil
		}
		vk, info, err := findVersion(vers, key, versionID)
		if errors.Is(err, ErrNoSuchVersion) {
			res.VersionID = versionID
			return nil
		}
		if err != nil {
			return err
		}
		res = DeleteResult{VersionID: versionID, DeleteMarker: info.DeleteMarker}
		if err := vers.Delete(vk); err != nil {
			return err
		}
		if !info.DeleteMarker {
			retired = append(retired, info.Blob)
			if err := root.Bucket(bucketBlobs).Delete([]byte(info.Blob)); err != nil {
				return err
			}
		}
		// The key's current version is whatever is newest now.
		top, ok, err := newest(vers, key)
		if err != nil {
			return err
		}
		if !ok || top.DeleteMarker {
			return objs.Delete([]byte(key))
		}
		v, _ := json.Marshal(top)
		return objs.Put([]byte(key), v)
	})
	if err != nil {
		return DeleteResult{}, err
	}
	s.collect(retired)
	return res, nil
}

// HeadObjectVersion returns the metadata of one version of key ("" for the current one).
// A delete marker answers *DeleteMarkerError.
func (s *Store) HeadObjectVersion(ctx context.Context, bucket, key, versionID string) (ObjectInfo, error) {
	var info ObjectInfo
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		info, err = viewVersion(tx, bucket, key, versionID)
		return err
	})
	return info, err
}

func viewVersion(tx *bolt.Tx, bucket, key, versionID string) (ObjectInfo, error) {
	var info ObjectInfo
	root := tx.Bucket(bucketRoot)
	objs := root.Bucket([]byte(objectsPrefix + bucket))
	if objs == nil {
		return info, ErrNoSuchBucket
	}
	vers := root.Bucket([]byte(versionsPrefix + bucket))
	if versionID == "" || vers == nil && versionID == NullVersion {
		if v := objs.Get([]byte(key)); v != nil {
			return info, json.Unmarshal(v, &info)
		}
		if vers != nil {
			if top, ok, err := newest(vers, key); err != nil {
				return info, err
			} else if ok && top.DeleteMarker {
				return info, &DeleteMarkerError{VersionID: top.VersionID, LastModified: top.LastModified, Current: true}
			}
		}
		return info, ErrNoSuchKey
	}
	if vers == nil {
		if _, ok := ParseVersionID(versionID); !ok {
			return info, ErrInvalidVersionID
		}
		return info, ErrInvalidVersionID
	}
	_, info, err := findVersion(vers, key, versionID)
	if err == nil && info.DeleteMarker {
		return info, &DeleteMarkerError{VersionID: info.VersionID, LastModified: info.LastModified}
	}
	return info, err
}

// ListVersionsInput selects a page of ListObjectVersions.
type ListVersionsInput struct {
	Prefix, Delimiter string
	KeyMarker         string // start after this key, or within it after VersionIDMarker
	VersionIDMarker   string
	MaxKeys           int
}

// VersionEntry is one version or delete marker in a listing.
type VersionEntry struct {
	ObjectInfo
	IsLatest bool
}

// ListVersionsResult is one page, in key order and newest version first within a key.
type ListVersionsResult struct {
	Versions       []VersionEntry
	CommonPrefixes []string
	IsTruncated    bool
	NextKeyMarker  string
	NextVersionID  string
}

// ListVersions lists the versions of a bucket's keys. A bucket never versioned lists its
// objects as their null versions, which is what S3 answers and what cleanup code expects.
func (s *Store) ListVersions(ctx context.Context, bucket string, in ListVersionsInput) (ListVersionsResult, error) {
	var res ListVersionsResult
	if in.MaxKeys < 0 {
		in.MaxKeys = 0
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketRoot)
		objs := root.Bucket([]byte(objectsPrefix + bucket))
		if objs == nil {
			return ErrNoSuchBucket
		}
		vers := root.Bucket([]byte(versionsPrefix + bucket))
		if vers == nil {
			page, err := s.listLocked(objs, ListInput{Prefix: in.Prefix, Delimiter: in.Delimiter, StartAfter: in.KeyMarker, MaxKeys: in.MaxKeys})
			if err != nil {
				return err
			}
			for _, o := range page.Objects {
				o.VersionID = NullVersion
				res.Versions = append(res.Versions, VersionEntry{ObjectInfo: o, IsLatest: true})
			}
			res.CommonPrefixes, res.IsTruncated = page.CommonPrefixes, page.IsTruncated
			if page.IsTruncated {
				res.NextKeyMarker, res.NextVersionID = page.Last, NullVersion
			}
			return nil
		}
		c := vers.Cursor()
		var k, v []byte
		switch {
		case in.KeyMarker == "":
			k, v = c.Seek([]byte(in.Prefix))
		case in.VersionIDMarker == "":
			k, v = c.Seek(append([]byte(in.KeyMarker), 1)) // past every version of KeyMarker
		default:
			vk, _, err := findVersion(vers, in.KeyMarker, in.VersionIDMarker)
			if err != nil {
				if errors.Is(err, ErrInvalidVersionID) {
					return err
				}
				vk = versionKey(in.KeyMarker, 0)
			}
			if k, v = c.Seek(vk); k != nil && string(k) == string(vk) {
				k, v = c.Next()
			}
		}
		count := 0
		prevKey, havePrev := in.KeyMarker, in.KeyMarker != ""
		lastCP := ""
		for ; k != nil; k, v = c.Next() {
			key, ok := splitVersionKey(k)
			if !ok {
				continue
			}
			if key < in.Prefix {
				continue
			}
			if !strings.HasPrefix(key, in.Prefix) {
				break
			}
			latest := !havePrev || key != prevKey
			prevKey, havePrev = key, true
			if cp, ok := commonPrefix(key, in.Prefix, in.Delimiter); ok {
				if cp != lastCP && cp > in.KeyMarker {
					if count == in.MaxKeys {
						res.IsTruncated = true
						break
					}
					res.CommonPrefixes = append(res.CommonPrefixes, cp)
					lastCP = cp
					res.NextKeyMarker, res.NextVersionID = cp, ""
					count++
				}
				// Every version under the prefix is summed up by it: jump past them.
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
			res.Versions = append(res.Versions, VersionEntry{ObjectInfo: info, IsLatest: latest})
			res.NextKeyMarker, res.NextVersionID = key, info.VersionID
			count++
		}
		if !res.IsTruncated {
			res.NextKeyMarker, res.NextVersionID = "", ""
		}
		return nil
	})
	return res, err
}
