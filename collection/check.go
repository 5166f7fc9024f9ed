package collection

import (
	"context"
	"fmt"
	"strings"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/answer/check"
	"github.com/groundedhq/grounded/answer/grounding"
	"github.com/groundedhq/grounded/answer/support"
)

// Check checks an answer written elsewhere against evidence, sentence by
// sentence (see grounded.CheckRequest and package answer/check). The
// evidence is the request's inline passages, or, read from the collection,
// whole documents (DocIDs), chunks (ChunkIDs) or the passages retrieved
// for Question; those are listed in the result as the passages its
// numbers name. Sentences are checked by the configured model's support
// checker (Config.Answer.Model.Support), else by the default one; no model
// is called.
//
// Errors: EINVALID for a request that fails CheckRequest.Check, an answer
// over grounded.MaxCheckSentences sentences or documents over
// grounded.MaxCheckEvidenceBytes; ENOTFOUND for a document or chunk the
// collection does not hold.
func (c *Collection) Check(ctx context.Context, req grounded.CheckRequest) (*grounded.CheckResult, error) {
	if err := req.Check(); err != nil {
		return nil, err
	}
	var sources []grounded.CheckSource
	var err error
	switch {
	case len(req.Passages) > 0:
	case len(req.DocIDs) > 0:
		sources, err = c.checkDocuments(ctx, req.DocIDs)
	case len(req.ChunkIDs) > 0:
		sources, err = c.checkChunks(ctx, req.ChunkIDs)
	default:
		var hits []grounded.Hit
		hits, err = c.Search(ctx, grounded.SearchRequest{Query: req.Question, K: req.K, Where: req.Where})
		for _, h := range hits {
			sources = append(sources, chunkSource(h.Chunk))
		}
	}
	if err != nil {
		return nil, err
	}
	texts := make([]string, 0, max(len(req.Passages), len(sources)))
	for _, p := range req.Passages {
		texts = append(texts, p.Text)
	}
	for i := range sources {
		sources[i].N = i + 1
		texts = append(texts, sources[i].Text)
	}
	res, err := check.NewPrepared(c.preparer()).Check(ctx, req, texts)
	if err != nil {
		return nil, err
	}
	if len(req.Passages) == 0 {
		res.Passages = sources
		if res.Passages == nil {
			res.Passages = []grounded.CheckSource{} // retrieval found none: say so
		}
	}
	return res, nil
}

// preparer is the support checker sentences are checked with: the
// model's, when one is configured, else the default.
func (c *Collection) preparer() grounding.PrepareFunc {
	if m := c.set.cfg.Answer.Model; m != nil && m.Support != nil {
		return m.Preparer()
	}
	return grounding.Preparer(support.New(c.set.cfg.Analyzer, support.Config{}))
}

// checkDocuments reads the documents as passages, each whole.
func (c *Collection) checkDocuments(ctx context.Context, ids []string) ([]grounded.CheckSource, error) {
	out := make([]grounded.CheckSource, 0, len(ids))
	size := 0
	for _, id := range ids {
		d, err := c.Document(ctx, id)
		if err != nil {
			return nil, err
		}
		if size += len(d.Text); size > grounded.MaxCheckEvidenceBytes {
			return nil, grounded.Errorf(grounded.EINVALID, "the documents hold over %d bytes of text, the limit; name chunks (chunk_ids) or give a question to retrieve passages for", grounded.MaxCheckEvidenceBytes)
		}
		out = append(out, grounded.CheckSource{
			Text: d.Text, DocID: d.ID, Source: d.Source, Title: d.Title, Start: 0, End: len(d.Text), Version: d.Version,
		})
	}
	return out, nil
}

// checkChunks reads the chunks as passages. A chunk id is its document's
// id, "-" and its position (ingest's chunker names them so).
func (c *Collection) checkChunks(ctx context.Context, ids []string) ([]grounded.CheckSource, error) {
	byDoc := map[string][]grounded.Chunk{}
	out := make([]grounded.CheckSource, 0, len(ids))
	for _, id := range ids {
		notFound := grounded.Errorf(grounded.ENOTFOUND, "chunk %q is not in collection %q", id, c.name)
		cut := strings.LastIndexByte(id, '-')
		if cut <= 0 {
			return nil, notFound
		}
		docID := id[:cut]
		chunks, ok := byDoc[docID]
		if !ok {
			var err error
			if chunks, _, err = c.store.DocumentChunks(ctx, docID); err != nil {
				return nil, fmt.Errorf("check: %w", err)
			}
			byDoc[docID] = chunks
		}
		found := false
		for _, ch := range chunks {
			if ch.ID == id {
				out, found = append(out, chunkSource(ch)), true
				break
			}
		}
		if !found {
			return nil, notFound
		}
	}
	return out, nil
}

func chunkSource(ch grounded.Chunk) grounded.CheckSource {
	return grounded.CheckSource{
		Text: ch.Text, DocID: ch.DocID, ChunkID: ch.ID, Source: ch.Source, Title: ch.Title, Section: ch.Section,
		Start: ch.Start, End: ch.End, Version: ch.Version,
	}
}
