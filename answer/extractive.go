// Package answer turns retrieved passages into grounded answers. The offline
// default is the extractive answerer: every sentence of its answer is quoted
// from a retrieved passage and cited, and it abstains, with a reason, when the
// passages do not cover the question.
package answer

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/answer/grounding"
	"github.com/groundedhq/grounded/internal/textproc"
	"github.com/groundedhq/grounded/internal/wordvec"
)

// GeneratorExtractive names the offline answerer in Answer.Generator.
const GeneratorExtractive = "extractive"

// Searcher finds passages and knows how informative a term is.
// retrieval.Index implements it.
type Searcher interface {
	// Search returns the k best passages that pass f (nil: all).
	Search(ctx context.Context, query string, k int, f grounded.Filter) ([]grounded.Hit, error)
	IDF(term string) float64
}

// Config tunes the extractive answerer. Zero fields take the defaults.
type Config struct {
	// MinConfidence is the confidence below which an answer abstains
	// unless the request sets its own (AskRequest.MinConfidence). Default
	// DefaultMinConfidence.
	MinConfidence float64
	// MaxSentences caps the answer's length in sentences. Default 3.
	MaxSentences int
	// MaxAnswerBytes caps the length of the answer's quotes; the anchor
	// sentence is always quoted whole, its neighbours only within the
	// budget. Default 900.
	MaxAnswerBytes int
	// K is the number of passages retrieved when a request gives none. Default 5.
	K int

	// Model, when set, answers through the grounding protocol (generate.go)
	// instead of the extractive answerer.
	Model *grounding.Model
	// Vectors are the word vectors of soft matching. Default: the table
	// built into the binary (package wordvec).
	Vectors *wordvec.Table
}

// Service answers questions from a Searcher's passages.
type Service struct {
	search Searcher
	an     *textproc.Analyzer
	vecs   *wordvec.Table
	cfg    Config
}

// New returns a Service.
func New(s Searcher, an *textproc.Analyzer, cfg Config) *Service {
	if cfg.MinConfidence <= 0 {
		cfg.MinConfidence = DefaultMinConfidence
	}
	if cfg.MaxAnswerBytes <= 0 {
		cfg.MaxAnswerBytes = 900
	}
	if cfg.MaxSentences <= 0 {
		cfg.MaxSentences = 3
	}
	if cfg.K <= 0 {
		cfg.K = 5
	}
	if an == nil {
		an = textproc.NewAnalyzer()
	}
	cfg.Model = cfg.Model.WithDefaults(an)
	if cfg.Vectors == nil {
		cfg.Vectors = wordvec.Default()
	}
	return &Service{search: s, an: an, vecs: cfg.Vectors, cfg: cfg}
}

// namesMissing reports whether a name or number of the question is absent
// from the heading and from sentence si of the passage with its neighbours:
// the window a pronoun in the sentence can point back into. On the SQuAD
// tune half this window beat the whole passage (entity swaps name something
// the passage mentions elsewhere) and the sentence alone (which loses
// "He ..." sentences).
func namesMissing(q question, h grounded.Hit, sents []textproc.Sentence, si int) bool {
	if len(q.names) == 0 {
		return false
	}
	lo, hi := max(si-1, 0), min(si+1, len(sents)-1)
	return len(missingNames(q, h.Heading()+"\n"+h.Text[sents[lo].Start:sents[hi].End])) > 0
}

// A question term that a sentence lacks counts prefixWeight when a sentence
// term shares its first prefixLen letters: a cheap stand-in for the
// derivations Snowball stems apart ("privaci"/"privat"), chosen on the
// SQuAD tune half.
const (
	prefixLen    = 5
	prefixWeight = 0.7
)

// k is a request's k, or the default when it gives none.
func (s *Service) k(k int) int {
	if k == 0 {
		return s.cfg.K
	}
	return k
}

// Search returns the req.K best passages for req.Query that pass req.Where.
// The caller has checked req (grounded.SearchRequest.Check).
func (s *Service) Search(ctx context.Context, req grounded.SearchRequest) ([]grounded.Hit, error) {
	return s.search.Search(ctx, req.Query, s.k(req.K), req.Where)
}

