package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/groundedhq/grounded"
)

// openAIServer is an OpenAI-compatible chat server (the wire format of
// api.openai.com, vLLM and llama.cpp's server) scripted by reply: given the
// user prompt, it returns the model's text, or "" to fail with status.
// Replies stream as SSE "data:" chunks ending with [DONE] when asked to.
func openAIServer(t *testing.T, status *atomic.Int32, reply func(prompt string) string) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" || r.Method != http.MethodPost {
			http.Error(w, `{"error":{"message":"not found"}}`, http.StatusNotFound)
			return
		}
		if s := status.Load(); s != 0 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(int(s))
			fmt.Fprint(w, `{"error":{"message":"overloaded","type":"server_error"}}`)
			return
		}
		var req struct {
			Model    string `json:"model"`
			Stream   bool   `json:"stream"`
			Messages []struct {
				Role    string `json:"role"`
				Content string `json:"content"`
			} `json:"messages"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Messages) != 2 || req.Messages[0].Role != "system" {
			http.Error(w, `{"error":{"message":"bad request"}}`, http.StatusBadRequest)
			return
		}
		text := reply(req.Messages[1].Content)
		if !req.Stream {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]any{
				"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": req.Model,
				"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
					"message": map[string]any{"role": "assistant", "content": text}}},
				"usage": map[string]any{"prompt_tokens": 321, "completion_tokens": 42, "total_tokens": 363},
			})
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		for _, piece := range strings.SplitAfter(text, " ") {
			b, _ := json.Marshal(map[string]any{"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": req.Model,
				"choices": []any{map[string]any{"index": 0, "delta": map[string]any{"content": piece}}}})
			fmt.Fprintf(w, "data: %s\n\n", b)
			w.(http.Flusher).Flush()
		}
		fmt.Fprint(w, "data: [DONE]\n\n")
	}))
	t.Cleanup(ts.Close)
	return ts
}

var passageRe = regexp.MustCompile(`(?s)<passage n="(\d+)"[^\n]*>\n(.*?)\n</passage>`)

// citeWhere returns the number of the prompt's passage containing s, or 99.
func citeWhere(prompt, s string) string {
	for _, m := range passageRe.FindAllStringSubmatch(prompt, -1) {
		if strings.Contains(m[2], s) {
			return m[1]
		}
	}
	return "99"
}

func TestAskWithOpenAICompatibleModel(t *testing.T) {
	var status atomic.Int32
	ts := openAIServer(t, &status, func(p string) string {
		n := citeWhere(p, "cannot generate images")
		return "A large language model on its own generates text and cannot generate images [" + n + "]. " +
			"It was invented in 1847 by Ada Lovelace [" + n + "]. " +
			"Image generation needs a diffusion model or a multimodal model with an image decoder [" + n + "][12]."
	})
	dir := filepath.Join(t.TempDir(), "data")
	llm := []string{"--llm", "openai", "--llm-url", ts.URL + "/v1", "--llm-model", "test-model"}

	t.Run("checked answer", func(t *testing.T) {
		out, _, err := runCLI(t, append([]string{"ask", "--data", dir, "--json", "Can a large language model generate images?"}, llm...)...)
		if err != nil {
			t.Fatal(err)
		}
		var ans grounded.Answer
		decodeStrict(t, out, &ans)
		if ans.Abstained || ans.Generator != "openai" || ans.Model != "test-model" || ans.Usage == nil || ans.Usage.CompletionTokens != 42 {
			t.Fatalf("answer %+v", ans)
		}
		if len(ans.Sentences) != 2 || len(ans.Unsupported) != 1 || !strings.Contains(ans.Unsupported[0].Text, "1847") {
			t.Fatalf("want 2 supported sentences and the invented one dropped: %+v / %+v", ans.Sentences, ans.Unsupported)
		}
		if ans.InvalidCitations != 1 || strings.Contains(ans.Answer, "1847") || strings.Contains(ans.Answer, "[12]") {
			t.Errorf("answer %q, invalid citations %d", ans.Answer, ans.InvalidCitations)
		}
		if len(ans.Citations) != 1 {
			t.Fatalf("citations %+v", ans.Citations)
		}
		for _, c := range ans.Citations {
			checkSpan(t, "citation", c.Source, c.Start, c.End, c.Quote)
		}
	})
	t.Run("model down: extractive fallback", func(t *testing.T) {
		status.Store(http.StatusServiceUnavailable)
		defer status.Store(0)
		out, _, err := runCLI(t, append([]string{"ask", "--data", dir, "--json", "Can a large language model generate images?"}, llm...)...)
		if err != nil {
			t.Fatal(err)
		}
		var ans grounded.Answer
		decodeStrict(t, out, &ans)
		if ans.Generator != "extractive" || ans.FallbackReason == "" || ans.Abstained {
			t.Fatalf("want an extractive answer with a fallback reason, got %+v", ans)
		}
	})
	t.Run("streamed on the terminal", func(t *testing.T) {
		out, _, err := runCLI(t, append([]string{"ask", "--data", dir, "--stream", "Can a large language model generate images?"}, llm...)...)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(out, "\n")
		if !strings.HasPrefix(lines[0], "A large language model on its own generates text and cannot generate images. [") ||
			strings.Contains(out, "1847") && !strings.Contains(out, "dropped") {
			t.Fatalf("stream output:\n%s", out)
		}
	})
	t.Run("bad setup names the setting", func(t *testing.T) {
		_, _, err := runCLI(t, "ask", "--data", dir, "--llm", "openai", "--llm-url", ts.URL+"/v1", "What?")
		if err == nil || !strings.Contains(err.Error(), "--llm-model") {
			t.Fatalf("err = %v, want one naming --llm-model", err)
		}
	})
}
