package kinesisapi

import (
	"context"
	"net/http"
	"sync"
)

// GetRecords answers are megabytes (10,000 records of 100 bytes make 3 MB of JSON), and
// allocating one per call made the garbage collector run every few calls. So an answer
// served over HTTP is built in a buffer that ServeHTTP takes back once the answer is
// written, for the next call to reuse. Only ServeHTTP lends: an in-process caller (the
// gateway, the console) keeps the answer it gets, so its buffer is its own.
type answerLoan struct{ buf []byte }

type answerLoanKey struct{}

// answerBuffers holds *[]byte; sync.Pool drops what stays unused over two collections, so
// an idle server does not keep them.
var answerBuffers sync.Pool

// maxLentAnswer bounds the buffers kept: a few large answers must not pin their size.
const maxLentAnswer = 16 << 20

// serveLending serves r with a loan in its context and takes the answer's buffer back
// after the answer is written.
func (h *Handler) serveLending(w http.ResponseWriter, r *http.Request) {
	loan := &answerLoan{}
	h.svc.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), answerLoanKey{}, loan)))
	if loan.buf != nil && cap(loan.buf) <= maxLentAnswer {
		b := loan.buf[:0]
		answerBuffers.Put(&b)
	}
}

// answerBuffer returns an empty buffer of at least size bytes' capacity for an answer,
// a reused one if the request can give it back. The caller hands the buffer it finally
// answers with (grown or not) to lend.
func answerBuffer(ctx context.Context, size int) []byte {
	if ctx.Value(answerLoanKey{}) != nil {
		if p, _ := answerBuffers.Get().(*[]byte); p != nil && cap(*p) >= size {
			return (*p)[:0]
		}
	}
	return make([]byte, 0, size)
}

// lend notes buf, which holds the answer to the request of ctx from its first byte, as the
// buffer to take back once the answer is written.
func lend(ctx context.Context, buf []byte) {
	if loan, _ := ctx.Value(answerLoanKey{}).(*answerLoan); loan != nil {
		loan.buf = buf
	}
}
