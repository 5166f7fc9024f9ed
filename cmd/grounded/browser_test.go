package main

// The web page in a real browser: test/js/browser.mjs drives headless
// Chromium (playwright-core) against a server wired as the binary wires it.
// These tests need node, test/js/node_modules (npm ci in test/js) and
// Chromium (/usr/bin/chromium, or $CHROMIUM); without them they skip,
// unless GROUNDED_REQUIRE_JS=1, which makes a missing piece a failure.

import (
	"bytes"
	"context"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/groundedhq/grounded/server"
)

// browserRun bounds one run of browser.mjs; the script has its own 60 s
// watchdog, this is for a node that never starts or never exits.
const browserRun = 2 * time.Minute

// pngMagic starts every PNG file.
var pngMagic = []byte("\x89PNG\r\n\x1a\n")

// needBrowser returns the repository's test/js folder, or skips (fails,
// with GROUNDED_REQUIRE_JS=1) when node, playwright-core or Chromium is
// missing.
func needBrowser(t *testing.T) string {
	t.Helper()
	jsDir, err := filepath.Abs(filepath.Join("..", "..", "test", "js"))
	if err != nil {
		t.Fatal(err)
	}
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	var missing []string
	if _, err := exec.LookPath("node"); err != nil {
		missing = append(missing, "node is not on PATH")
	}
	if _, err := os.Stat(filepath.Join(jsDir, "node_modules", "playwright-core", "package.json")); err != nil {
		missing = append(missing, "test/js/node_modules/playwright-core is not installed (cd test/js && npm ci)")
	}
	if _, err := exec.LookPath(chromium); err != nil {
		missing = append(missing, "no Chromium at "+chromium+" (apt-get install chromium, or set CHROMIUM)")
	}
	if len(missing) > 0 {
		msg := "browser test: " + strings.Join(missing, "; ")
		if os.Getenv("GROUNDED_REQUIRE_JS") == "1" {
			t.Fatal(msg + " (GROUNDED_REQUIRE_JS=1)")
		}
		t.Skip(msg + " (set GROUNDED_REQUIRE_JS=1 to make this a failure)")
	}
	return jsDir
}

// runBrowser runs browser.mjs in mode against base and checks that it
// passed and left the screenshots shots in test/js/out.
func runBrowser(t *testing.T, jsDir, base, mode string, env []string, shots ...string) {
	t.Helper()
	out := filepath.Join(jsDir, "out")
	for _, name := range shots {
		os.Remove(filepath.Join(out, name)) // a stale one must not pass
	}
	ctx, cancel := context.WithTimeout(context.Background(), browserRun)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join(jsDir, "browser.mjs"), base, out, mode)
	cmd.Dir = jsDir
	cmd.Env = append(os.Environ(), env...)
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	cmd.WaitDelay = 10 * time.Second
	err := cmd.Run()
	t.Logf("browser.mjs %s:\n%s", mode, output.String())
	if ctx.Err() != nil {
		t.Fatalf("browser.mjs %s did not finish within %v", mode, browserRun)
	}
	if err != nil {
		t.Fatalf("browser.mjs %s: %v", mode, err)
	}
	for _, name := range shots {
		path := filepath.Join(out, name)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("screenshot %s: %v", name, err)
			continue
		}
		if len(data) < 1000 || !bytes.HasPrefix(data, pngMagic) {
			t.Errorf("screenshot %s: %d bytes, PNG header %v; want a real PNG", path, len(data), bytes.HasPrefix(data, pngMagic))
			continue
		}
		t.Logf("screenshot: %s (%d bytes)", path, len(data))
	}
}

