package objectstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// DefaultRegion is the region a rebuilt bucket gets when no label names one.
const DefaultRegion = "us-east-1"

// RebuildReport says what Rebuild restored and what it set aside.
type RebuildReport struct {
	Buckets   []string // restored, sorted
	Objects   int      // restored
	SetAside  []string // blobs moved to lost+found, with why
	Unchanged bool     // the blob directory was empty
}

// Rebuild writes bucket and object metadata into db, which holds none, from the labels of the
// blobs under opts.Dir (see label.go). For each bucket and key the most recently written
// labelled blob wins; every other file (a blob without a label, an upload part, an older
// version of a key, a blob whose size disagrees with its label) moves to opts.LostFound.
// What labels cannot give back: buckets without objects, multipart uploads in progress,
// bucket configuration (versioning, CORS, policies…) and the older versions of a key, which
// go to lost+found with the rest.
func Rebuild(opts Options) (RebuildReport, error) {
	var rep RebuildReport
	if opts.DB == nil || opts.Dir == "" {
		return rep, errors.New("objectstore: Options.DB and Options.Dir are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.LostFound == "" {
		opts.LostFound = filepath.Join(filepath.Dir(opts.Dir), "lost+found", filepath.Base(opts.Dir))
	}
	s := &Store{db: opts.DB, dir: opts.Dir, lostFound: opts.LostFound, logger: opts.Logger, now: time.Now}
	entries, err := os.ReadDir(s.blobDir())
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return rep, err
	}
	rep.Unchanged = len(entries) == 0
	type candidate struct {
		label blobLabel
		file  string // name in the blob directory, maybe with .tmp
	}
	best := map[string]candidate{} // bucket "/" key → newest labelled blob
	var aside []candidate
	setAside := func(file, why string) error {
		id := file
		if strings.HasSuffix(file, ".tmp") {
			// Set aside under the final name it would have had; the .tmp suffix means
			// nothing outside the blob directory.
			id = strings.TrimSuffix(file, ".tmp")
			if err := os.Rename(filepath.Join(s.blobDir(), file), s.blobPath(id)); err != nil {
				return err
			}
		}
		dst, err := s.setAside(id)
		if err != nil {
			return err
		}
		rep.SetAside = append(rep.SetAside, fmt.Sprintf("%s: %s", dst, why))
		return nil
	}
	for _, de := range entries {
		if de.IsDir() {
			continue
		}
		l, err := readLabel(filepath.Join(s.blobDir(), de.Name()))
		if err != nil {
			if err := setAside(de.Name(), "no label naming its bucket and key"); err != nil {
				return rep, err
			}
			continue
		}
		info, err := de.Info()
		if err != nil {
			return rep, err
		}
		if info.Size() != l.Size || l.Blob != strings.TrimSuffix(de.Name(), ".tmp") || !ValidBucketName(l.Bucket) || len(l.Key) > MaxKeyLen {
			if err := setAside(de.Name(), fmt.Sprintf("label of s3://%s/%s does not match the file", l.Bucket, l.Key)); err != nil {
				return rep, err
			}
			continue
		}
		if l.DeleteMarker {
			if err := setAside(de.Name(), "a delete marker's label"); err != nil {
				return rep, err
			}
			continue
		}
		// The rebuilt bucket is unversioned (its versioning status was metadata): the newest
		// version of each key becomes the object, as in a bucket never versioned.
		l.VersionID, l.Seq = "", 0
		k := l.Bucket + "/" + l.Key
		c := candidate{l, de.Name()}
		if prev, ok := best[k]; ok {
			if prev.label.WrittenNs > l.WrittenNs {
				prev, c = c, prev
			}
			aside = append(aside, prev)
		}
		best[k] = c
	}
	for _, c := range aside {
		if err := setAside(c.file, fmt.Sprintf("an older version of s3://%s/%s", c.label.Bucket, c.label.Key)); err != nil {
			return rep, err
		}
	}
	keys := make([]string, 0, len(best))
	for k := range best {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if c := best[k]; strings.HasSuffix(c.file, ".tmp") {
			if err := os.Rename(filepath.Join(s.blobDir(), c.file), s.blobPath(c.label.Blob)); err != nil {
				return rep, err
			}
		}
	}
	syncDir(s.blobDir())
	buckets := map[string]BucketInfo{}
	err = opts.DB.Update(func(tx *bolt.Tx) error {
		root, err := createRoot(tx)
		if err != nil {
			return err
		}
		for _, k := range keys {
			l := best[k].label
			bi, ok := buckets[l.Bucket]
			if !ok {
				bi = BucketInfo{Name: l.Bucket, Created: l.LastModified, Region: l.Region}
				if bi.Region == "" {
					bi.Region = DefaultRegion
				}
			}
			if l.LastModified.Before(bi.Created) {
				bi.Created = l.LastModified
			}
			buckets[l.Bucket] = bi
			objs, err := root.CreateBucketIfNotExists([]byte(objectsPrefix + l.Bucket))
			if err != nil {
				return err
			}
			v, err := json.Marshal(l.ObjectInfo)
			if err != nil {
				return err
			}
			if err := objs.Put([]byte(l.Key), v); err != nil {
				return err
			}
			if err := root.Bucket(bucketBlobs).Put([]byte(l.Blob), []byte(k)); err != nil {
				return err
			}
		}
		for name, bi := range buckets {
			v, _ := json.Marshal(bi)
			if err := root.Bucket(bucketBuckets).Put([]byte(name), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	for name := range buckets {
		rep.Buckets = append(rep.Buckets, name)
	}
	sort.Strings(rep.Buckets)
	rep.Objects = len(keys)
	return rep, nil
}
