package retrieval_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/internal/textproc"
	"github.com/groundedhq/grounded/retrieval"
)

// fakeDim is the dimension of fakeEmbedder's vectors.
const fakeDim = 3

// fakeEmbedder embeds a query by looking it up in vecs; any other text gets
// the zero vector, which matches nothing. It is safe for concurrent use as
// long as vecs is not changed.
func fakeEmbedder(vecs map[string][]float32) grounded.Embedder {
	return grounded.Embedder{
		Name: "fake",
		Dim:  fakeDim,
		Embed: func(_ context.Context, texts []string) ([][]float32, error) {
			out := make([][]float32, len(texts))
			for i, t := range texts {
				out[i] = make([]float32, fakeDim)
				copy(out[i], vecs[t])
			}
			return out, nil
		},
	}
}

// entry is one chunk to index with its vector.
type entry struct {
	id, doc, text string
	vec           []float32
}

func chunksOf(es []entry) ([]grounded.Chunk, [][]float32) {
	chunks := make([]grounded.Chunk, len(es))
	vecs := make([][]float32, len(es))
	for i, e := range es {
		chunks[i] = grounded.Chunk{ID: e.id, DocID: e.doc, Ord: i, Source: e.doc + ".md", Text: e.text}
		vecs[i] = e.vec
	}
	return chunks, vecs
}

func newIndex(t *testing.T, emb grounded.Embedder, fusion retrieval.FusionParams, es ...entry) *retrieval.Index {
	t.Helper()
	ix, err := retrieval.New(retrieval.Config{Embedder: emb, Fusion: fusion})
	if err != nil {
		t.Fatal(err)
	}
	add(t, ix, es...)
	return ix
}

func add(t *testing.T, ix *retrieval.Index, es ...entry) {
	t.Helper()
	chunks, vecs := chunksOf(es)
	if err := ix.Add(context.Background(), chunks, vecs); err != nil {
		t.Fatal(err)
	}
}

func search(t *testing.T, ix *retrieval.Index, query string, k int) []grounded.Hit {
	t.Helper()
	hits, err := ix.Search(context.Background(), query, k, nil)
	if err != nil {
		t.Fatalf("Search(%q, %d): %v", query, k, err)
	}
	return hits
}

func hitIDs(hits []grounded.Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.ID
	}
	return out
}

func TestNewRequiresEmbedder(t *testing.T) {
	tests := []struct {
		name string
		emb  grounded.Embedder
	}{
		{"zero embedder", grounded.Embedder{}},
		{"no function", grounded.Embedder{Name: "x", Dim: 3}},
		{"no dimension", grounded.Embedder{Name: "x", Embed: fakeEmbedder(nil).Embed}},
		{"negative dimension", grounded.Embedder{Name: "x", Dim: -1, Embed: fakeEmbedder(nil).Embed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if ix, err := retrieval.New(retrieval.Config{Embedder: tt.emb}); err == nil {
				t.Errorf("New = %v, want an error", ix)
			}
		})
	}
}

// Three chunks about energy, one vector axis each. The query "wind
// electricity" matches all three lexically (wind turbines best) and points
// almost along the batteries' axis.
var energy = []entry{
	{"solar-0", "solar", "solar panels convert sunlight into electricity", []float32{1, 0, 0}},
	{"wind-0", "wind", "wind turbines generate electricity from wind", []float32{0, 1, 0}},
	{"batt-0", "batt", "batteries store electricity for later use", []float32{0, 0, 1}},
}

var energyQueries = map[string][]float32{
	"wind electricity": {0.1, 0, 1},
	"sunlight":         {1, 0, 0},
}

