package stream

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
)

// On-disk layout of one record:
//
//	frame  = length u32 | crc32c(body) u32 | body          (little endian)
//	body   = position u64 | arrival unix ms i64 | key length u16 | key | data
//
// The length comes first so a reader can skip a frame without decoding it; the CRC covers
// the whole body so a torn write or a flipped bit anywhere is caught. The CRC does not cover
// the length, so a frame that fails it is stepped over by searching for the next frame that
// verifies, not by trusting its length (walk.go).
const (
	frameHeaderLen = 8
	bodyFixedLen   = 8 + 8 + 2
	// maxBodyLen bounds a frame so a corrupt length cannot make us allocate gigabytes:
	// the largest record is 10 MiB of data plus a 256-character key (≤1 KiB in UTF-8).
	maxBodyLen = 10<<20 + 1024 + bodyFixedLen
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

var (
	errShortFrame = errors.New("frame: incomplete")
	errBadFrame   = errors.New("frame: corrupt")
)

type frame struct {
	pos      uint64
	arrivalM int64
	key      []byte
	data     []byte
}

func frameLen(keyLen, dataLen int) int { return frameHeaderLen + bodyFixedLen + keyLen + dataLen }

// appendFrame encodes one record onto dst.
func appendFrame(dst []byte, pos uint64, arrivalMs int64, key string, data []byte) []byte {
	bodyLen := bodyFixedLen + len(key) + len(data)
	start := len(dst)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(bodyLen))
	dst = append(dst, 0, 0, 0, 0) // CRC, filled below
	dst = binary.LittleEndian.AppendUint64(dst, pos)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(arrivalMs))
	dst = binary.LittleEndian.AppendUint16(dst, uint16(len(key)))
	dst = append(dst, key...)
	dst = append(dst, data...)
	binary.LittleEndian.PutUint32(dst[start+4:], crc32.Checksum(dst[start+frameHeaderLen:], crcTable))
	return dst
}

// decodeFrame decodes the frame at the start of buf. It returns errShortFrame when buf holds
// only part of a frame (the caller may read more), errBadFrame when the bytes cannot be a
// frame. The returned key and data alias buf.
func decodeFrame(buf []byte) (f frame, n int, err error) {
	if len(buf) < frameHeaderLen {
		return f, 0, errShortFrame
	}
	bodyLen := int(binary.LittleEndian.Uint32(buf))
	if bodyLen < bodyFixedLen || bodyLen > maxBodyLen {
		return f, 0, errBadFrame
	}
	if len(buf) < frameHeaderLen+bodyLen {
		return f, 0, errShortFrame
	}
	body := buf[frameHeaderLen : frameHeaderLen+bodyLen]
	if crc32.Checksum(body, crcTable) != binary.LittleEndian.Uint32(buf[4:]) {
		return f, 0, errBadFrame
	}
	f.pos = binary.LittleEndian.Uint64(body)
	f.arrivalM = int64(binary.LittleEndian.Uint64(body[8:]))
	keyLen := int(binary.LittleEndian.Uint16(body[16:]))
	if bodyFixedLen+keyLen > bodyLen {
		return f, 0, errBadFrame
	}
	f.key = body[bodyFixedLen : bodyFixedLen+keyLen]
	f.data = body[bodyFixedLen+keyLen:]
	return f, frameHeaderLen + bodyLen, nil
}

// A sparse-index entry points at a frame: its position, file offset and arrival time, with a
// CRC of its own so a torn index write is detected and the index rebuilt from the log.
const idxEntryLen = 32

type idxEntry struct {
	pos      uint64
	offset   int64
	arrivalM int64
}

func appendIdxEntry(dst []byte, e idxEntry) []byte {
	start := len(dst)
	dst = binary.LittleEndian.AppendUint64(dst, e.pos)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(e.offset))
	dst = binary.LittleEndian.AppendUint64(dst, uint64(e.arrivalM))
	dst = binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], crcTable))
	return binary.LittleEndian.AppendUint32(dst, 0)
}

// decodeIdx decodes entries until the first invalid one (bad CRC, or out of order). The
// entries before it are trustworthy; the caller rebuilds the rest from the log.
func decodeIdx(buf []byte) (entries []idxEntry, valid bool) {
	return appendIdx(make([]idxEntry, 0, len(buf)/idxEntryLen), buf)
}

// appendIdx decodes buf's entries as decodeIdx does, after those already in entries.
func appendIdx(entries []idxEntry, buf []byte) ([]idxEntry, bool) {
	for len(buf) >= idxEntryLen {
		if crc32.Checksum(buf[:24], crcTable) != binary.LittleEndian.Uint32(buf[24:]) {
			return entries, false
		}
		e := idxEntry{
			pos:      binary.LittleEndian.Uint64(buf),
			offset:   int64(binary.LittleEndian.Uint64(buf[8:])),
			arrivalM: int64(binary.LittleEndian.Uint64(buf[16:])),
		}
		if n := len(entries); n > 0 && (e.pos <= entries[n-1].pos || e.offset <= entries[n-1].offset) {
			return entries, false
		}
		entries = append(entries, e)
		buf = buf[idxEntryLen:]
	}
	return entries, len(buf) == 0
}
