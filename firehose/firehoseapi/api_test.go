package firehoseapi_test

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/klauspost/compress/snappy"

	"github.com/localpipe/localpipe/internal/app"
)

func TestLifecycle(t *testing.T) {
	e := newEnv(t)
	e.bucket(t, "bkt")
	_, err := e.fh.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{
		DeliveryStreamName:                 aws.String("ds"),
		ExtendedS3DestinationConfiguration: s3dest("bkt"),
		Tags:                               []types.Tag{{Key: aws.String("team"), Value: aws.String("data")}, {Key: aws.String("env")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.fh.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("ds"), ExtendedS3DestinationConfiguration: s3dest("bkt")})
	wantErr(t, err, "ResourceInUseException", "Firehose ds under accountId 000000000000 already exists")

	d, err := e.fh.DescribeDeliveryStream(ctx, &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("ds")})
	if err != nil {
		t.Fatal(err)
	}
	ds := d.DeliveryStreamDescription
	if *ds.DeliveryStreamARN != "arn:aws:firehose:us-east-1:000000000000:deliverystream/ds" || ds.DeliveryStreamStatus != types.DeliveryStreamStatusActive ||
		ds.DeliveryStreamType != types.DeliveryStreamTypeDirectPut || *ds.VersionId != "1" || *ds.HasMoreDestinations || ds.CreateTimestamp == nil {
		t.Fatalf("description %+v", ds)
	}
	if ds.DeliveryStreamEncryptionConfiguration.Status != types.DeliveryStreamEncryptionStatusDisabled {
		t.Fatalf("encryption %+v", ds.DeliveryStreamEncryptionConfiguration)
	}
	if len(ds.Destinations) != 1 || *ds.Destinations[0].DestinationId != "destinationId-000000000001" {
		t.Fatalf("destinations %+v", ds.Destinations)
	}
	x := ds.Destinations[0].ExtendedS3DestinationDescription
	if *x.BufferingHints.SizeInMBs != 5 || *x.BufferingHints.IntervalInSeconds != 300 || x.CompressionFormat != types.CompressionFormatUncompressed ||
		x.EncryptionConfiguration.NoEncryptionConfig != types.NoEncryptionConfigNoEncryption || *x.BucketARN != "arn:aws:s3:::bkt" || *x.RoleARN != role ||
		x.S3BackupMode != types.S3BackupModeDisabled {
		t.Fatalf("extended S3 description %+v", x)
	}
	if p := ds.Destinations[0].S3DestinationDescription; p == nil || *p.BucketARN != "arn:aws:s3:::bkt" || *p.BufferingHints.SizeInMBs != 5 {
		t.Fatalf("S3 description %+v", p)
	}
	_, err = e.fh.DescribeDeliveryStream(ctx, &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("nope")})
	wantErr(t, err, "ResourceNotFoundException", "Firehose nope under account 000000000000 not found.")

	// UpdateDestination checks the version it was given and bumps it.
	upd := &firehose.UpdateDestinationInput{DeliveryStreamName: aws.String("ds"), CurrentDeliveryStreamVersionId: aws.String("7"),
		DestinationId: aws.String("destinationId-000000000001"),
		ExtendedS3DestinationUpdate: &types.ExtendedS3DestinationUpdate{Prefix: aws.String("p/"), CompressionFormat: types.CompressionFormatGzip,
			BufferingHints: &types.BufferingHints{IntervalInSeconds: aws.Int32(60)}}}
	_, err = e.fh.UpdateDestination(ctx, upd)
	wantErr(t, err, "ConcurrentModificationException", "current version id is 1")
	upd.CurrentDeliveryStreamVersionId = aws.String("1")
	if _, err := e.fh.UpdateDestination(ctx, upd); err != nil {
		t.Fatal(err)
	}
	d, _ = e.fh.DescribeDeliveryStream(ctx, &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("ds")})
	x = d.DeliveryStreamDescription.Destinations[0].ExtendedS3DestinationDescription
	if *d.DeliveryStreamDescription.VersionId != "2" || *x.Prefix != "p/" || x.CompressionFormat != types.CompressionFormatGzip ||
		*x.BufferingHints.IntervalInSeconds != 60 || *x.BufferingHints.SizeInMBs != 5 || d.DeliveryStreamDescription.LastUpdateTimestamp == nil {
		t.Fatalf("after update: version %s, %+v", *d.DeliveryStreamDescription.VersionId, x)
	}
	_, err = e.fh.UpdateDestination(ctx, upd) // still says version 1
	wantErr(t, err, "ConcurrentModificationException", "")

	// The new settings apply to what is delivered next: the object goes under p/ as .gz.
	e.put(t, "ds", "a", "b")
	keys := e.flush(t, "ds")
	if len(keys) != 1 || !strings.HasPrefix(keys[0], "p/") || !strings.HasSuffix(keys[0], ".gz") || !strings.Contains(keys[0], "/ds-2-") {
		t.Fatalf("keys after update %v", keys)
	}

	// Tags.
	if _, err := e.fh.TagDeliveryStream(ctx, &firehose.TagDeliveryStreamInput{DeliveryStreamName: aws.String("ds"),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("core")}, {Key: aws.String("a")}}}); err != nil {
		t.Fatal(err)
	}
	lt, err := e.fh.ListTagsForDeliveryStream(ctx, &firehose.ListTagsForDeliveryStreamInput{DeliveryStreamName: aws.String("ds"), Limit: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	if len(lt.Tags) != 2 || *lt.Tags[0].Key != "a" || *lt.Tags[1].Key != "env" || !*lt.HasMoreTags {
		t.Fatalf("tags page 1 %+v more=%v", lt.Tags, *lt.HasMoreTags)
	}
	lt, _ = e.fh.ListTagsForDeliveryStream(ctx, &firehose.ListTagsForDeliveryStreamInput{DeliveryStreamName: aws.String("ds"), ExclusiveStartTagKey: aws.String("env")})
	if len(lt.Tags) != 1 || *lt.Tags[0].Key != "team" || *lt.Tags[0].Value != "core" || *lt.HasMoreTags {
		t.Fatalf("tags page 2 %+v", lt.Tags)
	}
	if _, err := e.fh.UntagDeliveryStream(ctx, &firehose.UntagDeliveryStreamInput{DeliveryStreamName: aws.String("ds"), TagKeys: []string{"a", "team"}}); err != nil {
		t.Fatal(err)
	}
	lt, _ = e.fh.ListTagsForDeliveryStream(ctx, &firehose.ListTagsForDeliveryStreamInput{DeliveryStreamName: aws.String("ds")})
	if len(lt.Tags) != 1 || *lt.Tags[0].Key != "env" {
		t.Fatalf("tags after untag %+v", lt.Tags)
	}
	var many []types.Tag
	for i := 0; i < 50; i++ {
		many = append(many, types.Tag{Key: aws.String(strings.Repeat("k", i+1))})
	}
	_, err = e.fh.TagDeliveryStream(ctx, &firehose.TagDeliveryStreamInput{DeliveryStreamName: aws.String("ds"), Tags: many})
	wantErr(t, err, "LimitExceededException", "")

	// Encryption is accepted, stored and reflected.
	if _, err := e.fh.StartDeliveryStreamEncryption(ctx, &firehose.StartDeliveryStreamEncryptionInput{DeliveryStreamName: aws.String("ds"),
		DeliveryStreamEncryptionConfigurationInput: &types.DeliveryStreamEncryptionConfigurationInput{KeyType: types.KeyTypeCustomerManagedCmk,
			KeyARN: aws.String("arn:aws:kms:us-east-1:000000000000:key/abc")}}); err != nil {
		t.Fatal(err)
	}
	d, _ = e.fh.DescribeDeliveryStream(ctx, &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("ds")})
	if enc := d.DeliveryStreamDescription.DeliveryStreamEncryptionConfiguration; enc.Status != types.DeliveryStreamEncryptionStatusEnabled ||
		enc.KeyType != types.KeyTypeCustomerManagedCmk || *enc.KeyARN != "arn:aws:kms:us-east-1:000000000000:key/abc" {
		t.Fatalf("encryption %+v", enc)
	}
	pr, err := e.fh.PutRecord(ctx, &firehose.PutRecordInput{DeliveryStreamName: aws.String("ds"), Record: &types.Record{Data: []byte("x")}})
	if err != nil || !*pr.Encrypted || len(*pr.RecordId) < 32 {
		t.Fatalf("PutRecord %+v %v", pr, err)
	}
	_, err = e.fh.StartDeliveryStreamEncryption(ctx, &firehose.StartDeliveryStreamEncryptionInput{DeliveryStreamName: aws.String("ds"),
		DeliveryStreamEncryptionConfigurationInput: &types.DeliveryStreamEncryptionConfigurationInput{KeyType: types.KeyTypeCustomerManagedCmk}})
	wantErr(t, err, "InvalidArgumentException", "KeyARN is required")
	if _, err := e.fh.StopDeliveryStreamEncryption(ctx, &firehose.StopDeliveryStreamEncryptionInput{DeliveryStreamName: aws.String("ds")}); err != nil {
		t.Fatal(err)
	}
	d, _ = e.fh.DescribeDeliveryStream(ctx, &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("ds")})
	if enc := d.DeliveryStreamDescription.DeliveryStreamEncryptionConfiguration; enc.Status != types.DeliveryStreamEncryptionStatusDisabled {
		t.Fatalf("encryption after stop %+v", enc)
	}

	// List: order, type filter, paging.
	e.stream(t, "src", 1)
	for _, n := range []string{"a1", "a2", "a3"} {
		e.create(t, &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String(n), ExtendedS3DestinationConfiguration: s3dest("bkt")})
	}
	e.create(t, &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("k1"), DeliveryStreamType: types.DeliveryStreamTypeKinesisStreamAsSource,
		KinesisStreamSourceConfiguration:   &types.KinesisStreamSourceConfiguration{KinesisStreamARN: aws.String("arn:aws:kinesis:us-east-1:000000000000:stream/src"), RoleARN: aws.String(role)},
		ExtendedS3DestinationConfiguration: s3dest("bkt")})
	l, err := e.fh.ListDeliveryStreams(ctx, &firehose.ListDeliveryStreamsInput{Limit: aws.Int32(2)})
	if err != nil || strings.Join(l.DeliveryStreamNames, ",") != "a1,a2" || !*l.HasMoreDeliveryStreams {
		t.Fatalf("list page 1 %v %v", l.DeliveryStreamNames, err)
	}
	l, _ = e.fh.ListDeliveryStreams(ctx, &firehose.ListDeliveryStreamsInput{ExclusiveStartDeliveryStreamName: aws.String("a2")})
	if strings.Join(l.DeliveryStreamNames, ",") != "a3,ds,k1" || *l.HasMoreDeliveryStreams {
		t.Fatalf("list page 2 %v", l.DeliveryStreamNames)
	}
	l, _ = e.fh.ListDeliveryStreams(ctx, &firehose.ListDeliveryStreamsInput{DeliveryStreamType: types.DeliveryStreamTypeKinesisStreamAsSource})
	if strings.Join(l.DeliveryStreamNames, ",") != "k1" {
		t.Fatalf("list by type %v", l.DeliveryStreamNames)
	}
	d, _ = e.fh.DescribeDeliveryStream(ctx, &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("k1")})
	if src := d.DeliveryStreamDescription.Source.KinesisStreamSourceDescription; *src.KinesisStreamARN != "arn:aws:kinesis:us-east-1:000000000000:stream/src" || src.DeliveryStartTimestamp == nil {
		t.Fatalf("kinesis source %+v", src)
	}
	_, err = e.fh.StartDeliveryStreamEncryption(ctx, &firehose.StartDeliveryStreamEncryptionInput{DeliveryStreamName: aws.String("k1")})
	wantErr(t, err, "InvalidArgumentException", "KinesisStreamAsSource")

	// Delete.
	if _, err := e.fh.DeleteDeliveryStream(ctx, &firehose.DeleteDeliveryStreamInput{DeliveryStreamName: aws.String("ds")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.fh.DescribeDeliveryStream(ctx, &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("ds")})
	wantErr(t, err, "ResourceNotFoundException", "")
	_, err = e.fh.DeleteDeliveryStream(ctx, &firehose.DeleteDeliveryStreamInput{DeliveryStreamName: aws.String("ds")})
	wantErr(t, err, "ResourceNotFoundException", "")
	_, err = e.fh.PutRecord(ctx, &firehose.PutRecordInput{DeliveryStreamName: aws.String("ds"), Record: &types.Record{Data: []byte("x")}})
	wantErr(t, err, "ResourceNotFoundException", "")
}

