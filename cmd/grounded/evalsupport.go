package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/groundedhq/grounded/answer/support"
	"github.com/groundedhq/grounded/eval"
	"github.com/groundedhq/grounded/internal/textproc"
)

const evalSupportUsage = "eval support --claims FILE [--corpus FILE] [--json] [--threshold X] [--no-name-check] [--no-number-check] [--no-negation-check]"

// cmdEvalSupport measures the sentence support checker on SciFact claims:
// claims_dev.jsonl for the claims and their rationales, a BEIR corpus.jsonl
// for the abstracts that claims without evidence cite.
func cmdEvalSupport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval support", flag.ContinueOnError)
	claims := fs.String("claims", "", "SciFact claims file (claims_dev.jsonl)")
	corpus := fs.String("corpus", "", "BEIR corpus.jsonl with the cited abstracts; default ../scifact/corpus.jsonl from the claims file's folder")
	asJSON := fs.Bool("json", false, "print JSON")
	threshold := fs.Float64("threshold", 0, "support threshold, 0 to 1 (0: the checker's default)")
	var cfg support.Config
	fs.BoolVar(&cfg.NoNameCheck, "no-name-check", false, "turn off the name check")
	fs.BoolVar(&cfg.NoNumberCheck, "no-number-check", false, "turn off the number check")
	fs.BoolVar(&cfg.NoNegationCheck, "no-negation-check", false, "turn off the negation check")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 || *claims == "" || *threshold < 0 || *threshold > 1 {
		return fmt.Errorf("%w: %s", errUsage, evalSupportUsage)
	}
	if *corpus == "" {
		*corpus = filepath.Join(filepath.Dir(*claims), "..", "scifact", "corpus.jsonl")
	}
	set, err := eval.LoadSupport(*claims, *corpus)
	if err != nil {
		return err
	}
	cfg.Threshold = *threshold
	chk := support.New(textproc.NewAnalyzer(), cfg)
	rep, err := eval.Support(ctx, set, func(sentence string, passages []string) eval.SupportVerdict {
		r := chk.Check(sentence, passages)
		return eval.SupportVerdict{
			Supported: r.Supported, Score: r.Score, Reason: r.Reason,
			Vetoed:  r.Reason != "" && r.Reason != support.ReasonCoverage,
			Passage: r.Passage, Start: r.Start, End: r.End,
		}
	})
	if err != nil {
		return err
	}
	rep.ClaimsFile, rep.CorpusFile, rep.Threshold = *claims, *corpus, chk.Threshold()
	if *asJSON {
		return writeJSON(stdout, rep)
	}
	fmt.Fprintf(stdout, "claims     %s (%d claims; evidence entries without sentences, skipped: %d)\ncorpus     %s\nthreshold  %.2f\ncheck      p50 %.0f µs, p99 %.0f µs (%.1f s in all)\n",
		rep.ClaimsFile, rep.Claims, rep.Skipped, rep.CorpusFile, rep.Threshold, rep.CheckP50Us, rep.CheckP99Us, rep.Seconds)
	for _, s := range []struct {
		name, what string
		s          *eval.SupportSetting
	}{
		{"rationale", "a claim with each of its rationales; a claim without evidence with its cited abstracts", rep.Rationale},
		{"abstract", "a claim with each abstract that has a rationale for it; the same claims without evidence", rep.Abstract},
	} {
		fmt.Fprintf(stdout, "\n%s setting: %s\n", s.name, s.what)
		fmt.Fprintf(stdout, "%-14s %6s %5s %5s %9s %9s %9s %7s %7s\n", "half", "pairs", "pos", "neg", "accuracy", "balanced", "precision", "recall", "f1")
		for _, h := range []struct {
			name string
			m    eval.SupportMetrics
		}{{"all", s.s.All}, {"tune (even)", s.s.Tune}, {"confirm (odd)", s.s.Confirm}} {
			fmt.Fprintf(stdout, "%-14s %6d %5d %5d %9.4f %9.4f %9.4f %7.4f %7.4f\n", h.name, h.m.Pairs, h.m.Positives, h.m.Negatives,
				h.m.Accuracy, h.m.BalancedAccuracy, h.m.Precision, h.m.Recall, h.m.F1)
		}
		c := s.s.Contradict
		fmt.Fprintf(stdout, "contradicting rationales (not in the figures above): %d pairs, %d rejected (%.4f); precision %.4f had they counted as negatives\n",
			c.Pairs, c.Rejected, c.RejectRate, c.PrecisionAsNegatives)
		if s.s.SpanPairs > 0 {
			fmt.Fprintf(stdout, "best span overlaps a rationale sentence: %.4f of %d supported positives\n", s.s.SpanHit, s.s.SpanPairs)
		}
		for _, kind := range []string{eval.PairSupport, eval.PairNEI, eval.PairContradict} {
			fmt.Fprintf(stdout, "verdicts on %-10s %v\n", kind+":", s.s.Reasons[kind])
		}
		fmt.Fprintf(stdout, "threshold sweep (tune / confirm):\n%9s %15s %15s %15s %15s %10s\n", "threshold", "balanced", "accuracy", "precision", "recall", "contra_rej")
		for _, p := range s.s.Sweep {
			fmt.Fprintf(stdout, "%9.2f %7.4f/%.4f %7.4f/%.4f %7.4f/%.4f %7.4f/%.4f %10.4f\n", p.Threshold,
				p.Tune.BalancedAccuracy, p.Confirm.BalancedAccuracy, p.Tune.Accuracy, p.Confirm.Accuracy,
				p.Tune.Precision, p.Confirm.Precision, p.Tune.Recall, p.Confirm.Recall, p.ContradictRejects)
		}
		fmt.Fprintf(stdout, "best tune-half balanced accuracy at threshold %.2f\n", s.s.BestTuneThreshold)
	}
	return nil
}
