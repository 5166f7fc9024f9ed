// Package support decides whether a sentence is supported by passages: the
// check a generated answer's sentences must pass against the passages they
// cite. It is lexical and offline: a sentence is supported when the words
// that carry its meaning are found in one sentence of a passage (or two
// adjacent ones), every name and number it mentions occurs in the passages,
// and it is negated exactly when that passage sentence is. Check documents
// the algorithm, Config.Threshold how well it does on SciFact.
//
// The package imports only the standard library and internal/textproc, so
// that the same analysis (stems, stop words, sentence spans) is used as by
// retrieval and answering.
package support

import (
	"math"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/groundedhq/grounded/internal/textproc"
)

// Reasons a sentence is unsupported, in Result.Reason, in the order they are
// checked.
const (
	// ReasonNames: a name or acronym of the sentence is in none of the passages.
	ReasonNames = "names"
	// ReasonNumbers: a number of the sentence is in none of the passages.
	ReasonNumbers = "numbers"
	// ReasonNegation: the passage sentences that cover the sentence well
	// enough disagree with it about negation ("X does not cause Y" against
	// "X causes Y", or the reverse) or about direction ("X increases Y"
	// against "X reduces Y").
	ReasonNegation = "negation"
	// ReasonCoverage: no passage sentence, or window of adjacent ones, covers
	// enough of the sentence's content terms.
	ReasonCoverage = "coverage"
)

// DefaultThreshold is the score at or above which a sentence is supported.
// See Config.Threshold for how it was chosen.
const DefaultThreshold = 0.25

// Config tunes a Checker. Zero fields take the defaults.
type Config struct {
	// Threshold is the score at or above which a sentence is supported;
	// 0 (or less) means DefaultThreshold, 0.25. Above 1 supports nothing.
	//
	// Chosen on SciFact claims:
	//
	//	grounded eval support --claims ../shared/eval-data/scifact-claims/claims_dev.jsonl
	//
	// Claims at even positions of the file tune, odd ones confirm. A
	// positive pair is a claim with the rationale sentences of one SUPPORT
	// evidence entry (215 pairs), a negative one a claim without evidence
	// with the abstracts it cites (112); CONTRADICT rationales (122) are
	// reported apart. The default maximises tune-half balanced accuracy, the
	// mean of the recall of positives and of negatives (SciFact's 2:1 ratio
	// of positives says nothing about how often a generated sentence is
	// unsupported). Tune / confirm, all checks on, each row run with
	// --threshold:
	//
	//	threshold  balanced acc    precision       recall
	//	0.20       0.5902/0.5588   0.7375/0.7246   0.5364/0.4762
	//	0.25       0.6404/0.5729   0.8028/0.7460   0.5182/0.4476   <- default
	//	0.30       0.6035/0.5632   0.7833/0.7455   0.4273/0.3905
	//	0.35       0.6113/0.5820   0.8036/0.7736   0.4091/0.3905
	//	0.40       0.6049/0.5629   0.8261/0.7609   0.3455/0.3333
	//	0.50       0.5849/0.5813   0.8485/0.8621   0.2545/0.2381
	//
	// At 0.25, 70% of the contradicting rationales are rejected. Recall is
	// low at any threshold: SciFact claims are annotators' paraphrases and
	// generalisations, and a third of the positives fail a hard check
	// because the claim names what its rationale sentences do not ("UK",
	// "MRI", an acronym the abstract spells out elsewhere). Paired with the
	// whole abstract instead (the supporting sentence must be found, as in
	// use), 0.25 scores 0.7828 / 0.7278 balanced accuracy, precision
	// 0.8028 / 0.7576, the tune optimum there being 0.30 at 0.7842.
	Threshold float64
	// NoNameCheck, NoNumberCheck and NoNegationCheck turn off the hard
	// checks (for ablation in evaluations); see Checker.Check.
	NoNameCheck     bool
	NoNumberCheck   bool
	NoNegationCheck bool
}

// Result is the verdict on one sentence.
type Result struct {
	// Score is the share (0..1) of the sentence's weighted content terms
	// that its best passage sentence or window covers.
	Score float64
	// Supported is true when Score reaches the threshold and no hard check
	// failed.
	Supported bool
	// Passage is the index of the passage that supports best, -1 when there
	// is none (no passages, no passage text, or a sentence without content
	// terms).
	Passage int
	// Start and End are the byte span, in passages[Passage], of the sentence
	// (or two adjacent sentences) that support best, so a caller can quote
	// passages[Passage][Start:End] exactly. Set whenever Passage >= 0, also
	// when Supported is false: it is then the closest match.
	Start, End int
	// Reason is "" when supported, else one of the Reason constants.
	Reason string
}

