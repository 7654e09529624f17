package app_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/localpipe/localpipe/internal/app"
	"github.com/localpipe/localpipe/localpipetest"
)

// channelFixture makes a bucket and an ON_DEMAND stream for channels to read and write.
func channelFixture(t *testing.T, kin *kinesis.Client, s3c *s3.Client, bucket string, streams ...string) {
	t.Helper()
	ctx := context.Background()
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	for _, name := range streams {
		if _, err := kin.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name),
			StreamModeDetails: &ktypes.StreamModeDetails{StreamMode: ktypes.StreamModeOnDemand}}); err != nil {
			t.Fatal(err)
		}
		w := kinesis.NewStreamExistsWaiter(kin, func(o *kinesis.StreamExistsWaiterOptions) { o.MinDelay = 10 * time.Millisecond })
		if err := w.Wait(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(name)}, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
}

func s3Channel(name, stream, bucket string, format ktypes.RecordFormatType, compression ktypes.S3CompressionType) *kinesis.CreateChannelInput {
	return &kinesis.CreateChannelInput{
		ChannelName:             aws.String(name),
		ServiceExecutionRoleARN: aws.String("arn:aws:iam::000000000000:role/channels"),
		StreamConfigurationList: []ktypes.ChannelStreamConfiguration{{
			StreamARN:           aws.String("arn:aws:kinesis:us-east-1:000000000000:stream/" + stream),
			RecordConfiguration: &ktypes.RecordConfiguration{RecordFormatType: format},
		}},
		S3DestinationConfiguration: &ktypes.S3DestinationConfiguration{StorageConfiguration: &ktypes.S3StorageConfiguration{
			BucketARN: aws.String("arn:aws:s3:::" + bucket), CompressionType: compression, ExpectedBucketOwner: aws.String("000000000000"),
		}},
	}
}

// put writes records to a stream under one partition key, so they share a shard and keep
// their order in the object.
func put(t *testing.T, kin *kinesis.Client, stream string, records ...string) {
	t.Helper()
	for _, r := range records {
		if _, err := kin.PutRecord(context.Background(), &kinesis.PutRecordInput{StreamName: aws.String(stream),
			PartitionKey: aws.String("k"), Data: []byte(r)}); err != nil {
			t.Fatal(err)
		}
	}
}

// dlqLine is a line of a dead-letter object.
type dlqLine struct {
	ErrorCode, ErrorMessage, RawData string
	ArrivalTimestamp                 int64
}

func dlqRecords(t *testing.T, body string) []string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(body), "\n") {
		var l dlqLine
		if err := json.Unmarshal([]byte(line), &l); err != nil || l.ErrorCode == "" || l.ErrorMessage == "" || l.ArrivalTimestamp == 0 {
			t.Fatalf("dead-letter line %q: %v", line, err)
		}
		b, err := base64.StdEncoding.DecodeString(l.RawData)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}

