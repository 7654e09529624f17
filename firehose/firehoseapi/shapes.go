package firehoseapi

import (
	"github.com/localpipe/localpipe/internal/awsjson"
)

// The S3 destination shapes. One set of Go types serves the Configuration, Update and
// Description forms (their members are the same, but for S3Backup*), so what a user sent is
// stored and described back member for member.

type bufferingHints struct {
	SizeInMBs         *int32 `json:"SizeInMBs,omitempty"`
	IntervalInSeconds *int32 `json:"IntervalInSeconds,omitempty"`
}

type kmsConfig struct {
	AWSKMSKeyARN *string `json:"AWSKMSKeyARN,omitempty"`
}

type encryptionConfig struct {
	NoEncryptionConfig  *string    `json:"NoEncryptionConfig,omitempty"`
	KMSEncryptionConfig *kmsConfig `json:"KMSEncryptionConfig,omitempty"`
}

type loggingOptions struct {
	Enabled       *bool   `json:"Enabled,omitempty"`
	LogGroupName  *string `json:"LogGroupName,omitempty"`
	LogStreamName *string `json:"LogStreamName,omitempty"`
}

type processorParameter struct {
	ParameterName  *string `json:"ParameterName,omitempty"`
	ParameterValue *string `json:"ParameterValue,omitempty"`
}

type processor struct {
	Type       *string              `json:"Type,omitempty"`
	Parameters []processorParameter `json:"Parameters,omitempty"`
}

type processingConfig struct {
	Enabled    *bool       `json:"Enabled,omitempty"`
	Processors []processor `json:"Processors,omitempty"`
}

type retryOptions struct {
	DurationInSeconds *int32 `json:"DurationInSeconds,omitempty"`
}

type dynamicPartitioning struct {
	RetryOptions *retryOptions `json:"RetryOptions,omitempty"`
	Enabled      *bool         `json:"Enabled,omitempty"`
}

// formatConversion keeps only Enabled: localpipe converts to no columnar format, and says so
// when conversion is enabled.
type formatConversion struct {
	Enabled *bool `json:"Enabled,omitempty"`
}

// presence stands for a member localpipe only needs to detect (another destination type).
type presence struct{}

type s3Dest struct {
	RoleARN                           *string              `json:"RoleARN,omitempty"`
	BucketARN                         *string              `json:"BucketARN,omitempty"`
	Prefix                            *string              `json:"Prefix,omitempty"`
	ErrorOutputPrefix                 *string              `json:"ErrorOutputPrefix,omitempty"`
	BufferingHints                    *bufferingHints      `json:"BufferingHints,omitempty"`
	CompressionFormat                 *string              `json:"CompressionFormat,omitempty"`
	EncryptionConfiguration           *encryptionConfig    `json:"EncryptionConfiguration,omitempty"`
	CloudWatchLoggingOptions          *loggingOptions      `json:"CloudWatchLoggingOptions,omitempty"`
	ProcessingConfiguration           *processingConfig    `json:"ProcessingConfiguration,omitempty"`
	S3BackupMode                      *string              `json:"S3BackupMode,omitempty"`
	S3BackupConfiguration             *presence            `json:"S3BackupConfiguration,omitempty"`
	S3BackupUpdate                    *presence            `json:"S3BackupUpdate,omitempty"`
	DataFormatConversionConfiguration *formatConversion    `json:"DataFormatConversionConfiguration,omitempty"`
	DynamicPartitioningConfiguration  *dynamicPartitioning `json:"DynamicPartitioningConfiguration,omitempty"`
	FileExtension                     *string              `json:"FileExtension,omitempty"`
	CustomTimeZone                    *string              `json:"CustomTimeZone,omitempty"`
}

type kinesisSource struct {
	KinesisStreamARN *string `json:"KinesisStreamARN,omitempty"`
	RoleARN          *string `json:"RoleARN,omitempty"`
}

type directPutSource struct {
	ThroughputHintInMBs *int32 `json:"ThroughputHintInMBs,omitempty"`
}

type encryptionInput struct {
	KeyARN  *string `json:"KeyARN,omitempty"`
	KeyType *string `json:"KeyType,omitempty"`
}

type tag struct {
	Key   *string `json:"Key"`
	Value *string `json:"Value,omitempty"`
}

// otherDestinations are the destination members localpipe does not deliver to.
type otherDestinations struct {
	Redshift                    *presence `json:"RedshiftDestinationConfiguration"`
	Elasticsearch               *presence `json:"ElasticsearchDestinationConfiguration"`
	Amazonopensearchservice     *presence `json:"AmazonopensearchserviceDestinationConfiguration"`
	Splunk                      *presence `json:"SplunkDestinationConfiguration"`
	HttpEndpoint                *presence `json:"HttpEndpointDestinationConfiguration"`
	AmazonOpenSearchServerless  *presence `json:"AmazonOpenSearchServerlessDestinationConfiguration"`
	Snowflake                   *presence `json:"SnowflakeDestinationConfiguration"`
	Iceberg                     *presence `json:"IcebergDestinationConfiguration"`
	MSKSourceConfiguration      *presence `json:"MSKSourceConfiguration"`
	DatabaseSourceConfiguration *presence `json:"DatabaseSourceConfiguration"`
	RedshiftUpdate              *presence `json:"RedshiftDestinationUpdate"`
	ElasticsearchUpdate         *presence `json:"ElasticsearchDestinationUpdate"`
	AmazonopensearchserviceUpd  *presence `json:"AmazonopensearchserviceDestinationUpdate"`
	SplunkUpdate                *presence `json:"SplunkDestinationUpdate"`
	HttpEndpointUpdate          *presence `json:"HttpEndpointDestinationUpdate"`
	OpenSearchServerlessUpdate  *presence `json:"AmazonOpenSearchServerlessDestinationUpdate"`
	SnowflakeUpdate             *presence `json:"SnowflakeDestinationUpdate"`
	IcebergUpdate               *presence `json:"IcebergDestinationUpdate"`
}

