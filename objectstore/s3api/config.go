package s3api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/localpipe/localpipe/objectstore"
)

// Bucket configurations S3 stores and returns but localpipe does not act on (policy,
// lifecycle, website, …) are kept as the document the client sent, after checking it is
// the document the operation takes. Each kind names what a bucket without one answers:
// S3's "not found" error, or the configuration every bucket has by default.
type configKind struct {
	kind string
	root string // the document's root element; "" for the JSON policy
	// missing is the error code for a bucket without one; when "", def is returned instead.
	missing string
	def     string
	// deletedMissing is the error after a Delete of a kind that has a default: S3 answers
	// "not found" then, where a bucket that never had one answers the default.
	deletedMissing string
	putStatus      int
}

var configKinds = map[string]configKind{
	"cors":      {kind: "cors", root: "CORSConfiguration", missing: "NoSuchCORSConfiguration", putStatus: 200},
	"policy":    {kind: "policy", missing: "NoSuchBucketPolicy", putStatus: 204},
	"lifecycle": {kind: "lifecycle", root: "LifecycleConfiguration", missing: "NoSuchLifecycleConfiguration", putStatus: 200},
	// Since January 2023 every bucket encrypts with SSE-S3 unless told otherwise, and
	// deleting the configuration restores that.
	"encryption": {kind: "encryption", root: "ServerSideEncryptionConfiguration", putStatus: 200,
		def: `<ServerSideEncryptionConfiguration xmlns="` + s3NS + `"><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>false</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>`},
	"website":      {kind: "website", root: "WebsiteConfiguration", missing: "NoSuchWebsiteConfiguration", putStatus: 200},
	"logging":      {kind: "logging", root: "BucketLoggingStatus", putStatus: 200, def: `<BucketLoggingStatus xmlns="` + s3NS + `"/>`},
	"notification": {kind: "notification", root: "NotificationConfiguration", putStatus: 200, def: `<NotificationConfiguration xmlns="` + s3NS + `"/>`},
	// Since April 2023 new buckets block public access and disable ACLs by default.
	"publicAccessBlock": {kind: "publicAccessBlock", root: "PublicAccessBlockConfiguration", putStatus: 200,
		def:            `<PublicAccessBlockConfiguration xmlns="` + s3NS + `"><BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>true</IgnorePublicAcls><BlockPublicPolicy>true</BlockPublicPolicy><RestrictPublicBuckets>true</RestrictPublicBuckets></PublicAccessBlockConfiguration>`,
		deletedMissing: "NoSuchPublicAccessBlockConfiguration"},
	"ownershipControls": {kind: "ownershipControls", root: "OwnershipControls", putStatus: 200,
		def:            `<OwnershipControls xmlns="` + s3NS + `"><Rule><ObjectOwnership>BucketOwnerEnforced</ObjectOwnership></Rule></OwnershipControls>`,
		deletedMissing: "OwnershipControlsNotFoundError"},
	"objectLock":     {kind: "objectLock", root: "ObjectLockConfiguration", missing: "ObjectLockConfigurationNotFoundError", putStatus: 200},
	"accelerate":     {kind: "accelerate", root: "AccelerateConfiguration", putStatus: 200, def: `<AccelerateConfiguration xmlns="` + s3NS + `"/>`},
	"requestPayment": {kind: "requestPayment", root: "RequestPaymentConfiguration", putStatus: 200, def: `<RequestPaymentConfiguration xmlns="` + s3NS + `"><Payer>BucketOwner</Payer></RequestPaymentConfiguration>`},
	"tagging":        {kind: "tagging", root: "Tagging", missing: "NoSuchTagSet", putStatus: 204},
}

