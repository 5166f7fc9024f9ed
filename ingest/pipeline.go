package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/groundedhq/grounded"
	"golang.org/x/sync/errgroup"
)

// Sink receives ingested documents. store.Store implements it.
type Sink interface {
	// Hashes returns the content hash of every stored document, by source.
	Hashes(ctx context.Context) (map[string]string, error)
	// Put stores the documents atomically, replacing earlier versions.
	Put(ctx context.Context, docs []grounded.IndexedDocument) error
}

// Config wires a Pipeline.
type Config struct {
	Chunker  *Chunker
	Embedder grounded.Embedder
	Sink     Sink
	// MaxFileBytes skips larger files with a message. Default 64 MiB.
	MaxFileBytes int64
	// Load sets how files become documents (table text columns, templates).
	Load LoadOptions
	// BatchDocs is how many documents one store transaction holds. Default 32.
	BatchDocs int
	// Workers load, chunk and embed files in parallel. Default GOMAXPROCS.
	Workers int
	// Progress, if set, is called once per file from one goroutine at a time.
	Progress func(FileResult)
}

// Outcome of one file.
const (
	Added       = "added"
	Updated     = "updated"
	Unchanged   = "unchanged"
	Unsupported = "unsupported"
	Failed      = "failed"
	Removed     = "removed" // by Sync: the file is gone
)

// FileResult says what happened to one file.
type FileResult struct {
	Source  string
	Outcome string
	Chunks  int
	Bytes   int64
	Err     error // set when Outcome is Failed
}

// Summary counts the outcomes of a run.
type Summary struct {
	Files       int
	Added       int
	Updated     int
	Unchanged   int
	Unsupported int
	Failed      int
	Removed     int   // documents removed by Sync
	Chunks      int   // chunks written
	Bytes       int64 // bytes of the files read
	Duration    time.Duration
	Failures    []FileResult
}

func (s Summary) String() string {
	removed := ""
	if s.Removed > 0 {
		removed = fmt.Sprintf(", %d removed (file gone)", s.Removed)
	}
	return fmt.Sprintf("%d files: %d added, %d updated, %d unchanged, %d skipped (unsupported type), %d failed%s; %d chunks written; %.1f MB in %s",
		s.Files, s.Added, s.Updated, s.Unchanged, s.Unsupported, s.Failed, removed, s.Chunks, float64(s.Bytes)/1e6, s.Duration.Round(time.Millisecond))
}

// Pipeline loads, chunks, embeds and stores files.
type Pipeline struct {
	cfg Config
}

