package kinesisapi

import "time"

// SequenceNumber is the sequence number GetRecords gives the record at position of a shard,
// for in-process readers (the web console) that show records next to what clients saw.
func SequenceNumber(shardCreated time.Time, shard int, position uint64, arrival time.Time) string {
	return seqFor(shardCreated, shard, position, arrival)
}