func TestSearchFusion(t *testing.T) {
	// Lexical ranks: wind-0 (wind twice), then solar-0 and batt-0, which tie
	// on BM25 and go in insertion order. Vector ranks: batt-0 (cosine 0.995),
	// solar-0 (0.0995); wind-0 is orthogonal, so it has no vector rank.
	wantLex := map[string]int{"wind-0": 1, "solar-0": 2, "batt-0": 3}
	wantVec := map[string]int{"batt-0": 1, "solar-0": 2, "wind-0": 0}
	tests := []struct {
		name   string
		fusion retrieval.FusionParams
		k      float64 // the K the scores should use
		lw, vw float64 // the weights the scores should use
		want   []string
	}{
		{"lexical only", retrieval.FusionParams{LexicalWeight: 1}, 60, 1, 0,
			[]string{"wind-0", "solar-0", "batt-0"}},
		// wind-0 has no vector rank: it comes last, with score 0.
		{"vector only", retrieval.FusionParams{VectorWeight: 1}, 60, 0, 1,
			[]string{"batt-0", "solar-0", "wind-0"}},
		// Defaults: K 60, lexical 1, vector 0.01: BM25 decides, the vector breaks ties.
		{"defaults", retrieval.FusionParams{}, 60, 1, 0.01,
			[]string{"wind-0", "solar-0", "batt-0"}},
		// Equal votes: batt-0 1/63+1/61 > solar-0 2/62 > wind-0 1/61.
		{"equal weights", retrieval.FusionParams{LexicalWeight: 1, VectorWeight: 1}, 60, 1, 1,
			[]string{"batt-0", "solar-0", "wind-0"}},
		// K 1: batt-0 1/4+1/2 > solar-0 2/3 > wind-0 1/2.
		{"small K", retrieval.FusionParams{K: 1, LexicalWeight: 1, VectorWeight: 1}, 1, 1, 1,
			[]string{"batt-0", "solar-0", "wind-0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix := newIndex(t, fakeEmbedder(energyQueries), tt.fusion, energy...)
			hits := search(t, ix, "wind electricity", 10)
			if got := hitIDs(hits); !slices.Equal(got, tt.want) {
				t.Fatalf("Search = %v, want %v", got, tt.want)
			}
			for _, h := range hits {
				if h.LexicalRank != wantLex[h.ID] || h.VectorRank != wantVec[h.ID] {
					t.Errorf("%s: lexical rank %d vector rank %d, want %d and %d",
						h.ID, h.LexicalRank, h.VectorRank, wantLex[h.ID], wantVec[h.ID])
				}
				if (h.LexicalScore > 0) != (h.LexicalRank > 0) || (h.VectorScore > 0) != (h.VectorRank > 0) {
					t.Errorf("%s: scores %v/%v do not agree with ranks %d/%d",
						h.ID, h.LexicalScore, h.VectorScore, h.LexicalRank, h.VectorRank)
				}
				var want float64
				if h.LexicalRank > 0 {
					want += tt.lw / (tt.k + float64(h.LexicalRank))
				}
				if h.VectorRank > 0 {
					want += tt.vw / (tt.k + float64(h.VectorRank))
				}
				if math.Abs(h.Score-want) > 1e-12 {
					t.Errorf("%s: fused score %v, want %v", h.ID, h.Score, want)
				}
			}
			// The lexical scores follow the lexical ranks; the vector score is
			// the cosine similarity.
			byID := map[string]grounded.Hit{}
			for _, h := range hits {
				byID[h.ID] = h
			}
			if !(byID["wind-0"].LexicalScore > byID["solar-0"].LexicalScore) {
				t.Errorf("wind-0 lexical score %v not above solar-0's %v", byID["wind-0"].LexicalScore, byID["solar-0"].LexicalScore)
			}
			if got, want := byID["batt-0"].VectorScore, 1/math.Sqrt(1.01); math.Abs(got-want) > 1e-5 {
				t.Errorf("batt-0 vector score %v, want %v", got, want)
			}
		})
	}
}

func TestSearchHitCarriesChunk(t *testing.T) {
	// ScanAlways: at k=1 the defaults skip the vector scan, which cannot
	// change the top hit (TestShortcutSameTopK); this test wants both ranks.
	ix := newIndex(t, fakeEmbedder(energyQueries), retrieval.FusionParams{ScanAlways: true}, energy...)
	hits := search(t, ix, "sunlight", 1)
	if len(hits) != 1 {
		t.Fatalf("Search = %v, want one hit", hitIDs(hits))
	}
	h := hits[0]
	if h.ID != "solar-0" || h.DocID != "solar" || h.Source != "solar.md" || h.Text != energy[0].text {
		t.Errorf("hit = %+v, want the solar-0 chunk", h.Chunk)
	}
	if h.LexicalRank != 1 || h.VectorRank != 1 {
		t.Errorf("ranks %d/%d, want 1/1", h.LexicalRank, h.VectorRank)
	}
}

