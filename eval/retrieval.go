package eval

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/groundedhq/grounded"
)

// SearchFunc is the search under test.
type SearchFunc func(ctx context.Context, query string, k int) ([]grounded.Hit, error)

// RetrievalReport is the result of a BEIR run. Field names are the JSON keys
// scripts compare across runs.
type RetrievalReport struct {
	Dataset   string  `json:"dataset"`
	Documents int     `json:"documents"`
	Chunks    int     `json:"chunks"`
	Queries   int     `json:"queries"`
	NDCG10    float64 `json:"ndcg@10"`
	Recall100 float64 `json:"recall@100"`
	MRR10     float64 `json:"mrr@10"`
	// NDCG10Even and NDCG10Odd split the queries by position (0, 2, 4, ...
	// and 1, 3, 5, ...): tune a parameter on one half, confirm on the other.
	NDCG10Even    float64 `json:"ndcg@10_even"`
	NDCG10Odd     float64 `json:"ndcg@10_odd"`
	IngestSeconds float64 `json:"ingest_seconds"`
	QueryP50Ms    float64 `json:"query_p50_ms"`
	QueryP99Ms    float64 `json:"query_p99_ms"`
	// PerQuery holds each query's nDCG@10, by query id, for significance tests
	// and for splitting the queries into halves.
	PerQuery map[string]float64 `json:"per_query_ndcg@10,omitempty"`
}

// RetrievalOptions tune a run.
type RetrievalOptions struct {
	// Limit evaluates only the first Limit judged queries (0: all).
	Limit int
	// Depth is how many chunks each search returns; documents are ranked by
	// their best chunk. Default 200, so 100 distinct documents are likely.
	Depth int
	// Progress, if set, receives a line now and then.
	Progress io.Writer
}

// Retrieval runs every judged query through search and scores the document
// ranking. docOf maps a hit to its BEIR document id.
func Retrieval(ctx context.Context, b *BEIR, search SearchFunc, docOf func(grounded.Hit) string, opt RetrievalOptions) (*RetrievalReport, error) {
	if opt.Depth <= 0 {
		opt.Depth = 200
	}
	queries := b.Queries
	if opt.Limit > 0 && opt.Limit < len(queries) {
		queries = queries[:opt.Limit]
	}
	if len(queries) == 0 {
		return nil, fmt.Errorf("no judged queries to run")
	}
	rep := &RetrievalReport{Documents: len(b.Corpus), Queries: len(queries), PerQuery: map[string]float64{}}
	var lat []time.Duration
	for i, q := range queries {
		began := time.Now()
		hits, err := search(ctx, q.Text, opt.Depth)
		if err != nil {
			return nil, fmt.Errorf("query %s: %w", q.ID, err)
		}
		lat = append(lat, time.Since(began))
		var ranking []string
		seen := map[string]bool{}
		for _, h := range hits {
			if id := docOf(h); !seen[id] {
				seen[id] = true
				ranking = append(ranking, id)
			}
		}
		qr := b.Qrels[q.ID]
		n := NDCG(ranking, qr, 10)
		rep.PerQuery[q.ID] = n
		rep.NDCG10 += n
		if i%2 == 0 {
			rep.NDCG10Even += n
		} else {
			rep.NDCG10Odd += n
		}
		rep.Recall100 += Recall(ranking, qr, 100)
		rep.MRR10 += MRR(ranking, qr, 10)
		if opt.Progress != nil && (i+1)%50 == 0 {
			fmt.Fprintf(opt.Progress, "\r%d/%d queries", i+1, len(queries))
		}
	}
	if opt.Progress != nil {
		fmt.Fprintln(opt.Progress)
	}
	n := float64(len(queries))
	rep.NDCG10 = round4(rep.NDCG10 / n)
	rep.NDCG10Even = round4(rep.NDCG10Even / float64((len(queries)+1)/2))
	rep.NDCG10Odd = round4(rep.NDCG10Odd / float64(max(len(queries)/2, 1)))
	rep.Recall100 = round4(rep.Recall100 / n)
	rep.MRR10 = round4(rep.MRR10 / n)
	rep.QueryP50Ms, rep.QueryP99Ms = percentileMs(lat, 0.50), percentileMs(lat, 0.99)
	return rep, nil
}

func round4(f float64) float64 { return float64(int64(f*10000+0.5)) / 10000 }

func percentileMs(d []time.Duration, p float64) float64 {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(p * float64(len(s)-1))
	return round4(float64(s[i].Microseconds()) / 1000)
}
