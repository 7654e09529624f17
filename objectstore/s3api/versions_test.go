package s3api_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// versionsOf lists every version and delete marker of the bucket, one page of size per
// call, as "key@versionId[=latest][marker]" strings in listing order.
func versionsOf(t *testing.T, c *s3.Client, bucket string, size int32) []string {
	t.Helper()
	var out []string
	in := &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), MaxKeys: aws.Int32(size)}
	for {
		page, err := c.ListObjectVersions(context.Background(), in)
		if err != nil {
			t.Fatalf("ListObjectVersions: %v", err)
		}
		// The SDK splits versions and markers; S3 sends them in one order, so merge them back.
		type entry struct {
			key, id string
			latest  bool
			marker  bool
		}
		var all []entry
		for _, v := range page.Versions {
			all = append(all, entry{*v.Key, *v.VersionId, *v.IsLatest, false})
		}
		for _, m := range page.DeleteMarkers {
			all = append(all, entry{*m.Key, *m.VersionId, *m.IsLatest, true})
		}
		for _, e := range all {
			s := e.key + "@" + e.id
			if e.latest {
				s += "=latest"
			}
			if e.marker {
				s += "[marker]"
			}
			out = append(out, s)
		}
		if !aws.ToBool(page.IsTruncated) {
			return out
		}
		in.KeyMarker, in.VersionIdMarker = page.NextKeyMarker, page.NextVersionIdMarker
	}
}

