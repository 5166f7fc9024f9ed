// Package server is grounded's HTTP API, on Gin:
//
//	POST /v1/ask     {"question": "...", "k": 5, "where": {"type": "pdf"}}  -> grounded.Answer
//	                 with "stream": true, Server-Sent Events: "sentence"
//	                 events (grounded.Sentence, each sent once it passed its
//	                 support check), then one "answer" event (grounded.Answer),
//	                 or an "error" event ({"error": {"code", "message"}})
//	POST /v1/search  {"query": "...", "k": 5}     -> {"results": [grounded.SearchResult]}
//	POST /v1/check   {"answer": "... [1]", "passages": [{"text": "..."}]} -> grounded.CheckResult (check.go)
//	GET  /healthz                                  -> {"status": "ok", "chunks": N}
//
// Errors are {"error": {"code", "message"}} with the status of errors.go's
// table. Bodies are limited in size and decoded strictly (unknown fields are
// an error); bad input is never a 500.
package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/groundedhq/grounded"
)

// Collection is one collection: everything the routes call on it.
// collection.Collection implements it. Each operation takes its request
// struct and checks it (the request structs' Check methods).
type Collection interface {
	// Ask answers a question; with req.Emit, each checked sentence is
	// handed over as soon as it is ready.
	Ask(ctx context.Context, req grounded.AskRequest) (*grounded.Answer, error)
	// Search returns the best passages for a query.
	Search(ctx context.Context, req grounded.SearchRequest) ([]grounded.Hit, error)
	// Summarize makes a cited summary (summarize.go).
	Summarize(ctx context.Context, req grounded.SummaryRequest) (*grounded.Summary, error)
	// Extract fills a schema's fields from one document (extract.go).
	Extract(ctx context.Context, req grounded.ExtractRequest) (*grounded.Extraction, error)
	// Check checks an answer written elsewhere against evidence, sentence
	// by sentence (check.go).
	Check(ctx context.Context, req grounded.CheckRequest) (*grounded.CheckResult, error)
	// Put stores one document; the same source and content again is a
	// no-op ("unchanged"), changed content replaces the old chunks.
	Put(ctx context.Context, up grounded.Upload) (*grounded.PutResult, error)
	// Documents lists up to limit documents in source order after the
	// source after, without text; total counts all of them.
	Documents(ctx context.Context, after string, limit int) (docs []grounded.Document, total int, err error)
	// Document returns one document with its text; ENOTFOUND when absent.
	Document(ctx context.Context, id string) (*grounded.Document, error)
	// Delete removes one document; ENOTFOUND when absent.
	Delete(ctx context.Context, id string) error
	// Len is the number of chunks in the live index.
	Len() int
}

// Collections finds collections by name.
type Collections interface {
	// Collection returns the named collection. A name that is not valid is
	// EINVALID; a collection that does not exist is ENOTFOUND unless create
	// is set, which makes it.
	Collection(name string, create bool) (Collection, error)
	// Names lists the collections that exist, "default" first.
	Names() ([]string, error)
}

// DefaultCollection is the collection a request that names none works on.
const DefaultCollection = "default"

// Config wires the HTTP handler.
type Config struct {
	Collections Collections // required
	// MaxBodyBytes limits request bodies. Default 1 MiB.
	MaxBodyBytes int64
	// MaxUploadBytes limits a document upload (POST /v1/documents).
	// Default 32 MiB.
	MaxUploadBytes int64
	// MaxQuestionBytes limits a question or query. Default 4096.
	MaxQuestionBytes int
	// RequestTimeout bounds the work of one request. Default 30 s.
	RequestTimeout time.Duration
	// Keys, when set, make every route under /v1/ need an API key
	// (auth.go). Nil: the API is open.
	Keys *Keys
	// RateLimit is requests a second per API key, or per client address
	// without keys (limits.go). 0: no limit.
	RateLimit float64
	// RateBurst is the rate limit's bucket size. Default twice RateLimit.
	RateBurst int
	// MaxConcurrent caps the answers (POST /v1/ask, /v1/chat/completions,
	// /v1/summarize, /v1/extract, /v1/check) made at once (limits.go).
	// 0: no cap.
	MaxConcurrent int
	// MaxQueue is how many answer requests may wait for a slot, each until
	// its deadline; past it they get 503 busy at once. 0: none wait.
	MaxQueue int
	// Logger receives one line per request. Default: discard.
	Logger *slog.Logger
	// Ready says whether the server can take traffic (GET /readyz): nil
	// when ready, else why not. Nil: ready once the default collection
	// exists.
	Ready func() error
	// Generator names the answer generator for GET /readyz
	// ("extractive", "openai/MODEL", ...).
	Generator string
}

