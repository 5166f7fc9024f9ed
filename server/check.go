package server

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/groundedhq/grounded"
)

// Groundedness checks of answers written elsewhere:
//
//	POST /v1/check {"answer": "... [1] ... [2]" | "sentences": ["... [1]", ...],
//	                "passages": [{"text", "source"}] | "doc_ids": [...] | "chunk_ids": [...] |
//	                "question": "...", "k": 5, "where": {...},
//	                "collection": "..."}  -> grounded.CheckResult
//
// The request is grounded.CheckRequest with a collection; its limits are
// grounded's MaxCheck* constants. Markers that name no passage are reported
// on their sentence, not refused. A check holds an answer slot (limits.go)
// like the routes that generate: it runs the support checker over every
// sentence and passage.

// CheckRequest is the body of POST /v1/check.
type CheckRequest struct {
	grounded.CheckRequest
	// Collection holds the documents, chunks or passages retrieved
	// (default "default"; also ?collection=). Inline passages need none,
	// but a key limited to collections must name one of its own.
	Collection string `json:"collection"`
}

func (h *handler) check(c *gin.Context) {
	var req CheckRequest
	if err := decode(c.Request.Body, &req); err != nil {
		writeError(c, err)
		return
	}
	if req.Question != "" {
		if err := h.checkText("question", req.Question); err != nil {
			writeError(c, err)
			return
		}
	}
	col, err := h.collection(c, req.Collection, false)
	if err != nil {
		writeError(c, err)
		return
	}
	res, err := col.Check(c.Request.Context(), req.CheckRequest)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, res)
}
