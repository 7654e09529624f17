package firehose

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // CustomTimeZone must work on machines without a zoneinfo database

	bolt "go.etcd.io/bbolt"
)

// spec is the part of a delivery stream's configuration that shapes its objects.
type spec struct {
	Version            int      `json:"version"`
	Prefix             string   `json:"prefix,omitempty"`
	ErrorPrefix        string   `json:"errorPrefix,omitempty"`
	Delimiter          *string  `json:"delimiter,omitempty"`
	SubRecordType      string   `json:"subRecordType,omitempty"`
	SubRecordDelimiter string   `json:"subRecordDelimiter,omitempty"`
	PartitionQuery     string   `json:"partitionQuery,omitempty"`
	TimeZone           string   `json:"timeZone,omitempty"`
	Compression        string   `json:"compression,omitempty"`
	FileExtension      string   `json:"fileExtension,omitempty"`
	Lambda             *Lambda  `json:"lambda,omitempty"`
	Channel            *Channel `json:"channel,omitempty"`
}

func specOf(in Info) *spec {
	return &spec{Version: in.Version, Prefix: in.Prefix, ErrorPrefix: in.ErrorPrefix, Delimiter: in.Delimiter,
		SubRecordType: in.SubRecordType, SubRecordDelimiter: in.SubRecordDelimiter, PartitionQuery: in.PartitionQuery,
		TimeZone: in.TimeZone, Compression: in.Compression, FileExtension: in.FileExtension, Lambda: in.Lambda, Channel: in.Channel}
}

func (sp *spec) location() *time.Location {
	if sp.TimeZone == "" {
		return time.UTC
	}
	if loc, err := time.LoadLocation(sp.TimeZone); err == nil {
		return loc
	}
	return time.UTC
}

// readable counts the batch's records the source can still read.
func (r *reader) readable(in Info, b *batch) (int, error) {
	n := 0
	for pos := b.First; pos <= b.Last; {
		recs, next, err := r.d.e.src.Read(sourceStream(in), r.shard, pos, 1000)
		if err != nil {
			return 0, err
		}
		for _, rec := range recs {
			if rec.Position <= b.Last {
				n++
			}
		}
		if next <= pos {
			break
		}
		pos = next
	}
	return n, nil
}

// each calls fn for every record Firehose delivers from the batch's range of the source log,
// after de-aggregation, in order. Records are read again from the log, never kept; the next
// chunk is read while fn works through the current one, so reading the log overlaps
// compressing it. data is valid only until fn returns.
func (r *reader) each(in Info, sp *spec, b *batch, fn func(arrival time.Time, data []byte) error) error {
	stream := sourceStream(in)
	split := newSplitter(in.Type == KinesisStreamAsSource, sp)
	// Three chunks go round: one being read, one waiting, one being written out.
	free := make(chan *chunk, 3)
	for range cap(free) {
		free <- chunks.Get().(*chunk)
	}
	defer func() {
		for range cap(free) {
			chunks.Put(<-free)
		}
	}()
	full := make(chan *chunk, 1)
	stop := make(chan struct{})
	go func() {
		defer close(full)
		pos := b.First
		for pos <= b.Last {
			var c *chunk
			select {
			case c = <-free:
			case <-stop:
				return
			}
			next, err := r.read(stream, pos, c)
			// A source may skip positions it lost to damage (the stream engine does); only a
			// read that cannot get past pos means the batch's records are gone.
			if err == nil && len(c.recs) == 0 && next <= pos {
				err = fmt.Errorf("firehose: records %d..%d of %s shard %d are gone from the source", pos, b.Last, stream, r.shard)
			}
			c.err = err
			full <- c
			if err != nil {
				return
			}
			pos = next
		}
	}()
	defer func() {
		close(stop)
		for c := range full {
			free <- c
		}
	}()
	for c := range full {
		err := c.err
		for _, rec := range c.recs {
			if err != nil || rec.Position > b.Last {
				break
			}
			for _, d := range split.split(rec.Data) {
				if err = fn(rec.Arrival, d); err != nil {
					break
				}
			}
		}
		free <- c
		if err != nil {
			return err
		}
	}
	return nil
}

// chunk is one read of the source: its records and, from a RecordScanner, the one buffer
// their data is copied into, both reused from read to read and from delivery to delivery.
type chunk struct {
	recs []Record
	data []byte
	ends []int // where each record's data ends in data, while it is read
	err  error
}