// Checker checks sentences against passages. It is safe for concurrent use
// (as the Analyzer is).
type Checker struct {
	an        *textproc.Analyzer
	threshold float64
	cfg       Config
}

// Scoring constants (see Check). On SciFact (area under the ROC curve of
// the score, positives against claims without evidence, each half and both
// pairings of eval.SupportSet) none of the alternatives tried was better
// beyond noise in both pairings: prefix credit 0, 0.5, 0.85; no idf, idf
// squared; no length weight, a linear one; windows of 1 or 3 sentences;
// window cost 0 or 0.05.
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
)

// New returns a Checker that analyses text with an.
func New(an *textproc.Analyzer, cfg Config) *Checker {
	t := cfg.Threshold
	if t <= 0 {
		t = DefaultThreshold
	}
	return &Checker{an: an, threshold: t, cfg: cfg}
}

// Threshold returns the score at or above which a sentence is supported.
func (c *Checker) Threshold() float64 { return c.threshold }

// claimTerm is a content term of the checked sentence with its weight.
type claimTerm struct {
	term   string
	prefix string // first prefixLen bytes of term, "" when term is shorter
	weight float64
}

// psent is one sentence of a passage.
type psent struct {
	passage int
	span    textproc.Span
	credit  []float64 // per claim term: 1 found, prefixCredit prefix found, 0
	pol     polarity
}