// configOperations binds the model's operations to the kinds above.
var configOperations = map[string]struct{ kind, verb string }{
	"PutBucketCors": {"cors", "put"}, "GetBucketCors": {"cors", "get"}, "DeleteBucketCors": {"cors", "delete"},
	"PutBucketPolicy": {"policy", "put"}, "GetBucketPolicy": {"policy", "get"}, "DeleteBucketPolicy": {"policy", "delete"},
	"PutBucketLifecycleConfiguration": {"lifecycle", "put"}, "GetBucketLifecycleConfiguration": {"lifecycle", "get"}, "DeleteBucketLifecycle": {"lifecycle", "delete"},
	"PutBucketEncryption": {"encryption", "put"}, "GetBucketEncryption": {"encryption", "get"}, "DeleteBucketEncryption": {"encryption", "delete"},
	"PutBucketWebsite": {"website", "put"}, "GetBucketWebsite": {"website", "get"}, "DeleteBucketWebsite": {"website", "delete"},
	"PutBucketLogging": {"logging", "put"}, "GetBucketLogging": {"logging", "get"},
	"PutBucketNotificationConfiguration": {"notification", "put"}, "GetBucketNotificationConfiguration": {"notification", "get"},
	"PutPublicAccessBlock": {"publicAccessBlock", "put"}, "GetPublicAccessBlock": {"publicAccessBlock", "get"}, "DeletePublicAccessBlock": {"publicAccessBlock", "delete"},
	"PutBucketOwnershipControls": {"ownershipControls", "put"}, "GetBucketOwnershipControls": {"ownershipControls", "get"}, "DeleteBucketOwnershipControls": {"ownershipControls", "delete"},
	"PutObjectLockConfiguration": {"objectLock", "put"}, "GetObjectLockConfiguration": {"objectLock", "get"},
	"PutBucketAccelerateConfiguration": {"accelerate", "put"}, "GetBucketAccelerateConfiguration": {"accelerate", "get"},
	"PutBucketRequestPayment": {"requestPayment", "put"}, "GetBucketRequestPayment": {"requestPayment", "get"},
	"PutBucketTagging": {"tagging", "put"}, "GetBucketTagging": {"tagging", "get"}, "DeleteBucketTagging": {"tagging", "delete"},
}

func init() {
	for op, b := range configOperations {
		k := configKinds[b.kind]
		switch b.verb {
		case "put":
			operationHandlers[op] = func(q *request) *s3Error { return q.putConfig(k) }
		case "get":
			operationHandlers[op] = func(q *request) *s3Error { return q.getConfig(k) }
		case "delete":
			operationHandlers[op] = func(q *request) *s3Error { return q.deleteConfig(k) }
		}
	}
	operationHandlers["GetBucketPolicyStatus"] = (*request).getPolicyStatus
}

// readDocument reads and checks a request document: well-formed XML with the given root
// (or, for root "", a JSON object), within maxXMLBody.
func (q *request) readDocument(root string) ([]byte, *s3Error) {
	v, serr := decodeBody(q.r)
	if serr != nil {
		return nil, serr
	}
	doc, err := io.ReadAll(io.LimitReader(v, maxXMLBody+1))
	if err != nil {
		return nil, q.fail(err)
	}
	if len(doc) > maxXMLBody {
		return nil, errCode("MalformedXML")
	}
	if root == "" {
		var m map[string]any
		if !bytes.HasPrefix(bytes.TrimSpace(doc), []byte("{")) || json.Unmarshal(doc, &m) != nil {
			return nil, errMsg("MalformedPolicy", "Policies must be valid JSON and the first byte must be '{'")
		}
		return doc, nil
	}
	var any struct{}
	if err := decodeXML(bytes.NewReader(doc), root, &any); err != nil {
		if errors.Is(err, errMalformedXML) {
			return nil, errCode("MalformedXML")
		}
		return nil, q.fail(err)
	}
	return doc, nil
}

func (q *request) putConfig(k configKind) *s3Error {
	if _, err := q.bucketInfo(); err != nil {
		return err
	}
	doc, serr := q.readDocument(k.root)
	if serr != nil {
		return serr
	}
	if k.kind == "tagging" {
		tags, serr := parseTagging(doc, maxBucketTags)
		if serr != nil {
			return serr
		}
		doc = taggingDocument(tags)
	}
	if err := q.h.store.PutBucketConfig(q.r.Context(), q.bucket, k.kind, doc); err != nil {
		return q.fail(err)
	}
	return q.empty(k.putStatus)
}

