package answer

import (
	"context"
	"math"
	"slices"
	"strings"
	"unicode"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/internal/textproc"
	"github.com/groundedhq/grounded/internal/wordvec"
)

// Evidence features of a candidate sentence, in the order of
// Candidate.Features and of the model's weights (model.go).
const (
	fLex      = iota // idf-weighted share of question terms in the sentence (exact 1, shared prefix 0.7, heading 0.5)
	fSoft            // the same with word-vector similarity standing in for missing terms
	fWindow          // lexical coverage of the sentence with its neighbours and heading
	fHeading         // lexical coverage of the passage's heading (title and section path)
	fPassage         // lexical coverage of the whole passage and heading
	fDense           // cosine of the SIF word-vector averages of question and sentence (fLex when the question has no vector)
	fRank            // 1/(passage rank)
	fLexRel          // the passage's BM25 score over the best passage's
	fType            // the sentence holds an answer of the asked type (when, how many, who, where)
	fNames           // the question's names and numbers are in the sentence's window
	fNegation        // no negation or antonym conflict with the question
	fBigram          // share of the question's adjacent term pairs adjacent in the sentence
	fRare            // the question's rarest term is in the sentence's window
	fFirst           // the sentence opens its passage
	fLength          // log(1 + words in the sentence)
	fQTerms          // log(1 + distinct question terms)
	fUnseen          // idf-weighted share of question terms in none of the retrieved passages
	fMissMax         // idf of the rarest question term missing from the window, over the rarest term's
	fAdvice          // the sentence advises (use, should, instead, ...) and the question asks what to do
	fCode            // share of the sentence's bytes that are neither letters nor spaces (code, tables)
	numFeatures
)

// featureNames are the features' names in dumps and in the training script.
var featureNames = [numFeatures]string{"lex", "soft", "window", "heading", "passage", "dense", "rank", "lexrel", "type", "names", "negation", "bigram", "rare", "first", "length", "qterms", "unseen", "missmax", "advice", "code"}

// FeatureNames returns the names of Candidate.Features, in order.
func FeatureNames() []string { return featureNames[:] }

// Candidate is a sentence of a retrieved passage weighed as (part of) an
// answer, with its evidence features.
type Candidate struct {
	Hit        int    // index of its passage in the hits
	Start, End int    // byte offsets in the document's text
	Text       string // the sentence, exactly as in the document
	Features   [numFeatures]float64
	// Score is the model's probability that the sentence answers the question.
	Score float64
	// sentence index in the passage's sentences
	si int
	// checked: the question checks (fType, fNames, fNegation) are in
	// Features; they are computed on demand (evidence.check), as most
	// sentences never need them.
	checked bool
}

// qword is a content word of the question with its index term and weight.
type qword struct {
	term string
	idf  float64
	vec  []float32 // nil when the table lacks the word
}

// evidence holds what the features of one question need.
type evidence struct {
	an     *textproc.Analyzer
	vecs   *wordvec.Table
	q      question
	terms  []string           // distinct question terms
	weight map[string]float64 // idf of each term
	total  float64
	words  []qword // question words with vectors, for soft matching
	qvec   []float32
	rare   string // the question's rarest term
	maxLex float64
	noVec  bool // the question's dense vector is zero: no word has a vector
	hits   []grounded.Hit
	ps     []passage // the hits' analyses, set by candidates
}

func (s *Service) newEvidence(question string, qTerms []string, hits []grounded.Hit) *evidence {
	q := analyzeQuestion(question)
	if head := s.an.Term(q.head); head != "" && len(qTerms) > 1 {
		// The wh-phrase's head ("how long", "what year") is asked for, not
		// matched: the answer-type check looks for a duration or a year.
		qTerms = slices.DeleteFunc(slices.Clone(qTerms), func(t string) bool { return t == head })
	}
	e := &evidence{an: s.an, vecs: s.vecs, q: q, terms: qTerms, weight: map[string]float64{}}
	best := -1.0
	for _, t := range qTerms {
		w := s.search.IDF(t)
		e.weight[t] = w
		e.total += w
		if w > best {
			best, e.rare = w, t
		}
	}
	seen := map[string]bool{}
	for _, sp := range textproc.Words(question) {
		w := strings.ToLower(question[sp.Start:sp.End])
		t := s.an.Term(w)
		if t == "" || seen[w] || e.weight[t] == 0 {
			continue
		}
		seen[w] = true
		e.words = append(e.words, qword{term: t, idf: e.weight[t], vec: e.vecs.Vector(w)})
	}
	e.qvec = e.vecs.Embed(question, nil)
	e.noVec = !slices.ContainsFunc(e.qvec, func(x float32) bool { return x != 0 })
	for _, h := range hits {
		e.maxLex = max(e.maxLex, h.LexicalScore)
	}
	return e
}

