package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// manualDir writes a few pages shaped like the PostgreSQL manual's.
func manualDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	pages := map[string]string{
		"sql-createindex.html":   "CREATE INDEX",
		"app-pgdump.html":        "pg_dump",
		"routine-vacuuming.html": "25.1. Routine Vacuuming",
		"plpgsql.html":           "Chapter 43. PL/pgSQL &mdash; SQL Procedural Language",
		"storage-toast.html":     "73.2. TOAST",
		"release-15-1.html":      "E.9. Release 15.1",
		"app-pgreceivexlog.html": "O.5. pg_receivexlog renamed to pg_receivewal",
		"duplicate.html":         "25.1. Routine Vacuuming",
		"notitle.html":           "",
	}
	for name, title := range pages {
		body := "<html><head><title>" + title + "</title></head><body>text</body></html>"
		if title == "" {
			body = "<html><body>no title</body></html>"
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestHeadingQuestions(t *testing.T) {
	dir := manualDir(t)
	got, err := headingQuestions(dir, 100, 1)
	if err != nil {
		t.Fatal(err)
	}
	// One question per distinct title; release notes, renamed programs and
	// pages without a title are left out.
	if len(got) != 5 {
		t.Fatalf("got %d questions, want 5: %q", len(got), got)
	}
	joined := strings.Join(got, "\n")
	for _, want := range []string{"What does CREATE INDEX do?", "What is pg_dump used for?", "routine vacuuming", "PL/pgSQL — SQL procedural language", "TOAST"} {
		if !strings.Contains(joined, want) {
			t.Errorf("no question contains %q:\n%s", want, joined)
		}
	}
	for _, bad := range []string{"Release", "renamed", "25.1", "Chapter", "&mdash;"} {
		if strings.Contains(joined, bad) {
			t.Errorf("a question contains %q:\n%s", bad, joined)
		}
	}
	again, err := headingQuestions(dir, 100, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, again) {
		t.Errorf("same seed, different questions:\n%q\n%q", got, again)
	}
	two, err := headingQuestions(dir, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(two, got[:2]) {
		t.Errorf("n=2 gave %q, want the first two of %q", two, got)
	}
	if _, err := headingQuestions(t.TempDir(), 10, 1); err == nil {
		t.Error("a folder without pages gave no error")
	}
}

func TestLowerTopic(t *testing.T) {
	for in, want := range map[string]string{
		"Routine Vacuuming":                  "routine vacuuming",
		"SQL Conformance":                    "SQL conformance",
		"The PostgreSQL Rule System":         "the PostgreSQL rule system",
		"pg_stat_statements":                 "pg_stat_statements",
		"PL/pgSQL — SQL Procedural Language": "PL/pgSQL — SQL procedural language",
		"A":                                  "A",
	} {
		if got := lowerTopic(in); got != want {
			t.Errorf("lowerTopic(%q) = %q, want %q", in, got, want)
		}
	}
}

// fakeServer answers like grounded: /healthz, /v1/search, /v1/ask. Every
// failEvery-th request (0: none) is answered 429. It records the bodies.
type fakeServer struct {
	failEvery int64
	n         atomic.Int64
	bodies    chan []byte
	auth      atomic.Value // last Authorization header
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.auth.Store(r.Header.Get("Authorization"))
	if r.URL.Path == "/healthz" {
		io.WriteString(w, `{"status":"ok","chunks":42}`)
		return
	}
	b, _ := io.ReadAll(r.Body)
	select {
	case f.bodies <- b:
	default:
	}
	if n := f.n.Add(1); f.failEvery > 0 && n%f.failEvery == 0 {
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"error":{"code":"rate_limited","message":"slow down"}}`)
		return
	}
	switch r.URL.Path {
	case "/v1/search":
		io.WriteString(w, `{"results":[{"chunk_id":"c1"}]}`)
	case "/v1/ask":
		io.WriteString(w, `{"question":"q","answer":"","abstained":true,"citations":[]}`)
	default:
		http.NotFound(w, r)
	}
}

func runLoad(t *testing.T, srv *httptest.Server, extra ...string) (int, string, string, error) {
	t.Helper()
	args := append([]string{"-url", srv.URL, "-manual", manualDir(t), "-c", "2",
		"-duration", "20ms", "-warmup", "0s", "-pid", "0"}, extra...)
	var stdout, stderr bytes.Buffer
	code, err := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String(), err
}

func TestRunNoErrors(t *testing.T) {
	fake := &fakeServer{bodies: make(chan []byte, 1000)}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	code, out, errOut, err := runLoad(t, srv, "-key", "sekrit", "-k", "3")
	if code != 0 || err != nil {
		t.Fatalf("exit %d, %v; stderr:\n%s", code, err, errOut)
	}
	for _, want := range []string{"| POST /v1/search |", "| POST /v1/ask |", "index of 42 chunks"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// search found something every time, ask always abstained.
	if !strings.Contains(out, "| 0 | 100% |") || !strings.Contains(out, "| 0 | 0% |") {
		t.Errorf("errors and found columns wrong:\n%s", out)
	}
	if got := fake.auth.Load(); got != "Bearer sekrit" {
		t.Errorf("Authorization = %q", got)
	}
	close(fake.bodies)
	seen := 0
	for b := range fake.bodies {
		var req map[string]any
		if err := json.Unmarshal(b, &req); err != nil {
			t.Fatalf("request body %s: %v", b, err)
		}
		q, _ := req["query"].(string)
		if q == "" {
			q, _ = req["question"].(string)
		}
		if q == "" || req["k"] != 3.0 || len(req) != 2 {
			t.Errorf("request body %s: want a query or question and k 3", b)
		}
		seen++
	}
	if seen < 4 { // at least one request per connection and endpoint
		t.Errorf("server saw %d requests, want at least 4", seen)
	}
}

func TestRunCountsErrors(t *testing.T) {
	fake := &fakeServer{failEvery: 2, bodies: make(chan []byte, 1)}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	code, out, errOut, err := runLoad(t, srv, "-endpoints", "search")
	if code != 1 || err == nil {
		t.Fatalf("exit %d, %v; want 1 and an error", code, err)
	}
	if !strings.Contains(errOut, "map[429:") || !strings.Contains(errOut, "status 429") {
		t.Errorf("stderr does not report the 429s:\n%s", errOut)
	}
	if strings.Contains(out, "| 0 | 100% |") {
		t.Errorf("table shows no errors:\n%s", out)
	}
}

func TestRunServerDown(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	code, _, _, err := runLoad(t, srv, "-wait", "300ms")
	if code != 1 || err == nil || !strings.Contains(err.Error(), "/healthz") {
		t.Fatalf("exit %d, %v; want 1 and a /healthz error", code, err)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		{"-endpoints", "search,upload"},
		{"-c", "0"},
		{"-duration", "0s"},
		{"-k", "101"},
		{"extra"},
	} {
		code, err := run(context.Background(), args, io.Discard, io.Discard)
		if code != 2 || err == nil {
			t.Errorf("run(%q) = %d, %v; want 2 and an error", args, code, err)
		}
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for p, want := range map[float64]time.Duration{0.5: 50 * time.Millisecond, 0.99: 99 * time.Millisecond, 1: 100 * time.Millisecond, 0: time.Millisecond} {
		if got := percentile(d, p); got != want {
			t.Errorf("percentile(1..100 ms, %v) = %v, want %v", p, got, want)
		}
	}
	if got := percentile(nil, 0.5); got != 0 {
		t.Errorf("percentile(nil) = %v", got)
	}
}

func TestReadMemory(t *testing.T) {
	m, err := readMemory(os.Getpid())
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	if m.rss <= 0 || m.hwm < m.rss {
		t.Errorf("readMemory(self) = %+v; want RSS > 0 and peak >= RSS", m)
	}
	if _, err := readMemory(0); err == nil {
		t.Error("readMemory(0) gave no error")
	}
}
