package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/ingest"
	"github.com/groundedhq/grounded/internal/textproc"
	"github.com/groundedhq/grounded/retrieval"
	"github.com/groundedhq/grounded/store"
)

var _ ingest.Sink = (*store.Store)(nil)

func openStore(t *testing.T, path string) *store.Store {
	t.Helper()
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func mustChunker(t testing.TB) *ingest.Chunker {
	t.Helper()
	ch, err := ingest.NewChunker(ingest.ChunkConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func testEmbedder() grounded.Embedder { return retrieval.HashEmbedder(64, textproc.NewAnalyzer()) }

func newPipeline(t testing.TB, sink ingest.Sink) *ingest.Pipeline {
	t.Helper()
	p, err := ingest.New(ingest.Config{
		Chunker:   mustChunker(t),
		Embedder:  testEmbedder(),
		Sink:      sink,
		BatchDocs: 4,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// writeDocs writes n Markdown files of a few chunks each; version changes
// their wording so every file's hash and chunks differ between versions.
func writeDocs(t testing.TB, dir string, n int, version string) {
	t.Helper()
	for i := range n {
		var b strings.Builder
		fmt.Fprintf(&b, "# Document %d\n\n", i)
		for s := range 3 + i%4 {
			fmt.Fprintf(&b, "## Section %d\n\n", s)
			for p := range 6 {
				fmt.Fprintf(&b, "Paragraph %d of section %d in document %d, %s edition, explains how retrieval keeps answers grounded in sources. ", p, s, i, version)
				b.WriteString("Every sentence here is long enough to make the chunker work for its living and split sections into several chunks.\n\n")
			}
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("doc-%03d.md", i)), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

type snapshot struct {
	hash   map[string]string // source -> content hash
	chunks map[string][]string
}

func snap(t testing.TB, st *store.Store) snapshot {
	t.Helper()
	ctx := context.Background()
	h, err := st.Hashes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s := snapshot{hash: h, chunks: map[string][]string{}}
	err = st.ForEachChunk(ctx, func(c grounded.Chunk, v []float32) error {
		if c.Text == "" || len(v) == 0 {
			return fmt.Errorf("chunk %s has no text or vector", c.ID)
		}
		s.chunks[c.Source] = append(s.chunks[c.Source], fmt.Sprintf("%s[%d:%d]", c.ID, c.Start, c.End))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestReingestUnchangedChangesNothing(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	writeDocs(t, dir, 6, "first")
	st := openStore(t, filepath.Join(t.TempDir(), "g.db"))
	p := newPipeline(t, st)
	sum, err := p.Paths(ctx, []string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Added != 6 || sum.Chunks == 0 {
		t.Fatalf("first ingest: %s", sum)
	}
	before := snap(t, st)
	doc0, err := st.Document(ctx, ingest.DocID(filepath.Join(dir, "doc-000.md")))
	if err != nil {
		t.Fatal(err)
	}

	sum, err = p.Paths(ctx, []string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Unchanged != 6 || sum.Added+sum.Updated != 0 || sum.Chunks != 0 {
		t.Fatalf("second ingest of unchanged files: %s", sum)
	}
	after := snap(t, st)
	if fmt.Sprint(before) != fmt.Sprint(after) {
		t.Fatalf("index changed on re-ingest:\nbefore %v\nafter  %v", before, after)
	}
	again, err := st.Document(ctx, doc0.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !again.IngestedAt.Equal(doc0.IngestedAt) {
		t.Errorf("unchanged document rewritten: ingested_at %v -> %v", doc0.IngestedAt, again.IngestedAt)
	}
	_, chunks, err := st.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range after.chunks {
		n += len(c)
	}
	if chunks != n {
		t.Errorf("Counts says %d chunks, ForEachChunk saw %d", chunks, n)
	}
}

func TestChangedFileReplacesItsChunks(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	writeDocs(t, dir, 4, "first")
	st := openStore(t, filepath.Join(t.TempDir(), "g.db"))
	p := newPipeline(t, st)
	if _, err := p.Paths(ctx, []string{dir}, nil); err != nil {
		t.Fatal(err)
	}
	before := snap(t, st)

	changed := filepath.Join(dir, "doc-002.md")
	short := "# Document 2\n\nNow a single short paragraph about citations.\n"
	if err := os.WriteFile(changed, []byte(short), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := p.Paths(ctx, []string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Updated != 1 || sum.Unchanged != 3 {
		t.Fatalf("after one change: %s", sum)
	}
	after := snap(t, st)
	if got := after.chunks[changed]; len(got) != 1 {
		t.Fatalf("changed file has %d chunks, want 1 (old chunks left behind?): %v", len(got), got)
	}
	if after.hash[changed] != ingest.ContentHash([]byte(short)) {
		t.Errorf("stored hash is not the new content's")
	}
	for src, c := range before.chunks {
		if src != changed && fmt.Sprint(after.chunks[src]) != fmt.Sprint(c) {
			t.Errorf("%s changed though its file did not", src)
		}
	}
	doc, err := st.Document(ctx, ingest.DocID(changed))
	if err != nil {
		t.Fatal(err)
	}
	if doc.Text != short {
		t.Errorf("stored text %q, want the new file", doc.Text)
	}
}

func TestUseEmbedderRefusesAnother(t *testing.T) {
	path := filepath.Join(t.TempDir(), "g.db")
	st := openStore(t, path)
	if err := st.UseEmbedder("hash-v1", 384); err != nil {
		t.Fatal(err)
	}
	if err := st.UseEmbedder("hash-v1", 384); err != nil {
		t.Fatalf("same embedder refused: %v", err)
	}
	for _, tc := range []struct {
		name string
		dim  int
	}{{"hash-v1", 256}, {"openai:text-embedding-3-small", 384}} {
		err := st.UseEmbedder(tc.name, tc.dim)
		if grounded.ErrorCode(err) != grounded.ECONFLICT {
			t.Fatalf("UseEmbedder(%s, %d) = %v, want a conflict", tc.name, tc.dim, err)
		}
		msg := grounded.ErrorMessage(err)
		if !strings.Contains(msg, "hash-v1") || !strings.Contains(msg, tc.name) {
			t.Errorf("message does not name both embedders: %s", msg)
		}
	}
}

func TestDeleteAndNotFound(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	writeDocs(t, dir, 2, "first")
	st := openStore(t, filepath.Join(t.TempDir(), "g.db"))
	if _, err := newPipeline(t, st).Paths(ctx, []string{dir}, nil); err != nil {
		t.Fatal(err)
	}
	id := ingest.DocID(filepath.Join(dir, "doc-000.md"))
	if err := st.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Document(ctx, id); !errors.Is(err, grounded.ErrNotFound) {
		t.Errorf("Document after Delete: %v, want ErrNotFound", err)
	}
	if err := st.Delete(ctx, id); !errors.Is(err, grounded.ErrNotFound) {
		t.Errorf("second Delete: %v, want ErrNotFound", err)
	}
	s := snap(t, st)
	if len(s.chunks) != 1 || len(s.hash) != 1 {
		t.Errorf("after delete: %d sources with chunks, %d documents; want 1 and 1", len(s.chunks), len(s.hash))
	}
}

func TestPutRefusesMismatchedVectors(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "g.db"))
	doc := &grounded.Document{ID: "d", Source: "s.md", Title: "t", Format: "markdown", Text: "hello world", ContentHash: "h"}
	err := st.Put(context.Background(), []grounded.IndexedDocument{{
		Document: doc,
		Chunks:   []grounded.Chunk{{ID: "d-0", DocID: "d", Start: 0, End: 5}},
	}})
	if err == nil {
		t.Fatal("Put accepted a chunk without a vector")
	}
	if docs, _, _ := st.Counts(context.Background()); docs != 0 {
		t.Errorf("a failed Put left %d documents", docs)
	}
}
