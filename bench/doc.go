// Package bench holds grounded's end-to-end benchmarks; it has no code of its
// own outside its tests. They measure what a user of the service waits for:
//
//   - BenchmarkIngestPostgresManual: the ingest pipeline (load, chunk, hash
//     embed, SQLite store) over the PostgreSQL 15 HTML manual, in MB/s.
//   - BenchmarkSearch and BenchmarkAsk: hybrid search (BM25 + vectors, fused
//     by reciprocal rank) and extractive answering over 10k and 100k
//     synthetic chunks, with p50 and p99 latency.
//   - BenchmarkBareChromem: a brute-force chromem-go query over the same
//     vectors, the floor that hybrid search is compared with;
//     BenchmarkSearchVsBare runs the two back to back per query, so the
//     comparison holds on a machine shared with other work.
//   - BenchmarkBareChromemDepth100 and BenchmarkQueryEmbed: the parts of
//     Search's vector half (a depth-100 scan, hash-embedding the question).
//
// With -args -profiledir DIR, each corpus-size sub-benchmark writes a CPU
// profile of its timed loop alone, without the corpus build, to DIR.
//
// The synthetic corpus is deterministic: English-like sentences drawn from a
// Zipf distribution over a few thousand words, with per-document topic words
// (see corpus_test.go). bench/run.sh installs the manual, runs everything and
// times the CLI; plain `go test ./bench` runs only a quick smoke test.
package bench
