package kinesisapi

import (
	"math/bits"
	"strconv"
	"time"
)

// Sequence numbers follow the structure real ones have (aws-semantics.md B.6), as the hex
// digits
//
//	2 | shard created, unix s (9) | shard index & 0xf (1) | position (16) | 00 | arrival, unix s (9) | shard index (8) | 2
//
// read as one decimal number. That is 47 hex digits starting with 2, so always 56 decimal
// digits; numbers of one shard order by position, both as numbers and as strings; and a
// number decodes back to (shard, position) without a lookup. The arithmetic is done on three
// 64-bit limbs because math/big would cost more than the rest of a PutRecord's encoding.
const seqDigits = 56

type seqParts struct {
	shardCreated int64 // unix seconds
	shard        int
	position     uint64
	arrival      int64 // unix seconds
}

// u192 is an unsigned 192-bit integer, least significant limb first.
type u192 [3]uint64

// Bit offsets of the fields, from the least significant end.
const (
	offShard    = 4   // 8 hex digits
	offArrival  = 36  // 9 hex digits
	offZero     = 72  // 2 hex digits
	offPosition = 80  // 16 hex digits
	offNibble   = 144 // 1 hex digit
	offCreated  = 148 // 9 hex digits
	offLead     = 184 // the leading 2
)

// field reads n ≤ 64 bits at offset off.
func (v *u192) field(off, n uint) uint64 {
	i, s := off/64, off%64
	x := v[i] >> s
	if s != 0 && i+1 < 3 {
		x |= v[i+1] << (64 - s)
	}
	if n < 64 {
		x &= 1<<n - 1
	}
	return x
}

// set ORs x (at most n ≤ 64 bits) in at offset off.
func (v *u192) set(off, n uint, x uint64) {
	if n < 64 {
		x &= 1<<n - 1
	}
	i, s := off/64, off%64
	v[i] |= x << s
	if s != 0 && i+1 < 3 {
		v[i+1] |= x >> (64 - s)
	}
}

const mask36 = 1<<36 - 1

func encodeSeq(p seqParts) string { return string(appendSeq(make([]byte, 0, seqDigits), p)) }

// appendSeq appends encodeSeq(p), so a response can take the number without a string.
func appendSeq(b []byte, p seqParts) []byte { return p.number().appendDecimal(b) }

// number is the sequence number's value.
func (p seqParts) number() u192 {
	var v u192
	v.set(0, 4, 2)
	v.set(offShard, 32, uint64(p.shard))
	v.set(offArrival, 36, uint64(p.arrival)&mask36)
	v.set(offPosition, 64, p.position)
	v.set(offNibble, 4, uint64(p.shard)&0xf)
	v.set(offCreated, 36, uint64(p.shardCreated)&mask36)
	v.set(offLead, 4, 2)
	return v
}

// appendDecimal appends v in base 10, three base-10^19 chunks at a time.
func (v u192) appendDecimal(b []byte) []byte {
	const chunk = 10_000_000_000_000_000_000 // 10^19
	var parts [3]uint64
	for k := 0; k < 3; k++ {
		var r uint64
		for i := 2; i >= 0; i-- {
			v[i], r = bits.Div64(r, v[i], chunk)
		}
		parts[k] = r
	}
	b = strconv.AppendUint(b, parts[2], 10)
	for _, p := range []uint64{parts[1], parts[0]} {
		var tmp [19]byte
		s := strconv.AppendUint(tmp[:0], p, 10)
		for i := len(s); i < 19; i++ {
			b = append(b, '0')
		}
		b = append(b, s...)
	}
	return b
}

// decodeSeq reverses encodeSeq; ok is false for anything encodeSeq could not have produced.
func decodeSeq(s string) (p seqParts, ok bool) {
	if len(s) != seqDigits || s[0] == '0' {
		return p, false
	}
	var v u192
	for i := 0; i < len(s); i++ {
		d := s[i] - '0'
		if d > 9 {
			return p, false
		}
		// v = v*10 + d; 56 digits cannot overflow 192 bits.
		var carry uint64 = uint64(d)
		for j := 0; j < 3; j++ {
			hi, lo := bits.Mul64(v[j], 10)
			var c uint64
			lo, c = bits.Add64(lo, carry, 0)
			v[j], carry = lo, hi+c
		}
	}
	if v.field(0, 4) != 2 || v.field(offZero, 8) != 0 || v.field(offLead, 8) != 2 {
		return p, false
	}
	shard := v.field(offShard, 32)
	if v.field(offNibble, 4) != shard&0xf || shard > 1<<31-1 {
		return p, false
	}
	return seqParts{
		shardCreated: int64(v.field(offCreated, 36)),
		shard:        int(shard),
		position:     v.field(offPosition, 64),
		arrival:      int64(v.field(offArrival, 36)),
	}, true
}

func seqFor(shardCreated time.Time, shard int, position uint64, arrival time.Time) string {
	return encodeSeq(seqPartsOf(shardCreated, shard, position, arrival))
}

func seqPartsOf(shardCreated time.Time, shard int, position uint64, arrival time.Time) seqParts {
	return seqParts{shardCreated: shardCreated.Unix(), shard: shard, position: position, arrival: arrival.Unix()}
}
