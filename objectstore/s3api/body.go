package s3api

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/localpipe/localpipe/objectstore"
)

// Payload hashes a SigV4 client puts in x-amz-content-sha256.
const (
	streamingSigned        = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	streamingSignedTrailer = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	streamingUnsigned      = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
	unsignedPayload        = "UNSIGNED-PAYLOAD"
)

// Limits on the framing of aws-chunked bodies. A chunk header is a hex size and a 64-digit
// signature; the SDKs send at most a handful of trailers.
const (
	maxChunkLine = 4096
	maxTrailers  = 16
)

// maxObjectSize is S3's limit on one request body: a PutObject or one part (5 GiB). Larger
// objects are made by multipart upload.
const maxObjectSize = 5 << 30

// checksumAlgorithms are the flexible checksums S3 accepts, by their header suffix.
var checksumAlgorithms = map[string]string{
	"crc32":     "CRC32",
	"crc32c":    "CRC32C",
	"crc64nvme": "CRC64NVME",
	"sha1":      "SHA1",
	"sha256":    "SHA256",
}

// defaultChecksum is the algorithm S3 computes for an object whose writer sent no checksum.
var defaultChecksum = "CRC64NVME" // a variable so a benchmark can turn it off for comparison

// addDefaultChecksum has the verifier compute the default checksum when the writer sent
// none: S3 gives such an object a full-object CRC64NVME, so a later read with
// x-amz-checksum-mode: ENABLED always has one to check.
func (v *verifier) addDefaultChecksum() {
	if len(v.sums) == 0 && defaultChecksum != "" {
		v.sums[defaultChecksum] = objectstore.NewChecksum(defaultChecksum)
	}
}

// errChunked is a malformed aws-chunked body. S3 answers it with IncompleteBody when the body
// ends early and with InvalidRequest otherwise; bodyError sorts them.
type errChunked struct{ msg string }

func (e *errChunked) Error() string { return "aws-chunked body: " + e.msg }

// chunkedReader decodes an aws-chunked body: `hex-size[;chunk-signature=…]\r\n data \r\n`
// repeated, a zero-size chunk, then optional trailer lines and an empty line. Chunk
// signatures are parsed and not checked: localpipe accepts any credentials, so it has no
// secret to check them with.
type chunkedReader struct {
	r        *bufio.Reader
	left     int64 // bytes left in the current chunk
	done     bool
	trailer  http.Header
	sawFinal bool
	err      error
}

func newChunkedReader(r io.Reader) *chunkedReader {
	return &chunkedReader{r: bufio.NewReaderSize(r, 64<<10), trailer: http.Header{}}
}