var keyRE = regexp.MustCompile(`^(\d{4})/(\d{2})/(\d{2})/(\d{2})/direct-1-(\d{4})-(\d{2})-(\d{2})-(\d{2})-\d{2}-\d{2}-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestDirectPutDeliversConcatenatedRecords(t *testing.T) {
	e := newEnv(t)
	e.bucket(t, "bkt")
	e.create(t, &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("direct"), ExtendedS3DestinationConfiguration: s3dest("bkt")})
	out, err := e.fh.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String("direct"),
		Records: []types.Record{{Data: []byte("one")}, {Data: []byte("")}, {Data: []byte("two\n")}, {Data: []byte("three")}}})
	if err != nil {
		t.Fatal(err)
	}
	if *out.FailedPutCount != 0 || len(out.RequestResponses) != 4 || *out.Encrypted {
		t.Fatalf("PutRecordBatch %+v", out)
	}
	ids := map[string]bool{}
	for _, r := range out.RequestResponses {
		if r.RecordId == nil || r.ErrorCode != nil || ids[*r.RecordId] {
			t.Fatalf("response %+v", r)
		}
		ids[*r.RecordId] = true
	}
	e.put(t, "direct", "four")
	before := time.Now().UTC()
	keys := e.flush(t, "direct")
	if len(keys) != 1 {
		t.Fatalf("flush keys %v", keys)
	}
	m := keyRE.FindStringSubmatch(keys[0])
	if m == nil || m[1] != m[5] || m[2] != m[6] || m[3] != m[7] || m[4] != m[8] || m[1] != before.Format("2006") {
		t.Fatalf("key %q does not look like YYYY/MM/dd/HH/direct-1-YYYY-MM-DD-HH-MM-SS-uuid", keys[0])
	}
	if got := string(e.get(t, "bkt", keys[0])); got != "onetwo\nthreefour" {
		t.Fatalf("object %q", got)
	}
	if k := e.flush(t, "direct"); len(k) != 0 {
		t.Fatalf("second flush wrote %v", k)
	}
	// Flush of everything and of a missing stream.
	resp, err := http.Post(e.a.Endpoint()+"/_localpipe/firehose/flush", "application/json", nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("flush all %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	resp, _ = http.Post(e.a.Endpoint()+"/_localpipe/firehose/nope/flush", "application/json", nil)
	if resp.StatusCode != 404 {
		t.Fatalf("flush of a missing stream: %d", resp.StatusCode)
	}
	resp.Body.Close()
}

func decompress(t *testing.T, format string, b []byte) []byte {
	t.Helper()
	switch format {
	case "GZIP":
		r, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		out, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return out
	case "ZIP":
		z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		if len(z.File) != 1 {
			t.Fatalf("zip holds %d entries", len(z.File))
		}
		r, _ := z.File[0].Open()
		out, _ := io.ReadAll(r)
		return out
	case "Snappy":
		out, err := io.ReadAll(snappy.NewReader(bytes.NewReader(b)))
		if err != nil {
			t.Fatal(err)
		}
		return out
	case "HADOOP_SNAPPY":
		var out []byte
		for len(b) > 0 {
			if len(b) < 8 {
				t.Fatalf("hadoop-snappy: %d trailing bytes", len(b))
			}
			raw := binary.BigEndian.Uint32(b[:4])
			clen := binary.BigEndian.Uint32(b[4:8])
			chunk, err := snappy.Decode(nil, b[8:8+clen])
			if err != nil || uint32(len(chunk)) != raw {
				t.Fatalf("hadoop-snappy block: %v (%d of %d)", err, len(chunk), raw)
			}
			out = append(out, chunk...)
			b = b[8+clen:]
		}
		return out
	}
	return b
}

func TestEveryCompression(t *testing.T) {
	e := newEnv(t)
	e.bucket(t, "bkt")
	// More than one Hadoop-snappy block (256 KiB), and data that compresses.
	var data []string
	var want strings.Builder
	for i := 0; i < 300; i++ {
		r := strings.Repeat(string(rune('a'+i%26)), 1000+i)
		data = append(data, r)
		want.WriteString(r)
	}
	for _, c := range []struct {
		format  types.CompressionFormat
		ext     string
		fileExt string
	}{
		{types.CompressionFormatUncompressed, "", ""},
		{types.CompressionFormatGzip, ".gz", ""},
		{types.CompressionFormatZip, ".zip", ""},
		{types.CompressionFormatSnappy, ".snappy", ""},
		{types.CompressionFormatHadoopSnappy, ".hsnappy", ""},
		{types.CompressionFormatGzip, ".json.gz", ".json.gz"},
		{types.CompressionFormatUncompressed, ".jsonl", ".jsonl"},
	} {
		name := "c-" + strings.ToLower(string(c.format)) + strings.ReplaceAll(c.fileExt, ".", "-")
		d := s3dest("bkt")
		d.CompressionFormat = c.format
		d.Prefix = aws.String(name + "/")
		if c.fileExt != "" {
			d.FileExtension = aws.String(c.fileExt)
		}
		e.create(t, &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String(name), ExtendedS3DestinationConfiguration: d})
		for i := 0; i < len(data); i += 100 {
			e.put(t, name, data[i:i+100]...)
		}
		keys := e.flush(t, name)
		if len(keys) != 1 || !strings.HasSuffix(keys[0], c.ext) || c.ext == "" && strings.Contains(keys[0][strings.LastIndex(keys[0], "/"):], ".") {
			t.Fatalf("%s: keys %v, want extension %q", name, keys, c.ext)
		}
		got := decompress(t, string(c.format), e.get(t, "bkt", keys[0]))
		if string(got) != want.String() {
			t.Fatalf("%s: decompressed %d bytes, want %d", name, len(got), want.Len())
		}
	}
}

func TestSizeAndIntervalTriggers(t *testing.T) {
	e := newEnv(t)
	e.bucket(t, "bkt")
	d := s3dest("bkt")
	d.Prefix = aws.String("size/")
	d.BufferingHints = &types.BufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(900)}
	e.create(t, &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("size"), ExtendedS3DestinationConfiguration: d})
	// Five 300,000-byte records: 1 MiB is reached at the fourth, which closes the first
	// object; the fifth waits for the interval (or a flush).
	rec := strings.Repeat("x", 300000)
	for i := 0; i < 5; i++ {
		e.put(t, "size", rec)
	}
	keys := e.waitKeys(t, "bkt", "size/", 1)
	if got := len(e.get(t, "bkt", keys[0])); got != 4*300000 {
		t.Fatalf("size-triggered object holds %d bytes", got)
	}
	if k := e.flush(t, "size"); len(k) != 1 || len(e.get(t, "bkt", k[0])) != 300000 {
		t.Fatalf("flush after size trigger %v", k)
	}

	for _, secs := range []int32{0, 1} {
		name := "interval" + string(rune('0'+secs))
		d := s3dest("bkt")
		d.Prefix = aws.String(name + "/")
		d.BufferingHints = &types.BufferingHints{SizeInMBs: aws.Int32(128), IntervalInSeconds: aws.Int32(secs)}
		e.create(t, &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String(name), ExtendedS3DestinationConfiguration: d})
		e.put(t, name, "a", "b")
		keys := e.waitKeys(t, "bkt", name+"/", 1)
		if got := string(e.get(t, "bkt", keys[0])); got != "ab" {
			t.Fatalf("%s: object %q", name, got)
		}
	}
}

func TestAppendDelimiter(t *testing.T) {
	e := newEnv(t)
	e.bucket(t, "bkt")
	for _, c := range []struct {
		name   string
		params []types.ProcessorParameter
		want   string
	}{
		{"nl", nil, "a\nb\n"},
		{"custom", []types.ProcessorParameter{{ParameterName: types.ProcessorParameterNameDelimiter, ParameterValue: aws.String("LHw=")}}, "a,|b,|"},
	} {
		d := s3dest("bkt")
		d.ProcessingConfiguration = processing(types.Processor{Type: types.ProcessorTypeAppendDelimiterToRecord, Parameters: c.params})
		e.create(t, &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String(c.name), ExtendedS3DestinationConfiguration: d})
		e.put(t, c.name, "a", "b")
		keys := e.flush(t, c.name)
		if got := string(e.get(t, "bkt", keys[0])); got != c.want {
			t.Fatalf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	// Processing disabled: the processor is stored but not applied.
	d := s3dest("bkt")
	d.ProcessingConfiguration = processing(types.Processor{Type: types.ProcessorTypeAppendDelimiterToRecord})
	d.ProcessingConfiguration.Enabled = aws.Bool(false)
	e.create(t, &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("off"), ExtendedS3DestinationConfiguration: d})
	e.put(t, "off", "a", "b")
	if got := string(e.get(t, "bkt", e.flush(t, "off")[0])); got != "ab" {
		t.Fatalf("disabled processing: %q", got)
	}
	desc, _ := e.fh.DescribeDeliveryStream(ctx, &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("off")})
	if pc := desc.DeliveryStreamDescription.Destinations[0].ExtendedS3DestinationDescription.ProcessingConfiguration; pc == nil || *pc.Enabled || len(pc.Processors) != 1 {
		t.Fatalf("processing configuration not described back: %+v", pc)
	}
}

func TestKinesisSource(t *testing.T) {
	e := newEnv(t)
	e.bucket(t, "bkt")
	e.stream(t, "src", 3)
	putK := func(data ...string) {
		for i, d := range data {
			if _, err := e.kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("src"), PartitionKey: aws.String(string(rune('a' + i%26))), Data: []byte(d)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	putK("before-1", "before-2") // put before any delivery stream exists: never delivered
	time.Sleep(5 * time.Millisecond)
	for _, n := range []string{"k1", "k2"} {
		d := s3dest("bkt")
		d.Prefix = aws.String(n + "/")
		d.ProcessingConfiguration = processing(types.Processor{Type: types.ProcessorTypeAppendDelimiterToRecord})
		e.create(t, &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String(n), DeliveryStreamType: types.DeliveryStreamTypeKinesisStreamAsSource,
			KinesisStreamSourceConfiguration: kinesisSource("src"), ExtendedS3DestinationConfiguration: d})
	}
	want := recs("r", 60)
	putK(want...)
	// k1 is flushed now; k2 independently later, after more records.
	got1 := map[string]int{}
	for _, k := range e.flush(t, "k1") {
		for _, line := range strings.Split(strings.TrimSuffix(string(e.get(t, "bkt", k)), "\n"), "\n") {
			got1[line]++
		}
	}
	if len(got1) != 60 {
		t.Fatalf("k1 delivered %d distinct records, want 60: %v", len(got1), got1)
	}
	for _, r := range want {
		if got1[r] != 1 {
			t.Fatalf("k1: %s delivered %d times", r, got1[r])
		}
	}
	putK("late")
	got2 := map[string]int{}
	for _, k := range e.flush(t, "k2") {
		for _, line := range strings.Split(strings.TrimSuffix(string(e.get(t, "bkt", k)), "\n"), "\n") {
			got2[line]++
		}
	}
	if len(got2) != 61 || got2["late"] != 1 || got2["before-1"] != 0 {
		t.Fatalf("k2 delivered %d records: %v", len(got2), got2)
	}
	if k := e.flush(t, "k1"); len(k) != 1 || string(e.get(t, "bkt", k[0])) != "late\n" {
		t.Fatalf("k1 second flush %v", k)
	}

	_, err := e.fh.PutRecord(ctx, &firehose.PutRecordInput{DeliveryStreamName: aws.String("k1"), Record: &types.Record{Data: []byte("x")}})
	wantErr(t, err, "InvalidArgumentException", "This operation is not permitted on KinesisStreamAsSource delivery stream type.")
	_, err = e.fh.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String("k1"), Records: []types.Record{{Data: []byte("x")}}})
	wantErr(t, err, "InvalidArgumentException", "This operation is not permitted on KinesisStreamAsSource delivery stream type.")
	_, err = e.fh.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("k3"), DeliveryStreamType: types.DeliveryStreamTypeKinesisStreamAsSource,
		KinesisStreamSourceConfiguration: kinesisSource("missing"), ExtendedS3DestinationConfiguration: s3dest("bkt")})
	wantErr(t, err, "InvalidArgumentException", "arn:aws:kinesis:us-east-1:000000000000:stream/missing does not exist")
}

func TestRestartKeepsBufferedRecords(t *testing.T) {
	dir := t.TempDir()
	e := openEnv(t, dir, nil)
	e.bucket(t, "bkt")
	e.create(t, &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("r"), ExtendedS3DestinationConfiguration: s3dest("bkt")})
	e.put(t, "r", "a", "b")
	e.close() // a graceful stop delivers what is buffered
	e = openEnv(t, dir, nil)
	keys := e.keys(t, "bkt", "")
	if len(keys) != 1 || string(e.get(t, "bkt", keys[0])) != "ab" {
		t.Fatalf("after restart: %v", keys)
	}
	e.put(t, "r", "c")
	if k := e.flush(t, "r"); len(k) != 1 || string(e.get(t, "bkt", k[0])) != "c" {
		t.Fatalf("after restart flush %v", k)
	}
	if len(e.keys(t, "bkt", "")) != 2 {
		t.Fatal("records duplicated over the restart")
	}
}

func TestConfigFileDeliveryStreams(t *testing.T) {
	dir := t.TempDir()
	res, err := app.ParseResources([]byte(`
streams: [{StreamName: s, ShardCount: 1}]
buckets: [bkt]
deliveryStreams:
  - DeliveryStreamName: fromconfig
    DeliveryStreamType: KinesisStreamAsSource
    KinesisStreamSourceConfiguration:
      KinesisStreamARN: arn:aws:kinesis:us-east-1:000000000000:stream/s
      RoleARN: arn:aws:iam::000000000000:role/r
    ExtendedS3DestinationConfiguration:
      BucketARN: arn:aws:s3:::bkt
      RoleARN: arn:aws:iam::000000000000:role/r
      CompressionFormat: GZIP
`))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ { // the second start finds everything there already
		e := openEnv(t, dir, func(c *app.Config) { c.Resources = res })
		d, err := e.fh.DescribeDeliveryStream(ctx, &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("fromconfig")})
		if err != nil {
			t.Fatal(err)
		}
		if x := d.DeliveryStreamDescription.Destinations[0].ExtendedS3DestinationDescription; x.CompressionFormat != types.CompressionFormatGzip {
			t.Fatalf("config stream %+v", x)
		}
		e.close()
	}
	bad, _ := app.ParseResources([]byte("deliveryStreams: [{DeliveryStreamName: x, ExtendedS3DestinationConfiguration: {BucketARN: 'arn:aws:s3:::nobucket', RoleARN: 'arn:aws:iam::000000000000:role/r'}}]"))
	cfg := app.DefaultConfig()
	cfg.Listen, cfg.DataDir, cfg.Resources = "127.0.0.1:0", t.TempDir(), bad
	if _, err := app.Open(cfg, nil); err == nil || !strings.Contains(err.Error(), "deliveryStreams[0]: InvalidArgumentException: Bucket nobucket does not exist") {
		t.Fatalf("bad config: %v", err)
	}
}

func TestMetrics(t *testing.T) {
	e := newEnv(t)
	e.bucket(t, "bkt")
	e.create(t, &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("m"), ExtendedS3DestinationConfiguration: s3dest("bkt")})
	e.put(t, "m", "abc", "de")
	e.flush(t, "m")
	// A Kinesis source counts as incoming what the delivery stream reads from the stream.
	e.stream(t, "ks", 2)
	e.create(t, &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("mk"), DeliveryStreamType: types.DeliveryStreamTypeKinesisStreamAsSource,
		KinesisStreamSourceConfiguration: kinesisSource("ks"), ExtendedS3DestinationConfiguration: s3dest("bkt")})
	for i, data := range []string{"one", "two", "three"} {
		if _, err := e.kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("ks"), PartitionKey: aws.String(fmt.Sprint("pk", i)), Data: []byte(data)}); err != nil {
			t.Fatal(err)
		}
	}
	e.flush(t, "mk")
	// A partitioned delivery reports success and freshness like any other.
	e.create(t, &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("mp"),
		ExtendedS3DestinationConfiguration: partitioned("{customer_id: .c, device: .d}")})
	e.put(t, "mp", `{"c":"1","d":"x"}`, `{"c":"2","d":"y"}`)
	if keys := e.flush(t, "mp"); len(keys) != 2 {
		t.Fatalf("partitioned keys %v", keys)
	}
	body := e.metrics(t)
	for _, want := range []string{
		`localpipe_firehose_incoming_records_total{delivery_stream_name="mk"} 3`,
		`localpipe_firehose_incoming_bytes_total{delivery_stream_name="mk"} 11`,
		`localpipe_firehose_delivery_to_s3_records_total{delivery_stream_name="mk"} 3`,
		`localpipe_firehose_delivery_to_s3_data_freshness_seconds{delivery_stream_name="mk"}`,
		`localpipe_firehose_incoming_records_total{delivery_stream_name="mp"} 2`,
		`localpipe_firehose_delivery_to_s3_records_total{delivery_stream_name="mp"} 2`,
		`localpipe_firehose_delivery_to_s3_success_total{delivery_stream_name="mp",result="success"} 1`,
		`localpipe_firehose_delivery_to_s3_data_freshness_seconds{delivery_stream_name="mp"}`,
		`localpipe_firehose_incoming_records_total{delivery_stream_name="m"} 2`,
		`localpipe_firehose_incoming_bytes_total{delivery_stream_name="m"} 5`,
		`localpipe_firehose_delivery_to_s3_records_total{delivery_stream_name="m"} 2`,
		`localpipe_firehose_delivery_to_s3_bytes_total{delivery_stream_name="m"} 5`,
		`localpipe_firehose_delivery_to_s3_success_total{delivery_stream_name="m",result="success"} 1`,
		`localpipe_firehose_delivery_to_s3_data_freshness_seconds{delivery_stream_name="m"}`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestInvokeInProcess(t *testing.T) {
	e := newEnv(t)
	e.bucket(t, "bkt")
	e.create(t, &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("inv"), ExtendedS3DestinationConfiguration: s3dest("bkt")})
	h := e.a.FirehoseAPI()
	status, ct, body := h.Invoke(ctx, "PutRecord", []byte(`{"DeliveryStreamName":"inv","Record":{"Data":"aGk="}}`), "")
	if status != 200 || ct != "application/x-amz-json-1.1" || !strings.Contains(string(body), `"RecordId":"`) {
		t.Fatalf("Invoke: %d %s %s", status, ct, body)
	}
	status, _, body = h.Invoke(ctx, "PutRecord", []byte(`{"DeliveryStreamName":"inv"}`), "eu-west-1")
	if status != 400 || !strings.Contains(string(body), "ValidationException") {
		t.Fatalf("Invoke bad: %d %s", status, body)
	}
	status, _, body = h.Invoke(ctx, "Nope", []byte(`{}`), "")
	if status != 400 || !strings.Contains(string(body), "UnknownOperationException") {
		t.Fatalf("Invoke unknown: %d %s", status, body)
	}
	if k := e.flush(t, "inv"); len(k) != 1 || string(e.get(t, "bkt", k[0])) != "hi" {
		t.Fatalf("flush %v", k)
	}
}

