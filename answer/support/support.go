// Package support decides whether a sentence is supported by passages: the
// check a generated answer's sentences must pass against the passages they
// cite, and the check behind grounded's groundedness checking. It is
// lexical, offline and fast (well under a millisecond a sentence):
//
//   - Alignment (align.go): the sentence is aligned to the passage sentence,
//     or window of two adjacent ones, that covers most of its weighted
//     content words.
//   - Facts (facts.go): every name, number and date of the sentence must be
//     in that aligned evidence, in the same role; a different name or
//     number in the same slot (next to the same words) contradicts it.
//   - Polarity (polarity.go): negation, antonyms and comparisons are
//     compared between the sentence and the clauses of the evidence it
//     aligns to, so a "not" elsewhere in the passage does not count.
//   - Score (score.go): a logistic regression over the alignment's features,
//     fitted on generated contrastive pairs and SciFact (see fit/), turns
//     the alignment into the probability that the sentence is supported.
//
// The package imports only the standard library and internal/textproc, so
// that the same analysis (stems, stop words, sentence spans) is used as by
// retrieval and answering.
package support

import (
	"github.com/groundedhq/grounded/internal/textproc"
)

// Verdicts, in Result.Verdict.
const (
	// Supported: the aligned evidence states the sentence.
	Supported = "supported"
	// Unsupported: no evidence states it (too little of it is covered, or
	// a name, number or comparison of it is not in the aligned evidence).
	Unsupported = "unsupported"
	// Contradicted: the aligned evidence states something incompatible: a
	// different name or number in the same role, the opposite polarity
	// (negation), an antonym, or the opposite comparison.
	Contradicted = "contradicted"
)

// Reasons a sentence is not supported, in Result.Reason.
const (
	// ReasonNames: a name or acronym of the sentence is not in the aligned
	// evidence (it may be elsewhere in the passage, in another role).
	ReasonNames = "names"
	// ReasonNumbers: a number or date of the sentence is not in the aligned
	// evidence.
	ReasonNumbers = "numbers"
	// ReasonWrongEntity (contradicted): where the sentence has a name, the
	// aligned evidence has a different one next to the same words ("founded
	// by Smith" against "founded by Jones"), or a different month.
	ReasonWrongEntity = "wrong_entity"
	// ReasonWrongNumber (contradicted): a different number for the same
	// quantity, or a different year.
	ReasonWrongNumber = "wrong_number"
	// ReasonNegation (contradicted): the aligned clause and the sentence
	// disagree about negation ("X does not cause Y" against "X causes Y").
	ReasonNegation = "negation"
	// ReasonAntonym (contradicted): the aligned clause states the opposite
	// word or direction ("increases" against "reduces", "north" against
	// "south").
	ReasonAntonym = "antonym"
	// ReasonComparison: a comparison or superlative of the sentence ("the
	// largest", "earlier than") is not what the evidence states; contradicted
	// when the evidence states the opposite one.
	ReasonComparison = "comparison"
	// ReasonCoverage: the evidence covers too little of the sentence.
	ReasonCoverage = "coverage"
	// ReasonYesNo: a bare "Yes." or "No." has no claim of its own; it is
	// checked as the claim of its question (CheckAnswer), and without one
	// it is unsupported.
	ReasonYesNo = "yes_no"
)

// DefaultThreshold is the probability at or above which a sentence is
// supported, when no hard check failed.
const DefaultThreshold = 0.5

// Config tunes a Checker. Zero fields take the defaults.
type Config struct {
	// Threshold is the calibrated score (the probability that the sentence
	// is supported) at or above which a sentence is supported; 0 (or less)
	// means DefaultThreshold, 0.5. Above 1 supports nothing.
	Threshold float64
	// NoNameCheck, NoNumberCheck and NoNegationCheck turn off the hard
	// checks (for ablation in evaluations): names and entities; numbers and
	// dates; negation, antonyms and comparisons.
	NoNameCheck     bool
	NoNumberCheck   bool
	NoNegationCheck bool
}

