// Package check checks answers written elsewhere (another bot's, a
// person's) against evidence, sentence by sentence: the groundedness check
// behind POST /v1/check, grounded check and batch check jobs. The
// collection resolves the evidence (inline passages, documents, chunks or
// retrieval) to passage texts; this package does the rest:
//
//   - The answer is cut into sentences and their [n] markers read by the
//     grounding protocol's parser (grounding.Split, grounding.ParseClaim),
//     so an answer is read exactly as a model's reply is. Markers naming no
//     passage are reported on their sentence.
//   - A sentence that cites passages is checked against them. When they do
//     not support it and another passage does, it is re-attributed: its
//     citations become that passage and its reason says so. A sentence
//     citing nothing (or only passages that do not exist) is checked
//     against all passages.
//   - Every sentence gets a verdict, the support checker's score, a reason
//     in words and the span that supports it best (or matches it most
//     closely) as an exact quote: Quote == passages[n-1][Start:End].
//   - The answer's score is the length-weighted mean of the scores of its
//     supported sentences, the others counting 0 (grounded.CheckResult).
package check

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/answer/grounding"
	"github.com/groundedhq/grounded/answer/support"
	"github.com/groundedhq/grounded/internal/textproc"
)

// Checker checks answers. It is safe for concurrent use when its
// SupportFunc or PrepareFunc is (a support.Checker's are).
type Checker struct {
	prepare grounding.PrepareFunc
}

// New returns a Checker that checks each sentence with sf, which is
// passed the passages each check is against.
func New(sf grounding.SupportFunc) *Checker { return NewPrepared(grounding.Unprepared(sf)) }

// NewPrepared returns a Checker that prepares the passages of each answer
// with pf, once, and checks each sentence against them, or against the
// ones it cites, without analysing them again (grounding.Preparer of a
// support.Checker).
func NewPrepared(pf grounding.PrepareFunc) *Checker { return &Checker{prepare: pf} }

// verdictOf is a support result's verdict.
func verdictOf(r support.Result) string {
	switch r.Verdict {
	case support.Supported:
		return grounded.VerdictSupported
	case support.Contradicted:
		return grounded.VerdictContradicted
	}
	return grounded.VerdictUnsupported
}

// Check checks req's answer (req.Answer or req.Sentences; the evidence
// fields of req are not read) against passages, passage n being
// passages[n-1]. Errors: EINVALID for an answer with more than
// grounded.MaxCheckSentences sentences or none with a word; ctx's error
// when it ends first.
func (c *Checker) Check(ctx context.Context, req grounded.CheckRequest, passages []string) (*grounded.CheckResult, error) {
	claims := Claims(req, len(passages))
	switch {
	case len(claims) > grounded.MaxCheckSentences:
		return nil, grounded.Errorf(grounded.EINVALID, "the answer has %d sentences; the limit is %d", len(claims), grounded.MaxCheckSentences)
	case len(claims) == 0:
		return nil, grounded.Errorf(grounded.EINVALID, "the answer has no sentence with a word to check")
	}
	res := &grounded.CheckResult{Sentences: make([]grounded.CheckedSentence, 0, len(claims))}
	var prepared grounding.PreparedFunc
	if len(passages) > 0 {
		prepared = c.prepare(passages)
	}
	for _, cl := range claims {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		st := c.sentence(cl, passages, prepared)
		res.Sentences = append(res.Sentences, st)
		res.InvalidCitations += cl.Invalid
		if st.Reattributed {
			res.ReattributedCitations++
		}
		switch st.Verdict {
		case grounded.VerdictSupported:
			res.Supported++
		case grounded.VerdictContradicted:
			res.Contradicted++
		default:
			res.Unsupported++
		}
	}
	res.Score = overall(res.Sentences)
	return res, nil
}

