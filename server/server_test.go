package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/server"
)

// call is one recorded call of the fake service.
type call struct {
	Method string // "Ask" or "Search"
	Text   string
	K      int
}

// fakeService is a server.Collection that records its calls and answers with
// AskFn / SearchFn, or with Answer / Hits when those are nil.
type fakeService struct {
	Answer   *grounded.Answer
	Hits     []grounded.Hit
	Stream   []grounded.Sentence // sentences Ask emits before answering, to req.Emit
	AskFn    func(ctx context.Context, question string, k int) (*grounded.Answer, error)
	SearchFn func(ctx context.Context, query string, k int) ([]grounded.Hit, error)

	Chunks int // reported by Len

	mu     sync.Mutex
	calls  []call
	wheres []grounded.Filter
	docs   map[string]*grounded.Document
}

var (
	_ server.Collection  = (*fakeService)(nil)
	_ server.Collections = (*fakeSet)(nil)
)

// fakeSet holds fake collections by name; only those listed exist.
type fakeSet struct {
	mu   sync.Mutex
	cols map[string]server.Collection
}

// only is a fakeSet whose one collection, "default", is svc.
func only(svc server.Collection) *fakeSet {
	return &fakeSet{cols: map[string]server.Collection{"default": svc}}
}

func (s *fakeSet) Collection(name string, create bool) (server.Collection, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.cols[name]; ok {
		return c, nil
	}
	if strings.ContainsAny(name, " /") {
		return nil, grounded.Errorf(grounded.EINVALID, "collection name %q is not valid", name)
	}
	if !create {
		return nil, grounded.Errorf(grounded.ENOTFOUND, "collection %q does not exist", name)
	}
	c := &fakeService{}
	s.cols[name] = c
	return c, nil
}

func (s *fakeSet) Names() ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := slices.Sorted(maps.Keys(s.cols))
	return names, nil
}

// The document methods keep uploads in memory, by source.
func (f *fakeService) Put(ctx context.Context, up grounded.Upload) (*grounded.PutResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.docs == nil {
		f.docs = map[string]*grounded.Document{}
	}
	hash := fmt.Sprintf("%x", sha256.Sum256(up.Data))
	id := fmt.Sprintf("%x", sha256.Sum256([]byte(up.Source)))[:16]
	outcome := "added"
	if old, ok := f.docs[id]; ok {
		outcome = "updated"
		if old.ContentHash == hash {
			outcome = "unchanged"
		}
	}
	d := &grounded.Document{ID: id, Source: up.Source, Title: up.Title, Format: up.Format, Text: string(up.Data), ContentHash: hash, Version: hash[:16], Chunks: 1}
	f.docs[id] = d
	meta := *d
	meta.Text = ""
	return &grounded.PutResult{Outcome: outcome, Document: &meta}, nil
}

func (f *fakeService) Documents(ctx context.Context, after string, limit int) ([]grounded.Document, int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var all []grounded.Document
	for _, d := range f.docs {
		m := *d
		m.Text = ""
		all = append(all, m)
	}
	slices.SortFunc(all, func(a, b grounded.Document) int { return strings.Compare(a.Source, b.Source) })
	out := []grounded.Document{}
	for _, d := range all {
		if d.Source > after && len(out) < limit {
			out = append(out, d)
		}
	}
	return out, len(all), nil
}

func (f *fakeService) Document(ctx context.Context, id string) (*grounded.Document, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if d, ok := f.docs[id]; ok {
		c := *d
		return &c, nil
	}
	return nil, grounded.Errorf(grounded.ENOTFOUND, "document %q is not in the collection", id)
}

func (f *fakeService) Delete(ctx context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.docs[id]; !ok {
		return grounded.Errorf(grounded.ENOTFOUND, "document %q is not in the collection", id)
	}
	delete(f.docs, id)
	return nil
}

func (f *fakeService) Len() int { return f.Chunks }

func (f *fakeService) record(c call) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, c)
}

