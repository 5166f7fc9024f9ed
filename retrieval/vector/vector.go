// Package vector adapts chromem-go as grounded's vector similarity index. It
// uses chromem-go in memory only: the durable copy of every vector lives in the
// store, and the collection is rebuilt from it at open.
//
// It guards against chromem-go's sharp edges: vectors of the wrong dimension
// are refused (chromem-go accepts them and then fails every query), queries
// ask for at most Count results (more is an error there), an empty collection
// answers with no results, and vectors are copied in and out (chromem-go keeps
// and returns the caller's slices).
package vector

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"

	chromem "github.com/philippgille/chromem-go"
)

// Match is one vector search result.
type Match struct {
	ID    string
	Score float32 // cosine similarity
}

// Index is a chromem-go collection of unit vectors of one dimension.
type Index struct {
	dim int
	// mu makes Query's count check and chromem-go's query one step, so a
	// Delete in between cannot make chromem-go refuse n.
	mu  sync.RWMutex
	col *chromem.Collection
}

// New returns an empty index of dim-dimensional vectors.
func New(dim int) (*Index, error) {
	if dim <= 0 {
		return nil, fmt.Errorf("vector: dimension %d", dim)
	}
	// The embedding function is never called: every document and query comes
	// with its vector. It is set so chromem-go never falls back to OpenAI.
	noEmbed := func(context.Context, string) ([]float32, error) {
		return nil, errors.New("vector: documents and queries must carry their vectors")
	}
	col, err := chromem.NewDB().CreateCollection("chunks", nil, noEmbed)
	if err != nil {
		return nil, fmt.Errorf("vector: %w", err)
	}
	return &Index{dim: dim, col: col}, nil
}

// Dim returns the vector dimension.
func (ix *Index) Dim() int { return ix.dim }

// Len returns the number of vectors.
func (ix *Index) Len() int { return ix.col.Count() }

// Add adds or replaces vectors by id. Each is copied and normalized.
func (ix *Index) Add(ctx context.Context, ids []string, vecs [][]float32) error {
	if len(ids) != len(vecs) {
		return fmt.Errorf("vector: %d ids but %d vectors", len(ids), len(vecs))
	}
	if len(ids) == 0 {
		return nil
	}
	docs := make([]chromem.Document, len(ids))
	for i, v := range vecs {
		if len(v) != ix.dim {
			return fmt.Errorf("vector: %s has dimension %d, the index %d", ids[i], len(v), ix.dim)
		}
		docs[i] = chromem.Document{ID: ids[i], Embedding: normalized(v)}
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if err := ix.col.AddDocuments(ctx, docs, runtime.GOMAXPROCS(0)); err != nil {
		return fmt.Errorf("vector: %w", err)
	}
	return nil
}

// Delete removes vectors by id; unknown ids are ignored.
func (ix *Index) Delete(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil // chromem-go would refuse; never pass it an empty filter
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if err := ix.col.Delete(ctx, nil, nil, ids...); err != nil {
		return fmt.Errorf("vector: %w", err)
	}
	return nil
}

// Query returns up to n nearest vectors to q by cosine similarity, best first.
func (ix *Index) Query(ctx context.Context, q []float32, n int) ([]Match, error) {
	if len(q) != ix.dim {
		return nil, fmt.Errorf("vector: query has dimension %d, the index %d", len(q), ix.dim)
	}
	if isZero(q) {
		return nil, nil // nothing to be similar to
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	count := ix.col.Count()
	n = min(n, count)
	if n <= 0 {
		return nil, nil
	}
	qn := normalized(q)
	// chromem-go keeps equal scores in map order, so which of several tied
	// vectors make the cut varies. Ask for one more; while a tie runs past
	// the cut, ask for more (all, at worst), then order by score and id.
	m := min(count, n+1)
	for {
		out, err := ix.query(ctx, qn, m)
		if err != nil {
			return nil, err
		}
		if m == count || len(out) < m || out[n-1].Score != out[m-1].Score {
			return out[:min(n, len(out))], nil
		}
		m = min(count, 4*m)
	}
}

// query returns chromem-go's top m, ordered by score, then id.
func (ix *Index) query(ctx context.Context, q []float32, m int) ([]Match, error) {
	res, err := ix.col.QueryEmbedding(ctx, q, m, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("vector: %w", err)
	}
	out := make([]Match, len(res))
	for i, r := range res {
		out[i] = Match{ID: r.ID, Score: r.Similarity}
	}
	slices.SortFunc(out, func(a, b Match) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

func isZero(v []float32) bool {
	for _, f := range v {
		if f != 0 {
			return false
		}
	}
	return true
}

// normalized returns a unit-length copy of v (a zero vector stays zero).
func normalized(v []float32) []float32 {
	var ss float64
	for _, f := range v {
		ss += float64(f) * float64(f)
	}
	out := make([]float32, len(v))
	if ss == 0 {
		return out
	}
	inv := 1 / math.Sqrt(ss)
	for i, f := range v {
		out[i] = float32(float64(f) * inv)
	}
	return out
}
