package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/server"
)

// slowRate refills a bucket once in 100 s: no test runs long enough to see
// a token come back.
const slowRate = 0.01

// checkRateLimited checks a 429 answer: JSON error rate_limited and a
// Retry-After of whole seconds, at least 1 and at most the refill time.
func checkRateLimited(t *testing.T, resp *http.Response, body []byte) {
	t.Helper()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("status %d, want 429; body %s", resp.StatusCode, body)
	}
	if code, _ := decodeError(t, resp, body); code != grounded.ERATELIMITED {
		t.Errorf("code %q, want %q", code, grounded.ERATELIMITED)
	}
	ra := resp.Header.Get("Retry-After")
	secs, err := strconv.Atoi(ra)
	if err != nil || secs < 1 || secs > 1/slowRate {
		t.Errorf("Retry-After %q, want whole seconds from 1 to %d", ra, int(1/slowRate))
	}
}

func TestRateLimitPerKey(t *testing.T) {
	const burst = 3
	ts := newKeyedServer(t, server.Config{RateLimit: slowRate, RateBurst: burst})
	admin, support := "Bearer "+adminSecret, "Bearer "+supportSecret
	for i := range burst {
		if resp, body := doAuth(t, ts, admin, "POST", "/v1/search", `{"query": "x"}`); resp.StatusCode != 200 {
			t.Fatalf("request %d of the burst: status %d: %s", i+1, resp.StatusCode, body)
		}
	}
	resp, body := doAuth(t, ts, admin, "POST", "/v1/ask", `{"question": "x"}`)
	checkRateLimited(t, resp, body)

	// Another key has its own bucket; the probes are not limited.
	if resp, body := doAuth(t, ts, support, "POST", "/v1/ask", `{"question": "x", "collection": "a"}`); resp.StatusCode != 200 {
		t.Errorf("another key: status %d: %s", resp.StatusCode, body)
	}
	if resp, body := doAuth(t, ts, admin, "GET", "/healthz", ""); resp.StatusCode != 200 {
		t.Errorf("healthz: status %d: %s", resp.StatusCode, body)
	}
}

// TestRateLimitPerAddress: without keys the bucket is the client's address.
func TestRateLimitPerAddress(t *testing.T) {
	h := server.New(server.Config{Collections: only(&fakeService{Answer: cannedAnswer()}), RateLimit: slowRate, RateBurst: 1})
	ask := func(addr string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/v1/ask", strings.NewReader(`{"question": "x"}`))
		req.RemoteAddr = addr
		h.ServeHTTP(rec, req)
		return rec
	}
	for _, tt := range []struct {
		addr string
		want int
	}{
		{"192.0.2.1:1000", 200},
		{"192.0.2.1:2000", 429}, // another port, the same client
		{"192.0.2.2:1000", 200},
		{"[2001:db8::1]:1000", 200},
		{"[2001:db8::2]:1000", 429}, // the same /64
		{"[2001:db8:0:1::1]:1000", 200},
	} {
		rec := ask(tt.addr)
		if rec.Code != tt.want {
			t.Errorf("%s: status %d, want %d; %s", tt.addr, rec.Code, tt.want, rec.Body)
		}
		if tt.want == 429 {
			checkRateLimited(t, rec.Result(), rec.Body.Bytes())
		}
	}
}

// TestRateLimitFailedAuth: guessing keys costs the address tokens.
func TestRateLimitFailedAuth(t *testing.T) {
	ts := newKeyedServer(t, server.Config{RateLimit: slowRate, RateBurst: 2})
	for i := range 2 {
		if resp, body := doAuth(t, ts, "Bearer guess-0123456789abcdef", "POST", "/v1/ask", `{"question": "x"}`); resp.StatusCode != 401 {
			t.Fatalf("guess %d: status %d: %s", i+1, resp.StatusCode, body)
		}
	}
	resp, body := doAuth(t, ts, "Bearer guess-0123456789abcdef", "POST", "/v1/ask", `{"question": "x"}`)
	checkRateLimited(t, resp, body)
	// The key's own bucket is separate from its address's.
	if resp, body := doAuth(t, ts, "Bearer "+adminSecret, "POST", "/v1/ask", `{"question": "x"}`); resp.StatusCode != 200 {
		t.Errorf("a right key from the same address: status %d: %s", resp.StatusCode, body)
	}
}

// result is one response from a request run in the background.
type result struct {
	status     int
	retryAfter string
	body       string
}

