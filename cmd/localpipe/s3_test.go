package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestS3WithAWSCLI drives the object store with `aws s3` and `aws s3api` as users do: a
// 20 MB file goes up in multipart (the CLI's threshold is 8 MB) and comes back identical.
func TestS3WithAWSCLI(t *testing.T) {
	if _, err := os.Stat(awsCLI); err != nil {
		t.Skip("AWS CLI v2 not installed (.ci/run installs Debian's awscli)")
	}
	s := start(t, "--ephemeral")
	dir := t.TempDir()
	big := make([]byte, 20<<20)
	rand.Read(big)
	os.WriteFile(filepath.Join(dir, "big.bin"), big, 0o644)

	cli(t, s.endpoint, "s3", "mb", "s3://cli-bucket")
	cli(t, s.endpoint, "s3", "cp", filepath.Join(dir, "big.bin"), "s3://cli-bucket/data/big.bin")
	head := cli(t, s.endpoint, "s3api", "head-object", "--bucket", "cli-bucket", "--key", "data/big.bin")
	if !strings.Contains(head, `"ContentLength": 20971520`) || !strings.Contains(head, `-3\""`) {
		t.Errorf("head-object of a multipart upload: %s", head)
	}
	cli(t, s.endpoint, "s3", "cp", "s3://cli-bucket/data/big.bin", filepath.Join(dir, "back.bin"))
	back, _ := os.ReadFile(filepath.Join(dir, "back.bin"))
	if !bytes.Equal(back, big) {
		t.Fatalf("downloaded file differs (%d bytes)", len(back))
	}

	tree := filepath.Join(dir, "tree")
	for _, f := range []string{"a.txt", "sub/b.txt", "sub/deeper/c.json", "with space.txt"} {
		os.MkdirAll(filepath.Dir(filepath.Join(tree, f)), 0o755)
		os.WriteFile(filepath.Join(tree, f), []byte("content of "+f), 0o644)
		// sync re-uploads files newer than the object; S3 keeps whole seconds, so a file
		// written in the same second as its upload would look newer.
		old := time.Now().Add(-time.Hour)
		os.Chtimes(filepath.Join(tree, f), old, old)
	}
	cli(t, s.endpoint, "s3", "sync", tree, "s3://cli-bucket/tree")
	ls := cli(t, s.endpoint, "s3", "ls", "--recursive", "s3://cli-bucket/tree/")
	for _, f := range []string{"tree/a.txt", "tree/sub/b.txt", "tree/sub/deeper/c.json", "tree/with space.txt"} {
		if !strings.Contains(ls, f) {
			t.Errorf("ls lacks %s:\n%s", f, ls)
		}
	}
	if top := cli(t, s.endpoint, "s3", "ls", "s3://cli-bucket/"); !strings.Contains(top, "PRE data/") || !strings.Contains(top, "PRE tree/") {
		t.Errorf("ls of the bucket root: %s", top)
	}
	// A second sync has nothing to do.
	if out := cli(t, s.endpoint, "s3", "sync", tree, "s3://cli-bucket/tree"); strings.Contains(out, "upload:") {
		t.Errorf("second sync uploaded again: %s", out)
	}
	down := filepath.Join(dir, "down")
	cli(t, s.endpoint, "s3", "sync", "s3://cli-bucket/tree", down)
	if b, _ := os.ReadFile(filepath.Join(down, "sub/deeper/c.json")); string(b) != "content of sub/deeper/c.json" {
		t.Errorf("sync down: %q", b)
	}
	if out := cli(t, s.endpoint, "s3", "ls"); !strings.Contains(out, "cli-bucket") {
		t.Errorf("ls buckets: %s", out)
	}
	cli(t, s.endpoint, "s3", "rm", "--recursive", "s3://cli-bucket/")
	if out := cli(t, s.endpoint, "s3api", "list-objects-v2", "--bucket", "cli-bucket"); strings.Contains(out, "Contents") {
		t.Errorf("objects left after rm --recursive: %s", out)
	}
	cli(t, s.endpoint, "s3", "rb", "s3://cli-bucket")
}

