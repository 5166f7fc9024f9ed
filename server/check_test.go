package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/server"
)

// fakeChecker is a collection that checks: it records the request, checks
// it as the real collection does (CheckRequest.Check), and answers with
// one supported sentence. With block set, Check waits for it to close.
type fakeChecker struct {
	*fakeService
	mu      sync.Mutex
	got     *grounded.CheckRequest
	started chan struct{}
	block   chan struct{}
}

var _ server.Collection = (*fakeChecker)(nil)

func (f *fakeChecker) Check(ctx context.Context, req grounded.CheckRequest) (*grounded.CheckResult, error) {
	f.mu.Lock()
	f.got = &req
	f.mu.Unlock()
	if err := req.Check(); err != nil {
		return nil, err
	}
	if slices.Contains(req.DocIDs, "missing") {
		return nil, grounded.Errorf(grounded.ENOTFOUND, "document %q is not in collection", "missing")
	}
	if f.block != nil {
		f.started <- struct{}{}
		<-f.block
	}
	return &grounded.CheckResult{
		Score: 0.9,
		Sentences: []grounded.CheckedSentence{{Text: "Refunds take 14 days.", Citations: []int{1}, Verdict: grounded.VerdictSupported, Score: 0.9,
			Reason: "passage 1 supports it", Evidence: &grounded.CheckEvidence{Passage: 1, Quote: "Refunds take 14 days.", Start: 0, End: 21}}},
		Supported: 1,
	}, nil
}

func (f *fakeChecker) request() *grounded.CheckRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.got
}

// passagesJSON is n inline passages as JSON.
func passagesJSON(n int) string {
	ps := make([]string, n)
	for i := range ps {
		ps[i] = fmt.Sprintf(`{"text": "Passage %d says something."}`, i+1)
	}
	return "[" + strings.Join(ps, ", ") + "]"
}

