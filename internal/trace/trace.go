// Package trace is the cross-hop trace index: for the most recent requests, by the request id
// localpipe answered them with, the hops each took through the pipeline (the API Gateway
// method, the Kinesis or Firehose records it wrote, the S3 objects those records were
// delivered in).
//
// The index is bounded: it keeps at most Size requests, and at most HopsPerRequest times as
// many hops among them (a PutRecords of 500 records is 500 hops); the oldest requests go
// first. A record is found again by where it sits in its source
// log (stream, shard, position), which is what Firehose reports when it delivers a range of
// a shard, so the link from a record to its object costs one entry in an ordered list of
// the shard's positions, dropped with its request.
//
// A request's hops are recorded as they happen (Begin, then Put), not when it answers:
// Firehose may deliver a record before the request that wrote it has answered (the gateway
// still mapping the integration's answer, a size trigger met by that very record).
// Publish makes the request findable under its id once the id is known.
package trace

import (
	"encoding/json"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
)

// Hop is one step of a request through the pipeline: an API Gateway method, a Kinesis or
// Firehose record written, or a Firehose delivery to S3. Its JSON is what GET
// /_localpipe/trace/{requestId} answers with (see MarshalJSON). It holds three strings
// whatever its kind, which keeps a full index small: the garbage collector traces every
// hop it holds at every cycle. A Kinesis record's hop, the most common by far, holds its
// shard and sequence number as number instead (see KinesisNumberHop).
type Hop struct {
	kind    hopKind
	status  int32
	a, b, c string
	number  [3]uint64
}

type hopKind uint8

const (
	kindGateway       hopKind = iota + 1 // apiId, stage, resourcePath; status
	kindKinesis                          // streamName, shardId, sequenceNumber
	kindRecord                           // deliveryStreamName, recordId
	kindDelivery                         // deliveryStreamName, bucket, key
	kindS3                               // operation, bucket, key; status
	kindKinesisNumber                    // streamName; number, which Get turns into a kindKinesis hop
)

// GatewayHop is an API Gateway request: the API, stage and resource matched (resourcePath
// is empty when none was), and the status answered.
func GatewayHop(apiID, stage, resourcePath string, status int) Hop {
	return Hop{kind: kindGateway, a: apiID, b: stage, c: resourcePath, status: int32(status)}
}

// KinesisHop is a record written to a Kinesis stream.
func KinesisHop(stream, shardID, sequenceNumber string) Hop {
	return Hop{kind: kindKinesis, a: stream, b: shardID, c: sequenceNumber}
}

// KinesisNumberHop is a record written to a Kinesis stream, whose shard id and sequence
// number are named from number by the index's KinesisNames when the trace is read: a put
// formats nothing, and its hop holds no strings of its own.
func KinesisNumberHop(stream string, number [3]uint64) Hop {
	return Hop{kind: kindKinesisNumber, a: stream, number: number}
}

// FirehoseRecordHop is a record a DirectPut delivery stream accepted.
func FirehoseRecordHop(deliveryStream, recordID string) Hop {
	return Hop{kind: kindRecord, a: deliveryStream, b: recordID}
}

// DeliveryHop is an S3 object a delivery stream wrote a request's records to.
func DeliveryHop(deliveryStream, bucket, key string) Hop {
	return Hop{kind: kindDelivery, a: deliveryStream, b: bucket, c: key}
}

// S3Hop is an S3 request that may change a bucket: the operation S3 resolved, the bucket
// and key it named, and the status answered.
func S3Hop(operation, bucket, key string, status int) Hop {
	return Hop{kind: kindS3, a: operation, b: bucket, c: key, status: int32(status)}
}

// MarshalJSON writes the hop as the trace endpoint answers it: "service" first, then the
// fields of its kind, empty ones left out:
//
//	{"service":"apigateway","apiId","stage","resourcePath","status"}
//	{"service":"kinesis","streamName","shardId","sequenceNumber"}
//	{"service":"firehose","deliveryStreamName","recordId"}
//	{"service":"firehose","deliveryStreamName","bucket","key"}
//	{"service":"s3","operation","bucket","key","status"}
func (h Hop) MarshalJSON() ([]byte, error) {
	b := []byte(`{"service":`)
	field := func(name, v string) {
		if v != "" {
			b = append(b, `,"`+name+`":`...)
			b = appendString(b, v)
		}
	}
	switch h.kind {
	case kindGateway:
		b = append(b, `"apigateway"`...)
		field("apiId", h.a)
		field("stage", h.b)
		field("resourcePath", h.c)
	case kindKinesis:
		b = append(b, `"kinesis"`...)
		field("streamName", h.a)
		field("shardId", h.b)
		field("sequenceNumber", h.c)
	case kindRecord:
		b = append(b, `"firehose"`...)
		field("deliveryStreamName", h.a)
		field("recordId", h.b)
	case kindDelivery:
		b = append(b, `"firehose"`...)
		field("deliveryStreamName", h.a)
		field("bucket", h.b)
		field("key", h.c)
	case kindS3:
		b = append(b, `"s3"`...)
		field("operation", h.a)
		field("bucket", h.b)
		field("key", h.c)
	default:
		b = append(b, `""`...)
	}
	if h.status != 0 { // only gateway and S3 hops have one
		b = append(b, `,"status":`...)
		b = strconv.AppendInt(b, int64(h.status), 10)
	}
	return append(b, '}'), nil
}