// Ask answers req.Question from the req.K best passages that pass
// req.Where, handing each sentence to req.Emit (when set) as soon as it is
// ready. The caller has checked req (grounded.AskRequest.Check). An
// abstention is an answer, not an error.
func (s *Service) Ask(ctx context.Context, req grounded.AskRequest) (*grounded.Answer, error) {
	question, emit := req.Question, req.Emit
	minConf := s.cfg.MinConfidence
	if req.MinConfidence != nil {
		minConf = *req.MinConfidence
	}
	qTerms := textproc.Unique(s.an.Terms(question))
	if len(qTerms) == 0 {
		return abstained(question, GeneratorExtractive, grounded.ReasonNoEvidence), nil
	}
	began := time.Now()
	hits, err := s.search.Search(ctx, question, s.k(req.K), req.Where)
	if err != nil {
		return nil, fmt.Errorf("ask: %w", err)
	}
	retrieved := time.Now()
	timing := func(ans *grounded.Answer) *grounded.Answer {
		if ans != nil {
			ans.Timing = &grounded.Timing{RetrievalMs: ms(retrieved.Sub(began)), GenerationMs: ms(time.Since(retrieved))}
		}
		return ans
	}
	lexical := false
	for _, h := range hits {
		lexical = lexical || h.LexicalRank > 0
	}
	if !lexical {
		return timing(abstained(question, GeneratorExtractive, grounded.ReasonNoEvidence)), nil
	}
	var ans *grounded.Answer
	if s.cfg.Model != nil {
		emitted := 0
		counted := emit
		if emit != nil {
			counted = func(st grounded.Sentence) error { emitted++; return emit(st) }
		}
		ans, err = s.generate(ctx, question, hits, counted)
		if err == nil && ans != nil {
			// A model's answer rests on the same passages: its confidence
			// is theirs, as the extractive answerer weighs them.
			ans.Confidence = s.extractive(question, qTerms, hits, 0).Confidence
		}
		if err == nil || ctx.Err() != nil || errors.Is(err, errEmit) {
			return timing(ans), err
		}
		// The model failed after its retries: answer extractively, and say so.
		ans = s.extractive(question, qTerms, hits, minConf)
		ans.FallbackReason = err.Error()
		if emitted > 0 {
			// Checked sentences are already out, citing the prompt's passage
			// numbers, which the extractive answer's citations would reuse for
			// other passages: withdraw them, and send the fallback whole in
			// the final answer rather than sentence by sentence.
			ans.Withdrawn = emitted
			return timing(ans), nil
		}
	} else {
		ans = s.extractive(question, qTerms, hits, minConf)
	}
	if emit != nil && !ans.Abstained {
		for _, c := range ans.Citations {
			if err := emit(grounded.Sentence{Text: strings.Join(strings.Fields(c.Quote), " "), Citations: []int{c.N}, Support: 1, Supported: true}); err != nil {
				return nil, fmt.Errorf("%w: %w", errEmit, err)
			}
		}
	}
	return timing(ans), nil
}

// ms is d in milliseconds, to the microsecond.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// errEmit marks an error returned by the caller's emit function.
var errEmit = errors.New("stream")

func abstained(question, generator, reason string) *grounded.Answer {
	return &grounded.Answer{Question: question, Generator: generator, Abstained: true, Reason: reason, Citations: []grounded.Citation{}}
}

