package firehose

import (
	"bytes"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// SalvageReport says what Salvage carried over.
type SalvageReport struct {
	DeliveryStreams []string // saved, in the damaged file's order
	Checkpoints     int
	// Logs are the hidden source logs of the saved DirectPut delivery streams: the stream
	// engine's rebuild keeps those instead of setting them aside.
	Logs []string
	// Unreadable is set when reading the damaged file stopped part-way.
	Unreadable error
}

// Salvage copies from a damaged metadata file (old, opened read-only) into a rebuilt one
// whatever delivery stream configuration and checkpoints it can still read. bbolt may panic
// on a damaged page; a panic ends the salvage of that bucket and keeps what was read. A
// configuration that does not decode is dropped; a checkpoint is kept only with its
// delivery stream. Pending batch records are not carried over: without one a reader
// re-reads from its checkpoint, and the keys it writes are derived from the content, so a
// batch delivered before the damage is rewritten in place, not duplicated.
func Salvage(old, into *bolt.DB) (rep SalvageReport, err error) {
	infos := map[string][]byte{}
	checks := map[string][]byte{}
	rep.Unreadable = readAll(old, infoBucket, infos)
	if e := readAll(old, checkBucket, checks); rep.Unreadable == nil {
		rep.Unreadable = e
	}
	var saved []Info
	for _, v := range infos {
		var in Info
		if json.Unmarshal(v, &in) != nil || in.Name == "" || in.Status == "DELETING" {
			continue
		}
		saved = append(saved, in)
	}
	err = into.Update(func(tx *bolt.Tx) error {
		root, err := tx.CreateBucketIfNotExists(rootBucket)
		if err != nil {
			return err
		}
		for _, b := range [][]byte{infoBucket, checkBucket, batchBucket} {
			if _, err := root.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		for _, in := range saved {
			if err := root.Bucket(infoBucket).Put([]byte(in.Name), infos[in.Name]); err != nil {
				return err
			}
			rep.DeliveryStreams = append(rep.DeliveryStreams, in.Name)
			if in.Type == DirectPut {
				rep.Logs = append(rep.Logs, logName(in))
			}
			for k, v := range checks {
				if len(v) == 8 && bytes.HasPrefix([]byte(k), []byte(in.Name+"\x00")) {
					if err := root.Bucket(checkBucket).Put([]byte(k), v); err != nil {
						return err
					}
					rep.Checkpoints++
				}
			}
		}
		return nil
	})
	return rep, err
}

// readAll copies the key/values of firehose/<name> in db into out, stopping at the first
// panic or error and returning it.
func readAll(db *bolt.DB, name []byte, out map[string][]byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("reading firehose/%s: %v", name, r)
		}
	}()
	return db.View(func(tx *bolt.Tx) error {
		root := tx.Bucket(rootBucket)
		if root == nil || root.Bucket(name) == nil {
			return nil
		}
		return root.Bucket(name).ForEach(func(k, v []byte) error {
			if v != nil {
				out[string(k)] = bytes.Clone(v)
			}
			return nil
		})
	})
}
