package kinesisapi

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

const (
	chStreamARN = "arn:aws:kinesis:us-east-1:000000000000:stream/od"
	chRole      = "arn:aws:iam::000000000000:role/channel"
	chBucket    = "arn:aws:s3:::dest"
	chARN       = "arn:aws:kinesis:us-east-1:000000000000:channel/"
)

// channelBody is a CreateChannel request to an S3 bucket, with edits applied to its decoded
// form (a nil value deletes the member).
func channelBody(name string, edit func(m map[string]any)) string {
	m := map[string]any{
		"ChannelName":             name,
		"ServiceExecutionRoleARN": chRole,
		"StreamConfigurationList": []any{map[string]any{"StreamARN": chStreamARN, "RecordConfiguration": map[string]any{"RecordFormatType": "JSON"}}},
		"S3DestinationConfiguration": map[string]any{"StorageConfiguration": map[string]any{
			"BucketARN": chBucket, "CompressionType": "GZIP", "ExpectedBucketOwner": "000000000000"}},
	}
	if edit != nil {
		edit(m)
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func tablesDestination() map[string]any {
	return map[string]any{
		"S3TablesConfigurationList": []any{map[string]any{"TableBucketARN": "arn:aws:s3tables:us-east-1:000000000000:bucket/tbkt",
			"Namespace": "ns", "TableName": "events", "CompressionType": "ZSTD"}},
		"DeadLetterQueueS3Configuration": map[string]any{"BucketARN": chBucket, "ExpectedBucketOwner": "000000000000"},
	}
}

func storage(m map[string]any) map[string]any {
	return m["S3DestinationConfiguration"].(map[string]any)["StorageConfiguration"].(map[string]any)
}

func format(m map[string]any, f string) {
	m["StreamConfigurationList"].([]any)[0].(map[string]any)["RecordConfiguration"].(map[string]any)["RecordFormatType"] = f
}

// TestChannelErrors answers every bad CreateChannel, DescribeChannel, UpdateChannel,
// ListChannels and DeleteChannel with the error AWS models for it.
func TestChannelErrors(t *testing.T) {
	e := newEnv(t, nil)
	e.createOnDemand(t, "od")
	e.create(t, "prov", 1)
	e.mustInvoke(t, "CreateChannel", channelBody("taken", nil))
	for _, c := range []struct {
		name, action, body, typ, msg string
	}{
		{"no name", "CreateChannel", channelBody("x", func(m map[string]any) { delete(m, "ChannelName") }), "ValidationException", "'channelName' failed to satisfy constraint: Member must not be null"},
		{"bad name", "CreateChannel", channelBody("a b", nil), "ValidationException", "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"},
		{"long name", "CreateChannel", channelBody(strings.Repeat("n", 129), nil), "ValidationException", "have length less than or equal to 128"},
		{"no role", "CreateChannel", channelBody("x", func(m map[string]any) { delete(m, "ServiceExecutionRoleARN") }), "ValidationException", "'serviceExecutionRoleARN'"},
		{"bad role", "CreateChannel", channelBody("x", func(m map[string]any) { m["ServiceExecutionRoleARN"] = "role" }), "ValidationException", "'serviceExecutionRoleARN' failed to satisfy constraint: Member must satisfy regular expression pattern"},
		{"no streams", "CreateChannel", channelBody("x", func(m map[string]any) { m["StreamConfigurationList"] = []any{} }), "ValidationException", "have length greater than or equal to 1"},
		{"two streams", "CreateChannel", channelBody("x", func(m map[string]any) {
			l := m["StreamConfigurationList"].([]any)
			m["StreamConfigurationList"] = append(l, l[0])
		}), "ValidationException", "have length less than or equal to 1"},
		{"bad format", "CreateChannel", channelBody("x", func(m map[string]any) { format(m, "CSV") }), "ValidationException", "satisfy enum value set: [GSR_JSON, JSON, STRING, BYTE_ARRAY]"},
		{"bad compression", "CreateChannel", channelBody("x", func(m map[string]any) { storage(m)["CompressionType"] = "ZIP" }), "ValidationException", "[NONE, GZIP, ZSTD]"},
		{"bad bucket ARN", "CreateChannel", channelBody("x", func(m map[string]any) { storage(m)["BucketARN"] = "dest" }), "ValidationException", "'s3DestinationConfiguration.storageConfiguration.bucketARN'"},
		{"bad owner", "CreateChannel", channelBody("x", func(m map[string]any) { storage(m)["ExpectedBucketOwner"] = "me" }), "ValidationException", "expectedBucketOwner"},
		{"key template with a space", "CreateChannel", channelBody("x", func(m map[string]any) { storage(m)["OutputKeyTemplate"] = "a b/!{mm}" }), "ValidationException", "outputKeyTemplate' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9A-Za-z!\\-_'.*()\\/=:{}]+"},
		{"error prefix with a variable", "CreateChannel", channelBody("x", func(m map[string]any) {
			m["S3DestinationConfiguration"].(map[string]any)["DeadLetterQueueS3Configuration"] = map[string]any{
				"BucketARN": chBucket, "ExpectedBucketOwner": "000000000000", "ErrorOutputPrefix": "errors/!{yyyy}/"}
		}), "ValidationException", "errorOutputPrefix' failed to satisfy constraint"},
		{"bad storage class", "CreateChannel", channelBody("x", func(m map[string]any) { storage(m)["StorageClass"] = "GLACIER" }), "ValidationException", "[STANDARD, INTELLIGENT_TIERING, GLACIER_IR]"},
		{"freshness low", "CreateChannel", channelBody("x", func(m map[string]any) {
			m["S3DestinationConfiguration"].(map[string]any)["DataFreshnessInSeconds"] = 299
		}), "ValidationException", "have value greater than or equal to 300"},
		{"freshness high", "CreateChannel", channelBody("x", func(m map[string]any) {
			m["S3DestinationConfiguration"].(map[string]any)["DataFreshnessInSeconds"] = 901
		}), "ValidationException", "have value less than or equal to 900"},
		{"tables without DLQ", "CreateChannel", channelBody("x", func(m map[string]any) {
			delete(m, "S3DestinationConfiguration")
			d := tablesDestination()
			delete(d, "DeadLetterQueueS3Configuration")
			m["S3TablesDestinationConfiguration"] = d
		}), "ValidationException", "deadLetterQueueS3Configuration' failed to satisfy constraint: Member must not be null"},
		{"neither destination", "CreateChannel", channelBody("x", func(m map[string]any) { delete(m, "S3DestinationConfiguration") }), "InvalidArgumentException", "Exactly one of S3DestinationConfiguration and S3TablesDestinationConfiguration"},
		{"both destinations", "CreateChannel", channelBody("x", func(m map[string]any) { m["S3TablesDestinationConfiguration"] = tablesDestination() }), "InvalidArgumentException", "Exactly one of"},
		{"GSR_JSON to S3", "CreateChannel", channelBody("x", func(m map[string]any) { format(m, "GSR_JSON") }), "InvalidArgumentException", "GSR_JSON is supported only for S3 Tables"},
		{"STRING to tables", "CreateChannel", channelBody("x", func(m map[string]any) {
			delete(m, "S3DestinationConfiguration")
			m["S3TablesDestinationConfiguration"] = tablesDestination()
			format(m, "STRING")
		}), "InvalidArgumentException", "STRING is supported only for general purpose S3"},
		{"tables without schema", "CreateChannel", channelBody("x", func(m map[string]any) {
			delete(m, "S3DestinationConfiguration")
			m["S3TablesDestinationConfiguration"] = tablesDestination()
		}), "InvalidArgumentException", "GSRSchemaARN is required"},
		{"unknown stream", "CreateChannel", channelBody("x", func(m map[string]any) {
			m["StreamConfigurationList"].([]any)[0].(map[string]any)["StreamARN"] = "arn:aws:kinesis:us-east-1:000000000000:stream/nope"
		}), "ResourceNotFoundException", "Stream nope under account 000000000000 not found."},
		{"provisioned stream", "CreateChannel", channelBody("x", func(m map[string]any) {
			m["StreamConfigurationList"].([]any)[0].(map[string]any)["StreamARN"] = "arn:aws:kinesis:us-east-1:000000000000:stream/prov"
		}), "InvalidArgumentException", "ON_DEMAND"},
		{"duplicate name", "CreateChannel", channelBody("taken", nil), "ResourceInUseException", "Channel " + chARN + "taken under account 000000000000 already exists."},
		{"second S3 channel on a stream", "CreateChannel", channelBody("second", nil), "LimitExceededException", "already has 1 channel(s) to destination type S3"},
		{"describe without ARN", "DescribeChannel", `{}`, "ValidationException", "'channelARN' failed to satisfy constraint: Member must not be null"},
		{"describe a stream ARN", "DescribeChannel", `{"ChannelARN":"` + chStreamARN + `"}`, "ValidationException", "Member must satisfy regular expression pattern"},
		{"describe unknown", "DescribeChannel", `{"ChannelARN":"` + chARN + `nope"}`, "ResourceNotFoundException", "Channel " + chARN + "nope under account 000000000000 not found."},
		{"describe other account", "DescribeChannel", `{"ChannelARN":"arn:aws:kinesis:us-east-1:111111111111:channel/taken"}`, "ResourceNotFoundException", "not found"},
		{"update nothing", "UpdateChannel", `{"ChannelARN":"` + chARN + `taken"}`, "InvalidArgumentException", "needs at least one of"},
		{"update freshness low", "UpdateChannel", `{"ChannelARN":"` + chARN + `taken","S3DestinationConfiguration":{"DataFreshnessInSeconds":10}}`, "ValidationException", "greater than or equal to 300"},
		{"update freshness missing", "UpdateChannel", `{"ChannelARN":"` + chARN + `taken","S3DestinationConfiguration":{}}`, "ValidationException", "dataFreshnessInSeconds' failed to satisfy constraint: Member must not be null"},
		{"update wrong destination", "UpdateChannel", `{"ChannelARN":"` + chARN + `taken","S3TablesDestinationConfiguration":{"DataFreshnessInSeconds":600}}`, "InvalidArgumentException", "update it with S3DestinationConfiguration"},
		{"update unknown", "UpdateChannel", `{"ChannelARN":"` + chARN + `nope","S3DestinationConfiguration":{"DataFreshnessInSeconds":600}}`, "ResourceNotFoundException", "not found"},
		{"delete unknown", "DeleteChannel", `{"ChannelARN":"` + chARN + `nope"}`, "ResourceNotFoundException", "not found"},
		{"list bad max", "ListChannels", `{"MaxResults":0}`, "ValidationException", "'maxResults'"},
		{"list bad token", "ListChannels", `{"NextToken":"!!"}`, "InvalidArgumentException", "Invalid NextToken."},
		{"list empty filter", "ListChannels", `{"StreamFilter":[]}`, "ValidationException", "'streamFilter' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"list filter without ARN", "ListChannels", `{"StreamFilter":[{}]}`, "ValidationException", "'streamFilter.1.member.streamARN'"},
		{"delete stream with a channel", "DeleteStream", `{"StreamName":"od"}`, "ResourceInUseException", "because channels read from this data stream: taken"},
		{"policy on a channel", "PutResourcePolicy", `{"ResourceARN":"` + chARN + `taken","Policy":"{}"}`, "InvalidArgumentException", "is a channel"},
		{"channel tag with a percent", "CreateChannel", channelBody("x", func(m map[string]any) { m["Tags"] = map[string]any{"a": "50%"} }), "InvalidArgumentException", "Failed to add tags to channel x under account 000000000000 because some tags contained illegal characters."},
		{"tag a channel with a percent", "TagResource", `{"ResourceARN":"` + chARN + `taken","Tags":{"a":"5%"}}`, "InvalidArgumentException", "Failed to add tags to channel taken under account"},
		{"tag unknown channel", "TagResource", `{"ResourceARN":"` + chARN + `nope","Tags":{"a":"b"}}`, "ResourceNotFoundException", "not found"},
	} {
		t.Run(c.name, func(t *testing.T) {
			st, m := e.invoke(t, c.action, c.body)
			if typ, msg := errText(m); st != 400 || typ != c.typ || !strings.Contains(msg, c.msg) {
				t.Errorf("%d %s %q, want %s %q", st, typ, msg, c.typ, c.msg)
			}
		})
	}
}

// TestChannelLifecycle goes CREATING → ACTIVE → UPDATING → ACTIVE → DELETING → gone on the
// handler's clock, and a channel to S3 Tables goes FAILED with the reason.
func TestChannelLifecycle(t *testing.T) {
	e := newEnv(t, nil)
	e.h.channelDelay = time.Minute
	e.createOnDemand(t, "od")
	d := e.mustInvoke(t, "CreateChannel", channelBody("c", func(m map[string]any) { m["Tags"] = map[string]any{"team": "data"} }))["ChannelDescription"].(map[string]any)
	id, _ := d["ChannelId"].(string)
	if d["ChannelStatus"] != "CREATING" || d["ChannelARN"] != chARN+"c" || len(id) != 36 || id[14] != '4' {
		t.Fatalf("created: %v", d)
	}
	s3 := d["S3DestinationConfiguration"].(map[string]any)
	if s3["DataFreshnessInSeconds"] != 300.0 || s3["DeadLetterQueueS3Configuration"].(map[string]any)["BucketARN"] != chBucket ||
		s3["StorageConfiguration"].(map[string]any)["StorageClass"] != "STANDARD" {
		t.Fatalf("defaults: %v", s3)
	}
	if l := d["LoggingConfiguration"].(map[string]any)["CloudWatchLogs"].(map[string]any); l["Enabled"] != false {
		t.Fatalf("logging: %v", l)
	}
	desc := func() map[string]any {
		return e.mustInvoke(t, "DescribeChannel", `{"ChannelARN":"`+chARN+`c"}`)["ChannelDescription"].(map[string]any)
	}
	if st, m := e.invoke(t, "UpdateChannel", `{"ChannelARN":"`+chARN+`c","S3DestinationConfiguration":{"DataFreshnessInSeconds":600}}`); st != 400 || m["__type"] != "ResourceInUseException" {
		t.Fatalf("update while CREATING: %d %v", st, m)
	}
	e.clock.Add(time.Minute)
	if got := desc()["ChannelStatus"]; got != "ACTIVE" {
		t.Fatalf("after the delay: %v", got)
	}
	u := e.mustInvoke(t, "UpdateChannel", `{"ChannelARN":"`+chARN+`c","S3DestinationConfiguration":{"DataFreshnessInSeconds":600}}`)["ChannelDescription"].(map[string]any)
	if u["ChannelStatus"] != "UPDATING" || u["S3DestinationConfiguration"].(map[string]any)["DataFreshnessInSeconds"] != 600.0 {
		t.Fatalf("updated: %v", u)
	}
	e.clock.Add(time.Minute)
	if got := desc()["ChannelStatus"]; got != "ACTIVE" {
		t.Fatalf("after the update: %v", got)
	}
	if tags := e.mustInvoke(t, "ListTagsForResource", `{"ResourceARN":"`+chARN+`c"}`)["Tags"].([]any); len(tags) != 1 {
		t.Fatalf("tags: %v", tags)
	}
	e.mustInvoke(t, "TagResource", `{"ResourceARN":"`+chARN+`c","Tags":{"env":"dev"}}`)
	e.mustInvoke(t, "UntagResource", `{"ResourceARN":"`+chARN+`c","TagKeys":["team"]}`)
	if tags := fmt.Sprint(e.mustInvoke(t, "ListTagsForResource", `{"ResourceARN":"`+chARN+`c"}`)["Tags"]); tags != "[map[Key:env Value:dev]]" {
		t.Fatalf("tags after tag and untag: %v", tags)
	}
	e.mustInvoke(t, "DeleteChannel", `{"ChannelARN":"`+chARN+`c"}`)
	if got := desc()["ChannelStatus"]; got != "DELETING" {
		t.Fatalf("deleted: %v", got)
	}
	// A stream whose only channel is being deleted can be deleted.
	e.clock.Add(time.Minute)
	if st, m := e.invoke(t, "DescribeChannel", `{"ChannelARN":"`+chARN+`c"}`); st != 400 || m["__type"] != "ResourceNotFoundException" {
		t.Fatalf("gone: %d %v", st, m)
	}

	e.h.channelDelay = 0
	tb := e.mustInvoke(t, "CreateChannel", channelBody("t", func(m map[string]any) {
		delete(m, "S3DestinationConfiguration")
		m["S3TablesDestinationConfiguration"] = tablesDestination()
		m["StreamConfigurationList"].([]any)[0].(map[string]any)["RecordConfiguration"].(map[string]any)["GSRSchemaARN"] = "arn:aws:glue:us-east-1:000000000000:schema/r/s"
	}))["ChannelDescription"].(map[string]any)
	if tb["ChannelStatus"] != "FAILED" || !strings.Contains(fmt.Sprint(tb["ChannelStatusReason"]), "arn:aws:s3tables:us-east-1:000000000000:bucket/tbkt cannot be reached") {
		t.Fatalf("S3 Tables channel: %v", tb)
	}
	// One channel of each destination type per stream: the S3 Tables one does not count
	// against an S3 one.
	e.mustInvoke(t, "CreateChannel", channelBody("s", nil))
}

// TestListChannels pages by MaxResults and NextToken, and filters by stream (and its
// creation time).
func TestListChannels(t *testing.T) {
	e := newEnv(t, nil)
	var names []string
	for i := 0; i < 5; i++ {
		s := fmt.Sprintf("od%d", i)
		e.createOnDemand(t, s)
		names = append(names, fmt.Sprintf("ch%d", i))
		e.mustInvoke(t, "CreateChannel", channelBody(names[i], func(m map[string]any) {
			m["StreamConfigurationList"].([]any)[0].(map[string]any)["StreamARN"] = "arn:aws:kinesis:us-east-1:000000000000:stream/" + s
		}))
	}
	var got []string
	token := ""
	for pages := 0; ; pages++ {
		body := `{"MaxResults":2}`
		if token != "" {
			body = `{"MaxResults":2,"NextToken":"` + token + `"}`
		}
		m := e.mustInvoke(t, "ListChannels", body)
		for _, s := range m["ChannelSummaries"].([]any) {
			sm := s.(map[string]any)
			if sm["ChannelDestinationType"] != "S3" || sm["ChannelStatus"] != "ACTIVE" || len(sm["Streams"].([]any)) != 1 {
				t.Fatalf("summary: %v", sm)
			}
			got = append(got, sm["ChannelName"].(string))
		}
		token, _ = m["NextToken"].(string)
		if token == "" {
			if pages != 2 {
				t.Fatalf("%d pages", pages+1)
			}
			break
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(names) {
		t.Fatalf("listed %v, want %v", got, names)
	}
	m := e.mustInvoke(t, "ListChannels", `{"StreamFilter":[{"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/od3"},{"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/od1"}]}`)
	if l := m["ChannelSummaries"].([]any); len(l) != 2 || l[0].(map[string]any)["ChannelName"] != "ch1" || l[1].(map[string]any)["ChannelName"] != "ch3" {
		t.Fatalf("filtered: %v", m)
	}
	m = e.mustInvoke(t, "ListChannels", `{"StreamFilter":[{"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/od1","StreamCreationTimestamp":1}]}`)
	if l := m["ChannelSummaries"].([]any); len(l) != 0 {
		t.Fatalf("filtered by another creation time: %v", m)
	}
}
