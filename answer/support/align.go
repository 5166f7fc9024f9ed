package support

import (
	"math"
	"strings"
	"unicode/utf8"

	"github.com/groundedhq/grounded/internal/textproc"
)

// Alignment constants. The window and coverage constants were chosen on
// SciFact by area under the ROC curve (each half, both pairings); none of
// prefix credit 0, 0.5, 0.85, no idf, idf squared, windows of 1 or 3
// sentences did better beyond noise. margin and maxCands were chosen on the
// tune halves (eval support --contrastive and SciFact).
const (
	// prefixLen is the length of the shared prefix that earns partial
	// credit: "inflammation" and "inflammatory" share "infla".
	prefixLen = 5
	// prefixCredit is the credit of a term whose window has only a term
	// with the same prefix.
	prefixCredit = 0.7
	// maxWindow is the most adjacent sentences of a passage scored together.
	maxWindow = 2
	// windowCost is subtracted from a window's score per extra sentence, so
	// a single sentence wins a tie.
	windowCost = 0.02
	// maxLenWeight caps the length (in bytes of the stem) that weighs.
	maxLenWeight = 12
	// margin: windows scoring within margin of the best are candidate
	// evidence, checked best first.
	margin = 0.1
	// maxCands caps the candidates checked.
	maxCands = 4
)

// claimTerm is a content term of the checked sentence with its weight.
type claimTerm struct {
	term   string
	prefix string // first prefixLen bytes of term, "" when term is shorter
	weight float64
	df     int // passage sentences that hold it
}

// claim is the analysed sentence.
type claim struct {
	text   string
	words  []textproc.Span
	lowers []string
	stems  []string // per word, its term ("" for stop words)
	terms  []claimTerm
	seq    []int // term index of each content word, in order
	names  []phrase
	nums   []number
	// acronyms are the claim's acronyms with the term each is (see
	// acronym.go); spelled caches, for acronyms of the passages, the terms
	// of the run of the claim's words that spells each out (nil for none).
	acronyms []claimAcronym
	spelled  map[string][]int
	// joined are the terms of the claim's hyphenated compounds written as
	// one word ("non-teaching" -> "nonteach"), with the terms of their parts.
	joined map[string][]int
	neg    bool
	dir    int8
	comps  []string // comparison words that the evidence must state
}

// claimAcronym is an acronym of the claim: its acronymKey and term index.
type claimAcronym struct {
	key  string
	term int
}

// psent is one sentence of a passage.
type psent struct {
	passage int
	span    textproc.Span
	credit  []float64 // per claim term: 1 found, prefixCredit prefix found, 0
}

// window is sents[first:end] of one passage, scored.
type window struct {
	score      float64
	first, end int
}

// alignment is a claim aligned to the passages.
type alignment struct {
	passages []string
	sents    []psent
	cands    []window // best first
}

func (c *Checker) analyzeClaim(s string) *claim {
	cl := &claim{text: s, words: textproc.Words(s)}
	cl.lowers = lowerWords(s, cl.words, nil)
	cl.stems = make([]string, len(cl.lowers))
	index := map[string]int{}
	for i, lw := range cl.lowers {
		t := c.an.Term(lw)
		cl.stems[i] = t
		if t == "" {
			continue
		}
		k, ok := index[t]
		if !ok {
			k = len(cl.terms)
			index[t] = k
			ct := claimTerm{term: t}
			if len(t) >= prefixLen {
				ct.prefix = t[:prefixLen]
			}
			cl.terms = append(cl.terms, ct)
		}
		cl.seq = append(cl.seq, k)
	}
	if len(cl.terms) == 0 {
		return cl
	}
	cl.names = namePhrases(s, cl.words, cl.lowers)
	for i, w := range cl.words {
		if k, ok := cl.seq2term(i); ok {
			if key, ok := acronymKey(s[w.Start:w.End]); ok {
				cl.acronyms = append(cl.acronyms, claimAcronym{key, k})
			}
		}
	}
	for i := 1; i < len(cl.words); i++ {
		if !hyphenated(s, cl.words, i-1) {
			continue
		}
		j := c.an.Term(cl.lowers[i-1] + cl.lowers[i])
		if j == "" {
			continue
		}
		if cl.joined == nil {
			cl.joined = map[string][]int{}
		}
		for _, w := range [2]int{i - 1, i} {
			if k, ok := cl.seq2term(w); ok {
				cl.joined[j] = append(cl.joined[j], k)
			}
		}
	}
	cl.nums = numbersOf(s, cl.words, cl.lowers)
	if !c.cfg.NoNegationCheck {
		cl.neg = isNegated(s, cl.words, cl.lowers)
		cl.dir = direction(cl.lowers)
		cl.comps = comparisons(cl.lowers)
	}
	return cl
}

