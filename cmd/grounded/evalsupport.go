package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/groundedhq/grounded/answer/support"
	"github.com/groundedhq/grounded/eval"
	"github.com/groundedhq/grounded/internal/textproc"
)

const evalSupportUsage = "eval support [--claims FILE [--corpus FILE]] [--contrastive --squad FILE] [--json] [--threshold X] [--features FILE] [--no-name-check] [--no-number-check] [--no-negation-check]"

// cmdEvalSupport measures the sentence support checker: on SciFact claims
// (claims_dev.jsonl for the claims and their rationales, a BEIR
// corpus.jsonl for the abstracts), and on the contrastive set generated
// from a SQuAD 2.0 file (eval.Contrastive). --features writes every pair's
// features and label as JSON lines, the input of answer/support/fit/fit.py.
func cmdEvalSupport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval support", flag.ContinueOnError)
	claims := fs.String("claims", "", "SciFact claims file (claims_dev.jsonl)")
	corpus := fs.String("corpus", "", "BEIR corpus.jsonl with the cited abstracts; default ../scifact/corpus.jsonl from the claims file's folder")
	contrastive := fs.Bool("contrastive", false, "check the contrastive set generated from --squad")
	squad := fs.String("squad", "", "SQuAD 2.0 file the contrastive set is generated from")
	features := fs.String("features", "", "write each pair's features and label to this JSON lines file")
	asJSON := fs.Bool("json", false, "print JSON")
	threshold := fs.Float64("threshold", 0, "support threshold, 0 to 1 (0: the checker's default)")
	var cfg support.Config
	fs.BoolVar(&cfg.NoNameCheck, "no-name-check", false, "turn off the name and entity checks")
	fs.BoolVar(&cfg.NoNumberCheck, "no-number-check", false, "turn off the number and date checks")
	fs.BoolVar(&cfg.NoNegationCheck, "no-negation-check", false, "turn off the negation, antonym and comparison checks")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 || *claims == "" && !*contrastive || *contrastive != (*squad != "") || *threshold < 0 || *threshold > 1 {
		return fmt.Errorf("%w: %s", errUsage, evalSupportUsage)
	}
	cfg.Threshold = *threshold
	chk := support.New(textproc.NewAnalyzer(), cfg)
	check := func(sentence string, passages []string) eval.SupportVerdict {
		r := chk.Check(sentence, passages)
		return eval.SupportVerdict{
			Supported: r.Supported, Verdict: r.Verdict, Score: r.Score, Reason: r.Reason,
			Vetoed:  r.Reason != "" && r.Reason != support.ReasonCoverage,
			Passage: r.Passage, Start: r.Start, End: r.End,
		}
	}
	var feats *featureWriter
	if *features != "" {
		f, err := os.Create(*features)
		if err != nil {
			return err
		}
		defer f.Close()
		feats = &featureWriter{chk: chk, w: bufio.NewWriter(f)}
		defer feats.w.Flush()
	}
	out := struct {
		SciFact     *eval.SupportReport     `json:"scifact,omitempty"`
		Contrastive *eval.ContrastiveReport `json:"contrastive,omitempty"`
	}{}
	if *contrastive {
		s, err := eval.LoadSQuAD(*squad)
		if err != nil {
			return err
		}
		pairs := eval.Contrastive(s)
		if out.Contrastive, err = eval.ContrastiveSupport(ctx, pairs, check); err != nil {
			return err
		}
		out.Contrastive.File = *squad
		if feats != nil {
			for _, p := range pairs {
				feats.write("contrastive", p.Article%2, p.Kind, p.Supported, p.Sentence, p.Passages)
			}
		}
	}
	if *claims != "" {
		if *corpus == "" {
			*corpus = filepath.Join(filepath.Dir(*claims), "..", "scifact", "corpus.jsonl")
		}
		set, err := eval.LoadSupport(*claims, *corpus)
		if err != nil {
			return err
		}
		rep, err := eval.Support(ctx, set, check)
		if err != nil {
			return err
		}
		rep.ClaimsFile, rep.CorpusFile, rep.Threshold = *claims, *corpus, chk.Threshold()
		out.SciFact = rep
		if feats != nil {
			for _, ps := range []struct {
				name  string
				pairs []eval.SupportPair
			}{{"scifact-rationale", set.Rationale}, {"scifact-abstract", set.Abstract}} {
				for _, p := range ps.pairs {
					feats.write(ps.name, p.Position%2, p.Kind, p.Kind == eval.PairSupport, p.Claim, p.Passages)
				}
			}
		}
	}
	if feats != nil && feats.err != nil {
		return fmt.Errorf("write %s: %w", *features, feats.err)
	}
	if *asJSON {
		if out.Contrastive == nil {
			return writeJSON(stdout, out.SciFact) // the report as it was before --contrastive
		}
		return writeJSON(stdout, out)
	}
	if out.Contrastive != nil {
		printContrastive(stdout, out.Contrastive)
	}
	if out.SciFact != nil {
		printSciFact(stdout, out.SciFact)
	}
	return nil
}

