package firehose

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// A Kinesis channel (CreateChannel, 2026) delivers a data stream's records to S3 much as a
// delivery stream with a Kinesis source does, so localpipe runs each channel as a delivery
// stream of this engine that the Firehose API does not show: the same shard readers with
// lineage, durable checkpoints, decided batches and S3 retries. What differs is here: the
// object key comes from the channel's OutputKeyTemplate, records are checked against the
// channel's record format, and the ones that fail go to its dead-letter queue.

// ZSTD is Zstandard compression, which channels offer and Firehose's S3 destinations do not.
const ZSTD = "ZSTD"

// Record formats of a channel to a general purpose bucket, as RecordFormatType names them.
const (
	FormatJSON      = "JSON"
	FormatString    = "STRING"
	FormatByteArray = "BYTE_ARRAY"
)

// DefaultKeyTemplate is the OutputKeyTemplate a channel without one uses (data-delivery-s3-
// key-template).
const DefaultKeyTemplate = "kinesis-channel/!{channel-name}/!{channel-id}/!{yyyy}/!{MM}/!{dd}/!{HH}/!{channel-name}-!{channel-id}-!{yyyy}-!{MM}-!{dd}-!{HH}-!{mm}!{extension}"

// DefaultErrorPrefix is where a channel's dead-letter objects go when its
// DeadLetterQueueS3Configuration names no ErrorOutputPrefix, followed by the channel's name and
// id and a slash (the default the CloudFormation reference gives).
const DefaultErrorPrefix = "kinesis-channel/errors/"

// Channel makes a delivery stream a channel's delivery.
type Channel struct {
	Name string `json:"name"`
	ID   string `json:"id"`
	// KeyTemplate is the channel's OutputKeyTemplate (checked with ParseKeyTemplate); empty
	// means DefaultKeyTemplate.
	KeyTemplate  string `json:"keyTemplate,omitempty"`
	RecordFormat string `json:"recordFormat"`
	// ErrorBucket and ErrorPrefix are the dead-letter queue: records that fail the format go
	// there, one JSON line each with the error and the record in base64. An empty bucket is
	// the destination bucket; an empty prefix is DefaultErrorPrefix with the channel's name
	// and id. The prefix is literal: the model's pattern admits no variables in it.
	ErrorBucket string `json:"errorBucket,omitempty"`
	ErrorPrefix string `json:"errorPrefix,omitempty"`
}

// keyVar is a variable of a channel's key template.
type keyVar string

// The variables of a key template: those of the default template, and the source stream's
// name and the two-digit year the CloudFormation reference adds.
var keyVars = map[keyVar]bool{
	"channel-name": true, "channel-id": true, "stream-name": true, "yyyy": true, "yy": true, "MM": true, "dd": true,
	"HH": true, "mm": true, "extension": true,
}

// maxKeyTemplate bounds a template, as S3 bounds a key.
const maxKeyTemplate = 1024

type keyPart struct {
	lit string
	v   keyVar // "" for a literal
}

// KeyTemplate is a parsed OutputKeyTemplate.
type KeyTemplate struct {
	parts []keyPart
}

// ParseKeyTemplate checks an OutputKeyTemplate against the rules the S3 delivery guides give:
// at most 1,024 characters; no "..", "./" or leading "/"; not ending in "/"; every "!{"
// closed by "}" around a known variable; literal characters those of the model's pattern
// ([0-9A-Za-z!\-_'.*()\/=:{}]) outside the variable syntax; at least one variable. The errors
// say which rule failed, for the InvalidArgumentException.
func ParseKeyTemplate(s string) (*KeyTemplate, error) {
	switch {
	case s == "":
		return nil, errors.New("OutputKeyTemplate must not be empty")
	case len(s) > maxKeyTemplate:
		return nil, fmt.Errorf("OutputKeyTemplate must be at most %d characters", maxKeyTemplate)
	case strings.Contains(s, "..") || strings.Contains(s, "./"):
		return nil, errors.New("OutputKeyTemplate must not contain '..' or './'")
	case strings.HasPrefix(s, "/"):
		return nil, errors.New("OutputKeyTemplate must not start with '/'")
	case strings.HasSuffix(s, "/"):
		return nil, errors.New("OutputKeyTemplate must not end with '/'")
	}
	t := &KeyTemplate{}
	vars := 0
	for rest := s; rest != ""; {
		i := strings.Index(rest, "!{")
		lit := rest
		if i >= 0 {
			lit = rest[:i]
		}
		for _, r := range lit {
			if !keyLiteral(r) {
				return nil, fmt.Errorf("OutputKeyTemplate has the character %q outside a variable; only letters, digits and / _ - . ' * ( ) = : are allowed", r)
			}
		}
		if lit != "" {
			t.parts = append(t.parts, keyPart{lit: lit})
		}
		if i < 0 {
			break
		}
		rest = rest[i+2:]
		j := strings.IndexByte(rest, '}')
		if j < 0 {
			return nil, errors.New("OutputKeyTemplate has a '!{' without its '}'")
		}
		name := keyVar(rest[:j])
		if !keyVars[name] {
			return nil, fmt.Errorf("OutputKeyTemplate has the unknown variable !{%s}", name)
		}
		t.parts = append(t.parts, keyPart{v: name})
		vars++
		rest = rest[j+1:]
	}
	if vars == 0 {
		return nil, errors.New("OutputKeyTemplate must contain at least one variable")
	}
	return t, nil
}

