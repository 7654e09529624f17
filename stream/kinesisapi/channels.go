package kinesisapi

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/localpipe/localpipe/internal/awsjson"
	"github.com/localpipe/localpipe/internal/lazyre"
	"github.com/localpipe/localpipe/stream"
)

// Channels (CreateChannel and its kin, 2026) deliver a data stream's records to a general
// purpose S3 bucket or to S3 Tables. This file is their control plane: the model's checks,
// AWS's errors, ARNs, lifecycle and listing. Where channels are kept and how they deliver is
// the ChannelStore's business, which internal/app implements over the Firehose engine.

// ChannelStore keeps channels across restarts and runs their delivery.
type ChannelStore interface {
	// Create stores a new channel; ErrChannelExists if one of that name exists. Delivery
	// starts at ch.ActiveAt, with the records that arrived from then on.
	Create(ch Channel) error
	// Get returns a channel; ErrChannelNotFound if there is none of that name (a deleted
	// channel is gone once its DeletingUntil has passed).
	Get(name string) (Channel, error)
	// List returns every channel, sorted by name.
	List() []Channel
	// Update changes a stored channel through fn (delivery picks up a new freshness).
	Update(name string, fn func(*Channel) error) (Channel, error)
	// Delete stops a channel's delivery at once and forgets it once until has passed.
	Delete(name string, until time.Time) error
	// CheckKeyTemplate says why an OutputKeyTemplate breaks the rules, or nil.
	CheckKeyTemplate(template string) error
}

// Errors a ChannelStore returns.
var (
	ErrChannelExists   = errors.New("channel already exists")
	ErrChannelNotFound = errors.New("channel not found")
)

// Channel is a channel as stored: the CreateChannel request with its defaults filled in, and
// its lifecycle as times, so the status follows from the clock as a stream's does.
type Channel struct {
	Name    string    `json:"name"`
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
	// ActiveAt ends CREATING; UpdatingUntil ends UPDATING after an UpdateChannel;
	// DeletingUntil, once set, is when a deleted channel is gone.
	ActiveAt      time.Time `json:"activeAt"`
	UpdatingUntil time.Time `json:"updatingUntil,omitzero"`
	DeletingUntil time.Time `json:"deletingUntil,omitzero"`
	// Stream is the source stream's name; StreamCreated tells it from a stream created again
	// under that name.
	Stream        string    `json:"stream"`
	StreamCreated time.Time `json:"streamCreated"`

	Role     string                `json:"role"`
	Record   RecordConfiguration   `json:"record"`
	S3       *S3Destination        `json:"s3,omitempty"`
	S3Tables *S3TablesDestination  `json:"s3Tables,omitempty"`
	Logging  *ChannelLogging       `json:"logging"`
	Encrypt  *ChannelEncryptConfig `json:"encryption,omitempty"`
	Tags     map[string]string     `json:"tags,omitempty"`
}

// Bucket is the name of the bucket a BucketARN names.
func Bucket(arn string) string {
	if m := bucketARNRE.FindStringSubmatch(arn); m != nil {
		return m[1]
	}
	return ""
}

// The request and description shapes, with the model's member names.
type (
	RecordConfiguration struct {
		RecordFormatType *string `json:"RecordFormatType"`
		GSRSchemaARN     *string `json:"GSRSchemaARN,omitempty"`
	}
	ChannelStreamConfiguration struct {
		StreamARN           *string              `json:"StreamARN"`
		RecordConfiguration *RecordConfiguration `json:"RecordConfiguration"`
	}
	S3StorageConfiguration struct {
		BucketARN           *string `json:"BucketARN"`
		CompressionType     *string `json:"CompressionType"`
		ExpectedBucketOwner *string `json:"ExpectedBucketOwner"`
		OutputKeyTemplate   *string `json:"OutputKeyTemplate,omitempty"`
		StorageClass        *string `json:"StorageClass,omitempty"`
	}
	DeadLetterQueue struct {
		BucketARN           *string `json:"BucketARN"`
		ExpectedBucketOwner *string `json:"ExpectedBucketOwner"`
		ErrorOutputPrefix   *string `json:"ErrorOutputPrefix,omitempty"`
	}
	S3Destination struct {
		StorageConfiguration           *S3StorageConfiguration `json:"StorageConfiguration"`
		DataFreshnessInSeconds         *int32                  `json:"DataFreshnessInSeconds"`
		DeadLetterQueueS3Configuration *DeadLetterQueue        `json:"DeadLetterQueueS3Configuration"`
	}
	S3TablesConfiguration struct {
		TableBucketARN  *string        `json:"TableBucketARN"`
		Namespace       *string        `json:"Namespace"`
		TableName       *string        `json:"TableName"`
		CompressionType *string        `json:"CompressionType"`
		PartitionSpec   map[string]any `json:"PartitionSpec,omitempty"`
	}
	S3TablesDestination struct {
		S3TablesConfigurationList      []S3TablesConfiguration `json:"S3TablesConfigurationList"`
		DataFreshnessInSeconds         *int32                  `json:"DataFreshnessInSeconds"`
		DeadLetterQueueS3Configuration *DeadLetterQueue        `json:"DeadLetterQueueS3Configuration"`
	}
	CloudWatchLogs struct {
		Enabled       *bool   `json:"Enabled"`
		LogGroupName  *string `json:"LogGroupName,omitempty"`
		LogStreamName *string `json:"LogStreamName,omitempty"`
	}
	ChannelLogging struct {
		CloudWatchLogs *CloudWatchLogs `json:"CloudWatchLogs"`
	}
	ChannelEncryptConfig struct {
		EncryptionType *string `json:"EncryptionType"`
		KeyId          *string `json:"KeyId"`
	}
)