func TestSearchK(t *testing.T) {
	ix := newIndex(t, fakeEmbedder(energyQueries), retrieval.FusionParams{}, energy...)
	for _, k := range []int{0, -1} {
		_, err := ix.Search(context.Background(), "wind", k, nil)
		if code := grounded.ErrorCode(err); code != grounded.EINVALID {
			t.Errorf("Search(k=%d) error %v (code %q), want %q", k, err, code, grounded.EINVALID)
		}
	}
	for k, want := range map[int]int{1: 1, 2: 2, 3: 3, 50: 3} {
		if got := search(t, ix, "electricity", k); len(got) != want {
			t.Errorf("Search(k=%d) returned %d hits, want %d", k, len(got), want)
		}
	}
}

func TestSearchNothingMatches(t *testing.T) {
	ix := newIndex(t, fakeEmbedder(energyQueries), retrieval.FusionParams{}, energy...)
	for _, q := range []string{"zebra", "the of and", ""} {
		if got := search(t, ix, q, 5); len(got) != 0 {
			t.Errorf("Search(%q) = %v, want nothing", q, hitIDs(got))
		}
	}
	empty := newIndex(t, fakeEmbedder(energyQueries), retrieval.FusionParams{})
	if got := search(t, empty, "wind electricity", 5); len(got) != 0 {
		t.Errorf("Search on an empty index = %v, want nothing", hitIDs(got))
	}
}

func TestSearchEmbedderError(t *testing.T) {
	boom := errors.New("boom")
	emb := grounded.Embedder{Name: "broken", Dim: fakeDim, Embed: func(context.Context, []string) ([][]float32, error) {
		return nil, boom
	}}
	ix, err := retrieval.New(retrieval.Config{Embedder: emb})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ix.Search(context.Background(), "wind", 3, nil); !errors.Is(err, boom) {
		t.Errorf("Search error = %v, want it to wrap %v", err, boom)
	}
}

func TestAddReplacesDocument(t *testing.T) {
	q := map[string][]float32{"apple": {1, 0, 0}, "alpha": {0, 0, 1}}
	ix := newIndex(t, fakeEmbedder(q), retrieval.FusionParams{LexicalWeight: 1, VectorWeight: 1},
		entry{"A-0", "A", "alpha apple", []float32{1, 0, 0}},
		entry{"A-1", "A", "alpha banana", []float32{1, 0.1, 0}},
		entry{"B-0", "B", "alpha cherry", []float32{0, 0, 1}},
	)
	if ix.Len() != 3 {
		t.Fatalf("Len = %d, want 3", ix.Len())
	}
	// A new version of A: one chunk with a new id, another vector.
	add(t, ix, entry{"A-new", "A", "alpha durian", []float32{0, 1, 0}})
	if ix.Len() != 2 {
		t.Errorf("Len after replacing A = %d, want 2", ix.Len())
	}
	tests := []struct {
		query string
		want  []string // as a set
	}{
		{"alpha", []string{"A-new", "B-0"}},
		{"apple", nil}, // only A's old chunk had the word, and the vector
		{"banana", nil},
		{"durian", []string{"A-new"}},
	}
	for _, tt := range tests {
		got := hitIDs(search(t, ix, tt.query, 10))
		slices.Sort(got)
		if !slices.Equal(got, tt.want) {
			t.Errorf("Search(%q) = %v, want %v", tt.query, got, tt.want)
		}
	}
	// Re-adding the same chunk id replaces it too.
	add(t, ix, entry{"A-new", "A", "alpha elderberry", []float32{0, 1, 0}})
	if ix.Len() != 2 {
		t.Errorf("Len after re-adding A-new = %d, want 2", ix.Len())
	}
	if got := search(t, ix, "durian", 10); len(got) != 0 {
		t.Errorf("Search(durian) after re-adding A-new = %v, want nothing", hitIDs(got))
	}
	if got := hitIDs(search(t, ix, "elderberry", 10)); !slices.Equal(got, []string{"A-new"}) {
		t.Errorf("Search(elderberry) = %v, want [A-new]", got)
	}
}

