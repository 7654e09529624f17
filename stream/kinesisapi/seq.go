package kinesisapi

import (
	"fmt"
	"math/big"
	"strconv"
	"time"
)

// Sequence numbers follow the structure real ones have (see aws-semantics.md B.6), as the
// hex digits
//
//	2 | shard created, unix s (9) | shard index & 0xf (1) | position (16) | 00 | arrival, unix s (9) | shard index (8) | 2
//
// read as one decimal number: 56 digits for any date this century, ordered by position
// within a shard, and decodable back to (shard, position) without a lookup.
const seqHexLen = 47

type seqParts struct {
	shardCreated int64 // unix seconds
	shard        int
	position     uint64
	arrival      int64 // unix seconds
}

func encodeSeq(p seqParts) string {
	h := fmt.Sprintf("2%09x%01x%016x00%09x%08x2", p.shardCreated, p.shard&0xf, p.position, p.arrival, p.shard)
	n, _ := new(big.Int).SetString(h, 16)
	return n.String()
}

// decodeSeq reverses encodeSeq; ok is false for anything encodeSeq could not have produced.
func decodeSeq(s string) (p seqParts, ok bool) {
	if len(s) < 50 || len(s) > 60 || s[0] == '0' {
		return p, false
	}
	n, good := new(big.Int).SetString(s, 10)
	if !good {
		return p, false
	}
	h := n.Text(16)
	if len(h) != seqHexLen || h[0] != '2' || h[seqHexLen-1] != '2' || h[27:29] != "00" {
		return p, false
	}
	created, err1 := strconv.ParseInt(h[1:10], 16, 64)
	nib, err2 := strconv.ParseUint(h[10:11], 16, 8)
	pos, err3 := strconv.ParseUint(h[11:27], 16, 64)
	arr, err4 := strconv.ParseInt(h[29:38], 16, 64)
	shard, err5 := strconv.ParseUint(h[38:46], 16, 32)
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil || err5 != nil || nib != shard&0xf || shard > 1<<30 {
		return p, false
	}
	return seqParts{shardCreated: created, shard: int(shard), position: pos, arrival: arr}, true
}

func seqFor(shardCreated time.Time, shard int, position uint64, arrival time.Time) string {
	return encodeSeq(seqParts{shardCreated: shardCreated.Unix(), shard: shard, position: position, arrival: arrival.Unix()})
}
