package bench_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/answer"
	"github.com/groundedhq/grounded/ingest"
	"github.com/groundedhq/grounded/internal/textproc"
	"github.com/groundedhq/grounded/retrieval"
	chromem "github.com/philippgille/chromem-go"
	"golang.org/x/sync/errgroup"
)

// The synthetic corpus.
//
// Vocabulary: the 50 function words below (all English stop words to the
// analyzer) at the top ranks, then contentWords made-up words built from
// English-like syllables ("shaitler", "prounment"), shortest first. A word of
// text is drawn
// from a Zipf-Mandelbrot distribution over that ranked list (s=1.07, v=2),
// so about half the running words are function words and the content words
// follow the long tail of real prose; or, with probability topicShare, from
// its document's own topicWords words, taken uniformly from content ranks
// 100 and up, so that documents have subjects and BM25 has clusters to find.
//
// Documents have chunksPerDoc chunks. A chunk is one section: paragraphs of
// 3-6 sentences of 8-24 words, 200-300 words in all (about 250 tokens).
// Everything is drawn from fixed seeds: the same n gives the same corpus.
const (
	contentWords = 4000
	topicWords   = 12
	topicShare   = 0.08
	chunksPerDoc = 8
	corpusSeed   = 20240601
	querySeed    = 7
	numQueries   = 64
	embedDim     = 384
)

var functionWords = []string{
	"the", "of", "and", "to", "a", "in", "is", "that", "for", "it",
	"as", "with", "was", "on", "be", "by", "this", "are", "or", "from",
	"at", "which", "an", "but", "not", "have", "has", "its", "they", "their",
	"these", "when", "if", "than", "other", "such", "only", "into", "all", "each",
	"can", "there", "been", "more", "some", "so", "what", "will", "were", "both",
}

// vocabulary returns the ranked word list: function words, then content words.
func vocabulary() []string {
	r := rand.New(rand.NewPCG(corpusSeed, 1))
	onsets := []string{"b", "c", "d", "f", "g", "h", "l", "m", "n", "p", "r", "s", "t", "v", "w",
		"br", "cl", "cr", "dr", "fl", "gr", "pl", "pr", "sh", "st", "tr", "th", "ch", "sp", "sc"}
	vowels := []string{"a", "e", "i", "o", "u", "a", "e", "i", "o", "ea", "ou", "ai", "ee"}
	codas := []string{"", "", "", "", "", "n", "r", "l", "s", "t", "m", "nd", "st", "rt", "ck", "ng", "x"}
	suffixes := []string{"tion", "ment", "ing", "er", "al", "ive", "ity", "ous", "ness", "ed"}
	seen := map[string]bool{}
	words := append([]string(nil), functionWords...)
	for _, w := range words {
		seen[w] = true
	}
	for len(words) < len(functionWords)+contentWords {
		var sb strings.Builder
		syllables := 1
		switch x := r.Float64(); {
		case x > 0.85:
			syllables = 3
		case x > 0.35:
			syllables = 2
		}
		for range syllables {
			sb.WriteString(onsets[r.IntN(len(onsets))])
			sb.WriteString(vowels[r.IntN(len(vowels))])
			sb.WriteString(codas[r.IntN(len(codas))])
		}
		if r.Float64() < 0.25 {
			sb.WriteString(suffixes[r.IntN(len(suffixes))])
		}
		w := sb.String()
		if len(w) < 3 || seen[w] || textproc.IsStopWord(w) {
			continue
		}
		seen[w] = true
		words = append(words, w)
	}
	// Frequent words are short ones, as in real text.
	slices.SortStableFunc(words[len(functionWords):], func(a, b string) int { return len(a) - len(b) })
	return words
}

// generator writes the synthetic corpus.
type generator struct {
	r     *rand.Rand
	zipf  *rand.Zipf
	vocab []string
}

func newGenerator(seed uint64, vocab []string) *generator {
	r := rand.New(rand.NewPCG(seed, 2))
	return &generator{r: r, zipf: rand.NewZipf(r, 1.07, 2, uint64(len(vocab)-1)), vocab: vocab}
}

