package firehose

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Transformer calls the function a Lambda processor names, once, and returns its answer. The
// engine defines it so that it needs nothing of how or where functions run; internal/app
// implements it over the config's functions.
type Transformer interface {
	Transform(ctx context.Context, function string, event []byte) (TransformResult, error)
}

// ProcessingMetrics observes Lambda processors, for Firehose's ExecuteProcessing and
// SucceedProcessing series.
type ProcessingMetrics interface {
	Invoked(stream string, d time.Duration, ok bool)
	// Processed counts records answered Ok or Dropped, and the bytes of the Ok ones.
	Processed(stream string, records, bytes int)
	Forget(stream string)
}

// TransformResult is a function's answer; FunctionError is set, as Lambda's Invoke sets it,
// when the function ran and failed.
type TransformResult struct {
	Payload       []byte
	FunctionError string
}

// Errors a Transformer wraps so the engine can name the failure as Firehose does.
var (
	ErrFunctionNotFound = errors.New("function not found")
	ErrFunctionTimeout  = errors.New("function timed out")
	ErrResponseTooLarge = errors.New("function response too large")
)

// Lambda is a delivery stream's Lambda processor.
//
// AWS buffers records for the function apart from the S3 buffer (BufferSizeInMBs,
// BufferIntervalInSeconds). Here the function is called when a batch is delivered, with the
// batch's records in invocations of at most BufferBytes of record data each: the S3 buffer
// decides when, the Lambda buffer how much per call. The batch's records are read again from
// the source and the function called again whenever the batch is written again (a retry after
// an S3 failure, a redo after a crash), so a function may see a batch more than once, as on
// AWS; the objects written are the same whenever its answers are. Unlike a delivery without
// a function, which streams the batch from the log into the object, the batch's records and
// the function's answers are held in memory while the batch is written (up to the S3 buffer
// size, twice).
type Lambda struct {
	ARN         string `json:"arn"`
	Retries     int    `json:"retries"`     // NumberOfRetries: further invocations after a failed one
	BufferBytes int64  `json:"bufferBytes"` // BufferSizeInMBs, in bytes
}

// DefaultLambdaRetries and DefaultLambdaBuffer are AWS's defaults for NumberOfRetries and
// BufferSizeInMBs.
const (
	DefaultLambdaRetries = 3
	DefaultLambdaBuffer  = 1 << 20
)

// maxInvokePayload is Lambda's limit on a synchronous invocation's request and response.
const maxInvokePayload = 6 << 20

// Error codes of records the transformation could not deliver, as Firehose writes them in
// processing-failed error records and its CloudWatch error logs. Lambda.ProcessingFailedStatus
// (with the message "ProcessingFailed status set for record"), Lambda.MissingRecordId,
// Lambda.DuplicatedRecordId, Lambda.JsonProcessingException and Lambda.FunctionError appear
// in public material about real deliveries; the others name localpipe's own failures in the
// same style and are unverified.
const (
	codeFunctionError    = "Lambda.FunctionError"
	codeNotFound         = "Lambda.FunctionNotFound"
	codeTimeout          = "Lambda.FunctionTimedOut"
	codeTooLarge         = "Lambda.ResponseSizeLimitExceeded"
	codeInvoke           = "Lambda.InvokeFailed"
	codeJSON             = "Lambda.JsonProcessingException"
	codeMissingID        = "Lambda.MissingRecordId"
	codeDuplicateID      = "Lambda.DuplicatedRecordId"
	codeProcessingFailed = "Lambda.ProcessingFailedStatus"
)

// eventRecord is one record of the event Firehose sends its function.
type eventRecord struct {
	RecordID                    string          `json:"recordId"`
	ApproximateArrivalTimestamp int64           `json:"approximateArrivalTimestamp"`
	Data                        string          `json:"data"`
	KinesisRecordMetadata       *kinesisRecMeta `json:"kinesisRecordMetadata,omitempty"`
}

type kinesisRecMeta struct {
	ShardID                     string `json:"shardId"`
	PartitionKey                string `json:"partitionKey"`
	ApproximateArrivalTimestamp int64  `json:"approximateArrivalTimestamp"`
	SequenceNumber              string `json:"sequenceNumber"`
	SubsequenceNumber           int64  `json:"subsequenceNumber"`
}