func (c Config) withDefaults() Config {
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 1 << 20
	}
	if c.MaxUploadBytes <= 0 {
		c.MaxUploadBytes = 32 << 20
	}
	if c.MaxQuestionBytes <= 0 {
		c.MaxQuestionBytes = 4096
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 30 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return c
}

// New returns the API's handler.
func New(cfg Config) http.Handler {
	cfg = cfg.withDefaults()
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.ContextWithFallback = true
	h := &handler{cfg: cfg, metrics: newMetrics(cfg.Collections, cfg.Logger)}
	r.Use(h.observe, gin.CustomRecoveryWithWriter(io.Discard, func(c *gin.Context, v any) {
		h.requestLogger(c).Error("panic", "path", c.Request.URL.Path, "panic", fmt.Sprint(v))
		writeError(c, grounded.Errorf(grounded.EINTERNAL, "internal error"))
	}), h.limit)
	r.Use(h.access()...) // auth.go, limits.go: API keys, rate limit, answer slots
	r.GET("/healthz", h.healthz)
	r.GET("/openapi.json", h.openapi)
	r.GET("/readyz", h.readyz)        // observe.go
	r.GET("/metrics", h.serveMetrics) // metrics.go
	r.POST("/v1/ask", h.ask)
	r.POST("/v1/search", h.search)
	r.GET("/v1/collections", h.listCollections)
	r.POST("/v1/collections", h.createCollection)
	r.POST("/v1/documents", h.putDocument)
	r.GET("/v1/documents", h.listDocuments)
	r.GET("/v1/documents/:id", h.getDocument)
	r.DELETE("/v1/documents/:id", h.deleteDocument)
	r.POST("/v1/extract", h.extract)
	r.POST("/v1/summarize", h.summarize)
	r.POST("/v1/check", h.check)
	registerWeb(r) // web.go: GET / and /static/
	h.openAIRoutes(r)
	r.NoRoute(func(c *gin.Context) {
		writeError(c, grounded.Errorf(grounded.ENOTFOUND, "no route %s %s", c.Request.Method, c.Request.URL.Path))
	})
	r.NoMethod(func(c *gin.Context) {
		c.AbortWithStatusJSON(http.StatusMethodNotAllowed, errorBody{errorDetail{"method_not_allowed", "method " + c.Request.Method + " is not allowed on " + c.Request.URL.Path}})
	})
	return r
}

type handler struct {
	cfg     Config
	metrics *metrics // metrics.go
	// allow, when set, says whether the request may use a collection
	// (API keys limited to collections): nil, or an EFORBIDDEN error.
	allow func(c *gin.Context, collection string) error
	rates *rateLimiter // limits.go; nil: no rate limit
	slots *gate        // limits.go; nil: no cap on answers
}

// limit caps the body size and the time a request may take.
func (h *handler) limit(c *gin.Context) {
	maxBody := h.cfg.MaxBodyBytes
	upload := c.Request.URL.Path == "/v1/documents" && c.Request.Method == http.MethodPost
	if upload {
		maxBody = h.cfg.MaxUploadBytes
	}
	// JSON routes take JSON: a body sent as a form (curl -d without -H)
	// or as text is refused with a hint, not half-read.
	if c.Request.Method == http.MethodPost && !upload {
		if ct := c.GetHeader("Content-Type"); ct != "" {
			if mt, _, _ := mime.ParseMediaType(ct); mt != "application/json" {
				writeError(c, grounded.Errorf(grounded.EUNSUPPORTED, "Content-Type %q is not accepted here: send application/json (curl: --json or -H 'Content-Type: application/json')", ct))
				return
			}
		}
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxBody)
	ctx, cancel := context.WithTimeout(c.Request.Context(), h.cfg.RequestTimeout)
	defer cancel()
	// The server's write timeout is a default for slow clients; a request
	// may write for as long as it may work (a streamed model answer).
	_ = http.NewResponseController(c.Writer).SetWriteDeadline(time.Now().Add(h.cfg.RequestTimeout + 10*time.Second))
	c.Request = c.Request.WithContext(ctx)
	c.Next()
}