func TestAWSCLI(t *testing.T) {
	const cli = "/usr/bin/aws"
	if _, err := os.Stat(cli); err != nil {
		t.Skip("no AWS CLI at " + cli)
	}
	e := newEnv(t)
	e.bucket(t, "bkt")
	e.create(t, &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("cli"), ExtendedS3DestinationConfiguration: s3dest("bkt")})
	run := func(args ...string) string {
		cmd := exec.Command(cli, append([]string{"--endpoint-url", e.a.Endpoint(), "--region", "us-east-1", "--output", "json"}, args...)...)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_PAGER=")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	// CLI v1 takes blob arguments as raw text; v2 wants base64 unless told otherwise.
	out := run("firehose", "put-record", "--delivery-stream-name", "cli", "--record", `{"Data":"aGVsbG8="}`, "--cli-binary-format", "base64")
	if !strings.Contains(out, "RecordId") {
		// AWS CLI v1 has no --cli-binary-format; run() failed the test already in that case.
		t.Fatalf("put-record: %s", out)
	}
	out = run("firehose", "describe-delivery-stream", "--delivery-stream-name", "cli")
	if !strings.Contains(out, `"DeliveryStreamStatus": "ACTIVE"`) || !strings.Contains(out, `"SizeInMBs": 5`) {
		t.Fatalf("describe-delivery-stream: %s", out)
	}
	if k := e.flush(t, "cli"); len(k) != 1 || string(e.get(t, "bkt", k[0])) != "hello" {
		t.Fatalf("flush %v", k)
	}
}

