package firehoseapi

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"github.com/localpipe/localpipe/internal/lazyre"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/localpipe/localpipe/firehose"
	"github.com/localpipe/localpipe/internal/awsjson"
)

const (
	destinationID  = "destinationId-000000000001"
	maxRecord      = 1024000 // bytes of data per record, before base64
	maxBatchBytes  = 4 << 20
	maxBatch       = 500
	tagsPerStream  = 50
	defaultSizeMB  = 5
	defaultSizeDP  = 128 // the console's default once dynamic partitioning is on (unverified)
	minSizeDP      = 64
	defaultSeconds = 300
)

// empty is the body of an operation whose output has no members.
var empty = []byte("{}")

func ptr[T any](v T) *T { return &v }

// ---- CreateDeliveryStream ----

func (in *createIn) check(v *validator) {
	if v.Required("deliveryStreamName", in.DeliveryStreamName != nil) {
		v.name("deliveryStreamName", in.DeliveryStreamName)
	}
	v.Enum("deliveryStreamType", in.DeliveryStreamType, firehose.DirectPut, firehose.KinesisStreamAsSource, "MSKAsSource", "DatabaseAsSource")
	if d := in.DirectPutSourceConfiguration; d != nil && v.Required("directPutSourceConfiguration.throughputHintInMBs", d.ThroughputHintInMBs != nil) {
		v.IntRange("directPutSourceConfiguration.throughputHintInMBs", d.ThroughputHintInMBs, 1, 100)
	}
	if k := in.KinesisStreamSourceConfiguration; k != nil {
		p := "kinesisStreamSourceConfiguration."
		if v.Required(p+"kinesisStreamARN", k.KinesisStreamARN != nil) {
			v.Str(p+"kinesisStreamARN", k.KinesisStreamARN, 1, 512, kinesisARNRE, kinesisARNPattern)
		}
		if v.Required(p+"roleARN", k.RoleARN != nil) {
			v.Str(p+"roleARN", k.RoleARN, 1, 512, roleARNRE, roleARNPattern)
		}
	}
	if e := in.DeliveryStreamEncryptionConfigurationInput; e != nil {
		v.encryptionInput("deliveryStreamEncryptionConfigurationInput.", e)
	}
	if in.S3DestinationConfiguration != nil {
		plainOnly(in.S3DestinationConfiguration)
		v.dest("s3DestinationConfiguration.", in.S3DestinationConfiguration, true, false)
	}
	if in.ExtendedS3DestinationConfiguration != nil {
		v.dest("extendedS3DestinationConfiguration.", in.ExtendedS3DestinationConfiguration, true, true)
	}
	if in.Tags != nil {
		v.listLen("tags", len(in.Tags), 1, 50, fmt.Sprintf("[%d tags]", len(in.Tags)))
		v.tags("tags", in.Tags)
	}
}

func (c *call) createDeliveryStream(in *createIn) ([]byte, *awsjson.Error) {

	name := *in.DeliveryStreamName
	typ := firehose.DirectPut
	if in.DeliveryStreamType != nil {
		typ = *in.DeliveryStreamType
	}
	st := stored{DirectPut: in.DirectPutSourceConfiguration}
	if _, err := c.h.eng.Describe(name); err == nil {
		return nil, inUse(name)
	}
	switch typ {
	case "MSKAsSource", "DatabaseAsSource":
		return nil, invalidArg("DeliveryStreamType %s is not available locally: localpipe emulates DirectPut and KinesisStreamAsSource delivery streams", typ)
	case firehose.KinesisStreamAsSource:
		if in.KinesisStreamSourceConfiguration == nil {
			return nil, invalidArg("KinesisStreamSourceConfiguration is required when DeliveryStreamType is KinesisStreamAsSource.")
		}
		if in.DirectPutSourceConfiguration != nil {
			return nil, invalidArg("DirectPutSourceConfiguration is only valid for DeliveryStreamType DirectPut.")
		}
		if in.DeliveryStreamEncryptionConfigurationInput != nil {
			return nil, invalidArg("Server-side encryption is not supported for KinesisStreamAsSource delivery stream type; encrypt the source Kinesis stream instead.")
		}
	default:
		if in.KinesisStreamSourceConfiguration != nil {
			return nil, invalidArg("KinesisStreamSourceConfiguration is only valid when DeliveryStreamType is KinesisStreamAsSource.")
		}
	}
	if in.otherDestinations.any() {
		return nil, invalidArg("Only S3 destinations are available locally: use ExtendedS3DestinationConfiguration (or S3DestinationConfiguration).")
	}
	var d *s3Dest
	switch {
	case in.S3DestinationConfiguration != nil && in.ExtendedS3DestinationConfiguration != nil:
		return nil, invalidArg("Exactly one destination configuration must be provided: both S3DestinationConfiguration and ExtendedS3DestinationConfiguration were given.")
	case in.ExtendedS3DestinationConfiguration != nil:
		d = in.ExtendedS3DestinationConfiguration
	case in.S3DestinationConfiguration != nil:
		d, st.Legacy = in.S3DestinationConfiguration, true
	default:
		return nil, invalidArg("Exactly one destination configuration must be provided: give ExtendedS3DestinationConfiguration (or S3DestinationConfiguration).")
	}
	st.Dest = *d
	cfg := firehose.Config{Name: name, Type: typ}
	if typ == firehose.KinesisStreamAsSource {
		k := in.KinesisStreamSourceConfiguration
		m := kinesisARNRE.FindStringSubmatch(*k.KinesisStreamARN)
		if m[2] != awsjson.Account || !c.h.opts.StreamExists(m[3]) {
			// AWS's text for this case is not documented; this one names what is missing.
			return nil, invalidArg("Kinesis stream %s does not exist: create it before the delivery stream that reads it.", *k.KinesisStreamARN)
		}
		cfg.KinesisStream = m[3]
		st.KinesisStreamARN, st.RoleARN = *k.KinesisStreamARN, *k.RoleARN
	}
	if aerr := c.apply(&cfg, &st, true); aerr != nil {
		return nil, aerr
	}
	if len(in.Tags) > tagsPerStream {
		return nil, limitTags(name)
	}
	if e := in.DeliveryStreamEncryptionConfigurationInput; e != nil {
		es, aerr := encryption(e)
		if aerr != nil {
			return nil, aerr
		}
		st.Encryption = es
	}
	desc, _ := json.Marshal(st)
	cfg.Description = desc
	var tags []firehose.Tag
	for _, t := range in.Tags {
		tags = setTag(tags, t)
	}
	if _, err := c.h.eng.Create(cfg, tags); err != nil {
		return nil, c.engineError(name, err)
	}
	return awsjson.Marshal(map[string]string{"DeliveryStreamARN": c.arn(name)})
}

