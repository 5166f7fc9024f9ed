// Package provider adapts real model servers to the grounded.LLM and
// grounded.Embedder seams: OpenAI and any OpenAI-compatible server (vLLM,
// llama.cpp server, LocalAI), Ollama, and Anthropic, through langchaingo's
// clients. It is the only package that imports langchaingo's provider
// packages.
//
// It owns the behaviour of those calls that langchaingo leaves out or gets
// wrong (see transport.go): a timeout per attempt; bounded retries with
// backoff for transient failures only; a reply stream that breaks off is an
// error, never a silently truncated answer; a cancelled call returns ctx's
// error (langchaingo sometimes returns the partial reply with a nil error);
// and errors that name the provider, the model, what failed and which setting
// to fix, never the API key. Every setting comes from the Config: nothing is
// read from the environment (cmd/grounded reads it).
package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/groundedhq/grounded"
	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/anthropic"
	"github.com/tmc/langchaingo/llms/ollama"
	"github.com/tmc/langchaingo/llms/openai"
)

// Defaults.
const (
	DefaultTimeout = 60 * time.Second
	DefaultRetries = 2
	DefaultBackoff = 500 * time.Millisecond

	DefaultOpenAIURL    = "https://api.openai.com/v1"
	DefaultOllamaURL    = "http://localhost:11434"
	DefaultAnthropicURL = "https://api.anthropic.com"
)

// noKey is the token sent to OpenAI-compatible servers that need none:
// langchaingo refuses to build a client without one (openai/llm.go:45).
const noKey = "none"

// Config selects and configures a chat model. cmd/grounded fills it from
// flags and environment; this package reads neither.
type Config struct {
	// Provider is "openai" (OpenAI or any OpenAI-compatible server: vLLM,
	// llama.cpp server, LocalAI), "ollama" or "anthropic".
	Provider string
	// BaseURL is the server's URL. Defaults: https://api.openai.com/v1,
	// http://localhost:11434, https://api.anthropic.com. For OpenAI-compatible
	// servers it includes the /v1 prefix (http://localhost:8000/v1); for
	// Anthropic it may leave out /v1.
	BaseURL string
	// Model names the model; required.
	Model string
	// APIKey is required for Anthropic, and for OpenAI at api.openai.com;
	// other OpenAI-compatible servers get "none" when it is empty. For
	// Ollama it is optional and sent as a Bearer token (for a proxy).
	APIKey string
	// LegacyMaxTokens makes the OpenAI provider send max_tokens instead of
	// max_completion_tokens, for older vLLM and llama.cpp servers.
	LegacyMaxTokens bool
	// Timeout bounds each HTTP attempt, from sending the request to the end
	// of the reply (a stream included). 0 means DefaultTimeout.
	Timeout time.Duration
	// Retries is the number of extra attempts after a transient failure
	// (connection refused or reset, 429, 5xx). 0 means DefaultRetries; a
	// negative value means none.
	Retries int
	// Backoff is the first wait before a retry; it doubles each time, with
	// jitter. A 429 or 503 with Retry-After waits what the server asks (up
	// to 30s; longer, the error is returned). 0 means DefaultBackoff.
	Backoff time.Duration
	// HTTPClient, when set, is copied and its Transport wrapped; tests
	// inject one. Its own Timeout, if any, would bound all attempts together.
	HTTPClient *http.Client
}

// NewLLM checks cfg and returns the model. It makes no request.
//
// Errors: a *grounded.Error with code EINVALID that names the setting to fix
// (unknown provider, missing model or key, bad URL).
//
// The returned LLM's Generate sends System as a system message and Prompt as
// one user message, at temperature 0, with MaxTokens when positive (Anthropic
// gets 2048 when it is 0: langchaingo's default there). With OnChunk set it
// streams, forwarding every non-empty piece in order; calls to OnChunk are
// sequential but may come from another goroutine, and none comes after the
// call has returned. Generate returns:
//   - ctx's error (wrapped; errors.Is works) when ctx ends first, even if
//     part of the reply had arrived;
//   - OnChunk's error, unchanged, when OnChunk fails;
//   - a *grounded.Error with EINVALID for an empty prompt or negative MaxTokens;
//   - a *CallError wrapping one of ErrUnreachable, ErrTimeout, ErrAuth,
//     ErrModelNotFound, ErrBadURL, ErrRateLimited, ErrServer, ErrRejected,
//     ErrStreamBroken, ErrBadReply otherwise.
func NewLLM(cfg Config) (grounded.LLM, error) {
	c, err := newConn(connConfig{
		provider: cfg.Provider, baseURL: cfg.BaseURL, model: cfg.Model, key: cfg.APIKey,
		timeout: cfg.Timeout, retries: cfg.Retries, backoff: cfg.Backoff, httpClient: cfg.HTTPClient,
		set: llmSettings, what: "LLM",
	})
	if err != nil {
		return grounded.LLM{}, err
	}
	g := &generator{conn: c}
	switch c.provider {
	case "openai":
		g.llm, err = openai.New(c.openaiOptions(openai.WithModel(c.model))...)
		g.legacyMaxTokens = cfg.LegacyMaxTokens
	case "ollama":
		g.llm, err = ollama.New(ollama.WithModel(c.model), ollama.WithServerURL(c.baseURL), ollama.WithHTTPClient(c.http))
	case "anthropic":
		g.llm, err = anthropic.New(anthropic.WithToken(c.key), anthropic.WithModel(c.model),
			anthropic.WithBaseURL(anthropicAPIURL(c.baseURL)), anthropic.WithHTTPClient(c.http))
	}
	if err != nil {
		return grounded.LLM{}, &grounded.Error{Code: grounded.EINVALID,
			Message: fmt.Sprintf("cannot set up the %s LLM client", c.provider), Err: err}
	}
	return grounded.LLM{Provider: c.provider, Model: c.model, Generate: g.generate}, nil
}

