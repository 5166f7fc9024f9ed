package retrieval_test

import (
	"context"
	"math"
	"testing"

	"github.com/groundedhq/grounded/internal/wordvec"
	"github.com/groundedhq/grounded/retrieval"
)

// TestWordVecEmbedder: unit vectors in which a paraphrase sharing no word
// lands nearer than an unrelated text, and all zeros for unknown words.
func TestWordVecEmbedder(t *testing.T) {
	emb := retrieval.WordVecEmbedder(wordvec.Default())
	vecs, err := emb.Embed(context.Background(), []string{
		"How long is the warranty period?",
		"Every kettle comes with a two-year limited guarantee.",
		"Descale the kettle with white vinegar.",
		"zzqxj vvbnq",
	})
	if err != nil {
		t.Fatal(err)
	}
	if emb.Dim != 100 || len(vecs) != 4 {
		t.Fatalf("dim %d, %d vectors", emb.Dim, len(vecs))
	}
	dot := func(a, b []float32) float64 {
		var s float64
		for i := range a {
			s += float64(a[i]) * float64(b[i])
		}
		return s
	}
	for i, v := range vecs[:3] {
		if n := math.Sqrt(dot(v, v)); math.Abs(n-1) > 1e-4 {
			t.Errorf("vector %d has length %v", i, n)
		}
	}
	if near, far := dot(vecs[0], vecs[1]), dot(vecs[0], vecs[2]); near <= far {
		t.Errorf("paraphrase %.3f not nearer than unrelated %.3f", near, far)
	}
	if dot(vecs[3], vecs[3]) != 0 {
		t.Error("unknown words gave a non-zero vector")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := emb.Embed(ctx, []string{"a"}); err == nil {
		t.Error("a cancelled context embedded")
	}
}
