package localpipetest_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

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

// corsPage uploads through a presigned PUT URL and reads the object back, from its own
// origin, and shows what happened in #out.
const corsPage = `<html><body><div id="out">pending</div><script>
(async () => {
  const out = document.getElementById("out");
  try {
    const put = await fetch(%q, {method: "PUT", headers: {"Content-Type": "text/plain"}, body: "from the browser"});
    const get = await fetch(%q);
    out.textContent = "put " + put.status + " etag " + put.headers.get("ETag") + " get " + get.status + " " + await get.text();
  } catch (e) {
    out.textContent = "error " + e;
  }
})();
</script></body></html>`

// TestS3CORSInChromium is a page on another origin uploading with a presigned URL, as a
// browser app does: Chromium sends the CORS preflight S3 must answer from the bucket's CORS
// rules, then the PUT, and must be allowed to read the ETag and the object. Without rules
// the browser must refuse, as it does against AWS.
func TestS3CORSInChromium(t *testing.T) {
	chromium := os.Getenv("LOCALPIPE_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		skipLoudly(t, "no Chromium at %s (.ci/run installs Debian's chromium): %v", chromium, err)
	}
	srv := localpipetest.Start(t, localpipetest.Bucket("web"))
	ctx := context.Background()
	presigned, err := s3.NewPresignClient(srv.S3()).PresignPutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("web"), Key: aws.String("up.txt"), ContentType: aws.String("text/plain")})
	if err != nil {
		t.Fatal(err)
	}
	objectURL := srv.Endpoint + "/web/up.txt"
	html := fmt.Sprintf(corsPage, presigned.URL, objectURL)
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, html)
	}))
	defer page.Close()
	visit := func() string {
		t.Helper()
		cctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		cmd := exec.CommandContext(cctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
			"--virtual-time-budget=15000", "--dump-dom", page.URL)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("chromium: %v", err)
		}
		_, rest, _ := strings.Cut(string(out), `<div id="out">`)
		text, _, _ := strings.Cut(rest, "</div>")
		return text
	}

	if got := visit(); !strings.HasPrefix(got, "error ") {
		t.Fatalf("without CORS rules the page said %q; the browser must refuse", got)
	}
	_, err = srv.S3().PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: aws.String("web"), CORSConfiguration: &s3types.CORSConfiguration{
		CORSRules: []s3types.CORSRule{{AllowedOrigins: []string{page.URL}, AllowedMethods: []string{"PUT", "GET"},
			AllowedHeaders: []string{"*"}, ExposeHeaders: []string{"ETag"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := visit(); got != `put 200 etag "`+md5hex("from the browser")+`" get 200 from the browser` {
		t.Fatalf("with CORS rules the page said %q", got)
	}
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}
