package main

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"testing"
)

func TestParseS3URL(t *testing.T) {
	for _, c := range []struct{ in, bucket, key, err string }{
		{"s3://b/k", "b", "k", ""},
		{"s3://b/dir/k with space/%41", "b", "dir/k with space/%41", ""},
		{"s3://b", "b", "", ""},
		{"s3://b/", "b", "", ""},
		{"s3://", "", "", "no bucket name"},
		{"s3:///k", "", "", "no bucket name"},
		{"b/k", "", "", "want s3://BUCKET/KEY"},
		{"S3://b/k", "", "", "want s3://BUCKET/KEY"},
		{"https://b/k", "", "", "want s3://BUCKET/KEY"},
		{"", "", "", "want s3://BUCKET/KEY"},
	} {
		b, k, err := parseS3URL(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: err %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || b != c.bucket || k != c.key {
			t.Errorf("%q: %q %q %v", c.in, b, k, err)
		}
	}
}

func TestHadoopSnappyBadInput(t *testing.T) {
	good := hadoopSnappy([]byte("hello, hadoop snappy"))
	for _, c := range []struct {
		name string
		in   []byte
		err  string
	}{
		{"truncated block header", []byte{0, 0}, "truncated block header"},
		{"block too large", []byte{0xff, 0xff, 0xff, 0xff}, "not plausible"},
		{"no chunk header", []byte{0, 0, 0, 5}, "truncated chunk header"},
		{"chunk too large", []byte{0, 0, 0, 5, 0xff, 0xff, 0xff, 0xff}, "not plausible"},
		{"truncated chunk", []byte{0, 0, 0, 5, 0, 0, 1, 0, 1, 2}, "truncated chunk"},
		{"empty chunk", []byte{0, 0, 0, 5, 0, 0, 0, 0}, "corrupt chunk"},
		{"chunk bigger than its block", hadoopSnappyBlock(2, []byte("more than two bytes")), "corrupt chunk"},
		{"garbage chunk", []byte{0, 0, 0, 5, 0, 0, 0, 3, 5, 0xff, 0xff}, "HADOOP_SNAPPY"},
		{"truncated after a good block", good[:len(good)-1], "truncated chunk"},
	} {
		_, err := io.ReadAll(&hadoopSnappyReader{r: bufioReader(c.in)})
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: err %v, want %q", c.name, err, c.err)
		}
	}
	// Empty input and empty blocks are valid: no data.
	for _, in := range [][]byte{{}, {0, 0, 0, 0}} {
		if b, err := io.ReadAll(&hadoopSnappyReader{r: bufioReader(in)}); err != nil || len(b) != 0 {
			t.Errorf("%x: %q %v", in, b, err)
		}
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 40000) // over one 256 KiB Hadoop block
	in := hadoopSnappy(big[:256<<10], big[256<<10:])
	if b, err := io.ReadAll(&hadoopSnappyReader{r: bufioReader(in)}); err != nil || !bytes.Equal(b, big) {
		t.Fatalf("two blocks: %d bytes, %v", len(b), err)
	}
}

// hadoopSnappyBlock is one block whose header claims n bytes but whose chunk holds data.
func hadoopSnappyBlock(n uint32, data []byte) []byte {
	b := hadoopSnappy(data)
	b[0], b[1], b[2], b[3] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
	return b
}

func bufioReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }

// FuzzDecompress feeds every decoder cat uses arbitrary bytes: errors are fine, panics and
// runaway memory are not.
func FuzzDecompress(f *testing.F) {
	f.Add(".hsnappy", hadoopSnappy([]byte("a"), []byte("bc")))
	f.Add(".hsnappy", []byte{0, 0, 0, 5, 0, 0, 0, 3, 5, 0xff, 0xff})
	f.Add(".gz", []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	f.Add(".snappy", []byte("\xff\x06\x00\x00sNaPpY"))
	f.Add(".zip", []byte("PK\x05\x06\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Add(".json", []byte("{}"))
	f.Fuzz(func(t *testing.T, ext string, data []byte) {
		r, err := decompress("key"+ext, bytes.NewReader(data))
		if err != nil {
			return
		}
		io.Copy(io.Discard, io.LimitReader(r, 16<<20))
	})
}

func FuzzParseS3URL(f *testing.F) {
	for _, s := range []string{"s3://b/k", "s3://", "s3:///k", "b/k", "s3://b/dir/", "s3://b//k"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, k, err := parseS3URL(s)
		if err != nil {
			return
		}
		if b == "" || strings.Contains(b, "/") {
			t.Fatalf("%q: bucket %q", s, b)
		}
		if got := "s3://" + b + "/" + k; got != s && got != s+"/" {
			t.Fatalf("%q: parsed as %q %q", s, b, k)
		}
	})
}