func (q *request) getConfig(k configKind) *s3Error {
	doc, err := q.h.store.BucketConfig(q.r.Context(), q.bucket, k.kind)
	switch {
	case errors.Is(err, objectstore.ErrNoSuchConfig) && k.missing != "":
		return errCode(k.missing, [2]string{"BucketName", q.bucket})
	case errors.Is(err, objectstore.ErrNoSuchConfig):
		doc = []byte(k.def)
	case err != nil:
		return q.fail(err)
	case len(doc) == 0 && k.deletedMissing != "":
		return errCode(k.deletedMissing, [2]string{"BucketName", q.bucket})
	}
	if k.root == "" {
		q.status = http.StatusOK
		q.w.Header().Set("Content-Type", "application/json")
		q.w.Header().Set("Content-Length", itoa(len(doc)))
		q.w.WriteHeader(http.StatusOK)
		q.w.Write(doc)
		return nil
	}
	x := xmlw{}
	if !bytes.HasPrefix(bytes.TrimSpace(doc), []byte("<?xml")) {
		x.header()
	}
	x.b = append(x.b, doc...)
	return q.ok(&x)
}

func (q *request) deleteConfig(k configKind) *s3Error {
	var err error
	if k.deletedMissing != "" {
		err = q.h.store.PutBucketConfig(q.r.Context(), q.bucket, k.kind, nil)
	} else {
		err = q.h.store.DeleteBucketConfig(q.r.Context(), q.bucket, k.kind)
	}
	if err != nil {
		return q.fail(err)
	}
	return q.empty(http.StatusNoContent)
}

// getPolicyStatus reports whether the bucket's policy makes it public, by the rule S3
// documents for the common case: a statement that allows any principal ("*") without
// conditions.
func (q *request) getPolicyStatus() *s3Error {
	doc, err := q.h.store.BucketConfig(q.r.Context(), q.bucket, "policy")
	if errors.Is(err, objectstore.ErrNoSuchConfig) {
		return errCode("NoSuchBucketPolicy", [2]string{"BucketName", q.bucket})
	}
	if err != nil {
		return q.fail(err)
	}
	var x xmlw
	x.header()
	x.root("PolicyStatus")
	x.elemBool("IsPublic", policyIsPublic(doc))
	x.close("PolicyStatus")
	return q.ok(&x)
}

func policyIsPublic(doc []byte) bool {
	var p struct {
		Statement json.RawMessage
	}
	if json.Unmarshal(doc, &p) != nil {
		return false
	}
	type stmt struct {
		Effect    string
		Principal any
		Condition map[string]any
	}
	var list []stmt
	if json.Unmarshal(p.Statement, &list) != nil {
		var one stmt
		if json.Unmarshal(p.Statement, &one) != nil {
			return false
		}
		list = []stmt{one}
	}
	for _, s := range list {
		if s.Effect != "Allow" || len(s.Condition) > 0 {
			continue
		}
		switch pr := s.Principal.(type) {
		case string:
			if pr == "*" {
				return true
			}
		case map[string]any:
			switch aws := pr["AWS"].(type) {
			case string:
				if aws == "*" {
					return true
				}
			case []any:
				for _, a := range aws {
					if a == "*" {
						return true
					}
				}
			}
		}
	}
	return false
}

// Tag limits: S3 allows 10 tags on an object and 50 on a bucket; keys of 1–128 and values of
// 0–256 Unicode characters.
const (
	maxObjectTags = 10
	maxBucketTags = 50
	maxTagKey     = 128
	maxTagValue   = 256
)

type taggingDoc struct {
	Tags []struct {
		Key   *string `xml:"Key"`
		Value *string `xml:"Value"`
	} `xml:"TagSet>Tag"`
}

