package provider_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/groundedhq/grounded/provider"
)

// A fake model server: it records every request and answers the n-th one
// with the n-th step of its script (the last step repeats).

// step answers one request; body is the request's decoded JSON.
type step func(w http.ResponseWriter, r *http.Request, body map[string]any)

type seen struct {
	method, path string
	header       http.Header
	body         map[string]any
}

type fake struct {
	t       *testing.T
	srv     *httptest.Server
	release chan struct{} // closed at cleanup: frees handlers that hang

	mu     sync.Mutex
	reqs   []seen
	script []step
}

func newFake(t *testing.T, script ...step) *fake {
	t.Helper()
	f := &fake{t: t, script: script, release: make(chan struct{})}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	t.Cleanup(func() { close(f.release) }) // runs before Close
	return f
}

func (f *fake) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		f.t.Errorf("%s %s: request body is not a JSON object: %v: %q", r.Method, r.URL.Path, err, raw)
	}
	f.mu.Lock()
	f.reqs = append(f.reqs, seen{method: r.Method, path: r.URL.Path, header: r.Header.Clone(), body: body})
	s := f.script[min(len(f.reqs), len(f.script))-1]
	f.mu.Unlock()
	s(w, r, body)
}

func (f *fake) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.reqs)
}

func (f *fake) req(i int) seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	if i >= len(f.reqs) {
		f.t.Fatalf("request %d not made (%d made)", i, len(f.reqs))
	}
	return f.reqs[i]
}

// hang blocks until the client goes away or the test ends.
func (f *fake) hang(w http.ResponseWriter, r *http.Request, _ map[string]any) {
	select {
	case <-r.Context().Done():
	case <-f.release:
	}
}

// resetConn closes the connection without an answer.
func resetConn(w http.ResponseWriter, _ *http.Request, _ map[string]any) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(err)
	}
	conn.Close()
}

// withHeader adds a response header before s runs.
func withHeader(k, v string, s step) step {
	return func(w http.ResponseWriter, r *http.Request, body map[string]any) {
		w.Header().Set(k, v)
		s(w, r, body)
	}
}

// stream is a streamed reply as frames: head, one frame per piece, tail.
type stream struct {
	contentType        string
	head, pieces, tail []string
}

// How a streamed reply goes wrong after `after` pieces.
type cutMode int

const (
	whole     cutMode = iota // no cut: the whole stream
	breakConn                // hijack and close the connection (chunked body left unfinished)
	cleanEOF                 // raw HTTP/1.1 reply without length, closed cleanly: no end marker
	hold                     // stop sending and wait for the client to go away
)

// send writes s, cut as mode says.
func (f *fake) send(s stream, mode cutMode, after int) step {
	return func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		frames := append([]string{}, s.head...)
		if mode == whole {
			frames = append(append(frames, s.pieces...), s.tail...)
		} else {
			frames = append(frames, s.pieces[:min(after, len(s.pieces))]...)
		}
		if mode == cleanEOF {
			conn, buf, err := http.NewResponseController(w).Hijack()
			if err != nil {
				panic(err)
			}
			defer conn.Close()
			fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nConnection: close\r\n\r\n", s.contentType)
			for _, fr := range frames {
				buf.WriteString(fr)
			}
			buf.Flush()
			return
		}
		w.Header().Set("Content-Type", s.contentType)
		rc := http.NewResponseController(w)
		for _, fr := range frames {
			io.WriteString(w, fr)
			rc.Flush()
		}
		switch mode {
		case breakConn:
			conn, _, err := rc.Hijack()
			if err != nil {
				panic(err)
			}
			conn.Close()
		case hold:
			f.hang(w, r, nil)
		}
	}
}

