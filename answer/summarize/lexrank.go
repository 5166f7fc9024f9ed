package summarize

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/answer"
	"github.com/groundedhq/grounded/answer/grounding"
	"github.com/groundedhq/grounded/internal/textproc"
)

// The extractive summary is LexRank (Erkan and Radev, 2004) with a
// redundancy filter:
//
//  1. Text. The chunks of each document are merged into the runs of text
//     they cover (chunks overlap by whole sentences), and each run is split
//     into sentences by textproc.Sentences, so a sentence in an overlap is
//     seen once. Headings, fragments of fewer than minWords words, longer
//     runs than maxWords words (flattened lists and tables), "sentences"
//     with fewer than minStopWords stop words (titles, labels, an HTML
//     page's navigation: "Concurrency Control Home 13.2."), table rows,
//     lines inside ``` or ~~~ fences and code-like text (see codeLike) are
//     not candidates.
//  2. Vectors. A candidate is its analyzer terms (stemmed, stop words out),
//     weighted tf·idf with idf(t) = ln(1 + N/df(t)) over the N candidates.
//  3. Bound. With more than Config.MaxCandidates candidates, only those
//     most similar (cosine) to the centroid of all of them are ranked: one
//     O(n·m) pass (m terms a sentence) before the quadratic step. The
//     summary's coverage says so (truncated, note).
//  4. Graph. Two candidates are linked when their idf-modified cosine is
//     above linkThreshold (0.1); each also links to itself. Postings per
//     term find the pairs that share a term, so pairs with nothing in
//     common cost nothing.
//  5. Rank. PageRank by power iteration with damping 0.85 over the
//     degree-normalized links, until the scores move less than 1e-9 (L1)
//     or 200 rounds. For a query summary the teleport is biased: half
//     uniform, half in proportion to each candidate's cosine with the
//     query (topic-sensitive LexRank).
//  6. Pick. Maximal marginal relevance: each pick is the candidate with
//     the best centrality (relative to the top one) less mmrWeight (0.5)
//     times its highest cosine with a sentence already picked, and a
//     candidate whose cosine with a picked one is above redundancy (0.5),
//     or whose words are the same, is never picked. The picked sentences
//     are then put in document order, and in source order across
//     documents. (On the default corpus the MMR term changed one or two of
//     five sentences in half the documents against the threshold alone,
//     toward sentences from other sections.)
const (
	linkThreshold = 0.1
	damping       = 0.85
	redundancy    = 0.5
	mmrWeight     = 0.5
	minWords      = 4
	minStopWords  = 2
	maxWords      = 80
)

// sentence is a candidate: a span of a document's text.
type sentence struct {
	doc    int // index of its document, in source order
	start  int // byte offsets in the document text
	end    int
	chunk  int    // index of the chunk it starts in
	text   string // the document's text[start:end]
	vec    []entry
	norm   float64
	key    string // lower-cased words, for exact duplicates
	ranked bool
}

// entry is one weighted term of a sentence vector.
type entry struct {
	t int32
	w float64
}

// run is a stretch of one document's text covered by contiguous or
// overlapping chunks.
type run struct {
	doc    int
	start  int
	text   string
	chunks []int // indexes of the chunks merged into it, by start
}

// runs merges each document's chunks (sorted by source, then start) into
// the stretches of text they cover.
func runs(chunks []grounded.Chunk) []run {
	var out []run
	doc := -1
	for i, c := range chunks {
		if i == 0 || c.DocID != chunks[i-1].DocID {
			doc++
		}
		if n := len(out); n > 0 && out[n-1].doc == doc && c.Start <= out[n-1].start+len(out[n-1].text) {
			r := &out[n-1]
			if end := r.start + len(r.text); c.End > end {
				r.text += c.Text[end-c.Start:]
			}
			r.chunks = append(r.chunks, i)
			continue
		}
		out = append(out, run{doc: doc, start: c.Start, text: c.Text, chunks: []int{i}})
	}
	return out
}

