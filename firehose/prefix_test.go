package firehose

import (
	"strings"
	"testing"
	"time"
)

func TestTimestampPatterns(t *testing.T) {
	at := time.Date(2018, 8, 27, 10, 30, 5, 123456789, time.UTC)
	for _, c := range []struct{ pattern, want string }{
		{"yyyy/MM/dd/HH/", "2018/08/27/10/"},
		{"yy-M-d-H", "18-8-27-10"},
		{"mm:ss.SSS", "30:05.123"},
		{"DDD", "239"},
		{"D", "239"},
		{"EEE, MMM d", "Mon, Aug 27"},
		{"EEEE MMMM", "Monday August"},
		{"h a", "10 AM"},
		{"'year='yyyy'/month='MM", "year=2018/month=08"},
		{"''yyyy''", "'2018'"},
		{"'it''s' yyyy", "it's 2018"},
		{"yyyy[-MM]", "2018-08"},
		{"uuuu", "2018"},
		{"S", "1"},
		{"k K", "10 10"},
		{"YYYY", "2018"},
		{"Z X x XXX xxx", "+0000 Z +00 Z +00:00"},
	} {
		items, err := compileTimestamp(c.pattern)
		if err != nil {
			t.Errorf("%q: %v", c.pattern, err)
			continue
		}
		if got := formatTimestamp(items, at); got != c.want {
			t.Errorf("%q = %q, want %q", c.pattern, got, c.want)
		}
	}
	// 30 December 2018 is a Sunday: its week holds 1 January 2019.
	for day, want := range map[int]string{29: "2018", 30: "2019", 31: "2019"} {
		items, _ := compileTimestamp("YYYY")
		if got := formatTimestamp(items, time.Date(2018, 12, day, 12, 0, 0, 0, time.UTC)); got != want {
			t.Errorf("YYYY on 2018-12-%d = %s, want %s", day, got, want)
		}
	}
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	items, _ := compileTimestamp("Z X XXX")
	if got := formatTimestamp(items, at.In(tokyo)); got != "+0900 +09 +09:00" {
		t.Errorf("Tokyo offset %q", got)
	}
	pm := time.Date(2018, 1, 5, 0, 7, 0, 0, time.UTC)
	items, _ = compileTimestamp("hh:mm a D k")
	if got := formatTimestamp(items, pm); got != "12:07 AM 5 24" {
		t.Errorf("midnight: %q", got)
	}
}

func TestTimestampPatternsBad(t *testing.T) {
	for _, c := range []struct{ pattern, want string }{
		{"yyyy-bb", "Unknown pattern letter: b"}, {"Q", "not supported by localpipe"},
		{"ddd", "Too many pattern letters: d"},
		{"aa", "Too many pattern letters: a"},
		{"MMMMMM", "Too many pattern letters: M"},
		{"DDDD", "Too many pattern letters: D"},
		{"SSSSSSSSSS", "Too many pattern letters: S"},
		{"'open", "incomplete string literal"},
		{"yyyy]", "] without previous ["},
		{"yyyy#", "reserved character: '#'"},
		{"z", "not supported by localpipe"},
		{"ZZZZ", "Too many pattern letters: Z"},
	} {
		_, err := compileTimestamp(c.pattern)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.pattern, err, c.want)
		}
	}
}

