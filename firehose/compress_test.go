package firehose

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"testing"

	"github.com/klauspost/compress/snappy"
)

// TestCompressorsRoundTrip writes the same bytes through each format's encoder in writes of
// many sizes (smaller than a block, several blocks at once, a block after a partial one), twice
// so the second encoder comes from the pool, and reads them back with the standard library's
// decoders where there is one (gzip, zip) and snappy's reference-compatible ones otherwise.
func TestCompressorsRoundTrip(t *testing.T) {
	var want []byte
	var writes [][]byte
	for i, n := range []int{1, 1000, hadoopBlock - 1001, hadoopBlock, 3*hadoopBlock + 7, 17, hadoopBlock + 5, 0, 64 << 10} {
		p := fmt.Appendf(nil, "%08d", i)
		for len(p) < n {
			p = append(p, fmt.Sprintf(" record %d of write %d;", len(p), i)...)
		}
		p = p[:n]
		writes = append(writes, p)
		want = append(want, p...)
	}
	for _, format := range []string{Uncompressed, GZIP, ZIP, Snappy, HadoopSnappy} {
		for round := 0; round < 2; round++ {
			var out bytes.Buffer
			cw, err := newCompressor(format, &out, "entry")
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range writes {
				if n, err := cw.Write(p); err != nil || n != len(p) {
					t.Fatalf("%s: write %d bytes: %d, %v", format, len(p), n, err)
				}
			}
			if err := cw.Close(); err != nil {
				t.Fatalf("%s: close: %v", format, err)
			}
			got, err := decode(format, out.Bytes())
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%s round %d: decoded %d bytes (%v), want %d", format, round, len(got), err, len(want))
			}
		}
	}
}

func decode(format string, b []byte) ([]byte, error) {
	switch format {
	case GZIP:
		r, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		return io.ReadAll(r)
	case ZIP:
		zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return nil, err
		}
		if len(zr.File) != 1 || zr.File[0].Name != "entry" {
			return nil, fmt.Errorf("zip holds %d entries", len(zr.File))
		}
		f, err := zr.File[0].Open()
		if err != nil {
			return nil, err
		}
		return io.ReadAll(f)
	case Snappy:
		return io.ReadAll(snappy.NewReader(bytes.NewReader(b)))
	case HadoopSnappy:
		var out []byte
		for len(b) > 0 {
			if len(b) < 8 {
				return nil, fmt.Errorf("%d trailing bytes", len(b))
			}
			raw, n := binary.BigEndian.Uint32(b), binary.BigEndian.Uint32(b[4:])
			if raw > hadoopBlock || int(n) > len(b)-8 {
				return nil, fmt.Errorf("block of %d bytes, chunk of %d", raw, n)
			}
			block, err := snappy.Decode(nil, b[8:8+n])
			if err != nil || len(block) != int(raw) {
				return nil, fmt.Errorf("block: %v (%d of %d bytes)", err, len(block), raw)
			}
			out = append(out, block...)
			b = b[8+n:]
		}
		return out, nil
	}
	return b, nil
}
