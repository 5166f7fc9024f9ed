package main

// The OpenAI-compatible API end to end: `grounded serve` over a fresh data
// folder (the built-in corpus), driven by the official openai SDK
// (test/js/openai.mjs) and by raw HTTP, whose bytes are checked as a client
// library would parse them. The SDK test needs node and
// test/js/node_modules/openai (npm ci in test/js); without them it skips,
// unless GROUNDED_REQUIRE_JS=1, which makes a missing piece a failure.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/groundedhq/grounded/server"
)

// startServing runs `grounded serve` on 127.0.0.1:0 over a fresh data
// folder, with extra flags, and returns its base URL. The server stops when
// the test ends.
func startServing(t *testing.T, extra ...string) string {
	t.Helper()
	const watchdog = 30 * time.Second
	dir := filepath.Join(t.TempDir(), "data")
	ctx, cancel := context.WithCancel(context.Background())
	stderr := &addrWriter{addrs: make(chan string, 1)}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--data", dir, "--addr", "127.0.0.1:0"}, extra...), io.Discard, stderr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(watchdog):
			t.Errorf("serve did not stop")
		}
	})
	select {
	case addr := <-stderr.addrs:
		return "http://" + addr
	case err := <-done:
		t.Fatalf("serve returned early: %v\nstderr: %s", err, stderr.String())
	case <-time.After(watchdog):
		t.Fatalf("serve never logged its address\nstderr: %s", stderr.String())
	}
	return ""
}

// TestOpenAIClient runs test/js/openai.mjs, the official openai SDK against
// the server: models, a cited answer with exact quotes, the same streamed,
// an abstention, a follow-up, a bad model (APIError 404), n=2 (400).
func TestOpenAIClient(t *testing.T) {
	jsDir, err := filepath.Abs(filepath.Join("..", "..", "test", "js"))
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	if _, err := exec.LookPath("node"); err != nil {
		missing = append(missing, "node is not on PATH")
	}
	if _, err := os.Stat(filepath.Join(jsDir, "node_modules", "openai", "package.json")); err != nil {
		missing = append(missing, "test/js/node_modules/openai is not installed (cd test/js && npm ci)")
	}
	if len(missing) > 0 {
		msg := "openai SDK test: " + strings.Join(missing, "; ")
		if os.Getenv("GROUNDED_REQUIRE_JS") == "1" {
			t.Fatal(msg + " (GROUNDED_REQUIRE_JS=1)")
		}
		t.Skip(msg + " (set GROUNDED_REQUIRE_JS=1 to make this a failure)")
	}
	base := startServing(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join(jsDir, "openai.mjs"), base)
	cmd.Dir = jsDir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node openai.mjs %s: %v\n%s", base, err, out)
	}
	if !strings.Contains(string(out), "all checks passed") {
		t.Fatalf("openai.mjs did not finish:\n%s", out)
	}
	t.Logf("openai.mjs:\n%s", out)
}

// rawChat posts a chat request and returns the status, Content-Type and
// the body's bytes as they came.
func rawChat(t *testing.T, base, body string) (int, string, []byte) {
	t.Helper()
	resp, err := http.Post(base+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), data
}

// parseChatStream checks a stream's raw bytes: "data: JSON\n\n" frames and
// nothing else, ending "data: [DONE]\n\n". It returns the chunks and the
// content their deltas make.
func parseChatStream(t *testing.T, raw []byte) ([]server.ChatChunk, string) {
	t.Helper()
	s, ok := strings.CutSuffix(string(raw), "data: [DONE]\n\n")
	if !ok {
		t.Fatalf("the stream does not end with data: [DONE]: %q", raw)
	}
	var chunks []server.ChatChunk
	var content strings.Builder
	for _, frame := range strings.SplitAfter(s, "\n\n") {
		if frame == "" {
			continue
		}
		payload, ok := strings.CutPrefix(frame, "data: ")
		payload, ok2 := strings.CutSuffix(payload, "\n\n")
		if !ok || !ok2 || strings.Contains(payload, "\n") {
			t.Fatalf("frame %q: want one data line and a blank line", frame)
		}
		var ch server.ChatChunk
		dec := json.NewDecoder(strings.NewReader(payload))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&ch); err != nil {
			t.Fatalf("frame %q: %v", frame, err)
		}
		if ch.Object != "chat.completion.chunk" || (len(chunks) > 0 && ch.ID != chunks[0].ID) {
			t.Errorf("chunk %s", payload)
		}
		for _, c := range ch.Choices {
			if c.Delta.Content != nil {
				content.WriteString(*c.Delta.Content)
			}
		}
		chunks = append(chunks, ch)
	}
	return chunks, content.String()
}

