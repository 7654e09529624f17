package firehose

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// TestBufPipe: what is written comes out in order through Read and through WriteTo, over
// more buffers than the pipe holds; the writer's error reaches the reader after the bytes
// before it; and a reader that goes away fails the writer instead of blocking it.
func TestBufPipe(t *testing.T) {
	var want []byte
	for i := 0; len(want) < 40<<10; i++ {
		want = append(want, byte(i), byte(i>>8), byte(i>>16))
	}
	for _, via := range []string{"Read", "WriteTo"} {
		p := newBufPipe(1000)
		got := make(chan []byte)
		go func() {
			var out bytes.Buffer
			if via == "Read" {
				b := make([]byte, 333)
				for {
					n, err := p.Read(b)
					out.Write(b[:n])
					if err != nil {
						break
					}
				}
			} else {
				p.WriteTo(&out)
			}
			got <- out.Bytes()
		}()
		for rest := want; len(rest) > 0; {
			n := min(len(rest), 1+len(rest)%2500)
			if k, err := p.Write(rest[:n]); err != nil || k != n {
				t.Fatalf("%s: write %d: %d %v", via, n, k, err)
			}
			rest = rest[n:]
		}
		p.CloseWithError(nil)
		if b := <-got; !bytes.Equal(b, want) {
			t.Errorf("%s: read %d bytes, want %d", via, len(b), len(want))
		}
	}

	p := newBufPipe(10)
	boom := errors.New("boom")
	go func() {
		p.Write([]byte("0123456789abc"))
		p.CloseWithError(boom)
	}()
	b, err := io.ReadAll(p)
	if string(b) != "0123456789" || err != boom {
		t.Errorf("after a failed write: read %q, %v", b, err)
	}

	p = newBufPipe(10)
	p.closeRead()
	var werr error
	for i := 0; i < 100 && werr == nil; i++ {
		_, werr = p.Write([]byte("0123456789"))
	}
	if werr != io.ErrClosedPipe {
		t.Errorf("writing with no reader: %v", werr)
	}
}
