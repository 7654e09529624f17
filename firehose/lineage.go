package firehose

// Shard lineage: a Kinesis stream's shards split and merge. A closed shard's reader delivers
// the shard to its end and then stops; a child's reader starts only once every parent's has
// stopped, so one partition key's records reach S3 in order, each once. Both rest on the
// checkpoints: a parent is finished when its checkpoint is at its end and nothing is
// buffered, which a restart finds again.

// Lineage is implemented by sources whose shards split and merge (Kinesis streams).
type Lineage interface {
	// ShardEnd reports whether a shard is closed and, if so, the position after its last
	// record.
	ShardEnd(stream string, shard int) (closed bool, end uint64, err error)
	// Parents returns the shards a shard was split or merged from (none for a shard the
	// stream was created with).
	Parents(stream string, shard int) ([]int, error)
}

// finishedCh is closed when shard's reader has delivered all of the closed shard.
func (d *delivery) finishedCh(shard int) chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.finished == nil {
		d.finished = map[int]chan struct{}{}
	}
	ch, ok := d.finished[shard]
	if !ok {
		ch = make(chan struct{})
		d.finished[shard] = ch
	}
	return ch
}

// reader returns the i-th reader, or nil past the last; readers are added as shards appear.
func (d *delivery) reader(i int) *reader {
	d.mu.Lock()
	defer d.mu.Unlock()
	if i < len(d.readers) {
		return d.readers[i]
	}
	return nil
}

// grow starts readers for shards the source gained since the delivery stream started (the
// children of a reshard), unless the delivery stream is stopping.
func (d *delivery) grow(stream string) {
	n, err := d.e.src.Shards(stream)
	if err != nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	select {
	case <-d.stop:
		return
	default:
	}
	for s := len(d.readers); s < n; s++ {
		d.startReaderLocked(s)
	}
}

// startReaderLocked starts the reader of shard s. Callers hold d.mu, or own d alone.
func (d *delivery) startReaderLocked(s int) {
	r := &reader{d: d, shard: s, flush: make(chan chan flushResult)}
	d.readers = append(d.readers, r)
	d.e.wg.Add(1)
	go func() {
		defer d.e.wg.Done()
		r.run()
	}()
}

// ended reports whether the reader has delivered all of a closed shard: nothing buffered,
// and its position at the shard's end.
func (r *reader) ended(stream string, pos uint64, buf *batch) bool {
	lin, ok := r.d.e.src.(Lineage)
	if !ok || !buf.empty() || buf.Spec != nil {
		return false
	}
	closed, end, err := lin.ShardEnd(stream, r.shard)
	return err == nil && closed && pos >= end
}

// finish marks the reader's closed shard delivered, which lets its children start, and starts
// readers for them.
func (r *reader) finish(stream string) {
	close(r.d.finishedCh(r.shard))
	r.d.grow(stream)
}
