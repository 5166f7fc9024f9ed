package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/corpus"
	"github.com/groundedhq/grounded/ingest"
	"github.com/groundedhq/grounded/ingest/internal/ingesttest"
	"github.com/groundedhq/grounded/internal/textproc"
	"github.com/groundedhq/grounded/retrieval"
)

// memSink is an in-memory ingest.Sink that records every Put.
type memSink struct {
	mu       sync.Mutex
	docs     map[string]grounded.IndexedDocument // by source
	puts     [][]string                          // sources of each Put call
	hashErr  error
	putErr   error
	putCalls int
}

var _ ingest.Sink = (*memSink)(nil)

func newMemSink() *memSink { return &memSink{docs: map[string]grounded.IndexedDocument{}} }

func (s *memSink) Hashes(ctx context.Context) (map[string]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hashErr != nil {
		return nil, s.hashErr
	}
	out := make(map[string]string, len(s.docs))
	for src, d := range s.docs {
		out[src] = d.Document.ContentHash
	}
	return out, nil
}

func (s *memSink) Delete(ctx context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for src := range s.docs {
		if ingest.DocID(src) == id {
			delete(s.docs, src)
			return nil
		}
	}
	return grounded.ErrNotFound
}

func (s *memSink) Put(ctx context.Context, docs []grounded.IndexedDocument) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.putCalls++
	if s.putErr != nil {
		return s.putErr
	}
	var sources []string
	for _, d := range docs {
		s.docs[d.Document.Source] = d
		sources = append(sources, d.Document.Source)
	}
	s.puts = append(s.puts, sources)
	return nil
}

// written returns how many documents all successful Puts held.
func (s *memSink) written() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, p := range s.puts {
		n += len(p)
	}
	return n
}

func (s *memSink) chunks() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, d := range s.docs {
		n += len(d.Chunks)
	}
	return n
}

const testDim = 384

func hashEmbedder() grounded.Embedder { return retrieval.HashEmbedder(testDim, textproc.NewAnalyzer()) }

