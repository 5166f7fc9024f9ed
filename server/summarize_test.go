package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/server"
)

// fakeSummarizer is a collection that summarizes: it records the request
// and answers with a one-sentence summary.
type fakeSummarizer struct {
	*fakeService
	got *grounded.SummaryRequest
}

var _ server.Collection = (*fakeSummarizer)(nil)

func (f *fakeSummarizer) Summarize(ctx context.Context, req grounded.SummaryRequest) (*grounded.Summary, error) {
	f.got = &req
	if err := req.Check(); err != nil {
		return nil, err
	}
	if slices.Contains(req.DocIDs, "missing") {
		return nil, grounded.Errorf(grounded.ENOTFOUND, "document %q is not in collection", "missing")
	}
	return &grounded.Summary{
		Summary:   "Refunds take 30 days. [1]",
		Sentences: []grounded.Sentence{{Text: "Refunds take 30 days.", Citations: []int{1}, Support: 1, Supported: true}},
		Citations: []grounded.Citation{{N: 1, DocID: "d1", Source: "a.md", Quote: "Refunds take 30 days.", Start: 4, End: 25}},
		Generator: "extractive",
		Coverage:  grounded.SummaryCoverage{Documents: 1, Chunks: 2, ChunksSummarized: 2, SentencesConsidered: 9},
	}, nil
}

func TestSummarizeRoute(t *testing.T) {
	fs := &fakeSummarizer{fakeService: &fakeService{}}
	ts := httptest.NewServer(server.New(server.Config{Collections: only(fs)}))
	t.Cleanup(ts.Close)

	good := []struct {
		name, body string
		want       grounded.SummaryRequest
	}{
		{"doc", `{"doc_id": "d1", "length": 3}`, grounded.SummaryRequest{DocIDs: []string{"d1"}, Length: 3}},
		{"docs", `{"doc_id": "d1", "doc_ids": ["d2", "d3"]}`, grounded.SummaryRequest{DocIDs: []string{"d1", "d2", "d3"}}},
		{"prefix", `{"source": "/docs/*", "where": {"type": "html"}}`, grounded.SummaryRequest{Sources: []string{"/docs/*"}, Where: grounded.Filter{"type": "html"}}},
		{"sources", `{"sources": ["a.md", "b.md"]}`, grounded.SummaryRequest{Sources: []string{"a.md", "b.md"}}},
		{"query", `{"query": "refunds", "k": 10, "length": 50}`, grounded.SummaryRequest{Query: "refunds", K: 10, Length: 50}},
	}
	for _, tt := range good {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, ts, "POST", "/v1/summarize", tt.body)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			got := fs.got
			if got == nil || !slices.Equal(got.DocIDs, tt.want.DocIDs) || !slices.Equal(got.Sources, tt.want.Sources) ||
				got.Query != tt.want.Query || got.K != tt.want.K || got.Length != tt.want.Length || len(got.Where) != len(tt.want.Where) {
				t.Errorf("request reached the collection as %+v, want %+v", got, tt.want)
			}
			var sum grounded.Summary
			dec := json.NewDecoder(strings.NewReader(string(body)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&sum); err != nil || sum.Citations[0].Quote != "Refunds take 30 days." || sum.Coverage.SentencesConsidered != 9 {
				t.Errorf("body %s: %v", body, err)
			}
			if !strings.Contains(string(body), `"coverage":{"documents":1,"chunks":2,"chunks_summarized":2,"sentences_considered":9,"truncated":false}`) {
				t.Errorf("coverage not as documented: %s", body)
			}
		})
	}

	bad := []struct {
		name, body, code, msg string
		status                int
	}{
		{"nothing", `{"length": 3}`, "invalid", "say what to summarize", 400},
		{"doc and query", `{"doc_id": "d1", "query": "refunds"}`, "invalid", "not several", 400},
		{"doc and source", `{"doc_id": "d1", "source": "a.md"}`, "invalid", "not several", 400},
		{"length too long", `{"doc_id": "d1", "length": 51}`, "invalid", "between 1 and 50", 400},
		{"negative length", `{"doc_id": "d1", "length": -2}`, "invalid", "between 1 and 50", 400},
		{"length a string", `{"doc_id": "d1", "length": "5"}`, "invalid", `"length"`, 400},
		{"blank query", `{"query": "   "}`, "invalid", "query is empty", 400},
		{"empty id in list", `{"doc_ids": ["d1", ""]}`, "invalid", "document id is empty", 400},
		{"k too large", `{"query": "refunds", "k": 101}`, "invalid", "k must be", 400},
		{"unknown field", `{"doc": "d1"}`, "invalid", "unknown field", 400},
		{"missing document", `{"doc_id": "missing"}`, "not_found", "missing", 404},
		{"missing collection", `{"doc_id": "d1", "collection": "other"}`, "not_found", "other", 404},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, ts, "POST", "/v1/summarize", tt.body)
			code, msg := decodeError(t, resp, body)
			if resp.StatusCode != tt.status || code != tt.code || !strings.Contains(msg, tt.msg) {
				t.Errorf("%d %s %q, want %d %s containing %q", resp.StatusCode, code, msg, tt.status, tt.code, tt.msg)
			}
		})
	}
}
