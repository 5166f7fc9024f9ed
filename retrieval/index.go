// Package retrieval finds the passages that answer a question: an in-memory
// BM25 index of its own (see bm25.go), a vector index (chromem-go, through
// retrieval/vector), and reciprocal rank fusion of the two. The index is
// rebuilt from the store at open and is safe for concurrent use.
package retrieval

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/internal/textproc"
	"github.com/groundedhq/grounded/retrieval/vector"
	"golang.org/x/sync/errgroup"
)

// FusionParams weight reciprocal rank fusion:
// score = LexicalWeight/(K+rank_lex) + VectorWeight/(K+rank_vec), ranks from 1,
// a missing rank adding nothing.
//
// Defaults: K=60 (Cormack et al. 2009), LexicalWeight=1, VectorWeight=0.01,
// Depth 30: each retriever returns max(Depth, 3k) candidates. A deeper
// vector query costs time in chromem-go's top-n heap (10k chunks, p50: top
// 10 7.4 ms, top 100 10.3 ms) and ranks past 30 add under 1/90 each to a
// fused score. The vector weight is chosen for the
// offline hash embedder, which carries little signal BM25 lacks. Measured on
// BEIR SciFact (grounded eval retrieval, 300 queries, BM25 k1=0.9 b=0.75),
// nDCG@10 (even queries / odd queries) and Recall@100:
//
//	lexical only          0.6962 (0.7127 / 0.6797)  0.9209
//	vector only           0.4605 (0.4746 / 0.4463)  0.7483
//	vector weight 0.01    0.6962 (0.7127 / 0.6797)  0.9209   <- default: a tie-breaker
//	vector weight 0.05    0.6877 (0.7043 / 0.6711)  0.9209
//	vector weight 0.1     0.6678 (0.6818 / 0.6539)  0.9209
//	vector weight 0.3     0.6287 (0.6460 / 0.6114)  0.9147
//	vector weight 1       0.5713 (0.5971 / 0.5456)  0.9063
//
// A real embedding model deserves an equal vote: set VectorWeight to 1.
//
// The vector scan is skipped when it provably cannot change the top k: a
// vector rank adds at most VectorWeight/(K+1) to a chunk's score, so when
// that is less than the gap between the fused scores of lexical ranks r_k
// and r_k+1 (r_k the rank of the k-th live lexical hit), no chunk can
// overtake another among the top k nor enter them, and the top k are the
// lexical top k in order. With the defaults that holds up to k = 17; the
// hits then carry no vector rank. TestShortcutSameTopK holds it over
// random queries.
type FusionParams struct {
	K             float64
	LexicalWeight float64
	VectorWeight  float64
	Depth         int
	// ScanAlways runs the vector scan even when it cannot change the top
	// k, for callers that want every hit's vector rank.
	ScanAlways bool
}

// vectorCanReorder reports whether vector ranks can change the order of
// the fused scores of lexical ranks up to rank+1 (see FusionParams).
func (f FusionParams) vectorCanReorder(rank int) bool {
	if f.VectorWeight == 0 {
		return false
	}
	r := float64(rank)
	gap := f.LexicalWeight * (1/(f.K+r) - 1/(f.K+r+1))
	return f.VectorWeight/(f.K+1) >= gap
}

func (f FusionParams) withDefaults() FusionParams {
	if f.K <= 0 {
		f.K = 60
	}
	if f.LexicalWeight == 0 && f.VectorWeight == 0 {
		f.LexicalWeight, f.VectorWeight = 1, 0.01
	}
	if f.Depth <= 0 {
		f.Depth = 30
	}
	return f
}

// RM3Params configure pseudo-relevance feedback (RM3, Lavrenko and Croft
// 2001; Abdul-Jaleel et al. 2004) on the lexical side: the FeedbackDocs best
// chunks of a first BM25 pass give a relevance model P(w|R) = sum over those
// chunks of P(w|d) * score(d) / sum of scores; its FeedbackTerms most likely
// terms are mixed with the query, the query keeping OriginalWeight. Zero
// FeedbackDocs turns it off, the default: on BEIR SciFact it lowered nDCG@10
// on the tuning half at every setting tried (grounded eval retrieval
// --rm3-docs D --rm3-weight W; even / odd queries; no RM3: 0.7127 / 0.6797):
//
//	D=5  W=0.5    0.6774 / 0.6347
//	D=10 W=0.5    0.6621 / 0.6251
//	D=10 W=0.7    0.6954 / 0.6579
//	D=10 W=0.85   0.7078 / 0.6693   (Recall@100 0.9287, up from 0.9209)
//
// It is kept for recall-oriented uses, where it finds more of the relevant
// documents in the first hundred.
type RM3Params struct {
	FeedbackDocs   int
	FeedbackTerms  int
	OriginalWeight float64
}

