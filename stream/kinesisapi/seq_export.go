package kinesisapi

import "time"

// SequenceNumber is the sequence number Kinesis gives the record at position of a shard
// (created at shardCreated) that arrived at arrival, for in-process readers that name records
// as clients saw them (Firehose's kinesisRecordMetadata, the web console).
func SequenceNumber(shardCreated time.Time, shard int, position uint64, arrival time.Time) string {
	return seqFor(shardCreated, shard, position, arrival)
}
