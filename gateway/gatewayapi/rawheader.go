package gatewayapi

import (
	"bytes"
	"context"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// API Gateway hands templates header names as the client spelled them
// ($input.params().header.get('X-GitHub-Event')), but net/http canonicalises them
// (X-Github-Event) before a handler runs. RawHeaderListener keeps the spelling: it watches the
// HTTP/1.x byte stream of each connection and records every request head's header names,
// which the gateway matches to the request it serves. Only names are kept; values come from
// net/http as before.

// RawHeaderListener wraps ln so that the gateway sees header names as clients sent them. The
// server must also use ConnContext.
func RawHeaderListener(ln net.Listener) net.Listener { return rawListener{ln} }

// ConnContext is for http.Server.ConnContext: it attaches the connection's record of header
// names to the requests served on it.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	if rc, ok := c.(*rawConn); ok {
		return context.WithValue(ctx, rawHeadsKey{}, rc.heads)
	}
	return ctx
}

type rawHeadsKey struct{}

type rawListener struct{ net.Listener }

func (l rawListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &rawConn{Conn: c, heads: &headLog{}}, nil
}

type rawConn struct {
	net.Conn
	heads *headLog
}

// ReadFrom keeps the inner connection's sendfile path for responses copied from files (S3
// GETs): a wrapper without it would make every download a read-write loop.
func (c *rawConn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(c.Conn, r)
}

func (c *rawConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.heads.write(p[:n])
	}
	return n, err
}

// rawHead is one request head as sent: its request line and header names in order.
type rawHead struct {
	method, target string
	names          []string
}

// headBuf is one request head as sent, kept as bytes: every request on every connection
// passes the scanner, and only the few the gateway serves ever need the names as strings,
// so recording a head reuses the connection's buffers and allocates nothing.
type headBuf struct {
	b    []byte // the method, the target, then each name, back to back
	ends []int  // where each of them ends in b
}

func (h *headBuf) reset() { h.b, h.ends = h.b[:0], h.ends[:0] }

func (h *headBuf) add(part []byte) {
	h.b = append(h.b, part...)
	h.ends = append(h.ends, len(h.b))
}

// part is the i-th part: 0 the method, 1 the target, 2 on the names.
func (h *headBuf) part(i int) []byte {
	start := 0
	if i > 0 {
		start = h.ends[i-1]
	}
	return h.b[start:h.ends[i]]
}

func (h *headBuf) is(method, target string) bool {
	return len(h.ends) >= 2 && string(h.part(0)) == method && string(h.part(1)) == target
}

func (h *headBuf) head() rawHead {
	hd := rawHead{method: string(h.part(0)), target: string(h.part(1))}
	if len(h.ends) > 2 {
		hd.names = make([]string, 0, len(h.ends)-2)
		for i := 2; i < len(h.ends); i++ {
			hd.names = append(hd.names, string(h.part(i)))
		}
	}
	return hd
}

// maxRecordedHeads bounds the heads kept per connection: requests the gateway does not serve
// (S3, Kinesis) never claim theirs, and the one being served is at most a few pipelined
// requests behind the newest.
const maxRecordedHeads = 8

// headLog is a connection's stream scanner and the heads it found. Reads happen on the
// connection's goroutine while a handler claims heads, hence the lock.
type headLog struct {
	mu    sync.Mutex
	sc    headScanner
	heads []headBuf
	spare []headBuf // buffers of heads dropped, for the heads to come
}

func (h *headLog) write(p []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sc.feed(p, h.record)
}

// record keeps the scanner's finished head, handing the scanner a dropped head's buffers
// for the next one.
func (h *headLog) record(cur *headBuf) {
	if len(h.heads) == maxRecordedHeads {
		h.drop(1)
	}
	var next headBuf
	if n := len(h.spare); n > 0 {
		next, h.spare = h.spare[n-1], h.spare[:n-1]
		next.reset()
	}
	h.heads = append(h.heads, *cur)
	*cur = next
}

// drop forgets the n oldest heads, keeping their buffers.
func (h *headLog) drop(n int) {
	h.spare = append(h.spare, h.heads[:n]...)
	m := copy(h.heads, h.heads[n:])
	clear(h.heads[m:]) // their buffers are the spares' now
	h.heads = h.heads[:m]
}

// claim returns the oldest recorded head for this method and request target, dropping it and
// the heads before it (requests served by others).
func (h *headLog) claim(method, target string) ([]string, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := range h.heads {
		if h.heads[i].is(method, target) {
			names := h.heads[i].head().names
			h.drop(i + 1)
			return names, true
		}
	}
	return nil, false
}

// headerNames maps each canonical header name of r to the spelling the client sent (for
// HTTP/2, where names travel in lower case, the lower-case name). Without a record (a server
// not wrapped by RawHeaderListener, or a stream the scanner gave up on) the names stay
// canonical.
func headerNames(r *http.Request) map[string]string {
	out := make(map[string]string, len(r.Header)+1)
	if r.ProtoMajor >= 2 {
		for k := range r.Header {
			out[k] = strings.ToLower(k)
		}
		out["Host"] = "host"
		return out
	}
	log, _ := r.Context().Value(rawHeadsKey{}).(*headLog)
	if log == nil {
		return out
	}
	names, ok := log.claim(r.Method, r.RequestURI)
	if !ok {
		return out
	}
	for _, n := range names {
		// The last spelling wins, as the last value does.
		out[http.CanonicalHeaderKey(n)] = n
	}
	return out
}