// plainOnly drops the members only the Extended forms have: the plain S3 shapes do not
// model them, so AWS ignores them there as it ignores any unknown member.
func plainOnly(d *s3Dest) {
	d.ProcessingConfiguration, d.S3BackupMode, d.S3BackupConfiguration, d.S3BackupUpdate = nil, nil, nil, nil
	d.DataFormatConversionConfiguration, d.DynamicPartitioningConfiguration, d.FileExtension, d.CustomTimeZone = nil, nil, nil, nil
}

// dest checks an S3 destination's members against the model. create says whether the
// Configuration form (RoleARN and BucketARN required) is meant; extended whether the Extended
// members are allowed.
func (v *validator) dest(p string, d *s3Dest, create, extended bool) {
	if !create || v.Required(p+"roleARN", d.RoleARN != nil) {
		v.Str(p+"roleARN", d.RoleARN, 1, 512, roleARNRE, roleARNPattern)
	}
	if !create || v.Required(p+"bucketARN", d.BucketARN != nil) {
		v.Str(p+"bucketARN", d.BucketARN, 1, 2048, bucketARNRE, bucketARNPattern)
	}
	v.Str(p+"prefix", d.Prefix, 0, 1024, nil, "")
	v.Str(p+"errorOutputPrefix", d.ErrorOutputPrefix, 0, 1024, nil, "")
	if b := d.BufferingHints; b != nil {
		v.IntRange(p+"bufferingHints.sizeInMBs", b.SizeInMBs, 1, 128)
		v.IntRange(p+"bufferingHints.intervalInSeconds", b.IntervalInSeconds, 0, 900)
	}
	v.Enum(p+"compressionFormat", d.CompressionFormat, firehose.Uncompressed, firehose.GZIP, firehose.ZIP, firehose.Snappy, firehose.HadoopSnappy)
	if e := d.EncryptionConfiguration; e != nil {
		v.Enum(p+"encryptionConfiguration.noEncryptionConfig", e.NoEncryptionConfig, "NoEncryption")
		if k := e.KMSEncryptionConfig; k != nil && v.Required(p+"encryptionConfiguration.kMSEncryptionConfig.aWSKMSKeyARN", k.AWSKMSKeyARN != nil) {
			v.Str(p+"encryptionConfiguration.kMSEncryptionConfig.aWSKMSKeyARN", k.AWSKMSKeyARN, 1, 512, kmsARNRE, kmsARNPattern)
		}
	}
	if l := d.CloudWatchLoggingOptions; l != nil {
		v.Str(p+"cloudWatchLoggingOptions.logGroupName", l.LogGroupName, 0, 512, logGroupRE, logGroupPattern)
		v.Str(p+"cloudWatchLoggingOptions.logStreamName", l.LogStreamName, 0, 512, logStreamRE, logStreamPattern)
	}
	if !extended {
		return
	}
	if pc := d.ProcessingConfiguration; pc != nil {
		for i, pr := range pc.Processors {
			pp := fmt.Sprintf("%sprocessingConfiguration.processors.%d.member.", p, i+1)
			if v.Required(pp+"type", pr.Type != nil) {
				v.Enum(pp+"type", pr.Type, "RecordDeAggregation", "Decompression", "CloudWatchLogProcessing", "Lambda", "MetadataExtraction", "AppendDelimiterToRecord")
			}
			for j, prm := range pr.Parameters {
				ppp := fmt.Sprintf("%sparameters.%d.member.", pp, j+1)
				if v.Required(ppp+"parameterName", prm.ParameterName != nil) {
					v.Enum(ppp+"parameterName", prm.ParameterName, "LambdaArn", "NumberOfRetries", "MetadataExtractionQuery", "JsonParsingEngine",
						"RoleArn", "BufferSizeInMBs", "BufferIntervalInSeconds", "SubRecordType", "Delimiter", "CompressionFormat", "DataMessageExtraction")
				}
				if v.Required(ppp+"parameterValue", prm.ParameterValue != nil) {
					v.paramValue(ppp+"parameterValue", prm.ParameterValue)
				}
			}
		}
	}
	v.Enum(p+"s3BackupMode", d.S3BackupMode, "Disabled", "Enabled")
	if dp := d.DynamicPartitioningConfiguration; dp != nil && dp.RetryOptions != nil {
		v.IntRange(p+"dynamicPartitioningConfiguration.retryOptions.durationInSeconds", dp.RetryOptions.DurationInSeconds, 0, 7200)
	}
	v.Str(p+"fileExtension", d.FileExtension, 0, 128, fileExtRE, fileExtPattern)
	v.Str(p+"customTimeZone", d.CustomTimeZone, 0, 50, timeZoneRE, timeZonePattern)
}

