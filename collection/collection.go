// Package collection keeps grounded's collections: named, separate indexes
// (tenants). Each collection is its own SQLite store and its own in-memory
// search index and answerer, so documents, term statistics and answers never
// cross collections.
//
// On disk, under the data folder:
//
//	grounded.db                          the collection "default"
//	collections/NAME/grounded.db         every other collection
//
// A Collection is the one surface every front end (CLI, batch, eval, HTTP)
// uses: it ingests (folders, synced folders, single uploads), lists, reads
// and deletes documents, and asks, searches, summarizes and extracts. Writes
// go to the store first (one transaction per batch of whole documents); the
// live index then applies the pipeline's events (ingest.Event) one whole
// document at a time, so a query sees a document entirely or not at all, and
// the store stays the source of truth the index is rebuilt from at open
// (LoadIndex).
package collection

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/answer"
	"github.com/groundedhq/grounded/ingest"
	"github.com/groundedhq/grounded/internal/textproc"
	"github.com/groundedhq/grounded/retrieval"
	"github.com/groundedhq/grounded/store"
)

// Default is the name of the collection used when none is named.
const Default = "default"

// dbFile is a collection's database file name.
const dbFile = "grounded.db"

var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// CheckName returns an EINVALID error unless name is a valid collection
// name: 1 to 64 of a-z, 0-9, '_' and '-', starting with a letter or digit.
func CheckName(name string) error {
	if !validName.MatchString(name) {
		return grounded.Errorf(grounded.EINVALID, "collection name %q is not valid: use 1 to 64 of a-z, 0-9, _ and -, starting with a letter or digit", name)
	}
	return nil
}

// Path is the database file of collection name under the data folder dir.
func Path(dir, name string) string {
	if name == Default {
		return filepath.Join(dir, dbFile)
	}
	return filepath.Join(dir, "collections", name, dbFile)
}

// Config wires a Set. Embedder is required; the rest have defaults.
type Config struct {
	// Dir is the data folder.
	Dir      string
	Embedder grounded.Embedder
	// Analyzer is shared by every collection's index. Default: a new one.
	Analyzer *textproc.Analyzer
	// Chunker cuts documents into chunks; built on first ingest when nil
	// (building the tokenizer takes about 0.2 s).
	Chunker *ingest.Chunker
	// Load sets how files become documents (table text columns, templates).
	Load ingest.LoadOptions
	// MaxFileBytes is the ingest file size limit. Default 64 MiB.
	MaxFileBytes int64
	// BM25, Fusion and RM3 override the retrieval defaults.
	BM25   retrieval.BM25Params
	Fusion retrieval.FusionParams
	RM3    retrieval.RM3Params
	// Answer configures every collection's answerer (the model, if any).
	Answer answer.Config
}

// Set is the collections of one data folder. It is safe for concurrent use.
type Set struct {
	cfg     Config
	mu      sync.Mutex
	chunker *ingest.Chunker
	open    map[string]*Collection
}

// Open returns the collections under cfg.Dir, creating the folder. No
// collection is opened until it is asked for.
func Open(cfg Config) (*Set, error) {
	if cfg.Embedder.Embed == nil {
		return nil, fmt.Errorf("collection: an embedder is required")
	}
	if cfg.Analyzer == nil {
		cfg.Analyzer = textproc.NewAnalyzer()
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("data folder: %w", err)
	}
	return &Set{cfg: cfg, chunker: cfg.Chunker, open: map[string]*Collection{}}, nil
}

// Dir is the data folder.
func (s *Set) Dir() string { return s.cfg.Dir }

// Get returns the existing collection name. It returns an EINVALID error for
// a name that is not valid and ENOTFOUND for a collection that does not
// exist ("default" always exists).
func (s *Set) Get(name string) (*Collection, error) {
	return s.get(name, false)
}

// Create returns the collection name, creating it when it does not exist.
func (s *Set) Create(name string) (*Collection, error) {
	return s.get(name, true)
}

