package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/server"
)

// newChatServer serves two collections: "default" (svc) and "docs" (other).
func newChatServer(t *testing.T, cfg server.Config, svc, other *fakeService) *httptest.Server {
	t.Helper()
	cfg.Collections = &fakeSet{cols: map[string]server.Collection{"default": svc, "docs": other}}
	ts := httptest.NewServer(server.New(cfg))
	t.Cleanup(ts.Close)
	return ts
}

// everyField is a request with every field of OpenAI's chat request set.
const everyField = `{
	"model": "grounded",
	"messages": [
		{"role": "developer", "content": "Be brief.", "name": "dev"},
		{"role": "system", "content": [{"type": "text", "text": "You are helpful."}]},
		{"role": "user", "content": "Earlier question?", "name": "ann"},
		{"role": "assistant", "content": null, "refusal": null, "audio": null,
		 "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
		 "function_call": null},
		{"role": "tool", "content": "tool output", "tool_call_id": "call_1"},
		{"role": "function", "content": "function output", "name": "f"},
		{"role": "assistant", "content": [{"type": "text", "text": "An answer."}, {"type": "refusal", "refusal": "No."}]},
		{"role": "user", "content": "What is retrieval-augmented generation?"}
	],
	"audio": null, "frequency_penalty": 0.5, "function_call": "none", "functions": [],
	"logit_bias": {"50256": -100}, "logprobs": false, "max_completion_tokens": 200,
	"max_tokens": 100, "metadata": {"k": "v"}, "modalities": ["text"], "n": 1,
	"parallel_tool_calls": false, "prediction": null, "presence_penalty": 0,
	"prompt_cache_key": "x", "prompt_cache_retention": "24h", "reasoning_effort": "low",
	"response_format": {"type": "text"}, "safety_identifier": "s", "seed": 7,
	"service_tier": "auto", "stop": ["\n\n", "END"], "store": false, "stream": false,
	"stream_options": null, "temperature": 0.2, "tool_choice": "auto",
	"tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}],
	"top_logprobs": 0, "top_p": 0.9, "user": "u-1", "verbosity": "low",
	"web_search_options": {}
}`