// termSet is the terms of a span of text and their prefixes.
type termSet struct {
	terms, prefixes map[string]bool
}

func newTermSet(terms []string) termSet {
	ts := termSet{terms: make(map[string]bool, len(terms)), prefixes: make(map[string]bool, len(terms))}
	for _, t := range terms {
		ts.add(t)
	}
	return ts
}

func (ts termSet) add(t string) {
	ts.terms[t] = true
	if len(t) >= prefixLen {
		ts.prefixes[t[:prefixLen]] = true
	}
}

// has reports whether any of sets has term t.
func has(sets []termSet, t string) bool {
	for _, s := range sets {
		if s.terms[t] {
			return true
		}
	}
	return false
}

// coverage is the idf-weighted share of question terms in sets (exact, or
// a shared prefix at prefixWeight), with heading terms at half weight.
func (e *evidence) coverage(sets []termSet, heading map[string]bool) float64 {
	if e.total == 0 {
		return 0
	}
	var cov float64
	for _, t := range e.terms {
		switch {
		case has(sets, t):
			cov += e.weight[t]
		case len(t) >= prefixLen && slices.ContainsFunc(sets, func(s termSet) bool { return s.prefixes[t[:prefixLen]] }):
			cov += e.weight[t] * prefixWeight
		case heading[t]:
			cov += e.weight[t] / 2
		}
	}
	return cov / e.total
}

// missMax is the idf of the rarest question term that neither terms nor
// heading has, over the idf of the rarest question term; 0 when none is
// missing.
func (e *evidence) missMax(sets []termSet, heading map[string]bool) float64 {
	if e.rare == "" || e.weight[e.rare] == 0 {
		return 0
	}
	var m float64
	for _, t := range e.terms {
		if !has(sets, t) && !heading[t] {
			m = max(m, e.weight[t])
		}
	}
	return m / e.weight[e.rare]
}

// soft is coverage where a question word the sentence lacks counts the
// best cosine similarity (clipped at 0) between it and the sentence's
// words' vectors svecs.
func (e *evidence) soft(svecs [][]float32, terms map[string]bool) float64 {
	var cov, total float64
	for _, qw := range e.words {
		total += qw.idf
		if terms[qw.term] {
			cov += qw.idf
			continue
		}
		if qw.vec == nil {
			continue
		}
		var best float32
		for _, v := range svecs {
			best = max(best, wordvec.Dot(qw.vec, v))
		}
		cov += qw.idf * float64(best)
	}
	if total == 0 {
		return 0
	}
	return cov / total
}

// check fills in c's question checks, once.
func (e *evidence) check(c *Candidate) {
	if c.checked {
		return
	}
	c.checked = true
	f := &c.Features
	f[fType] = b2f(hasAnswerOfType(e.q, c.Text))
	f[fNames] = b2f(!namesMissing(e.q, e.hits[c.Hit], e.ps[c.Hit].sents, c.si))
	f[fNegation] = b2f(!(e.q.negated && !isNegated(c.Text)) && !antonymConflict(e.q, lowerWords(c.Text)))
}

// passes reports whether c passes the question checks.
func (e *evidence) passes(c *Candidate) bool {
	e.check(c)
	return passesChecks(&c.Features)
}

// vectors returns the vectors of text's content words and, in into, their
// SIF-weighted average (the sentence's dense vector, unit length), with
// the number of words of text.
func (e *evidence) vectors(text string, into []float32) (vecs [][]float32, dense []float32, words int) {
	dense = into[:0]
	for range e.vecs.Dim() {
		dense = append(dense, 0)
	}
	spans := textproc.Words(text)
	for _, sp := range spans {
		w := strings.ToLower(text[sp.Start:sp.End])
		wt, v := e.vecs.Weighted(w)
		if wt == 0 {
			continue
		}
		vecs = append(vecs, v)
		for j, x := range v {
			dense[j] += wt * x
		}
	}
	wordvec.Normalize(dense)
	return vecs, dense, len(spans)
}

// passage is one retrieved passage's analysis, shared by its sentences.
type passage struct {
	sents   []textproc.Sentence
	terms   [][]string // each sentence's terms, in order
	sets    []termSet
	heading map[string]bool
	head    termSet // the heading's terms with their prefixes
	all     termSet // every term of the passage
}

func (e *evidence) analyze(h grounded.Hit) passage {
	p := passage{sents: textproc.Sentences(h.Text, 0, len(h.Text)), head: newTermSet(e.an.Terms(h.Heading())), all: newTermSet(nil)}
	p.heading = p.head.terms
	p.terms = make([][]string, len(p.sents))
	p.sets = make([]termSet, len(p.sents))
	for si, sent := range p.sents {
		p.terms[si] = e.an.Terms(h.Text[sent.Start:sent.End])
		p.sets[si] = newTermSet(p.terms[si])
		for _, t := range p.terms[si] {
			p.all.add(t)
		}
	}
	return p
}

