package localpipetest_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/localpipe/localpipe/localpipetest"
)

// devtools drives a headless Chromium over --remote-debugging-pipe: DevTools protocol
// messages, NUL-terminated JSON, on the browser's file descriptors 3 (in) and 4 (out). It
// needs no library and no port.
type devtools struct {
	t       *testing.T
	in      io.Writer
	out     *bufio.Reader
	id      int
	session string
	waiting string // the condition waitFor waits for, to name when the deadline ends it
}

// startChromium launches the browser at chromium; ctx's end kills it, which ends any read
// waiting on it.
func startChromium(t *testing.T, ctx context.Context, chromium string) *devtools {
	t.Helper()
	toBrowser, browserIn, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	browserOut, fromBrowser, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	// The profile dir is removed here rather than by t.TempDir: the browser's helper
	// processes outlive the killed browser for a moment and may still be writing to it.
	profile, err := os.MkdirTemp("", "localpipe-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--no-first-run", "--remote-debugging-pipe", "--window-size=1280,900", "--user-data-dir="+profile, "about:blank")
	cmd.ExtraFiles = []*os.File{toBrowser, fromBrowser}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The browser holds its ends; closing ours lets its exit end our reads.
	toBrowser.Close()
	fromBrowser.Close()
	t.Cleanup(func() {
		browserIn.Close()
		cmd.Process.Kill()
		cmd.Wait()
		browserOut.Close()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			err := os.RemoveAll(profile)
			if err == nil {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("removing the browser profile: %v", err)
				return
			}
		}
	})
	d := &devtools{t: t, in: browserIn, out: bufio.NewReader(browserOut)}
	var target struct{ TargetID string }
	d.call("Target.createTarget", map[string]any{"url": "about:blank"}, &target)
	var attached struct{ SessionID string }
	d.call("Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached)
	d.session = attached.SessionID
	return d
}

// call sends one command and waits for its answer, skipping events.
func (d *devtools) call(method string, params, result any) {
	d.t.Helper()
	d.id++
	msg := map[string]any{"id": d.id, "method": method, "params": params}
	if d.session != "" {
		msg["sessionId"] = d.session
	}
	b, _ := json.Marshal(msg)
	if _, err := d.in.Write(append(b, 0)); err != nil {
		d.t.Fatalf("devtools %s: %v", method, err)
	}
	for {
		raw, err := d.out.ReadBytes(0)
		if err != nil {
			d.t.Fatalf("devtools %s: the browser stopped answering (%v) while waiting for %s", method, err, d.waiting)
		}
		var resp struct {
			ID     int
			Result json.RawMessage
			Error  *struct{ Message string }
		}
		if err := json.Unmarshal(raw[:len(raw)-1], &resp); err != nil {
			d.t.Fatalf("devtools %s: %v", method, err)
		}
		if resp.ID != d.id {
			continue // an event
		}
		if resp.Error != nil {
			d.t.Fatalf("devtools %s: %s", method, resp.Error.Message)
		}
		if result != nil {
			if err := json.Unmarshal(resp.Result, result); err != nil {
				d.t.Fatalf("devtools %s: %v", method, err)
			}
		}
		return
	}
}

// eval runs JavaScript in the page (awaiting a promise it returns) and returns its value.
func (d *devtools) eval(expr string) any {
	d.t.Helper()
	var res struct {
		Result           struct{ Value any }
		ExceptionDetails *struct {
			Text      string
			Exception struct{ Description string }
		}
	}
	d.call("Runtime.evaluate", map[string]any{"expression": expr, "awaitPromise": true, "returnByValue": true}, &res)
	if e := res.ExceptionDetails; e != nil {
		d.t.Fatalf("in the page: %s %s\n%s", e.Text, e.Exception.Description, expr)
	}
	return res.Result.Value
}

// waitFor waits until the page's JavaScript condition holds, woken by each change to the
// page; the test's deadline ends a wait for something that never comes.
func (d *devtools) waitFor(cond string) {
	d.t.Helper()
	d.waiting = cond
	defer func() { d.waiting = "" }()
	d.eval(`new Promise((done) => {
		const ok = () => { try { return (` + cond + `); } catch (e) { return false; } };
		if (ok()) return done(true);
		const o = new MutationObserver(() => { if (ok()) { o.disconnect(); done(true); } });
		o.observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
	})`)
}

// screenshot saves the page as dir/name.
func (d *devtools) screenshot(dir, name string) {
	d.t.Helper()
	var shot struct{ Data string }
	d.call("Page.captureScreenshot", map[string]any{"format": "png"}, &shot)
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil {
		d.t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		d.t.Fatal(err)
	}
	d.t.Logf("screenshot: %s", path)
}

