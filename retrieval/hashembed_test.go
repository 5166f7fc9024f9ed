package retrieval_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/groundedhq/grounded/internal/textproc"
	"github.com/groundedhq/grounded/retrieval"
)

func embed(t *testing.T, dim int, texts ...string) [][]float32 {
	t.Helper()
	vecs, err := retrieval.HashEmbedder(dim, textproc.NewAnalyzer()).Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	if len(vecs) != len(texts) {
		t.Fatalf("Embed returned %d vectors for %d texts", len(vecs), len(texts))
	}
	return vecs
}

func norm(v []float32) float64 {
	var ss float64
	for _, f := range v {
		ss += float64(f) * float64(f)
	}
	return math.Sqrt(ss)
}

func cosine(a, b []float32) float64 {
	var dot float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
	}
	return dot / (norm(a) * norm(b))
}

func TestHashEmbedderShape(t *testing.T) {
	for _, tt := range []struct{ dim, want int }{{64, 64}, {384, 384}, {1, 1}, {0, 384}, {-5, 384}} {
		emb := retrieval.HashEmbedder(tt.dim, textproc.NewAnalyzer())
		if emb.Dim != tt.want || emb.Name != retrieval.HashEmbedderName {
			t.Errorf("HashEmbedder(%d): Name %q Dim %d, want %q and %d", tt.dim, emb.Name, emb.Dim, retrieval.HashEmbedderName, tt.want)
		}
		vecs, err := emb.Embed(context.Background(), []string{"hybrid retrieval"})
		if err != nil {
			t.Fatal(err)
		}
		if len(vecs[0]) != tt.want {
			t.Errorf("HashEmbedder(%d) vector has %d dimensions, want %d", tt.dim, len(vecs[0]), tt.want)
		}
	}
}

func TestHashEmbedderUnitLength(t *testing.T) {
	texts := []string{
		"x",
		"Reciprocal rank fusion combines BM25 with vector similarity.",
		"déjà vu — naïve café",
		"数据检索",
		"model model model model",
		"a very long word: pneumonoultramicroscopicsilicovolcanoconiosisxxxxxxxxxxxx and more",
	}
	for i, v := range embed(t, 384, texts...) {
		if n := norm(v); math.Abs(n-1) > 1e-5 {
			t.Errorf("|Embed(%q)| = %v, want 1", texts[i], n)
		}
	}
}

func TestHashEmbedderZero(t *testing.T) {
	texts := []string{"", "   ", "the of and is a", "!!! ... ---"}
	for i, v := range embed(t, 64, texts...) {
		if n := norm(v); n != 0 {
			t.Errorf("|Embed(%q)| = %v, want the zero vector", texts[i], n)
		}
	}
}

func TestHashEmbedderDeterministic(t *testing.T) {
	texts := []string{"Hybrid search with BM25", "chunk overlap and token limits"}
	a := embed(t, 128, texts...)
	b := embed(t, 128, texts[1], texts[0]) // another embedder, another order
	if !slices.Equal(a[0], b[1]) || !slices.Equal(a[1], b[0]) {
		t.Error("the same text embedded twice gave different vectors")
	}
	if slices.Equal(a[0], a[1]) {
		t.Error("different texts gave the same vector")
	}
}

func TestHashEmbedderSimilarity(t *testing.T) {
	tests := []struct {
		text, similar, unrelated string
		min                      float64
	}{
		{"the model generates answers", "models generating an answer", "tidal energy from ocean waves", 0.5},
		{"vector database index", "indexing a vector database", "chocolate cake recipe", 0.5},
		// Character 3-grams link spelling variants with no shared stem.
		{"tokenizer", "tokenisers", "giraffe", 0.05},
	}
	for _, tt := range tests {
		v := embed(t, 384, tt.text, tt.similar, tt.unrelated)
		sim, unrel := cosine(v[0], v[1]), cosine(v[0], v[2])
		if !(sim > unrel) || sim < tt.min {
			t.Errorf("cos(%q, %q) = %.3f, cos(%q, %q) = %.3f: want the first above %.2f and above the second",
				tt.text, tt.similar, sim, tt.text, tt.unrelated, unrel, tt.min)
		}
	}
}

func TestHashEmbedderCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := retrieval.HashEmbedder(16, textproc.NewAnalyzer()).Embed(ctx, []string{"anything"})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Embed with a cancelled context: %v, want %v", err, context.Canceled)
	}
}
