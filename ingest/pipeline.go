package ingest

import (
	"cmp"
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
	// Delete removes a document by id (Sync, for a file that is gone).
	Delete(ctx context.Context, id string) error
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
}

// Event kinds: what an ingest did with one document.
const (
	Added       = "added"       // a new document was committed
	Updated     = "updated"     // changed content replaced the document
	Removed     = "removed"     // the document was deleted (Sync: its file is gone)
	Unchanged   = "unchanged"   // the same content is stored; nothing written
	Unsupported = "unsupported" // no loader reads the file's type; nothing written
	Failed      = "failed"      // the file could not be read, loaded or embedded; nothing written
)

// Event says what an ingest did with one document. A run emits one per
// file it is given and one per document Sync removes, one call at a time.
// Added and Updated are emitted only after the store transaction holding the
// document has committed, Removed after the delete has, so a reader that
// applies them (the live index) never holds what the store could still lose.
// They carry all a reader needs to bring its copy in line without reading
// the store back; a feed of changes committed by another process can be
// told in the same events.
type Event struct {
	Kind   string // Added, Updated, Removed, Unchanged, Unsupported or Failed
	ID     string // the document's id, DocID(Source)
	Source string
	// Doc is the committed document with its chunks and one vector per
	// chunk (Added and Updated only).
	Doc   *grounded.IndexedDocument
	Bytes int64 // bytes of the file read
	Err   error // why, when Kind is Failed
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
	Failures    []Event
}

// add counts one event.
func (s *Summary) add(e Event) {
	if e.Kind != Removed {
		s.Files++
	}
	s.Bytes += e.Bytes
	switch e.Kind {
	case Added:
		s.Added++
	case Updated:
		s.Updated++
	case Removed:
		s.Removed++
	case Unchanged:
		s.Unchanged++
	case Unsupported:
		s.Unsupported++
	case Failed:
		s.Failed++
		s.Failures = append(s.Failures, e)
	}
	if e.Doc != nil {
		s.Chunks += len(e.Doc.Chunks)
	}
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

// file is one document to ingest: an upload, or a file whose bytes read
// returns when a worker takes it. Title and Format, when set (uploads),
// override what the loader and the source name decide.
type file struct {
	grounded.Upload
	size int64
	read func() ([]byte, error) // nil: the bytes are Data
	err  error                  // the walk could not read this entry (an unreadable folder)
}

// Put ingests one document handed over in memory and emits its event (emit
// may be nil). A document that fails to load is an error (its earlier
// version, if any, stays); so is an unknown Format. With neither Format nor
// a known extension, the document is read as text.
func (p *Pipeline) Put(ctx context.Context, up grounded.Upload, emit func(Event)) error {
	up.Format = cmp.Or(up.Format, FormatOf(up.Source), FormatText)
	if !slices.Contains([]string{FormatMarkdown, FormatText, FormatHTML, FormatDOCX, FormatCSV, FormatJSONL, FormatPDF}, up.Format) {
		return grounded.Errorf(grounded.EINVALID, "unknown format %q: want markdown, text, html, pdf, docx, csv or jsonl", up.Format)
	}
	sum, err := p.run(ctx, []file{{Upload: up, size: int64(len(up.Data))}}, emit)
	if err == nil && sum.Failed > 0 {
		err = sum.Failures[0].Err
	}
	return err
}

// Paths ingests files and folders (recursively, skipping names that start
// with a dot), emitting an event per file (emit may be nil). Sources are
// absolute, cleaned paths. A path that does not exist is an error before
// anything is written; per-file problems are counted in the summary and the
// run goes on.
func (p *Pipeline) Paths(ctx context.Context, paths []string, emit func(Event)) (Summary, error) {
	files, err := collect(paths)
	if err != nil {
		return Summary{}, err
	}
	return p.run(ctx, files, emit)
}

// Sync makes the index match the folder (or file) root: new files are
// added, changed ones replaced, unchanged ones left alone (content hashes),
// and every stored document whose source lies under root but whose file is
// gone, or is no longer of a type we load, is removed. A file that fails to
// load this time keeps its earlier version in the index (it is reported as
// failed): a transient read error must not delete data. Each removal is
// emitted as a Removed event once it is committed.
func (p *Pipeline) Sync(ctx context.Context, root string, emit func(Event)) (Summary, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return Summary{}, fmt.Errorf("sync %s: %w", root, err)
	}
	files, err := collect([]string{abs})
	if err != nil {
		return Summary{}, err
	}
	sum, err := p.run(ctx, files, emit)
	if err != nil {
		return sum, err
	}
	present := map[string]bool{}
	for _, f := range files {
		if FormatOf(f.Source) != "" {
			present[f.Source] = true
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
		e := Event{Kind: Removed, ID: DocID(src), Source: src}
		if err := p.cfg.Sink.Delete(ctx, e.ID); err != nil {
			return sum, fmt.Errorf("sync: remove %s: %w", src, err)
		}
		sum.add(e)
		if emit != nil {
			emit(e)
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
				files = append(files, file{Upload: grounded.Upload{Source: path}, err: err})
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
	return file{Upload: grounded.Upload{Source: path}, size: size, read: func() ([]byte, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return io.ReadAll(f)
	}}
}

// FS ingests every file of fsys, named prefix + "/" + its path in fsys,
// emitting an event per file (emit may be nil).
func (p *Pipeline) FS(ctx context.Context, fsys fs.FS, prefix string, emit func(Event)) (Summary, error) {
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
			files = append(files, file{Upload: grounded.Upload{Source: prefix + "/" + path}, size: info.Size(), read: func() ([]byte, error) {
				return fs.ReadFile(fsys, path)
			}})
		}
		return nil
	})
	if err != nil {
		return Summary{}, fmt.Errorf("ingest %s: %w", prefix, err)
	}
	return p.run(ctx, files, emit)
}

