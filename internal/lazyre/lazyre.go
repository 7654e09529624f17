// Package lazyre holds package-level regular expressions that are compiled when first used
// instead of while the program starts.
//
// Compiling the validation patterns of every service at package init cost localpipe about a
// megabyte of allocations and a few milliseconds before it could answer its first request,
// and most of those patterns serve control-plane calls a session may never make. A Regexp
// here is declared like regexp.MustCompile's result and used through the same methods.
//
// # Caveats
//
// A pattern that does not compile panics at its first use, not at start-up: All lists every
// pattern declared so far, and a test of the program compiles them all (see
// internal/app's TestPatternsCompile).
package lazyre

import (
	"regexp"
	"sync"
)

// Regexp is a regular expression compiled on first use; it is safe for concurrent use.
type Regexp struct {
	expr string
	re   func() *regexp.Regexp
}

var (
	mu  sync.Mutex
	all []*Regexp
)

// New declares a pattern; it is compiled by regexp.MustCompile when first used.
func New(expr string) *Regexp {
	r := &Regexp{expr: expr, re: sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })}
	mu.Lock()
	all = append(all, r)
	mu.Unlock()
	return r
}

// All returns every pattern declared so far, for a test to compile.
func All() []*Regexp {
	mu.Lock()
	defer mu.Unlock()
	return append([]*Regexp(nil), all...)
}

// Regexp compiles the pattern if it has not been yet, and returns it.
func (r *Regexp) Regexp() *regexp.Regexp { return r.re() }

// String is the pattern's source text.
func (r *Regexp) String() string { return r.expr }

func (r *Regexp) MatchString(s string) bool { return r.re().MatchString(s) }

func (r *Regexp) FindStringSubmatch(s string) []string { return r.re().FindStringSubmatch(s) }

func (r *Regexp) FindAllStringIndex(s string, n int) [][]int {
	return r.re().FindAllStringIndex(s, n)
}

func (r *Regexp) FindAllStringSubmatch(s string, n int) [][]string {
	return r.re().FindAllStringSubmatch(s, n)
}

func (r *Regexp) ReplaceAllString(src, repl string) string {
	return r.re().ReplaceAllString(src, repl)
}

func (r *Regexp) ReplaceAllStringFunc(src string, repl func(string) string) string {
	return r.re().ReplaceAllStringFunc(src, repl)
}
