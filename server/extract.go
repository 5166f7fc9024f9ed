package server

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/groundedhq/grounded"
)

// Field extraction:
//
//	POST /v1/extract {"schema": {"fields": [...]}, "doc_id": "..." | "source": "...",
//	                  "collection": "..."}  -> grounded.Extraction
//
// The schema is read strictly by grounded.ParseSchema (errors name the
// field). A collection that cannot extract answers 500 "not supported".

// Extractor is a collection that extracts fields from its documents.
// collection.Collection implements it.
type Extractor interface {
	Extract(ctx context.Context, req grounded.ExtractRequest) (*grounded.Extraction, error)
}

// ExtractRequest is the body of POST /v1/extract.
type ExtractRequest struct {
	// Schema is the fields to extract (see grounded.Schema).
	Schema json.RawMessage `json:"schema"`
	// DocID or Source names the document (exactly one of them).
	DocID  string `json:"doc_id"`
	Source string `json:"source"`
	// Collection holds the document (default "default"; also ?collection=).
	Collection string `json:"collection"`
}

func (h *handler) extract(c *gin.Context) {
	var req ExtractRequest
	if err := decode(c.Request.Body, &req); err != nil {
		writeError(c, err)
		return
	}
	if len(req.Schema) == 0 || string(req.Schema) == "null" {
		writeError(c, grounded.Errorf(grounded.EINVALID, `schema is missing: send {"schema": {"fields": [...]}, "doc_id": "..."}`))
		return
	}
	schema, err := grounded.ParseSchema(req.Schema)
	if err != nil {
		writeError(c, err)
		return
	}
	switch {
	case req.DocID == "" && req.Source == "":
		writeError(c, grounded.Errorf(grounded.EINVALID, "name a document: doc_id or source"))
		return
	case req.DocID != "" && req.Source != "":
		writeError(c, grounded.Errorf(grounded.EINVALID, "name the document by doc_id or by source, not both"))
		return
	}
	col, err := h.collection(c, req.Collection, false)
	if err != nil {
		writeError(c, err)
		return
	}
	x, ok := col.(Extractor)
	if !ok {
		writeError(c, grounded.Errorf(grounded.EINTERNAL, "this collection does not support extraction"))
		return
	}
	out, err := x.Extract(c.Request.Context(), grounded.ExtractRequest{Schema: schema, DocID: req.DocID, Source: req.Source})
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}