// TestChannelDeliversToS3 creates channels to a bucket with the AWS SDK, puts valid and
// invalid records, flushes, and reads the objects back: keys follow the default template
// (or the channel's) with the unique suffix, GZIP and ZSTD objects decode, invalid records
// are in the dead-letter prefix, and records put before the channel are not delivered.
func TestChannelDeliversToS3(t *testing.T) {
	s := startServer(t, "", map[string]string{"localpipe.yaml": ""})
	ctx := context.Background()
	channelFixture(t, s.kin, s.s3, "dest", "events", "logs")
	put(t, s.kin, "events", `{"before":true}`)

	out, err := s.kin.CreateChannel(ctx, s3Channel("ev", "events", "dest", ktypes.RecordFormatTypeJson, ktypes.S3CompressionTypeGzip))
	if err != nil {
		t.Fatal(err)
	}
	ev := out.ChannelDescription
	if ev.ChannelStatus != ktypes.ChannelStatusActive || *ev.ChannelARN != "arn:aws:kinesis:us-east-1:000000000000:channel/ev" {
		t.Fatalf("created: %+v", ev)
	}
	zin := s3Channel("lg", "logs", "dest", ktypes.RecordFormatTypeString, ktypes.S3CompressionTypeZstd)
	zin.S3DestinationConfiguration.StorageConfiguration.OutputKeyTemplate = aws.String("logs/!{yyyy}-!{MM}-!{dd}/!{stream-name}/!{channel-name}!{extension}")
	zin.S3DestinationConfiguration.DeadLetterQueueS3Configuration = &ktypes.DeadLetterQueueS3Configuration{
		BucketARN: aws.String("arn:aws:s3:::dest"), ExpectedBucketOwner: aws.String("000000000000"), ErrorOutputPrefix: aws.String("bad/lg/")}
	bad := *zin
	badStorage := *zin.S3DestinationConfiguration.StorageConfiguration
	badStorage.OutputKeyTemplate = aws.String("logs/!{hour}/x")
	bad.S3DestinationConfiguration = &ktypes.S3DestinationConfiguration{StorageConfiguration: &badStorage}
	_, err = s.kin.CreateChannel(ctx, &bad)
	wantAPIError(t, "CreateChannel with an unknown variable", err, "InvalidArgumentException", "Invalid OutputKeyTemplate: OutputKeyTemplate has the unknown variable !{hour}")
	out, err = s.kin.CreateChannel(ctx, zin)
	if err != nil {
		t.Fatal(err)
	}
	lg := out.ChannelDescription

	put(t, s.kin, "events", `{"n":1}`, `not json`, `{"n":2}`, `[3]`, `{"n":`)
	put(t, s.kin, "logs", "line one\n", "\xff\xfe not utf-8", "line two\n")
	if r := s.do(t, "POST", s.a.Endpoint()+"/_localpipe/firehose/flush", ""); r.status != 200 {
		t.Fatalf("flush: %d %s", r.status, r.body)
	}

	objs := s.objects(t, "dest")
	keys := make([]string, 0, len(objs))
	for k := range objs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) != 4 {
		t.Fatalf("objects: %v", keys)
	}
	day := time.Now().UTC().Format("2006/01/02")
	evKey := regexp.MustCompile(`^kinesis-channel/ev/` + *ev.ChannelId + `/` + day + `/\d\d/ev-` + *ev.ChannelId + `-` + strings.ReplaceAll(day, "/", "-") + `-\d\d-\d\d-[0-9a-f]{16}\.gz$`)
	evDLQ := regexp.MustCompile(`^kinesis-channel/errors/ev/` + *ev.ChannelId + `/ev-` + *ev.ChannelId + `-[0-9-]+-[0-9a-f]{16}\.json$`)
	lgKey := regexp.MustCompile(`^logs/` + strings.ReplaceAll(day, "/", "-") + `/logs/lg-[0-9a-f]{16}\.zst$`)
	lgDLQ := regexp.MustCompile(`^bad/lg/lg-` + *lg.ChannelId + `-[0-9-]+-[0-9a-f]{16}\.json$`)
	found := map[*regexp.Regexp]string{}
	for _, k := range keys {
		for _, re := range []*regexp.Regexp{evKey, evDLQ, lgKey, lgDLQ} {
			if re.MatchString(k) {
				found[re] = k
			}
		}
	}
	if len(found) != 4 {
		t.Fatalf("keys %v do not match the templates", keys)
	}
	if got := objs[found[evKey]]; got != `{"n":1}{"n":2}[3]` {
		t.Errorf("JSON channel's object: %q", got)
	}
	if got := dlqRecords(t, objs[found[evDLQ]]); strings.Join(got, "|") != `not json|{"n":` {
		t.Errorf("JSON channel's dead letters: %q", got)
	}
	if got := objs[found[lgKey]]; got != "line one\nline two\n" {
		t.Errorf("STRING channel's object: %q", got)
	}
	if got := dlqRecords(t, objs[found[lgDLQ]]); len(got) != 1 || got[0] != "\xff\xfe not utf-8" {
		t.Errorf("STRING channel's dead letters: %q", got)
	}

	// A flush with nothing new writes nothing more.
	if r := s.do(t, "POST", s.a.Endpoint()+"/_localpipe/firehose/flush", ""); r.status != 200 {
		t.Fatalf("flush: %d %s", r.status, r.body)
	}
	if n := len(s.objects(t, "dest")); n != 4 {
		t.Fatalf("%d objects after an empty flush", n)
	}

	// Describe, update, list, and the channels hidden from Firehose.
	d, err := s.kin.DescribeChannel(ctx, &kinesis.DescribeChannelInput{ChannelARN: ev.ChannelARN})
	if err != nil || *d.ChannelDescription.S3DestinationConfiguration.DataFreshnessInSeconds != 300 ||
		*d.ChannelDescription.StreamConfigurationList[0].StreamARN != "arn:aws:kinesis:us-east-1:000000000000:stream/events" {
		t.Fatalf("describe: %+v %v", d, err)
	}
	u, err := s.kin.UpdateChannel(ctx, &kinesis.UpdateChannelInput{ChannelARN: ev.ChannelARN,
		S3DestinationConfiguration: &ktypes.S3DestinationUpdateInput{DataFreshnessInSeconds: aws.Int32(900)}})
	if err != nil || u.ChannelDescription.ChannelStatus != ktypes.ChannelStatusUpdating || *u.ChannelDescription.S3DestinationConfiguration.DataFreshnessInSeconds != 900 {
		t.Fatalf("update: %+v %v", u, err)
	}
	l, err := s.kin.ListChannels(ctx, &kinesis.ListChannelsInput{StreamFilter: []ktypes.StreamFilter{{StreamARN: aws.String("arn:aws:kinesis:us-east-1:000000000000:stream/logs")}}})
	if err != nil || len(l.ChannelSummaries) != 1 || *l.ChannelSummaries[0].ChannelName != "lg" || l.ChannelSummaries[0].ChannelDestinationType != ktypes.ChannelDestinationTypeS3 {
		t.Fatalf("list: %+v %v", l, err)
	}
	if r := s.do(t, "POST", "http://"+s.a.Addr()+"/", `{}`, "X-Amz-Target", "Firehose_20150804.ListDeliveryStreams", "Content-Type", "application/x-amz-json-1.1",
		"Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/firehose/aws4_request, SignedHeaders=host, Signature=x"); r.status != 200 || strings.Contains(r.body, "channel") {
		t.Fatalf("Firehose lists %d %s", r.status, r.body)
	}

	// The stream cannot go while a channel reads it; after DeleteChannel it can.
	_, err = s.kin.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String("events")})
	wantAPIError(t, "DeleteStream", err, "ResourceInUseException", "channels read from this data stream: ev")
	if _, err := s.kin.DeleteChannel(ctx, &kinesis.DeleteChannelInput{ChannelARN: ev.ChannelARN}); err != nil {
		t.Fatal(err)
	}
	_, err = s.kin.DescribeChannel(ctx, &kinesis.DescribeChannelInput{ChannelARN: ev.ChannelARN})
	wantAPIError(t, "DescribeChannel", err, "ResourceNotFoundException", "Channel arn:aws:kinesis:us-east-1:000000000000:channel/ev under account 000000000000 not found.")
	if _, err := s.kin.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String("events")}); err != nil {
		t.Fatal(err)
	}
}

