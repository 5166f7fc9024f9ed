package retrieval_test

import (
	"context"
	"testing"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/internal/textproc"
	"github.com/groundedhq/grounded/retrieval"
)

// TestRM3ExpandsTheQuery: with feedback on, a chunk that shares no word with
// the query but shares the vocabulary of the query's best matches is found
// by the lexical retriever; with it off, it is not.
func TestRM3ExpandsTheQuery(t *testing.T) {
	an := textproc.NewAnalyzer()
	emb := retrieval.HashEmbedder(32, an)
	chunks := []grounded.Chunk{
		{ID: "a-0", DocID: "a", Text: "Zymurgy studies fermentation, yeast and brewing."},
		{ID: "b-0", DocID: "b", Text: "Zymurgy covers fermentation temperature and yeast strains."},
		{ID: "c-0", DocID: "c", Text: "Fermentation by yeast turns sugar into alcohol in brewing."},
		{ID: "d-0", DocID: "d", Text: "Granite is an igneous rock with quartz and feldspar."},
	}
	texts := make([]string, len(chunks))
	for i, c := range chunks {
		texts[i] = c.Text
	}
	vecs, err := emb.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	lexicalRankOfC := func(rm3 retrieval.RM3Params) int {
		ix, err := retrieval.New(retrieval.Config{Embedder: emb, Analyzer: an, RM3: rm3})
		if err != nil {
			t.Fatal(err)
		}
		if err := ix.Add(context.Background(), chunks, vecs); err != nil {
			t.Fatal(err)
		}
		hits, err := ix.Search(context.Background(), "zymurgy", 4, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hits {
			if h.ID == "c-0" {
				return h.LexicalRank
			}
		}
		return 0
	}
	if r := lexicalRankOfC(retrieval.RM3Params{}); r != 0 {
		t.Fatalf("without feedback, chunk c (no query word) has lexical rank %d", r)
	}
	if r := lexicalRankOfC(retrieval.RM3Params{FeedbackDocs: 2, FeedbackTerms: 5}); r == 0 {
		t.Fatalf("with feedback, chunk c (fermentation, yeast) was not found")
	}
}