// TestSeedConfig runs the seed's pipeline from examples/seed/localpipe.yaml: Kinesis records
// arrive in the bucket as GZIP objects.
func TestSeedConfig(t *testing.T) {
	res, err := app.LoadResources("../../examples/seed/localpipe.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e := openEnv(t, t.TempDir(), func(c *app.Config) { c.Resources = res })
	for _, d := range []string{`{"a":1}`, `{"a":2}`} {
		if _, err := e.kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("my-data-stream"), PartitionKey: aws.String("k"), Data: []byte(d)}); err != nil {
			t.Fatal(err)
		}
	}
	keys := e.flush(t, "my-firehose-stream")
	if len(keys) != 1 || !strings.HasSuffix(keys[0], ".gz") {
		t.Fatalf("keys %v", keys)
	}
	if got := string(decompress(t, "GZIP", e.get(t, "my-delivery-bucket", keys[0]))); got != `{"a":1}{"a":2}` {
		t.Fatalf("object %q", got)
	}
}

// TestLegacyS3Destination uses the older S3DestinationConfiguration and S3DestinationUpdate.
func TestLegacyS3Destination(t *testing.T) {
	e := newEnv(t)
	e.bucket(t, "bkt")
	e.bucket(t, "bkt2")
	e.create(t, &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("old"), S3DestinationConfiguration: &types.S3DestinationConfiguration{
		RoleARN: aws.String(role), BucketARN: aws.String("arn:aws:s3:::bkt"), Prefix: aws.String("old/"), CompressionFormat: types.CompressionFormatGzip,
		BufferingHints: &types.BufferingHints{SizeInMBs: aws.Int32(2), IntervalInSeconds: aws.Int32(120)}}})
	d, err := e.fh.DescribeDeliveryStream(ctx, &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("old")})
	if err != nil {
		t.Fatal(err)
	}
	if s := d.DeliveryStreamDescription.Destinations[0].S3DestinationDescription; *s.Prefix != "old/" || s.CompressionFormat != types.CompressionFormatGzip || *s.BufferingHints.SizeInMBs != 2 {
		t.Fatalf("S3 description %+v", s)
	}
	e.put(t, "old", "a")
	if k := e.flush(t, "old"); len(k) != 1 || !strings.HasPrefix(k[0], "old/") || string(decompress(t, "GZIP", e.get(t, "bkt", k[0]))) != "a" {
		t.Fatalf("keys %v", k)
	}
	if _, err := e.fh.UpdateDestination(ctx, &firehose.UpdateDestinationInput{DeliveryStreamName: aws.String("old"), CurrentDeliveryStreamVersionId: aws.String("1"),
		DestinationId: aws.String("destinationId-000000000001"), S3DestinationUpdate: &types.S3DestinationUpdate{BucketARN: aws.String("arn:aws:s3:::bkt2"),
			CompressionFormat: types.CompressionFormatUncompressed}}); err != nil {
		t.Fatal(err)
	}
	e.put(t, "old", "b")
	if k := e.flush(t, "old"); len(k) != 1 || !strings.HasPrefix(k[0], "old/") || string(e.get(t, "bkt2", k[0])) != "b" {
		t.Fatalf("after update: keys %v", k)
	}
}

