package firehose

import (
	"io"
	"sync"
)

// bufPipe carries an object's bytes from the compressor to the sink's PutObject in buffers of
// its own, up to depth of them filled and waiting, so the compressor goes on while the sink
// writes earlier bytes to disk. io.Pipe would make every write wait for the sink's read, and
// with it for the sink's previous write to the file.
//
// One goroutine writes (Write, CloseWithError) and one reads (Read or WriteTo, then
// closeRead); the sink never sees the end of the object before CloseWithError(nil).
type bufPipe struct {
	size  int
	full  chan []byte   // filled buffers, in order; closed by CloseWithError
	free  chan []byte   // buffers the reader is done with
	stop  chan struct{} // closed by closeRead: the reader is gone
	once  sync.Once
	cur   []byte // the buffer being filled (writer side)
	made  int    // buffers allocated (writer side)
	werr  error  // why the writer stopped; read once full is closed
	rbuf  []byte // the rest of the buffer being read (reader side)
	rlast []byte // rbuf's whole buffer, to hand back
}

// pipeDepth is how many filled buffers may wait for the sink.
const pipeDepth = 4

func newBufPipe(size int) *bufPipe {
	return &bufPipe{size: size, full: make(chan []byte, pipeDepth), free: make(chan []byte, pipeDepth+1), stop: make(chan struct{})}
}

func (p *bufPipe) Write(b []byte) (int, error) {
	n := 0
	for len(b) > 0 {
		if p.cur == nil {
			if err := p.next(); err != nil {
				return n, err
			}
		}
		k := copy(p.cur[len(p.cur):cap(p.cur)], b)
		p.cur = p.cur[:len(p.cur)+k]
		b, n = b[k:], n+k
		if len(p.cur) == cap(p.cur) {
			if err := p.send(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// next takes an empty buffer: one the reader handed back, or a new one while fewer than
// depth+1 exist, or else the next one the reader hands back.
func (p *bufPipe) next() error {
	select {
	case b := <-p.free:
		p.cur = b[:0]
		return nil
	default:
	}
	if p.made <= pipeDepth {
		p.made++
		p.cur = make([]byte, 0, p.size)
		return nil
	}
	select {
	case b := <-p.free:
		p.cur = b[:0]
		return nil
	case <-p.stop:
		return io.ErrClosedPipe
	}
}

func (p *bufPipe) send() error {
	select {
	case p.full <- p.cur:
		p.cur = nil
		return nil
	case <-p.stop:
		return io.ErrClosedPipe
	}
}

// CloseWithError ends the object: with a nil err the reader gets what is buffered and then
// io.EOF, otherwise err.
func (p *bufPipe) CloseWithError(err error) {
	if err == nil && len(p.cur) > 0 {
		err = p.send()
	}
	p.werr = err
	close(p.full)
}

func (p *bufPipe) Read(b []byte) (int, error) {
	if len(p.rbuf) == 0 {
		if err := p.take(); err != nil {
			return 0, err
		}
	}
	n := copy(b, p.rbuf)
	p.rbuf = p.rbuf[n:]
	return n, nil
}

// WriteTo hands each buffer to w as it is, without the copy Read makes.
func (p *bufPipe) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if len(p.rbuf) == 0 {
			if err := p.take(); err == io.EOF {
				return total, nil
			} else if err != nil {
				return total, err
			}
		}
		n, err := w.Write(p.rbuf)
		total += int64(n)
		p.rbuf = p.rbuf[n:]
		if err != nil {
			return total, err
		}
	}
}

// take hands the buffer just read back to the writer and waits for the next.
func (p *bufPipe) take() error {
	if p.rlast != nil {
		p.free <- p.rlast // never blocks: free holds every buffer there is
		p.rlast = nil
	}
	b, ok := <-p.full
	if !ok {
		if p.werr != nil {
			return p.werr
		}
		return io.EOF
	}
	p.rbuf, p.rlast = b, b
	return nil
}

// closeRead tells the writer the reader is gone: its writes fail from then on.
func (p *bufPipe) closeRead() { p.once.Do(func() { close(p.stop) }) }