// TestOpenAIRawHTTP is the API as curl sees it.
func TestOpenAIRawHTTP(t *testing.T) {
	base := startServing(t)
	const ask = `{"model": "grounded", "messages": [{"role": "user", "content": "Can a large language model generate images?"}]`

	status, ct, body := rawChat(t, base, ask+`}`)
	var done server.ChatCompletion
	if err := json.Unmarshal(body, &done); err != nil || status != 200 || !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("status %d %s: %s (%v)", status, ct, body, err)
	}
	answer := done.Choices[0].Message.Content
	if !strings.Contains(answer, "[1]") || done.Grounding.Abstained || len(done.Grounding.Citations) == 0 || done.Grounding.Generator != "extractive" {
		t.Fatalf("answer %q grounding %+v", answer, done.Grounding)
	}
	for _, c := range done.Grounding.Citations {
		checkSpan(t, "citation", c.Source, c.Start, c.End, c.Quote)
	}

	status, ct, raw := rawChat(t, base, ask+`, "stream": true, "stream_options": {"include_usage": true}}`)
	if status != 200 || ct != "text/event-stream" {
		t.Fatalf("stream: status %d %s: %s", status, ct, raw)
	}
	if !bytes.HasPrefix(raw, []byte(`data: {"id":"chatcmpl-`)) || bytes.Contains(raw, []byte("event:")) {
		t.Errorf("stream %q: want data lines only, the first a chunk", raw)
	}
	chunks, content := parseChatStream(t, raw)
	// role, a delta per cited sentence, the last chunk, usage.
	if len(chunks) != 3+len(done.Grounding.Citations) {
		t.Fatalf("%d chunks, want %d: %q", len(chunks), 3+len(done.Grounding.Citations), raw)
	}
	if content != answer {
		t.Errorf("streamed %q, want the non-streamed answer %q", content, answer)
	}
	last, use := chunks[len(chunks)-2], chunks[len(chunks)-1]
	if last.Grounding == nil || len(last.Grounding.Citations) != len(done.Grounding.Citations) || *last.Choices[0].FinishReason != "stop" {
		t.Errorf("last chunk %+v", last)
	}
	if len(use.Choices) != 0 || use.Usage == nil || use.Usage.TotalTokens != done.Usage.TotalTokens {
		t.Errorf("usage chunk %+v, want the usage of the non-streamed reply %+v", use, done.Usage)
	}

	status, _, body = rawChat(t, base, `{"model": "grounded", "stream": true, "messages": [{"role": "user", "content": "What is the capital of France?"}]}`)
	if chunks, content := parseChatStream(t, body); status != 200 || !strings.HasPrefix(content, "grounded cannot answer") || !chunks[len(chunks)-1].Grounding.Abstained {
		t.Errorf("abstention: status %d content %q", status, content)
	}
	status, _, body = rawChat(t, base, `{"model": "grounded/nope", "stream": true, "messages": [{"role": "user", "content": "q"}]}`)
	if status != 404 || !strings.Contains(string(body), `"code":"not_found"`) {
		t.Errorf("a missing collection's model: status %d %s", status, body)
	}

	resp, err := http.Get(base + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list server.ModelList
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || len(list.Data) != 1 || list.Data[0].ID != "grounded" {
		t.Errorf("models %+v (%v)", list, err)
	}
}

// TestOpenAIStreamWithModel: behind grounded, an OpenAI-compatible model;
// each checked sentence is its own delta, and the deltas make the answer.
func TestOpenAIStreamWithModel(t *testing.T) {
	var status atomic.Int32
	model := openAIServer(t, &status, func(p string) string {
		n := citeWhere(p, "cannot generate images")
		return "A large language model on its own generates text and cannot generate images [" + n + "]. " +
			"It was invented in 1847 by Ada Lovelace [" + n + "]. " +
			"Image generation needs a diffusion model or a multimodal model with an image decoder [" + n + "]."
	})
	base := startServing(t, "--llm", "openai", "--llm-url", model.URL+"/v1", "--llm-model", "test-model")
	const ask = `{"model": "grounded", "messages": [{"role": "user", "content": "Can a large language model generate images?"}]`

	_, _, body := rawChat(t, base, ask+`}`)
	var done server.ChatCompletion
	if err := json.Unmarshal(body, &done); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	answer := done.Choices[0].Message.Content
	g := done.Grounding
	if g.Provider != "openai" || g.Model != "test-model" || len(g.Sentences) != 2 || len(g.Unsupported) != 1 || strings.Contains(answer, "1847") {
		t.Fatalf("answer %q grounding %+v", answer, g)
	}
	if done.Usage.PromptTokens != 321 || done.Usage.CompletionTokens != 42 {
		t.Errorf("usage %+v, want the model's", done.Usage)
	}

	_, _, raw := rawChat(t, base, ask+`, "stream": true}`)
	chunks, content := parseChatStream(t, raw)
	if len(chunks) != 4 { // role, 2 sentences, last
		t.Errorf("%d chunks, want 4: %q", len(chunks), raw)
	}
	if content != answer {
		t.Errorf("streamed %q, want the non-streamed answer %q", content, answer)
	}
	br := bufio.NewReader(bytes.NewReader(raw))
	first, _ := br.ReadString('\n')
	if !strings.Contains(first, `"delta":{"role":"assistant","content":""}`) {
		t.Errorf("first chunk %q", first)
	}
}