func TestCheckRoute(t *testing.T) {
	fc := &fakeChecker{fakeService: &fakeService{}}
	ts := httptest.NewServer(server.New(server.Config{Collections: only(fc), MaxBodyBytes: 256 << 10}))
	t.Cleanup(ts.Close)

	good := []struct {
		name, path, body string
		want             grounded.CheckRequest
	}{
		{"answer and passages", "/v1/check", `{"answer": "Refunds take 14 days [1].", "passages": [{"text": "Refunds take 14 days.", "source": "r.md"}]}`,
			grounded.CheckRequest{Answer: "Refunds take 14 days [1].", Passages: []grounded.CheckPassage{{Text: "Refunds take 14 days.", Source: "r.md"}}}},
		{"sentences", "/v1/check", `{"sentences": ["Refunds take 14 days [1].", "Free shipping."], "passages": [{"text": "Refunds take 14 days."}]}`,
			grounded.CheckRequest{Sentences: []string{"Refunds take 14 days [1].", "Free shipping."}, Passages: []grounded.CheckPassage{{Text: "Refunds take 14 days."}}}},
		{"documents", "/v1/check", `{"answer": "x [1]", "doc_ids": ["d1", "d2"]}`, grounded.CheckRequest{Answer: "x [1]", DocIDs: []string{"d1", "d2"}}},
		{"chunks", "/v1/check", `{"answer": "x [1]", "chunk_ids": ["d1-00000"]}`, grounded.CheckRequest{Answer: "x [1]", ChunkIDs: []string{"d1-00000"}}},
		{"question", "/v1/check?collection=default", `{"answer": "x [1]", "question": "refunds?", "k": 3, "where": {"type": "pdf"}}`,
			grounded.CheckRequest{Answer: "x [1]", Question: "refunds?", K: 3, Where: grounded.Filter{"type": "pdf"}}},
		{"markers out of range are the checker's to report", "/v1/check", `{"answer": "x [9] [0]", "passages": [{"text": "y"}]}`,
			grounded.CheckRequest{Answer: "x [9] [0]", Passages: []grounded.CheckPassage{{Text: "y"}}}},
		{"100 passages", "/v1/check", `{"answer": "x [100]", "passages": ` + passagesJSON(100) + `}`, grounded.CheckRequest{Answer: "x [100]"}},
	}
	for _, tt := range good {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, ts, "POST", tt.path, tt.body)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			got := fc.request()
			if got == nil || got.Answer != tt.want.Answer || !slices.Equal(got.Sentences, tt.want.Sentences) ||
				(tt.want.Passages != nil && !slices.Equal(got.Passages, tt.want.Passages)) || !slices.Equal(got.DocIDs, tt.want.DocIDs) ||
				!slices.Equal(got.ChunkIDs, tt.want.ChunkIDs) || got.Question != tt.want.Question || got.K != tt.want.K || len(got.Where) != len(tt.want.Where) {
				t.Errorf("request reached the collection as %+v, want %+v", got, tt.want)
			}
			var res grounded.CheckResult
			dec := json.NewDecoder(strings.NewReader(string(body)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&res); err != nil || len(res.Sentences) != 1 {
				t.Fatalf("body %s: %v", body, err)
			}
			for _, key := range []string{`"score":0.9`, `"verdict":"supported"`, `"evidence":{"passage":1,"quote":"Refunds take 14 days.","start":0,"end":21}`, `"citations":[1]`, `"reattributed_citations":0`} {
				if !strings.Contains(string(body), key) {
					t.Errorf("body lacks %s: %s", key, body)
				}
			}
		})
	}

	long := strings.Repeat("a", 4097)
	bad := []struct {
		name, body, ctype, code, msg string
		status                       int
	}{
		{"unknown field", `{"answer": "x", "passages": [{"text": "y"}], "passage": 1}`, "", "invalid", `unknown field "passage"`, 400},
		{"unknown passage field", `{"answer": "x", "passages": [{"text": "y", "url": "u"}]}`, "", "invalid", `unknown field "url"`, 400},
		{"not JSON", `answer=x`, "application/x-www-form-urlencoded", "unsupported_media_type", "application/json", 415},
		{"text body", `{"answer": "x"}`, "text/plain", "unsupported_media_type", "application/json", 415},
		{"empty body", ``, "application/json", "invalid", "empty", 400},
		{"trailing data", `{"answer": "x", "passages": [{"text": "y"}]} {}`, "", "invalid", "trailing data", 400},
		{"invalid UTF-8", "{\"answer\": \"x \xff\", \"passages\": [{\"text\": \"y\"}]}", "", "invalid", "not valid UTF-8", 400},
		{"answer a number", `{"answer": 5, "passages": [{"text": "y"}]}`, "", "invalid", `"answer" must be a JSON string`, 400},
		{"passages an object", `{"answer": "x", "passages": {"text": "y"}}`, "", "invalid", `"passages"`, 400},
		{"no answer", `{"passages": [{"text": "y"}]}`, "", "invalid", "say what to check", 400},
		{"blank answer", `{"answer": "  ", "passages": [{"text": "y"}]}`, "", "invalid", "answer is empty", 400},
		{"answer and sentences", `{"answer": "x", "sentences": ["y"], "passages": [{"text": "y"}]}`, "", "invalid", "not both", 400},
		{"blank sentence", `{"sentences": ["x", " "], "passages": [{"text": "y"}]}`, "", "invalid", "sentence 2 is empty", 400},
		{"201 sentences", `{"sentences": [` + strings.TrimSuffix(strings.Repeat(`"x",`, 201), ",") + `], "passages": [{"text": "y"}]}`, "", "invalid", "201 sentences; the limit is 200", 400},
		{"no evidence", `{"answer": "x"}`, "", "invalid", "give the evidence", 400},
		{"two kinds of evidence", `{"answer": "x", "passages": [{"text": "y"}], "doc_ids": ["d1"]}`, "", "invalid", "one way", 400},
		{"101 passages", `{"answer": "x", "passages": ` + passagesJSON(101) + `}`, "", "invalid", "101 passages; the limit is 100", 400},
		{"blank passage", `{"answer": "x", "passages": [{"text": "y"}, {"text": "", "source": "s"}]}`, "", "invalid", "passage 2 has no text", 400},
		{"passages over the text limit", `{"answer": "x", "passages": [{"text": "` + strings.Repeat("b", grounded.MaxCheckEvidenceBytes+1) + `"}]}`, "", "too_large", "limit", 413},
		{"empty doc id", `{"answer": "x", "doc_ids": ["d1", ""]}`, "", "invalid", "id 2 is empty", 400},
		{"k without question", `{"answer": "x", "passages": [{"text": "y"}], "k": 3}`, "", "invalid", "k applies", 400},
		{"k out of range", `{"answer": "x", "question": "q", "k": 101}`, "", "invalid", "k must be", 400},
		{"question too long", `{"answer": "x", "question": "` + long + `"}`, "", "invalid", "question is 4097 bytes", 400},
		{"missing document", `{"answer": "x", "doc_ids": ["missing"]}`, "", "not_found", "missing", 404},
		{"missing collection", `{"answer": "x", "passages": [{"text": "y"}], "collection": "other"}`, "", "not_found", "other", 404},
		{"two collections named", `{"answer": "x", "passages": [{"text": "y"}], "collection": "a"}`, "", "invalid", "query string", 400},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			path := "/v1/check"
			if tt.name == "two collections named" {
				path += "?collection=b"
			}
			req, err := http.NewRequest("POST", ts.URL+path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			ctype := tt.ctype
			if ctype == "" {
				ctype = "application/json"
			}
			req.Header.Set("Content-Type", ctype)
			resp, err := ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body [4096]byte
			n, _ := resp.Body.Read(body[:])
			code, msg := decodeError(t, resp, body[:n])
			if resp.StatusCode != tt.status || code != tt.code || !strings.Contains(msg, tt.msg) {
				t.Errorf("%d %s %q, want %d %s containing %q", resp.StatusCode, code, msg, tt.status, tt.code, tt.msg)
			}
		})
	}
}

