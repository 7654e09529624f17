package objectstore

import (
	"context"
	"encoding/json"
	"errors"
	"maps"

	bolt "go.etcd.io/bbolt"
)

// ErrNoSuchConfig is returned for a bucket configuration that was never put or was deleted.
var ErrNoSuchConfig = errors.New("no such bucket configuration")

// bucketConfig holds each bucket's configuration documents (CORS, policy, lifecycle, …),
// keyed "bucket\x00kind". The store keeps them as the wire layer gives them: it neither
// parses nor enforces them, and drops them with their bucket.
var bucketConfig = []byte("config")

func configKey(bucket, kind string) []byte { return []byte(bucket + "\x00" + kind) }

// PutBucketConfig stores doc as bucket's configuration of the given kind, replacing any.
func (s *Store) PutBucketConfig(ctx context.Context, bucket, kind string, doc []byte) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketRoot)
		if root.Bucket(bucketBuckets).Get([]byte(bucket)) == nil {
			return ErrNoSuchBucket
		}
		cfg, err := root.CreateBucketIfNotExists(bucketConfig)
		if err != nil {
			return err
		}
		return cfg.Put(configKey(bucket, kind), doc)
	})
}

// BucketConfig returns bucket's configuration of the given kind, or ErrNoSuchConfig.
func (s *Store) BucketConfig(ctx context.Context, bucket, kind string) ([]byte, error) {
	var doc []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketRoot)
		if root.Bucket(bucketBuckets).Get([]byte(bucket)) == nil {
			return ErrNoSuchBucket
		}
		if cfg := root.Bucket(bucketConfig); cfg != nil {
			if v := cfg.Get(configKey(bucket, kind)); v != nil {
				doc = append([]byte(nil), v...)
				return nil
			}
		}
		return ErrNoSuchConfig
	})
	return doc, err
}

// DeleteBucketConfig removes bucket's configuration of the given kind; removing one that is
// not there is not an error, as in S3.
func (s *Store) DeleteBucketConfig(ctx context.Context, bucket, kind string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketRoot)
		if root.Bucket(bucketBuckets).Get([]byte(bucket)) == nil {
			return ErrNoSuchBucket
		}
		if cfg := root.Bucket(bucketConfig); cfg != nil {
			return cfg.Delete(configKey(bucket, kind))
		}
		return nil
	})
}

// dropBucketConfig deletes every configuration of bucket, inside DeleteBucket's transaction.
func dropBucketConfig(tx *bolt.Tx, bucket string) error {
	cfg := tx.Bucket(bucketRoot).Bucket(bucketConfig)
	if cfg == nil {
		return nil
	}
	prefix := []byte(bucket + "\x00")
	c := cfg.Cursor()
	for k, _ := c.Seek(prefix); k != nil && len(k) >= len(prefix) && string(k[:len(prefix)]) == string(prefix); k, _ = c.Seek(prefix) {
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// UpdateObjectMeta changes an object's metadata in place (its tags, its ACL) without
// rewriting its bytes; fn edits a copy and the change commits only if fn returns nil.
// versionID names the version ("" for the current one).
func (s *Store) UpdateObjectMeta(ctx context.Context, bucket, key, versionID string, fn func(*ObjectMeta) error) (ObjectInfo, error) {
	var info ObjectInfo
	err := s.update(func(tx *bolt.Tx) error {
		var err error
		if info, err = viewVersion(tx, bucket, key, versionID); err != nil {
			return err
		}
		meta := info.ObjectMeta
		meta.UserMeta = maps.Clone(meta.UserMeta)
		meta.Tags = append([]Tag(nil), meta.Tags...)
		if err := fn(&meta); err != nil {
			return err
		}
		meta.ContentMD5 = nil
		info.ObjectMeta = meta
		nv, err := json.Marshal(info)
		if err != nil {
			return err
		}
		root := tx.Bucket(bucketRoot)
		objs := root.Bucket([]byte(objectsPrefix + bucket))
		if info.VersionID != "" {
			vers := root.Bucket([]byte(versionsPrefix + bucket))
			if err := vers.Put(versionKey(key, info.Seq), nv); err != nil {
				return err
			}
			cur := objs.Get([]byte(key))
			var c ObjectInfo
			if cur == nil || json.Unmarshal(cur, &c) != nil || c.Seq != info.Seq {
				return nil // not the current version
			}
		}
		return objs.Put([]byte(key), nv)
	})
	if err == nil {
		s.relabel(info)
	}
	return info, err
}