func (s *Set) get(name string, create bool) (*Collection, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.open[name]; ok {
		return c, nil
	}
	path := Path(s.cfg.Dir, name)
	if name != Default {
		if _, err := os.Stat(path); err != nil {
			if !os.IsNotExist(err) {
				return nil, fmt.Errorf("collection %s: %w", name, err)
			}
			if !create {
				return nil, grounded.Errorf(grounded.ENOTFOUND, "collection %q does not exist", name)
			}
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("collection %s: %w", name, err)
		}
	}
	st, err := store.Open(path)
	if err != nil {
		return nil, err
	}
	if err := st.UseEmbedder(s.cfg.Embedder.Name, s.cfg.Embedder.Dim); err != nil {
		st.Close()
		return nil, err
	}
	c := &Collection{name: name, set: s, store: st}
	s.open[name] = c
	return c, nil
}

// Names lists the collections that exist, "default" first.
func (s *Set) Names() ([]string, error) {
	names := []string{Default}
	entries, err := os.ReadDir(filepath.Join(s.cfg.Dir, "collections"))
	if err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("list collections: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() && validName.MatchString(e.Name()) && e.Name() != Default {
			if _, err := os.Stat(filepath.Join(s.cfg.Dir, "collections", e.Name(), dbFile)); err == nil {
				names = append(names, e.Name())
			}
		}
	}
	slices.Sort(names[1:])
	return names, nil
}

// Close closes every open collection.
func (s *Set) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var first error
	for name, c := range s.open {
		if err := c.store.Close(); err != nil && first == nil {
			first = err
		}
		delete(s.open, name)
	}
	return first
}

// Chunker returns the shared chunker, building it on first use.
func (s *Set) Chunker() (*ingest.Chunker, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.chunker == nil {
		ch, err := ingest.NewChunker(ingest.ChunkConfig{})
		if err != nil {
			return nil, err
		}
		s.chunker = ch
	}
	return s.chunker, nil
}

// Collection is one named index. It is safe for concurrent use: reads run
// in parallel, writes one at a time.
type Collection struct {
	name  string
	set   *Set
	store *store.Store

	// write serializes writes (store, then index) and the index's loading.
	write   sync.Mutex
	mu      sync.RWMutex // guards index and answers (set once, by loadIndex)
	index   *retrieval.Index
	answers *answer.Service
}

// Name is the collection's name.
func (c *Collection) Name() string { return c.name }

// Store is the collection's durable store.
func (c *Collection) Store() *store.Store { return c.store }

// Counts returns the number of stored documents and chunks.
func (c *Collection) Counts(ctx context.Context) (docs, chunks int, err error) {
	return c.store.Counts(ctx)
}

// LoadIndex builds the in-memory index from the store, once; queries call
// it on first use, servers call it at start.
func (c *Collection) LoadIndex(ctx context.Context) error {
	c.mu.RLock()
	loaded := c.index != nil
	c.mu.RUnlock()
	if loaded {
		return nil
	}
	c.write.Lock()
	defer c.write.Unlock()
	return c.loadLocked(ctx)
}

func (c *Collection) loadLocked(ctx context.Context) error {
	if c.index != nil {
		return nil
	}
	cfg := c.set.cfg
	fusion := cfg.Fusion
	if cfg.Embedder.Name != retrieval.HashEmbedderName && fusion.LexicalWeight == 0 && fusion.VectorWeight == 0 {
		fusion.LexicalWeight, fusion.VectorWeight = 1, 1 // a real embedding model gets an equal vote
	}
	ix, err := retrieval.New(retrieval.Config{Embedder: cfg.Embedder, Analyzer: cfg.Analyzer, BM25: cfg.BM25, Fusion: fusion, RM3: cfg.RM3})
	if err != nil {
		return err
	}
	// Chunks go to the index in batches cut at document boundaries, so a
	// large collection is never held twice in memory while it loads.
	const batch = 4096
	var chunks []grounded.Chunk
	var vecs [][]float32
	flush := func() error {
		if err := ix.Add(ctx, chunks, vecs); err != nil {
			return fmt.Errorf("load index %s: %w", c.name, err)
		}
		chunks, vecs = chunks[:0], vecs[:0]
		return nil
	}
	err = c.store.ForEachChunk(ctx, func(ch grounded.Chunk, v []float32) error {
		if len(chunks) >= batch && ch.DocID != chunks[len(chunks)-1].DocID {
			if err := flush(); err != nil {
				return err
			}
		}
		chunks = append(chunks, ch)
		vecs = append(vecs, v)
		return nil
	})
	if err == nil && len(chunks) > 0 {
		err = flush()
	}
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.index, c.answers = ix, answer.New(ix, cfg.Analyzer, cfg.Answer)
	c.mu.Unlock()
	return nil
}

