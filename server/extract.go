package server

import (
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
// field); the collection checks the rest of the request.

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
	col, err := h.collection(c, req.Collection, false)
	if err != nil {
		writeError(c, err)
		return
	}
	out, err := col.Extract(c.Request.Context(), grounded.ExtractRequest{Schema: schema, DocID: req.DocID, Source: req.Source})
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}
