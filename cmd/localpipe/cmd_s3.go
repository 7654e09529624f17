package main

import (
	"bufio"
	"bytes"
	"context"
	binenc "encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zip"
)

func init() {
	register(&command{
		name:    "ls",
		args:    "[s3://BUCKET[/PREFIX]]",
		summary: "list buckets, or every object under a prefix",
		help: `Without an argument, lists the buckets. With s3://BUCKET or s3://BUCKET/PREFIX, lists
every object whose key starts with PREFIX, however deep (Firehose's keys are
YYYY/MM/DD/HH/…): last-modified time (UTC), size in bytes and key, one object per line.
Exit status 0 on success, 1 when the bucket does not exist or listing failed, 2 for a wrong
invocation.
`,
		setup: func(fs *flag.FlagSet) func(*client, []string) int {
			return func(c *client, args []string) int {
				if len(args) > 1 {
					return c.usageError("want at most one s3://BUCKET/PREFIX")
				}
				if len(args) == 0 || args[0] == "s3://" {
					return c.listBuckets(context.Background())
				}
				bucket, prefix, err := parseS3URL(args[0])
				if err != nil {
					return c.usageError("%v", err)
				}
				return c.list(context.Background(), bucket, prefix)
			}
		},
	})
	register(&command{
		name:    "cat",
		args:    "s3://BUCKET/KEY",
		summary: "print an object, decompressed by its extension",
		help: `Writes the object to stdout. By the key's extension it is decompressed first, as
Firehose compresses: .gz (GZIP), .zip (ZIP: every entry, in order), .snappy (framed
Snappy) and .hsnappy (HADOOP_SNAPPY's block format). --raw writes the stored bytes.
Exit status 0 on success, 1 when the object does not exist or does not decompress, 2 for a
wrong invocation.
`,
		setup: func(fs *flag.FlagSet) func(*client, []string) int {
			raw := fs.Bool("raw", false, "write the stored bytes, without decompressing")
			return func(c *client, args []string) int {
				if len(args) != 1 {
					return c.usageError("want exactly one s3://BUCKET/KEY")
				}
				bucket, key, err := parseS3URL(args[0])
				if err != nil {
					return c.usageError("%v", err)
				}
				if key == "" {
					return c.usageError("%q names a bucket, not an object", args[0])
				}
				return c.cat(context.Background(), bucket, key, *raw)
			}
		},
	})
}

// parseS3URL splits s3://bucket/key. The key is taken verbatim: S3 keys are not URL-escaped.
func parseS3URL(s string) (bucket, key string, err error) {
	rest, ok := strings.CutPrefix(s, "s3://")
	if !ok {
		return "", "", fmt.Errorf("%q: want s3://BUCKET/KEY", s)
	}
	bucket, key, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("%q: no bucket name", s)
	}
	return bucket, key, nil
}

func (c *client) listBuckets(ctx context.Context) int {
	buckets, err := c.s3().listBuckets(ctx)
	if err != nil {
		return c.fail(err)
	}
	for _, b := range buckets {
		fmt.Fprintf(c.stdout, "%s  s3://%s\n", b.Created.Format(time.RFC3339), b.Name)
	}
	return exitOK
}

func (c *client) list(ctx context.Context, bucket, prefix string) int {
	w := bufio.NewWriter(c.stdout)
	defer w.Flush()
	sc := c.s3()
	for token := ""; ; {
		page, err := sc.listObjectsV2(ctx, bucket, prefix, token)
		if err == nil && page.NextToken != "" && page.NextToken == token {
			// A server that hands back the token it was given would have us list forever.
			err = &opError{"S3", "ListObjectsV2", &malformedError{fmt.Errorf("continuation token %q again", token)}}
		}
		if err != nil {
			w.Flush()
			return c.fail(err)
		}
		for _, o := range page.Contents {
			fmt.Fprintf(w, "%s %10d %s\n", o.LastModified.Format(time.RFC3339), o.Size, o.Key)
		}
		if token = page.NextToken; token == "" {
			return exitOK
		}
	}
}