func TestChatRequests(t *testing.T) {
	long := strings.Repeat("word ", 1000)
	tests := []struct {
		name       string
		path       string // default /v1/chat/completions
		body       string
		wantStatus int
		wantCode   string
		wantInMsg  string
		wantQuery  string // the question the collection was asked
		wantOther  bool   // asked of the "docs" collection
	}{
		{name: "string content", body: `{"model": "grounded", "messages": [{"role": "user", "content": "What is RAG?"}]}`,
			wantStatus: 200, wantQuery: "What is RAG?"},
		{name: "text parts", body: `{"model": "grounded", "messages": [{"role": "user", "content": [{"type": "text", "text": "What is"}, {"type": "text", "text": "RAG?"}]}]}`,
			wantStatus: 200, wantQuery: "What is\nRAG?"},
		{name: "system messages are not retrieved with", body: `{"model": "grounded", "messages": [{"role": "system", "content": "Answer about LoRA."}, {"role": "user", "content": "What is RAG?"}]}`,
			wantStatus: 200, wantQuery: "What is RAG?"},
		{name: "every field of the official client", body: everyField,
			wantStatus: 200, wantQuery: "What is retrieval-augmented generation?"},
		{name: "null fields", body: `{"model": "grounded", "messages": [{"role": "user", "content": "What is RAG?"}], "n": null, "stream": null, "stop": null, "temperature": null, "stream_options": {"include_usage": null}}`,
			wantStatus: 200, wantQuery: "What is RAG?"},
		{name: "the last user message is the question", body: `{"model": "grounded", "messages": [{"role": "user", "content": "What is RAG?"}, {"role": "assistant", "content": "Retrieval-augmented"}]}`,
			wantStatus: 200, wantQuery: "What is RAG?"},
		{name: "a short follow-up leans on the turn before",
			body:       `{"model": "grounded", "messages": [{"role": "user", "content": "Can a large language model generate images?"}, {"role": "assistant", "content": "No. [1]"}, {"role": "user", "content": "And video?"}]}`,
			wantStatus: 200, wantQuery: "Can a large language model generate images? And video?"},
		{name: "a pronoun leans on the turn before",
			body:       `{"model": "grounded", "messages": [{"role": "user", "content": "What is LoRA?"}, {"role": "assistant", "content": "A method. [1]"}, {"role": "user", "content": "How much memory does it save?"}]}`,
			wantStatus: 200, wantQuery: "What is LoRA? How much memory does it save?"},
		{name: "a chain of follow-ups",
			body:       `{"model": "grounded", "messages": [{"role": "user", "content": "Tell me about the first topic here."}, {"role": "user", "content": "What is LoRA?"}, {"role": "user", "content": "Is it cheap?"}, {"role": "user", "content": "Why?"}]}`,
			wantStatus: 200, wantQuery: "What is LoRA? Is it cheap? Why?"},
		{name: "a standalone question stands alone",
			body:       `{"model": "grounded", "messages": [{"role": "user", "content": "What is LoRA?"}, {"role": "assistant", "content": "A method. [1]"}, {"role": "user", "content": "What is retrieval-augmented generation?"}]}`,
			wantStatus: 200, wantQuery: "What is retrieval-augmented generation?"},
		{name: "model grounded/NAME", body: `{"model": "grounded/docs", "messages": [{"role": "user", "content": "What is RAG?"}]}`,
			wantStatus: 200, wantQuery: "What is RAG?", wantOther: true},
		{name: "collection field", body: `{"model": "grounded", "collection": "docs", "messages": [{"role": "user", "content": "What is RAG?"}]}`,
			wantStatus: 200, wantQuery: "What is RAG?", wantOther: true},
		{name: "collection query parameter", path: "/v1/chat/completions?collection=docs", body: `{"model": "grounded", "messages": [{"role": "user", "content": "What is RAG?"}]}`,
			wantStatus: 200, wantQuery: "What is RAG?", wantOther: true},

		{name: "no user message", body: `{"model": "grounded", "messages": [{"role": "system", "content": "Be brief."}]}`,
			wantStatus: 400, wantCode: "invalid", wantInMsg: "no user message"},
		{name: "no messages", body: `{"model": "grounded", "messages": []}`,
			wantStatus: 400, wantCode: "invalid", wantInMsg: "messages is empty"},
		{name: "messages missing", body: `{"model": "grounded"}`,
			wantStatus: 400, wantCode: "invalid", wantInMsg: "messages is empty"},
		{name: "empty question", body: `{"model": "grounded", "messages": [{"role": "user", "content": "  "}]}`,
			wantStatus: 400, wantCode: "invalid", wantInMsg: "the last user message is empty"},
		{name: "question too long", body: `{"model": "grounded", "messages": [{"role": "user", "content": "` + long + `"}]}`,
			wantStatus: 400, wantCode: "invalid", wantInMsg: "the limit is 4096"},
		{name: "n=2", body: `{"model": "grounded", "n": 2, "messages": [{"role": "user", "content": "What is RAG?"}]}`,
			wantStatus: 400, wantCode: "invalid", wantInMsg: "n must be 1"},
		{name: "n=0", body: `{"model": "grounded", "n": 0, "messages": [{"role": "user", "content": "What is RAG?"}]}`,
			wantStatus: 400, wantCode: "invalid", wantInMsg: "n must be 1"},
		{name: "unknown model", body: `{"model": "gpt-4o", "messages": [{"role": "user", "content": "What is RAG?"}]}`,
			wantStatus: 404, wantCode: "not_found", wantInMsg: `model "gpt-4o" does not exist`},
		{name: "model grounded/", body: `{"model": "grounded/", "messages": [{"role": "user", "content": "What is RAG?"}]}`,
			wantStatus: 404, wantCode: "not_found", wantInMsg: "does not exist"},
		{name: "model of a missing collection", body: `{"model": "grounded/nope", "messages": [{"role": "user", "content": "What is RAG?"}]}`,
			wantStatus: 404, wantCode: "not_found", wantInMsg: `model "grounded/nope" does not exist`},
		{name: "no model", body: `{"messages": [{"role": "user", "content": "What is RAG?"}]}`,
			wantStatus: 400, wantCode: "invalid", wantInMsg: "model is empty"},
		{name: "model and collection disagree", body: `{"model": "grounded/docs", "collection": "default", "messages": [{"role": "user", "content": "What is RAG?"}]}`,
			wantStatus: 400, wantCode: "invalid", wantInMsg: "disagree"},
		{name: "unknown field", body: `{"model": "grounded", "messages": [{"role": "user", "content": "What is RAG?"}], "question": "x"}`,
			wantStatus: 400, wantCode: "invalid", wantInMsg: `unknown field "question"`},
		{name: "unknown message field", body: `{"model": "grounded", "messages": [{"role": "user", "content": "What is RAG?", "text": "x"}]}`,
			wantStatus: 400, wantCode: "invalid", wantInMsg: `unknown field "text"`},
		{name: "unknown part field", body: `{"model": "grounded", "messages": [{"role": "user", "content": [{"type": "text", "text": "x", "extra": 1}]}]}`,
			wantStatus: 400, wantCode: "invalid", wantInMsg: "messages[0].content"},
		{name: "image part", body: `{"model": "grounded", "messages": [{"role": "user", "content": [{"type": "text", "text": "What is this?"}, {"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}]}`,
			wantStatus: 400, wantCode: "invalid", wantInMsg: `type "image_url"`},
		{name: "text part without text", body: `{"model": "grounded", "messages": [{"role": "user", "content": [{"type": "text"}]}]}`,
			wantStatus: 400, wantCode: "invalid", wantInMsg: "has no text"},
		{name: "content a number", body: `{"model": "grounded", "messages": [{"role": "user", "content": 3}]}`,
			wantStatus: 400, wantCode: "invalid", wantInMsg: "messages[0].content"},
		{name: "bad role", body: `{"model": "grounded", "messages": [{"role": "robot", "content": "hi"}]}`,
			wantStatus: 400, wantCode: "invalid", wantInMsg: `role "robot"`},
		{name: "stream not a boolean", body: `{"model": "grounded", "stream": "yes", "messages": [{"role": "user", "content": "What is RAG?"}]}`,
			wantStatus: 400, wantCode: "invalid", wantInMsg: `"stream"`},
		{name: "not JSON", body: `{model: grounded}`,
			wantStatus: 400, wantCode: "invalid", wantInMsg: "not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, other := &fakeService{Answer: cannedAnswer()}, &fakeService{Answer: cannedAnswer()}
			ts := newChatServer(t, server.Config{}, svc, other)
			path := tt.path
			if path == "" {
				path = "/v1/chat/completions"
			}
			resp, body := do(t, ts, "POST", path, tt.body)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tt.wantStatus, body)
			}
			asked, idle := svc, other
			if tt.wantOther {
				asked, idle = other, svc
			}
			if tt.wantStatus != 200 {
				code, msg := decodeError(t, resp, body)
				if code != tt.wantCode || !strings.Contains(msg, tt.wantInMsg) {
					t.Errorf("error %s %q, want %s with %q", code, msg, tt.wantCode, tt.wantInMsg)
				}
				if n := len(svc.Calls()) + len(other.Calls()); n != 0 {
					t.Errorf("a bad request reached a collection %d times", n)
				}
				return
			}
			calls := asked.Calls()
			if len(calls) != 1 || calls[0].Text != tt.wantQuery || calls[0].K != 0 {
				t.Errorf("calls %+v, want one with %q", calls, tt.wantQuery)
			}
			if n := len(idle.Calls()); n != 0 {
				t.Errorf("the other collection was asked %d times", n)
			}
			var out server.ChatCompletion
			if err := json.Unmarshal(body, &out); err != nil || out.Grounding.Query != tt.wantQuery {
				t.Errorf("grounding.query %q (%v), want %q", out.Grounding.Query, err, tt.wantQuery)
			}
		})
	}
}

