package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/groundedhq/grounded"
)

// cmdCheck: grounded check (--answer TEXT | --sentence S...) (--passage
// FILE... | --doc ID... | --chunk ID... | --question Q [-k N] [--where K=V])
// [--json] [--collection C]. It checks an answer written elsewhere against
// the evidence (collection.Collection.Check) and prints, per sentence, the
// verdict, score, reason and evidence quote; --json prints the body POST
// /v1/check answers with. Saying what to check wrongly is bad usage (exit
// 2); unsupported sentences are a result, not an error (exit 0).
func cmdCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	var common commonFlags
	var sentences, passages, docs, chunks listFlag
	var where whereFlag
	common.register(fs)
	answer := fs.String("answer", "", "the answer: text whose sentences end with [n] markers (- reads stdin)")
	fs.Var(&sentences, "sentence", "one sentence of the answer, with its markers (repeatable; instead of --answer)")
	fs.Var(&passages, "passage", "a file whose text is passage n, in order from 1 (repeatable)")
	fs.Var(&docs, "doc", "a document id of the collection whose text is passage n (repeatable)")
	fs.Var(&chunks, "chunk", "a chunk id of the collection that is passage n (repeatable)")
	question := fs.String("question", "", "retrieve the passages for this question from the collection")
	k := fs.Int("k", 0, "passages retrieved for --question (default 5)")
	fs.Var(&where, "where", "--question: only passages whose field matches: key=value (repeatable)")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: check takes no arguments (got %q); give the answer with --answer", errUsage, strings.Join(pos, " "))
	}
	filter, err := grounded.ParseFilter(where)
	if err != nil {
		return fmt.Errorf("%w: --where: %s", errUsage, grounded.ErrorMessage(err))
	}
	req := grounded.CheckRequest{Answer: *answer, Sentences: sentences, DocIDs: docs, ChunkIDs: chunks, Question: *question, K: *k, Where: filter}
	if req.Answer == "-" {
		data, err := io.ReadAll(io.LimitReader(os.Stdin, grounded.MaxCheckAnswerBytes+1))
		if err != nil {
			return fmt.Errorf("read the answer from stdin: %w", err)
		}
		req.Answer = string(data)
	}
	for _, path := range passages {
		p, err := readPassage(path)
		if err != nil {
			return err
		}
		req.Passages = append(req.Passages, p)
	}
	if err := req.Check(); err != nil {
		return fmt.Errorf("%w: %s", errUsage, grounded.ErrorMessage(err))
	}
	// Inline passages need no index; documents and chunks are read from
	// the store; a question needs the search index.
	var a *app
	switch {
	case len(req.Passages) > 0:
		a, err = openApp(ctx, appOptions{common: common})
	case strings.TrimSpace(req.Question) != "":
		a, err = openServing(ctx, common, llmFlags{}, stderr)
	default:
		a, err = openStore(ctx, common, llmFlags{}, stderr)
	}
	if err != nil {
		return err
	}
	defer a.Close()
	res, err := a.col.Check(ctx, req)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, res)
	}
	printCheck(stdout, res, passages)
	return nil
}

// readPassage reads a passage file whole: evidence offsets are byte
// offsets into it.
func readPassage(path string) (grounded.CheckPassage, error) {
	f, err := os.Open(path)
	if err != nil {
		return grounded.CheckPassage{}, fmt.Errorf("passage: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, grounded.MaxCheckEvidenceBytes+1))
	if err != nil {
		return grounded.CheckPassage{}, fmt.Errorf("passage %s: %w", path, err)
	}
	if len(data) > grounded.MaxCheckEvidenceBytes {
		return grounded.CheckPassage{}, fmt.Errorf("passage %s is over %d bytes", path, grounded.MaxCheckEvidenceBytes)
	}
	return grounded.CheckPassage{Text: string(data), Source: path}, nil
}

// printCheck writes each sentence with its verdict, score, reason and
// evidence, then the passages the numbers name:
//
//	Score 0.63: 1 of 2 sentences supported.
//
//	1. supported    0.92  Refunds are paid within 14 days of the return. [1]
//	   passage 1 supports it
//	   [1] bytes 10-57: "Refunds are paid within 14 days of the return."
func printCheck(w io.Writer, res *grounded.CheckResult, files []string) {
	fmt.Fprintf(w, "Score %.2f: %d of %d sentences supported", res.Score, res.Supported, len(res.Sentences))
	if res.Contradicted > 0 {
		fmt.Fprintf(w, ", %d contradicted", res.Contradicted)
	}
	if res.ReattributedCitations > 0 {
		fmt.Fprintf(w, ", %d re-attributed", res.ReattributedCitations)
	}
	if res.InvalidCitations > 0 {
		fmt.Fprintf(w, ", %d markers naming no passage", res.InvalidCitations)
	}
	fmt.Fprint(w, ".\n\n")
	for i, st := range res.Sentences {
		fmt.Fprintf(w, "%d. %-12s %.2f  %s %s\n", i+1, st.Verdict, st.Score, st.Text, citeMarks(st.Citations))
		fmt.Fprintf(w, "   %s\n", st.Reason)
		if ev := st.Evidence; ev != nil {
			fmt.Fprintf(w, "   [%d] bytes %d-%d: %q\n", ev.Passage, ev.Start, ev.End, ev.Quote)
		}
	}
	if len(files) > 0 {
		fmt.Fprintln(w, "\nPassages:")
		for i, f := range files {
			fmt.Fprintf(w, "[%d] %s\n", i+1, f)
		}
	}
	if len(res.Passages) > 0 {
		fmt.Fprintln(w, "\nPassages:")
		for _, p := range res.Passages {
			id := p.ChunkID
			if id == "" {
				id = "document " + p.DocID
			}
			fmt.Fprintf(w, "[%d] %s (%s, bytes %d-%d)\n", p.N, p.Source, id, p.Start, p.End)
		}
	}
	if res.Passages != nil && len(res.Passages) == 0 {
		fmt.Fprintln(w, "\n(no passages were found for the question)")
	}
}