// js is v as JSON text.
func js(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func jsonReply(status int, body string) step {
	return func(w http.ResponseWriter, _ *http.Request, _ map[string]any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

// Failure kinds a dialect can answer with, in its own error format.
type failKind int

const (
	failBadRequest failKind = iota
	failAuth
	failModel
	failRate
	failServer
)

// dialect is one provider's wire format, as its real server speaks it.
type dialect struct {
	name      string
	urlSuffix string // appended to the server URL to make Config.BaseURL
	chatPath  string
	model     string
	key       string
	// reply answers a chat request that did not ask to stream.
	reply func(f *fake, text string, pt, ct int) step
	// stream is a streamed chat reply.
	stream func(pieces []string, pt, ct int) stream
	// fail answers with an error in the provider's format; msg is the
	// server's message.
	fail func(kind failKind, msg string) step
	// midError is a stream frame that reports a failure mid-reply.
	midError string
	// check asserts the chat request langchaingo sent.
	check func(t *testing.T, s seen, streaming bool, maxTokens int)
}

func (d dialect) config(f *fake) provider.Config {
	return provider.Config{
		Provider: d.name, BaseURL: f.srv.URL + d.urlSuffix, Model: d.model, APIKey: d.key,
		Timeout: 5 * time.Second, Backoff: time.Millisecond,
	}
}

// OpenAI chat completions (also vLLM, llama.cpp server, LocalAI).
var openaiDialect = dialect{
	name: "openai", urlSuffix: "/v1", chatPath: "/v1/chat/completions",
	model: "gpt-4o-mini", key: "sk-test-0123456789secret",
	reply: func(_ *fake, text string, pt, ct int) step {
		return jsonReply(200, fmt.Sprintf(`{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini-2024-07-18",`+
			`"choices":[{"index":0,"message":{"role":"assistant","content":%s,"refusal":null},"logprobs":null,"finish_reason":"stop"}],`+
			`"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},`+
			`"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},`+
			`"system_fingerprint":"fp_1"}`, js(text), pt, ct, pt+ct))
	},
	stream: func(pieces []string, pt, ct int) stream {
		chunk := func(delta, finish string) string {
			fin := "null"
			if finish != "" {
				fin = js(finish)
			}
			return fmt.Sprintf(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_1",`+
				`"choices":[{"index":0,"delta":%s,"logprobs":null,"finish_reason":%s}],"usage":null}`+"\n\n", delta, fin)
		}
		s := stream{contentType: "text/event-stream; charset=utf-8"}
		s.head = []string{chunk(`{"role":"assistant","content":"","refusal":null}`, "")}
		for _, p := range pieces {
			s.pieces = append(s.pieces, chunk(fmt.Sprintf(`{"content":%s}`, js(p)), ""))
		}
		s.tail = []string{
			chunk(`{}`, "stop"),
			fmt.Sprintf(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_1",`+
				`"choices":[],"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}}`+"\n\n", pt, ct, pt+ct),
			"data: [DONE]\n\n",
		}
		return s
	},
	fail: func(kind failKind, msg string) step {
		status, typ, code := map[failKind]int{failBadRequest: 400, failAuth: 401, failModel: 404, failRate: 429, failServer: 500}[kind],
			"invalid_request_error", "null"
		switch kind {
		case failAuth:
			code = `"invalid_api_key"`
		case failModel:
			code = `"model_not_found"`
		case failRate:
			typ, code = "requests", `"rate_limit_exceeded"`
		case failServer:
			typ = "server_error"
		}
		return jsonReply(status, fmt.Sprintf(`{"error":{"message":%s,"type":%q,"param":null,"code":%s}}`, js(msg), typ, code))
	},
	// vLLM reports a failure inside the stream as a data frame with "error".
	midError: `data: {"error":{"object":"error","message":"CUDA out of memory","type":"InternalServerError","param":null,"code":500}}` + "\n\n",
	check: func(t *testing.T, s seen, streaming bool, maxTokens int) {
		t.Helper()
		if s.method != "POST" || s.path != "/v1/chat/completions" {
			t.Errorf("request %s %s, want POST /v1/chat/completions", s.method, s.path)
		}
		if got := s.header.Get("Authorization"); got != "Bearer sk-test-0123456789secret" {
			t.Errorf("Authorization %q", got)
		}
		want := map[string]any{
			"model":       "gpt-4o-mini",
			"messages":    []any{map[string]any{"role": "system", "content": "SYS"}, map[string]any{"role": "user", "content": "PROMPT"}},
			"temperature": 0.0,
		}
		if maxTokens > 0 {
			want["max_completion_tokens"] = float64(maxTokens)
		}
		if streaming {
			want["stream"] = true
			want["stream_options"] = map[string]any{"include_usage": true}
		}
		sameJSON(t, s.body, want)
	},
}

// Ollama's native chat API.
var ollamaDialect = dialect{
	name: "ollama", chatPath: "/api/chat", model: "llama3.2",
	reply: func(f *fake, text string, pt, ct int) step {
		// Ollama streams unless the request says "stream": false, and
		// langchaingo leaves the field out when it does not stream.
		return func(w http.ResponseWriter, r *http.Request, body map[string]any) {
			if st, ok := body["stream"]; ok && st == false {
				jsonReply(200, fmt.Sprintf(`{"model":"llama3.2","created_at":"2025-01-02T03:04:05.678Z","message":{"role":"assistant","content":%s},`+
					`"done_reason":"stop","done":true,"total_duration":5000000,"load_duration":100000,"prompt_eval_count":%d,`+
					`"prompt_eval_duration":200000,"eval_count":%d,"eval_duration":300000}`, js(text), pt, ct))(w, r, body)
				return
			}
			words := strings.SplitAfter(text, " ")
			f.send(ollamaStream(words, pt, ct), whole, 0)(w, r, body)
		}
	},
	stream: ollamaStream,
	fail: func(kind failKind, msg string) step {
		status := map[failKind]int{failBadRequest: 400, failAuth: 401, failModel: 404, failRate: 429, failServer: 500}[kind]
		return jsonReply(status, fmt.Sprintf(`{"error":%s}`, js(msg)))
	},
	midError: `{"error":"an error was encountered while running the model: unexpected EOF"}` + "\n",
	check: func(t *testing.T, s seen, streaming bool, maxTokens int) {
		t.Helper()
		if s.method != "POST" || s.path != "/api/chat" {
			t.Errorf("request %s %s, want POST /api/chat", s.method, s.path)
		}
		want := map[string]any{
			"model":    "llama3.2",
			"messages": []any{map[string]any{"role": "system", "content": "SYS"}, map[string]any{"role": "user", "content": "PROMPT"}},
			"format":   "",
			"options":  map[string]any{"temperature": 0.0},
		}
		if maxTokens > 0 {
			want["options"].(map[string]any)["num_predict"] = float64(maxTokens)
		}
		if streaming {
			want["stream"] = true
		}
		sameJSON(t, s.body, want)
	},
}

// ollamaStream is Ollama's NDJSON chat stream: one line per piece, then the
// done line with the token counts.
func ollamaStream(pieces []string, pt, ct int) stream {
	s := stream{contentType: "application/x-ndjson"}
	for _, p := range pieces {
		s.pieces = append(s.pieces, fmt.Sprintf(`{"model":"llama3.2","created_at":"2025-01-02T03:04:05.678Z","message":{"role":"assistant","content":%s},"done":false}`+"\n", js(p)))
	}
	s.tail = []string{fmt.Sprintf(`{"model":"llama3.2","created_at":"2025-01-02T03:04:05.678Z","message":{"role":"assistant","content":""},`+
		`"done_reason":"stop","done":true,"total_duration":5000000,"load_duration":100000,"prompt_eval_count":%d,`+
		`"prompt_eval_duration":200000,"eval_count":%d,"eval_duration":300000}`+"\n", pt, ct)}
	return s
}

// Anthropic's Messages API.
var anthropicDialect = dialect{
	name: "anthropic", chatPath: "/v1/messages", model: "claude-3-5-haiku-20241022", key: "sk-ant-test-secret",
	reply: func(_ *fake, text string, pt, ct int) step {
		return jsonReply(200, fmt.Sprintf(`{"id":"msg_01","type":"message","role":"assistant","model":"claude-3-5-haiku-20241022",`+
			`"content":[{"type":"text","text":%s}],"stop_reason":"end_turn","stop_sequence":null,`+
			`"usage":{"input_tokens":%d,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":%d}}`, js(text), pt, ct))
	},
	stream: func(pieces []string, pt, ct int) stream {
		ev := func(name, data string) string { return "event: " + name + "\ndata: " + data + "\n\n" }
		s := stream{contentType: "text/event-stream; charset=utf-8"}
		s.head = []string{
			ev("message_start", fmt.Sprintf(`{"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant","model":"claude-3-5-haiku-20241022",`+
				`"content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":%d,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}`, pt)),
			ev("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`),
			ev("ping", `{"type": "ping"}`),
		}
		for _, p := range pieces {
			s.pieces = append(s.pieces, ev("content_block_delta", fmt.Sprintf(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":%s}}`, js(p))))
		}
		s.tail = []string{
			ev("content_block_stop", `{"type":"content_block_stop","index":0}`),
			ev("message_delta", fmt.Sprintf(`{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":%d}}`, ct)),
			ev("message_stop", `{"type":"message_stop"}`),
		}
		return s
	},
	fail: func(kind failKind, msg string) step {
		status, typ := 400, "invalid_request_error"
		switch kind {
		case failAuth:
			status, typ = 401, "authentication_error"
		case failModel:
			status, typ = 404, "not_found_error"
		case failRate:
			status, typ = 429, "rate_limit_error"
		case failServer:
			status, typ = 500, "api_error"
		}
		return jsonReply(status, fmt.Sprintf(`{"type":"error","error":{"type":%q,"message":%s}}`, typ, js(msg)))
	},
	midError: "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n",
	check: func(t *testing.T, s seen, streaming bool, maxTokens int) {
		t.Helper()
		if s.method != "POST" || s.path != "/v1/messages" {
			t.Errorf("request %s %s, want POST /v1/messages", s.method, s.path)
		}
		if got := s.header.Get("X-Api-Key"); got != "sk-ant-test-secret" {
			t.Errorf("x-api-key %q", got)
		}
		if got := s.header.Get("Anthropic-Version"); got != "2023-06-01" {
			t.Errorf("anthropic-version %q", got)
		}
		want := map[string]any{
			"model":       "claude-3-5-haiku-20241022",
			"system":      "SYS",
			"messages":    []any{map[string]any{"role": "user", "content": []any{map[string]any{"type": "text", "text": "PROMPT"}}}},
			"temperature": 0.0,
			"max_tokens":  2048.0, // langchaingo's default when none is asked for
		}
		if maxTokens > 0 {
			want["max_tokens"] = float64(maxTokens)
		}
		if streaming {
			want["stream"] = true
		}
		sameJSON(t, s.body, want)
	},
}

var dialects = []dialect{openaiDialect, ollamaDialect, anthropicDialect}

// modelMessage is each server's message for an unknown model.
func modelMessage(d dialect) string {
	switch d.name {
	case "openai":
		return "The model `" + d.model + "` does not exist or you do not have access to it."
	case "ollama":
		return `model "` + d.model + `" not found, try pulling it first`
	}
	return "model: " + d.model
}

// sameJSON compares a decoded JSON object with the expected one.
func sameJSON(t *testing.T, got, want map[string]any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("request body\n got %s\nwant %s", js(got), js(want))
	}
}