// decodeStrictly decodes data into v, refusing fields v lacks.
func decodeStrictly(t *testing.T, data []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decoding %T from %s: %v", v, data, err)
	}
}

func TestChatCompletion(t *testing.T) {
	svc := &fakeService{Answer: cannedAnswer()}
	ts := newTestServer(t, server.Config{}, svc)
	resp, body := do(t, ts, "POST", "/v1/chat/completions", `{"model": "grounded", "messages": [{"role": "system", "content": "Be brief, please."}, {"role": "user", "content": "Can a language model draw?"}]}`)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("status %d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "object", "created", "model", "choices", "usage", "grounding"} {
		if raw[k] == nil {
			t.Errorf("no %q in %s", k, body)
		}
	}
	var out server.ChatCompletion
	decodeStrictly(t, body, &out)
	want := cannedAnswer()
	if !strings.HasPrefix(out.ID, "chatcmpl-") || len(out.ID) < 20 || out.Object != "chat.completion" || out.Created == 0 || out.Model != "grounded" {
		t.Errorf("header fields %+v", out)
	}
	if len(out.Choices) != 1 || out.Choices[0].Index != 0 || out.Choices[0].FinishReason != "stop" ||
		out.Choices[0].Message.Role != "assistant" || out.Choices[0].Message.Content != want.Answer {
		t.Errorf("choices %+v", out.Choices)
	}
	// Estimated: 4 tokens per 3 words, rounded up; 3 + 5 prompt words,
	// 10 answer words.
	if u := out.Usage; u.PromptTokens != 11 || u.CompletionTokens != 14 || u.TotalTokens != 25 {
		t.Errorf("usage %+v, want 11 + 14 = 25", u)
	}
	g := out.Grounding
	if g.Abstained || g.Reason != "" || g.Generator != "fake" || g.Query != "Can a language model draw?" || !reflect.DeepEqual(g.Citations, want.Citations) {
		t.Errorf("grounding %+v", g)
	}
	if g.Sentences == nil || g.Unsupported == nil {
		t.Errorf("grounding lists are null, want []: %s", raw["grounding"])
	}

	t.Run("a model's usage", func(t *testing.T) {
		ans := cannedAnswer()
		ans.Usage, ans.Generator, ans.Provider, ans.Model = &grounded.Usage{PromptTokens: 321, CompletionTokens: 42}, "openai", "openai", "m"
		ans.Sentences = []grounded.Sentence{{Text: "No, it generates text.", Citations: []int{1}, Support: 0.9, Supported: true}}
		svc := &fakeService{Answer: ans}
		resp, body := do(t, newTestServer(t, server.Config{}, svc), "POST", "/v1/chat/completions", `{"model": "grounded", "messages": [{"role": "user", "content": "q"}]}`)
		var out server.ChatCompletion
		decodeStrictly(t, body, &out)
		if resp.StatusCode != 200 || out.Usage != (server.ChatUsage{PromptTokens: 321, CompletionTokens: 42, TotalTokens: 363}) {
			t.Errorf("status %d usage %+v", resp.StatusCode, out.Usage)
		}
		if g := out.Grounding; g.Provider != "openai" || g.Model != "m" || len(g.Sentences) != 1 || g.Sentences[0].Support != 0.9 {
			t.Errorf("grounding %+v", g)
		}
	})
}