func TestAddRefusesMismatchedVectors(t *testing.T) {
	ix := newIndex(t, fakeEmbedder(energyQueries), retrieval.FusionParams{}, energy...)
	chunks, vecs := chunksOf([]entry{{"x-0", "x", "wind", []float32{1, 0, 0}}, {"x-1", "x", "wind", []float32{1, 0, 0}}})
	if err := ix.Add(context.Background(), chunks, vecs[:1]); err == nil {
		t.Error("Add with 2 chunks and 1 vector: no error")
	}
	if ix.Len() != len(energy) {
		t.Errorf("Len after refused Add = %d, want %d", ix.Len(), len(energy))
	}
}

func TestRemoveDocument(t *testing.T) {
	q := map[string][]float32{"alpha": {1, 1, 1}}
	ix := newIndex(t, fakeEmbedder(q), retrieval.FusionParams{LexicalWeight: 1, VectorWeight: 1},
		entry{"A-0", "A", "alpha apple", []float32{1, 0, 0}},
		entry{"A-1", "A", "alpha banana", []float32{0, 1, 0}},
		entry{"B-0", "B", "alpha cherry", []float32{0, 0, 1}},
	)
	ctx := context.Background()
	steps := []struct {
		remove  string
		wantLen int
		want    []string // Search("alpha") as a set
	}{
		{"unknown", 3, []string{"A-0", "A-1", "B-0"}},
		{"A", 1, []string{"B-0"}},
		{"A", 1, []string{"B-0"}}, // twice is no error
		{"B", 0, nil},
	}
	for _, s := range steps {
		if err := ix.RemoveDocument(ctx, s.remove); err != nil {
			t.Fatalf("RemoveDocument(%q): %v", s.remove, err)
		}
		if ix.Len() != s.wantLen {
			t.Errorf("after removing %q: Len %d, want %d", s.remove, ix.Len(), s.wantLen)
		}
		got := hitIDs(search(t, ix, "alpha", 10))
		slices.Sort(got)
		if !slices.Equal(got, s.want) {
			t.Errorf("after removing %q: Search = %v, want %v", s.remove, got, s.want)
		}
	}
	// The index takes the document back.
	add(t, ix, entry{"A-0", "A", "alpha apple", []float32{1, 0, 0}})
	if got := hitIDs(search(t, ix, "apple", 10)); !slices.Equal(got, []string{"A-0"}) {
		t.Errorf("Search(apple) after adding A back = %v, want [A-0]", got)
	}
}

