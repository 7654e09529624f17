package lazyre

import (
	"slices"
	"sync"
	"testing"
)

func TestCompiledOnceOnFirstUse(t *testing.T) {
	r := New(`^a(b+)$`)
	if !slices.Contains(All(), r) {
		t.Fatal("All() lacks a pattern just declared")
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if !r.MatchString("abb") || r.MatchString("ac") {
				t.Error("MatchString disagrees with regexp")
			}
		})
	}
	wg.Wait()
	if r.Regexp() != r.Regexp() {
		t.Error("the pattern was compiled more than once")
	}
	if got := r.FindStringSubmatch("abb"); !slices.Equal(got, []string{"abb", "bb"}) {
		t.Errorf("FindStringSubmatch = %q", got)
	}
	if got := New(`b`).ReplaceAllStringFunc("abcb", func(string) string { return "x" }); got != "axcx" {
		t.Errorf("ReplaceAllStringFunc = %q", got)
	}
}

func TestBadPatternPanicsOnFirstUse(t *testing.T) {
	r := New(`(`) // declaring it must not panic: nothing is compiled yet
	defer func() {
		if recover() == nil {
			t.Error("a pattern that does not compile did not panic when used")
		}
	}()
	r.MatchString("x")
}