// Config wires an Index.
type Config struct {
	Embedder grounded.Embedder // required
	Analyzer *textproc.Analyzer
	BM25     BM25Params
	Fusion   FusionParams
	RM3      RM3Params
}

// Index is the hybrid search index over chunks.
type Index struct {
	emb    grounded.Embedder
	an     *textproc.Analyzer
	fusion FusionParams
	rm3    RM3Params

	mu     sync.RWMutex
	chunks []grounded.Chunk // by slot; removed slots keep a zero Chunk
	slots  map[string]int32 // chunk id -> slot
	byDoc  map[string][]int32
	lex    *lexical
	vec    *vector.Index
}

// New returns an empty index.
func New(cfg Config) (*Index, error) {
	if cfg.Embedder.Embed == nil || cfg.Embedder.Dim <= 0 {
		return nil, fmt.Errorf("retrieval: an embedder is required")
	}
	if cfg.Analyzer == nil {
		cfg.Analyzer = textproc.NewAnalyzer()
	}
	vec, err := vector.New(cfg.Embedder.Dim)
	if err != nil {
		return nil, err
	}
	return &Index{
		emb:    cfg.Embedder,
		an:     cfg.Analyzer,
		fusion: cfg.Fusion.withDefaults(),
		rm3:    cfg.RM3,
		slots:  map[string]int32{},
		byDoc:  map[string][]int32{},
		lex:    newLexical(cfg.BM25),
		vec:    vec,
	}, nil
}

// Analyzer returns the analyzer the index uses for terms.
func (ix *Index) Analyzer() *textproc.Analyzer { return ix.an }

// Len returns the number of chunks in the index.
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return len(ix.slots)
}

// Add indexes chunks with their vectors. Documents whose chunks are added
// replace any chunks of theirs already in the index, in one step: a search
// sees the old version or the new one, never both or a mix.
func (ix *Index) Add(ctx context.Context, chunks []grounded.Chunk, vecs [][]float32) error {
	if len(chunks) != len(vecs) {
		return fmt.Errorf("retrieval: %d chunks but %d vectors", len(chunks), len(vecs))
	}
	ids := make([]string, len(chunks))
	seen := make(map[string]bool, len(chunks))
	for i, c := range chunks {
		if seen[c.ID] {
			return fmt.Errorf("retrieval: chunk id %s appears twice", c.ID)
		}
		seen[c.ID] = true
		ids[i] = c.ID
		if len(vecs[i]) != ix.vec.Dim() {
			return fmt.Errorf("retrieval: chunk %s has a %d-dimensional vector, the index %d", c.ID, len(vecs[i]), ix.vec.Dim())
		}
	}
	// Terms are computed outside the lock, on every core.
	terms := make([][]string, len(chunks))
	var g errgroup.Group
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		g.Go(func() error {
			for i := w; i < len(chunks); i += workers {
				terms[i] = ix.an.Terms(chunks[i].Heading() + "\n" + chunks[i].Text)
			}
			return nil
		})
	}
	g.Wait()
	ix.mu.Lock()
	defer ix.mu.Unlock()
	docs := map[string]bool{}
	for _, c := range chunks {
		docs[c.DocID] = true
	}
	for _, c := range chunks {
		if slot, ok := ix.slots[c.ID]; ok && !docs[ix.chunks[slot].DocID] {
			return fmt.Errorf("retrieval: chunk id %s already belongs to document %s", c.ID, ix.chunks[slot].DocID)
		}
	}
	for d := range docs {
		if err := ix.removeLocked(ctx, d); err != nil {
			return err
		}
	}
	if err := ix.vec.Add(ctx, ids, vecs); err != nil {
		return err
	}
	for i, c := range chunks {
		slot := int32(len(ix.chunks))
		ix.chunks = append(ix.chunks, c)
		ix.slots[c.ID] = slot
		ix.byDoc[c.DocID] = append(ix.byDoc[c.DocID], slot)
		ix.lex.add(slot, terms[i])
	}
	return nil
}