// appendString appends s as a JSON string. Names and keys come from clients, so they are
// escaped as encoding/json escapes them.
func appendString(b []byte, s string) []byte {
	q, _ := json.Marshal(s)
	return append(b, q...)
}

// Record is where a record sits in a source log: a Kinesis stream's shard, or the hidden
// log of a DirectPut delivery stream.
type Record struct {
	Stream   string
	Shard    int
	Position uint64
}

type shardKey struct {
	stream string
	shard  int
}

// shardLog indexes the traced records of one source shard by position. Positions grow as
// records are appended, so they are kept in order in a slice: added at the end, looked up by
// binary search, and trimmed at the front as their requests leave the index (which happens
// in about the order they were put).
type shardLog struct {
	key  shardKey
	pos  []uint64
	reqs []*Request
}

func (l *shardLog) add(p uint64, r *Request) {
	n := len(l.pos)
	if n == 0 || l.pos[n-1] < p {
		l.pos, l.reqs = append(l.pos, p), append(l.reqs, r)
		return
	}
	// Requests writing one shard at once may report their records in another order than
	// they were written in.
	i, found := slices.BinarySearch(l.pos, p)
	if found { // the shard of a stream deleted and created again
		l.reqs[i] = r
		return
	}
	l.pos, l.reqs = slices.Insert(l.pos, i, p), slices.Insert(l.reqs, i, r)
}

// addRun adds the records of run, of this shard in increasing positions. A request's
// records of one shard are mostly one run, which fits between the records already indexed
// as a whole (requests writing one shard at once report in another order than they wrote
// in), so it moves the records after it once, not once per record.
func (l *shardLog) addRun(run []Record, r *Request) {
	n, k := len(l.pos), len(run)
	first, last := run[0].Position, run[k-1].Position
	i := n
	if n > 0 && l.pos[n-1] >= first {
		i, _ = slices.BinarySearch(l.pos, first)
		if l.pos[i] <= last { // interleaved with records indexed, or indexed before
			for _, rec := range run {
				l.add(rec.Position, r)
			}
			return
		}
	}
	l.pos, l.reqs = append(l.pos, make([]uint64, k)...), append(l.reqs, make([]*Request, k)...)
	copy(l.pos[i+k:], l.pos[i:n])
	copy(l.reqs[i+k:], l.reqs[i:n])
	for j, rec := range run {
		l.pos[i+j], l.reqs[i+j] = rec.Position, r
	}
}

// trim forgets the records at the front whose requests have left the index.
func (l *shardLog) trim() {
	i := 0
	for i < len(l.reqs) && l.reqs[i].dropped {
		i++
	}
	if i > 0 {
		clear(l.reqs[:i])
		l.pos, l.reqs = l.pos[i:], l.reqs[i:]
	}
}

// Request is the trace of one request, recorded while it runs. Its methods are safe for
// concurrent use; a nil *Request records nothing.
type Request struct {
	x *Index
	// The request's id: uuid when it is a UUID (isUUID), else id.
	id     string
	uuid   [16]byte
	isUUID bool
	hops   []Hop
	// delivered are the delivery hops, apart so that many records delivered in one object
	// add one hop, found without looking through the record hops.
	delivered []Hop
	// logs are the shards the request put records in (mostly one).
	logs []*shardLog
	// one and oneLog are room for the first hop and shard, so that a request that puts one
	// record (most do) costs one allocation.
	one       [1]Hop
	oneLog    [1]*shardLog
	published bool
	dropped   bool
	// put is set by the first Put, so that Empty needs no lock.
	put atomic.Bool
}

func (r *Request) cost() int { return len(r.hops) + len(r.delivered) }

