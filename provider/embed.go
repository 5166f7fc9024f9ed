package provider

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/groundedhq/grounded"
	"github.com/tmc/langchaingo/llms/ollama"
	"github.com/tmc/langchaingo/llms/openai"
)

// DefaultBatchSize is the number of texts per embedding call.
const DefaultBatchSize = 64

// EmbedConfig selects and configures an embedding model. cmd/grounded fills
// it from flags and environment; this package reads neither.
type EmbedConfig struct {
	// Provider is "openai" (OpenAI or any OpenAI-compatible server) or "ollama".
	Provider string
	// BaseURL is the server's URL; defaults as in Config.
	BaseURL string
	// Model names the embedding model; required.
	Model string
	// APIKey: as in Config (required for api.openai.com).
	APIKey string
	// Dim is the vectors' dimension. When 0, NewEmbedder embeds one probe
	// text to learn it. It is checked on every vector; it is not sent to
	// the server (not every server accepts OpenAI's "dimensions").
	Dim int
	// BatchSize is the number of texts per langchaingo call (default
	// DefaultBatchSize). OpenAI gets one request per batch; Ollama, through
	// langchaingo, one request per text (ollamallm.go:264-283).
	BatchSize int
	// Timeout, Retries, Backoff and HTTPClient: as in Config.
	Timeout    time.Duration
	Retries    int
	Backoff    time.Duration
	HTTPClient *http.Client
}

// NewEmbedder checks cfg and returns the embedder, named "PROVIDER:MODEL"
// (for example "openai:text-embedding-3-small"). With cfg.Dim 0 it embeds
// one probe text under ctx to learn the dimension; otherwise it makes no
// request.
//
// Errors: a *grounded.Error with code EINVALID naming the setting to fix for
// a bad configuration, and also when the probe finds the server unreachable,
// the key refused, the model unknown or no API at the URL (the *CallError is
// in its chain); ctx's error, wrapped; a *CallError for other probe failures.
//
// The returned Embed sends texts in batches and returns one L2-normalized
// vector per text, in order. It returns ctx's error (wrapped) when ctx ends
// first, and a *CallError otherwise: the kinds of NewLLM's Generate, with
// ErrBadReply for a vector count or dimension that does not match, or a zero
// or non-finite vector.
func NewEmbedder(ctx context.Context, cfg EmbedConfig) (grounded.Embedder, error) {
	c, err := newConn(connConfig{
		provider: cfg.Provider, baseURL: cfg.BaseURL, model: cfg.Model, key: cfg.APIKey,
		timeout: cfg.Timeout, retries: cfg.Retries, backoff: cfg.Backoff, httpClient: cfg.HTTPClient,
		set: embedSettings, what: "embedding", providers: []string{"openai", "ollama"},
	})
	if err != nil {
		return grounded.Embedder{}, err
	}
	if cfg.Dim < 0 {
		return grounded.Embedder{}, grounded.Errorf(grounded.EINVALID, "negative embedding dimension %d", cfg.Dim)
	}
	e := &embedder{conn: c, dim: cfg.Dim, batch: cfg.BatchSize}
	if e.batch <= 0 {
		e.batch = DefaultBatchSize
	}
	switch c.provider {
	case "openai":
		var llm *openai.LLM
		llm, err = openai.New(c.openaiOptions(openai.WithModel(c.model), openai.WithEmbeddingModel(c.model))...)
		if llm != nil {
			e.create = llm.CreateEmbedding
		}
	case "ollama":
		var llm *ollama.LLM
		llm, err = ollama.New(ollama.WithModel(c.model), ollama.WithServerURL(c.baseURL), ollama.WithHTTPClient(c.http))
		if llm != nil {
			e.create = llm.CreateEmbedding
		}
	}
	if err != nil {
		return grounded.Embedder{}, &grounded.Error{Code: grounded.EINVALID,
			Message: fmt.Sprintf("cannot set up the %s embedding client", c.provider), Err: err}
	}

	if e.dim == 0 {
		vecs, err := e.call(ctx, []string{"dimension probe"})
		if err != nil {
			return grounded.Embedder{}, setupError(err)
		}
		e.dim = len(vecs[0])
		if e.dim == 0 {
			return grounded.Embedder{}, &CallError{Provider: c.provider, Model: c.model, Op: "embed", Status: 200,
				Kind: ErrBadReply, Detail: "the probe vector is empty"}
		}
	}
	return grounded.Embedder{Name: c.provider + ":" + c.model, Dim: e.dim, Embed: e.embed}, nil
}

// setupError makes a probe failure that points at a setting an EINVALID error.
func setupError(err error) error {
	var ce *CallError
	if errors.As(err, &ce) && (errors.Is(ce.Kind, ErrUnreachable) || errors.Is(ce.Kind, ErrAuth) ||
		errors.Is(ce.Kind, ErrModelNotFound) || errors.Is(ce.Kind, ErrBadURL)) {
		// The message names the setting to fix; Err keeps errors.Is working.
		return &grounded.Error{Code: grounded.EINVALID, Message: ce.Error(), Err: ce.Kind}
	}
	return err
}

type embedder struct {
	*conn
	dim    int
	batch  int
	create func(ctx context.Context, texts []string) ([][]float32, error)
}

func (e *embedder) embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, 0, len(texts))
	for start := 0; start < len(texts); start += e.batch {
		batch := texts[start:min(start+e.batch, len(texts))]
		vecs, err := e.call(ctx, batch)
		if err != nil {
			return nil, err
		}
		for i, v := range vecs {
			if len(v) != e.dim {
				return nil, e.badReply(fmt.Sprintf("text %d: vector has %d dimensions, want %d", start+i, len(v), e.dim),
					fmt.Sprintf("was the index built with another model? check %s", e.set.model))
			}
			if !normalize(v) {
				return nil, e.badReply(fmt.Sprintf("text %d: zero or non-finite vector", start+i), "")
			}
		}
		out = append(out, vecs...)
	}
	return out, nil
}

// call embeds one batch: one vector per text, not yet checked or normalized.
func (e *embedder) call(ctx context.Context, texts []string) ([][]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, e.ctxError("embed", err)
	}
	log := &callLog{}
	vecs, err := e.create(withLog(ctx, log), texts)
	if cerr := ctx.Err(); cerr != nil {
		return nil, e.ctxError("embed", cerr)
	}
	if ferr := e.failure("embed", log, err); ferr != nil {
		return nil, ferr
	}
	if len(vecs) != len(texts) {
		return nil, e.badReply(fmt.Sprintf("got %d vectors for %d texts", len(vecs), len(texts)), "")
	}
	return vecs, nil
}

func (e *embedder) badReply(detail, hint string) error {
	return &CallError{Provider: e.provider, Model: e.model, Op: "embed", Status: 200,
		Kind: ErrBadReply, Detail: detail, Hint: hint}
}

// normalize scales v to unit length in place; false for a zero or
// non-finite vector.
func normalize(v []float32) bool {
	var sum float64
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	norm := math.Sqrt(sum)
	if norm == 0 || math.IsInf(norm, 0) || math.IsNaN(norm) {
		return false
	}
	for i, x := range v {
		v[i] = float32(float64(x) / norm)
	}
	return true
}
