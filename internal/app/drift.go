package app

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// A config entry names a resource that may exist already, from an earlier start with a
// different config. Creating it again is skipped (ResourceInUseException), so a changed
// CompressionFormat would otherwise be ignored without a word: warnDrift says which members
// differ from what exists and how to apply them. What AWS lets a user change is changed the
// way a user would, when AWS's limits allow it: a stream's mode with UpdateStreamMode and its
// shard count with UpdateShardCount, a delivery stream's destination with UpdateDestination.

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
	// The mode first: a stream made PROVISIONED keeps its shard count, which the config may
	// then change.
	sort.SliceStable(found, func(i, j int) bool { return found[i].path == "StreamModeDetails.StreamMode" })
	for _, d := range found {
		switch d.path {
		case "StreamModeDetails.StreamMode":
			arn, _ := have["StreamARN"].(string)
			d.why = a.applyChange(ctx, a.kinesis.Invoke, "UpdateStreamMode", mustJSON(map[string]any{
				"StreamARN": arn, "StreamModeDetails": map[string]any{"StreamMode": d.want}}),
				where, "stream", name, []diff{d})
		case "OpenShardCount":
			d.path = "ShardCount"
			d.why = a.applyChange(ctx, a.kinesis.Invoke, "UpdateShardCount", mustJSON(map[string]any{
				"StreamName": name, "TargetShardCount": d.want, "ScalingType": "UNIFORM_SCALING"}),
				where, "stream", name, []diff{d})
		}
		if d.why != "" || d.path != "ShardCount" && d.path != "StreamModeDetails.StreamMode" {
			kept = append(kept, d)
		}
	}
	a.warnDrift(where, "stream", name, kept)
}

// applyChange makes the call that applies changed config members, as a user would, and
// returns why it was refused ("" once applied).
func (a *App) applyChange(ctx context.Context, invoke func(context.Context, string, []byte, string) (int, string, []byte),
	op string, in []byte, where, kind, name string, changed []diff) string {
	status, _, body := invoke(ctx, op, in, "")
	if status != 200 {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		json.Unmarshal(body, &e)
		return op + ": " + e.Type + ": " + e.Message
	}
	for _, d := range changed {
		a.logger.Info(fmt.Sprintf("--config %s: the %s %s had a different %s; %s applies the config's", where, kind, name, d.path, op),
			"config", jsonText(d.want), "existing", jsonText(d.existing))
	}
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
			VersionId          string
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
	for _, m := range []struct{ config, desc, update string }{
		{"ExtendedS3DestinationConfiguration", "ExtendedS3DestinationDescription", "ExtendedS3DestinationUpdate"},
		{"S3DestinationConfiguration", "S3DestinationDescription", "S3DestinationUpdate"},
	} {
		want, _ := cfg[m.config].(map[string]any)
		have, _ := d.Destinations[0][m.desc].(map[string]any)
		if want == nil || have == nil {
			continue
		}
		changed := diffs(m.config+".", want, have)
		// UpdateDestination takes the members that differ, whole (it replaces a member it is
		// given); the backup configuration is the one member it names differently.
		update := map[string]any{}
		var applicable, fixed []diff
		for _, c := range changed {
			top, _, _ := strings.Cut(strings.TrimPrefix(c.path, m.config+"."), ".")
			if top == "S3BackupConfiguration" {
				fixed = append(fixed, c)
				continue
			}
			update[top] = want[top]
			applicable = append(applicable, c)
		}
		if len(update) > 0 {
			destID, _ := d.Destinations[0]["DestinationId"].(string)
			why := a.applyChange(ctx, a.firehoseAPI.Invoke, "UpdateDestination", mustJSON(map[string]any{
				"DeliveryStreamName": name, "CurrentDeliveryStreamVersionId": d.VersionId, "DestinationId": destID,
				m.update: update}), where, "delivery stream", name, applicable)
			if why != "" {
				for i := range applicable {
					applicable[i].why = why
				}
				fixed = append(fixed, applicable...)
			}
		}
		found = append(found, fixed...)
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
