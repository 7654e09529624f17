package stream

import (
	"crypto/md5"
	"encoding/binary"
	"errors"
	"math/big"
	"math/bits"
)

// HashKey is an unsigned 128-bit hash key, the space Kinesis divides between shards.
type HashKey struct{ Hi, Lo uint64 }

// MaxHashKey is 2^128-1, the end of the last shard's range.
var MaxHashKey = HashKey{^uint64(0), ^uint64(0)}

var errBadHashKey = errors.New("hash key is not a decimal integer in [0, 2^128-1]")

// ParseHashKey reads a decimal hash key. Values of 2^128 and above are errors, because AWS
// rejects them rather than wrapping. It works in 128-bit arithmetic rather than math/big
// because an ExplicitHashKey is parsed on every put that carries one.
func ParseHashKey(s string) (HashKey, error) {
	if s == "" || len(s) > 39 {
		return HashKey{}, errBadHashKey
	}
	var h HashKey
	for i := 0; i < len(s); i++ {
		d := s[i] - '0'
		if d > 9 {
			return HashKey{}, errBadHashKey
		}
		// h = h*10 + d, refusing any carry out of the top 64 bits.
		carry, lo := bits.Mul64(h.Lo, 10)
		hiCarry, hi := bits.Mul64(h.Hi, 10)
		hi, c := bits.Add64(hi, carry, 0)
		if hiCarry != 0 || c != 0 {
			return HashKey{}, errBadHashKey
		}
		lo, c = bits.Add64(lo, uint64(d), 0)
		hi, c = bits.Add64(hi, 0, c)
		if c != 0 {
			return HashKey{}, errBadHashKey
		}
		h = HashKey{hi, lo}
	}
	return h, nil
}

// PartitionHash maps a partition key to its hash key the way Kinesis does: the MD5 of the
// key's UTF-8 bytes read as a big-endian unsigned integer.
func PartitionHash(partitionKey string) HashKey {
	sum := md5.Sum([]byte(partitionKey))
	return HashKey{binary.BigEndian.Uint64(sum[:8]), binary.BigEndian.Uint64(sum[8:])}
}

// Cmp returns -1, 0 or +1 as h is less than, equal to or greater than o.
func (h HashKey) Cmp(o HashKey) int {
	switch {
	case h.Hi < o.Hi:
		return -1
	case h.Hi > o.Hi:
		return 1
	case h.Lo < o.Lo:
		return -1
	case h.Lo > o.Lo:
		return 1
	}
	return 0
}

func (h HashKey) String() string { return h.big().String() }

func (h HashKey) big() *big.Int {
	n := new(big.Int).SetUint64(h.Hi)
	n.Lsh(n, 64)
	return n.Or(n, new(big.Int).SetUint64(h.Lo))
}

func fromBig(n *big.Int) HashKey {
	lo := new(big.Int).And(n, new(big.Int).SetUint64(^uint64(0)))
	hi := new(big.Int).Rsh(n, 64)
	return HashKey{hi.Uint64(), lo.Uint64()}
}

// SplitHashRange divides [0, 2^128-1] into n ranges as AWS does for a new stream: each range
// is floor(2^128/n) wide and the last one absorbs the remainder.
func SplitHashRange(n int) [][2]HashKey {
	space := new(big.Int).Lsh(big.NewInt(1), 128)
	width := new(big.Int).Div(space, big.NewInt(int64(n)))
	out := make([][2]HashKey, n)
	for i := 0; i < n; i++ {
		start := new(big.Int).Mul(width, big.NewInt(int64(i)))
		end := new(big.Int).Add(start, width)
		end.Sub(end, big.NewInt(1))
		out[i][0] = fromBig(start)
		if i == n-1 {
			out[i][1] = MaxHashKey
		} else {
			out[i][1] = fromBig(end)
		}
	}
	return out
}
