// Package summarize makes cited summaries of passages: of one document, of
// several, or of the passages retrieved for a topic. It takes plain inputs
// (chunks with their text and offsets, an optional language model, a support
// check, a token counter) and never the store or the index.
//
// The offline default is extractive (lexrank.go): the most central,
// non-redundant sentences of the passages, quoted exactly and each cited.
// With a language model it is map-reduce (mapreduce.go): the model writes
// cited sentences per group of numbered passages, then combines them citing
// the original passage numbers, and every final sentence must pass the
// support check against the passages it cites. When the model fails, the
// extractive summary is returned with the reason.
package summarize

import (
	"cmp"
	"context"
	"slices"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/answer/grounding"
	"github.com/groundedhq/grounded/internal/textproc"
)

// Config wires a Summarizer. Zero fields take the defaults.
type Config struct {
	// Analyzer turns sentences into terms. Default: a new one.
	Analyzer *textproc.Analyzer
	// Model, when set, summarizes by map-reduce (mapreduce.go); nil:
	// extractive. Its PassageTokens is the budget of one map prompt's
	// passages and of a reduce prompt's notes; a reply's default budget is
	// 600 tokens.
	Model *grounding.Model
	// MaxCandidates bounds the sentences the extractive ranking compares
	// pairwise (see lexrank.go). Default 2000.
	MaxCandidates int
	// Parallel is how many map calls run at once. Default 4.
	Parallel int
}

// Summarizer makes summaries. It is safe for concurrent use.
type Summarizer struct {
	cfg Config
	an  *textproc.Analyzer
}

// New returns a Summarizer.
func New(cfg Config) *Summarizer {
	if cfg.Analyzer == nil {
		cfg.Analyzer = textproc.NewAnalyzer()
	}
	cfg.Model = cfg.Model.WithDefaults(cfg.Analyzer)
	if cfg.MaxCandidates <= 0 {
		cfg.MaxCandidates = 2000
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 4
	}
	return &Summarizer{cfg: cfg, an: cfg.Analyzer}
}

// Input is what one summary is made from.
type Input struct {
	// Chunks are the passages: each one's Text is its document's
	// Text[Start:End]. They may overlap and come in any order; the summary
	// reads them by source, then by position.
	Chunks []grounded.Chunk
	// Length is the number of sentences wanted; 0 means
	// grounded.DefaultSummaryLength, more than grounded.MaxSummaryLength is
	// capped.
	Length int
	// Query, when set, is the topic the passages were retrieved for: the
	// extractive ranking leans toward it and the model is told it.
	Query string
}

// Summarize summarizes in.Chunks. Errors: only the context's (a cancelled
// or timed-out model call); a model that fails otherwise is replaced by
// the extractive summary, with FallbackReason.
func (s *Summarizer) Summarize(ctx context.Context, in Input) (*grounded.Summary, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	chunks := slices.Clone(in.Chunks)
	slices.SortStableFunc(chunks, func(a, b grounded.Chunk) int {
		return cmp.Or(cmp.Compare(a.Source, b.Source), cmp.Compare(a.DocID, b.DocID), cmp.Compare(a.Start, b.Start), cmp.Compare(a.End, b.End))
	})
	length := in.Length
	if length <= 0 {
		length = grounded.DefaultSummaryLength
	}
	length = min(length, grounded.MaxSummaryLength)
	docs := map[string]bool{}
	for _, c := range chunks {
		docs[c.DocID] = true
	}
	cov := grounded.SummaryCoverage{Documents: len(docs), Chunks: len(chunks)}
	if s.cfg.Model != nil && len(chunks) > 0 {
		sum, err := s.mapReduce(ctx, chunks, length, in.Query)
		if err == nil {
			sum.Coverage.Documents, sum.Coverage.Chunks = cov.Documents, cov.Chunks
			return sum, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		sum = s.extractive(chunks, length, in.Query)
		sum.Coverage.Documents, sum.Coverage.Chunks = cov.Documents, cov.Chunks
		sum.FallbackReason = err.Error()
		return sum, nil
	}
	sum := s.extractive(chunks, length, in.Query)
	sum.Coverage.Documents, sum.Coverage.Chunks = cov.Documents, cov.Chunks
	return sum, nil
}