// loaded returns the index and answerer, loading them on first use.
func (c *Collection) loaded(ctx context.Context) (*retrieval.Index, *answer.Service, error) {
	if err := c.LoadIndex(ctx); err != nil {
		return nil, nil, err
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.index, c.answers, nil
}

// Index returns the collection's search index, loading it on first use,
// for evaluations that rank past a request's k limit (grounded.MaxK).
func (c *Collection) Index(ctx context.Context) (*retrieval.Index, error) {
	ix, _, err := c.loaded(ctx)
	return ix, err
}

// Len is the number of chunks in the live index (0 before it is loaded).
func (c *Collection) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.index == nil {
		return 0
	}
	return c.index.Len()
}

// Ask answers req.Question from the collection's passages (see
// grounded.AskRequest). Errors: EINVALID for a request that fails
// AskRequest.Check; an abstention is an answer, not an error.
func (c *Collection) Ask(ctx context.Context, req grounded.AskRequest) (*grounded.Answer, error) {
	if err := req.Check(); err != nil {
		return nil, err
	}
	_, a, err := c.loaded(ctx)
	if err != nil {
		return nil, err
	}
	return a.Ask(ctx, req)
}

// Candidates are the passages the answerer reads for req.Question and
// every sentence it weighs, with its evidence features: what evaluations
// dump to fit and check the answer model (answer/train).
func (c *Collection) Candidates(ctx context.Context, req grounded.AskRequest) ([]grounded.Hit, []answer.Candidate, error) {
	if err := req.Check(); err != nil {
		return nil, nil, err
	}
	_, a, err := c.loaded(ctx)
	if err != nil {
		return nil, nil, err
	}
	return a.Candidates(ctx, req)
}

// Search returns the collection's best passages for req.Query (see
// grounded.SearchRequest). Errors: EINVALID for a request that fails
// SearchRequest.Check.
func (c *Collection) Search(ctx context.Context, req grounded.SearchRequest) ([]grounded.Hit, error) {
	if err := req.Check(); err != nil {
		return nil, err
	}
	_, a, err := c.loaded(ctx)
	if err != nil {
		return nil, err
	}
	return a.Search(ctx, req)
}

// Ingest ingests files and folders (see ingest.Pipeline.Paths), passing
// each event to progress (may be nil).
func (c *Collection) Ingest(ctx context.Context, paths []string, progress func(ingest.Event)) (ingest.Summary, error) {
	return c.change(ctx, progress, func(p *ingest.Pipeline, emit func(ingest.Event)) (ingest.Summary, error) {
		return p.Paths(ctx, paths, emit)
	})
}

// IngestFS ingests every file of fsys, named prefix + "/" + its path.
func (c *Collection) IngestFS(ctx context.Context, fsys fs.FS, prefix string, progress func(ingest.Event)) (ingest.Summary, error) {
	return c.change(ctx, progress, func(p *ingest.Pipeline, emit func(ingest.Event)) (ingest.Summary, error) {
		return p.FS(ctx, fsys, prefix, emit)
	})
}

// Sync makes the collection match the folder root (see ingest.Pipeline.Sync).
func (c *Collection) Sync(ctx context.Context, root string, progress func(ingest.Event)) (ingest.Summary, error) {
	return c.change(ctx, progress, func(p *ingest.Pipeline, emit func(ingest.Event)) (ingest.Summary, error) {
		return p.Sync(ctx, root, emit)
	})
}