// New returns a pipeline. Chunker, Embedder.Embed and Sink are required.
func New(cfg Config) (*Pipeline, error) {
	if cfg.Chunker == nil || cfg.Embedder.Embed == nil || cfg.Sink == nil {
		return nil, errors.New("ingest: Chunker, Embedder and Sink are required")
	}
	if cfg.MaxFileBytes <= 0 {
		cfg.MaxFileBytes = 64 << 20
	}
	if cfg.BatchDocs <= 0 {
		cfg.BatchDocs = 32
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	return &Pipeline{cfg: cfg}, nil
}

// file is one input: its source name, size and a way to read it.
type file struct {
	source string
	size   int64
	read   func() ([]byte, error)
	err    error // the walk could not read this entry (an unreadable folder)
	// format and title, when set, override what the source name and the
	// loader decide (uploads).
	format, title string
}

// Input is one document handed over in memory, as an upload is.
type Input struct {
	// Source is the name the document is stored and cited under; the same
	// source again replaces the document (or leaves it, if unchanged).
	Source string
	// Title, when set, replaces the title the loader finds.
	Title string
	// Format, when set, replaces the format Source's extension selects
	// (FormatMarkdown, ...); with neither, the input is read as text.
	Format string
	Data   []byte
}

// Put ingests one in-memory document and says what happened to it. A
// document that fails to load is an error (its earlier version, if any,
// stays); so is an unknown Format.
func (p *Pipeline) Put(ctx context.Context, in Input) (FileResult, error) {
	format := in.Format
	if format == "" {
		format = FormatOf(in.Source)
	}
	if format == "" {
		format = FormatText
	}
	if !knownFormat(format) {
		return FileResult{}, grounded.Errorf(grounded.EINVALID, "unknown format %q: want markdown, text, html, pdf, docx, csv or jsonl", format)
	}
	data := in.Data
	f := file{source: in.Source, size: int64(len(data)), format: format, title: in.Title,
		read: func() ([]byte, error) { return data, nil }}
	var res FileResult
	if _, err := p.run(ctx, []file{f}, func(r FileResult) { res = r }); err != nil {
		return res, err
	}
	if res.Outcome == Failed {
		return res, res.Err
	}
	return res, nil
}

func knownFormat(f string) bool {
	switch f {
	case FormatMarkdown, FormatText, FormatHTML, FormatDOCX, FormatCSV, FormatJSONL, FormatPDF:
		return true
	}
	return false
}

// Paths ingests files and folders (recursively, skipping names that start
// with a dot). Sources are absolute, cleaned paths. A path that does not exist
// is an error before anything is written; per-file problems are counted in
// the summary and the run goes on.
func (p *Pipeline) Paths(ctx context.Context, paths []string) (Summary, error) {
	files, err := collect(paths)
	if err != nil {
		return Summary{}, err
	}
	return p.run(ctx, files, nil)
}

// Remover deletes a document by id; Sync needs a Sink that is one.
type Remover interface {
	Delete(ctx context.Context, id string) error
}

// Sync makes the index match the folder (or file) root: new files are
// added, changed ones replaced, unchanged ones left alone (content hashes),
// and every stored document whose source lies under root but whose file is
// gone, or is no longer of a type we load, is removed. A file that fails to
// load this time keeps its earlier version in the index (it is reported as
// failed): a transient read error must not delete data.
func (p *Pipeline) Sync(ctx context.Context, root string) (Summary, error) {
	rm, ok := p.cfg.Sink.(Remover)
	if !ok {
		return Summary{}, errors.New("ingest: sync needs a sink that can delete documents")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return Summary{}, fmt.Errorf("sync %s: %w", root, err)
	}
	files, err := collect([]string{abs})
	if err != nil {
		return Summary{}, err
	}
	sum, err := p.run(ctx, files, nil)
	if err != nil {
		return sum, err
	}
	present := map[string]bool{}
	for _, f := range files {
		if FormatOf(f.source) != "" {
			present[f.source] = true
		}
	}
	stored, err := p.cfg.Sink.Hashes(ctx)
	if err != nil {
		return sum, fmt.Errorf("sync: %w", err)
	}
	var gone []string
	for src := range stored {
		if (src == abs || strings.HasPrefix(src, abs+string(filepath.Separator))) && !present[src] {
			gone = append(gone, src)
		}
	}
	slices.Sort(gone)
	for _, src := range gone {
		if err := rm.Delete(ctx, DocID(src)); err != nil {
			return sum, fmt.Errorf("sync: remove %s: %w", src, err)
		}
		sum.Removed++
		if p.cfg.Progress != nil {
			p.cfg.Progress(FileResult{Source: src, Outcome: Removed})
		}
	}
	return sum, nil
}

// collect lists the files under paths (files, or folders walked
// recursively, skipping names that start with a dot), by absolute path.
func collect(paths []string) ([]file, error) {
	var files []file
	for _, root := range paths {
		abs, err := filepath.Abs(root)
		if err != nil {
			return nil, fmt.Errorf("ingest %s: %w", root, err)
		}
		info, err := os.Stat(abs)
		if err != nil {
			return nil, fmt.Errorf("ingest: %w", err)
		}
		if !info.IsDir() {
			files = append(files, diskFile(abs, info.Size()))
			continue
		}
		err = filepath.WalkDir(abs, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				// An unreadable folder: report it as a failed file and go on.
				files = append(files, file{source: path, err: err})
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if path != abs && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() {
				info, err := d.Info()
				size := int64(0)
				if err == nil {
					size = info.Size()
				}
				files = append(files, diskFile(path, size))
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("ingest %s: %w", root, err)
		}
	}
	return files, nil
}

func diskFile(path string, size int64) file {
	return file{source: path, size: size, read: func() ([]byte, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return io.ReadAll(f)
	}}
}

// FS ingests every file of fsys, named prefix + "/" + its path in fsys.
func (p *Pipeline) FS(ctx context.Context, fsys fs.FS, prefix string) (Summary, error) {
	var files []file
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			files = append(files, file{source: prefix + "/" + path, size: info.Size(), read: func() ([]byte, error) {
				return fs.ReadFile(fsys, path)
			}})
		}
		return nil
	})
	if err != nil {
		return Summary{}, fmt.Errorf("ingest %s: %w", prefix, err)
	}
	return p.run(ctx, files, nil)
}

