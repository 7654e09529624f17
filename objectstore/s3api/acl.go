package s3api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/localpipe/localpipe/objectstore"
)

// ACLs are stored, not enforced: localpipe has one account, and every request may do
// anything. What a client sets (a canned ACL, grant headers, or an AccessControlPolicy
// document) is kept as a list of grants and returned by GetBucketAcl and GetObjectAcl.

type grant struct {
	Type       string `json:"t"` // CanonicalUser, Group or AmazonCustomerByEmail
	ID         string `json:"id,omitempty"`
	URI        string `json:"uri,omitempty"`
	Email      string `json:"email,omitempty"`
	Permission string `json:"p"`
}

const (
	groupAllUsers  = "http://acs.amazonaws.com/groups/global/AllUsers"
	groupAuthUsers = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
	groupLog       = "http://acs.amazonaws.com/groups/s3/LogDelivery"
)

var ownerFull = grant{Type: "CanonicalUser", ID: ownerID, Permission: "FULL_CONTROL"}

// cannedACLs are S3's canned ACLs as grants (the bucket owner and the object owner are the
// same one account here).
var cannedACLs = map[string][]grant{
	"private":                   {ownerFull},
	"public-read":               {ownerFull, {Type: "Group", URI: groupAllUsers, Permission: "READ"}},
	"public-read-write":         {ownerFull, {Type: "Group", URI: groupAllUsers, Permission: "READ"}, {Type: "Group", URI: groupAllUsers, Permission: "WRITE"}},
	"authenticated-read":        {ownerFull, {Type: "Group", URI: groupAuthUsers, Permission: "READ"}},
	"aws-exec-read":             {ownerFull},
	"bucket-owner-read":         {ownerFull},
	"bucket-owner-full-control": {ownerFull},
	"log-delivery-write":        {ownerFull, {Type: "Group", URI: groupLog, Permission: "WRITE"}, {Type: "Group", URI: groupLog, Permission: "READ_ACP"}},
}

var grantHeaders = []struct{ header, permission string }{
	{"X-Amz-Grant-Full-Control", "FULL_CONTROL"}, {"X-Amz-Grant-Read", "READ"}, {"X-Amz-Grant-Read-Acp", "READ_ACP"},
	{"X-Amz-Grant-Write", "WRITE"}, {"X-Amz-Grant-Write-Acp", "WRITE_ACP"},
}

// headerACL reads x-amz-acl or the x-amz-grant-* headers; "" when the request has neither.
func headerACL(h http.Header) (string, *s3Error) {
	canned := h.Get("X-Amz-Acl")
	var grants []grant
	for _, gh := range grantHeaders {
		v := h.Get(gh.header)
		if v == "" {
			continue
		}
		gs, err := parseGrantHeader(v, gh.permission)
		if err != nil {
			return "", err
		}
		grants = append(grants, gs...)
	}
	switch {
	case canned != "" && len(grants) > 0:
		return "", errMsg("InvalidRequest", "Specifying both Canned ACLs and Header Grants is not allowed")
	case canned != "":
		gs, ok := cannedACLs[canned]
		if !ok {
			return "", errMsg("InvalidArgument", "", [2]string{"ArgumentName", "x-amz-acl"}, [2]string{"ArgumentValue", bounded(canned)})
		}
		grants = gs
	case len(grants) == 0:
		return "", nil
	}
	b, _ := json.Marshal(grants)
	return string(b), nil
}

// parseGrantHeader reads a grant header's list: id="…", uri="…", emailAddress="…".
func parseGrantHeader(v, permission string) ([]grant, *s3Error) {
	var out []grant
	for _, item := range strings.Split(v, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(item), "=")
		val = strings.Trim(strings.TrimSpace(val), `"`)
		if !ok || val == "" {
			return nil, errMsg("InvalidArgument", "Invalid id", [2]string{"ArgumentName", "x-amz-grant"}, [2]string{"ArgumentValue", bounded(v)})
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "id":
			out = append(out, grant{Type: "CanonicalUser", ID: val, Permission: permission})
		case "uri":
			out = append(out, grant{Type: "Group", URI: val, Permission: permission})
		case "emailaddress":
			out = append(out, grant{Type: "AmazonCustomerByEmail", Email: val, Permission: permission})
		default:
			return nil, errMsg("InvalidArgument", "Argument format not recognized", [2]string{"ArgumentName", "x-amz-grant"}, [2]string{"ArgumentValue", bounded(v)})
		}
	}
	return out, nil
}

type aclDoc struct {
	Grants []struct {
		Grantee struct {
			Type  string `xml:"http://www.w3.org/2001/XMLSchema-instance type,attr"`
			ID    string `xml:"ID"`
			URI   string `xml:"URI"`
			Email string `xml:"EmailAddress"`
		} `xml:"Grantee"`
		Permission string `xml:"Permission"`
	} `xml:"AccessControlList>Grant"`
}