func (g *generator) word() string { return g.vocab[g.zipf.Uint64()] }

// contentWord draws a Zipf word that is not a function word.
func (g *generator) contentWord() string {
	for {
		if i := g.zipf.Uint64(); int(i) >= len(functionWords) {
			return g.vocab[i]
		}
	}
}

func (g *generator) topics() []string {
	t := make([]string, topicWords)
	for i := range t {
		t[i] = g.vocab[len(functionWords)+100+g.r.IntN(contentWords-100)]
	}
	return t
}

func capitalize(w string) string { return strings.ToUpper(w[:1]) + w[1:] }

// passage writes 200-300 words of sentences and paragraphs and returns the
// text and its word count.
func (g *generator) passage(topics []string) (string, int) {
	var sb strings.Builder
	target := 200 + g.r.IntN(101)
	words := 0
	for words < target {
		if sb.Len() > 0 {
			sb.WriteString("\n\n")
		}
		for s, n := 0, 3+g.r.IntN(4); s < n && words < target; s++ {
			if s > 0 {
				sb.WriteByte(' ')
			}
			length := 8 + g.r.IntN(17)
			for i := range length {
				w := g.word()
				if g.r.Float64() < topicShare {
					w = topics[g.r.IntN(len(topics))]
				}
				if i == 0 {
					w = capitalize(w)
				} else {
					sb.WriteByte(' ')
				}
				sb.WriteString(w)
				if i > 0 && i < length-1 && g.r.Float64() < 0.05 {
					sb.WriteByte(',')
				}
			}
			sb.WriteByte('.')
			words += length
		}
	}
	return sb.String(), words
}

// corpus is a synthetic collection of n chunks with its questions.
type corpus struct {
	chunks  []grounded.Chunk
	queries []string
}

func newCorpus(n int) corpus {
	vocab := vocabulary()
	g := newGenerator(corpusSeed, vocab)
	var c corpus
	var docTopics [][]string
	for d := 0; len(c.chunks) < n; d++ {
		topics := g.topics()
		docTopics = append(docTopics, topics)
		source := fmt.Sprintf("synthetic/doc-%06d.md", d)
		docID := ingest.DocID(source)
		title := capitalize(topics[0]) + " " + topics[1]
		offset := len(title) + 2
		for ord := 0; ord < chunksPerDoc && len(c.chunks) < n; ord++ {
			text, words := g.passage(topics)
			heading := capitalize(topics[g.r.IntN(len(topics))]) + " " + g.contentWord()
			c.chunks = append(c.chunks, grounded.Chunk{
				ID: fmt.Sprintf("%s-%05d", docID, ord), DocID: docID, Ord: ord,
				Source: source, Title: title, Section: title + " > " + heading,
				Start: offset, End: offset + len(text), Text: text, Tokens: words,
			})
			offset += len(text) + 2
		}
	}
	// Questions name two topic words of some document and one more word,
	// wrapped in function words only, so that every content word of a
	// question is in the vocabulary.
	templates := []string{
		"What is the %s of the %s %s?",
		"How are %s and %s used for %s?",
		"Which %s has %s %s?",
		"Why is %s %s when %s?",
	}
	q := newGenerator(querySeed, vocab)
	for i := range numQueries {
		topics := docTopics[q.r.IntN(len(docTopics))]
		pick := q.r.Perm(len(topics))
		a, b := topics[pick[0]], topics[pick[1]]
		c.queries = append(c.queries, fmt.Sprintf(templates[i%len(templates)], a, q.contentWord(), b))
	}
	return c
}

// fixture is a built corpus: the hybrid index and answerer over it, and the
// vectors a bare chromem-go collection is filled with.
type fixture struct {
	chunks  []grounded.Chunk
	vecs    [][]float32 // unit length, as the hash embedder returns them
	queries []string
	qvecs   [][]float32 // the queries' vectors, as Index.Search makes them
	emb     grounded.Embedder
	index   *retrieval.Index
	answers *answer.Service
	bare    func() (*chromem.Collection, error)
	built   time.Duration
}