func (v *validator) encryptionInput(p string, e *encryptionInput) {
	v.Str(p+"keyARN", e.KeyARN, 1, 512, kmsARNRE, kmsARNPattern)
	if v.Required(p+"keyType", e.KeyType != nil) {
		v.Enum(p+"keyType", e.KeyType, "AWS_OWNED_CMK", "CUSTOMER_MANAGED_CMK")
	}
}

func (v *validator) tags(p string, tags []tag) {
	for i, t := range tags {
		tp := fmt.Sprintf("%s.%d.member.", p, i+1)
		if v.Required(tp+"key", t.Key != nil) {
			v.tagKey(tp+"key", t.Key)
		}
		v.tagValue(tp+"value", t.Value)
	}
}

// apply checks the rules beyond the model's constraints on st.Dest and maps it onto cfg, the
// engine's view. create is false for UpdateDestination, which may not switch dynamic
// partitioning on or off.
func (c *call) apply(cfg *firehose.Config, st *stored, create bool) *awsjson.Error {
	d := &st.Dest
	m := bucketNameRE.FindStringSubmatch(*d.BucketARN)
	bucket := m[1]
	if !c.h.opts.BucketExists(c.ctx, bucket) {
		return invalidArg("Bucket %s does not exist: create it before the delivery stream that writes to it.", bucket)
	}
	cfg.Bucket = bucket
	if d.S3BackupMode != nil && *d.S3BackupMode == "Enabled" {
		return invalidArg("S3 backup (S3BackupMode Enabled) is not available locally: localpipe delivers to one S3 destination.")
	}
	if f := d.DataFormatConversionConfiguration; f != nil && (f.Enabled == nil || *f.Enabled) {
		return invalidArg("Data format conversion (Parquet/ORC) is not available locally; set DataFormatConversionConfiguration.Enabled to false.")
	}
	partitioned := d.DynamicPartitioningConfiguration != nil && d.DynamicPartitioningConfiguration.Enabled != nil && *d.DynamicPartitioningConfiguration.Enabled
	if dp := d.DynamicPartitioningConfiguration; partitioned && (dp.RetryOptions == nil || dp.RetryOptions.DurationInSeconds == nil) {
		// AWS's documented default retry duration; localpipe stores it for Describe only.
		dp.RetryOptions = &retryOptions{DurationInSeconds: ptr(int32(300))}
	}
	if d.BufferingHints == nil {
		d.BufferingHints = &bufferingHints{}
	}
	if d.BufferingHints.SizeInMBs == nil {
		d.BufferingHints.SizeInMBs = ptr(int32(defaultSizeMB))
		if partitioned {
			d.BufferingHints.SizeInMBs = ptr(int32(defaultSizeDP))
		}
	}
	if d.BufferingHints.IntervalInSeconds == nil {
		d.BufferingHints.IntervalInSeconds = ptr(int32(defaultSeconds))
	}
	if partitioned && *d.BufferingHints.SizeInMBs < minSizeDP {
		return invalidArg("BufferingHints.SizeInMBs must be at least %d when Dynamic Partitioning is enabled.", minSizeDP)
	}
	if d.CompressionFormat == nil {
		d.CompressionFormat = ptr(firehose.Uncompressed)
	}
	if d.EncryptionConfiguration == nil {
		d.EncryptionConfiguration = &encryptionConfig{NoEncryptionConfig: ptr("NoEncryption")}
	}
	if e := d.EncryptionConfiguration; e.NoEncryptionConfig != nil && e.KMSEncryptionConfig != nil {
		return invalidArg("EncryptionConfiguration takes either NoEncryptionConfig or KMSEncryptionConfig, not both.")
	}
	cfg.SizeBytes = int64(*d.BufferingHints.SizeInMBs) << 20
	cfg.Interval = time.Duration(*d.BufferingHints.IntervalInSeconds) * time.Second
	cfg.Compression = *d.CompressionFormat
	cfg.Prefix, cfg.ErrorPrefix, cfg.FileExtension, cfg.TimeZone = "", "", "", ""
	if d.Prefix != nil {
		cfg.Prefix = *d.Prefix
	}
	if d.ErrorOutputPrefix != nil {
		cfg.ErrorPrefix = *d.ErrorOutputPrefix
	}
	if d.FileExtension != nil {
		cfg.FileExtension = *d.FileExtension
	}
	if d.CustomTimeZone != nil && *d.CustomTimeZone != "" {
		if _, err := time.LoadLocation(*d.CustomTimeZone); err != nil {
			return invalidArg("CustomTimeZone %s is not a valid time zone: give an IANA name such as UTC or America/New_York.", *d.CustomTimeZone)
		}
		cfg.TimeZone = *d.CustomTimeZone
	}
	if aerr := processors(cfg, d.ProcessingConfiguration, partitioned); aerr != nil {
		return aerr
	}
	check := firehose.CheckPrefixes
	if cfg.Lambda != nil {
		check = firehose.CheckLambdaPrefixes
	}
	if err := check(cfg.Prefix, cfg.ErrorPrefix, partitioned); err != nil {
		return invalidArg("%s", err.Error())
	}
	return nil
}