// Check scores sentence against passages. The score is weighted coverage:
//
//	score = Σ_t w(t)·credit(t) / Σ_t w(t)
//
// over the distinct content terms t of sentence (Snowball stems, stop words
// out), maximised over every passage sentence and every window of up to
// maxWindow adjacent sentences of one passage (less windowCost per extra
// sentence). credit(t) is 1 when the window has the stem, prefixCredit when
// it has a stem with the same first five letters, else 0. The weight is
//
//	w(t) = ln(1 + N/max(df(t), 1)) · sqrt(min(len(t), 12))
//
// where N is the number of passage sentences and df(t) how many contain t:
// a term found in every sentence says little, a long term more than a short
// one, and a term found nowhere weighs like the rarest found one.
//
// Three hard checks can make a sentence unsupported whatever its score; the
// first two are checked before the threshold, the third after it:
//   - "names": a name of the sentence is in none of the passages. Names are
//     capitalized words that do not start the sentence and are not stop
//     words, acronyms ("TNF", "mTOR") and words mixing letters and digits
//     ("CD4"); an acronym in parentheses after other words ("reactive
//     oxygen species (ROS)") is an alias and is not required. A passage
//     has a name as a word, a stem, the start of a token ("GABAergic",
//     "CK-666"), an acronym inside a token ("hrHPV"), the same letters and
//     digits ("T(H)2" for "Th2"), or an acronym spelled out by initials
//     ("United Kingdom" for "UK").
//   - "numbers": a number of the sentence is in none of the passages
//     ("1,000" and "1000" are the same number).
//   - "negation": the window chosen must agree
//     with the sentence on negation (not, no, never, without, n't, ...;
//     "not only", "whether or not" and "but not" do not negate) and must
//     not state the opposite direction (increase / reduce, higher / lower,
//     ...). The window chosen is the best one that agrees when it reaches
//     the threshold, else the best one.
//
// Result.Passage, Start and End locate the chosen window.
func (c *Checker) Check(sentence string, passages []string) Result {
	res := Result{Passage: -1, Reason: ReasonCoverage}
	terms, claimPol := c.claimTerms(sentence)
	if len(terms) == 0 || len(passages) == 0 {
		return res
	}

	// Split the passages into sentences and record, per sentence, which
	// claim terms it holds.
	index := make(map[string]int, len(terms))
	byPrefix := map[string][]int{}
	for i, t := range terms {
		index[t.term] = i
		if t.prefix != "" {
			byPrefix[t.prefix] = append(byPrefix[t.prefix], i)
		}
	}
	claimNames := names(sentence)
	checkNames := !c.cfg.NoNameCheck && len(claimNames) > 0
	var pw passageWords
	if checkNames {
		pw = passageWords{words: map[string]bool{}, terms: map[string]bool{}}
	}
	var sents []psent
	df := make([]int, len(terms))
	seen := make([]bool, len(terms))
	var lowers []string
	for pi, p := range passages {
		for _, s := range textproc.Sentences(p, 0, len(p)) {
			text := p[s.Start:s.End]
			words := textproc.Words(text)
			lowers = lowerWords(text, words, lowers[:0])
			ps := psent{passage: pi, span: s.Span, credit: make([]float64, len(terms)), pol: c.polarity(text, words, lowers)}
			clear(seen)
			var initials []byte
			for _, lw := range lowers {
				st := c.an.Term(lw)
				if checkNames {
					pw.words[lw] = true
					pw.terms[st] = true
					initials = utf8.AppendRune(initials, firstRune(lw))
				}
				if st == "" {
					continue
				}
				if i, ok := index[st]; ok {
					ps.credit[i] = 1
					if !seen[i] {
						seen[i] = true
						df[i]++
					}
				}
				if len(st) >= prefixLen {
					for _, i := range byPrefix[st[:prefixLen]] {
						ps.credit[i] = max(ps.credit[i], prefixCredit)
					}
				}
			}
			if checkNames {
				pw.initials = append(pw.initials, string(initials))
			}
			sents = append(sents, ps)
		}
		if checkNames {
			for _, f := range strings.Fields(p) {
				if sq := squash(f); sq != "" {
					pw.squashed = append(pw.squashed, sq)
				}
			}
		}
	}
	if len(sents) == 0 {
		return res
	}

	// Weights: idf over the passage sentences times a length factor.
	n := float64(len(sents))
	total := 0.0
	for i := range terms {
		w := math.Log(1+n/float64(max(df[i], 1))) * math.Sqrt(float64(min(len(terms[i].term), maxLenWeight)))
		terms[i].weight = w
		total += w
	}

	// Score every window; keep the best, and the best that agrees on negation.
	type window struct {
		score      float64
		first, end int // sents[first:end]
		pol        polarity
	}
	best, agree := window{score: -1}, window{score: -1}
	cover := make([]float64, len(terms))
	for i := range sents {
		clear(cover)
		pol := sents[i].pol
		for j := i; j < len(sents) && j < i+maxWindow && sents[j].passage == sents[i].passage; j++ {
			got := 0.0
			for k, cr := range sents[j].credit {
				cover[k] = max(cover[k], cr)
				got += cover[k] * terms[k].weight
			}
			if j > i {
				pol = pol.join(sents[j].pol)
			}
			w := window{score: got/total - windowCost*float64(j-i), first: i, end: j + 1, pol: pol}
			if w.score > best.score {
				best = w
			}
			if claimPol.agrees(pol) && w.score > agree.score {
				agree = w
			}
		}
	}
	chosen := best
	if agree.score >= c.threshold {
		chosen = agree
	}
	first, last := sents[chosen.first], sents[chosen.end-1]
	res.Score = math.Max(0, math.Min(1, chosen.score))
	res.Passage, res.Start, res.End = first.passage, first.span.Start, last.span.End

	switch {
	case checkNames && c.missingName(claimNames, pw):
		res.Reason = ReasonNames
	case !c.cfg.NoNumberCheck && missingNumber(sentence, passages):
		res.Reason = ReasonNumbers
	case res.Score < c.threshold:
		res.Reason = ReasonCoverage
	case !claimPol.agrees(chosen.pol):
		res.Reason = ReasonNegation
	default:
		res.Supported, res.Reason = true, ""
	}
	return res
}

