package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/eval"
)

// cmdEvalQuestions scores the answerer on a support-question set (the
// pydocs-support JSONL format) over a folder of documents: it ingests --docs
// into a temporary data folder (or reads --data when that already holds the
// index), asks every question, and reports hit and abstain rates, per-kind
// hit rates, where retrieval put the answer, and confidence calibration, for
// all questions and for the tune (even ids) and confirm (odd ids) halves.
func cmdEvalQuestions(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval questions", flag.ContinueOnError)
	file := fs.String("questions", "", "questions JSONL file")
	docs := fs.String("docs", "", "folder of documents the questions are about")
	data := fs.String("data", "", "a data folder that already holds the index of --docs (default: a temporary one)")
	asJSON := fs.Bool("json", false, "print JSON")
	limit := fs.Int("limit", 0, "ask only the first N questions")
	half := fs.String("half", "", "ask only one half: tune (even ids) or confirm (odd ids)")
	dump := fs.String("dump", "", "write each question's candidate sentences and features to this JSONL file (for answer/train)")
	var tune tuningFlags
	tune.register(fs)
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 || *file == "" || (*docs == "" && *data == "") || (*half != "" && *half != "tune" && *half != "confirm") {
		return fmt.Errorf("%w: eval questions --questions FILE (--docs DIR | --data DIR) [--json] [--limit N] [--half tune|confirm]", errUsage)
	}
	qs, err := eval.LoadQuestions(*file)
	if err != nil {
		return err
	}
	began := time.Now()
	dir, temp := *data, *data == ""
	if temp {
		if dir, err = os.MkdirTemp("", "grounded-eval-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	a, err := openApp(ctx, appOptions{common: commonFlags{data: dir, emb: embedderFlags{kind: tune.embedder}}, tune: &tune})
	if err != nil {
		return err
	}
	defer a.Close()
	if temp {
		if _, err := a.col.Ingest(ctx, []string{*docs}, report(io.Discard, stderr)); err != nil {
			return err
		}
	}
	if err := a.col.LoadIndex(ctx); err != nil {
		return err
	}
	if *dump != "" {
		return dumpQuestions(ctx, a, qs, *dump)
	}
	res, err := eval.Questions(ctx, qs, func(ctx context.Context, q string) (*grounded.Answer, error) {
		return a.col.Ask(ctx, grounded.AskRequest{Question: q})
	}, func(ctx context.Context, q string, k int) ([]grounded.Hit, error) {
		return a.col.Search(ctx, grounded.SearchRequest{Query: q, K: k})
	}, eval.QuestionsOptions{Limit: *limit, Half: *half})
	if err != nil {
		return err
	}
	res.File = *file
	res.Seconds = float64(time.Since(began).Milliseconds()) / 1000
	if *asJSON {
		return writeJSON(stdout, res)
	}
	printQuestions(stdout, res)
	return nil
}

func printQuestions(w io.Writer, res *eval.QuestionsResult) {
	fmt.Fprintf(w, "file %s (%.1f s, ask p50 %.2f ms)\n", res.File, res.Seconds, res.P50Ms)
	fmt.Fprintf(w, "%-13s %5s %8s %8s %13s %9s %8s %8s %8s %6s\n", "questions", "n", "hit", "abstain", "false_abstain", "accuracy", "chunk@5", "page@1", "page@5", "ece")
	for _, r := range []struct {
		name string
		r    *eval.QuestionsReport
	}{{"all", res.All}, {"tune half", res.Tune}, {"confirm half", res.Confirm}} {
		fmt.Fprintf(w, "%-13s %5d %8.4f %8.4f %13.4f %9.4f %8.4f %8.4f %8.4f %6.4f\n", r.name, r.r.Questions, r.r.HitRate, r.r.AbstainRate, r.r.FalseAbstainRate, r.r.Accuracy, r.r.ChunkRecall5, r.r.PageRecall1, r.r.PageRecall5, r.r.Calibration.ECE)
	}
	var kinds []string
	for k := range res.All.ByKind {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	fmt.Fprint(w, "hit rate by kind:")
	for _, k := range kinds {
		fmt.Fprintf(w, " %s %.2f", k, res.All.ByKind[k])
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "calibration (answers given): confidence bin, n, mean confidence, share right")
	printBins(w, res.All.Calibration)
	for _, r := range res.Results {
		if !r.OK {
			fmt.Fprintf(w, "miss %s (%s, chunk rank %d, page rank %d): %s\n", r.ID, r.Kind, r.ChunkRank, r.PageRank, r.Why)
		}
	}
}

// printBins prints a calibration's non-empty bins.
func printBins(w io.Writer, c eval.Calibration) {
	for _, b := range c.Bins {
		if b.Pairs > 0 {
			fmt.Fprintf(w, "  [%.1f, %.1f) %5d %.3f %.3f\n", b.Lo, b.Hi, b.Pairs, b.MeanScore, b.Positive)
		}
	}
}
