package gatewayapi

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strings"

	"github.com/localpipe/localpipe/gateway"
)

// Tags: TagResource, UntagResource and GetTags on the ARNs of REST APIs, stages, API keys
// and usage plans created through the control plane, arn:aws:apigateway:{region}::/restapis/{id}
// and so on. The tags live in the tagged thing's own stored document.

// Tag limits, as API Gateway's tagging documentation gives them.
const (
	maxTags          = 50
	maxTagKeyLen     = 128
	maxTagValueLen   = 256
	apigatewayARNPfx = "arn:aws:apigateway:"
)

func checkTags(tags map[string]string) *controlError {
	if len(tags) > maxTags {
		return badRequest(fmt.Sprintf("Too many tags: %d, a resource may have at most %d", len(tags), maxTags))
	}
	for k, v := range tags {
		if k == "" || len(k) > maxTagKeyLen {
			return badRequest(fmt.Sprintf("Invalid tag key %q: it must be 1 to %d characters", k, maxTagKeyLen))
		}
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return badRequest(fmt.Sprintf("Invalid tag key %q: the aws: prefix is reserved for AWS's use", k))
		}
		if len(v) > maxTagValueLen {
			return badRequest(fmt.Sprintf("Invalid tag value for %q: it must be at most %d characters", k, maxTagValueLen))
		}
	}
	return nil
}

// isTagsPath reports whether an escaped request path is /tags/{arn} for an API Gateway ARN:
// only those belong to the control plane, so a bucket named "tags" stays S3's.
func isTagsPath(escaped string) bool {
	rest, ok := strings.CutPrefix(escaped, "/tags/")
	if !ok {
		return false
	}
	arn, err := url.PathUnescape(rest)
	return err == nil && strings.HasPrefix(arn, apigatewayARNPfx)
}

// tagTarget is where the tags of an ARN live: get reads them, set (inside an edit) changes
// them.
type tagTarget struct {
	get func() (map[string]string, *controlError)
	set func(func(tags map[string]string) (map[string]string, *controlError)) *controlError
}

// tagTargetOf resolves an ARN: arn:aws:apigateway:{region}::{path}.
func (s *Server) tagTargetOf(arn string) (tagTarget, *controlError) {
	bad := badRequest(fmt.Sprintf("Invalid ARN specified: %s; localpipe tags arn:aws:apigateway:{region}::/restapis/{id}, "+
		"…/restapis/{id}/stages/{stageName}, …/apikeys/{id} and …/usageplans/{id}", arn))
	rest, ok := strings.CutPrefix(arn, apigatewayARNPfx)
	if !ok {
		return tagTarget{}, bad
	}
	_, path, ok := strings.Cut(rest, "::")
	if !ok {
		return tagTarget{}, bad
	}
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	switch {
	case len(segs) == 2 && segs[0] == "restapis", len(segs) == 4 && segs[0] == "restapis" && segs[2] == "stages":
		id := segs[1]
		if s.deployment(id) != nil {
			return tagTarget{}, s.writable(id)
		}
		stage := ""
		if len(segs) == 4 {
			stage = segs[3]
		}
		find := func(d *apiDoc) (*map[string]string, *controlError) {
			if stage == "" {
				return &d.Tags, nil
			}
			if st := d.Stages[stage]; st != nil {
				return &st.Tags, nil
			}
			return nil, notFound("Invalid stage identifier specified")
		}
		return tagTarget{
			get: func() (map[string]string, *controlError) {
				d := s.doc(id)
				if d == nil {
					return nil, s.invalidAPI(id)
				}
				t, cerr := find(d)
				if cerr != nil {
					return nil, cerr
				}
				return *t, nil
			},
			set: func(fn func(map[string]string) (map[string]string, *controlError)) *controlError {
				return s.edit(id, func(d *apiDoc) (map[string]*gateway.DeploymentPlan, []string, *controlError) {
					t, cerr := find(d)
					if cerr != nil {
						return nil, nil, cerr
					}
					*t, cerr = fn(*t)
					return nil, nil, cerr
				})
			},
		}, nil
	case len(segs) == 2 && (segs[0] == "apikeys" || segs[0] == "usageplans"):
		id := segs[1]
		if segs[0] == "apikeys" && s.configKey(id) != nil {
			return tagTarget{}, s.readOnlyKey(id)
		}
		find := func(a *accountDoc) (*map[string]string, *controlError) {
			if segs[0] == "apikeys" {
				if k := a.Keys[id]; k != nil {
					return &k.Tags, nil
				}
				return nil, notFound("Invalid API Key identifier specified")
			}
			if p := a.Plans[id]; p != nil {
				return &p.Tags, nil
			}
			return nil, invalidPlan()
		}
		return tagTarget{
			get: func() (map[string]string, *controlError) {
				t, cerr := find(s.account())
				if cerr != nil {
					return nil, cerr
				}
				return *t, nil
			},
			set: func(fn func(map[string]string) (map[string]string, *controlError)) *controlError {
				return s.editAccount(func(a *accountDoc) *controlError {
					t, cerr := find(a)
					if cerr != nil {
						return cerr
					}
					*t, cerr = fn(*t)
					return cerr
				})
			},
		}, nil
	}
	return tagTarget{}, bad
}

func (s *Server) getTags(c *ctlReq) (int, any, *controlError) {
	t, cerr := s.tagTargetOf(c.p["arn"])
	if cerr != nil {
		return 0, nil, cerr
	}
	tags, cerr := t.get()
	if cerr != nil {
		return 0, nil, cerr
	}
	if tags == nil {
		tags = map[string]string{}
	}
	return http.StatusOK, map[string]any{"tags": tags}, nil
}

func (s *Server) tagResource(c *ctlReq) (int, any, *controlError) {
	var in struct {
		Tags map[string]string `json:"tags"`
	}
	if cerr := decodeBody(c, &in); cerr != nil {
		return 0, nil, cerr
	}
	t, cerr := s.tagTargetOf(c.p["arn"])
	if cerr != nil {
		return 0, nil, cerr
	}
	cerr = t.set(func(tags map[string]string) (map[string]string, *controlError) {
		out := maps.Clone(tags)
		if out == nil {
			out = map[string]string{}
		}
		maps.Copy(out, in.Tags)
		return out, checkTags(out)
	})
	if cerr != nil {
		return 0, nil, cerr
	}
	return http.StatusNoContent, nil, nil
}

func (s *Server) untagResource(c *ctlReq) (int, any, *controlError) {
	t, cerr := s.tagTargetOf(c.p["arn"])
	if cerr != nil {
		return 0, nil, cerr
	}
	cerr = t.set(func(tags map[string]string) (map[string]string, *controlError) {
		out := maps.Clone(tags)
		for _, k := range c.q["tagKeys"] {
			delete(out, k)
		}
		if len(out) == 0 {
			return nil, nil
		}
		return out, nil
	})
	if cerr != nil {
		return 0, nil, cerr
	}
	return http.StatusNoContent, nil, nil
}