// processors maps ProcessingConfiguration onto the engine's processor fields. Processors run
// only when processing is enabled; an absent Enabled is taken as enabled, so a configuration
// that lists processors is never silently ignored.
func processors(cfg *firehose.Config, pc *processingConfig, partitioned bool) *awsjson.Error {
	cfg.Delimiter, cfg.SubRecordType, cfg.SubRecordDelimiter, cfg.PartitionQuery, cfg.Lambda = nil, "", "", "", nil
	enabled := pc != nil && (pc.Enabled == nil || *pc.Enabled)
	seen := map[string]bool{}
	if enabled {
		for _, pr := range pc.Processors {
			typ := *pr.Type
			if seen[typ] {
				return invalidArg("Processor type %s is given more than once.", typ)
			}
			seen[typ] = true
			params := map[string]string{}
			for _, prm := range pr.Parameters {
				if _, dup := params[*prm.ParameterName]; dup {
					return invalidArg("Parameter %s is given more than once for processor %s.", *prm.ParameterName, typ)
				}
				params[*prm.ParameterName] = *prm.ParameterValue
			}
			allowed := map[string][]string{
				"AppendDelimiterToRecord": {"Delimiter"},
				"RecordDeAggregation":     {"SubRecordType", "Delimiter"},
				"MetadataExtraction":      {"MetadataExtractionQuery", "JsonParsingEngine"},
				"Lambda":                  {"LambdaArn", "NumberOfRetries", "RoleArn", "BufferSizeInMBs", "BufferIntervalInSeconds"},
			}[typ]
			switch typ {
			case "Decompression", "CloudWatchLogProcessing":
				return invalidArg("The %s processor is not available locally: localpipe does not emulate CloudWatch Logs subscriptions.", typ)
			}
			for k := range params {
				ok := false
				for _, a := range allowed {
					ok = ok || a == k
				}
				if !ok {
					return invalidArg("Parameter %s is not valid for processor %s.", k, typ)
				}
			}
			switch typ {
			case "AppendDelimiterToRecord":
				delim := "\n"
				if s, ok := params["Delimiter"]; ok {
					b, err := base64.StdEncoding.DecodeString(s)
					if err != nil {
						return invalidArg("The Delimiter parameter of AppendDelimiterToRecord must be base64-encoded (\\n is Cg==); %q is not.", s)
					}
					delim = string(b)
				}
				cfg.Delimiter = &delim
			case "RecordDeAggregation":
				switch params["SubRecordType"] {
				case "JSON":
					cfg.SubRecordType = "JSON"
				case "DELIMITED":
					s, ok := params["Delimiter"]
					b, err := base64.StdEncoding.DecodeString(s)
					if !ok || err != nil || len(b) == 0 {
						return invalidArg("RecordDeAggregation with SubRecordType DELIMITED needs a base64-encoded Delimiter parameter (#### is IyMjIw==).")
					}
					// The engine takes the delimiter as the API does, base64-encoded.
					cfg.SubRecordType, cfg.SubRecordDelimiter = "DELIMITED", s
				default:
					return invalidArg("RecordDeAggregation needs the SubRecordType parameter, JSON or DELIMITED.")
				}
			case "Lambda":
				l, aerr := lambdaProcessor(params)
				if aerr != nil {
					return aerr
				}
				cfg.Lambda = l
			case "MetadataExtraction":
				q, ok := params["MetadataExtractionQuery"]
				if !ok {
					return invalidArg("MetadataExtraction needs the MetadataExtractionQuery parameter.")
				}
				if e := params["JsonParsingEngine"]; e != "JQ-1.6" {
					return invalidArg("MetadataExtraction needs the JsonParsingEngine parameter JQ-1.6.")
				}
				cfg.PartitionQuery = q
			}
		}
	}
	switch {
	case partitioned && cfg.PartitionQuery == "" && cfg.Lambda == nil:
		return invalidArg("Dynamic partitioning needs a MetadataExtraction or a Lambda processor to produce the partition keys.")
	case !partitioned && cfg.PartitionQuery != "":
		return invalidArg("The MetadataExtraction processor is only supported when DynamicPartitioningConfiguration is enabled.")
	}
	return nil
}

// lambdaARN is a function ARN as Firehose's LambdaArn takes it, qualifier optional.
var lambdaARN = lazyre.New(`^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[a-zA-Z0-9_-]{1,64}(:[a-zA-Z0-9$_-]{1,128})?$`)

// lambdaProcessor reads a Lambda processor's parameters, with AWS's defaults (3 retries, a
// 1 MB buffer) and ranges (BufferSizeInMBs 0.2–3, BufferIntervalInSeconds 0–900).
func lambdaProcessor(params map[string]string) (*firehose.Lambda, *awsjson.Error) {
	arn, ok := params["LambdaArn"]
	if !ok {
		return nil, invalidArg("The Lambda processor needs the LambdaArn parameter.")
	}
	if !lambdaARN.MatchString(arn) {
		return nil, invalidArg("LambdaArn %s is not a Lambda function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME).", arn)
	}
	l := &firehose.Lambda{ARN: arn, Retries: firehose.DefaultLambdaRetries, BufferBytes: firehose.DefaultLambdaBuffer}
	if v, ok := params["NumberOfRetries"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 300 {
			return nil, invalidArg("NumberOfRetries %s must be an integer from 0 to 300.", v)
		}
		l.Retries = n
	}
	if v, ok := params["BufferSizeInMBs"]; ok {
		mb, err := strconv.ParseFloat(v, 64)
		if err != nil || mb < 0.2 || mb > 3 {
			return nil, invalidArg("BufferSizeInMBs %s must be a number from 0.2 to 3.", v)
		}
		l.BufferBytes = int64(mb * (1 << 20))
	}
	if v, ok := params["BufferIntervalInSeconds"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 900 {
			return nil, invalidArg("BufferIntervalInSeconds %s must be an integer from 0 to 900.", v)
		}
	}
	return l, nil
}

