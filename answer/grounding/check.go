package grounding

import (
	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/answer/support"
)

// ReasonNoCitation is Sentence.Reason for a sentence that cites no passage.
const ReasonNoCitation = "no_citation"

// Check checks claims against the passages of one prompt and remembers,
// per passage, the span that supported a claim best, for its citation. It
// is not safe for concurrent use.
type Check struct {
	m    *Model
	ps   []Passage // ps[n-1] is passage n
	best map[int]support.Result
}

// NewCheck returns a Check of claims citing ps, numbered 1..len(ps).
func (m *Model) NewCheck(ps []Passage) *Check {
	return &Check{m: m, ps: ps, best: map[int]support.Result{}}
}

// Valid reports whether n names a passage.
func (c *Check) Valid(n int) bool { return n >= 1 && n <= len(c.ps) }

// Sentence support-checks a claim (whose cites must be Valid) against the
// passages it cites. A claim without citations is unsupported,
// ReasonNoCitation.
func (c *Check) Sentence(cl Claim) grounded.Sentence {
	st := grounded.Sentence{Text: cl.Text, Citations: cl.Cites}
	if st.Citations == nil {
		st.Citations = []int{}
	}
	if len(cl.Cites) == 0 {
		st.Reason = ReasonNoCitation
		return st
	}
	texts := make([]string, len(cl.Cites))
	for i, n := range cl.Cites {
		texts[i] = c.ps[n-1].Chunk.Text
	}
	r := c.m.Support(cl.Text, texts)
	st.Support, st.Supported, st.Reason = Round3(r.Score), r.Supported, r.Reason
	if r.Supported && r.Passage >= 0 && r.Passage < len(cl.Cites) && 0 <= r.Start && r.Start < r.End && r.End <= len(texts[r.Passage]) {
		n := cl.Cites[r.Passage]
		if prev, ok := c.best[n]; !ok || r.Score > prev.Score {
			c.best[n] = r
		}
	}
	return st
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
