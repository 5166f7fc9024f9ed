package support

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/groundedhq/grounded/eval"
	"github.com/groundedhq/grounded/internal/textproc"
)

// TestDebugSciFact prints the SciFact abstract-setting pairs the checker
// gets wrong, with each candidate window's failure and the names it lacks
// (GROUNDED_DEBUG_SCIFACT=tune, confirm or all; a debugging aid).
func TestDebugSciFact(t *testing.T) {
	which := os.Getenv("GROUNDED_DEBUG_SCIFACT")
	if which == "" {
		t.Skip("GROUNDED_DEBUG_SCIFACT not set")
	}
	set, err := eval.LoadSupport("../../../shared/eval-data/scifact-claims/claims_dev.jsonl", "../../../shared/eval-data/scifact/corpus.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	c := New(textproc.NewAnalyzer(), Config{})
	for _, p := range set.Abstract {
		if which == "tune" && p.Position%2 == 1 || which == "confirm" && p.Position%2 == 0 {
			continue
		}
		r, f := c.Explain(p.Claim, p.Passages)
		if r.Supported == (p.Kind == eval.PairSupport) {
			continue
		}
		fmt.Printf("=== %s pos=%d %s reason=%s score=%.2f cov=%.2f missing=%d\nCLAIM: %s\n", p.Kind, p.Position, r.Verdict, r.Reason, r.Score, r.Coverage, f.Missing, p.Claim)
		cl := c.analyzeClaim(strings.TrimSpace(p.Claim))
		al := c.align(cl, c.Prepare(p.Passages), nil)
		if al == nil {
			continue
		}
		for i := range al.cands {
			w := &al.cands[i]
			fl := c.verify(cl, al, w)
			ev := c.evidenceOf(al, w)
			var lacks []string
			for _, ph := range cl.names {
				ix := c.indexNames(ev.text)
				for _, tok := range ph.tokens {
					if !c.hasName(tok, ix) {
						lacks = append(lacks, tok)
					}
				}
			}
			fmt.Printf("  cand %d score=%.2f fail=%q lacks=%q\n    %s\n", i, w.score, fl.reason, lacks, ev.text)
		}
		for _, rs := range p.Rationale {
			fmt.Printf("RAT:   %s\n", rs)
		}
	}
}