// Freshness is the channel's DataFreshnessInSeconds.
func (ch *Channel) Freshness() time.Duration {
	if ch.S3 != nil && ch.S3.DataFreshnessInSeconds != nil {
		return time.Duration(*ch.S3.DataFreshnessInSeconds) * time.Second
	}
	if ch.S3Tables != nil && ch.S3Tables.DataFreshnessInSeconds != nil {
		return time.Duration(*ch.S3Tables.DataFreshnessInSeconds) * time.Second
	}
	return defaultFreshness * time.Second
}

// Destination is the channel's ChannelDestinationType.
func (ch *Channel) Destination() string {
	if ch.S3Tables != nil {
		return "S3_TABLES"
	}
	return "S3"
}

// S3TablesUnreachable is why a channel to S3 Tables goes FAILED: localpipe serves no S3
// Tables, so the table bucket is missing as far as the channel can tell.
const S3TablesUnreachable = "The table bucket %s cannot be reached: localpipe emulates no Amazon S3 Tables, so channels to streaming tables cannot deliver locally. Use an S3DestinationConfiguration to deliver to a general purpose bucket."

// status is the channel's ChannelStatus and ChannelStatusReason at now.
func (ch *Channel) status(now time.Time) (string, string) {
	switch {
	case !ch.DeletingUntil.IsZero():
		return "DELETING", ""
	case now.Before(ch.ActiveAt):
		return "CREATING", ""
	case ch.S3Tables != nil:
		arn := ""
		if l := ch.S3Tables.S3TablesConfigurationList; len(l) > 0 && l[0].TableBucketARN != nil {
			arn = *l[0].TableBucketARN
		}
		return "FAILED", fmt.Sprintf(S3TablesUnreachable, arn)
	case now.Before(ch.UpdatingUntil):
		return "UPDATING", ""
	}
	return "ACTIVE", ""
}

const (
	defaultFreshness = 300
	minFreshness     = 300
	maxFreshness     = 900
	// channelsPerDestination is how many channels of one destination type a stream may have:
	// one to S3 and one to S3 Tables, at launch.
	channelsPerDestination = 1
	// channelTagsMax is the tags a channel may have, as a stream.
	channelTagsMax = 50
)