func encryption(e *encryptionInput) (*encryptionState, *awsjson.Error) {
	switch *e.KeyType {
	case "CUSTOMER_MANAGED_CMK":
		if e.KeyARN == nil {
			return nil, invalidArg("KeyARN is required when KeyType is CUSTOMER_MANAGED_CMK.")
		}
		return &encryptionState{KeyARN: *e.KeyARN, KeyType: *e.KeyType, Status: "ENABLED"}, nil
	default:
		if e.KeyARN != nil {
			return nil, invalidArg("KeyARN must not be given when KeyType is AWS_OWNED_CMK.")
		}
		return &encryptionState{KeyType: *e.KeyType, Status: "ENABLED"}, nil
	}
}

func limitTags(name string) *awsjson.Error {
	return awsjson.NewError("LimitExceededException", fmt.Sprintf("Delivery stream %s would have more than %d tags.", name, tagsPerStream))
}

func setTag(tags []firehose.Tag, t tag) []firehose.Tag {
	val := ""
	if t.Value != nil {
		val = *t.Value
	}
	for i := range tags {
		if tags[i].Key == *t.Key {
			tags[i].Value = val
			return tags
		}
	}
	return append(tags, firehose.Tag{Key: *t.Key, Value: val})
}

func load(in firehose.Info) stored {
	var st stored
	json.Unmarshal(in.Description, &st)
	return st
}

// ---- DeleteDeliveryStream ----

type nameIn struct {
	DeliveryStreamName *string `json:"DeliveryStreamName"`
}

func (v *validator) nameMember(n *string) {
	if v.Required("deliveryStreamName", n != nil) {
		v.name("deliveryStreamName", n)
	}
}

type deleteIn struct {
	nameIn
	AllowForceDelete *bool `json:"AllowForceDelete"`
}

func (in *deleteIn) check(v *validator) { v.nameMember(in.DeliveryStreamName) }

func (c *call) deleteDeliveryStream(in *deleteIn) ([]byte, *awsjson.Error) {
	err := c.h.eng.Delete(*in.DeliveryStreamName)
	if awsjson.IsNoSpace(err) && c.h.opts.Space.Release() {
		// Freed the reserve: the metadata commit has room now.
		err = c.h.eng.Delete(*in.DeliveryStreamName)
	}
	if err != nil {
		return nil, c.engineError(*in.DeliveryStreamName, err)
	}
	return empty, nil
}

// ---- DescribeDeliveryStream ----

type describeDeliveryStreamIn struct {
	nameIn
	Limit                       *int32  `json:"Limit"`
	ExclusiveStartDestinationId *string `json:"ExclusiveStartDestinationId"`
}

func (in *describeDeliveryStreamIn) check(v *validator) {
	v.nameMember(in.DeliveryStreamName)
	v.IntRange("limit", in.Limit, 1, 10000)
	v.Str("exclusiveStartDestinationId", in.ExclusiveStartDestinationId, 1, 100, destIDRE, destIDPattern)
}

func (c *call) describeDeliveryStream(info firehose.Info, in *describeDeliveryStreamIn) ([]byte, *awsjson.Error) {
	st := load(info)
	out := deliveryStreamDescription{
		DeliveryStreamName:   info.Name,
		DeliveryStreamARN:    c.arn(info.Name),
		DeliveryStreamStatus: info.Status,
		DeliveryStreamType:   info.Type,
		VersionId:            strconv.Itoa(info.Version),
		CreateTimestamp:      awsjson.Timestamp(info.Created),
		Destinations:         []destinationDesc{},
	}
	if info.Version > 1 {
		out.LastUpdateTimestamp = ptr(awsjson.Timestamp(info.Updated))
	}
	// AWS reports S3 delivery errors in the destination's CloudWatch error log, which
	// localpipe has not; FailureDescription is the one member of the describe output a
	// client can read them from. UNKNOWN_ERROR is the failure type that covers them (the
	// others name KMS, ENI and VPC set-up failures), and Details carries the error code AWS
	// logs, so a test can tell a stream that is stuck retrying from a quiet one. It is
	// absent again once a delivery succeeds.
	if de, _ := c.h.eng.DeliveryError(info.Name); de != nil {
		out.FailureDescription = &failureDescription{Type: "UNKNOWN_ERROR", Details: fmt.Sprintf(
			"%s: %s (delivery to S3 failed %d times since %s; retrying)", de.Code, de.Message, de.Attempts, de.Since.UTC().Format(time.RFC3339))}
	}
	if info.Type == firehose.DirectPut {
		out.DeliveryStreamEncryptionConfiguration = &encryptionState{Status: "DISABLED"}
		if st.Encryption != nil {
			out.DeliveryStreamEncryptionConfiguration = st.Encryption
		}
		if st.DirectPut != nil {
			out.Source = &sourceDescription{DirectPutSourceDescription: st.DirectPut}
		}
	} else {
		out.Source = &sourceDescription{KinesisStreamSourceDescription: &kinesisSourceDesc{
			KinesisStreamARN: st.KinesisStreamARN, RoleARN: st.RoleARN, DeliveryStartTimestamp: awsjson.Timestamp(info.Created)}}
	}
	if in.ExclusiveStartDestinationId == nil || *in.ExclusiveStartDestinationId < destinationID {
		ext := st.Dest
		ext.S3BackupConfiguration, ext.S3BackupUpdate = nil, nil
		if ext.S3BackupMode == nil {
			ext.S3BackupMode = ptr("Disabled")
		}
		plain := s3Dest{RoleARN: ext.RoleARN, BucketARN: ext.BucketARN, Prefix: ext.Prefix, ErrorOutputPrefix: ext.ErrorOutputPrefix,
			BufferingHints: ext.BufferingHints, CompressionFormat: ext.CompressionFormat, EncryptionConfiguration: ext.EncryptionConfiguration,
			CloudWatchLoggingOptions: ext.CloudWatchLoggingOptions}
		out.Destinations = append(out.Destinations, destinationDesc{DestinationId: destinationID,
			S3DestinationDescription: &plain, ExtendedS3DestinationDescription: &ext})
	}
	return awsjson.Marshal(describeOut{DeliveryStreamDescription: out})
}

