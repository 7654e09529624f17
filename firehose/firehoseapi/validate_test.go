package firehoseapi_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
)

const (
	okRole   = `"RoleARN":"arn:aws:iam::000000000000:role/r"`
	okBucket = `"BucketARN":"arn:aws:s3:::bkt"`
)

func ext(members string) string {
	if members != "" {
		members = "," + members
	}
	return `{"DeliveryStreamName":"v","ExtendedS3DestinationConfiguration":{` + okRole + `,` + okBucket + members + `}}`
}

func procs(p string) string {
	return ext(`"ProcessingConfiguration":{"Enabled":true,"Processors":[` + p + `]}`)
}

// TestBadInputs sends what the SDKs would not, and checks AWS's error type and message.
func TestBadInputs(t *testing.T) {
	e := newEnv(t)
	e.bucket(t, "bkt")
	e.stream(t, "src", 1)
	e.create(t, &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("exists"), ExtendedS3DestinationConfiguration: s3dest("bkt")})
	e.create(t, &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("fromk"), DeliveryStreamType: types.DeliveryStreamTypeKinesisStreamAsSource,
		KinesisStreamSourceConfiguration: kinesisSource("src"), ExtendedS3DestinationConfiguration: s3dest("bkt")})
	big := base64.StdEncoding.EncodeToString(make([]byte, 1024001))
	for _, c := range []struct {
		action, body, typ, msg string
	}{
		// Malformed JSON and wrong types.
		{"CreateDeliveryStream", `{"DeliveryStreamName":`, "SerializationException", ""},
		{"CreateDeliveryStream", `[]`, "SerializationException", "Start of list found where not expected"},
		{"CreateDeliveryStream", `{"DeliveryStreamName":5}`, "SerializationException", "can not be converted to an String"},
		{"PutRecord", `{"DeliveryStreamName":"exists","Record":{"Data":"not base64!"}}`, "SerializationException", "can not be converted to a Blob"},
		{"PutRecordBatch", `{"DeliveryStreamName":"exists","Records":{}}`, "SerializationException", "Start of structure or map found where not expected."},
		{"ListDeliveryStreams", `{"Limit":"x"}`, "SerializationException", "can not be converted to an Integer"},
		// Model constraints.
		{"CreateDeliveryStream", `{}`, "ValidationException", "1 validation error detected: Value null at 'deliveryStreamName' failed to satisfy constraint: Member must not be null"},
		{"CreateDeliveryStream", `{"DeliveryStreamName":"bad name!"}`, "ValidationException", "Value 'bad name!' at 'deliveryStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"},
		{"CreateDeliveryStream", `{"DeliveryStreamName":"` + strings.Repeat("a", 65) + `"}`, "ValidationException", "Member must have length less than or equal to 64"},
		{"CreateDeliveryStream", `{"DeliveryStreamName":"v","DeliveryStreamType":"Push"}`, "ValidationException", "Value 'Push' at 'deliveryStreamType' failed to satisfy constraint: Member must satisfy enum value set: [DirectPut, KinesisStreamAsSource, MSKAsSource, DatabaseAsSource]"},
		{"CreateDeliveryStream", `{"DeliveryStreamName":"v","ExtendedS3DestinationConfiguration":{}}`, "ValidationException", "2 validation errors detected: Value null at 'extendedS3DestinationConfiguration.roleARN' failed to satisfy constraint: Member must not be null; Value null at 'extendedS3DestinationConfiguration.bucketARN'"},
		{"CreateDeliveryStream", ext(`"BufferingHints":{"SizeInMBs":0,"IntervalInSeconds":901}`), "ValidationException", "2 validation errors detected: Value '0' at 'extendedS3DestinationConfiguration.bufferingHints.sizeInMBs' failed to satisfy constraint: Member must have value greater than or equal to 1; Value '901' at 'extendedS3DestinationConfiguration.bufferingHints.intervalInSeconds' failed to satisfy constraint: Member must have value less than or equal to 900"},
		{"CreateDeliveryStream", ext(`"BufferingHints":{"SizeInMBs":129,"IntervalInSeconds":-1}`), "ValidationException", "Member must have value less than or equal to 128"},
		{"CreateDeliveryStream", ext(`"CompressionFormat":"BZIP2"`), "ValidationException", "Value 'BZIP2' at 'extendedS3DestinationConfiguration.compressionFormat' failed to satisfy constraint: Member must satisfy enum value set: [UNCOMPRESSED, GZIP, ZIP, Snappy, HADOOP_SNAPPY]"},
		{"CreateDeliveryStream", `{"DeliveryStreamName":"v","ExtendedS3DestinationConfiguration":{` + okRole + `,"BucketARN":"bkt"}}`, "ValidationException", "at 'extendedS3DestinationConfiguration.bucketARN' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:.*:s3:::[\\w\\.\\-]{1,255}"},
		{"CreateDeliveryStream", `{"DeliveryStreamName":"v","ExtendedS3DestinationConfiguration":{"RoleARN":"r",` + okBucket + `}}`, "ValidationException", "at 'extendedS3DestinationConfiguration.roleARN'"},
		{"CreateDeliveryStream", ext(`"FileExtension":"gz"`), "ValidationException", "Value 'gz' at 'extendedS3DestinationConfiguration.fileExtension' failed to satisfy constraint: Member must satisfy regular expression pattern"},
		{"CreateDeliveryStream", ext(`"CustomTimeZone":"UTC+1"`), "ValidationException", "at 'extendedS3DestinationConfiguration.customTimeZone'"},
		{"CreateDeliveryStream", ext(`"Prefix":"` + strings.Repeat("p", 1025) + `"`), "ValidationException", "at 'extendedS3DestinationConfiguration.prefix' failed to satisfy constraint: Member must have length less than or equal to 1024"},
		{"CreateDeliveryStream", procs(`{"Type":"Magic"}`), "ValidationException", "at 'extendedS3DestinationConfiguration.processingConfiguration.processors.1.member.type' failed to satisfy constraint: Member must satisfy enum value set"},
		{"CreateDeliveryStream", procs(`{"Type":"AppendDelimiterToRecord","Parameters":[{"ParameterName":"Delimiter","ParameterValue":" "}]}`), "ValidationException", "processors.1.member.parameters.1.member.parameterValue"},
		{"CreateDeliveryStream", `{"DeliveryStreamName":"v","KinesisStreamSourceConfiguration":{"KinesisStreamARN":"arn:aws:kinesis:us-east-1:000000000000:streams/x"}}`, "ValidationException", "2 validation errors detected: Value 'arn:aws:kinesis:us-east-1:000000000000:streams/x' at 'kinesisStreamSourceConfiguration.kinesisStreamARN' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:.*:kinesis:[a-zA-Z0-9\\-]+:\\d{12}:stream/[a-zA-Z0-9_.-]+; Value null at 'kinesisStreamSourceConfiguration.roleARN'"},
		{"CreateDeliveryStream", `{"DeliveryStreamName":"v","Tags":[{"Key":"aws:x"}]}`, "ValidationException", "Value 'aws:x' at 'tags.1.member.key' failed to satisfy constraint"},
		{"CreateDeliveryStream", `{"DeliveryStreamName":"v","Tags":[]}`, "ValidationException", "at 'tags' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"DescribeDeliveryStream", `{"DeliveryStreamName":"exists","Limit":0}`, "ValidationException", "Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"ListDeliveryStreams", `{"Limit":10001}`, "ValidationException", "Value '10001' at 'limit'"},
		{"ListTagsForDeliveryStream", `{"DeliveryStreamName":"exists","Limit":51}`, "ValidationException", "Value '51' at 'limit'"},
		{"UntagDeliveryStream", `{"DeliveryStreamName":"exists","TagKeys":[]}`, "ValidationException", "at 'tagKeys' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"TagDeliveryStream", `{"DeliveryStreamName":"exists"}`, "ValidationException", "Value null at 'tags'"},
		{"UpdateDestination", `{"DeliveryStreamName":"exists"}`, "ValidationException", "2 validation errors detected: Value null at 'currentDeliveryStreamVersionId' failed to satisfy constraint: Member must not be null; Value null at 'destinationId'"},
		{"UpdateDestination", `{"DeliveryStreamName":"exists","CurrentDeliveryStreamVersionId":"one","DestinationId":"d_1"}`, "ValidationException", "Value 'one' at 'currentDeliveryStreamVersionId' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9]+"},
		{"StartDeliveryStreamEncryption", `{"DeliveryStreamName":"exists","DeliveryStreamEncryptionConfigurationInput":{}}`, "ValidationException", "Value null at 'deliveryStreamEncryptionConfigurationInput.keyType'"},
		// Records.
		{"PutRecord", `{"DeliveryStreamName":"exists"}`, "ValidationException", "Value null at 'record' failed to satisfy constraint: Member must not be null"},
		{"PutRecord", `{"DeliveryStreamName":"exists","Record":{}}`, "ValidationException", "Value null at 'record.data'"},
		{"PutRecord", `{"DeliveryStreamName":"exists","Record":{"Data":"` + big + `"}}`, "ValidationException", "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=1024001 cap=1024001]' at 'record.data' failed to satisfy constraint: Member must have length less than or equal to 1024000"},
		{"PutRecordBatch", `{"DeliveryStreamName":"exists","Records":[{"Data":"YQ=="},{"Data":"` + big + `"}]}`, "ValidationException", "at 'records.2.member.data' failed to satisfy constraint: Member must have length less than or equal to 1024000"},
		{"PutRecordBatch", `{"DeliveryStreamName":"exists","Records":[]}`, "ValidationException", "at 'records' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"PutRecordBatch", `{"DeliveryStreamName":"exists","Records":[` + strings.TrimSuffix(strings.Repeat(`{"Data":"YQ=="},`, 501), ",") + `]}`, "ValidationException", "Value '[501 records]' at 'records' failed to satisfy constraint: Member must have length less than or equal to 500"},
		{"PutRecordBatch", `{"DeliveryStreamName":"exists","Records":[` + strings.TrimSuffix(strings.Repeat(`{"Data":"`+base64.StdEncoding.EncodeToString(make([]byte, 1000*1024))+`"},`, 5), ",") + `]}`, "InvalidArgumentException", "Records size exceeds 4 MB limit"},
		{"PutRecord", `{"DeliveryStreamName":"fromk","Record":{"Data":"YQ=="}}`, "InvalidArgumentException", "This operation is not permitted on KinesisStreamAsSource delivery stream type."},
		{"PutRecord", `{"DeliveryStreamName":"nope","Record":{"Data":"YQ=="}}`, "ResourceNotFoundException", "Firehose nope under account 000000000000 not found."},
		// Rules beyond the model.
		{"CreateDeliveryStream", `{"DeliveryStreamName":"exists","ExtendedS3DestinationConfiguration":{` + okRole + `,` + okBucket + `}}`, "ResourceInUseException", "Firehose exists under accountId 000000000000 already exists"},
		{"CreateDeliveryStream", `{"DeliveryStreamName":"v"}`, "InvalidArgumentException", "Exactly one destination configuration must be provided"},
		{"CreateDeliveryStream", `{"DeliveryStreamName":"v","S3DestinationConfiguration":{` + okRole + `,` + okBucket + `},"ExtendedS3DestinationConfiguration":{` + okRole + `,` + okBucket + `}}`, "InvalidArgumentException", "both S3DestinationConfiguration and ExtendedS3DestinationConfiguration"},
		{"CreateDeliveryStream", `{"DeliveryStreamName":"v","RedshiftDestinationConfiguration":{}}`, "InvalidArgumentException", "Only S3 destinations are available locally"},
		{"CreateDeliveryStream", `{"DeliveryStreamName":"v","ExtendedS3DestinationConfiguration":{` + okRole + `,"BucketARN":"arn:aws:s3:::missing"}}`, "InvalidArgumentException", "Bucket missing does not exist"},
		{"CreateDeliveryStream", `{"DeliveryStreamName":"v","DeliveryStreamType":"KinesisStreamAsSource","ExtendedS3DestinationConfiguration":{` + okRole + `,` + okBucket + `}}`, "InvalidArgumentException", "KinesisStreamSourceConfiguration is required"},
		{"CreateDeliveryStream", `{"DeliveryStreamName":"v","KinesisStreamSourceConfiguration":{"KinesisStreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/src",` + okRole + `},"ExtendedS3DestinationConfiguration":{` + okRole + `,` + okBucket + `}}`, "InvalidArgumentException", "only valid when DeliveryStreamType is KinesisStreamAsSource"},
		{"CreateDeliveryStream", procs(`{"Type":"Lambda","Parameters":[{"ParameterName":"NumberOfRetries","ParameterValue":"3"}]}`), "InvalidArgumentException", "needs the LambdaArn parameter"},
		{"CreateDeliveryStream", procs(`{"Type":"Lambda","Parameters":[{"ParameterName":"LambdaArn","ParameterValue":"transform"}]}`), "InvalidArgumentException", "is not a Lambda function ARN"},
		{"CreateDeliveryStream", procs(`{"Type":"Lambda","Parameters":[{"ParameterName":"LambdaArn","ParameterValue":"arn:aws:lambda:us-east-1:000000000000:function:f"},{"ParameterName":"NumberOfRetries","ParameterValue":"-1"}]}`), "InvalidArgumentException", "NumberOfRetries -1 must be an integer from 0 to 300"},
		{"CreateDeliveryStream", procs(`{"Type":"Lambda","Parameters":[{"ParameterName":"LambdaArn","ParameterValue":"arn:aws:lambda:us-east-1:000000000000:function:f"},{"ParameterName":"BufferSizeInMBs","ParameterValue":"5"}]}`), "InvalidArgumentException", "BufferSizeInMBs 5 must be a number from 0.2 to 3"},
		{"CreateDeliveryStream", procs(`{"Type":"Lambda","Parameters":[{"ParameterName":"LambdaArn","ParameterValue":"arn:aws:lambda:us-east-1:000000000000:function:f"},{"ParameterName":"BufferIntervalInSeconds","ParameterValue":"1000"}]}`), "InvalidArgumentException", "BufferIntervalInSeconds 1000 must be an integer from 0 to 900"},
		{"CreateDeliveryStream", procs(`{"Type":"Lambda","Parameters":[{"ParameterName":"LambdaArn","ParameterValue":"arn:aws:lambda:us-east-1:000000000000:function:f"},{"ParameterName":"Delimiter","ParameterValue":"Cg=="}]}`), "InvalidArgumentException", "Parameter Delimiter is not valid for processor Lambda."},
		{"CreateDeliveryStream", ext(`"Prefix":"a/!{partitionKeyFromLambda:a}/","ErrorOutputPrefix":"e/!{firehose:error-output-type}/","ProcessingConfiguration":{"Processors":[{"Type":"Lambda","Parameters":[{"ParameterName":"LambdaArn","ParameterValue":"arn:aws:lambda:us-east-1:000000000000:function:f"}]}]}`), "InvalidArgumentException", "only when dynamic partitioning is enabled with a Lambda processor"},
		{"CreateDeliveryStream", procs(`{"Type":"AppendDelimiterToRecord","Parameters":[{"ParameterName":"Delimiter","ParameterValue":"no\\u0021"}]}`), "InvalidArgumentException", "must be base64-encoded"},
		{"CreateDeliveryStream", procs(`{"Type":"AppendDelimiterToRecord","Parameters":[{"ParameterName":"LambdaArn","ParameterValue":"x"}]}`), "InvalidArgumentException", "Parameter LambdaArn is not valid for processor AppendDelimiterToRecord."},
		{"CreateDeliveryStream", procs(`{"Type":"RecordDeAggregation","Parameters":[{"ParameterName":"SubRecordType","ParameterValue":"DELIMITED"}]}`), "InvalidArgumentException", "needs a base64-encoded Delimiter"},
		{"CreateDeliveryStream", procs(`{"Type":"RecordDeAggregation"}`), "InvalidArgumentException", "SubRecordType parameter, JSON or DELIMITED"},
		{"CreateDeliveryStream", procs(`{"Type":"MetadataExtraction","Parameters":[{"ParameterName":"MetadataExtractionQuery","ParameterValue":"{a: .a}"},{"ParameterName":"JsonParsingEngine","ParameterValue":"JQ-1.6"}]}`), "InvalidArgumentException", "only supported when DynamicPartitioningConfiguration is enabled"},
		{"CreateDeliveryStream", ext(`"DynamicPartitioningConfiguration":{"Enabled":true},"BufferingHints":{"SizeInMBs":64,"IntervalInSeconds":60},"Prefix":"a/!{partitionKeyFromQuery:a}/","ErrorOutputPrefix":"e/!{firehose:error-output-type}/"`), "InvalidArgumentException", "Dynamic partitioning needs a MetadataExtraction or a Lambda processor"},
		{"CreateDeliveryStream", ext(`"DynamicPartitioningConfiguration":{"Enabled":true},"BufferingHints":{"SizeInMBs":5,"IntervalInSeconds":60}`), "InvalidArgumentException", "must be at least 64 when Dynamic Partitioning is enabled"},
		{"CreateDeliveryStream", ext(`"Prefix":"logs/!{timestamp:yyyy}/"`), "InvalidArgumentException", "Ths supplied prefix(es) do not satisfy the following constraint: ErrorOutputPrefix cannot be null or empty when Prefix contains expressions"},
		{"CreateDeliveryStream", ext(`"Prefix":"logs/!{firehose:error-output-type}/","ErrorOutputPrefix":"e/!{firehose:error-output-type}/"`), "InvalidArgumentException", "Prefix can't contain !{firehose:error-output-type}"},
		{"CreateDeliveryStream", ext(`"Prefix":"logs/!{timestamp:yyyy}/","ErrorOutputPrefix":"e/!{timestamp:yyyy}/"`), "InvalidArgumentException", "ErrorOutputPrefix must contain !{firehose:error-output-type}"},
		{"CreateDeliveryStream", ext(`"Prefix":"logs/!{nope:x}/","ErrorOutputPrefix":"e/"`), "InvalidArgumentException", "unknown namespace"},
		{"CreateDeliveryStream", ext(`"Prefix":"logs/!{partitionKeyFromQuery:a}/","ErrorOutputPrefix":"e/!{firehose:error-output-type}/"`), "InvalidArgumentException", "only when dynamic partitioning is enabled"},
		{"CreateDeliveryStream", ext(`"S3BackupMode":"Enabled"`), "InvalidArgumentException", "S3 backup"},
		{"CreateDeliveryStream", ext(`"DataFormatConversionConfiguration":{"Enabled":true}`), "InvalidArgumentException", "Data format conversion"},
		{"CreateDeliveryStream", ext(`"CustomTimeZone":"Mars/Olympus"`), "InvalidArgumentException", "CustomTimeZone Mars/Olympus is not a valid time zone"},
		{"CreateDeliveryStream", `{"DeliveryStreamName":"v","DeliveryStreamType":"MSKAsSource"}`, "InvalidArgumentException", "MSKAsSource is not available locally"},
		{"UpdateDestination", `{"DeliveryStreamName":"exists","CurrentDeliveryStreamVersionId":"1","DestinationId":"destinationId-000000000002"}`, "InvalidArgumentException", "Destination destinationId-000000000002 not found"},
		{"UpdateDestination", `{"DeliveryStreamName":"nope","CurrentDeliveryStreamVersionId":"1","DestinationId":"destinationId-000000000001"}`, "ResourceNotFoundException", ""},
		{"UpdateDestination", `{"DeliveryStreamName":"exists","CurrentDeliveryStreamVersionId":"1","DestinationId":"destinationId-000000000001","ExtendedS3DestinationUpdate":{"DynamicPartitioningConfiguration":{"Enabled":true}}}`, "InvalidArgumentException", "Dynamic partitioning can only be enabled when the delivery stream is created"},
		{"UpdateDestination", `{"DeliveryStreamName":"exists","CurrentDeliveryStreamVersionId":"1","DestinationId":"destinationId-000000000001","ExtendedS3DestinationUpdate":{"BucketARN":"arn:aws:s3:::gone"}}`, "InvalidArgumentException", "Bucket gone does not exist"},
		{"StartDeliveryStreamEncryption", `{"DeliveryStreamName":"exists","DeliveryStreamEncryptionConfigurationInput":{"KeyType":"AWS_OWNED_CMK","KeyARN":"arn:aws:kms:us-east-1:000000000000:key/k"}}`, "InvalidArgumentException", "KeyARN must not be given"},
		// The plain S3 shapes have no processors: what an Extended member would say is ignored.
		{"UpdateDestination", `{"DeliveryStreamName":"exists","CurrentDeliveryStreamVersionId":"1","DestinationId":"destinationId-000000000001","S3DestinationUpdate":{"ProcessingConfiguration":{"Processors":[{"Parameters":[{}]}]},"BucketARN":"arn:aws:s3:::gone"}}`, "InvalidArgumentException", "Bucket gone does not exist"},
	} {
		status, m := e.raw(t, c.action, c.body)
		msg, _ := m["message"].(string)
		if msg == "" {
			msg, _ = m["Message"].(string)
		}
		if status != 400 || m["__type"] != c.typ || !strings.Contains(msg, c.msg) {
			body := c.body
			if len(body) > 200 {
				body = body[:200] + "…"
			}
			t.Errorf("%s %s\n got %d %v: %s\nwant %s: …%s…", c.action, body, status, m["__type"], msg, c.typ, c.msg)
		}
	}
	// Nothing above created anything.
	l, _ := e.fh.ListDeliveryStreams(ctx, &firehose.ListDeliveryStreamsInput{})
	if fmt.Sprint(l.DeliveryStreamNames) != "[exists fromk]" {
		t.Fatalf("streams after bad inputs: %v", l.DeliveryStreamNames)
	}
}

// TestOversizeThroughSDK sends the limits' edge cases the way an application would.
func TestOversizeThroughSDK(t *testing.T) {
	e := newEnv(t)
	e.bucket(t, "bkt")
	e.create(t, &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("o"), ExtendedS3DestinationConfiguration: s3dest("bkt")})
	_, err := e.fh.PutRecord(ctx, &firehose.PutRecordInput{DeliveryStreamName: aws.String("o"), Record: &types.Record{Data: make([]byte, 1000*1024+1)}})
	wantErr(t, err, "ValidationException", "lim=1024001")
	if _, err := e.fh.PutRecord(ctx, &firehose.PutRecordInput{DeliveryStreamName: aws.String("o"), Record: &types.Record{Data: make([]byte, 1000*1024)}}); err != nil {
		t.Fatalf("a record of exactly 1000 KiB: %v", err)
	}
	many := make([]types.Record, 501)
	for i := range many {
		many[i].Data = []byte("x")
	}
	_, err = e.fh.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String("o"), Records: many})
	wantErr(t, err, "ValidationException", "Member must have length less than or equal to 500")
	if _, err := e.fh.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String("o"), Records: many[:500]}); err != nil {
		t.Fatalf("500 records: %v", err)
	}
	heavy := []types.Record{{Data: make([]byte, 1000*1024)}, {Data: make([]byte, 1000*1024)}, {Data: make([]byte, 1000*1024)}, {Data: make([]byte, 1000*1024)}, {Data: make([]byte, 97*1024)}}
	_, err = e.fh.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String("o"), Records: heavy})
	wantErr(t, err, "InvalidArgumentException", "Records size exceeds 4 MB limit")
	heavy[4].Data = make([]byte, 96*1024) // exactly 4 MiB
	if _, err := e.fh.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String("o"), Records: heavy}); err != nil {
		t.Fatalf("a batch of exactly 4 MiB: %v", err)
	}
}
