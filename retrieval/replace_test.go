package retrieval_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/internal/textproc"
	"github.com/groundedhq/grounded/retrieval"
)

// TestReplacingKeepsStatistics: an index whose documents were replaced many
// times (enough to compact its postings) scores exactly like one built from
// the final versions alone: document frequencies count live chunks only.
func TestReplacingKeepsStatistics(t *testing.T) {
	ctx := context.Background()
	an := textproc.NewAnalyzer()
	emb := retrieval.HashEmbedder(32, an)
	doc := func(d, version int) ([]grounded.Chunk, [][]float32) {
		var chunks []grounded.Chunk
		for i := range 3 {
			text := fmt.Sprintf("Refunds are paid within %d days. Shipping policy part %d of document %d, version %d, mentions warehouses.", 10+version, i, d, version)
			chunks = append(chunks, grounded.Chunk{ID: fmt.Sprintf("d%d-%d", d, i), DocID: fmt.Sprintf("d%d", d), Ord: i, Title: "Policy", Text: text, End: len(text)})
		}
		vecs, err := emb.Embed(ctx, []string{chunks[0].Text, chunks[1].Text, chunks[2].Text})
		if err != nil {
			t.Fatal(err)
		}
		return chunks, vecs
	}
	build := func() *retrieval.Index {
		ix, err := retrieval.New(retrieval.Config{Embedder: emb, Analyzer: an})
		if err != nil {
			t.Fatal(err)
		}
		return ix
	}
	churned, fresh := build(), build()
	const docs, rounds = 4, 400 // 400 rounds x 12 chunks: well past a compaction
	for v := range rounds {
		for d := range docs {
			c, vecs := doc(d, v)
			if err := churned.Add(ctx, c, vecs); err != nil {
				t.Fatal(err)
			}
		}
	}
	for d := range docs {
		c, vecs := doc(d, rounds-1)
		if err := fresh.Add(ctx, c, vecs); err != nil {
			t.Fatal(err)
		}
	}
	for _, term := range []string{"refund", "warehous", "polici", "nothing"} {
		if a, b := churned.IDF(term), fresh.IDF(term); a != b {
			t.Errorf("idf(%s) = %v after replacements, %v when built once", term, a, b)
		}
	}
	a, err := churned.Search(ctx, "refunds paid warehouses", 5, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := fresh.Search(ctx, "refunds paid warehouses", 5, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != len(b) || len(a) == 0 {
		t.Fatalf("%d hits after replacements, %d when built once", len(a), len(b))
	}
	for i := range a {
		if a[i].ID != b[i].ID || a[i].LexicalScore != b[i].LexicalScore {
			t.Errorf("hit %d: %s %.6f after replacements, %s %.6f when built once", i, a[i].ID, a[i].LexicalScore, b[i].ID, b[i].LexicalScore)
		}
	}
	if churned.Len() != docs*3 {
		t.Errorf("Len = %d, want %d", churned.Len(), docs*3)
	}
}