func (h *handler) healthz(c *gin.Context) {
	body := gin.H{"status": "ok"}
	if col, err := h.cfg.Collections.Collection(DefaultCollection, false); err == nil {
		body["chunks"] = col.Len()
	}
	c.JSON(http.StatusOK, body)
}

// AskRequest is the body of POST /v1/ask.
type AskRequest struct {
	Question string `json:"question"`
	K        int    `json:"k"`
	Stream   bool   `json:"stream"`
	// Where restricts the passages: {"type": "pdf", "source": "/docs/*"}
	// (see grounded.Filter).
	Where grounded.Filter `json:"where"`
	// Collection to answer from (default "default"; also ?collection=).
	Collection string `json:"collection"`
	// MinConfidence: abstain below this confidence (0 to 1); omitted: the
	// answerer's default.
	MinConfidence *float64 `json:"min_confidence"`
}

// SearchRequest is the body of POST /v1/search.
type SearchRequest struct {
	Query      string          `json:"query"`
	K          int             `json:"k"`
	Where      grounded.Filter `json:"where"`
	Collection string          `json:"collection"`
}

// SearchResponse is the body POST /v1/search answers with.
type SearchResponse struct {
	Results []grounded.SearchResult `json:"results"`
}

func (h *handler) ask(c *gin.Context) {
	var req AskRequest
	if err := decode(c.Request.Body, &req); err != nil {
		writeError(c, err)
		return
	}
	if err := h.checkText("question", req.Question); err != nil {
		writeError(c, err)
		return
	}
	col, err := h.collection(c, req.Collection, false)
	if err != nil {
		writeError(c, err)
		return
	}
	if req.Stream {
		h.askStream(c, col, req)
		return
	}
	began := time.Now()
	ans, err := col.Ask(c.Request.Context(), grounded.AskRequest{Question: req.Question, K: req.K, Where: req.Where, MinConfidence: req.MinConfidence})
	if err != nil {
		writeError(c, err)
		return
	}
	h.observeAnswer(ans, time.Since(began))
	c.JSON(http.StatusOK, ans)
}

// askStream answers as Server-Sent Events. Payloads are JSON on one data
// line (gin's own SSE writer drops a leading space, so it is not used).
// The request's context is the upstream call's: a client that disconnects
// cancels the model call.
func (h *handler) askStream(c *gin.Context, col Collection, req AskRequest) {
	started := false
	send := func(event string, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if !started {
			started = true
			startEventStream(c)
		}
		if _, err := fmt.Fprintf(c.Writer, "event: %s\ndata: %s\n\n", event, b); err != nil {
			return err
		}
		c.Writer.Flush()
		return c.Request.Context().Err()
	}
	began := time.Now()
	ans, err := col.Ask(c.Request.Context(), grounded.AskRequest{Question: req.Question, K: req.K, Where: req.Where, MinConfidence: req.MinConfidence, Emit: func(s grounded.Sentence) error {
		return send("sentence", s)
	}})
	switch {
	case err != nil && !started:
		writeError(c, err)
	case err != nil:
		_ = send("error", streamError(c.Request.Context(), err)) // observe.go
	default:
		h.observeAnswer(ans, time.Since(began))
		_ = send("answer", ans)
	}
}