// featureWriter writes one JSON line per pair: where it is from, its half
// (0 tune, 1 confirm), kind and label, and the checker's feature vector.
type featureWriter struct {
	chk *support.Checker
	w   *bufio.Writer
	err error
}

func (fw *featureWriter) write(set string, half int, kind string, label bool, sentence string, passages []string) {
	_, f := fw.chk.Explain(sentence, passages)
	x := f.Vector()
	b, err := json.Marshal(map[string]any{"set": set, "half": half, "kind": kind, "label": label, "x": x[:]})
	if err == nil {
		_, err = fw.w.Write(append(b, '\n'))
	}
	if err != nil && fw.err == nil {
		fw.err = err
	}
}

func printContrastive(w io.Writer, r *eval.ContrastiveReport) {
	fmt.Fprintf(w, "contrastive set from %s: %d pairs; check p50 %.0f µs, p99 %.0f µs\n", r.File, r.Pairs, r.CheckP50Us, r.CheckP99Us)
	fmt.Fprintf(w, "%-14s %6s %9s", "half", "pairs", "balanced")
	for _, k := range eval.ContrastiveKinds {
		fmt.Fprintf(w, " %9s", k)
	}
	fmt.Fprintf(w, " %7s %7s\n", "ece", "brier")
	for _, h := range []struct {
		name string
		h    eval.ContrastiveHalf
	}{{"tune (even)", r.Tune}, {"confirm (odd)", r.Confirm}} {
		fmt.Fprintf(w, "%-14s %6d %9.4f", h.name, h.h.Pairs, h.h.BalancedAccuracy)
		for _, k := range eval.ContrastiveKinds {
			fmt.Fprintf(w, " %9.4f", h.h.Caught[k])
		}
		fmt.Fprintf(w, " %7.4f %7.4f\n", h.h.Calibration.ECE, h.h.Calibration.Brier)
	}
	fmt.Fprintf(w, "(original: share supported; the other kinds: share rejected)\n")
	for _, h := range []struct {
		name string
		h    eval.ContrastiveHalf
	}{{"tune", r.Tune}, {"confirm", r.Confirm}} {
		for _, k := range eval.ContrastiveKinds {
			fmt.Fprintf(w, "%-8s %-9s n=%-5d contradicted %.4f  %v\n", h.name, k, h.h.Kinds[k], h.h.Contradicted[k], h.h.Reasons[k])
		}
		printCalibration(w, h.name, h.h.Calibration)
	}
	fmt.Fprintln(w)
}

func printCalibration(w io.Writer, name string, c eval.Calibration) {
	fmt.Fprintf(w, "calibration (%s): ECE %.4f, Brier %.4f; bin: pairs, mean score, share supported\n", name, c.ECE, c.Brier)
	for _, b := range c.Bins {
		if b.Pairs > 0 {
			fmt.Fprintf(w, "  [%.1f, %.1f) %5d %.3f %.3f\n", b.Lo, b.Hi, b.Pairs, b.MeanScore, b.Positive)
		}
	}
}

func printSciFact(stdout io.Writer, rep *eval.SupportReport) {
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
		fmt.Fprintf(stdout, "contradicting rationales (not in the figures above): %d pairs, %d rejected (%.4f), %.4f judged contradicted; precision %.4f had they counted as negatives\n",
			c.Pairs, c.Rejected, c.RejectRate, s.s.ContradictedShare, c.PrecisionAsNegatives)
		if s.s.SpanPairs > 0 {
			fmt.Fprintf(stdout, "best span overlaps a rationale sentence: %.4f of %d supported positives\n", s.s.SpanHit, s.s.SpanPairs)
		}
		for _, kind := range []string{eval.PairSupport, eval.PairNEI, eval.PairContradict} {
			fmt.Fprintf(stdout, "verdicts on %-10s %v\n", kind+":", s.s.Reasons[kind])
		}
		printCalibration(stdout, "tune", s.s.CalibrationTune)
		printCalibration(stdout, "confirm", s.s.CalibrationConfirm)
		fmt.Fprintf(stdout, "threshold sweep (tune / confirm):\n%9s %15s %15s %15s %15s %10s\n", "threshold", "balanced", "accuracy", "precision", "recall", "contra_rej")
		for _, p := range s.s.Sweep {
			fmt.Fprintf(stdout, "%9.2f %7.4f/%.4f %7.4f/%.4f %7.4f/%.4f %7.4f/%.4f %10.4f\n", p.Threshold,
				p.Tune.BalancedAccuracy, p.Confirm.BalancedAccuracy, p.Tune.Accuracy, p.Confirm.Accuracy,
				p.Tune.Precision, p.Confirm.Precision, p.Tune.Recall, p.Confirm.Recall, p.ContradictRejects)
		}
		fmt.Fprintf(stdout, "best tune-half balanced accuracy at threshold %.2f\n", s.s.BestTuneThreshold)
	}
}
