package grounding

import (
	"slices"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/answer/support"
)

// ReasonNoCitation is Sentence.Reason for a sentence that cites no passage.
const ReasonNoCitation = "no_citation"

// ReasonReattributed names what happened to a sentence whose Citations
// differ from what the model cited (Sentence.CitedAs): it was supported by
// another passage of the prompt, and cites that one instead. Front ends
// that report a reason for every sentence (the check route) use it.
const ReasonReattributed = "reattributed"

// Check checks claims against the passages of one prompt and remembers,
// per passage, the span that supported a claim best, for its citation. It
// is not safe for concurrent use.
type Check struct {
	// Question, when set, is the question the claims answer: a bare
	// "Yes." or "No." is checked as its claim (support.Answer).
	Question string

	m            *Model
	ps           []Passage // ps[n-1] is passage n
	prepared     PreparedFunc
	best         map[int]support.Result
	reattributed int
}

// NewCheck returns a Check of claims citing ps, numbered 1..len(ps).
func (m *Model) NewCheck(ps []Passage) *Check {
	return &Check{m: m, ps: ps, best: map[int]support.Result{}}
}

// Valid reports whether n names a passage.
func (c *Check) Valid(n int) bool { return n >= 1 && n <= len(c.ps) }

// Reattributed counts the sentences checked so far whose citation was
// moved to the passage that supports them.
func (c *Check) Reattributed() int { return c.reattributed }

// Checked is a checked claim: the sentence as reported, and its evidence.
type Checked struct {
	Sentence grounded.Sentence
	// Passage is the number of the passage holding the evidence, 0 when
	// there is none; Start and End are its byte span in that passage's
	// chunk text (Passage.Chunk.Text[Start:End]): the supporting span when
	// the sentence is supported, else the closest or contradicting one.
	Passage    int
	Start, End int
	// Result is the support check's verdict on the evidence.
	Result support.Result
}

// Sentence support-checks a claim (whose cites must be Valid); see Explain.
func (c *Check) Sentence(cl Claim) grounded.Sentence { return c.Explain(cl).Sentence }

// reattributeMargin: a cited passage that supports a sentence keeps it
// when its coverage is within this of the best-supporting passage of the
// prompt; a passage that supports it much less well ("Alpha reactors cool
// with heavy water" by "Beta reactors cool with molten salt") is not what
// the sentence was written from.
const reattributeMargin = 0.2