// Claim is one sentence to check: its text and valid citations, the
// marker numbers that name no passage, and how many markers did not.
type Claim struct {
	grounding.Claim
	// BadCites are the numbers of its markers that name no passage, in
	// order, each once.
	BadCites []int
	// Invalid counts the numbers of its markers that name no passage.
	Invalid int
}

// Claims reads req's answer into sentences with their citations of
// passages 1..n. From req.Answer, sentences without a word are left out
// (as from a model's reply); each of req.Sentences is one claim, whatever
// it holds.
func Claims(req grounded.CheckRequest, n int) []Claim {
	valid := func(i int) bool { return i >= 1 && i <= n }
	read := func(s string) Claim {
		cl, invalid := grounding.ParseClaim(s, valid)
		all, _ := grounding.ParseClaim(s, func(int) bool { return true })
		var bad []int
		for _, i := range all.Cites {
			if !valid(i) {
				bad = append(bad, i)
			}
		}
		return Claim{Claim: cl, BadCites: bad, Invalid: invalid}
	}
	var out []Claim
	if len(req.Sentences) > 0 {
		for _, s := range req.Sentences {
			out = append(out, read(s))
		}
		return out
	}
	for _, s := range grounding.Split(req.Answer) {
		if cl := read(s); hasWord(cl.Text) {
			out = append(out, cl)
		}
	}
	return out
}

func hasWord(s string) bool { return len(textproc.Words(s)) > 0 }

// sentence checks one claim against passages, prepared.
func (c *Checker) sentence(cl Claim, passages []string, prepared grounding.PreparedFunc) grounded.CheckedSentence {
	st := grounded.CheckedSentence{Text: cl.Text, Citations: slices.Clone(cl.Cites), InvalidCitations: cl.BadCites}
	if st.Citations == nil {
		st.Citations = []int{}
	}
	switch {
	case !hasWord(cl.Text):
		st.Verdict, st.Reason = grounded.VerdictUnsupported, "it has no words to check"
		return st
	case len(passages) == 0:
		st.Verdict, st.Reason = grounded.VerdictUnsupported, "there are no passages to check it against"
		return st
	}
	all := make([]int, len(passages))
	for i := range all {
		all[i] = i + 1
	}
	if len(cl.Cites) == 0 {
		r := c.check(prepared, cl.Text, all)
		c.fill(&st, r, passages, all)
		switch {
		case st.Verdict != grounded.VerdictSupported:
			st.Reason = describe(r, "the passages") + c.citing(cl)
		case len(cl.BadCites) > 0:
			n := st.Evidence.Passage
			st.Reattributed, st.Cited, st.Citations = true, cl.BadCites, []int{n}
			st.Reason = fmt.Sprintf("re-attributed: it cites %s, which %s; passage %d supports it", grounding.Markers(cl.BadCites), noSuch(len(cl.BadCites), len(passages)), n)
		default:
			n := st.Evidence.Passage
			st.Citations = []int{n}
			st.Reason = fmt.Sprintf("it cites no passage; passage %d supports it", n)
		}
		return st
	}
	r := c.check(prepared, cl.Text, cl.Cites)
	c.fill(&st, r, passages, cl.Cites)
	if st.Verdict == grounded.VerdictSupported {
		st.Reason = fmt.Sprintf("passage %d supports it", st.Evidence.Passage)
		return st
	}
	why := describe(r, "the passages it cites")
	var others []int
	for _, n := range all {
		if !slices.Contains(cl.Cites, n) {
			others = append(others, n)
		}
	}
	if len(others) > 0 {
		if r2 := c.check(prepared, cl.Text, others); verdictOf(r2) == grounded.VerdictSupported {
			alt := grounded.CheckedSentence{Text: st.Text, InvalidCitations: st.InvalidCitations}
			c.fill(&alt, r2, passages, others)
			if alt.Evidence != nil {
				n := alt.Evidence.Passage
				alt.Reattributed, alt.Cited, alt.Citations = true, cl.Cites, []int{n}
				alt.Reason = fmt.Sprintf("re-attributed: it cites %s, which does not support it (%s); passage %d does", grounding.Markers(cl.Cites), why, n)
				return alt
			}
		}
	}
	st.Reason = why + c.citing(cl)
	return st
}