// change runs one ingest under the write lock. Each event it emits is
// applied to the live index (when loaded) as it comes, after its commit,
// one whole document at a time, and then passed to progress (may be nil).
func (c *Collection) change(ctx context.Context, progress func(ingest.Event), run func(*ingest.Pipeline, func(ingest.Event)) (ingest.Summary, error)) (ingest.Summary, error) {
	c.write.Lock()
	defer c.write.Unlock()
	ch, err := c.set.Chunker()
	if err != nil {
		return ingest.Summary{}, err
	}
	p, err := ingest.New(ingest.Config{Chunker: ch, Embedder: c.set.cfg.Embedder, Sink: c.store, Load: c.set.cfg.Load, MaxFileBytes: c.set.cfg.MaxFileBytes})
	if err != nil {
		return ingest.Summary{}, err
	}
	var applyErr error
	sum, err := run(p, func(e ingest.Event) {
		if aerr := c.applyLocked(ctx, e); aerr != nil && applyErr == nil {
			applyErr = aerr
		}
		if progress != nil {
			progress(e)
		}
	})
	if err == nil {
		err = applyErr
	}
	return sum, err
}

// applyLocked applies one committed change to the live index, if loaded
// (else the index is loaded from the store when first needed). The caller
// holds c.write.
func (c *Collection) applyLocked(ctx context.Context, e ingest.Event) error {
	c.mu.RLock()
	ix := c.index
	c.mu.RUnlock()
	if ix == nil {
		return nil
	}
	switch e.Kind {
	case ingest.Removed:
		return ix.RemoveDocument(ctx, e.ID)
	case ingest.Added, ingest.Updated:
		if err := ix.Add(ctx, e.Doc.Chunks, e.Doc.Vectors); err != nil {
			return fmt.Errorf("update index: %w", err)
		}
	}
	return nil
}

// Put ingests one document handed over in memory. The same source with the
// same content is left as it is (Outcome "unchanged"); changed content
// replaces the document's chunks. A document that cannot be loaded is an
// error and changes nothing.
func (c *Collection) Put(ctx context.Context, up grounded.Upload) (*grounded.PutResult, error) {
	if up.Source == "" {
		return nil, grounded.Errorf(grounded.EINVALID, "a document needs a source (its name)")
	}
	var res ingest.Event
	_, err := c.change(ctx, func(e ingest.Event) { res = e }, func(p *ingest.Pipeline, emit func(ingest.Event)) (ingest.Summary, error) {
		return ingest.Summary{}, p.Put(ctx, up, emit)
	})
	if err != nil {
		return nil, err
	}
	doc, err := c.Document(ctx, res.ID)
	if err != nil {
		return nil, err
	}
	doc.Text, doc.Sections = "", nil
	return &grounded.PutResult{Outcome: res.Kind, Document: doc}, nil
}

// Documents lists up to limit documents in source order after the source
// after; total counts all of them.
func (c *Collection) Documents(ctx context.Context, after string, limit int) ([]grounded.Document, int, error) {
	return c.store.Documents(ctx, after, limit)
}

// Document returns one document with its text and sections, or an
// ENOTFOUND error.
func (c *Collection) Document(ctx context.Context, id string) (*grounded.Document, error) {
	d, err := c.store.Document(ctx, id)
	if errors.Is(err, grounded.ErrNotFound) {
		return nil, grounded.Errorf(grounded.ENOTFOUND, "document %q is not in collection %q", id, c.name)
	}
	return d, err
}

// Delete removes a document from the store and the live index; ENOTFOUND
// when there is no such document.
func (c *Collection) Delete(ctx context.Context, id string) error {
	c.write.Lock()
	defer c.write.Unlock()
	if err := c.store.Delete(ctx, id); err != nil {
		if errors.Is(err, grounded.ErrNotFound) {
			return grounded.Errorf(grounded.ENOTFOUND, "document %q is not in collection %q", id, c.name)
		}
		return err
	}
	return c.applyLocked(ctx, ingest.Event{Kind: ingest.Removed, ID: id})
}

// EnsureFilled ingests fsys (named prefix/...) when the collection holds no
// document, and says so on w: the default corpus for a new data folder.
func (c *Collection) EnsureFilled(ctx context.Context, fsys fs.FS, prefix string, w io.Writer) error {
	docs, _, err := c.store.Counts(ctx)
	if err != nil || docs > 0 {
		return err
	}
	fmt.Fprintf(w, "grounded: %s holds no index; ingesting the built-in default corpus first\n", c.set.cfg.Dir)
	sum, err := c.IngestFS(ctx, fsys, prefix, func(e ingest.Event) {
		if e.Kind == ingest.Failed {
			fmt.Fprintf(w, "skipped: %v\n", e.Err)
		}
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "grounded: %s\n", sum)
	return nil
}
