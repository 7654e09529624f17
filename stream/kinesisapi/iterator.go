package kinesisapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"time"
)

// A shard iterator is opaque to clients but must survive a restart and must not be forgeable
// into reading another stream's data by editing bytes, so it carries an HMAC. The key is
// fixed: iterators are capabilities only within one developer's emulator.
var iteratorKey = []byte("localpipe shard iterator v1")

const (
	iteratorVersion = 1
	iteratorMACLen  = 16
	iteratorTTL     = 5 * time.Minute
)

type iterator struct {
	streamCreated int64 // unix nanos: the stream's identity
	shard         int
	position      uint64
	issuedMs      int64
	stream        string
}

var errBadIterator = errors.New("invalid shard iterator")

func (it iterator) encode() string {
	b := make([]byte, 0, 64+len(it.stream))
	b = append(b, iteratorVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(it.streamCreated))
	b = binary.BigEndian.AppendUint32(b, uint32(it.shard))
	b = binary.BigEndian.AppendUint64(b, it.position)
	b = binary.BigEndian.AppendUint64(b, uint64(it.issuedMs))
	b = append(b, byte(len(it.stream)))
	b = append(b, it.stream...)
	m := hmac.New(sha256.New, iteratorKey)
	m.Write(b)
	b = m.Sum(b)[:len(b)+iteratorMACLen]
	return base64.StdEncoding.EncodeToString(b)
}

func decodeIterator(s string) (iterator, error) {
	const fixed = 1 + 8 + 4 + 8 + 8 + 1
	if strings.ContainsAny(s, "\r\n") { // which the decoder would skip
		return iterator{}, errBadIterator
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || len(b) < fixed+iteratorMACLen || b[0] != iteratorVersion {
		return iterator{}, errBadIterator
	}
	body, mac := b[:len(b)-iteratorMACLen], b[len(b)-iteratorMACLen:]
	m := hmac.New(sha256.New, iteratorKey)
	m.Write(body)
	if !hmac.Equal(m.Sum(nil)[:iteratorMACLen], mac) {
		return iterator{}, errBadIterator
	}
	nameLen := int(body[fixed-1])
	if len(body) != fixed+nameLen {
		return iterator{}, errBadIterator
	}
	return iterator{
		streamCreated: int64(binary.BigEndian.Uint64(body[1:])),
		shard:         int(binary.BigEndian.Uint32(body[9:])),
		position:      binary.BigEndian.Uint64(body[13:]),
		issuedMs:      int64(binary.BigEndian.Uint64(body[21:])),
		stream:        string(body[fixed:]),
	}, nil
}
