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
	"runtime"
	"sync"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/batch"
	"github.com/groundedhq/grounded/server"
)

// cmdBatch runs a JSONL file of jobs (ask, search, summarize, extract, check) with a
// bounded pool and appends one result line per job to --out; a second run
// with the same --out continues where the first stopped (package batch).
func cmdBatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("batch", flag.ContinueOnError)
	var common commonFlags
	var llm llmFlags
	common.register(fs)
	llm.register(fs)
	inPath := fs.String("in", "", "the jobs: a JSONL file, one job a line (- reads stdin)")
	outPath := fs.String("out", "", "the results: a JSONL file, appended to; the ids it holds are skipped")
	concurrency := fs.Int("concurrency", runtime.GOMAXPROCS(0), "jobs run at once")
	retry := fs.Bool("retry-errors", false, "run again the jobs whose lines in --out are errors (their old lines are removed)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return fmt.Errorf("%w: batch takes no arguments, got %q", errUsage, pos)
	case *inPath == "" || *outPath == "":
		return fmt.Errorf("%w: batch needs --in FILE and --out FILE", errUsage)
	case *concurrency < 1:
		return fmt.Errorf("%w: --concurrency must be at least 1", errUsage)
	}
	if err := checkOutputDir(*outPath); err != nil {
		return err
	}
	in, base, err := openInput(*inPath, *outPath)
	if err != nil {
		return err
	}
	defer in.Close()
	a, err := openServing(ctx, common, llm, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	sum, err := batch.Run(ctx, in, *outPath, batch.Config{
		Handlers:    batchHandlers(a, base),
		Concurrency: *concurrency,
		RetryErrors: *retry,
		Progress:    stderr,
		Terminal:    isTerminal(stderr) && os.Getenv("TERM") != "dumb", // eval.go
	})
	printBatchSummary(stdout, sum, *outPath)
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("interrupted: %d jobs not run; run the same command again to continue", sum.NotRun)
	}
	return err
}

// openInput opens the jobs file (or stdin for "-") and returns the folder a
// job's schema_file is relative to. The output may not be the input.
func openInput(inPath, outPath string) (io.ReadCloser, string, error) {
	if inPath == "-" {
		wd, err := os.Getwd()
		return io.NopCloser(os.Stdin), wd, err
	}
	f, err := os.Open(inPath)
	if err != nil {
		return nil, "", fmt.Errorf("batch input: %w", err)
	}
	inInfo, err := f.Stat()
	if err == nil && inInfo.IsDir() {
		err = errors.New("is a folder")
	}
	if err != nil {
		f.Close()
		return nil, "", fmt.Errorf("batch input %s: %w", inPath, err)
	}
	if outInfo, err := os.Stat(outPath); err == nil && os.SameFile(inInfo, outInfo) {
		f.Close()
		return nil, "", fmt.Errorf("%w: --out is the --in file", errUsage)
	}
	return f, filepath.Dir(inPath), nil
}

// checkOutputDir fails early, before the index is opened, when the output's
// folder is missing.
func checkOutputDir(outPath string) error {
	st, err := os.Stat(filepath.Dir(outPath))
	if err == nil && !st.IsDir() {
		err = errors.New("not a folder")
	}
	if err != nil {
		return fmt.Errorf("open output %s: %w", outPath, err)
	}
	return nil
}

func printBatchSummary(w io.Writer, sum batch.Summary, outPath string) {
	fmt.Fprintf(w, "batch: %s\n", sum)
	if sum.TornBytes > 0 {
		fmt.Fprintf(w, "batch: cut a torn last line (%d bytes, left by a run that died) from %s; its job ran again\n", sum.TornBytes, outPath)
	}
	if sum.RetriedErrors > 0 {
		fmt.Fprintf(w, "batch: removed %d error lines from %s to run their jobs again\n", sum.RetriedErrors, outPath)
	}
	if sum.SkippedErrors > 0 {
		fmt.Fprintf(w, "batch: %d of the skipped jobs had failed; --retry-errors runs them again\n", sum.SkippedErrors)
	}
	if sum.Errors > 0 {
		fmt.Fprintf(w, "batch: %d jobs failed: their lines in %s have \"ok\": false\n", sum.Errors, outPath)
	}
}

// The jobs' fields are decoded strictly (batch.Decode): an ask or search
// job's into grounded.AskRequest or SearchRequest, a check job's into
// grounded.CheckRequest (its evidence inline or from the batch's
// collection), an extract job's into
// extractJob, which gives the schema inline or as a file, and one document.
type extractJob struct {
	Schema     json.RawMessage `json:"schema"`
	SchemaFile string          `json:"schema_file"`
	DocID      string          `json:"doc_id"`
	Source     string          `json:"source"`
}