// TestPrefixExamples evaluates the developer guide's example prefixes (s3-prefixes, "Example
// prefixes"), at the instants their rows use.
func TestPrefixExamples(t *testing.T) {
	at := time.Date(2018, 8, 27, 10, 30, 0, 0, time.UTC)
	rnd := func() string { return "5abf82daaa5" }
	for _, c := range []struct {
		prefix, errPrefix string
		t                 time.Time
		want, wantErr     string
	}{
		{"", "myFirehoseFailures/!{firehose:error-output-type}/", at, "2018/08/27/10/", "myFirehoseFailures/processing-failed/"},
		{"myFirehose/DeliveredYear=!{timestamp:yyyy}/anyMonth/rand=!{firehose:random-string}",
			"myFirehoseFailures/!{firehose:error-output-type}/!{timestamp:yyyy}/anyMonth/!{timestamp:dd}",
			time.Date(2018, 8, 10, 0, 0, 0, 0, time.UTC),
			"myFirehose/DeliveredYear=2018/anyMonth/rand=5abf82daaa5", "myFirehoseFailures/processing-failed/2018/anyMonth/10"},
		{"myPrefix/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/",
			"myErrorPrefix/!{timestamp:'year='yyyy'/month='MM'/day='dd'/hour='HH}/!{firehose:error-output-type}",
			time.Date(2018, 7, 6, 23, 0, 0, 0, time.UTC),
			"myPrefix/year=2018/month=07/day=06/hour=23/", "myErrorPrefix/year=2018/month=07/day=06/hour=23/processing-failed"},
		// A literal prefix gets the time path appended directly; the error prefix is derived.
		{"myFirehosePrefix/", "", at, "myFirehosePrefix/2018/08/27/10/", "myFirehosePrefix/processing-failed/2018/08/27/10/"},
		{"logs", "", at, "logs2018/08/27/10/", "logsprocessing-failed/2018/08/27/10/"},
	} {
		if err := CheckPrefixes(c.prefix, c.errPrefix, false); err != nil {
			t.Errorf("%q %q: %v", c.prefix, c.errPrefix, err)
			continue
		}
		p, err := layoutPrefix(c.prefix)
		if err != nil {
			t.Fatal(err)
		}
		got, err := p.eval(prefixEnv{t: c.t, random: rnd})
		if err != nil || got != c.want {
			t.Errorf("Prefix %q = %q %v, want %q", c.prefix, got, err, c.want)
		}
		ep, err := layoutErrorPrefix(c.prefix, c.errPrefix)
		if err != nil {
			t.Fatal(err)
		}
		got, err = ep.eval(prefixEnv{t: c.t, errType: errProcessing, random: rnd})
		if err != nil || got != c.wantErr {
			t.Errorf("ErrorOutputPrefix %q = %q %v, want %q", c.errPrefix, got, err, c.wantErr)
		}
	}
}

func TestPartitionedPrefix(t *testing.T) {
	prefix := "customer_id=!{partitionKeyFromQuery:customer_id}/device=!{partitionKeyFromQuery:device}/"
	if err := CheckPrefixes(prefix, "errors/!{firehose:error-output-type}/", true); err != nil {
		t.Fatal(err)
	}
	p, _ := layoutPrefix(prefix)
	got, err := p.eval(prefixEnv{keys: map[string]string{"customer_id": "1234567890", "device": "mobile"}})
	if err != nil || got != "customer_id=1234567890/device=mobile/" {
		t.Errorf("%q %v", got, err)
	}
	if _, err := p.eval(prefixEnv{keys: map[string]string{"customer_id": "1"}}); err == nil {
		t.Error("a missing key evaluated")
	}
	long := map[string]string{"customer_id": strings.Repeat("x", 600), "device": "d"}
	if _, err := p.eval(prefixEnv{keys: long}); err == nil {
		t.Error("a 600-character prefix evaluated")
	}
}