// run ingests files, counting each event and passing it to emit (when set).
func (p *Pipeline) run(ctx context.Context, files []file, emit func(Event)) (Summary, error) {
	began := time.Now()
	slices.SortFunc(files, func(a, b file) int { return strings.Compare(a.Source, b.Source) })
	files = slices.CompactFunc(files, func(a, b file) bool { return a.Source == b.Source })
	hashes, err := p.cfg.Sink.Hashes(ctx)
	if err != nil {
		return Summary{}, fmt.Errorf("ingest: %w", err)
	}

	var sum Summary
	var mu sync.Mutex // guards sum and serializes emit
	report := func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		sum.add(e)
		if emit != nil {
			emit(e)
		}
	}

	g, gctx := errgroup.WithContext(ctx)
	out := make(chan Event, p.cfg.Workers)
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
				e := p.prepare(gctx, f, hashes)
				if e.Doc == nil {
					report(e)
					continue
				}
				select {
				case out <- e:
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

// prepare loads, chunks and embeds one file. An event without a Doc has
// nothing to write and says why; one with a Doc waits for its commit.
func (p *Pipeline) prepare(ctx context.Context, f file, hashes map[string]string) Event {
	e := Event{ID: DocID(f.Source), Source: f.Source, Bytes: f.size}
	fail := func(err error) Event {
		e.Kind, e.Err = Failed, err
		return e
	}
	if f.err != nil {
		return fail(fmt.Errorf("%s: %w", f.Source, f.err))
	}
	format := cmp.Or(f.Format, FormatOf(f.Source))
	if format == "" {
		e.Kind = Unsupported
		return e
	}
	if f.size > p.cfg.MaxFileBytes {
		return fail(grounded.Errorf(grounded.ETOOLARGE, "%s: %d bytes is over the %d-byte file limit", f.Source, f.size, p.cfg.MaxFileBytes))
	}
	data := f.Data
	if f.read != nil {
		var err error
		if data, err = f.read(); err != nil {
			return fail(fmt.Errorf("%s: %w", f.Source, err))
		}
	}
	e.Bytes = int64(len(data))
	if int64(len(data)) > p.cfg.MaxFileBytes {
		return fail(grounded.Errorf(grounded.ETOOLARGE, "%s: %d bytes is over the %d-byte file limit", f.Source, len(data), p.cfg.MaxFileBytes))
	}
	old, had := hashes[f.Source]
	hash := HashFor(f.Source, data, p.cfg.Load)
	if f.Format != "" || f.Title != "" {
		hash = ContentHash([]byte(hash + "\x00format=" + f.Format + "\x00title=" + f.Title))
	}
	if had && old == hash {
		e.Kind = Unchanged
		return e
	}
	doc, err := load(f.Source, format, hash, data, p.cfg.Load)
	if err != nil {
		return fail(err)
	}
	if f.Title != "" {
		doc.Title = f.Title
	}
	doc.IngestedAt = time.Now().UTC()
	chunks := p.cfg.Chunker.Chunk(doc)
	if len(chunks) == 0 {
		return fail(grounded.Errorf(grounded.EINVALID, "%s: no text to index", f.Source))
	}
	texts := make([]string, len(chunks))
	for i, c := range chunks {
		texts[i] = EmbedText(c)
	}
	var vecs [][]float32
	if len(texts) > 0 {
		vecs, err = p.cfg.Embedder.Embed(ctx, texts)
		if err != nil {
			return fail(fmt.Errorf("%s: embed: %w", f.Source, err))
		}
		if len(vecs) != len(texts) {
			return fail(fmt.Errorf("%s: embedder returned %d vectors for %d chunks", f.Source, len(vecs), len(texts)))
		}
		for _, v := range vecs {
			if len(v) != p.cfg.Embedder.Dim {
				return fail(fmt.Errorf("%s: embedder %s returned a %d-dimensional vector, want %d", f.Source, p.cfg.Embedder.Name, len(v), p.cfg.Embedder.Dim))
			}
		}
	}
	e.Kind = Added
	if had {
		e.Kind = Updated
	}
	e.Doc = &grounded.IndexedDocument{Document: doc, Chunks: chunks, Vectors: vecs}
	return e
}

// write commits prepared documents in batches of BatchDocs, reporting each
// once its batch is durable.
func (p *Pipeline) write(ctx context.Context, in <-chan Event, report func(Event)) error {
	var batch []Event
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		docs := make([]grounded.IndexedDocument, len(batch))
		for i, e := range batch {
			docs[i] = *e.Doc
		}
		if err := p.cfg.Sink.Put(ctx, docs); err != nil {
			return err
		}
		for _, e := range batch {
			report(e)
		}
		batch = batch[:0]
		return nil
	}
	for e := range in {
		batch = append(batch, e)
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
