package bench_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/groundedhq/grounded"
)

// TestSmoke builds a 1k-chunk fixture, as the benchmarks build theirs, and
// checks that it is searchable: so a plain `go test ./bench` catches a broken
// corpus generator or harness without running a benchmark.
func TestSmoke(t *testing.T) {
	f, err := buildFixture(1000)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if got := f.index.Len(); got != 1000 {
		t.Fatalf("index holds %d chunks, want 1000", got)
	}

	t.Run("generated text", func(t *testing.T) {
		if again := newCorpus(1000); again.chunks[999].Text != f.chunks[999].Text || !slices.Equal(again.queries, f.queries) {
			t.Error("the corpus is not deterministic")
		}
		var words int
		for _, c := range f.chunks {
			words += c.Tokens
			if c.End-c.Start != len(c.Text) {
				t.Fatalf("chunk %s: range [%d,%d) for %d bytes of text", c.ID, c.Start, c.End, len(c.Text))
			}
		}
		if avg := words / len(f.chunks); avg < 200 || avg > 300 {
			t.Errorf("%d words per chunk on average, want 200-300", avg)
		}
	})

	t.Run("every query finds passages", func(t *testing.T) {
		for _, q := range f.queries {
			hits, err := f.index.Search(ctx, q, 10, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(hits) != 10 {
				t.Errorf("%q: %d hits, want 10", q, len(hits))
			}
		}
	})

	t.Run("a passage finds itself", func(t *testing.T) {
		for _, i := range []int{0, 123, 999} {
			c := f.chunks[i]
			// k=30: past the k at which the vector scan cannot change the
			// top k and is skipped, so both retrievers run.
			hits, err := f.index.Search(ctx, c.Text, 30, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(hits) == 0 || hits[0].ID != c.ID || hits[0].LexicalRank != 1 || hits[0].VectorRank != 1 {
				t.Errorf("chunk %s searched by its text: top hit %+v", c.ID, topHit(hits))
			}
		}
	})

	t.Run("answers quote their passages", func(t *testing.T) {
		byDoc := map[string][]grounded.Chunk{}
		for _, c := range f.chunks {
			byDoc[c.DocID] = append(byDoc[c.DocID], c)
		}
		answered := 0
		for _, q := range f.queries {
			ans, err := f.answers.Ask(ctx, grounded.AskRequest{Question: q})
			if err != nil {
				t.Fatal(err)
			}
			if !ans.Abstained {
				answered++
			}
			for _, cit := range ans.Citations {
				if !quoted(byDoc[cit.DocID], cit) {
					t.Errorf("%q: citation [%d] %q is not the text at %s bytes %d-%d", q, cit.N, cit.Quote, cit.DocID, cit.Start, cit.End)
				}
			}
		}
		t.Logf("%d of %d questions answered", answered, len(f.queries))
	})

	t.Run("bare chromem-go returns the exact top 10", func(t *testing.T) {
		col, err := f.bare()
		if err != nil {
			t.Fatal(err)
		}
		for _, qv := range f.qvecs[:4] {
			res, err := col.QueryEmbedding(ctx, qv, 10, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := bruteForce(f.vecs, qv, 10)
			for i, r := range res {
				if r.ID != fmt.Sprint(want[i]) && math.Abs(float64(r.Similarity-dot(f.vecs[want[i]], qv))) > 1e-6 {
					t.Fatalf("result %d: chromem-go has %s (%.6f), brute force %d (%.6f)", i, r.ID, r.Similarity, want[i], dot(f.vecs[want[i]], qv))
				}
			}
		}
	})
}

func topHit(hits []grounded.Hit) any {
	if len(hits) == 0 {
		return "none"
	}
	h := hits[0]
	return struct {
		ID                      string
		LexicalRank, VectorRank int
	}{h.ID, h.LexicalRank, h.VectorRank}
}

// quoted reports whether the citation's quote is the text of one of the
// document's chunks at the citation's offsets.
func quoted(chunks []grounded.Chunk, c grounded.Citation) bool {
	for _, ch := range chunks {
		if ch.Start <= c.Start && c.End <= ch.End && ch.Text[c.Start-ch.Start:c.End-ch.Start] == c.Quote {
			return strings.TrimSpace(c.Quote) != ""
		}
	}
	return false
}

func dot(a, b []float32) float32 {
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// bruteForce returns the indexes of the k vectors most similar to q.
func bruteForce(vecs [][]float32, q []float32, k int) []int {
	idx := make([]int, len(vecs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		da, db := dot(vecs[a], q), dot(vecs[b], q)
		switch {
		case da > db:
			return -1
		case da < db:
			return 1
		}
		return 0
	})
	return idx[:k]
}
