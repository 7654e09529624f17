package app_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/localpipe/localpipe/localpipetest"
)

// smallDisk mounts a tmpfs of the given size for the test, or skips it, loudly, where it
// cannot (not root, or no mount permission in the container).
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("SKIPPED: the disk-full test needs root to mount a small tmpfs; run it as root to check that a full disk loses nothing and deletes still work")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("SKIPPED: the disk-full test cannot mount a tmpfs (%v: %s); give the container CAP_SYS_ADMIN to run it", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fillDisk writes path until the filesystem has no byte left, as another program filling
// the disk would.
func fillDisk(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, chunk := range []int{1 << 20, 64 << 10, 4 << 10, 512, 1} {
		buf := make([]byte, chunk)
		for {
			if _, err := f.Write(buf); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatal(err)
				}
				break
			}
		}
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(filepath.Dir(path), &st); err != nil {
		t.Fatal(err)
	}
	if st.Bavail != 0 {
		t.Fatalf("disk not full: %d blocks free", st.Bavail)
	}
}

// wantNoSpace checks that err is the service's retryable answer to a full disk: a 503 with
// the given code, not a 500.
func wantNoSpace(t *testing.T, what string, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	var re *awshttp.ResponseError
	if !errors.As(err, &ae) || !errors.As(err, &re) || ae.ErrorCode() != code || re.HTTPStatusCode() != 503 {
		t.Fatalf("%s on a full disk: %v, want 503 %s", what, err, code)
	}
}

// TestDiskFull fills a small filesystem through the API and then to its last byte: writes
// answer the services' retryable 503s, deletes of objects, buckets and streams still commit,
// no answer names a path, writes work again once space is freed, and everything acknowledged
// before is intact, also after a restart.
func TestDiskFull(t *testing.T) {
	disk := smallDisk(t, "16m")
	dataDir := filepath.Join(disk, "data")
	resources := localpipetest.Config(`
streams: [{StreamName: s, ShardCount: 1}, {StreamName: gone, ShardCount: 1}]
buckets: [bkt, empty]
deliveryStreams:
  - {DeliveryStreamName: d, ExtendedS3DestinationConfiguration: {BucketARN: 'arn:aws:s3:::bkt', RoleARN: 'arn:aws:iam::000000000000:role/r'}}
`)
	srv := localpipetest.Start(t, localpipetest.DataDir(dataDir), resources)
	ctx := context.Background()
	noRetry := func(o *s3.Options) { o.RetryMaxAttempts = 1; o.UsePathStyle = true }
	s3c := s3.NewFromConfig(srv.AWSConfig, noRetry)
	kc := kinesis.NewFromConfig(srv.AWSConfig, func(o *kinesis.Options) { o.RetryMaxAttempts = 1 })
	fc := firehose.NewFromConfig(srv.AWSConfig, func(o *firehose.Options) { o.RetryMaxAttempts = 1 })

	random := func(n int) []byte {
		b := make([]byte, n)
		rand.Read(b)
		return b
	}
	var records [][]byte
	for range 20 {
		data := random(8 << 10)
		if _, err := kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("s"), PartitionKey: aws.String("k"), Data: data}); err != nil {
			t.Fatal(err)
		}
		records = append(records, data)
	}
	if _, err := fc.PutRecord(ctx, &firehose.PutRecordInput{DeliveryStreamName: aws.String("d"), Record: &fhtypes.Record{Data: []byte("buffered\n")}}); err != nil {
		t.Fatal(err)
	}

	// Fill the disk through S3 until a put does not fit.
	objects := map[string][]byte{}
	var err error
	for i := 0; ; i++ {
		if i == 200 {
			t.Fatal("200 objects of 256 KiB fit on a 16 MiB disk")
		}
		key, body := fmt.Sprintf("o%03d", i), random(256<<10)
		if _, err = s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
			break
		}
		objects[key] = body
	}
	wantNoSpace(t, "PutObject", err, "SlowDown")
	_, err = kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("s"), PartitionKey: aws.String("k"), Data: random(900 << 10)})
	wantNoSpace(t, "Kinesis PutRecord", err, "ServiceUnavailable")
	_, err = fc.PutRecord(ctx, &firehose.PutRecordInput{DeliveryStreamName: aws.String("d"), Record: &fhtypes.Record{Data: random(900 << 10)}})
	wantNoSpace(t, "Firehose PutRecord", err, "ServiceUnavailableException")

	// Now another program takes the last byte.
	filler := filepath.Join(disk, "filler")
	fillDisk(t, filler)
	_, err = kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("s"), PartitionKey: aws.String("k"), Data: random(64 << 10)})
	wantNoSpace(t, "Kinesis PutRecord", err, "ServiceUnavailable")
	resp, err := http.Post(srv.Endpoint+"/_localpipe/firehose/d/flush", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	flushBody, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || strings.Contains(string(flushBody), disk) || strings.Contains(string(flushBody), "/") {
		t.Errorf("flush on a full disk: %d %s, want a 503 that names no path", resp.StatusCode, flushBody)
	}

	// Deletes work at 0 bytes free, on the first try.
	if _, err := s3c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("bkt"), Key: aws.String("o000")}); err != nil {
		t.Fatalf("DeleteObject on a full disk: %v", err)
	}
	delete(objects, "o000")
	if _, err := s3c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("empty")}); err != nil {
		t.Fatalf("DeleteBucket on a full disk: %v", err)
	}
	if _, err := kc.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String("gone")}); err != nil {
		t.Fatalf("DeleteStream on a full disk: %v", err)
	}

	// Space freed: writes work again.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 4; i++ {
		delete(objects, fmt.Sprintf("o%03d", i))
		if _, err := s3c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("bkt"), Key: aws.String(fmt.Sprintf("o%03d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	body := random(256 << 10)
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("after"), Body: bytes.NewReader(body)}); err != nil {
		t.Fatalf("PutObject once space is freed: %v", err)
	}
	objects["after"] = body
	data := random(8 << 10)
	if _, err := kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("s"), PartitionKey: aws.String("k"), Data: data}); err != nil {
		t.Fatalf("PutRecord once space is freed: %v", err)
	}
	records = append(records, data)
	if keys := srv.Flush("d"); len(keys) != 1 {
		t.Fatalf("flush once space is freed: %v", keys)
	}

	check := func(srv *localpipetest.Server, when string) {
		t.Helper()
		got := srv.Records("s")
		if len(got) != len(records) {
			t.Fatalf("%s: %d records, want %d", when, len(got), len(records))
		}
		for i, r := range got {
			if !bytes.Equal(r.Data, records[i]) {
				t.Fatalf("%s: record %d differs", when, i)
			}
		}
		c := s3.NewFromConfig(srv.AWSConfig, noRetry)
		for key, want := range objects {
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String(key)})
			if err != nil {
				t.Fatalf("%s: %s: %v", when, key, err)
			}
			b, err := io.ReadAll(out.Body)
			out.Body.Close()
			if err != nil || !bytes.Equal(b, want) {
				t.Fatalf("%s: %s: %d bytes, %v; want the %d bytes put", when, key, len(b), err, len(want))
			}
		}
	}
	check(srv, "after the disk filled")
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	check(localpipetest.Start(t, localpipetest.DataDir(dataDir), resources), "after a restart")
}
