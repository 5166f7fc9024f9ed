package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/groundedhq/grounded"
)

// listFlag collects a repeated flag's values.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// cmdSummarize: grounded summarize (--doc ID... | --source PATH... |
// --query TEXT) [--length N] [-k N] [--where K=V] [--json] [--collection C]
// [LLM FLAGS]; words outside the flags join the query. Saying what to summarize wrongly, or a length out of range,
// is bad usage (exit 2); a document or source the collection lacks is an
// error (exit 1).
func cmdSummarize(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("summarize", flag.ContinueOnError)
	var common commonFlags
	var llm llmFlags
	var docs, sources listFlag
	var where whereFlag
	common.register(fs)
	llm.register(fs)
	fs.Var(&docs, "doc", "document id (repeatable)")
	fs.Var(&sources, "source", "document source, the path it was ingested from; a trailing * matches a prefix (repeatable)")
	query := fs.String("query", "", "summarize what the best passages for this query say")
	k := fs.Int("k", 0, fmt.Sprintf("passages retrieved for --query (default %d)", grounded.DefaultSummaryK))
	length := fs.Int("length", grounded.DefaultSummaryLength, "summary sentences")
	fs.Var(&where, "where", "only passages whose field matches: key=value (repeatable; value* matches a prefix)")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	// Words outside flags are the query's ("--query MVCC and locks"
	// unquoted), so flags may come before or after them as with ask.
	if len(pos) > 0 {
		*query = strings.TrimSpace(*query + " " + strings.Join(pos, " "))
	}
	if *length < 1 {
		return fmt.Errorf("%w: --length must be between 1 and %d", errUsage, grounded.MaxSummaryLength)
	}
	filter, err := grounded.ParseFilter(where)
	if err != nil {
		return fmt.Errorf("%w: --where: %s", errUsage, grounded.ErrorMessage(err))
	}
	req := grounded.SummaryRequest{DocIDs: docs, Sources: sources, Query: *query, K: *k, Length: *length, Where: filter}
	if err := req.Check(); err != nil {
		return fmt.Errorf("%w: %s", errUsage, grounded.ErrorMessage(err))
	}
	// Only a query needs the search index; documents are read from the store.
	open := openServing
	if strings.TrimSpace(*query) == "" {
		open = openStore
	}
	a, err := open(ctx, common, llm, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	sum, err := a.col.Summarize(ctx, req)
	if grounded.ErrorCode(err) == grounded.ENOTFOUND && len(sources) > 0 {
		// Ingested files are stored under their absolute path.
		if abs := absSources(sources); !slices.Equal(abs, sources) {
			req.Sources = abs
			if sum2, err2 := a.col.Summarize(ctx, req); grounded.ErrorCode(err2) != grounded.ENOTFOUND {
				sum, err = sum2, err2
			}
		}
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, sum)
	}
	printSummary(stdout, sum)
	return nil
}

// openStore opens the app without loading the search index, filling an
// empty data folder from the default corpus first.
func openStore(ctx context.Context, common commonFlags, llm llmFlags, stderr io.Writer) (*app, error) {
	a, err := openApp(ctx, appOptions{common: common, llm: llm})
	if err != nil {
		return nil, err
	}
	if err := a.ensureCorpus(ctx, stderr); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// absSources makes relative sources absolute, keeping a trailing "*" and
// the separator before it ("docs/*" becomes "/home/me/docs/*").
func absSources(sources []string) []string {
	out := make([]string, len(sources))
	for i, s := range sources {
		out[i] = s
		p, star := strings.CutSuffix(s, "*")
		if filepath.IsAbs(p) || p == "" {
			continue
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			continue
		}
		if strings.HasSuffix(p, string(filepath.Separator)) {
			abs += string(filepath.Separator)
		}
		if star {
			abs += "*"
		}
		out[i] = abs
	}
	return out
}

// printSummary writes the summary, then its sources as ask does, then what
// it covered.
func printSummary(w io.Writer, sum *grounded.Summary) {
	cov := sum.Coverage
	if len(sum.Sentences) == 0 {
		why := cov.Note
		if why == "" {
			why = "nothing to summarize"
		}
		fmt.Fprintf(w, "No summary: %s.\n", why)
		return
	}
	fmt.Fprintf(w, "%s\n\n", sum.Summary)
	printSources(w, &grounded.Answer{Citations: sum.Citations, Sentences: sum.Sentences, Unsupported: sum.Unsupported, FallbackReason: sum.FallbackReason})
	fmt.Fprintf(w, "\nCovered: %d document(s), %d of %d chunks, %d sentences considered (%s).\n",
		cov.Documents, cov.ChunksSummarized, cov.Chunks, cov.SentencesConsidered, sum.Generator)
	switch {
	case cov.Truncated:
		fmt.Fprintf(w, "Truncated: %s.\n", cov.Note)
	case cov.Note != "":
		fmt.Fprintf(w, "Note: %s.\n", cov.Note)
	}
}