// Calls returns a copy of the calls so far.
func (f *fakeService) Calls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// Ask and Search are the server's view: they record the call and the
// filter and answer with AskFn / SearchFn, or with Answer / Hits; Ask with
// an Emit emits Stream before answering.
func (f *fakeService) Ask(ctx context.Context, req grounded.AskRequest) (*grounded.Answer, error) {
	f.mu.Lock()
	f.wheres = append(f.wheres, req.Where)
	f.mu.Unlock()
	f.record(call{"Ask", req.Question, req.K})
	ans, err := f.Answer, error(nil)
	if f.AskFn != nil {
		ans, err = f.AskFn(ctx, req.Question, req.K)
	}
	if err != nil || req.Emit == nil {
		return ans, err
	}
	for _, st := range f.Stream {
		if err := req.Emit(st); err != nil {
			return nil, err
		}
	}
	return ans, nil
}

func (f *fakeService) Search(ctx context.Context, req grounded.SearchRequest) ([]grounded.Hit, error) {
	f.mu.Lock()
	f.wheres = append(f.wheres, req.Where)
	f.mu.Unlock()
	f.record(call{"Search", req.Query, req.K})
	if f.SearchFn != nil {
		return f.SearchFn(ctx, req.Query, req.K)
	}
	return f.Hits, nil
}

// Summarize and Extract are faked by fakeSummarizer and fakeExtractor.
func (f *fakeService) Summarize(context.Context, grounded.SummaryRequest) (*grounded.Summary, error) {
	return nil, errors.New("fakeService: no summaries")
}

func (f *fakeService) Extract(context.Context, grounded.ExtractRequest) (*grounded.Extraction, error) {
	return nil, errors.New("fakeService: no extraction")
}

// Check is faked by fakeChecker.
func (f *fakeService) Check(context.Context, grounded.CheckRequest) (*grounded.CheckResult, error) {
	return nil, errors.New("fakeService: no checks")
}

// cannedAnswer is an answer with every field set, so that a dropped or renamed
// field shows up.
func cannedAnswer() *grounded.Answer {
	return &grounded.Answer{
		Question: "Can a language model draw?",
		Answer:   "No, it generates text. [1] Diffusion models generate images. [2]",
		Citations: []grounded.Citation{
			{N: 1, DocID: "doc-a", Source: "corpus/a.md", Title: "A", Section: "A > Intro", Quote: "No, it generates text.", Start: 10, End: 32, Score: 1},
			{N: 2, DocID: "doc-b", Source: "/abs/b.md", Title: "B", Section: "", Quote: "Diffusion models generate images.", Start: 0, End: 33, Score: 0.5},
		},
		Generator: "fake",
		Timing:    &grounded.Timing{RetrievalMs: 1.5, GenerationMs: 0.25},
	}
}

func cannedHits() []grounded.Hit {
	return []grounded.Hit{
		{Chunk: grounded.Chunk{ID: "doc-a-00000", DocID: "doc-a", Ord: 0, Source: "corpus/a.md", Title: "A", Section: "A > Intro", Start: 0, End: 11, Text: "Hello world", Tokens: 2},
			Score: 0.03, LexicalScore: 4.2, LexicalRank: 1, VectorScore: 0.7, VectorRank: 2},
		{Chunk: grounded.Chunk{ID: "doc-b-00003", DocID: "doc-b", Ord: 3, Source: "/abs/b.md", Title: "B", Section: "", Start: 100, End: 120, Text: "twenty bytes of text", Tokens: 4},
			Score: 0.01, LexicalRank: 0, VectorScore: 0.2, VectorRank: 1},
	}
}

// newTestServer starts the API over svc, the default collection, with cfg
// (its Collections is replaced).
func newTestServer(t *testing.T, cfg server.Config, svc *fakeService) *httptest.Server {
	t.Helper()
	cfg.Collections = only(svc)
	ts := httptest.NewServer(server.New(cfg))
	t.Cleanup(ts.Close)
	return ts
}

func do(t *testing.T, ts *httptest.Server, method, path, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return resp, data
}