// TestS3SIGKILLDuringPuts kills the server while clients upload and overwrite objects, then
// restarts it: every acknowledged object reads back exactly, an overwrite in flight left the
// old or the new bytes and nothing in between, and no orphan blob file is left.
func TestS3SIGKILLDuringPuts(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s := start(t, "--data-dir", dir)
	c := s3Client(s.endpoint)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("crash")}); err != nil {
		t.Fatal(err)
	}
	body := func(key string, version int) []byte {
		return bytes.Repeat([]byte(fmt.Sprintf("%s v%d|", key, version)), 500+version%7*4000)
	}
	type state struct{ acked, attempted int } // versions of the shared key
	var mu sync.Mutex
	acked := map[string][]byte{}
	shared := make([]state, 6)
	l := newLoad()
	for w := 0; w < 6; w++ {
		l.run(func(i int) bool {
			i++ // versions count from 1: a state's 0 is none
			key := fmt.Sprintf("w%d/%d", w, i)
			b := body(key, i)
			if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("crash"), Key: aws.String(key), Body: bytes.NewReader(b)}); err != nil {
				return false
			}
			mu.Lock()
			acked[key] = b
			shared[w].attempted = i
			mu.Unlock()
			skey := fmt.Sprintf("shared-%d", w)
			if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("crash"), Key: aws.String(skey), Body: bytes.NewReader(body(skey, i))}); err != nil {
				return false
			}
			mu.Lock()
			shared[w].acked = i
			mu.Unlock()
			return true
		})
	}
	// Two more writers build objects by multipart upload, mostly of one small part (only the
	// last part may be under 5 MiB) and every fifth of a 5 MiB part and a small one, to keep
	// the disk traffic down: a Complete in flight at the kill must leave no object or the
	// whole one, and its parts must not outlive the upload.
	var completed atomic.Int64
	for w := 0; w < 2; w++ {
		l.run(func(i int) bool {
			i++
			key := fmt.Sprintf("mp%d/%d", w, i)
			parts := [][]byte{bytes.Repeat([]byte(key), 4000)}
			if i%5 == 1 {
				parts = [][]byte{bytes.Repeat([]byte{byte('a' + i%26)}, 5<<20), []byte(key)}
			}
			cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("crash"), Key: aws.String(key)})
			if err != nil {
				return false
			}
			var done []types.CompletedPart
			for n, p := range parts {
				up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("crash"), Key: aws.String(key), UploadId: cr.UploadId,
					PartNumber: aws.Int32(int32(n + 1)), Body: bytes.NewReader(p)})
				if err != nil {
					return false
				}
				done = append(done, types.CompletedPart{PartNumber: aws.Int32(int32(n + 1)), ETag: up.ETag})
			}
			if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("crash"), Key: aws.String(key),
				UploadId: cr.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: done}}); err != nil {
				return false
			}
			mu.Lock()
			acked[key] = bytes.Join(parts, nil)
			mu.Unlock()
			completed.Add(1)
			return true
		})
	}
	n := 0
	if !waitUntil(60*time.Second, func() bool {
		mu.Lock()
		n = len(acked)
		mu.Unlock()
		return n >= 300 && completed.Load() >= 2
	}) {
		t.Fatalf("only %d puts acknowledged in 60 s\n%s", n, s.stderr)
	}
	s.kill()
	l.halt()

	s = start(t, "--data-dir", dir)
	c = s3Client(s.endpoint)
	get := func(key string) []byte { return getObject(t, c, "crash", key) }
	for key, want := range acked {
		if got := get(key); !bytes.Equal(got, want) {
			t.Fatalf("acknowledged %s: %d bytes, want %d", key, len(got), len(want))
		}
	}
	for w, st := range shared {
		skey := fmt.Sprintf("shared-%d", w)
		got := get(skey)
		ok := bytes.Equal(got, body(skey, st.acked)) || bytes.Equal(got, body(skey, st.attempted))
		if !ok {
			t.Errorf("%s: neither the acknowledged version %d nor the one in flight (%d bytes)", skey, st.acked, len(got))
		}
	}
	// Every object stored, acknowledged or not, is whole: its bytes have the size and (for a
	// single-part object) the MD5 recorded when it was written. And every blob file belongs to
	// an object: count objects and files.
	objects := listObjects(t, c, "crash")
	for _, o := range objects {
		b := get(aws.ToString(o.Key))
		sum := md5.Sum(b)
		if int64(len(b)) != aws.ToInt64(o.Size) || !strings.Contains(aws.ToString(o.ETag), "-") && aws.ToString(o.ETag) != `"`+hex.EncodeToString(sum[:])+`"` {
			t.Errorf("%s is torn: %d bytes, listed as %d with ETag %s", aws.ToString(o.Key), len(b), aws.ToInt64(o.Size), aws.ToString(o.ETag))
		}
	}
	// Parts of uploads the kill interrupted are kept, as S3 keeps uploads until they are
	// completed or aborted; they are blob files too.
	var parts int
	uploads, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("crash")})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range uploads.Uploads {
		lp, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("crash"), Key: u.Key, UploadId: u.UploadId})
		if err != nil {
			t.Fatal(err)
		}
		parts += len(lp.Parts)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "s3", "blobs"))
	var files []string
	for _, e := range entries {
		if !e.IsDir() {
			files = append(files, e.Name())
		}
	}
	if len(files) != len(objects)+parts {
		t.Errorf("%d blob files for %d objects and %d parts: orphans or temp files survived the restart", len(files), len(objects), parts)
	}
	t.Logf("%d objects acknowledged before SIGKILL (%d by multipart upload), %d stored, %d uploads left in progress", len(acked)+len(shared), completed.Load(), len(objects), len(uploads.Uploads))
}