func newPipeline(t *testing.T, sink ingest.Sink, mutate func(*ingest.Config)) *ingest.Pipeline {
	t.Helper()
	cfg := ingest.Config{
		Chunker:  ingesttest.Chunker(t, ingest.ChunkConfig{}),
		Embedder: hashEmbedder(),
		Sink:     sink,
		Workers:  4,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	p, err := ingest.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// writeTree writes files (slash-separated names) under dir.
func writeTree(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	for name, data := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// compareSummary compares the counts of a summary (not Duration or Failures).
func compareSummary(t *testing.T, got, want ingest.Summary) {
	t.Helper()
	got.Duration, got.Failures, want.Failures = 0, nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("summary\n got  %+v\n want %+v", got, want)
	}
}

func TestPipelineFolder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	big := []byte(strings.Repeat("This file is over the size limit. ", 200)) // 6800 bytes
	files := map[string][]byte{
		"guide.md":             ingesttest.ReadFixture(t, "guide.md"),
		"notes.txt":            ingesttest.ReadFixture(t, "notes.txt"),
		"page.html":            ingesttest.ReadFixture(t, "page.html"),
		"sub/nested.md":        []byte("# Nested\n\nA nested document about grounding.\n"),
		"diagram.png":          []byte("\x89PNG not really"),
		"empty.md":             {},
		"bad.txt":              []byte("abc\xffdef"),
		"big.txt":              big,
		".hidden/secret.md":    []byte("# Secret\n\nMust be skipped.\n"),
		".dotfile.md":          []byte("# Dot\n\nMust be skipped.\n"),
		"sub/.cache/cached.md": []byte("# Cached\n\nMust be skipped.\n"),
	}
	writeTree(t, dir, files)
	counted := []string{"guide.md", "notes.txt", "page.html", "sub/nested.md", "diagram.png", "empty.md", "bad.txt", "big.txt"}
	var bytes int64
	for _, name := range counted {
		bytes += int64(len(files[name]))
	}
	abs := func(name string) string { return filepath.Join(dir, filepath.FromSlash(name)) }

	sink := newMemSink()
	var (
		mu       sync.Mutex
		progress []ingest.Event
		inside   atomic.Int32
	)
	p := newPipeline(t, sink, func(c *ingest.Config) { c.MaxFileBytes = 4096 })
	ctx := context.Background()

	sum, err := p.Paths(ctx, []string{dir}, func(r ingest.Event) {
		if inside.Add(1) != 1 {
			t.Errorf("Progress called concurrently")
		}
		defer inside.Add(-1)
		mu.Lock()
		progress = append(progress, r)
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	compareSummary(t, sum, ingest.Summary{
		Files: 8, Added: 4, Unsupported: 1, Failed: 3,
		Chunks: sink.chunks(), Bytes: bytes,
	})
	if sum.Chunks < 4 {
		t.Errorf("Chunks = %d, want at least one per added file", sum.Chunks)
	}

	// Failures name the file and say why.
	wantFail := map[string]string{
		abs("empty.md"): grounded.EINVALID,
		abs("bad.txt"):  grounded.EINVALID,
		abs("big.txt"):  grounded.ETOOLARGE,
	}
	if len(sum.Failures) != len(wantFail) {
		t.Errorf("Failures = %+v, want %d", sum.Failures, len(wantFail))
	}
	for _, f := range sum.Failures {
		code, ok := wantFail[f.Source]
		if !ok || f.Kind != ingest.Failed || grounded.ErrorCode(f.Err) != code {
			t.Errorf("failure %s: outcome %s, error %v (code %q); want code %q", f.Source, f.Kind, f.Err, grounded.ErrorCode(f.Err), code)
		}
		if !strings.Contains(f.Err.Error(), f.Source) {
			t.Errorf("failure error %q does not name %s", f.Err, f.Source)
		}
	}

	// Progress saw each counted file once, with its outcome.
	wantOutcome := map[string]string{
		abs("guide.md"): ingest.Added, abs("notes.txt"): ingest.Added, abs("page.html"): ingest.Added,
		abs("sub/nested.md"): ingest.Added, abs("diagram.png"): ingest.Unsupported,
		abs("empty.md"): ingest.Failed, abs("bad.txt"): ingest.Failed, abs("big.txt"): ingest.Failed,
	}
	if len(progress) != len(wantOutcome) {
		t.Errorf("Progress called %d times, want %d", len(progress), len(wantOutcome))
	}
	for _, r := range progress {
		if want, ok := wantOutcome[r.Source]; !ok || r.Kind != want {
			t.Errorf("progress %s: outcome %q, want %q", r.Source, r.Kind, want)
		}
	}

	// The sink holds exactly the added documents, fully formed.
	var stored []string
	for src := range sink.docs {
		stored = append(stored, src)
	}
	slices.Sort(stored)
	wantStored := []string{abs("guide.md"), abs("notes.txt"), abs("page.html"), abs("sub/nested.md")}
	slices.Sort(wantStored)
	if !slices.Equal(stored, wantStored) {
		t.Fatalf("stored %q, want %q", stored, wantStored)
	}
	ch := ingesttest.Chunker(t, ingest.ChunkConfig{})
	for _, src := range wantStored {
		d := sink.docs[src]
		data := files[strings.TrimPrefix(filepath.ToSlash(strings.TrimPrefix(src, dir)), "/")]
		if d.Document.ContentHash != ingest.ContentHash(data) || d.Document.ID != ingest.DocID(src) || d.Document.Source != src {
			t.Errorf("%s: stored document has hash %s, id %s, source %s", src, d.Document.ContentHash, d.Document.ID, d.Document.Source)
		}
		if d.Document.IngestedAt.IsZero() || d.Document.IngestedAt.Location() != time.UTC {
			t.Errorf("%s: IngestedAt = %v", src, d.Document.IngestedAt)
		}
		ingesttest.CheckDoc(t, d.Document)
		ingesttest.CheckChunks(t, d.Document, d.Chunks)
		want := ch.Chunk(d.Document)
		if !slices.EqualFunc(d.Chunks, want, func(a, b grounded.Chunk) bool { return reflect.DeepEqual(a, b) }) {
			t.Errorf("%s: stored chunks differ from Chunker.Chunk of the document", src)
		}
		if len(d.Vectors) != len(d.Chunks) {
			t.Errorf("%s: %d vectors for %d chunks", src, len(d.Vectors), len(d.Chunks))
			continue
		}
		texts := make([]string, len(d.Chunks))
		for i, c := range d.Chunks {
			texts[i] = ingest.EmbedText(c)
		}
		vecs, err := hashEmbedder().Embed(ctx, texts)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range d.Vectors {
			if !slices.Equal(v, vecs[i]) {
				t.Errorf("%s: vector %d is not the embedding of EmbedText(chunk %d)", src, i, i)
			}
		}
	}
	putsAfterFirst := len(sink.puts)

	t.Run("rerun unchanged", func(t *testing.T) {
		sum, err := p.Paths(ctx, []string{dir}, nil)
		if err != nil {
			t.Fatal(err)
		}
		compareSummary(t, sum, ingest.Summary{Files: 8, Unchanged: 4, Unsupported: 1, Failed: 3, Bytes: bytes})
		if len(sink.puts) != putsAfterFirst {
			t.Errorf("an unchanged rerun wrote %d more batches", len(sink.puts)-putsAfterFirst)
		}
	})

	t.Run("changed and new files", func(t *testing.T) {
		changed := []byte("Release notes, second edition\n\nEverything changed in this version.\n")
		writeTree(t, dir, map[string][]byte{"notes.txt": changed, "sub/new.md": []byte("# New\n\nA new file.\n")})
		sum, err := p.Paths(ctx, []string{dir}, nil)
		if err != nil {
			t.Fatal(err)
		}
		notes, fresh := sink.docs[abs("notes.txt")], sink.docs[abs("sub/new.md")]
		wantBytes := bytes - int64(len(files["notes.txt"])) + int64(len(changed)) + int64(len("# New\n\nA new file.\n"))
		compareSummary(t, sum, ingest.Summary{
			Files: 9, Added: 1, Updated: 1, Unchanged: 3, Unsupported: 1, Failed: 3,
			Chunks: len(notes.Chunks) + len(fresh.Chunks), Bytes: wantBytes,
		})
		if notes.Document == nil || notes.Document.ContentHash != ingest.ContentHash(changed) || notes.Document.Title != "Release notes, second edition" {
			t.Errorf("notes.txt was not replaced: %+v", notes.Document)
		}
		if got := sink.written(); got != 4+2 {
			t.Errorf("%d documents written in all, want 6", got)
		}
	})
}

func TestPipelineBatches(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files := map[string][]byte{}
	for i := range 7 {
		files[fmt.Sprintf("doc%d.md", i)] = fmt.Appendf(nil, "# Doc %d\n\nBody of document %d.\n", i, i)
	}
	writeTree(t, dir, files)
	sink := newMemSink()
	p := newPipeline(t, sink, func(c *ingest.Config) { c.BatchDocs = 2; c.Workers = 3 })
	sum, err := p.Paths(context.Background(), []string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Added != 7 || sum.Files != 7 {
		t.Errorf("summary %+v, want 7 files added", sum)
	}
	var sizes []int
	for _, p := range sink.puts {
		sizes = append(sizes, len(p))
	}
	if !slices.Equal(sizes, []int{2, 2, 2, 1}) {
		t.Errorf("batch sizes %v, want [2 2 2 1]", sizes)
	}
}

func TestPipelineDuplicatePaths(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, map[string][]byte{"a.md": []byte("# A\n\ntext\n"), "b.txt": []byte("b text\n")})
	sink := newMemSink()
	p := newPipeline(t, sink, nil)
	sum, err := p.Paths(context.Background(), []string{dir, filepath.Join(dir, "a.md"), dir + "/./b.txt", dir + "/sub/../a.md"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	compareSummary(t, sum, ingest.Summary{Files: 2, Added: 2, Chunks: sink.chunks(), Bytes: int64(len("# A\n\ntext\n") + len("b text\n"))})
	for src := range sink.docs {
		if src != filepath.Clean(src) || !filepath.IsAbs(src) {
			t.Errorf("source %q is not an absolute, clean path", src)
		}
	}
}

func TestPipelineMissingPath(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, map[string][]byte{"a.md": []byte("# A\n\ntext\n")})
	sink := newMemSink()
	p := newPipeline(t, sink, nil)
	_, err := p.Paths(context.Background(), []string{dir, filepath.Join(dir, "missing")}, nil)
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("error %v, want one wrapping os.ErrNotExist", err)
	}
	if sink.putCalls != 0 {
		t.Errorf("%d Put calls after a missing path, want none", sink.putCalls)
	}
}

func TestPipelineUnreadableFolder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, map[string][]byte{"a.md": []byte("# A\n\ntext\n"), "locked/b.md": []byte("# B\n\ntext\n")})
	locked := filepath.Join(dir, "locked")
	if err := os.Chmod(locked, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(locked, 0o755) })
	if _, err := os.ReadDir(locked); err == nil {
		t.Skip("the folder stays readable (running as root?)")
	}
	sum, err := newPipeline(t, newMemSink(), nil).Paths(context.Background(), []string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Added != 1 || sum.Failed != 1 || sum.Unsupported != 0 {
		t.Errorf("summary %+v, want a.md added and the unreadable folder failed", sum)
	}
}

func TestPipelineFS(t *testing.T) {
	t.Parallel()
	names, err := os.ReadDir("../corpus")
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, n := range names {
		if strings.HasSuffix(n.Name(), ".md") {
			want++
		}
	}
	sink := newMemSink()
	p := newPipeline(t, sink, nil)
	sum, err := p.FS(context.Background(), corpus.FS, "corpus", nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Files != want || sum.Added != want || sum.Failed != 0 || sum.Chunks != sink.chunks() {
		t.Errorf("summary %+v, want %d files added", sum, want)
	}
	for src, d := range sink.docs {
		if !strings.HasPrefix(src, "corpus/") || !strings.HasSuffix(src, ".md") {
			t.Errorf("source %q, want corpus/<name>.md", src)
		}
		if d.Document.Title == "" || len(d.Chunks) == 0 {
			t.Errorf("%s: title %q, %d chunks", src, d.Document.Title, len(d.Chunks))
		}
	}
}

func TestPipelineSinkErrors(t *testing.T) {
	t.Parallel()
	errBoom := errors.New("boom")
	tests := []struct {
		name    string
		hashErr error
		putErr  error
	}{
		{"hashes", errBoom, nil},
		{"put", nil, errBoom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, map[string][]byte{"a.md": []byte("# A\n\ntext\n"), "b.md": []byte("# B\n\ntext\n")})
			sink := newMemSink()
			sink.hashErr, sink.putErr = tt.hashErr, tt.putErr
			sum, err := newPipeline(t, sink, func(c *ingest.Config) { c.BatchDocs = 1 }).Paths(context.Background(), []string{dir}, nil)
			if !errors.Is(err, errBoom) {
				t.Errorf("error %v, want one wrapping the sink's", err)
			}
			if sum.Added != 0 || len(sink.docs) != 0 {
				t.Errorf("summary %+v with %d stored docs after a sink error", sum, len(sink.docs))
			}
		})
	}
}