// conn is what one configured model server needs: its client, its
// settings' names and what messages must not show.
type conn struct {
	provider string
	model    string
	baseURL  string // as configured or defaulted, for messages
	key      string // sent as the API key ("none" for keyless OpenAI-compatible servers)
	timeout  time.Duration
	http     *http.Client
	set      settings
}

type connConfig struct {
	provider, baseURL, model, key string
	timeout, backoff              time.Duration
	retries                       int
	httpClient                    *http.Client
	set                           settings
	what                          string // "LLM" or "embedding"
	providers                     []string
}

// newConn validates the shared settings and builds the HTTP client.
func newConn(cc connConfig) (*conn, error) {
	if cc.providers == nil {
		cc.providers = []string{"openai", "ollama", "anthropic"}
	}
	p := strings.ToLower(strings.TrimSpace(cc.provider))
	known := false
	for _, k := range cc.providers {
		known = known || p == k
	}
	if !known {
		return nil, grounded.Errorf(grounded.EINVALID, "unknown %s provider %q: use %s (%s)",
			cc.what, cc.provider, strings.Join(cc.providers, ", "), cc.set.provider)
	}
	c := &conn{provider: p, model: strings.TrimSpace(cc.model), set: cc.set}
	if c.model == "" {
		return nil, grounded.Errorf(grounded.EINVALID, "no %s model named for provider %s: set %s",
			cc.what, p, cc.set.model)
	}

	c.baseURL = strings.TrimSpace(cc.baseURL)
	if c.baseURL == "" {
		c.baseURL = map[string]string{"openai": DefaultOpenAIURL, "ollama": DefaultOllamaURL, "anthropic": DefaultAnthropicURL}[p]
	}
	u, err := url.Parse(c.baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return nil, grounded.Errorf(grounded.EINVALID, "invalid %s server URL %q: want http://host[:port][/path] or https://...; check %s",
			cc.what, cc.baseURL, cc.set.url)
	}
	c.baseURL = strings.TrimRight(c.baseURL, "/")

	c.key = strings.TrimSpace(cc.key)
	if c.key == "" {
		switch {
		case p == "anthropic" || (p == "openai" && strings.EqualFold(u.Hostname(), "api.openai.com")):
			return nil, grounded.Errorf(grounded.EINVALID, "no API key for %s at %s: set %s",
				p, c.baseURL, cc.set.keyHint(p))
		case p == "openai":
			c.key = noKey // local OpenAI-compatible servers accept any token
		}
	}

	t := &transport{timeout: cc.timeout, retries: cc.retries, backoff: cc.backoff}
	if t.timeout <= 0 {
		t.timeout = DefaultTimeout
	}
	switch {
	case t.retries == 0:
		t.retries = DefaultRetries
	case t.retries < 0:
		t.retries = 0
	}
	if t.backoff <= 0 {
		t.backoff = DefaultBackoff
	}
	if p == "ollama" {
		t.bearer = c.key
	}
	c.timeout = t.timeout
	c.http = newHTTPClient(cc.httpClient, t)
	return c, nil
}

// openaiOptions passes every setting explicitly, so that langchaingo's
// defaults from OPENAI_API_KEY, OPENAI_MODEL, OPENAI_BASE_URL,
// OPENAI_API_BASE and OPENAI_ORGANIZATION (openai/llm.go:22-28) never apply.
func (c *conn) openaiOptions(more ...openai.Option) []openai.Option {
	return append([]openai.Option{
		openai.WithToken(c.key),
		openai.WithBaseURL(c.baseURL),
		openai.WithOrganization(""),
		openai.WithAPIType(openai.APITypeOpenAI),
		openai.WithHTTPClient(c.http),
	}, more...)
}

// anthropicAPIURL turns the Anthropic base URL (as its SDKs take it, without
// /v1) into the one langchaingo wants: it appends "/messages" to it
// (anthropicclient.go:198, messages.go:236).
func anthropicAPIURL(base string) string {
	if strings.HasSuffix(base, "/v1") {
		return base
	}
	return base + "/v1"
}

// ctxError wraps ctx's error with what was being done.
func (c *conn) ctxError(op string, err error) error {
	return fmt.Errorf("%s %s (model %q): %w", c.provider, op, c.model, err)
}

