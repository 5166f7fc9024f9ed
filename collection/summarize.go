package collection

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/answer/summarize"
	"github.com/groundedhq/grounded/ingest"
)

// Summarize makes a cited summary of documents by id, documents by source
// (a trailing "*" matches a prefix), or the passages retrieved for a query
// (see grounded.SummaryRequest), with the collection's model when one is
// configured, else extractively. req.Where restricts the chunks read.
//
// Errors: EINVALID for a request that fails SummaryRequest.Check or names
// more than grounded.MaxSummaryDocuments documents; ENOTFOUND for a
// document id or source that names no document.
func (c *Collection) Summarize(ctx context.Context, req grounded.SummaryRequest) (*grounded.Summary, error) {
	if err := req.Check(); err != nil {
		return nil, err
	}
	s := summarize.New(summarize.Config{Analyzer: c.set.cfg.Analyzer, Model: c.set.cfg.Answer.Model})
	if strings.TrimSpace(req.Query) != "" {
		return c.summarizeQuery(ctx, s, req)
	}
	ids, err := c.summaryDocuments(ctx, req)
	if err != nil {
		return nil, err
	}
	var chunks []grounded.Chunk
	for _, id := range ids {
		cs, _, err := c.store.DocumentChunks(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("summarize: %w", err)
		}
		for _, ch := range cs {
			if req.Where.Match(ch) {
				chunks = append(chunks, ch)
			}
		}
	}
	sum, err := s.Summarize(ctx, summarize.Input{Chunks: chunks, Length: req.Length})
	if err != nil {
		return nil, err
	}
	sum.Coverage.Documents = len(ids)
	if len(chunks) == 0 && len(req.Where) > 0 {
		sum.Coverage.Note = "no chunk of the documents passes the where filter"
	}
	return sum, nil
}

// summaryDocuments resolves the request's document ids and sources to
// document ids, in source order, each once.
func (c *Collection) summaryDocuments(ctx context.Context, req grounded.SummaryRequest) ([]string, error) {
	type doc struct{ id, source string }
	var docs []doc
	seen := map[string]bool{}
	add := func(id, source string) error {
		if seen[id] {
			return nil
		}
		if len(docs) == grounded.MaxSummaryDocuments {
			return grounded.Errorf(grounded.EINVALID, "a summary reads at most %d documents; name fewer, or a narrower source prefix", grounded.MaxSummaryDocuments)
		}
		seen[id] = true
		docs = append(docs, doc{id, source})
		return nil
	}
	for _, id := range req.DocIDs {
		d, err := c.Document(ctx, id)
		if err != nil {
			return nil, err
		}
		if err := add(d.ID, d.Source); err != nil {
			return nil, err
		}
	}
	for _, src := range req.Sources {
		prefix, ok := strings.CutSuffix(src, "*")
		if !ok {
			d, err := c.store.Document(ctx, ingest.DocID(src))
			if err != nil || d.Source != src {
				return nil, grounded.Errorf(grounded.ENOTFOUND, "no document has source %q in collection %q", src, c.name)
			}
			if err := add(d.ID, d.Source); err != nil {
				return nil, err
			}
			continue
		}
		n, err := c.documentsWithPrefix(ctx, prefix, func(d grounded.Document) error { return add(d.ID, d.Source) })
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, grounded.Errorf(grounded.ENOTFOUND, "no document's source starts with %q in collection %q", prefix, c.name)
		}
	}
	// Source order, as the documents list shows them.
	slices.SortStableFunc(docs, func(a, b doc) int { return strings.Compare(a.source, b.source) })
	ids := make([]string, len(docs))
	for i, d := range docs {
		ids[i] = d.id
	}
	return ids, nil
}

// documentsWithPrefix calls fn with every document whose source starts
// with prefix, in source order, and returns how many there were. The
// listing starts just before the prefix (sources are listed after a
// cursor) and stops at the first source past it.
func (c *Collection) documentsWithPrefix(ctx context.Context, prefix string, fn func(grounded.Document) error) (int, error) {
	after := ""
	if prefix != "" {
		_, size := utf8.DecodeLastRuneInString(prefix)
		after = prefix[:len(prefix)-size] // sorts before every source that starts with prefix
	}
	n := 0
	for {
		page, _, err := c.store.Documents(ctx, after, 500)
		if err != nil {
			return n, fmt.Errorf("summarize: %w", err)
		}
		for _, d := range page {
			switch {
			case strings.HasPrefix(d.Source, prefix):
				n++
				if err := fn(d); err != nil {
					return n, err
				}
			case d.Source > prefix:
				return n, nil
			}
		}
		if len(page) < 500 {
			return n, nil
		}
		after = page[len(page)-1].Source
	}
}

// summarizeQuery summarizes the passages retrieved for req.Query.
func (c *Collection) summarizeQuery(ctx context.Context, s *summarize.Summarizer, req grounded.SummaryRequest) (*grounded.Summary, error) {
	k := req.K
	if k == 0 {
		k = grounded.DefaultSummaryK
	}
	_, a, err := c.loaded(ctx)
	if err != nil {
		return nil, err
	}
	hits, err := a.Search(ctx, grounded.SearchRequest{Query: req.Query, K: k, Where: req.Where})
	if err != nil {
		return nil, err
	}
	// Passages that share no word with the query (vector neighbours only)
	// are not about it; with none that do, there is nothing to summarize.
	lexical := false
	for _, h := range hits {
		lexical = lexical || h.LexicalRank > 0
	}
	var chunks []grounded.Chunk
	if lexical {
		for _, h := range hits {
			chunks = append(chunks, h.Chunk)
		}
	}
	sum, err := s.Summarize(ctx, summarize.Input{Chunks: chunks, Length: req.Length, Query: req.Query})
	if err != nil {
		return nil, err
	}
	cov := &sum.Coverage
	switch {
	case len(chunks) == 0:
		cov.Note = "no passage shares a word with the query"
	case len(hits) == k:
		// The retrieval stopped at k: more passages may mention the topic.
		cov.Truncated = true
		note := fmt.Sprintf("the %d passages retrieved for the query (k=%d); others may also mention it", len(hits), k)
		if cov.Note != "" {
			note += "; " + cov.Note
		}
		cov.Note = note
	}
	return sum, nil
}
