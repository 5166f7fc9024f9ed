package bench_test

import (
	"context"
	"flag"
	"math"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/internal/textproc"
	"github.com/groundedhq/grounded/retrieval"
)

// latency collects the duration of each operation of a benchmark.
type latency []time.Duration

// report adds the p50 and p99 of the durations, in milliseconds, to the
// benchmark's result. p99 is the nearest-rank percentile: with fewer than
// 100 operations it is the slowest one.
func (l latency) report(b *testing.B) {
	if len(l) == 0 {
		return
	}
	b.ReportMetric(l.percentile(0.50), "p50-ms")
	b.ReportMetric(l.percentile(0.99), "p99-ms")
}

// percentile returns the nearest-rank p-th percentile (0 < p <= 1) in
// milliseconds.
func (l latency) percentile(p float64) float64 {
	s := slices.Clone(l)
	slices.Sort(s)
	i := int(math.Ceil(float64(len(s))*p)) - 1
	return float64(s[max(i, 0)]) / float64(time.Millisecond)
}

var profileDir = flag.String("profiledir", "",
	"write a CPU profile of each corpus-size sub-benchmark to `DIR`/NAME.prof, leaving out "+
		"the corpus build that -cpuprofile would include (do not use both)")

// forSizes runs bench once per corpus size as a sub-benchmark, with the
// size's fixture already built (outside the timer).
func forSizes(b *testing.B, bench func(b *testing.B, f *fixture)) {
	for _, s := range sizes {
		b.Run(s.name, func(b *testing.B) {
			f := fixtureFor(b, s)
			b.Logf("%s fixture: %d chunks, %d queries, built in %s", s.name, len(f.chunks), len(f.queries), f.built.Round(time.Millisecond))
			if *profileDir != "" {
				stop := startProfile(b, filepath.Join(*profileDir, strings.ReplaceAll(b.Name(), "/", "-")+".prof"))
				defer stop()
			}
			bench(b, f)
		})
	}
}

func startProfile(b *testing.B, path string) (stop func()) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		b.Fatal(err)
	}
	out, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(out); err != nil {
		out.Close()
		b.Fatalf("profile: %v", err)
	}
	return func() {
		pprof.StopCPUProfile()
		if err := out.Close(); err != nil {
			b.Error(err)
		}
	}
}

// BenchmarkSearch measures hybrid search, top 10: the query is analyzed for
// BM25 and hash-embedded, both retrievers run (100 candidates each) and the
// results are fused.
func BenchmarkSearch(b *testing.B) {
	forSizes(b, func(b *testing.B, f *fixture) {
		ctx := context.Background()
		var lat latency
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			q := f.queries[i%len(f.queries)]
			began := time.Now()
			hits, err := f.index.Search(ctx, q, 10, nil)
			lat = append(lat, time.Since(began))
			if err != nil {
				b.Fatal(err)
			}
			if len(hits) == 0 {
				b.Fatalf("%q: no hits", q)
			}
		}
		lat.report(b)
	})
}

// BenchmarkAsk measures the extractive answerer with its default 5
// passages: a search, then sentence scoring over the passages. answered-frac
// is the share of questions answered rather than abstained on.
func BenchmarkAsk(b *testing.B) {
	forSizes(b, func(b *testing.B, f *fixture) {
		ctx := context.Background()
		var lat latency
		answered := 0
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			q := f.queries[i%len(f.queries)]
			began := time.Now()
			ans, err := f.answers.Ask(ctx, grounded.AskRequest{Question: q})
			lat = append(lat, time.Since(began))
			if err != nil {
				b.Fatal(err)
			}
			if !ans.Abstained {
				answered++
			}
		}
		lat.report(b)
		b.ReportMetric(float64(answered)/float64(len(lat)), "answered-frac")
	})
}

// BenchmarkBareChromem is the floor for the vector half of search: a
// brute-force top-10 query of a chromem-go collection holding the same unit
// vectors, given the query's vector (no embedding, no BM25, no fusion).
func BenchmarkBareChromem(b *testing.B) {
	forSizes(b, func(b *testing.B, f *fixture) {
		benchBare(b, f, 10)
	})
}

// BenchmarkBareChromemDepth100 is the same query at the depth hybrid search
// asks its vector retriever for (FusionParams.Depth, 100).
func BenchmarkBareChromemDepth100(b *testing.B) {
	forSizes(b, func(b *testing.B, f *fixture) {
		benchBare(b, f, 100)
	})
}

func benchBare(b *testing.B, f *fixture, k int) {
	col, err := f.bare()
	if err != nil {
		b.Fatalf("fill chromem-go: %v", err)
	}
	ctx := context.Background()
	var lat latency
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		qv := f.qvecs[i%len(f.qvecs)]
		began := time.Now()
		res, err := col.QueryEmbedding(ctx, qv, k, nil, nil)
		lat = append(lat, time.Since(began))
		if err != nil {
			b.Fatal(err)
		}
		if len(res) != k {
			b.Fatalf("%d results, want %d", len(res), k)
		}
	}
	lat.report(b)
}

// BenchmarkQueryEmbed measures hash-embedding one question, the part of
// Search's vector half that the bare chromem-go query is spared.
func BenchmarkQueryEmbed(b *testing.B) {
	queries := newCorpus(chunksPerDoc).queries
	emb := retrieval.HashEmbedder(embedDim, textproc.NewAnalyzer())
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := emb.Embed(ctx, []string{queries[i%len(queries)]}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSearchVsBare runs each query through hybrid Search and through the
// bare chromem-go top-10 query back to back, alternating which goes first, so
// that both see the same load on a shared machine. It reports each one's p50
// and the median of the per-query ratios hybrid/bare (ns/op is the pair).
func BenchmarkSearchVsBare(b *testing.B) {
	forSizes(b, func(b *testing.B, f *fixture) {
		col, err := f.bare()
		if err != nil {
			b.Fatalf("fill chromem-go: %v", err)
		}
		ctx := context.Background()
		var hybrid, bare latency
		var ratios []float64
		for i := 0; b.Loop(); i++ {
			q, qv := f.queries[i%len(f.queries)], f.qvecs[i%len(f.qvecs)]
			var th, tb time.Duration
			search := func() {
				began := time.Now()
				if _, err := f.index.Search(ctx, q, 10, nil); err != nil {
					b.Fatal(err)
				}
				th = time.Since(began)
			}
			scan := func() {
				began := time.Now()
				if _, err := col.QueryEmbedding(ctx, qv, 10, nil, nil); err != nil {
					b.Fatal(err)
				}
				tb = time.Since(began)
			}
			if i%2 == 0 {
				search()
				scan()
			} else {
				scan()
				search()
			}
			hybrid, bare = append(hybrid, th), append(bare, tb)
			ratios = append(ratios, float64(th)/float64(tb))
		}
		slices.Sort(ratios)
		b.ReportMetric(hybrid.percentile(0.5), "search-p50-ms")
		b.ReportMetric(bare.percentile(0.5), "bare-p50-ms")
		b.ReportMetric(ratios[len(ratios)/2], "ratio-p50")
	})
}
