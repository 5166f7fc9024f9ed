package retrieval_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/internal/textproc"
	"github.com/groundedhq/grounded/retrieval"
)

// TestShortcutSameTopK: skipping the vector scan when it cannot change the
// top k (FusionParams) gives the same hits in the same order as scanning,
// over random queries, sizes of k and fusion weights; and it is taken
// (no vector ranks) exactly when the weights say it is safe.
func TestShortcutSameTopK(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	vocab := make([]string, 300)
	for i := range vocab {
		vocab[i] = fmt.Sprintf("w%03dx", i)
	}
	word := func() string { return vocab[int(r.ExpFloat64()*40)%len(vocab)] } // Zipf-like
	var chunks []grounded.Chunk
	for d := range 60 {
		for c := range 8 {
			var sb strings.Builder
			for range 30 + r.IntN(40) {
				sb.WriteString(word() + " ")
			}
			text := sb.String()
			chunks = append(chunks, grounded.Chunk{ID: fmt.Sprintf("d%02d-%d", d, c), DocID: fmt.Sprintf("d%02d", d), Ord: c,
				Source: fmt.Sprintf("d%02d.md", d), Start: 0, End: len(text), Text: text})
		}
	}
	an := textproc.NewAnalyzer()
	emb := retrieval.HashEmbedder(64, an)
	texts := make([]string, len(chunks))
	for i, c := range chunks {
		texts[i] = c.Text
	}
	vecs, err := emb.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	for _, fusion := range []retrieval.FusionParams{{}, {LexicalWeight: 1, VectorWeight: 0.05}, {LexicalWeight: 1, VectorWeight: 1}} {
		ixs := map[bool]*retrieval.Index{}
		for _, always := range []bool{false, true} {
			f := fusion
			f.ScanAlways = always
			ix, err := retrieval.New(retrieval.Config{Embedder: emb, Analyzer: an, Fusion: f})
			if err != nil {
				t.Fatal(err)
			}
			if err := ix.Add(context.Background(), chunks, vecs); err != nil {
				t.Fatal(err)
			}
			ixs[always] = ix
		}
		skipped := 0
		for q := range 200 {
			query := strings.Join([]string{word(), word(), word()}, " ")
			k := []int{1, 3, 5, 10, 17, 18, 30}[q%7]
			fast, err := ixs[false].Search(context.Background(), query, k, nil)
			if err != nil {
				t.Fatal(err)
			}
			full, err := ixs[true].Search(context.Background(), query, k, nil)
			if err != nil {
				t.Fatal(err)
			}
			id := func(h grounded.Hit) string { return h.ID }
			if got, want := ids(fast, id), ids(full, id); !slices.Equal(got, want) {
				t.Fatalf("fusion %+v, %q k=%d: shortcut %v, scan %v", fusion, query, k, got, want)
			}
			if len(fast) > 0 && fast[0].VectorRank == 0 && full[0].VectorRank != 0 {
				skipped++
			}
		}
		if fusion.VectorWeight == 0 && skipped == 0 {
			t.Errorf("defaults: the shortcut was never taken")
		}
		if fusion.VectorWeight == 1 && skipped > 0 {
			t.Errorf("equal weights: the shortcut was taken %d times", skipped)
		}
	}
}

func ids(hits []grounded.Hit, f func(grounded.Hit) string) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = f(h)
	}
	return out
}