// maxHeadLine bounds a line of a request head; net/http's own limit (MaxHeaderBytes, 1 MB by
// default) rejects longer heads anyway.
const maxHeadLine = 1 << 20

// headScanner follows an HTTP/1.x request stream: heads line by line, then bodies by their
// Content-Length or chunked framing, without keeping body bytes. On anything it does not
// understand (HTTP/2's preface, a malformed head or chunk) it stops for good, and the
// requests that follow keep canonical names.
type headScanner struct {
	state    int
	line     []byte // a line begun in an earlier read
	cur      headBuf
	length   int64 // body bytes left (Content-Length, or the current chunk)
	chunked  bool
	hasLen   bool
	badFrame bool
}

const (
	scanRequestLine = iota
	scanHeader
	scanBody
	scanChunkSize
	scanChunkData
	scanChunkEnd
	scanTrailer
	scanStopped
)

// scan feeds p to the scanner and hands each head it completes to emit.
func (s *headScanner) scan(p []byte, emit func(rawHead)) {
	s.feed(p, func(h *headBuf) { emit(h.head()) })
}

// feed feeds p to the scanner and hands each head it completes to done, which may keep the
// head's buffers by giving the scanner others.
func (s *headScanner) feed(p []byte, done func(*headBuf)) {
	for len(p) > 0 {
		switch s.state {
		case scanStopped:
			return
		case scanBody, scanChunkData:
			n := int64(len(p))
			if n > s.length {
				n = s.length
			}
			s.length -= n
			p = p[n:]
			if s.length == 0 {
				if s.state == scanBody {
					s.state = scanRequestLine
				} else {
					s.state = scanChunkEnd
				}
			}
		default:
			i := bytes.IndexByte(p, '\n')
			if i < 0 {
				if len(s.line)+len(p) > maxHeadLine {
					s.state = scanStopped
					return
				}
				s.line = append(s.line, p...)
				return
			}
			if len(s.line)+i > maxHeadLine {
				s.state = scanStopped
				return
			}
			// A line that arrived whole is read where it lies.
			line := p[:i]
			if len(s.line) > 0 {
				s.line = append(s.line, line...)
				line = s.line
			}
			p = p[i+1:]
			if n := len(line); n > 0 && line[n-1] == '\r' {
				line = line[:n-1]
			}
			s.onLine(line, done)
			s.line = s.line[:0]
		}
	}
}

// onLine takes one line; it keeps nothing of line, which the caller reuses.
func (s *headScanner) onLine(line []byte, done func(*headBuf)) {
	switch s.state {
	case scanRequestLine:
		if len(line) == 0 {
			return // blank lines before a request line are allowed (RFC 9112 2.2)
		}
		method, rest, _ := bytes.Cut(line, []byte{' '})
		target, version, ok := bytes.Cut(rest, []byte{' '})
		if !ok || bytes.IndexByte(version, ' ') >= 0 || !bytes.HasPrefix(version, []byte("HTTP/1.")) {
			// "PRI * HTTP/2.0" (cleartext HTTP/2) or not HTTP/1 at all.
			s.state = scanStopped
			return
		}
		s.cur.reset()
		s.cur.add(method)
		s.cur.add(target)
		s.chunked, s.hasLen, s.badFrame, s.length = false, false, false, 0
		s.state = scanHeader
	case scanHeader:
		if len(line) == 0 {
			done(&s.cur)
			s.cur.reset()
			switch {
			case s.badFrame:
				s.state = scanStopped
			case s.chunked:
				s.state = scanChunkSize
			case s.length > 0:
				s.state = scanBody
			default:
				s.state = scanRequestLine
			}
			return
		}
		if line[0] == ' ' || line[0] == '\t' {
			return // obsolete line folding continues a value
		}
		name, value, ok := bytes.Cut(line, []byte{':'})
		if !ok || len(name) == 0 || bytes.ContainsAny(name, " \t") {
			s.state = scanStopped
			return
		}
		s.cur.add(name)
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			if bytes.EqualFold(value, []byte("chunked")) || strings.HasSuffix(strings.ToLower(string(value)), ", chunked") {
				s.chunked = true
			} else {
				s.badFrame = true
			}
		case bytes.EqualFold(name, []byte("Content-Length")):
			n, ok := parseLength(value)
			if !ok || s.hasLen && n != s.length {
				s.badFrame = true
			}
			s.length, s.hasLen = n, true
		}
	case scanChunkSize:
		size, _, _ := bytes.Cut(line, []byte{';'})
		n, err := strconv.ParseInt(string(bytes.TrimSpace(size)), 16, 64)
		if err != nil || n < 0 {
			s.state = scanStopped
			return
		}
		if n == 0 {
			s.state = scanTrailer
			return
		}
		s.length, s.state = n, scanChunkData
	case scanChunkEnd:
		if len(line) != 0 {
			s.state = scanStopped
			return
		}
		s.state = scanChunkSize
	case scanTrailer:
		if len(line) == 0 {
			s.state = scanRequestLine
		}
	}
}

// parseLength reads a Content-Length value as strconv.ParseInt(v, 10, 64) would, reporting
// false where it fails or gives a negative number, without the string ParseInt needs.
func parseLength(v []byte) (int64, bool) {
	neg := false
	if len(v) > 0 && (v[0] == '+' || v[0] == '-') {
		neg, v = v[0] == '-', v[1:]
	}
	if len(v) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		if n > (math.MaxInt64-int64(c-'0'))/10 {
			return 0, false // out of range, or (negative) not a length anyway
		}
		n = n*10 + int64(c-'0')
	}
	if neg && n != 0 {
		return 0, false
	}
	return n, true
}
