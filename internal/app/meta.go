package app

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
)

// metaFile is the one bbolt file in the data dir.
const metaFile = "meta.db"

// metaInitFile is the name a new metadata file has until the engines have made their
// buckets in it: those commits skip their syncs (about fifteen on a new data dir, a third of
// a first start), and the file gets its name only once it has been synced as a whole (see
// finishMetadata). A first start that dies before then leaves no meta.db, only this, and the
// next start begins again; nothing had been acknowledged.
const metaInitFile = "meta.db.init"

// MetadataError says that the data dir's metadata cannot be used as it is, and what to do.
// Start-up refuses to go on rather than treat the data the metadata no longer describes as
// garbage.
type MetadataError struct {
	Path    string
	Problem string // "is missing", "is empty", "is damaged (…)"
	Data    string // what data the dir holds, if that is what makes the problem fatal
	DataDir string
}

func (e *MetadataError) Error() string {
	msg := fmt.Sprintf("metadata %s %s", e.Path, e.Problem)
	if e.Data != "" {
		msg += fmt.Sprintf(", but %s holds data (%s): starting with new metadata would hide it", e.DataDir, e.Data)
	}
	return msg + fmt.Sprintf(". No data was deleted. Run `localpipe repair --data-dir %s` to rebuild the metadata from the data "+
		"(a damaged file is kept aside), then start again", e.DataDir)
}

// openMetadata opens the data dir's bbolt file, refusing when it is missing or empty while
// shard logs or blobs exist (a fresh file would make every one of them look unowned), and
// when it is damaged. bbolt reports some damage by panicking (an invalid freelist page on
// open, "page expected to be …" on a read); those panics become a MetadataError here, and
// a full consistency check at open catches damage in pages the engines would only reach
// later, while serving (see FullCheckBytes for what it costs and when it is skipped).
//
// A new file is made as metaInitFile, unsynced, and fresh says so: the caller finishes it
// with finishMetadata once the engines are open.
func openMetadata(dataDir string, logger *slog.Logger) (_ *bolt.DB, fresh bool, err error) {
	path := filepath.Join(dataDir, metaFile)
	fail := func(problem string, data string) error {
		return &MetadataError{Path: path, Problem: problem, Data: data, DataDir: dataDir}
	}
	st, statErr := os.Stat(path)
	switch {
	case errors.Is(statErr, os.ErrNotExist):
		if data := dataFound(dataDir); data != "" {
			return nil, false, fail("is missing", data)
		}
		if runtime.GOOS == "windows" {
			break // an open file cannot be renamed there: made in place, with syncs
		}
		init := filepath.Join(dataDir, metaInitFile)
		if err := os.Remove(init); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, false, fmt.Errorf("metadata %s: %w", init, err)
		}
		db, err := bolt.Open(init, 0o644, &bolt.Options{Timeout: 2 * time.Second, NoSync: true, NoGrowSync: true})
		if err != nil {
			return nil, false, fmt.Errorf("open metadata %s: %w", init, err)
		}
		return db, true, nil
	case statErr != nil:
		return nil, false, fmt.Errorf("metadata %s: %w", path, statErr)
	case st.Size() == 0:
		if data := dataFound(dataDir); data != "" {
			return nil, false, fail("is empty", data)
		}
	}
	var db *bolt.DB
	defer func() {
		if r := recover(); r != nil {
			logger.Debug("bbolt panicked on the metadata file", "panic", r, "stack", string(debug.Stack()))
			if db != nil {
				closeQuietly(db)
			}
			err = fail(fmt.Sprintf("is damaged (%v)", r), "")
		}
	}()
	// The directory lock already excludes other processes, so bbolt's own lock can only be
	// contended by a stale holder; fail instead of hanging.
	db, err = bolt.Open(path, 0o644, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		// A lock timeout or an I/O or permission error says nothing about the file's
		// contents; anything else from bbolt means they are not a database it can use.
		var pathErr *fs.PathError
		var errno syscall.Errno
		if errors.Is(err, bolt.ErrTimeout) || errors.As(err, &pathErr) || errors.As(err, &errno) {
			return nil, false, fmt.Errorf("open metadata %s: %w", path, err)
		}
		return nil, false, fail(fmt.Sprintf("is damaged (%v)", err), "")
	}
	if intact, _ := metaPagesIntact(path); intact[0] != intact[1] {
		// A torn write of one of bbolt's two meta pages (power loss mid-commit) is damage
		// bbolt is built to survive: it opened from the other, older one, losing at most the
		// last transaction. Its page-by-page check would still trip over the torn page, so
		// let one empty commit rewrite it first.
		logger.Warn("metadata: one of bbolt's two meta pages was torn; the other was used and the torn one is rewritten",
			"path", path, "intact", intact)
		if err := db.Update(func(*bolt.Tx) error { return nil }); err != nil {
			db.Close()
			return nil, false, fail(fmt.Sprintf("is damaged (%v)", err), "")
		}
	}
	size := int64(0)
	if st != nil {
		size = st.Size()
	}
	if clean := cleanShutdown(db); size <= FullCheckBytes || !clean {
		start := time.Now()
		preRead(path)
		if err := checkMetadata(db); err != nil {
			db.Close()
			return nil, false, fail(fmt.Sprintf("is damaged (%v)", err), "")
		}
		logger.Debug("metadata checked", "path", path, "bytes", size, "ms", time.Since(start).Milliseconds())
	} else {
		logger.Info("metadata: skipped the full consistency check of a large file after a clean shutdown",
			"path", path, "bytes", size)
	}
	// From here until a clean Close, the file counts as written by a process that may die.
	if err := db.Update(func(tx *bolt.Tx) error {
		if b := tx.Bucket(stateBucket); b != nil {
			return b.Delete(cleanKey)
		}
		return nil
	}); err != nil {
		db.Close()
		return nil, false, fmt.Errorf("metadata %s: %w", path, err)
	}
	return db, false, nil
}