func TestConfigCreatesBuckets(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "localpipe.yaml")
	os.WriteFile(cfg, []byte("buckets:\n  - Bucket: from-config\n  - Bucket: eu-config\n    CreateBucketConfiguration:\n      LocationConstraint: eu-west-1\n  - bare-name\n"), 0o644)
	for i := 0; i < 2; i++ { // applied again at every start, idempotently
		s := start(t, "--data-dir", filepath.Join(dir, "data"), "--config", cfg)
		c := s3Client(s.endpoint)
		out, err := c.ListBuckets(context.Background(), &s3.ListBucketsInput{})
		if err != nil || len(out.Buckets) != 3 {
			t.Fatalf("buckets: %+v %v", out, err)
		}
		loc, err := c.GetBucketLocation(context.Background(), &s3.GetBucketLocationInput{Bucket: aws.String("eu-config")})
		if err != nil || loc.LocationConstraint != "eu-west-1" {
			t.Errorf("location: %+v %v", loc, err)
		}
		if code := s.stop(t, syscall.SIGTERM); code != 0 {
			t.Fatalf("exit %d", code)
		}
	}
	os.WriteFile(cfg, []byte("buckets:\n  - Bucket: Bad_Name\n"), 0o644)
	out, err := exec.Command(binary, "--listen", "127.0.0.1:0", "--ephemeral", "--config", cfg).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "InvalidBucketName") {
		t.Errorf("bad bucket name in config: %v %s", err, out)
	}
}

// TestS3VirtualHostThroughEdge checks that the edge router hands virtual-host-style requests
// (Host: bucket.s3.localhost:PORT) to S3 and that Kinesis on the same port is unaffected.
func TestS3VirtualHostThroughEdge(t *testing.T) {
	s := start(t, "--ephemeral")
	c := vhostS3Client(s.endpoint)
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("vhost.bucket")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("vhost.bucket"), Key: aws.String("a/../b c"), Body: strings.NewReader("via vhost")}); err != nil {
		t.Fatal(err)
	}
	if b := getObject(t, s3Client(s.endpoint), "vhost.bucket", "a/../b c"); string(b) != "via vhost" {
		t.Errorf("path-style read of a vhost write: %q", b)
	}
	if _, err := kinesisClient(s.endpoint).ListStreams(ctx, &kinesis.ListStreamsInput{}); err != nil {
		t.Errorf("kinesis beside s3: %v", err)
	}
}

