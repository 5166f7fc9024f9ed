package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/collection"
	"github.com/groundedhq/grounded/ingest"
	"github.com/groundedhq/grounded/server"
)

func cmdIngest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ingest", flag.ContinueOnError)
	var common commonFlags
	common.register(fs)
	sync := fs.Bool("sync", false, "make the index match the folder: add new files, replace changed ones, remove deleted ones")
	textColumn := fs.String("text-column", "", "CSV/JSONL: the column holding each row's text (default: text, content, body, description or abstract; else all columns)")
	template := fs.String("template", "", `CSV/JSONL: each row's text from a template, for example "{title}: {body}" (\n is a line break)`)
	paths, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return fmt.Errorf("%w: ingest needs at least one file or folder", errUsage)
	}
	if *sync && len(paths) != 1 {
		return fmt.Errorf("%w: ingest --sync takes one folder", errUsage)
	}
	table := ingest.TableOptions{TextColumn: *textColumn, Template: strings.ReplaceAll(*template, `\n`, "\n")}
	if err := table.Validate(); err != nil {
		return fmt.Errorf("%w: %v", errUsage, grounded.ErrorMessage(err))
	}
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
	}
	a, err := openApp(ctx, appOptions{common: common, create: true, load: ingest.LoadOptions{Table: table}})
	if err != nil {
		return err
	}
	defer a.Close()
	var sum ingest.Summary
	if *sync {
		sum, err = a.col.Sync(ctx, paths[0], report(stdout, stderr))
	} else {
		sum, err = a.col.Ingest(ctx, paths, report(io.Discard, stderr))
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, sum)
	docs, chunks, err := a.col.Counts(ctx)
	if err != nil {
		return err
	}
	where := a.dir
	if a.col.Name() != collection.Default {
		where += " (collection " + a.col.Name() + ")"
	}
	fmt.Fprintf(stdout, "index %s: %d documents, %d chunks\n", where, docs, chunks)
	return nil
}

type queryFlags struct {
	commonFlags
	k     int
	json  bool
	where whereFlag
}

// whereFlag collects repeated --where key=value terms.
type whereFlag []string

func (w *whereFlag) String() string     { return strings.Join(*w, ",") }
func (w *whereFlag) Set(v string) error { *w = append(*w, v); return nil }

// askFlags add the generator's flags and streaming to queryFlags.
type askFlags struct {
	queryFlags
	llm           llmFlags
	stream        bool
	minConfidence float64
}

// check validates k and the filter before anything is opened.
func (q *queryFlags) check() (grounded.Filter, error) {
	if q.k < 1 || q.k > grounded.MaxK {
		return nil, fmt.Errorf("%w: -k must be between 1 and %d", errUsage, grounded.MaxK)
	}
	f, err := grounded.ParseFilter(q.where)
	if err != nil {
		return nil, fmt.Errorf("%w: --where: %s", errUsage, grounded.ErrorMessage(err))
	}
	return f, nil
}

func (q *queryFlags) register(fs *flag.FlagSet) {
	q.commonFlags.register(fs)
	fs.IntVar(&q.k, "k", 5, "passages to retrieve")
	fs.BoolVar(&q.json, "json", false, "print JSON")
	fs.Var(&q.where, "where", "only passages whose field matches: key=value (repeatable; value* matches a prefix)")
}