// Index is the bounded trace index. Its methods are safe for concurrent use.
type Index struct {
	size, budget int
	// KinesisNames names the shard and sequence number of a KinesisNumberHop's number. It
	// is set before the index is used.
	KinesisNames func(number [3]uint64) (shardID, sequenceNumber string)

	mu sync.Mutex
	// ring holds the published requests, oldest first, from head on. It grows to size by
	// appends, so an index that traces little (or nothing yet, at start) holds little.
	ring  []*Request
	head  int
	count int
	hops  int // hops held by every request, published or not
	// byUUID finds requests by id: localpipe's request ids are UUIDs, kept as their 16
	// bytes, which hash and compare without reaching for a string. byID holds any other.
	byUUID map[[16]byte]*Request
	byID   map[string]*Request
	recs   map[shardKey]*shardLog
}

// DefaultSize is the number of requests an index keeps by default.
const DefaultSize = 10000

// HopsPerRequest is what the hop budget allows a request on average: a PutRecords of 500
// records is 500 hops, and traces of many such requests would hold far more memory than
// their number suggests.
const HopsPerRequest = 10

// minBudget is the fewest hops an index may hold, so that however small it is, the trace of
// the largest request (a PutRecords or PutRecordBatch of 500 records, each delivered) fits.
const minBudget = 1024

// New returns an index of the size most recent requests (DefaultSize if size <= 0), holding
// at most HopsPerRequest*size hops (and no fewer than a thousand).
func New(size int) *Index {
	if size <= 0 {
		size = DefaultSize
	}
	return &Index{size: size, budget: max(HopsPerRequest*size, minBudget),
		byUUID: map[[16]byte]*Request{}, byID: map[string]*Request{}, recs: map[shardKey]*shardLog{}}
}

// Size is the number of requests the index keeps.
func (x *Index) Size() int { return x.size }

// Begin starts the trace of a request. Every Request begun must be Published (or Discarded),
// or the records it put stay indexed.
func (x *Index) Begin() *Request { return &Request{x: x} }

// Put records hops of the request, and the records they are of, by which a later delivery
// finds the request: in any order, and recs may be shorter than hops (hops of no record),
// but a shard's records in increasing positions and together cost the least.
func (r *Request) Put(hops []Hop, recs []Record) { r.add(hops, recs, false) }

// PutMany is Put for many hops at once (a PutRecords), which keeps hops instead of a copy:
// the caller does not use it again.
func (r *Request) PutMany(hops []Hop, recs []Record) { r.add(hops, recs, true) }

// add is Put, keeping hops itself when keep is set and the request has none yet.
func (r *Request) add(hops []Hop, recs []Record, keep bool) {
	if r == nil || len(hops) == 0 {
		return
	}
	x := r.x
	x.mu.Lock()
	defer x.mu.Unlock()
	if r.dropped {
		return
	}
	switch {
	case r.hops == nil && keep:
		r.hops = hops[:len(hops):len(hops)]
	case r.hops == nil && len(hops) == 1:
		// The one hop of a PutRecord lives in the Request: no allocation.
		r.one[0] = hops[0]
		r.hops = r.one[:1:1]
	default:
		r.hops = append(r.hops, hops...)
	}
	r.putLocked(len(hops), recs)
}

// putLocked counts the n hops just added and indexes recs.
func (r *Request) putLocked(n int, recs []Record) {
	x := r.x
	r.put.Store(true)
	x.hops += n
	for len(recs) > 0 {
		k := shardKey{recs[0].Stream, recs[0].Shard}
		n := 1
		for n < len(recs) && recs[n].Shard == k.shard && recs[n].Stream == k.stream && recs[n].Position > recs[n-1].Position {
			n++
		}
		l := x.recs[k]
		if l == nil {
			l = &shardLog{key: k}
			x.recs[k] = l
		}
		if r.logs == nil {
			r.oneLog[0] = l
			r.logs = r.oneLog[:1:1]
		} else if !slices.Contains(r.logs, l) {
			r.logs = append(r.logs, l)
		}
		l.addRun(recs[:n], r)
		recs = recs[n:]
	}
	x.evictLocked()
}

// Empty reports whether the request has put nothing.
func (r *Request) Empty() bool {
	return r == nil || !r.put.Load()
}

