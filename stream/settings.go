package stream

// UpdateWarmThroughput records the warm throughput asked of an ACTIVE stream. Capacity is
// not a thing localpipe has, so the stream never leaves ACTIVE and the value only shows in
// its description.
func (e *Engine) UpdateWarmThroughput(name string, mibps int) error {
	return e.update(name, func(m *streamMeta) error {
		if s := e.status(m); s != StatusActive {
			return &NotActiveError{Name: name, Status: s}
		}
		m.WarmThroughputMiBps = mibps
		return nil
	})
}

// DistributionAuto is the record distribution strategy under which Put spreads records evenly
// over the open shards whatever their keys; the other, USER_PARTITION_KEY, is the default.
const DistributionAuto = "AUTO"

// UpdateRecordDistribution records an ACTIVE stream's record distribution strategy (AUTO or
// USER_PARTITION_KEY), which its description shows and Put follows.
func (e *Engine) UpdateRecordDistribution(name, strategy string) error {
	return e.update(name, func(m *streamMeta) error {
		if s := e.status(m); s != StatusActive {
			return &NotActiveError{Name: name, Status: s}
		}
		m.RecordDistribution = strategy
		return nil
	})
}