func TestPipelineEmbedderErrors(t *testing.T) {
	t.Parallel()
	good := hashEmbedder()
	tests := []struct {
		name     string
		embed    grounded.EmbedFunc
		contains string
	}{
		{"error", func(ctx context.Context, texts []string) ([][]float32, error) {
			return nil, errors.New("provider down")
		}, "provider down"},
		{"too few vectors", func(ctx context.Context, texts []string) ([][]float32, error) {
			v, err := good.Embed(ctx, texts)
			return v[:len(v)-1], err
		}, "vectors for"},
		{"wrong dimension", func(ctx context.Context, texts []string) ([][]float32, error) {
			v, err := good.Embed(ctx, texts)
			v[0] = v[0][:10]
			return v, err
		}, "10-dimensional"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, map[string][]byte{"a.md": []byte("# A\n\ntext\n"), "b.txt": []byte("b text\n")})
			sink := newMemSink()
			p := newPipeline(t, sink, func(c *ingest.Config) {
				c.Embedder = grounded.Embedder{Name: "fake", Dim: testDim, Embed: tt.embed}
			})
			sum, err := p.Paths(context.Background(), []string{dir}, nil)
			if err != nil {
				t.Fatal(err)
			}
			compareSummary(t, sum, ingest.Summary{Files: 2, Failed: 2, Bytes: int64(len("# A\n\ntext\n") + len("b text\n"))})
			for _, f := range sum.Failures {
				if !strings.Contains(f.Err.Error(), tt.contains) {
					t.Errorf("failure %v does not mention %q", f.Err, tt.contains)
				}
			}
			if sink.putCalls != 0 {
				t.Errorf("%d Put calls, want none", sink.putCalls)
			}
		})
	}
}

