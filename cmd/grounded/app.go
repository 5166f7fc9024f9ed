package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/answer"
	"github.com/groundedhq/grounded/corpus"
	"github.com/groundedhq/grounded/ingest"
	"github.com/groundedhq/grounded/internal/textproc"
	"github.com/groundedhq/grounded/retrieval"
	"github.com/groundedhq/grounded/store"
)

// dbFile is the database's name inside the data folder.
const dbFile = "grounded.db"

// app is one wired-up grounded: store, embedder, chunker, index, answerer.
type app struct {
	dir      string
	store    *store.Store
	analyzer *textproc.Analyzer
	embedder grounded.Embedder
	chunker  *ingest.Chunker
	index    *retrieval.Index
	answers  *answer.Service
	// bm25 and fusion override the retrieval defaults (eval flags only).
	bm25      retrieval.BM25Params
	fusion    retrieval.FusionParams
	rm3       retrieval.RM3Params
	answerCfg answer.Config
	// load is how ingest turns files into documents (table options).
	load ingest.LoadOptions
	// progress, when set, also sees each ingested file (sync prints them).
	progress func(ingest.FileResult)
}

func openApp(ctx context.Context, dir string, embFlags embedderFlags) (*app, error) {
	an := textproc.NewAnalyzer()
	emb, err := embFlags.build(ctx, an)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("data folder: %w", err)
	}
	st, err := store.Open(filepath.Join(dir, dbFile))
	if err != nil {
		return nil, err
	}
	if err := st.UseEmbedder(emb.Name, emb.Dim); err != nil {
		st.Close()
		return nil, err
	}
	return &app{dir: dir, store: st, analyzer: an, embedder: emb}, nil
}

func (a *app) Close() error { return a.store.Close() }

// closeAndRemove closes the app and deletes its data folder (evaluations).
func (a *app) closeAndRemove() {
	a.Close()
	os.RemoveAll(a.dir)
}

// pipeline returns an ingest pipeline; the tokenizer it needs (about 0.2 s
// to build) is made on first use, so commands that never ingest skip it.
func (a *app) pipeline(stderr io.Writer) (*ingest.Pipeline, error) {
	if a.chunker == nil {
		ch, err := ingest.NewChunker(ingest.ChunkConfig{})
		if err != nil {
			return nil, err
		}
		a.chunker = ch
	}
	return ingest.New(ingest.Config{
		Chunker:  a.chunker,
		Embedder: a.embedder,
		Sink:     a.store,
		Load:     a.load,
		Progress: func(r ingest.FileResult) {
			if r.Outcome == ingest.Failed {
				fmt.Fprintf(stderr, "skipped: %v\n", r.Err)
			}
			if a.progress != nil {
				a.progress(r)
			}
		},
	})
}

func (a *app) ingestPaths(ctx context.Context, paths []string, stderr io.Writer) (ingest.Summary, error) {
	p, err := a.pipeline(stderr)
	if err != nil {
		return ingest.Summary{}, err
	}
	return p.Paths(ctx, paths)
}

// syncPath makes the stored index match root, printing each change to out
// and handing it to seen when that is set.
func (a *app) syncPath(ctx context.Context, root string, out, stderr io.Writer, seen func(ingest.FileResult)) (ingest.Summary, error) {
	p, err := a.pipeline(stderr)
	if err != nil {
		return ingest.Summary{}, err
	}
	a.progress = func(r ingest.FileResult) {
		switch r.Outcome {
		case ingest.Added, ingest.Updated, ingest.Removed:
			fmt.Fprintf(out, "%-8s %s\n", r.Outcome, r.Source)
		}
		if seen != nil {
			seen(r)
		}
	}
	defer func() { a.progress = nil }()
	return p.Sync(ctx, root)
}

// ensureCorpus ingests the embedded default corpus when the index is empty.
func (a *app) ensureCorpus(ctx context.Context, stderr io.Writer) error {
	docs, _, err := a.store.Counts(ctx)
	if err != nil || docs > 0 {
		return err
	}
	fmt.Fprintf(stderr, "grounded: %s holds no index; ingesting the built-in default corpus first\n", a.dir)
	p, err := a.pipeline(stderr)
	if err != nil {
		return err
	}
	sum, err := p.FS(ctx, corpus.FS, "corpus")
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "grounded: %s\n", sum)
	return nil
}

// loadIndex builds the in-memory search index from the store.
func (a *app) loadIndex(ctx context.Context) error {
	fusion := a.fusion
	if a.embedder.Name != retrieval.HashEmbedderName && fusion.LexicalWeight == 0 && fusion.VectorWeight == 0 {
		fusion.LexicalWeight, fusion.VectorWeight = 1, 1 // a real embedding model gets an equal vote
	}
	ix, err := retrieval.New(retrieval.Config{Embedder: a.embedder, Analyzer: a.analyzer, BM25: a.bm25, Fusion: fusion, RM3: a.rm3})
	if err != nil {
		return err
	}
	var chunks []grounded.Chunk
	var vecs [][]float32
	err = a.store.ForEachChunk(ctx, func(c grounded.Chunk, v []float32) error {
		chunks = append(chunks, c)
		vecs = append(vecs, v)
		return nil
	})
	if err != nil {
		return err
	}
	if err := ix.Add(ctx, chunks, vecs); err != nil {
		return fmt.Errorf("load index: %w", err)
	}
	a.index = ix
	a.answers = answer.New(ix, a.analyzer, a.answerCfg)
	return nil
}