// Result is the verdict on one sentence.
type Result struct {
	// Verdict is Supported, Unsupported or Contradicted.
	Verdict string
	// Supported is Verdict == Supported.
	Supported bool
	// Score is the calibrated probability (0..1) that the sentence is
	// supported by the passages (see score.go for how it was fitted and how
	// well calibrated it is).
	Score float64
	// Coverage is the share (0..1) of the sentence's weighted content terms
	// that the aligned evidence covers: the alignment's main feature.
	Coverage float64
	// Passage is the index of the passage of the aligned evidence, -1 when
	// there is none (no passages, no passage text, or a sentence without
	// content terms).
	Passage int
	// Start and End are the byte span, in passages[Passage], of the aligned
	// evidence (one sentence or two adjacent ones), so a caller can quote
	// passages[Passage][Start:End] exactly. Set whenever Passage >= 0, also
	// when the sentence is not supported: it is then the closest match,
	// the evidence that contradicts it when it is contradicted.
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

// Check checks sentence against passages: Explain's Result.
func (c *Checker) Check(sentence string, passages []string) Result {
	r, _ := c.Explain(sentence, passages)
	return r
}

// CheckAnswer checks sentence, a sentence of an answer to question,
// against passages (see Answer).
func (c *Checker) CheckAnswer(sentence, question string, passages []string) Result {
	return Answer(c.Check, sentence, question, passages)
}

// Answer checks sentence, a sentence of an answer to question, against
// passages with check. A sentence that opens with "Yes" or "No" is checked
// as the claim it affirms or denies: "Yes, X" and "No, X" as X (check
// strips the opening word itself); a bare "Yes." as the question's claim,
// supported when that is; a bare "No." as its denial, supported when the
// question's claim is contradicted, contradicted when it is supported.
// Without a question (""), a bare yes or no is unsupported, ReasonYesNo.
func Answer(check func(sentence string, passages []string) Result, sentence, question string, passages []string) Result {
	rest, yn := YesNo(sentence)
	if yn == 0 || hasContent(rest) {
		return check(sentence, passages)
	}
	if !hasContent(question) {
		return Result{Verdict: Unsupported, Passage: -1, Reason: ReasonYesNo}
	}
	r := check(question, passages)
	if yn > 0 {
		return r
	}
	switch r.Verdict {
	case Contradicted:
		r.Verdict, r.Supported, r.Reason = Supported, true, ""
		r.Score = max(r.Score, 1-r.Score)
	case Supported:
		r.Verdict, r.Supported, r.Reason = Contradicted, false, ReasonNegation
		r.Score = 1 - r.Score
	default:
		r.Score = min(r.Score, 1-r.Score)
	}
	return r
}

// hasContent reports whether s has a word that is not a stop word.
func hasContent(s string) bool {
	for _, w := range textproc.Words(s) {
		if !textproc.IsStopWord(lower(s[w.Start:w.End])) {
			return true
		}
	}
	return false
}

// Explain checks sentence against passages and returns the verdict with the
// features its score was computed from. The steps:
//
//  1. "Yes, ..." and "No, ..." lose their opening word; a bare yes or no
//     is unsupported (CheckAnswer checks it with its question).
//  2. Alignment: every passage sentence, and every window of two adjacent
//     sentences of one passage, is scored by weighted coverage of the
//     sentence's content terms (align.go). The windows within a small
//     margin of the best are the candidate evidence.
//  3. Each candidate, best first, is checked: names and numbers in the
//     same role (facts.go), then negation, antonyms and comparisons in the
//     clauses it aligns to (polarity.go). The first candidate that passes
//     is the evidence, unless it overlaps one found contradicting (a
//     sentence that contradicts does not support by the company of the
//     next one); when none does, the best candidate is, with its failure:
//     a contradiction makes the verdict Contradicted, a missing fact
//     Unsupported.
//  4. The score is the logistic model's probability over the features of
//     the evidence (score.go); a sentence whose checks passed is supported
//     when the score reaches the threshold, else unsupported, ReasonCoverage.
func (c *Checker) Explain(sentence string, passages []string) (Result, Features) {
	return c.Prepare(passages).Explain(sentence)
}

// explain is Explain against the passages of p that idx names (nil: all).
func (c *Checker) explain(sentence string, p *Prepared, idx []int) (Result, Features) {
	res := Result{Verdict: Unsupported, Passage: -1, Reason: ReasonCoverage}
	claimText, yn := YesNo(sentence)
	cl := c.analyzeClaim(claimText)
	if len(cl.terms) == 0 {
		if yn != 0 {
			res.Reason = ReasonYesNo
		}
		return res, Features{}
	}
	al := c.align(cl, p, idx)
	if al == nil {
		return res, Features{}
	}
	f := Features{Terms: len(cl.terms), BestCoverage: al.cands[0].score}
	var chosen *window
	var fail failure
	var contradicted []*window
	for i := range al.cands {
		w := &al.cands[i]
		if overlapsAny(w, contradicted) {
			continue // a window holding contradicting evidence does not support
		}
		fl := c.verify(cl, al, w)
		if i == 0 {
			chosen, fail = w, fl
		}
		if fl.reason == "" {
			chosen, fail = w, fl
			break
		}
		if fl.contradicts {
			contradicted = append(contradicted, w)
		}
	}
	c.fill(&f, cl, al, chosen, fail)
	res.Coverage = clamp01(chosen.score)
	first, last := al.sents[chosen.first], al.sents[chosen.end-1]
	res.Passage, res.Start, res.End = first.passage, first.span.Start, last.span.End
	res.Score = f.Probability()
	if res.Coverage < MinCoverage {
		// Below the floor the sentence is not supported, and its score
		// says so: the model never saw enough of such pairs to be trusted.
		res.Score = min(res.Score, res.Coverage)
	}
	switch {
	case fail.reason != "" && fail.contradicts:
		res.Verdict, res.Reason = Contradicted, fail.reason
	case fail.reason != "":
		res.Reason = fail.reason
	case res.Score < c.threshold || res.Coverage < MinCoverage:
		res.Reason = ReasonCoverage
	default:
		res.Verdict, res.Supported, res.Reason = Supported, true, ""
	}
	return res, f
}

// MinCoverage is the evidence floor: a sentence whose evidence covers less
// of its weighted content terms is unsupported whatever its score, so a
// claim made mostly of words the passages lack ("Gift cards can be
// refunded in cash" against a refunds policy that shares only "refund")
// never passes on the strength of the rest of its features. Chosen on the
// tune halves, maximizing the mean of the contrastive set's and SciFact's
// (claim vs whole abstract) balanced accuracy (grounded eval support
// --contrastive; tune / confirm):
//
//	floor  contrastive      SciFact abstract
//	none   0.9777 / 0.9788  0.7294 / 0.6121   (passes "Gift cards ...")
//	0.35   0.9822 / 0.9859  0.7337 / 0.6139   <- default
//	0.42   0.9846 / 0.9886  0.7126 / 0.6234
//	0.50   0.9878 / 0.9902  0.6562 / 0.6441
const MinCoverage = 0.35

func overlapsAny(w *window, ws []*window) bool {
	for _, o := range ws {
		if w.first < o.end && o.first < w.end {
			return true
		}
	}
	return false
}

func clamp01(x float64) float64 { return max(0, min(1, x)) }