// FullCheckBytes is the largest meta.db checked page by page at every start; a larger one is
// checked only after a shutdown that was not clean, because the check reads the whole file:
// measured on a 680 MB file (a million object entries), 0.7 s with the file in the page
// cache, 22 s from a cold cache reading page by page, 4.2 s reading it sequentially first
// (preRead). Up to this size a cold start pays well under a second.
var FullCheckBytes int64 = 128 << 20

var (
	stateBucket = []byte("localpipe")
	cleanKey    = []byte("cleanShutdown")
)

// cleanShutdown reports whether the last process to use db closed it cleanly.
func cleanShutdown(db *bolt.DB) bool {
	clean := false
	db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(stateBucket); b != nil {
			clean = b.Get(cleanKey) != nil
		}
		return nil
	})
	return clean
}

// markClean records a clean shutdown, as the last write before the file is closed.
func markClean(db *bolt.DB) error {
	return db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(stateBucket)
		if err != nil {
			return err
		}
		return b.Put(cleanKey, []byte{1})
	})
}

// preRead reads the file front to back so the check, which visits pages in tree order,
// finds them in the page cache instead of seeking for each.
func preRead(path string) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	// Read with a buffer of our own: io.CopyBuffer to io.Discard would ignore it for
	// Discard's 8 KiB one. Reads in order are what the kernel's readahead works from, so a
	// big file needs no bigger buffer than a few pages; every page the buffer takes is a
	// fault and resident memory for the rest of the run.
	size := int64(16 << 10)
	if st, err := f.Stat(); err == nil {
		size = min(size, st.Size()+1)
	}
	buf := make([]byte, size)
	for {
		if _, err := f.Read(buf); err != nil {
			return
		}
	}
}

// bbolt's meta page, as it lays it out in native byte order: a 16-byte page header (id u64,
// flags u16, count u16, overflow u32), then magic u32, version u32, page size u32, flags u32,
// root bucket (pgid u64, sequence u64), freelist u64, high water mark u64, txid u64, and an
// FNV-64a checksum u64 of the 56 bytes before it.
const (
	boltMagic       = 0xED0CDAED
	boltVersion     = 2
	boltPageHeader  = 16
	boltMetaSumFrom = 56
)

// metaPagesIntact reports which of the file's two meta pages (ids 0 and 1) verify.
func metaPagesIntact(path string) (intact [2]bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return intact, err
	}
	defer f.Close()
	buf := make([]byte, boltPageHeader+boltMetaSumFrom+8)
	pageSize := int64(os.Getpagesize())
	if _, err := f.ReadAt(buf, 0); err == nil {
		var size uint32
		if size, intact[0] = verifyMeta(buf, 0); intact[0] {
			pageSize = int64(size)
		}
	}
	if _, err := f.ReadAt(buf, pageSize); err == nil {
		_, intact[1] = verifyMeta(buf, 1)
	}
	return intact, nil
}

func verifyMeta(b []byte, id uint64) (pageSize uint32, ok bool) {
	if len(b) < boltPageHeader+boltMetaSumFrom+8 {
		return 0, false
	}
	ne := binary.NativeEndian
	m := b[boltPageHeader:]
	if ne.Uint64(b) != id || ne.Uint32(m) != boltMagic || ne.Uint32(m[4:]) != boltVersion {
		return 0, false
	}
	h := fnv.New64a()
	h.Write(m[:boltMetaSumFrom])
	return ne.Uint32(m[8:]), h.Sum64() == ne.Uint64(m[boltMetaSumFrom:])
}

// checkMetadata runs bbolt's consistency check and returns its first finding.
func checkMetadata(db *bolt.DB) error {
	var first error
	err := db.View(func(tx *bolt.Tx) error {
		n := 0
		for e := range tx.Check() {
			if first == nil {
				first = e
			}
			n++
		}
		if n > 1 {
			first = fmt.Errorf("%w, and %d more problems", first, n-1)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return first
}

// closeQuietly closes a bbolt file that may be damaged enough to panic while closing.
func closeQuietly(db *bolt.DB) {
	defer func() { recover() }()
	db.Close()
}

// dataFound describes the shard logs and blobs under dataDir, or returns "" if there are none.
func dataFound(dataDir string) string {
	var parts []string
	if n := countEntries(filepath.Join(dataDir, "kinesis")); n > 0 {
		parts = append(parts, fmt.Sprintf("%d stream %s under kinesis/", n, plural(n, "directory", "directories")))
	}
	if n := countEntries(filepath.Join(dataDir, "s3", "blobs")); n > 0 {
		parts = append(parts, fmt.Sprintf("%d object %s under s3/blobs/", n, plural(n, "file", "files")))
	}
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	return parts[0] + " and " + parts[1]
}

func countEntries(dir string) int {
	entries, _ := os.ReadDir(dir)
	return len(entries)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// finishMetadata gives a new metadata file (see metaInitFile) its name: synced whole, then
// renamed, then the rename made durable, before anything is acknowledged from it. From here
// on every commit syncs.
func finishMetadata(db *bolt.DB, dataDir string) error {
	db.NoSync, db.NoGrowSync = false, false
	if err := db.Sync(); err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	if err := os.Rename(filepath.Join(dataDir, metaInitFile), filepath.Join(dataDir, metaFile)); err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	// As everywhere a rename is made durable here: where a directory cannot be synced
	// (Windows), the rename is as durable as the filesystem makes it.
	if d, err := os.Open(dataDir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