// startServe runs `grounded serve --addr 127.0.0.1:0` with args until the
// test ends, and returns its address and its log. At cleanup it stops it
// as SIGTERM does and checks that it stopped cleanly.
func startServe(t *testing.T, args ...string) (addr string, log *addrWriter) {
	t.Helper()
	const watchdog = 30 * time.Second
	ctx, cancel := context.WithCancel(context.Background())
	log = &addrWriter{addrs: make(chan string, 1)}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), io.Discard, log)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve = %v after its context was cancelled, want nil", err)
			}
		case <-time.After(watchdog):
			t.Error("serve did not stop after its context was cancelled")
		}
	})
	select {
	case addr = <-log.addrs:
		return addr, log
	case err := <-done:
		done <- err // for the cleanup
		t.Fatalf("serve returned early: %v\nstderr: %s", err, log.String())
	case <-time.After(watchdog):
		t.Fatalf("serve never logged its address\nstderr: %s", log.String())
	}
	return "", nil
}

// TestBrowser runs `grounded serve` over a fresh data folder and uses its
// page: a cited answer whose passage matches the API's quote, an
// abstention, an error, an upload and a delete, and a checked answer.
func TestBrowser(t *testing.T) {
	jsDir := needBrowser(t)
	addr, log := startServe(t, "--data", filepath.Join(t.TempDir(), "data"))
	runBrowser(t, jsDir, "http://"+addr, "extractive", nil, "answer.png", "abstain.png", "documents.png", "check.png")
	for _, want := range []string{"path=/static/app.js", "path=/v1/ask", "path=/v1/documents", "path=/v1/check"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("serve's log shows no request with %s", want)
		}
	}
}

// TestBrowserStreamingModel uses the page over a scripted OpenAI model that
// streams: sentences arrive one by one and the final answer replaces them;
// then the model breaks off after one sentence and the page shows the
// extractive answer in its place, saying a sentence was withdrawn.
func TestBrowserStreamingModel(t *testing.T) {
	jsDir := needBrowser(t)
	m := newModelServer(t, openaiWire.with("openai/sse", true))
	// Half of three sentences holds the first whole, so it is checked and
	// streamed before the reply breaks off.
	threeSentences := onImages(func(n string) string {
		return cited(sentText, mark(n)) + " " + cited(sentImage, mark(n)) + " " + cited(sentChat, mark(n))
	})
	m.script(say(wellCited), breakOff(threeSentences))
	var stderr bytes.Buffer
	a, err := openServing(context.Background(), commonFlags{data: filepath.Join(t.TempDir(), "data")},
		llmFlags{kind: "openai", url: m.url, model: "m", key: "k", timeout: 20 * time.Second}, &stderr)
	if err != nil {
		t.Fatalf("openServing: %v\nstderr: %s", err, stderr.String())
	}
	t.Cleanup(func() { a.Close() })
	ts := httptest.NewServer(server.New(server.Config{Collections: collections{a.set}}))
	t.Cleanup(ts.Close)
	t.Cleanup(m.releaseAll)

	runBrowser(t, jsDir, ts.URL, "model", nil, "streamed.png", "withdrawn.png")
	if reqs := m.requests(); len(reqs) < 3 || !reqs[0].Stream || !reqs[1].Stream {
		t.Errorf("the model got %d requests (first streamed: %v); want two streamed asks from the page and the script's own", len(reqs), len(reqs) > 0 && reqs[0].Stream)
	}
}

// TestBrowserAPIKey uses the page of `grounded serve --api-keys`: it asks
// for a key, refuses a wrong one and works with the right one.
func TestBrowserAPIKey(t *testing.T) {
	jsDir := needBrowser(t)
	const secret = "browser-test-key-0123456789"
	dir := t.TempDir()
	keysFile := filepath.Join(dir, "keys.json")
	if err := os.WriteFile(keysFile, []byte(`{"keys": [{"name": "browser", "key": "`+secret+`"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	addr, log := startServe(t, "--data", filepath.Join(dir, "data"), "--api-keys", keysFile)
	runBrowser(t, jsDir, "http://"+addr, "key", []string{"GROUNDED_TEST_KEY=" + secret}, "key.png")
	if !strings.Contains(log.String(), "key=browser") {
		t.Errorf("serve's log shows no request made with the key")
	}
}