func (c *chunkedReader) Read(p []byte) (int, error) {
	for c.err == nil && c.left == 0 && !c.done {
		c.err = c.nextChunk()
	}
	if c.err != nil {
		return 0, c.err
	}
	if c.done {
		return 0, io.EOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if err == io.EOF {
		err = &errChunked{"body ends inside a chunk"}
	}
	if err != nil {
		c.err = err
	}
	if c.left == 0 && c.err == nil {
		if err := c.expectCRLF(); err != nil {
			c.err = err
		}
	}
	return n, err
}

// readLine reads one line of framing. Chunk headers must end in CRLF; trailer lines (bareLF)
// may end in a bare LF too, because some HTTP stacks write trailers with their own line
// ending and S3 accepts them.
func (c *chunkedReader) readLine(bareLF bool) (string, error) {
	var line []byte
	for {
		frag, err := c.r.ReadSlice('\n')
		line = append(line, frag...)
		if len(line) > maxChunkLine {
			return "", &errChunked{"chunk header too long"}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			return "", &errChunked{"body ends inside a chunk header"}
		}
		if err != nil {
			return "", err
		}
		break
	}
	s := string(line)
	if t, ok := strings.CutSuffix(s, "\r\n"); ok {
		return t, nil
	}
	if bareLF {
		return s[:len(s)-1], nil
	}
	return "", &errChunked{"chunk header not ended by CRLF"}
}

func (c *chunkedReader) expectCRLF() error {
	var b [2]byte
	if _, err := io.ReadFull(c.r, b[:]); err != nil {
		return &errChunked{"body ends after chunk data"}
	}
	if b != [2]byte{'\r', '\n'} {
		return &errChunked{"chunk data not followed by CRLF"}
	}
	return nil
}

func (c *chunkedReader) nextChunk() error {
	line, err := c.readLine(false)
	if err != nil {
		return err
	}
	size, ext, _ := strings.Cut(line, ";")
	if ext != "" && !strings.HasPrefix(ext, "chunk-signature=") {
		return &errChunked{"unknown chunk extension"}
	}
	if size == "" || len(size) > 15 {
		return &errChunked{"bad chunk size"}
	}
	n, err := strconv.ParseInt(size, 16, 64)
	if err != nil || n < 0 {
		return &errChunked{"bad chunk size"}
	}
	if n > 0 {
		c.left = n
		return nil
	}
	// The final chunk: trailers, if any, then an empty line. Some clients end the body right
	// after the final chunk without the empty line; S3 accepts that.
	for i := 0; ; i++ {
		line, err := c.readLine(true)
		if err != nil {
			if _, ok := err.(*errChunked); ok && i == 0 && c.atEOF() {
				break
			}
			return err
		}
		if line == "" {
			break
		}
		if i >= maxTrailers {
			return &errChunked{"too many trailers"}
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || name == "" {
			return &errChunked{"malformed trailer"}
		}
		c.trailer.Set(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	c.done = true
	return nil
}

func (c *chunkedReader) atEOF() bool {
	_, err := c.r.Peek(1)
	return err == io.EOF
}

// verifier wraps a body and checks, at its end, what the request promised about it: the
// decoded length, Content-MD5, x-amz-content-sha256, and flexible checksums given as headers
// or as aws-chunked trailers. A mismatch turns the final read into an error, so the store
// discards the upload instead of committing it.
type verifier struct {
	r        io.Reader
	n        int64
	want     int64 // -1: unknown
	md5      hash.Hash
	wantMD5  []byte
	sha      hash.Hash
	wantSHA  string
	sums     map[string]hash.Hash // algorithm → running hash
	given    map[string]string    // algorithm → base64 value from a header
	trailers *chunkedReader
	inTrail  map[string]bool // algorithms whose value comes as a trailer
	err      error
	computed map[string]string // filled at EOF: algorithm → base64 value; callers may preset the map
}

// s3Error is an error that already knows its S3 code and message.
type s3Error struct {
	code   string
	msg    string
	status int
	extra  [][2]string // extra elements of the XML error body
	header [][2]string // response headers that go with it (x-amz-delete-marker, …)
}

func (e *s3Error) Error() string { return e.code + ": " + e.msg }

func (v *verifier) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	n, err := v.r.Read(p)
	if n > 0 {
		v.n += int64(n)
		if v.want >= 0 && v.n > v.want {
			v.err = &s3Error{code: "IncompleteBody", msg: "The request body is longer than the declared length."}
			return 0, v.err
		}
		if v.md5 != nil {
			v.md5.Write(p[:n])
		}
		if v.sha != nil {
			v.sha.Write(p[:n])
		}
		for _, h := range v.sums {
			h.Write(p[:n])
		}
	}
	if err == io.EOF {
		if ferr := v.finish(); ferr != nil {
			v.err = ferr
			return n, ferr
		}
	} else if err != nil {
		v.err = bodyError(err)
		return n, v.err
	}
	return n, err
}

func (v *verifier) finish() error {
	if v.want >= 0 && v.n != v.want {
		return &s3Error{code: "IncompleteBody", msg: "You did not provide the number of bytes specified by the Content-Length HTTP header"}
	}
	if v.wantMD5 != nil && !bytes.Equal(v.md5.Sum(nil), v.wantMD5) {
		return &s3Error{code: "BadDigest", msg: "The Content-MD5 you specified did not match what we received.",
			extra: [][2]string{{"ExpectedDigest", base64.StdEncoding.EncodeToString(v.wantMD5)}, {"CalculatedDigest", base64.StdEncoding.EncodeToString(v.md5.Sum(nil))}}}
	}
	if v.sha != nil {
		if got := hex.EncodeToString(v.sha.Sum(nil)); got != v.wantSHA {
			return &s3Error{code: "XAmzContentSHA256Mismatch", msg: "The provided 'x-amz-content-sha256' header does not match what was computed.",
				extra: [][2]string{{"ClientComputedContentSHA256", v.wantSHA}, {"S3ComputedContentSHA256", got}}}
		}
	}
	if v.computed == nil {
		v.computed = map[string]string{}
	}
	for alg, h := range v.sums {
		got := base64.StdEncoding.EncodeToString(h.Sum(nil))
		want, ok := v.given[alg]
		if !ok && v.inTrail[alg] && v.trailers != nil {
			want, ok = v.trailers.trailer.Get("x-amz-checksum-"+strings.ToLower(alg)), true
			if want == "" {
				return &s3Error{code: "InvalidRequest", msg: "The x-amz-checksum-" + strings.ToLower(alg) + " trailer was declared in x-amz-trailer but not sent."}
			}
		}
		if ok && want != got {
			return &s3Error{code: "BadDigest", msg: "The " + alg + " you specified did not match the calculated checksum."}
		}
		v.computed[alg] = got
	}
	return io.EOF
}

// bodyError names a failed body read the way S3 does.
func bodyError(err error) error {
	var se *s3Error
	if errors.As(err, &se) {
		return se
	}
	var ce *errChunked
	if errors.As(err, &ce) {
		return &s3Error{code: "IncompleteBody", msg: "The request body could not be decoded: " + ce.msg + "."}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return &s3Error{code: "IncompleteBody", msg: "You did not provide the number of bytes specified by the Content-Length HTTP header"}
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &s3Error{code: "EntityTooLarge", msg: "Your proposed upload exceeds the maximum allowed size"}
	}
	return err
}

// checksumHeaders reads the flexible-checksum headers of a request: the values given, and the
// algorithms declared (by value, by x-amz-sdk-checksum-algorithm, or by x-amz-trailer).
func checksumHeaders(h http.Header) (given map[string]string, algs []string, inTrail map[string]bool, err *s3Error) {
	given = map[string]string{}
	inTrail = map[string]bool{}
	seen := map[string]bool{}
	add := func(alg string) {
		if !seen[alg] {
			seen[alg] = true
			algs = append(algs, alg)
		}
	}
	for name, vals := range h {
		lower := strings.ToLower(name)
		suffix, ok := strings.CutPrefix(lower, "x-amz-checksum-")
		if !ok || suffix == "mode" || suffix == "type" || suffix == "algorithm" {
			continue
		}
		alg, known := checksumAlgorithms[suffix]
		if !known {
			return nil, nil, nil, &s3Error{code: "InvalidRequest", msg: "Value for x-amz-checksum-algorithm header is invalid."}
		}
		if !validChecksumValue(alg, vals[0]) {
			return nil, nil, nil, &s3Error{code: "InvalidRequest", msg: "Value for " + lower + " header is invalid."}
		}
		given[alg] = vals[0]
		add(alg)
	}
	if len(given) > 1 {
		return nil, nil, nil, &s3Error{code: "InvalidRequest", msg: "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."}
	}
	if a := h.Get("X-Amz-Sdk-Checksum-Algorithm"); a != "" {
		alg, ok := checksumAlgorithms[strings.ToLower(a)]
		if !ok {
			return nil, nil, nil, &s3Error{code: "InvalidRequest", msg: "Value for x-amz-sdk-checksum-algorithm header is invalid."}
		}
		add(alg)
	}
	for _, t := range strings.Split(h.Get("X-Amz-Trailer"), ",") {
		t = strings.ToLower(strings.TrimSpace(t))
		if t == "" {
			continue
		}
		suffix, ok := strings.CutPrefix(t, "x-amz-checksum-")
		alg, known := checksumAlgorithms[suffix]
		if !ok || !known {
			return nil, nil, nil, &s3Error{code: "InvalidRequest", msg: "The value specified in the x-amz-trailer header is not supported"}
		}
		inTrail[alg] = true
		add(alg)
	}
	return given, algs, inTrail, nil
}

// validChecksumValue reports whether v is base64 of the digest length alg produces.
func validChecksumValue(alg, v string) bool {
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return false
	}
	return len(b) == objectstore.NewChecksum(alg).Size()
}

// decodeBody returns the request body decoded and wrapped in a verifier, and the body's
// decoded length (-1 if unknown). Header errors come back as *s3Error.
func decodeBody(r *http.Request) (*verifier, *s3Error) {
	v := &verifier{r: r.Body, want: r.ContentLength}
	sha := r.Header.Get("X-Amz-Content-Sha256")
	chunked := strings.HasPrefix(sha, "STREAMING-")
	if chunked {
		switch sha {
		case streamingSigned, streamingSignedTrailer, streamingUnsigned:
		default:
			return nil, &s3Error{code: "InvalidArgument", msg: "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.",
				extra: [][2]string{{"ArgumentName", "x-amz-content-sha256"}, {"ArgumentValue", sha}}}
		}
		dl := r.Header.Get("X-Amz-Decoded-Content-Length")
		if dl == "" {
			return nil, &s3Error{code: "MissingContentLength", msg: "You must provide the Content-Length HTTP header.", status: http.StatusLengthRequired}
		}
		n, err := strconv.ParseInt(dl, 10, 64)
		if err != nil || n < 0 {
			return nil, &s3Error{code: "InvalidArgument", msg: "x-amz-decoded-content-length is not a valid number.",
				extra: [][2]string{{"ArgumentName", "x-amz-decoded-content-length"}, {"ArgumentValue", dl}}}
		}
		v.trailers = newChunkedReader(r.Body)
		v.r = v.trailers
		v.want = n
	} else {
		if r.ContentLength < 0 {
			return nil, &s3Error{code: "MissingContentLength", msg: "You must provide the Content-Length HTTP header.", status: http.StatusLengthRequired}
		}
		if sha != "" && sha != unsignedPayload {
			if len(sha) != 64 || strings.ToLower(sha) != sha {
				return nil, &s3Error{code: "InvalidArgument", msg: "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.",
					extra: [][2]string{{"ArgumentName", "x-amz-content-sha256"}, {"ArgumentValue", sha}}}
			}
			if _, err := hex.DecodeString(sha); err != nil {
				return nil, &s3Error{code: "InvalidArgument", msg: "x-amz-content-sha256 must be a valid sha256 value.",
					extra: [][2]string{{"ArgumentName", "x-amz-content-sha256"}, {"ArgumentValue", sha}}}
			}
			v.sha, v.wantSHA = sha256.New(), sha
		}
	}
	if v.want > maxObjectSize {
		return nil, &s3Error{code: "EntityTooLarge", msg: "Your proposed upload exceeds the maximum allowed size",
			extra: [][2]string{{"ProposedSize", strconv.FormatInt(v.want, 10)}, {"MaxSizeAllowed", strconv.FormatInt(maxObjectSize, 10)}}}
	}
	if m := r.Header.Get("Content-Md5"); m != "" {
		b, err := base64.StdEncoding.DecodeString(m)
		if err != nil || len(b) != md5.Size {
			return nil, &s3Error{code: "InvalidDigest", msg: "The Content-MD5 you specified is not valid."}
		}
		v.wantMD5 = b
		// Only with a Content-MD5 to check: the store hashes every body for the ETag anyway.
		v.md5 = md5.New()
	}
	given, algs, inTrail, serr := checksumHeaders(r.Header)
	if serr != nil {
		return nil, serr
	}
	if !chunked && len(inTrail) > 0 {
		return nil, &s3Error{code: "InvalidRequest", msg: "The x-amz-trailer header requires an aws-chunked body (x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER)."}
	}
	v.given, v.inTrail = given, inTrail
	v.sums = map[string]hash.Hash{}
	for _, alg := range algs {
		v.sums[alg] = objectstore.NewChecksum(alg)
	}
	return v, nil
}

// storedEncoding is the Content-Encoding S3 stores: the request's, less the aws-chunked
// transfer coding.
func storedEncoding(h http.Header) string {
	var keep []string
	for _, e := range strings.Split(h.Get("Content-Encoding"), ",") {
		if e = strings.TrimSpace(e); e != "" && !strings.EqualFold(e, "aws-chunked") {
			keep = append(keep, e)
		}
	}
	return strings.Join(keep, ",")
}
