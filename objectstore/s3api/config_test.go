package s3api_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestBucketConfigurations puts, reads back and deletes every bucket configuration S3 stores
// and localpipe keeps as given, with the SDK: a read answers what the put stored, or what a
// bucket without one answers on AWS (an error, or the default every bucket has since 2023),
// and a delete removes only the configuration.
func TestBucketConfigurations(t *testing.T) {
	forStyles(t, func(t *testing.T, s *server, c *s3.Client) {
		ctx := context.Background()
		b := aws.String("cfg")
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: b}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("k"), Body: strings.NewReader("v")}); err != nil {
			t.Fatal(err)
		}
		wantCode := func(t *testing.T, what string, err error, code string) {
			t.Helper()
			if apiCode(err) != code {
				t.Fatalf("%s: %v, want %s", what, err, code)
			}
		}
		must := func(t *testing.T, what string, err error) {
			t.Helper()
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		}

		// CORS
		_, err := c.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: b})
		wantCode(t, "GetBucketCors before", err, "NoSuchCORSConfiguration")
		_, err = c.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: b, CORSConfiguration: &types.CORSConfiguration{CORSRules: []types.CORSRule{{
			AllowedMethods: []string{"GET", "PUT"}, AllowedOrigins: []string{"http://app.example"}, AllowedHeaders: []string{"*"},
			ExposeHeaders: []string{"ETag"}, MaxAgeSeconds: aws.Int32(300), ID: aws.String("r1"),
		}}}})
		must(t, "PutBucketCors", err)
		cors, err := c.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: b})
		must(t, "GetBucketCors", err)
		if r := cors.CORSRules; len(r) != 1 || *r[0].ID != "r1" || len(r[0].AllowedMethods) != 2 || *r[0].MaxAgeSeconds != 300 || r[0].ExposeHeaders[0] != "ETag" {
			t.Fatalf("GetBucketCors: %+v", r)
		}
		_, err = c.DeleteBucketCors(ctx, &s3.DeleteBucketCorsInput{Bucket: b})
		must(t, "DeleteBucketCors", err)
		_, err = c.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: b})
		wantCode(t, "GetBucketCors after delete", err, "NoSuchCORSConfiguration")

		// Policy and its status
		_, err = c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: b})
		wantCode(t, "GetBucketPolicy before", err, "NoSuchBucketPolicy")
		_, err = c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: b, Policy: aws.String("not json")})
		wantCode(t, "PutBucketPolicy of bad JSON", err, "MalformedPolicy")
		policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::cfg/*"}]}`
		_, err = c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: b, Policy: aws.String(policy)})
		must(t, "PutBucketPolicy", err)
		pol, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: b})
		must(t, "GetBucketPolicy", err)
		if *pol.Policy != policy {
			t.Fatalf("GetBucketPolicy: %s", *pol.Policy)
		}
		st, err := c.GetBucketPolicyStatus(ctx, &s3.GetBucketPolicyStatusInput{Bucket: b})
		must(t, "GetBucketPolicyStatus", err)
		if !*st.PolicyStatus.IsPublic {
			t.Fatal("a policy allowing * is not public")
		}
		_, err = c.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: b})
		must(t, "DeleteBucketPolicy", err)
		_, err = c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: b})
		wantCode(t, "GetBucketPolicy after delete", err, "NoSuchBucketPolicy")

		// Lifecycle
		_, err = c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: b,
			LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: []types.LifecycleRule{{
				ID: aws.String("expire"), Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{Prefix: aws.String("tmp/")},
				Expiration: &types.LifecycleExpiration{Days: aws.Int32(7)},
			}}}})
		must(t, "PutBucketLifecycleConfiguration", err)
		lc, err := c.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: b})
		must(t, "GetBucketLifecycleConfiguration", err)
		if len(lc.Rules) != 1 || *lc.Rules[0].Expiration.Days != 7 || *lc.Rules[0].Filter.Prefix != "tmp/" {
			t.Fatalf("lifecycle: %+v", lc.Rules)
		}
		_, err = c.DeleteBucketLifecycle(ctx, &s3.DeleteBucketLifecycleInput{Bucket: b})
		must(t, "DeleteBucketLifecycle", err)
		_, err = c.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: b})
		wantCode(t, "lifecycle after delete", err, "NoSuchLifecycleConfiguration")

		// Encryption: SSE-S3 by default, and again after a delete.
		sseAlg := func(t *testing.T) (types.ServerSideEncryption, string) {
			t.Helper()
			enc, err := c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: b})
			must(t, "GetBucketEncryption", err)
			d := enc.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault
			return d.SSEAlgorithm, aws.ToString(d.KMSMasterKeyID)
		}
		if alg, _ := sseAlg(t); alg != types.ServerSideEncryptionAes256 {
			t.Fatalf("default encryption %s", alg)
		}
		_, err = c.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: b, ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{
			Rules: []types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{
				SSEAlgorithm: types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String("alias/mine")}}}}})
		must(t, "PutBucketEncryption", err)
		if alg, key := sseAlg(t); alg != types.ServerSideEncryptionAwsKms || key != "alias/mine" {
			t.Fatalf("encryption %s %s", alg, key)
		}
		_, err = c.DeleteBucketEncryption(ctx, &s3.DeleteBucketEncryptionInput{Bucket: b})
		must(t, "DeleteBucketEncryption", err)
		if alg, _ := sseAlg(t); alg != types.ServerSideEncryptionAes256 {
			t.Fatalf("encryption after delete %s", alg)
		}

		// Website
		_, err = c.GetBucketWebsite(ctx, &s3.GetBucketWebsiteInput{Bucket: b})
		wantCode(t, "website before", err, "NoSuchWebsiteConfiguration")
		_, err = c.PutBucketWebsite(ctx, &s3.PutBucketWebsiteInput{Bucket: b, WebsiteConfiguration: &types.WebsiteConfiguration{
			IndexDocument: &types.IndexDocument{Suffix: aws.String("index.html")}, ErrorDocument: &types.ErrorDocument{Key: aws.String("404.html")}}})
		must(t, "PutBucketWebsite", err)
		ws, err := c.GetBucketWebsite(ctx, &s3.GetBucketWebsiteInput{Bucket: b})
		must(t, "GetBucketWebsite", err)
		if *ws.IndexDocument.Suffix != "index.html" || *ws.ErrorDocument.Key != "404.html" {
			t.Fatalf("website %+v", ws)
		}
		_, err = c.DeleteBucketWebsite(ctx, &s3.DeleteBucketWebsiteInput{Bucket: b})
		must(t, "DeleteBucketWebsite", err)
		_, err = c.GetBucketWebsite(ctx, &s3.GetBucketWebsiteInput{Bucket: b})
		wantCode(t, "website after delete", err, "NoSuchWebsiteConfiguration")

		// Logging and notifications: empty by default.
		lg, err := c.GetBucketLogging(ctx, &s3.GetBucketLoggingInput{Bucket: b})
		must(t, "GetBucketLogging", err)
		if lg.LoggingEnabled != nil {
			t.Fatalf("default logging %+v", lg.LoggingEnabled)
		}
		_, err = c.PutBucketLogging(ctx, &s3.PutBucketLoggingInput{Bucket: b, BucketLoggingStatus: &types.BucketLoggingStatus{
			LoggingEnabled: &types.LoggingEnabled{TargetBucket: b, TargetPrefix: aws.String("logs/")}}})
		must(t, "PutBucketLogging", err)
		lg, err = c.GetBucketLogging(ctx, &s3.GetBucketLoggingInput{Bucket: b})
		must(t, "GetBucketLogging", err)
		if lg.LoggingEnabled == nil || *lg.LoggingEnabled.TargetPrefix != "logs/" {
			t.Fatalf("logging %+v", lg.LoggingEnabled)
		}
		nc, err := c.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: b})
		must(t, "GetBucketNotificationConfiguration", err)
		if nc.EventBridgeConfiguration != nil || len(nc.QueueConfigurations) != 0 {
			t.Fatalf("default notification %+v", nc)
		}
		_, err = c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: b,
			NotificationConfiguration: &types.NotificationConfiguration{QueueConfigurations: []types.QueueConfiguration{{
				QueueArn: aws.String("arn:aws:sqs:us-east-1:000000000000:q"), Events: []types.Event{"s3:ObjectCreated:*"}}}}})
		must(t, "PutBucketNotificationConfiguration", err)
		nc, err = c.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: b})
		must(t, "GetBucketNotificationConfiguration", err)
		if len(nc.QueueConfigurations) != 1 || *nc.QueueConfigurations[0].QueueArn != "arn:aws:sqs:us-east-1:000000000000:q" {
			t.Fatalf("notification %+v", nc)
		}

		// Public access block and ownership controls: on by default; gone after a delete.
		pab, err := c.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: b})
		must(t, "GetPublicAccessBlock", err)
		if !*pab.PublicAccessBlockConfiguration.BlockPublicAcls || !*pab.PublicAccessBlockConfiguration.RestrictPublicBuckets {
			t.Fatalf("default public access block %+v", pab.PublicAccessBlockConfiguration)
		}
		_, err = c.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: b, PublicAccessBlockConfiguration: &types.PublicAccessBlockConfiguration{
			BlockPublicAcls: aws.Bool(false), IgnorePublicAcls: aws.Bool(false), BlockPublicPolicy: aws.Bool(true), RestrictPublicBuckets: aws.Bool(false)}})
		must(t, "PutPublicAccessBlock", err)
		pab, err = c.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: b})
		must(t, "GetPublicAccessBlock", err)
		if *pab.PublicAccessBlockConfiguration.BlockPublicAcls || !*pab.PublicAccessBlockConfiguration.BlockPublicPolicy {
			t.Fatalf("public access block %+v", pab.PublicAccessBlockConfiguration)
		}
		_, err = c.DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: b})
		must(t, "DeletePublicAccessBlock", err)
		_, err = c.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: b})
		wantCode(t, "public access block after delete", err, "NoSuchPublicAccessBlockConfiguration")
		oc, err := c.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: b})
		must(t, "GetBucketOwnershipControls", err)
		if oc.OwnershipControls.Rules[0].ObjectOwnership != types.ObjectOwnershipBucketOwnerEnforced {
			t.Fatalf("default ownership %+v", oc.OwnershipControls.Rules)
		}
		_, err = c.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: b, OwnershipControls: &types.OwnershipControls{
			Rules: []types.OwnershipControlsRule{{ObjectOwnership: types.ObjectOwnershipObjectWriter}}}})
		must(t, "PutBucketOwnershipControls", err)
		oc, err = c.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: b})
		must(t, "GetBucketOwnershipControls", err)
		if oc.OwnershipControls.Rules[0].ObjectOwnership != types.ObjectOwnershipObjectWriter {
			t.Fatalf("ownership %+v", oc.OwnershipControls.Rules)
		}
		_, err = c.DeleteBucketOwnershipControls(ctx, &s3.DeleteBucketOwnershipControlsInput{Bucket: b})
		must(t, "DeleteBucketOwnershipControls", err)
		_, err = c.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: b})
		wantCode(t, "ownership after delete", err, "OwnershipControlsNotFoundError")

		// Object lock, accelerate, request payment.
		_, err = c.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: b})
		wantCode(t, "object lock before", err, "ObjectLockConfigurationNotFoundError")
		_, err = c.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{Bucket: b, ObjectLockConfiguration: &types.ObjectLockConfiguration{
			ObjectLockEnabled: types.ObjectLockEnabledEnabled}})
		must(t, "PutObjectLockConfiguration", err)
		ol, err := c.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: b})
		must(t, "GetObjectLockConfiguration", err)
		if ol.ObjectLockConfiguration.ObjectLockEnabled != types.ObjectLockEnabledEnabled {
			t.Fatalf("object lock %+v", ol.ObjectLockConfiguration)
		}
		ac, err := c.GetBucketAccelerateConfiguration(ctx, &s3.GetBucketAccelerateConfigurationInput{Bucket: b})
		must(t, "GetBucketAccelerateConfiguration", err)
		if ac.Status != "" {
			t.Fatalf("default accelerate %q", ac.Status)
		}
		_, err = c.PutBucketAccelerateConfiguration(ctx, &s3.PutBucketAccelerateConfigurationInput{Bucket: b,
			AccelerateConfiguration: &types.AccelerateConfiguration{Status: types.BucketAccelerateStatusEnabled}})
		must(t, "PutBucketAccelerateConfiguration", err)
		ac, err = c.GetBucketAccelerateConfiguration(ctx, &s3.GetBucketAccelerateConfigurationInput{Bucket: b})
		must(t, "GetBucketAccelerateConfiguration", err)
		if ac.Status != types.BucketAccelerateStatusEnabled {
			t.Fatalf("accelerate %q", ac.Status)
		}
		rp, err := c.GetBucketRequestPayment(ctx, &s3.GetBucketRequestPaymentInput{Bucket: b})
		must(t, "GetBucketRequestPayment", err)
		if rp.Payer != types.PayerBucketOwner {
			t.Fatalf("default payer %q", rp.Payer)
		}
		_, err = c.PutBucketRequestPayment(ctx, &s3.PutBucketRequestPaymentInput{Bucket: b,
			RequestPaymentConfiguration: &types.RequestPaymentConfiguration{Payer: types.PayerRequester}})
		must(t, "PutBucketRequestPayment", err)
		rp, err = c.GetBucketRequestPayment(ctx, &s3.GetBucketRequestPaymentInput{Bucket: b})
		must(t, "GetBucketRequestPayment", err)
		if rp.Payer != types.PayerRequester {
			t.Fatalf("payer %q", rp.Payer)
		}

		// None of it touched the object, and a new bucket of the same name starts clean.
		if got := readObject(t, c, &s3.GetObjectInput{Bucket: b, Key: aws.String("k")}); string(got) != "v" {
			t.Fatalf("object reads %q", got)
		}
		_, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: b, Key: aws.String("k")})
		must(t, "DeleteObject", err)
		_, err = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: b})
		must(t, "DeleteBucket", err)
		_, err = c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: b})
		must(t, "CreateBucket again", err)
		_, err = c.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: b})
		wantCode(t, "object lock of the new bucket", err, "ObjectLockConfigurationNotFoundError")
		_, err = c.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String("no-such-bucket")})
		wantCode(t, "GetBucketCors of a missing bucket", err, "NoSuchBucket")
		_, err = c.PutBucketWebsite(ctx, &s3.PutBucketWebsiteInput{Bucket: aws.String("no-such-bucket"), WebsiteConfiguration: &types.WebsiteConfiguration{
			IndexDocument: &types.IndexDocument{Suffix: aws.String("index.html")}}})
		wantCode(t, "PutBucketWebsite of a missing bucket", err, "NoSuchBucket")
		if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("no-such-bucket")}); err == nil {
			t.Fatal("PutBucketWebsite created the bucket")
		}
	})
}

func tagSet(n int, prefix string) []types.Tag {
	tags := make([]types.Tag, n)
	for i := range tags {
		tags[i] = types.Tag{Key: aws.String(fmt.Sprintf("%s%d", prefix, i)), Value: aws.String(fmt.Sprint(i))}
	}
	return tags
}

// TestTagging covers object and bucket tags: on PutObject, CreateMultipartUpload and
// CopyObject (with both tagging directives), Put/Get/DeleteObjectTagging and
// Put/Get/DeleteBucketTagging, and AWS's limits.
func TestTagging(t *testing.T) {
	forStyles(t, func(t *testing.T, s *server, c *s3.Client) {
		ctx := context.Background()
		b := aws.String("tags")
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: b}); err != nil {
			t.Fatal(err)
		}
		tagsOf := func(t *testing.T, key string) string {
			t.Helper()
			out, err := c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: b, Key: aws.String(key)})
			if err != nil {
				t.Fatalf("GetObjectTagging %s: %v", key, err)
			}
			var parts []string
			for _, tg := range out.TagSet {
				parts = append(parts, *tg.Key+"="+*tg.Value)
			}
			return strings.Join(parts, "&")
		}
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("o"), Body: strings.NewReader("x"), Tagging: aws.String("team=data&env=a%20b")})
		if err != nil {
			t.Fatal(err)
		}
		if got := tagsOf(t, "o"); got != "team=data&env=a b" {
			t.Fatalf("tags %q", got)
		}
		head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: aws.String("o")})
		if err != nil || aws.ToInt32(head.TagCount) != 2 {
			t.Fatalf("HeadObject: %v TagCount %v", err, aws.ToInt32(head.TagCount))
		}
		get, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: aws.String("o")})
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, get.Body)
		get.Body.Close()
		if aws.ToInt32(get.TagCount) != 2 {
			t.Fatalf("GetObject TagCount %v", get.TagCount)
		}

		_, err = c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: b, Key: aws.String("o"), Tagging: &types.Tagging{TagSet: tagSet(3, "k")}})
		if err != nil {
			t.Fatal(err)
		}
		if got := tagsOf(t, "o"); got != "k0=0&k1=1&k2=2" {
			t.Fatalf("tags after put %q", got)
		}
		for _, tc := range []struct {
			name string
			tags []types.Tag
			code string
		}{
			{"eleven", tagSet(11, "k"), "BadRequest"},
			{"duplicate", append(tagSet(1, "k"), tagSet(1, "k")...), "InvalidTag"},
			{"long key", []types.Tag{{Key: aws.String(strings.Repeat("k", 129)), Value: aws.String("v")}}, "InvalidTag"},
			{"long value", []types.Tag{{Key: aws.String("k"), Value: aws.String(strings.Repeat("v", 257))}}, "InvalidTag"},
			{"system", []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("v")}}, "InvalidTag"},
		} {
			_, err := c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: b, Key: aws.String("o"), Tagging: &types.Tagging{TagSet: tc.tags}})
			if apiCode(err) != tc.code {
				t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
			}
		}
		_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("p"), Body: strings.NewReader("x"), Tagging: aws.String("a=1&a=2")})
		if apiCode(err) != "InvalidArgument" {
			t.Errorf("duplicate x-amz-tagging: %v", err)
		}

		// A copy takes the source's tags unless told to replace them.
		_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: b, Key: aws.String("copy"), CopySource: aws.String("tags/o")})
		if err != nil {
			t.Fatal(err)
		}
		if got := tagsOf(t, "copy"); got != "k0=0&k1=1&k2=2" {
			t.Fatalf("copied tags %q", got)
		}
		_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: b, Key: aws.String("copy2"), CopySource: aws.String("tags/o"),
			TaggingDirective: types.TaggingDirectiveReplace, Tagging: aws.String("new=1")})
		if err != nil {
			t.Fatal(err)
		}
		if got := tagsOf(t, "copy2"); got != "new=1" {
			t.Fatalf("replaced tags %q", got)
		}

		up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: b, Key: aws.String("mp"), Tagging: aws.String("mp=yes")})
		if err != nil {
			t.Fatal(err)
		}
		part, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: b, Key: aws.String("mp"), UploadId: up.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("part")})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: b, Key: aws.String("mp"), UploadId: up.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: part.ETag}}}})
		if err != nil {
			t.Fatal(err)
		}
		if got := tagsOf(t, "mp"); got != "mp=yes" {
			t.Fatalf("multipart tags %q", got)
		}

		if _, err := c.DeleteObjectTagging(ctx, &s3.DeleteObjectTaggingInput{Bucket: b, Key: aws.String("o")}); err != nil {
			t.Fatal(err)
		}
		if got := tagsOf(t, "o"); got != "" {
			t.Fatalf("tags after delete %q", got)
		}
		if got := readObject(t, c, &s3.GetObjectInput{Bucket: b, Key: aws.String("o")}); string(got) != "x" {
			t.Fatalf("DeleteObjectTagging touched the object: %q", got)
		}
		_, err = c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: b, Key: aws.String("missing")})
		if apiCode(err) != "NoSuchKey" {
			t.Errorf("tags of a missing key: %v", err)
		}

		// Bucket tags: up to 50.
		_, err = c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: b})
		if apiCode(err) != "NoSuchTagSet" {
			t.Fatalf("GetBucketTagging before: %v", err)
		}
		if _, err := c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: b, Tagging: &types.Tagging{TagSet: tagSet(50, "b")}}); err != nil {
			t.Fatal(err)
		}
		bt, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: b})
		if err != nil || len(bt.TagSet) != 50 || *bt.TagSet[49].Key != "b49" {
			t.Fatalf("GetBucketTagging: %v %d", err, len(bt.TagSet))
		}
		_, err = c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: b, Tagging: &types.Tagging{TagSet: tagSet(51, "b")}})
		if apiCode(err) != "InvalidTag" {
			t.Errorf("51 bucket tags: %v", err)
		}
		if _, err := c.DeleteBucketTagging(ctx, &s3.DeleteBucketTaggingInput{Bucket: b}); err != nil {
			t.Fatal(err)
		}
		_, err = c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: b})
		if apiCode(err) != "NoSuchTagSet" {
			t.Fatalf("GetBucketTagging after delete: %v", err)
		}
	})
}

// TestACLs: canned ACLs, grant headers and AccessControlPolicy documents on buckets and
// objects are kept and returned.
func TestACLs(t *testing.T) {
	forStyles(t, func(t *testing.T, s *server, c *s3.Client) {
		ctx := context.Background()
		b := aws.String("acls")
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: b}); err != nil {
			t.Fatal(err)
		}
		grants := func(g []types.Grant) string {
			var out []string
			for _, x := range g {
				who := aws.ToString(x.Grantee.ID)
				if x.Grantee.URI != nil {
					who = *x.Grantee.URI
				}
				out = append(out, string(x.Grantee.Type)+":"+who+":"+string(x.Permission))
			}
			return strings.Join(out, " ")
		}
		acl, err := c.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: b})
		if err != nil || len(acl.Grants) != 1 || acl.Grants[0].Permission != types.PermissionFullControl {
			t.Fatalf("default bucket ACL: %v %s", err, grants(acl.Grants))
		}
		if _, err := c.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: b, ACL: types.BucketCannedACLPublicRead}); err != nil {
			t.Fatal(err)
		}
		acl, err = c.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: b})
		if err != nil || !strings.Contains(grants(acl.Grants), "Group:http://acs.amazonaws.com/groups/global/AllUsers:READ") {
			t.Fatalf("public-read bucket ACL: %v %s", err, grants(acl.Grants))
		}
		if _, err := c.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: b, GrantRead: aws.String(`id="abc123", uri="http://acs.amazonaws.com/groups/global/AuthenticatedUsers"`)}); err != nil {
			t.Fatal(err)
		}
		acl, err = c.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: b})
		if got := grants(acl.Grants); err != nil || got != "CanonicalUser:abc123:READ Group:http://acs.amazonaws.com/groups/global/AuthenticatedUsers:READ" {
			t.Fatalf("grant-header bucket ACL: %v %s", err, got)
		}

		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("o"), Body: strings.NewReader("x"), ACL: types.ObjectCannedACLPublicReadWrite}); err != nil {
			t.Fatal(err)
		}
		oacl, err := c.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: b, Key: aws.String("o")})
		if got := grants(oacl.Grants); err != nil || !strings.Contains(got, "AllUsers:WRITE") {
			t.Fatalf("public-read-write object ACL: %v %s", err, got)
		}
		owner := oacl.Owner
		_, err = c.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: b, Key: aws.String("o"), AccessControlPolicy: &types.AccessControlPolicy{
			Owner: owner, Grants: []types.Grant{{Grantee: &types.Grantee{Type: types.TypeCanonicalUser, ID: owner.ID}, Permission: types.PermissionRead}}}})
		if err != nil {
			t.Fatal(err)
		}
		oacl, err = c.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: b, Key: aws.String("o")})
		if got := grants(oacl.Grants); err != nil || got != "CanonicalUser:"+*owner.ID+":READ" {
			t.Fatalf("document object ACL: %v %s", err, got)
		}
		_, err = c.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: b, Key: aws.String("o"), ACL: "no-such-acl"})
		if apiCode(err) != "InvalidArgument" {
			t.Errorf("unknown canned ACL: %v", err)
		}
		if got := readObject(t, c, &s3.GetObjectInput{Bucket: b, Key: aws.String("o")}); string(got) != "x" {
			t.Fatalf("ACL calls touched the object: %q", got)
		}
	})
}

func readObject(t *testing.T, c *s3.Client, in *s3.GetObjectInput) []byte {
	t.Helper()
	out, err := c.GetObject(context.Background(), in)
	return read(t, out, err)
}
