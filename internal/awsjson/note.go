package awsjson

import "context"

// Note is what a wire layer learned about a request that only it can tell, kept for the
// edge's request log: the S3 operation a path and query resolved to, the API Gateway
// resource a path matched, or why the gateway answered 403 without calling anything.
type Note struct {
	Operation string
	Resource  string
	Reason    string
	// Trace is the edge's cross-hop trace of the request, found by the callbacks the
	// services call with the request's context; the wire layers leave it alone.
	Trace any
}

type noteKey struct{}

// WithNote returns ctx carrying n, for the wire layers to fill in.
func WithNote(ctx context.Context, n *Note) context.Context {
	return context.WithValue(ctx, noteKey{}, n)
}

// NoteFrom returns the Note of ctx, or nil when nobody logs requests: callers skip the work.
func NoteFrom(ctx context.Context) *Note {
	n, _ := ctx.Value(noteKey{}).(*Note)
	return n
}