// Publish makes the request findable under id, with first (when not nil) as its first hop.
// An empty id discards it.
func (r *Request) Publish(id string, first *Hop) {
	if r == nil {
		return
	}
	x := r.x
	x.mu.Lock()
	defer x.mu.Unlock()
	if r.published {
		return
	}
	if id == "" {
		x.dropLocked(r)
		return
	}
	if first != nil {
		r.hops = append([]Hop{*first}, r.hops...)
		x.hops++
	}
	r.published = true
	// Should an id that is not a UUID come twice, the newer request wins, and dropping the
	// older leaves it in place (see dropLocked). A UUID is kept as its bytes only: the
	// string would be one more object per request for the garbage collector to trace.
	if r.uuid, r.isUUID = parseUUID(id); r.isUUID {
		x.byUUID[r.uuid] = r
	} else {
		r.id = id
		x.byID[id] = r
	}
	if x.count == x.size {
		x.evictOldestLocked()
	}
	if len(x.ring) < x.size {
		// Not yet full size: the requests held are ring[head:], so the next goes at the end.
		x.ring = append(x.ring, r)
	} else {
		x.ring[(x.head+x.count)%x.size] = r
	}
	x.count++
	x.evictLocked()
}

// Discard forgets a request that will not be published.
func (r *Request) Discard() { r.Publish("", nil) }

// evictLocked drops the oldest published requests while the index holds more than it may.
func (x *Index) evictLocked() {
	for x.count > 0 && x.hops > x.budget {
		x.evictOldestLocked()
	}
}

func (x *Index) evictOldestLocked() {
	r := x.ring[x.head]
	x.ring[x.head] = nil
	x.head = (x.head + 1) % x.size
	x.count--
	x.dropLocked(r)
}

// dropLocked removes r and its records from the index.
func (x *Index) dropLocked(r *Request) {
	switch {
	case r.isUUID:
		// Random UUIDs do not come twice; not looking first saves a lookup per put.
		delete(x.byUUID, r.uuid)
	case r.id != "" && x.byID[r.id] == r:
		delete(x.byID, r.id)
	}
	x.hops -= r.cost()
	r.published, r.dropped = true, true // nothing more is recorded for it
	for _, l := range r.logs {
		l.trim()
		if len(l.pos) == 0 && x.recs[l.key] == l {
			delete(x.recs, l.key)
		}
	}
	r.hops, r.delivered, r.logs = nil, nil, nil
}

// Delivered records that the records at positions first to last (inclusive) of a source
// shard went into the objects hops name, against every request that put one of them.
func (x *Index) Delivered(stream string, shard int, first, last uint64, hops []Hop) {
	if x == nil || len(hops) == 0 || last < first {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	l := x.recs[shardKey{stream, shard}]
	if l == nil {
		return
	}
	var seen *Request // records of one request are mostly adjacent
	i, _ := slices.BinarySearch(l.pos, first)
	for ; i < len(l.pos) && l.pos[i] <= last; i++ {
		r := l.reqs[i]
		if r == seen || r.dropped {
			continue
		}
		seen = r
		for _, h := range hops {
			if !containsHop(r.delivered, h) {
				r.delivered = append(r.delivered, h)
				x.hops++
			}
		}
	}
	x.evictLocked()
}

func containsHop(hops []Hop, h Hop) bool {
	for _, g := range hops {
		if g == h {
			return true
		}
	}
	return false
}

// Get returns the hops of the request published under id: its own, then its deliveries.
func (x *Index) Get(id string) ([]Hop, bool) {
	x.mu.Lock()
	var r *Request
	if u, ok := parseUUID(id); ok {
		r = x.byUUID[u]
	} else {
		r = x.byID[id]
	}
	if r == nil {
		x.mu.Unlock()
		return nil, false
	}
	out := make([]Hop, 0, r.cost())
	out = append(append(out, r.hops...), r.delivered...)
	x.mu.Unlock()
	for i, h := range out {
		if h.kind == kindKinesisNumber {
			shardID, seq := x.KinesisNames(h.number)
			out[i] = KinesisHop(h.a, shardID, seq)
		}
	}
	return out, true
}

// Clear forgets every request. Requests begun before and published after are kept.
func (x *Index) Clear() {
	if x == nil {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	for x.count > 0 {
		x.evictOldestLocked()
	}
}

// Len is the number of requests the index holds.
func (x *Index) Len() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.count
}

// parseUUID reads a UUID in its 36-character form, either case of hex digits alike (an id
// typed in upper case finds its trace).
func parseUUID(s string) (u [16]byte, ok bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, false
	}
	j := 0
	for i := 0; i < 36; {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			i++
			continue
		}
		hi, ok1 := unhex(s[i])
		lo, ok2 := unhex(s[i+1])
		if !ok1 || !ok2 {
			return u, false
		}
		u[j] = hi<<4 | lo
		j, i = j+1, i+2
	}
	return u, true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
