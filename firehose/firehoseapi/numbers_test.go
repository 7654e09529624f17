package firehoseapi_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/localpipe/localpipe/firehose/firehoseapi"
	"github.com/localpipe/localpipe/internal/awsjson/awsjsontest"
)

//go:generate go run ../../internal/awsjson/numbersgen -model $BOTOCORE_DATA/firehose/2015-08-04/service-2.json.gz -pkg firehoseapi_test -o model_numbers_test.go

const (
	numberDest = `"BucketARN":"arn:aws:s3:::bkt","RoleARN":"arn:aws:iam::000000000000:role/r"`
	numberRef  = `"DeliveryStreamName":"d","CurrentDeliveryStreamVersionId":"{v}","DestinationId":"destinationId-000000000001"`
)

// numberBases are valid requests that a probe of one numeric member changes, by operation or
// by operation and top-level member; "{n}" stands for a fresh name, "{v}" for the delivery
// stream's current version.
var numberBases = map[string]string{
	"CreateDeliveryStream":                            `{"DeliveryStreamName":"{n}","ExtendedS3DestinationConfiguration":{` + numberDest + `}}`,
	"CreateDeliveryStream.S3DestinationConfiguration": `{"DeliveryStreamName":"{n}","S3DestinationConfiguration":{` + numberDest + `}}`,
	"DescribeDeliveryStream":                          `{"DeliveryStreamName":"d"}`,
	"ListDeliveryStreams":                             `{}`,
	"ListTagsForDeliveryStream":                       `{"DeliveryStreamName":"d"}`,
	"UpdateDestination":                               `{` + numberRef + `}`,
}

// numberIgnored are the members localpipe does not decode, because it refuses what holds them
// (destinations it does not deliver to, S3 backup, columnar format conversion): their ranges
// go unchecked, but no value of theirs may cause a 500.
var numberIgnored = []string{
	"S3BackupConfiguration.", "S3BackupUpdate.", "DataFormatConversionConfiguration.",
	"Redshift", "Elasticsearch", "Amazonopensearchservice", "AmazonOpenSearchServerless", "Splunk",
	"HttpEndpoint", "Snowflake", "Iceberg", "MSKSource", "DatabaseSource",
}

// TestNumericMembersFollowModel sends every numeric member of every operation the values that
// probe its range (the model's bounds ± 1, values beyond 32 and 64 bits, overflowing
// exponents, fractions): out of the model's range the answer is AWS's ValidationException
// naming the member and bound, and whatever the value, never a 500.
func TestNumericMembersFollowModel(t *testing.T) {
	e := newEnv(t)
	e.bucket(t, "bkt")
	if st, m := e.raw(t, "CreateDeliveryStream", `{"DeliveryStreamName":"d","ExtendedS3DestinationConfiguration":{`+numberDest+`}}`); st != 200 {
		t.Fatalf("create: %d %v", st, m)
	}
	n := 0
	for _, m := range modelNumbers {
		top, _, _ := strings.Cut(m.Path, ".")
		base, ok := numberBases[m.Op+"."+top]
		if !ok {
			base, ok = numberBases[m.Op]
		}
		if !ok {
			t.Errorf("%s.%s: no base request to probe it with; add one to numberBases", m.Op, m.Path)
			continue
		}
		ignored := false
		for _, p := range numberIgnored {
			ignored = ignored || strings.Contains(m.Path, p)
		}
		for _, c := range m.Cases() {
			n++
			_, d := e.raw(t, "DescribeDeliveryStream", `{"DeliveryStreamName":"d"}`)
			version := d["DeliveryStreamDescription"].(map[string]any)["VersionId"].(string)
			b := strings.NewReplacer("{n}", fmt.Sprintf("probe%d", n), "{v}", version).Replace(base)
			body, err := awsjsontest.With(b, m.Path, c.Value)
			if err != nil {
				t.Fatal(err)
			}
			status, out := e.raw(t, m.Op, string(body))
			typ, _ := out["__type"].(string)
			msg, _ := out["message"].(string)
			switch {
			case status/100 != 2 && status/100 != 4:
				t.Errorf("%s %s: %d %s %s", m.Op, body, status, typ, msg)
			case ignored:
			case c.Want != "" && (typ != "ValidationException" || !strings.Contains(msg, c.Want)):
				t.Errorf("%s %s: got %d %s %q, want ValidationException with %q", m.Op, body, status, typ, msg, c.Want)
			case c.Want == "" && typ == "ValidationException" && strings.Contains(msg, "'"+m.ValidationPath()+"'"):
				t.Errorf("%s %s: in the model's range, but %q", m.Op, body, msg)
			}
		}
	}
}

// fullDisk is a Space whose disk is full and has nothing left to free.
type fullDisk struct{}

func (fullDisk) Writable() bool { return false }
func (fullDisk) Release() bool  { return false }

// TestFullDiskAnswers503 checks that record writes on a full disk get the modeled, retryable
// 503 (TestDiskFull in internal/app fills a real one) while deletes go on.
func TestFullDiskAnswers503(t *testing.T) {
	e := newEnv(t)
	e.bucket(t, "bkt")
	for _, name := range []string{"d", "gone"} {
		if st, m := e.raw(t, "CreateDeliveryStream", `{"DeliveryStreamName":"`+name+`","ExtendedS3DestinationConfiguration":{`+numberDest+`}}`); st != 200 {
			t.Fatalf("create: %d %v", st, m)
		}
	}
	h := firehoseapi.New(e.a.Firehose(), firehoseapi.Options{Space: fullDisk{}})
	for _, tc := range []struct{ action, body string }{
		{"PutRecord", `{"DeliveryStreamName":"d","Record":{"Data":"aGk="}}`},
		{"PutRecordBatch", `{"DeliveryStreamName":"d","Records":[{"Data":"aGk="}]}`},
	} {
		status, _, out := h.Invoke(ctx, tc.action, []byte(tc.body), "")
		var m map[string]any
		json.Unmarshal(out, &m)
		if msg, _ := m["message"].(string); status != 503 || m["__type"] != "ServiceUnavailableException" || strings.Contains(msg, "/") {
			t.Errorf("%s on a full disk: %d %s, want 503 ServiceUnavailableException naming no path", tc.action, status, out)
		}
	}
	if status, _, out := h.Invoke(ctx, "DeleteDeliveryStream", []byte(`{"DeliveryStreamName":"gone"}`), ""); status != 200 {
		t.Errorf("DeleteDeliveryStream on a full disk: %d %s", status, out)
	}
}
