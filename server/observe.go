package server

// Observability: request ids, one structured log line per request, the
// readiness probe and what a stream is told when the server shuts down.
// Metrics are in metrics.go.
//
//	GET /healthz  -> 200 {"status": "ok", ...} while the process serves (liveness)
//	GET /readyz   -> 200 {"status": "ready", "collections", "chunks", "generator"}
//	                 503 {"status": "not_ready", "reason"} (readiness)
//	GET /metrics  -> Prometheus text exposition (metrics.go)
//
// Every response carries X-Request-ID: the caller's own when it is a sane
// token (1 to 128 characters of [A-Za-z0-9._-]), else a new random one (16
// hex digits). It is in the gin context under "request_id" and in every log
// line of the request. Request bodies and headers other than X-Request-ID
// are never logged.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/groundedhq/grounded"
)

// Gin context keys.
const (
	// ctxRequestID holds the request's id (string).
	ctxRequestID = "request_id"
	// ctxKey holds the name of the API key that authenticated the request
	// (string; set by the auth middleware, empty without one).
	ctxKey = "key"
	// ctxCollection holds the collection the request works on (string),
	// where whoever resolves it records it.
	ctxCollection = "collection"
)

// headerRequestID is the request id's header, in and out.
const headerRequestID = "X-Request-ID"

// maxRequestIDLen bounds a caller's request id.
const maxRequestIDLen = 128

// errShuttingDown is the cause Serve cancels in-flight requests' contexts
// with when it shuts down.
var errShuttingDown = errors.New("the server is shutting down")

// shuttingDown reports whether ctx was cancelled by Serve's shutdown (and
// not, say, by a client that went away).
func shuttingDown(ctx context.Context) bool {
	return errors.Is(context.Cause(ctx), errShuttingDown)
}

// NewLogger returns a logger writing to w in format "text" or "json" (""
// is text) at level "debug", "info", "warn" or "error" ("" is info).
// Unknown values are EINVALID.
func NewLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if level != "" {
		if err := lv.UnmarshalText([]byte(level)); err != nil {
			return nil, grounded.Errorf(grounded.EINVALID, "log level %q: want debug, info, warn or error", level)
		}
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "", "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, grounded.Errorf(grounded.EINVALID, "log format %q: want text or json", format)
}

// validRequestID reports whether a caller's request id may be echoed.
func validRequestID(s string) bool {
	if s == "" || len(s) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch b := s[i]; {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9', b == '.', b == '_', b == '-':
		default:
			return false
		}
	}
	return true
}

// newRequestID returns 16 random hex digits.
func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	return hex.EncodeToString(b[:])
}

// observe is the outermost middleware: it gives the request its id, counts
// it in flight, and once it is done writes its log line and its metrics.
func (h *handler) observe(c *gin.Context) {
	began := time.Now()
	id := c.GetHeader(headerRequestID)
	if !validRequestID(id) {
		id = newRequestID()
	}
	c.Set(ctxRequestID, id)
	c.Header(headerRequestID, id)
	h.metrics.inflight.Inc()
	defer h.metrics.inflight.Dec()

	c.Next()

	took := time.Since(began)
	route := c.FullPath()
	if route == "" {
		route = "unmatched" // NoRoute: the raw path would be unbounded
	}
	status := c.Writer.Status()
	h.metrics.request(route, c.Request.Method, status, took)

	level := slog.LevelInfo
	if status >= http.StatusInternalServerError {
		level = slog.LevelError
	}
	ctx := c.Request.Context()
	if !h.cfg.Logger.Enabled(ctx, level) {
		return
	}
	collection := c.GetString(ctxCollection)
	if collection == "" {
		collection = c.Query("collection")
	}
	h.cfg.Logger.LogAttrs(ctx, level, "request",
		slog.String("method", c.Request.Method),
		slog.String("route", route),
		slog.String("path", c.Request.URL.Path),
		slog.Int("status", status),
		slog.Float64("duration_ms", float64(took.Microseconds())/1000),
		slog.Int("bytes", max(c.Writer.Size(), 0)),
		slog.String("request_id", id),
		// The TCP peer: X-Forwarded-For is not trusted, as no proxy is
		// configured as trusted and anyone can send it.
		slog.String("client_ip", c.RemoteIP()),
		slog.String("key", c.GetString(ctxKey)),
		slog.String("collection", collection),
	)
}

// requestLogger is the logger for lines about c's request: it carries the
// request id.
func (h *handler) requestLogger(c *gin.Context) *slog.Logger {
	return h.cfg.Logger.With(slog.String("request_id", c.GetString(ctxRequestID)))
}

// streamError is the body of the "error" event that ends a stream whose
// answer failed with err: a shutdown says so, a cancellation or timeout is
// "unavailable", anything else keeps its code and public message.
func streamError(ctx context.Context, err error) errorBody {
	switch {
	case shuttingDown(ctx):
		return errorBody{errorDetail{grounded.EUNAVAILABLE, errShuttingDown.Error()}}
	case errors.Is(err, context.DeadlineExceeded):
		return errorBody{errorDetail{grounded.EUNAVAILABLE, "the request took too long"}}
	case errors.Is(err, context.Canceled):
		return errorBody{errorDetail{grounded.EUNAVAILABLE, "the request was cancelled"}}
	}
	return errorBody{errorDetail{grounded.ErrorCode(err), grounded.ErrorMessage(err)}}
}

// readyz answers whether the server can take traffic: Config.Ready says
// nil and the default collection exists.
func (h *handler) readyz(c *gin.Context) {
	notReady := func(reason string) {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "not_ready", "reason": reason})
	}
	if h.cfg.Ready != nil {
		if err := h.cfg.Ready(); err != nil {
			notReady(err.Error())
			return
		}
	}
	if _, err := h.cfg.Collections.Collection(DefaultCollection, false); err != nil {
		notReady(fmt.Sprintf("default collection: %s", grounded.ErrorMessage(err)))
		return
	}
	names, err := h.cfg.Collections.Names()
	if err != nil {
		notReady(fmt.Sprintf("listing collections: %s", grounded.ErrorMessage(err)))
		return
	}
	chunks := 0
	for _, name := range names {
		if col, err := h.cfg.Collections.Collection(name, false); err == nil {
			chunks += col.Len()
		}
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready", "collections": len(names), "chunks": chunks, "generator": h.cfg.Generator})
}
