package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// The Kinesis operations tail and put use, over AWS JSON 1.1. Each answer has a parse
// function that checks what the commands rely on, so a malformed answer is an error that
// says what is wrong rather than an empty stream or a crash.

type kinesisAPI struct{ *awsClient }

func (c *client) kinesis() kinesisAPI {
	return kinesisAPI{c.awsClient("kinesis", "Kinesis", jsonError)}
}

// kinesisCall sends op with in as its body and hands the answer's body to parse.
func kinesisCall[T any](ctx context.Context, k kinesisAPI, op string, in any, parse func([]byte) (T, error)) (T, error) {
	var out T
	body, err := json.Marshal(in)
	if err != nil {
		return out, err
	}
	err = k.do(ctx, awsRequest{
		op: op, method: http.MethodPost, path: "/", body: body,
		header: http.Header{
			"Content-Type": {"application/x-amz-json-1.1"},
			"X-Amz-Target": {"Kinesis_20131202." + op},
		},
	}, parseAnswer(&out, parse))
	return out, err
}

// decodeObject decodes a JSON object; anything else (null, a list, text) is an error.
func decodeObject(b []byte, v any) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return fmt.Errorf("not a JSON object: %s", snippet(b))
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("not valid JSON: %v", err)
	}
	return nil
}

type listShardsInput struct {
	StreamName string `json:",omitempty"`
	NextToken  string `json:",omitempty"`
}

type listShardsOutput struct {
	Shards []struct {
		ShardID string `json:"ShardId"`
	}
	NextToken string
}

func (k kinesisAPI) listShards(ctx context.Context, in listShardsInput) (listShardsOutput, error) {
	return kinesisCall(ctx, k, "ListShards", in, parseListShards)
}

func parseListShards(b []byte) (listShardsOutput, error) {
	var out listShardsOutput
	if err := decodeObject(b, &out); err != nil {
		return out, err
	}
	for i, s := range out.Shards {
		if s.ShardID == "" {
			return out, fmt.Errorf("shard %d has no ShardId", i)
		}
	}
	return out, nil
}

func (k kinesisAPI) getShardIterator(ctx context.Context, stream, shard, typ string) (string, error) {
	in := struct{ StreamName, ShardId, ShardIteratorType string }{stream, shard, typ}
	return kinesisCall(ctx, k, "GetShardIterator", in, parseShardIterator)
}

func parseShardIterator(b []byte) (string, error) {
	var out struct{ ShardIterator string }
	if err := decodeObject(b, &out); err != nil {
		return "", err
	}
	if out.ShardIterator == "" {
		return "", errors.New("no ShardIterator")
	}
	return out.ShardIterator, nil
}

type kinesisRecord struct {
	SequenceNumber string
	PartitionKey   string
	Data           []byte // base64 in JSON, which encoding/json decodes
	// ApproximateArrivalTimestamp is epoch seconds with a fraction.
	ApproximateArrivalTimestamp *float64
}

// arrival is the record's arrival time as the SDK read it: truncated to the millisecond, in UTC.
func (r kinesisRecord) arrival() time.Time {
	if r.ApproximateArrivalTimestamp == nil {
		return time.Time{}
	}
	return time.UnixMilli(int64(*r.ApproximateArrivalTimestamp * 1e3)).UTC()
}

type childShard struct {
	ShardID      string `json:"ShardId"`
	ParentShards []string
}

type getRecordsOutput struct {
	Records []kinesisRecord
	// NextShardIterator is empty once a closed shard is read to its end.
	NextShardIterator  string
	MillisBehindLatest int64
	ChildShards        []childShard
}

func (k kinesisAPI) getRecords(ctx context.Context, it string) (getRecordsOutput, error) {
	return kinesisCall(ctx, k, "GetRecords", struct{ ShardIterator string }{it}, parseGetRecords)
}

func parseGetRecords(b []byte) (getRecordsOutput, error) {
	var out getRecordsOutput
	if err := decodeObject(b, &out); err != nil {
		return out, err
	}
	for i, r := range out.Records {
		if r.SequenceNumber == "" {
			return out, fmt.Errorf("record %d has no SequenceNumber", i)
		}
	}
	for i, c := range out.ChildShards {
		if c.ShardID == "" {
			return out, fmt.Errorf("child shard %d has no ShardId", i)
		}
	}
	return out, nil
}

type putRecordsEntry struct {
	Data         []byte // base64 in JSON
	PartitionKey string
}

type putRecordsResult struct {
	SequenceNumber string
	ShardID        string `json:"ShardId"`
	ErrorCode      *string
	ErrorMessage   *string
}

type putRecordsOutput struct {
	Records []putRecordsResult
}

func (k kinesisAPI) putRecords(ctx context.Context, stream string, records []putRecordsEntry) (putRecordsOutput, error) {
	in := struct {
		StreamName string
		Records    []putRecordsEntry
	}{stream, records}
	return kinesisCall(ctx, k, "PutRecords", in, parsePutRecords)
}

// parsePutRecords checks each result is a success or a failure; that there is one result per
// record is the caller's to check, since only it knows how many it sent.
func parsePutRecords(b []byte) (putRecordsOutput, error) {
	var out putRecordsOutput
	if err := decodeObject(b, &out); err != nil {
		return out, err
	}
	for i, r := range out.Records {
		if r.ErrorCode == nil && (r.SequenceNumber == "" || r.ShardID == "") {
			return out, fmt.Errorf("record %d has neither an ErrorCode nor a SequenceNumber and ShardId", i)
		}
	}
	return out, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