// TestCreatingThenActive keeps new delivery streams CREATING for --stream-create-delay.
func TestCreatingThenActive(t *testing.T) {
	e := openEnv(t, t.TempDir(), func(c *app.Config) { c.StreamCreateDelay = 300 * time.Millisecond })
	e.bucket(t, "bkt")
	e.create(t, &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("slow"), ExtendedS3DestinationConfiguration: s3dest("bkt")})
	d, _ := e.fh.DescribeDeliveryStream(ctx, &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("slow")})
	if d.DeliveryStreamDescription.DeliveryStreamStatus != types.DeliveryStreamStatusCreating {
		t.Fatalf("status %s", d.DeliveryStreamDescription.DeliveryStreamStatus)
	}
	_, err := e.fh.PutRecord(ctx, &firehose.PutRecordInput{DeliveryStreamName: aws.String("slow"), Record: &types.Record{Data: []byte("x")}})
	wantErr(t, err, "ResourceNotFoundException", "is not ACTIVE, instead in state CREATING")
	for d.DeliveryStreamDescription.DeliveryStreamStatus != types.DeliveryStreamStatusActive {
		time.Sleep(20 * time.Millisecond)
		d, _ = e.fh.DescribeDeliveryStream(ctx, &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("slow")})
	}
	e.put(t, "slow", "x")
	if k := e.flush(t, "slow"); len(k) != 1 || string(e.get(t, "bkt", k[0])) != "x" {
		t.Fatalf("keys %v", k)
	}
}
