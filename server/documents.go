package server

import (
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/groundedhq/grounded"
)

// Collections and documents:
//
//	GET    /v1/collections                   -> {"collections": [{"name", "documents", "chunks"}]}
//	POST   /v1/collections {"name": "..."}    -> 201 {"name", "created": true} (200 if it existed)
//	POST   /v1/documents?collection=C         multipart/form-data: file, and optional
//	                                          source, title, format fields; or JSON
//	                                          {"source", "title", "text", "format"}
//	                                          -> 201 (added) or 200 (updated, unchanged)
//	                                          {"outcome", "document"}
//	GET    /v1/documents?collection=C&limit=N&after=CURSOR
//	                                          -> {"documents": [...], "total", "next"}
//	GET    /v1/documents/{id}?collection=C&version=V
//	                                          -> the document with its text; with
//	                                          version, "current" says whether V is
//	                                          still the version held
//	DELETE /v1/documents/{id}?collection=C   -> {"deleted": id}

// collection resolves the collection a request names in its body (body) or
// its query string (?collection=); the two must agree. create makes it when
// it does not exist.
func (h *handler) collection(c *gin.Context, body string, create bool) (Collection, error) {
	name := body
	if q, ok := c.GetQuery("collection"); ok {
		if body != "" && q != body {
			return nil, grounded.Errorf(grounded.EINVALID, "the body names collection %q and the query string %q", body, q)
		}
		name = q
	}
	if name == "" {
		name = DefaultCollection
	}
	c.Set(ctxCollection, name) // for the request's log line
	if h.allow != nil {
		if err := h.allow(c, name); err != nil {
			return nil, err
		}
	}
	return h.cfg.Collections.Collection(name, create)
}

// CollectionInfo is one entry of GET /v1/collections.
type CollectionInfo struct {
	Name      string `json:"name"`
	Documents int    `json:"documents"`
	Chunks    int    `json:"chunks"`
}

func (h *handler) listCollections(c *gin.Context) {
	names, err := h.cfg.Collections.Names()
	if err != nil {
		writeError(c, err)
		return
	}
	out := []CollectionInfo{}
	for _, name := range names {
		if h.allow != nil && h.allow(c, name) != nil {
			continue // a key sees only its collections
		}
		col, err := h.cfg.Collections.Collection(name, false)
		if err != nil {
			writeError(c, err)
			return
		}
		_, total, err := col.Documents(c.Request.Context(), "", 0)
		if err != nil {
			writeError(c, err)
			return
		}
		out = append(out, CollectionInfo{Name: name, Documents: total, Chunks: col.Len()})
	}
	c.JSON(http.StatusOK, gin.H{"collections": out})
}

// CreateCollectionRequest is the body of POST /v1/collections.
type CreateCollectionRequest struct {
	Name string `json:"name"`
}

func (h *handler) createCollection(c *gin.Context) {
	var req CreateCollectionRequest
	if err := decode(c.Request.Body, &req); err != nil {
		writeError(c, err)
		return
	}
	if req.Name == "" {
		writeError(c, grounded.Errorf(grounded.EINVALID, "name is empty"))
		return
	}
	if h.allow != nil {
		if err := h.allow(c, req.Name); err != nil {
			writeError(c, err)
			return
		}
	}
	_, err := h.cfg.Collections.Collection(req.Name, false)
	existed := err == nil
	if err != nil && grounded.ErrorCode(err) != grounded.ENOTFOUND {
		writeError(c, err)
		return
	}
	if !existed {
		if _, err := h.cfg.Collections.Collection(req.Name, true); err != nil {
			writeError(c, err)
			return
		}
	}
	status := http.StatusCreated
	if existed {
		status = http.StatusOK
	}
	c.JSON(status, gin.H{"name": req.Name, "created": !existed})
}

// DocumentRequest is the JSON body of POST /v1/documents.
type DocumentRequest struct {
	// Source names the document; the same source again replaces it.
	Source string `json:"source"`
	// Title, when set, replaces the title found in the text.
	Title string `json:"title"`
	// Text is the document's content.
	Text string `json:"text"`
	// Format of Text: "markdown", "text", "html", "csv" or "jsonl";
	// default: chosen by Source's extension, else text.
	Format     string `json:"format"`
	Collection string `json:"collection"`
}

func (h *handler) putDocument(c *gin.Context) {
	ct, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	var up grounded.Upload
	var name string
	switch ct {
	case "multipart/form-data":
		var err error
		up, name, err = h.readUpload(c)
		if err != nil {
			writeError(c, err)
			return
		}
	case "application/json", "":
		var req DocumentRequest
		if err := decode(c.Request.Body, &req); err != nil {
			writeError(c, err)
			return
		}
		if strings.TrimSpace(req.Text) == "" {
			writeError(c, grounded.Errorf(grounded.EINVALID, "text is empty"))
			return
		}
		up = grounded.Upload{Source: req.Source, Title: req.Title, Format: req.Format, Data: []byte(req.Text)}
		name = req.Collection
	default:
		writeError(c, grounded.Errorf(grounded.EUNSUPPORTED, "Content-Type %q is not accepted: send multipart/form-data (a file) or application/json", ct))
		return
	}
	if err := checkSource(up.Source); err != nil {
		writeError(c, err)
		return
	}
	col, err := h.collection(c, name, false)
	if err != nil {
		writeError(c, err)
		return
	}
	res, err := col.Put(c.Request.Context(), up)
	if err != nil {
		writeError(c, err)
		return
	}
	status := http.StatusOK
	if res.Outcome == "added" {
		status = http.StatusCreated
	}
	c.JSON(status, res)
}