// spelledTerms returns the terms of the run of the claim's words that
// spells key out, nil when none does.
func (cl *claim) spelledTerms(key string) []int {
	if ts, ok := cl.spelled[key]; ok {
		return ts
	}
	var ts []int
	if first, end, ok := spelledRun(key, cl.lowers); ok {
		for i := first; i < end; i++ {
			if k, ok := cl.seq2term(i); ok {
				ts = append(ts, k)
			}
		}
	}
	if cl.spelled == nil {
		cl.spelled = map[string][]int{}
	}
	cl.spelled[key] = ts
	return ts
}

// hyphenated reports whether words i and i+1 of s are joined by a hyphen
// alone: "non-teaching", "GATA-3".
func hyphenated(s string, words []textproc.Span, i int) bool {
	return i+1 < len(words) && words[i].End+1 == words[i+1].Start && s[words[i].End] == '-'
}

// seq2term returns the term index of word i, false for a stop word.
func (cl *claim) seq2term(i int) (int, bool) {
	if cl.stems[i] == "" {
		return 0, false
	}
	for k, t := range cl.terms {
		if t.term == cl.stems[i] {
			return k, true
		}
	}
	return 0, false
}

// align scores every window of the passages of p that idx names (nil:
// all of them) against cl (see Explain) and returns the candidates; nil
// when those passages have no sentence.
func (c *Checker) align(cl *claim, p *Prepared, idx []int) *alignment {
	terms := cl.terms
	al := p.sentences(cl, idx)
	if len(al.sents) == 0 {
		return nil
	}

	// Weights: idf over the passage sentences times a length factor.
	n := float64(len(al.sents))
	total := 0.0
	for i := range terms {
		w := math.Log(1+n/float64(max(terms[i].df, 1))) * math.Sqrt(float64(min(len(terms[i].term), maxLenWeight)))
		terms[i].weight = w
		total += w
	}

	var top []window // the best maxCands windows, best first, ties in order
	cover := make([]float64, len(terms))
	for i := range al.sents {
		clear(cover)
		for j := i; j < len(al.sents) && j < i+maxWindow && al.sents[j].passage == al.sents[i].passage; j++ {
			got := 0.0
			for k, cr := range al.sents[j].credit {
				cover[k] = max(cover[k], cr)
				got += cover[k] * terms[k].weight
			}
			top = pushTop(top, window{score: got/total - windowCost*float64(j-i), first: i, end: j + 1})
		}
	}
	best := top[0].score
	for _, w := range top {
		if w.score < best-margin {
			break
		}
		al.cands = append(al.cands, w)
	}
	return al
}

// evidence is a candidate window analysed for the fact and polarity checks.
type evidence struct {
	text   string // the window's text
	words  []textproc.Span
	lowers []string
	stems  []string
	sents  []*evSent // the window's sentences
}

// evSent is one sentence of a window, the scope of the fact checks.
type evSent struct {
	text   string
	words  []textproc.Span
	lowers []string
	stems  []string
	// context is the text the name check may find a name in: the sentence,
	// and the one before it when the sentence opens with a pronoun ("She
	// received her star ..."), whose antecedent it names.
	context string
}