func TestSearchTies(t *testing.T) {
	t.Run("same text goes in insertion order", func(t *testing.T) {
		// Identical chunks tie on BM25 and on cosine; the first added wins,
		// every time.
		q := map[string][]float32{"kiwi": {1, 0, 0}}
		ix := newIndex(t, fakeEmbedder(q), retrieval.FusionParams{},
			entry{"z-0", "z", "kiwi orchard", []float32{1, 0, 0}},
			entry{"a-0", "a", "kiwi orchard", []float32{1, 0, 0}},
			entry{"m-0", "m", "kiwi orchard", []float32{1, 0, 0}},
		)
		for range 20 {
			if got := hitIDs(search(t, ix, "kiwi", 3)); !slices.Equal(got, []string{"z-0", "a-0", "m-0"}) {
				t.Fatalf("Search = %v, want [z-0 a-0 m-0]", got)
			}
		}
	})
	t.Run("equal scores go by chunk id", func(t *testing.T) {
		// With no vector weight, chunks found only by the vector retriever
		// all score 0 and have no lexical rank: the chunk id orders them.
		q := map[string][]float32{"zebra": {1, 1, 1}}
		ix := newIndex(t, fakeEmbedder(q), retrieval.FusionParams{LexicalWeight: 1},
			entry{"c", "c", "lion", []float32{1, 0, 0}},
			entry{"a", "a", "tiger", []float32{1, 1, 0}},
			entry{"b", "b", "puma", []float32{1, 1, 1}},
		)
		for range 20 {
			hits := search(t, ix, "zebra", 3)
			if got := hitIDs(hits); !slices.Equal(got, []string{"a", "b", "c"}) {
				t.Fatalf("Search = %v, want [a b c]", got)
			}
			for _, h := range hits {
				if h.Score != 0 || h.VectorRank == 0 {
					t.Fatalf("%s: score %v vector rank %d, want 0 and a rank", h.ID, h.Score, h.VectorRank)
				}
			}
		}
	})
	t.Run("equal scores prefer a lexical rank", func(t *testing.T) {
		// Equal weights: b-lex is BM25's first and has no vector rank, a-vec
		// the vector's first and matches no word; both score 1/61. The
		// lexical match wins the tie, though its id sorts last.
		q := map[string][]float32{"kiwi": {1, 0, 0}}
		ix := newIndex(t, fakeEmbedder(q), retrieval.FusionParams{LexicalWeight: 1, VectorWeight: 1},
			entry{"a-vec", "a", "banana plantation", []float32{1, 0, 0}},
			entry{"b-lex", "b", "kiwi orchard", []float32{0, 1, 0}},
		)
		hits := search(t, ix, "kiwi", 2)
		if got := hitIDs(hits); !slices.Equal(got, []string{"b-lex", "a-vec"}) {
			t.Fatalf("Search = %v, want [b-lex a-vec]", got)
		}
		if hits[0].Score != hits[1].Score {
			t.Errorf("scores %v and %v, want a tie", hits[0].Score, hits[1].Score)
		}
	})
}

func TestIDF(t *testing.T) {
	an := textproc.NewAnalyzer()
	ix, err := retrieval.New(retrieval.Config{Embedder: fakeEmbedder(nil), Analyzer: an})
	if err != nil {
		t.Fatal(err)
	}
	const prior = retrieval.IDFPrior // chunks without the term, besides the index's
	if got, want := ix.IDF("anything"), math.Log(1+(prior+0.5)/0.5); math.Abs(got-want) > 1e-12 {
		t.Errorf("IDF on an empty index = %v, want %v", got, want)
	}
	add(t, ix, energy...)
	if ix.Analyzer() != an {
		t.Error("Analyzer() is not the configured analyzer")
	}
	// N = 3 (+ the prior): electricity is in all three chunks, wind in one.
	common, rare, unseen := ix.IDF(an.Term("electricity")), ix.IDF(an.Term("wind")), ix.IDF("zebra")
	wantCommon := math.Log(1 + (prior+3-3+0.5)/(3+0.5))
	wantRare := math.Log(1 + (prior+3-1+0.5)/(1+0.5))
	wantUnseen := math.Log(1 + (prior+3+0.5)/0.5)
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"electricity", common, wantCommon}, {"wind", rare, wantRare}, {"unseen", unseen, wantUnseen}} {
		if math.Abs(c.got-c.want) > 1e-12 {
			t.Errorf("IDF(%s) = %v, want %v", c.name, c.got, c.want)
		}
	}
	if !(unseen > rare && rare > common && common > 0) {
		t.Errorf("IDF unseen %v, rare %v, common %v: want unseen > rare > common > 0", unseen, rare, common)
	}
}