var (
	channelNameRE  = lazyre.New(`^[a-zA-Z0-9_.-]+$`)
	channelARNRE   = lazyre.New(`^arn:aws.*:kinesis:.*:\d{12}:channel/\S+$`)
	channelARNPart = lazyre.New(`^arn:aws[^:]*:kinesis:([^:]*):(\d{12}):channel/([a-zA-Z0-9_.-]+)$`)
	roleARNRE      = lazyre.New(`^arn:aws[a-z-]*:iam::\d{12}:role/\S+$`)
	bucketARNRE    = lazyre.New(`^arn:aws[-a-z0-9]*:s3:::([a-z0-9._-]{3,63})$`)
	tableBucketRE  = lazyre.New(`^arn:aws[a-z-]*:s3tables:[a-z0-9-]+:\d{12}:bucket/[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)
	accountRE      = lazyre.New(`^\d{12}$`)
	tablePartRE    = lazyre.New(`^[a-z0-9_]+$`)
	errorPrefixRE  = lazyre.New(`^[0-9A-Za-z!\-_'.*()\/]+$`)
	keyTemplateRE  = lazyre.New(`^[0-9A-Za-z!\-_'.*()\/=:{}]+$`)
)

const (
	channelNamePattern = "[a-zA-Z0-9_.-]+"
	channelARNPattern  = `arn:aws.*:kinesis:.*:\d{12}:channel/\S+`
	roleARNPattern     = `arn:aws[a-z-]*:iam::\d{12}:role/\S+`
	bucketARNPattern   = `arn:aws[-a-z0-9]*:s3:::[a-z0-9._-]{3,63}`
	errorPrefixPattern = `[0-9A-Za-z!\-_'.*()\/]+`
	keyTemplatePattern = `[0-9A-Za-z!\-_'.*()\/=:{}]+`
	tableBucketPattern = `arn:aws[a-z-]*:s3tables:[a-z0-9-]+:\d{12}:bucket/[a-z0-9][a-z0-9-]{1,61}[a-z0-9]`
	accountPattern     = `\d{12}`
	tablePartPattern   = `[a-z0-9_]+`
)

func (c *call) channelARN(name string) string {
	return fmt.Sprintf("arn:aws:kinesis:%s:%s:channel/%s", c.region, awsjson.Account, name)
}

func channelNotFound(arn string) *awsjson.Error {
	return awsjson.NewError("ResourceNotFoundException", fmt.Sprintf("Channel %s under account %s not found.", arn, awsjson.Account))
}

func (v *validator) channelARN(path string, s *string) {
	if v.Required(path, s != nil) {
		v.Str(path, s, 1, 2048, channelARNRE, channelARNPattern)
	}
}

func (v *validator) freshness(path string, n *int32) {
	v.IntRange(path, n, minFreshness, maxFreshness)
}

func (v *validator) deadLetter(path string, d *DeadLetterQueue) {
	if d == nil {
		return
	}
	if v.Required(path+".bucketARN", d.BucketARN != nil) {
		v.Str(path+".bucketARN", d.BucketARN, 1, 2048, bucketARNRE, bucketARNPattern)
	}
	if v.Required(path+".expectedBucketOwner", d.ExpectedBucketOwner != nil) {
		v.Str(path+".expectedBucketOwner", d.ExpectedBucketOwner, 12, 12, accountRE, accountPattern)
	}
	v.Str(path+".errorOutputPrefix", d.ErrorOutputPrefix, 1, 512, errorPrefixRE, errorPrefixPattern)
}

func (v *validator) logging(path string, l *CloudWatchLogs) {
	if v.Required(path+".enabled", l.Enabled != nil) {
		v.Str(path+".logGroupName", l.LogGroupName, 1, 512, nil, "")
		v.Str(path+".logStreamName", l.LogStreamName, 1, 512, nil, "")
	}
}

type createChannelIn struct {
	ChannelName                      *string                      `json:"ChannelName"`
	ServiceExecutionRoleARN          *string                      `json:"ServiceExecutionRoleARN"`
	StreamConfigurationList          []ChannelStreamConfiguration `json:"StreamConfigurationList"`
	S3DestinationConfiguration       *S3Destination               `json:"S3DestinationConfiguration"`
	S3TablesDestinationConfiguration *S3TablesDestination         `json:"S3TablesDestinationConfiguration"`
	EncryptionConfiguration          *ChannelEncryptConfig        `json:"EncryptionConfiguration"`
	LoggingConfiguration             *ChannelLogging              `json:"LoggingConfiguration"`
	Tags                             map[string]string            `json:"Tags"`
}

func (in *createChannelIn) check(v *validator) {
	if v.Required("channelName", in.ChannelName != nil) {
		v.Str("channelName", in.ChannelName, 1, 128, channelNameRE, channelNamePattern)
	}
	if v.Required("serviceExecutionRoleARN", in.ServiceExecutionRoleARN != nil) {
		v.Str("serviceExecutionRoleARN", in.ServiceExecutionRoleARN, 1, 2048, roleARNRE, roleARNPattern)
	}
	if v.Required("streamConfigurationList", in.StreamConfigurationList != nil) {
		if n := len(in.StreamConfigurationList); n != 1 {
			shown := awsjson.Quote(fmt.Sprintf("[%d items]", n))
			if n < 1 {
				v.Fail(shown, "streamConfigurationList", "have length greater than or equal to 1")
			} else {
				v.Fail(shown, "streamConfigurationList", "have length less than or equal to 1")
			}
		}
		for i, sc := range in.StreamConfigurationList {
			p := fmt.Sprintf("streamConfigurationList.%d.member", i+1)
			if v.Required(p+".streamARN", sc.StreamARN != nil) {
				v.streamARN(p+".streamARN", sc.StreamARN)
			}
			if v.Required(p+".recordConfiguration", sc.RecordConfiguration != nil) {
				rc := sc.RecordConfiguration
				if v.Required(p+".recordConfiguration.recordFormatType", rc.RecordFormatType != nil) {
					v.Enum(p+".recordConfiguration.recordFormatType", rc.RecordFormatType, "GSR_JSON", "JSON", "STRING", "BYTE_ARRAY")
				}
				v.Str(p+".recordConfiguration.gSRSchemaARN", rc.GSRSchemaARN, 1, 2048, nil, "")
			}
		}
	}
	if d := in.S3DestinationConfiguration; d != nil {
		const p = "s3DestinationConfiguration"
		if v.Required(p+".storageConfiguration", d.StorageConfiguration != nil) {
			s := d.StorageConfiguration
			if v.Required(p+".storageConfiguration.bucketARN", s.BucketARN != nil) {
				v.Str(p+".storageConfiguration.bucketARN", s.BucketARN, 1, 2048, bucketARNRE, bucketARNPattern)
			}
			if v.Required(p+".storageConfiguration.compressionType", s.CompressionType != nil) {
				v.Enum(p+".storageConfiguration.compressionType", s.CompressionType, "NONE", "GZIP", "ZSTD")
			}
			if v.Required(p+".storageConfiguration.expectedBucketOwner", s.ExpectedBucketOwner != nil) {
				v.Str(p+".storageConfiguration.expectedBucketOwner", s.ExpectedBucketOwner, 12, 12, accountRE, accountPattern)
			}
			v.Str(p+".storageConfiguration.outputKeyTemplate", s.OutputKeyTemplate, 1, 1024, keyTemplateRE, keyTemplatePattern)
			v.Enum(p+".storageConfiguration.storageClass", s.StorageClass, "STANDARD", "INTELLIGENT_TIERING", "GLACIER_IR")
		}
		v.freshness(p+".dataFreshnessInSeconds", d.DataFreshnessInSeconds)
		v.deadLetter(p+".deadLetterQueueS3Configuration", d.DeadLetterQueueS3Configuration)
	}
	if d := in.S3TablesDestinationConfiguration; d != nil {
		const p = "s3TablesDestinationConfiguration"
		if v.Required(p+".s3TablesConfigurationList", d.S3TablesConfigurationList != nil) {
			if n := len(d.S3TablesConfigurationList); n != 1 {
				shown := awsjson.Quote(fmt.Sprintf("[%d items]", n))
				if n < 1 {
					v.Fail(shown, p+".s3TablesConfigurationList", "have length greater than or equal to 1")
				} else {
					v.Fail(shown, p+".s3TablesConfigurationList", "have length less than or equal to 1")
				}
			}
			for i, t := range d.S3TablesConfigurationList {
				q := fmt.Sprintf("%s.s3TablesConfigurationList.%d.member", p, i+1)
				if v.Required(q+".tableBucketARN", t.TableBucketARN != nil) {
					v.Str(q+".tableBucketARN", t.TableBucketARN, 1, 2048, tableBucketRE, tableBucketPattern)
				}
				if v.Required(q+".namespace", t.Namespace != nil) {
					v.Str(q+".namespace", t.Namespace, 1, 255, tablePartRE, tablePartPattern)
				}
				if v.Required(q+".tableName", t.TableName != nil) {
					v.Str(q+".tableName", t.TableName, 1, 255, tablePartRE, tablePartPattern)
				}
				if v.Required(q+".compressionType", t.CompressionType != nil) {
					v.Enum(q+".compressionType", t.CompressionType, "NONE", "ZSTD", "SNAPPY")
				}
			}
		}
		v.freshness(p+".dataFreshnessInSeconds", d.DataFreshnessInSeconds)
		if v.Required(p+".deadLetterQueueS3Configuration", d.DeadLetterQueueS3Configuration != nil) {
			v.deadLetter(p+".deadLetterQueueS3Configuration", d.DeadLetterQueueS3Configuration)
		}
	}
	if e := in.EncryptionConfiguration; e != nil {
		if v.Required("encryptionConfiguration.encryptionType", e.EncryptionType != nil) {
			v.Enum("encryptionConfiguration.encryptionType", e.EncryptionType, "KMS")
		}
		if v.Required("encryptionConfiguration.keyId", e.KeyId != nil) {
			v.Str("encryptionConfiguration.keyId", e.KeyId, 1, 2048, nil, "")
		}
	}
	if l := in.LoggingConfiguration; l != nil {
		if v.Required("loggingConfiguration.cloudWatchLogs", l.CloudWatchLogs != nil) {
			v.logging("loggingConfiguration.cloudWatchLogs", l.CloudWatchLogs)
		}
	}
	v.TagMap("tags", in.Tags, channelTagsMax)
}

func invalid(msg string) *awsjson.Error { return awsjson.NewError("InvalidArgumentException", msg) }

func (c *call) createChannel(in *createChannelIn) ([]byte, *awsjson.Error) {
	store := c.h.channels
	// The checks across members the model cannot state, in the order the request reads.
	s3, tables := in.S3DestinationConfiguration, in.S3TablesDestinationConfiguration
	if (s3 == nil) == (tables == nil) {
		return nil, invalid("Exactly one of S3DestinationConfiguration and S3TablesDestinationConfiguration must be specified.")
	}
	sc := in.StreamConfigurationList[0]
	format := *sc.RecordConfiguration.RecordFormatType
	switch {
	case s3 != nil && format == "GSR_JSON":
		return nil, invalid("RecordFormatType GSR_JSON is supported only for S3 Tables destinations; use JSON, STRING or BYTE_ARRAY for a general purpose bucket.")
	case tables != nil && (format == "STRING" || format == "BYTE_ARRAY"):
		return nil, invalid(fmt.Sprintf("RecordFormatType %s is supported only for general purpose S3 destinations; use JSON or GSR_JSON for S3 Tables.", format))
	case tables != nil && sc.RecordConfiguration.GSRSchemaARN == nil:
		return nil, invalid("GSRSchemaARN is required when the channel destination is a streaming table.")
	}
	if s3 != nil && s3.StorageConfiguration.OutputKeyTemplate != nil {
		if err := store.CheckKeyTemplate(*s3.StorageConfiguration.OutputKeyTemplate); err != nil {
			return nil, invalid("Invalid OutputKeyTemplate: " + err.Error())
		}
	}
	if err := checkResourceTagChars("channel", *in.ChannelName, in.Tags); err != nil {
		return nil, err
	}
	streamName, aerr := c.target(nil, sc.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := c.active(streamName); aerr != nil {
		return nil, aerr
	}
	info, _ := c.h.eng.Describe(streamName)
	if info.Mode != stream.ModeOnDemand {
		return nil, invalid(fmt.Sprintf("Stream %s under account %s is in %s mode; channels are supported only for data streams in ON_DEMAND capacity mode.", streamName, awsjson.Account, info.Mode))
	}
	arn := c.channelARN(*in.ChannelName)
	if _, err := store.Get(*in.ChannelName); err == nil {
		return nil, awsjson.NewError("ResourceInUseException", fmt.Sprintf("Channel %s under account %s already exists.", arn, awsjson.Account))
	}
	ch := Channel{Name: *in.ChannelName, Stream: streamName, StreamCreated: info.Created, Role: *in.ServiceExecutionRoleARN,
		Record: *sc.RecordConfiguration, S3: s3, S3Tables: tables, Logging: in.LoggingConfiguration, Encrypt: in.EncryptionConfiguration, Tags: in.Tags}
	n := 0
	for _, o := range store.List() {
		if o.Stream == streamName && o.StreamCreated.Equal(info.Created) && o.DeletingUntil.IsZero() && o.Destination() == ch.Destination() {
			n++
		}
	}
	if n >= channelsPerDestination {
		return nil, awsjson.NewError("LimitExceededException", fmt.Sprintf("Stream %s under account %s already has %d channel(s) to destination type %s, the limit.", streamName, awsjson.Account, n, ch.Destination()))
	}
	fillChannelDefaults(&ch)
	now := c.now.UTC().Truncate(time.Millisecond)
	ch.ID, ch.Created, ch.ActiveAt = newChannelID(), now, now.Add(c.h.channelDelay)
	if err := store.Create(ch); err != nil {
		if errors.Is(err, ErrChannelExists) {
			return nil, awsjson.NewError("ResourceInUseException", fmt.Sprintf("Channel %s under account %s already exists.", arn, awsjson.Account))
		}
		return nil, awsjson.ErrorOrInternal(err, c.h.logger, "kinesis: creating a channel", "channel", ch.Name)
	}
	return awsjson.Marshal(map[string]any{"ChannelDescription": c.channelJSON(ch)})
}

// fillChannelDefaults gives a new channel the values AWS documents for members left out, so
// DescribeChannel shows them: freshness 300 s, the default key template, the dead-letter
// queue in the destination bucket, logging off with its default names.
func fillChannelDefaults(ch *Channel) {
	def := func(p **int32) {
		if *p == nil {
			n := int32(defaultFreshness)
			*p = &n
		}
	}
	if d := ch.S3; d != nil {
		d2 := *d
		sc := *d.StorageConfiguration
		d2.StorageConfiguration = &sc
		if sc.StorageClass == nil {
			s := "STANDARD"
			sc.StorageClass = &s
		}
		def(&d2.DataFreshnessInSeconds)
		if d2.DeadLetterQueueS3Configuration == nil {
			d2.DeadLetterQueueS3Configuration = &DeadLetterQueue{BucketARN: sc.BucketARN, ExpectedBucketOwner: sc.ExpectedBucketOwner}
		}
		ch.S3 = &d2
	}
	if d := ch.S3Tables; d != nil {
		d2 := *d
		def(&d2.DataFreshnessInSeconds)
		ch.S3Tables = &d2
	}
	if ch.Logging == nil {
		f := false
		ch.Logging = &ChannelLogging{CloudWatchLogs: &CloudWatchLogs{Enabled: &f}}
	}
}

// newChannelID is a random UUID (version 4), the form of AWS's ids.
func newChannelID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func (c *call) channelJSON(ch Channel) map[string]any {
	status, reason := ch.status(c.now)
	out := map[string]any{
		"ChannelName":              ch.Name,
		"ChannelARN":               c.channelARN(ch.Name),
		"ChannelId":                ch.ID,
		"ChannelStatus":            status,
		"ChannelCreationTimestamp": awsjson.Timestamp(ch.Created),
		"ServiceExecutionRoleARN":  ch.Role,
		"StreamConfigurationList": []any{map[string]any{
			"StreamARN": c.arn(ch.Stream), "StreamCreationTimestamp": awsjson.Timestamp(ch.StreamCreated), "RecordConfiguration": ch.Record,
		}},
		"LoggingConfiguration": ch.Logging,
	}
	if reason != "" {
		out["ChannelStatusReason"] = reason
	}
	if ch.S3 != nil {
		out["S3DestinationConfiguration"] = ch.S3
	}
	if ch.S3Tables != nil {
		out["S3TablesDestinationConfiguration"] = ch.S3Tables
	}
	if ch.Encrypt != nil {
		out["EncryptionConfiguration"] = ch.Encrypt
	}
	return out
}

type channelRef struct {
	ChannelARN *string `json:"ChannelARN"`
}

func (in *channelRef) check(v *validator) { v.channelARN("channelARN", in.ChannelARN) }

// channel finds the channel an ARN names; a DELETING channel is found until it is gone.
func (c *call) channel(arn string) (Channel, *awsjson.Error) {
	m := channelARNPart.FindStringSubmatch(arn)
	if m == nil || len(m[3]) > 128 {
		return Channel{}, invalid("Invalid ChannelARN " + arn)
	}
	if m[2] != awsjson.Account {
		return Channel{}, channelNotFound(arn)
	}
	ch, err := c.h.channels.Get(m[3])
	if err != nil {
		return Channel{}, channelNotFound(arn)
	}
	return ch, nil
}

func (c *call) describeChannel(in *channelRef) ([]byte, *awsjson.Error) {
	ch, aerr := c.channel(*in.ChannelARN)
	if aerr != nil {
		return nil, aerr
	}
	return awsjson.Marshal(map[string]any{"ChannelDescription": c.channelJSON(ch)})
}

func (c *call) deleteChannel(in *channelRef) ([]byte, *awsjson.Error) {
	ch, aerr := c.channel(*in.ChannelARN)
	if aerr != nil {
		return nil, aerr
	}
	if !ch.DeletingUntil.IsZero() {
		return nil, awsjson.NewError("ResourceInUseException", fmt.Sprintf("Channel %s under account %s is already being deleted.", *in.ChannelARN, awsjson.Account))
	}
	if err := c.h.channels.Delete(ch.Name, c.now.Add(c.h.channelDelay)); err != nil {
		if errors.Is(err, ErrChannelNotFound) {
			return nil, channelNotFound(*in.ChannelARN)
		}
		return nil, awsjson.ErrorOrInternal(err, c.h.logger, "kinesis: deleting a channel", "channel", ch.Name)
	}
	return empty, nil
}

type updateChannelIn struct {
	channelRef
	LoggingConfiguration *struct {
		CloudWatchLogs *CloudWatchLogs `json:"CloudWatchLogs"`
	} `json:"LoggingConfiguration"`
	S3DestinationConfiguration *struct {
		DataFreshnessInSeconds *int32 `json:"DataFreshnessInSeconds"`
	} `json:"S3DestinationConfiguration"`
	S3TablesDestinationConfiguration *struct {
		DataFreshnessInSeconds *int32 `json:"DataFreshnessInSeconds"`
	} `json:"S3TablesDestinationConfiguration"`
}

func (in *updateChannelIn) check(v *validator) {
	in.channelRef.check(v)
	if l := in.LoggingConfiguration; l != nil {
		if v.Required("loggingConfiguration.cloudWatchLogs", l.CloudWatchLogs != nil) {
			v.logging("loggingConfiguration.cloudWatchLogs", l.CloudWatchLogs)
		}
	}
	if d := in.S3DestinationConfiguration; d != nil {
		if v.Required("s3DestinationConfiguration.dataFreshnessInSeconds", d.DataFreshnessInSeconds != nil) {
			v.freshness("s3DestinationConfiguration.dataFreshnessInSeconds", d.DataFreshnessInSeconds)
		}
	}
	if d := in.S3TablesDestinationConfiguration; d != nil {
		if v.Required("s3TablesDestinationConfiguration.dataFreshnessInSeconds", d.DataFreshnessInSeconds != nil) {
			v.freshness("s3TablesDestinationConfiguration.dataFreshnessInSeconds", d.DataFreshnessInSeconds)
		}
	}
}

func (c *call) updateChannel(in *updateChannelIn) ([]byte, *awsjson.Error) {
	if in.LoggingConfiguration == nil && in.S3DestinationConfiguration == nil && in.S3TablesDestinationConfiguration == nil {
		return nil, invalid("UpdateChannel needs at least one of LoggingConfiguration, S3DestinationConfiguration and S3TablesDestinationConfiguration.")
	}
	ch, aerr := c.channel(*in.ChannelARN)
	if aerr != nil {
		return nil, aerr
	}
	switch {
	case in.S3DestinationConfiguration != nil && ch.S3 == nil:
		return nil, invalid("Channel " + *in.ChannelARN + " delivers to S3 Tables; update it with S3TablesDestinationConfiguration.")
	case in.S3TablesDestinationConfiguration != nil && ch.S3Tables == nil:
		return nil, invalid("Channel " + *in.ChannelARN + " delivers to a general purpose S3 bucket; update it with S3DestinationConfiguration.")
	}
	if status, _ := ch.status(c.now); status != "ACTIVE" {
		return nil, awsjson.NewError("ResourceInUseException", fmt.Sprintf("Channel %s under account %s not ACTIVE, instead in state %s", *in.ChannelARN, awsjson.Account, status))
	}
	ch, err := c.h.channels.Update(ch.Name, func(ch *Channel) error {
		if d := in.S3DestinationConfiguration; d != nil {
			s3 := *ch.S3
			s3.DataFreshnessInSeconds = d.DataFreshnessInSeconds
			ch.S3 = &s3
		}
		if d := in.S3TablesDestinationConfiguration; d != nil {
			t := *ch.S3Tables
			t.DataFreshnessInSeconds = d.DataFreshnessInSeconds
			ch.S3Tables = &t
		}
		if l := in.LoggingConfiguration; l != nil {
			ch.Logging = &ChannelLogging{CloudWatchLogs: l.CloudWatchLogs}
		}
		ch.UpdatingUntil = c.now.Add(c.h.channelDelay)
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrChannelNotFound) {
			return nil, channelNotFound(*in.ChannelARN)
		}
		return nil, awsjson.ErrorOrInternal(err, c.h.logger, "kinesis: updating a channel", "channel", ch.Name)
	}
	d := c.channelJSON(ch)
	if c.h.channelDelay == 0 {
		// The answer shows the change as under way, as AWS's does, even when it takes no time.
		d["ChannelStatus"] = "UPDATING"
	}
	return awsjson.Marshal(map[string]any{"ChannelDescription": d})
}

type streamFilter struct {
	StreamARN               *string  `json:"StreamARN"`
	StreamCreationTimestamp *float64 `json:"StreamCreationTimestamp"`
}

type listChannelsIn struct {
	MaxResults   *int32         `json:"MaxResults"`
	NextToken    *string        `json:"NextToken"`
	StreamFilter []streamFilter `json:"StreamFilter"`
}

// maxChannelsPage is the most ListChannels returns at once, whatever MaxResults says.
const maxChannelsPage = 100

func (in *listChannelsIn) check(v *validator) {
	v.IntRange("maxResults", in.MaxResults, 1, 10000)
	v.Str("nextToken", in.NextToken, 1, 1048576, nil, "")
	if in.StreamFilter != nil && len(in.StreamFilter) < 1 {
		v.Fail(awsjson.Quote("[]"), "streamFilter", "have length greater than or equal to 1")
	}
	for i, f := range in.StreamFilter {
		p := fmt.Sprintf("streamFilter.%d.member.streamARN", i+1)
		if v.Required(p, f.StreamARN != nil) {
			v.streamARN(p, f.StreamARN)
		}
	}
}

func (c *call) listChannels(in *listChannelsIn) ([]byte, *awsjson.Error) {
	limit := maxChannelsPage
	if in.MaxResults != nil && int(*in.MaxResults) < limit {
		limit = int(*in.MaxResults)
	}
	after := ""
	if in.NextToken != nil {
		b, err := base64.RawURLEncoding.DecodeString(*in.NextToken)
		if err != nil || len(b) == 0 {
			return nil, invalid("Invalid NextToken.")
		}
		after = string(b)
	}
	type want struct {
		name    string
		created int64 // -1: any
	}
	var filters []want
	for _, f := range in.StreamFilter {
		n, aerr := c.target(nil, f.StreamARN)
		if aerr != nil {
			return nil, aerr
		}
		w := want{name: n, created: -1}
		if f.StreamCreationTimestamp != nil {
			w.created = epochMillis(*f.StreamCreationTimestamp)
		}
		filters = append(filters, w)
	}
	out := []any{}
	var next *string
	for _, ch := range c.h.channels.List() {
		if ch.Name <= after {
			continue
		}
		if filters != nil {
			ok := false
			for _, w := range filters {
				ok = ok || w.name == ch.Stream && (w.created < 0 || w.created == ch.StreamCreated.UnixMilli())
			}
			if !ok {
				continue
			}
		}
		if len(out) == limit {
			t := base64.RawURLEncoding.EncodeToString([]byte(after))
			next = &t
			break
		}
		status, reason := ch.status(c.now)
		s := map[string]any{
			"ChannelName": ch.Name, "ChannelARN": c.channelARN(ch.Name), "ChannelId": ch.ID, "ChannelStatus": status,
			"ChannelCreationTimestamp": awsjson.Timestamp(ch.Created), "ChannelDestinationType": ch.Destination(),
			"Streams": []any{map[string]any{"StreamARN": c.arn(ch.Stream), "StreamCreationTimestamp": awsjson.Timestamp(ch.StreamCreated)}},
		}
		if reason != "" {
			s["ChannelStatusReason"] = reason
		}
		out = append(out, s)
		after = ch.Name
	}
	res := map[string]any{"ChannelSummaries": out}
	if next != nil {
		res["NextToken"] = *next
	}
	return awsjson.Marshal(res)
}

// channelsOn names the channels that read a stream, for DeleteStream, which AWS refuses while
// a stream has channels.
func (h *Handler) channelsOn(info stream.StreamInfo) []string {
	var out []string
	for _, ch := range h.channels.List() {
		if ch.Stream == info.Name && ch.StreamCreated.Equal(info.Created) && ch.DeletingUntil.IsZero() {
			out = append(out, ch.Name)
		}
	}
	return out
}

// memChannels is the ChannelStore of a handler given none: channels kept in memory, which
// deliver nothing.
type memChannels struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[string]Channel
}

func (s *memChannels) Create(ch Channel) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[ch.Name]; ok {
		return ErrChannelExists
	}
	if s.m == nil {
		s.m = map[string]Channel{}
	}
	s.m[ch.Name] = ch
	return nil
}

func (s *memChannels) Get(name string) (Channel, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.m[name]
	if !ok || !ch.DeletingUntil.IsZero() && !s.now().Before(ch.DeletingUntil) {
		return Channel{}, ErrChannelNotFound
	}
	return ch, nil
}

func (s *memChannels) List() []Channel {
	s.mu.Lock()
	names := make([]string, 0, len(s.m))
	for n := range s.m {
		names = append(names, n)
	}
	s.mu.Unlock()
	sort.Strings(names)
	var out []Channel
	for _, n := range names {
		if ch, err := s.Get(n); err == nil {
			out = append(out, ch)
		}
	}
	return out
}

func (s *memChannels) Update(name string, fn func(*Channel) error) (Channel, error) {
	ch, err := s.Get(name)
	if err != nil {
		return Channel{}, err
	}
	if err := fn(&ch); err != nil {
		return Channel{}, err
	}
	s.mu.Lock()
	s.m[name] = ch
	s.mu.Unlock()
	return ch, nil
}

func (s *memChannels) Delete(name string, until time.Time) error {
	_, err := s.Update(name, func(ch *Channel) error { ch.DeletingUntil = until; return nil })
	return err
}

func (s *memChannels) CheckKeyTemplate(string) error { return nil }