// candidates lists the sentences of hits worth weighing, with features.
func (e *evidence) candidates(hits []grounded.Hit) []Candidate {
	ps := make([]passage, len(hits))
	e.hits, e.ps = hits, ps
	seen := map[string]bool{}
	for hi, h := range hits {
		ps[hi] = e.analyze(h)
		for t := range ps[hi].all.terms {
			seen[t] = true
		}
		for t := range ps[hi].heading {
			seen[t] = true
		}
	}
	var unseen float64
	if e.total > 0 {
		for _, t := range e.terms {
			if !seen[t] {
				unseen += e.weight[t] / e.total
			}
		}
	}
	var out []Candidate
	var svec []float32
	for hi, h := range hits {
		p := ps[hi]
		heading, sents := p.heading, p.sents
		last := h.Section
		if i := strings.LastIndex(last, " > "); i >= 0 {
			last = last[i+3:]
		}
		headCov := e.coverage([]termSet{p.head}, nil)
		passCov := e.coverage([]termSet{p.all}, heading)
		lexRel := 0.0
		switch {
		case e.maxLex > 0:
			lexRel = h.LexicalScore / e.maxLex
		case h.LexicalRank > 0:
			lexRel = 1 // a searcher that ranks without scores
		}
		first := true
		for si, sent := range sents {
			text := h.Text[sent.Start:sent.End]
			if sent.Heading || text == last {
				continue
			}
			var vecs [][]float32
			var nwords int
			vecs, svec, nwords = e.vectors(text, svec)
			if nwords < 4 {
				continue
			}
			terms := p.sets[si]
			window := p.sets[max(si-1, 0):min(si+2, len(sents))]
			c := Candidate{Hit: hi, Start: h.Start + sent.Start, End: h.Start + sent.End, Text: text, si: si}
			f := &c.Features
			f[fLex] = e.coverage(p.sets[si:si+1], heading)
			f[fSoft] = e.soft(vecs, terms.terms)
			f[fWindow] = e.coverage(window, heading)
			f[fHeading] = headCov
			f[fPassage] = passCov
			if e.noVec {
				f[fDense] = f[fLex] // no word of the question has a vector ("What is LoRA?")
			} else {
				f[fDense] = float64(wordvec.Dot(e.qvec, svec))
			}
			f[fRank] = 1 / float64(hi+1)
			f[fLexRel] = lexRel
			f[fBigram] = bigramShare(e.terms, p.terms[si])
			f[fRare] = b2f(has(window, e.rare) || heading[e.rare])
			f[fFirst] = b2f(first)
			f[fLength] = math.Log1p(float64(nwords))
			f[fQTerms] = math.Log1p(float64(len(e.terms)))
			f[fUnseen] = unseen
			f[fMissMax] = e.missMax(window, heading)
			f[fAdvice] = b2f(e.q.howTo && advises(text))
			f[fCode] = codeShare(text)
			first = false
			out = append(out, c)
		}
	}
	return out
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Candidates retrieves the passages for req.Question and returns them with
// every sentence the answerer weighs and its features: what evaluations
// dump to fit and check the answer model. The caller has checked req.
func (s *Service) Candidates(ctx context.Context, req grounded.AskRequest) ([]grounded.Hit, []Candidate, error) {
	question := req.Question
	hits, err := s.search.Search(ctx, question, s.k(req.K), req.Where)
	if err != nil {
		return nil, nil, err
	}
	hits = distinct(hits)
	qTerms := textproc.Unique(s.an.Terms(question))
	e := s.newEvidence(question, qTerms, hits)
	cands := e.candidates(hits)
	for i := range cands {
		e.check(&cands[i])
	}
	return hits, cands, nil
}

// adviceWords mark a sentence that tells the reader what to do.
var adviceWords = map[string]bool{"use": true, "should": true, "must": true, "need": true, "needs": true, "instead": true,
	"recommended": true, "recommend": true, "avoid": true, "set": true, "call": true, "pass": true, "prefer": true, "consider": true}

// advises reports whether a sentence holds an advice word.
func advises(text string) bool {
	for _, sp := range textproc.Words(text) {
		if adviceWords[strings.ToLower(text[sp.Start:sp.End])] {
			return true
		}
	}
	return false
}

// codeShare is the share of text's bytes that are neither letters nor
// white space.
func codeShare(text string) float64 {
	if text == "" {
		return 0
	}
	n := 0
	for _, r := range text {
		if !unicode.IsLetter(r) && !unicode.IsSpace(r) {
			n++
		}
	}
	return float64(n) / float64(len([]rune(text)))
}