// TestS3HostileKeysThroughEdge sends keys that would confuse a path-cleaning router, in both
// addressing styles, through the real binary's edge router: each reads back and lists as
// written, and no file appears outside the data directory.
func TestS3HostileKeysThroughEdge(t *testing.T) {
	root := t.TempDir()
	data := filepath.Join(root, "data")
	s := start(t, "--data-dir", data)
	vhost := vhostS3Client(s.endpoint)
	keys := []string{"../../../../etc/passwd", "a/../../b", "//double//slash", "/leading", "./dot", "..", "sp ace", "plus+sign",
		"percent%2Fenc%", "unicodé/日本語/🙂", "q?x=1&y=2", "hash#frag", "metrics", "_localpipe/health", strings.Repeat("k", 1024)}
	ctx := context.Background()
	for name, c := range map[string]*s3.Client{"path": s3Client(s.endpoint), "vhost": vhost} {
		bucket := aws.String("hostile-" + name)
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket}); err != nil {
			t.Fatal(err)
		}
		for _, key := range keys {
			if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String(key), Body: strings.NewReader("body of " + key)}); err != nil {
				t.Errorf("%s: put %q: %v", name, key, err)
				continue
			}
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String(key)})
			if err != nil {
				t.Errorf("%s: get %q: %v", name, key, err)
				continue
			}
			b, _ := io.ReadAll(out.Body)
			out.Body.Close()
			if string(b) != "body of "+key {
				t.Errorf("%s: get %q: %q", name, key, b)
			}
		}
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String(strings.Repeat("k", 1025)), Body: strings.NewReader("")})
		if !strings.Contains(fmt.Sprint(err), "KeyTooLongError") {
			t.Errorf("%s: 1025-byte key: %v", name, err)
		}
		out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket})
		if err != nil || len(out.Contents) != len(keys) {
			t.Errorf("%s: listed %d of %d keys: %v", name, len(out.Contents), len(keys), err)
		}
	}
	filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if rel, _ := filepath.Rel(data, p); p != root && strings.HasPrefix(rel, "..") {
			t.Errorf("file outside the data directory: %s", p)
		}
		return nil
	})
}

// TestS3SubresourcesKeepData sends, with the AWS CLI and the SDK, the sub-resource calls that
// once fell through to the plain object or bucket operation (delete-object-tagging deleted
// the object, delete-bucket-cors the bucket, put-bucket-website on a missing bucket created
// it, a bogus version id deleted the current object, PUTs of newer sub-resources overwrote
// the object) and checks that each left the object and the buckets as they were.
func TestS3SubresourcesKeepData(t *testing.T) {
	s := start(t, "--ephemeral")
	ctx := context.Background()
	sc := s3Client(s.endpoint)
	for _, b := range []string{"full", "empty"} {
		if _, err := sc.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	const body = "precious"
	if _, err := sc.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("full"), Key: aws.String("k"), Body: strings.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
	intact := func(t *testing.T, what string) {
		t.Helper()
		if got := string(getObject(t, sc, "full", "k")); got != body {
			t.Fatalf("after %s the object reads %q", what, got)
		}
		for _, b := range []string{"full", "empty"} {
			if _, err := sc.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(b)}); err != nil {
				t.Fatalf("after %s bucket %s: %v", what, b, err)
			}
		}
		if _, err := sc.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("never-made")}); err == nil {
			t.Fatalf("after %s bucket never-made exists", what)
		}
	}
	if _, err := os.Stat(awsCLI); err != nil {
		t.Log("SKIP the AWS CLI half: AWS CLI v2 not installed (.ci/run installs Debian's awscli)")
	} else {
		for _, c := range []struct {
			args []string
			code string // the error the CLI must report; "" for success
		}{
			{[]string{"delete-object-tagging", "--bucket", "full", "--key", "k"}, ""},
			{[]string{"delete-object", "--bucket", "full", "--key", "k", "--version-id", "bogus"}, "InvalidArgument"},
			{[]string{"delete-bucket-cors", "--bucket", "empty"}, ""},
			{[]string{"delete-bucket-policy", "--bucket", "empty"}, ""},
			{[]string{"delete-bucket-tagging", "--bucket", "empty"}, ""},
			{[]string{"delete-bucket-website", "--bucket", "empty"}, ""},
			{[]string{"delete-bucket-lifecycle", "--bucket", "empty"}, ""},
			{[]string{"delete-bucket-encryption", "--bucket", "empty"}, ""},
			{[]string{"put-bucket-website", "--bucket", "never-made", "--website-configuration", `{"IndexDocument":{"Suffix":"index.html"}}`}, "NoSuchBucket"},
			{[]string{"put-bucket-analytics-configuration", "--bucket", "empty", "--id", "a", "--analytics-configuration", `{"Id":"a","StorageClassAnalysis":{}}`}, "NotImplemented"},
		} {
			_, stderr, err := tryAWS(s.endpoint, "us-east-1", append([]string{"s3api"}, c.args...)...)
			if (err == nil) != (c.code == "") || !strings.Contains(stderr, c.code) {
				t.Errorf("aws s3api %s: %v %s; want %q", strings.Join(c.args, " "), err, stderr, c.code)
			}
			intact(t, "aws s3api "+c.args[0])
		}
	}
	for name, call := range map[string]func() error{
		"RenameObject": func() error {
			_, err := sc.RenameObject(ctx, &s3.RenameObjectInput{Bucket: aws.String("full"), Key: aws.String("k"), RenameSource: aws.String("full/other")})
			return err
		},
		"PutObjectAnnotation": func() error {
			_, err := sc.PutObjectAnnotation(ctx, &s3.PutObjectAnnotationInput{Bucket: aws.String("full"), Key: aws.String("k"),
				AnnotationName: aws.String("a"), AnnotationPayload: strings.NewReader("overwrite?")})
			return err
		},
		"UpdateObjectEncryption": func() error {
			_, err := sc.UpdateObjectEncryption(ctx, &s3.UpdateObjectEncryptionInput{Bucket: aws.String("full"), Key: aws.String("k"),
				ObjectEncryption: &types.ObjectEncryptionMemberSSEKMS{Value: types.SSEKMSEncryption{KMSKeyArn: aws.String("arn:aws:kms:us-east-1:000000000000:key/k")}}})
			return err
		},
		"GetObject with a bogus version": func() error {
			_, err := sc.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("full"), Key: aws.String("k"), VersionId: aws.String("bogus")})
			return err
		},
	} {
		err := call()
		t.Logf("%s: %v", name, err)
		if err == nil {
			t.Errorf("%s succeeded; localpipe does not emulate it", name)
		}
		intact(t, name)
	}
}