func TestCheckPrefixesBad(t *testing.T) {
	const c = constraintMsg
	for _, tc := range []struct {
		prefix, errPrefix string
		partitioned       bool
		want              string
	}{
		// Verified AWS text (terraform-provider-aws#13416, serverless#6015).
		{"!{timestamp:yyyy/MM/dd}", "", false, "Ths supplied prefix(es) do not satisfy the following constraint: ErrorOutputPrefix cannot be null or empty when Prefix contains expressions"},
		{"a/!{firehose:random-string}/", "", false, c + "ErrorOutputPrefix cannot be null or empty"},
		{"a/", "err/!{timestamp:yyyy}/", false, c + "ErrorOutputPrefix must contain !{firehose:error-output-type}"},
		{"a/!{firehose:error-output-type}/", "e/!{firehose:error-output-type}", false, c + "Prefix can't contain !{firehose:error-output-type}"},
		{"a/!{partitionKeyFromQuery:k}/", "e/!{firehose:error-output-type}", false, "only when dynamic partitioning is enabled"},
		{"a/!{timestamp:yyyy}/", "e/!{firehose:error-output-type}", true, "must contain at least one !{partitionKeyFromQuery"},
		{"a/!{partitionKeyFromQuery:k}/", "e/!{firehose:error-output-type}/!{partitionKeyFromQuery:k}", true, c + "ErrorOutputPrefix can't contain !{partitionKeyFromQuery"},
		{"a/!{partitionKeyFromLambda:k}/", "e/!{firehose:error-output-type}", true, "only when dynamic partitioning is enabled with a Lambda processor"},
		{strings.Repeat("p", 513), "", false, c + "Prefix can't be greater than 512 characters"},
		{"a/", strings.Repeat("e", 513), false, c + "ErrorOutputPrefix can't be greater than 512 characters"},
		{"a/!{timestamp:yyyy", "e/", false, c + "The sequence !{ in Prefix can only appear in !{namespace:value} expressions"},
		{"a/!{timestamp}/", "e/", false, "can only appear in !{namespace:value} expressions, not !{timestamp}"},
		{"a/!{:x}/", "e/", false, "can only appear in !{namespace:value}"},
		{"a/!{timestamp:}/", "e/", false, "can only appear in !{namespace:value}"},
		{"a/!{foo:bar}/", "e/!{firehose:error-output-type}", false, `unknown namespace "foo"`},
		{"a/!{firehose:uuid}/", "e/!{firehose:error-output-type}", false, "!{firehose:uuid} in Prefix is not valid"},
		{"a/!{timestamp:yyyy-bb}/", "e/!{firehose:error-output-type}", false, "!{timestamp:yyyy-bb} in Prefix is not a valid Java DateTimeFormatter pattern: Unknown pattern letter: b"},
		{"a/", "e/!{timestamp:dddd}/!{firehose:error-output-type}", false, "in ErrorOutputPrefix is not a valid Java DateTimeFormatter pattern: Too many pattern letters: d"},
	} {
		err := CheckPrefixes(tc.prefix, tc.errPrefix, tc.partitioned)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("CheckPrefixes(%.40q, %.40q, %v) = %v, want %q", tc.prefix, tc.errPrefix, tc.partitioned, err, tc.want)
		}
	}
	for _, ok := range [][2]string{{"", ""}, {"plain/", ""}, {"plain/", "errors/"}, {"!{firehose:random-string}/", "e/!{firehose:error-output-type}"}} {
		if err := CheckPrefixes(ok[0], ok[1], false); err != nil {
			t.Errorf("CheckPrefixes(%q, %q): %v", ok[0], ok[1], err)
		}
	}
}

func FuzzPrefix(f *testing.F) {
	for _, s := range []string{"", "a/", "!{timestamp:yyyy/MM/dd}", "x!{firehose:random-string}!{partitionKeyFromQuery:k}",
		"!{timestamp:'q''x'[D]EEE a}", "!{", "!{a:b", "}!{}", "!{timestamp:'}", "!{firehose:error-output-type}"} {
		f.Add(s)
	}
	at := time.Date(2026, 3, 23, 9, 51, 59, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		CheckPrefixes(s, s, true)
		CheckPrefixes(s, "", false)
		p, err := layoutPrefix(s)
		if err != nil {
			return
		}
		p.eval(prefixEnv{t: at, errType: errProcessing, keys: map[string]string{"k": "v"}, random: func() string { return "r" }})
	})
}