// TestVersioning drives S3 versioning with the SDK: null versions from before it was turned
// on, a version per PUT, reads and copies by version id, delete markers and their removal,
// permanent deletes that promote the next newest version, suspension replacing the null
// version, ListObjectVersions with paging, and the errors for bad and unknown ids.
func TestVersioning(t *testing.T) {
	forStyles(t, func(t *testing.T, s *server, c *s3.Client) {
		ctx := context.Background()
		b := aws.String("ver")
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: b}); err != nil {
			t.Fatal(err)
		}
		put := func(key, body string) string {
			t.Helper()
			out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String(key), Body: strings.NewReader(body)})
			if err != nil {
				t.Fatalf("put %s: %v", key, err)
			}
			return aws.ToString(out.VersionId)
		}
		get := func(key, version string) (string, error) {
			in := &s3.GetObjectInput{Bucket: b, Key: aws.String(key)}
			if version != "" {
				in.VersionId = aws.String(version)
			}
			out, err := c.GetObject(ctx, in)
			if err != nil {
				return "", err
			}
			body := string(read(t, out, nil))
			if version != "" && aws.ToString(out.VersionId) != version {
				t.Fatalf("GetObject %s@%s answered version %q", key, version, aws.ToString(out.VersionId))
			}
			return body, nil
		}
		mustGet := func(key, version, want string) {
			t.Helper()
			got, err := get(key, version)
			if err != nil || got != want {
				t.Fatalf("get %s@%s: %q %v, want %q", key, version, got, err, want)
			}
		}

		// Never versioned: no status, no version ids, and ListObjectVersions lists null versions.
		if id := put("k", "v0"); id != "" {
			t.Fatalf("unversioned put answered version %q", id)
		}
		st, err := c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: b})
		if err != nil || st.Status != "" {
			t.Fatalf("GetBucketVersioning: %v %q", err, st.Status)
		}
		if got := versionsOf(t, c, "ver", 1000); strings.Join(got, " ") != "k@null=latest" {
			t.Fatalf("versions of a bucket never versioned: %v", got)
		}
		_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: aws.String("k"), VersionId: aws.String("bogus")})
		if apiCode(err) != "InvalidArgument" {
			t.Fatalf("bogus version id: %v", err)
		}

		if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: b,
			VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
			t.Fatal(err)
		}
		st, _ = c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: b})
		if st.Status != types.BucketVersioningStatusEnabled {
			t.Fatalf("status %q", st.Status)
		}
		v1 := put("k", "v1")
		v2 := put("k", "v2")
		if v1 == "" || v2 == "" || v1 == v2 || v1 == "null" {
			t.Fatalf("version ids %q %q", v1, v2)
		}
		mustGet("k", "", "v2")
		mustGet("k", v1, "v1")
		mustGet("k", "null", "v0")
		head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: aws.String("k"), VersionId: aws.String(v1)})
		if err != nil || aws.ToString(head.VersionId) != v1 || aws.ToInt64(head.ContentLength) != 2 {
			t.Fatalf("HeadObject by version: %v %+v", err, head)
		}
		if got := versionsOf(t, c, "ver", 1000); strings.Join(got, " ") != fmt.Sprintf("k@%s=latest k@%s k@null", v2, v1) {
			t.Fatalf("versions: %v", got)
		}

		// Unknown but well-formed ids: NoSuchVersion.
		unknown := v1[:len(v1)-4] + map[bool]string{true: "AAAA", false: "BBBB"}[!strings.HasSuffix(v1, "AAAA")]
		_, err = get("k", unknown)
		if apiCode(err) != "NoSuchVersion" || httpStatus(err) != 404 {
			t.Fatalf("unknown version: %v", err)
		}

		// A delete adds a marker; the key reads as missing, and the marker by id is 405.
		del, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: b, Key: aws.String("k")})
		if err != nil || !aws.ToBool(del.DeleteMarker) || aws.ToString(del.VersionId) == "" {
			t.Fatalf("DeleteObject: %v %+v", err, del)
		}
		marker := *del.VersionId
		_, err = get("k", "")
		if apiCode(err) != "NoSuchKey" {
			t.Fatalf("read after delete: %v", err)
		}
		_, err = get("k", marker)
		if httpStatus(err) != http.StatusMethodNotAllowed {
			t.Fatalf("read of the delete marker: %v", err)
		}
		list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: b})
		if err != nil || len(list.Contents) != 0 {
			t.Fatalf("ListObjectsV2 after delete: %v %d", err, len(list.Contents))
		}
		if got := versionsOf(t, c, "ver", 1000); strings.Join(got, " ") != fmt.Sprintf("k@%s=latest k@%s k@%s k@null", v2, v1, marker) &&
			strings.Join(got, " ") != fmt.Sprintf("k@%s k@%s k@null k@%s=latest[marker]", v2, v1, marker) {
			t.Fatalf("versions after delete: %v", got)
		}
		// Removing the marker brings the object back.
		if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: b, Key: aws.String("k"), VersionId: aws.String(marker)}); err != nil {
			t.Fatal(err)
		}
		mustGet("k", "", "v2")
		// A permanent delete of the newest version makes the next one current.
		if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: b, Key: aws.String("k"), VersionId: aws.String(v2)}); err != nil {
			t.Fatal(err)
		}
		mustGet("k", "", "v1")
		_, err = get("k", v2)
		if apiCode(err) != "NoSuchVersion" {
			t.Fatalf("read of a deleted version: %v", err)
		}

		// Copy from a version, and tags by version.
		cp, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: b, Key: aws.String("copy"), CopySource: aws.String("ver/k?versionId=null")})
		if err != nil || aws.ToString(cp.CopySourceVersionId) != "null" || aws.ToString(cp.VersionId) == "" {
			t.Fatalf("CopyObject from the null version: %v %+v", err, cp)
		}
		mustGet("copy", "", "v0")
		if _, err := c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: b, Key: aws.String("k"), VersionId: aws.String("null"),
			Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("old"), Value: aws.String("yes")}}}}); err != nil {
			t.Fatal(err)
		}
		tg, err := c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: b, Key: aws.String("k"), VersionId: aws.String("null")})
		if err != nil || len(tg.TagSet) != 1 {
			t.Fatalf("tags of the null version: %v %+v", err, tg)
		}
		tg, err = c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: b, Key: aws.String("k")})
		if err != nil || len(tg.TagSet) != 0 {
			t.Fatalf("tags of the current version: %v %+v", err, tg)
		}

		// Suspended: writes replace the null version, deletes make a null marker.
		if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: b,
			VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusSuspended}}); err != nil {
			t.Fatal(err)
		}
		if id := put("k", "v3"); id != "null" {
			t.Fatalf("suspended put answered version %q", id)
		}
		if got := versionsOf(t, c, "ver", 1000); !strings.Contains(strings.Join(got, " "), fmt.Sprintf("k@null=latest k@%s", v1)) || len(got) != 3 {
			t.Fatalf("versions after a suspended put: %v", got)
		}
		mustGet("k", "null", "v3")
		del, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: b, Key: aws.String("k")})
		if err != nil || aws.ToString(del.VersionId) != "null" || !aws.ToBool(del.DeleteMarker) {
			t.Fatalf("suspended delete: %v %+v", err, del)
		}
		mustGet("k", v1, "v1")

		// Paging gives what one page gives.
		for i := range 5 {
			put(fmt.Sprintf("p/%d", i), "x")
			put(fmt.Sprintf("p/%d", i), "y")
		}
		// The SDK hands versions and markers over in two lists, so compare pages as sets.
		all := versionsOf(t, c, "ver", 1000)
		slices.Sort(all)
		for _, size := range []int32{1, 2, 3} {
			got := versionsOf(t, c, "ver", size)
			slices.Sort(got)
			if strings.Join(got, " ") != strings.Join(all, " ") {
				t.Fatalf("pages of %d:\n%v\nwant\n%v", size, got, all)
			}
		}
		dl, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: b, Delimiter: aws.String("/")})
		if err != nil || len(dl.CommonPrefixes) != 1 || *dl.CommonPrefixes[0].Prefix != "p/" {
			t.Fatalf("versions with a delimiter: %v %+v", err, dl.CommonPrefixes)
		}

		// A bucket with versions is not empty; deleting every version by id empties it.
		_, err = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: b})
		if apiCode(err) != "BucketNotEmpty" {
			t.Fatalf("DeleteBucket with versions: %v", err)
		}
		var ids []types.ObjectIdentifier
		for _, e := range all {
			key, rest, _ := strings.Cut(e, "@")
			id, _, _ := strings.Cut(rest, "=")
			id, _, _ = strings.Cut(id, "[")
			ids = append(ids, types.ObjectIdentifier{Key: aws.String(key), VersionId: aws.String(id)})
		}
		dres, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: b, Delete: &types.Delete{Objects: ids}})
		if err != nil || len(dres.Errors) != 0 || len(dres.Deleted) != len(ids) {
			t.Fatalf("DeleteObjects by version: %v %+v", err, dres.Errors)
		}
		if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: b}); err != nil {
			t.Fatalf("DeleteBucket after deleting every version: %v", err)
		}
	})
}
