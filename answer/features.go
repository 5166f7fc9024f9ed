package answer

import (
	"context"
	"math"
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
	fDense           // cosine of the SIF word-vector averages of question and sentence
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
	unseen float64 // see fUnseen
}

func (s *Service) newEvidence(question string, qTerms []string, hits []grounded.Hit) *evidence {
	e := &evidence{an: s.an, vecs: s.vecs, q: analyzeQuestion(question), terms: qTerms, weight: map[string]float64{}}
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
	for _, h := range hits {
		e.maxLex = max(e.maxLex, h.LexicalScore)
	}
	return e
}

// coverage is the idf-weighted share of question terms in terms (exact, or
// a shared prefix at prefixWeight), with heading terms at half weight.
func (e *evidence) coverage(terms, heading map[string]bool) float64 {
	if e.total == 0 {
		return 0
	}
	prefixes := map[string]bool{}
	for t := range terms {
		if len(t) >= prefixLen {
			prefixes[t[:prefixLen]] = true
		}
	}
	var cov float64
	for _, t := range e.terms {
		switch {
		case terms[t]:
			cov += e.weight[t]
		case len(t) >= prefixLen && prefixes[t[:prefixLen]]:
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
func (e *evidence) missMax(terms, heading map[string]bool) float64 {
	if e.rare == "" || e.weight[e.rare] == 0 {
		return 0
	}
	var m float64
	for _, t := range e.terms {
		if !terms[t] && !heading[t] {
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
	sets    []map[string]bool
	heading map[string]bool
	all     map[string]bool // every term of the passage
}

func (e *evidence) analyze(h grounded.Hit) passage {
	p := passage{sents: textproc.Sentences(h.Text, 0, len(h.Text)), heading: textproc.Set(e.an.Terms(h.Heading())), all: map[string]bool{}}
	p.terms = make([][]string, len(p.sents))
	p.sets = make([]map[string]bool, len(p.sents))
	for si, sent := range p.sents {
		p.terms[si] = e.an.Terms(h.Text[sent.Start:sent.End])
		p.sets[si] = textproc.Set(p.terms[si])
		for t := range p.sets[si] {
			p.all[t] = true
		}
	}
	return p
}

// candidates lists the sentences of hits worth weighing, with features.
func (e *evidence) candidates(hits []grounded.Hit) []Candidate {
	ps := make([]passage, len(hits))
	seen := map[string]bool{}
	for hi, h := range hits {
		ps[hi] = e.analyze(h)
		for t := range ps[hi].all {
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
		headCov := e.coverage(heading, nil)
		passCov := e.coverage(p.all, heading)
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
			window := map[string]bool{}
			for j := max(si-1, 0); j <= min(si+1, len(sents)-1); j++ {
				for t := range p.sets[j] {
					window[t] = true
				}
			}
			c := Candidate{Hit: hi, Start: h.Start + sent.Start, End: h.Start + sent.End, Text: text, si: si}
			f := &c.Features
			f[fLex] = e.coverage(terms, heading)
			f[fSoft] = e.soft(vecs, terms)
			f[fWindow] = e.coverage(window, heading)
			f[fHeading] = headCov
			f[fPassage] = passCov
			f[fDense] = float64(wordvec.Dot(e.qvec, svec))
			f[fRank] = 1 / float64(hi+1)
			f[fLexRel] = lexRel
			f[fType] = b2f(hasAnswerOfType(e.q, text))
			f[fNames] = b2f(!namesMissing(e.q, h, sents, si))
			f[fNegation] = b2f(!(e.q.negated && !isNegated(text)) && !antonymConflict(e.q, lowerWords(text)))
			f[fBigram] = bigramShare(e.terms, p.terms[si])
			f[fRare] = b2f(window[e.rare] || heading[e.rare])
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
	return hits, e.candidates(hits), nil
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