type generator struct {
	*conn
	llm             llms.Model
	legacyMaxTokens bool
}

func (g *generator) generate(ctx context.Context, req grounded.GenerateRequest) (*grounded.GenerateReply, error) {
	if strings.TrimSpace(req.Prompt) == "" {
		return nil, grounded.Errorf(grounded.EINVALID, "empty prompt")
	}
	if req.MaxTokens < 0 {
		return nil, grounded.Errorf(grounded.EINVALID, "negative max tokens %d", req.MaxTokens)
	}
	if err := ctx.Err(); err != nil {
		return nil, g.ctxError("chat", err)
	}

	// One text part per message: Ollama refuses a message with two
	// (ollamallm.go:121-127).
	var msgs []llms.MessageContent
	if req.System != "" {
		msgs = append(msgs, llms.TextParts(llms.ChatMessageTypeSystem, req.System))
	}
	msgs = append(msgs, llms.TextParts(llms.ChatMessageTypeHuman, req.Prompt))

	opts := []llms.CallOption{llms.WithTemperature(0)}
	if req.MaxTokens > 0 {
		opts = append(opts, llms.WithMaxTokens(req.MaxTokens))
	}
	if g.legacyMaxTokens {
		opts = append(opts, openai.WithLegacyMaxTokensField())
	}
	log := &callLog{}
	streaming := req.OnChunk != nil
	switch {
	case g.provider == "ollama":
		// Ollama streams NDJSON even when not asked to: langchaingo leaves
		// "stream" out when false (ollamaclient/types.go:52) and the server
		// defaults to true. A reply without the done line is cut off.
		log.check = ollamaLine
	case g.provider == "openai" && streaming:
		log.check = openaiLine
	case g.provider == "anthropic" && streaming:
		log.check = anthropicLine
	}
	var gate *chunkGate
	if streaming {
		gate = &chunkGate{fn: req.OnChunk}
		opts = append(opts, llms.WithStreamingFunc(gate.forward))
	}

	resp, err := g.llm.GenerateContent(withLog(ctx, log), msgs, opts...)
	var chunkErr error
	if gate != nil {
		chunkErr = gate.close()
	}
	// langchaingo rewraps context errors ("request cancelled") and may
	// return a partial reply with a nil error after a cancel: ctx decides.
	if cerr := ctx.Err(); cerr != nil {
		return nil, g.ctxError("chat", cerr)
	}
	if chunkErr != nil {
		return nil, chunkErr
	}
	if ferr := g.failure("chat", log, err); ferr != nil {
		return nil, ferr
	}
	if resp == nil || len(resp.Choices) == 0 {
		return nil, &CallError{Provider: g.provider, Model: g.model, Op: "chat", Status: 200,
			Kind: ErrBadReply, Detail: "the reply has no choices"}
	}
	reply := &grounded.GenerateReply{}
	var text strings.Builder
	for _, ch := range resp.Choices {
		// Anthropic returns one choice per content block; all carry the usage.
		text.WriteString(ch.Content)
	}
	reply.Text = text.String()
	reply.Usage = usageOf(resp.Choices[0].GenerationInfo)
	return reply, nil
}

// usageOf reads the token counts langchaingo puts in GenerationInfo:
// OpenAI and Ollama use PromptTokens / CompletionTokens
// (openaillm.go:341-343, ollamallm.go:209-211), Anthropic InputTokens /
// OutputTokens (anthropicllm.go:188-189). Absent counts are 0.
func usageOf(info map[string]any) grounded.Usage {
	return grounded.Usage{
		PromptTokens:     firstInt(info, "PromptTokens", "InputTokens"),
		CompletionTokens: firstInt(info, "CompletionTokens", "OutputTokens"),
	}
}

func firstInt(m map[string]any, keys ...string) int {
	for _, k := range keys {
		switch v := m[k].(type) {
		case int:
			return v
		case int32:
			return int(v)
		case int64:
			return int(v)
		case float64:
			return int(v)
		}
	}
	return 0
}

// errCallOver refuses chunks that arrive after Generate returned (the
// Anthropic client's reader goroutine can outlive the call: messages.go:263-300).
var errCallOver = errors.New("generate call already returned")

// chunkGate forwards streamed pieces to OnChunk: non-empty ones only (the
// OpenAI and Ollama clients also deliver empty chunks), one at a time,
// never after close, and remembers OnChunk's first error.
type chunkGate struct {
	mu     sync.Mutex
	fn     func(string) error
	err    error
	closed bool
}

func (g *chunkGate) forward(_ context.Context, chunk []byte) error {
	if len(chunk) == 0 {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.closed:
		return errCallOver
	case g.err != nil:
		return g.err
	}
	if err := g.fn(string(chunk)); err != nil {
		g.err = err
		return err
	}
	return nil
}

// close stops forwarding, waits for a piece in flight, and returns
// OnChunk's error if it failed.
func (g *chunkGate) close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = true
	return g.err
}
