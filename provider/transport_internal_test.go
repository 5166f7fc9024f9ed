package provider

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A request whose body cannot be replayed (GetBody nil) is sent once.
func TestNoRetryWithoutGetBody(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	hc := newHTTPClient(nil, &transport{timeout: 5 * time.Second, retries: 2, backoff: time.Millisecond})

	for _, tc := range []struct {
		name string
		body io.Reader
		want int32
	}{
		{"replayable", strings.NewReader("{}"), 3},
		{"not replayable", io.NopCloser(strings.NewReader("{}")), 1},
	} {
		n.Store(0)
		req, _ := http.NewRequest("POST", srv.URL, tc.body)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 503 || n.Load() != tc.want {
			t.Errorf("%s: status %d after %d requests, want 503 after %d", tc.name, resp.StatusCode, n.Load(), tc.want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		v    string
		ok   bool
		want time.Duration
	}{
		{"", false, 0}, {"0", true, 0}, {"7", true, 7 * time.Second}, {"-1", false, 0}, {"soon", false, 0},
		{time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat), true, 0},
	} {
		h := http.Header{}
		if tc.v != "" {
			h.Set("Retry-After", tc.v)
		}
		got, ok := retryAfter(h)
		if ok != tc.ok || got != tc.want {
			t.Errorf("Retry-After %q: %v %v, want %v %v", tc.v, got, ok, tc.want, tc.ok)
		}
	}
	h := http.Header{"Retry-After": {time.Now().Add(time.Minute).UTC().Format(http.TimeFormat)}}
	if got, ok := retryAfter(h); !ok || got < 55*time.Second || got > time.Minute {
		t.Errorf("Retry-After in a minute: %v %v", got, ok)
	}
}

// Backoff doubles from the first step, with jitter in the upper half, capped.
func TestDelay(t *testing.T) {
	tr := &transport{backoff: 100 * time.Millisecond}
	for attempt, full := range []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond} {
		for range 50 {
			if d := tr.delay(attempt); d < full/2 || d > full {
				t.Fatalf("delay(%d) = %v, want in [%v, %v]", attempt, d, full/2, full)
			}
		}
	}
	if d := tr.delay(60); d < maxBackoff/2 || d > maxBackoff {
		t.Errorf("delay(60) = %v, want capped at %v", d, maxBackoff)
	}
}

func TestServerMessage(t *testing.T) {
	for body, want := range map[string]string{
		`{"error":{"message":"Incorrect API key","type":"invalid_request_error"}}`:          "Incorrect API key",
		`{"error":"model \"x\" not found, try pulling it first"}`:                           `model "x" not found, try pulling it first`,
		`{"object":"error","message":"The model x does not exist.","type":"NotFoundError"}`: "The model x does not exist.",
		`{"type":"error","error":{"type":"not_found_error","message":"model: x"}}`:          "model: x",
		`{"detail":"Not Found"}`: "Not Found",
		"404 page not found":     "404 page not found",
	} {
		if got := serverMessage([]byte(body)); got != want {
			t.Errorf("serverMessage(%s) = %q, want %q", body, got, want)
		}
	}
}