func TestNewRequiresParts(t *testing.T) {
	t.Parallel()
	full := ingest.Config{Chunker: ingesttest.Chunker(t, ingest.ChunkConfig{}), Embedder: hashEmbedder(), Sink: newMemSink()}
	tests := []struct {
		name   string
		mutate func(*ingest.Config)
		ok     bool
	}{
		{"complete", func(*ingest.Config) {}, true},
		{"no chunker", func(c *ingest.Config) { c.Chunker = nil }, false},
		{"no embed func", func(c *ingest.Config) { c.Embedder.Embed = nil }, false},
		{"no sink", func(c *ingest.Config) { c.Sink = nil }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := full
			tt.mutate(&cfg)
			p, err := ingest.New(cfg)
			if (err == nil) != tt.ok || (p != nil) != tt.ok {
				t.Errorf("New() = %v, %v; want ok=%v", p, err, tt.ok)
			}
		})
	}
}

func TestEmbedText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		c    grounded.Chunk
		want string
	}{
		{"title and section", grounded.Chunk{Title: "Guide", Section: "Costs > GPUs", Text: "body"}, "Guide > Costs > GPUs\n\nbody"},
		{"section starts with title", grounded.Chunk{Title: "Guide", Section: "Guide > Costs", Text: "body"}, "Guide > Costs\n\nbody"},
		{"no section", grounded.Chunk{Title: "Guide", Text: "body"}, "Guide\n\nbody"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ingest.EmbedText(tt.c); got != tt.want {
				t.Errorf("EmbedText = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSummaryString(t *testing.T) {
	t.Parallel()
	s := ingest.Summary{Files: 9, Added: 1, Updated: 2, Unchanged: 3, Unsupported: 1, Failed: 2, Chunks: 40, Bytes: 2_500_000, Duration: 1500 * time.Millisecond}
	want := "9 files: 1 added, 2 updated, 3 unchanged, 1 skipped (unsupported type), 2 failed; 40 chunks written; 2.5 MB in 1.5s"
	if got := s.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
