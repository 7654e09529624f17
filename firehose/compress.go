package firehose

import (
	"encoding/binary"
	"fmt"
	"io"
	"sync"

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
// after the object without its extension. Encoders come from pools and go back on a Close
// that succeeds: a gzip or snappy encoder holds about a megabyte of tables and buffers, which
// a delivery would otherwise allocate and the collector sweep every time.
func newCompressor(format string, w io.Writer, entry string) (io.WriteCloser, error) {
	switch format {
	case "", Uncompressed:
		return nopCloser{w}, nil
	case GZIP:
		zw, _ := gzipWriters.Get().(*gzip.Writer)
		if zw == nil {
			zw = gzip.NewWriter(w)
		} else {
			zw.Reset(w)
		}
		return &pooled[*gzip.Writer]{enc: zw, pool: &gzipWriters, reset: func(zw *gzip.Writer) { zw.Reset(nil) }}, nil
	case ZIP:
		// archive/zip's deflate encoders are pooled by the zip package itself.
		zw := zip.NewWriter(w)
		f, err := zw.Create(entry)
		if err != nil {
			return nil, err
		}
		return &zipEntry{Writer: f, zw: zw}, nil
	case Snappy:
		sw, _ := snappyWriters.Get().(*snappy.Writer)
		if sw == nil {
			sw = snappy.NewBufferedWriter(w)
		} else {
			sw.Reset(w)
		}
		return &pooled[*snappy.Writer]{enc: sw, pool: &snappyWriters, reset: func(sw *snappy.Writer) { sw.Reset(nil) }}, nil
	case HadoopSnappy:
		h, _ := hadoopWriters.Get().(*hadoopSnappy)
		if h == nil {
			h = &hadoopSnappy{buf: make([]byte, 0, hadoopBlock)}
		}
		h.w = w
		return &pooled[*hadoopSnappy]{enc: h, pool: &hadoopWriters, reset: func(h *hadoopSnappy) { h.w, h.buf = nil, h.buf[:0] }}, nil
	case ZSTD:
		return zstd.NewWriter(w)
	}
	return nil, fmt.Errorf("firehose: unknown compression format %q", format)
}

var gzipWriters, snappyWriters, hadoopWriters sync.Pool

// pooled is an encoder that goes back to its pool once closed cleanly. One that failed, or
// was abandoned with its object, is left to the collector: its state is not known to be
// reusable.
type pooled[E io.WriteCloser] struct {
	enc   E
	pool  *sync.Pool
	reset func(E) // drops the encoder's hold on the object's writer
	done  bool
}

func (p *pooled[E]) Write(b []byte) (int, error) { return p.enc.Write(b) }

func (p *pooled[E]) Close() error {
	if p.done {
		return nil
	}
	p.done = true
	err := p.enc.Close()
	if err == nil {
		p.reset(p.enc)
		p.pool.Put(p.enc)
	}
	return err
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
// are what Hadoop's SnappyCodec uses by default; each block is one chunk.
type hadoopSnappy struct {
	w   io.Writer
	buf []byte // the block being gathered, of capacity hadoopBlock
	enc []byte // the header and chunk of the latest block, reused
}

const hadoopBlock = 256 << 10

func (h *hadoopSnappy) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		// A whole block in p is encoded where it is, without gathering it first.
		if len(h.buf) == 0 && len(p) >= hadoopBlock {
			if err := h.block(p[:hadoopBlock]); err != nil {
				return 0, err
			}
			p = p[hadoopBlock:]
			continue
		}
		take := min(hadoopBlock-len(h.buf), len(p))
		h.buf = append(h.buf, p[:take]...)
		p = p[take:]
		if len(h.buf) == hadoopBlock {
			if err := h.block(h.buf); err != nil {
				return 0, err
			}
			h.buf = h.buf[:0]
		}
	}
	return n, nil
}

// block writes raw as one block of one chunk, in one write.
func (h *hadoopSnappy) block(raw []byte) error {
	if len(raw) == 0 {
		return nil
	}
	if need := 8 + snappy.MaxEncodedLen(len(raw)); cap(h.enc) < need {
		h.enc = make([]byte, need)
	}
	enc := snappy.Encode(h.enc[8:cap(h.enc)], raw)
	binary.BigEndian.PutUint32(h.enc[:4], uint32(len(raw)))
	binary.BigEndian.PutUint32(h.enc[4:8], uint32(len(enc)))
	_, err := h.w.Write(h.enc[:8+len(enc)])
	return err
}

func (h *hadoopSnappy) Close() error {
	err := h.block(h.buf)
	h.buf = h.buf[:0]
	return err
}