// TestS3ConfigurationsWithAWSCLI round-trips tags, CORS, a policy, ACLs, encryption and the
// public access block through `aws s3api` as a user types them.
func TestS3ConfigurationsWithAWSCLI(t *testing.T) {
	if _, err := os.Stat(awsCLI); err != nil {
		t.Skip("AWS CLI v2 not installed (.ci/run installs Debian's awscli)")
	}
	s := start(t, "--ephemeral")
	api := func(args ...string) map[string]any {
		t.Helper()
		out := cli(t, s.endpoint, append([]string{"s3api", "--output", "json"}, args...)...)
		m := map[string]any{}
		if strings.TrimSpace(out) != "" {
			if err := json.Unmarshal([]byte(out), &m); err != nil {
				t.Fatalf("aws s3api %s: not JSON: %s", strings.Join(args, " "), out)
			}
		}
		return m
	}
	asJSON := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	api("create-bucket", "--bucket", "conf")
	api("put-object", "--bucket", "conf", "--key", "k", "--tagging", "a=1&b=2", "--acl", "public-read")
	if got := asJSON(api("get-object-tagging", "--bucket", "conf", "--key", "k")["TagSet"]); got != `[{"Key":"a","Value":"1"},{"Key":"b","Value":"2"}]` {
		t.Errorf("get-object-tagging: %s", got)
	}
	api("put-object-tagging", "--bucket", "conf", "--key", "k", "--tagging", `{"TagSet":[{"Key":"c","Value":"3"}]}`)
	if got := asJSON(api("get-object-tagging", "--bucket", "conf", "--key", "k")["TagSet"]); got != `[{"Key":"c","Value":"3"}]` {
		t.Errorf("get-object-tagging after put: %s", got)
	}
	if got := asJSON(api("get-object-acl", "--bucket", "conf", "--key", "k")["Grants"]); !strings.Contains(got, "AllUsers") {
		t.Errorf("get-object-acl: %s", got)
	}
	api("put-bucket-tagging", "--bucket", "conf", "--tagging", `{"TagSet":[{"Key":"team","Value":"data"}]}`)
	if got := asJSON(api("get-bucket-tagging", "--bucket", "conf")["TagSet"]); got != `[{"Key":"team","Value":"data"}]` {
		t.Errorf("get-bucket-tagging: %s", got)
	}
	api("put-bucket-cors", "--bucket", "conf", "--cors-configuration", `{"CORSRules":[{"AllowedOrigins":["*"],"AllowedMethods":["GET"]}]}`)
	if got := asJSON(api("get-bucket-cors", "--bucket", "conf")["CORSRules"]); got != `[{"AllowedMethods":["GET"],"AllowedOrigins":["*"]}]` {
		t.Errorf("get-bucket-cors: %s", got)
	}
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::conf/*"}]}`
	api("put-bucket-policy", "--bucket", "conf", "--policy", policy)
	if got := api("get-bucket-policy", "--bucket", "conf")["Policy"]; got != policy {
		t.Errorf("get-bucket-policy: %v", got)
	}
	if got := asJSON(api("get-bucket-policy-status", "--bucket", "conf")); got != `{"PolicyStatus":{"IsPublic":false}}` {
		t.Errorf("get-bucket-policy-status: %s", got)
	}
	api("put-bucket-encryption", "--bucket", "conf", "--server-side-encryption-configuration",
		`{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms","KMSMasterKeyID":"alias/k"}}]}`)
	if got := asJSON(api("get-bucket-encryption", "--bucket", "conf")); !strings.Contains(got, `"KMSMasterKeyID":"alias/k"`) {
		t.Errorf("get-bucket-encryption: %s", got)
	}
	api("delete-public-access-block", "--bucket", "conf")
	if _, stderr, err := tryAWS(s.endpoint, "us-east-1", "s3api", "get-public-access-block", "--bucket", "conf"); err == nil || !strings.Contains(stderr, "NoSuchPublicAccessBlockConfiguration") {
		t.Errorf("get-public-access-block after delete: %v %s", err, stderr)
	}
	api("delete-object-tagging", "--bucket", "conf", "--key", "k")
	if got := asJSON(api("get-object-tagging", "--bucket", "conf", "--key", "k")["TagSet"]); got != `[]` {
		t.Errorf("get-object-tagging after delete: %s", got)
	}

	// Versioning as a user types it: the object put before versioning is the null version.
	api("put-bucket-versioning", "--bucket", "conf", "--versioning-configuration", "Status=Enabled")
	if got := api("get-bucket-versioning", "--bucket", "conf")["Status"]; got != "Enabled" {
		t.Errorf("get-bucket-versioning: %v", got)
	}
	v1 := api("put-object", "--bucket", "conf", "--key", "k")["VersionId"].(string)
	marker := api("delete-object", "--bucket", "conf", "--key", "k")
	if marker["DeleteMarker"] != true {
		t.Errorf("delete-object in a versioned bucket: %v", marker)
	}
	lv := api("list-object-versions", "--bucket", "conf")
	if vs, ms := lv["Versions"].([]any), lv["DeleteMarkers"].([]any); len(vs) != 2 || len(ms) != 1 || vs[0].(map[string]any)["VersionId"] != v1 || vs[1].(map[string]any)["VersionId"] != "null" {
		t.Errorf("list-object-versions: %s", asJSON(lv))
	}
	api("delete-object", "--bucket", "conf", "--key", "k", "--version-id", marker["VersionId"].(string))
	if got := api("head-object", "--bucket", "conf", "--key", "k")["VersionId"]; got != v1 {
		t.Errorf("head-object after removing the marker: version %v, want %s", got, v1)
	}
}

// TestS3SIGKILLDuringVersionedWrites kills the server while writers add versions, remove
// versions by id and add delete markers in a versioned bucket: after the restart every
// acknowledged version reads back whole, every acknowledged removal stays removed, every
// acknowledged delete marker is listed, and every blob file belongs to a listed version.
func TestS3SIGKILLDuringVersionedWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("SIGKILL loop; runs without -short")
	}
	dir := t.TempDir()
	ctx := context.Background()
	s := start(t, "--data-dir", dir)
	c := s3Client(s.endpoint)
	bucket := aws.String("vcrash")
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: bucket,
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	type version struct{ key, id string }
	var (
		mu       sync.Mutex
		acked    = map[version][]byte{}
		removing = map[version][]byte{} // removals sent, not acknowledged
		removed  = map[version]bool{}
		markers  = map[version]bool{}
		ops      int
	)
	l := newLoad()
	for w := 0; w < 4; w++ {
		var mine []version // this writer's acknowledged versions, oldest first
		l.run(func(i int) bool {
			key := fmt.Sprintf("w%d/k%d", w, i%5)
			b := bytes.Repeat([]byte(fmt.Sprintf("%s #%d|", key, i)), 200+i%9*700)
			out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String(key), Body: bytes.NewReader(b)})
			if err != nil {
				return false
			}
			v := version{key, aws.ToString(out.VersionId)}
			mu.Lock()
			acked[v] = b
			ops++
			mu.Unlock()
			mine = append(mine, v)
			if i%3 == 2 && len(mine) > 2 {
				old := mine[0]
				mine = mine[1:]
				// A removal the kill cuts short may have happened or not: from the moment
				// it is sent the version is no longer owed.
				mu.Lock()
				removing[old] = acked[old]
				delete(acked, old)
				mu.Unlock()
				if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: aws.String(old.key), VersionId: aws.String(old.id)}); err != nil {
					return false
				}
				mu.Lock()
				delete(removing, old)
				removed[old] = true
				ops++
				mu.Unlock()
			}
			if i%4 == 3 {
				out, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: aws.String(key)})
				if err != nil {
					return false
				}
				mu.Lock()
				markers[version{key, aws.ToString(out.VersionId)}] = true
				ops++
				mu.Unlock()
			}
			return true
		})
	}
	if !waitUntil(60*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return ops >= 400 }) {
		t.Fatalf("only %d operations acknowledged in 60 s\n%s", ops, s.stderr)
	}
	s.kill()
	l.halt()

	s = start(t, "--data-dir", dir)
	c = s3Client(s.endpoint)
	for v, want := range acked {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String(v.key), VersionId: aws.String(v.id)})
		if err != nil {
			t.Fatalf("acknowledged version %s@%s: %v", v.key, v.id, err)
		}
		got, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if !bytes.Equal(got, want) {
			t.Fatalf("acknowledged version %s@%s: %d bytes, want %d", v.key, v.id, len(got), len(want))
		}
	}
	for v := range removed {
		if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: aws.String(v.key), VersionId: aws.String(v.id)}); err == nil {
			t.Fatalf("removed version %s@%s is back", v.key, v.id)
		}
	}
	for v, want := range removing {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String(v.key), VersionId: aws.String(v.id)})
		if err != nil {
			continue // the removal happened
		}
		got, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if !bytes.Equal(got, want) {
			t.Fatalf("version %s@%s, its removal cut short: %d bytes, want %d", v.key, v.id, len(got), len(want))
		}
	}
	listed := map[version]bool{}
	var versions int
	in := &s3.ListObjectVersionsInput{Bucket: bucket}
	for {
		page, err := c.ListObjectVersions(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page.DeleteMarkers {
			listed[version{*m.Key, *m.VersionId}] = true
		}
		for _, v := range page.Versions {
			versions++
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: v.Key, VersionId: v.VersionId})
			if err != nil {
				t.Fatalf("listed version %s@%s: %v", *v.Key, *v.VersionId, err)
			}
			got, _ := io.ReadAll(out.Body)
			out.Body.Close()
			sum := md5.Sum(got)
			if int64(len(got)) != aws.ToInt64(v.Size) || aws.ToString(v.ETag) != `"`+hex.EncodeToString(sum[:])+`"` {
				t.Fatalf("listed version %s@%s is torn", *v.Key, *v.VersionId)
			}
		}
		if !aws.ToBool(page.IsTruncated) {
			break
		}
		in.KeyMarker, in.VersionIdMarker = page.NextKeyMarker, page.NextVersionIdMarker
	}
	for m := range markers {
		if !listed[m] {
			t.Fatalf("acknowledged delete marker %s@%s is not listed", m.key, m.id)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "s3", "blobs"))
	if len(entries) != versions {
		t.Errorf("%d blob files for %d versions: orphans or lost files", len(entries), versions)
	}
	t.Logf("%d operations acknowledged before SIGKILL: %d versions kept, %d removed, %d markers; %d versions stored", ops, len(acked), len(removed), len(markers), versions)
}
