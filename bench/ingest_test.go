package bench_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/groundedhq/grounded/ingest"
	"github.com/groundedhq/grounded/internal/textproc"
	"github.com/groundedhq/grounded/retrieval"
	"github.com/groundedhq/grounded/store"
)

// postgresManual is where Debian's postgresql-doc-15 package puts the
// PostgreSQL 15 manual: about 1,170 HTML files, 16 MB.
const postgresManual = "/usr/share/doc/postgresql-doc-15/html"

// BenchmarkIngestPostgresManual ingests the PostgreSQL manual into a new
// store per iteration, wired as the CLI wires it: default chunker, hash
// embedder (384 dimensions), default pipeline settings. MB/s counts the
// bytes of the files read; chunks and docs are per ingest.
func BenchmarkIngestPostgresManual(b *testing.B) {
	if _, err := os.Stat(postgresManual); err != nil {
		b.Skipf("%s not found (%v): install it with `apt-get install postgresql-doc-15`, or run bench/run.sh", postgresManual, err)
	}
	ctx := context.Background()
	chunker, err := ingest.NewChunker(ingest.ChunkConfig{})
	if err != nil {
		b.Fatal(err)
	}
	emb := retrieval.HashEmbedder(embedDim, textproc.NewAnalyzer())
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		st, err := store.Open(filepath.Join(b.TempDir(), "grounded.db"))
		if err != nil {
			b.Fatal(err)
		}
		if err := st.UseEmbedder(emb.Name, emb.Dim); err != nil {
			b.Fatal(err)
		}
		p, err := ingest.New(ingest.Config{Chunker: chunker, Embedder: emb, Sink: st})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()

		sum, err := p.Paths(ctx, []string{postgresManual}, nil)

		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		if sum.Failed > 0 || sum.Added == 0 {
			b.Fatalf("ingest: %s; first failure: %v", sum, sum.Failures)
		}
		if err := st.Close(); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(sum.Bytes)
		b.ReportMetric(float64(sum.Chunks), "chunks")
		b.ReportMetric(float64(sum.Added), "docs")
		b.StartTimer()
	}
}
