package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/server"
)

type sseEvent struct {
	name string
	data string
}

// readEvents parses a text/event-stream body into events.
func readEvents(t *testing.T, resp *http.Response, max int) []sseEvent {
	t.Helper()
	var out []sseEvent
	var ev sseEvent
	sc := bufio.NewScanner(resp.Body)
	for len(out) < max && sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			ev.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			ev.data = strings.TrimPrefix(line, "data: ")
		case line == "":
			out = append(out, ev)
			ev = sseEvent{}
		}
	}
	return out
}

func TestAskStream(t *testing.T) {
	svc := &fakeService{Answer: cannedAnswer(), Stream: []grounded.Sentence{
		{Text: " Leading space kept.", Citations: []int{1}, Support: 0.9, Supported: true},
		{Text: "Second.", Citations: []int{2}, Support: 0.8, Supported: true},
	}}
	ts := newTestServer(t, server.Config{}, svc)
	resp, err := http.Post(ts.URL+"/v1/ask", "application/json", strings.NewReader(`{"question": "q", "stream": true}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	evs := readEvents(t, resp, 10)
	if len(evs) != 3 || evs[0].name != "sentence" || evs[1].name != "sentence" || evs[2].name != "answer" {
		t.Fatalf("events %+v, want sentence, sentence, answer", evs)
	}
	var first grounded.Sentence
	if err := json.Unmarshal([]byte(evs[0].data), &first); err != nil || first.Text != " Leading space kept." || first.Citations[0] != 1 {
		t.Errorf("first sentence %+v (%v)", first, err)
	}
	var ans grounded.Answer
	if err := json.Unmarshal([]byte(evs[2].data), &ans); err != nil || ans.Answer != cannedAnswer().Answer {
		t.Errorf("final answer %+v (%v)", ans, err)
	}
}

func TestAskStreamErrors(t *testing.T) {
	t.Run("before the first event: a JSON error", func(t *testing.T) {
		svc := &fakeService{AskFn: func(context.Context, string, int) (*grounded.Answer, error) {
			return nil, grounded.Errorf(grounded.EINVALID, "k must be between 1 and 100")
		}}
		resp, body := do(t, newTestServer(t, server.Config{}, svc), "POST", "/v1/ask", `{"question": "q", "stream": true}`)
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if code, _ := decodeError(t, resp, body); code != grounded.EINVALID {
			t.Errorf("code %s", code)
		}
	})
	t.Run("after events: an error event", func(t *testing.T) {
		svc := &streamFake{fail: errors.New("upstream broke")}
		ts := newStreamServer(t, svc)
		resp, err := http.Post(ts+"/v1/ask", "application/json", strings.NewReader(`{"question": "q", "stream": true}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		evs := readEvents(t, resp, 10)
		if len(evs) != 2 || evs[0].name != "sentence" || evs[1].name != "error" || !strings.Contains(evs[1].data, `"code":"internal"`) || strings.Contains(evs[1].data, "upstream broke") {
			t.Fatalf("events %+v, want a sentence then an internal error without its details", evs)
		}
	})
}

// streamFake emits one sentence, then fails or waits for the request to end.
type streamFake struct {
	fakeService
	fail     error
	canceled chan error
}

func (f *streamFake) Ask(ctx context.Context, req grounded.AskRequest) (*grounded.Answer, error) {
	emit := req.Emit
	if err := emit(grounded.Sentence{Text: "First.", Citations: []int{1}, Supported: true}); err != nil {
		if f.canceled != nil {
			f.canceled <- ctx.Err() // the client left while the sentence was written
		}
		return nil, err
	}
	if f.fail != nil {
		return nil, f.fail
	}
	select {
	case <-ctx.Done():
		f.canceled <- ctx.Err()
		return nil, ctx.Err()
	case <-time.After(10 * time.Second): // a watchdog, not synchronisation
		f.canceled <- nil
		return nil, errors.New("not cancelled")
	}
}

func newStreamServer(t *testing.T, svc server.Collection) string {
	t.Helper()
	ts := newTestServerFor(t, server.New(server.Config{Collections: only(svc)}))
	return ts
}

func TestAskStreamClientDisconnectCancels(t *testing.T) {
	svc := &streamFake{canceled: make(chan error, 1)}
	ts := newStreamServer(t, svc)
	resp, err := http.Post(ts+"/v1/ask", "application/json", strings.NewReader(`{"question": "q", "stream": true}`))
	if err != nil {
		t.Fatal(err)
	}
	if evs := readEvents(t, resp, 1); len(evs) != 1 || evs[0].name != "sentence" {
		t.Fatalf("events %+v", evs)
	}
	resp.Body.Close() // the client goes away mid-answer
	if err := <-svc.canceled; !errors.Is(err, context.Canceled) {
		t.Fatalf("the upstream call saw %v, want context.Canceled", err)
	}
}

// TestWherePassesThrough: the "where" object of /v1/ask and /v1/search
// reaches the service as a filter; a non-string value is a 400.
func TestWherePassesThrough(t *testing.T) {
	svc := &fakeService{Answer: cannedAnswer(), Hits: cannedHits()}
	ts := newTestServer(t, server.Config{}, svc)
	if resp, _ := do(t, ts, "POST", "/v1/ask", `{"question": "q", "where": {"type": "pdf", "source": "/docs/*"}}`); resp.StatusCode != http.StatusOK {
		t.Fatalf("ask status %d", resp.StatusCode)
	}
	if resp, _ := do(t, ts, "POST", "/v1/search", `{"query": "q", "where": {"team": "billing"}}`); resp.StatusCode != http.StatusOK {
		t.Fatalf("search status %d", resp.StatusCode)
	}
	svc.mu.Lock()
	got := svc.wheres
	svc.mu.Unlock()
	if len(got) != 2 || got[0]["type"] != "pdf" || got[0]["source"] != "/docs/*" || got[1]["team"] != "billing" {
		t.Fatalf("filters seen by the service: %v", got)
	}
	resp, body := do(t, ts, "POST", "/v1/search", `{"query": "q", "where": {"type": 3}}`)
	if code, _ := decodeError(t, resp, body); resp.StatusCode != http.StatusBadRequest || code != grounded.EINVALID {
		t.Fatalf("a non-string filter value: status %d code %s", resp.StatusCode, code)
	}
}