// check runs the support checker on the prepared passages numbered ns.
func (c *Checker) check(prepared grounding.PreparedFunc, text string, ns []int) support.Result {
	idx := make([]int, len(ns))
	for i, n := range ns {
		idx[i] = n - 1
	}
	return prepared(text, idx)
}

// fill sets st's verdict, score and evidence from r, a result over the
// passages numbered ns. A supported result without a usable span is
// unsupported: a verdict is never given without its evidence. A span that
// shares nothing with the sentence (coverage 0) is no evidence.
func (c *Checker) fill(st *grounded.CheckedSentence, r support.Result, passages []string, ns []int) {
	st.Verdict, st.Score, st.Evidence = verdictOf(r), grounding.Round3(r.Score), nil
	if r.Passage >= 0 && r.Passage < len(ns) && r.Coverage > 0 {
		n := ns[r.Passage]
		text := passages[n-1]
		if 0 <= r.Start && r.Start < r.End && r.End <= len(text) {
			st.Evidence = &grounded.CheckEvidence{Passage: n, Quote: text[r.Start:r.End], Start: r.Start, End: r.End}
		}
	}
	if st.Evidence == nil && st.Verdict == grounded.VerdictSupported {
		st.Verdict = grounded.VerdictUnsupported
	}
}

// citing notes markers that name no passage: "; it cites [7], which does
// not exist".
func (c *Checker) citing(cl Claim) string {
	if len(cl.BadCites) == 0 {
		return ""
	}
	return fmt.Sprintf("; it cites %s, which %s", grounding.Markers(cl.BadCites), noSuch(len(cl.BadCites), -1))
}

// noSuch says that cited numbers name no passage.
func noSuch(cites, passages int) string {
	verb := "does"
	if cites > 1 {
		verb = "do"
	}
	if passages >= 0 {
		return fmt.Sprintf("%s not exist (there are %d passages)", verb, passages)
	}
	return verb + " not exist"
}

// describe says in words why r is not supported by where ("the passages
// it cites", "the passages").
func describe(r support.Result, where string) string {
	switch {
	case r.Passage < 0 || r.Coverage <= 0:
		return "no sentence of " + where + " shares a content word with it"
	case r.Reason == support.ReasonNames:
		return "a name or acronym in it is in none of " + where
	case r.Reason == support.ReasonNumbers:
		return "a number in it is in none of " + where
	case r.Reason == support.ReasonNegation:
		return "the closest sentence of " + where + " disagrees with it on negation"
	case r.Reason == support.ReasonAntonym:
		return "the closest sentence of " + where + " says the opposite (an antonym or the other direction)"
	case r.Reason == support.ReasonWrongEntity:
		return "the closest sentence of " + where + " names someone or something else in its place"
	case r.Reason == support.ReasonWrongNumber:
		return "the closest sentence of " + where + " gives another number or date for it"
	case r.Reason == support.ReasonComparison:
		return where + " do not state its comparison, or state the opposite"
	case r.Reason == support.ReasonYesNo:
		return "a bare yes or no cannot be checked without the question"
	case r.Reason == support.ReasonCoverage, r.Reason == "":
		return "no sentence of " + where + " covers enough of its words"
	}
	return strings.ReplaceAll(r.Reason, "_", " ") + " (" + where + ")"
}

// overall is the answer's score: the mean of the supported sentences'
// scores weighted by their length in bytes, the others counting 0.
func overall(sents []grounded.CheckedSentence) float64 {
	sum, total := 0.0, 0
	for _, st := range sents {
		w := len(st.Text)
		total += w
		if st.Verdict == grounded.VerdictSupported {
			sum += float64(w) * st.Score
		}
	}
	if total == 0 {
		return 0
	}
	return grounding.Round3(sum / float64(total))
}
