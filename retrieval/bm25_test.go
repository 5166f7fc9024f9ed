package retrieval_test

import (
	"slices"
	"testing"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/retrieval"
)

// BM25 is tested through the index with lexical-only fusion, so the order of
// the hits is BM25's order.
func TestBM25Ranking(t *testing.T) {
	lexical := retrieval.FusionParams{LexicalWeight: 1}
	tests := []struct {
		name    string
		entries []entry
		query   string
		want    []string // hit ids, best first
	}{
		{
			name: "more occurrences of a rare term rank higher",
			entries: []entry{
				{"once", "once", "quokka island ferry beach", nil},
				{"thrice", "thrice", "quokka quokka quokka island", nil},
				{"none", "none", "island ferry beach sand", nil},
			},
			query: "quokka",
			want:  []string{"thrice", "once"},
		},
		{
			name: "a rare term outweighs a common one",
			entries: []entry{
				{"common", "common", "island island beach sand", nil},
				{"rare", "rare", "island quokka beach sand", nil},
				{"other", "other", "island ferry beach sand", nil},
			},
			query: "island quokka",
			want:  []string{"rare", "common", "other"},
		},
		{
			name: "a shorter chunk ranks above a longer one",
			entries: []entry{
				{"long", "long", "quokka island ferry beach sand dunes rottnest perth", nil},
				{"short", "short", "quokka island", nil},
			},
			query: "quokka",
			want:  []string{"short", "long"},
		},
		{
			name: "stems match: generating finds generates",
			entries: []entry{
				{"gen", "gen", "the plant generates power", nil},
				{"other", "other", "the plant stores water", nil},
			},
			query: "generating",
			want:  []string{"gen"},
		},
		{
			name: "case does not matter",
			entries: []entry{
				{"gen", "gen", "GENERATION of Power", nil},
			},
			query: "generated power",
			want:  []string{"gen"},
		},
		{
			name: "stop words match nothing",
			entries: []entry{
				{"gen", "gen", "the plant is what it is", nil},
			},
			query: "what is the",
			want:  []string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := range tt.entries {
				tt.entries[i].vec = []float32{0, 0, 1}
			}
			ix := newIndex(t, fakeEmbedder(nil), lexical, tt.entries...)
			hits := search(t, ix, tt.query, 10)
			if got := hitIDs(hits); !slices.Equal(got, tt.want) {
				t.Errorf("Search(%q) = %v, want %v", tt.query, got, tt.want)
			}
			for i := 1; i < len(hits); i++ {
				if !(hits[i].LexicalScore < hits[i-1].LexicalScore) {
					t.Errorf("BM25 scores not strictly decreasing: %v then %v", hits[i-1].LexicalScore, hits[i].LexicalScore)
				}
			}
		})
	}
}

func TestBM25IndexesHeading(t *testing.T) {
	ix, err := retrieval.New(retrieval.Config{Embedder: fakeEmbedder(nil), Fusion: retrieval.FusionParams{LexicalWeight: 1}})
	if err != nil {
		t.Fatal(err)
	}
	chunks := []grounded.Chunk{
		{ID: "q-0", DocID: "q", Title: "Quokka facts", Section: "Diet", Text: "small marsupials eat leaves"},
		{ID: "w-0", DocID: "w", Title: "Wombats", Text: "burrowing marsupials"},
	}
	if err := ix.Add(t.Context(), chunks, [][]float32{{1, 0, 0}, {0, 1, 0}}); err != nil {
		t.Fatal(err)
	}
	for query, want := range map[string]string{"quokka": "q-0", "diet": "q-0", "wombat": "w-0"} {
		if got := hitIDs(search(t, ix, query, 10)); !slices.Equal(got, []string{want}) {
			t.Errorf("Search(%q) = %v, want [%s]: the heading should be indexed", query, got, want)
		}
	}
}
