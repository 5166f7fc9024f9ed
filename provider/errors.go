package provider

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"unicode/utf8"
)

// Kinds of call failure. Every *CallError wraps exactly one of them, so a
// caller can branch with errors.Is(err, provider.ErrAuth).
var (
	// ErrUnreachable: no HTTP response came back (connection refused or
	// reset, unknown host, TLS failure), after the retries.
	ErrUnreachable = errors.New("model server unreachable")
	// ErrTimeout: an attempt got no complete reply within Config.Timeout.
	// Timeouts are not retried.
	ErrTimeout = errors.New("model server timed out")
	// ErrAuth: the server answered 401 or 403; the API key is missing or wrong.
	ErrAuth = errors.New("model server rejected the API key")
	// ErrModelNotFound: the server does not know the configured model.
	ErrModelNotFound = errors.New("model not found")
	// ErrBadURL: the server answered 404 for the API path itself, so the
	// base URL does not point at the provider's API.
	ErrBadURL = errors.New("no model API at this URL")
	// ErrRateLimited: 429, still after the retries.
	ErrRateLimited = errors.New("rate limited by the model server")
	// ErrServer: a 5xx answer after the retries, or an error the server
	// reported in the middle of a streamed reply.
	ErrServer = errors.New("model server error")
	// ErrRejected: the server refused the request (a 4xx other than the above).
	ErrRejected = errors.New("model server rejected the request")
	// ErrStreamBroken: a 200 reply broke off before its end (connection
	// lost, or the stream ended without the provider's end marker).
	ErrStreamBroken = errors.New("reply broke off")
	// ErrBadReply: the reply could not be used (empty, unparsable, or
	// vectors of the wrong dimension).
	ErrBadReply = errors.New("unusable reply from the model server")
)

// CallError is a failed call to a model server. Its text says which provider,
// model and operation failed, what happened (HTTP status and a short excerpt
// of the server's message; never the API key) and, where the failure points
// at a setting, which flag or environment variable to fix.
type CallError struct {
	Provider string // "openai", "ollama" or "anthropic"
	Model    string
	Op       string // "chat" or "embed"
	Status   int    // HTTP status of the last attempt; 0 if none came back
	Attempts int    // HTTP attempts made for the failing request
	Detail   string // what failed, with the server's message
	Hint     string // the setting to fix; may be empty
	Kind     error  // one of the Err* kinds above
	Err      error  // the underlying error, if any
}

func (e *CallError) Error() string {
	s := fmt.Sprintf("%s %s (model %q): %s", e.Provider, e.Op, e.Model, e.Detail)
	if e.Hint != "" {
		s += "; " + e.Hint
	}
	return s
}

