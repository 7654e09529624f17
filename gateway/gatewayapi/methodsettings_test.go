package gatewayapi

import "testing"

func TestMethodSettingPath(t *testing.T) {
	for _, tc := range []struct {
		path, key, setting string
		ok                 bool
	}{
		{"/*/*/throttling/rateLimit", "*/*", "throttling/rateLimit", true},
		{"/*/*", "*/*", "", true},
		{"/stream/POST/throttling/burstLimit", "stream/POST", "throttling/burstLimit", true},
		{"/~1stream/POST/metrics/enabled", "stream/POST", "metrics/enabled", true},
		{"/~1items~1{id}/GET/caching/ttlInSeconds", "items/{id}/GET", "caching/ttlInSeconds", true},
		{"/items/{id}/GET/logging/loglevel", "items/{id}/GET", "logging/loglevel", true},
		{"/~1/GET/throttling/rateLimit", "/GET", "throttling/rateLimit", true},
		// Not method settings: the stage's own fields, and paths with no method in them.
		{"/description", "", "", false},
		{"/variables/GET", "", "", false},
		{"/variables/color", "", "", false},
		{"/stream/POST/throttling", "", "", false},
		{"/stream/POST/throttling/rateLimit/x", "", "", false},
		{"/stream/throttling/rateLimit", "", "", false},
		{"", "", "", false},
		{"//", "", "", false},
	} {
		key, setting, ok := methodSettingPath(tc.path)
		if key != tc.key || setting != tc.setting || ok != tc.ok {
			t.Errorf("%q: %q %q %v, want %q %q %v", tc.path, key, setting, ok, tc.key, tc.setting, tc.ok)
		}
	}
}

func TestApplyMethodSettingBadInput(t *testing.T) {
	v := func(s string) *string { return &s }
	for _, tc := range []struct {
		op      patchOp
		setting string
	}{
		{patchOp{Op: "replace", Path: "/*/*/throttling/rateLimit", Value: v("fast")}, "throttling/rateLimit"},
		{patchOp{Op: "replace", Path: "/*/*/throttling/rateLimit", Value: v("NaN")}, "throttling/rateLimit"},
		{patchOp{Op: "replace", Path: "/*/*/throttling/burstLimit", Value: v("1.5")}, "throttling/burstLimit"},
		{patchOp{Op: "replace", Path: "/*/*/metrics/enabled", Value: v("yes")}, "metrics/enabled"},
		{patchOp{Op: "replace", Path: "/*/*/logging/loglevel", Value: v("DEBUG")}, "logging/loglevel"},
		{patchOp{Op: "replace", Path: "/*/*/bogus/setting", Value: v("1")}, "bogus/setting"},
		{patchOp{Op: "add", Path: "/*/*/metrics/enabled", Value: v("true")}, "metrics/enabled"},
		{patchOp{Op: "replace", Path: "/*/*/metrics/enabled"}, "metrics/enabled"},
		{patchOp{Op: "replace", Path: "/*/*", Value: v("x")}, ""},
	} {
		settings := map[string]*methodSetting{}
		if cerr := applyMethodSetting(settings, tc.op, "*/*", tc.setting); cerr == nil || cerr.status != 400 || len(settings) != 0 {
			t.Errorf("%+v: %v, settings %v; want a 400 that changes nothing", tc.op, cerr, settings)
		}
	}
}

// FuzzMethodSettingPath: any patch path splits or is refused, and never panics.
func FuzzMethodSettingPath(f *testing.F) {
	for _, s := range []string{"/*/*/throttling/rateLimit", "/~1a~1{b+}/ANY/caching/enabled", "/~1/GET", "/a/b/c/d/e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		if key, setting, ok := methodSettingPath(path); ok && key == "" {
			t.Fatalf("%q: ok with an empty key (setting %q)", path, setting)
		}
	})
}
