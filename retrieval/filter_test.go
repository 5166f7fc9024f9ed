package retrieval_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/internal/textproc"
	"github.com/groundedhq/grounded/retrieval"
)

// TestSearchFilter: a filter keeps every result to matching chunks, even
// when it is selective (the only match ranks far below 100 others), by field,
// prefix and metadata column; an empty filter changes nothing.
func TestSearchFilter(t *testing.T) {
	an := textproc.NewAnalyzer()
	emb := retrieval.HashEmbedder(64, an)
	var chunks []grounded.Chunk
	for i := range 120 {
		chunks = append(chunks, grounded.Chunk{ID: fmt.Sprintf("d%03d-0", i), DocID: fmt.Sprintf("d%03d", i),
			Source: fmt.Sprintf("/docs/a/%03d.md", i), Format: "markdown",
			Text: "refund policy refund window refund request " + fmt.Sprint(i)})
	}
	chunks = append(chunks, grounded.Chunk{ID: "x-0", DocID: "x", Source: "/other/faq.csv", Format: "csv", Location: "row 3",
		Meta: map[string]string{"team": "billing"}, Text: "A refund takes five days."})
	texts := make([]string, len(chunks))
	for i, c := range chunks {
		texts[i] = c.Text
	}
	vecs, err := emb.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := retrieval.New(retrieval.Config{Embedder: emb, Analyzer: an, Fusion: retrieval.FusionParams{LexicalWeight: 1, VectorWeight: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.Add(context.Background(), chunks, vecs); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		f     grounded.Filter
		want  int    // results expected (k=10)
		first string // id of the first result
	}{
		{"none", nil, 10, ""},
		{"type", grounded.Filter{"type": "csv"}, 1, "x-0"},
		{"metadata column", grounded.Filter{"team": "billing"}, 1, "x-0"},
		{"source prefix", grounded.Filter{"source": "/other/*"}, 1, "x-0"},
		{"two keys, both must match", grounded.Filter{"type": "csv", "team": "support"}, 0, ""},
		{"location", grounded.Filter{"location": "row 3"}, 1, "x-0"},
		{"exact source", grounded.Filter{"source": "/docs/a/007.md"}, 1, "d007-0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hits, err := ix.Search(context.Background(), "refund", 10, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if len(hits) != tc.want {
				t.Fatalf("%d results, want %d: %v", len(hits), tc.want, hits)
			}
			for _, h := range hits {
				if !tc.f.Match(h.Chunk) {
					t.Errorf("%s does not pass the filter", h.ID)
				}
			}
			if tc.first != "" && hits[0].ID != tc.first {
				t.Errorf("first %s, want %s", hits[0].ID, tc.first)
			}
			if tc.first != "" && (hits[0].LexicalRank != 1) {
				t.Errorf("the only match should be BM25's first among the filtered, got rank %d", hits[0].LexicalRank)
			}
		})
	}
}
