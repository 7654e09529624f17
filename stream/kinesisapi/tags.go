package kinesisapi

import (
	"fmt"
	"sort"
	"strings"

	"github.com/localpipe/localpipe/internal/awsjson"
)

// checkTagChars applies AWS's two character rules to tags, with their texts (kinesalite
// recorded both): a set of allowed characters, and then, although that set lists it, no '%'.
func checkTagChars(name string, tags map[string]string) *awsjson.Error {
	percent := false
	for k, v := range tags {
		if !awsjson.TagChars(k) || !awsjson.TagChars(v) {
			return awsjson.NewError("InvalidArgumentException", "Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @ :.")
		}
		percent = percent || strings.Contains(k, "%") || strings.Contains(v, "%")
	}
	if percent {
		return awsjson.NewError("InvalidArgumentException", fmt.Sprintf("Failed to add tags to stream %s under account %s because some tags contained illegal characters. The allowed characters are Unicode letters, white-spaces, '_',',','/','=','+','-','@',':'.", name, awsjson.Account))
	}
	return nil
}

// tooManyTags is AWS's answer to a stream passing 50 tags; an InvalidArgumentException, not a
// LimitExceededException (kinesalite's tests against AWS record the type).
func tooManyTags(name string) *awsjson.Error {
	return awsjson.NewError("InvalidArgumentException", fmt.Sprintf("Failed to add tags to stream %s under account %s because a given stream cannot have more than %d tags associated with it.", name, awsjson.Account, tagsPerStream))
}

func (c *call) addTags(body []byte) ([]byte, *awsjson.Error) {
	var in struct {
		streamRef
		Tags map[string]string `json:"Tags"`
	}
	if err := awsjson.Decode(body, &in); err != nil {
		return nil, err
	}
	var v validator
	if v.Required("tags", in.Tags != nil) {
		v.TagMap("tags", in.Tags, tagMapMax)
	}
	v.streamName("streamName", in.StreamName)
	v.streamARN("streamARN", in.StreamARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	name, aerr := c.target(in.StreamName, in.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := c.active(name); aerr != nil {
		return nil, aerr
	}
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

func (c *call) removeTags(body []byte) ([]byte, *awsjson.Error) {
	var in struct {
		streamRef
		TagKeys []string `json:"TagKeys"`
	}
	if err := awsjson.Decode(body, &in); err != nil {
		return nil, err
	}
	var v validator
	if v.Required("tagKeys", in.TagKeys != nil) {
		v.TagKeyList("tagKeys", in.TagKeys, tagKeysMax)
	}
	v.streamName("streamName", in.StreamName)
	v.streamARN("streamARN", in.StreamARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	name, aerr := c.target(in.StreamName, in.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := c.active(name); aerr != nil {
		return nil, aerr
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

func (c *call) listTags(body []byte) ([]byte, *awsjson.Error) {
	var in struct {
		streamRef
		ExclusiveStartTagKey *string `json:"ExclusiveStartTagKey"`
		Limit                *int32  `json:"Limit"`
	}
	if err := awsjson.Decode(body, &in); err != nil {
		return nil, err
	}
	var v validator
	v.IntRange("limit", in.Limit, 1, 50)
	v.Str("exclusiveStartTagKey", in.ExclusiveStartTagKey, 1, 128, nil, "")
	v.streamName("streamName", in.StreamName)
	v.streamARN("streamARN", in.StreamARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	info, aerr := c.describe(in.StreamName, in.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
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