func TestChatAbstention(t *testing.T) {
	for _, tt := range []struct{ reason, want string }{
		{grounded.ReasonNoEvidence, "no passage shares a content word"},
		{grounded.ReasonWeakEvidence, "do not cover enough"},
		{grounded.ReasonModelAbstained, "language model found no answer"},
		{"something_new", "no answer was found"},
	} {
		svc := &fakeService{Answer: &grounded.Answer{Question: "q", Abstained: true, Reason: tt.reason, Generator: "extractive"}}
		_, body := do(t, newTestServer(t, server.Config{}, svc), "POST", "/v1/chat/completions", `{"model": "grounded", "messages": [{"role": "user", "content": "What is the capital of France?"}]}`)
		var out server.ChatCompletion
		decodeStrictly(t, body, &out)
		content := out.Choices[0].Message.Content
		if !strings.HasPrefix(content, "grounded cannot answer this from its documents: ") || !strings.Contains(content, tt.want) ||
			!strings.Contains(content, "("+tt.reason+")") || out.Choices[0].FinishReason != "stop" {
			t.Errorf("%s: content %q finish %q", tt.reason, content, out.Choices[0].FinishReason)
		}
		if g := out.Grounding; !g.Abstained || g.Reason != tt.reason || g.Citations == nil || len(g.Citations) != 0 {
			t.Errorf("%s: grounding %+v", tt.reason, g)
		}
	}
}

// chatChunks reads a chat stream: its data payloads in order, failing on any
// line that is not "data: ..." or a blank separator.
func chatChunks(t *testing.T, resp *http.Response) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	blank := true
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			blank = true
		case strings.HasPrefix(line, "data: ") && blank:
			out = append(out, strings.TrimPrefix(line, "data: "))
			blank = false
		default:
			t.Errorf("line %q in a chat stream, want data lines between blank lines", line)
		}
	}
	return out
}

