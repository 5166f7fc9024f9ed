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
	"github.com/groundedhq/grounded/eval"
)

func cmdEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: eval needs a kind: retrieval", errUsage)
	}
	switch args[0] {
	case "retrieval":
		return cmdEvalRetrieval(ctx, args[1:], stdout, stderr)
	}
	return fmt.Errorf("%w: unknown eval kind %q", errUsage, args[0])
}

// tuningFlags expose retrieval parameters for experiments; zero keeps the
// defaults documented in package retrieval.
type tuningFlags struct {
	k1, b, lexW, vecW, rrfK float64
}

func (t *tuningFlags) register(fs *flag.FlagSet) {
	fs.Float64Var(&t.k1, "bm25-k1", 0, "BM25 k1 (0: default)")
	fs.Float64Var(&t.b, "bm25-b", -1, "BM25 b (-1: default)")
	fs.Float64Var(&t.lexW, "lexical-weight", 0, "fusion weight of BM25 (0 with vector-weight 0: defaults)")
	fs.Float64Var(&t.vecW, "vector-weight", 0, "fusion weight of vectors")
	fs.Float64Var(&t.rrfK, "rrf-k", 0, "reciprocal rank fusion constant (0: default)")
}

func (t *tuningFlags) apply(a *app) {
	a.bm25.K1 = t.k1
	a.bm25.B = t.b
	a.fusion.LexicalWeight, a.fusion.VectorWeight, a.fusion.K = t.lexW, t.vecW, t.rrfK
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
	tmp, err := os.MkdirTemp("", "grounded-eval-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	a, err := openApp(tmp)
	if err != nil {
		return err
	}
	defer a.Close()
	tune.apply(a)

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
	p, err := a.pipeline(stderr)
	if err != nil {
		return err
	}
	sum, err := p.FS(ctx, files, "beir")
	if err != nil {
		return err
	}
	if err := a.loadIndex(ctx); err != nil {
		return err
	}
	ingestTime := time.Since(began)
	var progress io.Writer
	if isTerminal(stderr) {
		progress = stderr
	}
	rep, err := eval.Retrieval(ctx, b, a.index.Search, func(h grounded.Hit) string {
		id, _ := url.PathUnescape(strings.TrimSuffix(strings.TrimPrefix(h.Source, "beir/"), ".md"))
		return id
	}, eval.RetrievalOptions{Limit: *limit, Progress: progress})
	if err != nil {
		return err
	}
	rep.Dataset = *dir
	rep.Chunks = a.index.Len()
	rep.IngestSeconds = float64(ingestTime.Milliseconds()) / 1000
	if *asJSON {
		return writeJSON(stdout, rep)
	}
	rep.PerQuery = nil
	fmt.Fprintf(stdout, "dataset     %s\ndocuments   %d (%d failed to load), %d chunks\nqueries     %d\nnDCG@10     %.4f\nRecall@100  %.4f\nMRR@10      %.4f\ningest      %.2f s\nquery       p50 %.2f ms, p99 %.2f ms\n",
		rep.Dataset, rep.Documents, sum.Failed, rep.Chunks, rep.Queries, rep.NDCG10, rep.Recall100, rep.MRR10, rep.IngestSeconds, rep.QueryP50Ms, rep.QueryP99Ms)
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