// openServing opens the app with its index loaded, filling an empty data
// folder from the default corpus first.
func openServing(ctx context.Context, common commonFlags, llm llmFlags, stderr io.Writer) (*app, error) {
	a, err := openStore(ctx, common, llm, stderr)
	if err != nil {
		return nil, err
	}
	if err := a.col.LoadIndex(ctx); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

func cmdSearch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("search", flag.ContinueOnError)
	var q queryFlags
	q.register(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	query, err := joinArgs("query", pos)
	if err != nil {
		return err
	}
	where, err := q.check()
	if err != nil {
		return err
	}
	a, err := openServing(ctx, q.commonFlags, llmFlags{}, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	hits, err := a.col.Search(ctx, grounded.SearchRequest{Query: query, K: q.k, Where: where})
	if err != nil {
		return err
	}
	if q.json {
		return writeJSON(stdout, server.SearchResponse{Results: grounded.Results(hits)})
	}
	if len(hits) == 0 {
		fmt.Fprintln(stdout, "No passages match.")
	}
	for i, h := range hits {
		fmt.Fprintf(stdout, "%d. %s  (score %.4f)\n   %s\n   %s\n\n", i+1, h.Source, h.Score, h.Heading(), snippet(h.Text, 240))
	}
	return nil
}

func cmdAsk(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ask", flag.ContinueOnError)
	var q askFlags
	q.register(fs)
	q.llm.register(fs)
	fs.BoolVar(&q.stream, "stream", false, "print sentences as they pass their check")
	fs.Float64Var(&q.minConfidence, "min-confidence", -1, "abstain below this confidence (0 to 1; default: the answerer's)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	question, err := joinArgs("question", pos)
	if err != nil {
		return err
	}
	where, err := q.check()
	if err != nil {
		return err
	}
	var minConf *float64
	if q.minConfidence != -1 {
		if !(q.minConfidence >= 0 && q.minConfidence <= 1) {
			return fmt.Errorf("%w: --min-confidence must be between 0 and 1", errUsage)
		}
		minConf = &q.minConfidence
	}
	a, err := openServing(ctx, q.commonFlags, q.llm, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	var emit func(grounded.Sentence) error
	if q.stream && !q.json {
		emit = func(s grounded.Sentence) error {
			mark := ""
			if !s.Supported {
				mark = " (unsupported)"
			}
			_, err := fmt.Fprintf(stdout, "%s %s%s\n", s.Text, citeMarks(s.Citations), mark)
			return err
		}
	}
	ans, err := a.col.Ask(ctx, grounded.AskRequest{Question: question, K: q.k, Where: where, MinConfidence: minConf, Emit: emit})
	if err != nil {
		return err
	}
	if q.json {
		return writeJSON(stdout, ans)
	}
	if ans.Withdrawn > 0 {
		fmt.Fprintf(stdout, "\n(the model broke off: the %d sentence(s) above are withdrawn; answering from the passages instead)\n\n", ans.Withdrawn)
		printAnswer(stdout, ans)
		return nil
	}
	if emit != nil && !ans.Abstained {
		fmt.Fprintln(stdout)
		printSources(stdout, ans)
		return nil
	}
	printAnswer(stdout, ans)
	return nil
}

func citeMarks(ns []int) string {
	var b strings.Builder
	for _, n := range ns {
		fmt.Fprintf(&b, "[%d]", n)
	}
	return b.String()
}

var reasons = map[string]string{
	grounded.ReasonNoEvidence:     "no indexed passage shares a content word with the question",
	grounded.ReasonWeakEvidence:   "the best passages do not cover what the question asks",
	grounded.ReasonNameMismatch:   "the passages that cover the question lack a name or number it mentions",
	grounded.ReasonNoAnswerType:   "the passages hold nothing of the kind the question asks for",
	grounded.ReasonNegation:       "the passages state the opposite of what the question asks",
	grounded.ReasonModelAbstained: "the model found no answer in the passages",
	grounded.ReasonUnsupported:    "too little of the model's answer is supported by the passages it cites",
}

func printAnswer(w io.Writer, ans *grounded.Answer) {
	if ans.Abstained {
		why := reasons[ans.Reason]
		if why == "" {
			why = ans.Reason
		}
		fmt.Fprintf(w, "No grounded answer: %s (%s).\n", why, ans.Reason)
		return
	}
	fmt.Fprintf(w, "%s\n\nConfidence: %.2f\n\n", ans.Answer, ans.Confidence)
	printSources(w, ans)
}

func printSources(w io.Writer, ans *grounded.Answer) {
	if ans.FallbackReason != "" {
		fmt.Fprintf(w, "(answered extractively: the model failed: %s)\n\n", ans.FallbackReason)
	}
	for _, u := range ans.Unsupported {
		verb := "dropped"
		for _, s := range ans.Sentences {
			if s.Text == u.Text && !s.Supported {
				verb = "flagged"
			}
		}
		fmt.Fprintf(w, "%s, not supported by its sources (%s): %q\n", verb, u.Reason, u.Text)
	}
	if len(ans.Unsupported) > 0 {
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "Sources:\n")
	for _, c := range ans.Citations {
		where := c.Title
		if c.Section != "" {
			where = grounded.Chunk{Title: c.Title, Section: c.Section}.Heading()
		}
		at := fmt.Sprintf("bytes %d-%d", c.Start, c.End)
		if c.Location != "" {
			at = c.Location + ", " + at
		}
		fmt.Fprintf(w, "[%d] %s (%s)\n    %s\n    %q\n", c.N, c.Source, at, where, c.Quote)
	}
}

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var common commonFlags
	var llm llmFlags
	common.register(fs)
	llm.register(fs)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	var access accessFlags // keys.go: API keys and limits
	access.register(fs)
	watch := fs.String("watch", "", "keep the index in sync with this folder while serving")
	watchEvery := fs.Duration("watch-interval", 2*time.Second, "how often --watch looks for changes")
	logFormat := fs.String("log-format", envOr("GROUNDED_LOG_FORMAT", "text"), "log format: text or json")
	logLevel := fs.String("log-level", envOr("GROUNDED_LOG_LEVEL", "info"), "log level: debug, info, warn or error")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: serve takes no arguments, got %q", errUsage, pos)
	}
	keys, err := access.check(*addr)
	if err != nil {
		return err
	}
	logger, err := server.NewLogger(stderr, *logFormat, *logLevel)
	if err != nil {
		return fmt.Errorf("%w: %s", errUsage, grounded.ErrorMessage(err))
	}
	a, err := openServing(ctx, common, llm, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	// GET /readyz: ready once every index is loaded and a configured model
	// has its settings (openApp checked them; the model is not called).
	var loaded atomic.Bool
	generator := "extractive"
	if llm.kind != "" && llm.kind != "extractive" {
		generator = llm.kind + "/" + llm.model
	}
	isReady := func() error {
		switch {
		case !loaded.Load():
			return errors.New("loading the indexes")
		case generator != "extractive" && strings.TrimSpace(llm.model) == "":
			return errors.New("no model named: set --llm-model")
		}
		return nil
	}
	// A model call may take its timeout three times over (two retries); the
	// request's own deadline must leave it that room.
	reqTimeout := 30 * time.Second
	if llm.kind != "" && llm.kind != "extractive" {
		reqTimeout = max(reqTimeout, 3*llm.timeout+10*time.Second)
	}
	// Every collection's index is loaded before the server takes requests.
	names, err := a.set.Names()
	if err != nil {
		return err
	}
	for _, name := range names {
		col, err := a.set.Get(name)
		if err == nil {
			err = col.LoadIndex(ctx)
		}
		if err != nil {
			return fmt.Errorf("collection %s: %w", name, err)
		}
	}
	loaded.Store(true)
	cfg := server.Config{Collections: collections{a.set}, Logger: logger, RequestTimeout: reqTimeout,
		Ready: isReady, Generator: generator}
	access.apply(&cfg, keys)
	access.logStart(logger, *addr, keys)
	h := server.New(cfg)
	if *watch != "" {
		if _, err := os.Stat(*watch); err != nil {
			return fmt.Errorf("--watch: %w", err)
		}
		abs, err := filepath.Abs(*watch)
		if err != nil {
			return fmt.Errorf("--watch: %w", err)
		}
		w := &watcher{col: a.col, root: abs, interval: max(*watchEvery, 100*time.Millisecond), log: logger}
		wctx, stopWatch := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); w.run(wctx) }()
		defer func() { stopWatch(); <-done }() // before the store closes
	}
	ready := make(chan string, 1)
	go func() {
		if at, ok := <-ready; ok {
			logger.Info("serving", "addr", at, "chunks", a.col.Len(), "data", a.dir)
		}
	}()
	err = server.Serve(ctx, *addr, h, 10*time.Second, ready)
	close(ready)
	if err == nil {
		logger.Info("stopped")
	}
	return err
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func snippet(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	cut := strings.LastIndexByte(s[:n], ' ')
	if cut <= 0 {
		cut = n
	}
	return s[:cut] + " ..."
}
