package stream

import "time"

// Routing is a stream's open shards as put routes records to them, built once each time
// the shard map changes (creation, a reshard, start-up) so a put neither parses hash keys
// nor copies the stream's description. It is never modified once built: a caller may keep
// and read it without a lock, and a reshard replaces it.
type Routing struct {
	open []route
}

type route struct {
	index      int
	start, end HashKey
	created    time.Time
}

// NewRouting is the routing of the open shards among shards.
func NewRouting(shards []ShardInfo) *Routing {
	r := &Routing{}
	for _, sh := range shards {
		if !sh.Closed {
			r.open = append(r.open, route{index: sh.Index, start: sh.StartKey, end: sh.EndKey, created: sh.Created})
		}
	}
	return r
}

// routingOf parses the hash ranges of the open shards of a shard map that metadata holds.
func routingOf(shards []shardMeta) *Routing {
	r := &Routing{}
	for _, sh := range shards {
		if sh.ClosedAt == 0 {
			start, end := sh.keys()
			r.open = append(r.open, route{index: sh.Index, start: start, end: end, created: time.Unix(0, sh.Created)})
		}
	}
	return r
}

// ShardFor returns the index of the open shard whose range holds h.
func (r *Routing) ShardFor(h HashKey) int {
	if r == nil {
		return 0
	}
	return routeFor(r.open, h).index
}

// noRoute stands for a map without open shards, which only damaged metadata can produce.
var noRoute = route{}

// routeFor returns the open shard whose range holds h, or the last open shard if none does
// (a map with a gap is damaged metadata; the record still has to go somewhere).
func routeFor(routes []route, h HashKey) *route {
	last := &noRoute
	for i := range routes {
		rt := &routes[i]
		if h.Cmp(rt.start) >= 0 && h.Cmp(rt.end) <= 0 {
			return rt
		}
		last = rt
	}
	return last
}

// PutTarget is what the wire layer needs of a stream before a put.
type PutTarget struct {
	Name             string
	Created          time.Time // the stream's identity, as in StreamInfo
	Hidden           bool
	MaxRecordSizeKiB int
	Routing          *Routing
}

// PutTarget describes a stream for a put without copying its whole description.
func (e *Engine) PutTarget(name string) (PutTarget, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	st, ok := e.streams[name]
	if !ok {
		return PutTarget{}, ErrStreamNotFound
	}
	m := &st.meta
	return PutTarget{
		Name: m.Name, Created: time.Unix(0, m.Created), Hidden: m.Hidden,
		MaxRecordSizeKiB: m.MaxRecordSizeKiB, Routing: st.routing,
	}, nil
}
