package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"testing/fstest"
	"time"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/answer"
	"github.com/groundedhq/grounded/collection"
	"github.com/groundedhq/grounded/eval"
	"github.com/groundedhq/grounded/ingest"
	"github.com/groundedhq/grounded/retrieval"
)

func cmdEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: eval needs a kind: retrieval", errUsage)
	}
	switch args[0] {
	case "retrieval":
		return cmdEvalRetrieval(ctx, args[1:], stdout, stderr)
	case "qa":
		return cmdEvalQA(ctx, args[1:], stdout, stderr)
	case "support":
		return cmdEvalSupport(ctx, args[1:], stdout, stderr)
	case "questions":
		return cmdEvalQuestions(ctx, args[1:], stdout, stderr)
	}
	return fmt.Errorf("%w: unknown eval kind %q", errUsage, args[0])
}

// tuningFlags expose retrieval parameters for experiments; zero keeps the
// defaults documented in package retrieval.
type tuningFlags struct {
	k1, b, lexW, vecW, rrfK float64
	minConfidence           float64
	k                       int
	rm3Docs, rm3Terms       int
	rm3Weight               float64
	embedder                string
}

func (t *tuningFlags) register(fs *flag.FlagSet) {
	fs.Float64Var(&t.k1, "bm25-k1", 0, "BM25 k1 (0: default)")
	fs.Float64Var(&t.b, "bm25-b", 0, "BM25 b (0: default)")
	fs.Float64Var(&t.lexW, "lexical-weight", 0, "fusion weight of BM25 (0 with vector-weight 0: defaults)")
	fs.Float64Var(&t.vecW, "vector-weight", 0, "fusion weight of vectors")
	fs.Float64Var(&t.rrfK, "rrf-k", 0, "reciprocal rank fusion constant (0: default)")
	fs.Float64Var(&t.minConfidence, "min-confidence", 0, "answerer's abstention point (0: default)")
	fs.IntVar(&t.k, "k", 0, "passages the answerer reads (0: default)")
	fs.StringVar(&t.embedder, "embedder", "hash", "offline embedder: hash or glove")
	fs.IntVar(&t.rm3Docs, "rm3-docs", 0, "RM3 feedback chunks (0: off)")
	fs.IntVar(&t.rm3Terms, "rm3-terms", 0, "RM3 expansion terms (0: 10)")
	fs.Float64Var(&t.rm3Weight, "rm3-weight", 0, "RM3 weight of the original query (0: 0.5)")
}

func (t *tuningFlags) apply(cfg *collection.Config) {
	cfg.BM25.K1 = t.k1
	cfg.BM25.B = t.b
	cfg.Fusion.LexicalWeight, cfg.Fusion.VectorWeight, cfg.Fusion.K = t.lexW, t.vecW, t.rrfK
	cfg.RM3 = retrieval.RM3Params{FeedbackDocs: t.rm3Docs, FeedbackTerms: t.rm3Terms, OriginalWeight: t.rm3Weight}
	cfg.Answer = answer.Config{MinConfidence: t.minConfidence, K: t.k}
}

func cmdEvalRetrieval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval retrieval", flag.ContinueOnError)
	dir := fs.String("beir", "", "BEIR folder (corpus.jsonl, queries.jsonl, qrels/test.tsv)")
	asJSON := fs.Bool("json", false, "print JSON")
	limit := fs.Int("limit", 0, "evaluate only the first N judged queries")
	var tune tuningFlags
	tune.register(fs)
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 || *dir == "" {
		return fmt.Errorf("%w: eval retrieval --beir DIR [--json] [--limit N]", errUsage)
	}
	b, err := eval.LoadBEIR(*dir)
	if err != nil {
		return err
	}

	// Each BEIR document becomes a Markdown file "# title\n\ntext", so the
	// title is the document's heading and is searched with its text.
	files := fstest.MapFS{}
	for _, d := range b.Corpus {
		var body strings.Builder
		if t := strings.Join(strings.Fields(d.Title), " "); t != "" {
			body.WriteString("# " + t + "\n\n")
		}
		body.WriteString(d.Text)
		body.WriteString("\n")
		files[url.PathEscape(d.ID)+".md"] = &fstest.MapFile{Data: []byte(body.String())}
	}
	began := time.Now()
	a, sum, err := evalIndex(ctx, tune, files, "beir", stderr)
	if err != nil {
		return err
	}
	defer a.closeAndRemove()
	ingestTime := time.Since(began)
	progress := terminalOrNil(stderr)
	// The evaluation ranks 200 passages a query, past a request's k limit:
	// it searches the collection's index itself.
	ix, err := a.col.Index(ctx)
	if err != nil {
		return err
	}
	search := func(ctx context.Context, query string, k int) ([]grounded.Hit, error) {
		return ix.Search(ctx, query, k, nil)
	}
	rep, err := eval.Retrieval(ctx, b, search, func(h grounded.Hit) string {
		id, _ := url.PathUnescape(strings.TrimSuffix(strings.TrimPrefix(h.Source, "beir/"), ".md"))
		return id
	}, eval.RetrievalOptions{Limit: *limit, Progress: progress})
	if err != nil {
		return err
	}
	rep.Dataset = *dir
	rep.Chunks = ix.Len()
	rep.IngestSeconds = float64(ingestTime.Milliseconds()) / 1000
	if *asJSON {
		return writeJSON(stdout, rep)
	}
	rep.PerQuery = nil
	fmt.Fprintf(stdout, "dataset     %s\ndocuments   %d (%d failed to load), %d chunks\nqueries     %d\nnDCG@10     %.4f (even queries %.4f, odd %.4f)\nRecall@100  %.4f\nMRR@10      %.4f\ningest      %.2f s\nquery       p50 %.2f ms, p99 %.2f ms\n",
		rep.Dataset, rep.Documents, sum.Failed, rep.Chunks, rep.Queries, rep.NDCG10, rep.NDCG10Even, rep.NDCG10Odd, rep.Recall100, rep.MRR10, rep.IngestSeconds, rep.QueryP50Ms, rep.QueryP99Ms)
	return nil
}