type errorBody struct {
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// decodeError checks that resp is a JSON error of the shape
// {"error":{"code","message"}} with nothing else, and returns code and message.
func decodeError(t *testing.T, resp *http.Response, body []byte) (code, message string) {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json; body %q", ct, body)
	}
	var raw map[string]map[string]any
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatalf("error body %q is not a JSON object of objects: %v", body, err)
	}
	if len(raw) != 1 || raw["error"] == nil {
		t.Fatalf("error body %q: want exactly one key, \"error\"", body)
	}
	if got := slices.Sorted(maps.Keys(raw["error"])); !slices.Equal(got, []string{"code", "message"}) {
		t.Errorf("error body %q: keys of error = %v, want [code message]", body, got)
	}
	var eb errorBody
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&eb); err != nil {
		t.Fatalf("error body %q: %v", body, err)
	}
	if eb.Error.Code == "" || eb.Error.Message == "" {
		t.Errorf("error body %q: empty code or message", body)
	}
	return eb.Error.Code, eb.Error.Message
}

func TestErrors(t *testing.T) {
	blockUntilDone := func(ctx context.Context, _ string, _ int) (*grounded.Answer, error) {
		<-ctx.Done()
		return nil, fmt.Errorf("ask: %w", ctx.Err())
	}
	tests := []struct {
		name         string
		cfg          server.Config
		ask          func(context.Context, string, int) (*grounded.Answer, error)
		method, path string
		body         string
		wantStatus   int
		wantCode     string
		wantInMsg    []string // substrings of the message
		notInMsg     []string
		wantCalls    int // calls that reach the service
	}{
		{name: "bad JSON", method: "POST", path: "/v1/ask", body: `{question: "x"}`,
			wantStatus: 400, wantCode: "invalid", wantInMsg: []string{"not valid JSON"}},
		{name: "truncated JSON", method: "POST", path: "/v1/ask", body: `{"question": "x"`,
			wantStatus: 400, wantCode: "invalid", wantInMsg: []string{"truncated"}},
		{name: "empty body", method: "POST", path: "/v1/ask", body: ``,
			wantStatus: 400, wantCode: "invalid", wantInMsg: []string{"empty"}},
		{name: "JSON array", method: "POST", path: "/v1/ask", body: `["x"]`,
			wantStatus: 400, wantCode: "invalid"},
		{name: "JSON null", method: "POST", path: "/v1/ask", body: `null`,
			wantStatus: 400, wantCode: "invalid", wantInMsg: []string{"question is empty"}},
		{name: "no question", method: "POST", path: "/v1/ask", body: `{"k": 3}`,
			wantStatus: 400, wantCode: "invalid", wantInMsg: []string{"question is empty"}},
		{name: "empty question", method: "POST", path: "/v1/ask", body: `{"question": ""}`,
			wantStatus: 400, wantCode: "invalid", wantInMsg: []string{"question is empty"}},
		{name: "whitespace question", method: "POST", path: "/v1/ask", body: `{"question": " \t\n "}`,
			wantStatus: 400, wantCode: "invalid", wantInMsg: []string{"question is empty"}},
		{name: "whitespace query", method: "POST", path: "/v1/search", body: `{"query": "  "}`,
			wantStatus: 400, wantCode: "invalid", wantInMsg: []string{"query is empty"}},
		{name: "question sent to search", method: "POST", path: "/v1/search", body: `{"question": "x"}`,
			wantStatus: 400, wantCode: "invalid", wantInMsg: []string{"question"}},
		{name: "unknown field", method: "POST", path: "/v1/ask", body: `{"question": "x", "top_k": 3}`,
			wantStatus: 400, wantCode: "invalid", wantInMsg: []string{"unknown field", "top_k"}},
		{name: "wrong type", method: "POST", path: "/v1/ask", body: `{"question": "x", "k": "five"}`,
			wantStatus: 400, wantCode: "invalid", wantInMsg: []string{`"k"`, "number"}},
		{name: "wrong type question", method: "POST", path: "/v1/ask", body: `{"question": 5}`,
			wantStatus: 400, wantCode: "invalid", wantInMsg: []string{`"question"`, "string"}},
		{name: "fractional k", method: "POST", path: "/v1/search", body: `{"query": "x", "k": 1.5}`,
			wantStatus: 400, wantCode: "invalid", wantInMsg: []string{`"k"`}},
		{name: "trailing garbage", method: "POST", path: "/v1/ask", body: `{"question": "x"} garbage`,
			wantStatus: 400, wantCode: "invalid", wantInMsg: []string{"trailing"}},
		{name: "second object", method: "POST", path: "/v1/ask", body: `{"question": "x"}{"question": "y"}`,
			wantStatus: 400, wantCode: "invalid", wantInMsg: []string{"trailing"}},
		{name: "body over limit", cfg: server.Config{MaxBodyBytes: 64}, method: "POST", path: "/v1/ask",
			body:       `{"question": "` + strings.Repeat("a", 200) + `"}`,
			wantStatus: 413, wantCode: "too_large", wantInMsg: []string{"64"}},
		{name: "question over limit", cfg: server.Config{MaxQuestionBytes: 16}, method: "POST", path: "/v1/ask",
			body:       `{"question": "` + strings.Repeat("a", 17) + `"}`,
			wantStatus: 400, wantCode: "invalid", wantInMsg: []string{"17", "16"}},
		{name: "query over limit", cfg: server.Config{MaxQuestionBytes: 16}, method: "POST", path: "/v1/search",
			body:       `{"query": "` + strings.Repeat("a", 17) + `"}`,
			wantStatus: 400, wantCode: "invalid", wantInMsg: []string{"query"}},
		{name: "GET ask", method: "GET", path: "/v1/ask",
			wantStatus: 405, wantCode: "method_not_allowed", wantInMsg: []string{"GET"}},
		{name: "POST healthz", method: "POST", path: "/healthz", body: `{}`,
			wantStatus: 405, wantCode: "method_not_allowed"},
		{name: "unknown route", method: "GET", path: "/v2/nothing",
			wantStatus: 404, wantCode: "not_found", wantInMsg: []string{"/v2/nothing"}},
		{name: "service invalid", method: "POST", path: "/v1/ask", body: `{"question": "x", "k": 1000}`,
			ask: func(context.Context, string, int) (*grounded.Answer, error) {
				return nil, fmt.Errorf("ask: %w", grounded.Errorf(grounded.EINVALID, "k must be between 1 and %d", 100))
			},
			wantStatus: 400, wantCode: "invalid", wantInMsg: []string{"k must be between 1 and 100"}, wantCalls: 1},
		{name: "service conflict", method: "POST", path: "/v1/ask", body: `{"question": "x"}`,
			ask: func(context.Context, string, int) (*grounded.Answer, error) {
				return nil, grounded.Errorf(grounded.ECONFLICT, "index was built by another embedder")
			},
			wantStatus: 409, wantCode: "conflict", wantInMsg: []string{"another embedder"}, wantCalls: 1},
		{name: "service plain error", method: "POST", path: "/v1/ask", body: `{"question": "x"}`,
			ask: func(context.Context, string, int) (*grounded.Answer, error) {
				return nil, errors.New("open /secret/path/grounded.db: disk I/O error")
			},
			wantStatus: 500, wantCode: "internal", wantInMsg: []string{"internal error"},
			notInMsg: []string{"secret", "disk"}, wantCalls: 1},
		{name: "service error with hidden cause", method: "POST", path: "/v1/ask", body: `{"question": "x"}`,
			ask: func(context.Context, string, int) (*grounded.Answer, error) {
				return nil, &grounded.Error{Code: grounded.EINTERNAL, Message: "index unavailable", Err: errors.New("secret cause")}
			},
			wantStatus: 500, wantCode: "internal", wantInMsg: []string{"index unavailable"},
			notInMsg: []string{"secret"}, wantCalls: 1},
		{name: "service unknown code", method: "POST", path: "/v1/ask", body: `{"question": "x"}`,
			ask: func(context.Context, string, int) (*grounded.Answer, error) {
				return nil, grounded.Errorf("teapot", "short and stout")
			},
			wantStatus: 500, wantCode: "teapot", wantCalls: 1},
		{name: "service panics", method: "POST", path: "/v1/ask", body: `{"question": "x"}`,
			ask: func(context.Context, string, int) (*grounded.Answer, error) {
				panic("secret panic value")
			},
			wantStatus: 500, wantCode: "internal", wantInMsg: []string{"internal error"},
			notInMsg: []string{"secret"}, wantCalls: 1},
		{name: "service times out", cfg: server.Config{RequestTimeout: 20 * time.Millisecond},
			method: "POST", path: "/v1/ask", body: `{"question": "x"}`, ask: blockUntilDone,
			wantStatus: 504, wantCode: "timeout", wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := &fakeService{Answer: cannedAnswer(), Hits: cannedHits(), AskFn: tt.ask}
			ts := newTestServer(t, tt.cfg, svc)
			resp, body := do(t, ts, tt.method, tt.path, tt.body)
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d; body %s", resp.StatusCode, tt.wantStatus, body)
			}
			code, msg := decodeError(t, resp, body)
			if code != tt.wantCode {
				t.Errorf("code = %q, want %q (message %q)", code, tt.wantCode, msg)
			}
			for _, s := range tt.wantInMsg {
				if !strings.Contains(msg, s) {
					t.Errorf("message %q does not contain %q", msg, s)
				}
			}
			for _, s := range tt.notInMsg {
				if strings.Contains(msg, s) {
					t.Errorf("message %q leaks %q", msg, s)
				}
			}
			if got := len(svc.Calls()); got != tt.wantCalls {
				t.Errorf("service called %d times, want %d: %+v", got, tt.wantCalls, svc.Calls())
			}

			// Whatever went wrong, the server still answers the next request.
			svc.AskFn = nil
			resp, body = do(t, ts, "POST", "/v1/ask", `{"question": "still there?"}`)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("next request: status = %d, want 200; body %s", resp.StatusCode, body)
			}
		})
	}
}