// summaryRequest reads a summarize job: the fields of POST /v1/summarize,
// save collection (a batch runs in its --collection).
func summaryRequest(fields json.RawMessage) (grounded.SummaryRequest, error) {
	var j server.SummarizeRequest
	if err := batch.Decode(fields, &j); err != nil {
		return grounded.SummaryRequest{}, err
	}
	if j.Collection != "" {
		return grounded.SummaryRequest{}, grounded.Errorf(grounded.EINVALID, "a job cannot name a collection: the batch runs in its --collection")
	}
	req := grounded.SummaryRequest{DocIDs: j.DocIDs, Sources: j.Sources, Query: j.Query, K: j.K, Length: j.Length, Where: j.Where}
	if j.DocID != "" {
		req.DocIDs = append([]string{j.DocID}, req.DocIDs...)
	}
	if j.Source != "" {
		req.Sources = append([]string{j.Source}, req.Sources...)
	}
	return req, nil
}

// schemaCache parses each schema_file once per run (jobs share schemas).
type schemaCache struct {
	base string // the folder a relative schema_file is read from
	mu   sync.Mutex
	seen map[string]schemaOrErr
}

type schemaOrErr struct {
	schema *grounded.Schema
	err    error
}

// schema returns the job's schema: inline, or read from its file.
func (c *schemaCache) schema(j extractJob) (*grounded.Schema, error) {
	switch {
	case len(j.Schema) > 0 && j.SchemaFile != "":
		return nil, grounded.Errorf(grounded.EINVALID, "give schema or schema_file, not both")
	case len(j.Schema) > 0:
		return grounded.ParseSchema(j.Schema)
	case j.SchemaFile == "":
		return nil, grounded.Errorf(grounded.EINVALID, "an extract job needs schema (an object) or schema_file")
	}
	path := j.SchemaFile
	if !filepath.IsAbs(path) {
		path = filepath.Join(c.base, path)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, ok := c.seen[path]; ok {
		return r.schema, r.err
	}
	s, err := readSchema(path) // extract.go
	if err != nil && grounded.ErrorCode(err) == grounded.EINTERNAL {
		err = grounded.Errorf(grounded.EINVALID, "%v", err) // a file that cannot be read is the job's fault
	}
	c.seen[path] = schemaOrErr{s, err}
	return s, err
}

// batchHandlers are the ops a batch job may name. base is the folder a
// relative schema_file is read from. What counts as an abstention: an
// answer with abstained true, a summary with no sentence, an extraction
// whose every field is null; a check never abstains (its verdicts are the
// result).
func batchHandlers(a *app, base string) map[string]batch.Handler {
	schemas := &schemaCache{base: base, seen: map[string]schemaOrErr{}}
	return map[string]batch.Handler{
		"ask": func(ctx context.Context, fields json.RawMessage) (any, bool, error) {
			var req grounded.AskRequest
			if err := batch.Decode(fields, &req); err != nil {
				return nil, false, err
			}
			ans, err := a.col.Ask(ctx, req)
			if err != nil {
				return nil, false, err
			}
			return ans, ans.Abstained, nil
		},
		"search": func(ctx context.Context, fields json.RawMessage) (any, bool, error) {
			var req grounded.SearchRequest
			if err := batch.Decode(fields, &req); err != nil {
				return nil, false, err
			}
			hits, err := a.col.Search(ctx, req)
			if err != nil {
				return nil, false, err
			}
			return server.SearchResponse{Results: grounded.Results(hits)}, false, nil
		},
		"summarize": func(ctx context.Context, fields json.RawMessage) (any, bool, error) {
			req, err := summaryRequest(fields)
			if err != nil {
				return nil, false, err
			}
			sum, err := a.col.Summarize(ctx, req)
			if err != nil {
				return nil, false, err
			}
			return sum, len(sum.Sentences) == 0, nil
		},
		"extract": func(ctx context.Context, fields json.RawMessage) (any, bool, error) {
			var j extractJob
			if err := batch.Decode(fields, &j); err != nil {
				return nil, false, err
			}
			schema, err := schemas.schema(j)
			if err != nil {
				return nil, false, err
			}
			x, err := extractResolving(ctx, a.col, grounded.ExtractRequest{Schema: schema, DocID: j.DocID, Source: j.Source})
			if err != nil {
				return nil, false, err
			}
			none := true
			for _, f := range x.Fields {
				none = none && f.Value == nil
			}
			return x, none, nil
		},
		"check": func(ctx context.Context, fields json.RawMessage) (any, bool, error) {
			var req grounded.CheckRequest
			if err := batch.Decode(fields, &req); err != nil {
				return nil, false, err
			}
			res, err := a.col.Check(ctx, req)
			if err != nil {
				return nil, false, err
			}
			return res, false, nil
		},
	}
}