// Unwrap gives errors.Is and errors.As the kind and the cause.
func (e *CallError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// settings names the flags and environment variables that configure one
// model server, so that messages can say what to fix. cmd/grounded owns the
// names (cmd/grounded/providers.go); they are repeated here only as text.
type settings struct {
	provider string // "--llm or GROUNDED_LLM"
	url      string
	model    string
	key      string // without the provider's own variable, added by keyHint
	timeout  string
}

var (
	llmSettings = settings{
		provider: "--llm or GROUNDED_LLM",
		url:      "--llm-url or GROUNDED_LLM_URL",
		model:    "--llm-model or GROUNDED_LLM_MODEL",
		key:      "--llm-key or GROUNDED_LLM_KEY",
		timeout:  "--llm-timeout or GROUNDED_LLM_TIMEOUT",
	}
	embedSettings = settings{
		provider: "--embedder or GROUNDED_EMBEDDER",
		url:      "--embedder-url or GROUNDED_EMBEDDER_URL",
		model:    "--embedder-model or GROUNDED_EMBEDDER_MODEL",
		key:      "--embedder-key or GROUNDED_EMBEDDER_KEY",
		timeout:  "the embedder's timeout",
	}
)

// keyHint names the key settings, with the provider's conventional variable.
func (s settings) keyHint(provider string) string {
	switch provider {
	case "openai":
		return s.key + " / OPENAI_API_KEY"
	case "anthropic":
		return s.key + " / ANTHROPIC_API_KEY"
	}
	return s.key
}

// failure turns what the transport saw during one request (log) and the
// error langchaingo returned (err) into a *CallError, or nil when the
// request succeeded. Context errors are handled by the caller before this.
func (c *conn) failure(op string, log *callLog, err error) error {
	s := log.snapshot()
	e := &CallError{Provider: c.provider, Model: c.model, Op: op, Status: s.status, Attempts: s.attempts, Err: err}
	after := ""
	if s.attempts > 1 {
		after = fmt.Sprintf(" after %d attempts", s.attempts)
	}
	switch {
	case s.timedOut:
		e.Kind = ErrTimeout
		e.Detail = fmt.Sprintf("no complete reply from %s within %s", c.baseURL, c.timeout)
		e.Hint = "raise " + c.set.timeout
		if op == "chat" {
			e.Hint += ", or ask for fewer tokens"
		}
		e.Err = nil // not the caller's deadline: keep context.DeadlineExceeded out of the chain
	case s.status == 0 && s.netErr != nil:
		e.Kind = ErrUnreachable
		e.Err = s.netErr
		e.Detail = fmt.Sprintf("cannot reach %s%s: %s", c.baseURL, after, c.redact(netReason(s.netErr)))
		e.Hint = fmt.Sprintf("is the server running? check %s", c.set.url)
	case s.status >= 400:
		c.statusFailure(e, s, after)
	case s.bodyErr != nil:
		e.Kind = ErrStreamBroken
		e.Err = s.bodyErr
		e.Detail = "the reply broke off: " + c.redact(s.bodyErr.Error())
	case s.streamErr != "":
		e.Kind = ErrServer
		e.Detail = fmt.Sprintf("the server reported an error in the middle of the reply: %q", c.excerpt(s.streamErr))
	case log.check != nil && s.status/100 == 2 && !s.ended:
		e.Kind = ErrStreamBroken
		e.Detail = "the reply ended before the stream's end marker"
	case err != nil:
		e.Kind = ErrBadReply
		e.Detail = c.redact(err.Error())
	default:
		return nil
	}
	return e
}

// statusFailure fills e for an HTTP error status.
func (c *conn) statusFailure(e *CallError, s callSnapshot, after string) {
	msg := c.excerpt(s.message)
	e.Detail = fmt.Sprintf("HTTP %d%s", s.status, after)
	if msg != "" {
		e.Detail += fmt.Sprintf(": %q", msg)
	}
	lower := strings.ToLower(msg)
	modelHint := fmt.Sprintf("the server does not serve model %q: check %s", c.model, c.set.model)
	if c.provider == "ollama" {
		modelHint += fmt.Sprintf(", or run `ollama pull %s`", c.model)
	}
	switch {
	case s.status == 401 || s.status == 403:
		e.Kind = ErrAuth
		e.Hint = "the server rejected the API key: set " + c.set.keyHint(c.provider)
	case s.status == 404 && strings.Contains(lower, "model"):
		e.Kind = ErrModelNotFound
		e.Hint = modelHint
	case s.status == 404:
		e.Kind = ErrBadURL
		e.Hint = fmt.Sprintf("no %s API at %s: check %s", c.provider, c.baseURL, c.set.url)
		if c.provider == "openai" {
			e.Hint += " (OpenAI-compatible servers usually serve under /v1)"
		}
	case s.status == 429:
		e.Kind = ErrRateLimited
	case s.status >= 500:
		e.Kind = ErrServer
	case strings.Contains(lower, "model") && (strings.Contains(lower, "not found") ||
		strings.Contains(lower, "does not exist") || strings.Contains(lower, "unknown model")):
		e.Kind = ErrModelNotFound
		e.Hint = modelHint
	default:
		e.Kind = ErrRejected
	}
}

// netReason says in a few words why a connection failed.
func netReason(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset by the server"
	}
	return err.Error()
}

// excerpt shortens a server message to one line of at most 200 characters,
// without the API key.
func (c *conn) excerpt(msg string) string {
	msg = strings.Join(strings.Fields(msg), " ")
	msg = c.redact(msg)
	const max = 200
	if len(msg) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "…"
	}
	return msg
}

// redact removes the API key from s.
func (c *conn) redact(s string) string {
	if len(c.key) < 8 || c.key == noKey {
		return s // too short to be a real key, and replacing it would mangle the text
	}
	return strings.ReplaceAll(s, c.key, "[redacted]")
}

// serverMessage pulls the human-readable message out of an error body in the
// shapes the servers use: OpenAI, llama.cpp and Anthropic
// {"error":{"message":...}}, Ollama {"error":"..."}, vLLM
// {"object":"error","message":...}, FastAPI {"detail":...}; anything else is
// returned as it is.
func serverMessage(body []byte) string {
	var v struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
		Detail  json.RawMessage `json:"detail"`
	}
	if json.Unmarshal(body, &v) == nil {
		if s := errorText(v.Error); s != "" {
			return s
		}
		if v.Message != "" {
			return v.Message
		}
		if s := errorText(v.Detail); s != "" {
			return s
		}
	}
	return string(body)
}

// errorText reads an "error" or "detail" member: a string, an object with a
// message, or anything else as raw JSON.
func errorText(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var o struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(raw, &o) == nil && o.Message != "" {
		return o.Message
	}
	return string(raw)
}
