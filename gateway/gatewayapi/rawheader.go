package gatewayapi

import (
	"bytes"
	"context"
	"io"
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

// maxRecordedHeads bounds the heads kept per connection: requests the gateway does not serve
// (S3, Kinesis) never claim theirs, and the one being served is at most a few pipelined
// requests behind the newest.
const maxRecordedHeads = 8

// headLog is a connection's stream scanner and the heads it found. Reads happen on the
// connection's goroutine while a handler claims heads, hence the lock.
type headLog struct {
	mu    sync.Mutex
	sc    headScanner
	heads []rawHead
}

func (h *headLog) write(p []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sc.scan(p, func(hd rawHead) {
		if len(h.heads) == maxRecordedHeads {
			h.heads = append(h.heads[:0], h.heads[1:]...)
		}
		h.heads = append(h.heads, hd)
	})
}

// claim returns the oldest recorded head for this method and request target, dropping it and
// the heads before it (requests served by others).
func (h *headLog) claim(method, target string) ([]string, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, hd := range h.heads {
		if hd.method == method && hd.target == target {
			h.heads = append(h.heads[:0], h.heads[i+1:]...)
			return hd.names, true
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
	line     []byte
	cur      rawHead
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

func (s *headScanner) scan(p []byte, emit func(rawHead)) {
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
			s.line = append(s.line, p[:i]...)
			p = p[i+1:]
			line := string(bytes.TrimSuffix(s.line, []byte{'\r'}))
			s.line = s.line[:0]
			s.onLine(line, emit)
		}
	}
}

func (s *headScanner) onLine(line string, emit func(rawHead)) {
	switch s.state {
	case scanRequestLine:
		if line == "" {
			return // blank lines before a request line are allowed (RFC 9112 2.2)
		}
		parts := strings.Split(line, " ")
		if len(parts) != 3 || !strings.HasPrefix(parts[2], "HTTP/1.") {
			// "PRI * HTTP/2.0" (cleartext HTTP/2) or not HTTP/1 at all.
			s.state = scanStopped
			return
		}
		s.cur = rawHead{method: parts[0], target: parts[1]}
		s.chunked, s.hasLen, s.badFrame, s.length = false, false, false, 0
		s.state = scanHeader
	case scanHeader:
		if line == "" {
			emit(s.cur)
			s.cur = rawHead{}
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
		name, value, ok := strings.Cut(line, ":")
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			s.state = scanStopped
			return
		}
		s.cur.names = append(s.cur.names, name)
		value = strings.TrimSpace(value)
		switch {
		case strings.EqualFold(name, "Transfer-Encoding"):
			if strings.EqualFold(value, "chunked") || strings.HasSuffix(strings.ToLower(value), ", chunked") {
				s.chunked = true
			} else {
				s.badFrame = true
			}
		case strings.EqualFold(name, "Content-Length"):
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil || n < 0 || s.hasLen && n != s.length {
				s.badFrame = true
			}
			s.length, s.hasLen = n, true
		}
	case scanChunkSize:
		size, _, _ := strings.Cut(line, ";")
		n, err := strconv.ParseInt(strings.TrimSpace(size), 16, 64)
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
		if line != "" {
			s.state = scanStopped
			return
		}
		s.state = scanChunkSize
	case scanTrailer:
		if line == "" {
			s.state = scanRequestLine
		}
	}
}
