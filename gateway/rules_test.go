package gateway

import (
	"strings"
	"testing"
)

func TestNameRules(t *testing.T) {
	for _, id := range []string{"", "abc", "ABCDEFGHIJ", "abcdefghij0", "abc-efghij", "abcdefghi/"} {
		if IsRestAPIID(id) {
			t.Errorf("IsRestAPIID(%q) = true", id)
		}
	}
	if !IsRestAPIID("a1b2c3d4e5") || !IsRestAPIID(NewID()) {
		t.Error("a 10-character id is refused")
	}
	for _, name := range []string{"", "a b", "a.b", "ü", strings.Repeat("a", 129)} {
		if ValidStageName(name) {
			t.Errorf("ValidStageName(%q) = true", name)
		}
	}
	if !ValidStageName("prod_2-x") || !ValidStageName(strings.Repeat("a", 128)) {
		t.Error("a valid stage name is refused")
	}
	for _, tc := range []struct {
		name, value     string
		nameOK, valueOK bool
	}{
		{"color", "blue", true, true},
		{"a-b", "x", false, true},
		{"", "x", false, true},
		{strings.Repeat("a", 65), "x", false, true},
		{"url", "http://h:1/p?q=1&r=2#f,~", true, true},
		{"v", "", true, false},
		{"v", "a b", true, false},
		{"v", strings.Repeat("a", 513), true, false},
	} {
		if n, v := ValidStageVariable(tc.name, tc.value); n != tc.nameOK || v != tc.valueOK {
			t.Errorf("ValidStageVariable(%q, %.20q) = %v, %v", tc.name, tc.value, n, v)
		}
	}
}
