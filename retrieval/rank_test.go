package retrieval_test

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"testing"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/corpus"
	"github.com/groundedhq/grounded/ingest"
	"github.com/groundedhq/grounded/internal/textproc"
	"github.com/groundedhq/grounded/retrieval"
)

var update = flag.Bool("update", false, "rewrite golden files")

// corpusChunks loads and chunks the default corpus, with hash vectors.
func corpusChunks(t testing.TB) ([]grounded.Chunk, [][]float32, *textproc.Analyzer, grounded.Embedder) {
	t.Helper()
	an := textproc.NewAnalyzer()
	emb := retrieval.HashEmbedder(384, an)
	ch, err := ingest.NewChunker(ingest.ChunkConfig{})
	if err != nil {
		t.Fatal(err)
	}
	names, err := fs.Glob(corpus.FS, "*.md")
	if err != nil || len(names) == 0 {
		t.Fatalf("corpus: %v %d files", err, len(names))
	}
	var chunks []grounded.Chunk
	var texts []string
	for _, n := range names {
		data, _ := fs.ReadFile(corpus.FS, n)
		doc, err := ingest.Load("corpus/"+n, data)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range ch.Chunk(doc) {
			chunks = append(chunks, c)
			texts = append(texts, ingest.EmbedText(c))
		}
	}
	vecs, err := emb.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	return chunks, vecs, an, emb
}

type rankQuery struct{ query, file string }

func readQueries(t *testing.T) []rankQuery {
	f, err := os.Open("testdata/rank/queries.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var qs []rankQuery
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		q, file, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("bad line %q", line)
		}
		qs = append(qs, rankQuery{q, file})
	}
	return qs
}

// TestRankingStats measures recall@1, recall@5 and MRR@10 (a hit is any chunk
// of the relevant document) for lexical, vector and fused retrieval over the
// default corpus, and compares them with testdata/rank/stats.golden. A
// ranking change shows up as a diff of that file in review; refresh it with
// go test ./retrieval -run TestRankingStats -update.
func TestRankingStats(t *testing.T) {
	chunks, vecs, an, emb := corpusChunks(t)
	queries := readQueries(t)
	modes := []struct {
		name   string
		fusion retrieval.FusionParams
	}{
		{"lexical", retrieval.FusionParams{LexicalWeight: 1, VectorWeight: 0}},
		{"vector", retrieval.FusionParams{LexicalWeight: 0, VectorWeight: 1}},
		{"hybrid-equal", retrieval.FusionParams{LexicalWeight: 1, VectorWeight: 1}},
		{"hybrid-default", retrieval.FusionParams{}},
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# %d queries over the default corpus (%d chunks); hit = a chunk of the relevant file\n", len(queries), len(chunks))
	fmt.Fprintf(&b, "%-15s %9s %9s %7s\n", "mode", "recall@1", "recall@5", "MRR@10")
	stats := map[string]float64{}
	for _, m := range modes {
		ix, err := retrieval.New(retrieval.Config{Embedder: emb, Analyzer: an, Fusion: m.fusion})
		if err != nil {
			t.Fatal(err)
		}
		if err := ix.Add(context.Background(), chunks, vecs); err != nil {
			t.Fatal(err)
		}
		var r1, r5, mrr float64
		for _, q := range queries {
			hits, err := ix.Search(context.Background(), q.query, 10, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i, h := range hits {
				if path.Base(h.Source) == q.file {
					mrr += 1 / float64(i+1)
					if i == 0 {
						r1++
					}
					if i < 5 {
						r5++
					}
					break
				}
			}
		}
		n := float64(len(queries))
		fmt.Fprintf(&b, "%-15s %9.3f %9.3f %7.3f\n", m.name, r1/n, r5/n, mrr/n)
		stats[m.name] = mrr / n
	}
	golden := "testdata/rank/stats.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != b.String() {
		t.Errorf("ranking changed; if intended, run with -update.\n--- want\n%s--- got\n%s", want, b.String())
	}
	// The shipped default must not rank worse than BM25 alone.
	if stats["hybrid-default"] < stats["lexical"] {
		t.Errorf("default fusion MRR %.3f is below lexical-only %.3f", stats["hybrid-default"], stats["lexical"])
	}
}
