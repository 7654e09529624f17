package kinesisapi

import (
	"errors"
	"fmt"
	"maps"
	"sort"
	"strings"

	"github.com/localpipe/localpipe/internal/awsjson"
	"github.com/localpipe/localpipe/stream"
)

// checkTagChars applies AWS's two character rules to the keys and values of tags added to
// stream name.
func checkTagChars(name string, tags map[string]string) *awsjson.Error {
	return checkResourceTagChars("stream", name, tags)
}

// checkResourceTagChars is checkTagChars for a resource of any kind ("stream", "channel").
func checkResourceTagChars(kind, name string, tags map[string]string) *awsjson.Error {
	texts := make([]string, 0, 2*len(tags))
	for k, v := range tags {
		texts = append(texts, k, v)
	}
	return tagCharsError("add tags to", kind+" "+name, texts)
}

// tagCharsError applies AWS's two character rules to tag keys and values, with their texts
// (kinesalite recorded both, for adding and for removing): a set of allowed characters, and
// then, although that set lists it, no '%'. verb says what was refused ("add tags to").
func tagCharsError(verb, resource string, texts []string) *awsjson.Error {
	percent := false
	for _, s := range texts {
		if !awsjson.TagChars(s) {
			return awsjson.NewError("InvalidArgumentException", "Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @ :.")
		}
		percent = percent || strings.Contains(s, "%")
	}
	if percent {
		return awsjson.NewError("InvalidArgumentException", fmt.Sprintf("Failed to %s %s under account %s because some tags contained illegal characters. The allowed characters are Unicode letters, white-spaces, '_',',','/','=','+','-','@',':'.", verb, resource, awsjson.Account))
	}
	return nil
}

// tooManyTags is AWS's answer to a stream passing 50 tags; an InvalidArgumentException, not a
// LimitExceededException (kinesalite's tests against AWS record the type).
func tooManyTags(name string) *awsjson.Error {
	return awsjson.NewError("InvalidArgumentException", fmt.Sprintf("Failed to add tags to stream %s under account %s because a given stream cannot have more than %d tags associated with it.", name, awsjson.Account, tagsPerStream))
}

type addTagsIn struct {
	streamRef
	Tags map[string]string `json:"Tags"`
}

func (in *addTagsIn) check(v *validator) {
	if v.Required("tags", in.Tags != nil) {
		v.TagMap("tags", in.Tags, tagMapMax)
	}
	v.streamName("streamName", in.StreamName)
	v.streamARN("streamARN", in.StreamARN)
}

func (c *call) addTags(name string, in *addTagsIn) ([]byte, *awsjson.Error) {
	if err := checkTagChars(name, in.Tags); err != nil {
		return nil, err
	}
	err := c.h.eng.UpdateTags(name, func(tags map[string]string) error {
		return awsjson.MergeTags(tags, in.Tags, tagsPerStream, func() error { return tooManyTags(name) })
	})
	if err != nil {
		return nil, c.engineError(name, err)
	}
	return empty, nil
}

type removeTagsIn struct {
	streamRef
	TagKeys []string `json:"TagKeys"`
}

func (in *removeTagsIn) check(v *validator) {
	if v.Required("tagKeys", in.TagKeys != nil) {
		v.TagKeyList("tagKeys", in.TagKeys, tagKeysMax)
	}
	v.streamName("streamName", in.StreamName)
	v.streamARN("streamARN", in.StreamARN)
}

func (c *call) removeTags(name string, in *removeTagsIn) ([]byte, *awsjson.Error) {
	if err := tagCharsError("remove tags from", "stream "+name, in.TagKeys); err != nil {
		return nil, err
	}
	err := c.h.eng.UpdateTags(name, func(tags map[string]string) error {
		for _, k := range in.TagKeys {
			delete(tags, k)
		}
		return nil
	})
	if err != nil {
		return nil, c.engineError(name, err)
	}
	return empty, nil
}

type listTagsIn struct {
	streamRef
	ExclusiveStartTagKey *string `json:"ExclusiveStartTagKey"`
	Limit                *int32  `json:"Limit"`
}

func (in *listTagsIn) check(v *validator) {
	v.IntRange("limit", in.Limit, 1, 50)
	v.Str("exclusiveStartTagKey", in.ExclusiveStartTagKey, 1, 128, nil, "")
	v.streamName("streamName", in.StreamName)
	v.streamARN("streamARN", in.StreamARN)
}