// embedAll embeds texts on every core.
func embedAll(ctx context.Context, emb grounded.Embedder, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	const shard = 512
	for lo := 0; lo < len(texts); lo += shard {
		hi := min(lo+shard, len(texts))
		g.Go(func() error {
			v, err := emb.Embed(gctx, texts[lo:hi])
			if err != nil {
				return err
			}
			copy(out[lo:hi], v)
			return nil
		})
	}
	return out, g.Wait()
}

func buildFixture(n int) (*fixture, error) {
	began := time.Now()
	ctx := context.Background()
	c := newCorpus(n)
	an := textproc.NewAnalyzer()
	emb := retrieval.HashEmbedder(embedDim, an)
	texts := make([]string, len(c.chunks))
	for i, ch := range c.chunks {
		texts[i] = ingest.EmbedText(ch)
	}
	vecs, err := embedAll(ctx, emb, texts)
	if err != nil {
		return nil, fmt.Errorf("embed chunks: %w", err)
	}
	qvecs, err := emb.Embed(ctx, c.queries)
	if err != nil {
		return nil, fmt.Errorf("embed queries: %w", err)
	}
	ix, err := retrieval.New(retrieval.Config{Embedder: emb, Analyzer: an})
	if err != nil {
		return nil, err
	}
	// Index.Add analyzes its chunks before it takes the index's lock, so
	// batches added concurrently build on every core. A batch holds whole
	// documents: adding a document's chunks replaces the ones it had.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	const batch = 128 * chunksPerDoc
	for lo := 0; lo < len(c.chunks); lo += batch {
		hi := min(lo+batch, len(c.chunks))
		g.Go(func() error { return ix.Add(gctx, c.chunks[lo:hi], vecs[lo:hi]) })
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("build index: %w", err)
	}
	f := &fixture{
		chunks: c.chunks, vecs: vecs, queries: c.queries, qvecs: qvecs, emb: emb,
		index: ix, answers: answer.New(ix, an, answer.Config{}),
	}
	f.bare = sync.OnceValues(func() (*chromem.Collection, error) { return bareCollection(ctx, vecs) })
	f.built = time.Since(began)
	return f, nil
}

// bareCollection is chromem-go used directly: one collection holding vecs
// under ids "0", "1", ...
func bareCollection(ctx context.Context, vecs [][]float32) (*chromem.Collection, error) {
	never := func(context.Context, string) ([]float32, error) {
		return nil, fmt.Errorf("bench: every document and query carries its vector")
	}
	col, err := chromem.NewDB().CreateCollection("bare", nil, never)
	if err != nil {
		return nil, err
	}
	docs := make([]chromem.Document, len(vecs))
	for i, v := range vecs {
		docs[i] = chromem.Document{ID: fmt.Sprint(i), Embedding: v}
	}
	if err := col.AddDocuments(ctx, docs, runtime.GOMAXPROCS(0)); err != nil {
		return nil, err
	}
	return col, nil
}

// size is one corpus size the search benchmarks run at; its fixture is built
// once per process, by the first benchmark that needs it.
type size struct {
	name  string
	n     int
	large bool // skipped under -short
	get   func() (*fixture, error)
}

func newSize(name string, n int, large bool) size {
	return size{name: name, n: n, large: large, get: sync.OnceValues(func() (*fixture, error) { return buildFixture(n) })}
}

var sizes = []size{
	newSize("10k", 10_000, false),
	newSize("100k", 100_000, true),
}

// fixtureFor returns the size's fixture, building it on first use.
func fixtureFor(tb testing.TB, s size) *fixture {
	tb.Helper()
	if s.large && testing.Short() {
		tb.Skipf("%s chunks: skipped with -short", s.name)
	}
	f, err := s.get()
	if err != nil {
		tb.Fatalf("build %s fixture: %v", s.name, err)
	}
	return f
}
