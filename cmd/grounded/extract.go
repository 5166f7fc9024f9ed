package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/collection"
)

// maxSchemaBytes bounds the schema file read by extract.
const maxSchemaBytes = 1 << 20

// cmdExtract: grounded extract --schema FILE (--doc ID | --source PATH)
// [--json] [--collection C] [LLM FLAGS]. A missing flag is bad usage (exit
// 2); a schema file that is not a valid schema is an error naming the
// field (exit 1), as is a document the collection does not hold.
func cmdExtract(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("extract", flag.ContinueOnError)
	var common commonFlags
	var llm llmFlags
	common.register(fs)
	llm.register(fs)
	schemaFile := fs.String("schema", "", "JSON schema file: {\"fields\": [{\"name\", \"type\", \"description\"}, ...]}")
	docID := fs.String("doc", "", "document id")
	source := fs.String("source", "", "document source (the path it was ingested from)")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return fmt.Errorf("%w: extract takes no arguments (got %q); name the document with --doc or --source", errUsage, strings.Join(pos, " "))
	case *schemaFile == "":
		return fmt.Errorf("%w: extract needs --schema FILE", errUsage)
	case (*docID == "") == (*source == ""):
		return fmt.Errorf("%w: extract needs one of --doc ID or --source PATH", errUsage)
	}
	schema, err := readSchema(*schemaFile)
	if err != nil {
		return err
	}
	// Extraction reads the store only: the search index is not loaded.
	a, err := openApp(ctx, appOptions{common: common, llm: llm})
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.ensureCorpus(ctx, stderr); err != nil {
		return err
	}
	x, err := extractResolving(ctx, a.col, grounded.ExtractRequest{Schema: schema, DocID: *docID, Source: *source})
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, x)
	}
	printExtraction(stdout, x)
	return nil
}

func readSchema(path string) (*grounded.Schema, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSchemaBytes+1))
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", path, err)
	}
	if len(data) > maxSchemaBytes {
		return nil, fmt.Errorf("schema %s is over %d bytes", path, maxSchemaBytes)
	}
	s, err := grounded.ParseSchema(data)
	if err != nil {
		var e *grounded.Error
		if errors.As(err, &e) {
			return nil, grounded.Errorf(e.Code, "schema %s: %s", path, e.Message)
		}
		return nil, err
	}
	return s, nil
}

var fieldReasons = map[string]string{
	grounded.FieldNotFound:      "not found",
	grounded.FieldNoValueOfType: "no value of its type",
	grounded.FieldAmbiguous:     "ambiguous",
	grounded.FieldUnsupported:   "unsupported by its quote",
}

// printExtraction writes a table: field, value, support, where the
// evidence is, and the quote.
func printExtraction(w io.Writer, x *grounded.Extraction) {
	fmt.Fprintf(w, "%s (version %s, %s)\n", x.Source, x.Version, x.Generator)
	if x.FallbackReason != "" {
		fmt.Fprintf(w, "(extracted offline: the model failed: %s)\n", x.FallbackReason)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FIELD\tVALUE\tSUPPORT\tEVIDENCE\tQUOTE")
	for _, f := range x.Fields {
		if f.Value == nil {
			why := fieldReasons[f.Reason]
			if why == "" {
				why = f.Reason
			}
			fmt.Fprintf(tw, "%s\t-\t%.2f\t(%s)\t\n", f.Name, f.Support, why)
			continue
		}
		where := ""
		if ev := f.Evidence; ev != nil {
			where = filepath.Base(ev.Source)
			if ev.Section != "" {
				where += " > " + lastPart(ev.Section)
			}
			if ev.Location != "" {
				where += ", " + ev.Location
			}
			where += fmt.Sprintf(", bytes %d-%d", ev.Start, ev.End)
		}
		quote := ""
		if f.Evidence != nil {
			quote = strconv.Quote(snippet(f.Evidence.Quote, 70))
		}
		fmt.Fprintf(tw, "%s\t%s\t%.2f\t%s\t%s\n", f.Name, formatValue(f.Value, f.Unit), f.Support, where, quote)
	}
	tw.Flush()
}

func lastPart(section string) string {
	if i := strings.LastIndex(section, " > "); i >= 0 {
		return section[i+3:]
	}
	return section
}

// formatValue shows a typed value: "1250.5 USD", "15%", "a; b; c".
func formatValue(v any, unit string) string {
	switch x := v.(type) {
	case float64:
		s := strconv.FormatFloat(x, 'f', -1, 64)
		switch unit {
		case "":
			return s
		case "%":
			return s + "%"
		}
		return s + " " + unit
	case []any:
		parts := make([]string, len(x))
		for i, p := range x {
			parts[i] = formatValue(p, "")
		}
		return strings.Join(parts, "; ")
	case string:
		return x
	}
	return fmt.Sprint(v)
}

// extractResolving extracts, retrying a source that is not found as an
// absolute path: ingested files are stored under their absolute paths.
func extractResolving(ctx context.Context, col *collection.Collection, req grounded.ExtractRequest) (*grounded.Extraction, error) {
	x, err := col.Extract(ctx, req)
	if grounded.ErrorCode(err) == grounded.ENOTFOUND && req.Source != "" {
		if abs, aerr := filepath.Abs(req.Source); aerr == nil && abs != req.Source {
			req.Source = abs
			if x2, err2 := col.Extract(ctx, req); grounded.ErrorCode(err2) != grounded.ENOTFOUND {
				return x2, err2
			}
		}
	}
	return x, err
}