// extractive answers with sentences quoted from hits: the best candidate
// (model.go) anchors the answer, and its neighbours in its passage (context
// a fact is often split over) follow it within the length budget. The
// answer abstains when its confidence is below minConf; the reason names
// the question check the anchor fails, if any.
func (s *Service) extractive(question string, qTerms []string, hits []grounded.Hit, minConf float64) *grounded.Answer {
	ans := &grounded.Answer{Question: question, Generator: GeneratorExtractive, Citations: []grounded.Citation{}}
	hits = distinct(hits)
	e := s.newEvidence(question, qTerms, hits)
	cands := e.candidates(hits)
	if len(cands) == 0 {
		ans.Abstained, ans.Reason = true, grounded.ReasonWeakEvidence
		return ans
	}
	// The anchor: the best selection score among the candidates that pass
	// the question checks, else the best of all (whose failed check the
	// abstention names). Checks are computed best first, until one passes.
	order := make([]int, len(cands))
	for i := range cands {
		cands[i].Score = selectionScore(&cands[i].Features)
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(cands[b].Score, cands[a].Score) })
	best := order[0]
	for _, i := range order {
		if e.passes(&cands[i]) {
			best = i
			break
		}
	}
	e.check(&cands[best])
	anchor := cands[best]
	ans.Confidence = round3(confidenceOf(&anchor.Features))
	if ans.Confidence < minConf || !passesChecks(&anchor.Features) || anchor.Features[fLex] < minCoverage {
		ans.Abstained, ans.Reason = true, abstainReason(&anchor.Features)
		return ans
	}
	picked := s.compose(e, cands, best, order)
	var text strings.Builder
	for i, c := range picked {
		h := hits[c.Hit]
		n := i + 1
		ans.Citations = append(ans.Citations, grounding.Cite(n, h.Chunk, c.Text, c.Start, round3(c.Features[fLex])))
		if i > 0 {
			text.WriteByte(' ')
		}
		fmt.Fprintf(&text, "%s [%d]", strings.Join(strings.Fields(c.Text), " "), n)
	}
	ans.Answer = text.String()
	return ans
}

// compose picks the answer's sentences: the anchor cands[best], then, by
// selection score (order lists cands best first), sentences of the anchor's passage that give context
// (continues), and sentences of other passages that pass the question
// checks, cover nearly as much (0.75 of the anchor, and weakCoverage) and
// are nearly as likely right on their own (0.8 of the anchor's confidence:
// no off-topic sentence fills the quota; when it was introduced it cost
// the SQuAD tune half 1.7 points of answer recall and 0.8 of grounded
// accuracy),
// up to MaxSentences and MaxAnswerBytes, no two saying the same. It returns
// the anchor first, then the others passage by passage, the anchor's
// passage first, in document order within a passage.
func (s *Service) compose(e *evidence, cands []Candidate, best int, order []int) []Candidate {
	anchor := cands[best]
	picked := []Candidate{anchor}
	budget := s.cfg.MaxAnswerBytes - len(anchor.Text)
	for _, i := range order {
		if i == best {
			continue
		}
		c := cands[i]
		if len(picked) == s.cfg.MaxSentences {
			break
		}
		if len(c.Text) > budget {
			continue
		}
		if c.Hit == anchor.Hit {
			if !continues(anchor, c) {
				continue
			}
		} else if c.Features[fLex] < max(weakCoverage, 0.75*anchor.Features[fLex]) || !e.passes(&cands[i]) ||
			confidenceOf(&cands[i].Features) < 0.8*confidenceOf(&anchor.Features) {
			continue // another passage's sentence must be nearly as likely right as the anchor
		}
		if slices.ContainsFunc(picked, func(p Candidate) bool { return sameSaying(p, c) }) {
			continue
		}
		picked = append(picked, c)
		budget -= len(c.Text)
	}
	// The anchor first (the key sentence leads), then the rest passage by
	// passage, in document order within a passage.
	slices.SortStableFunc(picked[1:], func(a, b Candidate) int {
		if a.Hit != b.Hit {
			if a.Hit == anchor.Hit {
				return -1
			}
			if b.Hit == anchor.Hit {
				return 1
			}
			return a.Hit - b.Hit
		}
		return a.Start - b.Start
	})
	return picked
}

// sameSaying reports whether two sentences say the same: the same words
// for the most part (the same sentence in two copies of a document).
func sameSaying(a, b Candidate) bool {
	return overlap(shingles(a.Text), shingles(b.Text)) > 0.5
}