// fences returns the byte ranges of fenced code blocks (``` or ~~~) in text.
func fences(text string) []textproc.Span {
	var out []textproc.Span
	open := -1
	for pos := 0; pos < len(text); {
		end := strings.IndexByte(text[pos:], '\n')
		if end < 0 {
			end = len(text)
		} else {
			end += pos
		}
		line := strings.TrimSpace(text[pos:end])
		if strings.HasPrefix(line, "```") || strings.HasPrefix(line, "~~~") {
			if open < 0 {
				open = pos
			} else {
				out = append(out, textproc.Span{Start: open, End: end})
				open = -1
			}
		}
		pos = end + 1
	}
	if open >= 0 {
		out = append(out, textproc.Span{Start: open, End: len(text)})
	}
	return out
}

// codeLike reports whether a sentence looks like code or a table rather
// than prose: a table row, braces, more than a sixth of its non-space
// characters code punctuation, fewer than 60% letters, or more than a
// quarter of its words in capitals (an SQL synopsis: "ALTER TYPE name
// OWNER TO ...").
func codeLike(s string) bool {
	if strings.HasPrefix(s, "|") || strings.Contains(s, "```") || strings.ContainsAny(s, "{}") {
		return true
	}
	words := textproc.Words(s)
	caps := 0
	for _, w := range words {
		if word := s[w.Start:w.End]; len(word) > 1 && strings.ToUpper(word) == word && strings.ToLower(word) != word {
			caps++
		}
	}
	if 4*caps > len(words) {
		return true
	}
	var letters, symbols, total int
	for _, r := range s {
		switch {
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			continue
		case strings.ContainsRune("{}[]();=<>_\\$#@`|*&^~", r):
			symbols++
		case r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r > 127:
			letters++
		}
		total++
	}
	return total == 0 || 6*symbols > total || 10*letters < 6*total
}

// candidates splits the runs into sentences and keeps the prose ones.
func (s *Summarizer) candidates(chunks []grounded.Chunk) []sentence {
	var out []sentence
	for _, r := range runs(chunks) {
		code := fences(r.text)
		k := 0 // the last chunk of the run that starts at or before the sentence
		for _, sp := range textproc.Sentences(r.text, 0, len(r.text)) {
			text := r.text[sp.Start:sp.End]
			if sp.Heading || inside(code, sp.Span) || codeLike(text) {
				continue
			}
			words := textproc.Words(text)
			if len(words) < minWords || len(words) > maxWords {
				continue
			}
			lw := make([]string, len(words))
			stops := 0
			for i, w := range words {
				lw[i] = strings.ToLower(text[w.Start:w.End])
				if textproc.IsStopWord(lw[i]) {
					stops++
				}
			}
			if stops < minStopWords {
				continue // a title, a label or navigation, not prose
			}
			start := r.start + sp.Start
			for k+1 < len(r.chunks) && chunks[r.chunks[k+1]].Start <= start {
				k++
			}
			// Overlapping chunks: the first one that holds the start.
			first := k
			for first > 0 && chunks[r.chunks[first-1]].End > start {
				first--
			}
			out = append(out, sentence{doc: r.doc, start: start, end: r.start + sp.End, chunk: r.chunks[first], text: text, key: strings.Join(lw, " ")})
		}
	}
	return out
}

func inside(spans []textproc.Span, sp textproc.Span) bool {
	for _, f := range spans {
		if sp.Start < f.End && f.Start < sp.End {
			return true
		}
	}
	return false
}

// vectors weighs each candidate's terms by tf·idf and returns the idf of
// every term, by id, and the term ids.
func (s *Summarizer) vectors(cands []sentence) (idf []float64, ids map[string]int32) {
	ids = map[string]int32{}
	tfs := make([]map[int32]int, len(cands))
	var df []int
	for i := range cands {
		tf := map[int32]int{}
		for _, t := range s.an.Terms(cands[i].text) {
			id, ok := ids[t]
			if !ok {
				id = int32(len(ids))
				ids[t] = id
				df = append(df, 0)
			}
			if tf[id] == 0 {
				df[id]++
			}
			tf[id]++
		}
		tfs[i] = tf
	}
	n := float64(len(cands))
	idf = make([]float64, len(df))
	for t, d := range df {
		idf[t] = math.Log(1 + n/float64(d))
	}
	for i, tf := range tfs {
		vec := make([]entry, 0, len(tf))
		var norm float64
		for t, f := range tf {
			w := float64(f) * idf[t]
			vec = append(vec, entry{t, w})
			norm += w * w
		}
		slices.SortFunc(vec, func(a, b entry) int { return cmp.Compare(a.t, b.t) })
		cands[i].vec, cands[i].norm = vec, math.Sqrt(norm)
	}
	return idf, ids
}