// TestChannelLifecycleE2E follows a channel through CREATING, ACTIVE, UPDATING and DELETING
// under --stream-create-delay, delivering only what arrived once it was ACTIVE; a channel to
// S3 Tables goes FAILED with the reason.
func TestChannelLifecycleE2E(t *testing.T) {
	s := startServerConfig(t, func(c *app.Config) { c.StreamCreateDelay = 200 * time.Millisecond }, "", map[string]string{"localpipe.yaml": ""})
	ctx := context.Background()
	channelFixture(t, s.kin, s.s3, "dest", "od")
	out, err := s.kin.CreateChannel(ctx, s3Channel("c", "od", "dest", ktypes.RecordFormatTypeByteArray, ktypes.S3CompressionTypeNone))
	if err != nil {
		t.Fatal(err)
	}
	if out.ChannelDescription.ChannelStatus != ktypes.ChannelStatusCreating {
		t.Fatalf("created: %v", out.ChannelDescription.ChannelStatus)
	}
	put(t, s.kin, "od", "while creating")
	w := kinesis.NewChannelActiveWaiter(s.kin, func(o *kinesis.ChannelActiveWaiterOptions) { o.MinDelay = 20 * time.Millisecond })
	if err := w.Wait(ctx, &kinesis.DescribeChannelInput{ChannelARN: out.ChannelDescription.ChannelARN}, time.Minute); err != nil {
		t.Fatal(err)
	}
	put(t, s.kin, "od", "\x00\x01 bytes")
	s.flush(t, "channel:c")
	objs := s.objects(t, "dest")
	if len(objs) != 1 {
		t.Fatalf("objects: %v", objs)
	}
	for k, v := range objs {
		if v != "\x00\x01 bytes" || !strings.HasPrefix(k, "kinesis-channel/c/") || strings.HasSuffix(k, ".gz") {
			t.Fatalf("%s: %q", k, v)
		}
	}
	u, err := s.kin.UpdateChannel(ctx, &kinesis.UpdateChannelInput{ChannelARN: out.ChannelDescription.ChannelARN,
		LoggingConfiguration: &ktypes.ChannelLoggingUpdateInput{CloudWatchLogs: &ktypes.CloudWatchLogsUpdateInput{Enabled: aws.Bool(true), LogGroupName: aws.String("g")}}})
	if err != nil || u.ChannelDescription.ChannelStatus != ktypes.ChannelStatusUpdating || !*u.ChannelDescription.LoggingConfiguration.CloudWatchLogs.Enabled {
		t.Fatalf("update: %+v %v", u, err)
	}
	if err := w.Wait(ctx, &kinesis.DescribeChannelInput{ChannelARN: out.ChannelDescription.ChannelARN}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := s.kin.DeleteChannel(ctx, &kinesis.DeleteChannelInput{ChannelARN: out.ChannelDescription.ChannelARN}); err != nil {
		t.Fatal(err)
	}
	d, err := s.kin.DescribeChannel(ctx, &kinesis.DescribeChannelInput{ChannelARN: out.ChannelDescription.ChannelARN})
	if err != nil || d.ChannelDescription.ChannelStatus != ktypes.ChannelStatusDeleting {
		t.Fatalf("deleting: %+v %v", d, err)
	}

	tin := &kinesis.CreateChannelInput{
		ChannelName:             aws.String("tables"),
		ServiceExecutionRoleARN: aws.String("arn:aws:iam::000000000000:role/channels"),
		StreamConfigurationList: []ktypes.ChannelStreamConfiguration{{
			StreamARN: aws.String("arn:aws:kinesis:us-east-1:000000000000:stream/od"),
			RecordConfiguration: &ktypes.RecordConfiguration{RecordFormatType: ktypes.RecordFormatTypeGsrJson,
				GSRSchemaARN: aws.String("arn:aws:glue:us-east-1:000000000000:schema/reg/events")},
		}},
		S3TablesDestinationConfiguration: &ktypes.S3TablesDestinationConfiguration{
			S3TablesConfigurationList: []ktypes.S3TablesConfiguration{{TableBucketARN: aws.String("arn:aws:s3tables:us-east-1:000000000000:bucket/lake"),
				Namespace: aws.String("ns"), TableName: aws.String("events"), CompressionType: ktypes.S3TablesCompressionTypeZstd}},
			DeadLetterQueueS3Configuration: &ktypes.DeadLetterQueueS3Configuration{BucketARN: aws.String("arn:aws:s3:::dest"), ExpectedBucketOwner: aws.String("000000000000")},
		},
	}
	tout, err := s.kin.CreateChannel(ctx, tin)
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.WaitForOutput(ctx, &kinesis.DescribeChannelInput{ChannelARN: tout.ChannelDescription.ChannelARN}, time.Minute)
	if err == nil {
		t.Fatal("the S3 Tables channel became ACTIVE")
	}
	td, err := s.kin.DescribeChannel(ctx, &kinesis.DescribeChannelInput{ChannelARN: tout.ChannelDescription.ChannelARN})
	if err != nil || td.ChannelDescription.ChannelStatus != ktypes.ChannelStatusFailed ||
		!strings.Contains(aws.ToString(td.ChannelDescription.ChannelStatusReason), "arn:aws:s3tables:us-east-1:000000000000:bucket/lake cannot be reached") {
		t.Fatalf("S3 Tables channel: %+v %v", td, err)
	}
}

// TestChannelSurvivesRestart keeps a channel across a clean restart: same id, still ACTIVE,
// and every record put before and after it is delivered exactly once.
func TestChannelSurvivesRestart(t *testing.T) {
	dataDir := t.TempDir()
	srv := localpipetest.Start(t, localpipetest.DataDir(dataDir))
	kin, s3c := srv.Kinesis(), srv.S3()
	ctx := context.Background()
	channelFixture(t, kin, s3c, "dest", "od")
	out, err := kin.CreateChannel(ctx, s3Channel("c", "od", "dest", ktypes.RecordFormatTypeJson, ktypes.S3CompressionTypeGzip))
	if err != nil {
		t.Fatal(err)
	}
	put(t, kin, "od", `{"i":1}`, `{"i":2}`)
	if keys := srv.Flush(""); len(keys) != 1 {
		t.Fatalf("first flush: %v", keys)
	}
	put(t, kin, "od", `{"i":3}`)
	if err := srv.Close(); err != nil { // a clean stop delivers {"i":3}
		t.Fatal(err)
	}
	srv = localpipetest.Start(t, localpipetest.DataDir(dataDir))
	kin = srv.Kinesis()
	d, err := kin.DescribeChannel(ctx, &kinesis.DescribeChannelInput{ChannelARN: out.ChannelDescription.ChannelARN})
	if err != nil || *d.ChannelDescription.ChannelId != *out.ChannelDescription.ChannelId || d.ChannelDescription.ChannelStatus != ktypes.ChannelStatusActive {
		t.Fatalf("after the restart: %+v %v", d, err)
	}
	put(t, kin, "od", `{"i":4}`)
	srv.Flush("")
	srv.Flush("")
	s := &server{s3: srv.S3()}
	var all []string
	for _, v := range s.objects(t, "dest") {
		all = append(all, v)
	}
	sort.Strings(all)
	if got := strings.Join(all, ""); got != `{"i":1}{"i":2}{"i":3}{"i":4}` {
		t.Fatalf("delivered %q", all)
	}
}