// ---- ListDeliveryStreams ----

type listDeliveryStreamsIn struct {
	Limit                            *int32  `json:"Limit"`
	DeliveryStreamType               *string `json:"DeliveryStreamType"`
	ExclusiveStartDeliveryStreamName *string `json:"ExclusiveStartDeliveryStreamName"`
}

func (in *listDeliveryStreamsIn) check(v *validator) {
	v.IntRange("limit", in.Limit, 1, 10000)
	v.Enum("deliveryStreamType", in.DeliveryStreamType, firehose.DirectPut, firehose.KinesisStreamAsSource, "MSKAsSource", "DatabaseAsSource")
	v.name("exclusiveStartDeliveryStreamName", in.ExclusiveStartDeliveryStreamName)
}

func (c *call) listDeliveryStreams(in *listDeliveryStreamsIn) ([]byte, *awsjson.Error) {
	limit := 10
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	names := []string{}
	more := false
	for _, info := range c.h.eng.List() {
		if info.Channel != nil { // a Kinesis channel's delivery, which Firehose does not show
			continue
		}
		if in.DeliveryStreamType != nil && info.Type != *in.DeliveryStreamType {
			continue
		}
		if in.ExclusiveStartDeliveryStreamName != nil && info.Name <= *in.ExclusiveStartDeliveryStreamName {
			continue
		}
		if len(names) == limit {
			more = true
			break
		}
		names = append(names, info.Name)
	}
	return awsjson.Marshal(map[string]any{"DeliveryStreamNames": names, "HasMoreDeliveryStreams": more})
}

// ---- PutRecord / PutRecordBatch ----

type record struct {
	Data []byte `json:"Data"`
}

func (c *call) putTarget(name string) (firehose.Info, *awsjson.Error) {
	info, aerr := c.describe(name)
	if aerr != nil {
		return info, aerr
	}
	if info.Status != "ACTIVE" {
		return info, awsjson.NewError("ResourceNotFoundException", fmt.Sprintf("Firehose %s under account %s is not ACTIVE, instead in state %s.", name, awsjson.Account, info.Status))
	}
	if info.Type != firehose.DirectPut {
		return info, invalidArg("%s", notPermitted)
	}
	return info, nil
}

func encrypted(info firehose.Info) bool {
	st := load(info)
	return st.Encryption != nil && st.Encryption.Status == "ENABLED"
}

type putRecordIn struct {
	nameIn
	Record *record `json:"Record"`
}

func (in *putRecordIn) check(v *validator) {
	v.nameMember(in.DeliveryStreamName)
	if v.Required("record", in.Record != nil) && v.Required("record.data", in.Record.Data != nil) {
		v.Blob("record.data", in.Record.Data, maxRecord)
	}
}

func (c *call) putRecord(in *putRecordIn) ([]byte, *awsjson.Error) {
	info, aerr := c.putTarget(*in.DeliveryStreamName)
	if aerr != nil {
		return nil, aerr
	}
	if !c.h.opts.Space.Writable() {
		return nil, noSpace()
	}
	ids, err := c.h.eng.Put(c.ctx, info.Name, [][]byte{in.Record.Data})
	if err != nil {
		return nil, c.engineError(info.Name, err)
	}
	out := awsjson.AppendString([]byte(`{"Encrypted":`+strconv.FormatBool(encrypted(info))+`,"RecordId":`), ids[0])
	return append(out, '}'), nil
}

type putRecordBatchIn struct {
	nameIn
	Records []record `json:"Records"`
}

func (in *putRecordBatchIn) check(v *validator) {
	v.nameMember(in.DeliveryStreamName)
	if v.Required("records", in.Records != nil) {
		v.listLen("records", len(in.Records), 1, maxBatch, fmt.Sprintf("[%d records]", len(in.Records)))
		for i, r := range in.Records {
			p := fmt.Sprintf("records.%d.member.data", i+1)
			if v.Required(p, r.Data != nil) {
				v.Blob(p, r.Data, maxRecord)
			}
		}
	}
}

func (c *call) putRecordBatch(in *putRecordBatchIn) ([]byte, *awsjson.Error) {
	total := 0
	data := make([][]byte, len(in.Records))
	for i, r := range in.Records {
		total += len(r.Data)
		data[i] = r.Data
	}
	if total > maxBatchBytes {
		return nil, invalidArg("Records size exceeds 4 MB limit")
	}
	info, aerr := c.putTarget(*in.DeliveryStreamName)
	if aerr != nil {
		return nil, aerr
	}
	if awsjson.IsCheckOnly(c.ctx) {
		return []byte("{}"), nil
	}
	if !c.h.opts.Space.Writable() {
		return nil, noSpace()
	}
	ids, err := c.h.eng.Put(c.ctx, info.Name, data)
	if err != nil {
		return nil, c.engineError(info.Name, err)
	}
	out := make([]byte, 0, 64+len(ids)*90)
	out = append(out, `{"Encrypted":`+strconv.FormatBool(encrypted(info))+`,"FailedPutCount":0,"RequestResponses":[`...)
	for i, id := range ids {
		if i > 0 {
			out = append(out, ',')
		}
		out = awsjson.AppendString(append(out, `{"RecordId":`...), id)
		out = append(out, '}')
	}
	return append(out, "]}"...), nil
}

// ---- UpdateDestination ----