func post(ts *httptest.Server, path, body string, out chan<- result) {
	resp, err := ts.Client().Post(ts.URL+path, "application/json", strings.NewReader(body))
	if err != nil {
		out <- result{body: err.Error()}
		return
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out <- result{resp.StatusCode, resp.Header.Get("Retry-After"), string(b)}
}

// blockingService answers once release is closed, telling started when it
// begins.
func blockingService() (svc *fakeService, started chan string, release chan struct{}) {
	started, release = make(chan string, 8), make(chan struct{})
	svc = &fakeService{AskFn: func(ctx context.Context, q string, _ int) (*grounded.Answer, error) {
		started <- q
		<-release
		return cannedAnswer(), nil
	}}
	return svc, started, release
}

// TestMaxConcurrent: with one slot and a queue of one, the first request
// runs, one more waits, and the third is refused at once; once the first is
// done the waiting one runs.
func TestMaxConcurrent(t *testing.T) {
	svc, started, release := blockingService()
	ts := newTestServer(t, server.Config{MaxConcurrent: 1, MaxQueue: 1}, svc)
	results := make(chan result, 3)
	go post(ts, "/v1/ask", `{"question": "first"}`, results)
	if q := <-started; q != "first" {
		t.Fatalf("started %q", q)
	}
	go post(ts, "/v1/ask", `{"question": "second"}`, results)
	go post(ts, "/v1/ask", `{"question": "third"}`, results)
	// The first holds the slot, so the one that answers now is refused.
	busy := <-results
	if busy.status != http.StatusServiceUnavailable || busy.retryAfter != "1" || !strings.Contains(busy.body, `"code":"busy"`) {
		t.Fatalf("while the slot is held: %+v, want 503 busy with Retry-After: 1", busy)
	}
	select {
	case q := <-started:
		t.Fatalf("%q started while the slot was held", q)
	default:
	}
	// Search is not an answer: it is not held up.
	if resp, body := do(t, ts, "POST", "/v1/search", `{"query": "x"}`); resp.StatusCode != 200 {
		t.Errorf("search while answers are busy: status %d: %s", resp.StatusCode, body)
	}
	close(release)
	for range 2 {
		if r := <-results; r.status != 200 {
			t.Errorf("after release: %+v, want 200", r)
		}
	}
	asks := 0
	for _, c := range svc.Calls() {
		if c.Method == "Ask" {
			asks++
		}
	}
	if asks != 2 {
		t.Errorf("the service answered %d times, want 2", asks)
	}
}

// TestQueueWaitsUntilDeadline: a request that waits past its deadline is
// refused as busy.
func TestQueueWaitsUntilDeadline(t *testing.T) {
	svc, started, release := blockingService()
	defer close(release)
	ts := newTestServer(t, server.Config{MaxConcurrent: 1, MaxQueue: 1, RequestTimeout: 50 * time.Millisecond}, svc)
	results := make(chan result, 1)
	go post(ts, "/v1/ask", `{"question": "first"}`, results)
	<-started
	resp, body := do(t, ts, "POST", "/v1/ask", `{"question": "second"}`)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("status %d, Retry-After %q, want 503 and 1; %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if code, msg := decodeError(t, resp, body); code != grounded.EBUSY || !strings.Contains(msg, "time limit") {
		t.Errorf("error %s %q, want busy about the time limit", code, msg)
	}
}

// TestStreamHoldsItsSlot: a streamed answer keeps its slot while it runs.
func TestStreamHoldsItsSlot(t *testing.T) {
	svc, started, release := blockingService()
	ts := newTestServer(t, server.Config{MaxConcurrent: 1}, svc)
	results := make(chan result, 1)
	go post(ts, "/v1/ask", `{"question": "first", "stream": true}`, results)
	<-started
	resp, body := do(t, ts, "POST", "/v1/ask", `{"question": "second"}`)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("while a stream runs: status %d, want 503; %s", resp.StatusCode, body)
	}
	close(release)
	if r := <-results; r.status != 200 || !strings.Contains(r.body, "event: answer") {
		t.Errorf("the stream: %+v", r)
	}
	if resp, body := do(t, ts, "POST", "/v1/ask", `{"question": "third"}`); resp.StatusCode != 200 {
		t.Errorf("after the stream: status %d, want 200; %s", resp.StatusCode, body)
	}
}

// BenchmarkAccess measures what the access middleware adds to a request
// (POST /v1/search over a fake): none, keys (a lookup hashes once and
// compares with every key), keys with the rate limit, and the answer slots.
func BenchmarkAccess(b *testing.B) {
	manyKeys := func(n int) *server.Keys {
		keys := make([]server.Key, n)
		for i := range keys {
			keys[i] = server.Key{Name: fmt.Sprintf("k%d", i), Secret: fmt.Sprintf("secret-%016d", i)}
		}
		k, err := server.NewKeys(keys)
		if err != nil {
			b.Fatal(err)
		}
		return k
	}
	for _, bc := range []struct {
		name string
		cfg  server.Config
	}{
		{"open", server.Config{}},
		{"keys=1", server.Config{Keys: manyKeys(1)}},
		{"keys=100", server.Config{Keys: manyKeys(100)}},
		{"keys=100+rate", server.Config{Keys: manyKeys(100), RateLimit: 1e9}},
		{"keys=100+rate+slots", server.Config{Keys: manyKeys(100), RateLimit: 1e9, MaxConcurrent: 4, MaxQueue: 16}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			bc.cfg.Collections = only(&fakeService{Answer: cannedAnswer()})
			h := server.New(bc.cfg)
			for b.Loop() {
				rec := httptest.NewRecorder()
				req := httptest.NewRequest("POST", "/v1/ask", strings.NewReader(`{"question": "x"}`))
				req.Header.Set("Authorization", "Bearer secret-0000000000000000")
				h.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
