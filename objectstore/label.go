package objectstore

import (
	"encoding/json"
	"errors"
	"os"
)

// A blob carries a label: its object's metadata, as the extended attribute labelAttr of the
// blob file, written before the blob is fsynced and renamed, so the label is durable exactly
// when the bytes are. The metadata in bbolt stays the truth; the label is what lets
// `localpipe repair` rebuild that metadata when it is lost, because nothing else ties a
// randomly named blob to its bucket and key.
//
// Why an extended attribute: a header inside the blob would shift every read, range and
// multipart copy by its length, and a sidecar file doubles the files and fsyncs of every
// put. An attribute costs one syscall and changes no read. Where the file system refuses it
// (no xattr support, or a label larger than the file system takes: ext4 keeps about 4 KiB),
// the put still succeeds and only that blob cannot be restored by repair.
//
//	value = JSON of blobLabel: the ObjectInfo fields as stored in bbolt, plus
//	        "region" (the bucket's region) and "writtenNs" (unix nanoseconds of the write,
//	        to order versions of one key more finely than LastModified's seconds)
const labelAttr = "user.localpipe.object"

type blobLabel struct {
	ObjectInfo
	Region    string `json:"region,omitempty"`
	WrittenNs int64  `json:"writtenNs"`
}

// label writes info's label onto f, an open blob not yet fsynced.
func (s *Store) label(f *os.File, info ObjectInfo, region string) {
	v, err := json.Marshal(blobLabel{ObjectInfo: info, Region: region, WrittenNs: s.now().UnixNano()})
	if err == nil {
		err = setLabel(f, v)
	}
	if err != nil {
		s.logger.Debug("objectstore: blob not labelled; repair could not restore it", "bucket", info.Bucket, "key", info.Key, "err", err)
	}
}

// relabel refreshes the label of a committed blob after its object's metadata changed in
// place (tags, say), keeping its write time. Best effort: a stale label only means that a
// repair restores the metadata as it was written.
func (s *Store) relabel(info ObjectInfo) {
	path := s.blobPath(info.Blob)
	l, err := readLabel(path)
	if err != nil {
		return
	}
	l.ObjectInfo = info
	v, err := json.Marshal(l)
	if err != nil {
		return
	}
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	if setLabel(f, v) == nil {
		f.Sync()
	}
}

// readLabel returns the label of the blob file at path; errNoLabel if it has none.
func readLabel(path string) (blobLabel, error) {
	v, err := getLabel(path)
	if err != nil {
		return blobLabel{}, err
	}
	return decodeLabel(v)
}

// decodeLabel parses a label's value; errNoLabel if it does not name a bucket, key and blob.
func decodeLabel(v []byte) (blobLabel, error) {
	var l blobLabel
	if err := json.Unmarshal(v, &l); err != nil {
		return l, errors.Join(errNoLabel, err)
	}
	if l.Bucket == "" || l.Key == "" || l.Blob == "" {
		return l, errNoLabel
	}
	return l, nil
}

var errNoLabel = errors.New("blob has no label")
