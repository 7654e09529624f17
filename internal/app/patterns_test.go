package app

import (
	"regexp"
	"testing"

	"github.com/localpipe/localpipe/internal/lazyre"
)

// TestPatternsCompile compiles every pattern the services declared with lazyre: they are
// compiled on first use, so a bad one would otherwise surface only when a request needs it.
// This package links every service, so All holds all of them.
func TestPatternsCompile(t *testing.T) {
	all := lazyre.All()
	if len(all) < 30 {
		t.Fatalf("lazyre.All() has %d patterns; the services declare more than 30", len(all))
	}
	for _, r := range all {
		if _, err := regexp.Compile(r.String()); err != nil {
			t.Errorf("pattern %q: %v", r.String(), err)
		}
	}
}