// A read takes up to chunkRecords records and, from a RecordScanner, up to chunkBytes of
// data (or one larger record). A chunk's buffers are made that size at once: grown by append
// they would be allocated twice over, and a delivery after a collection, which empties the
// pool, starts with fresh chunks.
const (
	chunkRecords = 1000
	chunkBytes   = 1 << 20
)

var chunks = sync.Pool{New: func() any { return new(chunk) }}

// read reads the shard's records from pos into c, up to a chunk's worth, and returns the
// position after them.
func (r *reader) read(stream string, pos uint64, c *chunk) (uint64, error) {
	src := r.d.e.src
	sc, ok := src.(RecordScanner)
	if !ok {
		recs, next, err := src.Read(stream, r.shard, pos, chunkRecords)
		// Into the chunk's own slice, which a later read appends to: recs is the source's.
		c.recs = append(c.recs[:0], recs...)
		return next, err
	}
	if cap(c.data) < chunkBytes {
		c.recs, c.data, c.ends = make([]Record, 0, chunkRecords), make([]byte, 0, chunkBytes), make([]int, 0, chunkRecords)
	}
	c.recs, c.data, c.ends = c.recs[:0], c.data[:0], c.ends[:0]
	next, err := sc.Scan(stream, r.shard, pos, chunkRecords, chunkBytes, func(pos uint64, arrival time.Time, data []byte) {
		c.data = append(c.data, data...)
		c.ends = append(c.ends, len(c.data))
		c.recs = append(c.recs, Record{Position: pos, Arrival: arrival})
	})
	start := 0
	for i, end := range c.ends {
		c.recs[i].Data = c.data[start:end:end]
		start = end
	}
	return next, err
}

// write writes the batch's objects: one, or with dynamic partitioning one per partition and
// one per error type. committed reports that the checkpoint moved past the batch with its
// one object (see CommitSink).
func (r *reader) write(in Info, b *batch) (keys []string, committed bool, err error) {
	sp := b.Spec
	if sp.Channel != nil {
		keys, err = r.writeChannel(in, b)
		return keys, false, err
	}
	if sp.Lambda != nil {
		keys, err = r.writeTransformed(in, b)
		return keys, false, err
	}
	if sp.PartitionQuery != "" {
		keys, err = r.writePartitioned(in, b)
		return keys, false, err
	}
	var delim []byte
	if sp.Delimiter != nil {
		delim = []byte(*sp.Delimiter)
	}
	var then func(*bolt.Tx) error
	if _, ok := r.d.e.sink.(CommitSink); ok {
		then = r.commitTx(in, b)
	}
	w := r.openObject(in, sp, b.Key, 256<<10, then)
	err = w.close(r.each(in, sp, b, func(_ time.Time, d []byte) error {
		if _, err := w.Write(d); err != nil {
			return err
		}
		if delim != nil {
			_, err := w.Write(delim)
			return err
		}
		return nil
	}))
	if err != nil {
		return nil, false, err
	}
	return []string{b.Key}, then != nil, nil
}

// maxPartitions is the active-partition quota of a delivery stream (limits, dynamic
// partitioning guide); records of further partitions go to the error prefix.
var maxPartitions = 500

// group is one object of a partitioned batch.
type group struct {
	id      string // partition values, or the error type
	keys    map[string]string
	errType string // set for an error object
	oldest  time.Time
}

// errRecord is one line of an error object, in the shape Firehose documents for records that
// fail processing (attemptsMade, arrivalTimestamp, errorCode, errorMessage,
// attemptEndingTimestamp, rawData as base64).
type errRecord struct {
	AttemptsMade           int    `json:"attemptsMade"`
	ArrivalTimestamp       int64  `json:"arrivalTimestamp"`
	ErrorCode              string `json:"errorCode"`
	ErrorMessage           string `json:"errorMessage"`
	AttemptEndingTimestamp int64  `json:"attemptEndingTimestamp"`
	RawData                string `json:"rawData"`
}