// RemoveDocument drops every chunk of a document; an unknown id is no error.
func (ix *Index) RemoveDocument(ctx context.Context, docID string) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.removeLocked(ctx, docID)
}

func (ix *Index) removeLocked(ctx context.Context, docID string) error {
	slots := ix.byDoc[docID]
	if len(slots) == 0 {
		return nil
	}
	ids := make([]string, len(slots))
	for i, s := range slots {
		ids[i] = ix.chunks[s].ID
	}
	if err := ix.vec.Delete(ctx, ids...); err != nil {
		return err
	}
	for i, s := range slots {
		c := ix.chunks[s]
		ix.lex.remove(s, ix.an.Terms(c.Heading()+"\n"+c.Text))
		delete(ix.slots, ids[i])
		ix.chunks[s] = grounded.Chunk{}
	}
	delete(ix.byDoc, docID)
	return nil
}

// IDF says how informative a term is, for the answer checks (BM25 ranking
// does not use it): BM25's idf, computed as if the index also held
// IDFPrior chunks without the term. In a large index the prior changes
// little; in a small collection (a support team's five documents) it keeps
// a question word that no chunk has ("how many") from outweighing every
// word the chunks share with the question, which made such collections
// abstain on questions they answer. A term in no chunk gets the largest
// idf there is.
func (ix *Index) IDF(term string) float64 {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	n := float64(ix.lex.nLive + IDFPrior)
	df := float64(min(ix.lex.docFreq(term), ix.lex.nLive))
	return math.Log(1 + (n-df+0.5)/(df+0.5))
}

// IDFPrior is the number of term-less chunks IDF assumes besides the index's.
const IDFPrior = 1000