// postChat posts body and returns the response, open.
func postChat(t *testing.T, url, body string) *http.Response {
	t.Helper()
	resp, err := http.Post(url+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// checkStream checks a whole chat stream: role chunk, content deltas, the
// last chunk with finish_reason and grounding, an optional usage chunk,
// [DONE]. It returns the content and the last chunk.
func checkStream(t *testing.T, datas []string, withUsage bool) (string, server.ChatChunk) {
	t.Helper()
	if len(datas) < 3 || datas[len(datas)-1] != "[DONE]" {
		t.Fatalf("stream %q: want at least a role chunk, a last chunk and [DONE]", datas)
	}
	datas = datas[:len(datas)-1]
	if withUsage {
		var u server.ChatChunk
		decodeStrictly(t, []byte(datas[len(datas)-1]), &u)
		if len(u.Choices) != 0 || u.Usage == nil || u.Usage.TotalTokens == 0 || u.Grounding != nil {
			t.Errorf("usage chunk %s", datas[len(datas)-1])
		}
		datas = datas[:len(datas)-1]
	}
	var chunks []server.ChatChunk
	for _, d := range datas {
		var ch server.ChatChunk
		decodeStrictly(t, []byte(d), &ch)
		if ch.Object != "chat.completion.chunk" || !strings.HasPrefix(ch.ID, "chatcmpl-") || (len(chunks) > 0 && ch.ID != chunks[0].ID) || ch.Model == "" || len(ch.Choices) != 1 || ch.Usage != nil {
			t.Errorf("chunk %s", d)
		}
		chunks = append(chunks, ch)
	}
	first, last := chunks[0].Choices[0], chunks[len(chunks)-1]
	if first.Delta.Role != "assistant" || first.Delta.Content == nil || *first.Delta.Content != "" || first.FinishReason != nil {
		t.Errorf("first chunk %s", datas[0])
	}
	var content strings.Builder
	for i, ch := range chunks[1 : len(chunks)-1] {
		c := ch.Choices[0]
		if c.Delta.Role != "" || c.Delta.Content == nil || *c.Delta.Content == "" || c.FinishReason != nil || ch.Grounding != nil {
			t.Errorf("content chunk %d: %s", i+1, datas[i+1])
			continue
		}
		content.WriteString(*c.Delta.Content)
	}
	if c := last.Choices[0]; c.FinishReason == nil || *c.FinishReason != "stop" || c.Delta.Content != nil || last.Grounding == nil {
		t.Errorf("last chunk %s", datas[len(datas)-1])
	}
	return content.String(), last
}

func TestChatStream(t *testing.T) {
	sentences := []grounded.Sentence{
		{Text: "No, it generates text.", Citations: []int{1}, Support: 0.9, Supported: true},
		{Text: "Diffusion models generate images.", Citations: []int{2}, Support: 0.8, Supported: true},
	}
	t.Run("a delta per sentence", func(t *testing.T) {
		ans := cannedAnswer()
		ans.Sentences = sentences
		svc := &fakeService{Answer: ans, Stream: sentences}
		ts := newTestServer(t, server.Config{}, svc)
		resp := postChat(t, ts.URL, `{"model": "grounded", "stream": true, "stream_options": {"include_usage": true}, "messages": [{"role": "user", "content": "Can a language model draw?"}]}`)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("status %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		datas := chatChunks(t, resp)
		content, last := checkStream(t, datas, true)
		if len(datas) != 6 { // role, 2 sentences, last, usage, [DONE]
			t.Errorf("%d data lines, want 6: %q", len(datas), datas)
		}
		if content != ans.Answer {
			t.Errorf("streamed %q, want the answer %q", content, ans.Answer)
		}
		if !strings.Contains(datas[1], `"content":"No, it generates text. [1]"`) || !strings.Contains(datas[2], `"content":" Diffusion models generate images. [2]"`) {
			t.Errorf("deltas %s / %s", datas[1], datas[2])
		}
		if g := last.Grounding; g.Abstained || !reflect.DeepEqual(g.Citations, ans.Citations) || len(g.Sentences) != 2 {
			t.Errorf("grounding %+v", g)
		}
	})
	t.Run("the extractive answer is one delta", func(t *testing.T) {
		svc := &fakeService{Answer: cannedAnswer()}
		resp := postChat(t, newTestServer(t, server.Config{}, svc).URL, `{"model": "grounded", "stream": true, "messages": [{"role": "user", "content": "q"}]}`)
		datas := chatChunks(t, resp)
		content, _ := checkStream(t, datas, false)
		if len(datas) != 4 || content != cannedAnswer().Answer {
			t.Errorf("stream %q, want role, one delta with the answer, last, [DONE]", datas)
		}
	})
	t.Run("an abstention after streamed sentences withdraws them", func(t *testing.T) {
		svc := &fakeService{Answer: &grounded.Answer{Abstained: true, Reason: grounded.ReasonUnsupported, Generator: "openai"}, Stream: sentences[:1]}
		resp := postChat(t, newTestServer(t, server.Config{}, svc).URL, `{"model": "grounded", "stream": true, "messages": [{"role": "user", "content": "q"}]}`)
		content, last := checkStream(t, chatChunks(t, resp), false)
		want := "No, it generates text. [1]\n\n(The sentences above are withdrawn.) grounded cannot answer this from its documents: "
		if !strings.HasPrefix(content, want) || !last.Grounding.Abstained {
			t.Errorf("content %q, want it to start %q", content, want)
		}
	})
	t.Run("an abstention", func(t *testing.T) {
		svc := &fakeService{Answer: &grounded.Answer{Abstained: true, Reason: grounded.ReasonNoEvidence, Generator: "extractive"}}
		resp := postChat(t, newTestServer(t, server.Config{}, svc).URL, `{"model": "grounded/docs", "collection": "", "stream": true, "messages": [{"role": "user", "content": "What is the capital of France?"}]}`)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("a missing collection: status %d, want 404 before the stream starts", resp.StatusCode)
		}
		resp = postChat(t, newTestServer(t, server.Config{}, svc).URL, `{"model": "grounded", "stream": true, "messages": [{"role": "user", "content": "What is the capital of France?"}]}`)
		content, last := checkStream(t, chatChunks(t, resp), false)
		if !strings.HasPrefix(content, "grounded cannot answer this from its documents") || !last.Grounding.Abstained || last.Grounding.Reason != grounded.ReasonNoEvidence {
			t.Errorf("content %q grounding %+v", content, last.Grounding)
		}
	})
}

func TestChatStreamErrors(t *testing.T) {
	t.Run("before the first chunk: a JSON error", func(t *testing.T) {
		svc := &fakeService{AskFn: func(context.Context, string, int) (*grounded.Answer, error) {
			return nil, grounded.Errorf(grounded.EINVALID, "k must be between 1 and 100")
		}}
		resp, body := do(t, newTestServer(t, server.Config{}, svc), "POST", "/v1/chat/completions", `{"model": "grounded", "stream": true, "messages": [{"role": "user", "content": "q"}]}`)
		if code, _ := decodeError(t, resp, body); resp.StatusCode != 400 || code != grounded.EINVALID {
			t.Errorf("status %d code %s", resp.StatusCode, code)
		}
	})
	t.Run("after it: an error data line, no [DONE]", func(t *testing.T) {
		svc := &streamFake{fail: errors.New("upstream broke")}
		resp := postChat(t, newStreamServer(t, svc), `{"model": "grounded", "stream": true, "messages": [{"role": "user", "content": "q"}]}`)
		datas := chatChunks(t, resp)
		if len(datas) != 3 || !strings.Contains(datas[1], `"content":"First. [1]"`) || datas[2] != `{"error":{"code":"internal","message":"internal error"}}` {
			t.Fatalf("stream %q, want role, a sentence, then an internal error without its details", datas)
		}
	})
	t.Run("a client that leaves cancels the work", func(t *testing.T) {
		svc := &leavingFake{canceled: make(chan error, 1)}
		resp, err := http.Post(newStreamServer(t, svc)+"/v1/chat/completions", "application/json",
			strings.NewReader(`{"model": "grounded", "stream": true, "messages": [{"role": "user", "content": "q"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(resp.Body)
		for range 2 { // the role chunk and the first sentence's
			if line, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(line, "data: {") {
				t.Fatalf("line %q (%v)", line, err)
			}
			if _, err := br.ReadString('\n'); err != nil {
				t.Fatal(err)
			}
		}
		resp.Body.Close()
		if err := <-svc.canceled; !errors.Is(err, context.Canceled) {
			t.Fatalf("the work saw %v, want context.Canceled", err)
		}
	})
}

// leavingFake emits one sentence, then waits for the request to end, and
// reports the error that ended its work.
type leavingFake struct {
	fakeService
	canceled chan error
}

func (f *leavingFake) Ask(ctx context.Context, req grounded.AskRequest) (*grounded.Answer, error) {
	emit := req.Emit
	err := emit(grounded.Sentence{Text: "First.", Citations: []int{1}, Supported: true})
	if err == nil {
		select {
		case <-ctx.Done():
			err = ctx.Err()
		case <-time.After(10 * time.Second): // a watchdog, not synchronisation
			err = errors.New("not cancelled")
		}
	}
	f.canceled <- err
	return nil, err
}

func TestModels(t *testing.T) {
	ts := newChatServer(t, server.Config{}, &fakeService{}, &fakeService{})
	resp, body := do(t, ts, "GET", "/v1/models", "")
	var list server.ModelList
	decodeStrictly(t, body, &list)
	if resp.StatusCode != 200 || list.Object != "list" || len(list.Data) != 2 {
		t.Fatalf("status %d list %+v", resp.StatusCode, list)
	}
	for i, id := range []string{"grounded", "grounded/docs"} {
		if m := list.Data[i]; m.ID != id || m.Object != "model" || m.OwnedBy != "grounded" || m.Created == 0 {
			t.Errorf("model %d: %+v, want %s", i, m, id)
		}
	}
	for _, tt := range []struct {
		path, wantID string
		wantStatus   int
	}{
		{"/v1/models/grounded", "grounded", 200},
		{"/v1/models/grounded/docs", "grounded/docs", 200},
		{"/v1/models/grounded%2Fdocs", "grounded/docs", 200},
		{"/v1/models/grounded/nope", "", 404},
		{"/v1/models/gpt-4o", "", 404},
		{"/v1/models/", "", 404},
	} {
		resp, body := do(t, ts, "GET", tt.path, "")
		if resp.StatusCode != tt.wantStatus {
			t.Errorf("%s: status %d, want %d: %s", tt.path, resp.StatusCode, tt.wantStatus, body)
			continue
		}
		if tt.wantStatus != 200 {
			if code, _ := decodeError(t, resp, body); code != grounded.ENOTFOUND {
				t.Errorf("%s: code %s", tt.path, code)
			}
			continue
		}
		var m server.Model
		decodeStrictly(t, body, &m)
		if m.ID != tt.wantID || m.Object != "model" {
			t.Errorf("%s: %+v", tt.path, m)
		}
	}
}

// FuzzChatBody: no chat request makes the API fail with a 5xx, or answer
// anything but JSON or a stream of JSON chunks.
func FuzzChatBody(f *testing.F) {
	for _, seed := range []string{
		``, `{}`, `null`, `[]`, everyField,
		`{"model":"grounded","messages":[{"role":"user","content":"x"}]}`,
		`{"model":"grounded","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"x"}]}`,
		`{"model":"grounded","messages":[{"role":"user","content":[{"type":"text","text":"x"}]}]}`,
		`{"model":"grounded","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}`,
		`{"model":"grounded/docs","messages":[{"role":"user","content":"it"}],"n":2}`,
		`{"model":"grounded","messages":[{"role":"user","content":"a"},{"role":"user","content":"it?"}]}`,
		`{"model":"x","messages":[{"role":"user","content":null}]}`, `{"model":"grounded","messages":[{"role":"user","content":"\ud800"}]}`,
	} {
		f.Add([]byte(seed))
	}
	svc := &fakeService{Answer: cannedAnswer(), Stream: []grounded.Sentence{{Text: "No, it generates text.", Citations: []int{1}, Supported: true}}}
	h := server.New(server.Config{Collections: only(svc), MaxBodyBytes: 4096, MaxQuestionBytes: 256})
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/v1/chat/completions", bytes.NewReader(body)))
		switch rec.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusNotFound, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("%q: status %d, body %s", body, rec.Code, rec.Body)
		}
		if rec.Header().Get("Content-Type") != "text/event-stream" {
			if !json.Valid(rec.Body.Bytes()) {
				t.Fatalf("%q: body is not JSON: %q", body, rec.Body)
			}
			return
		}
		for _, frame := range strings.Split(strings.TrimSuffix(rec.Body.String(), "\n\n"), "\n\n") {
			d, ok := strings.CutPrefix(frame, "data: ")
			if !ok || (d != "[DONE]" && !json.Valid([]byte(d))) {
				t.Fatalf("%q: frame %q", body, frame)
			}
		}
	})
}