// continues reports whether sentence n of the anchor a's passage belongs
// in the answer: it covers at least a fifth of what the anchor covers of
// the question, or it is the next sentence and continues the anchor (the
// anchor introduces it with a colon, or it opens with a word that points
// back: "This", "It", ...).
func continues(a, n Candidate) bool {
	if n.Features[fLex] >= 0.2*a.Features[fLex] && n.Features[fLex] > 0 {
		return true
	}
	if n.si == a.si+1 {
		if strings.HasSuffix(strings.TrimSpace(a.Text), ":") {
			return true
		}
		first, _, _ := strings.Cut(strings.TrimSpace(n.Text), " ")
		return pointsBack[strings.ToLower(strings.Trim(first, ",;:"))]
	}
	return false
}

// pointsBack are sentence openers that refer to the sentence before.
var pointsBack = map[string]bool{"this": true, "that": true, "these": true, "those": true, "it": true, "its": true,
	"they": true, "their": true, "he": true, "she": true, "his": true, "her": true, "such": true, "there": true,
	"however": true, "instead": true, "otherwise": true, "then": true, "so": true, "thus": true, "therefore": true}

// abstainReason names the question check the anchor sentence failed, or
// weak_evidence when it failed none and its evidence was simply too weak.
func abstainReason(f *[numFeatures]float64) string {
	switch {
	case f[fLex] < weakCoverage:
		return grounded.ReasonWeakEvidence
	case f[fNames] == 0:
		return grounded.ReasonNameMismatch
	case f[fType] == 0:
		return grounded.ReasonNoAnswerType
	case f[fNegation] == 0:
		return grounded.ReasonNegation
	}
	return grounded.ReasonWeakEvidence
}

// minCoverage is the evidence floor: an anchor sentence that covers less
// of the question's weighted terms abstains whatever its confidence.
// Measured on the development sets at the default confidence: a floor of
// 0.4 costs ... (README).
const minCoverage = 0.4

// weakCoverage: an anchor that covers less of the question than this
// abstains for weak evidence whatever check it also fails.
const weakCoverage = 0.5

func round3(f float64) float64 { return float64(int(f*1000+0.5)) / 1000 }

// distinct drops passages that repeat a better-ranked one: copies of a page
// in two formats (an HTML page and its reST source), mirrored documents. A
// passage is a repeat when most of its word 3-grams (over 60% of the
// smaller set) occur in a passage ranked above it.
func distinct(hits []grounded.Hit) []grounded.Hit {
	out := hits[:0:0]
	var kept []map[uint64]bool
	for _, h := range hits {
		sh := shingles(h.Text)
		if !slices.ContainsFunc(kept, func(k map[uint64]bool) bool { return overlap(sh, k) > 0.6 }) {
			out = append(out, h)
			kept = append(kept, sh)
		}
	}
	return out
}

// overlap is the share of the smaller of two shingle sets found in the other.
func overlap(a, b map[uint64]bool) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	if len(b) < len(a) {
		a, b = b, a
	}
	n := 0
	for g := range a {
		if b[g] {
			n++
		}
	}
	return float64(n) / float64(len(a))
}

// shingles are the hashes of text's lower-cased word 3-grams (FNV-1a).
func shingles(text string) map[uint64]bool {
	ws := textproc.Words(text)
	out := make(map[uint64]bool, len(ws))
	var prev [3]uint64
	for i, sp := range ws {
		h := uint64(14695981039346656037)
		for _, r := range text[sp.Start:sp.End] {
			h = (h ^ uint64(unicode.ToLower(r))) * 1099511628211
		}
		prev[0], prev[1], prev[2] = prev[1], prev[2], h
		if i >= 2 {
			out[prev[0]*31*31+prev[1]*31+prev[2]] = true
		}
	}
	return out
}

// bigramShare is the share of the question's adjacent term pairs that also
// stand next to each other in the sentence.
func bigramShare(q, sent []string) float64 {
	if len(q) < 2 {
		return 1 // no pair to miss
	}
	pairs := map[[2]string]bool{}
	for i := 1; i < len(sent); i++ {
		pairs[[2]string{sent[i-1], sent[i]}] = true
	}
	n := 0
	for i := 1; i < len(q); i++ {
		if pairs[[2]string{q[i-1], q[i]}] {
			n++
		}
	}
	return float64(n) / float64(len(q)-1)
}
