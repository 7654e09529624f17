package firehose

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zip"
	"github.com/klauspost/compress/zstd"
)

// Compression formats, as CompressionFormat names them.
const (
	Uncompressed = "UNCOMPRESSED"
	GZIP         = "GZIP"
	ZIP          = "ZIP"
	Snappy       = "Snappy"
	HadoopSnappy = "HADOOP_SNAPPY"
)

// extension is the file extension Firehose gives an object: FileExtension when set, else the
// compression format's.
func extension(sp *spec) string {
	if sp.FileExtension != "" {
		return sp.FileExtension
	}
	switch sp.Compression {
	case GZIP:
		return ".gz"
	case ZIP:
		return ".zip"
	case Snappy:
		return ".snappy"
	case HadoopSnappy:
		return ".hsnappy"
	case ZSTD:
		return ".zst"
	}
	return ""
}

// newCompressor wraps w in the format's streaming encoder. ZIP archives hold one entry, named
// after the object without its extension.
func newCompressor(format string, w io.Writer, entry string) (io.WriteCloser, error) {
	switch format {
	case "", Uncompressed:
		return nopCloser{w}, nil
	case GZIP:
		return gzip.NewWriter(w), nil
	case ZIP:
		zw := zip.NewWriter(w)
		f, err := zw.Create(entry)
		if err != nil {
			return nil, err
		}
		return &zipEntry{Writer: f, zw: zw}, nil
	case Snappy:
		return snappy.NewBufferedWriter(w), nil
	case HadoopSnappy:
		return &hadoopSnappy{w: w}, nil
	case ZSTD:
		return zstd.NewWriter(w)
	}
	return nil, fmt.Errorf("firehose: unknown compression format %q", format)
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

type zipEntry struct {
	io.Writer
	zw *zip.Writer
}

func (z *zipEntry) Close() error { return z.zw.Close() }

// hadoopSnappy writes Hadoop's block-compressed snappy stream: per block, the uncompressed
// length, then each compressed chunk with its length, all 4-byte big-endian. Blocks of 256 KiB
// are what Hadoop's SnappyCodec uses by default.
type hadoopSnappy struct {
	w   io.Writer
	buf []byte
}

const hadoopBlock = 256 << 10

func (h *hadoopSnappy) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		take := min(hadoopBlock-len(h.buf), len(p))
		h.buf = append(h.buf, p[:take]...)
		p = p[take:]
		if len(h.buf) == hadoopBlock {
			if err := h.block(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

func (h *hadoopSnappy) block() error {
	if len(h.buf) == 0 {
		return nil
	}
	enc := snappy.Encode(nil, h.buf)
	var hdr [8]byte
	binary.BigEndian.PutUint32(hdr[:4], uint32(len(h.buf)))
	binary.BigEndian.PutUint32(hdr[4:], uint32(len(enc)))
	if _, err := h.w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := h.w.Write(enc)
	h.buf = h.buf[:0]
	return err
}

func (h *hadoopSnappy) Close() error { return h.block() }