// claimTerms returns the distinct content terms of s, in order, and its
// polarity.
func (c *Checker) claimTerms(s string) ([]claimTerm, polarity) {
	var out []claimTerm
	have := map[string]bool{}
	words := textproc.Words(s)
	lowers := lowerWords(s, words, nil)
	for _, lw := range lowers {
		t := c.an.Term(lw)
		if t == "" || have[t] {
			continue
		}
		have[t] = true
		ct := claimTerm{term: t}
		if len(t) >= prefixLen {
			ct.prefix = t[:prefixLen]
		}
		out = append(out, ct)
	}
	return out, c.polarity(s, words, lowers)
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

func firstRune(s string) rune {
	r, _ := utf8.DecodeRuneInString(s)
	return r
}

// polarity is what the negation check compares: whether a text is
// negated, and the direction it states (+1 up: "increases", -1 down:
// "reduces", 0 neither or both).
type polarity struct {
	negated bool
	dir     int8
}

// join is the polarity of two adjacent sentences read together.
func (p polarity) join(q polarity) polarity {
	d := p.dir
	if d == 0 {
		d = q.dir
	} else if q.dir != 0 && q.dir != d {
		d = 0
	}
	return polarity{negated: p.negated || q.negated, dir: d}
}

// agrees reports whether a passage window of polarity q can support a
// sentence of polarity p: both negated or neither, and not of opposite
// directions.
func (p polarity) agrees(q polarity) bool {
	return p.negated == q.negated && p.dir*q.dir >= 0
}

// polarity returns the polarity of text, whose words and their lower-cased
// forms are given.
func (c *Checker) polarity(text string, words []textproc.Span, lowers []string) polarity {
	if c.cfg.NoNegationCheck {
		return polarity{}
	}
	p := polarity{negated: isNegated(text, words, lowers)}
	up, down := false, false
	for _, lw := range lowers {
		switch directions[lw] {
		case 1:
			up = true
		case -1:
			down = true
		}
	}
	switch {
	case up && !down:
		p.dir = 1
	case down && !up:
		p.dir = -1
	}
	return p
}

// directions are words that say a quantity goes up (+1) or down (-1).
var directions = func() map[string]int8 {
	m := map[string]int8{}
	for _, w := range strings.Fields(`increase increases increased increasing higher elevated elevates elevate
		greater raise raises raised rise rises rose augment augments augmented upregulates upregulated upregulation`) {
		m[w] = 1
	}
	for _, w := range strings.Fields(`decrease decreases decreased decreasing reduce reduces reduced reducing reduction
		lower lowers lowered lowering diminish diminishes diminished fewer decline declines declined
		downregulates downregulated downregulation`) {
		m[w] = -1
	}
	return m
}()

// negations are the words that negate a sentence. "no" is one only when
// it is not the abbreviation of number ("No. 5").
var negations = map[string]bool{
	"not": true, "no": true, "never": true, "none": true, "nor": true, "neither": true,
	"cannot": true, "without": true, "nothing": true, "nobody": true, "lack": true,
	"lacks": true, "lacked": true, "fail": true, "fails": true, "failed": true,
	"unable": true, "unaffected": true, "unchanged": true,
}

// isNegated reports whether text holds a negation word or a "n't"
// contraction, not counting "not only", "whether or not" and "but not"
// (which negates what follows it, not the sentence).
func isNegated(text string, words []textproc.Span, lowers []string) bool {
	for i, lw := range lowers {
		w := words[i]
		if lw == "t" && i > 0 && strings.HasSuffix(lowers[i-1], "n") &&
			(strings.HasSuffix(text[:w.Start], "'") || strings.HasSuffix(text[:w.Start], "’")) {
			return true
		}
		if !negations[lw] {
			continue
		}
		prev, next := "", ""
		if i > 0 {
			prev = lowers[i-1]
		}
		if i+1 < len(lowers) {
			next = lowers[i+1]
		}
		switch {
		case lw == "not" && (next == "only" || prev == "or" || prev == "but"):
			continue
		case lw == "no" && strings.HasPrefix(text[w.End:], "."):
			continue
		}
		return true
	}
	return false
}

// passageWords is what the name check needs to know about the passages.
type passageWords struct {
	words    map[string]bool // lower-cased words
	terms    map[string]bool // stems
	squashed []string        // white-space separated tokens with all but letters and digits removed: "T(H)2" -> "TH2"
	initials []string        // per passage sentence, the initials of its words, lower case
}

// missingName reports whether one of names is not in the passages.
func (c *Checker) missingName(names []string, pw passageWords) bool {
	for _, n := range names {
		if !c.hasName(n, pw) {
			return true
		}
	}
	return false
}

// hasName reports whether the passages have name: as a word or a stem, as
// the start of a token ("GABA", "GABAergic"; "CK", "CK-666"), an acronym
// of at least three letters inside a token ("HPV", "hrHPV"), the same
// letters and digits ("Th2", "T(H)2"), a plural acronym's singular, or an
// acronym spelled out by the initials of adjacent words ("UK", "United
// Kingdom").
func (c *Checker) hasName(name string, pw passageWords) bool {
	lw := strings.ToLower(name)
	if pw.words[lw] {
		return true
	}
	if t := c.an.Term(name); t != "" && pw.terms[t] {
		return true
	}
	acronym := isAcronym(name)
	if acronym {
		if sing, ok := strings.CutSuffix(name, "s"); ok && isAcronym(sing) && c.hasName(sing, pw) {
			return true // "EMAs"
		}
	}
	short := utf8.RuneCountInString(name) < 3
	for _, tok := range pw.squashed {
		switch {
		case strings.EqualFold(tok, name): // "T(H)2" for "Th2"
			return true
		case acronym && !short && strings.Contains(tok, name): // "hrHPV" for "HPV"
			return true
		case acronym || short:
			if strings.HasPrefix(tok, name) { // "CK-666" for "CK", case as written
				return true
			}
		case strings.HasPrefix(strings.ToLower(tok), lw):
			return true
		}
	}
	if acronym && utf8.RuneCountInString(lw) >= 2 {
		for _, ini := range pw.initials {
			if strings.Contains(ini, lw) {
				return true
			}
		}
	}
	return false
}

// squash returns tok with everything but letters and digits removed.
func squash(tok string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return -1
	}, tok)
}