// readUpload reads a multipart upload: one "file" part and optional
// "source", "title", "format" and "collection" fields. The source defaults
// to the file's name.
func (h *handler) readUpload(c *gin.Context) (grounded.Upload, string, error) {
	var up grounded.Upload
	mr, err := c.Request.MultipartReader()
	if err != nil {
		return up, "", grounded.Errorf(grounded.EINVALID, "multipart body: %v", err)
	}
	var collection, filename string
	var haveFile bool
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return up, "", uploadError(err, h.cfg.MaxUploadBytes)
		}
		field := part.FormName()
		limit := int64(4096)
		if field == "file" {
			limit = h.cfg.MaxUploadBytes
		}
		data, err := io.ReadAll(io.LimitReader(part, limit+1))
		part.Close()
		if err != nil {
			return up, "", uploadError(err, h.cfg.MaxUploadBytes)
		}
		if int64(len(data)) > limit {
			if field == "file" {
				return up, "", grounded.Errorf(grounded.ETOOLARGE, "the file is over the %d-byte upload limit", h.cfg.MaxUploadBytes)
			}
			return up, "", grounded.Errorf(grounded.EINVALID, "field %q is over %d bytes", field, limit)
		}
		switch field {
		case "file":
			if haveFile {
				return up, "", grounded.Errorf(grounded.EINVALID, "send one file per request")
			}
			haveFile, up.Data, filename = true, data, path.Base(strings.ReplaceAll(part.FileName(), `\`, "/"))
		case "source":
			up.Source = string(data)
		case "title":
			up.Title = string(data)
		case "format":
			up.Format = string(data)
		case "collection":
			collection = string(data)
		default:
			return up, "", grounded.Errorf(grounded.EINVALID, "unknown form field %q: want file, source, title, format or collection", field)
		}
	}
	if !haveFile {
		return up, "", grounded.Errorf(grounded.EINVALID, `the form has no "file" part`)
	}
	if up.Source == "" && filename != "." && filename != "/" {
		up.Source = filename
	}
	return up, collection, nil
}

func uploadError(err error, limit int64) error {
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return grounded.Errorf(grounded.ETOOLARGE, "the upload is over the %d-byte limit", limit)
	}
	return grounded.Errorf(grounded.EINVALID, "multipart body: %v", err)
}

// checkSource accepts a document name: 1 to 1024 bytes of valid UTF-8 with
// no control characters.
func checkSource(s string) error {
	switch {
	case strings.TrimSpace(s) == "":
		return grounded.Errorf(grounded.EINVALID, "source is empty: name the document")
	case len(s) > 1024:
		return grounded.Errorf(grounded.EINVALID, "source is %d bytes; the limit is 1024", len(s))
	case !isPrintable(s):
		return grounded.Errorf(grounded.EINVALID, "source %q has invalid UTF-8 or control characters", s)
	}
	return nil
}

func isPrintable(s string) bool {
	for _, r := range s {
		if r == 0xFFFD || r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// DocumentList is the body GET /v1/documents answers with. Next, when not
// empty, is the after= cursor of the next page.
type DocumentList struct {
	Documents []grounded.Document `json:"documents"`
	Total     int                 `json:"total"`
	Next      string              `json:"next,omitempty"`
}

func (h *handler) listDocuments(c *gin.Context) {
	limit := 50
	if v, ok := c.GetQuery("limit"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeError(c, grounded.Errorf(grounded.EINVALID, "limit %q: want a number from 1 to 1000", v))
			return
		}
		limit = n
	}
	after := ""
	if v := c.Query("after"); v != "" {
		b, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil {
			writeError(c, grounded.Errorf(grounded.EINVALID, "after %q is not a cursor from a previous page", v))
			return
		}
		after = string(b)
	}
	col, err := h.collection(c, "", false)
	if err != nil {
		writeError(c, err)
		return
	}
	docs, total, err := col.Documents(c.Request.Context(), after, limit+1) // one more: is there a next page?
	if err != nil {
		writeError(c, err)
		return
	}
	out := DocumentList{Documents: docs, Total: total}
	if len(docs) > limit {
		out.Documents = docs[:limit]
		out.Next = base64.RawURLEncoding.EncodeToString([]byte(docs[limit-1].Source))
	}
	c.JSON(http.StatusOK, out)
}

// DocumentResponse is the body GET /v1/documents/{id} answers with.
type DocumentResponse struct {
	*grounded.Document
	// Current is set when the request asks about a version (?version=V):
	// whether V is the version held now. A citation's quote is exact for
	// the version it names.
	Current *bool `json:"current,omitempty"`
}

func (h *handler) getDocument(c *gin.Context) {
	col, err := h.collection(c, "", false)
	if err != nil {
		writeError(c, err)
		return
	}
	doc, err := col.Document(c.Request.Context(), c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	out := DocumentResponse{Document: doc}
	if v, ok := c.GetQuery("version"); ok {
		cur := v != "" && (v == doc.Version || v == doc.ContentHash)
		out.Current = &cur
	}
	c.JSON(http.StatusOK, out)
}

func (h *handler) deleteDocument(c *gin.Context) {
	col, err := h.collection(c, "", false)
	if err != nil {
		writeError(c, err)
		return
	}
	id := c.Param("id")
	if err := col.Delete(c.Request.Context(), id); err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"deleted": id})
}