func TestAsk(t *testing.T) {
	want := cannedAnswer()
	svc := &fakeService{Answer: want}
	ts := newTestServer(t, server.Config{}, svc)

	resp, body := do(t, ts, "POST", "/v1/ask", `{"question": "Can a language model draw?", "k": 7}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	if got, wantCalls := svc.Calls(), []call{{"Ask", "Can a language model draw?", 7}}; !reflect.DeepEqual(got, wantCalls) {
		t.Errorf("calls = %+v, want %+v", got, wantCalls)
	}

	// The wire format: exactly these keys ("reason" and the model fields are
	// omitted when empty; invalid_citations, reattributed_citations and
	// confidence are always there).
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	if got, wantKeys := slices.Sorted(maps.Keys(raw)), []string{"abstained", "answer", "citations", "confidence", "generator", "invalid_citations", "question", "reattributed_citations", "timing"}; !slices.Equal(got, wantKeys) {
		t.Errorf("answer keys = %v, want %v", got, wantKeys)
	}
	var cites []map[string]json.RawMessage
	if err := json.Unmarshal(raw["citations"], &cites); err != nil {
		t.Fatalf("citations %s: %v", raw["citations"], err)
	}
	wantCiteKeys := []string{"doc_id", "end", "n", "quote", "score", "section", "source", "start", "title"}
	for i, c := range cites {
		if got := slices.Sorted(maps.Keys(c)); !slices.Equal(got, wantCiteKeys) {
			t.Errorf("citation %d keys = %v, want %v", i, got, wantCiteKeys)
		}
	}

	// And the values: exactly the service's answer.
	var got grounded.Answer
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	if !reflect.DeepEqual(&got, want) {
		t.Errorf("answer = %+v\nwant %+v", got, want)
	}
}

func TestAskAbstention(t *testing.T) {
	want := &grounded.Answer{Question: "What is the capital of Mongolia?", Abstained: true,
		Reason: grounded.ReasonNoEvidence, Citations: []grounded.Citation{}, Generator: "fake"}
	ts := newTestServer(t, server.Config{}, &fakeService{Answer: want})

	resp, body := do(t, ts, "POST", "/v1/ask", `{"question": "What is the capital of Mongolia?"}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("an abstention is a success: status = %d, want 200; body %s", resp.StatusCode, body)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	if string(raw["reason"]) != `"no_evidence"` || string(raw["abstained"]) != "true" || string(raw["citations"]) != "[]" {
		t.Errorf("abstention body = %s, want abstained true, reason no_evidence, citations []", body)
	}
}

func TestSearch(t *testing.T) {
	hits := cannedHits()
	svc := &fakeService{Hits: hits}
	ts := newTestServer(t, server.Config{}, svc)

	resp, body := do(t, ts, "POST", "/v1/search", `{"query": "hello", "k": 2}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", resp.StatusCode, body)
	}
	if got, wantCalls := svc.Calls(), []call{{"Search", "hello", 2}}; !reflect.DeepEqual(got, wantCalls) {
		t.Errorf("calls = %+v, want %+v", got, wantCalls)
	}
	var raw map[string][]map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	if len(raw) != 1 || len(raw["results"]) != len(hits) {
		t.Fatalf("body %s: want {\"results\": [%d results]}", body, len(hits))
	}
	for i, r := range raw["results"] {
		for _, key := range []string{"doc_id", "source", "title", "section", "text", "score", "start", "end"} {
			if _, ok := r[key]; !ok {
				t.Errorf("result %d has no %q: %v", i, key, slices.Sorted(maps.Keys(r)))
			}
		}
	}

	var got server.SearchResponse
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if want := grounded.Results(hits); !reflect.DeepEqual(got.Results, want) {
		t.Errorf("results = %+v\nwant %+v", got.Results, want)
	}
	for i, r := range got.Results {
		h := hits[i]
		if r.DocID != h.DocID || r.Text != h.Text || r.Start != h.Start || r.End != h.End || r.Score != h.Score || r.Source != h.Source {
			t.Errorf("result %d = %+v, does not match hit %+v", i, r, h)
		}
	}
}

func TestSearchNoResults(t *testing.T) {
	ts := newTestServer(t, server.Config{}, &fakeService{Hits: nil})
	resp, body := do(t, ts, "POST", "/v1/search", `{"query": "nothing matches"}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", resp.StatusCode, body)
	}
	if got := strings.TrimSpace(string(body)); got != `{"results":[]}` {
		t.Errorf("body = %s, want {\"results\":[]} (an empty list, not null)", got)
	}
}

func TestHealthz(t *testing.T) {
	tests := []struct {
		name   string
		chunks int
		want   map[string]any
	}{
		{"with chunks", 99, map[string]any{"status": "ok", "chunks": float64(99)}},
		{"empty", 0, map[string]any{"status": "ok", "chunks": float64(0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := &fakeService{Chunks: tt.chunks}
			ts := newTestServer(t, server.Config{}, svc)
			resp, body := do(t, ts, "GET", "/healthz", "")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d, want 200; body %s", resp.StatusCode, body)
			}
			var got map[string]any
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("body %s: %v", body, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("healthz = %v, want %v", got, tt.want)
			}
			if n := len(svc.Calls()); n != 0 {
				t.Errorf("healthz called the service %d times", n)
			}
		})
	}
}

// TestConcurrentRequests runs requests in parallel under -race.
func TestConcurrentRequests(t *testing.T) {
	svc := &fakeService{Answer: cannedAnswer(), Hits: cannedHits()}
	ts := newTestServer(t, server.Config{}, svc)
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			path, body := "/v1/ask", fmt.Sprintf(`{"question": "q%d"}`, i)
			if i%2 == 1 {
				path, body = "/v1/search", fmt.Sprintf(`{"query": "q%d"}`, i)
			}
			resp, err := ts.Client().Post(ts.URL+path, "application/json", strings.NewReader(body))
			if err != nil {
				errs <- err
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				errs <- fmt.Errorf("%s: status %d", path, resp.StatusCode)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := len(svc.Calls()); got != n {
		t.Errorf("service saw %d calls, want %d", got, n)
	}
}

// FuzzAskBody: no request body makes the API fail with a 5xx or answer
// anything but JSON.
func FuzzAskBody(f *testing.F) {
	for _, seed := range []string{
		``, `{}`, `null`, `[]`, `"x"`, `{"question":"x"}`, `{"question":"x","k":5}`,
		`{"question":"x"} {}`, `{"question":"x","k":"5"}`, `{"question":"\ud800"}`,
		`{"question":"x","k":1e400}`, `{"question":"x","question":"y"}`, `{"QUESTION":"x"}`,
		"{\"question\":\"\xff\xfe\"}", `{"question":"x","k":-1}`, `{"question":{"a":1}}`,
	} {
		f.Add([]byte(seed))
	}
	svc := &fakeService{Answer: cannedAnswer(), Hits: cannedHits()}
	h := server.New(server.Config{Collections: only(svc), MaxBodyBytes: 4096, MaxQuestionBytes: 256})
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, path := range []string{"/v1/ask", "/v1/search"} {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("POST", path, bytes.NewReader(body))
			h.ServeHTTP(rec, req)
			switch rec.Code {
			case http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			default:
				t.Fatalf("POST %s %q: status %d, body %s", path, body, rec.Code, rec.Body)
			}
			if !json.Valid(rec.Body.Bytes()) {
				t.Fatalf("POST %s %q: body is not JSON: %q", path, body, rec.Body)
			}
		}
	})
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestLogsOneLinePerRequest(t *testing.T) {
	var logs syncBuffer
	svc := &fakeService{AskFn: func(_ context.Context, q string, _ int) (*grounded.Answer, error) {
		if q == "panic" {
			panic("boom")
		}
		return cannedAnswer(), nil
	}}
	h := server.New(server.Config{Collections: only(svc), Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	requests := []struct {
		method, path, body string
		want               string
	}{
		{"POST", "/v1/ask", `{"question": "x"}`, "status=200"},
		{"POST", "/v1/ask", `{"question": ""}`, "status=400"},
		{"POST", "/v1/ask", `{"question": "panic"}`, "status=500"},
		{"GET", "/nowhere", ``, "status=404"},
	}
	for _, r := range requests {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(r.method, r.path, strings.NewReader(r.body)))
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if strings.Contains(l, "msg=request") {
			lines = append(lines, l)
		}
	}
	if len(lines) != len(requests) {
		t.Fatalf("got %d request log lines, want %d:\n%s", len(lines), len(requests), logs.String())
	}
	for i, r := range requests {
		if !strings.Contains(lines[i], "path="+r.path) || !strings.Contains(lines[i], r.want) {
			t.Errorf("log line %d = %q, want path=%s and %s", i, lines[i], r.path, r.want)
		}
	}
	if !strings.Contains(logs.String(), "msg=panic") {
		t.Errorf("the panic was not logged:\n%s", logs.String())
	}
}

// TestLenientBodies: what curl and hand-written clients send is accepted.
func TestLenientBodies(t *testing.T) {
	for _, body := range []string{
		"{\"question\": \"x\"}\n",
		"\n\t {\"question\": \"x\"} \r\n\n",
		`{"question": "x", "k": 0}`,
		`{"question": "x", "k": null}`,
	} {
		svc := &fakeService{Answer: cannedAnswer()}
		ts := newTestServer(t, server.Config{}, svc)
		resp, got := do(t, ts, "POST", "/v1/ask", body)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("body %q: status %d, want 200; %s", body, resp.StatusCode, got)
		}
		if calls := svc.Calls(); len(calls) != 1 || calls[0].Text != "x" || calls[0].K != 0 {
			t.Errorf("body %q: calls = %+v, want one Ask(\"x\", 0)", body, calls)
		}
	}
}

// newTestServerFor serves h and returns its URL.
func newTestServerFor(t *testing.T, h http.Handler) string {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts.URL
}