// TestConsoleInChromium is the web console as a person uses it: open it, find the stream,
// watch a record sent through the API arrive, then search for that request's id and follow
// its trace to the S3 object Firehose wrote, and read the object there. Screenshots go to
// $LOCALPIPE_ARTIFACTS (or the test's temp dir).
func TestConsoleInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a browser")
	}
	chromium := os.Getenv("LOCALPIPE_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		skipLoudly(t, "no Chromium at %s (.ci/run installs Debian's chromium): %v", chromium, err)
	}
	artifacts := os.Getenv("LOCALPIPE_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	} else if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	srv := localpipetest.Start(t, localpipetest.ConfigFile("../examples/seed/localpipe.yaml"))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	page := startChromium(t, ctx, chromium)
	js := func(s string) string { b, _ := json.Marshal(s); return string(b) }

	page.call("Page.navigate", map[string]any{"url": srv.Endpoint + "/_localpipe/ui/"}, nil)
	page.waitFor(`document.querySelector('a[href="#/streams/my-data-stream"]')`)
	page.eval(`document.querySelector('a[href="#/streams/my-data-stream"]').click()`)
	page.waitFor(`document.getElementById("stream-name")?.textContent === "my-data-stream" && document.getElementById("live").textContent === "live"`)

	// The record is sent once the page shows the stream and listens: it must arrive live.
	message := fmt.Sprintf(`{"message": "from the console test %d"}`, time.Now().UnixNano())
	resp, err := http.Post(srv.InvokeURL("seedapi001", "prod", "/stream"), "application/json", strings.NewReader(message))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	requestID := resp.Header.Get("X-Amzn-Requestid")
	if resp.StatusCode != 200 || requestID == "" {
		t.Fatalf("invoke: %d, request id %q", resp.StatusCode, requestID)
	}
	shown := `from the console test`
	page.waitFor(`[...document.querySelectorAll("tr.record")].some((r) => r.textContent.includes(` + js(requestID) + `) && r.textContent.includes(` + js(shown) + `))`)
	page.screenshot(artifacts, "console-stream.png")

	keys := srv.Flush("my-firehose-stream")
	if len(keys) != 1 {
		t.Fatalf("flush: %q", keys)
	}
	trace, err := http.Get(srv.Endpoint + "/_localpipe/trace/" + requestID)
	if err != nil {
		t.Fatal(err)
	}
	trace.Body.Close()

	if trace.StatusCode != 200 {
		t.Fatalf("GET /_localpipe/trace/%s: %d", requestID, trace.StatusCode)
	}
	page.eval(`document.getElementById("search-id").value = ` + js(requestID) + `; document.getElementById("search").requestSubmit()`)
	page.waitFor(`document.querySelector(".hop-link[href*='?key=']")`)
	if hops := page.eval(`[...document.querySelectorAll(".hop .svc")].map((e) => e.textContent).join(",")`); hops != "1. apigateway,2. kinesis,3. firehose" {
		t.Errorf("trace hops: %v", hops)
	}
	page.screenshot(artifacts, "console-trace.png")
	page.eval(`document.querySelector(".hop-link[href*='?key=']").click()`)
	page.waitFor(`document.getElementById("object-key")?.textContent === ` + js(keys[0]) +
		` && document.getElementById("object-preview").textContent.includes(` + js(shown) + `)`)
	page.screenshot(artifacts, "console-object.png")

	// The test request form sends through the API; the invocation appears with its
	// rendered integration request.
	page.eval(`location.hash = "#/apis"`)
	page.waitFor(`document.querySelector("form.test")`)
	page.eval(`const f = document.querySelector("form.test"); f.closest("details").open = true;
		f.elements.method.value = "POST"; f.elements.path.value = "/stream"; f.elements.body.value = '{"message": "from the form"}';
		f.requestSubmit()`)
	page.waitFor(`document.querySelector("details div p")?.textContent.startsWith("HTTP ")`)
	if got := page.eval(`document.querySelector("details div p").textContent`); !strings.HasPrefix(fmt.Sprint(got), "HTTP 200 · request id ") {
		t.Fatalf("the test request form said %q", got)
	}
	// The invocation list follows live; the rendered request carries the body base64, as
	// the template makes it.
	formData := base64.StdEncoding.EncodeToString([]byte(`{"message": "from the form"}`))
	page.waitFor(`[...document.querySelectorAll("tr.invocation")].some((r) =>
		r.textContent.includes(document.querySelector("details div p a").textContent) && r.textContent.includes(` + js(formData) + `))`)
	page.screenshot(artifacts, "console-apis.png")
}
