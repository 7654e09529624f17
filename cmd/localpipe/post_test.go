package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestPresignedPostBoto3 uploads through a form made by boto3's generate_presigned_post and
// posted by requests, the way a Python backend and its browser clients do, and checks that the
// policy's size range and coverage rule hold against the real binary.
func TestPresignedPostBoto3(t *testing.T) {
	// Debian's python3-boto3 is for /usr/bin/python3, which a pyenv python3 may shadow.
	python := ""
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(p, "-c", "import boto3, requests").Run() == nil {
			python = p
			break
		}
	}
	if python == "" {
		t.Skip("SKIP: no python3 with boto3 and requests (.ci/run installs Debian's python3-boto3 and python3-requests)")
	}
	s := start(t, "--ephemeral")
	sc := s3Client(s.endpoint)
	ctx := context.Background()
	if _, err := sc.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("browser-uploads")}); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(python, "testdata/boto3post/post.py", s.endpoint, "browser-uploads").Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("post.py: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	type answer struct {
		Status int
		Body   string
	}
	var got []answer
	lines := bufio.NewScanner(strings.NewReader(string(out)))
	for lines.Scan() {
		var a answer
		if err := json.Unmarshal(lines.Bytes(), &a); err != nil {
			t.Fatalf("post.py printed %q: %v", lines.Text(), err)
		}
		got = append(got, a)
	}
	if len(got) != 3 {
		t.Fatalf("post.py printed %q", out)
	}
	if got[0].Status != 201 || !strings.Contains(got[0].Body, "<Key>uploads/hello.txt</Key>") || !strings.Contains(got[0].Body, "<Bucket>browser-uploads</Bucket>") {
		t.Errorf("upload: %+v", got[0])
	}
	if got[1].Status != 400 || !strings.Contains(got[1].Body, "<Code>EntityTooLarge</Code>") || !strings.Contains(got[1].Body, "<ProposedSize>65</ProposedSize>") {
		t.Errorf("oversize upload: %+v", got[1])
	}
	if got[2].Status != 403 || !strings.Contains(got[2].Body, "Extra input fields: x-amz-meta-unsigned") {
		t.Errorf("upload with a field the policy does not cover: %+v", got[2])
	}
	obj, err := sc.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("browser-uploads"), Key: aws.String("uploads/hello.txt")})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Body.Close()
	if aws.ToString(obj.ContentType) != "text/plain" || obj.Metadata["origin"] != "boto3" {
		t.Errorf("stored Content-Type %q, metadata %v", aws.ToString(obj.ContentType), obj.Metadata)
	}
	if body := getObject(t, sc, "browser-uploads", "uploads/hello.txt"); string(body) != "hello from boto3" {
		t.Errorf("stored %q", body)
	}
	for _, k := range []string{"uploads/big.txt", "uploads/extra.txt"} {
		if _, err := sc.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("browser-uploads"), Key: aws.String(k)}); err == nil {
			t.Errorf("refused upload %s was stored", k)
		}
	}
}
