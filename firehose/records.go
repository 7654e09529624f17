package firehose

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
)

// kplMagic starts every record the Kinesis Producer Library aggregates; a protobuf
// AggregatedRecord and the MD5 of that protobuf follow.
var kplMagic = []byte{0xF3, 0x89, 0x9A, 0xC2}

// deaggregateKPL splits a KPL-aggregated record into its user records. ok is false when data
// is not a well-formed aggregate (no magic, bad MD5, bad protobuf): like the KCL, the record is
// then delivered as it is. The user records alias data.
//
// The protobuf is small enough to decode by hand:
//
//	AggregatedRecord { repeated string partition_key_table = 1; repeated string explicit_hash_key_table = 2; repeated Record records = 3; }
//	Record { required uint64 partition_key_index = 1; optional uint64 explicit_hash_key_index = 2; required bytes data = 3; repeated Tag tags = 4; }
func deaggregateKPL(data []byte) (records [][]byte, ok bool) {
	if len(data) < len(kplMagic)+md5.Size || !bytes.HasPrefix(data, kplMagic) {
		return nil, false
	}
	body := data[len(kplMagic) : len(data)-md5.Size]
	sum := md5.Sum(body)
	if !bytes.Equal(sum[:], data[len(data)-md5.Size:]) {
		return nil, false
	}
	var keys, hashKeys int
	var recs [][]byte
	var pkIdx, ehkIdx []uint64
	err := protoFields(body, func(field int, wire int, v uint64, b []byte) error {
		switch field {
		case 1:
			if wire != 2 {
				return errBadProto
			}
			keys++
		case 2:
			if wire != 2 {
				return errBadProto
			}
			hashKeys++
		case 3:
			if wire != 2 {
				return errBadProto
			}
			var data []byte
			var pk, ehk uint64
			havePK, haveData, haveEHK := false, false, false
			if err := protoFields(b, func(field int, wire int, v uint64, b []byte) error {
				switch field {
				case 1:
					if wire != 0 {
						return errBadProto
					}
					pk, havePK = v, true
				case 2:
					if wire != 0 {
						return errBadProto
					}
					ehk, haveEHK = v, true
				case 3:
					if wire != 2 {
						return errBadProto
					}
					data, haveData = b, true
				}
				return nil
			}); err != nil {
				return err
			}
			if !havePK || !haveData {
				return errBadProto
			}
			recs = append(recs, data)
			pkIdx = append(pkIdx, pk)
			if haveEHK {
				ehkIdx = append(ehkIdx, ehk)
			}
		}
		return nil
	})
	if err != nil {
		return nil, false
	}
	for _, i := range pkIdx {
		if i >= uint64(keys) {
			return nil, false
		}
	}
	for _, i := range ehkIdx {
		if i >= uint64(hashKeys) {
			return nil, false
		}
	}
	return recs, true
}

var errBadProto = errors.New("malformed protobuf")

// protoFields walks the fields of one protobuf message, calling fn with the varint value
// (wire type 0) or the bytes (wire type 2); fixed-width fields are skipped.
func protoFields(b []byte, fn func(field, wire int, v uint64, b []byte) error) error {
	for len(b) > 0 {
		key, n := uvarint(b)
		if n <= 0 {
			return errBadProto
		}
		b = b[n:]
		field, wire := int(key>>3), int(key&7)
		if field == 0 {
			return errBadProto
		}
		switch wire {
		case 0:
			v, n := uvarint(b)
			if n <= 0 {
				return errBadProto
			}
			b = b[n:]
			if err := fn(field, wire, v, nil); err != nil {
				return err
			}
		case 1:
			if len(b) < 8 {
				return errBadProto
			}
			b = b[8:]
		case 2:
			l, n := uvarint(b)
			if n <= 0 || l > uint64(len(b)-n) {
				return errBadProto
			}
			v := b[n : n+int(l)]
			b = b[n+int(l):]
			if err := fn(field, wire, 0, v); err != nil {
				return err
			}
		case 5:
			if len(b) < 4 {
				return errBadProto
			}
			b = b[4:]
		default:
			return errBadProto
		}
	}
	return nil
}