func (c *Checker) evidenceOf(al *alignment, w *window) *evidence {
	first, last := al.sents[w.first], al.sents[w.end-1]
	p := al.passages[first.passage]
	ev := &evidence{text: p[first.span.Start:last.span.End]}
	ev.words, ev.lowers, ev.stems = c.analyze(ev.text)
	for j := w.first; j < w.end; j++ {
		sp := al.sents[j].span
		es := &evSent{text: p[sp.Start:sp.End]}
		es.words, es.lowers, es.stems = c.analyze(es.text)
		es.context = es.text
		if j > 0 && al.sents[j-1].passage == first.passage && len(es.lowers) > 0 && pronouns[es.lowers[0]] {
			es.context = p[al.sents[j-1].span.Start:sp.End]
		}
		ev.sents = append(ev.sents, es)
	}
	return ev
}

// pronouns open a sentence that refers to a name in the one before.
var pronouns = map[string]bool{
	"he": true, "she": true, "it": true, "its": true, "they": true, "their": true, "his": true,
	"her": true, "this": true, "these": true, "those": true, "we": true, "our": true,
}

// analyze returns the words of text, lower-cased, and their terms.
func (c *Checker) analyze(text string) ([]textproc.Span, []string, []string) {
	words := textproc.Words(text)
	lowers := lowerWords(text, words, nil)
	stems := make([]string, len(lowers))
	for i, lw := range lowers {
		stems[i] = c.an.Term(lw)
	}
	return words, lowers, stems
}

// scope is a clause of the sentence (words[first:end]) and the window
// sentences its facts may be found in.
type scope struct {
	first, end int
	sents      []*evSent
}

// scopesOf returns the clauses of the sentence that hold facts, each with
// the sentences of the window that share most of its content terms other
// than its facts (all of them on a tie): the words a fact is bound to
// decide where it must be found. A window of one sentence is the scope of
// every clause.
func scopesOf(cl *claim, ev *evidence) []scope {
	if len(ev.sents) == 1 {
		return []scope{{0, len(cl.words), ev.sents}}
	}
	isFact := make([]bool, len(cl.words))
	for _, ph := range cl.names {
		for i := ph.first; i < ph.end; i++ {
			isFact[i] = true
		}
	}
	for _, n := range cl.nums {
		isFact[n.at] = true
	}
	var out []scope
	for _, k := range clausesOf(cl.text, cl.words, cl.lowers) {
		terms := map[string]bool{}
		facts := false
		for i := k.first; i < k.end; i++ {
			facts = facts || isFact[i]
			if s := cl.stems[i]; s != "" && !isFact[i] {
				terms[s] = true
			}
		}
		if !facts {
			continue
		}
		sc := scope{first: k.first, end: k.end}
		bestHits := -1
		for _, es := range ev.sents {
			hits := 0
			seen := map[string]bool{}
			for _, st := range es.stems {
				if terms[st] && !seen[st] {
					seen[st] = true
					hits++
				}
			}
			switch {
			case hits > bestHits:
				sc.sents, bestHits = []*evSent{es}, hits
			case hits == bestHits:
				sc.sents = append(sc.sents, es)
			}
		}
		out = append(out, sc)
	}
	return out
}

// lowerWords appends the lower-cased words of text to dst.
func lowerWords(text string, words []textproc.Span, dst []string) []string {
	for _, w := range words {
		dst = append(dst, lower(text[w.Start:w.End]))
	}
	return dst
}

// lower is strings.ToLower without an allocation for words that are
// lower case already.
func lower(w string) string {
	for i := 0; i < len(w); i++ {
		if c := w[i]; c >= utf8.RuneSelf || 'A' <= c && c <= 'Z' {
			return strings.ToLower(w)
		}
	}
	return w
}
