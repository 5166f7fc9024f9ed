package server

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/groundedhq/grounded"
)

// Summaries:
//
//	POST /v1/summarize {"doc_id": "..." | "doc_ids": [...] | "source": "..." |
//	                    "sources": [...] | "query": "...", "k": 20, "length": 5,
//	                    "where": {...}, "collection": "..."}  -> grounded.Summary
//
// A source ending in "*" names every document whose source starts with the
// rest. Exactly one of documents, sources and query; length 1 to 50
// sentences (default 5).

// SummarizeRequest is the body of POST /v1/summarize.
type SummarizeRequest struct {
	// DocID or DocIDs name documents by id.
	DocID  string   `json:"doc_id"`
	DocIDs []string `json:"doc_ids"`
	// Source or Sources name documents by source; a trailing "*" matches
	// every source with that prefix.
	Source  string   `json:"source"`
	Sources []string `json:"sources"`
	// Query summarizes what the K best passages for it say (default K 20).
	Query string `json:"query"`
	K     int    `json:"k"`
	// Length is the number of sentences: 1 to 50, default 5.
	Length int `json:"length"`
	// Where restricts the passages summarized (see grounded.Filter).
	Where      grounded.Filter `json:"where"`
	Collection string          `json:"collection"`
}

func (h *handler) summarize(c *gin.Context) {
	var req SummarizeRequest
	if err := decode(c.Request.Body, &req); err != nil {
		writeError(c, err)
		return
	}
	sreq := grounded.SummaryRequest{DocIDs: req.DocIDs, Sources: req.Sources, Query: req.Query, K: req.K, Length: req.Length, Where: req.Where}
	if req.DocID != "" {
		sreq.DocIDs = append([]string{req.DocID}, sreq.DocIDs...)
	}
	if req.Source != "" {
		sreq.Sources = append([]string{req.Source}, sreq.Sources...)
	}
	if req.Query != "" {
		if err := h.checkText("query", req.Query); err != nil {
			writeError(c, err)
			return
		}
	}
	col, err := h.collection(c, req.Collection, false)
	if err != nil {
		writeError(c, err)
		return
	}
	sum, err := col.Summarize(c.Request.Context(), sreq)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, sum)
}