// run ingests files, reporting each to Progress and to seen (when set).
func (p *Pipeline) run(ctx context.Context, files []file, seen func(FileResult)) (Summary, error) {
	began := time.Now()
	slices.SortFunc(files, func(a, b file) int { return strings.Compare(a.source, b.source) })
	files = slices.CompactFunc(files, func(a, b file) bool { return a.source == b.source })
	hashes, err := p.cfg.Sink.Hashes(ctx)
	if err != nil {
		return Summary{}, fmt.Errorf("ingest: %w", err)
	}

	var sum Summary
	var mu sync.Mutex // guards sum and serializes Progress
	report := func(r FileResult) {
		mu.Lock()
		defer mu.Unlock()
		sum.Files++
		sum.Bytes += r.Bytes
		switch r.Outcome {
		case Added:
			sum.Added++
		case Updated:
			sum.Updated++
		case Unchanged:
			sum.Unchanged++
		case Unsupported:
			sum.Unsupported++
		case Failed:
			sum.Failed++
			sum.Failures = append(sum.Failures, r)
		}
		if r.Outcome == Added || r.Outcome == Updated {
			sum.Chunks += r.Chunks
		}
		if p.cfg.Progress != nil {
			p.cfg.Progress(r)
		}
		if seen != nil {
			seen(r)
		}
	}

	g, gctx := errgroup.WithContext(ctx)
	out := make(chan pending, p.cfg.Workers)
	g.Go(func() error { return p.write(gctx, out, report) })

	work := make(chan file)
	g.Go(func() error {
		defer close(work)
		for _, f := range files {
			select {
			case work <- f:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	var workers sync.WaitGroup
	for range p.cfg.Workers {
		workers.Add(1)
		g.Go(func() error {
			defer workers.Done()
			for f := range work {
				r, doc := p.prepare(gctx, f, hashes)
				if doc == nil {
					report(r)
					continue
				}
				select {
				case out <- pending{r, *doc}:
				case <-gctx.Done():
					return gctx.Err()
				}
			}
			return nil
		})
	}
	g.Go(func() error { workers.Wait(); close(out); return nil })
	err = g.Wait()
	sum.Duration = time.Since(began)
	if err != nil {
		return sum, fmt.Errorf("ingest: %w", err)
	}
	return sum, nil
}

type pending struct {
	result FileResult
	doc    grounded.IndexedDocument
}

// prepare loads, chunks and embeds one file. A nil document means there is
// nothing to write and r says why.
func (p *Pipeline) prepare(ctx context.Context, f file, hashes map[string]string) (FileResult, *grounded.IndexedDocument) {
	r := FileResult{Source: f.source, Bytes: f.size}
	fail := func(err error) (FileResult, *grounded.IndexedDocument) {
		r.Outcome, r.Err = Failed, err
		return r, nil
	}
	if f.err != nil {
		return fail(fmt.Errorf("%s: %w", f.source, f.err))
	}
	format := f.format
	if format == "" {
		format = FormatOf(f.source)
	}
	if format == "" {
		r.Outcome = Unsupported
		return r, nil
	}
	if f.size > p.cfg.MaxFileBytes {
		return fail(grounded.Errorf(grounded.ETOOLARGE, "%s: %d bytes is over the %d-byte file limit", f.source, f.size, p.cfg.MaxFileBytes))
	}
	data, err := f.read()
	if err != nil {
		return fail(fmt.Errorf("%s: %w", f.source, err))
	}
	r.Bytes = int64(len(data))
	if int64(len(data)) > p.cfg.MaxFileBytes {
		return fail(grounded.Errorf(grounded.ETOOLARGE, "%s: %d bytes is over the %d-byte file limit", f.source, len(data), p.cfg.MaxFileBytes))
	}
	old, had := hashes[f.source]
	hash := HashFor(f.source, data, p.cfg.Load)
	if f.format != "" || f.title != "" {
		hash = ContentHash([]byte(hash + "\x00format=" + f.format + "\x00title=" + f.title))
	}
	if had && old == hash {
		r.Outcome = Unchanged
		return r, nil
	}
	doc, err := load(f.source, format, data, p.cfg.Load)
	if err != nil {
		return fail(err)
	}
	doc.ContentHash = hash
	if f.title != "" {
		doc.Title = f.title
	}
	doc.IngestedAt = time.Now().UTC()
	chunks := p.cfg.Chunker.Chunk(doc)
	if len(chunks) == 0 {
		return fail(grounded.Errorf(grounded.EINVALID, "%s: no text to index", f.source))
	}
	texts := make([]string, len(chunks))
	for i, c := range chunks {
		texts[i] = EmbedText(c)
	}
	var vecs [][]float32
	if len(texts) > 0 {
		vecs, err = p.cfg.Embedder.Embed(ctx, texts)
		if err != nil {
			return fail(fmt.Errorf("%s: embed: %w", f.source, err))
		}
		if len(vecs) != len(texts) {
			return fail(fmt.Errorf("%s: embedder returned %d vectors for %d chunks", f.source, len(vecs), len(texts)))
		}
		for _, v := range vecs {
			if len(v) != p.cfg.Embedder.Dim {
				return fail(fmt.Errorf("%s: embedder %s returned a %d-dimensional vector, want %d", f.source, p.cfg.Embedder.Name, len(v), p.cfg.Embedder.Dim))
			}
		}
	}
	r.Outcome, r.Chunks = Added, len(chunks)
	if had {
		r.Outcome = Updated
	}
	return r, &grounded.IndexedDocument{Document: doc, Chunks: chunks, Vectors: vecs}
}

// write commits prepared documents in batches of BatchDocs, reporting each
// file once its batch is durable.
func (p *Pipeline) write(ctx context.Context, in <-chan pending, report func(FileResult)) error {
	var batch []pending
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		docs := make([]grounded.IndexedDocument, len(batch))
		for i, b := range batch {
			docs[i] = b.doc
		}
		if err := p.cfg.Sink.Put(ctx, docs); err != nil {
			return err
		}
		for _, b := range batch {
			report(b.result)
		}
		batch = batch[:0]
		return nil
	}
	for pd := range in {
		batch = append(batch, pd)
		if len(batch) >= p.cfg.BatchDocs {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// EmbedText is the text embedded for a chunk: its title and section heading
// path, then its text, so a passage is found by what its headings say too.
func EmbedText(c grounded.Chunk) string {
	return c.Heading() + "\n\n" + c.Text
}