// writePartitioned groups the batch's records by their partition keys in one pass over the
// log, keeping only each record's group number, then writes each group's object in a pass
// of its own, all before the caller commits.
func (r *reader) writePartitioned(in Info, b *batch) ([]string, error) {
	sp := b.Spec
	query, qerr := parsePartitionQuery(sp.PartitionQuery)
	pfx, perr := layoutPrefix(sp.Prefix)
	epfx, eperr := layoutErrorPrefix(sp.Prefix, sp.ErrorPrefix)
	if eperr != nil {
		return nil, eperr
	}
	var names []string
	if pfx != nil {
		names = pfx.queryKeys()
	}
	loc := sp.location()
	var groups []*group
	index := map[string]int32{}
	var assign []int32
	var msgs map[int]string // record number → why it failed
	fail := func(n int, arrival time.Time, errType, code, msg string) int32 {
		if msgs == nil {
			msgs = map[int]string{}
		}
		msgs[n] = code + "\x00" + msg
		id := "\x00error\x00" + errType
		g, ok := index[id]
		if !ok {
			g = int32(len(groups))
			index[id] = g
			groups = append(groups, &group{id: id, errType: errType, oldest: arrival})
		}
		if arrival.Before(groups[g].oldest) {
			groups[g].oldest = arrival
		}
		return g
	}
	n := 0
	err := r.each(in, sp, b, func(arrival time.Time, d []byte) error {
		defer func() { n++ }()
		var keys map[string]string
		var err error
		switch {
		case qerr != nil:
			err = qerr
		case perr != nil:
			err = perr
		default:
			keys, err = query.eval(d)
		}
		if err == nil {
			_, err = pfx.eval(prefixEnv{t: arrival.In(loc), keys: keys, random: func() string { return "00000000-00" }})
		}
		if err != nil {
			assign = append(assign, fail(n, arrival, errMetadataExtraction, "DynamicPartitioning.MetadataExtractionFailed", err.Error()))
			return nil
		}
		var id strings.Builder
		for _, k := range names {
			id.WriteString(keys[k])
			id.WriteByte(0)
		}
		g, ok := index[id.String()]
		if !ok {
			if len(index)-errGroups(groups) >= maxPartitions {
				assign = append(assign, fail(n, arrival, errProcessing, "DynamicPartitioning.ActivePartitionsLimitExceeded",
					fmt.Sprintf("The number of active partitions exceeds the limit of %d", maxPartitions)))
				return nil
			}
			g = int32(len(groups))
			index[id.String()] = g
			groups = append(groups, &group{id: id.String(), keys: keys, oldest: arrival})
		}
		if arrival.Before(groups[g].oldest) {
			groups[g].oldest = arrival
		}
		assign = append(assign, g)
		return nil
	})
	if err != nil {
		return nil, err
	}
	var delim []byte
	if sp.Delimiter != nil {
		delim = []byte(*sp.Delimiter)
	}
	keys := make([]string, len(groups))
	for gi, g := range groups {
		if g.errType != "" {
			keys[gi] = r.objectKey(in, sp, b, g.oldest, g.id, prefixEnv{errType: g.errType}, epfx)
		} else {
			keys[gi] = r.objectKey(in, sp, b, g.oldest, g.id, prefixEnv{keys: g.keys}, pfx)
		}
	}
	// Objects are written a window at a time, each window in one pass over the log, so the
	// passes stay few and the open compressors few.
	for lo := 0; lo < len(groups); lo += maxOpenObjects {
		hi := min(lo+maxOpenObjects, len(groups))
		ws := make([]*objectWriter, hi-lo)
		encs := make([]*json.Encoder, hi-lo)
		for i := range ws {
			ws[i] = r.openObject(in, sp, keys[lo+i], 64<<10, nil)
			if groups[lo+i].errType != "" {
				encs[i] = json.NewEncoder(ws[i])
				encs[i].SetEscapeHTML(false)
			}
		}
		n := 0
		err := r.each(in, sp, b, func(arrival time.Time, d []byte) error {
			defer func() { n++ }()
			if n >= len(assign) || int(assign[n]) < lo || int(assign[n]) >= hi {
				return nil
			}
			i := int(assign[n]) - lo
			if enc := encs[i]; enc != nil {
				code, msg, _ := strings.Cut(msgs[n], "\x00")
				return enc.Encode(errRecord{AttemptsMade: 1, ArrivalTimestamp: arrival.UnixMilli(), ErrorCode: code,
					ErrorMessage: msg, AttemptEndingTimestamp: b.Decided.UnixMilli(), RawData: base64.StdEncoding.EncodeToString(d)})
			}
			if _, err := ws[i].Write(d); err != nil {
				return err
			}
			if delim != nil {
				_, err := ws[i].Write(delim)
				return err
			}
			return nil
		})
		for _, w := range ws {
			if cerr := w.close(err); err == nil {
				err = cerr
			}
		}
		if err != nil {
			return keys[:lo], err
		}
	}
	return keys, nil
}

// maxOpenObjects is how many partition objects are written at once.
const maxOpenObjects = 16

func errGroups(groups []*group) int {
	n := 0
	for _, g := range groups {
		if g.errType != "" {
			n++
		}
	}
	return n
}

