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
// ShardCount or CompressionFormat would otherwise be ignored without a word: warnDrift says
// which members differ from what exists and how to apply them.

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
	for i := range found {
		if found[i].path == "OpenShardCount" {
			found[i].path = "ShardCount"
		}
	}
	a.warnDrift(where, "stream", name, found)
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
		found = append(found, diff{"DeliveryStreamType", t, d.DeliveryStreamType})
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
			out = append(out, diff{prefix + k, want[k], h})
		}
	}
	return out
}

func (a *App) warnDrift(where, kind, name string, found []diff) {
	for _, d := range found {
		a.logger.Warn(fmt.Sprintf("--config %s: the %s %s exists with a different %s; it is kept as it is", where, kind, name, d.path),
			"config", jsonText(d.want), "existing", jsonText(d.existing),
			"hint", fmt.Sprintf("to apply the config, run `localpipe reset` (deletes all data) or delete the %s and restart", kind))
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