type event struct {
	InvocationID           string        `json:"invocationId"`
	DeliveryStreamArn      string        `json:"deliveryStreamArn"`
	SourceKinesisStreamArn string        `json:"sourceKinesisStreamArn,omitempty"`
	Region                 string        `json:"region"`
	Records                []eventRecord `json:"records"`
}

// answerRecord is one record of the function's answer.
type answerRecord struct {
	RecordID string  `json:"recordId"`
	Result   string  `json:"result"`
	Data     *string `json:"data"`
	Metadata *struct {
		PartitionKeys map[string]string `json:"partitionKeys"`
	} `json:"metadata"`
}

// Results a function gives a record.
const (
	resultOk      = "Ok"
	resultDropped = "Dropped"
	resultFailed  = "ProcessingFailed"
)

// xrec is one record of a batch after the transformation: delivered (Data, Keys), dropped, or
// failed (Code set, Data the record as it came from the source).
type xrec struct {
	arrival  time.Time
	data     []byte
	keys     map[string]string
	dropped  bool
	code     string
	msg      string
	attempts int
}

// transformError is an invocation that did not give a usable answer.
type transformError struct{ code, msg string }

func (e *transformError) Error() string { return e.code + ": " + e.msg }

// parseAnswer checks a function's answer against the records it was sent (ids, in order) and
// returns one answer per record, in the order sent. Any record id missing, unknown or given
// twice fails the whole invocation, as on AWS.
func parseAnswer(payload []byte, ids []string) ([]answerRecord, *transformError) {
	var ans struct {
		Records []answerRecord `json:"records"`
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	if err := dec.Decode(&ans); err != nil {
		return nil, &transformError{codeJSON, "There was an error parsing returned records from the Lambda function: " + err.Error()}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &transformError{codeJSON, "There was an error parsing returned records from the Lambda function: data after the JSON object"}
	}
	index := make(map[string]int, len(ids))
	for i, id := range ids {
		index[id] = i
	}
	out := make([]answerRecord, len(ids))
	seen := make([]bool, len(ids))
	for _, a := range ans.Records {
		i, ok := index[a.RecordID]
		if !ok {
			return nil, &transformError{codeMissingID, fmt.Sprintf("The Lambda function returned the record id %q, which was not in the invocation. Ensure that the returned records have the ids of the records sent.", a.RecordID)}
		}
		if seen[i] {
			return nil, &transformError{codeDuplicateID, fmt.Sprintf("Multiple records were returned with the same record id %q. Ensure that the Lambda function returns unique record ids for each record.", a.RecordID)}
		}
		switch a.Result {
		case resultOk:
			if a.Data == nil {
				return nil, &transformError{codeJSON, fmt.Sprintf("Record %q has result Ok and no data.", a.RecordID)}
			}
			if _, err := base64.StdEncoding.DecodeString(*a.Data); err != nil {
				return nil, &transformError{codeJSON, fmt.Sprintf("The data of record %q is not base64: %v", a.RecordID, err)}
			}
		case resultDropped, resultFailed:
		default:
			return nil, &transformError{codeJSON, fmt.Sprintf("Record %q has result %q: want Ok, Dropped or ProcessingFailed.", a.RecordID, a.Result)}
		}
		seen[i], out[i] = true, a
	}
	for i, s := range seen {
		if !s {
			return nil, &transformError{codeMissingID, fmt.Sprintf("One or more record ids were not returned (%q among them). Ensure that the Lambda function returns all received record ids.", ids[i])}
		}
	}
	return out, nil
}

// sourceRec is a record read for transformation, with what the event says about it.
type sourceRec struct {
	id      string
	arrival time.Time
	data    []byte
	meta    *kinesisRecMeta
}

// SequenceNumbers is implemented by a Source that can name its records as Kinesis does; the
// engine then gives a function each record's kinesisRecordMetadata.
type SequenceNumbers interface {
	// ShardSequence returns the shard's id and a function naming a record's sequence number.
	ShardSequence(stream string, shard int) (shardID string, seq func(pos uint64, arrival time.Time) string, err error)
}

// readForTransform reads the batch's records with the ids and metadata the event gives them.
func (r *reader) readForTransform(in Info, sp *spec, b *batch) ([]sourceRec, error) {
	e := r.d.e
	stream := sourceStream(in)
	kinesis := in.Type == KinesisStreamAsSource
	var shardID string
	var seq func(uint64, time.Time) string
	if sn, ok := e.src.(SequenceNumbers); ok && kinesis {
		var err error
		if shardID, seq, err = sn.ShardSequence(stream, r.shard); err != nil {
			return nil, err
		}
	}
	split := newSplitter(kinesis, sp)
	var out []sourceRec
	for pos := b.First; pos <= b.Last; {
		recs, next, err := e.src.Read(stream, r.shard, pos, 1000)
		if err == nil && len(recs) == 0 && next <= pos {
			err = fmt.Errorf("firehose: records %d..%d of %s shard %d are gone from the source", pos, b.Last, stream, r.shard)
		}
		if err != nil {
			return nil, err
		}
		for _, rec := range recs {
			if rec.Position > b.Last {
				break
			}
			subs := split.split(rec.Data)
			base := ""
			var meta *kinesisRecMeta
			if seq != nil {
				base = seq(rec.Position, rec.Arrival)
				meta = &kinesisRecMeta{ShardID: shardID, PartitionKey: rec.PartitionKey, ApproximateArrivalTimestamp: rec.Arrival.UnixMilli(), SequenceNumber: base}
			} else {
				base = recordID(in, rec.Position)
			}
			for i, d := range subs {
				sr := sourceRec{arrival: rec.Arrival, data: d, id: base}
				if kinesis || len(subs) > 1 {
					// A Kinesis record's id is its sequence number and subsequence, as the
					// ids AWS sends are; a DirectPut record keeps the id PutRecord returned.
					sr.id = fmt.Sprintf("%s%012d", base, i)
				}
				if meta != nil {
					m := *meta
					if len(subs) > 1 {
						m.SubsequenceNumber = int64(i)
					}
					sr.meta = &m
				}
				out = append(out, sr)
			}
		}
		pos = next
	}
	return out, nil
}

// transform calls the stream's function over the batch and returns what to deliver, in the
// order of the source.
func (r *reader) transform(in Info, sp *spec, b *batch) ([]xrec, error) {
	e := r.d.e
	lam := sp.Lambda
	recs, err := r.readForTransform(in, sp, b)
	if err != nil {
		return nil, err
	}
	out := make([]xrec, len(recs))
	limit := lam.BufferBytes
	if limit <= 0 {
		limit = DefaultLambdaBuffer
	}
	for lo := 0; lo < len(recs); {
		// One invocation: records up to the buffer size, and always at least one.
		hi, size := lo, int64(0)
		for hi < len(recs) && (hi == lo || size+int64(len(recs[hi].data)) <= limit) {
			size += int64(len(recs[hi].data))
			hi++
		}
		if err := r.invoke(in, lam, recs[lo:hi], out[lo:hi]); err != nil {
			return nil, err
		}
		lo = hi
	}
	var dropped, failed, okBytes int
	for _, x := range out {
		switch {
		case x.dropped:
			dropped++
		case x.code != "":
			failed++
		default:
			okBytes += len(x.data)
		}
	}
	e.processing.Processed(in.Name, len(out)-failed, okBytes)
	if dropped > 0 || failed > 0 {
		e.logger.Info("firehose: transformed", "deliveryStream", in.Name, "function", lam.ARN, "records", len(out),
			"dropped", dropped, "processingFailed", failed)
	}
	return out, nil
}

// errStopping ends a transformation the delivery stream's stop cut short: the batch stays
// decided and is transformed again at the next start, not failed.
var errStopping = errors.New("firehose: delivery stream stopping")

// invoke calls the function with one invocation's records, retrying a failed invocation
// lam.Retries times, and fills out.
func (r *reader) invoke(in Info, lam *Lambda, recs []sourceRec, out []xrec) error {
	e := r.d.e
	ev := event{DeliveryStreamArn: e.arn("firehose", "deliverystream/"+in.Name), Region: e.region,
		Records: make([]eventRecord, len(recs))}
	if in.Type == KinesisStreamAsSource {
		ev.SourceKinesisStreamArn = e.arn("kinesis", "stream/"+in.KinesisStream)
	}
	ids := make([]string, len(recs))
	for i, sr := range recs {
		ids[i] = sr.id
		ev.Records[i] = eventRecord{RecordID: sr.id, ApproximateArrivalTimestamp: sr.arrival.UnixMilli(),
			Data: base64.StdEncoding.EncodeToString(sr.data), KinesisRecordMetadata: sr.meta}
	}
	attempts := 0
	var last *transformError
	for attempts <= max(lam.Retries, 0) {
		attempts++
		ev.InvocationID = newUUID()
		payload, _ := json.Marshal(&ev)
		began := time.Now()
		answers, terr := r.invokeOnce(lam.ARN, payload, ids)
		e.processing.Invoked(in.Name, time.Since(began), terr == nil)
		select {
		case <-r.d.stop:
			return errStopping
		default:
		}
		if terr == nil {
			for i, a := range answers {
				x := xrec{arrival: recs[i].arrival, attempts: attempts}
				switch a.Result {
				case resultOk:
					x.data, _ = base64.StdEncoding.DecodeString(*a.Data)
					if a.Metadata != nil {
						x.keys = a.Metadata.PartitionKeys
					}
				case resultDropped:
					x.dropped = true
				default:
					x.data, x.code = recs[i].data, codeProcessingFailed
					x.msg = "ProcessingFailed status set for record"
				}
				out[i] = x
			}
			return nil
		}
		last = terr
		e.logger.Warn("firehose: transformation invocation failed", "deliveryStream", in.Name, "function", lam.ARN,
			"attempt", attempts, "of", max(lam.Retries, 0)+1, "records", len(recs), "code", terr.code, "err", terr.msg)
	}
	for i, sr := range recs {
		out[i] = xrec{arrival: sr.arrival, data: sr.data, code: last.code, msg: last.msg, attempts: attempts}
	}
	return nil
}

// invokeOnce makes one invocation and checks its answer.
func (r *reader) invokeOnce(function string, payload []byte, ids []string) ([]answerRecord, *transformError) {
	e := r.d.e
	if e.transformer == nil {
		return nil, &transformError{codeNotFound, "no functions are configured: declare " + function + " in the config's functions:"}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-r.d.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	res, err := e.transformer.Transform(ctx, function, payload)
	switch {
	case errors.Is(err, ErrFunctionNotFound):
		return nil, &transformError{codeNotFound, err.Error()}
	case errors.Is(err, ErrFunctionTimeout):
		return nil, &transformError{codeTimeout, err.Error()}
	case errors.Is(err, ErrResponseTooLarge):
		return nil, &transformError{codeTooLarge, "The Lambda function's response exceeds the 6 MB limit."}
	case err != nil:
		return nil, &transformError{codeInvoke, err.Error()}
	case res.FunctionError != "":
		return nil, &transformError{codeFunctionError, "The Lambda function was successfully invoked but it returned an error result: " + truncate(string(res.Payload), 1024)}
	case len(res.Payload) > maxInvokePayload:
		return nil, &transformError{codeTooLarge, "The Lambda function's response exceeds the 6 MB limit."}
	}
	return parseAnswer(res.Payload, ids)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// lambdaErrRecord is one line of a processing-failed object, as the developer guide
// (data-transformation-failure-handling) documents it. Records that emulators' tests say were
// captured from AWS spell the last member lambdaARN; the guide's lambdaArn is kept
// (unverified either way).
type lambdaErrRecord struct {
	AttemptsMade           int    `json:"attemptsMade"`
	ArrivalTimestamp       int64  `json:"arrivalTimestamp"`
	ErrorCode              string `json:"errorCode"`
	ErrorMessage           string `json:"errorMessage"`
	AttemptEndingTimestamp int64  `json:"attemptEndingTimestamp"`
	RawData                string `json:"rawData"`
	LambdaArn              string `json:"lambdaArn"`
}

// writeTransformed writes a batch through the stream's function: its Ok records to the
// destination (one object, or one per partition when the stream is partitioned, by the
// function's metadata.partitionKeys and the MetadataExtraction query), its failed records to
// the error prefix as processing-failed. Keys derive from the batch's range and partition, as
// without a function, so writing the batch again writes the same objects.
func (r *reader) writeTransformed(in Info, b *batch) ([]string, error) {
	sp := b.Spec
	recs, err := r.transform(in, sp, b)
	if err != nil {
		return nil, err
	}
	pfx, perr := layoutPrefix(sp.Prefix)
	epfx, eperr := layoutErrorPrefix(sp.Prefix, sp.ErrorPrefix)
	if eperr != nil {
		return nil, eperr
	}
	partitioned := perr == nil && (pfx.has(partQuery) || pfx.has(partLambda))
	var query *partitionQuery
	var qerr error
	if sp.PartitionQuery != "" {
		query, qerr = parsePartitionQuery(sp.PartitionQuery)
	}
	loc := sp.location()

	type tgroup struct {
		id      string
		env     prefixEnv
		errType string
		oldest  time.Time
		recs    []int
	}
	var groups []*tgroup
	index := map[string]*tgroup{}
	add := func(id string, errType string, env prefixEnv, i int) {
		g := index[id]
		if g == nil {
			g = &tgroup{id: id, env: env, errType: errType, oldest: recs[i].arrival}
			index[id] = g
			groups = append(groups, g)
		}
		if recs[i].arrival.Before(g.oldest) {
			g.oldest = recs[i].arrival
		}
		g.recs = append(g.recs, i)
	}
	fail := func(i int, errType, code, msg string) {
		recs[i].code, recs[i].msg = code, msg
		add("\x00error\x00"+errType, errType, prefixEnv{errType: errType}, i)
	}
	parts := 0
	for i := range recs {
		x := &recs[i]
		switch {
		case x.dropped:
			continue
		case x.code != "":
			add("\x00error\x00"+errProcessing, errProcessing, prefixEnv{errType: errProcessing}, i)
			continue
		case !partitioned:
			add("", "", prefixEnv{}, i)
			continue
		}
		var qkeys map[string]string
		err := perr
		if err == nil && qerr != nil {
			err = qerr
		}
		if err == nil && query != nil {
			qkeys, err = query.eval(x.data)
		}
		env := prefixEnv{t: x.arrival.In(loc), keys: qkeys, lambdaKeys: x.keys, random: func() string { return "00000000-00" }}
		if err == nil {
			_, err = pfx.eval(env)
		}
		if err != nil {
			fail(i, errMetadataExtraction, "DynamicPartitioning.MetadataExtractionFailed", err.Error())
			continue
		}
		id := pfx.partitionID(env)
		if index[id] == nil {
			if parts >= maxPartitions {
				fail(i, errProcessing, "DynamicPartitioning.ActivePartitionsLimitExceeded",
					fmt.Sprintf("The number of active partitions exceeds the limit of %d", maxPartitions))
				continue
			}
			parts++
		}
		add(id, "", prefixEnv{keys: qkeys, lambdaKeys: x.keys}, i)
	}

	var delim []byte
	if sp.Delimiter != nil {
		delim = []byte(*sp.Delimiter)
	}
	var keys []string
	for _, g := range groups {
		var key string
		switch {
		case g.errType != "":
			key = r.objectKey(in, sp, b, g.oldest, g.id, g.env, epfx)
		case partitioned:
			key = r.objectKey(in, sp, b, g.oldest, g.id, g.env, pfx)
		default:
			// The key deliver decided; a batch whose oldest record failed keeps it, so a
			// redo writes the same object whatever the function answers this time.
			key = b.Key
		}
		err := r.putObject(in, sp, key, func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetEscapeHTML(false)
			for _, i := range g.recs {
				x := &recs[i]
				if g.errType != "" {
					if err := enc.Encode(lambdaErrRecord{AttemptsMade: max(x.attempts, 1), ArrivalTimestamp: x.arrival.UnixMilli(),
						ErrorCode: x.code, ErrorMessage: x.msg, AttemptEndingTimestamp: b.Decided.UnixMilli(),
						RawData: base64.StdEncoding.EncodeToString(x.data), LambdaArn: sp.Lambda.ARN}); err != nil {
						return err
					}
					continue
				}
				if _, err := w.Write(x.data); err != nil {
					return err
				}
				if delim != nil {
					if _, err := w.Write(delim); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return keys, err
		}
		keys = append(keys, key)
	}
	return keys, nil
}

// arn names a resource of the engine's account and region.
func (e *Engine) arn(service, resource string) string {
	return "arn:aws:" + service + ":" + e.region + ":" + e.account + ":" + resource
}

// partitionID is the partition a record with env's keys belongs to: its key values in the
// prefix's order.
func (p *prefixExpr) partitionID(env prefixEnv) string {
	var b strings.Builder
	for _, pt := range p.parts {
		switch pt.kind {
		case partQuery:
			b.WriteString(env.keys[pt.lit])
			b.WriteByte(0)
		case partLambda:
			b.WriteString(env.lambdaKeys[pt.lit])
			b.WriteByte(1)
		}
	}
	return b.String()
}