func (c *client) cat(ctx context.Context, bucket, key string, raw bool) int {
	out, err := c.s3().getObject(ctx, bucket, key)
	if err != nil {
		return c.fail(err)
	}
	defer out.Body.Close()
	var body io.Reader = out.Body
	if !raw {
		if body, err = decompress(key, out.Body); err != nil {
			return c.fail(fmt.Errorf("s3://%s/%s: %w", bucket, key, err))
		}
	}
	if _, err := io.Copy(c.stdout, body); err != nil {
		return c.fail(fmt.Errorf("s3://%s/%s: %w (use --raw for the stored bytes)", bucket, key, err))
	}
	return exitOK
}

// decompress wraps r in the decoder the key's extension calls for; unknown extensions pass
// through. Errors in the data surface from the returned reader's Read.
func decompress(key string, r io.Reader) (io.Reader, error) {
	switch {
	case strings.HasSuffix(key, ".gz"):
		// Firehose writes one gzip member per object, but concatenated members are valid gzip
		// and the reader follows them.
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("not GZIP: %w", err)
		}
		return zr, nil
	case strings.HasSuffix(key, ".zip"):
		// A ZIP's directory is at its end, so the whole object is read first.
		b, err := io.ReadAll(r)
		if err != nil {
			return nil, err
		}
		zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return nil, fmt.Errorf("not ZIP: %w", err)
		}
		var parts []io.Reader
		for _, f := range zr.File {
			rc, err := f.Open()
			if err != nil {
				return nil, fmt.Errorf("ZIP entry %s: %w", f.Name, err)
			}
			parts = append(parts, rc)
		}
		return io.MultiReader(parts...), nil
	case strings.HasSuffix(key, ".hsnappy"):
		return &hadoopSnappyReader{r: bufio.NewReader(r)}, nil
	case strings.HasSuffix(key, ".snappy"):
		return snappy.NewReader(r), nil
	}
	return r, nil
}

// hadoopSnappyReader decodes Hadoop's block-compressed Snappy stream (HADOOP_SNAPPY): per
// block the uncompressed length, then compressed chunks each with its length, until the
// block's length is reached; all lengths 4-byte big-endian.
type hadoopSnappyReader struct {
	r       *bufio.Reader
	buf     []byte // decoded, not yet returned
	pending int    // bytes of the current block still to come
	err     error
}

// Hadoop's codec never writes a block larger than its buffer; a bigger length is corruption,
// and refusing it keeps a bad header from allocating gigabytes.
const hadoopMaxBlock = 64 << 20

func (h *hadoopSnappyReader) Read(p []byte) (int, error) {
	for len(h.buf) == 0 {
		if h.err != nil {
			return 0, h.err
		}
		h.err = h.next()
	}
	n := copy(p, h.buf)
	h.buf = h.buf[n:]
	return n, nil
}

func (h *hadoopSnappyReader) next() error {
	var hdr [4]byte
	if h.pending == 0 {
		if _, err := io.ReadFull(h.r, hdr[:]); err != nil {
			if err == io.EOF {
				return io.EOF
			}
			return errors.New("HADOOP_SNAPPY: truncated block header")
		}
		h.pending = int(binenc.BigEndian.Uint32(hdr[:]))
		if h.pending > hadoopMaxBlock {
			return fmt.Errorf("HADOOP_SNAPPY: block of %d bytes is not plausible", h.pending)
		}
		if h.pending == 0 {
			return nil
		}
	}
	if _, err := io.ReadFull(h.r, hdr[:]); err != nil {
		return errors.New("HADOOP_SNAPPY: truncated chunk header")
	}
	n := int(binenc.BigEndian.Uint32(hdr[:]))
	if n > hadoopMaxBlock+hadoopMaxBlock/6+32 {
		return fmt.Errorf("HADOOP_SNAPPY: chunk of %d bytes is not plausible", n)
	}
	// Read rather than allocate up front: a corrupt length must not cost its size in memory.
	chunk, err := io.ReadAll(io.LimitReader(h.r, int64(n)))
	if err != nil || len(chunk) != n {
		return errors.New("HADOOP_SNAPPY: truncated chunk")
	}
	dl, err := snappy.DecodedLen(chunk)
	if err != nil || dl > h.pending {
		return errors.New("HADOOP_SNAPPY: corrupt chunk")
	}
	out, err := snappy.Decode(nil, chunk)
	if err != nil {
		return fmt.Errorf("HADOOP_SNAPPY: %w", err)
	}
	h.pending -= len(out)
	h.buf = out
	return nil
}
