package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/server"
)

var generatedID = regexp.MustCompile(`^[0-9a-f]{16}$`)

func TestRequestID(t *testing.T) {
	long := strings.Repeat("a", 128)
	cases := []struct {
		name, sent string
		echoed     bool
	}{
		{"none", "", false},
		{"plain token", "abc-123_X.y", true},
		{"128 characters", long, true},
		{"129 characters", long + "b", false},
		{"space", "a b", false},
		{"markup", "<script>", false},
		{"newline escape", "a%0Ab", false},
		{"non-ASCII", "idé", false},
		{"slash", "a/b", false},
	}
	h := server.New(server.Config{Collections: only(&fakeService{Answer: cannedAnswer()})})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{"/healthz", "/nowhere"} {
				req := httptest.NewRequest("GET", path, nil)
				if tc.sent != "" {
					req.Header.Set("X-Request-ID", tc.sent)
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				got := rec.Header().Get("X-Request-ID")
				switch {
				case tc.echoed && got != tc.sent:
					t.Errorf("%s: X-Request-ID = %q, want the caller's %q", path, got, tc.sent)
				case !tc.echoed && !generatedID.MatchString(got):
					t.Errorf("%s: X-Request-ID = %q, want 16 new hex digits", path, got)
				}
			}
		})
	}
	t.Run("new ids differ", func(t *testing.T) {
		seen := map[string]bool{}
		for range 50 {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
			id := rec.Header().Get("X-Request-ID")
			if seen[id] {
				t.Fatalf("id %q given twice", id)
			}
			seen[id] = true
		}
	})
}

// logLines returns the JSON log lines with msg, parsed.
func logLines(t *testing.T, logs string, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", l, err)
		}
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

func TestRequestLogJSON(t *testing.T) {
	var logs syncBuffer
	logger, err := server.NewLogger(&logs, "json", "info")
	if err != nil {
		t.Fatal(err)
	}
	svc := &fakeService{AskFn: func(_ context.Context, q string, _ int) (*grounded.Answer, error) {
		if q == "panic" {
			panic("boom")
		}
		return cannedAnswer(), nil
	}}
	h := server.New(server.Config{Collections: only(svc), Logger: logger})
	const secret = "sk-very-secret-token-0123456789"
	type req struct {
		method, path, body, id string
	}
	reqs := []req{
		{"POST", "/v1/ask?collection=default", `{"question": "the password is hunter2"}`, "ask-1"},
		{"GET", "/v1/documents/abc123", "", "doc-1"},
		{"GET", "/nowhere/at/all", "", ""},
		{"POST", "/v1/ask", `{"question": "panic"}`, "boom-1"},
	}
	var recs []*httptest.ResponseRecorder
	for _, r := range reqs {
		hr := httptest.NewRequest(r.method, r.path, strings.NewReader(r.body))
		hr.RemoteAddr = "203.0.113.7:5555"
		hr.Header.Set("X-Forwarded-For", "198.51.100.1") // not a trusted proxy
		hr.Header.Set("Authorization", "Bearer "+secret)
		if r.id != "" {
			hr.Header.Set("X-Request-ID", r.id)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, hr)
		recs = append(recs, rec)
	}
	all := logs.String()
	for _, leak := range []string{secret, "hunter2", "Authorization", "Bearer"} {
		if strings.Contains(all, leak) {
			t.Errorf("the logs hold %q:\n%s", leak, all)
		}
	}
	lines := logLines(t, all, "request")
	if len(lines) != len(reqs) {
		t.Fatalf("%d request lines, want %d:\n%s", len(lines), len(reqs), all)
	}
	want := []map[string]any{
		{"level": "INFO", "method": "POST", "route": "/v1/ask", "path": "/v1/ask", "status": 200.0, "request_id": "ask-1", "collection": "default"},
		{"level": "INFO", "method": "GET", "route": "/v1/documents/:id", "path": "/v1/documents/abc123", "status": 404.0, "request_id": "doc-1", "collection": "default"},
		{"level": "INFO", "method": "GET", "route": "unmatched", "path": "/nowhere/at/all", "status": 404.0, "collection": ""},
		{"level": "ERROR", "method": "POST", "route": "/v1/ask", "path": "/v1/ask", "status": 500.0, "request_id": "boom-1", "collection": "default"},
	}
	for i, line := range lines {
		for k, v := range want[i] {
			if line[k] != v {
				t.Errorf("line %d: %s = %#v, want %#v (%v)", i, k, line[k], v, line)
			}
		}
		if line["client_ip"] != "203.0.113.7" {
			t.Errorf("line %d: client_ip = %v, want the peer 203.0.113.7 (X-Forwarded-For is not trusted)", i, line["client_ip"])
		}
		if key, ok := line["key"]; !ok || key != "" {
			t.Errorf("line %d: key = %#v, want present and empty without auth", i, key)
		}
		if d, ok := line["duration_ms"].(float64); !ok || d < 0 {
			t.Errorf("line %d: duration_ms = %#v, want a number >= 0", i, line["duration_ms"])
		}
		if b, ok := line["bytes"].(float64); !ok || int(b) != recs[i].Body.Len() {
			t.Errorf("line %d: bytes = %#v, want %d", i, line["bytes"], recs[i].Body.Len())
		}
		if id := recs[i].Header().Get("X-Request-ID"); line["request_id"] != id {
			t.Errorf("line %d: request_id = %v, response header %q", i, line["request_id"], id)
		}
	}
	panics := logLines(t, all, "panic")
	if len(panics) != 1 || panics[0]["request_id"] != "boom-1" {
		t.Errorf("panic lines = %v, want one with request_id boom-1", panics)
	}
}

