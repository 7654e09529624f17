package objectstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// SeedObjects records n objects named key-%09d in bucket, metadata only and many to a
// transaction, so a benchmark can list a bucket of a million keys without making a million
// puts first. Listing reads metadata only, so the missing blob files do not matter to it.
func SeedObjects(s *Store, bucket string, n int) error {
	const batch = 50_000
	now := time.Now().UTC().Truncate(time.Second)
	for start := 0; start < n; start += batch {
		err := s.db.Update(func(tx *bolt.Tx) error {
			objs := tx.Bucket(bucketRoot).Bucket([]byte(objectsPrefix + bucket))
			if objs == nil {
				return ErrNoSuchBucket
			}
			for i := start; i < min(start+batch, n); i++ {
				key := fmt.Sprintf("key-%09d", i)
				v, _ := json.Marshal(ObjectInfo{Bucket: bucket, Key: key, Size: 1024,
					ETag: `"0f343b0931126a20f133d67c2b018a3b"`, LastModified: now, Blob: newID(),
					ObjectMeta: ObjectMeta{ContentType: "application/octet-stream"}})
				if err := objs.Put([]byte(key), v); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// SeedVersions turns versioning on in bucket and records keys keys of perKey versions each
// through the engine's own write path (metadata only, as SeedObjects), many to a transaction.
func SeedVersions(s *Store, bucket string, keys, perKey int) error {
	if err := s.SetVersioning(context.Background(), bucket, VersioningEnabled); err != nil {
		return err
	}
	batch := max(1, 50_000/perKey)
	now := time.Now().UTC().Truncate(time.Second)
	for start := 0; start < keys; start += batch {
		err := s.db.Update(func(tx *bolt.Tx) error {
			for i := start; i < min(start+batch, keys); i++ {
				for range perKey {
					info := ObjectInfo{Bucket: bucket, Key: fmt.Sprintf("key-%09d", i), Size: 1024,
						ETag: `"0f343b0931126a20f133d67c2b018a3b"`, LastModified: now, Blob: newID()}
					if _, err := placeLocked(tx, &info); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