// cosine is the idf-modified cosine of two sentence vectors.
func cosine(a, b *sentence) float64 {
	if a.norm == 0 || b.norm == 0 {
		return 0
	}
	var dot float64
	i, j := 0, 0
	for i < len(a.vec) && j < len(b.vec) {
		switch {
		case a.vec[i].t < b.vec[j].t:
			i++
		case a.vec[i].t > b.vec[j].t:
			j++
		default:
			dot += a.vec[i].w * b.vec[j].w
			i++
			j++
		}
	}
	return dot / (a.norm * b.norm)
}

// bound keeps the max candidates most similar to the centroid of all,
// in their order, and returns them.
func bound(cands []sentence, max int, terms int) []sentence {
	if len(cands) <= max {
		return cands
	}
	centroid := make([]float64, terms)
	for _, c := range cands {
		for _, e := range c.vec {
			centroid[e.t] += e.w / c.norm
		}
	}
	sim := make([]float64, len(cands))
	for i, c := range cands {
		if c.norm == 0 {
			continue
		}
		for _, e := range c.vec {
			sim[i] += e.w * centroid[e.t]
		}
		sim[i] /= c.norm
	}
	order := make([]int, len(cands))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(sim[b], sim[a]) })
	order = order[:max]
	slices.Sort(order)
	out := make([]sentence, len(order))
	for i, o := range order {
		out[i] = cands[o]
	}
	return out
}

// lexRank returns each candidate's centrality (summing to 1). bias, when
// not nil, is the teleport distribution.
func lexRank(cands []sentence, terms int, bias []float64) []float64 {
	n := len(cands)
	type posting struct {
		s int32
		w float64
	}
	postings := make([][]posting, terms)
	for i, c := range cands {
		for _, e := range c.vec {
			postings[e.t] = append(postings[e.t], posting{int32(i), e.w})
		}
	}
	links := make([][]int32, n)
	acc := make([]float64, n)
	var touched []int32
	for i, c := range cands {
		touched = touched[:0]
		for _, e := range c.vec {
			ps := postings[e.t]
			k, _ := slices.BinarySearchFunc(ps, int32(i+1), func(p posting, s int32) int { return cmp.Compare(p.s, s) })
			for _, p := range ps[k:] {
				if acc[p.s] == 0 {
					touched = append(touched, p.s)
				}
				acc[p.s] += e.w * p.w
			}
		}
		for _, j := range touched {
			if acc[j]/(c.norm*cands[j].norm) > linkThreshold {
				links[i] = append(links[i], j)
				links[j] = append(links[j], int32(i))
			}
			acc[j] = 0
		}
	}
	p := make([]float64, n)
	next := make([]float64, n)
	for i := range p {
		p[i] = 1 / float64(n)
	}
	for range 200 {
		for i := range next {
			tele := 1 / float64(n)
			if bias != nil {
				tele = bias[i]
			}
			next[i] = (1 - damping) * tele
		}
		for j := range n {
			share := damping * p[j] / float64(len(links[j])+1)
			next[j] += share // the link to itself
			for _, i := range links[j] {
				next[i] += share
			}
		}
		var delta float64
		for i := range p {
			delta += math.Abs(next[i] - p[i])
		}
		p, next = next, p
		if delta < 1e-9 {
			break
		}
	}
	return p
}