// uvarint decodes a protobuf varint; n is 0 when b ends early and negative on overflow.
func uvarint(b []byte) (uint64, int) {
	var x uint64
	for i := 0; i < len(b) && i < 10; i++ {
		c := b[i]
		if i == 9 && c > 1 {
			return 0, -1
		}
		x |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return x, i + 1
		}
	}
	if len(b) >= 10 {
		return 0, -1
	}
	return 0, 0
}

// maxSubRecords is how many records RecordDeAggregation takes out of one record; a record
// holding more is passed on whole (reported by users who hit it behind MetadataExtraction).
const maxSubRecords = 500

// splitJSON splits a record holding concatenated JSON values ({"a":1}{"a":2}, with or without
// whitespace between) into those values, as the RecordDeAggregation processor's JSON type
// does. ok is false when the record is not a run of valid JSON values; it is then kept whole.
func splitJSON(data []byte) (out [][]byte, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if err != nil {
			if err == io.EOF && len(out) > 0 {
				return out, true
			}
			return nil, false
		}
		if len(out) == maxSubRecords {
			return nil, false
		}
		// RawMessage copies; slice the original instead so sub-records alias the log's bytes.
		end := int(dec.InputOffset())
		out = append(out, data[end-len(raw):end])
	}
}

// splitDelimited splits a record on delim, dropping empty pieces, as the RecordDeAggregation
// processor's DELIMITED type does.
func splitDelimited(data, delim []byte) (out [][]byte, ok bool) {
	if len(delim) == 0 {
		return nil, false
	}
	for len(data) > 0 {
		i := bytes.Index(data, delim)
		piece := data
		if i >= 0 {
			piece, data = data[:i], data[i+len(delim):]
		} else {
			data = nil
		}
		if len(piece) > 0 {
			if len(out) == maxSubRecords {
				return nil, false
			}
			out = append(out, piece)
		}
	}
	return out, len(out) > 0
}

// subDelimiter is the DELIMITED type's delimiter. The API takes it base64-encoded ("this
// custom delimiter must be a base-64 encoded string", dynamic-partitioning guide: #### is
// IyMjIw==); a value that is not base64 is taken literally so a config file may say ####.
func subDelimiter(v string) []byte {
	if b, err := base64.StdEncoding.DecodeString(v); err == nil && len(b) > 0 {
		return b
	}
	return []byte(v)
}

// splitter turns a source record into the records Firehose delivers: KPL aggregates from a
// Kinesis source are de-aggregated, then the RecordDeAggregation processor applies.
type splitter struct {
	kpl     bool
	subType string
	delim   []byte
	buf     [][]byte
}

func newSplitter(kinesis bool, sp *spec) *splitter {
	s := &splitter{kpl: kinesis, subType: sp.SubRecordType}
	if s.subType == "DELIMITED" {
		s.delim = subDelimiter(sp.SubRecordDelimiter)
	}
	return s
}

// split returns data's records; the slice is reused by the next call.
func (s *splitter) split(data []byte) [][]byte {
	s.buf = s.buf[:0]
	recs := [][]byte{data}
	if s.kpl {
		if r, ok := deaggregateKPL(data); ok {
			recs = r
		}
	}
	for _, r := range recs {
		switch s.subType {
		case "JSON":
			if parts, ok := splitJSON(r); ok {
				s.buf = append(s.buf, parts...)
				continue
			}
		case "DELIMITED":
			if parts, ok := splitDelimited(r, s.delim); ok {
				s.buf = append(s.buf, parts...)
				continue
			}
		}
		s.buf = append(s.buf, r)
	}
	return s.buf
}
