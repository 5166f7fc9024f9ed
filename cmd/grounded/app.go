package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/groundedhq/grounded/collection"
	"github.com/groundedhq/grounded/corpus"
	"github.com/groundedhq/grounded/ingest"
	"github.com/groundedhq/grounded/internal/textproc"
	"github.com/groundedhq/grounded/server"
)

// app is one wired-up grounded: the data folder's collections and the one a
// command works on, which every command asks, searches, summarizes and
// extracts through.
type app struct {
	dir string
	set *collection.Set
	col *collection.Collection
}

// appOptions say how to open an app. Only data and emb are required.
type appOptions struct {
	common commonFlags
	// create makes the collection when it does not exist (ingest).
	create bool
	// load sets how files become documents (ingest's table options).
	load ingest.LoadOptions
	// tune overrides retrieval and answer settings (evaluations).
	tune *tuningFlags
	// llm chooses the answer generator.
	llm llmFlags
}

func openApp(ctx context.Context, o appOptions) (*app, error) {
	an := textproc.NewAnalyzer()
	emb, err := o.common.emb.build(ctx, an)
	if err != nil {
		return nil, err
	}
	cfg := collection.Config{Dir: o.common.data, Embedder: emb, Analyzer: an, Load: o.load}
	if o.tune != nil {
		o.tune.apply(&cfg)
	}
	var countTokens func(string) int // nil: grounding.EstimateTokens
	if o.llm.kind != "" && o.llm.kind != "extractive" {
		ch, err := ingest.NewChunker(ingest.ChunkConfig{}) // its tokenizer packs prompts
		if err != nil {
			return nil, err
		}
		cfg.Chunker, countTokens = ch, ch.CountTokens
	}
	if err := o.llm.apply(&cfg.Answer, an, countTokens); err != nil {
		return nil, err
	}
	set, err := collection.Open(cfg)
	if err != nil {
		return nil, err
	}
	name := o.common.collection
	if name == "" {
		name = collection.Default
	}
	get := set.Get
	if o.create {
		get = set.Create
	}
	col, err := get(name)
	if err != nil {
		set.Close()
		return nil, err
	}
	return &app{dir: o.common.data, set: set, col: col}, nil
}

func (a *app) Close() error { return a.set.Close() }

// closeAndRemove closes the app and deletes its data folder (evaluations).
func (a *app) closeAndRemove() {
	a.Close()
	os.RemoveAll(a.dir)
}

// report returns a reader of ingest events that prints files that failed to
// stderr and each committed change to changes.
func report(changes, stderr io.Writer) func(ingest.Event) {
	return func(e ingest.Event) {
		switch e.Kind {
		case ingest.Failed:
			fmt.Fprintf(stderr, "skipped: %v\n", e.Err)
		case ingest.Added, ingest.Updated, ingest.Removed:
			fmt.Fprintf(changes, "%-8s %s\n", e.Kind, e.Source)
		}
	}
}

// ensureCorpus ingests the embedded default corpus when the default
// collection is empty.
func (a *app) ensureCorpus(ctx context.Context, stderr io.Writer) error {
	if a.col.Name() != collection.Default {
		return nil
	}
	return a.col.EnsureFilled(ctx, corpus.FS, "corpus", stderr)
}

// collections serves a Set's collections to the HTTP server.
type collections struct{ set *collection.Set }

func (c collections) Collection(name string, create bool) (server.Collection, error) {
	if create {
		return c.set.Create(name)
	}
	return c.set.Get(name)
}

func (c collections) Names() ([]string, error) { return c.set.Names() }

var _ server.Collections = collections{}
