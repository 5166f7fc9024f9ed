package eval_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/eval"
)

// fakeSearch answers each query text with canned hits whose Source is the
// BEIR document id, and records the k it was asked for.
type fakeSearch struct {
	hits  map[string][]string // query text -> Source of each hit, best first
	err   map[string]error
	asked []string
	ks    []int
}

var _ eval.SearchFunc = (*fakeSearch)(nil).search

func (f *fakeSearch) search(_ context.Context, query string, k int) ([]grounded.Hit, error) {
	f.asked = append(f.asked, query)
	f.ks = append(f.ks, k)
	if err := f.err[query]; err != nil {
		return nil, err
	}
	var out []grounded.Hit
	for i, src := range f.hits[query] {
		out = append(out, grounded.Hit{Chunk: grounded.Chunk{ID: fmt.Sprintf("%s-chunk-%d", src, i), DocID: "internal-" + src, Source: src}})
	}
	return out, nil
}

func docOf(h grounded.Hit) string { return h.Source }

// retrievalSet: q1 finds its best document second, with two chunks of d1;
// q2 finds nothing relevant; q3 finds its only document, twice.
func retrievalSet() (*eval.BEIR, *fakeSearch) {
	b := &eval.BEIR{
		Corpus: []eval.BEIRDoc{{ID: "d1"}, {ID: "d2"}, {ID: "d3"}, {ID: "d4"}, {ID: "d5"}},
		Queries: []eval.BEIRQuery{
			{ID: "q1", Text: "first"},
			{ID: "q2", Text: "second"},
			{ID: "q3", Text: "third"},
		},
		Qrels: map[string]map[string]int{
			"q1": {"d1": 2, "d2": 1},
			"q2": {"d4": 1},
			"q3": {"d5": 1},
		},
	}
	f := &fakeSearch{hits: map[string][]string{
		"first":  {"d3", "d1", "d1", "d2"},
		"second": {"d5"},
		"third":  {"d5", "d5"},
	}}
	return b, f
}

func TestRetrieval(t *testing.T) {
	// q1: document ranking [d3 d1 d2]: nDCG@10 0.669672 (see TestNDCG),
	// recall 1, MRR 1/2. Counting d1's second chunk as a document would
	// push d2 to rank 4 and give nDCG 0.6433.
	const q1NDCG = 0.66967181649423
	tests := []struct {
		name      string
		opt       eval.RetrievalOptions
		wantAsked []string
		wantK     int
		want      eval.RetrievalReport
		wantPerQ  map[string]float64
	}{
		{"all queries", eval.RetrievalOptions{}, []string{"first", "second", "third"}, 200,
			eval.RetrievalReport{Documents: 5, Queries: 3,
				NDCG10:    0.5566, // (0.669672 + 0 + 1) / 3
				Recall100: 0.6667, // (1 + 0 + 1) / 3
				MRR10:     0.5,    // (0.5 + 0 + 1) / 3
			},
			map[string]float64{"q1": q1NDCG, "q2": 0, "q3": 1}},
		{"limit", eval.RetrievalOptions{Limit: 2, Depth: 7}, []string{"first", "second"}, 7,
			eval.RetrievalReport{Documents: 5, Queries: 2, NDCG10: 0.3348, Recall100: 0.5, MRR10: 0.25},
			map[string]float64{"q1": q1NDCG, "q2": 0}},
		{"limit above the query count", eval.RetrievalOptions{Limit: 10, Depth: -1}, []string{"first", "second", "third"}, 200,
			eval.RetrievalReport{Documents: 5, Queries: 3, NDCG10: 0.5566, Recall100: 0.6667, MRR10: 0.5},
			map[string]float64{"q1": q1NDCG, "q2": 0, "q3": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, f := retrievalSet()
			rep, err := eval.Retrieval(context.Background(), b, f.search, docOf, tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(f.asked, tt.wantAsked) {
				t.Errorf("asked %v, want %v", f.asked, tt.wantAsked)
			}
			for _, k := range f.ks {
				if k != tt.wantK {
					t.Errorf("search asked for %d hits, want %d", k, tt.wantK)
				}
			}
			got := eval.RetrievalReport{Documents: rep.Documents, Queries: rep.Queries, NDCG10: rep.NDCG10, Recall100: rep.Recall100, MRR10: rep.MRR10}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("report %+v, want %+v", got, tt.want)
			}
			if len(rep.PerQuery) != len(tt.wantPerQ) {
				t.Errorf("PerQuery = %v, want %v", rep.PerQuery, tt.wantPerQ)
			}
			for q, want := range tt.wantPerQ {
				if got, ok := rep.PerQuery[q]; !ok || !near(got, want) {
					t.Errorf("PerQuery[%s] = %v, want %v", q, got, want)
				}
			}
			if rep.QueryP50Ms < 0 || rep.QueryP99Ms < rep.QueryP50Ms {
				t.Errorf("latency p50 %v p99 %v: want 0 <= p50 <= p99", rep.QueryP50Ms, rep.QueryP99Ms)
			}
		})
	}
}

func TestRetrievalSearchError(t *testing.T) {
	b, f := retrievalSet()
	boom := errors.New("index closed")
	f.err = map[string]error{"second": boom}
	rep, err := eval.Retrieval(context.Background(), b, f.search, docOf, eval.RetrievalOptions{})
	if !errors.Is(err, boom) || !strings.Contains(fmt.Sprint(err), "q2") {
		t.Errorf("Retrieval = %v, %v; want an error wrapping %v that names q2", rep, err, boom)
	}
	if len(f.asked) != 2 {
		t.Errorf("asked %v after the failure, want it to stop at the second query", f.asked)
	}
}

func TestRetrievalProgress(t *testing.T) {
	b, f := retrievalSet()
	var progress strings.Builder
	if _, err := eval.Retrieval(context.Background(), b, f.search, docOf, eval.RetrievalOptions{Progress: &progress}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(progress.String(), "\n") {
		t.Errorf("progress %q does not end its line", progress.String())
	}
}
