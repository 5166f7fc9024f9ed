// Package answer turns retrieved passages into grounded answers. The offline
// default is the extractive answerer: every sentence of its answer is quoted
// from a retrieved passage and cited, and it abstains, with a reason, when the
// passages do not cover the question.
package answer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

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
	// MinCoverage is the share of the question's idf-weighted content terms
	// that the best sentence must contain, or the answer abstains with
	// weak_evidence. A term counts fully when the sentence has it, 0.7 when
	// a sentence term shares its first five letters ("privacy", "private"),
	// and half when only the section heading has it. Default 0.56.
	//
	// Chosen on the tune half of the SQuAD 2.0 file (even-numbered articles;
	// grounded eval qa --half tune), maximizing the smaller of answer_recall
	// and grounded_accuracy over MinCoverage 0.51-0.63, prefix weight 0.5,
	// 0.7, 1, ContextShare 0.2, 0.3, 0.5 and the name window (whole passage,
	// sentence, sentence with neighbours); tune-half answer_recall /
	// grounded_accuracy with the chosen rest:
	//
	//	0.53   0.6203 / 0.5824
	//	0.55   0.6052 / 0.5906
	//	0.56   0.5961 / 0.5945   <- default
	//	0.57   0.5862 / 0.5962
	//
	// The confirm half (odd-numbered articles, not used to choose) scores
	// 0.6645 / 0.6175, the whole file 0.6290 / 0.6047. 0.5 let "What is the
	// capital of ..." style questions through on the default corpus.
	MinCoverage float64
	// MaxSentences caps the answer's length. Default 3.
	MaxSentences int
	// ContextShare: a further sentence of the best sentence's own passage
	// joins the answer when it covers at least this share of what the best
	// covers (context for a fact split over sentences: "Tesla moved to
	// Paris. There he ..."); sentences of other passages must pass every
	// check and cover 0.75 of it. Default 0.2 (see MinCoverage).
	ContextShare float64
	// K is the number of passages retrieved when a request gives none. Default 5.
	K int

	// Model, when set, answers through the grounding protocol (generate.go)
	// instead of the extractive answerer.
	Model *grounding.Model
	// NoTypeCheck, NoNameCheck and NoNegationCheck turn off the question
	// checks (for ablation in evaluations); see Ask.
	NoTypeCheck     bool
	NoNameCheck     bool
	NoNegationCheck bool

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
	if cfg.MinCoverage <= 0 {
		cfg.MinCoverage = 0.56
	}
	if cfg.ContextShare <= 0 {
		cfg.ContextShare = 0.2
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
// "He ..." sentences): see MinCoverage.
func namesMissing(q question, h grounded.Hit, sents []textproc.Sentence, si int) bool {
	if len(q.names) == 0 {
		return false
	}
	lo, hi := max(si-1, 0), min(si+1, len(sents)-1)
	return len(missingNames(q, h.Heading()+"\n"+h.Text[sents[lo].Start:sents[hi].End])) > 0
}

// A question term that a sentence lacks counts prefixWeight when a sentence
// term shares its first prefixLen letters: a cheap stand-in for the
// derivations Snowball stems apart ("privaci"/"privat"). Chosen with
// MinCoverage on the SQuAD tune half.
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

// candidate is one sentence of a retrieved passage.
type candidate struct {
	hit      int // index in hits
	start    int // byte offsets in the document text
	end      int
	terms    map[string]bool
	coverage float64
	score    float64
	// fails names the first question check the sentence fails, or "".
	fails string
}

// Ask answers req.Question from the req.K best passages that pass
// req.Where, handing each sentence to req.Emit (when set) as soon as it is
// ready. The caller has checked req (grounded.AskRequest.Check). An
// abstention is an answer, not an error.
func (s *Service) Ask(ctx context.Context, req grounded.AskRequest) (*grounded.Answer, error) {
	question, emit := req.Question, req.Emit
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
		if err == nil || ctx.Err() != nil || errors.Is(err, errEmit) {
			return timing(ans), err
		}
		// The model failed after its retries: answer extractively, and say so.
		ans = s.extractive(question, qTerms, hits)
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
		ans = s.extractive(question, qTerms, hits)
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

// extractive answers with sentences quoted from hits.
func (s *Service) extractive(question string, qTerms []string, hits []grounded.Hit) *grounded.Answer {
	ans := &grounded.Answer{Question: question, Generator: GeneratorExtractive, Citations: []grounded.Citation{}}
	abstain := func(reason string) *grounded.Answer {
		ans.Abstained, ans.Reason = true, reason
		return ans
	}
	weight := map[string]float64{}
	var total float64
	for _, t := range qTerms {
		weight[t] = s.search.IDF(t)
		total += weight[t]
	}
	qa := analyzeQuestion(question)
	var cands []candidate
	for hi, h := range hits {
		heading := textproc.Set(s.an.Terms(h.Heading()))
		last := h.Section
		if i := strings.LastIndex(last, " > "); i >= 0 {
			last = last[i+3:]
		}
		sents := textproc.Sentences(h.Text, 0, len(h.Text))
		for si, sent := range sents {
			text := h.Text[sent.Start:sent.End]
			if sent.Heading || text == last || len(textproc.Words(text)) < 4 {
				continue
			}
			terms := textproc.Set(s.an.Terms(text))
			prefixes := map[string]bool{}
			for t := range terms {
				if len(t) >= prefixLen {
					prefixes[t[:prefixLen]] = true
				}
			}
			var cov float64
			for _, t := range qTerms {
				switch {
				case terms[t]:
					cov += weight[t]
				case len(t) >= prefixLen && prefixes[t[:prefixLen]]:
					cov += weight[t] * prefixWeight
				case heading[t]:
					cov += weight[t] / 2
				}
			}
			cov /= total
			c := candidate{
				hit: hi, start: h.Start + sent.Start, end: h.Start + sent.End,
				terms: terms, coverage: cov,
				// Coverage decides; passage rank and adjacency of question terms break ties.
				score: cov + 0.05/float64(hi+1) + 0.05*bigramShare(qTerms, s.an.Terms(text)),
			}
			switch {
			case cov < s.cfg.MinCoverage:
				c.fails = grounded.ReasonWeakEvidence
			case !s.cfg.NoNameCheck && namesMissing(qa, h, sents, si):
				c.fails = grounded.ReasonNameMismatch
			case !s.cfg.NoTypeCheck && !hasAnswerOfType(qa, text):
				c.fails = grounded.ReasonNoAnswerType
			case !s.cfg.NoNegationCheck && qa.negated && !isNegated(text):
				c.fails = grounded.ReasonNegation
			case !s.cfg.NoNegationCheck && antonymConflict(qa, lowerWords(text)):
				c.fails = grounded.ReasonNegation
			}
			cands = append(cands, c)
		}
	}
	if len(cands) == 0 {
		return abstain(grounded.ReasonWeakEvidence)
	}
	slices.SortStableFunc(cands, func(a, b candidate) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return 0
	})
	// The answer starts from the best sentence that passes every check; when
	// none does, the abstention names the check the best sentence failed.
	bi := slices.IndexFunc(cands, func(c candidate) bool { return c.fails == "" })
	if bi < 0 {
		return abstain(cands[0].fails)
	}
	best := cands[bi]
	picked := []candidate{best}
	for _, c := range cands[bi+1:] {
		if len(picked) == s.cfg.MaxSentences {
			break
		}
		switch {
		case c.hit == best.hit && c.coverage >= s.cfg.ContextShare*best.coverage:
			// context from the best sentence's passage
		case c.coverage < max(s.cfg.MinCoverage, 0.75*best.coverage) || c.fails != "":
			continue
		}
		redundant := false
		for _, p := range picked {
			if (p.hit == c.hit && p.start == c.start) || jaccard(p.terms, c.terms) > 0.5 ||
				(hits[p.hit].DocID == hits[c.hit].DocID && p.start < c.end && c.start < p.end) {
				redundant = true
				break
			}
		}
		if !redundant {
			picked = append(picked, c)
		}
	}
	// Read passage by passage, the best sentence's passage first (picked is
	// in order of score, so a passage's first appearance ranks it), and in
	// document order within a passage.
	rank := map[int]int{}
	for i, c := range picked {
		if _, ok := rank[c.hit]; !ok {
			rank[c.hit] = i
		}
	}
	slices.SortFunc(picked, func(a, b candidate) int {
		if a.hit != b.hit {
			return rank[a.hit] - rank[b.hit]
		}
		return a.start - b.start
	})
	var text strings.Builder
	for i, c := range picked {
		h := hits[c.hit]
		quote := h.Text[c.start-h.Start : c.end-h.Start]
		n := i + 1
		ans.Citations = append(ans.Citations, grounding.Cite(n, h.Chunk, quote, c.start, grounding.Round3(c.coverage)))
		if i > 0 {
			text.WriteByte(' ')
		}
		fmt.Fprintf(&text, "%s [%d]", strings.Join(strings.Fields(quote), " "), n)
	}
	ans.Answer = text.String()
	return ans
}

func jaccard(a, b map[string]bool) float64 {
	if len(a) == 0 && len(b) == 0 {
		return 1
	}
	inter := 0
	for t := range a {
		if b[t] {
			inter++
		}
	}
	return float64(inter) / float64(len(a)+len(b)-inter)
}

// bigramShare is the share of the question's adjacent term pairs that also
// stand next to each other in the sentence.
func bigramShare(q, sent []string) float64 {
	if len(q) < 2 {
		return 0
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
