package retrieval

import (
	"context"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/internal/wordvec"
)

// WordVecEmbedderName names the word-vector embedder in the index's records.
const WordVecEmbedderName = "glove-sif-v1"

// WordVecEmbedder returns the offline meaning embedder: the SIF-weighted
// average of a text's GloVe word vectors (package wordvec), so "warranty
// period" and "two-year guarantee" land near each other where BM25 sees no
// shared word. Pure Go, no model file at run time: the table is in the
// binary.
func WordVecEmbedder(t *wordvec.Table) grounded.Embedder {
	return grounded.Embedder{
		Name: WordVecEmbedderName,
		Dim:  t.Dim(),
		Embed: func(ctx context.Context, texts []string) ([][]float32, error) {
			out := make([][]float32, len(texts))
			for i, s := range texts {
				if i%64 == 0 {
					if err := ctx.Err(); err != nil {
						return nil, err
					}
				}
				out[i] = t.Embed(s, nil)
			}
			return out, nil
		},
	}
}