// TestSearchConcurrent searches while documents are replaced and removed.
// Run under -race. Each version of document "d" has chunks named after the
// version, so a result mixing two versions would show. The index keeps far
// more chunks than the search depth throughout (see TestBugSearchDuringRemove
// for why).
func TestSearchConcurrent(t *testing.T) {
	an := textproc.NewAnalyzer()
	emb := retrieval.HashEmbedder(64, an)
	ix, err := retrieval.New(retrieval.Config{Embedder: emb, Analyzer: an, Fusion: retrieval.FusionParams{Depth: 5}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	chunksFor := func(doc, id string, texts ...string) ([]grounded.Chunk, [][]float32) {
		var chunks []grounded.Chunk
		for i, text := range texts {
			chunks = append(chunks, grounded.Chunk{ID: fmt.Sprintf("%s-%d", id, i), DocID: doc, Text: text})
		}
		vecs, err := emb.Embed(ctx, texts)
		if err != nil {
			t.Fatal(err)
		}
		return chunks, vecs
	}
	version := func(v int) ([]grounded.Chunk, [][]float32) {
		var texts []string
		for i := range 3 {
			texts = append(texts, fmt.Sprintf("harbour lighthouse keeper note %d of version %d", i, v))
		}
		return chunksFor("d", fmt.Sprintf("d-v%d", v), texts...)
	}
	var statics []string
	for i := range 50 {
		statics = append(statics, fmt.Sprintf("harbour island static page %d", i))
	}
	if chunks, vecs := chunksFor("s", "s", statics...); ix.Add(ctx, chunks, vecs) != nil {
		t.Fatal("adding the static document failed")
	}

	const searchers, rounds = 4, 40
	var wg sync.WaitGroup
	errs := make(chan error, searchers+1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for v := range rounds {
			chunks, vecs := version(v)
			if err := ix.Add(ctx, chunks, vecs); err != nil {
				errs <- err
				return
			}
			if v%3 == 2 {
				if err := ix.RemoveDocument(ctx, "d"); err != nil {
					errs <- err
					return
				}
			}
		}
	}()
	for range searchers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				hits, err := ix.Search(ctx, "harbour lighthouse keeper", 2, nil)
				if err != nil {
					errs <- err
					return
				}
				if err := checkHits(hits); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// The last version (39) was added and not removed.
	if ix.Len() != 53 {
		t.Errorf("Len = %d, want 53", ix.Len())
	}
	got := hitIDs(search(t, ix, "lighthouse keeper", 3))
	slices.Sort(got)
	if want := []string{"d-v39-0", "d-v39-1", "d-v39-2"}; !slices.Equal(got, want) {
		t.Errorf("final Search = %v, want %v", got, want)
	}
}

// checkHits reports a hit of a removed chunk, a repeated chunk, or chunks of
// two versions of document "d".
func checkHits(hits []grounded.Hit) error {
	seen := map[string]bool{}
	version := ""
	for _, h := range hits {
		if h.ID == "" || h.Text == "" {
			return fmt.Errorf("hit of an empty chunk: %+v", h)
		}
		if seen[h.ID] {
			return fmt.Errorf("chunk %s twice in %v", h.ID, hitIDs(hits))
		}
		seen[h.ID] = true
		if h.DocID == "d" {
			v, _, _ := strings.Cut(strings.TrimPrefix(h.ID, "d-"), "-")
			if version != "" && v != version {
				return fmt.Errorf("two versions of d in one result: %v", hitIDs(hits))
			}
			version = v
		}
	}
	return nil
}

// knownBug skips a test that shows a bug not fixed yet; delete the call with
// the fix.
func knownBug(t *testing.T, what string) {
	t.Helper()
}

// TestBugSearchDuringRemove: Search queries the vector index without the
// index lock, so a RemoveDocument between vector.Query's count and
// chromem-go's makes the search fail ("nResults must be <= the number of
// documents in the collection") whenever the index holds no more chunks than
// the fusion depth.
func TestBugSearchDuringRemove(t *testing.T) {
	knownBug(t, "Search fails while a document is removed (vector.Query count race)")
	an := textproc.NewAnalyzer()
	emb := retrieval.HashEmbedder(32, an)
	ix, err := retrieval.New(retrieval.Config{Embedder: emb, Analyzer: an})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	texts := []string{"harbour lighthouse", "lighthouse keeper", "keeper of the harbour"}
	vecs, err := emb.Embed(ctx, texts)
	if err != nil {
		t.Fatal(err)
	}
	chunks := make([]grounded.Chunk, len(texts))
	for i, text := range texts {
		chunks[i] = grounded.Chunk{ID: fmt.Sprintf("d-%d", i), DocID: fmt.Sprintf("d%d", i%2), Text: text}
	}
	if err := ix.Add(ctx, chunks, vecs); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Add(2)
	go func() {
		defer wg.Done()
		for range 3000 {
			if err := ix.RemoveDocument(ctx, "d1"); err != nil {
				errs <- err
				return
			}
			if err := ix.Add(ctx, chunks[1:2], vecs[1:2]); err != nil {
				errs <- err
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		for range 3000 {
			if _, err := ix.Search(ctx, "harbour keeper", 5, nil); err != nil {
				errs <- err
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestBugAddFailureKeepsOldVersion: Add removes the document's old chunks
// before the vector index refuses a new vector of the wrong dimension, so
// the failed Add leaves neither version.
func TestBugAddFailureKeepsOldVersion(t *testing.T) {
	knownBug(t, "a failed Add drops the document's old chunks")
	q := map[string][]float32{"kiwi": {1, 0, 0}}
	ix := newIndex(t, fakeEmbedder(q), retrieval.FusionParams{}, entry{"A-0", "A", "kiwi orchard", []float32{1, 0, 0}})
	chunks, vecs := chunksOf([]entry{{"A-1", "A", "kiwi farm", []float32{1, 0}}})
	if err := ix.Add(context.Background(), chunks, vecs); err == nil {
		t.Fatal("Add of a 2-dimensional vector into a 3-dimensional index: no error")
	}
	if got := hitIDs(search(t, ix, "kiwi", 5)); ix.Len() != 1 || !slices.Equal(got, []string{"A-0"}) {
		t.Errorf("after a failed Add: Len %d, Search %v; want 1 and [A-0]", ix.Len(), got)
	}
}

// TestBugVectorTieOrder: chunks with equal vectors come back from the vector
// index in a random order, so when the vector vote decides, Search orders
// duplicate chunks differently from one call to the next.
func TestBugVectorTieOrder(t *testing.T) {
	knownBug(t, "equal vector scores are ranked at random")
	q := map[string][]float32{"kiwi": {1, 0, 0}}
	ix := newIndex(t, fakeEmbedder(q), retrieval.FusionParams{VectorWeight: 1},
		entry{"z-0", "z", "kiwi orchard", []float32{1, 0, 0}},
		entry{"a-0", "a", "kiwi orchard", []float32{1, 0, 0}},
		entry{"m-0", "m", "kiwi orchard", []float32{1, 0, 0}},
	)
	first := hitIDs(search(t, ix, "kiwi", 3))
	for i := range 50 {
		if got := hitIDs(search(t, ix, "kiwi", 3)); !slices.Equal(got, first) {
			t.Fatalf("search %d = %v, the first = %v", i+1, got, first)
		}
	}
}

// TestBugDuplicateChunkID: a chunk id added twice (in one batch, or by two
// documents) leaves the first copy live in the BM25 index: Search returns
// the id twice while Len counts it once.
func TestBugDuplicateChunkID(t *testing.T) {
	knownBug(t, "Add accepts a chunk id that is already taken")
	q := map[string][]float32{"kiwi": {1, 0, 0}}
	tests := []struct {
		name  string
		first []entry
		then  []entry
	}{
		{"in one batch", []entry{{"x", "A", "kiwi orchard", []float32{1, 0, 0}}, {"x", "A", "kiwi farm", []float32{1, 0, 0}}}, nil},
		{"by two documents", []entry{{"x", "A", "kiwi orchard", []float32{1, 0, 0}}}, []entry{{"x", "B", "kiwi farm", []float32{1, 0, 0}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix, err := retrieval.New(retrieval.Config{Embedder: fakeEmbedder(q)})
			if err != nil {
				t.Fatal(err)
			}
			var errs []error
			for _, es := range [][]entry{tt.first, tt.then} {
				if len(es) > 0 {
					chunks, vecs := chunksOf(es)
					errs = append(errs, ix.Add(context.Background(), chunks, vecs))
				}
			}
			if errors.Join(errs...) != nil {
				return // refusing the duplicate is a fix too
			}
			if got := hitIDs(search(t, ix, "kiwi", 5)); len(got) != ix.Len() {
				t.Errorf("Search = %v but Len = %d", got, ix.Len())
			}
		})
	}
}