type updateDestinationIn struct {
	nameIn
	CurrentDeliveryStreamVersionId *string `json:"CurrentDeliveryStreamVersionId"`
	DestinationId                  *string `json:"DestinationId"`
	S3DestinationUpdate            *s3Dest `json:"S3DestinationUpdate"`
	ExtendedS3DestinationUpdate    *s3Dest `json:"ExtendedS3DestinationUpdate"`
	otherDestinations
}

func (in *updateDestinationIn) check(v *validator) {
	v.nameMember(in.DeliveryStreamName)
	if v.Required("currentDeliveryStreamVersionId", in.CurrentDeliveryStreamVersionId != nil) {
		v.Str("currentDeliveryStreamVersionId", in.CurrentDeliveryStreamVersionId, 1, 50, versionIDRE, versionIDPattern)
	}
	if v.Required("destinationId", in.DestinationId != nil) {
		v.Str("destinationId", in.DestinationId, 1, 100, destIDRE, destIDPattern)
	}
	if in.S3DestinationUpdate != nil {
		plainOnly(in.S3DestinationUpdate)
		v.dest("s3DestinationUpdate.", in.S3DestinationUpdate, false, false)
	}
	if in.ExtendedS3DestinationUpdate != nil {
		v.dest("extendedS3DestinationUpdate.", in.ExtendedS3DestinationUpdate, false, true)
	}
}

func (c *call) updateDestination(in *updateDestinationIn) ([]byte, *awsjson.Error) {
	name := *in.DeliveryStreamName
	if in.otherDestinations.any() {
		return nil, invalidArg("Only S3 destinations are available locally: use ExtendedS3DestinationUpdate (or S3DestinationUpdate).")
	}
	upd := in.ExtendedS3DestinationUpdate
	if in.S3DestinationUpdate != nil {
		if upd != nil {
			return nil, invalidArg("Exactly one destination update must be provided: both S3DestinationUpdate and ExtendedS3DestinationUpdate were given.")
		}
		upd = in.S3DestinationUpdate
	}
	var aerr *awsjson.Error
	_, err := c.h.eng.Update(name, true, func(info *firehose.Info) error {
		if c.creating(*info) {
			aerr = awsjson.NewError("ResourceInUseException", fmt.Sprintf("Firehose %s under account %s is not ACTIVE, instead in state CREATING.", name, awsjson.Account))
			return aerr
		}
		if cur := strconv.Itoa(info.Version); *in.CurrentDeliveryStreamVersionId != cur {
			aerr = awsjson.NewError("ConcurrentModificationException", fmt.Sprintf(
				"Cannot update delivery stream %s: its current version id is %s, not %s. Describe it again and retry with the current VersionId.",
				name, cur, *in.CurrentDeliveryStreamVersionId))
			return aerr
		}
		if *in.DestinationId != destinationID {
			aerr = invalidArg("Destination %s not found in delivery stream %s; its destination is %s.", *in.DestinationId, name, destinationID)
			return aerr
		}
		st := load(*info)
		if upd != nil {
			wasDP := st.Dest.DynamicPartitioningConfiguration != nil && st.Dest.DynamicPartitioningConfiguration.Enabled != nil && *st.Dest.DynamicPartitioningConfiguration.Enabled
			merge(&st.Dest, upd)
			isDP := st.Dest.DynamicPartitioningConfiguration != nil && st.Dest.DynamicPartitioningConfiguration.Enabled != nil && *st.Dest.DynamicPartitioningConfiguration.Enabled
			if wasDP != isDP {
				aerr = invalidArg("Dynamic partitioning can only be enabled when the delivery stream is created, and cannot be disabled.")
				return aerr
			}
		}
		cfg := info.Config
		if aerr = c.apply(&cfg, &st, false); aerr != nil {
			return aerr
		}
		cfg.Description, _ = json.Marshal(st)
		info.Config = cfg
		return nil
	})
	if aerr != nil {
		return nil, aerr
	}
	if err != nil {
		return nil, c.engineError(name, err)
	}
	return empty, nil
}

// merge applies an update's members over the stored destination; members the update leaves
// out keep their values, as AWS's UpdateDestination does.
func merge(d, u *s3Dest) {
	set := func(dst **string, src *string) {
		if src != nil {
			*dst = src
		}
	}
	set(&d.RoleARN, u.RoleARN)
	set(&d.BucketARN, u.BucketARN)
	set(&d.Prefix, u.Prefix)
	set(&d.ErrorOutputPrefix, u.ErrorOutputPrefix)
	set(&d.CompressionFormat, u.CompressionFormat)
	set(&d.S3BackupMode, u.S3BackupMode)
	set(&d.FileExtension, u.FileExtension)
	set(&d.CustomTimeZone, u.CustomTimeZone)
	if u.BufferingHints != nil {
		b := *d.BufferingHints
		if u.BufferingHints.SizeInMBs != nil {
			b.SizeInMBs = u.BufferingHints.SizeInMBs
		}
		if u.BufferingHints.IntervalInSeconds != nil {
			b.IntervalInSeconds = u.BufferingHints.IntervalInSeconds
		}
		d.BufferingHints = &b
	}
	if u.EncryptionConfiguration != nil {
		d.EncryptionConfiguration = u.EncryptionConfiguration
	}
	if u.CloudWatchLoggingOptions != nil {
		d.CloudWatchLoggingOptions = u.CloudWatchLoggingOptions
	}
	if u.ProcessingConfiguration != nil {
		d.ProcessingConfiguration = u.ProcessingConfiguration
	}
	if u.DataFormatConversionConfiguration != nil {
		d.DataFormatConversionConfiguration = u.DataFormatConversionConfiguration
	}
	if u.DynamicPartitioningConfiguration != nil {
		d.DynamicPartitioningConfiguration = u.DynamicPartitioningConfiguration
	}
}