func (h *handler) search(c *gin.Context) {
	var req SearchRequest
	if err := decode(c.Request.Body, &req); err != nil {
		writeError(c, err)
		return
	}
	if err := h.checkText("query", req.Query); err != nil {
		writeError(c, err)
		return
	}
	col, err := h.collection(c, req.Collection, false)
	if err != nil {
		writeError(c, err)
		return
	}
	began := time.Now()
	hits, err := col.Search(c.Request.Context(), grounded.SearchRequest{Query: req.Query, K: req.K, Where: req.Where})
	if err != nil {
		writeError(c, err)
		return
	}
	h.observeSearch(time.Since(began))
	c.JSON(http.StatusOK, SearchResponse{Results: grounded.Results(hits)})
}

func (h *handler) checkText(field, s string) error {
	switch {
	case !utf8.ValidString(s):
		return grounded.Errorf(grounded.EINVALID, "%s is not valid UTF-8", field)
	case strings.TrimSpace(s) == "":
		return grounded.Errorf(grounded.EINVALID, "%s is empty", field)
	case len(s) > h.cfg.MaxQuestionBytes:
		return grounded.Errorf(grounded.EINVALID, "%s is %d bytes; the limit is %d", field, len(s), h.cfg.MaxQuestionBytes)
	}
	return nil
}

// decode reads one JSON object into v, strictly: unknown fields, trailing
// data, an empty body and a body over the limit are errors with codes.
func decode(r io.Reader, v any) error {
	body, err := io.ReadAll(r)
	if err == nil && !utf8.Valid(body) {
		return grounded.Errorf(grounded.EINVALID, "request body is not valid UTF-8 (byte %d)", len(body)-len(validPrefix(body)))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err == nil {
		err = dec.Decode(v)
	}
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = errors.New("trailing data after the JSON object")
		}
	}
	var maxErr *http.MaxBytesError
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &maxErr):
		return grounded.Errorf(grounded.ETOOLARGE, "request body is over the %d-byte limit", maxErr.Limit)
	case errors.Is(err, io.EOF):
		return grounded.Errorf(grounded.EINVALID, "request body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return grounded.Errorf(grounded.EINVALID, "request body is truncated JSON")
	case errors.As(err, &syntaxErr):
		return grounded.Errorf(grounded.EINVALID, "request body is not valid JSON at byte %d: %v", syntaxErr.Offset, syntaxErr)
	case errors.As(err, &typeErr) && typeErr.Field == "":
		return grounded.Errorf(grounded.EINVALID, "request body must be a JSON object, not %s", typeErr.Value)
	case errors.As(err, &typeErr):
		return grounded.Errorf(grounded.EINVALID, "field %q must be a JSON %s, not %s", jsonPath(typeErr.Field), jsonKind(typeErr.Type.Kind().String()), typeErr.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return grounded.Errorf(grounded.EINVALID, "unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return grounded.Errorf(grounded.EINVALID, "request body: %v", err)
}

// validPrefix returns the longest prefix of b that is valid UTF-8.
func validPrefix(b []byte) []byte {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return b[:i]
		}
		i += n
	}
	return b
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "int", "int64", "float64":
		return "number"
	case "slice", "array":
		return "list"
	case "map", "struct":
		return "object"
	}
	return goKind
}

// jsonPath is a type error's field path without the Go names of embedded
// structs ("CheckRequest.answer" is "answer"): the body's keys are all
// lower case.
func jsonPath(field string) string {
	parts := strings.Split(field, ".")
	keep := parts[:0]
	for _, p := range parts {
		if p == "" || p[0] < 'A' || p[0] > 'Z' {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, ".")
}

// Serve runs handler on addr until ctx is done, then shuts down gracefully:
// new connections are refused, in-flight requests get up to grace to finish,
// and their contexts are cancelled when shutdown starts so long work stops.
// ready, if not nil, receives the bound address once listening.
func Serve(ctx context.Context, addr string, handler http.Handler, grace time.Duration, ready chan<- string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	// The cause tells a stream it ends because of the shutdown (observe.go).
	base, cancelBase := context.WithCancelCause(context.Background())
	defer cancelBase(nil)
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return base },
	}
	srv.RegisterOnShutdown(func() { cancelBase(errShuttingDown) })
	if ready != nil {
		ready <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
