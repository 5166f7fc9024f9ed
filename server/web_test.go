package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/groundedhq/grounded/server"
)

func newWebServer(t *testing.T) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(server.New(server.Config{Collections: only(&fakeService{})}))
	t.Cleanup(ts.Close)
	return ts
}

// fetch sends one request and returns the response with its body read.
func fetch(t *testing.T, ts *httptest.Server, method, path string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp, string(body)
}

var (
	scriptTagRE = regexp.MustCompile(`<script[^>]*>`)
	assetRE     = regexp.MustCompile(`"(/static/([a-z.]+)\?v=([0-9a-f]{16}))"`)
)

// TestWebPage checks the page: HTML under a strict Content-Security-Policy,
// no inline script or style, nothing from elsewhere, and every asset it
// names served with its type and cached for as long as its name holds.
func TestWebPage(t *testing.T) {
	ts := newWebServer(t)
	resp, page := fetch(t, ts, http.MethodGet, "/", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /: status %d: %s", resp.StatusCode, page)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("GET /: Content-Type %q", ct)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") || strings.Contains(csp, "*") {
		t.Errorf("Content-Security-Policy %q allows unsafe or any sources", csp)
	}
	if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("GET /: X-Content-Type-Options %q, want nosniff", got)
	}
	if !strings.Contains(page, "<title>grounded</title>") || !strings.Contains(page, `id="ask-form"`) || !strings.Contains(page, `id="check-form"`) {
		t.Errorf("GET / is not the page:\n%s", page)
	}
	// The policy allows no inline script or style: the page must not need any.
	for _, tag := range scriptTagRE.FindAllString(page, -1) {
		if !strings.Contains(tag, "src=") {
			t.Errorf("inline script %s", tag)
		}
	}
	for _, bad := range []string{"<style", " style=", " onclick=", " onload=", " onsubmit=", "http://", "https://", "javascript:"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page contains %q, which its policy blocks or which loads from elsewhere", bad)
		}
	}

	assets := assetRE.FindAllStringSubmatch(page, -1)
	seen := map[string]bool{}
	for _, m := range assets {
		seen[m[2]] = true
	}
	for _, want := range []string{"app.js", "app.css", "icon.svg"} {
		if !seen[want] {
			t.Errorf("the page does not name /static/%s?v=HASH (names %v)", want, seen)
		}
	}
	types := map[string]string{
		"app.js":   "text/javascript; charset=utf-8",
		"app.css":  "text/css; charset=utf-8",
		"icon.svg": "image/svg+xml",
	}
	for _, m := range assets {
		url, name := m[1], m[2]
		resp, body := fetch(t, ts, http.MethodGet, url, nil)
		if resp.StatusCode != http.StatusOK || body == "" {
			t.Errorf("GET %s: status %d, %d bytes", url, resp.StatusCode, len(body))
			continue
		}
		if ct := resp.Header.Get("Content-Type"); ct != types[name] {
			t.Errorf("GET %s: Content-Type %q, want %q", url, ct, types[name])
		}
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") || !strings.Contains(cc, "max-age=31536000") {
			t.Errorf("GET %s: Cache-Control %q; a versioned asset should be cached for good", url, cc)
		}
		etag := resp.Header.Get("ETag")
		if etag == "" {
			t.Errorf("GET %s: no ETag", url)
			continue
		}
		// Without the current version it must be revalidated; with the
		// ETag the answer is 304.
		resp, _ = fetch(t, ts, http.MethodGet, "/static/"+name, nil)
		if cc := resp.Header.Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("GET /static/%s: Cache-Control %q, want no-cache", name, cc)
		}
		resp, body = fetch(t, ts, http.MethodGet, "/static/"+name, map[string]string{"If-None-Match": etag})
		if resp.StatusCode != http.StatusNotModified || body != "" {
			t.Errorf("GET /static/%s with If-None-Match %s: status %d, %d bytes; want 304", name, etag, resp.StatusCode, len(body))
		}
	}

	resp, body := fetch(t, ts, http.MethodHead, "/", nil)
	if resp.StatusCode != http.StatusOK || body != "" || resp.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("HEAD /: status %d, %d bytes, CSP %q", resp.StatusCode, len(body), resp.Header.Get("Content-Security-Policy"))
	}
}

// TestWebScript checks the page's script is served as JavaScript and never
// inserts markup: everything from the server goes in as text.
func TestWebScript(t *testing.T) {
	ts := newWebServer(t)
	resp, js := fetch(t, ts, http.MethodGet, "/static/app.js", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /static/app.js: status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
		t.Errorf("GET /static/app.js: Content-Type %q, want text/javascript", ct)
	}
	for _, want := range []string{"/v1/ask", "/v1/collections", "/v1/documents", "/v1/check", "Authorization", "sessionStorage", "getReader()"} {
		if !strings.Contains(js, want) {
			t.Errorf("app.js does not use %s", want)
		}
	}
	for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"} {
		if strings.Contains(js, bad) {
			t.Errorf("app.js uses %s; insert text with textContent", bad)
		}
	}
	// Every abstention reason has words.
	for _, reason := range []string{"no_evidence", "weak_evidence", "name_mismatch", "no_answer_of_type", "negation_mismatch", "model_abstained", "unsupported_answer"} {
		if !strings.Contains(js, "    "+reason+": \"") {
			t.Errorf("app.js has no words for the abstention reason %s", reason)
		}
	}
}

// TestWebNotFound checks that what is not a file of the page is a JSON 404.
func TestWebNotFound(t *testing.T) {
	ts := newWebServer(t)
	for _, path := range []string{
		"/static/nope.js",
		"/static/",
		"/static/index.html",
		"/static/../web.go",
		"/static/%2e%2e/web.go",
		"/static/web/app.js",
		"/static/app.js/",
		"/index.html",
	} {
		resp, body := fetch(t, ts, http.MethodGet, path, nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404: %.200s", path, resp.StatusCode, body)
			continue
		}
		var e struct {
			Error struct{ Code, Message string }
		}
		if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error.Code != "not_found" || e.Error.Message == "" {
			t.Errorf("GET %s: body %q (%v), want a not_found JSON error", path, body, err)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("GET %s: Content-Type %q, want JSON", path, ct)
		}
	}
}