// names returns the words of s that name something: capitalized words that
// do not start the sentence and are not stop words, acronyms anywhere
// ("TNF", "mTOR", "PrP") and words mixing letters and digits ("CD4", "p53").
// A name in parentheses right after other words is an alias of them
// ("reactive oxygen species (ROS)") and is left out: the words it stands
// for are what the passages must cover.
func names(s string) []string {
	var out []string
	for i, w := range textproc.Words(s) {
		word := s[w.Start:w.End]
		if i > 0 && inAlias(s, w) {
			continue
		}
		r, _ := utf8.DecodeRuneInString(word)
		switch {
		case isAcronym(word), hasLetterAndDigit(word):
			out = append(out, word)
		case i > 0 && unicode.IsUpper(r) && !textproc.IsStopWord(strings.ToLower(word)):
			out = append(out, word)
		}
	}
	return out
}

// inAlias reports whether the word at w is inside a short parenthesized
// group without spaces, "(HAM/TSP)", "(HSCT-T)".
func inAlias(s string, w textproc.Span) bool {
	open := strings.LastIndexByte(s[:w.Start], '(')
	if open < 0 || strings.ContainsAny(s[open:w.Start], " )") {
		return false
	}
	close := strings.IndexByte(s[w.End:], ')')
	return close >= 0 && !strings.ContainsAny(s[w.End:w.End+close], " (") && open > 0
}

// isAcronym reports whether w has an upper-case letter after its first
// rune: "TNF", "mTOR", "PrP", "UK".
func isAcronym(w string) bool {
	for i, r := range w {
		if i > 0 && unicode.IsUpper(r) {
			return true
		}
	}
	return false
}

func hasLetterAndDigit(w string) bool {
	letter, digit := false, false
	for _, r := range w {
		letter = letter || unicode.IsLetter(r)
		digit = digit || unicode.IsDigit(r)
	}
	return letter && digit
}

// missingNumber reports whether s holds a number that none of the passages
// holds. Numbers are compared as written, with thousands separators
// removed: "1,000" matches "1000".
func missingNumber(s string, passages []string) bool {
	nums := numbers(s)
	if len(nums) == 0 {
		return false
	}
	have := map[string]bool{}
	for _, p := range passages {
		for _, n := range numbers(p) {
			have[n] = true
		}
	}
	for _, n := range nums {
		if !have[n] {
			return true
		}
	}
	return false
}

// numbers returns the numbers of s: runs of ASCII digits, with '.' or ','
// between digits, that do not continue a word ("CD4" is a name, not 4).
// Commas are dropped, so "1,000" and "1000" are the same number.
func numbers(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		var b strings.Builder
		j := i
		for j < len(s) {
			if isDigit(s[j]) {
				b.WriteByte(s[j])
			} else if (s[j] == '.' || s[j] == ',') && j+1 < len(s) && isDigit(s[j+1]) {
				if s[j] == '.' {
					b.WriteByte('.')
				}
			} else {
				break
			}
			j++
		}
		if prev, _ := utf8.DecodeLastRuneInString(s[:i]); i == 0 || !unicode.IsLetter(prev) {
			out = append(out, b.String())
		}
		i = j
	}
	return out
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
