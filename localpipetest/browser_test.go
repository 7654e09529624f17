package localpipetest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/localpipe/localpipe/localpipetest"
)

// skipLoudly skips, and says so on stderr as well, so a CI log without -v still shows it.
func skipLoudly(t *testing.T, format string, a ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, a...)
	fmt.Fprintf(os.Stderr, "SKIP %s: %s\n", t.Name(), msg)
	t.Skip(msg)
}

// TestReactAppInChromium is the seed's React app against the seed pipeline, as a person uses
// it: the Vite build, served from its own origin (so the browser's CORS rules apply, as on
// AWS), driven in headless Chromium to type a message and click Send; then the message must
// be in the Kinesis stream. .ci/run installs chromium and the app's npm packages.
func TestReactAppInChromium(t *testing.T) {
	chromium := os.Getenv("LOCALPIPE_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		skipLoudly(t, "no Chromium at %s (.ci/run installs Debian's chromium): %v", chromium, err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		skipLoudly(t, "no node on PATH: %v", err)
	}
	app, _ := filepath.Abs("../examples/seed/react")
	vite := filepath.Join(app, "node_modules", ".bin", "vite")
	if _, err := os.Stat(vite); err != nil {
		if out, err := exec.Command("npm", "ci", "--prefix", app, "--no-audit", "--no-fund", "--loglevel=error").CombinedOutput(); err != nil {
			skipLoudly(t, "npm ci in %s failed (.ci/run runs it): %v\n%s", app, err, out)
		}
	}

	srv := localpipetest.Start(t, localpipetest.ConfigFile("../examples/seed/localpipe.yaml"))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// The API URL is baked into the bundle at build time, as with any Vite app.
	dist := t.TempDir()
	build := exec.CommandContext(ctx, vite, "build", "--outDir", dist, "--emptyOutDir", "--logLevel", "warn")
	build.Dir = app
	build.Env = append(os.Environ(), "VITE_API_URL="+srv.InvokeURL("seedapi001", "prod", "/stream"))
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("vite build: %v\n%s", err, out)
	}
	page := httptest.NewServer(http.FileServer(http.Dir(dist)))
	defer page.Close()

	message := fmt.Sprintf("hello from Chromium, %d", time.Now().UnixNano())
	send := exec.CommandContext(ctx, node, filepath.Join(app, "e2e", "send.mjs"), page.URL, message, chromium)
	send.Dir = app
	var stdout, stderr strings.Builder
	send.Stdout, send.Stderr = &stdout, &stderr
	err = send.Run()
	if got := strings.TrimSpace(stdout.String()); err != nil || got != "Data sent successfully: 200" {
		t.Fatalf("the page said %q (%v)\n%s", got, err, stderr.String())
	}

	var found bool
	for _, r := range srv.Records("my-data-stream") {
		var body struct{ Message string }
		if json.Unmarshal(r.Data, &body) == nil && body.Message == message {
			found = true
		}
	}
	if !found {
		t.Fatalf("%q is not in my-data-stream", message)
	}
}