// Search returns the k best chunks for query that pass filter (nil: all),
// by reciprocal rank fusion of BM25 and vector similarity. The two
// retrievers run concurrently. With a filter BM25 scores only the chunks
// that pass it; the vector scan (chromem-go's, which filters only by exact
// metadata) is asked for ten times the depth, and what fails is dropped.
// Errors: EINVALID for k below 1.
func (ix *Index) Search(ctx context.Context, query string, k int, filter grounded.Filter) ([]grounded.Hit, error) {
	if k <= 0 {
		return nil, grounded.Errorf(grounded.EINVALID, "k must be at least 1")
	}
	depth := max(ix.fusion.Depth, 3*k)
	vecDepth := depth
	var keep func(int32) bool
	if len(filter) > 0 {
		vecDepth = 10 * depth
		keep = func(slot int32) bool { return filter.Match(ix.chunks[slot]) }
	}
	terms := ix.an.Terms(query)
	if !ix.fusion.ScanAlways {
		if hits, ok := ix.lexicalOnly(terms, k, depth, keep); ok {
			return hits, nil
		}
	}
	vecs, err := ix.emb.Embed(ctx, []string{query})
	if err != nil {
		return nil, fmt.Errorf("search: embed query: %w", err)
	}
	if len(vecs) != 1 {
		return nil, fmt.Errorf("search: embed query: embedder %s returned %d vectors for 1 text", ix.emb.Name, len(vecs))
	}
	// One read lock over both retrievers and the fusion: a document
	// replaced meanwhile is seen wholly old or wholly new, never as the
	// old version's lexical hits mixed with the new one's vectors.
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var lexHits []scored
	var vecHits []vector.Match
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		lexHits = ix.lexicalSearch(terms, depth, keep)
		return nil
	})
	g.Go(func() error {
		var err error
		vecHits, err = ix.vec.Query(gctx, vecs[0], vecDepth)
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}

	fused := map[int32]*grounded.Hit{}
	get := func(slot int32) *grounded.Hit {
		h := fused[slot]
		if h == nil {
			h = &grounded.Hit{Chunk: ix.chunks[slot]}
			fused[slot] = h
		}
		return h
	}
	f := ix.fusion
	for i, s := range lexHits {
		if !ix.lex.live[s.slot] {
			continue
		}
		h := get(s.slot)
		h.LexicalRank, h.LexicalScore = i+1, s.score
		h.Score += f.LexicalWeight / (f.K + float64(i+1))
	}
	rank := 0
	for _, m := range vecHits {
		slot, ok := ix.slots[m.ID]
		if !ok || m.Score <= 0 || (len(filter) > 0 && !filter.Match(ix.chunks[slot])) {
			continue // removed meanwhile, no similarity at all, or filtered out
		}
		if rank++; rank > depth {
			break
		}
		h := get(slot)
		h.VectorRank, h.VectorScore = rank, float64(m.Score)
		h.Score += f.VectorWeight / (f.K + float64(rank))
	}
	out := make([]grounded.Hit, 0, len(fused))
	for _, h := range fused {
		out = append(out, *h)
	}
	slices.SortFunc(out, func(a, b grounded.Hit) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		if c := cmpInt(a.LexicalRank, b.LexicalRank); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	if len(out) > k {
		out = out[:k]
	}
	return out, nil
}

// lexicalSearch is the BM25 side of Search (with RM3 when configured).
// Called with ix.mu held.
func (ix *Index) lexicalSearch(terms []string, depth int, keep func(int32) bool) []scored {
	hits := ix.lex.search(terms, depth, keep)
	if ix.rm3.FeedbackDocs > 0 && len(hits) > 0 {
		hits = ix.lex.searchWeighted(ix.expand(terms, hits), depth, keep)
	}
	return hits
}

// lexicalOnly returns Search's top k from BM25 alone when the vector side
// provably cannot change them (FusionParams), skipping the query's
// embedding and the vector scan; ok is false when it can, or when BM25
// finds fewer than k live chunks.
func (ix *Index) lexicalOnly(terms []string, k, depth int, keep func(int32) bool) (hits []grounded.Hit, ok bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	f := ix.fusion
	for i, s := range ix.lexicalSearch(terms, depth, keep) {
		if !ix.lex.live[s.slot] {
			continue
		}
		hits = append(hits, grounded.Hit{Chunk: ix.chunks[s.slot], LexicalRank: i + 1, LexicalScore: s.score,
			Score: f.LexicalWeight / (f.K + float64(i+1))})
		if len(hits) == k {
			return hits, !f.vectorCanReorder(i + 1)
		}
	}
	return nil, false
}

// cmpInt orders ranks with 0 (absent) last.
func cmpInt(a, b int) int {
	switch {
	case a == b:
		return 0
	case a == 0:
		return 1
	case b == 0:
		return -1
	case a < b:
		return -1
	}
	return 1
}

// expand builds the RM3 query from the first pass. Called with ix.mu held.
func (ix *Index) expand(query []string, first []scored) map[string]float64 {
	p := ix.rm3
	if p.FeedbackTerms <= 0 {
		p.FeedbackTerms = 10
	}
	if p.OriginalWeight <= 0 || p.OriginalWeight > 1 {
		p.OriginalWeight = 0.5
	}
	docs := first[:min(len(first), p.FeedbackDocs)]
	var total float64
	for _, d := range docs {
		total += d.score
	}
	rel := map[string]float64{}
	for _, d := range docs {
		c := ix.chunks[d.slot]
		terms := ix.an.Terms(c.Heading() + "\n" + c.Text)
		if len(terms) == 0 {
			continue
		}
		w := d.score / total / float64(len(terms))
		for _, t := range terms {
			rel[t] += w
		}
	}
	type tw struct {
		t string
		w float64
	}
	var top []tw
	for t, w := range rel {
		top = append(top, tw{t, w})
	}
	slices.SortFunc(top, func(a, b tw) int {
		switch {
		case a.w > b.w:
			return -1
		case a.w < b.w:
			return 1
		}
		return strings.Compare(a.t, b.t)
	})
	top = top[:min(len(top), p.FeedbackTerms)]
	var norm float64
	for _, x := range top {
		norm += x.w
	}
	out := map[string]float64{}
	for _, t := range query {
		out[t] += p.OriginalWeight / float64(len(query))
	}
	for _, x := range top {
		out[x.t] += (1 - p.OriginalWeight) * x.w / norm
	}
	return out
}
