package app

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
)

// A config entry names a resource that may exist already, from an earlier start with a
// different config. Creating it again is skipped (ResourceInUseException), so a changed
// CompressionFormat would otherwise be ignored without a word: warnDrift says which members
// differ from what exists and how to apply them. A changed ShardCount is applied, with
// UpdateShardCount as a user would, when AWS's limits allow it.

// warnStreamDrift compares a streams entry with the stream of its name.
func (a *App) warnStreamDrift(ctx context.Context, where string, raw json.RawMessage) {
	var cfg map[string]any
	if json.Unmarshal(raw, &cfg) != nil {
		return
	}
	name, _ := cfg["StreamName"].(string)
	status, _, body := a.kinesis.Invoke(ctx, "DescribeStreamSummary", mustJSON(map[string]string{"StreamName": name}), "")
	var out struct{ StreamDescriptionSummary map[string]any }
	if status != 200 || json.Unmarshal(body, &out) != nil || out.StreamDescriptionSummary == nil {
		return
	}
	have := out.StreamDescriptionSummary
	// CreateStream's members and the description's differ in name only here. Without
	// ShardCount or a mode AWS makes an on-demand stream, so that is what the entry asks for.
	if n, ok := cfg["ShardCount"]; ok {
		cfg["OpenShardCount"] = n
		delete(cfg, "ShardCount")
	}
	if _, ok := cfg["StreamModeDetails"]; !ok {
		mode := "ON_DEMAND"
		if _, ok := cfg["OpenShardCount"]; ok {
			mode = "PROVISIONED"
		}
		cfg["StreamModeDetails"] = map[string]any{"StreamMode": mode}
	}
	found := diffs("", cfg, have)
	kept := found[:0]
	for _, d := range found {
		if d.path == "OpenShardCount" {
			d.path = "ShardCount"
			if d.why = a.applyShardCount(ctx, where, name, d); d.why == "" {
				continue
			}
		}
		kept = append(kept, d)
	}
	a.warnDrift(where, "stream", name, kept)
}

// applyShardCount asks for the config's shard count with UpdateShardCount, and returns why
// it was refused ("" once applied).
func (a *App) applyShardCount(ctx context.Context, where, name string, d diff) string {
	status, _, body := a.kinesis.Invoke(ctx, "UpdateShardCount",
		mustJSON(map[string]any{"StreamName": name, "TargetShardCount": d.want, "ScalingType": "UNIFORM_SCALING"}), "")
	if status != 200 {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		json.Unmarshal(body, &e)
		return "UpdateShardCount: " + e.Type + ": " + e.Message
	}
	a.logger.Info(fmt.Sprintf("--config %s: the stream %s had a different ShardCount; UpdateShardCount applies the config's", where, name),
		"config", jsonText(d.want), "existing", jsonText(d.existing))
	return ""
}

// warnDeliveryStreamDrift compares a deliveryStreams entry with the delivery stream of its
// name.
func (a *App) warnDeliveryStreamDrift(ctx context.Context, where string, raw json.RawMessage) {
	var cfg map[string]any
	if json.Unmarshal(raw, &cfg) != nil {
		return
	}
	name, _ := cfg["DeliveryStreamName"].(string)
	status, _, body := a.firehoseAPI.Invoke(ctx, "DescribeDeliveryStream", mustJSON(map[string]string{"DeliveryStreamName": name}), "")
	var out struct {
		DeliveryStreamDescription struct {
			DeliveryStreamType string
			Destinations       []map[string]any
		}
	}
	if status != 200 || json.Unmarshal(body, &out) != nil || len(out.DeliveryStreamDescription.Destinations) == 0 {
		return
	}
	d := out.DeliveryStreamDescription
	var found []diff
	if t, ok := cfg["DeliveryStreamType"].(string); ok && t != d.DeliveryStreamType {
		found = append(found, diff{path: "DeliveryStreamType", want: t, existing: d.DeliveryStreamType})
	}
	for member, desc := range map[string]string{
		"ExtendedS3DestinationConfiguration": "ExtendedS3DestinationDescription",
		"S3DestinationConfiguration":         "S3DestinationDescription",
	} {
		want, _ := cfg[member].(map[string]any)
		have, _ := d.Destinations[0][desc].(map[string]any)
		if want != nil && have != nil {
			found = append(found, diffs(member+".", want, have)...)
		}
	}
	a.warnDrift(where, "delivery stream", name, found)
}

type diff struct {
	path           string
	want, existing any
	why            string // why it could not be applied, if that was tried
}

// diffs lists the members of want whose value in have differs. Members have does not
// describe are not compared: nothing can be said of them.
func diffs(prefix string, want, have map[string]any) []diff {
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []diff
	for _, k := range keys {
		h, ok := have[k]
		if !ok {
			continue
		}
		wm, wIsMap := want[k].(map[string]any)
		hm, hIsMap := h.(map[string]any)
		switch {
		case wIsMap && hIsMap:
			out = append(out, diffs(prefix+k+".", wm, hm)...)
		case !reflect.DeepEqual(want[k], h):
			out = append(out, diff{path: prefix + k, want: want[k], existing: h})
		}
	}
	return out
}

func (a *App) warnDrift(where, kind, name string, found []diff) {
	for _, d := range found {
		attrs := []any{"config", jsonText(d.want), "existing", jsonText(d.existing)}
		if d.why != "" {
			attrs = append(attrs, "reason", d.why)
		}
		attrs = append(attrs, "hint", fmt.Sprintf("to apply the config, run `localpipe reset` (deletes all data) or delete the %s and restart", kind))
		a.logger.Warn(fmt.Sprintf("--config %s: the %s %s exists with a different %s; it is kept as it is", where, kind, name, d.path), attrs...)
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func jsonText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return string(mustJSON(v))
}