func TestNewLogger(t *testing.T) {
	for _, tc := range []struct {
		format, level string
		ok            bool
	}{
		{"", "", true}, {"text", "debug", true}, {"JSON", "warn", true}, {"json", "ERROR", true},
		{"xml", "info", false}, {"text", "loud", false},
	} {
		_, err := server.NewLogger(&syncBuffer{}, tc.format, tc.level)
		if (err == nil) != tc.ok {
			t.Errorf("NewLogger(%q, %q) error = %v, want ok=%v", tc.format, tc.level, err, tc.ok)
		}
		if err != nil && grounded.ErrorCode(err) != grounded.EINVALID {
			t.Errorf("NewLogger(%q, %q) error code %q, want invalid", tc.format, tc.level, grounded.ErrorCode(err))
		}
	}
	var logs syncBuffer
	logger, _ := server.NewLogger(&logs, "text", "warn")
	h := server.New(server.Config{Collections: only(&fakeService{}), Logger: logger})
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/healthz", nil))
	if logs.String() != "" {
		t.Errorf("at level warn a 200 was logged: %q", logs.String())
	}
}

func TestReadyz(t *testing.T) {
	var loading atomic.Bool
	loading.Store(true)
	other := &fakeService{Chunks: 5}
	set := &fakeSet{cols: map[string]server.Collection{"default": &fakeService{Chunks: 10}, "other": other}}
	h := server.New(server.Config{Collections: set, Generator: "openai/m", Ready: func() error {
		if loading.Load() {
			return errors.New("loading the indexes")
		}
		return nil
	}})
	ts := newTestServerFor(t, h)
	get := func(path string) (int, map[string]any) {
		t.Helper()
		resp, err := http.Get(ts + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return resp.StatusCode, m
	}
	if st, m := get("/readyz"); st != http.StatusServiceUnavailable || m["status"] != "not_ready" || m["reason"] != "loading the indexes" {
		t.Errorf("readyz while loading: %d %v", st, m)
	}
	if st, m := get("/healthz"); st != http.StatusOK {
		t.Errorf("healthz while not ready: %d %v, want 200", st, m)
	}
	loading.Store(false)
	st, m := get("/readyz")
	if st != http.StatusOK || m["status"] != "ready" || m["collections"] != 2.0 || m["chunks"] != 15.0 || m["generator"] != "openai/m" {
		t.Errorf("readyz once loaded: %d %v, want 200 ready, 2 collections, 15 chunks, generator openai/m", st, m)
	}

	// Without the default collection it is not ready, whatever Ready says.
	h = server.New(server.Config{Collections: &fakeSet{cols: map[string]server.Collection{"other": other}}})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), `"not_ready"`) || !strings.Contains(rec.Body.String(), "default collection") {
		t.Errorf("readyz without a default collection: %d %s", rec.Code, rec.Body)
	}
}

// shutdownFake emits one sentence, closes sent, then waits for its context
// to end; ended receives how it ended (the emit's error when the context
// ended while the sentence was being sent).
type shutdownFake struct {
	fakeService
	sent  chan struct{}
	ended chan error
}

func (f *shutdownFake) Ask(ctx context.Context, req grounded.AskRequest) (*grounded.Answer, error) {
	emit := req.Emit
	err := emit(grounded.Sentence{Text: "First.", Citations: []int{1}, Supported: true})
	close(f.sent)
	if err != nil {
		f.ended <- err
		return nil, err
	}
	select {
	case <-ctx.Done():
	case <-time.After(watchdog): // a watchdog, not synchronisation
	}
	f.ended <- ctx.Err()
	return nil, ctx.Err()
}

// TestServeShutdownEndsStream: a stream open when Serve shuts down ends
// with an "unavailable" error event that says so, and Serve returns within
// its grace period (nil: the shutdown was not cut short).
func TestServeShutdownEndsStream(t *testing.T) {
	svc := &shutdownFake{sent: make(chan struct{}), ended: make(chan error, 1)}
	h := server.New(server.Config{Collections: only(svc), RequestTimeout: time.Hour})
	addr, cancel, done := startServe(t, h, 5*time.Second)

	resp, err := http.Post("http://"+addr+"/v1/ask", "application/json", strings.NewReader(`{"question": "q", "stream": true}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	events := make(chan []sseEvent, 1)
	go func() { events <- readEvents(t, resp, 10) }() // to the end of the stream
	select {
	case <-svc.sent: // the stream is open, its first event written
	case <-time.After(watchdog):
		t.Fatal("the stream never began")
	}

	cancel() // shut down with the stream open
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve = %v, want nil: the stream should end within the grace period", err)
		}
	case <-time.After(watchdog):
		t.Fatal("Serve did not return")
	}
	if err := <-svc.ended; !errors.Is(err, context.Canceled) {
		t.Errorf("the answer's context ended with %v, want context.Canceled", err)
	}
	var evs []sseEvent
	select {
	case evs = <-events:
	case <-time.After(watchdog):
		t.Fatal("the stream did not end")
	}
	if len(evs) != 2 || evs[0].name != "sentence" || evs[1].name != "error" {
		t.Fatalf("events %+v, want a sentence, then an error", evs)
	}
	var body struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal([]byte(evs[1].data), &body); err != nil {
		t.Fatal(err)
	}
	if body.Error.Code != grounded.EUNAVAILABLE || body.Error.Message != "the server is shutting down" {
		t.Errorf("error event %s, want unavailable / the server is shutting down", evs[1].data)
	}
}
