package app

import (
	"fmt"
	"net/url"
	"strconv"
	"unicode/utf8"
)

// Bounds on what one console page asks for: enough to look at, small enough that a page
// never holds much of a shard or a bucket in memory.
const (
	consoleDefaultLimit = 50
	consoleMaxLimit     = 1000
	consoleMaxKeyLen    = 1024 // S3's key length limit
)

// recordQuery is GET …/api/streams/{name}/records's query: shard (index, default 0), from (a
// position; absent means the last limit records) and limit.
type recordQuery struct {
	Shard   int
	From    uint64
	HasFrom bool
	Limit   int
}

// objectQuery is GET …/api/buckets/{bucket}/objects's query: prefix, after (list keys past
// this one) and limit.
type objectQuery struct {
	Prefix string
	After  string
	Limit  int
}

// parseRecordQuery reads a record query, refusing what is not a plain number in range.
func parseRecordQuery(q url.Values) (recordQuery, error) {
	out := recordQuery{Limit: consoleDefaultLimit}
	if err := onlyParams(q, "shard", "from", "limit"); err != nil {
		return out, err
	}
	if v, ok := single(q, "shard"); ok {
		n, err := strconv.ParseUint(v, 10, 31)
		if err != nil {
			return out, fmt.Errorf("shard %q: want a shard index, 0 or more", v)
		}
		out.Shard = int(n)
	}
	if v, ok := single(q, "from"); ok {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return out, fmt.Errorf("from %q: want a record position, 0 or more", v)
		}
		out.From, out.HasFrom = n, true
	}
	var err error
	out.Limit, err = parseLimit(q)
	return out, err
}

// parseObjectQuery reads an object listing query.
func parseObjectQuery(q url.Values) (objectQuery, error) {
	out := objectQuery{Limit: consoleDefaultLimit}
	if err := onlyParams(q, "prefix", "after", "limit"); err != nil {
		return out, err
	}
	for _, p := range []struct {
		name string
		dst  *string
	}{{"prefix", &out.Prefix}, {"after", &out.After}} {
		v, _ := single(q, p.name)
		if len(v) > consoleMaxKeyLen || !utf8.ValidString(v) {
			return out, fmt.Errorf("%s: want UTF-8 of at most %d bytes, as S3 keys are", p.name, consoleMaxKeyLen)
		}
		*p.dst = v
	}
	var err error
	out.Limit, err = parseLimit(q)
	return out, err
}

// parseObjectKey reads the key query parameter the preview and download take.
func parseObjectKey(q url.Values) (string, error) {
	if err := onlyParams(q, "key"); err != nil {
		return "", err
	}
	v, ok := single(q, "key")
	if !ok || v == "" {
		return "", fmt.Errorf("key: missing")
	}
	if len(v) > consoleMaxKeyLen || !utf8.ValidString(v) {
		return "", fmt.Errorf("key: want UTF-8 of at most %d bytes, as S3 keys are", consoleMaxKeyLen)
	}
	return v, nil
}

func parseLimit(q url.Values) (int, error) {
	v, ok := single(q, "limit")
	if !ok {
		return consoleDefaultLimit, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > consoleMaxLimit {
		return 0, fmt.Errorf("limit %q: want a number from 1 to %d", v, consoleMaxLimit)
	}
	return n, nil
}

// onlyParams refuses parameters the endpoint does not take and parameters given twice, so
// a typo is an error rather than a silently ignored filter.
func onlyParams(q url.Values, names ...string) error {
	for k, vs := range q {
		known := false
		for _, n := range names {
			known = known || k == n
		}
		if !known {
			return fmt.Errorf("%q: unknown parameter (this endpoint takes %v)", k, names)
		}
		if len(vs) > 1 {
			return fmt.Errorf("%s: given %d times", k, len(vs))
		}
	}
	return nil
}

func single(q url.Values, name string) (string, bool) {
	vs, ok := q[name]
	if !ok || len(vs) == 0 {
		return "", false
	}
	return vs[0], true
}