// evalIndex ingests files (named prefix/NAME) into a temporary data folder
// with the tuning applied and loads its index. closeAndRemove undoes it.
func evalIndex(ctx context.Context, tune tuningFlags, files fstest.MapFS, prefix string, stderr io.Writer) (*app, ingest.Summary, error) {
	tmp, err := os.MkdirTemp("", "grounded-eval-")
	if err != nil {
		return nil, ingest.Summary{}, err
	}
	a, err := openApp(ctx, appOptions{common: commonFlags{data: tmp, emb: embedderFlags{kind: tune.embedder}}, tune: &tune})
	if err != nil {
		os.RemoveAll(tmp)
		return nil, ingest.Summary{}, err
	}
	sum, err := a.col.IngestFS(ctx, files, prefix, report(io.Discard, stderr))
	if err == nil {
		err = a.col.LoadIndex(ctx)
	}
	if err != nil {
		a.closeAndRemove()
		return nil, sum, err
	}
	return a, sum, nil
}

// terminalOrNil returns w when it is a terminal (for progress lines), else nil.
func terminalOrNil(w io.Writer) io.Writer {
	if isTerminal(w) {
		return w
	}
	return nil
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

func cmdEvalQA(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval qa", flag.ContinueOnError)
	file := fs.String("squad", "", "SQuAD 2.0 JSON file")
	asJSON := fs.Bool("json", false, "print JSON")
	limit := fs.Int("limit", 0, "ask only the first N questions")
	half := fs.String("half", "", "ask only one half of the articles: tune (even) or confirm (odd)")
	dump := fs.String("dump", "", "write each question's candidate sentences and features to this JSONL file (for answer/train)")
	var tune tuningFlags
	tune.register(fs)
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 || *file == "" || (*half != "" && *half != "tune" && *half != "confirm") {
		return fmt.Errorf("%w: eval qa --squad FILE [--json] [--limit N] [--half tune|confirm]", errUsage)
	}
	sq, err := eval.LoadSQuAD(*file)
	if err != nil {
		return err
	}

	// Each paragraph becomes a Markdown document titled with its article.
	files := fstest.MapFS{}
	for _, p := range sq.Paragraphs() {
		title := strings.ReplaceAll(p.Title, "_", " ")
		files[p.Key+".md"] = &fstest.MapFile{Data: []byte("# " + title + "\n\n" + p.Context + "\n")}
	}
	began := time.Now()
	a, _, err := evalIndex(ctx, tune, files, "squad", stderr)
	if err != nil {
		return err
	}
	defer a.closeAndRemove()
	if *dump != "" {
		return dumpSQuAD(ctx, a, sq, *dump)
	}
	progress := terminalOrNil(stderr)
	res, err := eval.QA(ctx, sq, func(ctx context.Context, q string) (*grounded.Answer, error) {
		return a.col.Ask(ctx, grounded.AskRequest{Question: q})
	}, func(c grounded.Citation) string {
		return strings.TrimSuffix(strings.TrimPrefix(c.Source, "squad/"), ".md")
	}, eval.QAOptions{Limit: *limit, Half: *half, Progress: progress})
	if err != nil {
		return err
	}
	res.File = *file
	res.Seconds = float64(time.Since(began).Milliseconds()) / 1000
	if *asJSON {
		return writeJSON(stdout, res)
	}
	fmt.Fprintf(stdout, "file %s (%.1f s, ask p50 %.2f ms)\n", res.File, res.Seconds, res.P50Ms)
	fmt.Fprintf(stdout, "%-14s %9s %13s %12s %13s %14s %17s\n", "questions", "n", "answer_recall", "citation_hit", "noans_abstain", "hasans_abstain", "grounded_accuracy")
	for _, r := range []struct {
		name string
		r    *eval.QAReport
	}{{"all", res.All}, {"tune half", res.Tune}, {"confirm half", res.Confirm}} {
		fmt.Fprintf(stdout, "%-14s %9d %13.4f %12.4f %13.4f %14.4f %17.4f\n", r.name, r.r.Questions, r.r.AnswerRecall, r.r.CitationHit, r.r.NoAnsAbstain, r.r.HasAnsAbstain, r.r.GroundedAccuracy)
	}
	fmt.Fprintf(stdout, "abstentions by reason: %v\n", res.Abstains)
	fmt.Fprintf(stdout, "calibration of the answers given (ECE: all %.4f, tune %.4f, confirm %.4f): confidence bin, n, mean confidence, share with a gold answer\n", res.All.Calibration.ECE, res.Tune.Calibration.ECE, res.Confirm.Calibration.ECE)
	printBins(stdout, res.All.Calibration)
	return nil
}
