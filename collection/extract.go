package collection

import (
	"context"
	"errors"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/answer/extract"
	"github.com/groundedhq/grounded/ingest"
)

// Extract fills req.Schema's fields from one document of the collection,
// named by req.DocID or req.Source (see extract.Extractor.Extract). With a
// model configured (Config.Answer.Model) the model extracts and every value
// is checked against its quote. Errors: EINVALID for an invalid schema or
// a request naming no document or two; ENOTFOUND for a document the
// collection does not hold.
func (c *Collection) Extract(ctx context.Context, req grounded.ExtractRequest) (*grounded.Extraction, error) {
	if err := req.Check(); err != nil {
		return nil, err
	}
	id := req.DocID
	if id == "" {
		id = ingest.DocID(req.Source)
	}
	doc, err := c.store.Document(ctx, id)
	if errors.Is(err, grounded.ErrNotFound) {
		if req.Source != "" {
			return nil, grounded.Errorf(grounded.ENOTFOUND, "no document with source %q in collection %q", req.Source, c.name)
		}
		return nil, grounded.Errorf(grounded.ENOTFOUND, "document %q is not in collection %q", id, c.name)
	}
	if err != nil {
		return nil, err
	}
	chunks, _, err := c.store.DocumentChunks(ctx, id)
	if err != nil {
		return nil, err
	}
	x := extract.New(extract.Config{Analyzer: c.set.cfg.Analyzer, Model: c.set.cfg.Answer.Model})
	return x.Extract(ctx, req.Schema, doc, chunks)
}