// Explain support-checks a claim (whose cites must be Valid) against
// every passage of the prompt, each on its own. A sentence is never kept
// under a number that does not support it:
//   - when some cited passages support it (nearly as well as the best
//     passage, reattributeMargin), it cites those alone, and CitedAs keeps
//     what the model cited when that differs;
//   - when none does but another passage of the prompt does, it is
//     re-attributed: it cites that passage, CitedAs keeps what the model
//     cited, and Reattributed counts it;
//   - else it is not supported, with the verdict and reason of its best
//     cited passage.
//
// A claim without citations is unsupported, ReasonNoCitation.
func (c *Check) Explain(cl Claim) Checked {
	st := grounded.Sentence{Text: cl.Text, Citations: cl.Cites}
	if st.Citations == nil {
		st.Citations = []int{}
	}
	if len(cl.Cites) == 0 {
		st.Reason, st.Verdict = ReasonNoCitation, support.Unsupported
		return Checked{Sentence: st}
	}
	// Check every passage of the prompt on its own: the cited ones, and
	// the others in case one of them is what supports the sentence.
	results := make([]support.Result, len(c.ps))
	top := 0.0 // the best coverage of a passage that supports it
	for i, p := range c.ps {
		results[i] = c.support(cl.Text, p.N)
		if results[i].Supported {
			top = max(top, results[i].Coverage)
		}
	}
	bestN, best := 0, support.Result{Passage: -1}
	var supporting []int
	for _, n := range cl.Cites {
		r := results[n-1]
		if r.Supported && r.Coverage >= top-reattributeMargin {
			supporting = append(supporting, n)
		}
		if bestN == 0 || better(r, best) {
			bestN, best = n, r
		}
	}
	switch {
	case len(supporting) > 0:
		if len(supporting) < len(cl.Cites) {
			st.CitedAs = cl.Cites
		}
		st.Citations = supporting
		bestN, best = supporting[0], results[supporting[0]-1]
		for _, n := range supporting[1:] {
			if better(results[n-1], best) {
				bestN, best = n, results[n-1]
			}
		}
	default:
		other, r := 0, support.Result{}
		for _, p := range c.ps {
			if q := results[p.N-1]; q.Supported && !slices.Contains(cl.Cites, p.N) && (other == 0 || better(q, r)) {
				other, r = p.N, q
			}
		}
		if other > 0 {
			bestN, best = other, r
			st.CitedAs, st.Citations = cl.Cites, []int{other}
			c.reattributed++
		}
	}
	st.Support, st.Supported, st.Reason, st.Verdict = Round3(best.Score), best.Supported, best.Reason, best.Verdict
	if st.Verdict == "" { // a SupportFunc that does not say
		st.Verdict = support.Unsupported
		if best.Supported {
			st.Verdict = support.Supported
		}
	}
	out := Checked{Sentence: st, Result: best}
	text := c.ps[bestN-1].Chunk.Text
	if best.Passage >= 0 && 0 <= best.Start && best.Start < best.End && best.End <= len(text) {
		out.Passage, out.Start, out.End = bestN, best.Start, best.End
		if best.Supported {
			if prev, ok := c.best[bestN]; !ok || best.Score > prev.Score {
				c.best[bestN] = best
			}
		}
	}
	return out
}

// support checks text against passage n alone. The prompt's passages are
// prepared (analysed) once, on the first check.
func (c *Check) support(text string, n int) support.Result {
	if c.prepared == nil {
		texts := make([]string, len(c.ps))
		for i, p := range c.ps {
			texts[i] = p.Chunk.Text
		}
		c.prepared = c.m.Preparer()(texts)
	}
	idx := []int{n - 1}
	check := func(s string, _ []string) support.Result { return c.prepared(s, idx) }
	r := support.Answer(check, text, c.Question, nil)
	if r.Passage != 0 {
		r.Passage = -1
	}
	return r
}

// better reports whether r is a better verdict than s: supported first,
// then the higher score.
func better(r, s support.Result) bool {
	if r.Supported != s.Supported {
		return r.Supported
	}
	return r.Score > s.Score
}

// Citations returns, in passage order, a citation of every passage that
// sents cite: the best span that supported a checked claim in it, with its
// support score, else the whole passage with Passage.Score.
func (c *Check) Citations(sents []grounded.Sentence) []grounded.Citation {
	cited := map[int]bool{}
	for _, st := range sents {
		for _, n := range st.Citations {
			cited[n] = true
		}
	}
	out := []grounded.Citation{}
	for _, p := range c.ps {
		if !cited[p.N] {
			continue
		}
		ch := p.Chunk
		quote, start, score := ch.Text, ch.Start, p.Score
		if r, ok := c.best[p.N]; ok {
			quote, start, score = ch.Text[r.Start:r.End], ch.Start+r.Start, Round3(r.Score)
		}
		out = append(out, Cite(p.N, ch, quote, start, score))
	}
	return out
}

// Cite is citation n: quote, at byte offset start of its document, which
// chunk ch holds (or holds the start of), with ch's document and heading.
func Cite(n int, ch grounded.Chunk, quote string, start int, score float64) grounded.Citation {
	return grounded.Citation{
		N: n, DocID: ch.DocID, Source: ch.Source, Title: ch.Title, Section: ch.Section, Location: ch.Location,
		Version: ch.Version, Quote: quote, Start: start, End: start + len(quote), Score: score,
	}
}

// Round3 rounds a score to the 3 decimals answers report.
func Round3(f float64) float64 { return float64(int(f*1000+0.5)) / 1000 }