// contentHeaders are the Content-Type and Content-Encoding Firehose gives an object: users
// report application/octet-stream for every format, with Content-Encoding gzip on GZIP objects
// (honeycombio/agentless-integrations-for-aws#22), which makes SDKs that honour the header
// decompress them transparently.
func contentHeaders(compression string) (contentType, contentEncoding string) {
	if compression == GZIP {
		return "application/octet-stream", "gzip"
	}
	return "application/octet-stream", ""
}

// putObject streams fill's output through the compressor into one object.
func (r *reader) putObject(in Info, sp *spec, key string, fill func(w io.Writer) error) error {
	w := r.openObject(in, sp, key, 256<<10, nil)
	return w.close(fill(w))
}

// objectWriter is an object being written: what is written to it goes through the compressor
// and a bufPipe into the sink's PutObject, which runs until close.
type objectWriter struct {
	cw       io.WriteCloser
	pipe     *bufPipe
	err      error     // the compressor could not be made
	decision *decision // the batch's decision being committed, if it is; the object ends after it
	done     chan error
}

// openObject starts writing an object; then, if not nil, is committed with it (CommitSink).
func (r *reader) openObject(in Info, sp *spec, key string, bufSize int, then func(*bolt.Tx) error) *objectWriter {
	e := r.d.e
	w := &objectWriter{pipe: newBufPipe(bufSize), decision: r.decision, done: make(chan error, 1)}
	w.cw, w.err = newCompressor(sp.Compression, w.pipe, strings.TrimSuffix(key[strings.LastIndexByte(key, '/')+1:], extension(sp)))
	ctype, cenc := contentHeaders(sp.Compression)
	go func() {
		var err error
		if then != nil {
			err = e.sink.(CommitSink).PutObjectThen(context.Background(), in.Bucket, key, w.pipe, ctype, cenc, then)
		} else {
			err = e.sink.PutObject(context.Background(), in.Bucket, key, w.pipe, ctype, cenc)
		}
		// Whatever the sink left unread fails the writer instead of blocking it.
		w.pipe.closeRead()
		w.done <- err
	}()
	return w
}

func (w *objectWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	return w.cw.Write(p)
}

// close finishes the object, or aborts it when err is set, and returns the sink's answer.
func (w *objectWriter) close(err error) error {
	if err == nil {
		err = w.err
	}
	if err == nil {
		err = w.cw.Close()
	}
	if err == nil && w.decision != nil {
		err = w.decision.wait()
	}
	w.pipe.CloseWithError(err)
	if serr := <-w.done; serr != nil {
		return serr
	}
	return err
}

// objectKey names an object as Firehose does: the evaluated prefix, then
// DeliveryStreamName-Version-YYYY-MM-DD-HH-MM-SS-RandomString and the file extension. Times
// are the oldest record's approximate arrival in the stream's time zone. The random parts (the
// UUID and each !{firehose:random-string}) are hashes of what the object holds (stream, shard,
// first and last position, partition), so rewriting the same batch gives the same key.
func (r *reader) objectKey(in Info, sp *spec, b *batch, oldest time.Time, part string, env prefixEnv, pfx ...*prefixExpr) string {
	seed := sha256.Sum256(fmt.Appendf(nil, "%s\x00%d\x00%s\x00%d\x00%d\x00%d", in.Name, in.Created.UnixNano(), sourceStream(in), r.shard, b.First, b.Last))
	if part != "" {
		seed = sha256.Sum256(append(seed[:], part...))
	}
	t := oldest.In(sp.location())
	occurrence := 0
	env.t = t
	env.random = func() string {
		occurrence++
		h := sha256.Sum256(fmt.Appendf(seed[:], "\x00random-string\x00%d", occurrence))
		x := hex.EncodeToString(h[:6])
		return x[:8] + "-" + x[8:10]
	}
	var p *prefixExpr
	if len(pfx) > 0 {
		p = pfx[0]
	}
	if p == nil {
		var err error
		if p, err = layoutPrefix(sp.Prefix); err != nil {
			// Validated at create and update, so only a config from before validation gets here.
			p = &prefixExpr{parts: []prefixPart{{kind: partLit, lit: sp.Prefix}, {kind: partTime, ts: defaultTime}}}
		}
	}
	prefix, _ := p.eval(env)
	x := hex.EncodeToString(seed[:16])
	uuid := x[:8] + "-" + x[8:12] + "-4" + x[13:16] + "-" + string("89ab"[seed[8]&3]) + x[17:20] + "-" + x[20:32]
	return prefix + fmt.Sprintf("%s-%d-%s-%s", in.Name, sp.Version, t.Format("2006-01-02-15-04-05"), uuid) + extension(sp)
}
