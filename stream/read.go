package stream

import "time"

// RecordFunc receives one record of a read. key and data alias the engine's read buffer:
// they are valid only until fn returns.
type RecordFunc func(pos uint64, arrivalMs int64, key, data []byte)

// ReadFunc reads as Read does but hands each record to fn instead of collecting copies,
// so a caller that encodes the records (GetRecords) touches each record's bytes once.
// fn runs while the shard is locked for reading: it must not call the engine. The
// result's Records is nil.
func (e *Engine) ReadFunc(name string, shard int, from uint64, maxRecords, maxBytes int, fn RecordFunc) (ReadResult, error) {
	st, l, err := e.shard(name, shard)
	if err != nil {
		return ReadResult{}, err
	}
	return l.readFunc(from, maxRecords, maxBytes, e.cutoff(st), fn)
}

// ReadTarget is what a reader of one shard needs of its stream.
type ReadTarget struct {
	Name    string
	Created time.Time // the stream's identity, as in StreamInfo
	Hidden  bool
	Shards  int // how many shards the stream has; the fields below are zero if the shard is not one of them
	// ShardCreated is the shard's creation, which its sequence numbers carry.
	ShardCreated time.Time
	// Closed shards take no more records; their log ends at End (exclusive).
	Closed bool
	End    uint64
	// Tip is the position the shard's next record will get, as the target was taken.
	Tip uint64
}

// ReadTarget describes a stream and one of its shards for a read, without copying the
// stream's whole description as Describe does.
func (e *Engine) ReadTarget(name string, shard int) (ReadTarget, error) {
	t, l, err := e.readTarget(name, shard)
	if l != nil {
		_, t.Tip = l.bounds()
	}
	return t, err
}

func (e *Engine) readTarget(name string, shard int) (ReadTarget, *shardLog, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	st, ok := e.streams[name]
	if !ok {
		return ReadTarget{}, nil, ErrStreamNotFound
	}
	m := &st.meta
	t := ReadTarget{Name: m.Name, Created: time.Unix(0, m.Created), Hidden: m.Hidden, Shards: len(m.Shards)}
	if shard < 0 || shard >= len(m.Shards) || shard >= len(st.shards) {
		return t, nil, nil
	}
	sh := &m.Shards[shard]
	t.ShardCreated = time.Unix(0, sh.Created)
	if sh.ClosedAt != 0 {
		t.Closed, t.End = true, sh.Tip
	}
	return t, st.shards[shard], nil
}