// ---- tags ----

type tagIn struct {
	nameIn
	Tags []tag `json:"Tags"`
}

func (in *tagIn) check(v *validator) {
	v.nameMember(in.DeliveryStreamName)
	if v.Required("tags", in.Tags != nil) {
		v.listLen("tags", len(in.Tags), 1, 50, fmt.Sprintf("[%d tags]", len(in.Tags)))
		v.tags("tags", in.Tags)
	}
}

func (c *call) tagDeliveryStream(in *tagIn) ([]byte, *awsjson.Error) {
	name := *in.DeliveryStreamName
	var aerr *awsjson.Error
	_, err := c.h.eng.Update(name, false, func(info *firehose.Info) error {
		tags := info.Tags
		for _, t := range in.Tags {
			tags = setTag(tags, t)
		}
		if len(tags) > tagsPerStream {
			aerr = limitTags(name)
			return aerr
		}
		info.Tags = tags
		return nil
	})
	if aerr != nil {
		return nil, aerr
	}
	if err != nil {
		return nil, c.engineError(name, err)
	}
	return empty, nil
}

type untagIn struct {
	nameIn
	TagKeys []string `json:"TagKeys"`
}

func (in *untagIn) check(v *validator) {
	v.nameMember(in.DeliveryStreamName)
	if v.Required("tagKeys", in.TagKeys != nil) {
		v.listLen("tagKeys", len(in.TagKeys), 1, 50, "["+strings.Join(in.TagKeys, ", ")+"]")
		for i := range in.TagKeys {
			v.tagKey(fmt.Sprintf("tagKeys.%d.member", i+1), &in.TagKeys[i])
		}
	}
}

func (c *call) untagDeliveryStream(in *untagIn) ([]byte, *awsjson.Error) {
	name := *in.DeliveryStreamName
	_, err := c.h.eng.Update(name, false, func(info *firehose.Info) error {
		drop := map[string]bool{}
		for _, k := range in.TagKeys {
			drop[k] = true
		}
		kept := info.Tags[:0]
		for _, t := range info.Tags {
			if !drop[t.Key] {
				kept = append(kept, t)
			}
		}
		info.Tags = kept
		return nil
	})
	if err != nil {
		return nil, c.engineError(name, err)
	}
	return empty, nil
}

type listTagsIn struct {
	nameIn
	ExclusiveStartTagKey *string `json:"ExclusiveStartTagKey"`
	Limit                *int32  `json:"Limit"`
}

func (in *listTagsIn) check(v *validator) {
	v.nameMember(in.DeliveryStreamName)
	v.tagKey("exclusiveStartTagKey", in.ExclusiveStartTagKey)
	v.IntRange("limit", in.Limit, 1, 50)
}

func (c *call) listTags(info firehose.Info, in *listTagsIn) ([]byte, *awsjson.Error) {
	limit := 50
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	tags := append([]firehose.Tag(nil), info.Tags...)
	sort.SliceStable(tags, func(i, j int) bool { return tags[i].Key < tags[j].Key })
	type tagOut struct {
		Key   string  `json:"Key"`
		Value *string `json:"Value,omitempty"`
	}
	out := []tagOut{}
	more := false
	for _, t := range tags {
		if in.ExclusiveStartTagKey != nil && t.Key <= *in.ExclusiveStartTagKey {
			continue
		}
		if len(out) == limit {
			more = true
			break
		}
		out = append(out, tagOut{Key: t.Key, Value: ptr(t.Value)})
	}
	return awsjson.Marshal(map[string]any{"Tags": out, "HasMoreTags": more})
}

// ---- encryption ----

type startEncryptionIn struct {
	nameIn
	DeliveryStreamEncryptionConfigurationInput *encryptionInput `json:"DeliveryStreamEncryptionConfigurationInput"`
}

func (in *startEncryptionIn) check(v *validator) {
	v.nameMember(in.DeliveryStreamName)
	if e := in.DeliveryStreamEncryptionConfigurationInput; e != nil {
		v.encryptionInput("deliveryStreamEncryptionConfigurationInput.", e)
	}
}

func (c *call) startEncryption(in *startEncryptionIn) ([]byte, *awsjson.Error) {
	es := &encryptionState{KeyType: "AWS_OWNED_CMK", Status: "ENABLED"}
	if e := in.DeliveryStreamEncryptionConfigurationInput; e != nil {
		var aerr *awsjson.Error
		if es, aerr = encryption(e); aerr != nil {
			return nil, aerr
		}
	}
	return c.setEncryption(*in.DeliveryStreamName, es)
}

func (in *nameIn) check(v *validator) {
	v.nameMember(in.DeliveryStreamName)
}

func (c *call) stopEncryption(in *nameIn) ([]byte, *awsjson.Error) {
	return c.setEncryption(*in.DeliveryStreamName, nil)
}

// setEncryption records server-side encryption settings. localpipe keeps data on the local
// disk unencrypted either way; the settings are stored so Describe reflects them.
func (c *call) setEncryption(name string, es *encryptionState) ([]byte, *awsjson.Error) {
	var aerr *awsjson.Error
	_, err := c.h.eng.Update(name, false, func(info *firehose.Info) error {
		if info.Type != firehose.DirectPut {
			aerr = invalidArg("%s", notPermitted)
			return aerr
		}
		st := load(*info)
		if es == nil {
			if st.Encryption != nil {
				st.Encryption.Status = "DISABLED"
			}
		} else {
			st.Encryption = es
		}
		info.Description, _ = json.Marshal(st)
		return nil
	})
	if aerr != nil {
		return nil, aerr
	}
	if err != nil {
		return nil, c.engineError(name, err)
	}
	return empty, nil
}
