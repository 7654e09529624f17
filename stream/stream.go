// Package stream is the storage engine behind localpipe's Kinesis Data Streams: named streams
// split into shards, each shard an append-only log of CRC-framed segment files with a sparse
// index, recovered on open by cutting a torn tail. Readers step over damaged frames to the
// next intact one, so damage costs only the records it touched. It knows nothing of HTTP or
// of Kinesis's wire format; stream/kinesisapi translates between the two.
package stream

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Stream modes and statuses, spelled as Kinesis spells them so the wire layer can pass them
// through unchanged.
const (
	ModeProvisioned = "PROVISIONED"
	ModeOnDemand    = "ON_DEMAND"

	StatusCreating = "CREATING"
	StatusActive   = "ACTIVE"
	StatusDeleting = "DELETING"
	StatusUpdating = "UPDATING"
)

// Defaults and bounds the engine applies when a caller leaves a field zero.
const (
	DefaultRetentionHours   = 24
	DefaultMaxRecordSizeKiB = 1024
	OnDemandShardCount      = 4
)

// Sentinel errors. Typed errors below wrap them so callers can use errors.Is.
var (
	ErrStreamNotFound = errors.New("stream not found")
	ErrStreamExists   = errors.New("stream already exists")
	ErrNotActive      = errors.New("stream not active")
	ErrShardNotFound  = errors.New("shard not found")
	ErrClosed         = errors.New("stream engine closed")
	// Resharding's refusals; the wire layer words them as AWS does.
	ErrShardClosed    = errors.New("shard already merged or split")
	ErrHashKeyOutside = errors.New("new starting hash key not inside the shard")
	ErrNotAdjacent    = errors.New("shards not adjacent")
	ErrScalingRate    = errors.New("too many scaling operations in 24 hours")
	ErrModeUnchanged  = errors.New("stream already in that mode")
	ErrNotProvisioned = errors.New("stream not provisioned")
	errSealed         = errors.New("shard sealed")
)

// Scaling limits of UpdateShardCount, as AWS documents them.
const (
	ScalingsPerDay = 10
)

// NotActiveError reports the state a stream is in when an operation needs ACTIVE.
type NotActiveError struct {
	Name   string
	Status string
}

func (e *NotActiveError) Error() string {
	return fmt.Sprintf("stream %s not ACTIVE, instead in state %s", e.Name, e.Status)
}
func (e *NotActiveError) Unwrap() error { return ErrNotActive }

// FsyncPolicy decides when appended bytes are fsynced. A record is acknowledged once written
// to the file (so a killed process loses nothing); fsync only adds power-loss durability.
type FsyncPolicy struct {
	Always   bool          // fsync every group-commit batch before acknowledging it
	Interval time.Duration // otherwise fsync dirty shards this often (0 means 1s)
}

// Options configure Open. Zero values mean the defaults named on each field.
type Options struct {
	Dir                string        // root of the shard logs, e.g. <data-dir>/kinesis
	LostFound          string        // where logs no stream owns go (<data-dir>/lost+found/kinesis)
	DB                 *bolt.DB      // metadata; owned by the caller, shared with other engines
	Fsync              FsyncPolicy   //
	SegmentMaxBytes    int64         // roll a segment after this many bytes (64 MiB)
	SegmentMaxAge      time.Duration // roll a segment whose first record is older (1h)
	IndexIntervalBytes int           // one sparse-index entry per this many bytes (4 KiB)
	CreateDelay        time.Duration // time a new stream stays CREATING (0: ACTIVE at once)
	RetentionInterval  time.Duration // how often expired segments are deleted (1 min)
	Now                func() time.Time
	Logger             *slog.Logger

	// Set by tests only: how much of the active segment's index recovery reads (see
	// readActiveIdx); zero for the defaults.
	eagerIdxEntries, tailIdxEntries int
}

// CreateInput is what CreateStream needs; the wire layer has validated it.
type CreateInput struct {
	Name             string
	ShardCount       int // 0 with ModeOnDemand gives OnDemandShardCount
	Mode             string
	Tags             map[string]string
	MaxRecordSizeKiB int
	// WarmThroughputMiBps is CreateStream's warm throughput; 0 means none asked for.
	WarmThroughputMiBps int
	// Hidden streams (Firehose's DirectPut buffers) are not listed by List.
	Hidden bool
}

// StreamInfo is a consistent snapshot of a stream's metadata.
type StreamInfo struct {
	Name             string
	Status           string
	Mode             string
	Created          time.Time // also the stream's identity: a re-created stream differs
	RetentionHours   int
	MaxRecordSizeKiB int
	EncryptionType   string
	Shards           []ShardInfo
	Tags             map[string]string
	Hidden           bool
	// ShardLevelMetrics are the enhanced-monitoring metrics enabled, in the model's order.
	ShardLevelMetrics []string
	ConsumerCount     int
	KeyID             string // the KMS key of a KMS-encrypted stream
	Policy            string // resource policy, "" for none
	// WarmThroughputMiBps is the warm throughput asked for (0: none); RecordDistributionStrategy
	// is "" until UpdateStreamRecordDistributionStrategy sets it.
	WarmThroughputMiBps        int
	RecordDistributionStrategy string
}

// ShardInfo describes one shard. Hash keys are inclusive bounds.
type ShardInfo struct {
	Index    int
	ID       string // shardId-000000000000
	StartKey HashKey
	EndKey   HashKey
	Created  time.Time
	// Parents are the shards this one was split or merged from: ParentShardId, then a
	// merge's AdjacentParentShardId. Nil for a shard the stream was created with.
	Parents []int
	// Closed shards take no more records; their log ends at End (exclusive).
	Closed   bool
	ClosedAt time.Time
	End      uint64
	// Children are the shards split or merged from this one, once it is closed.
	Children []int
}

// PutEntry is one record to append. ExplicitHashKey, when set, replaces the MD5 of
// PartitionKey for choosing the shard.
type PutEntry struct {
	PartitionKey    string
	ExplicitHashKey *HashKey
	Data            []byte
}

// PutResult says where a record landed.
type PutResult struct {
	Shard        int
	ShardCreated time.Time // the shard's creation, which its sequence numbers carry
	Position     uint64    // strictly increasing per shard, starting at 0, never reused
	Arrival      time.Time
}

// Record is a record read back from a shard.
type Record struct {
	Position     uint64
	Arrival      time.Time // millisecond precision, non-decreasing per shard
	PartitionKey string
	Data         []byte
}

// ReadResult is one read from a shard.
type ReadResult struct {
	Records []Record
	Next    uint64 // position to read from next
	Tip     uint64 // position the next appended record will get
}

// ShardBounds is the readable range of a shard: [First, Tip).
type ShardBounds struct {
	First uint64 // first retained position (records before it are gone)
	Tip   uint64
}

// ShardDamage counts the damage found in one shard's log (see Engine.Damage).
type ShardDamage struct {
	Stream  string
	Shard   int
	Regions int64 // runs of damaged bytes stepped over
	Records int64 // positions lost in them
	Bytes   int64 // bytes skipped
}