// parseTagging reads a Tagging document and checks it against S3's rules.
func parseTagging(doc []byte, max int) ([]objectstore.Tag, *s3Error) {
	var t taggingDoc
	if err := decodeXML(bytes.NewReader(doc), "Tagging", &t); err != nil {
		return nil, errCode("MalformedXML")
	}
	tags := make([]objectstore.Tag, 0, len(t.Tags))
	for _, tg := range t.Tags {
		if tg.Key == nil || tg.Value == nil {
			return nil, errCode("MalformedXML")
		}
		tags = append(tags, objectstore.Tag{Key: *tg.Key, Value: *tg.Value})
	}
	return tags, checkTags(tags, max)
}

func checkTags(tags []objectstore.Tag, max int) *s3Error {
	if len(tags) > max {
		if max == maxObjectTags {
			return errMsg("BadRequest", "Object tags cannot be greater than 10")
		}
		return errMsg("InvalidTag", "Bucket tag count cannot be greater than 50")
	}
	seen := map[string]bool{}
	for _, t := range tags {
		switch {
		case t.Key == "" || utf8.RuneCountInString(t.Key) > maxTagKey:
			return errMsg("InvalidTag", "The TagKey you have provided is invalid", [2]string{"TagKey", bounded(t.Key)})
		case utf8.RuneCountInString(t.Value) > maxTagValue:
			return errMsg("InvalidTag", "The TagValue you have provided is invalid", [2]string{"TagKey", bounded(t.Key)}, [2]string{"TagValue", bounded(t.Value)})
		case strings.HasPrefix(strings.ToLower(t.Key), "aws:"):
			return errMsg("InvalidTag", "System tags cannot be added/updated by requester")
		case seen[t.Key]:
			return errMsg("InvalidTag", "Cannot provide multiple Tags with the same key", [2]string{"TagKey", bounded(t.Key)})
		}
		seen[t.Key] = true
	}
	return nil
}

// bounded is at most the first 256 bytes of s, for quoting a client's value in an error.
func bounded(s string) string {
	if len(s) <= 256 {
		return s
	}
	s = s[:256]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

func taggingDocument(tags []objectstore.Tag) []byte {
	var x xmlw
	x.header()
	x.root("Tagging")
	x.open("TagSet")
	for _, t := range tags {
		x.open("Tag")
		x.elem("Key", t.Key)
		x.elem("Value", t.Value)
		x.close("Tag")
	}
	x.close("TagSet")
	x.close("Tagging")
	return x.b
}

// headerTags parses x-amz-tagging: URL-encoded query parameters, one per tag.
func headerTags(h http.Header) ([]objectstore.Tag, bool, *s3Error) {
	raw, ok := h["X-Amz-Tagging"]
	if !ok {
		return nil, false, nil
	}
	bad := errMsg("InvalidArgument", "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.",
		[2]string{"ArgumentName", "x-amz-tagging"}, [2]string{"ArgumentValue", bounded(strings.Join(raw, ","))})
	var tags []objectstore.Tag
	for _, pair := range strings.Split(strings.Join(raw, "&"), "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		key, err1 := url.QueryUnescape(k)
		val, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil || !utf8.ValidString(key) || !utf8.ValidString(val) {
			return nil, true, bad
		}
		for _, t := range tags {
			if t.Key == key {
				return nil, true, bad
			}
		}
		tags = append(tags, objectstore.Tag{Key: key, Value: val})
	}
	if err := checkTags(tags, maxObjectTags); err != nil {
		return nil, true, err
	}
	return tags, true, nil
}

func (q *request) putObjectTagging() *s3Error {
	doc, serr := q.readDocument("Tagging")
	if serr != nil {
		return serr
	}
	tags, serr := parseTagging(doc, maxObjectTags)
	if serr != nil {
		return serr
	}
	return q.setObjectTags(tags, http.StatusOK)
}

func (q *request) deleteObjectTagging() *s3Error {
	return q.setObjectTags(nil, http.StatusNoContent)
}

func (q *request) setObjectTags(tags []objectstore.Tag, status int) *s3Error {
	info, err := q.h.store.UpdateObjectMeta(q.r.Context(), q.bucket, q.key, q.versionID(), func(m *objectstore.ObjectMeta) error {
		m.Tags = tags
		return nil
	})
	if err != nil {
		return q.fail(err)
	}
	q.setVersionHeader(info.VersionID)
	return q.empty(status)
}