func (c *call) listTags(info stream.StreamInfo, in *listTagsIn) ([]byte, *awsjson.Error) {
	keys := make([]string, 0, len(info.Tags))
	for k := range info.Tags {
		if in.ExclusiveStartTagKey == nil || k > *in.ExclusiveStartTagKey {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	limit := 50
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	more := len(keys) > limit
	if more {
		keys = keys[:limit]
	}
	type tag struct {
		Key   string `json:"Key"`
		Value string `json:"Value"`
	}
	tags := make([]tag, 0, len(keys))
	for _, k := range keys {
		tags = append(tags, tag{k, info.Tags[k]})
	}
	return awsjson.Marshal(map[string]any{"Tags": tags, "HasMoreTags": more})
}

// Tags by ARN, of a stream or a consumer (TagResource and its kin, newer than the
// stream-named ones above).

func (c *call) updateResourceTags(r resource, fn func(map[string]string) error) *awsjson.Error {
	var err error
	switch {
	case r.channel != "":
		_, err = c.h.channels.Update(r.channel, func(ch *Channel) error {
			tags := maps.Clone(ch.Tags)
			if tags == nil {
				tags = map[string]string{}
			}
			if err := fn(tags); err != nil {
				return err
			}
			ch.Tags = tags
			return nil
		})
		if errors.Is(err, ErrChannelNotFound) {
			return channelNotFound(c.channelARN(r.channel))
		}
	case r.consumer != "":
		err = c.h.eng.UpdateConsumerTags(r.stream, r.consumer, fn)
	default:
		err = c.h.eng.UpdateTags(r.stream, fn)
	}
	var ae *awsjson.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, stream.ErrConsumerNotFound):
		return consumerNotFound(r.consumer, r.stream)
	}
	return c.engineError(r.stream, err)
}

type tagResourceIn struct {
	resourceRef
	Tags map[string]string `json:"Tags"`
}

func (in *tagResourceIn) check(v *validator) {
	if v.Required("tags", in.Tags != nil) {
		v.TagMap("tags", in.Tags, tagMapMax)
	}
}

func (c *call) tagResource(r resource, in *tagResourceIn) ([]byte, *awsjson.Error) {
	kind, name := "stream", r.stream
	if r.channel != "" {
		kind, name = "channel", r.channel
	}
	if err := checkResourceTagChars(kind, name, in.Tags); err != nil {
		return nil, err
	}
	aerr := c.updateResourceTags(r, func(tags map[string]string) error {
		return awsjson.MergeTags(tags, in.Tags, tagsPerStream, func() error {
			return awsjson.NewError("InvalidArgumentException", fmt.Sprintf("Failed to add tags to resource %s under account %s because a resource cannot have more than %d tags associated with it.", *in.ResourceARN, awsjson.Account, tagsPerStream))
		})
	})
	if aerr != nil {
		return nil, aerr
	}
	return empty, nil
}

type untagResourceIn struct {
	resourceRef
	TagKeys []string `json:"TagKeys"`
}

func (in *untagResourceIn) check(v *validator) {
	if v.Required("tagKeys", in.TagKeys != nil) {
		v.TagKeyList("tagKeys", in.TagKeys, tagKeysMax)
	}
}

func (c *call) untagResource(r resource, in *untagResourceIn) ([]byte, *awsjson.Error) {
	aerr := c.updateResourceTags(r, func(tags map[string]string) error {
		for _, k := range in.TagKeys {
			delete(tags, k)
		}
		return nil
	})
	if aerr != nil {
		return nil, aerr
	}
	return empty, nil
}

func (c *call) listTagsForResource(r resource, _ *resourceRef) ([]byte, *awsjson.Error) {
	var tags map[string]string
	if r.channel != "" {
		ch, err := c.h.channels.Get(r.channel)
		if err != nil {
			return nil, channelNotFound(c.channelARN(r.channel))
		}
		tags = ch.Tags
	} else if r.consumer != "" {
		ci, err := c.h.eng.Consumer(r.stream, r.consumer)
		if err != nil {
			return nil, consumerNotFound(r.consumer, r.stream)
		}
		tags = ci.Tags
	} else {
		info, _ := c.h.eng.Describe(r.stream)
		tags = info.Tags
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]map[string]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, map[string]string{"Key": k, "Value": tags[k]})
	}
	return awsjson.Marshal(map[string]any{"Tags": out})
}