var permissions = map[string]bool{"FULL_CONTROL": true, "READ": true, "READ_ACP": true, "WRITE": true, "WRITE_ACP": true}

// requestACL is the ACL a PutBucketAcl or PutObjectAcl sets, from its headers or its body.
func (q *request) requestACL() (string, *s3Error) {
	acl, serr := headerACL(q.r.Header)
	if serr != nil || acl != "" {
		return acl, serr
	}
	doc, serr := q.readDocument("AccessControlPolicy")
	if serr != nil {
		if serr.code == "MalformedXML" && q.r.ContentLength == 0 {
			return "", errMsg("MissingSecurityHeader", "Your request was missing a required header", [2]string{"MissingHeaderName", "x-amz-acl"})
		}
		return "", serr
	}
	var d aclDoc
	if err := decodeXML(bytes.NewReader(doc), "AccessControlPolicy", &d); err != nil {
		return "", errCode("MalformedACLError")
	}
	grants := make([]grant, 0, len(d.Grants))
	for _, g := range d.Grants {
		if !permissions[g.Permission] {
			return "", errCode("MalformedACLError")
		}
		switch {
		case g.Grantee.Type == "CanonicalUser" && g.Grantee.ID != "":
			grants = append(grants, grant{Type: g.Grantee.Type, ID: g.Grantee.ID, Permission: g.Permission})
		case g.Grantee.Type == "Group" && g.Grantee.URI != "":
			grants = append(grants, grant{Type: g.Grantee.Type, URI: g.Grantee.URI, Permission: g.Permission})
		case g.Grantee.Type == "AmazonCustomerByEmail" && g.Grantee.Email != "":
			grants = append(grants, grant{Type: g.Grantee.Type, Email: g.Grantee.Email, Permission: g.Permission})
		default:
			return "", errCode("MalformedACLError")
		}
	}
	b, _ := json.Marshal(grants)
	return string(b), nil
}

// aclDocument renders a stored ACL ("" for the default) as an AccessControlPolicy.
func aclDocument(acl string) *xmlw {
	grants := []grant{ownerFull}
	if acl != "" {
		grants = nil
		json.Unmarshal([]byte(acl), &grants)
	}
	var x xmlw
	x.header()
	x.root("AccessControlPolicy")
	writeOwner(&x, "Owner")
	x.open("AccessControlList")
	for _, g := range grants {
		x.b = append(x.b, `<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="`...)
		x.text(g.Type)
		x.b = append(x.b, `">`...)
		switch g.Type {
		case "CanonicalUser":
			x.elem("ID", g.ID)
			if g.ID == ownerID {
				x.elem("DisplayName", ownerName)
			}
		case "Group":
			x.elem("URI", g.URI)
		default:
			x.elem("EmailAddress", g.Email)
		}
		x.close("Grantee")
		x.elem("Permission", g.Permission)
		x.close("Grant")
	}
	x.close("AccessControlList")
	x.close("AccessControlPolicy")
	return &x
}

func (q *request) getBucketACL() *s3Error {
	doc, err := q.h.store.BucketConfig(q.r.Context(), q.bucket, "acl")
	if err != nil && err != objectstore.ErrNoSuchConfig {
		return q.fail(err)
	}
	return q.ok(aclDocument(string(doc)))
}

func (q *request) putBucketACL() *s3Error {
	if _, err := q.bucketInfo(); err != nil {
		return err
	}
	acl, serr := q.requestACL()
	if serr != nil {
		return serr
	}
	if err := q.h.store.PutBucketConfig(q.r.Context(), q.bucket, "acl", []byte(acl)); err != nil {
		return q.fail(err)
	}
	return q.empty(http.StatusOK)
}

func (q *request) getObjectACL() *s3Error {
	info, err := q.h.store.HeadObjectVersion(q.r.Context(), q.bucket, q.key, q.versionID())
	if err != nil {
		return q.fail(err)
	}
	q.setVersionHeader(info.VersionID)
	return q.ok(aclDocument(info.ACL))
}

func (q *request) putObjectACL() *s3Error {
	if _, err := q.h.store.HeadObjectVersion(q.r.Context(), q.bucket, q.key, q.versionID()); err != nil {
		return q.fail(err)
	}
	acl, serr := q.requestACL()
	if serr != nil {
		return serr
	}
	info, err := q.h.store.UpdateObjectMeta(q.r.Context(), q.bucket, q.key, q.versionID(), func(m *objectstore.ObjectMeta) error {
		m.ACL = acl
		return nil
	})
	if err != nil {
		return q.fail(err)
	}
	q.setVersionHeader(info.VersionID)
	return q.empty(http.StatusOK)
}
