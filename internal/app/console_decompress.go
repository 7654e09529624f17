package app

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/klauspost/compress/snappy"
)

// Magic numbers of the formats Firehose writes; the key's extension decides only for Hadoop
// snappy, which has none.
var (
	gzipMagic   = []byte{0x1f, 0x8b}
	zipMagic    = []byte("PK\x03\x04")
	snappyMagic = []byte("\xff\x06\x00\x00sNaPpY")
)

// decompressed returns a reader of an object's content with its compression undone, and the
// format found ("none", "gzip", "zip", "snappy", "hadoop-snappy"). ra holds the object's
// size bytes.
func decompressed(ra io.ReaderAt, size int64, key, contentEncoding string) (string, io.Reader, error) {
	head := make([]byte, len(snappyMagic))
	n, _ := ra.ReadAt(head, 0)
	head = head[:n]
	whole := io.NewSectionReader(ra, 0, size)
	switch {
	case bytes.HasPrefix(head, gzipMagic) || strings.EqualFold(contentEncoding, "gzip"):
		zr, err := gzip.NewReader(whole)
		if err != nil {
			return "gzip", nil, err
		}
		return "gzip", zr, nil
	case bytes.HasPrefix(head, zipMagic):
		zr, err := zip.NewReader(ra, size)
		if err != nil {
			return "zip", nil, err
		}
		if len(zr.File) == 0 {
			return "zip", nil, errors.New("the archive has no entries")
		}
		f, err := zr.File[0].Open()
		if err != nil {
			return "zip", nil, err
		}
		return "zip", f, nil
	case bytes.HasPrefix(head, snappyMagic):
		return "snappy", snappy.NewReader(whole), nil
	case strings.HasSuffix(key, ".hsnappy"):
		return "hadoop-snappy", &hadoopSnappyReader{r: whole}, nil
	}
	return "none", whole, nil
}

// hadoopSnappyReader undoes Hadoop's block-compressed snappy: per block, the uncompressed
// length, then compressed chunks each with its length, all lengths 4-byte big-endian.
type hadoopSnappyReader struct {
	r    io.Reader
	left uint32 // uncompressed bytes of the current block still to come
	buf  []byte
}

// hadoopMaxChunk bounds one chunk, so a damaged length cannot make the console allocate
// gigabytes: Hadoop writes blocks of 256 KiB.
const hadoopMaxChunk = 16 << 20

func (h *hadoopSnappyReader) Read(p []byte) (int, error) {
	for len(h.buf) == 0 {
		var l [4]byte
		if h.left == 0 {
			if _, err := io.ReadFull(h.r, l[:]); err != nil {
				if err == io.ErrUnexpectedEOF {
					return 0, err
				}
				return 0, io.EOF
			}
			h.left = binary.BigEndian.Uint32(l[:])
			continue
		}
		if _, err := io.ReadFull(h.r, l[:]); err != nil {
			return 0, io.ErrUnexpectedEOF
		}
		n := binary.BigEndian.Uint32(l[:])
		if n > hadoopMaxChunk {
			return 0, fmt.Errorf("hadoop snappy: chunk of %d bytes", n)
		}
		chunk := make([]byte, n)
		if _, err := io.ReadFull(h.r, chunk); err != nil {
			return 0, io.ErrUnexpectedEOF
		}
		dl, err := snappy.DecodedLen(chunk)
		if err != nil || dl > hadoopMaxChunk || uint32(dl) > h.left {
			return 0, fmt.Errorf("hadoop snappy: bad chunk")
		}
		out, err := snappy.Decode(nil, chunk)
		if err != nil {
			return 0, fmt.Errorf("hadoop snappy: %w", err)
		}
		h.left -= uint32(len(out))
		h.buf = out
	}
	n := copy(p, h.buf)
	h.buf = h.buf[n:]
	return n, nil
}