// queryBias is the teleport distribution of a query summary: half uniform,
// half by cosine with the query; nil when the query shares no term.
func (s *Summarizer) queryBias(cands []sentence, query string, idf []float64, ids map[string]int32) []float64 {
	if strings.TrimSpace(query) == "" || len(cands) == 0 {
		return nil
	}
	tf := map[int32]int{}
	for _, t := range s.an.Terms(query) {
		if id, ok := ids[t]; ok {
			tf[id]++
		}
	}
	q := sentence{}
	var norm float64
	for t, f := range tf {
		w := float64(f) * idf[t]
		q.vec = append(q.vec, entry{t, w})
		norm += w * w
	}
	slices.SortFunc(q.vec, func(a, b entry) int { return cmp.Compare(a.t, b.t) })
	q.norm = math.Sqrt(norm)
	sims := make([]float64, len(cands))
	var total float64
	for i := range cands {
		sims[i] = cosine(&q, &cands[i])
		total += sims[i]
	}
	if total == 0 {
		return nil
	}
	n := float64(len(cands))
	for i := range sims {
		sims[i] = 0.5/n + 0.5*sims[i]/total
	}
	return sims
}

// pick chooses up to length candidates by maximal marginal relevance:
// each round takes the candidate with the best score/top − weight·(its
// highest cosine with one already picked), among those not redundant (a
// cosine above redundancy, or the same words, as one picked). maxSim is
// kept up to date per pick, so a round costs O(n).
func pick(cands []sentence, score []float64, length int, weight float64) []int {
	top := slices.Max(score)
	maxSim := make([]float64, len(cands))
	out := make([]bool, len(cands)) // picked or redundant
	var picked []int
	for len(picked) < length {
		best, bestVal := -1, math.Inf(-1)
		for i := range cands {
			if out[i] {
				continue
			}
			if v := score[i]/top - weight*maxSim[i]; v > bestVal {
				best, bestVal = i, v
			}
		}
		if best < 0 {
			break
		}
		picked = append(picked, best)
		out[best] = true
		for i := range cands {
			if out[i] {
				continue
			}
			sim := cosine(&cands[best], &cands[i])
			if sim > redundancy || cands[i].key == cands[best].key {
				out[i] = true
			}
			maxSim[i] = max(maxSim[i], sim)
		}
	}
	return picked
}

// extractive picks the length most central, non-redundant sentences.
func (s *Summarizer) extractive(chunks []grounded.Chunk, length int, query string) *grounded.Summary {
	sum := &grounded.Summary{Generator: answer.GeneratorExtractive, Sentences: []grounded.Sentence{}, Citations: []grounded.Citation{}}
	all := s.candidates(chunks)
	idf, ids := s.vectors(all)
	cands := bound(all, s.cfg.MaxCandidates, len(idf))
	cov := &sum.Coverage
	cov.SentencesConsidered = len(cands)
	if len(cands) < len(all) {
		cov.Truncated = true
		cov.Note = fmt.Sprintf("%d prose sentences: the %d closest to their centroid were ranked", len(all), len(cands))
	}
	// A chunk is summarized when its sentences were ranked, or it has none
	// to rank (headings, code, tables only).
	had := make([]bool, len(chunks))
	ranked := make([]bool, len(chunks))
	for _, c := range all {
		had[c.chunk] = true
	}
	for _, c := range cands {
		ranked[c.chunk] = true
	}
	for i := range chunks {
		if ranked[i] || !had[i] {
			cov.ChunksSummarized++
		}
	}
	if len(cands) == 0 {
		if len(chunks) > 0 {
			cov.Note = strings.TrimPrefix(cov.Note+"; no prose sentence to summarize (only headings, code, tables or fragments)", "; ")
		}
		return sum
	}
	score := lexRank(cands, len(idf), s.queryBias(cands, query, idf, ids))
	picked := pick(cands, score, length, mmrWeight)
	top := slices.Max(score)
	slices.Sort(picked) // candidates are in source, then document order
	for k, i := range picked {
		c := cands[i]
		ch := chunks[c.chunk]
		n := k + 1
		sum.Citations = append(sum.Citations, grounding.Cite(n, ch, c.text, c.start, grounding.Round3(score[i]/top)))
		sum.Sentences = append(sum.Sentences, grounded.Sentence{
			Text: strings.Join(strings.Fields(c.text), " "), Citations: []int{n}, Support: 1, Supported: true,
		})
	}
	sum.Summary = grounding.Render(sum.Sentences)
	return sum
}