// TestCheckAccess: /v1/check is under API keys and collection scoping, the
// rate limit and the answer slots like the other routes.
func TestCheckAccess(t *testing.T) {
	inline := `{"answer": "x [1]", "passages": [{"text": "y"}]`
	t.Run("keys", func(t *testing.T) {
		ts := newKeyedServer(t, server.Config{})
		for _, tt := range []struct {
			name, auth, body string
			status           int
		}{
			{"no key", "", inline + `}`, 401},
			{"limited key, default collection", "Bearer " + supportSecret, inline + `}`, 403},
			{"limited key, other collection", "Bearer " + supportSecret, inline + `, "collection": "b"}`, 403},
			{"limited key, its collection", "Bearer " + supportSecret, inline + `, "collection": "a"}`, 500}, // the fake collection has no Check
			{"unlimited key", "Bearer " + adminSecret, inline + `}`, 500},
		} {
			resp, body := doAuth(t, ts, tt.auth, "POST", "/v1/check", tt.body)
			if resp.StatusCode != tt.status {
				t.Errorf("%s: status %d, want %d; %s", tt.name, resp.StatusCode, tt.status, body)
			}
		}
	})
	t.Run("rate limit", func(t *testing.T) {
		fc := &fakeChecker{fakeService: &fakeService{}}
		ts := httptest.NewServer(server.New(server.Config{Collections: only(fc), RateLimit: slowRate, RateBurst: 1}))
		t.Cleanup(ts.Close)
		if resp, body := do(t, ts, "POST", "/v1/check", inline+`}`); resp.StatusCode != 200 {
			t.Fatalf("first: status %d: %s", resp.StatusCode, body)
		}
		resp, body := do(t, ts, "POST", "/v1/check", inline+`}`)
		checkRateLimited(t, resp, body)
	})
	t.Run("answer slots", func(t *testing.T) {
		fc := &fakeChecker{fakeService: &fakeService{Answer: cannedAnswer()}, started: make(chan struct{}), block: make(chan struct{})}
		ts := httptest.NewServer(server.New(server.Config{Collections: only(fc), MaxConcurrent: 1}))
		t.Cleanup(ts.Close)
		results := make(chan result, 1)
		go post(ts, "/v1/check", inline+`}`, results)
		<-fc.started
		if resp, body := do(t, ts, "POST", "/v1/ask", `{"question": "x"}`); resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("ask while a check runs: status %d, want 503; %s", resp.StatusCode, body)
		}
		close(fc.block)
		if r := <-results; r.status != 200 {
			t.Errorf("the check: %+v", r)
		}
	})
}