func (o *otherDestinations) any() bool {
	return o.Redshift != nil || o.Elasticsearch != nil || o.Amazonopensearchservice != nil || o.Splunk != nil ||
		o.HttpEndpoint != nil || o.AmazonOpenSearchServerless != nil || o.Snowflake != nil || o.Iceberg != nil ||
		o.RedshiftUpdate != nil || o.ElasticsearchUpdate != nil || o.AmazonopensearchserviceUpd != nil ||
		o.SplunkUpdate != nil || o.HttpEndpointUpdate != nil || o.OpenSearchServerlessUpdate != nil ||
		o.SnowflakeUpdate != nil || o.IcebergUpdate != nil
}

type createIn struct {
	DeliveryStreamName                         *string          `json:"DeliveryStreamName"`
	DeliveryStreamType                         *string          `json:"DeliveryStreamType"`
	DirectPutSourceConfiguration               *directPutSource `json:"DirectPutSourceConfiguration"`
	KinesisStreamSourceConfiguration           *kinesisSource   `json:"KinesisStreamSourceConfiguration"`
	DeliveryStreamEncryptionConfigurationInput *encryptionInput `json:"DeliveryStreamEncryptionConfigurationInput"`
	S3DestinationConfiguration                 *s3Dest          `json:"S3DestinationConfiguration"`
	ExtendedS3DestinationConfiguration         *s3Dest          `json:"ExtendedS3DestinationConfiguration"`
	Tags                                       []tag            `json:"Tags"`
	otherDestinations
}

// stored is what the wire layer keeps of a delivery stream in the engine's
// Config.Description: the destination as last set, its source and encryption settings.
type stored struct {
	Dest             s3Dest           `json:"dest"`
	Legacy           bool             `json:"legacy,omitempty"` // created with S3DestinationConfiguration
	KinesisStreamARN string           `json:"kinesisStreamARN,omitempty"`
	RoleARN          string           `json:"roleARN,omitempty"`
	DirectPut        *directPutSource `json:"directPut,omitempty"`
	Encryption       *encryptionState `json:"encryption,omitempty"`
}

type encryptionState struct {
	KeyARN  string `json:"KeyARN,omitempty"`
	KeyType string `json:"KeyType,omitempty"`
	Status  string `json:"Status"`
}

// Output shapes.

type describeOut struct {
	DeliveryStreamDescription deliveryStreamDescription `json:"DeliveryStreamDescription"`
}

type deliveryStreamDescription struct {
	DeliveryStreamName                    string              `json:"DeliveryStreamName"`
	DeliveryStreamARN                     string              `json:"DeliveryStreamARN"`
	DeliveryStreamStatus                  string              `json:"DeliveryStreamStatus"`
	DeliveryStreamEncryptionConfiguration *encryptionState    `json:"DeliveryStreamEncryptionConfiguration,omitempty"`
	FailureDescription                    *failureDescription `json:"FailureDescription,omitempty"`
	DeliveryStreamType                    string              `json:"DeliveryStreamType"`
	VersionId                             string              `json:"VersionId"`
	CreateTimestamp                       awsjson.Timestamp   `json:"CreateTimestamp"`
	LastUpdateTimestamp                   *awsjson.Timestamp  `json:"LastUpdateTimestamp,omitempty"`
	Source                                *sourceDescription  `json:"Source,omitempty"`
	Destinations                          []destinationDesc   `json:"Destinations"`
	HasMoreDestinations                   bool                `json:"HasMoreDestinations"`
}

// failureDescription is the model's FailureDescription: Type is a DeliveryStreamFailureType.
type failureDescription struct {
	Type    string `json:"Type"`
	Details string `json:"Details"`
}

type sourceDescription struct {
	DirectPutSourceDescription     *directPutSource   `json:"DirectPutSourceDescription,omitempty"`
	KinesisStreamSourceDescription *kinesisSourceDesc `json:"KinesisStreamSourceDescription,omitempty"`
}

type kinesisSourceDesc struct {
	KinesisStreamARN       string            `json:"KinesisStreamARN"`
	RoleARN                string            `json:"RoleARN"`
	DeliveryStartTimestamp awsjson.Timestamp `json:"DeliveryStartTimestamp"`
}

type destinationDesc struct {
	DestinationId                    string  `json:"DestinationId"`
	S3DestinationDescription         *s3Dest `json:"S3DestinationDescription,omitempty"`
	ExtendedS3DestinationDescription *s3Dest `json:"ExtendedS3DestinationDescription,omitempty"`
}