func keyLiteral(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/_-.'*()=:", r)
}

// keyEnv is what a template's variables evaluate to for one object.
type keyEnv struct {
	name, id, stream, ext string
	t                     time.Time
}

// eval writes the template for env, with suffix (the object's unique part) before a final
// !{extension}, or at the end, so the key keeps its extension.
func (t *KeyTemplate) eval(env keyEnv, suffix string) string {
	var b strings.Builder
	n := len(t.parts)
	tail := ""
	if n > 0 && t.parts[n-1].v == "extension" {
		n--
		tail = env.ext
	}
	for _, p := range t.parts[:n] {
		switch p.v {
		case "":
			b.WriteString(p.lit)
		case "channel-name":
			b.WriteString(env.name)
		case "channel-id":
			b.WriteString(env.id)
		case "stream-name":
			b.WriteString(env.stream)
		case "yyyy":
			b.WriteString(env.t.Format("2006"))
		case "yy":
			b.WriteString(env.t.Format("06"))
		case "MM":
			b.WriteString(env.t.Format("01"))
		case "dd":
			b.WriteString(env.t.Format("02"))
		case "HH":
			b.WriteString(env.t.Format("15"))
		case "mm":
			b.WriteString(env.t.Format("04"))
		case "extension":
			b.WriteString(env.ext)
		}
	}
	b.WriteString(suffix)
	b.WriteString(tail)
	return b.String()
}

// channelKeys names a batch's object and its dead-letter object. AWS appends a unique
// suffix to every key; here it is a hash of what the object holds (channel, shard, first and
// last position), so a redo writes the same keys.
func (r *reader) channelKeys(in Info, sp *spec, b *batch) (key, errKey string) {
	ch := sp.Channel
	seed := sha256.Sum256(fmt.Appendf(nil, "%s\x00%s\x00%d\x00%d\x00%d", ch.ID, sourceStream(in), r.shard, b.First, b.Last))
	suffix := "-" + hex.EncodeToString(seed[:8])
	env := keyEnv{name: ch.Name, id: ch.ID, stream: in.KinesisStream, ext: extension(sp), t: b.Oldest.UTC()}
	kt := ch.KeyTemplate
	if kt == "" {
		kt = DefaultKeyTemplate
	}
	t, err := ParseKeyTemplate(kt)
	if err != nil { // checked at CreateChannel, so only a damaged config gets here
		t, _ = ParseKeyTemplate(DefaultKeyTemplate)
	}
	key = t.eval(env, suffix)
	ep := ch.ErrorPrefix
	if ep == "" {
		ep = DefaultErrorPrefix + ch.Name + "/" + ch.ID + "/"
	}
	errKey = ep + ch.Name + "-" + ch.ID + "-" + env.t.Format("2006-01-02-15-04") + suffix + ".json"
	return key, errKey
}

// checkRecord says why a record does not have the channel's format, or "".
func checkRecord(format string, d []byte) string {
	switch format {
	case FormatJSON:
		if !json.Valid(d) {
			return "The record is not valid JSON"
		}
	case FormatString:
		if !utf8.Valid(d) {
			return "The record is not valid UTF-8"
		}
	}
	return ""
}

// writeChannel writes a channel's batch: the records of its format to one object, as they
// are, and the others to a dead-letter object. Both keys were decided with the batch. The
// valid records are written in one pass that notes the invalid ones; a second pass writes
// those only if there are any.
func (r *reader) writeChannel(in Info, b *batch) ([]string, error) {
	sp := b.Spec
	key, errKey := r.channelKeys(in, sp, b)
	var bad []int
	n := 0
	err := r.putObject(in, sp, key, func(w io.Writer) error {
		return r.each(in, sp, b, func(_ time.Time, d []byte) error {
			defer func() { n++ }()
			if checkRecord(sp.Channel.RecordFormat, d) != "" {
				bad = append(bad, n)
				return nil
			}
			_, err := w.Write(d)
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	if len(bad) == 0 {
		return []string{key}, nil
	}
	errBucket := sp.Channel.ErrorBucket
	if errBucket == "" {
		errBucket = in.Bucket
	}
	dlq := in
	dlq.Bucket = errBucket
	plain := *sp
	plain.Compression = Uncompressed
	w := r.openObject(dlq, &plain, errKey, 64<<10, nil)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	n, next := 0, 0
	err = r.each(in, sp, b, func(arrival time.Time, d []byte) error {
		defer func() { n++ }()
		if next >= len(bad) || bad[next] != n {
			return nil
		}
		next++
		code := "Channel.InvalidRecordFormat"
		return enc.Encode(errRecord{AttemptsMade: 1, ArrivalTimestamp: arrival.UnixMilli(), ErrorCode: code,
			ErrorMessage:           checkRecord(sp.Channel.RecordFormat, d) + " (record format " + sp.Channel.RecordFormat + ")",
			AttemptEndingTimestamp: b.Decided.UnixMilli(), RawData: base64.StdEncoding.EncodeToString(d)})
	})
	if err := w.close(err); err != nil {
		return []string{key}, err
	}
	return []string{key, errKey}, nil
}
